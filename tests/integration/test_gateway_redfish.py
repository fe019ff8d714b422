"""Redfish end to end in gateway mode as `gatehouse serve` writes it
(`[server] upstream` = upstream_recorder.py, which records every request it
receives): the Privilege Registry decides what passes (a ReadOnly account's
writes and an Operator's change of a Manager's NetworkProtocol are refused
with Redfish's 403 and never arrive; an Operator's PATCH of a System
arrives), `[authorize]` rules override it both ways, the upstream never sees
a credential nor an identity header a client made up, the service root is
the upstream's with gatehouse's SessionService, AccountService and
Links.Sessions (gatehouse's own root when the upstream has none), and the
sessions, accounts and roles are gatehouse's alone."""

import base64
import json
import socket
import ssl

import pytest

import gatehouse_harness as H
from upstream_recorder import UpstreamRecorder

SYSTEM = "/redfish/v1/Systems/1"
PROTOCOL = "/redfish/v1/Managers/1/NetworkProtocol"
PREFIX = "X-Gatehouse-"

UPSTREAM_ROOT = {
    "@odata.id": "/redfish/v1/",
    "@odata.type": "#ServiceRoot.v1_5_0.ServiceRoot",
    "Id": "RootService",
    "Name": "Recorded Root Service",
    "RedfishVersion": "1.6.0",
    "UUID": "11111111-2222-3333-4444-555555555555",
    "Systems": {"@odata.id": "/redfish/v1/Systems"},
    "Managers": {"@odata.id": "/redfish/v1/Managers"},
    # the BMC's own services, which gatehouse replaces by its own
    "SessionService": {"@odata.id": "/redfish/v1/BmcSessionService"},
    "AccountService": {"@odata.id": "/redfish/v1/BmcAccountService"},
    "Links": {"Sessions": {"@odata.id": "/redfish/v1/BmcSessionService/Sessions"},
              "ManagerProvidingService": {"@odata.id": "/redfish/v1/Managers/1"}},
}


@pytest.fixture(scope="module")
def upstream():
    up = UpstreamRecorder().start()
    yield up
    up.stop()


def gateway(make_server, upstream, more=None):
    config = H.merge_config({"server": {"upstream": upstream.url}}, more)
    gh = make_server(config=config, start=False)
    gh.add_user("operator", "Operator")
    gh.add_user("reader", "ReadOnly")
    gh.start()
    return gh


@pytest.fixture
def gw(make_server, upstream):
    return gateway(make_server, upstream)


def arrived(upstream, method, path):
    return [r for r in upstream.snapshot() if r.method == method and r.path == path]


def auth(gh, user):
    return (user, gh.users[user])


def test_readonly_writes_refused_never_arrive(gw, upstream):
    token, location, _, _ = gw.login("reader")
    for creds in ({"auth": auth(gw, "reader")}, {"headers": {"X-Auth-Token": token}}):
        for method, path in (("POST", SYSTEM + "/Actions/ComputerSystem.Reset"),
                             ("PATCH", SYSTEM), ("DELETE", SYSTEM),
                             ("POST", "/redfish/v1/Oem/Vendor/Things")):
            r = gw.request(method, path, json={"ResetType": "On"}, **creds)
            H.assert_redfish_error(r, 403, "InsufficientPrivilege")
            assert not arrived(upstream, method, path), (method, path)
    # reads pass
    r = gw.get(SYSTEM, headers={"X-Auth-Token": token})
    assert r.status_code == 200 and r.json()["method"] == "GET", r.text
    assert gw.logout(token, location).status_code == 204


def test_registry_operator_system_yes_network_protocol_no(gw, upstream):
    body = {"AssetTag": "rack-7"}
    r = gw.request("PATCH", SYSTEM, json=body, auth=auth(gw, "operator"))
    assert r.status_code == 200, r.text
    (rec,) = arrived(upstream, "PATCH", SYSTEM)
    assert rec.body_len == len(json.dumps(body))
    r = gw.request("PATCH", PROTOCOL, json={"HTTPS": {"Port": 8443}},
                   auth=auth(gw, "operator"))
    H.assert_redfish_error(r, 403, "InsufficientPrivilege")
    assert not arrived(upstream, "PATCH", PROTOCOL)
    # ConfigureManager, which the Administrator holds
    r = gw.request("PATCH", PROTOCOL, json={"HTTPS": {"Port": 8443}},
                   auth=auth(gw, "admin"))
    assert r.status_code == 200, r.text
    assert len(arrived(upstream, "PATCH", PROTOCOL)) == 1


