"""Debian's real oVirt client, libgovirt 0.3.9 (gir1.2-govirt-1.0, the C
library virt-viewer uses), against gatehouse over real HTTPS with the test
CA; and the two things libgovirt sends that a server cannot serve as sent.

What libgovirt 0.3.9 sends (govirt/ovirt-proxy.c, ovirt-rest-call.c,
ovirt-action-rest-call.c; the capture test below checks it):
- every call is an OvirtActionRestCall, whose serialize_params writes
  "<action></action>" as an application/xml body, so each GET carries a
  17-byte body and Content-Length: 17;
- Prefer: persistent-auth, All-Content: true, Filter: true|false on every
  request; libsoup keeps the JSESSIONID cookie in the proxy's cookie jar;
- Basic credentials only after a 401 (libsoup's auth manager): the request
  is then sent again with Authorization, without its body, still declaring
  Content-Length: 17. Over HTTP/1.1 the server cannot tell that from a body
  still on its way; over HTTP/2 (libsoup's choice when offered) the stream
  ends short of its Content-Length, a malformed request (RFC 9113 8.1.1),
  which nginx refuses with 400 before any module runs.
docs/ovirt.md ("libgovirt") says what follows for a user."""

import base64
import json
import os
import re
import socket
import ssl
import subprocess
import threading
from pathlib import Path

import pytest
import requests

from ovirt_util import API, CA_QUERY, PKI, get_token

CLIENT = Path(__file__).with_name("libgovirt_client.py")
RETRY_BODY = b"<action></action>"


def govirt_available():
    p = subprocess.run(["/usr/bin/python3", "-c",
                        "import gi; gi.require_version('GoVirt', '1.0')"],
                       capture_output=True, timeout=30)
    return p.returncode == 0


pytestmark = pytest.mark.skipif(not govirt_available(),
                                reason="gir1.2-govirt-1.0 missing: scripts/install-deps")


def download_ca(gh, tmp_path):
    """The CA as a client first gets it: over plain HTTP, from the engine's
    pki-resource URL."""
    r = requests.get(gh.http_url + PKI + CA_QUERY, timeout=10)
    assert r.status_code == 200
    path = tmp_path / "engine-ca.pem"
    path.write_bytes(r.content)
    return str(path)


def libgovirt(gh, ca_file, http1=False, **creds):
    """Run libgovirt_client.py; returns its JSON report."""
    env = {k: v for k, v in os.environ.items() if k != "SOUP_FORCE_HTTP1"}
    if http1:
        env["SOUP_FORCE_HTTP1"] = "1"      # libsoup 3's own switch
    args = {"host": f"127.0.0.1:{gh.port}", "ca_file": ca_file, **creds}
    p = subprocess.run(["/usr/bin/python3", str(CLIENT), json.dumps(args)],
                       capture_output=True, text=True, timeout=60, env=env)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def steps(report):
    return {s[0]: s[1:] for s in report["steps"]}


def ovirt_sessions(gh, user):
    lines = gh.cli("session", "list").stdout.splitlines()
    return [line for line in lines if re.search(rf"\b{user}\b", line) and "ovirt" in line]


def test_libgovirt_over_http1_basic_persistent_auth(fresh, tmp_path):
    """Basic admin@internal, persistent-auth: the API root, then every
    collection it links to, over HTTP/1.1, in one session."""
    ca = download_ca(fresh, tmp_path)
    report = libgovirt(fresh, ca, http1=True, user="admin@internal",
                       password=fresh.admin_password)
    got = steps(report)
    assert report["ca_cert_bytes"] == len(Path(ca).read_bytes())
    assert got["fetch_api"] == ["ok", None]
    assert got["vms"] == ["ok", ["build01", "db01", "web01"]]
    assert got["hosts"] == ["ok", ["host01", "host02"]]
    assert got["clusters"] == ["ok", ["Default", "Lab"]]
    # Not in the bundled tree: the <api> document does not link them.
    for name in ("storage_domains", "data_centers", "vm_pools"):
        assert got[name] == ["absent"]
    # The JSESSIONID came back on every later request: one session, not one
    # per request carrying Basic and Prefer: persistent-auth.
    assert len(ovirt_sessions(fresh, "admin")) == 1


def test_libgovirt_over_http2_basic_is_refused_on_the_retry(fresh, tmp_path):
    """libsoup speaks HTTP/2 when offered: its retry after the 401 ends the
    stream with none of the 17 bytes it declares, and nginx answers 400."""
    ca = download_ca(fresh, tmp_path)
    report = libgovirt(fresh, ca, user="admin@internal", password=fresh.admin_password)
    assert report["steps"] == [["fetch_api", "error", "rest-proxy-error-quark", 400,
                                "Bad Request"]]
    assert ovirt_sessions(fresh, "admin") == []
    r = fresh.get(API, auth=("admin@internal", fresh.admin_password))
    assert r.status_code == 200


def test_libgovirt_over_http2_with_an_sso_token(fresh, tmp_path):
    """OvirtProxy:sso-token: Bearer from the first request, no 401, no
    retry; HTTP/2 works."""
    ca = download_ca(fresh, tmp_path)
    token = get_token(fresh)
    report = libgovirt(fresh, ca, token=token)
    got = steps(report)
    assert got["fetch_api"] == ["ok", None]
    assert got["vms"] == ["ok", ["build01", "db01", "web01"]]
    assert got["hosts"] == ["ok", ["host01", "host02"]]
    assert got["clusters"] == ["ok", ["Default", "Lab"]]


# ------------------------------------------------ what libgovirt sends


