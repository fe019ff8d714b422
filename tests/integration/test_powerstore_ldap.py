"""PowerStore's ldap_domain and ldap_account (docs/directory.md, "PowerStore")
against a real slapd (slapd_server.py) and the real server: the file's
profile listed; a domain created through the API and logged in through
(login_session, user@DOMAIN and DOMAIN\\user), groups and users mapped to
roles by ldap_account and the role following at the next login, verify, a
deleted domain refusing its users, all without a restart and kept across
one; Administrator only for changes (403 otherwise), the DELL-EMC-TOKEN on a
cookie session's writes, malformed bodies answered 400 in PowerStore's
format, and the bind password never read back nor logged."""

import base64
import os
import time

import pytest

import gatehouse_harness as H
from conftest import _finish, _new
from slapd_server import GROUPS, PEOPLE, SERVICE_DN, Slapd, group_dn

LOGIN = "/api/rest/login_session"
DOMAINS = "/api/rest/ldap_domain"
ACCOUNTS = "/api/rest/ldap_account"


def basic(user, password):
    raw = f"{user}:{password}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def ps_error(r, status, code):
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text[:400]}"
    m = r.json()["messages"][0]
    assert m["code"] == code, r.text
    return m


@pytest.fixture(scope="module")
def slapd(base_dir):
    s = Slapd(base_dir / f"slapd-ps-{os.getpid()}-{time.monotonic_ns()}")
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def psgh(base_dir, slapd):
    """A gatehouse with the file's [directory corp] (slapd over ldaps, the
    default profile), a ReadOnly local account `viewer`, no lockout."""
    pwfile = slapd.dir / "ps-service.pw"
    fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(slapd.service_password + "\n")
    config = H.merge_config({"lockout": {"lockout_threshold": 0}},
                            slapd.profile("corp", bind_password_file=str(pwfile),
                                          default="true"))
    gh = _new(base_dir, "psldap", config, True, start=False)
    os.chown(pwfile, gh.owner_uid, gh.owner_gid)
    gh.secrets.update(slapd.passwords.values())
    gh.secrets.update({slapd.service_password, slapd.root_password})
    gh.add_user("viewer", "ReadOnly")
    gh.start()
    yield gh
    _finish(gh)


def admin(gh, method, path, **kw):
    return gh.request(method, path, headers=basic("admin", gh.admin_password), **kw)


def role_ids(gh, user, password):
    """login_session of user: its role ids, or the status when refused."""
    r = gh.request("GET", LOGIN, params={"select": "id,user,role_ids"},
                   headers=basic(user, password))
    if r.status_code != 200:
        return r.status_code
    gh.secrets.add(r.headers["DELL-EMC-TOKEN"])
    return r.json()[0]["role_ids"]


def lab_body(slapd, name="lab", **over):
    """A domain on slapd over plain LDAP to 127.0.0.1 (this host: no password
    crosses a network; an API-made domain has the system's CAs, not the
    test CA, so not LDAPS)."""
    body = {
        "domain_name": name,
        "ldap_servers": ["127.0.0.1"],
        "port": int(slapd.ldap_url.rsplit(":", 1)[1]),
        "protocol": "LDAP",
        "ldap_server_type": "OpenLDAP",
        "bind_user": SERVICE_DN,
        "bind_password": slapd.service_password,
        "user_search_path": PEOPLE,
        "group_search_path": GROUPS,
        "ldap_timeout": 3000,
    }
    body.update(over)
    return body


def account_id(gh, domain, name):
    r = admin(gh, "GET", ACCOUNTS, params={"select": "*", "domain_id": f"eq.{domain}",
                                           "name": f"eq.{name}"})
    assert r.status_code == 200, r.text
    return r.json()[0]["id"] if r.json() else None


