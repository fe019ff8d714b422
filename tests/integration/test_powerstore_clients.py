"""Dell's PowerStore clients against gatehouse, replayed with requests
exactly as they speak (neither is a Debian package):

- PyPowerStore (python-powerstore): GET login_session with Basic and
  ?select=id,user,role_ids,is_password_change_required,is_built_in_user,
  idle_timeout, then every call with the auth_cookie from its session's jar and
  the DELL-EMC-TOKEN header, Accept and Content-Type application/json on every
  request (GETs included), Range paging of collections (0-99, then 100-...
  when the answer is 206), and POST logout at the end.
- gopowerstore: Basic credentials on every request plus a cookie jar; GET
  login_session (no select) when the client is made; the DELL-EMC-TOKEN of
  every 2xx answer kept and sent on the next requests; limit/offset paging
  read back from Content-Range; on a 403 it logs in again and repeats.
"""

import re

import pytest

from gatehouse_harness import new_password

LOGIN_SELECT = "id,user,role_ids,is_password_change_required,is_built_in_user,idle_timeout"


class PyPowerStoreLike:
    """The request sequence of PyPowerStore's Client with a login session."""

    def __init__(self, gh, user, password):
        self.gh = gh
        self.s = gh.session()
        self.s.headers.update({"Accept": "application/json", "Accept-Language": "en-US",
                               "content-type": "application/json",
                               "Application-Type": "gatehouse-tests/1.0"})
        r = self.s.get(gh.url + "/api/rest/login_session", params={"select": LOGIN_SELECT},
                       auth=(user, password), timeout=10)
        assert r.status_code == 200, r.text
        self.login_session = r.json()[0]
        self.s.headers["DELL-EMC-TOKEN"] = r.headers["DELL-EMC-TOKEN"]
        gh.secrets.update({r.headers["DELL-EMC-TOKEN"], self.s.cookies["auth_cookie"], password})

    def request(self, method, path, payload=None, querystring=None, all_pages=False):
        """Client.request: one call, and the rest of the pages when asked."""
        headers = {"Range": "0-99"} if all_pages else {}
        r = self.s.request(method, self.gh.url + path, json=payload, params=querystring,
                           headers=headers, timeout=10)
        if r.status_code not in (200, 201, 202, 204, 206):
            return r
        body = None if r.status_code == 204 else r.json()
        if all_pages and r.status_code == 206 and r.headers.get("content-range"):
            total = int(r.headers["content-range"].split("/")[-1])
            for first in range(100, total, 2000):
                more = self.s.request(method, self.gh.url + path, params=querystring,
                                      headers={"Range": f"{first}-{first + 1999}"}, timeout=10)
                assert more.status_code in (200, 206), more.text
                body.extend(more.json())
        return body

    def logout(self):
        return self.s.post(self.gh.url + "/api/rest/logout", timeout=10)


def test_pypowerstore_sequence(make_server):
    gh = make_server()
    c = PyPowerStoreLike(gh, "admin", gh.admin_password)
    ls = c.login_session
    assert set(ls) == set(LOGIN_SELECT.split(","))
    assert ls["user"] == "admin" and ls["role_ids"] == ["1"] and ls["idle_timeout"] == 3600
    assert ls["is_password_change_required"] is False and ls["is_built_in_user"] is True
    # From here on: no credentials but the cookie and the token.
    assert c.s.auth is None
    version = c.request("GET", "/api/rest/software_installed",
                        querystring={"select": "release_version", "is_cluster": "eq.true"})
    assert version == [{"release_version": "3.6.0.0"}]
    vols = c.request("GET", "/api/rest/volume", querystring={
        "select": "id,name,description,type,wwn,appliance_id,state,size,creation_timestamp,"
                  "protection_policy_id,performance_policy_id,protection_policy(name,id),"
                  "performance_policy(name,id),is_replication_destination,"
                  "migration_session_id, type_l10n,state_l10n,host_group(name,id),"
                  "host(name,id),volume_groups(name,id)"}, all_pages=True)
    assert [v["name"] for v in vols] == ["vmfs-datastore-01", "oracle-data-01", "scratch-01"]
    assert vols[0]["performance_policy"] == {"name": "Medium", "id": "default_medium"}
    vol = c.request("GET", "/api/rest/volume", querystring={"select": "id,name",
                                                            "name": "eq.scratch-01"})
    assert vol == [{"id": "e2b4d6f8-0a1c-4e3f-9b5d-7c8e9f0a1b83", "name": "scratch-01"}]
    hosts = c.request("GET", "/api/rest/host", querystring={
        "select": "id,name,description,os_type,host_group_id,host_initiators,os_type_l10n"})
    assert {h["os_type"] for h in hosts} == {"ESXi", "Linux"}
    roles = c.request("GET", "/api/rest/role", querystring={"select": "id,name,is_built_in,"
                                                                      "description"})
    assert len(roles) == 5
    # Local users: create, modify, read, delete, as PyPowerStore's Configuration does.
    pw = new_password()
    gh.secrets.add(pw)
    made = c.request("POST", "/api/rest/local_user",
                     payload={"name": "pyuser", "password": pw, "role_id": "3"})
    assert re.fullmatch(r"[1-9][0-9]*", made["id"])
    assert c.request("PATCH", "/api/rest/local_user/" + made["id"],
                     payload={"role_id": "4", "is_locked": False}) is None
    got = c.request("GET", "/api/rest/local_user/" + made["id"], querystring={
        "select": "id,name,is_built_in,is_locked,is_default_password,role_id"})
    assert got == {"id": made["id"], "name": "pyuser", "is_built_in": False,
                   "is_locked": False, "is_default_password": False, "role_id": "4"}
    assert c.request("DELETE", "/api/rest/local_user/" + made["id"]) is None
    # Its error path reads the PowerStore body.
    r = c.request("GET", "/api/rest/local_user/" + made["id"])
    assert r.status_code == 404 and r.json()["messages"][0]["code"] == "0xE1404001"
    r = c.logout()
    assert r.status_code == 204
    r = c.s.get(gh.url + "/api/rest/volume", timeout=10)
    assert r.status_code == 401


