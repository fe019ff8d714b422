"""The oVirt SSO over real HTTPS: the token endpoint (body, query, GET and
POST, URL-decoding), every error body in both of the engine's shapes, the
built-in admin's 4.5.1+ name, configured profiles, token lifetimes from the
configuration (idle timeout, limit since last use), one token per user, the
logout, tokens surviving a restart, and what the audit log keeps."""

import json
import time

import pytest

from gatehouse_harness import IDLE_MARGIN, wait_for
from ovirt_util import API, LOGOUT, TOKEN, bearer, get_token, token_request

BAD_LOGIN = ("Unable to log in. Verify your login information or contact the system "
             "administrator.")


def api_error(r, code, message=None):
    """An error in the REST API scope's shape."""
    assert r.status_code == 400, f"{r.status_code} {r.text}"
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert set(body) == {"error_code", "error"}, body
    assert body["error_code"] == code, body
    if message is not None:
        assert body["error"] == message, body
    return body


def oauth_error(r, code, message=None, status=400):
    """An error in OAuth's shape."""
    assert r.status_code == status, f"{r.status_code} {r.text}"
    body = r.json()
    assert set(body) == {"error", "error_description"}, body
    assert body["error"] == code, body
    if message is not None:
        assert body["error_description"] == message, body
    return body


def token_works(server, token):
    return server.get(API + "/vms", headers=bearer(token)).status_code == 200


def test_token(server):
    before = time.time()
    r = token_request(server)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    server.secrets.add(body["access_token"])
    assert set(body) == {"access_token", "token_type", "scope", "exp"}
    assert body["token_type"] == "bearer"
    assert body["scope"] == "ovirt-app-api"
    assert isinstance(body["exp"], str) and body["exp"].isdigit()
    # Epoch milliseconds, the default idle timeout (30 minutes) from now.
    exp = int(body["exp"]) / 1000
    assert before + 1800 - 5 <= exp <= time.time() + 1800 + 5
    assert token_works(server, body["access_token"])


