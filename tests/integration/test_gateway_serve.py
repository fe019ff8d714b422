"""Gateway mode as `gatehouse serve` writes it (docs/gateway.md): the nginx
configuration made from `upstream` and its keys passes `nginx -t` for every
kind of upstream, and a running gatehouse passes authenticated requests on to
a real upstream (upstream_nginx.py: Debian's nginx serving the bundled trees
as static files) over plain HTTP, HTTPS with a test CA and a client
certificate the upstream requires, and a unix socket; streams a 1 GiB upload
through without holding it; and the real Redfish clients work through it."""

import base64
import hashlib
import http.server
import json
import os
import re
import socket
import ssl
import threading
import time

import pytest
import requests

import gatehouse_harness as H
from upstream_nginx import MARK, UpstreamNginx, UpstreamPki

GiB = 1 << 30


@pytest.fixture(scope="module")
def pki(base_dir):
    return UpstreamPki(base_dir / "upstream-pki")


@pytest.fixture(scope="module")
def other_pki(base_dir):
    return UpstreamPki(base_dir / "other-pki")


@pytest.fixture
def upstreams():
    made = []

    def make(base_dir, **kw):
        up = UpstreamNginx(base_dir, **kw)
        made.append(up)
        return up

    yield make
    for up in made:
        up.stop()


def check_conf(make_server, config, pki=None):
    """`gatehouse serve --check` on config: nginx -t passes; the file written.
    pki: its client key is given to the data directory's owner first."""
    gh = make_server(config=config, start=False)
    if pki is not None:
        pki.give_key_to(gh.owner_uid, gh.owner_gid)
    p = gh.cli("serve", "--check", "--listen", f"127.0.0.1:{gh.port}", "--http-listen", "none")
    assert "test is successful" in p.stderr, p.stderr
    text = (gh.data / "run" / "nginx.conf").read_text()
    assert "@" not in re.sub(r"#.*", "", text)       # every placeholder replaced
    return gh, text


def location(text, match):
    """The body of `location ~* MATCH { ... }` in text."""
    m = re.search(r"location ~\* " + re.escape(match) + r" \{(.*?)\n        \}", text, re.S)
    assert m, f"no location {match} in:\n{text}"
    return m.group(1)


def test_conf_http(make_server):
    _, text = check_conf(make_server, {"server": {"upstream": "http://127.0.0.1:9/"}})
    assert re.search(r"upstream gatehouse_upstream_1 \{\s*server 127\.0\.0\.1:9;\s*"
                     r"(#[^\n]*\s*)*keepalive 32;\s*\}", text), text
    assert text.count("upstream gatehouse_upstream_") == 1        # one, shared
    assert "map $http_upgrade $gatehouse_connection {" in text
    for prefix in ("^/redfish(?:/|$)", "^/ovirt-engine(?:/|$)", "^/api/rest(?:/|$)",
                   "^/api2/json(?:/|$)"):
        body = location(text, prefix)
        # gatehouse first, the proxy last (docs/gateway.md)
        assert body.index("gatehouse on;") < body.index("proxy_pass http://gatehouse_upstream_1;")
        for line in ("proxy_http_version 1.1;", 'proxy_set_header Host "127.0.0.1:9";',
                     "proxy_set_header Connection $gatehouse_connection;",
                     "proxy_set_header Upgrade $http_upgrade;", "proxy_intercept_errors off;",
                     "proxy_buffer_size 16k;", "proxy_connect_timeout 5s;",
                     "proxy_send_timeout 60s;", "proxy_read_timeout 60s;"):
            assert line in body, (prefix, line)
        assert "proxy_ssl" not in body
    # the default upload and stream paths, longest first, before the dialects
    order = [m.group(1) for m in re.finditer(r"location ~\* (\S+) \{", text)]
    assert order == ["^/api/rest/software_package/upload(?:/|$)",
                     "^/redfish/v1/EventService/SSE(?:/|$)",
                     "^/redfish/v1/UpdateService(?:/|$)", "^/redfish(?:/|$)",
                     "^/ovirt-engine(?:/|$)", "^/api/rest(?:/|$)", "^/api2/json(?:/|$)"]
    upload = location(text, "^/redfish/v1/UpdateService(?:/|$)")
    assert "proxy_request_buffering off;" in upload
    assert f"client_max_body_size {4 * GiB};" in upload
    stream = location(text, "^/redfish/v1/EventService/SSE(?:/|$)")
    assert "proxy_buffering off;" in stream and "proxy_read_timeout 3600s;" in stream
    assert "proxy_request_buffering" not in stream


