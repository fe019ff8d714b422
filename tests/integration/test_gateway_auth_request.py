"""gatehouse_auth_request: forward authentication for nginx's auth_request
(docs/gateway.md, "Forward authentication"). Debian's nginx with the module runs the
documented configuration (written here, not by `gatehouse serve`) in front of
a static directory and of a second server that echoes what a proxied service
receives; the data directory is a real `gatehouse init`'s, and the Redfish
login that makes a session token is gatehouse's own, on the same nginx."""

import base64
import concurrent.futures
import os
import pwd
import socket
import ssl
import subprocess

import requests

from gatehouse_harness import (MODULE, SESSIONS, assert_redfish_error, free_ports,
                               obeyed_at_once, wait_until)

FILE_TEXT = "hello from behind gatehouse\n"

# The documented example (docs/gateway.md, "Forward authentication"), with the test's
# paths and ports, a static location and an echoing backend.
CONF = """
load_module "{module}";
{user}
worker_processes 2;
pid "{dir}/nginx.pid";
error_log stderr notice;
thread_pool gatehouse_hash threads=2;
thread_pool gatehouse_io threads=1;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path "{dir}/tmp"; proxy_temp_path "{dir}/tmp";
    fastcgi_temp_path "{dir}/tmp"; uwsgi_temp_path "{dir}/tmp"; scgi_temp_path "{dir}/tmp";
    gatehouse_data_dir "{data}";
    gatehouse_config "{config}";

    server {{
        listen 127.0.0.1:{port} ssl http2;
        ssl_certificate "{data}/pki/server-chain.pem";
        ssl_certificate_key "{data}/pki/server.key";

        # gatehouse's own Redfish service: where clients log in.
        location /redfish/ {{
            gatehouse on;
        }}

        # A static directory guarded by gatehouse.
        location /app/ {{
            auth_request /gatehouse-auth;
            error_page 401 403 500 /gatehouse-auth;
            root "{www}";
        }}

        # Without the error_page: nginx's own page, the WWW-Authenticate passed on.
        location /bare/ {{
            auth_request /gatehouse-auth;
            root "{www}";
        }}

        # A proxied service, told who the client is.
        location /svc/ {{
            auth_request /gatehouse-auth;
            auth_request_set $gh_user $sent_http_x_gatehouse_user;
            auth_request_set $gh_role $sent_http_x_gatehouse_role;
            auth_request_set $gh_privileges $sent_http_x_gatehouse_privileges;
            auth_request_set $gh_session $sent_http_x_gatehouse_session;
            auth_request_set $gh_dialect $sent_http_x_gatehouse_dialect;
            error_page 401 403 500 /gatehouse-auth;
            proxy_set_header X-User $gh_user;
            proxy_set_header X-Role $gh_role;
            proxy_set_header X-Privileges $gh_privileges;
            proxy_set_header X-Session $gh_session;
            proxy_set_header X-Dialect $gh_dialect;
            proxy_set_header Authorization "";
            proxy_set_header X-Auth-Token "";
            proxy_pass http://127.0.0.1:{echo_port};
        }}

        location = /gatehouse-auth {{
            internal;
            gatehouse_auth_request redfish;
        }}
    }}

    # The service behind the proxy: echoes what it was told.
    server {{
        listen 127.0.0.1:{echo_port};
        location / {{
            return 200 "user=$http_x_user role=$http_x_role privileges=$http_x_privileges session=$http_x_session dialect=$http_x_dialect authorization=$http_authorization token=$http_x_auth_token method=$request_method\\n";
        }}
    }}
}}
"""


