"""test_package.py: the Debian package, end to end, on this machine.

`make deb` builds it from the tree; apt installs it; the files must be where
the package promises, the system user and the data directory postinst makes
must exist, and `gatehouse serve`, run from the installed binary, module and
trees on the data directory postinst initialised, must let the admin log in
with curl (Redfish session POST, then a GET with the token). Removing keeps
the data, and installing again leaves it as it was (init runs once);
purging must take away the binary, the user and the data directory.

It installs a package system-wide, so it runs alone, in make test's last
stage (make package-test), as root. It leaves the machine as it found it:
it refuses to start when anything the package owns is there already, and a
finalizer purges the package whatever happened. A lock keeps two runs on one
machine (two checkouts' make test) from installing at the same time.
"""

import fcntl
import grp
import json
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))
import gatehouse_harness as H  # noqa: E402  (free_ports, wait_for)

PKG = "gatehouse"
USER = "gatehouse"
DATA = Path("/var/lib/gatehouse")
ETC = Path("/etc/gatehouse")
CONF = ETC / "gatehouse.conf"
BIN = Path("/usr/bin/gatehouse")
MODULE = Path("/usr/lib/nginx/modules/ngx_http_gatehouse_module.so")
SHARE = Path("/usr/share/gatehouse")
EXAMPLE = Path("/usr/share/doc/gatehouse/examples/gatehouse.conf.example")
UNIT = Path("/lib/systemd/system/gatehouse.service")
UNIT_ENABLED = Path("/etc/systemd/system/multi-user.target.wants/gatehouse.service")
UNIT_STATE = Path("/var/lib/systemd/deb-systemd-helper-enabled/gatehouse.service.dsh-also")
LOGROTATE = Path("/etc/logrotate.d/gatehouse")
MANPAGES = [Path("/usr/share/man/man8/gatehouse.8.gz"),
            Path("/usr/share/man/man5/gatehouse.conf.5.gz")]
PWFILE = DATA / "initial-admin-password"
NGINX_MODULES_ENABLED = Path("/etc/nginx/modules-enabled")
LOCK = Path("/run/lock/gatehouse-package-test.lock")

SESSIONS = "/redfish/v1/SessionService/Sessions"
APT = ["apt-get", "-o", "DPkg::Lock::Timeout=600", "-y", "--no-install-recommends"]
BUILD_TIMEOUT = 1800
APT_TIMEOUT = 900
LOCK_WAIT = 1800


def run(args, check=True, timeout=120, **kw):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                       timeout=timeout, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
                       **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))}: exit {r.returncode}\n"
                             f"{r.stdout[-4000:]}\n{r.stderr[-4000:]}")
    return r


def installed():
    r = run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", PKG], check=False)
    return r.returncode == 0 and r.stdout.strip() not in ("", "un")