def test_conf_https_ca_sni_client_cert(make_server, pki):
    config = {"server": {"upstream": "https://127.0.0.1:9443",
                         "upstream_ca": str(pki.ca), "upstream_server_name": "upstream.test",
                         "upstream_client_cert": str(pki.client_cert),
                         "upstream_client_key": str(pki.client_key),
                         "upstream_keepalive": 4, "upstream_connect_timeout": 3,
                         "upstream_timeout": 9}}
    _, text = check_conf(make_server, config, pki)
    assert re.search(r"server 127\.0\.0\.1:9443;\s*(#[^\n]*\s*)*keepalive 4;", text)
    body = location(text, "^/redfish(?:/|$)")
    for line in ("proxy_pass https://gatehouse_upstream_1;", "proxy_ssl_verify on;",
                 f'proxy_ssl_trusted_certificate "{pki.ca}";', "proxy_ssl_server_name on;",
                 "proxy_ssl_name upstream.test;", f'proxy_ssl_certificate "{pki.client_cert}";',
                 f'proxy_ssl_certificate_key "{pki.client_key}";',
                 'proxy_set_header Host "127.0.0.1:9443";', "proxy_connect_timeout 3s;",
                 "proxy_read_timeout 9s;"):
        assert line in body, line


def test_conf_https_defaults_verify_with_system_cas(make_server):
    _, text = check_conf(make_server, {"redfish": {"upstream": "https://localhost"}})
    body = location(text, "^/redfish(?:/|$)")
    assert "proxy_ssl_verify on;" in body
    assert 'proxy_ssl_trusted_certificate "/etc/ssl/certs/ca-certificates.crt";' in body
    assert "proxy_ssl_name localhost;" in body and "server localhost:443;" in text
    assert "proxy_ssl_certificate " not in body
    # only Redfish has an upstream: the others stay on the bundled tree
    assert "^/ovirt-engine" not in text and "^/api/rest" not in text


def test_conf_unix_socket(make_server):
    _, text = check_conf(make_server, {"powerstore": {"upstream": "unix:/run/ps-api.sock"}})
    assert "server unix:/run/ps-api.sock;" in text
    body = location(text, "^/api/rest(?:/|$)")
    assert "proxy_pass http://gatehouse_upstream_1;" in body
    assert 'proxy_set_header Host "localhost";' in body
    # its upload path with it; Redfish's are not written (Redfish has no upstream)
    assert "proxy_request_buffering off;" in location(
        text, "^/api/rest/software_package/upload(?:/|$)")
    assert "UpdateService" not in text and "EventService" not in text


def test_conf_two_dialects_two_upstreams(make_server, pki):
    config = {"server": {"upstream": "http://127.0.0.1:9", "upstream_timeout": 20},
              "redfish": {"upstream": "https://[::1]:8443/", "upstream_ca": str(pki.ca)},
              "ovirt": {"upstream": "http://127.0.0.1:9", "upstream_keepalive": 0},
              "proxmox": {"upstream": ""}}
    _, text = check_conf(make_server, config)
    blocks = dict(re.findall(r"upstream (gatehouse_upstream_\d+) \{(.*?)\}", text, re.S))
    assert len(blocks) == 3, blocks      # redfish, ovirt (no keep-alive), [server]'s
    servers = sorted(re.search(r"server (\S+);", b).group(1) for b in blocks.values())
    assert servers == ["127.0.0.1:9", "127.0.0.1:9", "[::1]:8443"]
    assert sum("keepalive" in b for b in blocks.values()) == 2
    rf = location(text, "^/redfish(?:/|$)")
    assert "proxy_pass https://" in rf and 'Host "[::1]:8443"' in rf
    assert "proxy_ssl_name ::1;" in rf and "proxy_read_timeout 20s;" in rf
    ov, ps = location(text, "^/ovirt-engine(?:/|$)"), location(text, "^/api/rest(?:/|$)")
    assert re.search(r"proxy_pass http://(\S+);", ov).group(1) != \
        re.search(r"proxy_pass http://(\S+);", ps).group(1)
    assert "^/api2/json" not in text           # given empty: the bundled tree