class GoPowerStoreLike:
    """The request sequence of gopowerstore's ClientIMPL: Basic on every
    request, a cookie jar, and the last DELL-EMC-TOKEN seen."""

    def __init__(self, gh, user, password):
        self.gh = gh
        self.s = gh.session(auth=(user, password))
        self.token = ""
        self.logins = 0
        self.login()

    def login(self):
        self.logins += 1
        meta, body = self.query("GET", "login_session")
        return meta, body

    def query(self, method, endpoint, params=None, body=None, retry=True):
        headers = {"DELL-EMC-TOKEN": self.token} if self.token else {}
        r = self.s.request(method, f"{self.gh.url}/api/rest/{endpoint}", params=params,
                           json=body, headers=headers, timeout=10)
        meta = {"status": r.status_code}
        if 200 <= r.status_code < 300:
            if r.headers.get("DELL-EMC-TOKEN"):
                self.token = r.headers["DELL-EMC-TOKEN"]
                self.gh.secrets.add(self.token)
            if r.status_code == 206:
                first_last, total = r.headers["content-range"].split("/")
                first, last = first_last.split("-")
                meta["pagination"] = (int(first), int(last), int(total))
            return meta, (r.json() if r.content else None)
        # gopowerstore repeats after a new login without bound; once is enough here.
        if r.status_code == 403 and endpoint != "login_session" and retry:
            lmeta, _ = self.login()
            if lmeta["status"] != 401:
                return self.query(method, endpoint, params, body, retry=False)
        return meta, r.json()


def test_gopowerstore_sequence(make_server):
    gh = make_server()
    pw = gh.add_user("csi", "Administrator")
    c = GoPowerStoreLike(gh, "csi", pw)
    assert c.token and "auth_cookie" in c.s.cookies
    gh.secrets.add(c.s.cookies["auth_cookie"])
    # Paging with limit and offset, read back from Content-Range.
    items, offset = [], 0
    while True:
        meta, page = c.query("GET", "volume", params={"select": "id,name,size,wwn",
                                                      "limit": "2", "offset": str(offset)})
        items += page
        if "pagination" not in meta or meta["pagination"][1] + 1 >= meta["pagination"][2]:
            break
        offset = meta["pagination"][1] + 1
    assert [v["name"] for v in items] == ["vmfs-datastore-01", "oracle-data-01", "scratch-01"]
    meta, vols = c.query("GET", "volume", params={"select": "id,name", "name": "eq.oracle-data-01"})
    assert meta["status"] == 200 and len(vols) == 1
    # Writes: Basic, so the token travels but is not what lets them through.
    upw = new_password()
    gh.secrets.add(upw)
    meta, made = c.query("POST", "local_user", body={"name": "gouser", "password": upw,
                                                     "role_id": "2"})
    assert meta["status"] == 201, made
    meta, _ = c.query("PATCH", "local_user/" + made["id"], body={"role_id": "3"})
    assert meta["status"] == 204
    c.token = "f" * 64                    # a stale token changes nothing with Basic
    meta, _ = c.query("DELETE", "local_user/" + made["id"])
    assert meta["status"] == 204
    # The session behind the jar revoked: Basic still carries every request.
    assert "csi" in gh.cli("session", "list").stdout
    gh.cli("session", "revoke", "--user", "csi")
    meta, vols = c.query("GET", "volume")
    assert meta["status"] == 200 and len(vols) == 3
    # Other refusals are final; a 403 makes it log in again and repeat, and a
    # refusal for the role stays one.
    meta, err = c.query("DELETE", "local_user/name:admin")
    assert meta["status"] == 422 and err["messages"][0]["code"] == "0xE1422001"
    assert c.logins == 1
    op = GoPowerStoreLike(gh, "viewer", gh.add_user("viewer", "Operator"))
    meta, err = op.query("POST", "local_user", body={"name": "x", "password": upw,
                                                     "role_id": "3"})
    assert meta["status"] == 403 and err["messages"][0]["code"] == "0xE1403002"
    assert op.logins == 2


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_gopowerstore_cookie_jar_keeps_the_session(make_server, host):
    """The jar sends the auth_cookie back (by address and by name alike), so
    with Basic credentials withdrawn the session still carries the client."""
    gh = make_server()
    pw = gh.add_user("csi", "Operator")
    s = gh.session(auth=("csi", pw))
    url = f"https://{host}:{gh.port}"
    r = s.get(url + "/api/rest/login_session", timeout=10)
    assert r.status_code == 200
    gh.secrets.update({r.headers["DELL-EMC-TOKEN"], s.cookies["auth_cookie"]})
    s.auth = None
    r = s.get(url + "/api/rest/volume", timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["DELL-EMC-TOKEN"]
