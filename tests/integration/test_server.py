"""The server around the dialects: TLS, the plain-HTTP listener, input
limits, durability of sessions across restarts and crashes, the command line
reaching the running server, a login storm, and no secret in any log."""

import base64
import concurrent.futures
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from gatehouse_harness import (SANITIZE, SESSIONS, assert_redfish_error, new_password,
                               obeyed_at_once, wait_for, wait_until)


def path_of(location):
    return urlsplit(location).path if location else location


def token_status(gh, token, path="/redfish/v1/Systems"):
    return gh.get(path, headers={"X-Auth-Token": token}).status_code


def basic_status(gh, user, password, path="/redfish/v1/Systems"):
    with gh.session(auth=(user, password)) as s:
        return s.get(gh.url + path, timeout=10).status_code


# ----------------------------------------------------------------------- TLS

def tls_connect(port, ca, minimum, maximum, alpn=None):
    """Handshake with 127.0.0.1:port; returns (version, alpn) or raises ssl.SSLError."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(ca)
    ctx.minimum_version = minimum
    ctx.maximum_version = maximum
    if alpn:
        ctx.set_alpn_protocols(alpn)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        with ctx.wrap_socket(sock, server_hostname="127.0.0.1") as s:
            return s.version(), s.selected_alpn_protocol()


@pytest.fixture(scope="module")
def legacy_tls_control(server):
    """A local TLS server that does accept TLS 1.0 and 1.1: proves that this
    client really offers them, so a refusal by gatehouse means something."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(server.data / "pki" / "server-chain.pem"),
                        str(server.data / "pki" / "server.key"))
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    # Every version this OpenSSL has (Python deprecates naming TLSv1 and TLSv1_1).
    ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    ctx.maximum_version = ssl.TLSVersion.MAXIMUM_SUPPORTED
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)
    stop = threading.Event()

    def serve():
        lsock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = lsock.accept()
            except socket.timeout:
                continue
            try:
                with ctx.wrap_socket(conn, server_side=True) as s:
                    s.recv(1)
            except (ssl.SSLError, OSError):
                pass
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield lsock.getsockname()[1]
    stop.set()
    t.join(2)
    lsock.close()


def legacy_handshake(port, ca, version):
    """Offer TLS 1.0 or 1.1 alone to 127.0.0.1:port, verifying it against ca:
    (True, version agreed) or (False, OpenSSL's words). OpenSSL's own client
    does it (at security level 0, where OpenSSL 3 allows these versions), as
    Python deprecates setting them."""
    flag = {"TLSv1": "-tls1", "TLSv1.1": "-tls1_1"}[version]
    p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", flag,
                        "-cipher", "DEFAULT:@SECLEVEL=0", "-CAfile", ca, "-verify_return_error",
                        "-verify_ip", "127.0.0.1", "-brief"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    agreed = re.search(r"^Protocol version: (\S+)$", p.stderr, re.M)
    if p.returncode == 0 and agreed:
        return True, agreed.group(1)
    return False, p.stderr


@pytest.mark.parametrize("version", ["TLSv1", "TLSv1.1"])
def test_tls_1_0_and_1_1_refused(server, legacy_tls_control, version):
    assert legacy_handshake(legacy_tls_control, server.ca, version) == (True, version), \
        "control: this client cannot offer the old version"
    ok, words = legacy_handshake(server.port, server.ca, version)
    assert not ok, words
    assert "NO_PROTOCOLS_AVAILABLE" not in words.upper(), words


@pytest.mark.parametrize("version,name", [(ssl.TLSVersion.TLSv1_2, "TLSv1.2"),
                                          (ssl.TLSVersion.TLSv1_3, "TLSv1.3")])
def test_tls_1_2_and_1_3_accepted(server, version, name):
    got, _ = tls_connect(server.port, server.ca, version, version)
    assert got == name


