"""The audit log in production: records joined to the error log by the
request's id, the file reopened on nginx's reopen (SIGUSR1) and rotated by
the real logrotate with packaging/gatehouse.logrotate, and [audit] target =
syslog writing each record through syslog(3) to /dev/log, read here from a
datagram socket of the test's own bound over /dev/log in a private mount
namespace (unshare -m), so no syslog daemon of the machine is involved."""

import json
import os
import pwd
import grp
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from gatehouse_harness import GATEHOUSE, REPO, SESSIONS, new_password, wait_for

REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")
WAIT = 30

# ------------------------------------------------------------------ helpers


def records(path):
    """The audit file's records, each line one JSON object."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines()]


def wrong_login(gh, dialect):
    """A login of admin with a wrong password in dialect's own way; the
    response (a 4xx)."""
    pw = new_password("Wrong")
    gh.secrets.add(pw)
    if dialect == "redfish":
        return gh.request("POST", SESSIONS, json={"UserName": "admin", "Password": pw})
    if dialect == "redfish-basic":
        return gh.request("GET", "/redfish/v1/Systems", auth=("admin", pw))
    if dialect == "ovirt":
        return gh.request("POST", "/ovirt-engine/sso/oauth/token",
                          headers={"Accept": "application/json"},
                          data={"grant_type": "password", "username": "admin@internal",
                                "password": pw, "scope": "ovirt-app-api"})
    if dialect == "powerstore":
        return gh.request("GET", "/api/rest/login_session", auth=("admin", pw))
    if dialect == "proxmox":
        return gh.request("POST", "/api2/json/access/ticket",
                          data={"username": "admin@pam", "password": pw})
    raise AssertionError(dialect)


def server_pids(gh):
    """The nginx master and its workers."""
    return [gh.proc.pid] + gh.worker_pids()


def holders(gh, path):
    """PIDs of the server's processes holding a descriptor on the file at
    path (its inode: the name it had when they opened it does not matter)."""
    st = os.stat(path)
    found = set()
    for pid in server_pids(gh):
        fd_dir = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                f = os.stat(f"{fd_dir}/{fd}")
            except OSError:
                continue
            if (f.st_dev, f.st_ino) == (st.st_dev, st.st_ino):
                found.add(pid)
    return found


def master_pid(gh):
    return int((gh.data / "run" / "nginx.pid").read_text().strip())


def failed_logins(gh, n):
    """n failed Redfish logins, each refused 401."""
    for _ in range(n):
        assert wrong_login(gh, "redfish").status_code == 401


def assert_reopened(gh, old, new, before):
    """Once no process holds old any more, every event goes to new and none
    to old: before is what old held at the rotation."""
    wait_for(lambda: not holders(gh, old), WAIT, f"every process let go of {old}")
    failed_logins(gh, 3)
    wait_for(lambda: len([r for r in records(new) if r["event"] == "login_failed"]) == 3,
             WAIT, "the three failures in the new file")
    assert records(old) == before
    st = os.stat(new)
    assert st.st_mode & 0o777 == 0o600, oct(st.st_mode)
    assert (st.st_uid, st.st_gid) == (gh.owner_uid, gh.owner_gid)


# ----------------------------------------------------------- the request id

@pytest.mark.parametrize("dialect", ["redfish", "redfish-basic", "ovirt", "powerstore",
                                     "proxmox"])
def test_failed_login_joins_error_log(make_server, dialect):
    """A failed login's audit record names its dialect and request id, and
    the error log has a line of the same request with the same id and
    dialect (at log_level info); neither holds the password."""
    gh = make_server(config={"server": {"log_level": "info"}})
    name = dialect.split("-")[0]
    r = wrong_login(gh, dialect)
    assert r.status_code in (400, 401), r.text

    def failed():
        return [x for x in records(gh.audit_log) if x["event"] == "login_failed"]
    wait_for(lambda: failed(), WAIT, "the login_failed record")
    [rec] = failed()
    assert rec["dialect"] == name, rec
    assert REQUEST_ID.match(rec.get("request_id", "")), rec
    rid = rec["request_id"]

    def lines():
        return [l for l in gh.stderr_text().splitlines() if f"request_id: {rid}" in l]
    wait_for(lines, WAIT, f"an error-log line with request_id {rid}")
    joined = [l for l in lines() if "gatehouse: audit event login_failed" in l]
    assert joined, "\n".join(lines())
    assert all(f"dialect: {name}, request_id: {rid}" in l for l in lines()), lines()
    assert "[notice]" in joined[0], joined[0]
    # The password, its hash or the Basic header: nowhere (teardown checks
    # the audit log and stderr for every secret the test used).
    assert gh.leaked_secrets() == []


def test_records_of_a_request_share_its_id(make_server):
    """A session login writes records of one request: one id; another
    request, another id; the command line's records have none."""
    gh = make_server(config={"server": {"log_level": "info"}})
    gh.login()
    gh.login()
    gh.add_user("clerk")
    wait_for(lambda: len([r for r in records(gh.audit_log) if r["event"] == "login"]) >= 4,
             WAIT, "the records of two logins")
    logins = [r for r in records(gh.audit_log) if r["event"] == "login"]
    ids = {r["request_id"] for r in logins}
    assert len(ids) == 2 and all(REQUEST_ID.match(i) for i in ids), logins
    assert all(r["dialect"] == "redfish" for r in logins), logins
    cli = [r for r in records(gh.audit_log) if r.get("method") == "cli"]
    assert cli and all("request_id" not in r and "dialect" not in r for r in cli), cli


