"""The test of bench/gatewaylib.py, what bench/run's row 8 stands on: on the
nginx.conf the built `gatehouse serve --check` writes, the parser gives back
what it read; the plain proxy is that configuration without the module and
nothing else (and nginx accepts it); the forward-auth server guards by
auth_request and passes no credential on; the per-address limit is lifted
on every limit_conn. Needs the build (`make check` runs `make all` first)."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
sys.dont_write_bytecode = True
import benchlib as bl  # noqa: E402
import gatewaylib as gl  # noqa: E402

BUILD = Path(os.environ.get("GATEHOUSE_BUILD") or ROOT / "build").resolve()
NGINX = "/usr/sbin/nginx"
RESOURCE = "/redfish/v1/Systems/1"


def walk(nodes):
    for n in nodes:
        yield n
        if n[2] is not None:
            yield from walk(n[2])


@pytest.fixture(scope="module")
def gateway():
    """A data directory and the interim gateway configuration of it, under
    /tmp as bench/run's are (the user nginx runs as must reach it)."""
    base = Path(tempfile.mkdtemp(prefix="gatehouse-bench-test-", dir="/tmp"))
    os.chmod(base, 0o755)
    try:
        yield gateway_of(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def gateway_of(base):
    module = BUILD / "ngx_http_gatehouse_module.so"
    g = bl.Gatehouse(base, "gw", BUILD / "gatehouse", {"server": {"module": str(module)}},
                     "Bench-gateway-test-1").init()
    port = bl.free_ports(1)[0]
    upstream = SimpleNamespace(port=port, url=f"http://127.0.0.1:{port}")
    return SimpleNamespace(g=g, base=base, upstream=upstream,
                           nodes=gl.gateway_nginx_conf(g, upstream), module=module)


def nginx_test(conf_text, prefix, path):
    path.write_text(conf_text)
    p = subprocess.run([NGINX, "-t", "-e", "stderr", "-p", f"{prefix}/", "-c", str(path)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr


def test_parse_gives_back_what_it_read(gateway):
    text = gateway.g.nginx_conf()
    assert gl.parse(gl.dump(gl.parse(text))) == gl.parse(text)
    assert gl.parse('a "b;{c}" \'d e\';  # f;\nx { y $host@Z; }') == [
        ["a", ['"b;{c}"', "'d e'"], None], ["x", [], [["y", ["$host@Z"], None]]]]
    for bad in ("a {", "a; }", "a"):
        with pytest.raises(ValueError):
            gl.parse(bad)


def test_gateway_guards_and_passes_on_with_keepalive(gateway):
    """What row 8 needs of gatehouse's configuration, whoever writes it (the
    interim gateway_nginx_conf or serve with [server] upstream): the
    location of the resource has `gatehouse on` and proxy_pass to an
    upstream block of the upstream's address with keepalive."""
    server = gl.https_server(gateway.nodes, gateway.g.port)
    loc = gl.proxy_location(server, RESOURCE)
    assert ["gatehouse", ["on"], None] in loc[2] + server[2]
    target = gl.one(loc[2], "proxy_pass")[1][0]
    assert target.startswith("http://")
    up = [u for u in gl.find(gl.one(gateway.nodes, "http")[2], "upstream")
          if u[1] == [target[len("http://"):]]]
    assert len(up) == 1
    assert ["server", [f"127.0.0.1:{gateway.upstream.port}"], None] in up[0][2]
    assert gl.find(up[0][2], "keepalive")
    nginx_test(gl.dump(gateway.nodes), gateway.g.data / "run", gateway.base / "gw.conf")


def test_plain_proxy_is_gatehouse_without_the_module(gateway, tmp_path):
    port = bl.free_ports(1)[0]
    plain = gl.plain_proxy_conf(gateway.nodes, gateway.g.port, port, tmp_path)
    for n in walk(plain):
        assert not n[0].startswith("gatehouse") and n[0] not in ("load_module", "thread_pool")
        assert not any("/.gatehouse/" in a for a in n[1]), n
    http = gl.one(plain, "http")
    assert len(gl.find(http[2], "server")) == 1
    server = gl.https_server(plain, port)
    mine = gl.https_server(gateway.nodes, gateway.g.port)
    for name in ("ssl_certificate", "ssl_certificate_key", "ssl_protocols", "ssl_ciphers",
                 "add_header"):
        assert gl.find(server[2], name) == gl.find(mine[2], name), name
    assert gl.proxy_location(server, RESOURCE)[2] == [
        n for n in gl.proxy_location(mine, RESOURCE)[2] if n[0] != "gatehouse"]
    assert gl.find(http[2], "upstream") == gl.find(gl.one(gateway.nodes, "http")[2],
                                                   "upstream")
    assert gl.one(plain, "pid")[1] == [f'"{tmp_path}/nginx.pid"']
    (tmp_path / "tmp").mkdir()              # as gl.PlainProxy makes it
    nginx_test(gl.dump(plain), tmp_path, tmp_path / "plain.conf")


def test_forward_auth_guards_by_auth_request(gateway):
    import copy
    nodes = gl.add_forward_auth(copy.deepcopy(gateway.nodes), gateway.g.port, 1, RESOURCE)
    server = gl.https_server(nodes, 1)
    loc = gl.proxy_location(server, RESOURCE)
    names = [n[0] for n in loc[2]]
    assert names[0] == "auth_request" and loc[2][0][1] == [gl.AUTH_LOCATION]
    assert not any(n[0].startswith("gatehouse") for n in loc[2])
    stripped = [n[1][0] for n in loc[2] if n[0] == "proxy_set_header" and n[1][1] == '""']
    assert set(gl.AUTH_STRIPPED) <= set(stripped)
    auth = [n for n in gl.find(server[2], "location") if n[1] == ["=", gl.AUTH_LOCATION]]
    assert auth and [gl.AUTH_DIRECTIVE, ["redfish"], None] in auth[0][2]
    assert not [n for n in gl.find(server[2], "location") if gl.find(n[2], "gatehouse")]
    assert not [n for n in walk(server[2]) if any("/.gatehouse/" in a for a in n[1])]
    assert ["error_page", ["401", "403", "500", gl.AUTH_LOCATION], None] in loc[2]
    passed = {n[1][0]: n[1][1] for n in loc[2] if n[0] == "proxy_set_header"}
    sets = {n[1][0]: n[1][1] for n in loc[2] if n[0] == "auth_request_set"}
    for h in gl.AUTH_IDENTITY:
        assert sets[passed[h]] == "$sent_http_" + h.lower().replace("-", "_")
    # The rest is what nginx accepts, the directive of the module aside
    # when this build has none (then the row says it is not available).
    if not gl.has_auth_request(gateway.module):
        auth[0][2] = [["return", ["204"], None] if n[0] == gl.AUTH_DIRECTIVE else n
                      for n in auth[0][2]]
    gl.set_listen_port(server, 1, bl.free_ports(1)[0])
    nginx_test(gl.dump(nodes), gateway.g.data / "run", gateway.base / "fa.conf")


def test_proxy_location_is_the_longest_match():
    server = gl.parse("server { location / { proxy_pass a; } location ^~ /redfish/ "
                      "{ proxy_pass b; } location = /redfish/v1/Systems/1 { return 204; } "
                      "location /r { gatehouse on; } }")[0]
    assert gl.proxy_location(server, RESOURCE)[2] == [["proxy_pass", ["b"], None]]
    assert gl.proxy_location(server, "/api/x")[2] == [["proxy_pass", ["a"], None]]
    with pytest.raises(RuntimeError):
        gl.proxy_location(gl.parse("server { location /x { proxy_pass a; } }")[0], "/y")


def test_per_address_limit_lifted_everywhere():
    nodes = gl.parse("http { limit_conn a 128; server { limit_conn b 5; } }")
    gl.lift_per_address_limit(nodes, 1024)
    assert [n[1] for n in walk(nodes) if n[0] == "limit_conn"] == [["a", "1024"],
                                                                    ["b", "1024"]]