def test_file_profile_listed(psgh, slapd):
    r = admin(psgh, "GET", DOMAINS, params={"select": "*"})
    assert r.status_code == 200, r.text
    corp = [d for d in r.json() if d["id"] == "corp"]
    assert len(corp) == 1, r.json()
    d = corp[0]
    assert d["domain_name"] == "corp"
    assert d["protocol"] == "LDAPS"
    assert d["ldap_servers"] == ["127.0.0.1"]
    assert d["bind_user"] == SERVICE_DN
    assert d["user_search_path"] == PEOPLE and d["group_search_path"] == GROUPS
    assert "bind_password" not in d
    # an instance, with select
    r = admin(psgh, "GET", DOMAINS + "/corp", params={"select": "id,ldap_server_type"})
    assert r.json() == {"id": "corp", "ldap_server_type": "OpenLDAP"}
    # the role map as ldap_accounts: admins 1, operators 2, readers 3
    r = admin(psgh, "GET", ACCOUNTS, params={"select": "*", "domain_id": "eq.corp"})
    got = {a["dn"]: a["role_id"] for a in r.json()}
    assert got == {group_dn("admins"): "1", group_dn("operators"): "2",
                   group_dn("readers"): "3"}, r.json()
    assert all(a["type"] == "Group" for a in r.json())
    # anyone who may log in reads them
    r = psgh.request("GET", DOMAINS, headers=basic("viewer", psgh.users["viewer"]))
    assert r.status_code == 200, r.text
    ps_error(admin(psgh, "GET", DOMAINS + "/nowhere"), 404, "0xE1404001")
    ps_error(admin(psgh, "GET", ACCOUNTS + "/12345"), 404, "0xE1404001")


def test_domain_created_and_logged_in(psgh, slapd):
    body = lab_body(slapd)
    r = admin(psgh, "POST", DOMAINS, json=body)
    assert r.status_code == 201, r.text
    assert r.json() == {"id": "lab"}
    # nobody is mapped yet: refused, as a user in no group
    assert role_ids(psgh, "rita@lab", slapd.passwords["rita"]) == 401
    r = admin(psgh, "POST", ACCOUNTS, json={"domain_id": "lab", "name": "readers",
                                             "type": "Group", "role_id": "3"})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    # live: the next login, no restart; both spellings of a domain's user
    assert role_ids(psgh, "rita@lab", slapd.passwords["rita"]) == ["3"]
    assert role_ids(psgh, "lab\\rita", slapd.passwords["rita"]) == ["3"]
    assert role_ids(psgh, "rita@lab", "wrong-" + slapd.passwords["rita"]) == 401
    r = admin(psgh, "GET", ACCOUNTS + "/" + rid, params={"select": "*"})
    assert r.json()["dn"] == group_dn("readers") and r.json()["domain_id"] == "lab"
    # the group's role changed: the user's role at the next login
    r = admin(psgh, "PATCH", ACCOUNTS + "/" + rid, json={"role_id": "2"})
    assert r.status_code == 204, r.text
    assert role_ids(psgh, "rita@lab", slapd.passwords["rita"]) == ["2"]
    # verify: the service account binds
    r = admin(psgh, "POST", DOMAINS + "/lab/verify")
    assert r.status_code == 204, r.text
    # a changed service password: verify fails, in PowerStore's format
    r = admin(psgh, "PATCH", DOMAINS + "/lab", json={"bind_password": "Wrong-service-pw-123"})
    assert r.status_code == 204, r.text
    psgh.secrets.add("Wrong-service-pw-123")
    ps_error(admin(psgh, "POST", DOMAINS + "/lab/verify"), 422, "0xE1422006")
    r = admin(psgh, "PATCH", DOMAINS + "/lab", json={"bind_password": slapd.service_password})
    assert r.status_code == 204, r.text
    assert role_ids(psgh, "rita@lab", slapd.passwords["rita"]) == ["2"]
    # deleted: its users are refused at once
    r = admin(psgh, "DELETE", DOMAINS + "/lab")
    assert r.status_code == 204, r.text
    assert role_ids(psgh, "rita@lab", slapd.passwords["rita"]) == 401
    ps_error(admin(psgh, "GET", DOMAINS + "/lab"), 404, "0xE1404001")
    assert account_id(psgh, "lab", "readers") is None


