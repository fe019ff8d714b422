"""Live sessions of directory users rechecked (docs/directory.md, "Live
sessions rechecked"), against a real slapd (slapd_server.py) that logs each
operation: a user moved to another group has the session's role change, a
user deleted, disabled or left in no mapped group loses the sessions (Redfish
and oVirt alike), the recheck asks the directory once per interval for the
whole server (four workers here), and a directory that stops answering keeps
the sessions one more interval, then ends them."""

import json
import os
import re
import time

import pytest

import gatehouse_harness as H
from conftest import _finish
from slapd_server import Slapd, group_dn, user_dn
from test_directory import _directory_server, basic

ACCOUNT_SERVICE = "/redfish/v1/AccountService"
SYSTEMS = "/redfish/v1/Systems"
OVIRT_TOKEN = "/ovirt-engine/sso/oauth/token"
OVIRT_API = "/ovirt-engine/api"
PATCH_BODY = {"AccountLockoutThreshold": 0}
INTERVAL = 1
# How long a change may take to show: the interval, one more tick of the
# upkeep, and room for a loaded machine and the sanitizer build.
SHOWS_WITHIN = INTERVAL + 15


@pytest.fixture(scope="module")
def slapd(base_dir):
    s = Slapd(base_dir / f"slapd-recheck-{os.getpid()}-{time.monotonic_ns()}", debug="stats")
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def rgh(base_dir, slapd):
    """Four workers, the profile rechecking its users every second."""
    gh = _directory_server(base_dir, slapd, "recheck", lockout=0,
                           profiles=H.merge_config({"server": {"workers": 4}},
                                                   slapd.profile("corp",
                                                                 recheck_interval=INTERVAL)))
    yield gh
    _finish(gh)


def modify(slapd, dn, *changes):
    slapd.modify(f"dn: {dn}\nchangetype: modify\n" + "-\n".join(changes))


def audit_records(gh):
    return [json.loads(line) for line in gh.audit_log.read_text(errors="replace").splitlines()
            if line.strip()]


def revoked_by_recheck(gh, user):
    return [r for r in audit_records(gh)
            if r.get("event") == "revoked" and r.get("user") == user
            and "directory recheck" in (r.get("detail") or "")]


def ovirt_token(gh, user, password):
    r = gh.request("POST", OVIRT_TOKEN, headers={"Accept": "application/json"},
                   data={"grant_type": "password", "scope": "ovirt-app-api",
                         "username": user, "password": password})
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    gh.secrets.add(token)
    return token


def ovirt_get(gh, token):
    return gh.request("GET", OVIRT_API, headers={"Authorization": f"Bearer {token}",
                                                 "Accept": "application/json"}).status_code


def test_moved_user_session_takes_the_new_role(rgh, slapd):
    """ReadOnly, then Administrator, then in no mapped group: the live
    session follows each change without a new login, then ends."""
    token, _, _, _ = rgh.login("mova", slapd.passwords["mova"])
    s = rgh.session(token=token)
    H.assert_redfish_error(s.patch(rgh.url + ACCOUNT_SERVICE, json=PATCH_BODY, timeout=10),
                           403, "InsufficientPrivilege")
    modify(slapd, group_dn("admins"), f"add: member\nmember: {user_dn('mova')}\n")
    H.wait_for(lambda: s.patch(rgh.url + ACCOUNT_SERVICE, json=PATCH_BODY,
                               timeout=10).status_code in (200, 204),
               SHOWS_WITHIN, "the live session taking the role of its new group", interval=0.1)
    assert any(r.get("event") == "account_changed" and r.get("method") == "directory recheck"
               and r.get("detail") == "role Administrator" for r in audit_records(rgh))
    modify(slapd, group_dn("admins"), f"delete: member\nmember: {user_dn('mova')}\n")
    modify(slapd, group_dn("readers"), f"delete: member\nmember: {user_dn('mova')}\n")
    modify(slapd, group_dn("others"), f"add: member\nmember: {user_dn('mova')}\n")
    H.wait_for(lambda: s.get(rgh.url + SYSTEMS, timeout=10).status_code == 401, SHOWS_WITHIN,
               "the session of a user in no mapped group refused", interval=0.1)
    assert any("in no group mapped to a role" in r["detail"]
               for r in revoked_by_recheck(rgh, "mova@corp"))


