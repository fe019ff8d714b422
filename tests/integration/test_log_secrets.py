"""No credential in any log line, nginx's own included: with the error log at
info (the most verbose level of Debian's nginx), every kind of error nginx
logs for a request is caused with credentials in the query string and in the
headers, over HTTP/1.1, plain HTTP on the TLS port and HTTP/2. Each error's
line must still be there (the operator sees what happened, [redacted] where
the credential was), and no credential anywhere in what the server wrote."""

import base64
import os
import pwd
import secrets
import signal
import socket
import ssl
import struct
import subprocess
import time

import pytest

from gatehouse_harness import MODULE, free_ports, wait_until

# How long a test waits for a line: nginx logs a silent client after
# client_header_timeout or client_body_timeout (10 s, data/nginx.conf.in),
# and the sanitizer build is slow.
LINE_WAIT = 60

CONFIG = {"server": {"log_level": "info", "max_body_bytes": 1024}}


class Secrets:
    """One distinct credential per place a client puts one, each easy to
    find in a log and added to the server's list (teardown checks it too)."""

    def __init__(self, gh):
        def new(what):
            s = f"Sx{what}{secrets.token_hex(12)}"
            gh.secrets.add(s)
            return s
        self.token = new("qtoken")
        self.password = new("qpassword")
        self.access_token = new("qaccess")
        self.refresh_token = new("qrefresh")
        self.client_secret = new("qclient")
        self.bearer = new("hbearer")
        self.jsessionid = new("hjsession")
        self.auth_cookie = new("hauthcookie")
        self.x_auth_token = new("hxauth")
        self.dell_token = new("hdell")
        self.csrf = new("hcsrf")
        self.referer_token = new("hreferer")
        self.userinfo = new("huserinfo")
        self.basic_password = new("hbasic")
        self.basic = base64.b64encode(f"admin:{self.basic_password}".encode()).decode()
        gh.secrets.add(self.basic)

    def query(self):
        return (f"grant_type=password&username=admin%40internal&password={self.password}"
                f"&token={self.token}&access_token={self.access_token}"
                f"&refresh_token={self.refresh_token}&client_secret={self.client_secret}"
                "&scope=ovirt-app-api")

    def headers(self):
        return [
            ("Authorization", f"Bearer {self.bearer}"),
            ("Cookie", f"JSESSIONID={self.jsessionid}; auth_cookie={self.auth_cookie}"),
            ("X-Auth-Token", self.x_auth_token),
            ("DELL-EMC-TOKEN", self.dell_token),
            ("CSRFPreventionToken", self.csrf),
            ("Referer", f"https://user:{self.userinfo}@example.org/x?access_token="
                        f"{self.referer_token}"),
        ]


# ------------------------------------------------------------------ clients

