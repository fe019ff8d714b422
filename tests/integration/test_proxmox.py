"""The Proxmox VE dialect (/api2/json) against its real client and curl.

- python3-proxmoxer (Debian, 1.2), unchanged: a password login (a form POST
  of /access/ticket, then the PVEAuthCookie cookie, and the
  CSRFPreventionToken header on every request but GET), its ticket renewal
  (the ticket posted as the password once renew_age has passed), API tokens
  (Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET) and their
  management through /access/users/{userid}/token/{tokenid}.
- Raw requests and the real curl binary: what a client sends by hand, the
  refusals in Proxmox VE's form (the status line says why, the body is
  {"data": null}), a write with only the cookie refused for want of the CSRF
  token.
"""

import re
import subprocess

import pytest
import requests
from proxmoxer import ProxmoxAPI
from proxmoxer.backends.https import AuthenticationError
from proxmoxer.core import ResourceException

API = "/api2/json"
TICKET_RE = re.compile(r"^PVE:([^:]+):([0-9A-F]{8})::[0-9a-f]{64}$")


def pve(gh, user="admin", password=None, realm="pam", **kw):
    """A proxmoxer client logged in with a password (or kw: an API token)."""
    password = gh.users[user] if password is None and "token_name" not in kw else password
    if password is not None:
        kw["password"] = password
    api = ProxmoxAPI(f"127.0.0.1:{gh.port}", user=f"{user}@{realm}", verify_ssl=gh.ca,
                     timeout=10, **kw)
    # closed with the server's other client sessions (close_sessions)
    gh.client_sessions.append(api._store["session"])
    auth = api._backend.auth
    if hasattr(auth, "pve_auth_ticket"):
        gh.secrets.update({auth.pve_auth_ticket, auth.csrf_prevention_token})
    return api


def raw_login(gh, user="admin", realm="pam", password=None, **kw):
    password = gh.users[user] if password is None else password
    r = gh.request("POST", API + "/access/ticket",
                   data={"username": f"{user}@{realm}", "password": password}, **kw)
    if r.status_code == 200:
        d = r.json()["data"]
        gh.secrets.update({d["ticket"], d["CSRFPreventionToken"]})
    return r


def token_create(gh, api, user, tokenid, **params):
    d = api.access.users(f"{user}@pam").token(tokenid).post(**params)
    gh.secrets.add(d["value"])
    return d


# ------------------------------------------------------------------ proxmoxer

def test_password_login_and_reads(server):
    api = pve(server)
    ticket, csrf = api.get_tokens()
    m = TICKET_RE.match(ticket)
    assert m and m.group(1) == "admin@pam", ticket
    assert re.match(r"^[0-9A-F]{8}:[0-9a-f]{64}$", csrf), csrf
    assert api.version.get()["version"] == "8.2.4"
    nodes = api.nodes.get()
    assert [n["node"] for n in nodes] == ["pve1"]
    status = api.nodes("pve1").status.get()
    assert status["pveversion"].startswith("pve-manager/")
    assert status["memory"]["total"] > status["memory"]["used"]
    with pytest.raises(ResourceException) as e:
        api.nodes("nosuch").status.get()
    assert e.value.status_code == 404


def test_login_answer(server):
    r = raw_login(server, "reader", realm="pve")
    assert r.status_code == 200, r.text
    d = r.json()["data"]
    assert d["username"] == "reader@pve"
    assert TICKET_RE.match(d["ticket"]).group(1) == "reader@pve"
    assert d["cap"]["nodes"] == {"Sys.Audit": 1}
    assert "Sys.PowerMgmt" not in d["cap"]["nodes"]
    admin = raw_login(server).json()["data"]
    assert admin["cap"]["access"]["User.Modify"] == 1
    # JSON works as a form does, and USER with realm= as USER@REALM.
    r = server.request("POST", API + "/access/ticket",
                       json={"username": "operator", "realm": "pam",
                             "password": server.users["operator"]})
    assert r.status_code == 200, r.text
    server.secrets.update({r.json()["data"]["ticket"], r.json()["data"]["CSRFPreventionToken"]})
    assert r.json()["data"]["username"] == "operator@pam"


