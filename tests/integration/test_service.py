"""gatehouse as a systemd service (docs/systemd.md): the unit file as systemd
reads it and rates its sandbox; `gatehouse serve` run the way the unit runs
it (an unprivileged user, no capability, no new privileges) and held to the
unit's system call filter, address families, W^X memory and writable paths;
and `gatehouse serve --reload`, the unit's ExecReload: the sessions of every
dialect, the credential cache and the failed-login counts survive it, no
request fails across it, a changed value takes effect, and a configuration
that fails is refused while the server goes on.

No systemd runs here (no PID 1 manager to start the unit with), so the
sandbox is checked in two halves: systemd-analyze reads the unit, and strace
records everything the server and its reload do, which the unit's settings
must allow."""

import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from functools import lru_cache

import pytest
import requests

import gatehouse_harness as H
from gatehouse_harness import REPO, wait_for
from ovirt_util import API as OVIRT_API, bearer, get_token
from test_ovirt_persistent import open_session, with_cookie
from test_powerstore import LOGIN as PS_LOGIN, login as ps_login
from test_proxmox import raw_login

UNIT = REPO / "packaging" / "gatehouse.service"
SERVICE_ARGS = "--data-dir /var/lib/gatehouse --config /etc/gatehouse/gatehouse.conf"
PVE_VERSION = "/api2/json/version"
# How long --reload waits for a new generation of workers (cli_reload.h).
RELOAD_WAIT = 60


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)


def unit_values(key):
    """Every value of key= in the unit, in order."""
    return [line.split("=", 1)[1].strip() for line in UNIT.read_text().splitlines()
            if line.startswith(key + "=")]


# ------------------------------------------------------------------ the unit

def test_unit_runs_serve_for_the_packaged_layout():
    assert unit_values("ExecStart") == [f"/usr/bin/gatehouse serve {SERVICE_ARGS}"]
    assert unit_values("ExecReload") == [f"/usr/bin/gatehouse serve --reload {SERVICE_ARGS}"]
    assert unit_values("User") == ["gatehouse"] and unit_values("Group") == ["gatehouse"]
    assert unit_values("Type") == ["exec"]
    assert unit_values("KillSignal") == ["SIGQUIT"] and unit_values("KillMode") == ["mixed"]
    assert unit_values("Restart") == ["on-failure"]
    assert unit_values("ReadWritePaths") == ["/var/lib/gatehouse"]
    assert unit_values("CapabilityBoundingSet") == [""]


def test_unit_verifies(tmp_path):
    """systemd-analyze verify, offline. It wants ExecStart's binary to exist,
    so the copy it reads runs the build's; the man pages Documentation= names
    are looked up in the tree's man/ when it has them (MANPATH), else that
    one check is left out (--man=no)."""
    unit = tmp_path / "gatehouse.service"
    unit.write_text(UNIT.read_text().replace("/usr/bin/gatehouse", str(H.GATEHOUSE)))
    env = dict(os.environ)
    cmd = ["systemd-analyze", "verify", "--no-pager", str(unit)]
    pages = {"man8": REPO / "man" / "gatehouse.8", "man5": REPO / "man" / "gatehouse.conf.5"}
    if all(p.exists() for p in pages.values()):
        for section, page in pages.items():
            (tmp_path / "man" / section).mkdir(parents=True)
            shutil.copy(page, tmp_path / "man" / section)
        env["MANPATH"] = str(tmp_path / "man")
    else:
        cmd.insert(2, "--man=no")
    p = run(cmd, env=env)
    assert p.returncode == 0 and p.stdout == "" and p.stderr == "", \
        f"{' '.join(cmd)} exited {p.returncode}:\n{p.stdout}{p.stderr}"