def test_authorize_rules_override_both_ways(make_server, upstream):
    rules = {"authorize": {
        # looser than the registry: an Operator may change the NetworkProtocol
        "/redfish/v1/Managers/1/NetworkProtocol": "PATCH: ConfigureComponents",
        # stricter: a System's changes need ConfigureManager
        "/redfish/v1/Systems": "PATCH: ConfigureManager"}}
    gh = gateway(make_server, upstream, rules)
    upstream.clear()
    r = gh.request("PATCH", PROTOCOL, json={}, auth=auth(gh, "operator"))
    assert r.status_code == 200, r.text
    assert len(arrived(upstream, "PATCH", PROTOCOL)) == 1
    r = gh.request("PATCH", SYSTEM, json={}, auth=auth(gh, "operator"))
    H.assert_redfish_error(r, 403, "InsufficientPrivilege")
    assert not arrived(upstream, "PATCH", SYSTEM)
    # a method the rules do not name keeps the registry's: a reader's GET
    r = gh.get(SYSTEM, auth=auth(gh, "reader"))
    assert r.status_code == 200, r.text
    r = gh.request("PATCH", SYSTEM, json={}, auth=auth(gh, "admin"))
    assert r.status_code == 200, r.text


def raw(gh, request):
    ctx = ssl.create_default_context(cafile=gh.ca)
    with socket.create_connection(("127.0.0.1", gh.port), timeout=10) as sock, \
            ctx.wrap_socket(sock, server_hostname="127.0.0.1") as s:
        s.sendall(request.encode())
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    return answer


def test_no_credential_and_no_spoofed_identity_arrive(gw, upstream):
    token, location, body, _ = gw.login("operator")
    spoof = ("X-Gatehouse-User: admin\r\nx-gatehouse-user: root\r\n"
             "X-GATEHOUSE-ROLE: Administrator\r\nX-Gatehouse-Privileges: ConfigureManager\r\n"
             "X_Gatehouse_User: root2\r\nx-gatehouse-session: forged\r\n"
             "X-Gatehouse-Dialect: ovirt\r\nX-Forwarded-For: 10.9.9.9\r\n")
    own_basic = base64.b64encode(f"operator:{gw.users['operator']}".encode()).decode()
    # a session token with a made-up Basic header beside it; the account's
    # own Basic credentials
    for path, creds in ((SYSTEM + "/spoof-token",
                         f"X-Auth-Token: {token}\r\nAuthorization: Basic Zm9vOmJhcg==\r\n"),
                        (SYSTEM + "/spoof-basic", f"Authorization: Basic {own_basic}\r\n")):
        answer = raw(gw, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{gw.port}\r\n{creds}"
                         f"{spoof}Connection: close\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 200"), answer[:400]
        (rec,) = arrived(upstream, "GET", path)
        low = [n.lower().replace("_", "-") for n in rec.header_names()]
        assert "authorization" not in low and "x-auth-token" not in low, rec.headers
        assert token not in json.dumps(rec.headers)
        ident = {n[len(PREFIX):].lower(): v for n, v in rec.headers
                 if n.lower().startswith(PREFIX.lower())}
        assert [n for n in low if n.startswith("x-gatehouse-")] == \
            ["x-gatehouse-" + k for k in ident], rec.headers       # one of each
        assert ident["user"] == "operator" and ident["role"] == "Operator"
        assert ident["dialect"] == "redfish"
        assert ident["privileges"] == "Login,ConfigureComponents,ConfigureSelf", ident
        assert ident["session"] == (body["Id"] if "spoof-token" in path else "")
        assert rec.values("X-Forwarded-For") == ["127.0.0.1"]
    assert gw.logout(token, location).status_code == 204


