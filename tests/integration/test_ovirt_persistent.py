"""oVirt persistent-auth sessions over real HTTPS: the JSESSIONID cookie,
using it without credentials, Session-TTL, ending a session by leaving the
preference out or by Prefer: new-auth, the idle timeout from the
configuration, a client's cookie jar after its session is gone, CSRF
protection, and sessions surviving a restart."""

import time

import requests

from gatehouse_harness import IDLE_MARGIN, wait_for
from ovirt_util import API, bearer, cookie_value, get_token, xml_of


def open_session(gh, user="admin", headers=None, auth=None):
    """A persistent-auth session by Basic user@internal; returns its cookie value."""
    h = {"Prefer": "persistent-auth", **(headers or {})}
    r = gh.request("HEAD", API, auth=auth or (f"{user}@internal", gh.users[user]), headers=h)
    assert r.status_code == 200, r.text
    value = cookie_value(r.headers.get("Set-Cookie"))
    gh.secrets.add(value)
    return value, r


def with_cookie(gh, value, method="GET", path=API + "/vms", prefer="persistent-auth", **kw):
    headers = {"Cookie": f"JSESSIONID={value}", **kw.pop("headers", {})}
    if prefer is not None:
        headers["Prefer"] = prefer
    return gh.request(method, path, headers=headers, **kw)


def test_cookie_attributes(server):
    value, r = open_session(server)
    set_cookie = r.headers["Set-Cookie"]
    assert set_cookie == f"JSESSIONID={value}; Path=/ovirt-engine/api; Secure; HttpOnly"
    assert len(value) == 64
    with_cookie(server, value, prefer=None)   # closes it


def test_cookie_needs_no_credentials_and_opens_nothing_more(server):
    value, _ = open_session(server, "reader")
    before = server.sessions_server_side()
    for _ in range(3):
        r = with_cookie(server, value)
        assert r.status_code == 200
        assert "Set-Cookie" not in r.headers
    # The client's Basic credentials along with it change nothing.
    r = with_cookie(server, value, auth=("reader@internal", server.users["reader"]))
    assert r.status_code == 200 and "Set-Cookie" not in r.headers
    assert server.sessions_server_side() == before
    # The session is the reader's: no summary in the root.
    r = with_cookie(server, value, path=API, headers={"Accept": "application/json"})
    assert "summary" not in r.json()
    with_cookie(server, value, prefer=None)


def test_without_the_preference_the_session_ends(server):
    value, _ = open_session(server)
    before = server.sessions_server_side()
    r = with_cookie(server, value, prefer=None, path=API)
    assert r.status_code == 200
    assert xml_of(r).tag == "api"
    assert "Max-Age=0" in r.headers["Set-Cookie"]
    assert len(server.sessions_server_side()) == len(before) - 1
    r = with_cookie(server, value)
    assert r.status_code == 401


def test_new_auth(server):
    old, _ = open_session(server)
    auth = ("admin@internal", server.admin_password)
    r = with_cookie(server, old, prefer="persistent-auth, new-auth", auth=auth)
    assert r.status_code == 200
    fresh = cookie_value(r.headers["Set-Cookie"])
    server.secrets.add(fresh)
    assert fresh != old
    assert with_cookie(server, old).status_code == 401
    assert with_cookie(server, fresh).status_code == 200
    # new-auth with the cookie alone: served, then ended.
    assert with_cookie(server, fresh, prefer="persistent-auth, new-auth").status_code == 200
    assert with_cookie(server, fresh).status_code == 401


def test_bearer_opens_one_too(server):
    token = get_token(server, "operator@internal")
    r = server.get(API + "/hosts", headers=bearer(token, Prefer="persistent-auth"))
    assert r.status_code == 200
    value = cookie_value(r.headers["Set-Cookie"])
    server.secrets.add(value)
    assert with_cookie(server, value).status_code == 200
    with_cookie(server, value, prefer=None)
    assert server.get(API, headers=bearer(token)).status_code == 200