def test_unit_sandbox_exposure(record_property):
    """systemd-analyze security rates the unit: below 2.0 ("OK")."""
    p = run(["systemd-analyze", "security", "--offline=yes", "--no-pager", str(UNIT)])
    assert p.returncode == 0, p.stderr
    m = re.search(r"Overall exposure level for gatehouse\.service: ([0-9.]+) (\S+)", p.stdout)
    assert m, p.stdout[-2000:]
    exposure = float(m.group(1))
    open_items = [line.split()[1] for line in p.stdout.splitlines() if line.startswith("✗")]
    record_property("exposure", exposure)
    print(f"systemd-analyze security: exposure {exposure} {m.group(2)}; "
          f"not closed: {', '.join(open_items)}")
    assert exposure < 2.0, p.stdout


# ------------------------------------------------- serve inside the sandbox

@lru_cache(maxsize=None)
def syscall_group(name):
    """The system calls of a systemd filter group, nested groups expanded."""
    out = run(["systemd-analyze", "syscall-filter", "--no-pager", name]).stdout
    calls = set()
    for line in out.splitlines()[1:]:
        line = line.strip()
        if line and not line.startswith("#"):
            calls |= syscall_group(line) if line.startswith("@") else {line}
    return frozenset(calls)


def unit_syscalls():
    """What the unit's SystemCallFilter= lines allow, read in order as systemd
    reads them: the first is an allow list, a ~ line takes calls out of it, a
    later plain line puts calls back."""
    allowed = set()
    for value in unit_values("SystemCallFilter"):
        names = set()
        for word in value.lstrip("~").split():
            names |= syscall_group(word) if word.startswith("@") else {word}
        allowed = allowed - names if value.startswith("~") else allowed | names
    assert allowed, "the unit has no SystemCallFilter"
    return allowed


TRACE_LINE = re.compile(r"^\d+\s+([a-z0-9_]+)\((.*)$")
WRITING = re.compile(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC")
FAILED = re.compile(r"= -1 E[A-Z]+ ")


def trace_calls(paths):
    """{system call: [its lines]} from strace -f output files."""
    calls = {}
    for path in paths:
        for line in path.read_text(errors="replace").splitlines():
            m = TRACE_LINE.match(line)
            if m:
                calls.setdefault(m.group(1), []).append(line)
    return calls


class SandboxedGatehouse(H.Gatehouse):
    """serve started as the unit starts it: as the data directory's owner,
    not root, with no_new_privs and an empty capability bounding set
    (setpriv), every system call recorded (strace -f, run as that user too),
    and stopped with the unit's KillSignal, SIGQUIT to the master."""

    def wrapper(self, name):
        user = pwd.getpwuid(self.owner_uid).pw_name
        trace = self.dir / "trace"
        trace.mkdir(exist_ok=True)
        os.chown(trace, self.owner_uid, self.owner_gid)
        return ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups",
                "--no-new-privs", "--bounding-set=-all", "--inh-caps=-all", "--",
                "strace", "-f", "-qq", "-o", str(trace / name)]

    def _command(self):
        return self.wrapper("serve") + super()._command()

    def reload(self):
        cmd = self.wrapper("reload") + [
            str(H.GATEHOUSE), "serve", "--reload", "--data-dir", str(self.data),
            "--config", str(self.config_path), "--listen", f"127.0.0.1:{self.port}",
            "--http-listen", f"127.0.0.1:{self.http_port}"]
        p = run(cmd, env=self.env(self.data))
        assert p.returncode == 0, p.stderr

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            master = int((self.data / "run" / "nginx.pid").read_text())
            os.kill(master, signal.SIGQUIT)
            self.proc.wait(H.STOP_TIMEOUT * 4)    # strace ends with the last process
        return super().stop()


