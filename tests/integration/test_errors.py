"""Errors nginx decides itself (oversized bodies, URIs and headers, malformed
requests, methods it refuses) answered in the dialect of the path: a Redfish
error body under /redfish, the engine's plain text under /ovirt-engine;
nginx's own page where no dialect owns the path, and never a 500. The
oversized body, header and URI and the connection limit under /redfish are
in test_server.py, with the other limits."""

import json
import socket
import ssl
import subprocess
import time

from gatehouse_harness import SESSIONS, assert_redfish_error

HSTS = "Strict-Transport-Security"


def redfish_error(r, status, message, https=True):
    """r (a requests response) is a whole Redfish error as DSP0266 has it."""
    body = assert_redfish_error(r, status, message)
    assert r.headers.get("OData-Version") == "4.0", r.headers
    assert "<html" not in r.text.lower()
    assert (HSTS in r.headers) == https, r.headers
    return body


# ------------------------------------------------------ raw HTTP/1.1 exchanges

class Raw:
    """One response read off a socket: status, headers (lower-case names), body."""

    def __init__(self, data):
        head, _, self.body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status_line = lines[0]
        self.status = int(lines[0].split()[1]) if lines[0].startswith("HTTP/1.1 ") else None
        self.headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        length = self.headers.get("content-length")
        self.complete = length is not None and len(self.body) >= int(length)
        if length is not None:
            self.body = self.body[:int(length)]

    def json(self):
        return json.loads(self.body)


