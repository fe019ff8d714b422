"""The PowerStore dialect (/api/rest) over HTTPS against the real server:
authentication (Basic, the auth_cookie session), login_session, the
DELL-EMC-TOKEN CSRF header and its refusals, logout, expiry, the
password-change gate, roles and local users, paging and select over the
bundled resources, the protocol checks, and errors nginx decides, in
PowerStore's error format. The sequences of Dell's clients are in
test_powerstore_clients.py."""

import json
import re
import subprocess
import time

import pytest
import requests

from gatehouse_harness import (ACCOUNTS, IDLE_MARGIN, new_password, obeyed_at_once,
                               session_listed, wait_for)

LOGIN = "/api/rest/login_session"
LOGOUT = "/api/rest/logout"
USERS = "/api/rest/local_user"
LOGIN_SELECT = "id,user,role_ids,is_password_change_required,is_built_in_user,idle_timeout"
VOLUME_IDS = ["0d3b5c8a-7e1f-4a2b-9c6d-1e2f3a4b5c61", "5a7c9e1b-3d5f-4b7a-8c9e-0f1a2b3c4d72",
              "e2b4d6f8-0a1c-4e3f-9b5d-7c8e9f0a1b83"]


def ps_error(r, status, code):
    """r is a PowerStore error body with this status and code."""
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text[:400]}"
    assert r.headers.get("Content-Type") == "application/json", r.headers
    body = r.json()
    assert list(body) == ["messages"], body
    m = body["messages"][0]
    assert m["code"] == code, body
    assert m["severity"] == "Error"
    assert isinstance(m["message_l10n"], str) and m["message_l10n"]
    assert isinstance(m["arguments"], list)
    return m


def login(gh, user="admin", password=None, host="127.0.0.1"):
    """A requests.Session logged in the way a browser or PyPowerStore is:
    GET login_session with Basic, then the cookie jar and the token only.
    Returns (session, login_session object)."""
    password = gh.users[user] if password is None else password
    s = gh.session()
    url = f"https://{host}:{gh.port}"
    r = s.get(url + LOGIN, params={"select": LOGIN_SELECT}, auth=(user, password), timeout=10)
    assert r.status_code == 200, r.text
    token = r.headers["DELL-EMC-TOKEN"]
    gh.secrets.update({token, s.cookies["auth_cookie"], password})
    s.headers["DELL-EMC-TOKEN"] = token
    s.base = url
    return s, r.json()[0]


# ------------------------------------------------------------ authentication

def test_unauthenticated_gets_401_in_powerstore_format(server):
    for path in ("/api/rest/volume", LOGIN, USERS, "/api/rest/nowhere"):
        r = server.get(path)
        ps_error(r, 401, "0xE1401001")
        assert r.headers["WWW-Authenticate"] == 'Basic realm="PowerStore"'
        assert r.headers["Strict-Transport-Security"]
    r = server.get("/api/rest/volume", auth=("admin", "wrong-password"))
    ps_error(r, 401, "0xE1401002")
    r = server.get("/api/rest/volume", headers={"Authorization": "Basic ***"})
    ps_error(r, 400, "0xE1400001")
    # Another dialect's token is no PowerStore session.
    token, location, _, _ = server.login()
    r = server.get("/api/rest/volume", headers={"Cookie": f"auth_cookie={token}"})
    ps_error(r, 401, "0xE1401001")
    server.logout(token, location)


def test_basic_on_every_request(server):
    with server.session(auth=("operator", server.users["operator"])) as s:
        for _ in range(3):
            r = s.get(server.url + "/api/rest/volume", timeout=10)
            assert r.status_code == 200
            assert r.json() == [{"id": i} for i in VOLUME_IDS]
            assert "DELL-EMC-TOKEN" not in r.headers     # no session, no token
            assert "auth_cookie" not in s.cookies