def user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def group_exists(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def leftovers():
    """What of the package is on the machine (names, for a message)."""
    found = []
    if installed():
        found.append(f"package {PKG}")
    if user_exists(USER):
        found.append(f"user {USER}")
    if group_exists(USER):
        found.append(f"group {USER}")
    for p in (DATA, ETC, BIN, MODULE, SHARE, UNIT, UNIT_ENABLED, UNIT_STATE, LOGROTATE):
        if os.path.lexists(p):
            found.append(str(p))
    return found


def modules_enabled():
    if not NGINX_MODULES_ENABLED.is_dir():
        return []
    return sorted(os.listdir(NGINX_MODULES_ENABLED))


def purge():
    if installed():
        run(APT + ["purge", PKG], timeout=APT_TIMEOUT)


@pytest.fixture(scope="module")
def machine():
    """The lock, and the machine's state before: nothing of the package."""
    if os.geteuid() != 0:
        pytest.fail("the package test installs a package: run it as root "
                    "(make package-test uses sudo)", pytrace=False)
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    with open(LOCK, "w") as lock:
        def locked():
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                return False
        H.wait_for(locked, LOCK_WAIT, f"{LOCK}: another package test is running", interval=1.0)
        found = leftovers()
        if found:
            pytest.fail("this machine holds gatehouse's files already, which the test would "
                        "replace and purge: " + ", ".join(found), pytrace=False)
        yield {"modules_enabled": modules_enabled()}


@pytest.fixture(scope="module")
def deb(machine):
    """make deb, from the tree: the one .deb it leaves in build/deb."""
    run(["make", "-C", REPO, "deb"], timeout=BUILD_TIMEOUT)
    debs = sorted((REPO / "build" / "deb").glob(f"{PKG}_*.deb"))
    assert len(debs) == 1, f"build/deb holds {debs}"
    return debs[0]


@pytest.fixture(scope="module")
def package(machine, deb):
    """The package installed with apt, purged again whatever happens."""
    try:
        r = run(APT + ["install", deb], timeout=APT_TIMEOUT)
        yield {"install_output": r.stdout + r.stderr, "deb": deb}
    finally:
        purge()


def test_package_declares_the_nginx_abi(deb):
    """The module loads only into the nginx it was built for: like Debian's
    own nginx modules, the package depends on the ABI that nginx provides."""
    depends = run(["dpkg-deb", "-f", deb, "Depends"]).stdout
    provides = run(["dpkg-query", "-W", "-f=${Provides}", "nginx"]).stdout
    abi = re.findall(r"nginx-abi-[0-9][^\s,]*", provides)
    assert len(abi) == 1, f"nginx provides {provides!r}"
    assert abi[0] in [d.strip() for d in depends.split(",")], depends
    assert "nginx" in [d.strip() for d in depends.split(",")], depends


def test_installed_files(machine, package):
    version = run(["dpkg-query", "-W", "-f=${Version}", PKG]).stdout
    assert run([BIN, "--version"]).stdout.strip() == f"gatehouse {version}"
    assert os.access(BIN, os.X_OK)
    assert MODULE.is_file()
    for name in ("nginx.conf.in", "gateway.conf.in", "upstream.conf.in",
                 "redfish/v1/Systems/index.json"):
        assert (SHARE / name).is_file(), f"{SHARE / name} is missing"
    assert EXAMPLE.is_file()
    assert UNIT.is_file()
    # Enabled the debhelper way (deb-systemd-helper), systemd running or not.
    assert os.readlink(UNIT_ENABLED) == str(UNIT)
    assert LOGROTATE.is_file()
    for page in MANPAGES:
        assert page.is_file(), f"{page} is missing"
    conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}", PKG]).stdout
    assert str(CONF) in conffiles and str(LOGROTATE) in conffiles, conffiles
    assert str(EXAMPLE) in CONF.read_text(), "the configuration names the example"
    # The system's own nginx is left alone: the module is not enabled there.
    assert modules_enabled() == machine["modules_enabled"]


def test_system_user_and_data_directory(package):
    pw = pwd.getpwnam(USER)
    assert pw.pw_uid < 1000, "a system user"
    assert pw.pw_dir == str(DATA)
    assert pw.pw_shell in ("/usr/sbin/nologin", "/bin/false")
    assert grp.getgrgid(pw.pw_gid).gr_name == USER
    st = DATA.stat()
    assert (st.st_uid, st.st_gid) == (pw.pw_uid, pw.pw_gid)
    assert stat.S_IMODE(st.st_mode) == 0o700
    # postinst ran `gatehouse init` once, as the user, and said where the
    # password is, without showing it.
    assert (DATA / "gatehouse.db").stat().st_uid == pw.pw_uid
    assert (DATA / "pki" / "ca.pem").is_file()
    st = PWFILE.stat()
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (pw.pw_uid, 0o600)
    password = PWFILE.read_text().strip()
    assert len(password) >= 12
    out = package["install_output"]
    assert f"the password of the account admin is in {PWFILE}" in out, out
    assert password not in out


def _server_config(tmp):
    """The installed configuration, with a free loopback port for every
    listener the installed example documents in [server]."""
    section, keys = None, []
    for line in EXAMPLE.read_text().splitlines():
        m = re.match(r"^\[([^\]]+)\]", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"^; ([a-z_]*listen) =", line)
        if section == "server" and m:
            keys.append(m.group(1))
    assert "listen" in keys and "http_listen" in keys, keys
    ports = dict(zip(keys, H.free_ports(len(keys))))
    text = CONF.read_text()
    listen = "".join(f"{k} = 127.0.0.1:{p}\n" for k, p in ports.items())
    assert re.search(r"^\[server\]$", text, re.M), text
    text = re.sub(r"^\[server\]\n", lambda m: m.group(0) + listen, text, count=1, flags=re.M)
    conf = tmp / "gatehouse.conf"
    conf.write_text(text)
    conf.chmod(0o644)
    return conf, ports["listen"]


