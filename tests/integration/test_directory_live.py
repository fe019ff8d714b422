"""Directory settings changed through the Redfish AccountService while the
server runs, against a real slapd (slapd_server.py): its LDAP and
ActiveDirectory objects show the profiles in effect, and an Administrator's
PATCH changes them for every worker at once (the product's promise of
100 ms, held with obeyed_at_once) without a restart, persisted across one:
a RemoteRoleMapping that makes a ReadOnly user an Operator, a search base
that leaves a user out, ServiceEnabled false refusing the directory's users
and ending their sessions while local accounts go on, a profile made for
ActiveDirectory, a new service password that is never read back nor logged.
Refused: a PATCH by ReadOnly or Operator (403), malformed values (400 with
the Base message each deserves), a stale If-Match (412)."""

import os
import pytest

import gatehouse_harness as H
from conftest import _finish
from slapd_server import GROUPS, PEOPLE, SERVICE_DN, Slapd, group_dn
from test_directory import _directory_server, basic

ACCOUNT_SERVICE = "/redfish/v1/AccountService"
SYSTEMS = "/redfish/v1/Systems"


@pytest.fixture(scope="module")
def slapd(base_dir):
    s = Slapd(base_dir / f"slapd-live-{os.getpid()}")
    s.start()
    yield s
    s.stop()


@pytest.fixture
def gh(base_dir, slapd):
    """A fresh server per test (each changes the directory settings), two
    workers (one per core, at least two here), lockout off."""
    g = _directory_server(base_dir, slapd, "live", lockout=0,
                          profiles={"server": {"workers": 2}})
    yield g
    _finish(g)


def admin_get(gh):
    r = gh.request("GET", ACCOUNT_SERVICE, auth=("admin", gh.admin_password))
    assert r.status_code == 200, r.text
    return r


def admin_patch(gh, body, status=200, headers=None):
    r = gh.request("PATCH", ACCOUNT_SERVICE, json=body, auth=("admin", gh.admin_password),
                   headers=headers)
    assert r.status_code == status, r.text
    return r


def status_as(gh, user, password, path=SYSTEMS):
    """A fresh connection each time: any worker may answer."""
    return gh.request("GET", path, headers=basic(user, password)).status_code


def account_of(gh, user, password):
    """The path of the account a directory user logs in as (its shadow
    account, NAME@corp, made at its first login)."""
    assert status_as(gh, user, password) == 200
    r = gh.request("GET", H.ACCOUNTS, auth=("admin", gh.admin_password))
    for m in r.json()["Members"]:
        a = gh.request("GET", m["@odata.id"], auth=("admin", gh.admin_password)).json()
        if a["UserName"] == f"{user}@corp":
            return m["@odata.id"]
    raise AssertionError(f"no account {user}@corp")


def role_of(gh, path, user, password):
    """The RoleId of the user's own account, as the user reads it."""
    r = gh.request("GET", path, headers=basic(user, password))
    return r.json().get("RoleId") if r.status_code == 200 else r.status_code


def test_get_shows_the_file_profile(gh, slapd):
    r = admin_get(gh)
    assert r.headers.get("ETag", "").startswith('"')
    ldap = r.json()["LDAP"]
    assert ldap["ServiceEnabled"] is True
    assert ldap["AccountProviderType"] == "LDAPService"
    assert ldap["ServiceAddresses"] == [slapd.ldaps_url]
    assert ldap["Authentication"] == {"AuthenticationType": "UsernameAndPassword",
                                      "Username": SERVICE_DN, "Password": None}
    assert ldap["LDAPService"]["SearchSettings"] == {
        "BaseDistinguishedNames": [PEOPLE], "UsernameAttribute": "uid", "GroupsAttribute": ""}
    assert ldap["RemoteRoleMapping"] == [
        {"RemoteGroup": group_dn("admins"), "LocalRole": "Administrator"},
        {"RemoteGroup": group_dn("operators"), "LocalRole": "Operator"},
        {"RemoteGroup": group_dn("readers"), "LocalRole": "ReadOnly"}]
    ad = r.json()["ActiveDirectory"]
    assert ad["ServiceEnabled"] is False and ad["ServiceAddresses"] == []
    assert ad["AccountProviderType"] == "ActiveDirectoryService"
    # Any user may read it; a ReadOnly directory user too.
    r = gh.request("GET", ACCOUNT_SERVICE, headers=basic("rita", slapd.passwords["rita"]))
    assert r.status_code == 200 and r.json()["LDAP"]["Authentication"]["Password"] is None