def test_user_account_maps_a_user(psgh, slapd):
    """A User ldap_account gives its role to that user alone: nogr is in no
    mapped group."""
    assert admin(psgh, "POST", DOMAINS, json=lab_body(slapd, "users")).status_code == 201
    try:
        assert role_ids(psgh, "nogr@users", slapd.passwords["nogr"]) == 401
        r = admin(psgh, "POST", ACCOUNTS, json={"domain_id": "users", "name": "nogr",
                                                 "type": "User", "role_id": "1"})
        assert r.status_code == 201, r.text
        r = admin(psgh, "GET", ACCOUNTS + "/" + r.json()["id"], params={"select": "*"})
        assert r.json()["type"] == "User" and r.json()["name"] == "nogr", r.json()
        assert role_ids(psgh, "nogr@users", slapd.passwords["nogr"]) == ["1"]
        assert role_ids(psgh, "rita@users", slapd.passwords["rita"]) == 401
        # the same DN twice: refused
        r = admin(psgh, "POST", ACCOUNTS, json={"domain_id": "users", "name": "nogr",
                                                 "type": "User", "role_id": "2"})
        ps_error(r, 422, "0xE1422004")
        # deleted: refused again
        r = admin(psgh, "DELETE", ACCOUNTS + "/" + account_id(psgh, "users", "nogr"))
        assert r.status_code == 204, r.text
        assert role_ids(psgh, "nogr@users", slapd.passwords["nogr"]) == 401
    finally:
        admin(psgh, "DELETE", DOMAINS + "/users")


def test_changes_persist_across_restart(psgh, slapd):
    assert admin(psgh, "POST", DOMAINS, json=lab_body(slapd, "kept")).status_code == 201
    r = admin(psgh, "POST", ACCOUNTS, json={"domain_id": "kept", "name": "operators",
                                             "type": "Group", "role_id": "2"})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    # the file's profile changed, its readers mapped no more
    r = admin(psgh, "DELETE", ACCOUNTS + "/" + account_id(psgh, "corp", "readers"))
    assert r.status_code == 204, r.text
    assert role_ids(psgh, "rita", slapd.passwords["rita"]) == 401
    psgh.restart()
    try:
        r = admin(psgh, "GET", ACCOUNTS + "/" + rid, params={"select": "role_id,domain_id"})
        assert r.json() == {"role_id": "2", "domain_id": "kept"}, r.text
        assert role_ids(psgh, "olly@kept", slapd.passwords["olly"]) == ["2"]
        assert role_ids(psgh, "rita", slapd.passwords["rita"]) == 401
    finally:
        admin(psgh, "DELETE", DOMAINS + "/kept")
        r = admin(psgh, "POST", ACCOUNTS, json={"domain_id": "corp", "name": "readers",
                                                 "type": "Group", "role_id": "3"})
        assert r.status_code == 201, r.text
    assert role_ids(psgh, "rita", slapd.passwords["rita"]) == ["3"]


def test_changes_need_an_administrator(psgh, slapd):
    viewer = basic("viewer", psgh.users["viewer"])
    for method, path, body in (
            ("POST", DOMAINS, lab_body(slapd, "nope")),
            ("PATCH", DOMAINS + "/corp", {"ldap_timeout": 2000}),
            ("DELETE", DOMAINS + "/corp", None),
            ("POST", DOMAINS + "/corp/verify", None),
            ("POST", ACCOUNTS, {"domain_id": "corp", "name": "others", "type": "Group",
                                "role_id": "1"}),
            ("DELETE", ACCOUNTS + "/" + account_id(psgh, "corp", "admins"), None)):
        r = psgh.request(method, path, headers=viewer, json=body)
        ps_error(r, 403, "0xE1403002")
    # a directory Operator (Storage Administrator) may not either
    r = psgh.request("PATCH", DOMAINS + "/corp", headers=basic("olly", slapd.passwords["olly"]),
                     json={"ldap_timeout": 2000})
    ps_error(r, 403, "0xE1403002")
    assert admin(psgh, "GET", DOMAINS + "/nope").status_code == 404


