"""test_cli_store.py: the command line of the shared store. `gatehouse store
copy`, embedded store to embedded store (sqlite:PATH, another data
directory): what a server made on one data directory (accounts, a dialect's
attributes, sessions, a setting, the secret, the change log's sequence) works
on the other once copied; a running server makes the copy refuse (the lock
`serve` holds); a target that holds anything is refused; the command line is
checked. `gatehouse init --store URL`: the URL goes to DIR/gatehouse.conf,
a store that does not answer fails the init, a configuration that names no
such store or a URL with a control character is refused before anything is
made. And the move the issue asks for: an embedded installation copied into
Redis (--to) is served from there, and copied back (--from) into another
data directory's embedded store, served there.
"""

import os
import shutil
import socket
import sqlite3
import subprocess

import pytest

import gatehouse_harness as H
from test_cli import GATEHOUSE, Cli
from test_powerstore import USERS, login as ps_login


def db_path(gh):
    return gh.data / "gatehouse.db"


def read_db(path, sql):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def remove_db(gh):
    for suffix in ("", "-wal", "-shm"):
        try:
            os.unlink(f"{db_path(gh)}{suffix}")
        except FileNotFoundError:
            pass


def copy(gh, *args, check=True):
    return gh.cli("store", "copy", *args, check=check, timeout=120)


def test_copy_to_another_data_dir(make_server):
    a = make_server()
    a.add_user("oper", "Operator")
    token, _, body, _ = a.login("oper")
    with a.admin() as s:
        r = s.patch(a.url + "/redfish/v1/SessionService", json={"SessionTimeout": 1234},
                    timeout=10)
        assert r.status_code in (200, 204), r.text
    # a PowerStore user keeps its role as an attribute of its account
    ps, _ = ps_login(a)
    pw = H.new_password()
    a.secrets.add(pw)
    r = ps.post(a.url + USERS, json={"name": "vm1", "password": pw, "role_id": "4"}, timeout=10)
    assert r.status_code == 201, r.text
    ps.close()
    a.stop()

    b = make_server(start=False)
    p = copy(b, "--from", f"sqlite:{db_path(a)}", check=False)
    assert p.returncode == 1 and "not empty" in p.stderr, p.stderr
    remove_db(b)
    p = copy(b, "--from", f"sqlite:{db_path(a)}")
    assert "copied 3 accounts, 1 attributes, 2 sessions, 1 settings" in p.stdout, p.stdout

    secret = "SELECT value FROM meta WHERE key = 'secret'"
    assert read_db(db_path(b), secret) == read_db(db_path(a), secret)
    rows = "SELECT id, name, generation, created, password_hash FROM accounts ORDER BY id"
    assert read_db(db_path(b), rows) == read_db(db_path(a), rows)
    sessions = "SELECT id, digest, account_id, created FROM sessions ORDER BY rowid"
    assert read_db(db_path(b), sessions) == read_db(db_path(a), sessions)
    last = "SELECT seq FROM sqlite_sequence WHERE name = 'changes'"
    assert read_db(db_path(b), last)[0][0] >= read_db(db_path(a), last)[0][0] > 0

    # B serves what A made: A's admin, oper's session, the setting
    b.admin_password = b.users["admin"] = a.admin_password
    b.users["oper"] = a.users["oper"]
    b.secrets |= a.secrets
    b.start()
    assert b.token_status(token) == 200
    with b.admin() as s:
        r = s.get(b.url + "/redfish/v1/SessionService", timeout=10)
        assert r.status_code == 200 and r.json()["SessionTimeout"] == 1234, r.text
    assert b.cli("session", "list").stdout.count(body["Id"]) == 1
    b.login("oper")
    b.users["vm1"] = pw
    ps, _ = ps_login(b)
    r = ps.get(b.url + USERS + "/name:vm1", params={"select": "name,role_id"}, timeout=10)
    assert r.json() == {"name": "vm1", "role_id": "4"}, r.text
    ps.close()


def test_copy_refused_while_serving(make_server):
    a = make_server()
    target = a.dir / "copy.db"
    p = copy(a, "--to", f"sqlite:{target}", check=False)
    assert p.returncode == 1, p.stdout
    assert "gatehouse: " in p.stderr and "serve" in p.stderr.lower(), p.stderr
    assert a.token_status(a.login()[0]) == 200


def test_copy_to_a_new_file(make_server):
    a = make_server(start=False)
    target = a.dir / "other" / "gatehouse.db"
    target.parent.mkdir()
    os.chmod(target.parent, 0o777)      # the data directory's owner writes there
    p = copy(a, "--to", f"sqlite:{target}")
    assert "copied 1 accounts" in p.stdout, p.stdout
    assert read_db(target, "SELECT name FROM accounts") == [("admin",)]
    # and once more: the target is no longer empty
    p = copy(a, "--to", f"sqlite:{target}", check=False)
    assert p.returncode == 1 and "not empty" in p.stderr, p.stderr