def test_token_sources_and_encoding(server):
    # The query, by GET; the body, by POST; admin%40internal decodes.
    assert token_request(server, method="GET").status_code == 200
    r = server.request("POST", TOKEN, headers={
        "Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
        data=f"grant_type=password&scope=ovirt-app-api&username=admin%40internal"
             f"&password={server.admin_password}")
    assert r.status_code == 200, r.text
    server.secrets.add(r.json()["access_token"])
    # Other users, other roles.
    assert token_works(server, get_token(server, "reader@internal"))
    assert token_works(server, get_token(server, "operator@internal"))


def test_token_errors(server):
    pw = server.admin_password
    sessions_before = server.sessions_server_side()
    api_error(token_request(server, accept=None), "invalid_request",
              "Missing parameter: 'Accept Header'")
    api_error(token_request(server, accept="application/xml"), "invalid_request",
              "Missing parameter: 'Accept Header'")
    r = server.request("POST", TOKEN, headers={"Accept": "application/json"},
                       data={"scope": "ovirt-app-api", "username": "admin@internal",
                             "password": pw})
    api_error(r, "invalid_request", "Missing parameter: 'grant_type'")
    api_error(token_request(server, extra={"grant_type": "authorization_code"}),
              "unsupported_grant_type",
              "The authorization grant type is not supported by the authorization server.")
    for missing in ("username", "password"):
        data = {"grant_type": "password", "scope": "ovirt-app-api", "username": "admin@internal",
                "password": pw}
        del data[missing]
        r = server.request("POST", TOKEN, headers={"Accept": "application/json"}, data=data)
        api_error(r, "invalid_request", f"Missing parameter: '{missing}'")
    api_error(token_request(server, password="Wrong-Password-1"), "access_denied",
              f"Cannot authenticate user 'admin@internal': {BAD_LOGIN}")
    api_error(token_request(server, "nobody-42@internal", password="Some-Password-1"),
              "access_denied", f"Cannot authenticate user 'nobody-42@internal': {BAD_LOGIN}")
    api_error(token_request(server, "admin", password=pw), "access_denied",
              "Cannot authenticate user 'admin@N/A': No profile found in credentials.")
    api_error(token_request(server, "admin@example.com", password=pw), "access_denied",
              "Cannot authenticate user 'admin@example.com': No valid profile found in "
              "credentials.")
    # Without the REST API scope: OAuth's shape. The scope is mandatory.
    oauth_error(token_request(server, scope=None), "invalid_scope",
                "The requested scope '' is invalid, unknown, malformed, or exceeds the scope "
                "granted by the resource owner.")
    oauth_error(token_request(server, scope="ovirt-app-portal"), "invalid_scope")
    oauth_error(token_request(server, scope=None, accept=None), "invalid_request",
                "Missing parameter: 'Accept Header'")
    r = server.request("POST", TOKEN, headers={"Accept": "application/json",
                                               "Content-Type": "application/x-www-form-urlencoded"},
                       data="grant_type=password&scope=ovirt-app-api&username=%zz")
    oauth_error(r, "invalid_request", "Malformed request parameters")
    # Other methods are no token request.
    r = server.request("PUT", TOKEN, headers={"Accept": "application/json"})
    assert r.status_code == 405 and r.headers["Allow"] == "GET, POST"
    # Not one of these left a session behind.
    assert server.sessions_server_side() == sessions_before


def test_builtin_admin_as_internalsso(server):
    token = get_token(server, "admin@ovirt@internalsso", server.admin_password)
    assert token_works(server, token)
    r = server.get(API, headers=bearer(token, Accept="application/json"))
    assert r.json()["summary"]["vms"]["total"] == "3"     # an Administrator
    api_error(token_request(server, "reader@internalsso", password=server.users["reader"]),
              "access_denied")


def test_configured_profiles(make_server):
    gh = make_server(config={"ovirt": {"profiles": "internal, lab.example.com"}})
    gh.add_user("eve", "ReadOnly")
    assert token_works(gh, get_token(gh, "eve@lab.example.com", gh.users["eve"]))
    assert token_works(gh, get_token(gh, "eve@internal", gh.users["eve"]))
    api_error(token_request(gh, "eve@lab", password=gh.users["eve"]), "access_denied")
    r = gh.get(API, auth=("eve@lab.example.com", gh.users["eve"]))
    assert r.status_code == 200


def test_locked_account(make_server):
    gh = make_server(config={"lockout": {"lockout_threshold": 2}})
    pw = gh.add_user("mallory", "Operator")
    for _ in range(2):
        api_error(token_request(gh, "mallory@internal", password="Wrong-Password-1"),
                  "access_denied")
    # Locked: the right password gets the same answer, and no token.
    api_error(token_request(gh, "mallory@internal", password=pw), "access_denied",
              f"Cannot authenticate user 'mallory@internal': {BAD_LOGIN}")
    gh.cli("user", "unlock", "mallory")
    assert token_works(gh, get_token(gh, "mallory@internal", pw))


def wait_ended(gh, path, idle):
    """Wait until the token's session at path has ended by its idle time."""
    wait_for(lambda: path not in gh.sessions_server_side(), idle + 1 + IDLE_MARGIN,
             f"the token idle for {idle} s ended", interval=0.1)


def test_idle_timeout(make_server):
    # Times are kept in whole seconds: a second of idle time is allowed for the
    # rounding, and one for a slow (sanitizer) build between two uses.
    gh = make_server(config={"ovirt": {"token_idle_timeout": 4}})
    before = gh.sessions_server_side()
    r = token_request(gh)
    token = r.json()["access_token"]
    gh.secrets.add(token)
    (path,) = gh.sessions_server_side() - before
    assert int(r.json()["exp"]) / 1000 <= time.time() + 5
    # Used within the idle time it lives on...
    for _ in range(3):
        time.sleep(1.5)     # idle time passing is what is tested
        assert token_works(gh, token)
    # ...unused past it, it is gone (the administrator's list, which uses
    # no token, shows when): 401, the engine's refusal.
    wait_ended(gh, path, 4)
    r = gh.get(API + "/vms", headers=bearer(token))
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'Basic realm="RESTAPI"'


def test_limit_since_last_use(make_server):
    # No idle timeout of the engine's session: the SSO token timeout alone.
    # Times are whole seconds, so an idle time over the timeout less 1 s may
    # already end it: a use 1 s after the start, with a timeout of 3 s, leaves
    # a second to a slow machine.
    gh = make_server(config={"ovirt": {"token_idle_timeout": 0, "token_timeout": 3}})
    before = gh.sessions_server_side()
    token = get_token(gh)
    (path,) = gh.sessions_server_side() - before
    time.sleep(1)     # idle time passing is what is tested
    assert token_works(gh, token)
    wait_ended(gh, path, 3)
    assert not token_works(gh, token)


def test_single_token_per_user(make_server):
    gh = make_server(config={"ovirt": {"single_token_per_user": "true"}})
    pw = gh.add_user("olga", "ReadOnly")
    first = get_token(gh)
    other = get_token(gh, "olga@internal", pw)
    second = get_token(gh)
    assert not token_works(gh, first)
    assert token_works(gh, second)
    assert token_works(gh, other)


def test_logout(server):
    token = get_token(server)
    r = server.request("POST", LOGOUT, data={"scope": "ovirt-app-api", "token": token},
                       headers={"Accept": "application/json"})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {}
    assert not token_works(server, token)
    # Again, or a token nobody has: the same, so logout tells nobody which are alive.
    for t in (token, "0" * 64):
        r = server.request("POST", LOGOUT, data={"token": t})
        assert r.status_code == 200 and r.json() == {}
    r = server.request("POST", LOGOUT, data={"scope": "ovirt-app-api"})
    api_error(r, "invalid_request", "Missing parameter: 'token'")
    # A Redfish session's token is not the oVirt logout's to end.
    rf_token, location, _, _ = server.login()
    r = server.request("POST", LOGOUT, data={"token": rf_token})
    assert r.json() == {}
    assert server.get("/redfish/v1/Systems", headers={"X-Auth-Token": rf_token}).status_code == 200
    server.logout(rf_token, location)


def test_tokens_survive_a_restart(make_server):
    gh = make_server(config={"lockout": {"lockout_threshold": 0}})
    token = get_token(gh)
    gh.restart()
    assert token_works(gh, token)
    gh.kill9()
    gh.start()
    assert token_works(gh, token)
    r = gh.request("POST", LOGOUT, data={"token": token})
    assert r.json() == {}
    gh.restart()
    assert not token_works(gh, token)


def test_audit_log_names_the_way_in(make_server):
    gh = make_server()
    get_token(gh)
    token_request(gh, password="Wrong-Password-2")
    records = [json.loads(line) for line in gh.audit_log.read_text().splitlines()]
    methods = [(r.get("event"), r.get("method")) for r in records]
    assert ("login", "ovirt-sso") in methods, methods
    assert ("login_failed", "ovirt-sso") in methods, methods


@pytest.mark.parametrize("path", [TOKEN, LOGOUT])
def test_sso_over_plain_http_is_redirected(server, path):
    import requests

    r = requests.post(server.http_url + path, data={"token": "x"}, timeout=10,
                      allow_redirects=False)
    assert r.status_code == 301
