"""Gateway mode through nginx's own proxy: gatehouse in front of a real
upstream (upstream_recorder.py), in an nginx configuration written the way
"your own nginx" is (`gatehouse on;` and `proxy_pass` in one location),
spoken to in the Proxmox VE dialect.

What is held: the upstream never sees a credential of any dialect, nor an
identity header a client made up (any case, repeated, with underscores); it
gets who the request is from gatehouse alone; a ReadOnly user's write is
refused with the dialect's 403 and never arrives; an open route passes with
no identity; the upstream's failures are the dialect's 502/504 and the next
request works, while its own 503 passes unchanged; SSE and WebSocket pass
through and end within a second of their session's revocation (or, for
Basic, their account's deletion)."""

import hashlib
import json
import socket
import ssl
import subprocess
import threading
import time

import pytest
import websocket

import gatehouse_harness as H
from upstream_recorder import UpstreamRecorder

API = "/api2/json"
PREFIX = "X-Gatehouse-"
# The product's promise for a long-lived request whose credential ended.
STREAM_PROMISE = 1.0
STREAM_MARGIN = 1.0 if H.SANITIZE else 0.5


def nginx_conf(upstream_port):
    def text(gh):
        p = gh.nginx_conf_paths()
        return f"""
load_module "{p['module']}";
user {p['user']};
worker_processes 2;
pid "{p['prefix']}/nginx.pid";
error_log stderr notice;
thread_pool gatehouse_hash threads=2;
thread_pool gatehouse_io threads=2;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path "{p['prefix']}/tmp/body";
    proxy_temp_path "{p['prefix']}/tmp/proxy";
    fastcgi_temp_path "{p['prefix']}/tmp/fastcgi";
    uwsgi_temp_path "{p['prefix']}/tmp/uwsgi";
    scgi_temp_path "{p['prefix']}/tmp/scgi";
    large_client_header_buffers 6 16k;
    underscores_in_headers on;

    gatehouse_data_dir "{p['data']}";
    gatehouse_config "{p['config']}";

    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      '';
    }}
    upstream api {{
        server 127.0.0.1:{upstream_port};
        keepalive 8;
    }}

    server {{
        listen 127.0.0.1:{p['port']} ssl http2;
        ssl_certificate "{p['data']}/pki/server-chain.pem";
        ssl_certificate_key "{p['data']}/pki/server.key";

        error_page 400 404 405 413 414 429 497 500 502 503 504 /.gatehouse/error;
        error_page 494 =431 /.gatehouse/error;

        location / {{
            proxy_pass http://api;
            gatehouse on;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_buffering off;
            proxy_read_timeout 1s;
        }}
        location = /.gatehouse/error {{
            internal;
            gatehouse_error;
        }}
    }}
}}
"""
    return text


@pytest.fixture(scope="module")
def upstream():
    up = UpstreamRecorder().start()
    yield up
    up.stop()


@pytest.fixture(scope="module")
def gw(base_dir, upstream):
    gh = H.Gatehouse(base_dir, "gateway", config={"lockout": {"lockout_threshold": 0}})
    gh.nginx_conf = nginx_conf(upstream.port)
    gh.init()
    gh.add_user("operator", "Operator")
    gh.add_user("reader", "ReadOnly")
    gh.start()
    try:
        yield gh
    finally:
        gh.close_sessions()
        gh.stop()
        problems = [f"sanitizer report {w}:\n{t[:4000]}" for w, t in gh.sanitizer_reports()]
        problems += [f"secret in {w}: {what}" for w, what in gh.leaked_secrets()]
        problems += [line for line in gh.stderr_text().splitlines() if "exited on signal" in line]
        assert not problems, "\n".join(problems)
        gh.cleanup()


def login(gh, user="admin"):
    r = gh.request("POST", API + "/access/ticket",
                   data={"username": f"{user}@pam", "password": gh.users[user]})
    assert r.status_code == 200, r.text
    d = r.json()["data"]
    gh.secrets.update({d["ticket"], d["CSRFPreventionToken"]})
    return d["ticket"], d["CSRFPreventionToken"]


def arrived(upstream, marker, timeout=10):
    H.wait_for(lambda: upstream.find(marker), timeout, f"request {marker} at the upstream")
    return upstream.find(marker)[-1]


def names_lower(rec):
    return [n.lower().replace("_", "-") for n in rec.header_names()]


def identity(rec):
    return {n[len(PREFIX):]: v for n, v in rec.headers if n.lower().startswith(PREFIX.lower())}