def test_deleted_user_loses_redfish_and_ovirt_sessions(rgh, slapd):
    pw = slapd.passwords["gone"]
    token, _, _, _ = rgh.login("gone", pw)
    s = rgh.session(token=token)
    bearer = ovirt_token(rgh, "gone@corp", pw)
    assert s.get(rgh.url + SYSTEMS, timeout=10).status_code == 200
    assert ovirt_get(rgh, bearer) == 200
    slapd.modify(f"dn: {user_dn('gone')}\nchangetype: delete\n")
    H.wait_for(lambda: s.get(rgh.url + SYSTEMS, timeout=10).status_code == 401
               and ovirt_get(rgh, bearer) == 401, SHOWS_WITHIN,
               "the deleted user's Redfish session and oVirt token refused", interval=0.1)
    # a Basic credential cached before is dropped with them
    assert rgh.request("GET", SYSTEMS, headers=basic("gone", pw)).status_code == 401
    details = [r["detail"] for r in revoked_by_recheck(rgh, "gone@corp")]
    assert len(details) == 2, details
    assert all("no such directory user" in d for d in details), details


def test_disabled_user_loses_the_session(rgh, slapd):
    """The test tree disables a user with employeeType: disabled, which the
    profile's user_filter leaves out."""
    token, _, _, _ = rgh.login("olly", slapd.passwords["olly"])
    s = rgh.session(token=token)
    assert s.get(rgh.url + SYSTEMS, timeout=10).status_code == 200
    modify(slapd, user_dn("olly"), "add: employeeType\nemployeeType: disabled\n")
    H.wait_for(lambda: s.get(rgh.url + SYSTEMS, timeout=10).status_code == 401, SHOWS_WITHIN,
               "the disabled user's session refused", interval=0.1)
    assert revoked_by_recheck(rgh, "olly@corp")


def _user_searches(slapd, uid):
    """slapd's times (seconds) of each search for uid's entry: the login's
    and the rechecks' (a group search has another base)."""
    text = slapd.log_path.read_text(errors="replace")
    pat = re.compile(r"^([0-9a-f]+)\.([0-9a-f]+) \S+ conn=\d+ op=\d+ SRCH "
                     r'base="ou=people,dc=example,dc=org" .*\(uid=' + re.escape(uid) + r"\)\)\"$",
                     re.M)
    return [int(m.group(1), 16) + int(m.group(2), 16) / 1e9 for m in pat.finditer(text)]


def test_recheck_is_once_per_interval_for_the_server(rgh, slapd):
    """Four workers each run the upkeep every second: the directory is still
    asked about a user once per interval, not once per worker."""
    rgh.login("rita", slapd.passwords["rita"])
    before = len(_user_searches(slapd, "rita"))
    H.wait_for(lambda: len(_user_searches(slapd, "rita")) >= before + 6, 30,
               "six rechecks of the user", interval=0.1)
    times = _user_searches(slapd, "rita")[before:]
    gaps = [b - a for a, b in zip(times, times[1:])]
    # Per worker, four searches would come within a second of each other.
    assert min(gaps) >= INTERVAL * 0.5, gaps


def test_directory_down_keeps_sessions_one_more_interval(base_dir, slapd):
    """slapd stopped: a live session goes on through one missed recheck (the
    directory may be down for a moment), then ends: a user removed while the
    directory does not answer is not let in for longer."""
    interval = 3
    gh = _directory_server(base_dir, slapd, "recheck-down", lockout=0,
                           profiles=slapd.profile("corp", recheck_interval=interval))
    try:
        token, _, _, _ = gh.login("dana", slapd.passwords["dana"])
        s = gh.session(token=token)
        # a recheck has answered for the user
        H.wait_for(lambda: len(_user_searches(slapd, "dana")) >= 2, 30,
                   "a recheck of the user", interval=0.1)
        slapd.stop()
        try:
            # The last answer was at most an interval and a tick ago; the
            # session has at least about one more interval to run.
            assert s.get(gh.url + SYSTEMS, timeout=10).status_code == 200
            H.wait_for(lambda: s.get(gh.url + SYSTEMS, timeout=10).status_code == 401,
                       2 * interval + 15, "the session ended with the directory down",
                       interval=0.1)
            assert any("directory unavailable" in r["detail"]
                       for r in revoked_by_recheck(gh, "dana@corp"))
            # local accounts go on
            assert gh.request("GET", SYSTEMS,
                              headers=basic("admin", gh.admin_password)).status_code == 200
        finally:
            slapd.start()
    finally:
        _finish(gh)
