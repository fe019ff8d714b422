"""gatehouse_harness.py: start the real `gatehouse serve` (Debian's nginx with
the module) on loopback ports, talk to it over HTTPS, and stop it again.

Environment:
  GATEHOUSE_BUILD     directory holding `gatehouse` and the module (default: <repo>/build)
  GATEHOUSE_SANITIZE  "1" when that build has AddressSanitizer + UBSan: the
                      runtimes are preloaded into nginx and any report file
                      fails the test that owned the server
  GATEHOUSE_KEEP_TMP  "1" keeps the temporary directories for a post-mortem

Only processes this harness started are ever signalled, by PID or by the
process group it created for them (start_new_session=True).
"""

import base64
import glob
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import requests

# requests prefers these to a verify= given to a Session: never trust them here.
for _var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
    os.environ.pop(_var, None)

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("GATEHOUSE_BUILD") or REPO / "build").resolve()
GATEHOUSE = BUILD / "gatehouse"
MODULE = BUILD / "ngx_http_gatehouse_module.so"
SANITIZE = os.environ.get("GATEHOUSE_SANITIZE", "") == "1"
KEEP_TMP = os.environ.get("GATEHOUSE_KEEP_TMP", "") == "1"

START_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0

# Cheap argon2id parameters: the tests log in hundreds of times.
CHEAP_ARGON2 = {"argon2_t_cost": 1, "argon2_m_cost_kib": 1024, "argon2_parallelism": 1}

SESSIONS = "/redfish/v1/SessionService/Sessions"
ACCOUNTS = "/redfish/v1/AccountService/Accounts"
ROLES = "/redfish/v1/AccountService/Roles"


def free_ports(n):
    """n different ports the kernel just handed out on 127.0.0.1 (and took
    back). All n are held at once, so no two are the same."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def free_port():
    return free_ports(1)[0]


def make_base_dir():
    """A temporary directory the unprivileged server user can traverse."""
    base = tempfile.mkdtemp(prefix="gatehouse-it-", dir="/tmp")
    os.chmod(base, 0o755)
    return Path(base)


def new_password(prefix="Pw"):
    """A password no other test uses, easy to grep for in logs."""
    return f"{prefix}-{secrets.token_hex(10)}-x"


def sanitizer_env(log_dir):
    """Environment for a process that loads the sanitizer-built module."""
    libs = []
    for lib in ("libasan.so", "libubsan.so"):
        path = subprocess.run(["gcc", f"-print-file-name={lib}"], capture_output=True,
                              text=True, check=True).stdout.strip()
        if not os.path.isabs(path) or not os.path.exists(path):
            raise RuntimeError(f"gcc does not know where {lib} is (got {path!r})")
        libs.append(path)
    return {
        "LD_PRELOAD": " ".join(libs),
        "ASAN_OPTIONS": f"detect_leaks=0:abort_on_error=0:log_path={log_dir}/asan",
        "UBSAN_OPTIONS": f"print_stacktrace=1:log_path={log_dir}/ubsan",
    }


# What a sanitizer writes when it reports. UBSan loaded beside ASan runs as
# ASan's plug-in and ignores UBSAN_OPTIONS' log_path, so its reports land on
# stderr: stderr is searched as well as the report files.
SANITIZER_MARKS = ("runtime error:", "ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "SUMMARY: AddressSanitizer", "SUMMARY: UndefinedBehaviorSanitizer",
                   "ERROR: UndefinedBehaviorSanitizer")


def sanitizer_lines(text, context=12):
    """(line number, excerpt) around each sanitizer mark in text."""
    lines = text.splitlines()
    hits = [i for i, line in enumerate(lines) if any(m in line for m in SANITIZER_MARKS)]
    return [(i + 1, "\n".join(lines[max(0, i - 2):i + context])) for i in hits]


REPORT_STARTS = ("runtime error:", "ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                 "ERROR: UndefinedBehaviorSanitizer")


def _report_whole(text):
    """A sanitizer ends each report with a SUMMARY line: the text is whole
    once one follows the start of its last report."""
    last = max(text.rfind(m) for m in REPORT_STARTS)
    return text.endswith("\n") and (last < 0 or text.rfind("SUMMARY: ") > last)


def _read_report(path, timeout=5.0):
    """A report file's text once the sanitizer has finished writing it: a
    process still writing one (its first line written, the stack not yet)
    would leave the failure without the stack. Waits at most timeout
    seconds, then takes what is there."""
    wait_until(lambda: _report_whole(Path(path).read_text(errors="replace")), timeout, 0.05)
    return Path(path).read_text(errors="replace")


def sanitizer_reports(*dirs):
    """Every ASan/UBSan report file in dirs, as (path, text)."""
    found = []
    for d in dirs:
        for pattern in ("asan.*", "ubsan.*"):
            for path in sorted(glob.glob(os.path.join(str(d), pattern))):
                try:
                    text = _read_report(path)
                except OSError as e:
                    text = f"<unreadable: {e}>"
                found.append((path, text))
    return found


def ini_text(config):
    """{section: {key: value}} as INI."""
    lines = []
    for section, keys in config.items():
        lines.append(f"[{section}]")
        for k, v in keys.items():
            lines.append(f"{k} = {v}")
        lines.append("")
    return "\n".join(lines)


def merge_config(*configs):
    out = {}
    for c in configs:
        for section, keys in (c or {}).items():
            out.setdefault(section, {}).update(keys)
    return out


def pgroup_members(pgid):
    """PIDs of live processes whose process group is pgid (zombies excluded)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses
        rest = stat[stat.rfind(")") + 2:].split()
        if len(rest) >= 3 and int(rest[2]) == pgid and rest[0] != "Z":
            pids.append(int(entry))
    return pids


