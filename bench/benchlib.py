"""benchlib.py: what bench/run stands on: starting and stopping the servers it
measures (gatehouse through `gatehouse serve`, plain nginx on a configuration
of its own), talking HTTPS to them, and running wrk and h2load and reading
their output. Debian's Python standard library only.

Every process is started in a process group of its own and stopped by its
PID, then by that group's id if something survived: nothing this file did
not start is ever signalled. Everything listens on 127.0.0.1.

The servers stay in the session of the load generators. With the kernel's
autogroup scheduling (sched_autogroup_enabled), each session is a scheduling
group that gets an equal share of the CPU before any thread's priority
counts: a server in a session of its own would be held to half of this
machine whenever wrk wants the other half, an artefact of running the
clients on the server's cores that no real client causes.
"""

import atexit
import base64
import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import time
import warnings
from pathlib import Path

STOP_TIMEOUT = 15.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

_running = []          # Popen objects still to stop at exit


def log(msg):
    print(f"bench: {msg}", flush=True)


# ----------------------------------------------------------------- processes

def spawn(cmd, out_path, owner=None, env=None):
    """Start cmd in a process group of its own (in this session: see above),
    stdout+stderr appended to out_path; owner=(uid, gid) runs it as that user
    when we are root."""
    kw = {}
    if owner is not None and os.geteuid() == 0:
        kw = {"user": owner[0], "group": owner[1], "extra_groups": []}
    out = open(out_path, "ab")
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                         process_group=0, env=env, **kw)
    out.close()
    _running.append(p)
    return p


def group_members(pgid):
    """Live (non-zombie) PIDs whose process group is pgid."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        rest = stat[stat.rfind(")") + 2:].split()
        if len(rest) >= 3 and int(rest[2]) == pgid and rest[0] != "Z":
            pids.append(int(entry))
    return pids


def thread_ticks(pids):
    """User + system CPU time, in clock ticks, of every thread of pids (those
    that have ended count no more): (threads at a raised nice value, the
    others). gatehouse's hash lanes are the only threads it runs niced."""
    niced = others = 0
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
            except OSError:
                continue
            rest = stat[stat.rfind(")") + 2:].split()
            ticks = int(rest[11]) + int(rest[12])
            if int(rest[16]) > 0:
                niced += ticks
            else:
                others += ticks
    return niced, others


def stop(p):
    """SIGTERM the process we started, wait, then SIGKILL its group's rest."""
    if p is None:
        return
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
    deadline = time.monotonic() + 5
    while group_members(p.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if group_members(p.pid):
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if p.poll() is None:
        p.kill()
        p.wait(10)
    if p in _running:
        _running.remove(p)


def stop_all():
    for p in list(_running):
        stop(p)


def _on_signal(signum, _frame):
    stop_all()
    raise SystemExit(128 + signum)


atexit.register(stop_all)
signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)