def test_libgovirt_sends_a_get_body_and_retries_without_it(fresh, tmp_path):
    """A capture, on loopback, of what libgovirt sends, against a listener
    that answers 401 then 200 as the engine would (with gatehouse's
    certificate): the facts the rest of this file and docs/ovirt.md rest on."""
    ca = download_ca(fresh, tmp_path)
    pki = fresh.data / "pki"
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki / "server-chain.pem", pki / "server.key")
    ctx.set_alpn_protocols(["http/1.1"])
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(30)
    seen = []

    def serve():
        with listener, ctx.wrap_socket(listener.accept()[0], server_side=True) as c:
            c.settimeout(5)
            buf = b""
            for answer in (b"401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"RESTAPI\"",
                           b"200 OK\r\nContent-Type: application/xml"):
                while b"\r\n\r\n" not in buf:
                    buf += c.recv(65536)
                head, _, buf = buf.partition(b"\r\n\r\n")
                seen.append(head)
                if b"Authorization:" not in head:      # the first one has its body
                    while len(buf) < len(RETRY_BODY):
                        buf += c.recv(65536)
                    seen.append(buf[:len(RETRY_BODY)])
                    buf = buf[len(RETRY_BODY):]
                body = b"" if answer.startswith(b"401") else b"<api></api>"
                c.sendall(b"HTTP/1.1 " + answer + b"\r\nContent-Length: %d\r\n\r\n" % len(body)
                          + body)

    t = threading.Thread(target=serve, daemon=True)
    t.start()

    class Listener:
        port = listener.getsockname()[1]

    report = libgovirt(Listener, ca, user="admin@internal", password="Pw-capture-1")
    t.join(30)
    assert report["steps"][0][:2] == ["fetch_api", "ok"]
    first, body, retry = seen
    for head in (first, retry):
        assert head.startswith(b"GET /ovirt-engine/api HTTP/1.1\r\n")
        assert b"\r\nContent-Type: application/xml\r\n" in head
        assert b"\r\nContent-Length: 17\r\n" in head
        assert b"\r\nPrefer: persistent-auth\r\n" in head
    assert body == RETRY_BODY
    assert b"Authorization" not in first
    auth = base64.b64encode(b"admin@internal:Pw-capture-1")
    assert b"\r\nAuthorization: Basic " + auth + b"\r\n" in retry


# ------------------------------------- the server's side, byte for byte


def raw_exchange(gh, payload, more=None, wait=10):
    """Send payload on one TLS connection (HTTP/1.1), read one response;
    then send `more` (if any) and read until the server closes or answers.
    Returns (first response bytes, what followed)."""
    ctx = ssl.create_default_context(cafile=gh.ca)
    ctx.set_alpn_protocols(["http/1.1"])
    with socket.create_connection(("127.0.0.1", gh.port), timeout=wait) as raw, \
            ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
        s.sendall(payload)
        first = read_response(s)
        after = b""
        if more is not None:
            try:
                s.sendall(more)
                after = read_response(s)
            except (ConnectionError, ssl.SSLError, socket.timeout):
                after = b""
        return first, after


def read_response(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            return buf
        buf += d
    head, _, body = buf.partition(b"\r\n\r\n")
    m = re.search(rb"\r\nContent-Length: (\d+)", head)
    while m and len(body) < int(m.group(1)):
        d = s.recv(65536)
        if not d:
            break
        body += d
    return head + b"\r\n\r\n" + body


def get_head(auth=None, length=len(RETRY_BODY)):
    h = (b"GET " + API.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
         b"Content-Type: application/xml\r\nContent-Length: %d\r\n"
         b"Prefer: persistent-auth\r\nFilter: true\r\nAll-Content: true\r\n" % length)
    if auth:
        h += b"Authorization: Basic " + base64.b64encode(auth.encode()) + b"\r\n"
    return h + b"\r\n"


def status_of(response):
    return int(response.split(b" ", 2)[1]) if response else None


def test_get_body_that_arrives_is_discarded_and_the_connection_kept(fresh):
    """A GET with its whole body (libgovirt's first request): the 401 comes
    at once and the next request on the connection is read as sent."""
    creds = "admin@internal:" + fresh.admin_password
    first, after = raw_exchange(fresh, get_head() + RETRY_BODY,
                                more=get_head(creds) + RETRY_BODY)
    assert status_of(first) == 401
    assert b"\r\nConnection: keep-alive\r\n" in first
    assert status_of(after) == 200 and b"<api>" in after


def test_declared_body_that_never_comes_is_answered_and_the_connection_closed(fresh):
    """libgovirt's retry over HTTP/1.1: Content-Length: 17 and no body. The
    request is answered at once (nginx does not wait for a body nobody reads),
    and then the connection is closed: the next bytes on it cannot be told
    from the promised body, so keeping it alive would hand the next request's
    first 17 bytes to this one as its body and answer the rest as garbage."""
    creds = "admin@internal:" + fresh.admin_password
    first, after = raw_exchange(fresh, get_head(creds), more=get_head(creds) + RETRY_BODY)
    assert status_of(first) == 200 and b"<api>" in first
    assert b"\r\nConnection: close\r\n" in first
    # Nothing more is served on it: no answer to a request cut 17 bytes short.
    assert status_of(after) is None


def test_libgovirt_retry_refused_with_the_engine_401_closes_too(fresh):
    """The same declared-but-absent body on a request gatehouse refuses (a
    wrong password): a 401 at once, then the connection closed."""
    first, after = raw_exchange(fresh, get_head("admin@internal:Wrong-Password-1"),
                                more=get_head() + RETRY_BODY)
    assert status_of(first) == 401
    assert b"\r\nConnection: close\r\n" in first
    assert status_of(after) is None