def tls_socket(gh, alpn=None, port=None):
    """A TLS connection to gh's port, or to port (a server of the test's own)."""
    ctx = ssl.create_default_context(cafile=gh.ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if alpn:
        ctx.set_alpn_protocols(alpn)
    sock = socket.create_connection(("127.0.0.1", port or gh.port), timeout=10)
    return ctx.wrap_socket(sock, server_hostname="127.0.0.1")


def drain(sock, timeout=10):
    """Read until the server closes or goes quiet; what it sent."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, ssl.SSLError, OSError):
            break
        if not chunk:
            break
        data += chunk
    return data


def closed_by_server(sock, timeout):
    """Whether the server closes sock within timeout (what it sends is read
    and dropped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            if not sock.recv(65536):
                return True
        except socket.timeout:
            return False
        except (ssl.SSLError, OSError):
            return True
    return False


def http1(gh, head, body=b"", tls=True, close_after=False, port=None):
    """Send a raw request head (lines without CRLF) and body to gh's port, or
    to port; the answer."""
    raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") if isinstance(head, list) else head
    if tls:
        sock = tls_socket(gh, port=port)
    else:
        sock = socket.create_connection(("127.0.0.1", port or gh.port), timeout=10)
    with sock:
        sock.sendall(raw + body)
        if close_after:
            return b""
        return drain(sock, timeout=5)


def cred_headers(s, host=True):
    lines = [f"{n}: {v}" for n, v in s.headers()]
    return (["Host: 127.0.0.1"] if host else []) + lines


def h2_int(value, prefix_bits, first=0):
    """An HPACK integer with an N-bit prefix (RFC 7541 5.1)."""
    top = (1 << prefix_bits) - 1
    if value < top:
        return bytes([first | value])
    out = [first | top]
    value -= top
    while value >= 128:
        out.append(value % 128 + 128)
        value //= 128
    out.append(value)
    return bytes(out)


def h2_field(name, value):
    """A literal header field without indexing, new name, no Huffman: no
    checks, so it carries what a real client library would refuse."""
    name = name.encode("latin-1") if isinstance(name, str) else name
    value = value.encode("latin-1") if isinstance(value, str) else value
    return b"\x00" + h2_int(len(name), 7) + name + h2_int(len(value), 7) + value


def h2_frame(ftype, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", stream) + payload


def http2(gh, fields, body=None, cancel=False):
    """One HTTP/2 request of raw header fields (and a body, then the end of
    the stream or, with cancel, RST_STREAM CANCEL); what came back."""
    sock = tls_socket(gh, alpn=["h2"])
    with sock:
        assert sock.selected_alpn_protocol() == "h2"
        block = b"".join(h2_field(n, v) for n, v in fields)
        end_stream = 0x1 if body is None else 0
        out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + h2_frame(4, 0, 0, b"")
        out += h2_frame(1, 0x4 | end_stream, 1, block)
        if body is not None:
            out += h2_frame(0, 0 if cancel else 0x1, 1, body)
        if cancel:
            out += h2_frame(3, 0, 1, struct.pack(">I", 0x8))
        sock.sendall(out)
        return drain(sock, timeout=3)


def h2_fields(s, method, path, extra=()):
    base = [(":method", method), (":scheme", "https"), (":authority", "127.0.0.1"),
            (":path", path)]
    return base + [(n.lower(), v) for n, v in s.headers()] + list(extra)


# ------------------------------------------------------------------- checks

def lines_with(gh, marker):
    return [l for l in gh.stderr_text().splitlines() if marker in l]


def wait_line(gh, marker, timeout=LINE_WAIT):
    took = wait_until(lambda: lines_with(gh, marker), timeout, interval=0.05)
    assert took is not None, f"no log line with {marker!r}\n{gh.stderr_tail()}"
    return lines_with(gh, marker)


def assert_no_secret(gh, s):
    text = gh.stderr_text()
    found = [(name, v) for name, v in vars(s).items() if v in text]
    leaking = [l for l in text.splitlines() if any(v in l for _, v in found)]
    assert not found, "credentials in the error log:\n" + "\n".join(leaking[:20])


TOKEN_PATH = "/ovirt-engine/sso/oauth/token"
API_PATH = "/ovirt-engine/api"


@pytest.fixture
def logged(make_server):
    gh = make_server(config=CONFIG)
    return gh, Secrets(gh)


def test_http1_errors_logged_without_credentials(logged):
    gh, s = logged
    q = s.query()
    expected = {}

    # Silent clients first: nginx waits client_*_timeout before it logs them.
    slow_head = tls_socket(gh)
    slow_head.sendall((f"GET {API_PATH}?{q} HTTP/1.1\r\n"
                       + "\r\n".join(cred_headers(s)) + "\r\n").encode())
    slow_body = tls_socket(gh)
    slow_body.sendall(("\r\n".join([f"POST {TOKEN_PATH}?{q} HTTP/1.1", *cred_headers(s),
                                    "Content-Type: application/x-www-form-urlencoded",
                                    "Content-Length: 500"]) + "\r\n\r\n").encode()
                      + f"password={s.password}&".encode())

    # 413: a body over client_max_body_size.
    r = http1(gh, [f"POST {TOKEN_PATH}?{q} HTTP/1.1", *cred_headers(s),
                   "Content-Type: application/x-www-form-urlencoded",
                   "Content-Length: 5000"], b"x" * 100)
    assert b" 413 " in r.split(b"\r\n")[0], r[:200]
    expected["413"] = "client intended to send too large body"

    # 414: a URI over large_client_header_buffers (the credentials come first).
    r = http1(gh, [f"GET {API_PATH}?{q}&pad={'A' * 20000} HTTP/1.1", *cred_headers(s)])
    assert b" 414 " in r.split(b"\r\n")[0], r[:200]
    expected["414"] = "client sent too long URI"

    # 400: a header line holding a NUL, with the credential before it.
    r = http1(gh, ("\r\n".join([f"GET {API_PATH}?{q} HTTP/1.1", "Host: 127.0.0.1",
                                f"Authorization: Bearer {s.bearer}\x00tail"])
                   + "\r\n\r\n").encode("latin-1"))
    assert b" 400 " in r.split(b"\r\n")[0], r[:200]
    expected["invalid header"] = "client sent invalid header line: \"Authorization"

    # Headers nginx ignores and logs whole: underscores in the name.
    http1(gh, [f"GET {API_PATH}?{q} HTTP/1.1", "Host: 127.0.0.1",
               f"X_Auth_Token: {s.x_auth_token}", f"DELL_EMC_TOKEN: {s.dell_token}"])
    expected["ignored header"] = "client sent invalid header line: \"X_Auth_Token"

    # 494 (sent as the dialect's 431): one header line over the buffer.
    r = http1(gh, [f"GET {API_PATH}?{q} HTTP/1.1", "Host: 127.0.0.1",
                   f"Cookie: JSESSIONID={s.jsessionid}; pad={'B' * 20000}"])
    assert b" 431 " in r.split(b"\r\n")[0], r[:200]
    expected["494"] = "client sent too long header line"

    # 400: Authorization twice.
    r = http1(gh, [f"GET {API_PATH}?{q} HTTP/1.1", "Host: 127.0.0.1",
                   f"Authorization: Basic {s.basic}", f"Authorization: Bearer {s.bearer}"])
    assert b" 400 " in r.split(b"\r\n")[0], r[:200]
    expected["duplicate"] = "client sent duplicate header line"

    # Bad request lines: a control byte in the URI, an unknown version.
    r = http1(gh, f"GET {API_PATH}?{q}\x01 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert b" 400 " in r.split(b"\r\n")[0], r[:200]
    expected["bad request line"] = "client sent invalid request"
    r = http1(gh, [f"GET {API_PATH}?{q} HTTP/2.5", *cred_headers(s)])
    expected["bad version"] = "client sent invalid version"

    # Requests nginx refuses after reading them whole.
    http1(gh, [f"TRACE {API_PATH}?{q} HTTP/1.1", *cred_headers(s)])
    expected["trace"] = "client sent TRACE method"
    http1(gh, [f"GET {API_PATH}?{q} HTTP/1.1", "Host: bad/host", *cred_headers(s, host=False)])
    expected["host"] = "client sent invalid host header"
    http1(gh, [f"POST {TOKEN_PATH}?{q} HTTP/1.1", *cred_headers(s),
               "Transfer-Encoding: gzip"])
    expected["transfer-encoding"] = "client sent unknown \"Transfer-Encoding\""
    http1(gh, [f"GET {API_PATH}?{q} HTTP/1.1", *cred_headers(s)], tls=False)
    expected["497"] = "client sent plain HTTP request to HTTPS port"

    # A chunked body that is not one.
    http1(gh, [f"POST {TOKEN_PATH}?{q} HTTP/1.1", *cred_headers(s),
               "Content-Type: application/x-www-form-urlencoded",
               "Transfer-Encoding: chunked"], b"zz\r\nxx\r\n0\r\n\r\n")
    expected["chunked"] = "client sent invalid chunked body"

    # A client that goes away in the middle of its body.
    http1(gh, [f"POST {TOKEN_PATH}?{q} HTTP/1.1", *cred_headers(s),
               "Content-Type: application/x-www-form-urlencoded", "Content-Length: 900"],
          f"password={s.password}&".encode(), close_after=True)
    expected["closed"] = "client prematurely closed connection"

    for what, marker in expected.items():
        wait_line(gh, marker)

    # The silent ones, once client_header_timeout has passed.
    wait_line(gh, "client timed out (110: Connection timed out) while reading client "
                  "request headers")
    # A body that stops coming: nginx 1.22 closes the connection (408)
    # without a line of its own; whatever it writes must hold no credential.
    assert closed_by_server(slow_body, LINE_WAIT), "nginx kept a silent body open"
    slow_head.close()
    slow_body.close()

    assert_no_secret(gh, s)
    for what, marker in expected.items():
        for line in lines_with(gh, marker):
            if API_PATH in line or TOKEN_PATH in line or "Authorization" in line:
                assert "[redacted]" in line, f"{what}: {line}"


def test_http2_errors_logged_without_credentials(logged):
    gh, s = logged
    q = s.query()
    expected = {}

    # A NUL, a newline, a CR in a credential header's value.
    http2(gh, h2_fields(s, "GET", f"{API_PATH}?{q}",
                        [("authorization", f"Bearer {s.bearer}\x00x")]))
    http2(gh, [(":method", "GET"), (":scheme", "https"), (":authority", "127.0.0.1"),
               (":path", f"{API_PATH}?{q}"),
               ("cookie", f"JSESSIONID={s.jsessionid}\nx\" while x, client: y")])
    http2(gh, [(":method", "GET"), (":scheme", "https"), (":authority", "127.0.0.1"),
               (":path", f"{API_PATH}?{q}"), ("x-auth-token", f"{s.x_auth_token}\rx")])
    # nginx's "client sent header \"NAME\" with invalid value: \"VALUE\"": the
    # value may hold quotes, so all after the name goes.
    for name in ("authorization", "cookie", "x-auth-token"):
        expected[name] = f"client sent header \"{name}\" "

    # A :path that is not one.
    http2(gh, h2_fields(s, "GET", f"ovirt-engine/api?{q}"))
    expected["path"] = "client sent invalid :path header"

    # An upper-case header name, an underscore in one (ignored, logged).
    http2(gh, h2_fields(s, "GET", f"{API_PATH}?{q}", [("X-Auth-Token", s.x_auth_token)]))
    expected["name"] = "client sent invalid header name"
    http2(gh, h2_fields(s, "GET", f"{API_PATH}?{q}", [("dell_emc_token", s.dell_token)]))
    expected["ignored"] = "client sent invalid header: \"dell_emc_token\""

    # 413 over HTTP/2.
    http2(gh, h2_fields(s, "POST", f"{TOKEN_PATH}?{q}",
                        [("content-type", "application/x-www-form-urlencoded"),
                         ("content-length", "5000")]), b"y" * 5000)
    expected["413"] = "client intended to send too large body"

    # Bodies that end early: the stream closed short of its length, or
    # cancelled.
    form = [("content-type", "application/x-www-form-urlencoded"), ("content-length", "900")]
    http2(gh, h2_fields(s, "POST", f"{TOKEN_PATH}?{q}", form), f"password={s.password}".encode())
    expected["short"] = "client prematurely closed stream"
    http2(gh, h2_fields(s, "POST", f"{TOKEN_PATH}?{q}", form), f"password={s.password}".encode(),
          cancel=True)
    expected["cancel"] = "client canceled stream 1"

    for what, marker in expected.items():
        wait_line(gh, marker)
    assert_no_secret(gh, s)
    for line in lines_with(gh, "stream"):
        if "prematurely closed stream" in line or "canceled stream" in line:
            assert "request: \"POST " in line and "[redacted]" in line, line
    for name in ("authorization", "cookie", "x-auth-token"):
        for line in lines_with(gh, f"client sent header \"{name}\" "):
            assert f"\"{name}\" [redacted] while " in line, line
    for line in lines_with(gh, "client intended to send too large body"):
        assert "HTTP/2.0" in line and "[redacted]" in line, line


# ------------------------------------------- the module in an nginx of one's own

OWN_CONF = """load_module "{module}";
{user}pid "{dir}/nginx.pid";
error_log "{dir}/main.log" info;
thread_pool gatehouse_hash threads=1;
thread_pool gatehouse_io threads=1;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path "{dir}/tmp"; proxy_temp_path "{dir}/tmp";
    fastcgi_temp_path "{dir}/tmp"; uwsgi_temp_path "{dir}/tmp"; scgi_temp_path "{dir}/tmp";
    client_max_body_size 1k;
    gatehouse_data_dir "{data}";
    gatehouse_config "{config}";
    error_log "{dir}/http.log" info;
    error_log syslog:server=127.0.0.1:{syslog},tag=gatehouse info;
    server {{
        listen 127.0.0.1:{port_a} ssl;
        ssl_certificate "{data}/pki/server-chain.pem";
        ssl_certificate_key "{data}/pki/server.key";
        error_log "{dir}/server.log" info;
        location / {{ gatehouse on; }}
        location /ovirt-engine/ {{ gatehouse on; error_log "{dir}/location.log" info; }}
        location ~ ^/api/rest/ {{ gatehouse on; error_log "{dir}/regex.log" info; }}
    }}
    server {{
        listen 127.0.0.1:{port_b} ssl;
        ssl_certificate "{data}/pki/server-chain.pem";
        ssl_certificate_key "{data}/pki/server.key";
        location / {{ gatehouse on; }}
    }}
}}
"""


class OwnNginx:
    """Debian's nginx with the module on a configuration of the test's own,
    started and stopped by PID."""

    def __init__(self, gh):
        self.gh = gh
        self.dir = gh.dir / "own"
        (self.dir / "tmp").mkdir(parents=True)
        self.port_a, self.port_b, self.syslog_port = free_ports(3)
        self.syslog = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.syslog.bind(("127.0.0.1", self.syslog_port))
        self.syslog.settimeout(0.05)
        self.messages = []
        user = ""
        if os.geteuid() == 0:
            user = f"user {pwd.getpwuid(gh.owner_uid).pw_name};\n"
            os.chown(self.dir / "tmp", gh.owner_uid, gh.owner_gid)
        (self.dir / "nginx.conf").write_text(OWN_CONF.format(
            module=MODULE, user=user, dir=self.dir, data=gh.data, config=gh.config_path,
            syslog=self.syslog_port, port_a=self.port_a, port_b=self.port_b))
        self.proc = subprocess.Popen(
            ["/usr/sbin/nginx", "-p", str(self.dir), "-c", str(self.dir / "nginx.conf"),
             "-e", str(self.dir / "stderr.log"), "-g", "daemon off;"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=gh.env(gh.san_dir), start_new_session=True)
        ok = wait_until(lambda: self.proc.poll() is not None or self.answers(), 20, 0.1)
        assert ok is not None and self.proc.poll() is None, self.text("stderr.log")

    def answers(self):
        try:
            sock = tls_socket(self.gh, port=self.port_a)
        except OSError:
            return False
        sock.close()
        return True

    def text(self, name):
        try:
            return (self.dir / name).read_text(errors="replace")
        except OSError:
            return ""

    def syslog_text(self):
        while self.syslog.fileno() != -1:
            try:
                self.messages.append(self.syslog.recv(65536).decode("latin-1"))
            except (socket.timeout, BlockingIOError):
                break
        return "\n".join(self.messages)

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        self.syslog_text()
        self.syslog.close()


def test_every_error_log_of_an_own_nginx(make_server):
    """Loaded into one's own nginx: the error logs of the main context, http
    (a file and syslog), a server, a prefix and a regex location all get
    redacted lines."""
    gh = make_server(start=False)
    s = Secrets(gh)
    q = s.query()
    own = OwnNginx(gh)
    try:
        big = ["Content-Type: application/x-www-form-urlencoded", "Content-Length: 5000"]
        # Refused before a location is chosen: the server's log.
        http1(gh, [f"GET {API_PATH}?{q}&pad={'A' * 20000} HTTP/1.1", *cred_headers(s)],
              port=own.port_a)
        # Refused in a location: that location's log.
        http1(gh, [f"POST {TOKEN_PATH}?{q} HTTP/1.1", *cred_headers(s), *big], port=own.port_a)
        http1(gh, [f"POST /api/rest/login_session?{q} HTTP/1.1", *cred_headers(s), *big],
              port=own.port_a)
        # A server without a log of its own: the http block's file and syslog.
        http1(gh, [f"POST {TOKEN_PATH}?{q} HTTP/1.1", *cred_headers(s), *big], port=own.port_b)

        where = {"server.log": "client sent too long URI",
                 "location.log": "client intended to send too large body",
                 "regex.log": "client intended to send too large body",
                 "http.log": "client intended to send too large body"}
        for name, marker in where.items():
            assert wait_until(lambda: marker in own.text(name), LINE_WAIT, 0.05) is not None, \
                f"{name}: no {marker!r}\n{own.text(name)}"
        assert wait_until(lambda: "too large body" in own.syslog_text(), LINE_WAIT, 0.05) \
            is not None, own.syslog_text()
        assert "start worker process" in own.text("main.log")
    finally:
        own.stop()

    logs = {name: own.text(name) for name in
            ("main.log", "http.log", "server.log", "location.log", "regex.log", "stderr.log")}
    logs["syslog"] = own.syslog_text()
    for name, text in logs.items():
        leaked = [k for k, v in vars(s).items() if v in text]
        assert not leaked, f"{name} holds {leaked}:\n{text[-3000:]}"
    for name in ("http.log", "server.log", "location.log", "regex.log", "syslog"):
        assert "password=[redacted]&token=[redacted]" in logs[name], logs[name][-2000:]
