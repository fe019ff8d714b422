"""The Active Directory configuration of docs/directory.md, against slapd
holding a tree shaped as Active Directory's (slapd_server.AdSlapd: AD's
attribute names and OIDs, objectClass user and group, CN-named users,
memberOf with direct groups, userAccountControl, a continuation reference
at the domain's root). The profile is the doc's `[directory ad]` block, read
from docs/directory.md here, so the doc and the test cannot drift apart:
only what names this machine (servers, ca, bind_password_file) is replaced.

What slapd cannot show (LDAP signing and channel binding, referrals chased
to other domains, nested groups through LDAP_MATCHING_RULE_IN_CHAIN, the
primary group, objectCategory as a DN) is listed in docs/directory.md."""

import configparser
import os
import re
import socket
import subprocess
import time
from pathlib import Path

import pytest

import gatehouse_harness as H
from conftest import _finish, _new
from slapd_server import AD_DOMAIN, AD_SERVICE_DN, AD_SUFFIX, AdSlapd

DOC = Path(__file__).resolve().parents[2] / "docs" / "directory.md"
REDFISH_SYSTEMS = "/redfish/v1/Systems"
ACCOUNT_SERVICE = "/redfish/v1/AccountService"
OVIRT_TOKEN = "/ovirt-engine/sso/oauth/token"
PS_LOGIN = "/api/rest/login_session"
SITE_KEYS = ("servers", "ca", "bind_password_file")     # what names the doc's site
BITWISE_DISABLED = "(!(userAccountControl:1.2.840.113556.1.4.803:=2))"


def doc_profile():
    """(section name, keys) of the doc's Active Directory ini block."""
    text = DOC.read_text(encoding="utf-8")
    m = re.search(r"^## Active Directory\b[^\n]*\n.*?^```ini\n(.*?)^```", text, re.S | re.M)
    assert m, f"no ini block under '## Active Directory...' in {DOC}"
    cp = configparser.ConfigParser(delimiters=("=",), comment_prefixes=(";", "#"),
                                   interpolation=None)
    cp.optionxform = str
    cp.read_string(m.group(1))
    (section,) = cp.sections()
    return section, dict(cp[section])


def _password_file(slapd, text, name):
    path = slapd.dir / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")
    return path


def _ad_server(base_dir, slapd, prefix, **over):
    """A gatehouse whose one profile is the doc's block, pointed at slapd."""
    section, keys = doc_profile()
    assert all(k in keys for k in SITE_KEYS), keys
    pwfile = _password_file(slapd, slapd.service_password, f"{prefix}.pw")
    keys.update(servers=slapd.ldaps_url, ca=str(slapd.pki.ca), bind_password_file=str(pwfile),
                **over)
    gh = _new(base_dir, prefix, {"lockout": {"lockout_threshold": 0}, section: keys}, True,
              start=False)
    os.chown(pwfile, gh.owner_uid, gh.owner_gid)
    gh.secrets.update(slapd.passwords.values())
    gh.secrets.update((slapd.service_password, slapd.root_password))
    gh.start()
    return gh


@pytest.fixture(scope="module")
def referred():
    """A listening socket of 127.0.0.1 that the tree's continuation
    reference points to, which never accepts: a client chasing the
    reference leaves a connection in its queue."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    s.setblocking(False)
    yield s
    s.close()


@pytest.fixture(scope="module")
def ad(base_dir, referred):
    url = f"ldap://127.0.0.1:{referred.getsockname()[1]}/"
    s = AdSlapd(base_dir / f"slapd-ad-{os.getpid()}-{time.monotonic_ns()}", referral=url)
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def adgh(base_dir, ad):
    """The doc's block as it is: sAMAccountName, the default profile."""
    gh = _ad_server(base_dir, ad, "ad")
    yield gh
    _finish(gh)


@pytest.fixture(scope="module")
def upngh(base_dir, ad):
    """The doc's block with user_attribute = userPrincipalName, as it says."""
    gh = _ad_server(base_dir, ad, "ad-upn", user_attribute="userPrincipalName")
    yield gh
    _finish(gh)


def get(gh, user, password, path=REDFISH_SYSTEMS):
    return gh.request("GET", path, auth=(user, password))


def patch_account_service(gh, user, password):
    return gh.request("PATCH", ACCOUNT_SERVICE, json={"AccountLockoutThreshold": 0},
                      auth=(user, password))


def test_the_doc_block_is_ad_shaped():
    """What the tests below run is the doc's block: AD's attributes and its
    bitwise rule for disabled accounts, the groups of this tree."""
    section, keys = doc_profile()
    assert section == "directory ad"
    assert keys["user_attribute"] == "sAMAccountName"
    assert keys["group_attribute"] == "memberOf"
    assert BITWISE_DISABLED in keys["user_filter"]
    assert keys["user_base"] == AD_SUFFIX and keys["bind_dn"] == AD_SERVICE_DN
    assert keys["default"] == "true"