@pytest.mark.parametrize("store", ["embedded", "redis"])
def test_serve_within_the_unit_sandbox(base_dir, request, store):
    """Everything the server and its reload do, as the unit runs them, is
    allowed by the unit: its system calls by SystemCallFilter, its sockets
    by RestrictAddressFamilies, its memory by MemoryDenyWriteExecute (no
    mapping both writable and executable, no mprotect to executable), its
    writes by ProtectSystem=strict + ReadWritePaths (the data directory), and
    it reads in /proc only what ProcSubset=pid leaves. With the embedded
    store, and with a Redis store (docs/scale-out.md)."""
    config = None
    if store == "redis":
        config = {"store": request.getfixturevalue("redis").store_keys()}
    gh = SandboxedGatehouse(base_dir, f"sandboxed-{store}", config=config)
    gh.init()
    try:
        gh.start(timeout=120)
        token, location, _, _ = gh.login()
        assert gh.token_status(token) == 200
        assert gh.request("GET", OVIRT_API, headers=bearer(get_token(gh))).status_code == 200
        s, _ = ps_login(gh)
        assert s.get(gh.url + PS_LOGIN, params={"select": "id"}, timeout=10).status_code == 200
        assert raw_login(gh).status_code == 200
        gh.login(password="wrong-password", expect=401)
        gh.reload()
        with gh.admin() as admin:
            assert admin.get(gh.url + "/redfish/v1/Systems", timeout=10).status_code == 200
        assert gh.logout(token, location).status_code == 204
        gh.close_sessions()
        gh.stop()
        calls = trace_calls(sorted((gh.dir / "trace").iterdir()))
        assert "execve" in calls and "accept4" in calls, sorted(calls)
        if config is not None:      # the store's connections were traced too
            port = re.search(r":(\d+)", config["store"]["url"].rsplit("@", 1)[-1]).group(1)
            assert any(f"htons({port})" in line for line in calls.get("connect", [])), \
                calls.get("connect")

        refused = sorted(set(calls) - unit_syscalls())
        assert not refused, "calls outside SystemCallFilter:\n" + "\n".join(
            calls[c][0][:300] for c in refused)

        families = {re.match(r"(AF_\w+)", line.split("(", 1)[1]).group(1)
                    for c in ("socket", "socketpair") for line in calls.get(c, [])}
        assert families <= set(unit_values("RestrictAddressFamilies")[0].split()), families

        wx = [line for c in ("mmap", "mprotect", "pkey_mprotect") for line in calls.get(c, [])
              if "PROT_EXEC" in line and ("PROT_WRITE" in line or c != "mmap")]
        assert not wx, wx

        # A call that failed here wrote nothing (a mkdir of a directory
        # that exists: the sanitizer runtime's for its log path).
        data = str(gh.data) + "/"
        written = {p for c in ("open", "openat", "creat", "mkdir", "mkdirat", "rename",
                               "renameat", "renameat2", "unlink", "unlinkat", "rmdir",
                               "chmod", "fchmodat", "link", "linkat", "symlink", "symlinkat",
                               "truncate")
                   for line in calls.get(c, [])
                   if (c not in ("open", "openat") or WRITING.search(line))
                   and not FAILED.search(line)
                   for p in re.findall(r'"(/[^"]*)"', line)}
        outside = sorted(p for p in written if not p.startswith(data) and p != "/dev/null")
        assert not outside, f"written outside {data}: {outside}"

        proc = {re.sub(r"^/proc/(\d+|self|thread-self)(/|$)", "/proc/PID/", p)
                for c in ("open", "openat", "readlink", "readlinkat", "newfstatat", "statx",
                          "access", "faccessat2")
                for line in calls.get(c, []) for p in re.findall(r'"(/proc/[^"]*)"', line)}
        # glibc's malloc reads the overcommit policy and goes on without it
        beyond = sorted(p for p in proc if not p.startswith("/proc/PID/")
                        and p != "/proc/sys/vm/overcommit_memory")
        assert not beyond, beyond
        assert not gh.sanitizer_reports(), gh.sanitizer_reports()
        assert not gh.leaked_secrets(), gh.leaked_secrets()
    finally:
        gh.close_sessions()
        gh.stop()
    gh.cleanup()


# ------------------------------------------------------------------ reload