def _curl(port, path, *args):
    """curl against the installed server: (status, headers, body)."""
    r = run(["curl", "-sS", "--cacert", DATA / "pki" / "ca.pem", "-D", "-",
             *args, f"https://127.0.0.1:{port}{path}"], timeout=60)
    # text mode: the CRLFs of the header block read as newlines
    head, _, body = r.stdout.partition("\n\n")
    lines = head.split("\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def _not_owned_by(top, uid):
    """Paths under top that uid does not own (one gone meanwhile is none)."""
    others = []
    for p in top.rglob("*"):
        try:
            if p.lstat().st_uid != uid:
                others.append(str(p))
        except FileNotFoundError:
            continue
    return others


def _stop(proc):
    """SIGTERM to the nginx master serve became; its group killed if it
    outlives the bound (only this test's processes are in that group)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=H.STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=H.STOP_TIMEOUT)
        raise AssertionError("gatehouse serve did not stop on SIGTERM")
    H.wait_for(lambda: not H.pgroup_members(proc.pid), H.STOP_TIMEOUT,
               "the nginx workers of the installed server exit")


def test_serve_from_the_installed_paths_and_log_in(package):
    if Path("/run/systemd/system").is_dir():
        # Where systemd runs, postinst started the service on this data
        # directory (one server per directory): this test's server takes over.
        # (Not so on the machine the test was written on: no systemd runs.)
        run(["systemctl", "stop", "gatehouse.service"])
    tmp = Path(tempfile.mkdtemp(prefix="gatehouse-pkg-", dir="/tmp"))
    tmp.chmod(0o755)
    proc = None
    try:
        conf, port = _server_config(tmp)
        # As the service runs it: the system user, the installed binary.
        log = open(tmp / "serve.log", "w")
        proc = subprocess.Popen(["setpriv", f"--reuid={USER}", f"--regid={USER}",
                                 "--init-groups", str(BIN), "serve", "--data-dir", str(DATA),
                                 "--config", str(conf)],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd="/")
        log.close()

        def up():
            if proc.poll() is not None:
                raise AssertionError(f"gatehouse serve exited {proc.returncode}:\n"
                                     + (tmp / "serve.log").read_text()[-4000:])
            return run(["curl", "-s", "-o", "/dev/null", "--cacert", DATA / "pki" / "ca.pem",
                        f"https://127.0.0.1:{port}/redfish/v1/"], check=False).returncode == 0
        H.wait_for(up, H.START_TIMEOUT, "the installed server answers")

        # nginx runs the installed module on the installed trees.
        nginx_conf = (DATA / "run" / "nginx.conf").read_text()
        assert f'load_module "{MODULE}";' in nginx_conf
        assert f'gatehouse_tree "{SHARE}";' in nginx_conf

        body = tmp / "login.json"
        with open(body, "w") as f:
            os.fchmod(f.fileno(), 0o600)
            json.dump({"UserName": "admin", "Password": PWFILE.read_text().strip()}, f)
        status, headers, _ = _curl(port, SESSIONS, "-H", "Content-Type: application/json",
                                   "--data-binary", f"@{body}")
        assert status == 201, (status, headers)
        assert "x-auth-token" in headers and "location" in headers, headers
        token, location = headers["x-auth-token"], headers["location"]

        status, _, text = _curl(port, "/redfish/v1/Systems", "-H", f"X-Auth-Token: {token}")
        assert status == 200, text
        assert json.loads(text)["@odata.id"] == "/redfish/v1/Systems"
        status, _, _ = _curl(port, "/redfish/v1/Systems")
        assert status == 401

        status, _, _ = _curl(port, location, "-X", "DELETE", "-H", f"X-Auth-Token: {token}")
        assert status in (200, 204)
        status, _, _ = _curl(port, "/redfish/v1/Systems", "-H", f"X-Auth-Token: {token}")
        assert status == 401

        # The installed command run by root works on the same directory
        # (it becomes the directory's owner first) and leaves nothing of
        # root's in it.
        listed = run([BIN, "user", "list", "--data-dir", DATA]).stdout.splitlines()
        assert any(re.match(r"admin\s+Administrator\s", line) for line in listed), listed
        assert _not_owned_by(DATA, pwd.getpwnam(USER).pw_uid) == []
    finally:
        if proc is not None:
            _stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


def test_remove_keeps_the_data_and_a_reinstall_keeps_it_too(package):
    """Remove (not purge) keeps the data directory, the user and the
    configuration; the next install finds the directory and leaves it as
    it is: gatehouse init ran once."""
    ca, password = (DATA / "pki" / "ca.pem").read_bytes(), PWFILE.read_text()
    run(APT + ["remove", PKG], timeout=APT_TIMEOUT)
    assert not BIN.exists() and not MODULE.exists()
    assert DATA.is_dir() and CONF.is_file() and user_exists(USER)
    r = run(APT + ["install", package["deb"]], timeout=APT_TIMEOUT)
    assert "the password of the account admin" not in r.stdout + r.stderr
    assert (DATA / "pki" / "ca.pem").read_bytes() == ca
    assert PWFILE.read_text() == password
    assert BIN.is_file() and MODULE.is_file()


def test_purge_leaves_nothing(machine, package):
    purge()
    assert not installed()
    assert leftovers() == []
    assert not run(["getent", "passwd", USER], check=False).stdout
    assert modules_enabled() == machine["modules_enabled"]
