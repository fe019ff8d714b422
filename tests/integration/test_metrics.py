"""The metrics and health listener ([server] metrics_listen): /metrics in
Prometheus' text format, /healthz, /readyz, on a plain-HTTP port of its own.

What is held: after known traffic on every dialect (Basic, session tokens,
OAuth bearer tokens, cookies, refusals, malformed credentials, a path no
dialect owns), gatehouse_requests_total shows exactly that traffic, summed
over the workers; in gateway mode the upstream's answers and failures are
counted by dialect and class; Prometheus' own promtool accepts the text;
/healthz answers 200, /readyz 200 while the store answers and 503 while a
Redis store is stopped (and 200 again once it is back), /healthz all along;
the metrics port serves nothing of the API, and the API port no /metrics;
the listener is off when metrics_listen is empty."""

import socket
import subprocess

import pytest
import requests

import gatehouse_harness as H
from metrics_util import LANDS, scrape, settled, wait_moved
from ovirt_util import get_token, bearer
from upstream_recorder import UpstreamRecorder


def req(dialect, cred, code):
    return (("dialect", dialect), ("credential", cred), ("code", code))


def basic_traffic(gh, path, user, n):
    for _ in range(n):
        r = gh.get(path, auth=(user, gh.admin_password))
        assert r.status_code == 200, (path, r.status_code, r.text[:300])


def refused(gh, path, n, **kw):
    for _ in range(n):
        r = gh.get(path, **kw)
        assert r.status_code in (400, 401), (path, r.status_code, r.text[:300])


def test_requests_counted_exactly(fresh):
    gh = fresh
    before = settled(gh)
    expected = {}

    def expect(dialect, cred, code, n):
        key = req(dialect, cred, code)
        expected[key] = expected.get(key, 0) + n

    # Basic on three dialects, their refusals without and with a malformed credential
    for dialect, path, user in (("redfish", "/redfish/v1/Systems", "admin"),
                                ("ovirt", "/ovirt-engine/api", "admin@internal"),
                                ("powerstore", "/api/rest/volume", "admin")):
        basic_traffic(gh, path, user, 3)
        expect(dialect, "basic", "2xx", 3)
        refused(gh, path, 2)
        expect(dialect, "none", "4xx", 2)
        refused(gh, path, 1, headers={"Authorization": "Basic !!!"})
        expect(dialect, "malformed", "4xx", 1)
    # a wrong password is a Basic credential refused
    r = gh.get("/redfish/v1/Systems", auth=("admin", "not-the-password"))
    assert r.status_code == 401
    expect("redfish", "basic", "4xx", 1)

    # Redfish session: the login (no credential), token GETs, the logout
    token, location, _, _ = gh.login()
    expect("redfish", "none", "2xx", 1)
    for _ in range(4):
        assert gh.get("/redfish/v1/Systems", headers={"X-Auth-Token": token}).status_code == 200
    expect("redfish", "token", "2xx", 4)
    assert gh.logout(token, location).status_code == 204
    expect("redfish", "token", "2xx", 1)
    assert gh.get("/redfish/v1/Systems", headers={"X-Auth-Token": token}).status_code == 401
    expect("redfish", "token", "4xx", 1)

    # oVirt: an SSO token, then bearer GETs
    access = get_token(gh)
    expect("ovirt", "none", "2xx", 1)
    for _ in range(2):
        assert gh.get("/ovirt-engine/api", headers=bearer(access)).status_code == 200
    expect("ovirt", "bearer", "2xx", 2)

    # Proxmox VE: a ticket, then cookie GETs; refusals without one
    r = gh.request("POST", "/api2/json/access/ticket",
                   data={"username": "admin@pam", "password": gh.admin_password})
    assert r.status_code == 200, r.text
    ticket = r.json()["data"]["ticket"]
    gh.secrets.update({ticket, r.json()["data"]["CSRFPreventionToken"]})
    expect("proxmox", "none", "2xx", 1)
    for _ in range(3):
        r = gh.get("/api2/json/nodes", cookies={"PVEAuthCookie": ticket})
        assert r.status_code == 200, r.text
    expect("proxmox", "token", "2xx", 3)
    refused(gh, "/api2/json/nodes", 2)
    expect("proxmox", "none", "4xx", 2)

    # a path no dialect owns
    assert gh.get("/nowhere").status_code == 404
    expect("none", "none", "4xx", 1)

    assert wait_moved(gh, before, "gatehouse_requests_total", expected) == expected


def test_health_ready_and_nothing_else(server):
    r = scrape(server, "/healthz")
    assert (r.status_code, r.text) == (200, "ok\n")
    r = scrape(server, "/readyz")
    assert (r.status_code, r.text) == (200, "ready\n")
    with requests.Session() as s:
        s.trust_env = False
        assert s.head(server.metrics_url + "/metrics", timeout=10).status_code == 200
        assert s.post(server.metrics_url + "/metrics", timeout=10).status_code == 405
        # the API is not served here, with or without credentials
        for path in ("/redfish/v1/", "/redfish/v1/Systems", "/api2/json/version",
                     "/ovirt-engine/api", "/api/rest/volume", "/metrics/", "/"):
            r = s.get(server.metrics_url + path, auth=("admin", server.admin_password),
                      timeout=10)
            assert r.status_code == 404, (path, r.status_code)
            assert "gatehouse_" not in r.text
    # TLS on the metrics port: not spoken (plain HTTP only)
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"https://127.0.0.1:{server.metrics_port}/metrics", verify=server.ca,
                     timeout=10)