def test_a_cookie_jar_recovers_from_a_dead_session(server):
    """requests keeps cookies as a browser would: when the session is gone, the
    refusal expires the cookie, so a retry with credentials opens a new one."""
    s = server.session(auth=("admin@internal", server.admin_password))
    s.headers["Prefer"] = "persistent-auth"
    with s:
        r = s.head(server.url + API, timeout=10)
        value = cookie_value(r.headers["Set-Cookie"])
        server.secrets.add(value)
        assert s.cookies.get("JSESSIONID") == value
        # End it behind the client's back.
        assert with_cookie(server, value, prefer=None).status_code == 200
        r = s.get(server.url + API + "/vms", timeout=10)
        assert r.status_code == 401
        assert s.cookies.get("JSESSIONID") is None
        r = s.get(server.url + API + "/vms", timeout=10)
        assert r.status_code == 200
        fresh = cookie_value(r.headers["Set-Cookie"])
        server.secrets.add(fresh)
        assert fresh != value
        s.headers.pop("Prefer")
        assert s.get(server.url + API, timeout=10).status_code == 200


def opened(gh, **kw):
    """open_session, and the session's path in the administrator's list."""
    before = gh.sessions_server_side()
    value, _ = open_session(gh, **kw)
    (path,) = gh.sessions_server_side() - before
    return value, path


def wait_ended(gh, path, idle):
    """Wait until the session at path has ended by its idle time, looking
    at the administrator's list, which uses no session."""
    wait_for(lambda: path not in gh.sessions_server_side(), idle + 1 + IDLE_MARGIN,
             f"the session idle for {idle} s ended", interval=0.1)


def test_idle_timeout(make_server):
    # Times are whole seconds, so an idle time over the timeout less 1 s may
    # already end a session: a use 1 s after the start, with a timeout of 3 s,
    # leaves a second to a slow machine.
    gh = make_server(config={"ovirt": {"token_idle_timeout": 3}})
    value, path = opened(gh)
    time.sleep(1)     # idle time passing is what is tested
    assert with_cookie(gh, value).status_code == 200
    wait_ended(gh, path, 3)
    assert with_cookie(gh, value).status_code == 401


def test_session_ttl(make_server):
    # token_idle_timeout of 2 s would end it; Session-TTL: 1 (minute) keeps it.
    gh = make_server(config={"ovirt": {"token_idle_timeout": 2}})
    value, _ = opened(gh, headers={"Session-TTL": "1"})
    # An unreadable Session-TTL is ignored, as the engine ignores it: the
    # session opened after the first ends by the idle timeout...
    other, other_path = opened(gh, headers={"Session-TTL": "soon"})
    wait_ended(gh, other_path, 2)
    assert with_cookie(gh, other).status_code == 401
    # ...while the first, idle longer, lives on.
    assert with_cookie(gh, value).status_code == 200


def test_sessions_survive_a_restart(make_server):
    gh = make_server()
    value, _ = open_session(gh)
    gh.restart()
    assert with_cookie(gh, value).status_code == 200


def test_csrf_protection(make_server):
    gh = make_server(config={"ovirt": {"csrf_protection": "true"}})
    value, _ = open_session(gh, headers={"Prefer": "persistent-auth, csrf-protection"})
    assert len(value) > 64
    assert with_cookie(gh, value).status_code == 200
    r = with_cookie(gh, value, method="POST", data="<vm/>",
                    headers={"Content-Type": "application/xml"})
    assert r.status_code == 403
    r = with_cookie(gh, value, method="DELETE", headers={"JSESSIONID": "not-it"})
    assert r.status_code == 403
    r = with_cookie(gh, value, method="POST", data="<vm/>",
                    headers={"Content-Type": "application/xml", "JSESSIONID": value})
    assert r.status_code == 405     # past CSRF, to the read-only API
    # Without the switch the preference is ignored: a plain cookie.
    plain, _ = open_session(gh)
    assert len(plain) == 64
    r = with_cookie(gh, plain, method="POST", data="<vm/>")
    assert r.status_code == 405


def test_csrf_preference_ignored_when_switched_off(server):
    value, _ = open_session(server, headers={"Prefer": "persistent-auth, csrf-protection"})
    assert len(value) == 64
    assert with_cookie(server, value, method="DELETE").status_code == 405
    with_cookie(server, value, prefer=None)


def test_cookie_over_plain_http_goes_nowhere(server):
    value, _ = open_session(server)
    r = requests.get(server.http_url + API, headers={"Cookie": f"JSESSIONID={value}",
                                                     "Prefer": "persistent-auth"},
                     timeout=10, allow_redirects=False)
    assert r.status_code == 301
    with_cookie(server, value, prefer=None)