def test_cookie_session_needs_the_token(psgh, slapd):
    s = psgh.session()
    r = s.get(psgh.url + LOGIN, headers=basic("admin", psgh.admin_password), timeout=10)
    assert r.status_code == 200, r.text
    token = r.headers["DELL-EMC-TOKEN"]
    psgh.secrets.update({token, s.cookies["auth_cookie"]})
    r = s.patch(psgh.url + DOMAINS + "/corp", json={"ldap_timeout": 4000}, timeout=10)
    ps_error(r, 403, "0xE1403001")
    r = s.patch(psgh.url + DOMAINS + "/corp", json={"ldap_timeout": 4000}, timeout=10,
                headers={"DELL-EMC-TOKEN": token})
    assert r.status_code == 204, r.text
    r = s.get(psgh.url + DOMAINS + "/corp", params={"select": "ldap_timeout"}, timeout=10)
    assert r.json() == {"ldap_timeout": 4000}


@pytest.mark.parametrize("path,body,code,arg", [
    (DOMAINS, "not json", "0xE1400002", None),
    (DOMAINS, {"color": "red"}, "0xE1400005", "color"),
    (DOMAINS, {"domain_name": "x"}, "0xE1400006", "ldap_servers"),
    (DOMAINS, {"domain_name": "a b", "ldap_servers": ["h"], "bind_user": "cn=a",
               "bind_password": "pw"}, "0xE1400007", "domain_name"),
    (DOMAINS, {"domain_name": "far", "ldap_servers": ["ldap.example.org"], "protocol": "LDAP",
               "bind_user": "cn=a", "bind_password": "pw"}, "0xE1400010", None),
    (DOMAINS, {"domain_name": "corp", "ldap_servers": ["127.0.0.1"], "bind_user": "cn=a",
               "bind_password": "pw"}, "0xE1422004", "corp"),
    (DOMAINS + "/corp", {"port": 70000}, "0xE1400007", "port"),
    (DOMAINS + "/corp", {"user_object_class": "x)(uid=*"}, "0xE1400007", "user_object_class"),
    (DOMAINS + "/corp", {"domain_name": "other"}, "0xE1400005", "domain_name"),
    (DOMAINS + "/corp", {"is_global_catalog": True}, "0xE1400007", "is_global_catalog"),
    (ACCOUNTS, {"domain_id": "corp", "name": "x", "type": "Group", "role_id": "5"},
     "0xE1400007", "role_id"),
    (ACCOUNTS, {"domain_id": "nowhere", "name": "x", "type": "Group", "role_id": "1"},
     "0xE1400007", "domain_id"),
    (ACCOUNTS, {"domain_id": "corp", "name": "x,dc=evil", "type": "Group", "role_id": "1"},
     "0xE1400007", "name"),
    (ACCOUNTS, {"domain_id": "corp", "name": "x", "type": "Group"}, "0xE1400006", "role_id"),
    (ACCOUNTS, {"domain_id": "corp", "name": "x", "type": "Group", "role_id": 1},
     "0xE1400005", "role_id"),
])
def test_malformed_is_400(psgh, path, body, code, arg):
    method = "PATCH" if path.count("/") == 4 else "POST"
    kw = {"data": body} if isinstance(body, str) else {"json": body}
    r = admin(psgh, method, path, **kw)
    m = ps_error(r, int(code[4:7]), code)
    if arg is not None:
        assert m["arguments"] == [arg], m


def test_bind_password_never_read_back_nor_logged(psgh, slapd):
    pw = "Bind-" + H.new_password("Svc")
    psgh.secrets.add(pw)
    body = lab_body(slapd, "secret", bind_password=pw)
    assert admin(psgh, "POST", DOMAINS, json=body).status_code == 201
    try:
        for path in (DOMAINS, DOMAINS + "/secret", ACCOUNTS):
            r = admin(psgh, "GET", path, params={"select": "*"})
            assert r.status_code == 200, r.text
            assert pw not in r.text and slapd.service_password not in r.text
            assert "bind_password" not in r.text and ".password" not in r.text
        r = admin(psgh, "GET", DOMAINS + "/secret", params={"select": "bind_password"})
        assert r.json() == {}, r.text
    finally:
        admin(psgh, "DELETE", DOMAINS + "/secret")
    # the audit log names the change, never the password (checked again, with
    # nginx's logs, for every secret when the server stops)
    text = psgh.audit_log.read_text(errors="replace")
    assert "secret" in text and pw not in text