def test_api_port_serves_no_metrics(server):
    for path in ("/metrics", "/healthz", "/readyz"):
        r = server.get(path)
        assert r.status_code == 404, (path, r.status_code)
        assert "gatehouse_" not in r.text
    # under a dialect's path: that dialect's own 404
    with server.admin() as s:
        r = s.get(server.url + "/redfish/v1/metrics", timeout=10)
    assert r.status_code == 404
    assert "error" in r.json(), r.text


def test_promtool_accepts_the_text(server):
    server.get("/redfish/v1/Systems", auth=("admin", server.admin_password))
    server.get("/redfish/v1/Systems")
    text = scrape(server).text
    assert "# TYPE gatehouse_requests_total counter" in text
    assert "gatehouse_hash_wait_seconds_bucket{le=\"+Inf\"}" in text
    p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.strip() == "" and p.stderr.strip() == "", p.stdout + p.stderr


def test_readyz_follows_the_store(make_cluster, redis):
    """One node on Redis: ready while Redis answers, 503 while it is down
    (the process still healthy), ready again once it is back."""
    (gh,) = make_cluster(redis.store_keys(), n=1, redis_files=redis).nodes
    assert scrape(gh, "/readyz").status_code == 200
    redis.stop()
    H.wait_for(lambda: scrape(gh, "/readyz").status_code == 503, LANDS,
               "/readyz 503 with Redis stopped")
    r = scrape(gh, "/readyz")
    assert (r.status_code, r.text) == (503, "the store does not answer\n")
    assert scrape(gh, "/healthz").status_code == 200
    redis.start()
    H.wait_for(lambda: scrape(gh, "/readyz").status_code == 200, LANDS,
               "/readyz 200 once Redis is back")


def test_metrics_listener_off(make_server):
    gh = make_server(config={"server": {"metrics_listen": ""}})
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", gh.metrics_port)) != 0
    assert "metrics on" not in gh.stderr_text()
    assert gh.get("/redfish/v1/").status_code == 200


def test_serve_says_where_the_metrics_are(server):
    assert f", metrics on http://127.0.0.1:{server.metrics_port}/metrics" \
        in server.stderr_text()


@pytest.fixture
def upstream():
    up = UpstreamRecorder().start()
    yield up
    up.stop()


def test_gateway_upstream_counted(make_server, upstream):
    gh = make_server(config={"server": {"upstream": upstream.url}})
    before = settled(gh)
    auth = ("admin", gh.admin_password)
    for _ in range(3):
        assert gh.get("/redfish/v1/Systems", auth=auth).status_code == 200
    for _ in range(2):
        r = gh.get("/redfish/v1/Systems/503", auth=auth)
        assert r.status_code == 503 and r.json() == {"upstream": "own 503"}
    assert gh.get("/redfish/v1/Systems/reset", auth=auth).status_code == 502
    # refused before the upstream: not its answer
    assert gh.get("/redfish/v1/Systems").status_code == 401
    expected = {(("dialect", "redfish"), ("code", "2xx")): 3,
                (("dialect", "redfish"), ("code", "5xx")): 2}
    assert wait_moved(gh, before, "gatehouse_upstream_responses_total", expected) == expected
    assert wait_moved(gh, before, "gatehouse_upstream_failures_total",
                        {(("dialect", "redfish"),): 1}) == {(("dialect", "redfish"),): 1}
    requests_expected = {req("redfish", "basic", "2xx"): 3, req("redfish", "basic", "5xx"): 3,
                         req("redfish", "none", "4xx"): 1}
    assert wait_moved(gh, before, "gatehouse_requests_total", requests_expected) \
        == requests_expected


def test_auth_request_guarded_requests_counted(make_server, monkeypatch):
    """Your own nginx with gatehouse_auth_request (docs/gateway.md) and a
    metrics location of its own: the requests it guards are counted under
    the dialect and credential gatehouse checked, with the status the
    client got; those it passes to a proxied service as that service's
    answers."""
    import test_gateway_auth_request as A
    gh = make_server(start=False)
    metrics = ("    server {{\n        listen 127.0.0.1:%d;\n"
               "        location = /metrics {{ gatehouse_metrics; }}\n    }}\n"
               % gh.metrics_port)
    monkeypatch.setattr(A, "CONF", A.CONF.rstrip()[:-2] + metrics + "}}\n")
    own = A.ForwardAuthNginx(gh)
    try:
        before = settled(gh)
        auth = ("admin", gh.admin_password)
        for _ in range(2):
            assert gh.get("/app/hello.txt", auth=auth).status_code == 200
        assert gh.get("/app/hello.txt").status_code == 401
        assert gh.get("/svc/x", auth=auth).status_code == 200
        expected = {req("redfish", "basic", "2xx"): 3, req("redfish", "none", "4xx"): 1}
        assert wait_moved(gh, before, "gatehouse_requests_total", expected) == expected
        expected = {(("dialect", "redfish"), ("code", "2xx")): 1}
        assert wait_moved(gh, before, "gatehouse_upstream_responses_total", expected) \
            == expected
    finally:
        own.stop()
