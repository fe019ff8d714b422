"""gatewaylib.py: the servers of bench/run's row 8, gatehouse guarding an
upstream (gateway mode) against plain nginx proxying to the same upstream.

Three nginx, all on 127.0.0.1:
- the upstream: plain nginx with one worker of its own, answering the
  bundled Redfish service root and /redfish/v1/Systems/1 from static files
  (open_file_cache on, keep-alive requests unbounded), as a management API
  with no authentication of its own would;
- gatehouse: the nginx.conf `gatehouse serve` writes for its data directory,
  with the gateway location (gateway_nginx_conf, the one place that knows
  how gateway mode is configured) and a second HTTPS server for the
  forward-auth variant (nginx auth_request to gatehouse_auth_request);
- the plain proxy: that same nginx.conf with the module taken out
  (plain_proxy_conf): the same certificate, TLS, limits, upstream block
  with its keepalive and proxy settings, only no authentication.

The nginx.conf handling is a small parser (parse, dump): a configuration
is a list of nodes [name, args, children or None], args as written
(quotes kept), so a node can be found, changed or dropped by its name.
"""

import copy
import json
import os
import re
import shutil
from pathlib import Path

import benchlib as bl

AUTH_LOCATION = "/gatehouse-auth"       # the forward-auth subrequest's location
AUTH_DIRECTIVE = "gatehouse_auth_request"
# The identity headers gatehouse_auth_request answers, passed on by the
# forward-auth server as the example of docs/gateway-auth-request.md does.
AUTH_IDENTITY = ("X-Gatehouse-User", "X-Gatehouse-Role", "X-Gatehouse-Privileges",
                 "X-Gatehouse-Session", "X-Gatehouse-Dialect")
# What the forward-auth server must not pass on: the client's credentials.
AUTH_STRIPPED = ("Authorization", "X-Auth-Token")


# ------------------------------------------------------- nginx.conf

_TOKEN = re.compile(r"""\s+|#[^\n]*|"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|[{};]|[^\s{};"'#]+""",
                    re.S)


def parse(text):
    """nginx.conf text as a list of nodes [name, [args], children or None]."""
    stack, node = [[]], None
    for m in _TOKEN.finditer(text):
        tok = m.group(0)
        if tok.isspace() or tok.startswith("#"):
            continue
        if tok == ";":
            stack[-1].append([node[0], node[1:], None])
            node = None
        elif tok == "{":
            block = [node[0], node[1:], []]
            stack[-1].append(block)
            stack.append(block[2])
            node = None
        elif tok == "}":
            if node is not None or len(stack) == 1:
                raise ValueError("nginx.conf: unbalanced '}'")
            stack.pop()
        else:
            node = [tok] if node is None else node + [tok]
    if node is not None or len(stack) != 1:
        raise ValueError("nginx.conf: unterminated directive or block")
    return stack[0]


def dump(nodes, depth=0):
    out = []
    for name, args, children in nodes:
        head = "    " * depth + " ".join([name, *args])
        if children is None:
            out.append(head + ";")
        else:
            out += [head + " {", dump(children, depth + 1), "    " * depth + "}"]
    return "\n".join(x for x in out if x) + ("\n" if depth == 0 else "")


def unquote(arg):
    return arg[1:-1] if len(arg) >= 2 and arg[0] == arg[-1] and arg[0] in "\"'" else arg


def find(nodes, name):
    return [n for n in nodes if n[0] == name]


def one(nodes, name):
    found = find(nodes, name)
    if len(found) != 1:
        raise RuntimeError(f"nginx.conf: {len(found)} '{name}' where one was expected")
    return found[0]


def listens_on(server, port):
    return any(unquote(a[1][0]).endswith(f":{port}") for a in find(server[2], "listen"))


def https_server(conf, port):
    """The server block of nginx.conf nodes that listens on port."""
    http = one(conf, "http")
    found = [s for s in find(http[2], "server") if listens_on(s, port)]
    if len(found) != 1:
        raise RuntimeError(f"nginx.conf: {len(found)} servers listen on port {port}")
    return found[0]