def test_http2_through_alpn(server):
    _, alpn = tls_connect(server.port, server.ca, ssl.TLSVersion.TLSv1_2,
                          ssl.TLSVersion.TLSv1_3, alpn=["h2", "http/1.1"])
    assert alpn == "h2"
    _, alpn = tls_connect(server.port, server.ca, ssl.TLSVersion.TLSv1_2,
                          ssl.TLSVersion.TLSv1_3, alpn=["h2"])
    assert alpn == "h2"


def test_http2_request_with_curl(server):
    """A whole authenticated request over HTTP/2 (curl with nghttp2)."""
    p = subprocess.run(["curl", "-sS", "--http2", "--cacert", server.ca,
                        "-u", f"admin:{server.admin_password}",
                        "-o", "/dev/null", "-w", "%{http_version} %{http_code}",
                        server.url + "/redfish/v1/Systems"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "2 200"
    p = subprocess.run(["curl", "-sS", "--http2", "--cacert", server.ca, "-i",
                        server.url + "/redfish/v1/Systems"],
                       capture_output=True, text=True, timeout=30)
    assert p.stdout.startswith("HTTP/2 401"), p.stdout[:200]
    assert re.search(r"(?im)^www-authenticate: Basic realm=\"Redfish\"", p.stdout)


def pem_blocks(text):
    return re.findall(r"-----BEGIN CERTIFICATE-----\s+(.*?)-----END CERTIFICATE-----", text, re.S)


def test_full_chain_presented(server):
    p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{server.port}",
                        "-servername", "localhost", "-showcerts", "-CAfile", server.ca],
                       input="", capture_output=True, text=True, timeout=30)
    blocks = pem_blocks(p.stdout)
    assert len(blocks) >= 2, f"chain of {len(blocks)}:\n{p.stdout[:2000]}"
    ca_blocks = pem_blocks(Path(server.ca).read_text())
    assert ca_blocks, "ca.pem holds no certificate"
    norm = lambda b: "".join(b.split())  # noqa: E731
    assert norm(blocks[-1]) == norm(ca_blocks[-1]), "the CA is not last"
    assert norm(blocks[0]) != norm(ca_blocks[-1]), "the server certificate is not first"
    assert "Verify return code: 0 (ok)" in p.stdout, p.stdout[-800:]
    # The server certificate names the loopback addresses and localhost.
    leaf = "-----BEGIN CERTIFICATE-----\n" + blocks[0] + "-----END CERTIFICATE-----\n"
    x = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName"], input=leaf,
                       capture_output=True, text=True, timeout=30)
    for name in ("DNS:localhost", "IP Address:127.0.0.1", "IP Address:0:0:0:0:0:0:0:1"):
        assert name in x.stdout, x.stdout


def test_verification_by_hostname_localhost(server):
    r = requests.get(f"https://localhost:{server.port}/redfish/v1/", verify=server.ca, timeout=10)
    assert r.status_code == 200


# ------------------------------------------------------------ plain HTTP

CA_PATH = "/ovirt-engine/services/pki-resource?resource=ca-certificate&format=X509-PEM-CA"


def test_plain_http_serves_the_ca(server):
    r = requests.get(server.http_url + CA_PATH, timeout=10, allow_redirects=False)
    assert r.status_code == 200, r.text[:300]
    assert r.content == Path(server.ca).read_bytes()


@pytest.mark.parametrize("path", ["/", "/redfish", "/redfish/v1/", "/redfish/v1/Systems?x=1",
                                  "/ovirt-engine/api", "/api/rest/login_session"])
def test_plain_http_redirects_everything_else(server, path):
    r = requests.get(server.http_url + path, timeout=10, allow_redirects=False)
    assert r.status_code == 301, f"{path}: {r.status_code} {r.text[:200]}"
    loc = urlsplit(r.headers["Location"])
    assert loc.scheme == "https"
    assert loc.hostname == "127.0.0.1"
    assert loc.port == server.port, r.headers["Location"]
    want = urlsplit(path)
    assert loc.path == want.path and loc.query == want.query


