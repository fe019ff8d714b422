"""test_cli.py: the `gatehouse` command line, run as the real binary from
$GATEHOUSE_BUILD (default build/): init (once; again changes nothing), modes and
owners, user add/passwd/del/list/unlock with passwords from files, stdin and a
terminal, imported bcrypt hashes, session list/revoke, --help, refusals (exit
status, stderr), and `serve` writing a configuration nginx accepts. As root the
CLI drops to the data directory's owner (www-data): temp dirs are made 0755.
"""

import hashlib
import os
import pty
import pwd
import re
import select
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest

import gatehouse_harness as H

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("GATEHOUSE_BUILD") or REPO / "build").resolve()
GATEHOUSE = BUILD / "gatehouse"
MODULE = BUILD / "ngx_http_gatehouse_module.so"
IS_ROOT = os.geteuid() == 0
SANITIZE = os.environ.get("GATEHOUSE_SANITIZE", "") == "1"

# Cheap argon2id: these tests hash often and test the CLI, not argon2.
CHEAP = "[password]\nargon2_t_cost = 1\nargon2_m_cost_kib = 1024\nargon2_parallelism = 1\n"

# htpasswd -B style ($2y$) hash of "htpasswd-pass-1", made with libxcrypt.
BCRYPT_HASH = "$2y$05$Uu.QThf8PR/g9e1t4QA12uCTb8Ru5Y4aiiOLDJowOadS7PkQwyt3u"
PASSWORD_ALPHABET = set("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")

pytestmark = pytest.mark.skipif(not GATEHOUSE.exists(), reason=f"{GATEHOUSE} not built")


class Cli:
    """A temporary place with a config file, and the binary run against it."""

    def __init__(self, base):
        self.base = base
        self.data = base / "data"
        self.config = base / "gatehouse.conf"
        self.config.write_text(CHEAP)
        os.chmod(self.config, 0o644)

    def run(self, *args, input=None, data=True, config=True, timeout=60, env=None):
        cmd = [str(GATEHOUSE), *args]
        if data:
            cmd += ["--data-dir", str(self.data)]
        if config:
            cmd += ["--config", str(self.config)]
        return subprocess.run(cmd, input=input, capture_output=True, text=True,
                              timeout=timeout, env=env)

    def ok(self, *args, **kw):
        p = self.run(*args, **kw)
        assert p.returncode == 0, f"{args}: exit {p.returncode}\n{p.stdout}\n{p.stderr}"
        return p

    def refused(self, *args, code=None, match=None, **kw):
        p = self.run(*args, **kw)
        assert p.returncode != 0, f"{args} should fail:\n{p.stdout}"
        if code is not None:
            assert p.returncode == code, f"{args}: exit {p.returncode}, wanted {code}"
        assert p.stderr.startswith("gatehouse: ") or p.stderr.startswith("usage:"), p.stderr
        if match is not None:
            assert re.search(match, p.stderr), f"{match!r} not in {p.stderr!r}"
        assert "admin password" not in p.stdout
        return p

    def secret_file(self, text, name="pw"):
        path = self.base / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text + "\n")
        return str(path)

    def init(self, *extra):
        return self.ok("init", *extra)

    def users(self):
        """`user list` as {name: (role, enabled, locked, built_in)}."""
        lines = self.ok("user", "list").stdout.splitlines()
        assert lines[0].split() == ["NAME", "ROLE", "ENABLED", "LOCKED", "BUILT-IN"]
        return {f[0]: tuple(f[1:]) for f in (line.split() for line in lines[1:])}

    def db_cells(self):
        """Every value of every table, from a copy of the database."""
        copy = self.base / "copy.db"
        shutil.copyfile(self.data / "gatehouse.db", copy)
        con = sqlite3.connect(str(copy))
        try:
            tables = [r[0] for r in con.execute(
                "select name from sqlite_master where type = 'table'")]
            return [c for t in tables for row in con.execute(f'select * from "{t}"')
                    for c in row]
        finally:
            con.close()
            copy.unlink()

    def audit(self):
        path = self.data / "audit.log"
        return path.read_text() if path.exists() else ""