def test_role_mapping_takes_effect_at_once(gh, slapd):
    pw = slapd.passwords["rita"]
    path = account_of(gh, "rita", pw)
    assert role_of(gh, path, "rita", pw) == "ReadOnly"   # cached from here on
    etag = admin_get(gh).headers["ETag"]
    admin_patch(gh, {"LDAP": {"RemoteRoleMapping": [
        {}, {}, {"RemoteGroup": group_dn("readers"), "LocalRole": "Operator"}]}})
    # The cached credential was verified under the old map: dropped, and the
    # next request binds again and gets the new role, on every worker.
    H.obeyed_at_once(lambda: role_of(gh, path, "rita", pw) == "Operator")
    r = admin_get(gh)
    assert r.headers["ETag"] != etag
    assert r.json()["LDAP"]["RemoteRoleMapping"][2] == {
        "RemoteGroup": group_dn("readers"), "LocalRole": "Operator"}
    # Persisted: the same after a restart.
    gh.restart()
    r2 = admin_get(gh)
    assert r2.json()["LDAP"] == r.json()["LDAP"] and r2.headers["ETag"] == r.headers["ETag"]
    assert role_of(gh, path, "rita", pw) == "Operator"


def test_user_base_that_leaves_a_user_out(gh, slapd):
    pw = slapd.passwords["dana"]
    assert status_as(gh, "dana", pw) == 200
    admin_patch(gh, {"LDAP": {"LDAPService": {"SearchSettings": {
        "BaseDistinguishedNames": [GROUPS]}}}})
    H.obeyed_at_once(lambda: status_as(gh, "dana", pw) == 401)
    admin_patch(gh, {"LDAP": {"LDAPService": {"SearchSettings": {
        "BaseDistinguishedNames": [PEOPLE]}}}})
    H.obeyed_at_once(lambda: status_as(gh, "dana", pw) == 200)


def test_service_disabled(gh, slapd):
    pw = slapd.passwords["olly"]
    token, _, _, _ = gh.login("olly", pw)
    assert gh.token_status(token) == 200
    assert status_as(gh, "olly", pw) == 200
    admin_patch(gh, {"LDAP": {"ServiceEnabled": False}})
    H.obeyed_at_once(lambda: status_as(gh, "olly", pw) == 401)
    H.obeyed_at_once(lambda: gh.token_status(token) == 401)
    assert admin_get(gh).json()["LDAP"]["ServiceEnabled"] is False
    assert status_as(gh, "admin", gh.admin_password) == 200     # local accounts go on
    # Across a restart too, and back on without one.
    gh.restart()
    assert status_as(gh, "olly", pw) == 401
    admin_patch(gh, {"LDAP": {"ServiceEnabled": True}})
    H.obeyed_at_once(lambda: status_as(gh, "olly", pw) == 200)