def test_plain_http_never_accepts_credentials(server):
    auth = ("admin", server.admin_password)
    token, location, _, _ = server.login()
    try:
        attempts = [
            ("GET", "/redfish/v1/Systems", {"auth": auth}),
            ("GET", "/redfish/v1/Systems", {"headers": {"X-Auth-Token": token}}),
            ("POST", SESSIONS, {"json": {"UserName": "admin",
                                         "Password": server.admin_password}}),
            ("GET", "/redfish/v1/Systems", {"headers": {
                "Authorization": "Basic " + base64.b64encode(
                    f"admin:{server.admin_password}".encode()).decode()}}),
            ("GET", CA_PATH, {"auth": auth}),
            ("GET", "/ovirt-engine/services/pki-resource?resource=ca-certificate"
                    "&format=X509-PEM-CA&x=", {"headers": {"X-Auth-Token": token}}),
        ]
        for method, path, kw in attempts:
            r = requests.request(method, server.http_url + path, timeout=10,
                                 allow_redirects=False, **kw)
            assert r.status_code != 201 and "X-Auth-Token" not in r.headers, (method, path)
            assert b"GH-1000" not in r.content and b"Members" not in r.content, (method, path)
            if path.startswith("/ovirt-engine/services/pki-resource"):
                # The CA is public; no credential makes it more than that.
                assert r.status_code in (200, 301, 403), r.status_code
                if r.status_code == 200:
                    assert r.content == Path(server.ca).read_bytes()
            else:
                assert r.status_code in (301, 403), f"{method} {path}: {r.status_code}"
    finally:
        server.logout(token, path_of(location))


def test_plain_http_on_the_tls_port_is_refused(server):
    r = requests.get(f"http://127.0.0.1:{server.port}/redfish/v1/Systems",
                     auth=("admin", server.admin_password), timeout=10, allow_redirects=False)
    nginx_redfish_error(r, 400, "GeneralError")
    assert b"GH-1000" not in r.content


# ----------------------------------------------------------------- limits

def still_answers(gh):
    r = gh.get("/redfish/v1/")
    assert r.status_code == 200
    with gh.admin() as s:
        assert s.get(gh.url + "/redfish/v1/Systems/1", timeout=10).status_code == 200


def nginx_redfish_error(r, status, message):
    """A refusal nginx decided, answered as a Redfish error (error_page to the
    module), with the headers every Redfish response carries, and HSTS."""
    assert_redfish_error(r, status, message)
    assert r.headers.get("OData-Version") == "4.0", r.headers
    assert "Strict-Transport-Security" in r.headers, r.headers


def test_oversized_header_refused(server):
    """Over max_header_bytes: 431 (RFC 6585), whether nginx refused the line
    itself (494, sent to the module as 431) or the module counted the block
    (test_header_limit.py has the limit byte by byte)."""
    with server.admin() as s:
        r = s.get(server.url + "/redfish/v1/Systems", headers={"X-Big": "a" * 20000},
                  timeout=10)
    nginx_redfish_error(r, 431, "GeneralError")
    assert r.reason == "Request Header Fields Too Large", r.reason
    with server.admin() as s:
        many = {f"X-H{i}": "b" * 100 for i in range(400)}
        r = s.get(server.url + "/redfish/v1/Systems", headers=many, timeout=10)
    nginx_redfish_error(r, 431, "GeneralError")
    still_answers(server)


def test_oversized_uri_refused(server):
    r = server.get("/redfish/v1/" + "a" * 20000)
    nginx_redfish_error(r, 414, "GeneralError")
    still_answers(server)


def test_oversized_token_and_authorization_refused(server):
    r = server.get("/redfish/v1/Systems", headers={"X-Auth-Token": "f" * 3000})
    assert 400 <= r.status_code < 500 and r.status_code != 404, r.status_code
    r = server.get("/redfish/v1/Systems", headers={
        "Authorization": "Basic " + base64.b64encode(b"admin:" + b"x" * 2500).decode()})
    assert 400 <= r.status_code < 500, r.status_code
    still_answers(server)