@pytest.fixture
def cli():
    base = H.make_base_dir()          # traversable by the data directory's owner
    try:
        yield Cli(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def ready(cli):
    """An initialised data directory."""
    cli.init()
    return cli


def snapshot(top):
    """Name -> (mode, uid, gid, size, mtime_ns, sha256) of everything under top."""
    out = {}
    for root, dirs, files in os.walk(top):
        for name in dirs + files:
            path = Path(root) / name
            st = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
            out[str(path.relative_to(top))] = (stat.S_IMODE(st.st_mode), st.st_uid,
                                               st.st_gid, st.st_size, st.st_mtime_ns, digest)
    st = os.stat(top)
    out["."] = (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
    return out


def clock_past_mtimes(where, snap):
    """Wait until a file written now gets a later mtime than any in snap
    (the file system's clock is coarser than a nanosecond), so a snapshot
    taken after a rewrite differs."""
    newest = max(v[4] for v in snap.values() if len(v) > 4)
    probe = Path(where) / ".mtime-probe"

    def later():
        probe.write_bytes(b"")
        return probe.stat().st_mtime_ns > newest

    H.wait_for(later, 5, "the file system's clock passed the snapshot's mtimes")
    probe.unlink()


def env_without_data_dir(**extra):
    env = {k: v for k, v in os.environ.items() if k != "GATEHOUSE_DATA_DIR"}
    env.update(extra)
    return env


@pytest.mark.parametrize("args", [["--help"], ["init", "--help"], ["serve", "--help"],
                                  ["user", "--help"], ["session", "--help"]])
def test_help(args):
    p = subprocess.run([str(GATEHOUSE), *args], capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert p.stdout.startswith("usage: gatehouse")
    assert "--data-dir" in p.stdout
    assert "GATEHOUSE_DATA_DIR" in p.stdout and "./var" in p.stdout
    p = subprocess.run([str(GATEHOUSE), "--version"], capture_output=True, text=True)
    assert p.returncode == 0 and re.match(r"gatehouse \d+\.\d+", p.stdout)


@pytest.mark.parametrize("args,match", [
    ([], "usage"),
    (["frobnicate"], "unknown command"),
    (["init"], "missing --data-dir"),
    (["user"], "missing action"),
    (["user", "add"], "missing NAME"),
    (["user", "frob", "x"], "unknown action"),
    (["session"], "missing action"),
    (["session", "revoke"], "session ID or --user"),
    (["serve"], "missing --data-dir"),
    (["user", "list"], "^gatehouse: user list: missing --data-dir DIR: name the data directory "
                       "with --data-dir DIR or the environment variable GATEHOUSE_DATA_DIR, or "
                       "run the command where `make run` made ./var "
                       r"\(`gatehouse init --data-dir DIR` makes a new one\)$"),
    (["session", "list"], "session list: missing --data-dir DIR"),
    (["user", "list", "--bogus"], "unrecognized option|usage"),
])
def test_usage_errors(args, match, tmp_path):
    # where no data directory can be found by default: no ./var, no variable
    p = subprocess.run([str(GATEHOUSE), *args], capture_output=True, text=True,
                       cwd=tmp_path, env=env_without_data_dir())
    assert p.returncode == 2, (args, p.returncode, p.stderr)
    assert re.search(match, p.stderr), p.stderr
    assert p.stdout == ""


def test_init_prints_password_once(cli):
    p = cli.init()
    lines = [line for line in p.stdout.splitlines() if line.startswith("admin password: ")]
    assert len(lines) == 1, p.stdout
    password = lines[0].split(": ", 1)[1]
    assert len(password) == 24 and set(password) <= PASSWORD_ALPHABET
    assert "ca.pem" in p.stdout
    assert password not in p.stderr and password not in cli.audit()
    assert cli.users() == {"admin": ("Administrator", "yes", "no", "yes")}
    # only the hash is kept
    cells = [c for c in cli.db_cells() if isinstance(c, str)]
    assert not any(password in c for c in cells)
    assert any(c.startswith("$argon2id$") for c in cells)


def test_second_init_changes_nothing(cli):
    password = "chosen-Password-42"
    p = cli.init("--admin-password-file", cli.secret_file(password))
    assert "admin password" not in p.stdout
    assert password not in p.stdout + p.stderr + cli.audit()
    before = snapshot(cli.data)
    clock_past_mtimes(cli.base, before)
    p = cli.init()
    assert "already initialised" in p.stdout and "nothing changed" in p.stdout
    assert "admin password" not in p.stdout
    # even with options that would otherwise matter
    p = cli.init("--admin-password-file", cli.secret_file("another-password-1"))
    assert "nothing changed" in p.stdout
    assert snapshot(cli.data) == before


def test_modes_and_owner(ready):
    data = ready.data
    # later commands run as root leave no file of root's behind either
    ready.ok("user", "add", "ivan", "--role", "ReadOnly", input="ivan-password-1\n")
    ready.ok("session", "list")
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
    modes = {"pki/ca.pem": 0o644, "pki/ca.key": 0o600, "pki/server.pem": 0o644,
             "pki/server.key": 0o600, "pki/server-chain.pem": 0o644, "gatehouse.db": 0o600,
             "audit.log": 0o600}
    for name, mode in modes.items():
        assert stat.S_IMODE(os.stat(data / name).st_mode) == mode, name
    owner = pwd.getpwuid(os.stat(data).st_uid).pw_name
    assert owner in ("www-data", "nobody") if IS_ROOT else owner == pwd.getpwuid(os.getuid())[0]
    for path in data.rglob("*"):
        assert path.lstat().st_uid == os.stat(data).st_uid, f"{path} is not {owner}'s"


def test_certificates(ready):
    pki = ready.data / "pki"
    v = subprocess.run(["openssl", "verify", "-CAfile", str(pki / "ca.pem"),
                        "-purpose", "sslserver", str(pki / "server.pem")],
                       capture_output=True, text=True)
    assert v.returncode == 0, v.stdout + v.stderr
    text = subprocess.run(["openssl", "x509", "-in", str(pki / "server.pem"), "-noout",
                           "-ext", "subjectAltName"], capture_output=True, text=True).stdout
    for san in ("DNS:localhost", "IP Address:127.0.0.1", "IP Address:0:0:0:0:0:0:0:1"):
        assert san in text
    chain = (pki / "server-chain.pem").read_text()
    assert chain == (pki / "server.pem").read_text() + (pki / "ca.pem").read_text()


def test_init_uses_config_in_data_dir(cli):
    cli.data.mkdir()
    os.chmod(cli.data, 0o755)
    (cli.data / "gatehouse.conf").write_text(CHEAP + "min_password_length = 30\n")
    p = cli.run("init", "--admin-password-file", cli.secret_file("only-twenty-chars-xx"),
                config=False)
    assert p.returncode != 0 and "too short" in p.stderr
    p = cli.run("init", config=False)
    assert p.returncode == 0, p.stderr
    password = re.search(r"admin password: (\S+)", p.stdout).group(1)
    assert len(password) == 30


def test_init_refusals(cli):
    cli.refused("init", "--admin-password-file", cli.secret_file("short"), match="too short")
    cli.refused("init", "--admin-password-file", str(cli.base / "missing"),
                match="cannot open")
    cli.refused("init", "--cert", "/etc/hostname", code=2, match="--cert and --key")
    assert not (cli.data / "gatehouse.db").exists()
    # a directory holding other things is not taken over
    other = cli.base / "other"
    other.mkdir()
    (other / "precious.txt").write_text("keep me")
    before = snapshot(other)
    p = subprocess.run([str(GATEHOUSE), "init", "--data-dir", str(other)],
                       capture_output=True, text=True)
    assert p.returncode != 0 and "other files" in p.stderr
    assert snapshot(other) == before
    # the parent must exist
    p = subprocess.run([str(GATEHOUSE), "init", "--data-dir", str(cli.base / "a" / "b")],
                       capture_output=True, text=True)
    assert p.returncode != 0 and "parent" in p.stderr


def make_chain(base):
    """A CA and a server certificate made with the openssl command: (chain, key, ca, other_key)."""
    def ossl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=base)
    ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", "byo-ca.key", "-out", "byo-ca.pem", "-days", "30", "-subj", "/CN=BYO CA",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
         "keyUsage=critical,keyCertSign")
    ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", "byo.key", "-out", "byo.csr", "-subj", "/CN=localhost")
    (base / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    ossl("x509", "-req", "-in", "byo.csr", "-CA", "byo-ca.pem", "-CAkey", "byo-ca.key",
         "-CAcreateserial", "-out", "byo.pem", "-days", "30", "-extfile", "ext.cnf")
    chain = base / "byo-chain.pem"
    chain.write_text((base / "byo.pem").read_text() + (base / "byo-ca.pem").read_text())
    for name in ("byo-chain.pem", "byo.key", "byo-ca.key"):
        os.chmod(base / name, 0o600)     # the caller's alone: init reads them first
    return chain, base / "byo.key", base / "byo-ca.pem", base / "byo-ca.key"


def test_bring_your_own_certificate(cli):
    chain, key, ca, ca_key = make_chain(cli.base)
    cli.refused("init", "--cert", str(chain), "--key", str(ca_key), match="does not match")
    reversed_chain = cli.base / "reversed.pem"
    reversed_chain.write_text(ca.read_text() + (cli.base / "byo.pem").read_text())
    cli.refused("init", "--cert", str(reversed_chain), "--key", str(key), match="issued")
    cli.init("--cert", str(chain), "--key", str(key))
    pki = cli.data / "pki"
    assert (pki / "server-chain.pem").read_bytes() == chain.read_bytes()
    assert (pki / "ca.pem").read_text().strip() == ca.read_text().strip()
    assert (pki / "server.key").read_bytes() == key.read_bytes()
    assert stat.S_IMODE(os.stat(pki / "server.key").st_mode) == 0o600
    assert not (pki / "ca.key").exists()


def test_user_lifecycle(ready):
    cli = ready
    cli.ok("user", "add", "alice", "--role", "Operator",
           "--password-file", cli.secret_file("alice-password-1"))
    cli.ok("user", "add", "bob", "--role", "ReadOnly", input="bob-password-22\n")
    assert cli.users() == {
        "admin": ("Administrator", "yes", "no", "yes"),
        "alice": ("Operator", "yes", "no", "no"),
        "bob": ("ReadOnly", "yes", "no", "no"),
    }
    hashes_before = {c for c in cli.db_cells() if isinstance(c, str) and c.startswith("$")}
    cli.ok("user", "passwd", "alice", "--password-file", cli.secret_file("alice-password-2"))
    cli.ok("user", "passwd", "bob", input="bob-password-33\n")
    hashes_after = {c for c in cli.db_cells() if isinstance(c, str) and c.startswith("$")}
    assert len(hashes_after - hashes_before) == 2       # both passwords really changed
    p = cli.ok("user", "unlock", "alice")   # clears counters nobody can see: always does
    assert "unlocked alice" in p.stdout
    cli.ok("user", "del", "bob")
    assert set(cli.users()) == {"admin", "alice"}

    audit = cli.audit()
    for word in ("alice", "bob", "deleted", "password changed"):
        assert word in audit
    everything = audit + "".join(str(c) for c in cli.db_cells())
    for secret in ("alice-password-1", "alice-password-2", "bob-password-22",
                   "bob-password-33"):
        assert secret not in everything


def test_user_refusals(ready):
    cli = ready
    pw = cli.secret_file("good-password-1")
    cli.ok("user", "add", "carol", "--role", "ReadOnly", "--password-file", pw)
    add = ("user", "add", "dave", "--role", "ReadOnly")
    for args, code, match, stdin in [
        (("user", "add", "carol", "--role", "Operator", "--password-file", pw), 1, "exists",
         None),
        (("user", "add", "dave", "--role", "Boss", "--password-file", pw), 2, "unknown role", None),
        (("user", "add", "bad:name", "--role", "ReadOnly"), 2, "not a valid user name", None),
        (("user", "add", "x" * 65, "--role", "ReadOnly"), 2, "not a valid user name", None),
        (("user", "add", "dave", "--password-file", pw), 2, "--role", None),
        (add, 1, "too short", "short\n"),
        (add, 1, "no password", ""),
        (add, 1, "longer than", "x" * 300 + "\n"),
        (add + ("--password-file", pw, "--password-hash", BCRYPT_HASH), 2, "not both", None),
        (("user", "del", "admin"), 1, "built-in", None),
        (("user", "del", "nobody-here"), 1, "no user", None),
        (("user", "passwd", "nobody-here", "--password-file", pw), 1, "no user", None),
        (("user", "unlock", "nobody-here"), 1, "no user", None),
        (("user", "lock", "nobody-here"), 1, "no user", None),
        (("user", "lock"), 2, "missing NAME", None),
        (("user", "list", "extra"), 2, "takes no NAME", None),
    ]:
        cli.refused(*args, code=code, match=match, input=stdin)
    assert "dave" not in cli.users()


def test_password_policy_from_config(ready):
    cli = ready
    cli.config.write_text(CHEAP + "min_password_length = 12\nmax_password_length = 16\n")
    cli.refused("user", "add", "erin", "--role", "ReadOnly", input="elevenchars\n",
                match="at least 12")
    cli.refused("user", "add", "erin", "--role", "ReadOnly", input="seventeen-chars-x\n",
                match="at most 16")
    cli.ok("user", "add", "erin", "--role", "ReadOnly", input="twelve-chars\n")
    # characters, not bytes: 12 two-byte characters are 12
    cli.ok("user", "passwd", "erin", input="éééééééééééé\n")


def test_password_hash_import(ready):
    cli = ready
    cli.ok("user", "add", "frank", "--role", "Operator", "--password-hash", BCRYPT_HASH)
    assert BCRYPT_HASH in cli.db_cells()
    cli.refused("user", "add", "gina", "--role", "Operator", "--password-hash", "plain",
                match="not a password hash")
    cli.refused("user", "add", "gina", "--role", "Operator", "--password-hash", "$1$md5$x",
                match="not a password hash")
    # from standard input, off argv
    other = BCRYPT_HASH.replace("$2y$", "$2b$")
    cli.ok("user", "add", "gina", "--role", "ReadOnly", "--password-hash", "-",
           input=other + "\n")
    assert other in cli.db_cells()
    cli.refused("user", "passwd", "gina", "--password-hash", BCRYPT_HASH, code=2)


def on_terminal(cli, args, dialogue):
    """Run the CLI with a pseudo-terminal as stdin and stderr, answering each
    (prompt, answer) of dialogue. Returns (exit status, stdout, terminal text)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [str(GATEHOUSE), *args, "--data-dir", str(cli.data), "--config", str(cli.config)],
        stdin=slave, stdout=subprocess.PIPE, stderr=slave, text=True, start_new_session=True)
    os.close(slave)
    seen = [b""]

    def read_some():
        """True when it read something."""
        if select.select([master], [], [], 0.2)[0]:
            try:
                seen[0] += os.read(master, 1024)
                return True
            except OSError:
                pass
        return False

    try:
        for prompt, answer in dialogue:
            H.wait_until(lambda: read_some() is None or prompt in seen[0], 10)
            assert prompt in seen[0], seen[0]
            seen[0] = seen[0].replace(prompt, b"<prompt>", 1)
            os.write(master, answer)
        out, _ = proc.communicate(timeout=30)
        while read_some():
            pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        os.close(master)
    return proc.returncode, out, seen[0]


def test_passwords_on_a_terminal(ready):
    cli = ready
    rc, out, seen = on_terminal(cli, ["user", "add", "hank", "--role", "ReadOnly"], [
        (b"New password for hank: ", b"terminal-pass-1\n"),
        (b"Retype the password: ", b"terminal-pass-1\n")])
    assert rc == 0 and "added user hank" in out, seen
    assert b"terminal-pass-1" not in seen          # not echoed
    before = cli.db_cells()
    rc, out, seen = on_terminal(cli, ["user", "passwd", "hank"], [
        (b"New password for hank: ", b"first-password-1\n"),
        (b"Retype the password: ", b"other-password-2\n")])
    assert rc == 1 and b"do not match" in seen
    assert cli.db_cells() == before


def test_sessions_on_an_empty_store(ready):
    cli = ready
    p = cli.ok("session", "list")
    assert p.stdout.strip() == "no sessions"
    cli.refused("session", "revoke", "0" * 32, code=1, match="no session")
    cli.refused("session", "revoke", "not-an-id", code=2, match="not a session id")
    cli.refused("session", "revoke", "0" * 32, "--user", "admin", code=2)
    p = cli.ok("session", "revoke", "--user", "admin")
    assert "revoked 0 sessions of admin" in p.stdout
    cli.refused("session", "revoke", "--user", "ghost", code=1, match="no user")
    cli.refused("session", "list", "--user", "admin", code=2)


def test_data_dir_from_the_environment(ready):
    cli = ready
    elsewhere = cli.base / "elsewhere"
    elsewhere.mkdir()
    p = subprocess.run([str(GATEHOUSE), "user", "list", "--config", str(cli.config)],
                       capture_output=True, text=True, cwd=elsewhere,
                       env=env_without_data_dir(GATEHOUSE_DATA_DIR=str(cli.data)))
    assert p.returncode == 0, p.stderr
    assert re.search(r"^admin\s+Administrator", p.stdout, re.M), p.stdout
    # --data-dir wins over the variable
    p = subprocess.run([str(GATEHOUSE), "user", "list", "--data-dir", str(elsewhere)],
                       capture_output=True, text=True, cwd=elsewhere,
                       env=env_without_data_dir(GATEHOUSE_DATA_DIR=str(cli.data)))
    assert p.returncode == 1 and "not initialised" in p.stderr, p.stderr
    # a variable naming nothing says what to do
    p = subprocess.run([str(GATEHOUSE), "session", "list"], capture_output=True, text=True,
                       cwd=elsewhere,
                       env=env_without_data_dir(GATEHOUSE_DATA_DIR=str(cli.base / "none")))
    assert p.returncode == 1, p.stderr
    assert f"{cli.base / 'none'} does not exist: run `gatehouse init --data-dir" in p.stderr


def test_data_dir_var_in_the_current_directory(cli):
    here = cli.base / "here"
    here.mkdir()
    os.chmod(here, 0o755)
    env = env_without_data_dir()
    # ./var that is not a data directory is not taken
    (here / "var").mkdir()
    p = subprocess.run([str(GATEHOUSE), "user", "list"], capture_output=True, text=True,
                       cwd=here, env=env)
    assert p.returncode == 2 and "missing --data-dir DIR" in p.stderr, p.stderr
    (here / "var").rmdir()
    p = subprocess.run([str(GATEHOUSE), "init", "--data-dir", "var", "--config",
                        str(cli.config)], capture_output=True, text=True, cwd=here, env=env)
    assert p.returncode == 0, p.stderr
    p = subprocess.run([str(GATEHOUSE), "user", "list"], capture_output=True, text=True,
                       cwd=here, env=env)
    assert p.returncode == 0, p.stderr
    assert re.search(r"^admin\s+Administrator", p.stdout, re.M), p.stdout
    pwfile = cli.secret_file("Another-pass-123", "pw-here")
    if IS_ROOT:
        shutil.chown(pwfile, "www-data")
    p = subprocess.run([str(GATEHOUSE), "user", "add", "ops", "--role", "Operator",
                        "--password-file", pwfile, "--config", str(cli.config)],
                       capture_output=True, text=True, cwd=here, env=env)
    assert p.returncode == 0, p.stderr
    # the variable wins over ./var
    cli.init()
    p = subprocess.run([str(GATEHOUSE), "user", "list"], capture_output=True, text=True,
                       cwd=here, env=env_without_data_dir(GATEHOUSE_DATA_DIR=str(cli.data)))
    assert p.returncode == 0 and "ops" not in p.stdout, p.stdout
    p = subprocess.run([str(GATEHOUSE), "user", "list"], capture_output=True, text=True,
                       cwd=here, env=env)
    assert "ops" in p.stdout


def test_commands_need_an_initialised_directory(cli):
    cli.refused("user", "list", match="does not exist")
    cli.refused("session", "list", match="does not exist")
    cli.data.mkdir()
    os.chmod(cli.data, 0o755)
    cli.refused("user", "list", match="not initialised")
    assert os.listdir(cli.data) == []


@pytest.mark.skipif(not IS_ROOT, reason="needs another user to run as")
def test_someone_else_is_refused(ready):
    cli = ready
    p = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                        str(GATEHOUSE), "user", "list", "--data-dir", str(cli.data)],
                       capture_output=True, text=True)
    assert p.returncode == 1 and "belongs to www-data" in p.stderr, p.stderr


def test_serve_refusals(ready):
    cli = ready
    cli.refused("serve", "--listen", "nonsense", code=2, match="not ADDR:PORT")
    cli.refused("serve", "--listen", "127.0.0.1:70000", code=2, match="not ADDR:PORT")
    cli.refused("serve", "--listen", "127.0.0.1:9443", "--http-listen", "127.0.0.1:9443",
                code=2, match="share port")
    cli.config.write_text(CHEAP + "[server]\nmodule = /nonexistent/gatehouse.so\n")
    cli.refused("serve", code=1, match="module /nonexistent/gatehouse.so is missing")
    (cli.base / "fresh").mkdir()
    if IS_ROOT:
        shutil.chown(cli.base / "fresh", "www-data")
    p = subprocess.run([str(GATEHOUSE), "serve", "--data-dir", str(cli.base / "fresh")],
                       capture_output=True, text=True)
    assert p.returncode == 1 and "not initialised" in p.stderr


needs_module = pytest.mark.skipif(not MODULE.exists(), reason=f"{MODULE} not built")


class NginxEnv:
    """The environment `serve` (which becomes nginx) runs in: with a sanitizer
    build, the runtimes preloaded and a place for reports, checked for none."""

    def __init__(self, base):
        self.env, self.reports = dict(os.environ), base / "sanitizer"
        self.reports.mkdir(mode=0o1777)
        os.chmod(self.reports, 0o1777)
        if SANITIZE:
            self.env.update(H.sanitizer_env(self.reports))

    def check(self):
        found = H.sanitizer_reports(self.reports)
        assert not found, "\n".join(text[:4000] for _, text in found)


@needs_module
def test_serve_check_writes_a_config_nginx_accepts(ready):
    cli = ready
    nginx_env = NginxEnv(cli.base)
    port, http_port, metrics_port = H.free_ports(3)
    p = cli.ok("serve", "--check", "--listen", f"127.0.0.1:{port}",
               "--http-listen", f"127.0.0.1:{http_port}",
               "--metrics-listen", f"127.0.0.1:{metrics_port}", env=nginx_env.env)
    assert "test is successful" in p.stderr
    conf = cli.data / "run" / "nginx.conf"
    assert stat.S_IMODE(os.stat(conf).st_mode) == 0o600
    assert os.stat(conf).st_uid == os.stat(cli.data).st_uid
    text = conf.read_text()
    for line in (f"listen 127.0.0.1:{port} ssl http2 reuseport;",
                 f"listen 127.0.0.1:{http_port} reuseport;",
                 "ssl_protocols TLSv1.2 TLSv1.3;", "thread_pool gatehouse_hash",
                 "thread_pool gatehouse_io threads=2;", f'gatehouse_config "{cli.config}";',
                 f'gatehouse_data_dir "{cli.data}";', "server-chain.pem",
                 f"return 301 https://$host:{port}$request_uri;", "limit_conn_status 429;",
                 "location = /.gatehouse/error {", "gatehouse_error;",
                 "large_client_header_buffers 6 16384;", "error_page 494 =431 /.gatehouse/error;",
                 f"listen 127.0.0.1:{metrics_port};", "gatehouse_metrics;",
                 "gatehouse_health;", "gatehouse_ready;"):
        assert line in text, line
    # nginx's buffers take every header block under max_header_bytes: no warning
    assert "large_client_header_buffers" not in p.stderr, p.stderr
    assert not re.search(r"^\s*user\s", text, re.M)
    assert "@" not in re.sub(r"#.*", "", text)      # every placeholder was replaced
    # without the plain-HTTP and metrics listeners there is no second server
    cli.ok("serve", "--check", "--listen", f"127.0.0.1:{port}", "--http-listen", "none",
           "--metrics-listen", "none", env=nginx_env.env)
    assert "listen 127.0.0.1:" not in conf.read_text().split("ssl http2 reuseport;", 1)[1]
    # the metrics listener is on by default, on loopback
    cli.ok("serve", "--check", "--listen", f"127.0.0.1:{port}", env=nginx_env.env)
    assert "listen 127.0.0.1:9145;" in conf.read_text()
    # with an upstream the dialects' prefixes go to it (test_gateway_serve.py has the rest)
    cli.config.write_text(CHEAP + "[server]\nupstream = http://10.0.0.5\n")
    cli.ok("serve", "--check", "--listen", f"127.0.0.1:{port}", env=nginx_env.env)
    assert "location ~* ^/redfish(?:/|$) {" in conf.read_text()
    cli.config.write_text(CHEAP)
    nginx_env.check()


def process_uids(pgid):
    """{pid: uid} of the live processes of a process group."""
    uids = {}
    for pid in H.pgroup_members(pgid):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        uids[pid] = int(re.search(r"^Uid:\s+(\d+)", status, re.M).group(1))
    return uids


def listening(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@needs_module
def test_serve_runs_nginx_and_stops_on_sigterm(ready):
    cli = ready
    nginx_env = NginxEnv(cli.base)
    port = H.free_port()
    log = open(cli.base / "serve.log", "wb")
    proc = subprocess.Popen([str(GATEHOUSE), "serve", "--data-dir", str(cli.data),
                             "--config", str(cli.config), "--listen", f"127.0.0.1:{port}",
                             "--http-listen", "none", "--metrics-listen", "none"],
                            stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                            start_new_session=True, env=nginx_env.env)
    try:
        H.wait_for(lambda: proc.poll() is not None or listening(port), 20, "serve listening")
        assert proc.poll() is None, (cli.base / "serve.log").read_text()
        # the master listens before it forks its workers
        H.wait_until(lambda: len(process_uids(proc.pid)) >= 2, 10)
        uids = process_uids(proc.pid)
        assert len(uids) >= 2 and 0 not in uids.values(), uids      # master and workers
        s = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}",
                            "-showcerts", "-servername", "localhost"],
                           input="", capture_output=True, text=True, timeout=20)
        subjects = re.findall(r"^\s*\d+ s:(.*)$", s.stdout, re.M)
        assert len(subjects) == 2, s.stdout
        assert "gatehouse CA" not in subjects[0] and "gatehouse CA" in subjects[1]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        H.wait_for(lambda: not process_uids(proc.pid), 5, "serve's processes gone")
        nginx_env.check()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        log.close()


RUN_DEFAULT = REPO / "scripts" / "run-default"


@pytest.mark.parametrize("args,match", [
    ([], "usage: scripts/run-default BUILD_DIR"),
    (["BUILD", "--bogus"], "unknown argument '--bogus'"),
    (["BUILD", "--listen"], "usage: scripts/run-default"),
    (["BUILD", "--listen", ""], "usage: scripts/run-default"),
    (["BUILD", "--http-listen"], "usage: scripts/run-default"),
    (["BUILD", "--metrics-listen"], "usage: scripts/run-default"),
])
def test_run_default_arguments(args, match, tmp_path):
    args = [str(BUILD) if a == "BUILD" else a for a in args]
    p = subprocess.run([str(RUN_DEFAULT), *args], capture_output=True, text=True,
                       cwd=tmp_path, timeout=30)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert match in p.stderr, p.stderr
    assert not (tmp_path / "var").exists()


@needs_module
def test_run_default_serves_on_the_ports_given(cli):
    """What `make run LISTEN=... HTTP_LISTEN=...` runs, in a directory of its
    own: ./var made once, the banner naming the true addresses and the data
    directory, the server answering there, and commands run in that directory
    finding ./var without --data-dir."""
    here = cli.base / "here"
    here.mkdir()
    os.chmod(here, 0o755)
    nginx_env = NginxEnv(cli.base)
    port, http_port, metrics_port = H.free_ports(3)
    out = open(cli.base / "run.out", "wb")
    proc = subprocess.Popen([str(RUN_DEFAULT), str(BUILD), "--listen", f"127.0.0.1:{port}",
                             "--http-listen", f"127.0.0.1:{http_port}",
                             "--metrics-listen", f"127.0.0.1:{metrics_port}"],
                            cwd=here, stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True,
                            env={**nginx_env.env, "GATEHOUSE_DATA_DIR": ""})
    try:
        assert H.wait_until(lambda: proc.poll() is not None or listening(port), 60) \
            is not None, (cli.base / "run.out").read_text()
        assert proc.poll() is None, (cli.base / "run.out").read_text()
        text = (cli.base / "run.out").read_text()
        assert f"gatehouse is starting on https://127.0.0.1:{port} (and " \
               f"http://127.0.0.1:{http_port} for the CA)." in text, text
        assert f"https://127.0.0.1:{port}/redfish/v1/Systems" in text
        assert f"metrics:   http://127.0.0.1:{metrics_port}/metrics" in text, text
        assert "8443" not in text and "8080" not in text and "9145" not in text, text
        assert "data dir:  var: gatehouse commands run in this directory use it" in text
        assert f"export GATEHOUSE_DATA_DIR={here}/var" in text
        password = (here / "var" / "initial-admin-password").read_text().strip()
        r = H.requests.get(f"https://127.0.0.1:{port}/redfish/v1/Systems",
                           auth=("admin", password), verify=str(here / "var/pki/ca.pem"),
                           timeout=10)
        assert r.status_code == 200, r.text
        r = H.requests.get(f"http://127.0.0.1:{http_port}/redfish/v1/", timeout=10,
                           allow_redirects=False)
        assert r.headers["Location"] == f"https://127.0.0.1:{port}/redfish/v1/"
        r = H.requests.get(f"http://127.0.0.1:{metrics_port}/healthz", timeout=10)
        assert r.status_code == 200, r.text
        p = subprocess.run([str(GATEHOUSE), "session", "list"], capture_output=True,
                           text=True, cwd=here, env=env_without_data_dir())
        assert p.returncode == 0, p.stderr
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        nginx_env.check()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        H.wait_until(lambda: not H.pgroup_members(proc.pid), 10)
        out.close()
