"""scale_harness.py: several gatehouse nodes as one (docs/scale-out.md),
for the scale-out tests: N `gatehouse serve` on loopback, each with its own
data directory and one nginx worker, all on one store ([store] url: a
RedisServer's or Sentinels' of redis_server.py), and an nginx load balancer
in front of them for the real clients.

    cluster = Cluster(base_dir, redis.store_keys(), redis_files=redis, n=3)
    cluster.start()
    a, b, c = cluster.nodes          # gatehouse_harness.Gatehouse instances
    lb = cluster.balance()           # nginx, round-robin per request
    view = lb.view                   # quacks like a Gatehouse, through lb

How the nodes are made, as docs/scale-out.md tells an operator to:
- one certificate for every node: a test CA (upstream_nginx.UpstreamPki)
  and a server certificate for 127.0.0.1 and gatehouse.test, brought to each
  `gatehouse init` with --cert/--key, so every node's DATA/pki/ca.pem is
  that CA and one requests.Session verifies them all;
- the first node is initialised on the store: its gatehouse.conf names
  [store] before `gatehouse init`, which opens the store (creating the
  secret file, DATA/store-secret, and the store's check value) and adds
  the admin account there;
- every other node joins: a copy of the first node's secret file is put
  where its `secret_file` says (owned by the service user, 0600: copied
  like a TLS key), its gatehouse.conf gets the same [store] section, and
  `gatehouse init` finds the admin account in the store and adds nothing;
- files the store needs beside the url (the Redis password, a TLS client
  key) are copied to each node the same way.

Every node answers with the same admin password; the nodes share one
`users` dict and one `secrets` set, so each node's leak check at the end
looks for every password and token any node saw.
"""

import os
import pwd
import secrets
import signal
import subprocess
import types
from pathlib import Path

import gatehouse_harness as H
from upstream_nginx import UpstreamPki

NODE_NAMES = "abcdefgh"


def service_owner():
    """(uid, gid) of the user `gatehouse init` run as root gives a data
    directory to ([server] user empty: www-data, else nobody)."""
    for name in ("www-data", "nobody"):
        try:
            pw = pwd.getpwnam(name)
            return pw.pw_uid, pw.pw_gid
        except KeyError:
            continue
    raise RuntimeError("neither www-data nor nobody exists")


def copy_private(src, dst, owner):
    """src copied to dst, mode 0600, owned by owner (uid, gid) when root."""
    dst = Path(dst)
    dst.parent.mkdir(mode=0o700, exist_ok=True)
    data = Path(src).read_bytes()
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    if os.geteuid() == 0:
        os.chown(dst.parent, *owner)
        os.chown(dst, *owner)
    return str(dst)


