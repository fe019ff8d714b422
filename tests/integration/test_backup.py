"""test_backup.py: `gatehouse backup` and `gatehouse restore` (docs/backup.md).

A backup taken while several clients log in and use their tokens over HTTPS
(Redfish sessions, each acknowledged by its 201), then more sessions made
after it; the server stopped, the backup restored, the server started: every
session acknowledged before the backup began works, none made after it does,
and the file is 0600. restore refuses while a server runs on the data
directory (the lock `serve` holds) or another command has the store open
(store.lock, which a command in turn cannot take while a restore holds
it), and refuses a file that is not a
gatehouse database, or a backup cut short, leaving the database as it was.
With Redis as the store both commands refuse and say what to use instead.
A directory profile's service password is not in the backup, and restore
names the file when it is missing.
"""

import fcntl
import os
import sqlite3
import stat
import subprocess
import threading

import gatehouse_harness as H
from gatehouse_harness import SESSIONS

LOAD_THREADS = 4
# Sessions stored before the load starts, so that the copy takes many steps
# (a page count well past store_backup.c's 256 pages a step) while the load
# commits around them.
FILLED = 8000


def backup_dir(gh):
    """A directory the data directory's owner writes in: backup writes as it."""
    d = gh.dir / "backups"
    d.mkdir()
    os.chown(d, gh.owner_uid, gh.owner_gid)
    return d


class Load:
    """Threads that each log in (a new Redfish session) and GET with the
    token, over and over, until stopped: acknowledged lists every token whose
    login answered 201, in the order the answers came."""

    def __init__(self, gh, users):
        self.gh = gh
        self.users = users
        self.acknowledged = []
        self.errors = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(users[i % len(users)],))
                        for i in range(LOAD_THREADS)]

    def run(self, user):
        gh = self.gh
        try:
            with gh.session() as s:
                while not self.stop.is_set():
                    r = s.post(gh.url + SESSIONS, timeout=60,
                               json={"UserName": user, "Password": gh.users[user]})
                    assert r.status_code == 201, r.text
                    token = r.headers["X-Auth-Token"]
                    with self.lock:
                        gh.secrets.add(token)
                        self.acknowledged.append(token)
                    r = s.get(gh.url + "/redfish/v1/Systems", timeout=60,
                              headers={"X-Auth-Token": token})
                    assert r.status_code == 200, r.text
        except BaseException as e:   # reported by finish()
            self.errors.append(repr(e))
            self.stop.set()

    def count(self):
        with self.lock:
            return len(self.acknowledged)

    def start(self):
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in self.threads), "a load thread did not end"
        assert not self.errors, self.errors


def test_backup_under_load_restored(make_server):
    gh = make_server(config={"sessions": {"max_sessions": 100000}}, start=False)
    gh.add_user("oper", "Operator")
    gh.add_user("reader", "ReadOnly")
    gh.add_user("filler", "ReadOnly")
    gh.cli("bench-fill", str(FILLED), "--user", "filler", timeout=300)
    gh.start()
    out = backup_dir(gh) / "gatehouse-backup.db"
    load = Load(gh, ["admin", "oper", "reader"])
    load.start()
    try:
        H.wait_for(lambda: load.count() >= 40 or load.errors, 120, "logins under way")
        before = list(load.acknowledged[:load.count()])
        p = gh.cli("backup", str(out), timeout=120)
        during = load.count()
        # the load goes on after the backup too
        H.wait_for(lambda: load.count() >= during + 20 or load.errors, 120,
                   "logins after the backup")
    finally:
        load.finish()
    assert p.stdout.startswith("backed up 4 accounts and "), p.stdout
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert not os.path.exists(f"{out}.tmp")
    after = [gh.login(user)[0] for user in ("admin", "oper", "reader")]
    for token in before[:3] + after:
        assert gh.token_status(token) == 200

    gh.stop()
    p = gh.cli("restore", str(out), timeout=120)
    assert p.stdout.startswith("restored 4 accounts and "), p.stdout
    assert "pki" in p.stdout, p.stdout
    for suffix in ("-wal", "-shm", ".restore"):
        assert not os.path.exists(f"{gh.data / 'gatehouse.db'}{suffix}"), suffix
    gh.start()
    refused = [t for t in before if gh.token_status(t) != 200]
    assert not refused, f"{len(refused)} of {len(before)} sessions acknowledged before " \
                        f"the backup are gone"
    for token in after:
        assert gh.token_status(token) == 401
    gh.login("oper")


def test_restore_refused_while_serving(make_server):
    gh = make_server()
    token = gh.login()[0]
    out = backup_dir(gh) / "b.db"
    gh.cli("backup", str(out))
    p = gh.cli("restore", str(out), check=False)
    assert p.returncode == 1, p.stdout
    assert "already being served" in p.stderr, p.stderr
    assert not os.path.exists(f"{gh.data / 'gatehouse.db'}.restore")
    assert gh.token_status(token) == 200