def test_conf_upload_and_stream_paths(make_server):
    config = {"server": {"upstream": "http://127.0.0.1:9",
                         "upload_paths": "/redfish/v1/UpdateService/upload, /api/rest/fw.v2/",
                         "upload_max_bytes": 2 * GiB,
                         "stream_paths": "/redfish/v1/Streams /redfish/v1/UpdateService/upload"}}
    _, text = check_conf(make_server, config)
    up = location(text, "^/redfish/v1/UpdateService/upload(?:/|$)")
    # a path in both lists gets both
    assert "proxy_request_buffering off;" in up and "proxy_buffering off;" in up
    assert f"client_max_body_size {2 * GiB};" in up
    assert "client_max_body_size" in location(text, "^/api/rest/fw[.]v2(?:/|$)")
    st = location(text, "^/redfish/v1/Streams(?:/|$)")
    assert "proxy_buffering off;" in st and "client_max_body_size" not in st
    assert "EventService" not in text and "UpdateService(?:" not in text


def test_conf_refusals(make_server, pki):
    gh = make_server(config={"server": {"upstream": "http://127.0.0.1:9",
                                        "upload_paths": "/elsewhere/upload"}}, start=False)
    p = gh.cli("serve", "--check", "--listen", f"127.0.0.1:{gh.port}", check=False)
    assert p.returncode != 0 and "upload_paths: /elsewhere/upload is under no dialect's prefix" \
        in p.stderr, p.stderr
    # a client key nginx could not read is said before nginx starts
    missing = pki.dir / "no-such.key"
    gh.config = H.merge_config(gh.config, {"server": {
        "upload_paths": "", "upstream": "https://127.0.0.1:9",
        "upstream_client_cert": str(pki.client_cert), "upstream_client_key": str(missing)}})
    gh.write_config()
    p = gh.cli("serve", "--check", "--listen", f"127.0.0.1:{gh.port}", check=False)
    assert p.returncode != 0 and f"upstream_client_key {missing}" in p.stderr, p.stderr
    assert "cannot be read" in p.stderr
    # the pair rule is the configuration's: one without the other
    gh.config["server"].pop("upstream_client_key")
    gh.write_config()
    p = gh.cli("serve", "--check", "--listen", f"127.0.0.1:{gh.port}", check=False)
    assert p.returncode != 0 and "both or neither" in p.stderr, p.stderr


# ------------------------------------------------------------ running gateways

def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_http_upstream_redfish_powerstore_ovirt(make_server, upstreams, base_dir):
    up = upstreams(base_dir)
    gh = make_server(config={"server": {"upstream": up.url}})
    pw = gh.admin_password
    # without credentials: the dialect's 401, nothing from the upstream
    r = gh.get("/redfish/v1/Systems")
    assert r.status_code == 401 and "X-Upstream" not in r.headers
    H.assert_redfish_error(r, 401, "NoValidSession")
    r = gh.get("/api/rest/volume")
    assert r.status_code == 401 and "X-Upstream" not in r.headers
    r = gh.get("/ovirt-engine/api/vms", headers={"Accept": "application/json"})
    assert r.status_code == 401 and "X-Upstream" not in r.headers
    # with them: the upstream's own documents
    r = gh.get("/redfish/v1/Systems", headers=basic("admin", pw))
    assert r.status_code == 200, r.text
    assert r.headers["X-Upstream"] == MARK
    assert r.json() == json.loads((H.REPO / "data/redfish/v1/Systems/index.json").read_text())
    r = gh.get("/api/rest/volume", headers=basic("admin", pw))
    assert r.status_code == 200 and r.headers["X-Upstream"] == MARK, r.text
    assert r.json() == json.loads((H.REPO / "data/api/rest/volume/index.json").read_text())
    r = gh.get("/ovirt-engine/api/vms", headers={**basic("admin@internal", pw),
                                                 "Accept": "application/json"})
    assert r.status_code == 200 and r.headers["X-Upstream"] == MARK, r.text
    assert r.json() == json.loads((H.REPO / "data/ovirt-engine/api/vms/index.json").read_text())
    # a dialect owns its prefix in any case: never the bundled tree in gateway mode
    r = gh.get("/REDFISH/v1/Systems")
    assert r.status_code == 401 and "X-Upstream" not in r.headers
    # Host is the upstream's authority; Connection keep-alive (none sent), no Upgrade
    r = gh.get("/redfish/v1/UpstreamEcho", headers=basic("admin", pw))
    assert r.status_code == 200, r.text
    echo = r.json()
    assert echo["Host"] == f"127.0.0.1:{up.port}"
    assert echo["Connection"] == "" and echo["Upgrade"] == ""