def run(cmd, timeout=600, check=True, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {p.returncode}\n"
                           f"{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    return p


def free_ports(n):
    """n different ports the kernel just handed out on 127.0.0.1 (all held
    at once, so no two are the same)."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def pss_kib(pgid):
    """Proportional set size of every process of a group, summed (KiB):
    shared memory counted once across the master and its workers."""
    total = 0
    for pid in group_members(pgid):
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def largest_shared_mapping(pid):
    """Bytes of the largest shared anonymous mapping (an nginx zone) of pid."""
    best = 0
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 6 and "/dev/zero" in line and "s" in parts[1]:
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            best = max(best, hi - lo)
    return best


def cached_bytes(paths):
    """Bytes of the files in paths that are in the page cache, by
    util-linux fincore (mincore(2)); files that do not exist count 0."""
    paths = [str(p) for p in paths if Path(p).exists()]
    if not paths:
        return 0
    out = run(["fincore", "--bytes", "--noheadings", "--raw", "--output", "RES", *paths]).stdout
    return sum(int(x) for x in out.split())


def drop_from_cache(paths):
    """Write each file's dirty pages out (fsync), then ask the kernel to drop
    its pages (posix_fadvise POSIX_FADV_DONTNEED): the next read comes from
    the disk. Only these files: the machine's other caches stay as they
    are. Returns the bytes fincore still finds cached (0 when it worked; a
    page mapped by a running process stays)."""
    for p in paths:
        try:
            fd = os.open(p, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
    return cached_bytes(paths)


# ---------------------------------------------------------------------- HTTP

class Client:
    """One HTTPS (or plain HTTP) origin on 127.0.0.1, verified against a CA."""

    def __init__(self, port, ca=None, tls=True):
        self.port, self.tls = port, tls
        self.ctx = ssl.create_default_context(cafile=ca) if tls else None
        self.raw_headers = []       # (name as sent, value) of the last answer

    def request(self, method, path, headers=None, body=None, timeout=10):
        """(status, headers as a lower-cased dict of lists, body bytes)."""
        if self.tls:
            c = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx,
                                            timeout=timeout)
        else:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            hdrs = {}
            self.raw_headers = r.getheaders()
            for k, v in self.raw_headers:
                hdrs.setdefault(k.lower(), []).append(v)
            return r.status, hdrs, data
        finally:
            c.close()

    def wait_for(self, path, headers=None, want=200, timeout=60, interval=0.01, since=None):
        """Poll until path answers want; (seconds to the first answer of any
        status or None, seconds to want or None), counted from since (a
        time.monotonic(); default now)."""
        t0 = time.monotonic() if since is None else since
        first = None
        while time.monotonic() - t0 < timeout:
            try:
                status, _, _ = self.request("GET", path, headers=headers, timeout=2)
                if first is None:
                    first = time.monotonic() - t0
                if status == want:
                    return first, time.monotonic() - t0
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(interval)
        return first, None


# Headers two servers may send differently and still send the same answer:
# the time of the answer. Every other header, Server and Connection
# included, must match in name and value (in any order).
UNCOMPARED = ("date",)


def answer_differences(name_a, a, name_b, b):
    """What differs between two answers (status, headers as Client.request
    gives them, body): a list of lines, empty when they are the same."""
    (sa, ha, ba), (sb, hb, bb) = a, b
    out = []
    if sa != sb:
        out.append(f"status: {name_a} {sa}, {name_b} {sb}")
    for key in sorted(set(ha) | set(hb)):
        if key in UNCOMPARED:
            continue
        va, vb = ha.get(key), hb.get(key)
        if va != vb:
            out.append(f"{key}: {name_a} {va if va is not None else '(none)'}, "
                       f"{name_b} {vb if vb is not None else '(none)'}")
    if ba != bb:
        out.append(f"body: {name_a} {len(ba)} B, {name_b} {len(bb)} B, different")
    return out


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# ------------------------------------------------------------- load tools

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else None


def wrk(url, conns, seconds, headers=(), script=None, latency=False, threads=2, env=None):
    """Run wrk; {'rps': good responses per second, 'p50', 'p90', 'p99': ms
    (with latency, else None),
    'bad': non-2xx/3xx count, 'errors': socket errors, 'total': requests}."""
    cmd = ["wrk", "-t", str(min(threads, conns)), "-c", str(conns), "-d", f"{seconds}s",
           "--timeout", "5s"]
    for h in headers:
        cmd += ["-H", h]
    if script:
        cmd += ["-s", script]
    if latency:
        cmd.append("--latency")
    cmd.append(url)
    return parse_wrk(run(cmd, timeout=seconds + 60, env=env).stdout)


def parse_wrk(out):
    """wrk's summary as wrk() returns it."""
    total = int(re.search(r"(\d+) requests in", out).group(1))
    dur = re.search(r"requests in ([\d.]+\w+),", out).group(1)
    secs = _ms(dur) / 1000.0
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    bad = int(bad.group(1)) if bad else 0
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = sum(int(x) for x in errs.groups()) if errs else 0
    pct = {f"p{q}": re.search(rf"^\s+{q}%\s+(\S+)", out, re.M) for q in (50, 90, 99)}
    return {"rps": (total - bad) / secs if secs > 0 else 0.0,
            **{k: _ms(m.group(1)) if m else None for k, m in pct.items()},
            "bad": bad, "errors": errors, "total": total, "raw": out}


# nginx ends an HTTP/2 connection after 1000 requests (keepalive_requests, which
# also bounds HTTP/2 since nginx 1.19.7) and h2load does not reconnect: one run
# stops at 1000 per client, a second or two at these rates. So a measurement
# is as many runs of H2_PER_CLIENT requests per client as fit in `seconds`,
# and the rate is their requests over their time: one short run alone moved
# by 20 % between rounds.
H2_PER_CLIENT = 950


def h2load(url, conns, seconds, headers=(), threads=2, streams=1):
    """Run h2load over HTTP/2 again and again for about `seconds`, each run
    H2_PER_CLIENT requests on each of conns new connections; same keys as
    wrk(), summed over the runs."""
    cmd = ["h2load", "-t", str(min(threads, conns)), "-c", str(conns), "-m", str(streams),
           "-n", str(H2_PER_CLIENT * conns), "-T", str(seconds * 4)]
    for h in headers:
        cmd += ["-H", h]
    cmd.append(url)
    runs, spent = [], 0.0
    while not runs or spent < seconds:
        r = _h2load_result(run(cmd, timeout=seconds * 4 + 60, check=False))
        runs.append(r)
        spent += r["secs"]
    good = sum(r["rps"] * r["secs"] for r in runs)
    return {"rps": good / spent if spent > 0 else 0.0, "p99": None,
            "2xx": sum(r["2xx"] for r in runs), "bad": sum(r["bad"] for r in runs),
            "errors": sum(r["errors"] for r in runs), "total": sum(r["total"] for r in runs),
            "secs": spent, "raw": runs[-1]["raw"]}


def h2load_count(url, n, conns, headers=(), h1=False, timeout=600):
    """Run h2load for exactly n requests over conns connections (HTTP/1.1
    keep-alive with h1, else HTTP/2); same keys as wrk(), and '2xx'."""
    cmd = ["h2load", "-n", str(n), "-c", str(conns)] + (["--h1"] if h1 else [])
    for h in headers:
        cmd += ["-H", h]
    cmd.append(url)
    return _h2load_result(run(cmd, timeout=timeout, check=False))


def _h2load_result(p):
    out = p.stdout
    fin = re.search(r"finished in ([\d.]+)(\w+), ([\d.]+) req/s", out)
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    reqs = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                     r"(\d+) failed, (\d+) errored, (\d+) timeout", out)
    if fin is None or codes is None or reqs is None:
        raise RuntimeError(f"h2load gave no summary (exit {p.returncode}):\n{out[-1500:]}"
                           f"\n{p.stderr[-1500:]}")
    secs = _ms(fin.group(1) + fin.group(2)) / 1000.0
    good = int(codes.group(1)) + int(codes.group(2))
    done = int(reqs.group(3))
    return {"rps": good / secs if secs > 0 else 0.0, "p99": None, "2xx": int(codes.group(1)),
            "bad": done - good, "errors": int(reqs.group(5)) + int(reqs.group(6)),
            "total": done, "secs": secs, "raw": out}


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