def test_wrong_password_refused(server):
    with pytest.raises(AuthenticationError):
        pve(server, password="not-the-password")
    for user, realm, pw in (("admin", "pam", "wrong-password"),
                            ("nobody", "pam", "wrong-password"),
                            ("admin", "ldap", server.users["admin"])):
        r = raw_login(server, user, realm, pw)
        assert r.status_code == 401, (user, realm, r.text)
        assert r.reason == "authentication failure"
        assert r.json() == {"data": None}


def test_ticket_renewal(server):
    api = pve(server, "operator")
    auth = api._backend.auth
    first = auth.pve_auth_ticket
    auth.renew_age = 0          # proxmoxer renews before the next request
    assert api.version.get()["release"] == "8.2"
    second = auth.pve_auth_ticket
    server.secrets.update({second, auth.csrf_prevention_token})
    assert second != first and TICKET_RE.match(second)
    # both tickets work until their sessions end
    for t in (first, second):
        r = server.request("GET", API + "/version", cookies={"PVEAuthCookie": t})
        assert r.status_code == 200, r.text
    # a ticket renews only for the user it names
    r = raw_login(server, "reader", password=second)
    assert r.status_code == 401 and r.reason == "authentication failure"
    r = raw_login(server, "operator", realm="pve", password=second)
    assert r.status_code == 401


def test_api_token_lifecycle(server):
    api = pve(server)
    made = token_create(server, api, "admin", "ci", comment="for CI", privsep=0)
    assert made["full-tokenid"] == "admin@pam!ci"
    assert made["info"] == {"comment": "for CI", "expire": 0, "privsep": 0}
    assert re.match(r"^[0-9a-f]{64}$", made["value"])
    listed = api.access.users("admin@pam").token.get()
    assert {"tokenid": "ci", "comment": "for CI", "expire": 0, "privsep": 0} in listed
    assert api.access.users("admin@pam").token("ci").get()["comment"] == "for CI"

    tok = pve(server, token_name="ci", token_value=made["value"])
    assert tok.nodes("pve1").status.get()["uptime"] > 0
    # no CSRF token for an API token, and it may not make tokens itself
    with pytest.raises(ResourceException) as e:
        tok.access.users("admin@pam").token("more").post()
    assert e.value.status_code == 403
    # the ':' separator (Proxmox Backup Server's) is read as well
    r = server.request("GET", API + "/nodes",
                       headers={"Authorization": f"PVEAPIToken=admin@pam!ci:{made['value']}"})
    assert r.status_code == 200, r.text

    with pytest.raises(ResourceException) as e:
        token_create(server, api, "admin", "ci")
    assert e.value.status_code == 400
    api.access.users("admin@pam").token("ci").delete()
    with pytest.raises(ResourceException) as e:
        tok.nodes.get()
    assert e.value.status_code == 401
    assert "ci" not in [t["tokenid"] for t in api.access.users("admin@pam").token.get()]


def test_api_token_privileges(server):
    """privsep=1 (the default) holds a token to ReadOnly; privsep=0 to its
    account's role; never more than the account holds."""
    api = pve(server, "operator")
    sep = token_create(server, api, "operator", "sep")
    full = token_create(server, api, "operator", "full", privsep=0)
    assert sep["info"]["privsep"] == 1
    for made, status in ((sep, 403), (full, 405)):
        r = server.request("POST", API + "/nodes/pve1/status", data={"command": "reboot"},
                           headers={"Authorization":
                                    f"PVEAPIToken={made['full-tokenid']}={made['value']}"})
        assert r.status_code == status, (made["full-tokenid"], r.text)
        assert r.json() == {"data": None}
    # not another account's tokens
    with pytest.raises(ResourceException) as e:
        api.access.users("admin@pam").token.get()
    assert e.value.status_code == 403