def reload(gh, check=True):
    """`gatehouse serve --reload` with the options the server was started with."""
    return gh.cli("serve", "--reload", "--listen", f"127.0.0.1:{gh.port}",
                  "--http-listen", f"127.0.0.1:{gh.http_port}", check=check)


class Load:
    """A little load while something happens: a few threads, each sending
    requests one after another, every one on a new connection, until
    stopped. Keeps (start, end, status or error) of every request."""

    def __init__(self, gh, requests_):
        self.gh, self.requests, self.results = gh, requests_, []
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(3)]

    def run(self, i):
        while not self.stopping.is_set():
            for method, path, headers in self.requests[i % len(self.requests):] + \
                    self.requests[:i % len(self.requests)]:
                t0 = time.monotonic()
                try:
                    r = requests.request(method, self.gh.url + path, verify=self.gh.ca,
                                         headers={"Connection": "close", **headers},
                                         timeout=30)
                    outcome = r.status_code
                except requests.RequestException as e:
                    outcome = repr(e)
                self.results.append((t0, time.monotonic(), outcome, path))

    def __enter__(self):
        for t in self.threads:
            t.start()
        wait_for(lambda: len(self.results) >= 6, 60, "the load's first requests")
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for t in self.threads:
            t.join(60)

    def during(self, start, end):
        return [r for r in self.results if r[0] < end and r[1] > start]


def audit_logins(gh, user):
    """Password checks that let user in: the audit log's `login` records
    (a credential the cache already holds is let in without one)."""
    records = [json.loads(line) for line in gh.audit_log.read_text().splitlines()]
    return sum(1 for r in records if r.get("event") == "login" and r.get("user") == user)


def session_timeout(gh):
    with gh.admin() as s:
        r = s.get(gh.url + "/redfish/v1/SessionService", timeout=10)
        assert r.status_code == 200, r.text
        return r.json()["SessionTimeout"]


def test_reload_keeps_sessions_cache_and_counts(make_server):
    gh = make_server(config={"lockout": {"lockout_threshold": 3,
                                         "lockout_account_threshold": 1000},
                             "sessions": {"session_timeout": 1800}})
    gh.add_user("cached", "ReadOnly")
    gh.add_user("victim", "ReadOnly")
    gh.add_user("control", "ReadOnly")
    cached = ("cached", gh.users["cached"])

    # A session of every dialect, each shown to work.
    rf_token, rf_location, _, _ = gh.login()
    ov_token = get_token(gh)
    ov_cookie, _ = open_session(gh)
    ps, ps_ls = ps_login(gh)
    r = raw_login(gh)
    assert r.status_code == 200, r.text
    pve_ticket = r.json()["data"]["ticket"]

    def every_session_works():
        assert gh.token_status(rf_token) == 200
        assert gh.request("GET", OVIRT_API, headers=bearer(ov_token)).status_code == 200
        assert with_cookie(gh, ov_cookie).status_code == 200
        r = ps.get(gh.url + PS_LOGIN, params={"select": "id"}, timeout=10)
        assert r.status_code == 200 and r.json() == [{"id": ps_ls["id"]}], r.text
        r = gh.request("GET", PVE_VERSION, headers={"Cookie": f"PVEAuthCookie={pve_ticket}"})
        assert r.status_code == 200, r.text

    every_session_works()
    # A Basic credential checked once, then taken from the cache.
    for _ in range(2):
        assert gh.request("GET", "/redfish/v1/Systems", auth=cached).status_code == 200
    assert audit_logins(gh, "cached") == 1
    # Two failed logins of three that lock victim (from this address).
    for i in range(2):
        gh.login("victim", password=f"Wrong-victim-{i}", expect=401)
    assert session_timeout(gh) == 1800

    # Reloads under a little load, the last with a changed [sessions] value.
    workers = set(gh.worker_pids())
    load_requests = [("GET", "/redfish/v1/Systems", {"X-Auth-Token": rf_token}),
                     ("GET", "/redfish/v1/Managers", {"X-Auth-Token": rf_token}),
                     ("GET", OVIRT_API, bearer(ov_token))]
    with Load(gh, load_requests) as load:
        spans = []
        for timeout in (1800, 1800, 1200):
            gh.config["sessions"]["session_timeout"] = timeout
            gh.write_config()
            t0 = time.monotonic()
            p = reload(gh)
            spans.append((t0, time.monotonic()))
            assert "reloaded" in p.stderr, p.stderr
        n = len(load.results)
        wait_for(lambda: len(load.results) >= n + 6, 60, "requests after the reloads")
    failed = [r for r in load.results if r[2] != 200]
    assert not failed, f"{len(failed)} of {len(load.results)} requests failed: {failed[:5]}"
    assert sum(len(load.during(*s)) for s in spans) > 0, "no request was sent during a reload"
    # The workers of before the reloads finish what they hold, then leave.
    wait_for(lambda: not set(gh.worker_pids()) & workers, 30,
             "the workers of before the reloads left")
    assert "reconfiguring" in gh.stderr_text()
    # No worker left with a request unanswered (thread.c's hold).
    assert "left in connection" not in gh.stderr_text()

    every_session_works()
    assert session_timeout(gh) == 1200
    # The cache kept the credential: let in again without a password check.
    assert gh.request("GET", "/redfish/v1/Systems", auth=cached).status_code == 200
    assert audit_logins(gh, "cached") == 1
    # The count went on from two: a third failure locks victim, whose right
    # password is then refused; control's single failure locks nothing.
    gh.login("victim", password="Wrong-victim-2", expect=401)
    gh.login("victim", expect=401)
    gh.login("control", password="Wrong-control-0", expect=401)
    gh.login("control", expect=201)
    assert gh.logout(rf_token, rf_location).status_code == 204


