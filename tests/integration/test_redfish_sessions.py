"""Redfish SessionService over real HTTPS: login, the collection and its
members, logout, privileges, limits and the SessionTimeout."""

import datetime
import re
import time
from urllib.parse import urlsplit

import pytest

from gatehouse_harness import IDLE_MARGIN, SESSIONS, assert_redfish_error, wait_for


def path_of(location):
    """Location may be absolute or a path: the path part."""
    return urlsplit(location).path if location else location


def my_session_flag(doc):
    """The MySession flag of a Session, wherever the Oem object keeps it."""
    oem = doc.get("Oem")
    assert isinstance(oem, dict) and oem, f"no Oem object: {doc}"
    flags = [v["MySession"] for v in oem.values() if isinstance(v, dict) and "MySession" in v]
    assert len(flags) == 1, f"Oem has no single MySession: {oem}"
    return flags[0]


def assert_token_refused(server, token, path="/redfish/v1/Systems"):
    r = server.get(path, headers={"X-Auth-Token": token})
    assert_redfish_error(r, 401, "NoValidSession")


def assert_token_works(server, token, path="/redfish/v1/Systems"):
    r = server.get(path, headers={"X-Auth-Token": token})
    assert r.status_code == 200, f"{r.status_code} {r.text[:300]}"


# ------------------------------------------------------------------- login

def test_login_returns_token_location_and_session(server):
    before = datetime.datetime.now(datetime.timezone.utc)
    token, location, body, r = server.login()
    try:
        assert r.status_code == 201
        assert re.fullmatch(r"[0-9a-fA-F]{64}", token), f"token {token!r} is not 64 hex"
        assert location, "no Location"
        loc = path_of(location)
        assert loc.startswith(SESSIONS + "/"), loc
        assert body["@odata.id"] == loc
        assert body["@odata.type"].startswith("#Session.")
        assert body["Id"] and loc.endswith("/" + body["Id"])
        assert body["Name"]
        assert body["UserName"] == "admin"
        assert body["ClientOriginIPAddress"] == "127.0.0.1"
        created = datetime.datetime.fromisoformat(body["CreatedTime"].replace("Z", "+00:00"))
        assert created.tzinfo is not None
        assert abs((created - before).total_seconds()) < 60, body["CreatedTime"]
        assert "Password" not in body or body["Password"] is None
        assert token not in r.text, "the token is sent in the header only"
        assert my_session_flag(body) is True
        assert_token_works(server, token)
    finally:
        server.logout(token, path_of(location))


def test_login_through_members_alias(server):
    r = server.request("POST", SESSIONS + "/Members",
                       json={"UserName": "admin", "Password": server.admin_password})
    assert r.status_code == 201, r.text
    token = r.headers["X-Auth-Token"]
    server.secrets.add(token)
    loc = path_of(r.headers["Location"])
    assert loc.startswith(SESSIONS + "/")
    assert_token_works(server, token)
    assert server.logout(token, loc).status_code in (200, 204)


def test_two_logins_two_sessions(server):
    t1, l1, b1, _ = server.login()
    t2, l2, b2, _ = server.login()
    try:
        assert t1 != t2
        assert path_of(l1) != path_of(l2)
        assert b1["Id"] != b2["Id"]
    finally:
        server.logout(t1, path_of(l1))
        server.logout(t2, path_of(l2))


def test_new_session_listed_at_once(server):
    token, location, _, _ = server.login()
    try:
        with server.session(token=token) as s:
            coll = s.get(server.url + SESSIONS, timeout=10).json()
        ids = [m["@odata.id"] for m in coll["Members"]]
        assert path_of(location) in ids
        assert coll["Members@odata.count"] == len(coll["Members"])
        assert coll["@odata.type"].startswith("#SessionCollection.")
        # An administrator's Basic view shows it too.
        assert path_of(location) in server.sessions_server_side()
    finally:
        server.logout(token, path_of(location))


def test_login_token_also_accepted_in_lower_and_upper_case_paths(server):
    token, location, _, _ = server.login()
    try:
        assert_token_works(server, token, "/redfish/v1/systems/1/")
    finally:
        server.logout(token, path_of(location))


@pytest.mark.parametrize("user,password", [
    ("admin", "Wrong-Password-7781"),
    ("nosuchuser-4711", "Some-Password-4711"),
])
def test_wrong_credentials_401_without_echo(server, user, password):
    server.secrets.add(password)
    r = server.request("POST", SESSIONS, json={"UserName": user, "Password": password})
    assert r.status_code == 401, r.text
    assert "X-Auth-Token" not in r.headers
    assert "Location" not in r.headers
    body = r.json()
    assert "error" in body
    everything = r.text + " ".join(f"{k}: {v}" for k, v in r.headers.items())
    assert password not in everything
    assert user not in everything