def test_service_password_write_only(gh, slapd):
    # Connections to the directory made (and kept) by the hash threads.
    for _ in range(10):
        assert status_as(gh, "mixa", slapd.passwords["mixa"]) == 200
    # A wrong service password: the directory is unavailable (503), no
    # let-through, not even on a connection bound with the old one.
    wrong = H.new_password("WrongService")
    gh.secrets.add(wrong)
    admin_patch(gh, {"LDAP": {"Authentication": {"Username": SERVICE_DN, "Password": wrong}}})
    H.obeyed_at_once(lambda: status_as(gh, "dana", slapd.passwords["dana"]) == 503)
    for uid in ("mixa", "olly", "rita", "dana", "mixa", "olly", "rita", "dana"):
        assert status_as(gh, uid, slapd.passwords[uid]) == 503, uid
    r = admin_patch(gh, {"LDAP": {"Authentication": {"Password": slapd.service_password}}})
    assert r.json()["LDAP"]["Authentication"]["Password"] is None
    H.obeyed_at_once(lambda: status_as(gh, "dana", slapd.passwords["dana"]) == 200)
    assert admin_get(gh).json()["LDAP"]["Authentication"]["Password"] is None
    path = gh.data / "directory" / "corp.password"
    assert (os.stat(path).st_mode & 0o777) == 0o600
    for f in gh.data.iterdir():
        if f.name.startswith("gatehouse.db"):
            data = f.read_bytes()
            assert slapd.service_password.encode() not in data, f
            assert wrong.encode() not in data, f
    audit = gh.audit_log.read_text()
    assert '"directory_changed"' in audit and "directory corp written" in audit
    # (the fixture's finish fails on any password in the audit log or stderr)


def test_active_directory_profile_made(gh, slapd):
    """A profile made for ActiveDirectory, which shows none: of its kind,
    named "ad", not the default (corp is), its users NAME@ad. Through
    Redfish no CA can be given (Certificates is not writable), so it speaks
    to slapd over ldap:// on this host, which the rules allow in the clear."""
    pw = slapd.passwords["dana"]
    assert status_as(gh, "dana@ad", pw) == 401
    admin_patch(gh, {"ActiveDirectory": {
        "ServiceEnabled": True, "ServiceAddresses": [slapd.ldap_url],
        "Authentication": {"Username": SERVICE_DN, "Password": slapd.service_password},
        "LDAPService": {"SearchSettings": {"BaseDistinguishedNames": [PEOPLE],
                                           "UsernameAttribute": "uid",
                                           "GroupsAttribute": "memberOf"}},
        "RemoteRoleMapping": [{"RemoteGroup": group_dn("admins"),
                               "LocalRole": "Administrator"}]}})
    ad = admin_get(gh).json()["ActiveDirectory"]
    assert ad["ServiceEnabled"] is True and ad["ServiceAddresses"] == [slapd.ldap_url]
    assert ad["Authentication"] == {"AuthenticationType": "UsernameAndPassword",
                                    "Username": SERVICE_DN, "Password": None}
    H.obeyed_at_once(lambda: status_as(gh, "dana@ad", pw) == 200)
    assert status_as(gh, "rita@ad", slapd.passwords["rita"]) == 401   # readers: unmapped here
    assert status_as(gh, "dana", pw) == 200             # the default profile, untouched
    assert admin_get(gh).json()["LDAP"]["ServiceAddresses"] == [slapd.ldaps_url]


@pytest.mark.parametrize("user", ["rita", "olly"])
def test_patch_needs_an_administrator(gh, slapd, user):
    before = admin_get(gh).headers["ETag"]
    r = gh.request("PATCH", ACCOUNT_SERVICE, json={"LDAP": {"ServiceEnabled": False}},
                   headers=basic(user, slapd.passwords[user]))
    H.assert_redfish_error(r, 403, "InsufficientPrivilege")
    assert admin_get(gh).headers["ETag"] == before