# PyPowerStore (github.com/dell/python-powerstore; utils/constants.py and
# configuration.py, the "LDAP Domain" and "LDAP Account" operations), as
# ProgrammersGuideExamples/ldap_domain_examples.py and ldap_account_examples.py
# call them; replayed with test_powerstore_clients.py's PowerStoreClient (the
# library is no Debian package).
LDAP_DOMAIN_DETAILS_QUERY = {
    "select": "id,domain_name,ldap_servers,port,ldap_server_type,protocol,bind_user,"
              "ldap_timeout,is_global_catalog,user_id_attribute,user_object_class,"
              "user_search_path,group_name_attribute,group_member_attribute,"
              "group_object_class,group_search_path,group_search_level,"
              "ldap_server_type_l10n,protocol_l10n"}
LDAP_ACCOUNT_DETAILS_QUERY = {"select": "id,role_id,domain_id,name,type,type_l10n,dn"}


def test_pypowerstore_ldap_sequence(psgh, slapd):
    from test_powerstore_clients import PyPowerStoreReplay

    c = PyPowerStoreReplay(psgh, "admin", psgh.admin_password)
    # create_ldap_domain_configuration, verify_ldap_domain_configuration,
    # modify_ldap_domain_configuration
    body = lab_body(slapd, "py.example.org")
    body.pop("ldap_timeout")
    body["is_global_catalog"] = False
    made = c.request("POST", DOMAINS, payload=body)
    assert made == {"id": "py.example.org"}
    assert c.request("POST", DOMAINS + "/py.example.org/verify") is None
    assert c.request("PATCH", DOMAINS + "/py.example.org",
                     payload={"ldap_server_type": "AD"}) is None
    # get_ldap_domain_configuration_list, _details, _details_by_name
    listed = c.request("GET", DOMAINS, querystring=LDAP_DOMAIN_DETAILS_QUERY)
    assert {d["id"] for d in listed} >= {"corp", "py.example.org"}
    assert all(set(d) == set(LDAP_DOMAIN_DETAILS_QUERY["select"].split(",")) for d in listed)
    got = c.request("GET", DOMAINS + "/py.example.org", querystring=LDAP_DOMAIN_DETAILS_QUERY)
    assert got["ldap_server_type"] == "AD" and got["ldap_server_type_l10n"] == "AD"
    assert got["protocol"] == "LDAP" and got["ldap_servers"] == ["127.0.0.1"]
    assert got["ldap_timeout"] == 5000 and got["group_search_level"] == 0
    by_name = c.request("GET", DOMAINS, querystring={
        **LDAP_DOMAIN_DETAILS_QUERY, "domain_name": "eq.py.example.org"})
    assert [d["id"] for d in by_name] == ["py.example.org"]
    # create_ldap_account, modify_ldap_account_details, get_ldap_account_list,
    # get_ldap_account_details, delete_ldap_account
    acc = c.request("POST", ACCOUNTS, payload={"domain_id": "py.example.org",
                                                 "name": "operators", "type": "Group",
                                                 "role_id": "1"})
    assert acc["id"].isdigit()
    assert c.request("PATCH", ACCOUNTS + "/" + acc["id"], payload={"role_id": "2"}) is None
    accounts = c.request("GET", ACCOUNTS, querystring=LDAP_ACCOUNT_DETAILS_QUERY)
    mine = [a for a in accounts if a["id"] == acc["id"]]
    assert mine == [{"id": acc["id"], "role_id": "2", "domain_id": "py.example.org",
                     "name": "operators", "type": "Group", "type_l10n": "Group",
                     "dn": group_dn("operators")}], accounts
    assert c.request("GET", ACCOUNTS + "/" + acc["id"],
                     querystring=LDAP_ACCOUNT_DETAILS_QUERY) == mine[0]
    assert role_ids(psgh, "olly@py.example.org", slapd.passwords["olly"]) == ["2"]
    assert c.request("DELETE", ACCOUNTS + "/" + acc["id"]) is None
    # delete_ldap_domain_configuration
    assert c.request("DELETE", DOMAINS + "/py.example.org") is None
    assert c.logout_session().status_code == 204