class ForwardAuthNginx:
    """Debian's nginx with the module on the configuration above, started
    and stopped by PID; its stderr is the harness's serve stderr, so the
    harness's secret and sanitizer checks read it at teardown."""

    def __init__(self, gh):
        self.dir = gh.dir / "own"
        www = self.dir / "www"
        (www / "app").mkdir(parents=True)
        (self.dir / "tmp").mkdir()
        (www / "app" / "hello.txt").write_text(FILE_TEXT)
        os.chmod(self.dir, 0o755)
        for d in (www, www / "app"):
            os.chmod(d, 0o755)
        os.chmod(www / "app" / "hello.txt", 0o644)
        port, self.echo_port = free_ports(2)
        user = ""
        if os.geteuid() == 0:
            user = f"user {pwd.getpwuid(gh.owner_uid).pw_name};"
            os.chown(self.dir / "tmp", gh.owner_uid, gh.owner_gid)
        (self.dir / "nginx.conf").write_text(CONF.format(
            module=MODULE, user=user, dir=self.dir, data=gh.data, config=gh.config_path,
            www=www, port=port, echo_port=self.echo_port))
        gh.write_config()
        self.stderr = open(gh.stderr_path, "ab")
        self.proc = subprocess.Popen(
            ["/usr/sbin/nginx", "-p", str(self.dir), "-c", str(self.dir / "nginx.conf"),
             "-e", "stderr", "-g", "daemon off;"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.stderr,
            env=gh.env(gh.san_dir), start_new_session=True)
        # The harness's requests (login, get) now go to this nginx.
        gh.port = port
        self.gh = gh
        ok = wait_until(lambda: self.proc.poll() is not None or self.answers(), 20, 0.1)
        assert ok is not None and self.proc.poll() is None, gh.stderr_tail()

    def answers(self):
        try:
            return self.gh.get("/redfish/v1/", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        self.stderr.close()


def _own(make_server, cheap_hashing=True, config=None):
    gh = make_server(config=config, start=False, cheap_hashing=cheap_hashing)
    gh.add_user("operator", "Operator")
    gh.add_user("reader", "ReadOnly")
    return gh, ForwardAuthNginx(gh)


def _get(gh, path, auth=None, token=None, method="GET", headers=None):
    with gh.session(auth=auth, token=token) as s:
        return s.request(method, gh.url + path, headers=headers, timeout=20)


def _echo(r):
    """The echoing backend's answer as a dict."""
    assert r.status_code == 200, f"{r.status_code} {r.text[:500]}"
    return dict(kv.split("=", 1) for kv in r.text.split())


def test_refusals_in_the_dialects_words(make_server):
    """No credential and a wrong password: 401 with WWW-Authenticate and the
    Redfish error body (the error_page of the documented example; without
    it nginx's own page, the WWW-Authenticate still passed on); a
    ReadOnly user's POST: 403 in Redfish's words, never served."""
    gh, own = _own(make_server)
    try:
        for auth in (None, ("admin", "wrong-password-1")):
            r = _get(gh, "/app/hello.txt", auth=auth)
            assert_redfish_error(r, 401, "NoValidSession")
            assert r.headers.get("WWW-Authenticate") == 'Basic realm="Redfish"', r.headers
            assert FILE_TEXT not in r.text

        # A malformed credential: nginx makes the subrequest's 400 a 500, the
        # error_page gives the client the 400 gatehouse made.
        r = _get(gh, "/app/hello.txt", headers={"Authorization": "Basic !!!"})
        assert_redfish_error(r, 400, "HeaderInvalid")

        r = _get(gh, "/bare/hello.txt")
        assert r.status_code == 401 and "<html>" in r.text, f"{r.status_code} {r.text[:300]}"
        assert r.headers.get("WWW-Authenticate") == 'Basic realm="Redfish"', r.headers

        r = _get(gh, "/svc/x", auth=("reader", gh.users["reader"]), method="POST")
        assert r.status_code == 403, f"{r.status_code} {r.text[:500]}"
        assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
        assert "error" in r.json() and "method=" not in r.text
        assert "WWW-Authenticate" not in r.headers
        # ... while the same user may read.
        assert _echo(_get(gh, "/svc/x", auth=("reader", gh.users["reader"])))["user"] == "reader"
    finally:
        own.stop()


def test_basic_serves_the_file_and_tells_who(make_server):
    """Right Basic credentials: 200 and the file; the proxied service is told
    the identity through auth_request_set, never the client's own claims or
    credentials."""
    gh, own = _own(make_server)
    try:
        admin = ("admin", gh.admin_password)
        r = _get(gh, "/app/hello.txt", auth=admin)
        assert r.status_code == 200 and r.text == FILE_TEXT, f"{r.status_code} {r.text[:300]}"

        spoof = {"x-uSeR": "mallory", "X-Role": "Administrator", "X-Gatehouse-User": "mallory"}
        seen = _echo(_get(gh, "/svc/who", auth=admin, headers=spoof))
        assert seen == {
            "user": "admin", "role": "Administrator",
            "privileges": "Login,ConfigureManager,ConfigureUsers,ConfigureComponents,"
                          "ConfigureSelf",
            "session": "", "dialect": "redfish", "authorization": "", "token": "",
            "method": "GET"}, seen

        seen = _echo(_get(gh, "/svc/who", auth=("operator", gh.users["operator"]),
                          method="POST"))
        assert (seen["user"], seen["role"], seen["method"]) == ("operator", "Operator", "POST")
        assert "ConfigureComponents" in seen["privileges"].split(",")
    finally:
        own.stop()


def test_session_token_until_revoked(make_server):
    """A Redfish session token from a real login guards the location too, and
    stops working within the promised 100 ms of `gatehouse session revoke`."""
    gh, own = _own(make_server)
    try:
        token, location, _, _ = gh.login("admin")
        session_id = location.rsplit("/", 1)[-1]
        r = _get(gh, "/app/hello.txt", token=token)
        assert r.status_code == 200 and r.text == FILE_TEXT, f"{r.status_code} {r.text[:300]}"
        seen = _echo(_get(gh, "/svc/who", token=token))
        assert (seen["user"], seen["session"], seen["token"]) == ("admin", session_id, "")

        gh.cli("session", "revoke", session_id)
        obeyed_at_once(lambda: _get(gh, "/app/hello.txt", token=token).status_code == 401)
        assert_redfish_error(_get(gh, "/app/hello.txt", token=token), 401, "NoValidSession")
    finally:
        own.stop()


def test_cold_cache_in_parallel(make_server):
    """Many Basic requests at once, each credential not yet cached: every one
    waits for the hash pool without holding up the others, and each gets its
    own answer."""
    gh, own = _own(make_server)
    try:
        users = {f"user{i}": gh.add_user(f"user{i}", "ReadOnly") for i in range(6)}
        wrong = {f"user{i}": "not-the-password" for i in range(6, 8)}

        def one(item):
            (name, pw), n = item
            path = "/svc/who" if n % 2 else "/app/hello.txt"
            return name, pw, path, _get(gh, path, auth=(name, pw))

        work = [(kv, n) for n in range(4) for kv in list(users.items()) + list(wrong.items())]
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(work)) as pool:
            answers = list(pool.map(one, work))
        for name, pw, path, r in answers:
            if name in users:
                assert r.status_code == 200, f"{name} {path}: {r.status_code} {r.text[:300]}"
                if path == "/svc/who":
                    assert _echo(r)["user"] == name
                else:
                    assert r.text == FILE_TEXT
            else:
                assert_redfish_error(r, 401, "NoValidSession")
    finally:
        own.stop()


def test_client_gone_while_hashing(make_server):
    """Clients that hang up while their password is being hashed (real
    argon2id costs, so the hash outlasts the connection): the subrequest
    resumes on a request nginx has ended, nothing breaks, and the next
    clients are answered (the sanitizer build checks the memory)."""
    gh, own = _own(make_server, cheap_hashing=False)
    try:
        ctx = ssl.create_default_context(cafile=gh.ca)
        # Each credential once, none cached: each of them waits for a hash.
        creds = [("reader", gh.users["reader"]), ("operator", gh.users["operator"])]
        creds += [(f"ghost{i}", "not-the-password") for i in range(4)]
        for name, pw in creds:
            cred = base64.b64encode(f"{name}:{pw}".encode()).decode()
            with socket.create_connection(("127.0.0.1", gh.port), timeout=10) as raw:
                with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                    tls.sendall(f"GET /app/hello.txt HTTP/1.1\r\nHost: x\r\n"
                                f"Authorization: Basic {cred}\r\n\r\n".encode())
        assert own.proc.poll() is None
        r = _get(gh, "/app/hello.txt", auth=("reader", gh.users["reader"]))
        assert r.status_code == 200 and r.text == FILE_TEXT, f"{r.status_code} {r.text[:300]}"
        assert _echo(_get(gh, "/svc/who", auth=("operator", gh.users["operator"])))["user"] \
            == "operator"
    finally:
        own.stop()


def _curl_h2(gh, path, *args):
    """(status, headers text, body) of an HTTP/2 request by curl; the
    credentials, if any, given in a config file rather than on argv."""
    p = subprocess.run(["curl", "-sS", "--http2", "--cacert", gh.ca, "-D", "-",
                        "-o", "-", *args, gh.url + path],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    head, _, body = p.stdout.replace("\r\n", "\n").partition("\n\n")
    assert head.startswith("HTTP/2 "), head
    return int(head.split()[1]), head.lower(), body


def test_http2(make_server):
    """The same over HTTP/2: a refusal in Redfish's words with its
    WWW-Authenticate, and Basic credentials that pass."""
    gh, own = _own(make_server)
    try:
        status, head, body = _curl_h2(gh, "/app/hello.txt")
        assert status == 401 and "www-authenticate: basic realm=\"redfish\"" in head, head
        assert "NoValidSession" in body, body
        cfg = gh.dir / "curl-admin.cfg"
        cfg.write_text(f'user = "admin:{gh.admin_password}"\n')
        status, _, body = _curl_h2(gh, "/svc/who", "-K", str(cfg))
        assert status == 200 and body.startswith("user=admin role=Administrator"), body
    finally:
        own.stop()


def test_throttled_source(make_server):
    """A source that failed too often: its next check is refused before any
    hash, even with the right password. nginx's auth_request makes the 429
    a 500; the error_page 500 gives the client the 429 itself, with
    Retry-After and Redfish's body."""
    gh, own = _own(make_server, config={
        "throttle": {"throttle_failures": 3, "throttle_delay": 120, "throttle_max_delay": 600},
        "lockout": {"lockout_threshold": 0}})
    try:
        codes = [_get(gh, "/app/hello.txt", auth=("admin", f"Wrong-{i}-pw")).status_code
                 for i in range(4)]
        assert codes == [401, 401, 401, 429], codes
        r = _get(gh, "/app/hello.txt", auth=("admin", gh.admin_password))
        assert_redfish_error(r, 429, "ServiceTemporarilyUnavailable")
        assert 1 <= int(r.headers["Retry-After"]) <= 120, r.headers
        assert _get(gh, "/bare/hello.txt", auth=("admin", gh.admin_password)).status_code == 500
    finally:
        own.stop()
