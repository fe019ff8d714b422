"""Directory accounts against a real slapd (slapd_server.py), over ldaps and
StartTLS: logins through every dialect and credential kind, roles from
groups, a local account shadowing a directory one, a disabled user, a user
in no mapped group, a non-ASCII name, LDAP injection in the name, lockout,
the directory going away and coming back without a restart of gatehouse,
a wrong service password at start, and no directory password in any log."""

import base64
import os
import socket
import time

import pytest

import gatehouse_harness as H
from conftest import _finish, _new
from slapd_server import Slapd, group_dn, user_dn

REDFISH_SYSTEMS = "/redfish/v1/Systems"
ACCOUNT_SERVICE = "/redfish/v1/AccountService"
OVIRT_TOKEN = "/ovirt-engine/sso/oauth/token"
OVIRT_API = "/ovirt-engine/api"
PS_LOGIN = "/api/rest/login_session"


def _password_file(slapd, text, name):
    path = slapd.dir / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")
    return path


def _directory_server(base_dir, slapd, prefix, password=None, profiles=None, lockout=3):
    """A gatehouse whose [directory corp] (the default) is slapd over ldaps,
    and [directory tls] the same over StartTLS; its service password file
    given to whoever runs the workers."""
    pwfile = _password_file(slapd, password or slapd.service_password, f"{prefix}.pw")
    config = H.merge_config(
        {"lockout": {"lockout_threshold": lockout}},
        slapd.profile("corp", bind_password_file=str(pwfile), default="true"),
        slapd.profile("tls", bind_password_file=str(pwfile), starttls="true",
                      servers=f"{slapd.ldap_url}"),
        profiles)
    for name, keys in config.items():
        if name.startswith("directory ") and keys.get("bind_dn"):
            keys.setdefault("bind_password_file", str(pwfile))
    gh = _new(base_dir, prefix, config, True, start=False)     # started once the file is its
    os.chown(pwfile, gh.owner_uid, gh.owner_gid)
    for uid, pw in slapd.passwords.items():
        gh.secrets.add(pw)
    gh.secrets.add(slapd.service_password)
    gh.secrets.add(slapd.root_password)
    if password:
        gh.secrets.add(password)
    gh.start()
    return gh


@pytest.fixture(scope="module")
def slapd(base_dir):
    s = Slapd(base_dir / f"slapd-{os.getpid()}-{time.monotonic_ns()}")
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def silent():
    """A port of 127.0.0.1 that takes connections (the kernel's backlog) and
    never answers: a directory that hangs."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    yield s.getsockname()[1]
    s.close()


@pytest.fixture(scope="module")
def dgh(base_dir, slapd, silent):
    hung = slapd.profile("hung", servers=f"ldap://127.0.0.1:{silent}", bind_dn="",
                         bind_password_file="", connect_timeout=1, bind_timeout=1,
                         search_timeout=1)
    # the groups from the user's memberOf instead of a group search
    mof = slapd.profile("mof", group_attribute="memberOf", group_base="")
    # wrong passwords of the tests below must not lock anyone out here
    gh = _directory_server(base_dir, slapd, "directory", lockout=0,
                           profiles=H.merge_config(hung, mof))
    gh.add_user("carol", "ReadOnly")      # shadows the directory's carol
    yield gh
    _finish(gh)


def basic(user, password):
    """A Basic header of UTF-8 bytes (requests would encode Latin-1)."""
    raw = f"{user}:{password}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def redfish_get(gh, user, password, path=REDFISH_SYSTEMS):
    return gh.request("GET", path, headers=basic(user, password))


# ------------------------------------------------------------------ Redfish


def test_redfish_basic_and_roles(dgh, slapd):
    pw = slapd.passwords
    for uid in ("dana", "olly", "rita", "mixa"):
        assert redfish_get(dgh, uid, pw[uid]).status_code == 200, uid
    # ReadOnly may not change the account service; Administrator may.
    body = {"AccountLockoutThreshold": 0}
    r = dgh.request("PATCH", ACCOUNT_SERVICE, json=body, headers=basic("rita", pw["rita"]))
    H.assert_redfish_error(r, 403, "InsufficientPrivilege")
    r = dgh.request("PATCH", ACCOUNT_SERVICE, json=body, headers=basic("olly", pw["olly"]))
    H.assert_redfish_error(r, 403, "InsufficientPrivilege")
    r = dgh.request("PATCH", ACCOUNT_SERVICE, json=body, headers=basic("mixa", pw["mixa"]))
    assert r.status_code in (200, 204), r.text
    r = dgh.request("PATCH", ACCOUNT_SERVICE, json=body, headers=basic("dana", pw["dana"]))
    assert r.status_code in (200, 204), r.text


def test_groups_from_member_of(dgh, slapd):
    """The same roles when the groups come from the user's memberOf."""
    pw = slapd.passwords
    body = {"AccountLockoutThreshold": 0}
    r = dgh.request("PATCH", ACCOUNT_SERVICE, json=body, headers=basic("rita@mof", pw["rita"]))
    H.assert_redfish_error(r, 403, "InsufficientPrivilege")
    r = dgh.request("PATCH", ACCOUNT_SERVICE, json=body, headers=basic("mixa@mof", pw["mixa"]))
    assert r.status_code in (200, 204), r.text
    assert redfish_get(dgh, "olly@mof", pw["olly"]).status_code == 200
    assert redfish_get(dgh, "nogr@mof", pw["nogr"]).status_code == 401
    assert redfish_get(dgh, "dora@mof", pw["dora"]).status_code == 401