class SourceAdapter(requests.adapters.HTTPAdapter):
    """Connects from a given local address (127.0.0.x: a different client
    source to the server's per-address lockout and throttling)."""

    def __init__(self, source, **kw):
        self.source = source
        super().__init__(**kw)

    def init_poolmanager(self, *args, **kw):
        kw["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kw)


class PortTaken(RuntimeError):
    """serve could not bind a port another process took after free_ports."""


class CliError(AssertionError):
    pass


class Gatehouse:
    """One data directory and, when started, one `gatehouse serve`."""

    registry = []   # running instances, for failure reports (conftest)

    def __init__(self, base_dir, name, config=None, cheap_hashing=True):
        self.name = name
        self.dir = Path(base_dir) / name
        self.dir.mkdir(mode=0o755)
        os.chmod(self.dir, 0o755)
        self.data = self.dir / "data"
        self.config_path = self.dir / "gatehouse.conf"
        self.stderr_path = self.dir / "serve.stderr"
        self.stdout_path = self.dir / "serve.stdout"
        self.client_sessions = []
        # Reports of processes started before the data directory exists.
        self.san_dir = self.dir / "sanitizer"
        self.san_dir.mkdir()
        os.chmod(self.san_dir, 0o1777)
        # Each server's metrics listener on a port of its own: the default
        # (127.0.0.1:9145) would make two servers clash. A test turns it off
        # with {"server": {"metrics_listen": ""}} (write_config keeps that).
        self.port, self.http_port, self.metrics_port = free_ports(3)
        self.started_once = False
        self.config = merge_config(
            {"password": dict(CHEAP_ARGON2)} if cheap_hashing else {},
            # Tests log in far more often than a person: keep the defaults out of their way
            # unless a test is about them.
            {"sessions": {"max_sessions_per_account": 10000}},
            {"throttle": {"throttle_failures": 0}},
            config)
        self.proc = None
        # start() waits for this open path to answer 200 (a gateway's test may
        # name one its upstream does not answer)
        self.ready_path = "/redfish/v1/"
        # more ASAN_OPTIONS for the sanitizer build (a test measuring memory)
        self.asan_options = ""
        self.admin_password = new_password("Admin")
        self.secrets = set()      # every password and token used against this server
        self.secrets.add(self.admin_password)
        self.users = {"admin": self.admin_password}
        self._stderr = None
        self._stdout = None
        self.owner_uid = None
        self.owner_gid = None
        self.cli_sanitizer_hits = []
        self.reported = set()     # sanitizer reports already turned into a failure

    # ---------------------------------------------------------------- set-up

    @property
    def url(self):
        return f"https://127.0.0.1:{self.port}"

    @property
    def http_url(self):
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def metrics_url(self):
        return f"http://127.0.0.1:{self.metrics_port}"

    @property
    def ca(self):
        return str(self.data / "pki" / "ca.pem")

    @property
    def audit_log(self):
        return self.data / "audit.log"

    def write_config(self):
        config = self.config
        if "metrics_listen" not in config.get("server", {}):
            config = merge_config(
                config, {"server": {"metrics_listen": f"127.0.0.1:{self.metrics_port}"}})
        self.config_path.write_text(ini_text(config))
        os.chmod(self.config_path, 0o644)

    def secret_file(self, text, name=None):
        """A file holding one password, readable only by root and the data
        directory's owner (the CLI may read it after dropping privileges)."""
        path = self.dir / (name or f"pw-{secrets.token_hex(6)}")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text + "\n")
        if self.owner_uid is not None:
            os.chown(path, self.owner_uid, self.owner_gid)
        return str(path)

    def env(self, sanitizer_dir=None):
        env = dict(os.environ)
        for k in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "LD_PRELOAD", "ASAN_OPTIONS",
                  "UBSAN_OPTIONS"):
            env.pop(k, None)
        if SANITIZE:
            env.update(sanitizer_env(sanitizer_dir or self.san_dir))
            if self.asan_options:
                env["ASAN_OPTIONS"] += ":" + self.asan_options
        return env

    def init(self):
        self.write_config()
        pwfile = self.secret_file(self.admin_password, "admin.pw")
        self.cli("init", "--admin-password-file", pwfile, timeout=120)
        st = os.stat(self.data)
        self.owner_uid, self.owner_gid = st.st_uid, st.st_gid
        assert os.path.exists(self.ca), f"init made no CA at {self.ca}"
        return self

    def cli(self, *args, input=None, check=True, timeout=60):
        """Run `gatehouse ARGS --data-dir DATA --config CONF`; returns the
        CompletedProcess (text). check: raise CliError on a non-zero exit."""
        cmd = [str(GATEHOUSE), *args, "--data-dir", str(self.data),
               "--config", str(self.config_path)]
        san_dir = self.data if self.data.exists() else self.san_dir
        p = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout,
                           env=self.env(san_dir))
        for _, excerpt in sanitizer_lines(p.stderr):
            self.cli_sanitizer_hits.append((" ".join(cmd[1:3]), excerpt))
        if check and p.returncode != 0:
            raise CliError(f"{' '.join(cmd[1:])} exited {p.returncode}\n"
                           f"stdout: {p.stdout}\nstderr: {p.stderr}")
        return p

    def add_user(self, name, role="ReadOnly", password=None):
        """`gatehouse user add`; returns the password."""
        password = password or new_password(name)
        self.secrets.add(password)
        self.cli("user", "add", name, "--role", role, "--password-file", self.secret_file(password))
        self.users[name] = password
        return password

    # ------------------------------------------------------------ processes

    def start(self, timeout=START_TIMEOUT):
        """Start serving and wait for the first 200. A port handed out by
        free_ports can be taken by another process before nginx binds it:
        on the first start only, that is retried on new ports."""
        for attempt in range(3):
            try:
                return self._start(timeout)
            except PortTaken:
                if self.started_once or attempt == 2:
                    raise
                self.port, self.http_port, self.metrics_port = free_ports(3)

    # An nginx configuration of the test's own instead of the one `gatehouse
    # serve` writes: a function of this instance returning its text (see
    # nginx_conf_paths), run with Debian's nginx as "your own nginx" would be.
    nginx_conf = None

    def nginx_conf_paths(self):
        """What an nginx configuration of a test's own needs: the module, the
        prefix directory (temp paths, pid), the user the workers run as (the
        data directory's owner), the data directory, configuration and CA."""
        import pwd
        prefix = self.dir / "nginx"
        for sub in ("", "tmp"):
            (prefix / sub).mkdir(exist_ok=True)
            os.chown(prefix / sub, self.owner_uid, self.owner_gid)
        return {"module": str(MODULE), "prefix": str(prefix), "data": str(self.data),
                "config": str(self.config_path), "port": self.port,
                "user": pwd.getpwuid(self.owner_uid).pw_name}

    def _command(self):
        if self.nginx_conf is not None:
            conf = self.dir / "nginx.conf"
            conf.write_text(self.nginx_conf(self))
            return ["/usr/sbin/nginx", "-p", str(self.dir / "nginx"), "-c", str(conf),
                    "-g", "daemon off;"]
        return [str(GATEHOUSE), "serve", "--data-dir", str(self.data),
                "--config", str(self.config_path),
                "--listen", f"127.0.0.1:{self.port}",
                "--http-listen", f"127.0.0.1:{self.http_port}"]

    def _start(self, timeout):
        assert self.proc is None, "already started"
        self.write_config()
        stderr_start = len(self.stderr_text())
        self._stderr = open(self.stderr_path, "ab")
        self._stdout = open(self.stdout_path, "ab")
        cmd = self._command()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._stdout,
                                     stderr=self._stderr, env=self.env(self.data),
                                     start_new_session=True)
        Gatehouse.registry.append(self)
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                self._reap()
                own = self.stderr_text()[stderr_start:]
                # nginx's bind, or serve's own check before it (cli_guard.c)
                taken = "Address already in use" in own or " is already in use: " in own
                error = PortTaken if taken else RuntimeError
                raise error(f"gatehouse serve exited {rc} while starting\n"
                            f"{self.stderr_tail()}")
            try:
                r = requests.get(self.url + self.ready_path, verify=self.ca, timeout=2)
                if r.status_code == 200:
                    self.started_once = True
                    return self
                last = f"status {r.status_code}"
            except (requests.ConnectionError, requests.Timeout, OSError) as e:
                last = repr(e)
            time.sleep(0.1)
        self.kill9()
        raise RuntimeError(f"gatehouse did not answer GET {self.ready_path} with 200 within "
                           f"{timeout}s (last: {last})\n{self.stderr_tail()}")

    def _wait_group_gone(self, pgid, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not pgroup_members(pgid):
                return True
            time.sleep(0.05)
        return False

    def _reap(self):
        if self in Gatehouse.registry:
            Gatehouse.registry.remove(self)
        for f in (self._stderr, self._stdout):
            if f is not None:
                f.close()
        self._stderr = self._stdout = None
        self.proc = None

    def stop(self):
        """SIGTERM the master, wait, then SIGKILL whatever is left of the
        process group. Returns the master's exit status (None if killed)."""
        if self.proc is None:
            return None
        pgid = self.proc.pid          # start_new_session: the group is the master's
        rc = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                rc = None
        else:
            rc = self.proc.returncode
        if not self._wait_group_gone(pgid, 5):
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._wait_group_gone(pgid, 10)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._reap()
        return rc

    def kill9(self):
        """SIGKILL the whole nginx tree (master and workers) at once."""
        if self.proc is None:
            return
        pgid = self.proc.pid
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)
        assert self._wait_group_gone(pgid, 10), \
            f"processes of group {pgid} survived SIGKILL: {pgroup_members(pgid)}"
        self._reap()

    def restart(self):
        self.stop()
        return self.start()

    def worker_pids(self):
        return [p for p in pgroup_members(self.proc.pid) if p != self.proc.pid]

    # ------------------------------------------------------------------ I/O

    def stderr_text(self):
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def stderr_tail(self, n=40):
        lines = self.stderr_text().splitlines()
        return "---- serve stderr (last %d lines) ----\n%s" % (n, "\n".join(lines[-n:]))

    def session(self, auth=None, token=None, source=None):
        """A requests.Session that verifies the server against DATA/pki/ca.pem,
        its connections from the local address source (e.g. "127.0.0.2") when
        given. One a test keeps (a login it hands on) is closed by
        close_sessions() when the server is finished with, so no socket is left
        to the garbage collector (an unclosed socket is a ResourceWarning, an
        error here)."""
        s = requests.Session()
        self.client_sessions.append(s)
        s.verify = self.ca
        s.trust_env = False
        if source is not None:
            s.mount("https://", SourceAdapter(source))
            s.mount("http://", SourceAdapter(source))
        if auth is not None:
            s.auth = auth
            self.secrets.add(auth[1])
        if token is not None:
            s.headers["X-Auth-Token"] = token
        return s

    def get(self, path, **kw):
        kw.setdefault("timeout", 10)
        with self.session() as s:
            return s.get(self.url + path, **kw)

    def request(self, method, path, source=None, **kw):
        kw.setdefault("timeout", 10)
        with self.session(source=source) as s:
            return s.request(method, self.url + path, **kw)

    def login(self, user="admin", password=None, expect=201):
        """POST the Sessions collection. Returns (token, location, body, response)."""
        password = self.users.get(user) if password is None else password
        self.secrets.add(password)
        r = self.request("POST", SESSIONS, json={"UserName": user, "Password": password})
        if expect is not None:
            assert r.status_code == expect, \
                f"login {user}: expected {expect}, got {r.status_code} {r.text[:500]}"
        token = r.headers.get("X-Auth-Token")
        if token:
            self.secrets.add(token)
        body = None
        if r.headers.get("Content-Type", "").startswith("application/json") and r.content:
            body = r.json()
        return token, r.headers.get("Location"), body, r

    def logout(self, token, location):
        return self.request("DELETE", location, headers={"X-Auth-Token": token})

    def admin(self):
        """A requests.Session with the admin's Basic credentials."""
        return self.session(auth=("admin", self.admin_password))

    def sessions_server_side(self):
        """Session member paths as the admin sees them in the collection."""
        with self.admin() as s:
            r = s.get(self.url + SESSIONS, timeout=10)
            assert r.status_code == 200, r.text
            return {m["@odata.id"] for m in r.json()["Members"]}

    def token_status(self, token, path="/redfish/v1/Systems"):
        return self.get(path, headers={"X-Auth-Token": token}).status_code

    def wait_changes_applied(self, timeout=10.0):
        """Wait until the running server has applied every change made to
        the store so far (an account added or changed, a lock, a setting):
        what no request shows directly. The workers apply the store's change
        log in order, into the block they share (docs/design.md, "Change
        log"), so this logs one more change whose effect a request does show,
        `gatehouse session revoke` of a session of the admin's, and waits
        until that session's token is refused."""
        token, _, body, _ = self.login()
        self.cli("session", "revoke", body["Id"])
        wait_for(lambda: self.token_status(token) == 401, timeout,
                 "the server applied the change log (a revoked session still works)")

    # -------------------------------------------------------- secret checks

    def secret_forms(self):
        """Every secret used, and the forms it could leak in: raw, SHA-256 hex
        (tokens are stored hashed), and the Basic header's base64."""
        forms = {}
        for s in self.secrets:
            if not s or len(s) < 8:   # too short to grep for without false alarms
                continue
            forms[s] = s
            forms[hashlib.sha256(s.encode()).hexdigest()] = f"sha256({s})"
        for user, pw in self.users.items():
            b = base64.b64encode(f"{user}:{pw}".encode()).decode()
            forms[b] = f"base64({user}:{pw})"
        return forms

    def leaked_secrets(self):
        """[(file, what)] for each secret form found in the audit log or stderr."""
        found = []
        texts = {"serve stderr": self.stderr_text(), "serve stdout": ""}
        try:
            texts["serve stdout"] = self.stdout_path.read_text(errors="replace")
        except OSError:
            pass
        try:
            texts["audit log"] = self.audit_log.read_text(errors="replace")
        except OSError:
            texts["audit log"] = ""
        for where, text in texts.items():
            low = text.lower()
            for form, what in self.secret_forms().items():
                if form in text or form.lower() in low:
                    found.append((where, what))
        return found

    def sanitizer_reports(self):
        """Report files, sanitizer output on the server's stderr, and on the
        command line's, as (where, text); where is unique per report."""
        found = sanitizer_reports(self.data, self.san_dir)
        found += [(f"{self.stderr_path}:{n}", e) for n, e in sanitizer_lines(self.stderr_text())]
        found += [(f"stderr of gatehouse {what} (#{i})", e)
                  for i, (what, e) in enumerate(self.cli_sanitizer_hits)]
        return found

    def close_sessions(self):
        """Close every requests.Session that session() made."""
        while self.client_sessions:
            self.client_sessions.pop().close()

    def cleanup(self):
        if not KEEP_TMP:
            shutil.rmtree(self.dir, ignore_errors=True)