CA_DOWNLOAD = "/ovirt-engine/services/pki-resource?resource=ca-certificate&format=X509-PEM-CA"


def test_https_upstream_client_certificate(make_server, upstreams, base_dir, pki):
    up = upstreams(base_dir, tls=pki, client_ca=pki.ca)
    gh = make_server(config={
        "redfish": {"upstream": up.url, "upstream_ca": str(pki.ca),
                    "upstream_server_name": pki.name,
                    "upstream_client_cert": str(pki.client_cert),
                    "upstream_client_key": str(pki.client_key)},
        "ovirt": {"upstream": up.url, "upstream_ca": str(pki.ca),
                  "upstream_server_name": pki.name}}, start=False)
    pki.give_key_to(gh.owner_uid, gh.owner_gid)
    gh.start()
    r = gh.get("/redfish/v1/Chassis/1", headers=basic("admin", gh.admin_password))
    assert r.status_code == 200 and r.headers["X-Upstream"] == MARK, r.text
    assert r.json()["@odata.id"] == "/redfish/v1/Chassis/1"
    # PowerStore has no upstream: it stays on the bundled tree
    r = gh.get("/api/rest/volume", headers=basic("admin", gh.admin_password))
    assert r.status_code == 200 and "X-Upstream" not in r.headers
    # oVirt's shows no client certificate: the upstream's own refusal passes unchanged
    r = gh.get("/ovirt-engine/api/vms", headers={**basic("admin@internal", gh.admin_password),
                                                 "Accept": "application/json"})
    assert r.status_code == 400 and r.headers["X-Upstream"] == MARK, r.text
    assert "No required SSL certificate was sent" in r.text


def test_https_upstream_refused(make_server, upstreams, base_dir, pki, other_pki):
    """A CA that did not sign the upstream's certificate, or a name it does
    not hold: nothing is passed on, the client gets its dialect's 502."""
    up = upstreams(base_dir, tls=pki, client_ca=pki.ca)
    wrong_ca = {"upstream": up.url, "upstream_ca": str(other_pki.ca),
                "upstream_server_name": pki.name}
    gh = make_server(config={"redfish": wrong_ca,
                             "powerstore": {**wrong_ca, "upstream_ca": str(pki.ca),
                                            "upstream_server_name": "not.upstream.test"}},
                     start=False)
    gh.ready_path = CA_DOWNLOAD          # gatehouse's own: oVirt is on the bundled tree
    gh.start()
    r = gh.get("/redfish/v1/Systems", headers=basic("admin", gh.admin_password))
    H.assert_redfish_error(r, 502, "OperationFailed")
    assert "X-Upstream" not in r.headers
    r = gh.get("/api/rest/volume", headers=basic("admin", gh.admin_password))
    assert r.status_code == 502 and "X-Upstream" not in r.headers, r.text
    assert list(r.json()) == ["messages"], r.text
    # nothing hangs: the next request is answered the same
    r = gh.get("/redfish/v1/Systems", headers=basic("admin", gh.admin_password))
    assert r.status_code == 502


def test_unix_socket_upstream(make_server, upstreams, base_dir):
    up = upstreams(base_dir, unix=True)
    gh = make_server(config={"powerstore": {"upstream": up.url}})
    r = gh.get("/api/rest/appliance", headers=basic("admin", gh.admin_password))
    assert r.status_code == 200 and r.headers["X-Upstream"] == MARK, r.text
    assert r.json() == json.loads((H.REPO / "data/api/rest/appliance/index.json").read_text())
    r = gh.get("/api/rest/appliance")
    assert r.status_code == 401 and "X-Upstream" not in r.headers
    # Redfish has no upstream: its bundled tree
    r = gh.get("/redfish/v1/Systems", headers=basic("admin", gh.admin_password))
    assert r.status_code == 200 and "X-Upstream" not in r.headers


