"""Redfish AccountService over real HTTPS: the accounts (create, read, change,
delete, ETags), the predefined roles, privileges, the password and lockout
settings as they govern the core, and a required password change."""

import secrets
from urllib.parse import urlsplit

import pytest

from gatehouse_harness import (ACCOUNTS, ROLES, SANITIZE, SESSIONS, assert_redfish_error,
                               error_message_ids, new_password, obeyed_at_once,
                               wait_for)

SERVICE = "/redfish/v1/AccountService"
# How much later than its duration a test accepts the end of a lockout.
LOCK_MARGIN = 4.0 if SANITIZE else 2.0


def path_of(location):
    return urlsplit(location).path if location else location


def basic_status(gh, user, password, path="/redfish/v1/Systems"):
    gh.secrets.add(password)
    with gh.session(auth=(user, password)) as s:
        return s.get(gh.url + path, timeout=10).status_code


def login_status(gh, user, password, source=None):
    gh.secrets.add(password)
    r = gh.request("POST", SESSIONS, json={"UserName": user, "Password": password},
                   source=source)
    if "X-Auth-Token" in r.headers:
        gh.secrets.add(r.headers["X-Auth-Token"])
    return r.status_code


def account_path(gh, name):
    """The @odata.id of the account called name, as the admin finds it."""
    with gh.admin() as s:
        coll = s.get(gh.url + ACCOUNTS, timeout=10).json()
        for m in coll["Members"]:
            doc = s.get(gh.url + m["@odata.id"], timeout=10).json()
            if doc["UserName"] == name:
                return m["@odata.id"]
    raise AssertionError(f"no account {name}")


def create_account(gh, name, role="ReadOnly", password=None, **extra):
    password = password or new_password(name)
    gh.secrets.add(password)
    with gh.admin() as s:
        r = s.post(gh.url + ACCOUNTS,
                   json={"UserName": name, "Password": password, "RoleId": role, **extra},
                   timeout=10)
    assert r.status_code == 201, r.text
    gh.users[name] = password
    return path_of(r.headers["Location"]), password, r


def unique(prefix):
    return f"{prefix}{secrets.token_hex(3)}"


# --------------------------------------------------------------- collection

def test_account_service_fields(server):
    with server.admin() as s:
        doc = s.get(server.url + SERVICE, timeout=10).json()
    assert doc["@odata.id"] == SERVICE
    assert doc["@odata.type"].startswith("#AccountService.")
    assert doc["Accounts"] == {"@odata.id": ACCOUNTS}
    assert doc["Roles"] == {"@odata.id": ROLES}
    for k in ("MinPasswordLength", "MaxPasswordLength", "AccountLockoutThreshold",
              "AccountLockoutDuration", "AccountLockoutCounterResetAfter"):
        assert isinstance(doc[k], int), k


def test_admin_lists_every_account(server):
    with server.admin() as s:
        coll = s.get(server.url + ACCOUNTS, timeout=10).json()
        names = {s.get(server.url + m["@odata.id"], timeout=10).json()["UserName"]
                 for m in coll["Members"]}
    assert {"admin", "operator", "reader"} <= names
    assert coll["Members@odata.count"] == len(coll["Members"])


def test_reader_sees_only_itself(server):
    with server.session(auth=("reader", server.users["reader"])) as s:
        coll = s.get(server.url + ACCOUNTS, timeout=10).json()
        assert len(coll["Members"]) == 1
        me = s.get(server.url + coll["Members"][0]["@odata.id"], timeout=10).json()
    assert me["UserName"] == "reader"


def test_account_resource_fields(server):
    path = account_path(server, "operator")
    with server.admin() as s:
        r = s.get(server.url + path, timeout=10)
    assert r.status_code == 200
    doc = r.json()
    assert r.headers.get("ETag"), "an account carries an ETag"
    assert doc["@odata.id"] == path
    assert doc["@odata.type"].startswith("#ManagerAccount.")
    assert doc["Id"] and doc["Name"]
    assert doc["UserName"] == "operator"
    assert doc["RoleId"] == "Operator"
    assert doc["Enabled"] is True
    assert doc["Locked"] is False
    assert doc["PasswordChangeRequired"] is False
    assert "Password" in doc and doc["Password"] is None
    assert doc["Links"]["Role"] == {"@odata.id": ROLES + "/Operator"}
    assert server.users["operator"] not in r.text