def test_redfish_session_of_directory_user(dgh, slapd):
    token, location, body, _ = dgh.login("olly", slapd.passwords["olly"])
    assert body["UserName"] == "olly@corp"
    s = dgh.session(token=token)
    assert s.get(dgh.url + REDFISH_SYSTEMS, timeout=10).status_code == 200
    assert s.delete(dgh.url + location, timeout=10).status_code in (200, 204)
    assert s.get(dgh.url + REDFISH_SYSTEMS, timeout=10).status_code == 401


def test_user_moved_between_groups(dgh, slapd):
    """A group change takes effect at the next login, and the user's live
    sessions take the new role with it."""
    pw = slapd.passwords["mova"]
    body = {"AccountLockoutThreshold": 0}
    token, _, _, _ = dgh.login("mova", pw)
    s = dgh.session(token=token)
    H.assert_redfish_error(s.patch(dgh.url + ACCOUNT_SERVICE, json=body, timeout=10), 403,
                           "InsufficientPrivilege")
    slapd.modify(f"dn: {group_dn('admins')}\nchangetype: modify\nadd: member\n"
                 f"member: {user_dn('mova')}\n")
    token2, _, _, _ = dgh.login("mova", pw)
    s2 = dgh.session(token=token2)
    assert s2.patch(dgh.url + ACCOUNT_SERVICE, json=body, timeout=10).status_code in (200, 204)
    H.wait_for(lambda: s.patch(dgh.url + ACCOUNT_SERVICE, json=body,
                               timeout=10).status_code in (200, 204),
               10, "the earlier session of the user taking the new role", interval=0.05)


def test_deleted_user(dgh, slapd):
    pw = slapd.passwords["gone"]
    dgh.login("gone", pw)
    slapd.modify(f"dn: {user_dn('gone')}\nchangetype: delete\n")
    dgh.login("gone", pw, expect=401)


def test_refused_users(dgh, slapd):
    pw = slapd.passwords
    assert redfish_get(dgh, "dana", pw["dana"] + "x").status_code == 401
    assert redfish_get(dgh, "nogr", pw["nogr"]).status_code == 401       # no mapped group
    assert redfish_get(dgh, "dora", pw["dora"]).status_code == 401       # disabled
    assert redfish_get(dgh, "nobody", pw["dana"]).status_code == 401
    dgh.login("nogr", pw["nogr"], expect=401)


def test_non_ascii_name(dgh, slapd):
    uid = "jos\u00e9"
    assert redfish_get(dgh, uid, slapd.passwords[uid]).status_code == 200
    assert redfish_get(dgh, uid, slapd.passwords["rita"]).status_code == 401


def test_local_account_wins(dgh, slapd):
    """carol is a local ReadOnly account and an Administrator in the directory:
    only the local password logs in, and as ReadOnly."""
    assert redfish_get(dgh, "carol", slapd.passwords["carol"]).status_code == 401
    assert redfish_get(dgh, "carol", dgh.users["carol"]).status_code == 200
    r = dgh.request("PATCH", ACCOUNT_SERVICE, json={"AccountLockoutThreshold": 0},
                    headers=basic("carol", dgh.users["carol"]))
    H.assert_redfish_error(r, 403, "InsufficientPrivilege")


@pytest.mark.parametrize("name", ["*", "dana)(uid=*", "*)(|(uid=*", "\\00", "dana\\00",
                                  "d*", "(uid=dana)", "dana)(|(objectClass=*"])
def test_injection_is_wrong_credentials(dgh, slapd, name):
    # the password of a real user, so that a filter matching anyone would let it in
    assert redfish_get(dgh, name, slapd.passwords["dana"]).status_code == 401