def test_no_spelling_reaches_the_upstream_unauthenticated(make_server, upstreams, base_dir):
    """nginx picks the location on the decoded, normalised path, gatehouse
    reads the path as sent: however a dialect's path is spelled (percent
    escapes, case, // and ..), without credentials nothing reaches the
    upstream."""
    up = upstreams(base_dir)
    gh = make_server(config={"server": {"upstream": up.url}})
    # The start's readiness probe (GET /redfish/v1/, public, so proxied) is
    # logged by the upstream only after it answered: counted once it is.
    H.wait_for(lambda: any(line.startswith("GET /redfish/v1/ ") for line in up.seen()), 10,
               "the readiness probe in the upstream's log")
    before = len(up.seen())
    for path in ("/%72edfish/v1/Systems", "/redfish/v1/%53ystems", "/redfish//v1/Systems",
                 "/redfish/v1/../v1/Systems", "/REDFISH/v1/Systems", "/api/rest/%76olume",
                 "/%61pi/rest/volume", "/ovirt-engine/%61pi/vms", "/%6fvirt-engine/api/vms",
                 "/api2/json/%6eodes", "/redfish/v1/Systems%2F1"):
        r = gh.get(path)
        assert r.status_code in (400, 401, 404) and "X-Upstream" not in r.headers, \
            (path, r.status_code, r.text[:300])
    assert len(up.seen()) == before, up.seen()[before:]

# ------------------------------------------------------------------ uploads

class HashingUpstream:
    """An upstream of this test's own (the stdlib's HTTP server, HTTP/1.1,
    127.0.0.1): a POST's body is hashed as it is read, 1 MiB at a time, never
    held, and answered as {"bytes": N, "sha256": HEX}; a GET gets a small
    JSON document (so that gatehouse's start sees /redfish/v1/ answered)."""

    def __init__(self):
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _answer(self, doc):
                body = json.dumps(doc).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-Upstream", "hashing")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self._answer({"@odata.id": self.path})

            def _chunks(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    while True:
                        size = int(self.rfile.readline().split(b";")[0], 16)
                        if size == 0:
                            self.rfile.readline()
                            return
                        while size > 0:
                            piece = self.rfile.read(min(size, 1 << 20))
                            size -= len(piece)
                            yield piece
                        self.rfile.readline()
                left = int(self.headers.get("Content-Length", "0"))
                while left > 0:
                    piece = self.rfile.read(min(left, 1 << 20))
                    if not piece:
                        raise ConnectionError("body cut short")
                    left -= len(piece)
                    yield piece

            def do_POST(self):
                h, n = hashlib.sha256(), 0
                for piece in self._chunks():
                    h.update(piece)
                    n += len(piece)
                outer.received.append((self.path, n, h.hexdigest()))
                self._answer({"bytes": n, "sha256": h.hexdigest()})

        self.received = []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def vm_rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                status = f.read()
        except OSError:
            continue
        m = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        total += int(m.group(1)) if m else 0
    return total


def test_upload_1gib_streams_through(make_server):
    """A 1 GiB firmware image to an upload path: made on the fly and never
    held by the test, streamed through gatehouse to the upstream, which gets
    the same SHA-256; the workers' resident memory grows by less than 64 MiB."""
    hashing = HashingUpstream()
    try:
        gh = make_server(config={"redfish": {"upstream": hashing.url}}, start=False)
        # ASan keeps freed memory in quarantine (256 MiB by default) rather than
        # reuse it at once, and OpenSSL frees its record buffers after each read
        # (nginx's SSL_MODE_RELEASE_BUFFERS): the sanitizer build measures with
        # a small quarantine, so that it counts what is held, not what ASan holds.
        gh.asan_options = "quarantine_size_mb=4"
        gh.start()
        workers = gh.worker_pids()
        assert workers
        base = vm_rss_kib(workers)
        peak = [base]
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], vm_rss_kib(workers))
                done.wait(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        block = os.urandom(1 << 20)
        sent = hashlib.sha256()
        ctx = ssl.create_default_context(cafile=gh.ca)
        with socket.create_connection(("127.0.0.1", gh.port), timeout=120) as raw, \
                ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            auth = base64.b64encode(f"admin:{gh.admin_password}".encode()).decode()
            tls.sendall((f"POST /redfish/v1/UpdateService/upload HTTP/1.1\r\n"
                         f"Host: 127.0.0.1:{gh.port}\r\nAuthorization: Basic {auth}\r\n"
                         f"Content-Type: application/octet-stream\r\n"
                         f"Content-Length: {GiB}\r\nConnection: close\r\n\r\n").encode())
            for i in range(GiB >> 20):
                piece = i.to_bytes(8, "big") + block[8:]     # every MiB different
                sent.update(piece)
                tls.sendall(piece)
            answer = b""
            while True:
                data = tls.recv(65536)
                if not data:
                    break
                answer += data
        done.set()
        sampler.join(5)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), answer[:600]
        assert json.loads(body) == {"bytes": GiB, "sha256": sent.hexdigest()}
        assert hashing.received == [("/redfish/v1/UpdateService/upload", GiB,
                                     sent.hexdigest())]
        growth = (peak[0] - base) * 1024
        assert growth < 64 << 20, f"workers' VmRSS grew by {growth >> 20} MiB"
    finally:
        hashing.stop()


