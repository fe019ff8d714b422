"""No password is left in an nginx worker's memory once the request that
carried it has ended: the request body (a Redfish login, an oVirt SSO form, a
new account's password) and the Authorization header's value are wiped when
the request's pool goes (src/nginx/ngx_http_gatehouse_request.c), on the
refusal path as on success.

How: each request carries a password made for it, over a connection the
client closes; then the test reads every worker's memory through
/proc/PID/mem (a worker is our own descendant, running as our user) and
waits, with a bound, until the password is nowhere in it: not in a live
buffer, not in memory already freed, in either form it arrived in (as sent,
and base64 in a Basic header).

What it cannot see: copies outside the worker's readable mappings (the
kernel's socket buffers), and it skips the sanitizer build, whose allocator
reserves terabytes of address space no test can read. The ASan run still
checks that the wipe touches no freed memory (every other test)."""

import base64
import secrets
import time
import urllib.parse

import pytest

from gatehouse_harness import SANITIZE

pytestmark = pytest.mark.skipif(
    SANITIZE, reason="ASan's allocator maps terabytes: a worker's memory cannot be read whole")

# How long the worker may take to end a request after the client has its
# answer (the pool goes when nginx closes the connection).
WIPE_WAIT = 10

SESSIONS = "/redfish/v1/SessionService/Sessions"
ACCOUNTS = "/redfish/v1/AccountService/Accounts"
SSO_TOKEN = "/ovirt-engine/sso/oauth/token"


def _regions(pid, max_size=1 << 30):
    """The readable mappings of pid, but the kernel's own pages."""
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            parts = line.split()
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            name = parts[5] if len(parts) > 5 else ""
            if "r" in parts[1] and name not in ("[vvar]", "[vsyscall]") and hi - lo <= max_size:
                yield lo, hi, name


def _found(gh, needles):
    """{needle: [(pid, mapping)]} for each needle in some worker's memory."""
    where = {}
    for pid in gh.worker_pids():
        try:
            mem = open(f"/proc/{pid}/mem", "rb", 0)
        except OSError:
            continue          # the worker is gone
        with mem:
            for lo, hi, name in _regions(pid):
                try:
                    mem.seek(lo)
                    data = mem.read(hi - lo)
                except OSError:
                    continue
                for n in needles:
                    if n in data:
                        where.setdefault(n, []).append((pid, name))
    return where


def _assert_gone(gh, *texts):
    needles = [t.encode() for t in texts]
    deadline = time.monotonic() + WIPE_WAIT
    while True:
        where = _found(gh, needles)
        if not where:
            return
        if time.monotonic() > deadline:
            pytest.fail("still in a worker's memory after the request ended: "
                        + "; ".join(f"{n.decode()!r} in {w}" for n, w in where.items()))
        time.sleep(0.05)


def _password(gh, what):
    pw = f"Mw{what}{secrets.token_hex(12)}"
    gh.secrets.add(pw)
    return pw


def test_login_body(fresh):
    pw = _password(fresh, "login")
    fresh.add_user("probe", "ReadOnly", pw)
    r = fresh.request("POST", SESSIONS, json={"UserName": "probe", "Password": pw})
    assert r.status_code == 201, r.text
    fresh.secrets.add(r.headers["X-Auth-Token"])
    _assert_gone(fresh, pw)


def test_login_body_refused(fresh):
    pw = _password(fresh, "wrong")
    r = fresh.request("POST", SESSIONS, json={"UserName": "admin", "Password": pw})
    assert r.status_code == 401, r.text
    _assert_gone(fresh, pw)


@pytest.mark.parametrize("known", [False, True], ids=["refused", "accepted"])
def test_basic_header(fresh, known):
    pw = _password(fresh, "basic")
    user = "probe" if known else "admin"
    if known:
        fresh.add_user(user, "ReadOnly", pw)
    encoded = base64.b64encode(f"{user}:{pw}".encode()).decode()
    fresh.secrets.add(encoded)
    r = fresh.request("GET", "/redfish/v1/Systems", auth=(user, pw))
    assert r.status_code == (200 if known else 401), r.text
    _assert_gone(fresh, pw, encoded)


def test_new_account_password(fresh):
    pw = _password(fresh, "new")
    with fresh.admin() as s:
        r = s.post(fresh.url + ACCOUNTS, timeout=10,
                   json={"UserName": "newone", "Password": pw, "RoleId": "ReadOnly"})
    assert r.status_code == 201, r.text
    _assert_gone(fresh, pw)


def test_ovirt_sso_form(fresh):
    pw = _password(fresh, "sso")
    fresh.add_user("probe", "ReadOnly", pw)
    form = {"grant_type": "password", "username": "probe@internal", "password": pw,
            "scope": "ovirt-app-api"}
    r = fresh.request("POST", SSO_TOKEN, data=form, headers={"Accept": "application/json"})
    assert r.status_code == 200, r.text
    fresh.secrets.add(r.json()["access_token"])
    # A form sends the password percent-encoded: the token hex needs none.
    assert urllib.parse.quote_plus(pw) == pw
    _assert_gone(fresh, pw)