def test_empty_password_never_binds(dgh):
    """An empty password would be an unauthenticated bind, which LDAP accepts."""
    assert redfish_get(dgh, "dana", "").status_code == 401
    r = dgh.request("POST", "/redfish/v1/SessionService/Sessions",
                    json={"UserName": "dana", "Password": ""})
    assert r.status_code in (400, 401), r.text


# ------------------------------------------------------------ oVirt, PowerStore


def test_ovirt_token_by_profile(dgh, slapd):
    r = dgh.request("POST", OVIRT_TOKEN, headers={"Accept": "application/json"},
                    data={"grant_type": "password", "scope": "ovirt-app-api",
                          "username": "olly@corp", "password": slapd.passwords["olly"]})
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    dgh.secrets.add(token)
    r = dgh.request("GET", OVIRT_API, headers={"Authorization": f"Bearer {token}",
                                               "Accept": "application/json"})
    assert r.status_code == 200, r.text
    # the StartTLS profile, by name
    r = dgh.request("POST", OVIRT_TOKEN, headers={"Accept": "application/json"},
                    data={"grant_type": "password", "scope": "ovirt-app-api",
                          "username": "rita@tls", "password": slapd.passwords["rita"]})
    assert r.status_code == 200, r.text
    dgh.secrets.add(r.json()["access_token"])
    # a directory user is not an @internal one
    r = dgh.request("POST", OVIRT_TOKEN, headers={"Accept": "application/json"},
                    data={"grant_type": "password", "scope": "ovirt-app-api",
                          "username": "olly@internal", "password": slapd.passwords["olly"]})
    assert r.status_code in (400, 401), r.text


def test_ovirt_persistent_auth(dgh, slapd):
    r = dgh.request("HEAD", OVIRT_API, headers={"Prefer": "persistent-auth",
                                               **basic("dana@corp", slapd.passwords["dana"])})
    assert r.status_code == 200, r.text
    cookie = r.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    dgh.secrets.add(cookie)
    r = dgh.request("GET", OVIRT_API, headers={"Cookie": f"JSESSIONID={cookie}",
                                              "Prefer": "persistent-auth"})
    assert r.status_code == 200, r.text


def test_internal_is_never_a_directory_user(dgh, slapd):
    """A directory user's credential, verified and cached for a plain name,
    does not make user@internal (oVirt's local accounts) log in."""
    pw = slapd.passwords["rita"]
    assert redfish_get(dgh, "rita", pw).status_code == 200
    for _ in range(2):
        r = dgh.request("GET", OVIRT_API, headers={"Accept": "application/json",
                                                  **basic("rita@internal", pw)})
        assert r.status_code == 401, r.text
    r = dgh.request("GET", OVIRT_API, headers={"Accept": "application/json",
                                              **basic("rita@corp", pw)})
    assert r.status_code == 200, r.text


def test_powerstore_login_session(dgh, slapd):
    s = dgh.session()
    r = s.get(dgh.url + PS_LOGIN, params={"select": "id,user,role_ids"},
              headers=basic("olly", slapd.passwords["olly"]), timeout=10)
    assert r.status_code == 200, r.text
    dgh.secrets.add(r.headers["DELL-EMC-TOKEN"])
    assert r.json()[0]["user"] in ("olly", "olly@corp")
    r = s.get(dgh.url + PS_LOGIN, timeout=10)     # the auth_cookie alone
    assert r.status_code == 200, r.text


# ------------------------------------------------------------------- audit


def test_audit_names_the_profile(dgh, slapd):
    assert redfish_get(dgh, "rita", slapd.passwords["rita"] + "-basic-audit").status_code == 401
    H.wait_for(lambda: "directory corp" in dgh.audit_log.read_text(errors="replace"), 10,
               "an audit record naming the profile")
    text = dgh.audit_log.read_text(errors="replace")
    assert "rita@corp" in text
    for pw in list(slapd.passwords.values()) + [slapd.service_password]:
        assert pw not in text


def test_directory_that_hangs(dgh, slapd):
    """A server that takes the connection and never answers: 503 within the
    profile's timeouts (1 s each; two tries), local accounts unaffected."""
    t0 = time.monotonic()
    r = redfish_get(dgh, "dana@hung", slapd.passwords["dana"])
    elapsed = time.monotonic() - t0
    assert r.status_code == 503, r.text
    assert elapsed < 15, elapsed
    assert redfish_get(dgh, "admin", dgh.admin_password).status_code == 200
    assert redfish_get(dgh, "dana", slapd.passwords["dana"]).status_code == 200


# ------------------------------------------------------------ lockout