def test_upload_limit_elsewhere(make_server):
    """Outside the upload paths the ordinary body limit holds: 413 in the
    dialect's format, nothing reaches the upstream."""
    hashing = HashingUpstream()
    try:
        gh = make_server(config={"redfish": {"upstream": hashing.url}})
        r = gh.request("POST", "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset",
                       data=b"x" * (65536 + 1), headers=basic("admin", gh.admin_password))
        assert r.status_code == 413, r.text
        assert r.json()["error"]["code"].startswith("Base."), r.text
        assert hashing.received == []
    finally:
        hashing.stop()




# ------------------------------------------------------- real clients through

@pytest.fixture
def gateway(make_server, upstreams, base_dir):
    """gatehouse with every dialect guarding upstream_nginx (plain HTTP), and
    a ReadOnly account."""
    up = upstreams(base_dir)
    gh = make_server(config={"server": {"upstream": up.url}}, start=False)
    gh.add_user("reader", "ReadOnly")
    gh.start()
    return gh, up


@pytest.fixture
def shim(tmp_path):
    from test_clients import SHIM
    (tmp_path / "sitecustomize.py").write_text(SHIM)
    return tmp_path


@pytest.mark.parametrize("auth", ["Basic", "Session"])
def test_redfishtool_through_the_gateway(gateway, shim, auth):
    """redfishtool, as test_clients.py runs it (verifying against gatehouse's
    CA), logs in (SessionService is gatehouse's) and reads the upstream's
    resources."""
    from test_clients import Redfishtool
    gh, up = gateway
    rft = Redfishtool(gh, shim)
    before = gh.sessions_server_side()
    systems = rft.json("Systems", auth=auth)
    assert [m["@odata.id"] for m in systems["Members"]] == ["/redfish/v1/Systems/1"]
    system = rft.json("Systems", "-1", auth=auth)
    assert system["@odata.id"] == "/redfish/v1/Systems/1"
    chassis = rft.json("Chassis", "-1", auth=auth)
    assert chassis["@odata.id"] == "/redfish/v1/Chassis/1"
    seen = up.seen()
    assert "GET /redfish/v1/Systems/1 200" in seen and "GET /redfish/v1/Chassis/1 200" in seen
    # nothing of gatehouse's own reached the upstream, and no session is left over
    assert not [s for s in seen if "/SessionService" in s], seen
    assert gh.sessions_server_side() == before


def test_sushy_through_the_gateway(gateway):
    import sushy
    import sushy.auth
    gh, up = gateway
    auth = sushy.auth.SessionOrBasicAuth(username="reader", password=gh.users["reader"])
    conn = sushy.Sushy(f"{gh.url}/redfish/v1", verify=gh.ca, auth=auth)
    try:
        system = conn.get_system("/redfish/v1/Systems/1")
        key = auth.get_session_key()
        assert key, "sushy fell back to Basic authentication"
        gh.secrets.add(key)
        assert system.identity == "1" and system.uuid
        assert str(system.power_state).lower().endswith("on")
        # the upstream logs a request as it ends, an instant after its answer left
        H.wait_for(lambda: "GET /redfish/v1/Systems/1 200" in up.seen(), 10,
                   "the upstream's access log line of the system GET")
    finally:
        auth.close()
    assert auth.get_session_key() is None
    assert not [s for s in up.seen() if "/SessionService" in s], up.seen()