def test_reload_keeps_the_block_when_its_limits_change(make_server):
    """max_sessions and credcache_entries size the shared block; a reload
    keeps the block it has (and says so) rather than start an empty one."""
    gh = make_server(config={"sessions": {"max_sessions": 1000}})
    token = gh.login()[0]
    gh.config["sessions"]["max_sessions"] = 1001
    gh.config.setdefault("credcache", {})["credcache_entries"] = 8192
    gh.write_config()
    reload(gh)
    wait_for(lambda: "the reload keeps the shared block" in gh.stderr_text(), 10,
             "the notice that the block keeps its limits")
    assert "room for 1000 sessions and 4096 cached credentials" in gh.stderr_text()
    assert gh.token_status(token) == 200
    gh.restart()
    assert gh.token_status(token) == 200


def test_reload_refuses_what_fails_and_changes_nothing(fresh):
    gh = fresh
    token = gh.login()[0]
    conf = gh.data / "run" / "nginx.conf"
    before = conf.read_bytes()
    workers = set(gh.worker_pids())

    # A mistake in gatehouse.conf, named with its line.
    gh.config.setdefault("sessions", {})["no_such_key"] = "1"
    gh.write_config()
    p = reload(gh, check=False)
    assert p.returncode == 1, p.stderr
    assert "no_such_key" in p.stderr and "nothing was reloaded" in p.stderr, p.stderr
    del gh.config["sessions"]["no_such_key"]

    # One only nginx's own test finds: the module refuses a resource tree
    # with two paths that differ only in case.
    tree = gh.dir / "tree"
    for name in ("Case", "case"):
        (tree / "redfish" / "v1" / name).mkdir(parents=True)
        (tree / "redfish" / "v1" / name / "index.json").write_text('{"a": 1}\n')
    for d, _, files in os.walk(tree):
        os.chmod(d, 0o755)
        for f in files:
            os.chmod(os.path.join(d, f), 0o644)
    gh.config.setdefault("server", {})["data_tree"] = str(tree)
    gh.write_config()
    p = reload(gh, check=False)
    assert p.returncode == 1, p.stderr
    assert "differ only in case" in p.stderr and "fails nginx's test" in p.stderr, p.stderr

    # A pid file that names another process than the lock's holder is never
    # signalled (left from another run, or a server still starting).
    del gh.config["server"]["data_tree"]
    gh.write_config()
    pid_file = gh.data / "run" / "nginx.pid"
    master = pid_file.read_text()
    pid_file.write_text(f"{os.getpid()}\n")
    p = reload(gh, check=False)
    pid_file.write_text(master)
    assert p.returncode == 1, p.stderr
    assert "does not name the nginx master" in p.stderr, p.stderr

    assert conf.read_bytes() == before
    assert not (gh.data / "run" / "nginx.conf.reload").exists()
    assert set(gh.worker_pids()) == workers, "nginx was signalled"
    assert gh.token_status(token) == 200