def proxy_location(server, path):
    """The location of a server that passes path on (proxy_pass): an exact
    one, else the first regular expression that matches (as nginx picks;
    `gatehouse serve` writes its dialects' as `~*`), else the longest prefix
    (plain or ^~)."""
    def match(loc):
        mod, uri = (loc[1][0], loc[1][1]) if len(loc[1]) == 2 else ("", loc[1][0])
        uri = unquote(uri)
        if mod == "=":
            return 1 << 30 if uri == path else -1
        if mod in ("~", "~*"):
            hit = re.search(uri, path, re.I if mod == "~*" else 0)
            return (1 << 20) - order[id(loc)] if hit else -1
        return len(uri) if mod in ("", "^~") and path.startswith(uri) else -1

    found = [loc for loc in find(server[2], "location") if find(loc[2], "proxy_pass")]
    order = {id(loc): i for i, loc in enumerate(find(server[2], "location"))}
    best = max(found, key=match, default=None)
    if best is None or match(best) < 0:
        raise RuntimeError(f"nginx.conf: no location with proxy_pass for {path}")
    return best


def set_listen_port(server, old, new):
    for node in find(server[2], "listen"):
        node[1][0] = re.sub(rf":{old}$", f":{new}", unquote(node[1][0]))


# ------------------------------------------------- the upstream nginx

class Upstream:
    """Plain nginx with one worker, on its own port: the API gatehouse guards.
    It answers paths (resources of the bundled tree) from static files, and
    a service root of its own (gatehouse takes the upstream's, issue 14)."""

    WORKERS = 1
    SERVICE_ROOT = {"@odata.id": "/redfish/v1/", "@odata.type": "#ServiceRoot.v1_15_0.ServiceRoot",
                    "Id": "RootService", "Name": "Upstream Root Service",
                    "RedfishVersion": "1.15.0", "Systems": {"@odata.id": "/redfish/v1/Systems"}}

    def __init__(self, base, owner, repo, paths):
        self.dir = Path(base) / "upstream"
        self.www = self.dir / "www"
        self.www.mkdir(parents=True, mode=0o755)
        (self.dir / "tmp").mkdir(mode=0o755)
        (self.port,) = bl.free_ports(1)
        self.owner, self.proc = owner, None
        self.log, self.conf = self.dir / "nginx.log", self.dir / "nginx.conf"
        (self.www / "redfish" / "v1").mkdir(parents=True)
        (self.www / "redfish" / "v1" / "index.json").write_text(json.dumps(self.SERVICE_ROOT))
        for path in paths:
            dst = self.www / path.strip("/") / "index.json"
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(repo) / "data" / path.strip("/") / "index.json", dst)
        self.conf.write_text(self.render())
        if os.geteuid() == 0:
            for p in [self.dir, *self.dir.rglob("*")]:
                os.chown(p, *owner)
        for p in [self.dir, *self.dir.rglob("*")]:
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        self.client = bl.Client(self.port, tls=False)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def render(self):
        tmp = self.dir / "tmp"
        return f"""# The upstream of bench/run's row 8: the API behind gatehouse.
worker_processes {self.WORKERS};
pid "{self.dir}/nginx.pid";
error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    server_tokens off;
    types {{ }}
    default_type application/json;
    client_body_temp_path "{tmp}/body";
    proxy_temp_path "{tmp}/proxy";
    fastcgi_temp_path "{tmp}/fastcgi";
    uwsgi_temp_path "{tmp}/uwsgi";
    scgi_temp_path "{tmp}/scgi";
    open_file_cache max=64 inactive=1h;
    open_file_cache_valid 1h;
    # A proxy's kept-alive connection lasts: no reconnect every 1000 requests.
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    server {{
        listen 127.0.0.1:{self.port};
        location / {{
            root "{self.www}";
            try_files $uri/index.json =404;
            etag off;
            max_ranges 0;
        }}
    }}
}}
"""

    def start(self):
        self.proc = bl.spawn(["/usr/sbin/nginx", "-e", "stderr", "-p", f"{self.dir}/",
                              "-c", str(self.conf), "-g", "daemon off;"], self.log, self.owner)
        if self.client.wait_for("/redfish/v1/", timeout=20)[1] is None:
            raise RuntimeError(f"the upstream nginx did not start:\n{bl.tail(self.log)}")

    def pids(self):
        return bl.group_members(self.proc.pid)

    def stop(self):
        bl.stop(self.proc)