def holds_open(pid, path):
    """Whether process pid has path open."""
    want = os.stat(path)
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            st = os.stat(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:
            continue
        if (st.st_dev, st.st_ino) == (want.st_dev, want.st_ino):
            return True
    return False


def test_restore_and_commands_keep_apart(make_server):
    """A command with the store open (`session list` writing thousands of
    lines into a pipe nobody reads yet) makes restore refuse, and the
    database stays as it was; once it is done, restore runs.
    A command started while a restore holds the store lock exclusive is
    refused and touches nothing."""
    gh = make_server(start=False)
    gh.add_user("filler", "ReadOnly")
    gh.cli("bench-fill", "3000", "--user", "filler", timeout=300)
    out = backup_dir(gh) / "b.db"
    gh.cli("backup", str(out))
    lock = gh.data / "run" / "store.lock"

    lister = subprocess.Popen(
        [str(H.GATEHOUSE), "session", "list", "--data-dir", str(gh.data),
         "--config", str(gh.config_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=gh.env(gh.data))
    try:
        H.wait_for(lambda: lock.exists() and holds_open(lister.pid, lock), 30,
                   "session list holding the store lock")
        p = gh.cli("restore", str(out), check=False)
        assert p.returncode == 1, p.stdout
        assert "another gatehouse command" in p.stderr and "has the store in" in p.stderr, \
            p.stderr
        assert not os.path.exists(f"{gh.data / 'gatehouse.db'}.restore")
    finally:
        listed, errors = lister.communicate(timeout=60)
    assert lister.returncode == 0, errors
    assert listed.count(b"\n") >= 3000
    p = gh.cli("restore", str(out))
    assert p.stdout.startswith("restored 2 accounts and 3000 sessions"), p.stdout

    # a restore under way, as its exclusive lock says
    with open(lock) as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        for args in (("user", "list"), ("session", "list"), ("backup", str(out) + ".2")):
            p = gh.cli(*args, check=False)
            assert p.returncode == 1, (args, p.stdout)
            assert "is being replaced" in p.stderr, (args, p.stderr)
        assert not os.path.exists(str(out) + ".2")
    assert "filler" in gh.cli("user", "list").stdout


def test_restore_refuses_what_is_not_a_backup(make_server):
    gh = make_server()
    token = gh.login()[0]
    d = backup_dir(gh)
    out = d / "b.db"
    gh.cli("backup", str(out))
    gh.stop()
    junk = d / "junk.db"
    junk.write_bytes(b"SQLite format 2\0" + os.urandom(8192))
    cut = d / "cut.db"
    whole = out.read_bytes()
    cut.write_bytes(whole[:len(whole) // 2])
    foreign = d / "foreign.db"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE accounts(id INTEGER PRIMARY KEY)")
    con.execute("PRAGMA user_version = 6")
    con.commit()
    con.close()
    for f, message in ((junk, "not an SQLite database"), (cut, "cut short"),
                       (foreign, "not a gatehouse database"),
                       (d / "missing.db", "cannot read")):
        p = gh.cli("restore", str(f), check=False)
        assert p.returncode == 1, p.stdout
        assert message in p.stderr, p.stderr
        assert not os.path.exists(f"{gh.data / 'gatehouse.db'}.restore")
    gh.start()
    assert gh.token_status(token) == 200


def test_backup_refuses_the_database_itself(make_server):
    gh = make_server(start=False)
    p = gh.cli("backup", str(gh.data / "gatehouse.db"), check=False)
    assert p.returncode == 1 and "the database itself" in p.stderr, p.stderr
    gh.start()
    gh.login()


def test_backup_and_restore_refuse_redis(make_cluster, redis):
    cl = make_cluster(redis.store_keys(), n=1, redis_files=redis, start=False)
    node = cl.nodes[0]
    out = backup_dir(node) / "b.db"
    for command in ("backup", "restore"):
        p = node.cli(command, str(out), check=False)
        assert p.returncode == 1, p.stdout
        assert "Redis" in p.stderr and "BGSAVE" in p.stderr, p.stderr
        assert "gatehouse store copy" in p.stderr, p.stderr
    assert not out.exists()


def test_help_and_command_line(make_server):
    gh = make_server(start=False)
    for command in ("backup", "restore"):
        p = gh.cli(command, "--help")
        assert p.stdout.startswith(f"usage: gatehouse {command} [--data-dir DIR]"), p.stdout
        assert "DIR/pki" in p.stdout and "BGSAVE" in p.stdout, p.stdout
        p = gh.cli(command, check=False)
        assert p.returncode == 2 and "missing FILE" in p.stderr, p.stderr
        p = gh.cli(command, "a", "b", check=False)
        assert p.returncode == 2 and "unexpected argument" in p.stderr, p.stderr
    p = gh.cli("--help")
    assert "backup" in p.stdout and "restore" in p.stdout


def test_restore_names_a_missing_directory_password(make_server):
    """A directory profile written through the API keeps its service
    password in DATA/directory/NAME.password, not in the database: restore
    says when the profile it brings back names a file that is not there."""
    gh = make_server()
    secret = H.new_password("Service")
    gh.secrets.add(secret)
    r = gh.request("PATCH", "/redfish/v1/AccountService", auth=("admin", gh.admin_password),
                   json={"ActiveDirectory": {
                       "ServiceEnabled": True, "ServiceAddresses": ["ldap://127.0.0.1:1"],
                       "Authentication": {"Username": "cn=svc,dc=example,dc=org",
                                          "Password": secret},
                       "LDAPService": {"SearchSettings": {
                           "BaseDistinguishedNames": ["ou=people,dc=example,dc=org"],
                           "UsernameAttribute": "uid", "GroupsAttribute": "memberOf"}},
                       "RemoteRoleMapping": [{"RemoteGroup": "cn=admins,dc=example,dc=org",
                                              "LocalRole": "Administrator"}]}})
    assert r.status_code == 200, r.text
    password_file = gh.data / "directory" / "ad.password"
    assert password_file.exists()
    out = backup_dir(gh) / "b.db"
    gh.cli("backup", str(out))
    assert secret.encode() not in out.read_bytes()
    gh.stop()
    p = gh.cli("restore", str(out))
    assert "directory profile" not in p.stdout, p.stdout
    password_file.unlink()
    p = gh.cli("restore", str(out))
    assert f"directory profile ad: its service password file {password_file} is missing" \
        in p.stdout, p.stdout