class Cluster:
    """n nodes sharing store_keys ([store] section); redis_files: the
    RedisServer whose password file and TLS client key each node gets a
    copy of (None when it has neither)."""

    def __init__(self, base_dir, store_keys, n=3, config=None, redis_files=None,
                 cheap_hashing=True):
        self.dir = Path(base_dir) / f"cluster-{secrets.token_hex(4)}"
        self.dir.mkdir(mode=0o755)
        os.chmod(self.dir, 0o755)
        self.pki = UpstreamPki(self.dir / "pki", name="gatehouse.test")
        self.chain = self.dir / "pki" / "chain.pem"
        self.chain.write_bytes(self.pki.cert.read_bytes() + self.pki.ca.read_bytes())
        os.chmod(self.chain, 0o644)
        self.owner = service_owner()
        self.store_keys = dict(store_keys)
        self.redis_files = redis_files
        self.nodes = []
        self.balancer = None
        for i in range(n):
            gh = H.Gatehouse(self.dir, f"node-{NODE_NAMES[i]}", config=H.merge_config(
                {"server": {"workers": 1}}, config), cheap_hashing=cheap_hashing)
            if self.nodes:                    # one admin, one set of secrets
                first = self.nodes[0]
                gh.admin_password, gh.users, gh.secrets = \
                    first.admin_password, first.users, first.secrets
            self.nodes.append(gh)

    # ------------------------------------------------------------- set-up

    def node_store(self, gh, secret_file=None):
        """The [store] section of node gh, its files copied into gh.dir/keys."""
        keys = dict(self.store_keys)
        r = self.redis_files
        if r is not None and r.password_file is not None:
            keys["password_file"] = copy_private(r.password_file, gh.dir / "keys" / "redis.pw",
                                                 self.owner)
            gh.secrets.add(r.password)
        if r is not None and "tls_key" in keys:
            keys["tls_key"] = copy_private(keys["tls_key"], gh.dir / "keys" / "redis-client.key",
                                           self.owner)
        if secret_file is not None:
            keys["secret_file"] = secret_file
        return keys

    def _init(self, gh):
        gh.write_config()
        pwfile = gh.secret_file(gh.admin_password, "admin.pw")
        gh.cli("init", "--admin-password-file", pwfile, "--cert", str(self.chain),
               "--key", str(self.pki.key), timeout=120)
        st = os.stat(gh.data)
        gh.owner_uid, gh.owner_gid = st.st_uid, st.st_gid

    @property
    def secret_path(self):
        """The first node's secret file: the default, DATA/store-secret."""
        return self.nodes[0].data / "store-secret"

    def init(self):
        """Initialise every node: the first on the store, the others
        joining it (the module docstring)."""
        first = self.nodes[0]
        first.config = H.merge_config(first.config, {"store": self.node_store(first)})
        self._init(first)
        assert self.secret_path.exists(), \
            f"`gatehouse init` on the store made no secret file at {self.secret_path}"
        for gh in self.nodes[1:]:
            secret = copy_private(self.secret_path, gh.dir / "keys" / "store-secret",
                                  self.owner)
            gh.config = H.merge_config(gh.config, {"store": self.node_store(gh, secret)})
            self._init(gh)
        return self

    def start(self):
        for gh in self.nodes:
            gh.start()
        return self

    def add_user(self, name, role="ReadOnly", password=None):
        """`gatehouse user add` on the first node: every node has it."""
        return self.nodes[0].add_user(name, role, password)

    def balance(self):
        """An nginx load balancer in front of every node (Balancer)."""
        if self.balancer is None:
            self.balancer = Balancer(self.dir, self)
        return self.balancer

    def stop(self):
        if self.balancer is not None:
            self.balancer.stop()
            self.balancer = None
        for gh in self.nodes:
            gh.close_sessions()
            gh.stop()

    # ------------------------------------------------------------- helpers

    def ca(self):
        return str(self.pki.ca)

    def token_status(self, gh, token, path="/redfish/v1/Systems"):
        return gh.token_status(token, path)


# --------------------------------------------------------------- balancer

LB_CONF = """\
{user}
worker_processes 1;
pid "{dir}/nginx.pid";
error_log "{dir}/error.log" info;
events {{ worker_connections 512; }}
http {{
    log_format seen '$request_method $request_uri $status $upstream_addr';
    access_log "{dir}/access.log" seen;
    client_body_temp_path "{dir}/tmp";
    proxy_temp_path "{dir}/tmp";
    fastcgi_temp_path "{dir}/tmp";
    uwsgi_temp_path "{dir}/tmp";
    scgi_temp_path "{dir}/tmp";
    keepalive_requests 100000;
    # round-robin per request (nginx's default), connections kept to each node
    upstream gatehouse_https {{
{https_servers}
        keepalive 16;
    }}
    upstream gatehouse_http {{
{http_servers}
        keepalive 16;
    }}
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $http_host;
    proxy_buffering off;
    # a request goes to one node: no second try elsewhere
    proxy_next_upstream off;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate "{cert}";
        ssl_certificate_key "{key}";
        location / {{
            proxy_pass https://gatehouse_https;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate "{ca}";
            proxy_ssl_name gatehouse.test;
            proxy_ssl_server_name on;
            proxy_ssl_session_reuse on;
        }}
    }}
    server {{
        listen 127.0.0.1:{http_port};
        location / {{ proxy_pass http://gatehouse_http; }}
    }}
}}
"""