# ------------------------------------------------ gatehouse, gateway mode

def serve_check(g):
    """`gatehouse serve --check` on g's addresses: DATA/run/nginx.conf written
    (and tested by nginx) as `gatehouse serve` writes it, as nodes."""
    g.cli("serve", "--check", "--listen", f"127.0.0.1:{g.port}",
          "--http-listen", f"127.0.0.1:{g.http_port}",
          "--metrics-listen", f"127.0.0.1:{g.metrics_port}")
    return parse(g.nginx_conf())


def gateway_nginx_conf(g, upstream):
    """THE GATEWAY SIDE OF ROW 8: the nginx.conf gatehouse guards upstream
    with, as nodes: what `gatehouse serve` writes with `[server] upstream`
    set to it, taken as it is. g: a bl.Gatehouse, initialised, not running."""
    g.set_config({**g.config, "server": {**g.config["server"], "upstream": upstream.url}})
    return serve_check(g)


def lift_per_address_limit(conf, limit):
    """Every `limit_conn ZONE N` of nginx.conf nodes made `limit_conn ZONE
    limit`. nginx counts a request in progress against its address's limit
    until the answer is sent: a proxied request waits for the upstream, so
    256 connections from the one address of the load tools (127.0.0.1) keep
    more than gatehouse's 128 in progress, and nginx answers the rest with
    429 on both sides. Real clients come from many addresses."""
    def walk(nodes):
        for n in nodes:
            if n[0] == "limit_conn":
                n[1][-1] = str(limit)
            elif n[2] is not None:
                walk(n[2])
    walk(conf)
    return conf


def has_auth_request(module):
    """Does this build of the module know gatehouse_auth_request?"""
    return (AUTH_DIRECTIVE + "\0").encode() in Path(module).read_bytes()


def add_forward_auth(conf, gh_port, port, path, dialect="redfish"):
    """A second HTTPS server in gatehouse's nginx.conf, on port, as someone
    who runs nginx in front of an API would add it, after the example of
    docs/gateway-auth-request.md: a copy of the gateway server whose
    location proxying path asks gatehouse by nginx auth_request (a location
    with gatehouse_auth_request, also its error_page for 401, 403 and 500)
    instead of `gatehouse on`, and passes the identity it answers on, the
    client's credentials not; no location or error page of gatehouse's."""
    server = copy.deepcopy(https_server(conf, gh_port))
    set_listen_port(server, gh_port, port)
    loc = proxy_location(server, path)
    loc[2] = [n for n in loc[2] if not n[0].startswith("gatehouse")]
    headers = [n for n in loc[2] if n[0] == "proxy_set_header"] or \
        [n for n in server[2] if n[0] == "proxy_set_header"] or \
        [n for n in one(conf, "http")[2] if n[0] == "proxy_set_header"]
    loc[2] = [n for n in loc[2] if n[0] != "proxy_set_header"] + copy.deepcopy(headers)
    sets = [["auth_request", [AUTH_LOCATION], None]]
    for h in AUTH_IDENTITY:
        var = "$gh_" + h.lower().replace("-", "_")
        sets.append(["auth_request_set", [var, "$sent_http_" + h.lower().replace("-", "_")],
                     None])
        loc[2].append(["proxy_set_header", [h, var], None])
    loc[2] = sets + [["error_page", ["401", "403", "500", AUTH_LOCATION], None]] + loc[2] + [
        ["proxy_set_header", [h, '""'], None] for h in AUTH_STRIPPED]
    server[2] = [n for n in server[2] if n is loc or (
        n[0] != "location" and not any("/.gatehouse/" in a for a in n[1]))]
    server[2].append(
        ["location", ["=", AUTH_LOCATION], [["internal", [], None],
                                            [AUTH_DIRECTIVE, [dialect], None]]])
    one(conf, "http")[2].append(server)
    return conf


# -------------------------------------------------- the plain proxy