@pytest.mark.parametrize("args, message", [
    ((), "missing action"),
    (("copy",), "one of --to URL and --from URL"),
    (("copy", "--to", "sqlite:/x", "--from", "sqlite:/y"), "one of --to URL and --from URL"),
    (("copy", "--to", "sqlite:relative.db"), "absolute"),
    (("move", "--to", "sqlite:/x"), "unknown action"),
])
def test_copy_command_line(make_server, args, message):
    a = make_server(start=False)
    p = a.cli("store", *args, check=False)
    assert p.returncode in (1, 2), p.stdout
    assert message in p.stderr, p.stderr


def test_store_help(make_server):
    a = make_server(start=False)
    p = a.cli("store", "--help")
    assert p.stdout.startswith("usage: gatehouse store copy --to URL")
    assert "sqlite:PATH" in p.stdout


@pytest.fixture
def cli():
    base = H.make_base_dir()          # traversable by the data directory's owner
    try:
        yield Cli(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def closed_port():
    """A loopback port nothing listens on (bound, never listened, closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_init_store_writes_its_url_and_fails_without_the_store(cli):
    url = f"redis://127.0.0.1:{closed_port()}"
    pw = cli.secret_file("Init-store-pass-1")
    p = cli.refused("init", "--store", url, "--admin-password-file", pw, config=False)
    assert "cannot open the store ([store] url)" in p.stderr, p.stderr
    assert url not in p.stderr
    conf = (cli.data / "gatehouse.conf").read_text()
    assert f"[store]\nurl = {url}\n" in conf
    assert not (cli.data / "gatehouse.db").exists()


def test_init_store_refused_by_a_configuration_without_it(cli):
    pw = cli.secret_file("Init-store-pass-1")
    cli.refused("init", "--store", "redis://127.0.0.1:1", "--admin-password-file", pw,
                match=r"does not say `\[store\] url = redis://127\.0\.0\.1:1`")
    assert not cli.data.exists()
    cli.refused("init", "--store", "redis://x\nurl = y", "--admin-password-file", pw,
                config=False, match="control characters")
    cli.refused("init", "--store", "", "--admin-password-file", pw, config=False,
                match="wants a URL")
    assert not cli.data.exists()


def test_init_help_names_store():
    p = subprocess.run([str(GATEHOUSE), "init", "--help"], capture_output=True, text=True,
                       timeout=30)
    assert "--store URL" in p.stdout


def redis_keys(gh, redis):
    """The [store] keys of gh for the `redis` fixture's server, without
    the url; the Redis password copied into gh's directory as a node's is."""
    from scale_harness import copy_private
    keys = redis.store_keys()
    keys.pop("url")
    if redis.password_file is not None:
        st = os.stat(gh.data)
        keys["password_file"] = copy_private(redis.password_file, gh.dir / "keys" / "redis.pw",
                                             (st.st_uid, st.st_gid))
        gh.secrets.add(redis.password)
    return keys


def test_copy_embedded_to_redis_and_back(make_server, redis):
    """An installation moves to Redis (--to) and a node serves what it made
    from there, its embedded store gone; then another data directory takes
    it all back from Redis (--from) and serves it embedded."""
    from scale_harness import copy_private
    a = make_server()
    a.add_user("oper", "Operator")
    token, _, body, _ = a.login("oper")
    a.stop()
    keys = redis_keys(a, redis)
    a.config = H.merge_config(a.config, {"store": keys})
    a.write_config()
    p = copy(a, "--to", redis.url)
    assert "copied 2 accounts" in p.stdout and "1 sessions" in p.stdout, p.stdout
    secret = a.data / "store-secret"
    assert secret.exists() and secret.stat().st_mode & 0o077 == 0

    a.config = H.merge_config(a.config, {"store": {"url": redis.url}})
    a.write_config()
    remove_db(a)
    a.start()
    assert a.token_status(token) == 200
    a.login("oper")
    assert a.cli("session", "list").stdout.count(body["Id"]) == 1
    a.stop()

    b = make_server(start=False)
    st = os.stat(b.data)
    keys = redis_keys(b, redis)
    keys["secret_file"] = copy_private(secret, b.dir / "keys" / "store-secret",
                                       (st.st_uid, st.st_gid))
    b.config = H.merge_config(b.config, {"store": keys})
    b.write_config()
    remove_db(b)
    p = copy(b, "--from", redis.url)
    assert "copied 2 accounts" in p.stdout and " sessions" in p.stdout, p.stdout
    b.admin_password = b.users["admin"] = a.admin_password
    b.users["oper"] = a.users["oper"]
    b.secrets |= a.secrets
    b.start()
    assert b.token_status(token) == 200
    b.login("oper")