# ------------------------------------------------------------ the servers

def owner_of(path):
    st = os.stat(path)
    return st.st_uid, st.st_gid


def ini(config):
    lines = []
    for section, keys in config.items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {v}" for k, v in keys.items()]
        lines.append("")
    return "\n".join(lines)


class Gatehouse:
    """A data directory under base and `gatehouse serve` on it."""

    def __init__(self, base, name, gatehouse_bin, config, admin_password):
        self.dir = Path(base) / name
        self.dir.mkdir(mode=0o755)
        os.chmod(self.dir, 0o755)
        self.bin = str(gatehouse_bin)
        self.data = self.dir / "data"
        self.conf = self.dir / "gatehouse.conf"
        self.log = self.dir / "serve.log"
        self.password = admin_password
        # The metrics listener is on, as gatehouse's default has it, on a
        # port of its own (the default 9145 could be another server's).
        self.port, self.http_port, self.metrics_port = free_ports(3)
        self.proc = None
        self.set_config(config)

    def set_config(self, config):
        self.config = config
        self.conf.write_text(ini(config))
        os.chmod(self.conf, 0o644)

    @property
    def ca(self):
        return str(self.data / "pki" / "ca.pem")

    def cli(self, *args, timeout=600):
        return run([self.bin, *args, "--data-dir", str(self.data), "--config", str(self.conf)],
                   timeout=timeout)

    def init(self):
        pw = self.dir / "admin.pw"
        fd = os.open(pw, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.password + "\n")
        self.cli("init", "--admin-password-file", str(pw), timeout=180)
        os.unlink(pw)
        return self

    def start(self, wait=True):
        """Run `gatehouse serve`; returns the monotonic time it was started."""
        t0 = time.monotonic()
        self.proc = spawn([self.bin, "serve", "--data-dir", str(self.data),
                           "--config", str(self.conf),
                           "--listen", f"127.0.0.1:{self.port}",
                           "--http-listen", f"127.0.0.1:{self.http_port}",
                           "--metrics-listen", f"127.0.0.1:{self.metrics_port}"], self.log)
        if wait:
            _, ok = self.client().wait_for("/redfish/v1/", timeout=60)
            if ok is None or self.proc.poll() is not None:
                raise RuntimeError(f"gatehouse did not start:\n{tail(self.log)}")
        return t0

    def requests_counted(self):
        """The sum of gatehouse_requests_total on the metrics listener: what
        shows the metrics were on while a row ran."""
        c = http.client.HTTPConnection("127.0.0.1", self.metrics_port, timeout=10)
        try:
            c.request("GET", "/metrics")
            text = c.getresponse().read().decode()
        finally:
            c.close()
        return sum(int(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith("gatehouse_requests_total{"))

    def settle(self, window=0.2, quiet=0.05, timeout=30.0):
        """Wait until gatehouse's processes are idle (under `quiet` of one core
        over `window` seconds) and return the seconds waited. A login storm's
        client may be gone while the logins it left queued are still hashed (a
        thread-pool task runs to its end): half a second of both cores after
        16 connections, which must not fall into the next measurement."""
        t0 = time.monotonic()
        pids = self.pids()
        before = sum(thread_ticks(pids))
        while time.monotonic() - t0 < timeout:
            time.sleep(window)
            now = sum(thread_ticks(pids))
            if (now - before) / CLOCK_TICKS <= quiet * window:
                break
            before = now
        return time.monotonic() - t0

    def pids(self):
        return group_members(self.proc.pid)

    def stop(self):
        stop(self.proc)
        self.proc = None

    def client(self, tls=True):
        return Client(self.port if tls else self.http_port, self.ca, tls)

    def nginx_conf(self):
        return (self.data / "run" / "nginx.conf").read_text()

    def db_files(self):
        """The SQLite database and its WAL and shared-memory files."""
        return [self.data / f"gatehouse.db{s}" for s in ("", "-wal", "-shm")]


def tail(path, n=30):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def directive(conf, name, default=None):
    """The value of the first `name value;` in an nginx configuration."""
    m = re.search(rf"^\s*{re.escape(name)}\s+([^;]*);", conf, re.M)
    return m.group(1).strip() if m else default


def which(*tools):
    return [t for t in tools if shutil.which(t) is None]


# ----------------------------------------------------- the plain nginx

# Headers of gatehouse's answer that the plain nginx does not copy with
# add_header: its own Server, Date and Connection, and the two it sets from
# default_type and the body. Strict-Transport-Security is copied on HTTPS only.
NOT_COPIED = ("date", "server", "connection", "content-type", "content-length",
              "strict-transport-security")


def nginx_string(text):
    """text as a quoted nginx configuration string: its bytes as they are.
    A $ would be read as a variable: such a text is refused."""
    if "$" in text:
        raise RuntimeError(f"cannot give nginx a literal $: {text[:80]!r}")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Reference:
    """Plain nginx without the module: gatehouse's TLS settings and limits,
    and each resource gatehouse serves with the same status, headers and
    body, twice: as a static file (port, http_port: open_file_cache on, its
    own ETag, Last-Modified and ranges off) and from memory with `return
    200` (ret_port, ret_http_port), the true ceiling. At /bcrypt<auth_path>
    and /sha512<auth_path> of the static server, nginx auth_basic on
    htpasswd files holding the admin password as bcrypt and as sha512crypt;
    the bcrypt file also holds HASH_USER with the same password and hash,
    which gatehouse imports for row 2's fair pair (hashes["bcrypt"])."""

    HASH_USER = "bench-bcrypt"

    def __init__(self, base, gh, owner, resources, password, auth_path):
        self.dir = Path(base) / "nginx"
        self.dir.mkdir(mode=0o755)
        for sub in ("www", "tmp"):
            (self.dir / sub).mkdir(mode=0o755)
        self.port, self.http_port, self.ret_port, self.ret_http_port = free_ports(4)
        self.owner, self.gh, self.proc = owner, gh, None
        self.log = self.dir / "nginx.log"
        self.conf = self.dir / "nginx.conf"
        self.hashes = self.htpasswd(password)
        blocks = {(kind, tls): [] for kind in ("static", "return") for tls in (True, False)}
        seen = set()
        for i, (name, d) in enumerate(sorted(resources.items())):
            if d["path"] in seen:            # Basic and X-Auth-Token: the same resource
                continue
            seen.add(d["path"])
            f = self.dir / "www" / f"{i}-{name}"
            f.write_bytes(d["body"])
            os.chmod(f, 0o644)
            for tls in (True, False):
                hdrs = self.add_headers(d, tls)
                static = (f'default_type "{d["ctype"]}"; root "{f.parent}"; '
                          f'try_files /{f.name} =404; etag off; max_ranges 0; '
                          f'add_header Last-Modified ""; {hdrs}')
                blocks["static", tls].append(f'location = {d["path"]} {{ {static} }}')
                blocks["return", tls].append(
                    f'location = {d["path"]} {{ default_type "{d["ctype"]}"; {hdrs} '
                    f'return 200 {nginx_string(d["body"].decode())}; }}')
                if d["path"] == auth_path:
                    for algo in ("bcrypt", "sha512"):
                        blocks["static", tls].append(
                            f'location = /{algo}{d["path"]} {{ auth_basic "bench"; '
                            f'auth_basic_user_file "{self.dir}/htpasswd.{algo}"; {static} }}')
        self.conf.write_text(self.render(gh.nginx_conf(), {
            k: "\n        ".join(v) for k, v in blocks.items()}))
        os.chmod(self.conf, 0o644)
        if os.geteuid() == 0:
            for p in [self.dir, *self.dir.rglob("*")]:
                os.chown(p, *owner)
        self.https = Client(self.port, gh.ca, True)
        self.ret = Client(self.ret_port, gh.ca, True)

    @staticmethod
    def add_headers(d, tls):
        """add_header directives for the headers gatehouse answered d with
        (d["raw_headers"], over HTTPS), with its names and values; `always`,
        as a location's add_header replaces the server's."""
        out = []
        for k, v in d["raw_headers"]:
            if k.lower() in NOT_COPIED and not (tls and k.lower() == "strict-transport-security"):
                continue
            out.append(f"add_header {k} {nginx_string(v)} always;")
        return " ".join(out)

    def htpasswd(self, password):
        """bcrypt at cost 5, `htpasswd -B`'s default, and sha512crypt at its
        default 5000 rounds, through libxcrypt as nginx's crypt() is; the
        hashes by algorithm."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt
            hashes = {"bcrypt": crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH,
                                                                    rounds=32)),
                      "sha512": crypt.crypt(password, crypt.mksalt(crypt.METHOD_SHA512))}
        for algo, h in hashes.items():
            if not h or not h.startswith({"bcrypt": "$2", "sha512": "$6$"}[algo]):
                raise RuntimeError(f"cannot make a {algo} hash")
            p = self.dir / f"htpasswd.{algo}"
            users = ([self.HASH_USER] if algo == "bcrypt" else []) + ["admin"]
            p.write_text("".join(f"{u}:{h}\n" for u in users))
            os.chmod(p, 0o644)
        return hashes

    def render(self, ghconf, locations):
        def d(name, default):
            return directive(ghconf, name, default)

        pki = self.gh.data / "pki"
        tmp = self.dir / "tmp"
        return f"""# Plain nginx for bench/run: gatehouse's settings without the module.
worker_processes {d("worker_processes", "auto")};
pid "{self.dir}/nginx.pid";
error_log stderr warn;
events {{ worker_connections {d("worker_connections", "1024")}; }}
http {{
    access_log off;
    server_tokens off;
    types {{ }}
    client_body_temp_path "{tmp}/body";
    proxy_temp_path "{tmp}/proxy";
    fastcgi_temp_path "{tmp}/fastcgi";
    uwsgi_temp_path "{tmp}/uwsgi";
    scgi_temp_path "{tmp}/scgi";
    client_header_buffer_size {d("client_header_buffer_size", "1k")};
    large_client_header_buffers {d("large_client_header_buffers", "4 8k")};
    keepalive_timeout {d("keepalive_timeout", "60s")};
    # The ceiling at its best: no open() or stat() per request for the file.
    open_file_cache max=64 inactive=1h;
    open_file_cache_valid 1h;
    limit_conn_zone $binary_remote_addr zone=ref_conn:1m;
    limit_conn ref_conn {d("limit_conn", "gatehouse_conn 128").split()[-1]};
    limit_conn_status 429;

    server {{
        listen 127.0.0.1:{self.port} ssl http2 reuseport;
        ssl_certificate "{pki}/server-chain.pem";
        ssl_certificate_key "{pki}/server.key";
        ssl_protocols {d("ssl_protocols", "TLSv1.2 TLSv1.3")};
        ssl_ciphers {d("ssl_ciphers", "HIGH")};
        ssl_prefer_server_ciphers {d("ssl_prefer_server_ciphers", "on")};
        ssl_session_cache shared:ref_tls:1m;
        {locations["static", True]}
    }}
    server {{
        listen 127.0.0.1:{self.http_port} reuseport;
        {locations["static", False]}
    }}
    # The true ceiling: the same answers from memory, no file at all.
    server {{
        listen 127.0.0.1:{self.ret_port} ssl http2 reuseport;
        ssl_certificate "{pki}/server-chain.pem";
        ssl_certificate_key "{pki}/server.key";
        ssl_protocols {d("ssl_protocols", "TLSv1.2 TLSv1.3")};
        ssl_ciphers {d("ssl_ciphers", "HIGH")};
        ssl_prefer_server_ciphers {d("ssl_prefer_server_ciphers", "on")};
        ssl_session_cache shared:ref_tls:1m;
        {locations["return", True]}
    }}
    server {{
        listen 127.0.0.1:{self.ret_http_port} reuseport;
        {locations["return", False]}
    }}
}}
"""

    def start(self):
        self.proc = spawn(["/usr/sbin/nginx", "-e", "stderr", "-p", f"{self.dir}/",
                           "-c", str(self.conf), "-g", "daemon off;"], self.log, self.owner)
        _, ok = self.https.wait_for("/nonexistent", want=404, timeout=20)
        if ok is None:
            raise RuntimeError(f"plain nginx did not start:\n{tail(self.log)}")

    def stop(self):
        stop(self.proc)