def error_message_ids(body):
    """MessageIds of a Redfish error body's @Message.ExtendedInfo."""
    return [m.get("MessageId", "") for m in body["error"].get("@Message.ExtendedInfo", [])]


def assert_redfish_error(r, status, message):
    """r is a Redfish error with this status and a Base registry message whose
    MessageId ends in `.message` (Base.1.x.message)."""
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text[:600]}"
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    body = r.json()
    assert "error" in body, body
    err = body["error"]
    assert isinstance(err.get("code"), str) and err["code"], body
    assert isinstance(err.get("message"), str) and err["message"], body
    ids = error_message_ids(body)
    assert any(i.startswith("Base.") and i.endswith("." + message) for i in ids), \
        f"expected Base.*.{message} in {ids}: {json.dumps(body)[:600]}"
    return body


def wait_until(pred, timeout, interval=0.005):
    """Poll pred until true; returns the seconds it took, or None on timeout."""
    t0 = time.monotonic()
    while True:
        if pred():
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            return None
        time.sleep(interval)


def wait_for(pred, timeout, what, interval=0.01):
    """Poll pred until true and return the seconds it took; fail the test,
    saying what was awaited, when timeout seconds pass first. A test waits
    for the condition it needs this way, never for a fixed sleep."""
    took = wait_until(pred, timeout, interval)
    if took is None:
        raise AssertionError(f"{what}: not within {timeout} s")
    return took