def test_tokens_go_with_their_account(fresh):
    fresh.add_user("robot", "Operator")
    made = token_create(fresh, pve(fresh, "robot"), "robot", "t")
    header = {"Authorization": f"PVEAPIToken=robot@pam!t={made['value']}"}
    assert fresh.request("GET", API + "/version", headers=header).status_code == 200
    fresh.cli("user", "passwd", "robot", "--password-file", fresh.secret_file("Another-pw-1234"))
    fresh.secrets.add("Another-pw-1234")
    assert fresh.request("GET", API + "/version", headers=header).status_code == 200
    fresh.cli("user", "lock", "robot")
    assert fresh.request("GET", API + "/version", headers=header).status_code == 401
    fresh.cli("user", "unlock", "robot")
    fresh.cli("user", "del", "robot")
    r = fresh.request("GET", API + "/version", headers=header)
    assert r.status_code == 401 and r.json() == {"data": None}


# --------------------------------------------------------- raw refusals, CSRF

def test_write_needs_csrf(server):
    d = raw_login(server).json()["data"]
    cookie = {"PVEAuthCookie": d["ticket"]}
    url = API + "/access/users/admin@pam/token/csrf"
    r = server.request("POST", url, cookies=cookie)
    assert r.status_code == 401
    assert r.reason == "Permission denied - invalid csrf token"
    assert r.json() == {"data": None}
    bad = d["CSRFPreventionToken"][:-1] + ("0" if d["CSRFPreventionToken"][-1] != "0" else "1")
    r = server.request("POST", url, cookies=cookie, headers={"CSRFPreventionToken": bad})
    assert r.status_code == 401
    r = server.request("POST", url, cookies=cookie,
                       headers={"CSRFPreventionToken": d["CSRFPreventionToken"]})
    assert r.status_code == 200, r.text
    server.secrets.add(r.json()["data"]["value"])
    r = server.request("DELETE", url, cookies=cookie,
                       headers={"CSRFPreventionToken": d["CSRFPreventionToken"]})
    assert r.status_code == 200 and r.json() == {"data": None}


def test_refusals(server):
    r = server.request("GET", API + "/nodes")
    assert (r.status_code, r.reason, r.json()) == (401, "No ticket", {"data": None})
    for cookie in ("garbage", "PVE:admin@pam:00000000::" + "0" * 64):
        r = server.request("GET", API + "/nodes", cookies={"PVEAuthCookie": cookie})
        assert r.status_code == 401, cookie
        assert r.reason == "permission denied - invalid PVE ticket"
    r = server.request("GET", API + "/nodes", headers={"Authorization": "PVEAPIToken=junk"})
    assert r.status_code == 401 and r.json() == {"data": None}
    # a ticket carrying another user's name than its session's
    d = raw_login(server, "reader").json()["data"]
    forged = d["ticket"].replace("reader@pam", "admin@pam")
    r = server.request("GET", API + "/nodes", cookies={"PVEAuthCookie": forged})
    assert r.status_code == 401


def test_role_gates_tree_writes(server):
    for user, status in (("reader", 403), ("operator", 405)):
        d = raw_login(server, user).json()["data"]
        r = server.request("POST", API + "/nodes/pve1/status", data={"command": "reboot"},
                           cookies={"PVEAuthCookie": d["ticket"]},
                           headers={"CSRFPreventionToken": d["CSRFPreventionToken"]})
        assert r.status_code == status, (user, r.text)
        assert r.json() == {"data": None}
    assert r.headers["Allow"] == "GET, HEAD"