def test_ticket_request_forwarded_without_credentials(gw, upstream):
    ticket, csrf = login(gw)
    r = gw.request("GET", API + "/nodes/t1?x=1",
                   headers={"Cookie": f"a=1; PVEAuthCookie={ticket}; b=2",
                            "CSRFPreventionToken": csrf})
    assert r.status_code == 200, r.text
    assert r.json()["path"] == API + "/nodes/t1?x=1"
    rec = arrived(upstream, "/nodes/t1")
    low = names_lower(rec)
    assert "authorization" not in low and "csrfpreventiontoken" not in low
    assert rec.values("Cookie") == ["a=1; b=2"]
    assert ticket not in json.dumps(rec.headers)
    ident = identity(rec)
    assert ident["User"] == "admin" and ident["Role"] == "Administrator"
    assert ident["Dialect"] == "proxmox"
    assert len(ident["Session"]) > 0
    assert "Login" in ident["Privileges"].split(",")
    assert "ConfigureUsers" in ident["Privileges"].split(",")
    assert rec.values("X-Forwarded-Proto") == ["https"]
    assert rec.values("X-Forwarded-For") == ["127.0.0.1"]
    assert rec.values("X-Forwarded-Host") == [f"127.0.0.1:{gw.port}"]


def test_only_gatehouse_cookie_dropped_header_removed_when_empty(gw, upstream):
    ticket, _ = login(gw)
    r = gw.request("GET", API + "/nodes/t2", headers={"Cookie": f"PVEAuthCookie={ticket}"})
    assert r.status_code == 200, r.text
    rec = arrived(upstream, "/nodes/t2")
    assert "cookie" not in names_lower(rec)


def test_spoofed_identity_never_arrives(gw, upstream):
    """Mixed case, repeated, and with underscores over a raw socket (which
    requests would not send as they are)."""
    ticket, _ = login(gw, "reader")
    spoof = ("X-Gatehouse-User: root\r\nx-gatehouse-user: root2\r\nX-GATEHOUSE-ROLE: Administrator\r\n"
             "X_Gatehouse_Privileges: ConfigureUsers\r\nx_gatehouse_user: root3\r\n"
             "X-Gatehouse-Anything: 1\r\nX-Forwarded-For: 10.9.9.9\r\n"
             "x-forwarded-proto: gopher\r\nX_Forwarded_Host: evil\r\n"
             "Authorization: Basic Zm9vOmJhcg==\r\n")
    req = (f"GET {API}/nodes/t3 HTTP/1.1\r\nHost: 127.0.0.1:{gw.port}\r\n"
           f"Cookie: PVEAuthCookie={ticket}\r\n{spoof}Connection: close\r\n\r\n")
    ctx = ssl.create_default_context(cafile=gw.ca)
    with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            s.sendall(req.encode())
            answer = b""
            while chunk := s.recv(65536):
                answer += chunk
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
    rec = arrived(upstream, "/nodes/t3")
    ident = identity(rec)
    assert ident == {"User": "reader", "Role": "ReadOnly", "Privileges": "Login,ConfigureSelf",
                     "Session": ident["Session"], "Dialect": "proxmox"}, rec.headers
    low = names_lower(rec)
    assert low.count("x-gatehouse-user") == 1 and "x-gatehouse-anything" not in low
    assert "authorization" not in low
    assert rec.values("X-Forwarded-For") == ["127.0.0.1"]
    assert rec.values("X-Forwarded-Proto") == ["https"]
    assert rec.values("X-Forwarded-Host") == [f"127.0.0.1:{gw.port}"]


def test_readonly_write_refused_never_arrives(gw, upstream):
    ticket, csrf = login(gw, "reader")
    r = gw.request("POST", API + "/nodes/t4", data=b"x" * 100,
                   headers={"Cookie": f"PVEAuthCookie={ticket}", "CSRFPreventionToken": csrf})
    assert r.status_code == 403, r.text
    assert r.json() == {"data": None}
    # the operator's write does arrive, body whole
    ticket, csrf = login(gw, "operator")
    body = b"y" * 5000
    r = gw.request("POST", API + "/nodes/t4ok", data=body,
                   headers={"Cookie": f"PVEAuthCookie={ticket}", "CSRFPreventionToken": csrf})
    assert r.status_code == 200, r.text
    rec = arrived(upstream, "/nodes/t4ok")
    assert rec.body_len == len(body) and rec.body_sha256 == hashlib.sha256(body).hexdigest()
    assert not upstream.find("/nodes/t4?") and not [x for x in upstream.snapshot()
                                                    if x.path == API + "/nodes/t4"]


