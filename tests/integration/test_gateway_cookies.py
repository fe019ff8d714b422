"""Cookie sessions of PowerStore and oVirt in gateway mode as `gatehouse
serve` writes it (`[server] upstream` = upstream_recorder.py): a cookie
session's unsafe method without its CSRF token is refused in the dialect's
format and never arrives, with it the request arrives without the cookie and
the token; oVirt's persistent-auth cookie is set on the upstream's own
answer, then accepted alone."""

import pytest

import gatehouse_harness as H
from ovirt_util import API as OVIRT_API, cookie_value
from upstream_recorder import UpstreamRecorder

PS = "/api/rest"


@pytest.fixture(scope="module")
def upstream():
    up = UpstreamRecorder().start()
    yield up
    up.stop()


def arrived(upstream, method, path):
    return [r for r in upstream.snapshot() if r.method == method and r.path == path]


def lower_names(rec):
    return [n.lower() for n in rec.header_names()]


def identity(rec, name):
    return rec.values("X-Gatehouse-" + name)


def test_powerstore_csrf_on_a_cookie_session(make_server, upstream):
    gh = make_server(config={"server": {"upstream": upstream.url}})
    s = gh.session(auth=("admin", gh.admin_password))
    r = s.get(gh.url + PS + "/login_session", timeout=10)
    assert r.status_code == 200, r.text
    token, cookie = r.headers["DELL-EMC-TOKEN"], s.cookies["auth_cookie"]
    gh.secrets.update({token, cookie})
    s.auth = None                      # the cookie alone from here on
    for method in ("POST", "PATCH", "DELETE"):
        path = f"{PS}/volume/csrf-{method.lower()}"
        r = s.request(method, gh.url + path, json={"size": 1}, timeout=10)
        assert r.status_code == 403, r.text
        assert r.json()["messages"][0]["code"] == "0xE1403001", r.text
        assert not arrived(upstream, method, path)
    path = PS + "/volume/csrf-ok"
    r = s.post(gh.url + path, json={"size": 1}, headers={"DELL-EMC-TOKEN": token}, timeout=10)
    assert r.status_code == 200 and r.json()["method"] == "POST", r.text
    (rec,) = arrived(upstream, "POST", path)
    assert "dell-emc-token" not in lower_names(rec) and "cookie" not in lower_names(rec)
    assert identity(rec, "User") == ["admin"] and identity(rec, "Dialect") == ["powerstore"]
    assert identity(rec, "Session")[0] != ""
    # a read needs no token, and the answer carries the session's
    r = s.get(gh.url + PS + "/volume/read", timeout=10)
    assert r.status_code == 200 and r.headers["DELL-EMC-TOKEN"] == token


def test_ovirt_persistent_auth_cookie_and_csrf(make_server, upstream):
    gh = make_server(config={"server": {"upstream": upstream.url},
                             "ovirt": {"csrf_protection": "true"}})
    creds = ("admin@internal", gh.admin_password)
    # Basic with Prefer: persistent-auth: the upstream answers, gatehouse
    # adds the session's cookie to that answer
    r = gh.request("GET", OVIRT_API + "/vms/open", auth=creds,
                   headers={"Prefer": "persistent-auth"})
    assert r.status_code == 200 and r.json()["path"] == OVIRT_API + "/vms/open", r.text
    value = cookie_value(r.headers.get("Set-Cookie"))
    gh.secrets.add(value)
    (rec,) = arrived(upstream, "GET", OVIRT_API + "/vms/open")
    # authenticated by Basic: no session named, though one was opened
    assert identity(rec, "Session") == [""] and "authorization" not in lower_names(rec)
    # the cookie alone is then accepted, and never passed on
    jar = {"Cookie": f"JSESSIONID={value}; other=1", "Prefer": "persistent-auth"}
    r = gh.request("GET", OVIRT_API + "/vms/again", headers=jar)
    assert r.status_code == 200 and "Set-Cookie" not in r.headers, r.text
    (rec,) = arrived(upstream, "GET", OVIRT_API + "/vms/again")
    assert rec.values("Cookie") == ["other=1"]
    assert identity(rec, "User") == ["admin"]
    (session,) = identity(rec, "Session")
    assert session and session.lower() in gh.cli("session", "list").stdout.lower()
    # a CSRF-protected session: its unsafe methods need the id in JSESSIONID
    r = gh.request("HEAD", OVIRT_API, auth=creds,
                   headers={"Prefer": "persistent-auth, csrf-protection"})
    protected = cookie_value(r.headers.get("Set-Cookie"))
    gh.secrets.add(protected)
    jar = {"Cookie": f"JSESSIONID={protected}", "Prefer": "persistent-auth",
           "Content-Type": "application/xml"}
    for extra in ({}, {"JSESSIONID": "not-it"}):
        path = OVIRT_API + f"/vms/csrf{len(extra)}"
        r = gh.request("POST", path, data="<vm/>", headers={**jar, **extra})
        assert r.status_code == 403, r.text
        assert not arrived(upstream, "POST", path)
    path = OVIRT_API + "/vms/csrf-ok"
    r = gh.request("POST", path, data="<vm/>", headers={**jar, "JSESSIONID": protected})
    assert r.status_code == 200, r.text
    (rec,) = arrived(upstream, "POST", path)
    assert "jsessionid" not in lower_names(rec) and "cookie" not in lower_names(rec)
    assert protected not in str(rec.headers)
    # without the preference the session ends, on the upstream's answer too
    r = gh.request("GET", OVIRT_API + "/vms/bye", headers={"Cookie": f"JSESSIONID={value}"})
    assert r.status_code == 200, r.text
    assert "JSESSIONID=;" in r.headers.get("Set-Cookie", "") or \
        "Max-Age=0" in r.headers.get("Set-Cookie", ""), r.headers
    r = gh.request("GET", OVIRT_API + "/vms/after", headers={"Cookie": f"JSESSIONID={value}",
                                                            "Prefer": "persistent-auth"})
    assert r.status_code == 401 and not arrived(upstream, "GET", OVIRT_API + "/vms/after")