def test_login_session(server):
    s = server.session()
    r = s.get(server.url + LOGIN, params={"select": LOGIN_SELECT},
              auth=("admin", server.admin_password), timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert isinstance(body, list) and len(body) == 1
    ls = body[0]
    assert set(ls) == set(LOGIN_SELECT.split(","))
    assert re.fullmatch(r"[0-9a-f]{32}", ls["id"])
    assert ls["user"] == "admin"
    assert ls["role_ids"] == ["1"]
    assert ls["idle_timeout"] == 3600
    assert ls["is_password_change_required"] is False
    assert ls["is_built_in_user"] is True
    cookie = r.headers["Set-Cookie"]
    m = re.fullmatch(r"auth_cookie=([0-9a-f]{64}); Path=/; Secure; HttpOnly; SameSite=Strict",
                     cookie)
    assert m, cookie
    token = r.headers["DELL-EMC-TOKEN"]
    assert re.fullmatch(r"[0-9a-f]{64}", token)
    assert token != m.group(1)
    server.secrets.update({token, m.group(1)})
    # select limits the fields; without it, the id alone.
    r = s.get(server.url + LOGIN, params={"select": "user,role_ids"}, timeout=10)
    assert r.json() == [{"user": "admin", "role_ids": ["1"]}]
    assert r.headers["DELL-EMC-TOKEN"] == token
    r = s.get(server.url + LOGIN, timeout=10)
    assert r.json() == [{"id": ls["id"]}]
    s.post(server.url + LOGOUT, headers={"DELL-EMC-TOKEN": token}, timeout=10)
    s.close()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_cookie_jar_by_address_and_by_name(server, host):
    s, ls = login(server, "reader", host=host)
    jar = [c for c in s.cookies if c.name == "auth_cookie"]
    assert len(jar) == 1
    c = jar[0]
    # Host-only: no Domain attribute, so the jar keys it by the host asked.
    assert not c.domain_specified
    assert c.domain in (host, host + ".local")
    assert c.secure and c.path == "/"
    assert c.has_nonstandard_attr("HttpOnly")
    r = s.get(s.base + "/api/rest/volume?select=name", timeout=10)
    assert r.status_code == 200
    assert [v["name"] for v in r.json()] == ["vmfs-datastore-01", "oracle-data-01", "scratch-01"]
    assert r.headers["DELL-EMC-TOKEN"] == s.headers["DELL-EMC-TOKEN"]
    # The cookie is not sent to the other name of the same server.
    other = "localhost" if host == "127.0.0.1" else "127.0.0.1"
    r = s.get(f"https://{other}:{server.port}/api/rest/volume", timeout=10)
    ps_error(r, 401, "0xE1401001")
    r = s.post(s.base + LOGOUT, timeout=10)
    assert r.status_code == 204
    assert "auth_cookie" not in s.cookies


def test_every_get_of_a_session_carries_the_token(server):
    s, _ = login(server, "operator")
    token = s.headers.pop("DELL-EMC-TOKEN")
    for path in ("/api/rest/volume", "/api/rest/host/6c1a7f0e-3b2d-4c55-8f1e-2a9d4b7c0e11",
                 "/api/rest/role", LOGIN, "/api/rest/missing"):
        r = s.get(server.url + path, timeout=10)
        assert r.headers.get("DELL-EMC-TOKEN") == token, path
    s.post(server.url + LOGOUT, headers={"DELL-EMC-TOKEN": token}, timeout=10)


# ---------------------------------------------------------------------- CSRF

def test_csrf_refusals(server):
    s, _ = login(server, "admin")
    token = s.headers.pop("DELL-EMC-TOKEN")
    other, _ = login(server, "admin")
    name = "csrf-" + new_password("u")[3:12].lower()
    pw = new_password()
    server.secrets.add(pw)
    body = {"name": name, "password": pw, "role_id": "3"}
    for headers in ({}, {"DELL-EMC-TOKEN": "0" * 64}, {"DELL-EMC-TOKEN": token[:-1]},
                    {"DELL-EMC-TOKEN": token.upper()},
                    {"DELL-EMC-TOKEN": other.headers["DELL-EMC-TOKEN"]}):
        ps_error(s.post(server.url + USERS, json=body, headers=headers, timeout=10),
                 403, "0xE1403001")
        ps_error(s.patch(server.url + USERS + "/name:reader", json={"is_locked": True},
                         headers=headers, timeout=10), 403, "0xE1403001")
        ps_error(s.delete(server.url + USERS + "/name:reader", headers=headers, timeout=10),
                 403, "0xE1403001")
        ps_error(s.put(server.url + "/api/rest/volume", json={}, headers=headers, timeout=10),
                 403, "0xE1403001")
        ps_error(s.post(server.url + LOGOUT, headers=headers, timeout=10), 403, "0xE1403001")
    # Nothing happened: the reader is not locked, the user not made, the session alive.
    r = s.get(server.url + USERS, params={"select": "name,is_locked"}, timeout=10)
    users = {u["name"]: u["is_locked"] for u in r.json()}
    assert users["reader"] is False and name not in users
    # With the token: done.
    r = s.post(server.url + USERS, json=body, headers={"DELL-EMC-TOKEN": token}, timeout=10)
    assert r.status_code == 201, r.text
    uid = r.json()["id"]
    # Basic on the request needs no token, even beside the cookie.
    r = s.delete(server.url + USERS + "/" + uid, auth=("admin", server.admin_password),
                 timeout=10)
    assert r.status_code == 204, r.text
    assert s.post(server.url + LOGOUT, headers={"DELL-EMC-TOKEN": token},
                  timeout=10).status_code == 204
    assert other.post(server.url + LOGOUT, timeout=10).status_code == 204


# -------------------------------------------------------------------- logout

def test_logout_kills_cookie_and_token(server):
    s, ls = login(server, "operator")
    cookie = s.cookies["auth_cookie"]
    token = s.headers["DELL-EMC-TOKEN"]
    assert any(m.endswith(ls["id"]) for m in server.sessions_server_side())
    r = s.post(server.url + LOGOUT, timeout=10)
    assert r.status_code == 204 and r.content == b""
    assert "Max-Age=0" in r.headers["Set-Cookie"]
    assert not any(m.endswith(ls["id"]) for m in server.sessions_server_side())
    with server.session() as fresh:
        r = fresh.get(server.url + "/api/rest/volume", headers={"Cookie": f"auth_cookie={cookie}"},
                      timeout=10)
        ps_error(r, 401, "0xE1401001")
        r = fresh.post(server.url + LOGOUT, headers={"Cookie": f"auth_cookie={cookie}",
                                                     "DELL-EMC-TOKEN": token}, timeout=10)
        ps_error(r, 401, "0xE1401001")


def test_revocation_reaches_the_cookie(server):
    s, ls = login(server, "reader")
    server.cli("session", "revoke", ls["id"])
    # At once: the promise of docs/design.md, held by obeyed_at_once.
    obeyed_at_once(lambda: s.get(server.url + "/api/rest/volume", timeout=10).status_code == 401)
    listed = server.cli("session", "list").stdout
    assert ls["id"] not in listed


def test_expiry_after_idle_timeout(make_server):
    idle = 3
    gh = make_server(config={"powerstore": {"idle_timeout": idle}})
    s, ls = login(gh)
    assert ls["idle_timeout"] == idle

    # Counted from last use: kept alive by use past twice the timeout. Times
    # are whole seconds, so an idle time over idle - 1 s may already end it: a
    # use every 0.25 s leaves the rest of that second to a slow request.
    start = time.monotonic()
    while time.monotonic() - start < 2 * idle + 0.5:
        assert s.get(gh.url + "/api/rest/volume", timeout=10).status_code == 200
        time.sleep(0.25)     # the session's idle time passing is what is tested
    # Left unused, it ends: the administrator's list (which uses no session)
    # drops it by the timeout, a second of rounding, and a margin for a
    # loaded machine and the sanitizer build.
    wait_for(lambda: not session_listed(gh, ls["id"]), idle + 1 + IDLE_MARGIN,
             "the idle session ended", interval=0.1)
    r = s.get(gh.url + "/api/rest/volume", timeout=10)
    ps_error(r, 401, "0xE1401001")
    assert "Max-Age=0" in r.headers.get("Set-Cookie", "")
    assert "auth_cookie" not in s.cookies

    def expired():
        return [line for line in gh.audit_log.read_text().splitlines()
                if ('"expired"' in line or "expir" in line) and ls["id"] in line]
    wait_for(expired, 5, "an audit record of the expiry")


def test_session_survives_restart_with_the_same_token(make_server):
    gh = make_server()
    s, ls = login(gh)
    token = s.headers["DELL-EMC-TOKEN"]
    gh.kill9()
    gh.start()
    r = s.get(gh.url + LOGIN, params={"select": "id"}, timeout=10)
    assert r.status_code == 200 and r.json() == [{"id": ls["id"]}]
    # The token is derived, not stored: the same after the restart.
    assert r.headers["DELL-EMC-TOKEN"] == token
    assert s.post(gh.url + LOGOUT, timeout=10).status_code == 204


# ----------------------------------------------------- password change gate

def test_password_change_flow(make_server):
    gh = make_server()
    pw = gh.add_user("newbie", "Operator")
    # The must-change flag, set through Redfish: the same account everywhere.
    with gh.admin() as a:
        members = a.get(gh.url + ACCOUNTS, timeout=10).json()["Members"]
        paths = [m["@odata.id"] for m in members
                 if a.get(gh.url + m["@odata.id"], timeout=10).json()["UserName"] == "newbie"]
        assert len(paths) == 1
        r = a.patch(gh.url + paths[0], json={"PasswordChangeRequired": True}, timeout=10)
        assert r.status_code == 200, r.text
    s, ls = login(gh, "newbie", pw)
    assert ls["is_password_change_required"] is True
    assert ls["is_built_in_user"] is False
    m = ps_error(s.get(gh.url + "/api/rest/volume", timeout=10), 403, "0xE1403003")
    own = m["arguments"][0]
    assert f"/api/rest/local_user/{own}" in m["message_l10n"]
    ps_error(s.get(gh.url + USERS + "/" + own, timeout=10), 403, "0xE1403003")
    # login_session still answers.
    assert s.get(gh.url + LOGIN, timeout=10).status_code == 200
    new = new_password()
    gh.secrets.add(new)
    r = s.patch(gh.url + USERS + "/" + own, json={"password": new}, timeout=10)
    ps_error(r, 400, "0xE1400006")
    r = s.patch(gh.url + USERS + "/" + own, json={"password": new, "current_password": "nope"},
                timeout=10)
    ps_error(r, 400, "0xE1400008")
    r = s.patch(gh.url + USERS + "/" + own, json={"password": new, "current_password": pw},
                timeout=10)
    assert r.status_code == 204, r.text
    # The same session goes on, free.
    assert s.get(gh.url + "/api/rest/volume", timeout=10).status_code == 200
    r = s.get(gh.url + LOGIN, params={"select": "is_password_change_required"}, timeout=10)
    assert r.json() == [{"is_password_change_required": False}]
    assert gh.get("/api/rest/volume", auth=("newbie", pw)).status_code == 401
    assert gh.get("/api/rest/volume", auth=("newbie", new)).status_code == 200
    gh.users["newbie"] = new


# --------------------------------------------------------- roles and users

def test_roles(server):
    with server.session(auth=("reader", server.users["reader"])) as s:
        r = s.get(server.url + "/api/rest/role", params={"select": "id,name,is_built_in"},
                  timeout=10)
        assert r.json() == [
            {"id": "1", "name": "Administrator", "is_built_in": True},
            {"id": "2", "name": "Storage Administrator", "is_built_in": True},
            {"id": "3", "name": "Operator", "is_built_in": True},
            {"id": "4", "name": "VM Administrator", "is_built_in": True},
            {"id": "5", "name": "Security Administrator", "is_built_in": True},
        ]
        r = s.get(server.url + "/api/rest/role/5", params={"select": "name"}, timeout=10)
        assert r.json() == {"name": "Security Administrator"}
        ps_error(s.get(server.url + "/api/rest/role/6", timeout=10), 404, "0xE1404001")


def test_local_user_crud_and_role_round_trip(make_server):
    gh = make_server()
    s, _ = login(gh)
    pw = new_password()
    gh.secrets.add(pw)
    r = s.post(gh.url + USERS, json={"name": "vm1", "password": pw, "role_id": "4"}, timeout=10)
    assert r.status_code == 201, r.text
    uid = r.json()["id"]
    sel = {"select": "id,name,is_built_in,is_locked,is_default_password,role_id"}
    r = s.get(gh.url + USERS + "/" + uid, params=sel, timeout=10)
    assert r.json() == {"id": uid, "name": "vm1", "is_built_in": False, "is_locked": False,
                        "is_default_password": False, "role_id": "4"}
    assert s.patch(gh.url + USERS + "/" + uid, json={"role_id": "2"}, timeout=10).status_code == 204
    assert s.get(gh.url + USERS + "/name:vm1", params=sel, timeout=10).json()["role_id"] == "2"
    # The same account, seen by Redfish, holds the core role "2" maps onto.
    with gh.admin() as a:
        r = a.get(gh.url + ACCOUNTS + "/" + uid, timeout=10)
        assert r.json()["UserName"] == "vm1" and r.json()["RoleId"] == "Operator"
    # Locked: refused; unlocked: back.
    assert s.patch(gh.url + USERS + "/" + uid, json={"is_locked": True}, timeout=10).status_code == 204
    assert gh.get("/api/rest/volume", auth=("vm1", pw)).status_code == 401
    assert s.patch(gh.url + USERS + "/" + uid, json={"is_locked": False},
                   timeout=10).status_code == 204
    assert gh.get("/api/rest/volume", auth=("vm1", pw)).status_code == 200
    # List, filtered by name.
    r = s.get(gh.url + USERS, params={"select": "name,role_id", "name": "eq.vm1"}, timeout=10)
    assert r.json() == [{"name": "vm1", "role_id": "2"}]
    ps_error(s.post(gh.url + USERS, json={"name": "vm1", "password": pw, "role_id": "3"},
                    timeout=10), 422, "0xE1422003")
    ps_error(s.delete(gh.url + USERS + "/name:admin", timeout=10), 422, "0xE1422002")
    assert s.delete(gh.url + USERS + "/" + uid, timeout=10).status_code == 204
    ps_error(s.get(gh.url + USERS + "/" + uid, timeout=10), 404, "0xE1404001")
    # A user without a role that manages users sees only themselves.
    with gh.session(auth=("operator", gh.add_user("operator", "Operator"))) as o:
        r = o.get(gh.url + USERS, params={"select": "name"}, timeout=10)
        assert r.json() == [{"name": "operator"}]
        ps_error(o.post(gh.url + USERS, json={"name": "x", "password": pw, "role_id": "3"},
                        timeout=10), 403, "0xE1403002")


def test_who_manages_local_users(make_server):
    """Who may manage local users is core/policy's answer, over real HTTPS: a
    Security Administrator (ReadOnly elsewhere) manages users but touches and
    makes no Administrator; a role that manages none cannot even learn
    whether another account exists."""
    gh = make_server()
    s, _ = login(gh)
    sec_pw, made_pw = new_password("sec"), new_password("made")
    gh.secrets.update({sec_pw, made_pw})
    r = s.post(gh.url + USERS, json={"name": "secoff", "password": sec_pw, "role_id": "5"},
               timeout=10)
    assert r.status_code == 201, r.text
    with gh.session(auth=("secoff", sec_pw)) as sec:
        r = sec.post(gh.url + USERS, json={"name": "made", "password": made_pw, "role_id": "2"},
                     timeout=10)
        assert r.status_code == 201, r.text
        made = USERS + "/" + r.json()["id"]
        assert sec.patch(gh.url + made, json={"role_id": "5"}, timeout=10).status_code == 204
        r = sec.get(gh.url + USERS, params={"select": "name"}, timeout=10)
        assert {"admin", "secoff", "made"} <= {u["name"] for u in r.json()}, r.text
        ps_error(sec.post(gh.url + USERS, json={"name": "boss", "password": made_pw,
                                                "role_id": "1"}, timeout=10), 403, "0xE1403002")
        ps_error(sec.patch(gh.url + made, json={"role_id": "1"}, timeout=10), 403, "0xE1403002")
        ps_error(sec.patch(gh.url + USERS + "/name:admin", json={"is_locked": True}, timeout=10),
                 403, "0xE1403002")
        ps_error(sec.delete(gh.url + USERS + "/name:admin", timeout=10), 403, "0xE1403002")
        assert sec.delete(gh.url + made, timeout=10).status_code == 204
    # Outside this dialect the Security Administrator is ReadOnly.
    with gh.session(auth=("secoff", sec_pw)) as rf:
        r = rf.post(gh.url + ACCOUNTS, json={"UserName": "rf1", "Password": made_pw,
                                             "RoleId": "ReadOnly"}, timeout=10)
        assert r.status_code == 403, r.text
    with gh.session(auth=("operator", gh.add_user("operator", "Operator"))) as o:
        for path in (USERS + "/name:admin", USERS + "/name:secoff", USERS + "/name:nobody"):
            ps_error(o.get(gh.url + path, timeout=10), 403, "0xE1403002")
        ps_error(o.patch(gh.url + USERS + "/name:secoff", json={"password": made_pw}, timeout=10),
                 403, "0xE1403002")
        ps_error(o.delete(gh.url + USERS + "/name:secoff", timeout=10), 403, "0xE1403002")
        # Its own account it reads.
        r = o.get(gh.url + USERS + "/name:operator", params={"select": "name,role_id"},
                  timeout=10)
        assert r.json() == {"name": "operator", "role_id": "2"}, r.text


# ------------------------------------------- paging, select, protocol checks

def test_range_limit_offset_and_select(server):
    with server.session(auth=("reader", server.users["reader"])) as s:
        r = s.get(server.url + "/api/rest/volume", params={"select": "name"},
                  headers={"Range": "0-1"}, timeout=10)
        assert r.status_code == 206
        assert r.headers["Content-Range"] == "0-1/3"
        assert r.json() == [{"name": "vmfs-datastore-01"}, {"name": "oracle-data-01"}]
        r = s.get(server.url + "/api/rest/volume", headers={"Range": "0-99"}, timeout=10)
        assert r.status_code == 206 and r.headers["Content-Range"] == "0-2/3"
        r = s.get(server.url + "/api/rest/volume", params={"limit": "1", "offset": "2"}, timeout=10)
        assert r.status_code == 206 and r.headers["Content-Range"] == "2-2/3"
        assert r.json() == [{"id": VOLUME_IDS[2]}]
        ps_error(s.get(server.url + "/api/rest/volume", headers={"Range": "3-9"}, timeout=10),
                 416, "0xE1416001")
        ps_error(s.get(server.url + "/api/rest/volume", params={"limit": "0"}, timeout=10),
                 416, "0xE1416001")
        r = s.get(server.url + "/api/rest/volume/" + VOLUME_IDS[1],
                  params={"select": "name,size,performance_policy(name),host(name)"}, timeout=10)
        assert r.json() == {"name": "oracle-data-01", "size": 1099511627776,
                            "performance_policy": {"name": "High"},
                            "host": [{"name": "linux-db-01"}]}
        ps_error(s.get(server.url + "/api/rest/volume", params={"select": "name("}, timeout=10),
                 400, "0xE1400003")
        ps_error(s.get(server.url + "/api/rest/volume", params={"order": "name"}, timeout=10),
                 400, "0xE1400004")
        r = s.get(server.url + "/api/rest/appliance", params={"select": "id,name,model,nodes(id)"},
                  timeout=10)
        assert r.json()[0]["nodes"] == [{"id": "N1"}, {"id": "N2"}]


def test_select_star(server):
    """select=* is every attribute; with other names a list still cuts its
    attribute down; a list after '*' is PowerStore's malformed select."""
    with server.session(auth=("reader", server.users["reader"])) as s:
        def get(path, select):
            r = s.get(server.url + path, params={"select": select}, timeout=10)
            assert r.status_code == 200, r.text
            return r.json()
        everything = get("/api/rest/volume/" + VOLUME_IDS[0], "*")
        assert everything["id"] == VOLUME_IDS[0] and everything["name"] == "vmfs-datastore-01"
        assert everything["performance_policy"] == {"id": "default_medium", "name": "Medium"}
        assert len(everything) > 20
        assert get("/api/rest/volume", "*") == [get("/api/rest/volume/" + v, "*")
                                                 for v in VOLUME_IDS]
        mixed = get("/api/rest/volume/" + VOLUME_IDS[0], "*,performance_policy(name),host(id)")
        assert list(mixed) == list(everything)
        assert mixed["performance_policy"] == {"name": "Medium"}
        assert mixed["host"] == [{"id": "6c1a7f0e-3b2d-4c55-8f1e-2a9d4b7c0e11"}]
        assert get("/api/rest/volume/" + VOLUME_IDS[0], "name,host(*)") == {
            "name": "vmfs-datastore-01",
            "host": [{"id": "6c1a7f0e-3b2d-4c55-8f1e-2a9d4b7c0e11", "name": "esx-prod-01"}]}
        for bad in ("*(id)", "id*", "**"):
            ps_error(s.get(server.url + "/api/rest/volume", params={"select": bad}, timeout=10),
                     400, "0xE1400003")


RESOURCES = ("cluster", "appliance", "network", "volume", "host", "alert")


def test_bundled_resources_clients_read_first(server):
    """The resources PowerStore's clients read first are there, with the
    attributes gopowerstore and PyPowerStore select, and they agree with each
    other: one cluster of one appliance, its networks, volumes of that
    appliance mapped to hosts, and alerts about those resources."""
    with server.session(auth=("reader", server.users["reader"])) as s:
        def get(path, **params):
            r = s.get(server.url + path, params=params, timeout=10)
            assert r.status_code == 200, (path, r.status_code, r.text[:300])
            return r.json()
        plain = {t: get("/api/rest/" + t) for t in RESOURCES}
        every = {t: get("/api/rest/" + t, select="*") for t in RESOURCES}
        ids = {t: {o["id"] for o in every[t]} for t in RESOURCES}
        for t in RESOURCES:
            assert every[t] and all(o["id"] for o in every[t]), t
            assert plain[t] == [{"id": o["id"]} for o in every[t]]
            for o in every[t]:
                assert get(f"/api/rest/{t}/{o['id']}", select="*") == o
        # gopowerstore's GetCluster: the first cluster, with these attributes.
        cluster, = get("/api/rest/cluster", select="id,name,management_address,state,"
                                                    "system_time,nvm_subsystem_nqn")
        assert cluster["id"] == "0" and cluster["state"] == "Configured"
        assert set(cluster) == {"id", "name", "management_address", "state", "system_time",
                                "nvm_subsystem_nqn"}
        c = every["cluster"][0]
        assert c["appliance_count"] == len(every["appliance"]) == 1
        assert c["master_appliance_id"] in ids["appliance"]
        appliance = every["appliance"][0]
        assert appliance["cluster"]["id"] == c["id"]
        assert {v["id"] for v in appliance["volumes"]} == ids["volume"]
        assert all(v["appliance_id"] == appliance["id"] for v in every["volume"])
        # The cluster's addresses are on its networks.
        nets = {n["type"]: n for n in every["network"]}
        assert set(nets) == {"Management", "Storage"}
        for net, addr in ((nets["Management"], c["management_address"]),
                          (nets["Storage"], c["storage_discovery_address"])):
            assert addr.rsplit(".", 1)[0] == net["gateway"].rsplit(".", 1)[0], (net, addr)
        # Mappings: each host's volumes name that host, and the other way round.
        for h in every["host"]:
            for m in h["mapped_hosts"]:
                assert m["host_id"] == h["id"] and m["volume_id"] in ids["volume"]
                vol = get("/api/rest/volume/" + m["volume_id"], select="host(id)")
                assert {"id": h["id"]} in vol["host"]
        # Each alert is about a resource that exists, under its name.
        for a in every["alert"]:
            named = get(f"/api/rest/{a['resource_type']}/{a['resource_id']}", select="id,name")
            assert named["name"] == a["resource_name"], a
            assert a["state"] in ("ACTIVE", "CLEARED")
            assert (a["cleared_timestamp"] is None) == (a["state"] == "ACTIVE")
        # The query language over the new collections, as over the others.
        assert get("/api/rest/alert", select="severity", state="eq.active") == [
            {"severity": "Minor"}, {"severity": "Info"}]
        assert get("/api/rest/network/NW2", select="purposes") == {"purposes": ["ISCSI"]}
        r = s.get(server.url + "/api/rest/alert", params={"limit": "1", "offset": "1"},
                  timeout=10)
        assert r.status_code == 206 and r.headers["Content-Range"] == "1-1/3"
        ps_error(s.get(server.url + "/api/rest/cluster/1", timeout=10), 404, "0xE1404001")
        ps_error(s.delete(server.url + "/api/rest/alert", timeout=10), 405, "0xE1405001")


def test_accept_and_content_type(server):
    with server.session(auth=("admin", server.admin_password)) as s:
        ps_error(s.get(server.url + "/api/rest/volume", headers={"Accept": "text/html"},
                       timeout=10), 406, "0xE1406001")
        r = s.get(server.url + "/api/rest/volume", headers={"Accept": "application/json"},
                  timeout=10)
        assert r.status_code == 200
        ps_error(s.post(server.url + USERS, data="name=x", timeout=10,
                        headers={"Content-Type": "application/x-www-form-urlencoded"}),
                 415, "0xE1415001")
        ps_error(s.post(server.url + USERS, data=b'{"name":"x"}', timeout=10,
                        headers={"Content-Type": ""}), 415, "0xE1415001")
        ps_error(s.delete(server.url + "/api/rest/volume", timeout=10), 405, "0xE1405001")
        ps_error(s.post(server.url + "/api/rest/nothing", timeout=10), 404, "0xE1404001")


def test_errors_nginx_decides(server):
    with server.session(auth=("admin", server.admin_password)) as s:
        r = s.post(server.url + USERS, data=b"{" + b" " * 200000 + b"}",
                   headers={"Content-Type": "application/json"}, timeout=30)
        ps_error(r, 413, "0xE1413001")
    r = server.get("/api/rest/volume?" + "q=" + "b" * 20000)
    ps_error(r, 414, "0xE1414001")
    p = subprocess.run(["curl", "-sS", "--http2", "--cacert", server.ca, "-i",
                        "-u", f"admin:{server.admin_password}",
                        "-H", "Content-Type: application/json",
                        "--data-binary", "@-", server.url + USERS],
                       input=b"{" + b" " * 200000 + b"}", capture_output=True, timeout=30)
    head, _, body = p.stdout.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/2 413"), head[:200]
    assert json.loads(body)["messages"][0]["code"] == "0xE1413001"


def test_plain_http_never_takes_powerstore_credentials(server):
    for kw in ({"auth": ("admin", server.admin_password)},
               {"headers": {"Cookie": "auth_cookie=" + "a" * 64}}):
        r = requests.get(server.http_url + LOGIN, timeout=10, allow_redirects=False, **kw)
        assert r.status_code == 301
        assert "Set-Cookie" not in r.headers and "DELL-EMC-TOKEN" not in r.headers