def test_write_without_csrf_token_refused(gw, upstream):
    ticket, _ = login(gw, "operator")
    r = gw.request("DELETE", API + "/nodes/t5", headers={"Cookie": f"PVEAuthCookie={ticket}"})
    assert r.status_code == 401, r.text
    assert not upstream.find("/nodes/t5")


def test_no_credentials_refused(gw, upstream):
    r = gw.request("GET", API + "/nodes/t6")
    assert r.status_code == 401
    assert not upstream.find("/nodes/t6")


def test_api_token_identity(gw, upstream):
    ticket, csrf = login(gw, "operator")
    r = gw.request("POST", API + "/access/users/operator@pam/token/gw", data={"privsep": "1"},
                   headers={"Cookie": f"PVEAuthCookie={ticket}", "CSRFPreventionToken": csrf})
    assert r.status_code == 200, r.text
    value = r.json()["data"]["value"]
    gw.secrets.add(value)
    assert not upstream.find("/token/gw"), "gatehouse's own endpoint was passed on"
    auth = {"Authorization": f"PVEAPIToken=operator@pam!gw={value}"}
    r = gw.request("GET", API + "/nodes/t7", headers=auth)
    assert r.status_code == 200, r.text
    rec = arrived(upstream, "/nodes/t7")
    ident = identity(rec)
    assert ident["User"] == "operator" and ident["Session"] == ""
    assert ident["Privileges"] == "Login,ConfigureSelf"   # privsep: ReadOnly's at most
    assert "authorization" not in names_lower(rec)
    r = gw.request("PUT", API + "/nodes/t7w", headers=auth)
    assert r.status_code == 403
    assert not upstream.find("/nodes/t7w")
    r = gw.request("GET", API + "/nodes/t7bad",
                   headers={"Authorization": "PVEAPIToken=operator@pam!gw=" + "0" * 36})
    assert r.status_code == 401
    assert not upstream.find("/nodes/t7bad")


def test_open_route_is_local(gw, upstream):
    """The ticket endpoint is gatehouse's own: it never reaches the upstream."""
    login(gw)
    assert not upstream.find("/access/ticket")


def test_upstream_own_503_passes_unchanged(gw, upstream):
    ticket, _ = login(gw)
    r = gw.request("GET", API + "/nodes/503", headers={"Cookie": f"PVEAuthCookie={ticket}"})
    assert r.status_code == 503
    assert r.json() == {"upstream": "own 503"}


def test_upstream_slow_is_dialect_504_then_fine(gw, upstream):
    ticket, _ = login(gw)
    cookie = {"Cookie": f"PVEAuthCookie={ticket}"}
    r = gw.request("GET", API + "/nodes/x8/slow", headers=cookie, timeout=20)
    assert r.status_code == 504
    assert r.json() == {"data": None}
    assert gw.request("GET", API + "/nodes/t8", headers=cookie).status_code == 200


def test_upstream_reset_mid_body_is_dialect_502_then_fine(gw, upstream):
    ticket, csrf = login(gw)
    hdrs = {"Cookie": f"PVEAuthCookie={ticket}", "CSRFPreventionToken": csrf}
    r = gw.request("POST", API + "/nodes/x9/reset", data=b"z" * 200000, headers=hdrs, timeout=20)
    assert r.status_code == 502, r.text
    assert r.json() == {"data": None}
    assert gw.request("GET", API + "/nodes/t9", headers=hdrs).status_code == 200


def test_upstream_down_is_dialect_502(base_dir):
    gh = H.Gatehouse(base_dir, "gateway-down")
    gh.nginx_conf = nginx_conf(H.free_port())       # nobody listens there
    gh.init()
    gh.start()
    try:
        ticket, _ = login(gh)
        for _ in range(2):
            r = gh.request("GET", API + "/nodes/t10", headers={"Cookie": f"PVEAuthCookie={ticket}"})
            assert r.status_code == 502
            assert r.json() == {"data": None}
    finally:
        gh.close_sessions()
        gh.stop()
        assert not gh.sanitizer_reports()
        gh.cleanup()