def test_unknown_and_wrong_answer_the_same(server):
    """A prober cannot tell an unknown account from a wrong password."""
    a = server.request("POST", SESSIONS, json={"UserName": "admin", "Password": "Wrong-Pw-1234"})
    b = server.request("POST", SESSIONS, json={"UserName": "nobody-here",
                                               "Password": "Wrong-Pw-1234"})
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()


@pytest.mark.parametrize("body,missing", [
    ({"UserName": "admin"}, "Password"),
    ({"Password": "whatever-123"}, "UserName"),
    ({}, "UserName"),
    ({"username": "admin", "password": "whatever-123"}, "UserName"),
])
def test_missing_property_400(server, body, missing):
    r = server.request("POST", SESSIONS, json=body)
    err = assert_redfish_error(r, 400, "PropertyMissing")
    args = [a for m in err["error"]["@Message.ExtendedInfo"] for a in m.get("MessageArgs", [])]
    assert missing in args, err
    assert "whatever-123" not in r.text


@pytest.mark.parametrize("raw", [
    b'{"UserName": "admin", "Password": ',
    b"not json at all",
    b'["admin", "pw"]',
    b'"just a string"',
    b"",
    b'{"UserName": "admin", "UserName": "x", "Password": "y"}',
])
def test_malformed_json_400(server, raw):
    r = server.request("POST", SESSIONS, data=raw, headers={"Content-Type": "application/json"})
    assert_redfish_error(r, 400, "MalformedJSON")


def test_non_string_password_is_400_without_echo(server):
    r = server.request("POST", SESSIONS, json={"UserName": "admin", "Password": 123456789})
    assert r.status_code == 400, r.text
    assert "123456789" not in r.text


# ---------------------------------------------------------- limits (fresh)

def test_session_limit_per_account(make_server):
    gh = make_server({"sessions": {"max_sessions_per_account": 2}})
    t1, l1, _, _ = gh.login()
    t2, l2, _, _ = gh.login()
    r = gh.request("POST", SESSIONS, json={"UserName": "admin", "Password": gh.admin_password})
    assert "X-Auth-Token" not in r.headers, "a session past the limit was created"
    assert r.status_code in (400, 403, 409, 429, 503), r.text
    ids = [m.get("MessageId", "") for m in r.json()["error"]["@Message.ExtendedInfo"]]
    assert any(i.endswith(".SessionLimitExceeded") or i.endswith(".CreateLimitReachedForResource")
               for i in ids), ids
    # Another account is not affected by admin's limit.
    gh.add_user("other", "ReadOnly")
    t3, l3, _, _ = gh.login("other")
    # Ending one of admin's sessions makes room again.
    assert gh.logout(t1, path_of(l1)).status_code in (200, 204)
    t4, l4, _, _ = gh.login()
    assert_token_works(gh, t2)
    assert_token_works(gh, t4)


def test_session_limit_total(make_server):
    gh = make_server({"sessions": {"max_sessions": 2, "max_sessions_per_account": 100}})
    gh.add_user("other", "ReadOnly")
    gh.login()
    gh.login("other")
    r = gh.request("POST", SESSIONS, json={"UserName": "other", "Password": gh.users["other"]})
    assert "X-Auth-Token" not in r.headers
    assert r.status_code in (400, 403, 409, 429, 503), r.text
    ids = [m.get("MessageId", "") for m in r.json()["error"]["@Message.ExtendedInfo"]]
    assert any(i.endswith(".SessionLimitExceeded") or i.endswith(".CreateLimitReachedForResource")
               for i in ids), ids


# ---------------------------------------------------- members, MySession

def test_get_own_session_has_my_session_true(server):
    t1, l1, _, _ = server.login()
    t2, l2, _, _ = server.login()
    try:
        with server.session(token=t1) as s:
            mine = s.get(server.url + path_of(l1), timeout=10)
            other = s.get(server.url + path_of(l2), timeout=10)
        assert mine.status_code == 200, mine.text
        doc = mine.json()
        assert doc["@odata.id"] == path_of(l1)
        assert doc["UserName"] == "admin"
        assert my_session_flag(doc) is True
        # The same account's other session: readable, but not "mine".
        assert other.status_code == 200
        assert my_session_flag(other.json()) is False
        # With Basic there is no session in use: none is "mine".
        with server.admin() as s:
            assert my_session_flag(s.get(server.url + path_of(l1), timeout=10).json()) is False
    finally:
        server.logout(t1, path_of(l1))
        server.logout(t2, path_of(l2))


def test_delete_own_session_logs_out(server):
    token, location, _, _ = server.login()
    r = server.logout(token, path_of(location))
    assert r.status_code in (200, 204), r.text
    assert_token_refused(server, token)
    assert path_of(location) not in server.sessions_server_side()
    with server.admin() as s:
        r = s.get(server.url + path_of(location), timeout=10)
    assert r.status_code == 404
    # Logging out twice is no success.
    assert server.logout(token, path_of(location)).status_code == 401