class Balancer:
    """Debian's nginx (no gatehouse module) in front of a cluster's nodes:
    HTTPS with the cluster's certificate, proxied over HTTPS (verified
    against the cluster's CA) to each node in turn, and plain HTTP to their
    HTTP listeners. `seen()` says which node answered each request."""

    def __init__(self, base_dir, cluster):
        self.cluster = cluster
        self.dir = Path(base_dir) / f"balancer-{secrets.token_hex(4)}"
        (self.dir / "tmp").mkdir(parents=True)
        os.chmod(self.dir, 0o755)
        self.port, self.http_port = H.free_ports(2)
        nodes = cluster.nodes
        user = "user nobody nogroup;" if os.geteuid() == 0 else ""
        (self.dir / "nginx.conf").write_text(LB_CONF.format(
            user=user, dir=self.dir, port=self.port, http_port=self.http_port,
            cert=cluster.pki.cert, key=cluster.pki.key, ca=cluster.pki.ca,
            https_servers="\n".join(f"        server 127.0.0.1:{g.port};" for g in nodes),
            http_servers="\n".join(f"        server 127.0.0.1:{g.http_port};" for g in nodes)))
        with open(self.dir / "stderr.log", "wb") as stderr:
            self.proc = subprocess.Popen(
                ["/usr/sbin/nginx", "-p", str(self.dir), "-c", str(self.dir / "nginx.conf"),
                 "-e", str(self.dir / "error.log"), "-g", "daemon off;"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
                start_new_session=True)
        import socket

        def listening():
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return True
            except OSError:
                return False
        if H.wait_until(lambda: self.proc.poll() is not None or listening(), 20) is None \
                or self.proc.poll() is not None:
            self.stop()
            raise RuntimeError(f"the balancer did not start:\n{self.log()}")
        self.view = BalancedView(self, cluster.nodes[0])

    @property
    def url(self):
        return f"https://127.0.0.1:{self.port}"

    def node_of(self, upstream_addr):
        """The node whose port upstream_addr ("127.0.0.1:PORT") names."""
        port = int(upstream_addr.rsplit(":", 1)[1])
        return next(g for g in self.cluster.nodes if port in (g.port, g.http_port))

    def seen(self):
        """[(method, uri, status, node name)] of every request answered."""
        out = []
        try:
            lines = (self.dir / "access.log").read_text().splitlines()
        except OSError:
            return out
        for line in lines:
            method, uri, status, addr = line.split(" ")
            node = self.node_of(addr).name if addr[:1].isdigit() else addr
            out.append((method, uri, int(status), node))
        return out

    def log(self):
        text = ""
        for name in ("stderr.log", "error.log"):
            try:
                text += (self.dir / name).read_text(errors="replace")
            except OSError:
                pass
        return text

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


class BalancedView:
    """The cluster seen through the balancer, shaped as a Gatehouse (its
    url, port and http_url are the balancer's): what the tests of one
    server do to `server`, a test does to this, every request going to the
    next node. Everything else (the command line, the data directory, the
    secrets) is the first node's."""

    def __init__(self, balancer, node):
        self._balancer = balancer
        self._node = node

    url = property(lambda self: self._balancer.url)
    http_url = property(lambda self: f"http://127.0.0.1:{self._balancer.http_port}")
    port = property(lambda self: self._balancer.port)
    http_port = property(lambda self: self._balancer.http_port)

    def __getattr__(self, name):
        attr = getattr(H.Gatehouse, name, None)
        if isinstance(attr, types.FunctionType):
            return types.MethodType(attr, self)     # Gatehouse's method, on the balancer
        return getattr(self._node, name)


class ChangeBarrier:
    """Waits until every node has applied every change made so far, and
    holds them to the promise while it waits: a change reaches every node
    within 100 ms (gatehouse_harness.obeyed_at_once, with its margin).

    A client that logs out on one node and uses the session on the next at
    once (the one-server client tests, through the balancer) would see the
    other node's answer from before the change, which the promise allows
    for up to 100 ms. The barrier makes one more change whose effect a
    request shows: a session of the admin's, made and ended on the first
    node; the nodes apply the change log in order, so once every node
    refuses that session, every node has applied the client's change too.

    install(monkeypatch) runs it after every answered logout (a Redfish
    session DELETE, oVirt's sso-logout, PowerStore's logout) of any
    requests.Session made in the calling test; close_sessions() closes
    every one of those sessions (a client library's own, such as sushy's,
    included), so none is left for the garbage collector to find open."""

    ENDS = (("DELETE", "/redfish/v1/SessionService/Sessions/"),
            ("POST", "/ovirt-engine/services/sso-logout"),
            ("POST", "/api/rest/logout"))

    def __init__(self, cluster):
        self.cluster = cluster
        self.busy = False
        self.waits = []           # seconds each wait took, for the record
        self.sessions = []        # every requests.Session made since install()

    def __call__(self):
        if self.busy:
            return
        self.busy = True
        try:
            first = self.cluster.nodes[0]
            token, location, _, _ = first.login()
            r = first.request("DELETE", location, headers={"X-Auth-Token": token})
            assert r.status_code in (200, 204), r.text
            live = [g for g in self.cluster.nodes if g.proc is not None]
            self.waits.append(H.obeyed_at_once(
                lambda: all(g.token_status(token) == 401 for g in live)))
        finally:
            self.busy = False

    def after(self, r, *args, **kwargs):
        """A requests response hook."""
        from urllib.parse import urlsplit
        path = urlsplit(r.request.url).path
        if 200 <= r.status_code < 300 and any(
                r.request.method == m and path.startswith(p) for m, p in self.ENDS):
            self()
        return r

    def install(self, monkeypatch):
        import requests
        barrier, base = self, requests.Session

        class Session(base):
            def __init__(self, *args, **kw):
                super().__init__(*args, **kw)
                self.hooks["response"].append(barrier.after)
                barrier.sessions.append(self)
        monkeypatch.setattr(requests, "Session", Session)
        return self

    def close_sessions(self):
        while self.sessions:
            self.sessions.pop().close()


def wait_all(nodes, check, timeout, what):
    """Wait until check(node) holds on every node."""
    return H.wait_for(lambda: all(check(g) for g in nodes), timeout, what)


# ------------------------------------------------------------ credentials

OVIRT_API = "/ovirt-engine/api"
OVIRT_TOKEN = "/ovirt-engine/sso/oauth/token"
PS = "/api/rest"
PVE = "/api2/json"
SYSTEMS = "/redfish/v1/Systems"


def basic_header(user, password):
    import base64
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def credentials(gh, user="admin"):
    """One credential of each kind the dialects hand out, made on node gh
    for user: {kind: (path, headers)}, what a client sends with it to read
    a resource. Basic is there too: "basic" a credential gh has verified
    (cached), "basic-fresh" one of an account no node has verified yet
    (made here, never used)."""
    pw = gh.users[user]
    out = {}
    token, _, _, _ = gh.login(user)
    out["redfish-token"] = (SYSTEMS, {"X-Auth-Token": token})
    r = gh.request("POST", OVIRT_TOKEN, headers={"Accept": "application/json"},
                   data={"grant_type": "password", "scope": "ovirt-app-api",
                         "username": f"{user}@internal", "password": pw})
    assert r.status_code == 200, r.text
    bearer = r.json()["access_token"]
    gh.secrets.add(bearer)
    out["ovirt-bearer"] = (OVIRT_API, {"Authorization": f"Bearer {bearer}",
                                       "Accept": "application/xml"})
    r = gh.request("HEAD", OVIRT_API, auth=(f"{user}@internal", pw),
                   headers={"Prefer": "persistent-auth"})
    assert r.status_code == 200, r.text
    jsession = r.headers["Set-Cookie"].split(";", 1)[0].split("=", 1)[1]
    gh.secrets.add(jsession)
    out["ovirt-cookie"] = (OVIRT_API + "/vms", {"Cookie": f"JSESSIONID={jsession}",
                                                "Prefer": "persistent-auth"})
    r = gh.request("GET", PS + "/login_session", auth=(user, pw))
    assert r.status_code == 200, r.text
    cookie = r.cookies["auth_cookie"]
    gh.secrets.update({cookie, r.headers["DELL-EMC-TOKEN"]})
    out["powerstore-cookie"] = (PS + "/volume", {"Cookie": f"auth_cookie={cookie}"})
    r = gh.request("POST", PVE + "/access/ticket",
                   data={"username": f"{user}@pam", "password": pw})
    assert r.status_code == 200, r.text
    d = r.json()["data"]
    gh.secrets.update({d["ticket"], d["CSRFPreventionToken"]})
    out["proxmox-ticket"] = (PVE + "/nodes", {"Cookie": f"PVEAuthCookie={d['ticket']}"})
    out["basic"] = (SYSTEMS, {"Authorization": basic_header(user, pw)})
    assert gh.request("GET", SYSTEMS, headers=out["basic"][1]).status_code == 200
    fresh = f"fresh{len(gh.users)}"
    fresh_pw = gh.add_user(fresh, "ReadOnly")
    out["basic-fresh"] = (SYSTEMS, {"Authorization": basic_header(fresh, fresh_pw)})
    return out


def use(gh, cred, timeout=10):
    """The answer of node gh to a read with cred ((path, headers))."""
    path, headers = cred
    return gh.request("GET", path, headers=headers, timeout=timeout)