def test_identity_prefix_configured(base_dir, upstream):
    """[server] identity_header_prefix names the family: gatehouse's headers
    carry it, and a client's copies of it (any case, '_') are dropped."""
    gh = H.Gatehouse(base_dir, "gateway-prefix",
                     config={"server": {"identity_header_prefix": "X-Api-Auth-"}})
    gh.nginx_conf = nginx_conf(upstream.port)
    gh.init()
    gh.start()
    try:
        ticket, _ = login(gh)
        r = gh.request("GET", API + "/nodes/t11",
                       headers={"Cookie": f"PVEAuthCookie={ticket}", "x-api-auth-user": "root",
                                "X_API_AUTH_ROLE": "Administrator"})
        assert r.status_code == 200, r.text
        rec = arrived(upstream, "/nodes/t11")
        assert rec.values("X-Api-Auth-User") == ["admin"]
        assert rec.values("X-Api-Auth-Role") == ["Administrator"]
        assert rec.values("X-Api-Auth-Dialect") == ["proxmox"]
        assert not [n for n in names_lower(rec) if n.startswith("x-gatehouse-")]
    finally:
        gh.close_sessions()
        gh.stop()
        assert not gh.sanitizer_reports()
        gh.cleanup()


def test_http2_forwarded_without_credentials(gw, upstream):
    ticket, _ = login(gw)
    p = subprocess.run(["curl", "-sS", "--http2", "--cacert", gw.ca, "-o", "/dev/null",
                        "-w", "%{http_version} %{http_code}",
                        "-H", f"Cookie: a=1; PVEAuthCookie={ticket}", "-H", "Cookie: b=2",
                        "-H", "x-gatehouse-user: root",
                        gw.url + API + "/nodes/t11"], capture_output=True, text=True, timeout=30)
    assert p.stdout == "2 200", p.stdout + p.stderr
    rec = arrived(upstream, "/nodes/t11")
    assert rec.values("Cookie") == ["a=1; b=2"]
    assert identity(rec)["User"] == "admin"


def _revoke_all(gh, user):
    gh.cli("session", "revoke", "--user", user)


def test_sse_passes_and_ends_on_revoke(gw, upstream):
    gw.add_user("sse1", "Operator")
    ticket, _ = login(gw, "sse1")
    with gw.session() as s:
        r = s.get(gw.url + API + "/nodes/s12/sse", stream=True, timeout=10,
                  headers={"Cookie": f"PVEAuthCookie={ticket}", "Accept": "text/event-stream"})
        assert r.status_code == 200
        lines = r.iter_lines(chunk_size=1)
        assert next(lines) == b": open"
        H.wait_for(lambda: upstream.streams_open("sse") >= 1, 10, "the SSE stream at the upstream")
        closed = upstream.streams_closed("sse")
        upstream.send_event("hello")
        got = [next(lines) for _ in range(3)]
        assert b"data: hello" in got
        _revoke_all(gw, "sse1")
        t0 = time.monotonic()
        ended = threading.Event()

        def drain():
            try:
                for _ in lines:
                    pass
            except Exception:
                pass
            ended.set()
        threading.Thread(target=drain, daemon=True).start()
        assert ended.wait(10), "the stream did not end"
        took = time.monotonic() - t0
        assert took < STREAM_PROMISE + STREAM_MARGIN, took
        H.wait_for(lambda: upstream.streams_closed("sse") > closed, 5,
                   "the upstream's SSE connection closed")


def test_websocket_passes_and_ends_on_user_deleted(gw, upstream):
    """Proxmox VE has no Basic credentials: the ticket's account is deleted,
    which ends its sessions."""
    gw.add_user("ws1", "Operator")
    ticket, _ = login(gw, "ws1")
    closed = upstream.streams_closed("ws")
    ws = websocket.create_connection(f"wss://127.0.0.1:{gw.port}{API}/nodes/w13/ws",
                                     sslopt={"ca_certs": gw.ca},
                                     header=[f"Cookie: PVEAuthCookie={ticket}"], timeout=10)
    try:
        ws.send("echo me")
        assert ws.recv() == "echo me"
        rec = arrived(upstream, "/nodes/w13/ws")
        assert identity(rec)["User"] == "ws1"
        assert "cookie" not in names_lower(rec)
        gw.cli("user", "del", "ws1")
        t0 = time.monotonic()
        with pytest.raises(Exception):
            while time.monotonic() - t0 < 10:
                ws.recv()
        took = time.monotonic() - t0
        assert took < STREAM_PROMISE + STREAM_MARGIN, took
        H.wait_for(lambda: upstream.streams_closed("ws") > closed, 5,
                   "the upstream's WebSocket connection closed")
    finally:
        ws.close()