def plain_proxy_conf(gh_conf, gh_port, port, workdir):
    """gatehouse's nginx.conf (nodes) without the module: the gateway server
    alone, on port, every gatehouse directive and error page taken out, its
    own pid and temporary files under workdir. What is left is what it was:
    certificate, TLS, limits, the upstream block and the proxy settings."""
    conf = copy.deepcopy(gh_conf)
    tmp = Path(workdir) / "tmp"

    def strip(nodes):
        out = []
        for n in nodes:
            if n[0].startswith("gatehouse") or n[0] in ("load_module", "thread_pool"):
                continue
            if any("/.gatehouse/" in a for a in n[1]):
                continue        # error_page to gatehouse's error location, and the location
            if n[0] == "pid":
                n = ["pid", [f'"{workdir}/nginx.pid"'], None]
            elif n[0].endswith("_temp_path"):
                n = [n[0], [f'"{tmp}/{n[0].split("_")[0]}"'], None]
            elif n[2] is not None:
                n = [n[0], n[1], strip(n[2])]
                if n[0] == "location" and not n[2]:
                    continue    # a location of gatehouse's alone
            out.append(n)
        return out

    conf = strip(conf)
    http = one(conf, "http")
    http[2] = [n for n in http[2] if n[0] != "server" or listens_on(n, gh_port)]
    set_listen_port(https_server(conf, gh_port), gh_port, port)
    return conf


class PlainProxy:
    """Plain nginx running plain_proxy_conf."""

    def __init__(self, base, owner, gh_conf, gh_port, ca):
        self.dir = Path(base) / "plain-proxy"
        (self.dir / "tmp").mkdir(parents=True, mode=0o755)
        (self.port,) = bl.free_ports(1)
        self.owner, self.proc = owner, None
        self.log, self.conf = self.dir / "nginx.log", self.dir / "nginx.conf"
        self.conf.write_text("# Plain nginx proxying for bench/run's row 8: gatehouse's "
                             "nginx.conf without the module.\n"
                             + dump(plain_proxy_conf(gh_conf, gh_port, self.port, self.dir)))
        for p in [self.dir, *self.dir.rglob("*")]:
            if os.geteuid() == 0:
                os.chown(p, *owner)
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        self.client = bl.Client(self.port, ca)

    def start(self):
        self.proc = bl.spawn(["/usr/sbin/nginx", "-e", "stderr", "-p", f"{self.dir}/",
                              "-c", str(self.conf), "-g", "daemon off;"], self.log, self.owner)
        if self.client.wait_for("/redfish/v1/", timeout=20)[1] is None:
            raise RuntimeError(f"the plain proxy did not start:\n{bl.tail(self.log)}")

    def pids(self):
        return bl.group_members(self.proc.pid)

    def stop(self):
        bl.stop(self.proc)


class Gateway:
    """gatehouse in gateway mode: nginx with the module on the nginx.conf
    gateway_nginx_conf gives (and add_forward_auth's server when the module
    has gatehouse_auth_request), run on g's data directory as row 7 runs its
    own: the nginx `gatehouse serve` would exec, its per-address connection
    limit lifted to PER_ADDRESS (lift_per_address_limit), on the plain proxy
    too, which copies it."""

    PER_ADDRESS = 1024

    def __init__(self, g, upstream, owner, module, path):
        self.g, self.owner, self.proc = g, owner, None
        self.nodes = lift_per_address_limit(gateway_nginx_conf(g, upstream), self.PER_ADDRESS)
        self.gateway_nodes = copy.deepcopy(self.nodes)     # before the forward-auth server
        self.auth_port = None
        if has_auth_request(module):
            self.auth_port = next(p for p in bl.free_ports(3)
                                  if p not in (g.port, g.http_port))
            add_forward_auth(self.nodes, g.port, self.auth_port, path)
        self.conf = g.dir / "nginx-gateway.conf"
        self.conf.write_text("# bench/run row 8: gatehouse guarding an upstream.\n"
                             + dump(self.nodes))
        os.chmod(self.conf, 0o644)
        self.log = g.dir / "gateway.log"

    def start(self):
        run_dir = self.g.data / "run"
        self.proc = bl.spawn(["/usr/sbin/nginx", "-e", "stderr", "-p", f"{run_dir}/",
                              "-c", str(self.conf), "-g", "daemon off;"], self.log, self.owner)
        if self.g.client().wait_for("/redfish/v1/", timeout=60)[1] is None:
            raise RuntimeError(f"gatehouse (gateway) did not start:\n{bl.tail(self.log)}")

    def pids(self):
        return bl.group_members(self.proc.pid)

    def stop(self):
        bl.stop(self.proc)