def test_open_root_from_the_upstream_with_gatehouses_services(gw, upstream):
    upstream.set_document("/redfish/v1/", 200, UPSTREAM_ROOT)
    try:
        token, location, _, _ = gw.login("reader")
        upstream.clear()
        for headers in ({}, {"X-Auth-Token": token}):
            r = gw.get("/redfish/v1/", headers=headers)
            assert r.status_code == 200, r.text
            root = r.json()
            assert root["Name"] == "Recorded Root Service"
            assert root["UUID"] == UPSTREAM_ROOT["UUID"]
            assert root["SessionService"] == {"@odata.id": "/redfish/v1/SessionService"}
            assert root["AccountService"] == {"@odata.id": "/redfish/v1/AccountService"}
            assert root["Links"]["Sessions"] == {
                "@odata.id": "/redfish/v1/SessionService/Sessions"}
            assert root["Links"]["ManagerProvidingService"] == {
                "@odata.id": "/redfish/v1/Managers/1"}
        # fetched from the upstream each time, never with the client's token
        recs = arrived(upstream, "GET", "/redfish/v1/")
        assert len(recs) == 2
        for rec in recs:
            low = [n.lower() for n in rec.header_names()]
            assert "x-auth-token" not in low and "authorization" not in low
        # the upstream has no root: gatehouse's own
        upstream.set_document("/redfish/v1/", 404, {"error": {"code": "Base.1.0.NotFound"}})
        r = gw.get("/redfish/v1/")
        assert r.status_code == 200, r.text
        assert r.json()["Name"] == "Root Service" and "UUID" in r.json()
        assert r.json()["SessionService"] == {"@odata.id": "/redfish/v1/SessionService"}
        assert gw.logout(token, location).status_code == 204
    finally:
        upstream.set_document("/redfish/v1/", 200, None)


def test_sessions_accounts_roles_are_gatehouses(gw, upstream):
    upstream.clear()
    token, location, body, _ = gw.login("admin")
    with gw.session(token=token) as s:
        for path in (H.SESSIONS, location, "/redfish/v1/SessionService", "/redfish/v1/AccountService",
                     H.ACCOUNTS, H.ROLES, H.ROLES + "/Operator",
                     "/redfish/v1/sessionservice/sessions"):
            r = s.get(gw.url + path, timeout=10)
            assert r.status_code == 200, (path, r.text)
            assert "method" not in r.json(), path          # not the recorder's echo
        pw = H.new_password()
        gw.secrets.add(pw)
        r = s.post(gw.url + H.ACCOUNTS, json={"UserName": "rfnew", "Password": pw,
                                               "RoleId": "ReadOnly"}, timeout=10)
        assert r.status_code == 201, r.text
        r = s.delete(gw.url + r.headers["Location"], timeout=10)
        assert r.status_code in (200, 204), r.text
    assert gw.logout(token, location).status_code == 204
    assert not [r.path for r in upstream.snapshot()
                if "sessionservice" in r.path.lower() or "accountservice" in r.path.lower()]


@pytest.mark.parametrize("http", ["--http1.1", "--http2"])
def test_get_body_dropped_post_body_passed(gw, upstream, http):
    """A GET's body has no meaning (RFC 9110 9.3.1) and is not passed on
    (ngx_http_gatehouse_proxy.c: libgovirt's GET retry declares one it never
    sends); a POST's is, whole. Over HTTP/1.1 and HTTP/2 alike."""
    import subprocess
    for method, path in (("GET", "/redfish/v1/Chassis/get-body" + http),
                         ("POST", "/redfish/v1/Chassis/post-body" + http)):
        p = subprocess.run(["curl", "-sS", http, "--cacert", gw.ca, "-X", method,
                            "-u", f"admin:{gw.admin_password}", "-H", "Content-Type: text/plain",
                            "--data-binary", "x" * 1000, "-o", "/dev/null",
                            "-w", "%{http_code}", gw.url + path],
                           capture_output=True, text=True, timeout=30)
        assert p.stdout == "200", (method, p.stdout, p.stderr)
        (rec,) = arrived(upstream, method, path)
        assert rec.body_len == (0 if method == "GET" else 1000), (method, rec.body_len)
        assert rec.values("Content-Length") == ([] if method == "GET" else ["1000"])