def read_response(sock, timeout=10):
    """Read one response (headers and a Content-Length body) from sock."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if b"\r\n\r\n" in data and Raw(data).complete:
            break
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, ssl.SSLError, ConnectionResetError):
            break
        if not chunk:
            break
        data += chunk
    return Raw(data)


def exchange(gh, request, tls=True, port=None):
    """Send raw bytes on a fresh connection; the one response to them."""
    raw = socket.create_connection(("127.0.0.1", port or gh.port), timeout=10)
    sock = raw
    if tls:
        ctx = ssl.create_default_context(cafile=gh.ca)
        sock = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    try:
        sock.sendall(request)
        return read_response(sock)
    finally:
        sock.close()


def raw_redfish_error(resp, status, message, https=True):
    assert resp.status == status, f"{resp.status_line}\n{resp.body[:300]!r}"
    assert resp.headers.get("content-type", "").startswith("application/json"), resp.headers
    assert resp.headers.get("odata-version") == "4.0", resp.headers
    assert (HSTS.lower() in resp.headers) == https, resp.headers
    ids = [m["MessageId"] for m in resp.json()["error"]["@Message.ExtendedInfo"]]
    assert any(i.startswith("Base.") and i.endswith("." + message) for i in ids), ids
    return resp.json()


def still_answers(gh):
    assert gh.get("/redfish/v1/").status_code == 200
    with gh.admin() as s:
        assert s.get(gh.url + "/redfish/v1/Systems/1", timeout=10).status_code == 200


# ------------------------------------------------------------------ Redfish

def test_body_over_the_limit_over_http2(server):
    p = subprocess.run(["curl", "-sS", "--http2", "--cacert", server.ca, "-i",
                        "-H", "Content-Type: application/json",
                        "--data-binary", "@-", server.url + SESSIONS],
                       input=b"{" + b" " * 200000 + b"}", capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    head, _, body = p.stdout.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/2 413"), head[:200]
    assert b"content-type: application/json" in head.lower(), head
    assert b"odata-version: 4.0" in head.lower(), head
    ids = [m["MessageId"] for m in json.loads(body)["error"]["@Message.ExtendedInfo"]]
    assert ids == ["Base.1.15.0.PayloadTooLarge"], ids


def test_header_over_the_limit_over_http2(server):
    """A header over max_header_bytes that nginx lets through (20000 'a's are
    12500 bytes Huffman-coded, under its buffer) gets the dialect's 431; one
    nginx refuses itself ends the connection (ENHANCE_YOUR_CALM): no answer to
    speak a dialect in, but at once, and the server goes on. The limit byte by
    byte is in test_header_limit.py."""
    p = subprocess.run(["curl", "-sS", "--http2", "--cacert", server.ca, "-i",
                        "-H", "X-Big: " + "a" * 20000, server.url + "/redfish/v1/Systems"],
                       capture_output=True, text=True, timeout=30)
    assert p.stdout.startswith("HTTP/2 431"), p.stdout[:200]
    assert '"Base.1.15.0.GeneralError"' in p.stdout, p.stdout[-600:]
    t0 = time.monotonic()
    p = subprocess.run(["curl", "-sS", "--http2", "--cacert", server.ca, "-i",
                        "-H", "X-Big: " + "Z" * 20000, server.url + "/redfish/v1/Systems"],
                       capture_output=True, text=True, timeout=30)
    # The promise: an input nginx refuses ends the connection, never a hang
    # (docs/design.md, "Rules the design rests on"); 10 s leaves room for a
    # loaded machine and the sanitizer build.
    assert time.monotonic() - t0 < 10
    assert p.returncode != 0 and not p.stdout.startswith("HTTP/2"), p.stdout[:200]
    still_answers(server)


def test_uri_with_a_query_over_the_limit(server):
    r = server.get("/redfish/v1/Systems?" + "q=" + "b" * 20000)
    body = redfish_error(r, 414, "GeneralError")
    assert "URI" in body["error"]["@Message.ExtendedInfo"][0]["Resolution"]
    still_answers(server)


def test_malformed_requests(server):
    bad = [
        b"GET /redfish/v1/Systems HTTP/1.1\r\nHost: 127.0.0.1\r\nNo colon here\r\n\r\n",
        b"GET /redfish/v1/Systems HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: again\r\n\r\n",
        b"GET /redfish/v1/Systems HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"GET /redfish/v1 /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b"GET /redfish/v1/\x01 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b"POST " + SESSIONS.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
    ]
    for req in bad:
        resp = exchange(server, req)
        raw_redfish_error(resp, 400, "GeneralError")
    # No URI at all: no dialect to speak; nginx's page, still a 400.
    for req in (b"\x16\x03garbage\r\n\r\n", b"GET\r\n\r\n", b"GET  HTTP/1.1\r\n\r\n"):
        resp = exchange(server, req)
        assert resp.status == 400, (req, resp.status_line)
    still_answers(server)


def test_error_pages_neither_authenticate_nor_serve(server):
    """The error page answers for a request nginx refused: good credentials
    on it change nothing and nothing protected reaches its body."""
    with server.admin() as s:
        r = s.get(server.url + "/redfish/v1/AccountService/Accounts",
                  headers={"X-Big": "a" * 20000}, timeout=10)
        assert r.status_code == 431, r.status_code
        assert "Members" not in r.text and "admin" not in r.text, r.text[:300]
        assert "X-Auth-Token" not in r.headers and "ETag" not in r.headers
        r = s.post(server.url + SESSIONS, json={"UserName": "admin",
                                                "Password": server.admin_password},
                   headers={"X-Big": "a" * 20000}, timeout=10)
        redfish_error(r, 431, "GeneralError")
        assert "X-Auth-Token" not in r.headers and "Location" not in r.headers


def test_method_nginx_refuses(server):
    resp = exchange(server, b"TRACE " + SESSIONS.encode() + b" HTTP/1.1\r\n"
                            b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n")
    raw_redfish_error(resp, 405, "OperationNotAllowed")
    assert resp.headers.get("allow") == "GET, HEAD, POST", resp.headers


# -------------------------------------------------------------------- oVirt

def test_ovirt_errors_are_plain_text(server):
    r = server.request("POST", "/ovirt-engine/api", data=b"x" * 200000,
                       headers={"Content-Type": "application/xml"})
    assert r.status_code == 413, r.status_code
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8", r.headers
    assert r.text == "Request body too large\n"
    assert "OData-Version" not in r.headers and HSTS in r.headers
    r = server.get("/ovirt-engine/api/" + "a" * 20000)
    assert r.status_code == 414, r.status_code
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8", r.headers
    r = server.get("/ovirt-engine/api", headers={"X-Big": "a" * 20000})
    assert r.status_code == 431, r.status_code
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8", r.headers
    assert r.text == "Request header fields too large\n"
    # The CA download on the plain-HTTP listener answers alike.
    resp = exchange(server, b"GET /ovirt-engine/services/pki-resource HTTP/1.1\r\n"
                            b"Host: 127.0.0.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n",
                    tls=False, port=server.http_port)
    assert resp.status == 431, resp.status_line
    assert resp.headers.get("content-type") == "text/plain; charset=utf-8", resp.headers
    assert HSTS.lower() not in resp.headers      # no HSTS over plain HTTP
    still_answers(server)


# ------------------------------------------------------------ nobody's paths

def test_paths_of_no_dialect_get_nginx_pages(server):
    for path in ("/nothing", "/.gatehouse/error", "/.gatehouse/error?x=1"):
        r = server.get(path)
        assert r.status_code == 404, (path, r.status_code)
        assert "OData-Version" not in r.headers
    r = server.get("/nothing/" + "a" * 20000)
    assert r.status_code == 414, r.status_code
    assert "OData-Version" not in r.headers
    # Headers over max_header_bytes (16384), refused by nginx (a line longer
    # than its buffer) or by the module: nginx's page for a header too large.
    for size in (20000, 16370):
        r = server.get("/nothing", headers={"X-Big": "a" * size})
        assert r.status_code == 400, (size, r.status_code)
        assert "Request Header Or Cookie Too Large" in r.text, (size, r.text[:300])
        assert "OData-Version" not in r.headers
    still_answers(server)


def test_plain_http_listener_speaks_the_dialect_too(server):
    resp = exchange(server, b"GET /redfish/v1/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            b"X-Big: " + b"a" * 20000 + b"\r\n\r\n",
                    tls=False, port=server.http_port)
    raw_redfish_error(resp, 431, "GeneralError", https=False)


# ------------------------------------------------------- how JSON is written

def written_as_bundled(r):
    """r's body is JSON written as the bundled files under data/ are:
    indented by two spaces, ASCII, a newline last, Content-Length all of it."""
    body = r.content
    assert r.headers["Content-Length"] == str(len(body)), r.headers
    assert body.endswith(b"}\n") or body.endswith(b"]\n"), body[-40:]
    again = json.dumps(json.loads(body), indent=2, ensure_ascii=True) + "\n"
    assert body.decode("ascii") == again, body[:400]


def test_json_bodies_are_written_as_the_bundled_files(server):
    """A body gatehouse makes (an error, a session, a rendered collection)
    and a bundled file it serves as it is, in every dialect, side by side."""
    admin = ("admin", server.admin_password)
    with server.session() as s:
        bundled = [s.get(server.url + "/redfish/v1/Systems/1", auth=admin, timeout=10),
                   s.get(server.url + "/ovirt-engine/api/clusters", auth=("admin@internal",
                         server.admin_password), headers={"Accept": "application/json"},
                         timeout=10)]
        generated = [
            s.get(server.url + "/redfish/v1/Systems", timeout=10),             # Redfish 401
            s.get(server.url + "/redfish/v1", timeout=10),                     # rendered root
            s.get(server.url + "/api/rest/volume", timeout=10),                # PowerStore 401
            s.get(server.url + "/api/rest/nothing", auth=admin, timeout=10),   # PowerStore 404
            s.get(server.url + "/api/rest/volume", auth=admin, timeout=10),    # a collection
            s.get(server.url + "/api/rest/volume", params={"select": "id,name,size"},
                  auth=admin, timeout=10),
            s.post(server.url + "/ovirt-engine/sso/oauth/token",               # oVirt SSO error
                   data={"grant_type": "password", "scope": "ovirt-app-api"},
                   headers={"Accept": "application/json"}, timeout=10),
        ]
    _, _, _, created = server.login()                                          # a Redfish session
    generated.append(created)
    for r in bundled + generated:
        assert r.headers["Content-Type"].startswith("application/json"), (r.url, r.headers)
        written_as_bundled(r)
    assert [r.status_code for r in bundled] == [200, 200]
    assert [r.status_code for r in generated] == [401, 200, 401, 404, 200, 200, 400, 201]