# ------------------------------------------------------------ reopen, rotate

def test_sigusr1_reopens_audit_log(make_server):
    """Rename audit.log, send the master SIGUSR1 (nginx's reopen): a new
    audit.log appears (0600, the owner's), every worker writes there, and
    the renamed file gets nothing more."""
    gh = make_server()
    failed_logins(gh, 2)
    wait_for(lambda: len(records(gh.audit_log)) >= 2, WAIT, "two records")
    old = gh.data / "audit.log.old"
    os.rename(gh.audit_log, old)
    before = records(old)
    assert holders(gh, old), "nothing held the audit log before the rotation"
    os.kill(master_pid(gh), signal.SIGUSR1)
    wait_for(lambda: gh.audit_log.exists(), WAIT, "a new audit.log")
    assert_reopened(gh, old, gh.audit_log, before)


def test_logrotate_snippet(make_server):
    """packaging/gatehouse.logrotate, its paths and user pointed at a test
    server, run by the real logrotate (-f, a state file of its own): the
    rotated file holds the records before, audit.log those after."""
    if shutil.which("logrotate") is None:
        pytest.fail("logrotate is not installed (scripts/install-deps installs it)")
    gh = make_server()
    failed_logins(gh, 2)
    wait_for(lambda: len(records(gh.audit_log)) >= 2, WAIT, "two records")
    before = records(gh.audit_log)
    user = pwd.getpwuid(gh.owner_uid).pw_name
    group = grp.getgrgid(gh.owner_gid).gr_name
    text = (REPO / "packaging" / "gatehouse.logrotate").read_text()
    assert "/var/lib/gatehouse" in text and "gatehouse gatehouse" in text
    conf = gh.dir / "logrotate.conf"
    assert "--user gatehouse" in text
    conf.write_text(text.replace("/var/lib/gatehouse", str(gh.data))
                        .replace("gatehouse gatehouse", f"{user} {group}")
                        .replace("--user gatehouse", f"--user {user}"))
    os.chmod(conf, 0o644)
    p = subprocess.run(["logrotate", "-v", "-f", "-s", str(gh.dir / "logrotate.state"),
                        str(conf)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    rotated = gh.data / "audit.log.1"       # delaycompress: the newest stays plain
    assert rotated.exists(), p.stdout + p.stderr
    assert "running postrotate script" in p.stderr, p.stderr
    assert_reopened(gh, rotated, gh.audit_log, before)


def test_logrotate_signals_no_stranger(tmp_path):
    """A pid file that outlived its server and names another process (the
    pid reused): the snippet's postrotate, run by logrotate as root, signals
    nothing (SIGUSR1 would end that process) and the rotation still passes."""
    if shutil.which("logrotate") is None:
        pytest.fail("logrotate is not installed (scripts/install-deps installs it)")
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    (tmp_path / "run").mkdir()
    (tmp_path / "audit.log").write_text('{"event":"login"}\n')
    os.chmod(tmp_path / "audit.log", 0o600)
    stranger = subprocess.Popen(["sleep", "120"])
    try:
        (tmp_path / "run" / "nginx.pid").write_text(f"{stranger.pid}\n")
        text = (REPO / "packaging" / "gatehouse.logrotate").read_text()
        conf = tmp_path / "logrotate.conf"
        conf.write_text(text.replace("/var/lib/gatehouse", str(tmp_path))
                            .replace("gatehouse gatehouse", f"{user} {group}")
                            .replace("--user gatehouse", f"--user {user}"))
        os.chmod(conf, 0o644)
        p = subprocess.run(["logrotate", "-v", "-f", "-s", str(tmp_path / "logrotate.state"),
                            str(conf)], capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stdout + p.stderr
        assert "running postrotate script" in p.stderr, p.stderr
        assert (tmp_path / "audit.log.1").exists(), p.stdout + p.stderr
        assert stranger.poll() is None, "the postrotate script signalled a process not nginx's"
    finally:
        stranger.kill()
        stranger.wait(timeout=10)


# ------------------------------------------------------------------- syslog

# Run as `sh NS_SCRIPT SOCKET OLD_DEV COMMAND...` inside `unshare -m
# --propagation private`: /dev becomes a tmpfs holding the real /dev's
# entries (bind mounts) and, as /dev/log, the test's socket; then COMMAND.
NS_SCRIPT = r"""
set -eu
sock=$1; old=$2; shift 2
mount --rbind /dev "$old"
mount -t tmpfs -o mode=0755,size=1m gatehouse-dev /dev
for f in "$old"/* "$old"/.[!.]*; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    n=${f##*/}
    [ "$n" = log ] && continue
    if [ -L "$f" ]; then cp -P "$f" "/dev/$n"
    elif [ -d "$f" ]; then mkdir "/dev/$n"; mount --rbind "$f" "/dev/$n"
    else : > "/dev/$n"; mount --bind "$f" "/dev/$n"
    fi
done
: > /dev/log
mount --bind "$sock" /dev/log
exec "$@"
"""

# glibc's syslog(3) over /dev/log: <PRI>Mmm dd hh:mm:ss IDENT[PID]: MESSAGE
SYSLOG_LINE = re.compile(r"^<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d gatehouse\[(\d+)\]: (.*)$",
                         re.S)
LOCAL3 = 19
SEVERITY = {"login_failed": 5, "lockout": 4}     # notice, warning; the rest info (6)


class Syslog:
    """A datagram socket standing in for /dev/log, and what arrived on it."""

    def __init__(self, where):
        self.dir = where / "syslog"
        self.dir.mkdir()
        os.chmod(self.dir, 0o755)
        (self.dir / "olddev").mkdir()
        self.path = self.dir / "log.sock"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))
        os.chmod(self.path, 0o666)       # the workers run as the data directory's owner
        self.sock.setblocking(False)
        self.script = self.dir / "ns.sh"
        self.script.write_text(NS_SCRIPT)
        self.got = []

    def wrap(self, cmd):
        return ["unshare", "-m", "--propagation", "private", "sh", str(self.script),
                str(self.path), str(self.dir / "olddev"), *cmd]

    def read(self):
        while True:
            try:
                self.got.append(self.sock.recv(65536).decode())
            except BlockingIOError:
                return self.got

    def records(self):
        """(facility, severity, pid, record) of each datagram."""
        out = []
        for d in self.read():
            m = SYSLOG_LINE.match(d)
            assert m, f"not a syslog(3) record of gatehouse: {d!r}"
            pri = int(m.group(1))
            out.append((pri >> 3, pri & 7, int(m.group(2)), json.loads(m.group(3))))
        return out

    def close(self):
        self.sock.close()


def test_unshare_works_here(tmp_path):
    """The syslog test's premise: a private mount namespace can be made here
    and /dev/log bound in it (root, CAP_SYS_ADMIN)."""
    log = Syslog(tmp_path)
    try:
        p = subprocess.run(log.wrap(["logger", "-p", "local3.notice", "premise"]),
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
        wait_for(lambda: any("premise" in d for d in log.read()), WAIT, "logger's record")
        assert not os.path.exists("/dev/log") or not os.path.samefile("/dev/log", log.path)
    finally:
        log.close()


def test_audit_to_syslog(make_server, tmp_path):
    """[audit] target = syslog: each event is one syslog(3) record (ident
    gatehouse, the worker's pid, facility local3, severity by event) whose
    message is the whole JSON record, with the request id and dialect for a
    request's, none for the command line's; no audit file is written."""
    log = Syslog(tmp_path)
    gh = make_server(config={"audit": {"target": "syslog", "syslog_facility": "local3"},
                             "lockout": {"lockout_threshold": 2}}, start=False)
    plain = gh._command
    gh._command = lambda: log.wrap(plain())
    try:
        gh.start()
        gh.login()                                    # login (session created)
        for _ in range(2):                            # login_failed twice, then lockout
            assert wrong_login(gh, "redfish").status_code == 401
        pw = gh.secret_file(new_password("clerk"))
        p = subprocess.run(log.wrap([str(GATEHOUSE), "user", "add", "clerk", "--role",
                                     "ReadOnly", "--password-file", pw,
                                     "--data-dir", str(gh.data),
                                     "--config", str(gh.config_path)]),
                           capture_output=True, text=True, timeout=60, env=gh.env(gh.data))
        assert p.returncode == 0, p.stderr

        def events():
            return [r["event"] for _, _, _, r in log.records()]
        wait_for(lambda: events().count("login_failed") == 2 and "lockout" in events()
                 and "account_changed" in events(), WAIT, "the records in syslog")
        got = log.records()
        workers = set(gh.worker_pids())
        for facility, severity, pid, rec in got:
            assert facility == LOCAL3, (facility, rec)
            assert severity == SEVERITY.get(rec["event"], 6), (severity, rec)
            if rec.get("method") == "cli":
                assert "request_id" not in rec and "dialect" not in rec, rec
                continue
            assert pid in workers, (pid, workers, rec)
            assert REQUEST_ID.match(rec["request_id"]) and rec["dialect"] == "redfish", rec
        texts = "\n".join(log.got)
        for secret in gh.secrets:
            assert secret not in texts
        assert not gh.audit_log.exists(), "an audit file was written with target = syslog"
    finally:
        log.close()