# --------------------------------------------------------------------- CRUD

def test_account_crud(server):
    name = unique("crud")
    path, pw, r = create_account(server, name, "ReadOnly")
    assert path.startswith(ACCOUNTS + "/")
    body = r.json()
    assert body["UserName"] == name and body["RoleId"] == "ReadOnly"
    assert body["Password"] is None and pw not in r.text
    assert r.headers.get("ETag")

    # The new account works at once, with its role's limits.
    assert basic_status(server, name, pw) == 200
    with server.session(auth=(name, pw)) as s:
        assert s.get(server.url + ACCOUNTS, timeout=10).json()["Members@odata.count"] == 1
        assert_redfish_error(s.post(server.url + ACCOUNTS, json={
            "UserName": unique("x"), "Password": new_password(), "RoleId": "ReadOnly"},
            timeout=10), 403, "InsufficientPrivilege")

    # Role change: obeyed at once, also by cached Basic credentials.
    with server.admin() as s:
        r = s.patch(server.url + path, json={"RoleId": "Administrator"}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["RoleId"] == "Administrator"
    with server.session(auth=(name, pw)) as s:
        assert s.get(server.url + ACCOUNTS, timeout=10).json()["Members@odata.count"] >= 3

    # Password change by the administrator: the old one stops working at once.
    new_pw = new_password(name)
    server.secrets.add(new_pw)
    with server.admin() as s:
        r = s.patch(server.url + path, json={"Password": new_pw}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["Password"] is None and new_pw not in r.text
    assert basic_status(server, name, pw) == 401
    assert basic_status(server, name, new_pw) == 200
    assert login_status(server, name, pw) == 401
    assert login_status(server, name, new_pw) == 201

    # Disable: refused; enable again: works.
    with server.admin() as s:
        assert s.patch(server.url + path, json={"Enabled": False}, timeout=10).status_code == 200
    assert basic_status(server, name, new_pw) == 401
    assert login_status(server, name, new_pw) == 401
    with server.admin() as s:
        assert s.patch(server.url + path, json={"Enabled": True}, timeout=10).status_code == 200
    assert basic_status(server, name, new_pw) == 200

    # Delete: gone, and its credentials with it.
    with server.admin() as s:
        r = s.delete(server.url + path, timeout=10)
        assert r.status_code in (200, 204), r.text
        assert s.get(server.url + path, timeout=10).status_code == 404
        members = {m["@odata.id"] for m in s.get(server.url + ACCOUNTS, timeout=10).json()["Members"]}
        assert path not in members
    assert basic_status(server, name, new_pw) == 401
    assert login_status(server, name, new_pw) == 401


def test_create_duplicate_name_refused(server):
    name = unique("dup")
    create_account(server, name)
    with server.admin() as s:
        r = s.post(server.url + ACCOUNTS,
                   json={"UserName": name, "Password": new_password(), "RoleId": "ReadOnly"},
                   timeout=10)
    assert_redfish_error(r, 409, "ResourceAlreadyExists")


@pytest.mark.parametrize("body,message", [
    ({"Password": "Long-enough-pw-1", "RoleId": "ReadOnly"}, "PropertyMissing"),
    ({"UserName": "nopw", "RoleId": "ReadOnly"}, "PropertyMissing"),
    ({"UserName": "norole", "Password": "Long-enough-pw-1"}, "PropertyMissing"),
    ({"UserName": "badrole", "Password": "Long-enough-pw-1", "RoleId": "Root"},
     "PropertyValueNotInList"),
    ({"UserName": "bad:name", "Password": "Long-enough-pw-1", "RoleId": "ReadOnly"},
     "PropertyValueFormatError"),
    ({"UserName": "shortpw", "Password": "Sh0rt!", "RoleId": "ReadOnly"},
     "PropertyValueIncorrect"),
    ({"UserName": "unknownprop", "Password": "Long-enough-pw-1", "RoleId": "ReadOnly",
      "Favourite": 1}, "PropertyUnknown"),
])
def test_create_refusals(server, body, message):
    with server.admin() as s:
        r = s.post(server.url + ACCOUNTS, json=body, timeout=10)
    assert_redfish_error(r, 400, message)
    if "Password" in body:
        assert body["Password"] not in r.text
    with server.admin() as s:
        r = s.post(server.url + ACCOUNTS, data=b"{broken", timeout=10,
                   headers={"Content-Type": "application/json"})
    assert_redfish_error(r, 400, "MalformedJSON")


def test_builtin_admin_cannot_be_deleted(server):
    path = account_path(server, "admin")
    with server.admin() as s:
        r = s.delete(server.url + path, timeout=10)
    assert r.status_code in (400, 403, 405, 409), r.text
    assert basic_status(server, "admin", server.admin_password) == 200


# -------------------------------------------------------------- ETag/If-Match

def test_if_match(server):
    path, pw, _ = create_account(server, unique("etag"))
    with server.admin() as s:
        etag = s.get(server.url + path, timeout=10).headers["ETag"]
        r = s.patch(server.url + path, json={"RoleId": "Operator"},
                    headers={"If-Match": '"not-the-etag"'}, timeout=10)
        assert_redfish_error(r, 412, "PreconditionFailed")
        assert s.get(server.url + path, timeout=10).json()["RoleId"] == "ReadOnly"
        r = s.patch(server.url + path, json={"RoleId": "Operator"}, headers={"If-Match": etag},
                    timeout=10)
        assert r.status_code == 200, r.text
        new_etag = r.headers.get("ETag")
        assert new_etag and new_etag != etag
        assert s.get(server.url + path, timeout=10).headers["ETag"] == new_etag
        # The old ETag is stale now: a second writer holding it loses.
        r = s.patch(server.url + path, json={"RoleId": "ReadOnly"}, headers={"If-Match": etag},
                    timeout=10)
        assert_redfish_error(r, 412, "PreconditionFailed")
        r = s.delete(server.url + path, headers={"If-Match": etag}, timeout=10)
        assert_redfish_error(r, 412, "PreconditionFailed")
        assert s.get(server.url + path, timeout=10).status_code == 200
        # If-None-Match with the current ETag: 304.
        r = s.get(server.url + path, headers={"If-None-Match": new_etag}, timeout=10)
        assert r.status_code == 304
        r = s.delete(server.url + path, headers={"If-Match": new_etag}, timeout=10)
        assert r.status_code in (200, 204), r.text


# --------------------------------------------------------------------- roles

ROLE_PRIVILEGES = {
    "Administrator": {"Login", "ConfigureManager", "ConfigureUsers", "ConfigureComponents",
                      "ConfigureSelf"},
    "Operator": {"Login", "ConfigureComponents", "ConfigureSelf"},
    "ReadOnly": {"Login", "ConfigureSelf"},
}


def test_roles(server):
    with server.admin() as s:
        coll = s.get(server.url + ROLES, timeout=10).json()
        assert coll["@odata.type"].startswith("#RoleCollection.")
        ids = sorted(m["@odata.id"] for m in coll["Members"])
        assert ids == sorted(f"{ROLES}/{r}" for r in ROLE_PRIVILEGES)
        for name, privs in ROLE_PRIVILEGES.items():
            doc = s.get(server.url + f"{ROLES}/{name}", timeout=10).json()
            assert doc["Id"] == name and doc["RoleId"] == name and doc["Name"]
            assert doc["@odata.type"].startswith("#Role.")
            assert doc["IsPredefined"] is True
            assert set(doc["AssignedPrivileges"]) == privs, doc


@pytest.mark.parametrize("method", ["POST", "PATCH", "PUT", "DELETE"])
@pytest.mark.parametrize("path", [ROLES, ROLES + "/Administrator", ROLES + "/ReadOnly"])
def test_roles_not_modifiable(server, method, path):
    with server.admin() as s:
        r = s.request(method, server.url + path, json={"AssignedPrivileges": ["Login"]},
                      timeout=10)
        assert r.status_code == 405, f"{method} {path}: {r.status_code} {r.text[:300]}"
        allow = {m.strip() for m in r.headers.get("Allow", "").split(",")}
        assert "GET" in allow and method not in allow, r.headers
        if path != ROLES:
            doc = s.get(server.url + path, timeout=10).json()
            assert set(doc["AssignedPrivileges"]) == ROLE_PRIVILEGES[path.rsplit("/", 1)[1]]


# ---------------------------------------------------------------- privileges

def test_readonly_and_operator_privileges(server):
    name = unique("self")
    path, pw, _ = create_account(server, name, "ReadOnly")
    admin_path = account_path(server, "admin")
    op_auth = ("operator", server.users["operator"])
    with server.session(auth=op_auth) as s:
        assert_redfish_error(s.post(server.url + ACCOUNTS, json={
            "UserName": unique("o"), "Password": new_password(), "RoleId": "ReadOnly"},
            timeout=10), 403, "InsufficientPrivilege")
        assert_redfish_error(s.patch(server.url + SERVICE, json={"MinPasswordLength": 9},
                                     timeout=10), 403, "InsufficientPrivilege")
    with server.session(auth=(name, pw)) as s:
        # Someone else's account: neither read, nor change, nor delete.
        assert_redfish_error(s.get(server.url + admin_path, timeout=10), 403,
                             "InsufficientPrivilege")
        assert_redfish_error(s.patch(server.url + admin_path, json={"Password": new_password()},
                                     timeout=10), 403, "InsufficientPrivilege")
        assert_redfish_error(s.delete(server.url + admin_path, timeout=10), 403,
                             "InsufficientPrivilege")
        # Its own role it may not raise, nor delete itself.
        assert_redfish_error(s.patch(server.url + path, json={"RoleId": "Administrator"},
                                     timeout=10), 403, "InsufficientPrivilege")
        assert_redfish_error(s.delete(server.url + path, timeout=10), 403,
                             "InsufficientPrivilege")
        assert s.get(server.url + path, timeout=10).json()["RoleId"] == "ReadOnly"
    # Its own password it may change (ConfigureSelf).
    new_pw = new_password(name)
    server.secrets.add(new_pw)
    with server.session(auth=(name, pw)) as s:
        r = s.patch(server.url + path, json={"Password": new_pw}, timeout=10)
    assert r.status_code == 200, r.text
    assert basic_status(server, name, pw) == 401
    assert basic_status(server, name, new_pw) == 200


# -------------------------------------------------- settings govern the core

def test_password_length_settings_govern(make_server):
    gh = make_server()
    with gh.admin() as s:
        r = s.patch(gh.url + SERVICE, json={"MinPasswordLength": 12, "MaxPasswordLength": 20},
                    timeout=10)
        assert r.status_code == 200, r.text
        doc = s.get(gh.url + SERVICE, timeout=10).json()
        assert doc["MinPasswordLength"] == 12 and doc["MaxPasswordLength"] == 20
        for pw, ok in [("A" * 11, False), ("A" * 12, True), ("B" * 20, True), ("C" * 21, False)]:
            gh.secrets.add(pw)
            r = s.post(gh.url + ACCOUNTS, json={"UserName": unique("len"), "Password": pw,
                                                "RoleId": "ReadOnly"}, timeout=10)
            assert r.status_code == (201 if ok else 400), f"{len(pw)}: {r.status_code} {r.text}"
            assert pw not in r.text
        # Min above max is refused, and out-of-range values.
        r = s.patch(gh.url + SERVICE, json={"MinPasswordLength": 30}, timeout=10)
        assert r.status_code == 400, r.text
        r = s.patch(gh.url + SERVICE, json={"AccountLockoutThreshold": -1}, timeout=10)
        assert r.status_code == 400, r.text
        r = s.patch(gh.url + SERVICE, json={"ServiceEnabled": False}, timeout=10)
        assert_redfish_error(r, 400, "PropertyNotWritable")
    # The command line obeys the live policy too.
    p = gh.cli("user", "add", "shortone", "--role", "ReadOnly",
               "--password-file", gh.secret_file("A" * 11), check=False)
    assert p.returncode != 0


def test_lockout_settings_really_lock(make_server):
    gh = make_server()
    victim_pw = gh.add_user("victim", "Operator")
    # Let every worker apply the account's creation first: failures right
    # after an account change are test_lockout_counts_failures_right_after_...'s
    # subject, not this test's.
    gh.wait_changes_applied()
    with gh.admin() as s:
        r = s.patch(gh.url + SERVICE, json={"AccountLockoutThreshold": 3,
                                             "AccountLockoutDuration": 600,
                                             "AccountLockoutCounterResetAfter": 600},
                    timeout=10)
        assert r.status_code == 200, r.text
        doc = s.get(gh.url + SERVICE, timeout=10).json()
    assert doc["AccountLockoutThreshold"] == 3
    assert doc["AccountLockoutDuration"] == 600
    assert doc["AccountLockoutCounterResetAfter"] == 600

    # A success resets the count: 2 wrong, right, 2 wrong, right still works.
    for _ in range(2):
        assert login_status(gh, "victim", "Wrong-victim-1") == 401
    assert login_status(gh, "victim", victim_pw) == 201
    for _ in range(2):
        assert basic_status(gh, "victim", "Wrong-victim-2") == 401
    assert login_status(gh, "victim", victim_pw) == 201

    # Three failures in a row (sessions and Basic both count) lock it for
    # their source: the owner at another address still logs in, and the
    # account itself is not Locked (that is the account-wide lock's).
    assert login_status(gh, "victim", "Wrong-victim-3") == 401
    assert basic_status(gh, "victim", "Wrong-victim-4") == 401
    assert login_status(gh, "victim", "Wrong-victim-5") == 401
    assert login_status(gh, "victim", victim_pw) == 401, "4th attempt, right password"
    assert basic_status(gh, "victim", victim_pw) == 401
    assert login_status(gh, "victim", victim_pw, source="127.0.0.2") == 201
    path = account_path(gh, "victim")
    with gh.admin() as s:
        assert s.get(gh.url + path, timeout=10).json()["Locked"] is False

    # The command line unlocks it, and the running server obeys at once.
    gh.cli("user", "unlock", "victim")
    obeyed_at_once(lambda: basic_status(gh, "victim", victim_pw) == 200)
    assert login_status(gh, "victim", victim_pw) == 201
    with gh.admin() as s:
        assert s.get(gh.url + path, timeout=10).json()["Locked"] is False

    # Lock again at this source, then unlock through Redfish (PATCH Locked:
    # false), which clears the counters of every source too.
    for i in range(3):
        assert login_status(gh, "victim", f"Wrong-victim-{10 + i}") == 401
    assert login_status(gh, "victim", victim_pw) == 401
    with gh.admin() as s:
        r = s.patch(gh.url + path, json={"Locked": False}, timeout=10)
        assert r.status_code == 200, r.text
        assert r.json()["Locked"] is False
        assert_redfish_error(s.patch(gh.url + path, json={"Locked": True}, timeout=10), 400,
                             "PropertyValueNotInList")
    assert login_status(gh, "victim", victim_pw) == 201

    # Threshold 0: never locks.
    with gh.admin() as s:
        assert s.patch(gh.url + SERVICE, json={"AccountLockoutThreshold": 0},
                       timeout=10).status_code == 200
    for i in range(6):
        assert login_status(gh, "victim", f"Wrong-victim-{20 + i}") == 401
    assert login_status(gh, "victim", victim_pw) == 201


def test_lockout_account_wide(make_server):
    """Failures spread over many sources lock the account everywhere at the
    account-wide threshold; Redfish shows it as Locked and PATCH Locked:
    false ends it at once. The source threshold stays out of reach."""
    gh = make_server({"lockout": {"lockout_threshold": 3, "lockout_account_threshold": 4,
                                  "lockout_duration": 600, "lockout_reset_after": 600}})
    pw = gh.add_user("spread", "Operator")
    gh.wait_changes_applied()
    for i in range(3):
        assert login_status(gh, "spread", f"Wrong-spread-{i}-x", source=f"127.0.0.{2 + i}") == 401
    assert login_status(gh, "spread", pw, source="127.0.0.9") == 201
    assert login_status(gh, "spread", "Wrong-spread-3-x", source="127.0.0.5") == 401
    for source in ("127.0.0.2", "127.0.0.9", "127.0.0.10"):
        assert login_status(gh, "spread", pw, source=source) == 401, source
    path = account_path(gh, "spread")
    with gh.admin() as s:
        assert s.get(gh.url + path, timeout=10).json()["Locked"] is True
        r = s.patch(gh.url + path, json={"Locked": False}, timeout=10)
        assert r.status_code == 200, r.text
    assert login_status(gh, "spread", pw, source="127.0.0.2") == 201


def test_lockout_keeps_sessions_admin_lock_ends_them(make_server):
    """A lockout after failed logins stops new logins only: a session made
    before it goes on. `user lock` ends the sessions and refuses logins
    until `user unlock`."""
    gh = make_server({"lockout": {"lockout_threshold": 2, "lockout_account_threshold": 2,
                                  "lockout_duration": 600, "lockout_reset_after": 600}})
    pw = gh.add_user("keeper", "Operator")
    gh.wait_changes_applied()
    token, _, _, _ = gh.login("keeper", pw)

    def token_status():
        with gh.session(token=token) as s:
            return s.get(gh.url + "/redfish/v1/Systems", timeout=10).status_code

    for i in range(2):
        assert login_status(gh, "keeper", f"Wrong-keeper-{i}-x") == 401
    assert login_status(gh, "keeper", pw, source="127.0.0.2") == 401   # locked everywhere
    gh.wait_changes_applied()     # every worker has applied the lock
    assert token_status() == 200
    gh.cli("user", "unlock", "keeper")
    obeyed_at_once(lambda: login_status(gh, "keeper", pw) == 201)

    p = gh.cli("user", "lock", "keeper")
    assert "locked keeper" in p.stdout
    obeyed_at_once(lambda: token_status() == 401)     # user lock ends the session
    assert login_status(gh, "keeper", pw, source="127.0.0.3") == 401
    path = account_path(gh, "keeper")
    with gh.admin() as s:
        assert s.get(gh.url + path, timeout=10).json()["Locked"] is True
    gh.cli("user", "unlock", "keeper")
    obeyed_at_once(lambda: login_status(gh, "keeper", pw) == 201)


def test_lockout_counts_survive_a_restart(make_server):
    """Three failures, a restart, two more: locked (threshold 5)."""
    gh = make_server({"lockout": {"lockout_threshold": 5, "lockout_duration": 600,
                                  "lockout_reset_after": 600}})
    pw = gh.add_user("durable", "Operator")
    for i in range(3):
        assert login_status(gh, "durable", f"Wrong-durable-{i}-x") == 401
    gh.restart()
    for i in range(3, 5):
        assert login_status(gh, "durable", f"Wrong-durable-{i}-x") == 401
    assert login_status(gh, "durable", pw) == 401
    assert login_status(gh, "durable", pw, source="127.0.0.2") == 201


def test_lockout_counts_failures_right_after_an_account_change(make_server):
    """Failures that follow a change of the account (here a new password)
    within moments still count: every one of these accounts locks."""
    gh = make_server({"lockout": {"lockout_threshold": 3, "lockout_duration": 600,
                                  "lockout_reset_after": 600}})
    outcome = {}
    for n in range(6):
        name = f"chg{n}"
        path, _, _ = create_account(gh, name)
        pw = new_password(name)
        gh.secrets.add(pw)
        with gh.admin() as s:
            assert s.patch(gh.url + path, json={"Password": pw}, timeout=10).status_code == 200
        fails = [login_status(gh, name, f"Wrong-{name}-{i}-pw") for i in range(3)]
        assert fails == [401, 401, 401]
        outcome[name] = login_status(gh, name, pw)
    assert all(code == 401 for code in outcome.values()), \
        f"accounts not locked after 3 failures (201 = logged in): {outcome}"


def test_lockout_duration_ends(make_server):
    gh = make_server()
    pw = gh.add_user("brief", "ReadOnly")
    gh.wait_changes_applied()
    with gh.admin() as s:
        r = s.patch(gh.url + SERVICE, json={"AccountLockoutThreshold": 2,
                                             "AccountLockoutDuration": 3,
                                             "AccountLockoutCounterResetAfter": 3}, timeout=10)
        assert r.status_code == 200, r.text
    for i in range(2):
        assert login_status(gh, "brief", f"Wrong-brief-{i}-xx") == 401
    assert login_status(gh, "brief", pw) == 401
    # The lock ends AccountLockoutDuration (3 s) after it began, in whole
    # seconds; a refusal while locked counts nothing, so trying meanwhile
    # does not extend it. Bound: the duration, a second of rounding, and a
    # margin for a loaded machine and the sanitizer build.
    wait_for(lambda: login_status(gh, "brief", pw) == 201, 3 + 1 + LOCK_MARGIN,
             "the lockout ended", interval=0.2)


# ----------------------------------------------------- password change required

def assert_password_change_required(r):
    assert r.status_code == 403, f"{r.status_code} {r.text[:400]}"
    ids = error_message_ids(r.json())
    assert any(i.endswith(".PasswordChangeRequired") for i in ids), ids


def test_password_change_required_flow(server):
    name = unique("pcr")
    path, pw, r = create_account(server, name, "Operator", PasswordChangeRequired=True)
    assert r.json()["PasswordChangeRequired"] is True

    # Login succeeds and carries the PasswordChangeRequired message.
    token, location, body, r = server.login(name, pw)
    infos = body.get("@Message.ExtendedInfo", [])
    assert any(m.get("MessageId", "").endswith(".PasswordChangeRequired") for m in infos), body
    with server.session(token=token) as s:
        for p in ["/redfish/v1/Systems", "/redfish/v1/Systems/1", "/redfish/v1/SessionService",
                  ACCOUNTS, ROLES, SERVICE]:
            assert_password_change_required(s.get(server.url + p, timeout=10))
        # Reading its own account is allowed...
        r = s.get(server.url + path, timeout=10)
        assert r.status_code == 200 and r.json()["PasswordChangeRequired"] is True
        # ...changing anything but the Password is not.
        assert_password_change_required(s.patch(server.url + path, json={"RoleId": "ReadOnly"},
                                                timeout=10))
        assert_password_change_required(
            s.patch(server.url + path, json={"Password": new_password(), "Enabled": True},
                    timeout=10))
    # Basic credentials are held to the same rule.
    with server.session(auth=(name, pw)) as s:
        assert_password_change_required(s.get(server.url + "/redfish/v1/Systems", timeout=10))
    # The open documents stay open to it.
    with server.session(token=token) as s:
        assert s.get(server.url + "/redfish/v1/", timeout=10).status_code == 200

    # PATCH the own Password: done.
    new_pw = new_password(name)
    server.secrets.add(new_pw)
    with server.session(token=token) as s:
        r = s.patch(server.url + path, json={"Password": new_pw}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["PasswordChangeRequired"] is False
    token2, location2, body2, _ = server.login(name, new_pw)
    assert not any(m.get("MessageId", "").endswith(".PasswordChangeRequired")
                   for m in body2.get("@Message.ExtendedInfo", []))
    with server.session(token=token2) as s:
        assert s.get(server.url + "/redfish/v1/Systems", timeout=10).status_code == 200
    assert basic_status(server, name, new_pw) == 200
    assert login_status(server, name, pw) == 401
    server.logout(token2, path_of(location2))


def test_password_change_required_set_by_admin(server):
    name = unique("pcra")
    path, pw, _ = create_account(server, name, "ReadOnly")
    assert basic_status(server, name, pw) == 200
    with server.admin() as s:
        r = s.patch(server.url + path, json={"PasswordChangeRequired": True}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["PasswordChangeRequired"] is True
    with server.session(auth=(name, pw)) as s:
        assert_password_change_required(s.get(server.url + "/redfish/v1/Systems", timeout=10))
    # The session it can still open must change the password first, and may log out.
    token, location, _, _ = server.login(name, pw)
    with server.session(token=token) as s:
        assert_password_change_required(s.get(server.url + "/redfish/v1/Chassis", timeout=10))
        r = s.delete(server.url + path_of(location), timeout=10)
    assert r.status_code in (200, 204), r.text