# The product's promise (docs/design.md, "Change log" and "Rules the design
# rests on"): a change made by `gatehouse user ...` or `gatehouse session
# revoke` reaches every worker within 100 ms. A test holds the server to it
# with this margin added, for a loaded machine and the sanitizer build.
CHANGE_PROMISE = 0.1
CHANGE_MARGIN = 0.4 if SANITIZE else 0.2

# A session idle for its timeout ends (docs/gatehouse.conf.example). Times are
# whole seconds, so a test allows a second of rounding beyond the timeout and
# this margin on top: the upkeep that ends idle sessions runs once a second,
# and a loaded machine or the sanitizer build runs it late.
IDLE_MARGIN = 5.0 if SANITIZE else 3.0


def session_listed(gh, session_id):
    """Whether the administrator's list of sessions, which uses none of
    them, still holds session_id (of any dialect)."""
    return any(m.rsplit("/", 1)[-1] == session_id for m in gh.sessions_server_side())


def obeyed_at_once(check, timeout=10.0):
    """check() makes a request and is true once the server obeys a change
    that was in the store before this call. Polls it until true (failing
    after timeout seconds) and asserts the promise above: no request sent
    later than CHANGE_PROMISE + CHANGE_MARGIN after this call was answered
    as before the change. A request is answered after it is sent, so its
    start is a lower bound on how long the server had not obeyed; the time
    of the first obeyed answer also holds the request's own round trip.
    Returns the seconds until the first obeyed answer, for the record."""
    t0 = time.monotonic()
    stale = []        # start of each request answered as before the change

    def poll():
        start = time.monotonic() - t0
        if check():
            return True
        stale.append(start)
        return False

    took = wait_for(poll, timeout, "the server obeyed the change", interval=0.005)
    bound = CHANGE_PROMISE + CHANGE_MARGIN
    late = [s for s in stale if s > bound]
    assert not late, (f"a request sent {late[-1]:.3f} s after the change was answered as "
                      f"before it (promise {CHANGE_PROMISE} s, margin {CHANGE_MARGIN} s)")
    return took