def test_bad_input(server):
    r = server.request("POST", API + "/access/ticket", data={"username": "admin@pam"})
    assert r.status_code == 400 and r.reason == "Parameter verification failed."
    assert r.json() == {"data": None,
                        "errors": {"password": "property is missing and it is not optional"}}
    r = server.request("POST", API + "/access/ticket",
                       data={"username": "admin@pam", "password": "x", "color": "red"})
    assert r.status_code == 400 and "color" in r.json()["errors"]
    r = server.request("POST", API + "/access/ticket", data="username=%zz&password=x",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400 and r.json() == {"data": None}
    r = server.request("POST", API + "/access/ticket", data="[1]",
                       headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = server.request("POST", API + "/access/ticket", data={"username": "no realm",
                                                              "password": "x"})
    assert r.status_code == 400 and "username" in r.json()["errors"]
    r = server.request("DELETE", API + "/access/ticket")
    assert r.status_code == 405 and r.json() == {"data": None}
    d = raw_login(server).json()["data"]
    r = server.request("GET", API + "/no/such/thing", cookies={"PVEAuthCookie": d["ticket"]})
    assert r.status_code == 404 and r.json() == {"data": None}
    r = server.request("GET", API + "/access/users/bad!name@pam/token",
                       cookies={"PVEAuthCookie": d["ticket"]})
    assert r.status_code == 400 and r.json() == {"data": None}


def test_errors_nginx_decides(server):
    """What nginx refuses itself under /api2/json is answered in Proxmox VE's form too."""
    for r, status in (
            (server.request("POST", API + "/access/ticket", data=b"x" * 200000,
                            headers={"Content-Type": "application/x-www-form-urlencoded"}), 413),
            (server.get(API + "/" + "a" * 20000), 414),
            (server.get(API + "/version", headers={"X-Big": "a" * 20000}), 431)):
        assert r.status_code == status, (status, r.status_code)
        assert r.headers["Content-Type"] == "application/json;charset=UTF-8", r.headers
        assert r.json() == {"data": None}


# ------------------------------------------------------------------ curl

def curl(gh, *args):
    # HTTP/1.1, as pveproxy speaks it: the status line carries the reason
    p = subprocess.run(["curl", "-sS", "--http1.1", "--cacert", gh.ca, "-i", *args],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    head, _, body = p.stdout.partition("\n\n")    # text mode: CRLF read as LF
    return head.split("\n")[0], body


def test_curl_replays(server):
    """What the Proxmox VE wiki's curl examples send."""
    pw = server.users["operator"]
    status, body = curl(server, "--data-urlencode", "username=operator@pam",
                        "--data-urlencode", f"password={pw}", server.url + API + "/access/ticket")
    assert status.startswith("HTTP/1.1 200"), status
    d = requests.models.complexjson.loads(body)["data"]
    server.secrets.update({d["ticket"], d["CSRFPreventionToken"]})
    status, body = curl(server, "-b", f"PVEAuthCookie={d['ticket']}",
                        server.url + API + "/nodes/pve1/status")
    assert status.startswith("HTTP/1.1 200") and '"pveversion"' in body
    status, body = curl(server, "-X", "POST", "-b", f"PVEAuthCookie={d['ticket']}",
                        server.url + API + "/access/users/operator@pam/token/curl")
    assert status == "HTTP/1.1 401 Permission denied - invalid csrf token", status
    status, body = curl(server, "-X", "POST", "-b", f"PVEAuthCookie={d['ticket']}",
                        "-H", f"CSRFPreventionToken: {d['CSRFPreventionToken']}",
                        "-d", "privsep=0", server.url + API + "/access/users/operator@pam/token/curl")
    assert status.startswith("HTTP/1.1 200"), (status, body)
    value = requests.models.complexjson.loads(body)["data"]["value"]
    server.secrets.add(value)
    status, body = curl(server, "-H", f"Authorization: PVEAPIToken=operator@pam!curl={value}",
                        server.url + API + "/nodes")
    assert status.startswith("HTTP/1.1 200") and '"pve1"' in body
    status, _ = curl(server, server.url + API + "/version")
    assert status == "HTTP/1.1 401 No ticket", status