def test_slapd_shows_ad_answers(ad):
    """The emulation is real: the doc's filter leaves out the accounts with
    bit 2 set (and keeps one with only bit 65536), and a search of the
    domain's root gets a continuation reference, as AD answers."""
    _, keys = doc_profile()
    env = dict(os.environ, LDAPTLS_CACERT=str(ad.pki.ca))
    p = subprocess.run(["ldapsearch", "-x", "-LLL", "-H", ad.ldaps_url, "-D", AD_SERVICE_DN,
                        "-w", ad.service_password, "-b", keys["user_base"], keys["user_filter"],
                        "sAMAccountName"], env=env, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    names = set(re.findall(r"^sAMAccountName: (\S+)$", p.stdout, re.M))
    assert names == {"gatehouse", "ada", "olly", "rudi", "nex", "nest"}
    assert "# refldap://127.0.0.1:" in p.stdout.replace("\n ", "")


def test_logins_by_sam_account_name_and_roles(adgh, ad):
    pw = ad.passwords
    for sam in ("ada", "olly", "rudi", "nex"):
        assert get(adgh, sam, pw[sam]).status_code == 200, sam
    assert patch_account_service(adgh, "ada", pw["ada"]).status_code in (200, 204)
    for sam in ("olly", "rudi"):        # Operator (BMC Operators), ReadOnly (Domain Users)
        H.assert_redfish_error(patch_account_service(adgh, sam, pw[sam]), 403,
                               "InsufficientPrivilege")
    # sAMAccountName matches without regard to case, as on AD
    assert get(adgh, "OLLY", pw["olly"]).status_code == 200


def test_session_and_other_dialects(adgh, ad):
    token, location, body, _ = adgh.login("olly", ad.passwords["olly"])
    assert body["UserName"] == "olly@ad"
    s = adgh.session(token=token)
    assert s.get(adgh.url + REDFISH_SYSTEMS, timeout=10).status_code == 200
    assert s.delete(adgh.url + location, timeout=10).status_code in (200, 204)
    r = adgh.request("POST", OVIRT_TOKEN, headers={"Accept": "application/json"},
                     data={"grant_type": "password", "scope": "ovirt-app-api",
                           "username": "rudi@ad", "password": ad.passwords["rudi"]})
    assert r.status_code == 200, r.text
    adgh.secrets.add(r.json()["access_token"])
    r = adgh.request("GET", PS_LOGIN, auth=("ada", ad.passwords["ada"]))
    assert r.status_code == 200, r.text
    adgh.secrets.add(r.headers["DELL-EMC-TOKEN"])


def test_disabled_by_user_account_control(adgh, ad):
    """ACCOUNTDISABLE (bit 2) refuses the right password, alone (514) or
    with other bits (66050); the doc's filter does it, slapd would bind."""
    for sam in ("dis", "dex"):
        assert get(adgh, sam, ad.passwords[sam]).status_code == 401, sam
        adgh.login(sam, ad.passwords[sam], expect=401)


def test_references_are_not_chased(adgh, ad, referred):
    """Every search of the doc's user_base (the domain's root) gets a
    continuation reference, as on AD (DomainDnsZones, ForestDnsZones,
    Configuration); gatehouse logs in without following it
    (LDAP_OPT_REFERRALS off: on AD, chasing one binds anonymously to
    another server, or waits for it)."""
    for sam in ("ada", "rudi"):
        assert get(adgh, sam, ad.passwords[sam]).status_code == 200, sam
    with pytest.raises(BlockingIOError):
        referred.accept()[0].close()


def test_nested_group_gives_no_role(adgh, ad):
    """nest is in Helpdesk, a member of BMC Operators: memberOf lists direct
    groups only (on AD too), so the nested membership maps to no role."""
    assert get(adgh, "nest", ad.passwords["nest"]).status_code == 401


def test_wrong_passwords_and_injection(adgh, ad):
    pw = ad.passwords
    assert get(adgh, "ada", pw["olly"]).status_code == 401
    for name in ("*", "ada)(sAMAccountName=*", "*)(|(objectClass=*", "a*"):
        assert get(adgh, name, pw["ada"]).status_code == 401, name
    # the user principal name is not this profile's name attribute
    assert get(adgh, f"ada@{AD_DOMAIN}", pw["ada"]).status_code == 401


def test_logins_by_user_principal_name(upngh, ad):
    """user_attribute = userPrincipalName: NAME@corp.example.com, whose
    domain names no profile, goes whole to the default profile."""
    pw = ad.passwords
    assert get(upngh, f"olly@{AD_DOMAIN}", pw["olly"]).status_code == 200
    assert patch_account_service(upngh, f"ada@{AD_DOMAIN}", pw["ada"]).status_code in (200, 204)
    token, _, body, _ = upngh.login(f"rudi@{AD_DOMAIN}", pw["rudi"])
    assert body["UserName"] == f"rudi@{AD_DOMAIN}@ad"
    r = upngh.request("GET", PS_LOGIN, auth=(f"olly@{AD_DOMAIN}", pw["olly"]))
    assert r.status_code == 200, r.text
    upngh.secrets.add(r.headers["DELL-EMC-TOKEN"])
    assert get(upngh, "olly", pw["olly"]).status_code == 401       # not a sAMAccountName here
    assert get(upngh, f"dis@{AD_DOMAIN}", pw["dis"]).status_code == 401
    assert get(upngh, f"olly@{AD_DOMAIN}", pw["ada"]).status_code == 401