def test_wrong_password_locks_out(base_dir, slapd):
    gh = _directory_server(base_dir, slapd, "dir-lockout")
    try:
        pw = slapd.passwords["rita"]
        for _ in range(3):
            assert redfish_get(gh, "rita", pw + "wrong").status_code == 401
        assert redfish_get(gh, "rita", pw).status_code == 401        # locked
        # the same name through oVirt: the same lock
        r = gh.request("POST", OVIRT_TOKEN, headers={"Accept": "application/json"},
                       data={"grant_type": "password", "scope": "ovirt-app-api",
                             "username": "rita@corp", "password": pw})
        assert r.status_code in (400, 401), r.text
        assert redfish_get(gh, "olly", slapd.passwords["olly"]).status_code == 200
        assert "rita@corp" in gh.audit_log.read_text(errors="replace")
    finally:
        _finish(gh)


def test_lockout_counts_every_spelling_of_a_name(base_dir, slapd):
    """The directory matches "Rita" and "RITA" to rita: so does the lockout.
    Before, each spelling had a shadow name and counters of its own, and a
    locked rita logged in as Rita."""
    gh = _directory_server(base_dir, slapd, "dir-case")
    try:
        pw = slapd.passwords["rita"]
        for name in ("rita", "Rita", "RITA"):          # 3 failures, one user
            assert redfish_get(gh, name, pw + "wrong").status_code == 401
        for name in ("rita", "Rita", "rItA"):
            assert redfish_get(gh, name, pw).status_code == 401, f"{name} let in when locked"
        audit = gh.audit_log.read_text(errors="replace")
        assert "Rita@corp" not in audit and "RITA@corp" not in audit
        # A spelling is one user once in: the shadow account the directory's name.
        assert redfish_get(gh, "OLLY", slapd.passwords["olly"]).status_code == 200
        names = gh.cli("user", "list").stdout
        assert "olly@corp" in names and "OLLY@corp" not in names
    finally:
        _finish(gh)


# --------------------------------------------------- the directory goes away


def test_directory_down_and_back(base_dir, slapd):
    gh = _directory_server(base_dir, slapd, "dir-down")
    try:
        pw = slapd.passwords
        assert redfish_get(gh, "dana", pw["dana"]).status_code == 200
        slapd.stop()
        try:
            t0 = time.monotonic()
            r = redfish_get(gh, "olly", pw["olly"])
            elapsed = time.monotonic() - t0
            assert r.status_code == 503, r.text
            # the configured timeouts are 3 s each; a refused connection is at once
            assert elapsed < 10, elapsed
            assert redfish_get(gh, "admin", gh.admin_password).status_code == 200
            # a credential verified before still answers from the cache
            assert redfish_get(gh, "dana", pw["dana"]).status_code == 200
        finally:
            slapd.start()
        H.wait_for(lambda: redfish_get(gh, "olly", pw["olly"]).status_code == 200, 20,
                   "directory logins work again after slapd came back")
    finally:
        _finish(gh)


def test_wrong_service_password_at_start(base_dir, slapd):
    gh = _directory_server(base_dir, slapd, "dir-badsvc", password="Wrong-service-pw-1")
    try:
        H.wait_for(lambda: "does not answer" in gh.stderr_text(), 10,
                   "the start-up log saying the directory does not answer")
        assert "Wrong-service-pw-1" not in gh.stderr_text()
        assert redfish_get(gh, "admin", gh.admin_password).status_code == 200
        assert redfish_get(gh, "dana", slapd.passwords["dana"]).status_code == 503
    finally:
        _finish(gh)


def test_unreachable_server_at_start_then_failover(base_dir, slapd):
    """The first server of the list answers nothing: gatehouse starts, logs
    it, and logs users in through the second. A server whose certificate
    does not verify is not used."""
    dead = f"ldap://127.0.0.1:{H.free_port()}"
    # sysca: the system's CAs, which do not know the test CA
    gh = _directory_server(base_dir, slapd, "dir-failover",
                           profiles=H.merge_config(
                               {"directory corp": {"servers": f"{dead} {slapd.ldaps_url}"},
                                "directory tls": {"servers": dead}},
                               slapd.profile("sysca", ca="")))
    try:
        H.wait_for(lambda: 'directory "tls" does not answer' in gh.stderr_text(), 10,
                   "the start-up log naming the unreachable directory")
        assert redfish_get(gh, "admin", gh.admin_password).status_code == 200
        assert redfish_get(gh, "olly", slapd.passwords["olly"]).status_code == 200
        # a server whose certificate the profile's CA does not verify is no server
        assert 'directory "sysca" does not answer' in gh.stderr_text()
        assert redfish_get(gh, "olly@sysca", slapd.passwords["olly"]).status_code == 503
    finally:
        _finish(gh)