def test_oversized_body_refused(server):
    big = b'{"UserName": "admin", "Password": "' + b"x" * 200000 + b'"}'
    r = server.request("POST", SESSIONS, data=big, headers={"Content-Type": "application/json"})
    nginx_redfish_error(r, 413, "PayloadTooLarge")

    def chunks():
        yield b'{"UserName": "admin", "Password": "'
        for _ in range(100):
            yield b"y" * 4096
        yield b'"}'
    r = server.request("POST", SESSIONS, data=chunks(),
                       headers={"Content-Type": "application/json"})
    nginx_redfish_error(r, 413, "PayloadTooLarge")
    with server.admin() as s:
        r = s.patch(server.url + "/redfish/v1/SessionService",
                    data=b'{"SessionTimeout": 600, "x": "' + b"z" * 100000 + b'"}',
                    headers={"Content-Type": "application/json"}, timeout=10)
    nginx_redfish_error(r, 413, "PayloadTooLarge")
    still_answers(server)


def test_slow_header_connection_is_closed(server):
    """A client that starts a request and never finishes it is cut off."""
    ctx = ssl.create_default_context(cafile=server.ca)
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        with ctx.wrap_socket(sock, server_hostname="127.0.0.1") as s:
            s.sendall(b"GET /redfish/v1/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            t0 = time.monotonic()
            data = b""
            try:
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except (ssl.SSLError, ConnectionResetError):
                pass
            took = time.monotonic() - t0
    # The promise: client_header_timeout 10s (data/nginx.conf.in, docs/nginx.md),
    # with room for a loaded machine and the sanitizer build.
    assert took < 25, f"a half-sent request held the connection for {took:.1f}s"
    assert data == b"" or data.startswith(b"HTTP/1.1 408"), data[:100]
    still_answers(server)


def test_idle_keepalive_connection_is_closed(make_server):
    gh = make_server({"server": {"idle_connection_seconds": 2}})
    ctx = ssl.create_default_context(cafile=gh.ca)
    with socket.create_connection(("127.0.0.1", gh.port), timeout=30) as sock:
        with ctx.wrap_socket(sock, server_hostname="127.0.0.1") as s:
            s.sendall(b"GET /redfish/v1/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data:
                data += s.recv(4096)
            assert data.startswith(b"HTTP/1.1 200"), data[:100]
            t0 = time.monotonic()
            try:
                while s.recv(4096):
                    pass
            except (ssl.SSLError, ConnectionResetError):
                pass
            took = time.monotonic() - t0
    # The promise: idle_connection_seconds (docs/gatehouse.conf.example), with
    # room for a loaded machine and the sanitizer build.
    assert took < (10 if SANITIZE else 6), \
        f"idle connection kept {took:.1f}s with idle_connection_seconds = 2"


def split_response(data):
    """(status line, {lower-case header: value}, body) of one HTTP/1.1
    response; body is None until all Content-Length bytes are there."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip()
               for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "-1"))
    return lines[0], headers, body[:length] if 0 <= length <= len(body) else None


def test_too_many_simultaneous_requests_refused(server):
    """Requests in flight from one address are limited: past the limit the
    answer is 429 at once, a Redfish error with Retry-After (DSP0266), and
    the server keeps serving afterwards."""
    ctx = ssl.create_default_context(cafile=server.ca)
    socks = []
    got = {}          # socket -> bytes received; ended: answered in full, or closed
    ended = set()

    def receive():
        for s in socks:
            if s in ended:
                continue
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        ended.add(s)
                        break
                    got[s] += chunk
            except (ssl.SSLWantReadError, BlockingIOError):
                pass
            except (ssl.SSLError, OSError):
                ended.add(s)
            if split_response(got[s])[2] is not None:
                ended.add(s)
        return len(ended)

    # The server's own limit of requests in flight from one address.
    limit = int(re.search(r"limit_conn gatehouse_conn (\d+);",
                          (server.data / "run" / "nginx.conf").read_text())[1])
    try:
        for _ in range(300):
            raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
            socks.append(s)
            got[s] = b""
            # A login whose body never finishes: the request stays in flight.
            s.sendall(b"POST " + SESSIONS.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
            s.setblocking(False)
        # Every request past the limit is answered; the others wait for their bodies.
        wait_for(lambda: receive() >= 300 - limit, 20,
                 f"answers to the {300 - limit} requests past the limit of {limit}")
        receive()
        answers = [got[s] for s in socks]
    finally:
        for s in socks:
            s.close()
    refused = [x for x in answers if x.startswith(b"HTTP/1.1 429")]
    print(f"{len(refused)} of {len(answers)} refused with 429")
    other = [x[:12] for x in answers if x and not x.startswith(b"HTTP/1.1 429")]
    assert refused, "300 simultaneous requests from one address, none refused"
    assert not other, f"unexpected answers: {set(other)}"
    assert len(refused) < 300
    for data in refused:
        _, headers, body = split_response(data)
        assert body is not None, data[:300]
        assert headers.get("content-type", "").startswith("application/json"), headers
        assert headers.get("odata-version") == "4.0", headers
        assert headers.get("retry-after", "").isdigit(), headers
        assert "strict-transport-security" in headers, headers
        ids = [m["MessageId"] for m in json.loads(body)["error"]["@Message.ExtendedInfo"]]
        assert ids == ["Base.1.15.0.GeneralError"], ids
    still_answers(server)


# ----------------------------------------------------------- durability

def test_restart_keeps_sessions(fresh):
    gh = fresh
    reader_pw = gh.add_user("reader", "ReadOnly")
    t1, l1, _, _ = gh.login()
    t2, l2, _, _ = gh.login("reader", reader_pw)
    assert token_status(gh, t1) == 200
    rc = gh.stop()
    assert rc == 0, f"nginx did not stop cleanly on SIGTERM: exit {rc}\n{gh.stderr_tail()}"
    gh.start()
    assert token_status(gh, t1) == 200
    assert token_status(gh, t2) == 200
    assert {path_of(l1), path_of(l2)} <= gh.sessions_server_side()
    assert gh.logout(t1, path_of(l1)).status_code in (200, 204)
    assert token_status(gh, t1) == 401
    # A logout is as durable as a login.
    gh.restart()
    assert token_status(gh, t1) == 401
    assert token_status(gh, t2) == 200


def test_workers_stop_cleanly_after_every_pool_thread_worked(make_server):
    """A worker's exit waits until each pool thread that worked has let go of
    its store and of OpenSSL's per-thread state: exit()'s OPENSSL_cleanup
    freeing the state of a thread still ending was a double free under ASan
    (seen once in CI after the login storm). Many pool threads each take
    logins, then SIGTERM: a clean exit, nothing reported (the sanitizer build
    fails the test on any report), no thread left behind in the error log.
    The race itself is timing; this gives it every pool thread to happen in,
    three times over."""
    gh = make_server({"server": {"workers": 4}, "password": {"hash_threads": 16}})

    def login(_):
        return requests.post(gh.url + SESSIONS, json={"UserName": "admin",
                                                      "Password": gh.admin_password},
                             verify=gh.ca, timeout=60).status_code

    for _ in range(3):
        with concurrent.futures.ThreadPoolExecutor(max_workers=64) as ex:
            codes = list(ex.map(login, range(128)))
        assert codes == [201] * len(codes)
        rc = gh.stop()
        assert rc == 0, f"nginx did not stop cleanly on SIGTERM: exit {rc}\n{gh.stderr_tail()}"
        assert "pool threads did not end" not in gh.stderr_text()
        gh.start()


def test_kill9_of_every_nginx_process_keeps_sessions(fresh):
    gh = fresh
    assert gh.worker_pids(), "no nginx worker found in the process group"
    tokens = [gh.login()[0] for _ in range(5)]   # the last one right before the crash
    gh.kill9()
    gh.start()
    for t in tokens:
        assert token_status(gh, t) == 200
    # And a logout right before a crash is durable too.
    tok, loc, _, _ = gh.login()
    assert gh.logout(tok, path_of(loc)).status_code in (200, 204)
    gh.kill9()
    gh.start()
    assert token_status(gh, tok) == 401
    assert token_status(gh, tokens[0]) == 200


def test_worker_crash_keeps_sessions(fresh):
    gh = fresh
    token, _, _, _ = gh.login()
    assert token_status(gh, token) == 200
    before = set(gh.worker_pids())
    assert before
    for pid in before:
        os.kill(pid, signal.SIGKILL)   # workers this test's server started
    assert wait_until(lambda: set(gh.worker_pids()) and not (set(gh.worker_pids()) & before),
                      10, 0.05) is not None, "the master did not replace its workers"
    took = wait_until(lambda: gh.get("/redfish/v1/").status_code == 200, 10, 0.05)
    assert took is not None
    assert token_status(gh, token) == 200
    assert gh.login()[0]


# ------------------------------------------- the command line, at once
# obeyed_at_once holds each change to the promise of docs/design.md: every
# worker obeys it within 100 ms (plus a margin for a loaded machine and the
# sanitizer build: gatehouse_harness.CHANGE_MARGIN).

def test_session_revoke_by_id_is_obeyed_at_once(fresh, record_property):
    gh = fresh
    token, location, body, _ = gh.login()
    other, _, _, _ = gh.login()
    assert token_status(gh, token) == 200
    p = gh.cli("session", "list")
    assert body["Id"] in p.stdout
    assert token not in p.stdout
    gh.cli("session", "revoke", body["Id"])
    took = obeyed_at_once(lambda: token_status(gh, token) == 401)
    record_property("revoke_seconds", took)
    print(f"session revoke obeyed after {took}s")
    assert token_status(gh, other) == 200
    assert path_of(location) not in gh.sessions_server_side()


def test_session_revoke_by_user(fresh, record_property):
    gh = fresh
    pw = gh.add_user("bob", "Operator")
    tokens = [gh.login("bob", pw)[0] for _ in range(3)]
    admin_token, _, _, _ = gh.login()
    for t in tokens:
        assert token_status(gh, t) == 200
    gh.cli("session", "revoke", "--user", "bob")
    took = obeyed_at_once(lambda: all(token_status(gh, t) == 401 for t in tokens))
    record_property("revoke_user_seconds", took)
    assert token_status(gh, admin_token) == 200
    # Revoking sessions is no lock: bob may log in again.
    assert gh.login("bob", pw)[0]


def test_user_del_stops_token_and_cached_basic(fresh, record_property):
    gh = fresh
    pw = gh.add_user("carol", "Operator")
    token, _, _, _ = gh.login("carol", pw)
    # Twice, so the credential is in the Basic cache.
    assert basic_status(gh, "carol", pw) == 200
    assert basic_status(gh, "carol", pw) == 200
    assert token_status(gh, token) == 200
    gh.cli("user", "del", "carol")
    took = obeyed_at_once(lambda: token_status(gh, token) == 401 and
                          basic_status(gh, "carol", pw) == 401)
    record_property("user_del_seconds", took)
    assert gh.login("carol", pw, expect=401)


def test_user_passwd_drops_cached_basic(fresh, record_property):
    gh = fresh
    pw = gh.add_user("dave", "ReadOnly")
    assert basic_status(gh, "dave", pw) == 200
    assert basic_status(gh, "dave", pw) == 200
    new = new_password("dave")
    gh.secrets.add(new)
    gh.users["dave"] = new
    gh.cli("user", "passwd", "dave", "--password-file", gh.secret_file(new))
    took = obeyed_at_once(lambda: basic_status(gh, "dave", pw) == 401)
    record_property("user_passwd_seconds", took)
    assert basic_status(gh, "dave", new) == 200


def test_user_add_reaches_running_server(fresh):
    gh = fresh
    pw = gh.add_user("erin", "ReadOnly")
    obeyed_at_once(lambda: basic_status(gh, "erin", pw) == 200)
    p = gh.cli("user", "list")
    assert "erin" in p.stdout and pw not in p.stdout


# ------------------------------------------------------------ login storm

def test_login_storm_does_not_stall_authenticated_requests(make_server, record_property):
    """50 concurrent logins (right and wrong) with a real argon2id cost, while
    authenticated GETs keep being answered."""
    gh = make_server({"password": {"argon2_t_cost": 2, "argon2_m_cost_kib": 32768,
                                   "argon2_parallelism": 1},
                      "lockout": {"lockout_threshold": 0}}, cheap_hashing=False)
    storm_pw = gh.add_user("storm", "ReadOnly")
    token, _, _, _ = gh.login()

    def get_once(s):
        t0 = time.monotonic()
        r = s.get(gh.url + "/redfish/v1/Systems/1", timeout=30)
        return r.status_code, time.monotonic() - t0

    # Baseline, and warm connections.
    with gh.session(token=token) as s:
        base = [get_once(s) for _ in range(20)]
    assert all(c == 200 for c, _ in base)

    stop = threading.Event()
    get_results = []

    def getter():
        with gh.session(token=token) as s:
            while not stop.is_set():
                get_results.append(get_once(s))
                stop.wait(0.01)      # a pace, not a wait for anything

    def login(i):
        right = i % 2 == 0
        user = "storm" if right or i % 4 == 1 else "admin"
        pw = storm_pw if right else f"Wrong-storm-{i}-pw"
        gh.secrets.add(pw)
        t0 = time.monotonic()
        r = requests.post(gh.url + SESSIONS, json={"UserName": user, "Password": pw},
                          verify=gh.ca, timeout=120)
        if "X-Auth-Token" in r.headers:
            gh.secrets.add(r.headers["X-Auth-Token"])
        return right, r.status_code, time.monotonic() - t0

    getters = [threading.Thread(target=getter) for _ in range(2)]
    for t in getters:
        t.start()
    wait_for(lambda: len(get_results) >= 2, 10, "authenticated GETs before the storm")
    t0 = time.monotonic()
    storm_start = len(get_results)
    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as ex:
        logins = list(ex.map(login, range(50)))
    storm = time.monotonic() - t0
    storm_end = len(get_results)
    stop.set()
    for t in getters:
        t.join()

    during = get_results[storm_start:storm_end]
    record_property("storm_seconds", storm)
    record_property("get_max_seconds", max(d for _, d in during) if during else None)
    print(f"storm {storm:.2f}s, {len(during)} GETs during it, max "
          f"{max(d for _, d in during):.3f}s, baseline max {max(d for _, d in base):.3f}s")
    bad = [(right, code) for right, code, _ in logins if code != (201 if right else 401)]
    assert not bad, f"logins answered wrongly: {bad}"
    # The storm overlapped authenticated traffic (a count, not a time).
    assert len(during) >= 10, f"only {len(during)} GETs during the storm"
    assert all(code == 200 for code, _ in during), [c for c, _ in during if c != 200]
    # How much a storm slows authenticated GETs is measured by `make bench`
    # (row 4: their p99 during a login storm against without one), not here.


def thread_nices(pid):
    """{tid: nice} of every thread of process pid, from /proc."""
    nices = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:      # a thread that ended meanwhile
            continue
        nices[int(tid)] = int(fields[16])   # field 19 of stat(5), the 17th after comm
    return nices


@pytest.mark.parametrize("hash_nice", [10, 0])
def test_hashing_runs_below_the_event_loop(make_server, hash_nice):
    """[password] hash_nice: the hash runs on a thread at that much lower a
    priority than the worker's event loop, which keeps its own; 0: no such
    thread."""
    gh = make_server({"password": {"hash_nice": hash_nice}})
    own = os.getpriority(os.PRIO_PROCESS, 0)     # the workers inherit ours
    for _ in range(2 * len(gh.worker_pids())):   # reach every worker, most likely
        gh.login()
    lowered = []
    for pid in gh.worker_pids():
        nices = thread_nices(pid)
        assert nices[pid] == own, f"worker {pid}'s event loop runs at nice {nices[pid]}"
        lowered += [n for n in nices.values() if n != own]
    if hash_nice:
        assert lowered and set(lowered) == {min(own + hash_nice, 19)}, lowered
    else:
        assert not lowered, lowered


# ------------------------------------------------------------- audit log

def test_audit_log_and_stderr_hold_no_secret(make_server):
    gh = make_server({"lockout": {"lockout_threshold": 3, "lockout_duration": 600,
                                  "lockout_reset_after": 600}})
    pw = gh.add_user("frank", "Operator")
    # Sessions: login, use, logout; wrong logins; Basic right and wrong.
    token, location, _, _ = gh.login("frank", pw)
    assert token_status(gh, token) == 200
    assert gh.logout(token, path_of(location)).status_code in (200, 204)
    gh.login("frank", "Wrong-frank-pw-1", expect=401)
    assert basic_status(gh, "frank", pw) == 200
    assert basic_status(gh, "frank", "Wrong-frank-pw-2") == 401
    gh.secrets.update({"Wrong-frank-pw-1", "Wrong-frank-pw-2"})
    # A revoked session.
    t2, l2, b2, _ = gh.login("frank", pw)
    gh.cli("session", "revoke", b2["Id"])
    # Accounts over Redfish, with passwords in the bodies.
    acct_pw = new_password("grace")
    new_pw = new_password("grace2")
    gh.secrets.update({acct_pw, new_pw})
    with gh.admin() as s:
        r = s.post(gh.url + "/redfish/v1/AccountService/Accounts",
                   json={"UserName": "grace", "Password": acct_pw, "RoleId": "ReadOnly"},
                   timeout=10)
        assert r.status_code == 201, r.text
        r = s.patch(gh.url + path_of(r.headers["Location"]), json={"Password": new_pw},
                    timeout=10)
        assert r.status_code == 200, r.text
    gh.users["grace"] = new_pw
    # A lockout (after every worker applied the password change: see
    # test_lockout_counts_failures_right_after_an_account_change).
    gh.wait_changes_applied()
    for i in range(3):
        gh.login("grace", f"Wrong-grace-pw-{i}", expect=401)
        gh.secrets.add(f"Wrong-grace-pw-{i}")
    gh.login("grace", new_pw, expect=401)
    # Tokens in places they do not belong, and a malformed header.
    gh.get("/redfish/v1/Systems", headers={"X-Auth-Token": t2})
    gh.get("/redfish/v1/Systems", headers={"Authorization": "Basic " + base64.b64encode(
        f"frank:{pw}".encode()).decode()[:-3] + "%%%"})
    gh.stop()

    leaked = gh.leaked_secrets()
    assert not leaked, leaked

    lines = gh.audit_log.read_text().splitlines()
    records = [json.loads(line) for line in lines]   # every line is one JSON object
    events = {(r.get("event"), r.get("user")) for r in records}
    for want in [("login", "frank"), ("login_failed", "frank"), ("logout", "frank"),
                 ("revoked", "frank"), ("lockout", "grace")]:
        assert want in events, f"no {want} in the audit log: {sorted(events, key=str)}"
    logins = [r for r in records if r.get("event") == "login" and r.get("user") == "frank"]
    assert all(r.get("client") == "127.0.0.1" for r in logins), logins
    assert all(r.get("method") for r in logins), logins
    gh.start()   # for the fixture's own checks at teardown