def test_reload_never_signals_a_reused_pid(make_server):
    """The master killed with -9: its workers still hold serve.lock, and the
    number it wrote there (and in nginx.pid) now belongs to another process,
    as a reused pid would. --reload refuses and signals nobody: the number
    counts only while its process holds the lock file open."""
    gh = make_server()
    run = gh.data / "run"
    assert gh.worker_pids()
    stranger = subprocess.Popen(["sleep", "120"])
    try:
        os.kill(gh.proc.pid, signal.SIGKILL)
        gh.proc.wait(timeout=30)
        with open(run / "serve.lock", "r+") as lock:
            lock.write(f"{stranger.pid} 127.0.0.1:{gh.port}\n")
            lock.truncate()
        (run / "nginx.pid").write_text(f"{stranger.pid}\n")
        p = reload(gh, check=False)
        assert p.returncode == 1, p.stderr
        assert "is gone" in p.stderr and "nothing was reloaded" in p.stderr, p.stderr
        assert stranger.poll() is None, "--reload signalled a process that is not the master"
    finally:
        stranger.kill()
        stranger.wait(timeout=10)


def test_reload_a_respawned_worker_is_no_proof(make_server):
    """A master that cannot take the new configuration (its new listen
    address is held by another socket: the master's bind fails, which
    nginx's own test does not try) keeps serving on the old one, and its old
    workers with it. A worker killed meanwhile is forked again, on the old
    configuration: --reload must not take that new child for the new
    generation. It reports the failure, and the server serves as before."""
    gh = make_server(config={"server": {"workers": 2}})
    token = gh.login()[0]
    workers = gh.worker_pids()
    assert len(workers) == 2, workers
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        cmd = [str(H.GATEHOUSE), "serve", "--reload", "--listen", f"127.0.0.1:{port}",
               "--http-listen", f"127.0.0.1:{gh.http_port}", "--data-dir", str(gh.data),
               "--config", str(gh.config_path)]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=gh.env(gh.data))
        try:
            wait_for(lambda: f"bind() to 127.0.0.1:{port} failed" in gh.stderr_text(), 60,
                     "the master's bind of the new address failing")
            os.kill(workers[0], signal.SIGKILL)
            wait_for(lambda: len(set(gh.worker_pids()) - set(workers)) == 1, 30,
                     "a worker forked in place of the one killed")
            out, err = p.communicate(timeout=RELOAD_WAIT + 30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert p.returncode == 1, (out, err)
    assert "started no worker on the new configuration" in err, err
    assert "gatehouse: reloaded" not in err, err
    assert gh.token_status(token) == 200
    assert workers[1] in gh.worker_pids()


def test_reload_without_a_server_is_refused(make_server):
    gh = make_server(start=False)
    p = reload(gh, check=False)
    assert p.returncode == 1
    assert "no server runs on" in p.stderr and "nothing was reloaded" in p.stderr, p.stderr
    p = gh.cli("serve", "--reload", "--check", check=False)
    assert p.returncode == 2 and "do not go together" in p.stderr, p.stderr