def test_admin_deletes_another_users_session_with_basic(server):
    token, location, _, _ = server.login("reader")
    assert_token_works(server, token)
    with server.admin() as s:
        r = s.delete(server.url + path_of(location), timeout=10)
    assert r.status_code in (200, 204), r.text
    assert_token_refused(server, token)


def test_readonly_cannot_touch_another_accounts_session(server):
    at, al, _, _ = server.login()
    rt, rl, _, _ = server.login("reader")
    try:
        with server.session(token=rt) as s:
            r = s.get(server.url + path_of(al), timeout=10)
            assert_redfish_error(r, 403, "InsufficientPrivilege")
            r = s.delete(server.url + path_of(al), timeout=10)
            assert_redfish_error(r, 403, "InsufficientPrivilege")
            # Its own session it may read.
            r = s.get(server.url + path_of(rl), timeout=10)
            assert r.status_code == 200 and my_session_flag(r.json()) is True
            # The collection shows a reader only its own sessions.
            coll = s.get(server.url + SESSIONS, timeout=10).json()
            ids = {m["@odata.id"] for m in coll["Members"]}
            assert path_of(rl) in ids and path_of(al) not in ids
        assert_token_works(server, at)
    finally:
        server.logout(at, path_of(al))
        server.logout(rt, path_of(rl))


@pytest.mark.parametrize("user", ["reader", "operator"])
def test_only_configure_manager_patches_session_timeout(server, user):
    with server.session(auth=(user, server.users[user])) as s:
        r = s.patch(server.url + "/redfish/v1/SessionService", json={"SessionTimeout": 600},
                    timeout=10)
    assert_redfish_error(r, 403, "InsufficientPrivilege")
    with server.admin() as s:
        assert s.get(server.url + "/redfish/v1/SessionService",
                     timeout=10).json()["SessionTimeout"] == 1800


def test_session_id_case_insensitive(server):
    token, location, _, _ = server.login()
    try:
        loc = path_of(location)
        with server.session(token=token) as s:
            r = s.get(server.url + loc.upper().replace("/REDFISH/V1/SESSIONSERVICE/SESSIONS",
                                                       SESSIONS), timeout=10)
        assert r.status_code == 200
        assert r.json()["@odata.id"] == loc
    finally:
        server.logout(token, path_of(location))


# ---------------------------------------------------------- SessionTimeout

@pytest.mark.parametrize("value,ok", [(29, False), (30, True), (86400, True), (86401, False),
                                      (0, False), (-1, False), ("600", False), (60.5, False),
                                      (None, False)])
def test_patch_session_timeout_range(server, value, ok):
    with server.admin() as s:
        before = s.get(server.url + "/redfish/v1/SessionService", timeout=10).json()
        r = s.patch(server.url + "/redfish/v1/SessionService", json={"SessionTimeout": value},
                    timeout=10)
        after = s.get(server.url + "/redfish/v1/SessionService", timeout=10).json()
        try:
            if ok:
                assert r.status_code in (200, 204), r.text
                assert after["SessionTimeout"] == value
            else:
                assert r.status_code == 400, f"{value!r}: {r.status_code} {r.text}"
                assert "error" in r.json()
                assert after["SessionTimeout"] == before["SessionTimeout"]
        finally:
            s.patch(server.url + "/redfish/v1/SessionService", json={"SessionTimeout": 1800},
                    timeout=10)


def test_patch_session_service_readonly_property(server):
    with server.admin() as s:
        r = s.patch(server.url + "/redfish/v1/SessionService", json={"ServiceEnabled": False},
                    timeout=10)
    assert_redfish_error(r, 400, "PropertyNotWritable")


def test_session_timeout_governs_idle_expiry(make_server):
    """A session left idle longer than SessionTimeout ends, also one created
    before the PATCH; a session in use does not."""
    gh = make_server()
    t0 = time.monotonic()     # before the idle session's last use
    idle_t, idle_l, _, _ = gh.login()
    busy_t, busy_l, _, _ = gh.login()
    with gh.admin() as s:
        r = s.patch(gh.url + "/redfish/v1/SessionService", json={"SessionTimeout": 30},
                    timeout=10)
    assert r.status_code in (200, 204), r.text
    # Keep one session busy, a use every second, until the idle one has
    # ended (the administrator's list, which uses neither, shows when): by
    # the timeout, a second of rounding and a margin for a loaded machine.

    def idle_ended():
        assert_token_works(gh, busy_t)
        if path_of(idle_l) not in gh.sessions_server_side():
            return True
        time.sleep(1)     # the idle session's time passing is what is tested
        return False

    wait_for(idle_ended, 30 + 1 + IDLE_MARGIN, "the idle session ended")
    # Not before (whole seconds: after more than 29 s idle), so the busy one
    # lived as long.
    assert time.monotonic() - t0 > 29, "the idle session ended before its timeout"
    assert_token_refused(gh, idle_t)
    assert_token_works(gh, busy_t)
    assert path_of(idle_l) not in gh.sessions_server_side()
    assert path_of(busy_l) in gh.sessions_server_side()