MALFORMED = [
    ({"LDAP": 5}, "PropertyValueTypeError"),
    ({"LDAP": {"ServiceEnabled": "yes"}}, "PropertyValueTypeError"),
    ({"LDAP": {"ServiceAddresses": "ldaps://x"}}, "PropertyValueTypeError"),
    ({"LDAP": {"ServiceAddresses": ["http://127.0.0.1"]}}, "PropertyValueFormatError"),
    ({"LDAP": {"ServiceAddresses": [7]}}, "PropertyValueFormatError"),
    ({"LDAP": {"ServiceAddresses": ["ldap://ldap.example.org"]}}, "PropertyValueIncorrect"),
    ({"LDAP": {"ServiceAddresses": []}}, "PropertyValueIncorrect"),
    ({"LDAP": {"Certificates": {}}}, "PropertyNotWritable"),
    ({"LDAP": {"Bogus": 1}}, "PropertyUnknown"),
    ({"LDAP": {"Authentication": {"AuthenticationType": "Token"}}}, "PropertyValueNotInList"),
    ({"LDAP": {"Authentication": {"Password": ""}}}, "PropertyValueFormatError"),
    ({"LDAP": {"Authentication": {"Username": 3}}}, "PropertyValueTypeError"),
    ({"LDAP": {"LDAPService": {"SearchSettings": {"UsernameAttribute": "u id"}}}},
     "PropertyValueFormatError"),
    ({"LDAP": {"LDAPService": {"SearchSettings": {"BaseDistinguishedNames": ["a", "b"]}}}},
     "PropertyValueIncorrect"),
    ({"LDAP": {"LDAPService": {"SearchSettings": {"GroupNameAttribute": "cn"}}}},
     "PropertyNotWritable"),
    ({"LDAP": {"RemoteRoleMapping": [{"RemoteGroup": group_dn("x"), "LocalRole": "Root"}]}},
     "PropertyValueNotInList"),
    ({"LDAP": {"RemoteRoleMapping": [{"RemoteGroup": "not a DN", "LocalRole": "Operator"}]}},
     "PropertyValueIncorrect"),
    # past the three mappings there are: nothing to take RemoteGroup from
    ({"LDAP": {"RemoteRoleMapping": [{}, {}, {}, {"LocalRole": "Operator"}]}},
     "PropertyMissing"),
    ({"LDAP": {"RemoteRoleMapping": [{}, {}, {}, {}]}}, "PropertyValueIncorrect"),
    ({"LDAP": {"RemoteRoleMapping": []}}, "PropertyValueIncorrect"),
    ({"LDAP": {"RemoteRoleMapping": [5]}}, "PropertyValueTypeError"),
    ({"LDAP": {"RemoteRoleMapping": [{"RemoteUser": "x"}]}}, "PropertyNotWritable"),
]


def test_malformed_bodies(gh, slapd):
    before = admin_get(gh)
    for body, message in MALFORMED:
        r = gh.request("PATCH", ACCOUNT_SERVICE, json=body, auth=("admin", gh.admin_password))
        H.assert_redfish_error(r, 400, message)
    # A body that is no JSON at all.
    r = gh.request("PATCH", ACCOUNT_SERVICE, data=b'{"LDAP": {', auth=("admin", gh.admin_password),
                   headers={"Content-Type": "application/json"})
    H.assert_redfish_error(r, 400, "MalformedJSON")
    # Nothing was written by any of them.
    after = admin_get(gh)
    assert after.json() == before.json() and after.headers["ETag"] == before.headers["ETag"]
    assert status_as(gh, "dana", slapd.passwords["dana"]) == 200


def test_etag(gh, slapd):
    r = admin_get(gh)
    etag = r.headers["ETag"]
    r304 = gh.request("GET", ACCOUNT_SERVICE, auth=("admin", gh.admin_password),
                      headers={"If-None-Match": etag})
    assert r304.status_code == 304
    admin_patch(gh, {"LDAP": {"LDAPService": {"SearchSettings": {"UsernameAttribute": "cn"}}}},
                headers={"If-Match": etag})
    assert admin_get(gh).headers["ETag"] != etag
    r = gh.request("PATCH", ACCOUNT_SERVICE, json={"LDAP": {"ServiceEnabled": False}},
                   auth=("admin", gh.admin_password), headers={"If-Match": etag})
    H.assert_redfish_error(r, 412, "PreconditionFailed")
    # The settings already there change the ETag as well.
    etag = admin_get(gh).headers["ETag"]
    admin_patch(gh, {"AccountLockoutThreshold": 7})
    assert admin_get(gh).headers["ETag"] != etag
