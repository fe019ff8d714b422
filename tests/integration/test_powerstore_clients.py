"""Dell's PowerStore clients against gatehouse: replays of their requests,
written from their source (neither is a Debian package, and neither is
installable from the registries these machines reach). Each step cites the
client's file and function; headers, bodies and order are the client's.

- PyPowerStore 3.4.2 (github.com/dell/python-powerstore, tag v3.4.2, commit
  03de61ab97a5), PyPowerStore/client.py: AuthenticationManager logs in with
  GET login_session, Basic and LOGIN_SESSION_DETAILS_QUERY, keeps the
  DELL-EMC-TOKEN and the auth_cookie value, and PowerStoreClient sends each
  request on its own (requests.request, no cookie jar) with Accept,
  Accept-Language, content-type application/json, Application-Type, the
  token and "Cookie: auth_cookie=..."; a 206 with all_pages fetches the rest
  with Range headers from OFFSET 100 in steps of MAX_LIMIT 2000; logout is
  POST logout with the same headers (utils/constants.py for the queries).
- gopowerstore 1.20.1 (github.com/dell/gopowerstore, tag v1.20.1, commit
  71d2f53db35c), api/api.go: ClientIMPL sets Basic credentials on every
  request (prepareRequest), a cookie jar on its http.Client, GET
  login_session when the client is made (NewClientWithArgs -> login), keeps
  the DELL-EMC-TOKEN of every 2xx answer (Query), reads paging from
  Content-Range (updatePaginationInfoInMeta), and on a 403 logs in and sends
  the request again. Bodies are json.Marshal'ed with no Content-Type and no
  Accept header (Go's net/http adds neither).
"""

import base64
import json
import re
import time

import pytest

from gatehouse_harness import new_password

# PyPowerStore/utils/constants.py (v3.4.2)
LOGIN_SESSION_DETAILS_QUERY = {
    "select": "id,user,role_ids,is_password_change_required,is_built_in_user,idle_timeout"}
SELECT_ID_AND_NAME = {"select": "id,name"}
SELECT_VERSION = {"select": "release_version"}
LOCAL_USER_DETAILS_QUERY = {"select": "id,name,is_built_in,is_locked,is_default_password,role_id"}
OFFSET, MAX_LIMIT = 100, 2000
VALID_CODES = [200, 201, 202, 204, 206, 207]     # client.py


class PowerStoreError(Exception):
    def __init__(self, response):
        super().__init__(f"HTTP code: {response.status_code}")
        self.response = response


class PyPowerStoreReplay:
    """PowerStoreClient with its AuthenticationManager (client.py, v3.4.2)."""

    def __init__(self, gh, username, password, application_type="gatehouse-tests/1.0"):
        self.gh = gh
        self.username, self.password = username, password
        # requests.request makes a new session (and cookie jar) per call:
        # one harness session whose jar is emptied after each request.
        self.http = gh.session()
        self.dell_emc_token = None
        self.cookie = None
        self.idle_timeout = 0
        self.creation_time = None
        self.login_session = None       # what the login answered, for the test
        # AuthenticationManager.__init__ / PowerStoreClient.fetch_response
        self.headers = {"Accept": "application/json", "Accept-Language": "en-US",
                        "content-type": "application/json",
                        "Application-Type": application_type}
        gh.secrets.add(password)

    def _send(self, method, path, **kw):
        try:
            return self.http.request(method, self.gh.url + path, timeout=10, **kw)
        finally:
            self.http.cookies.clear()

    def login(self):
        """AuthenticationManager.login + set_session_timeout_and_creation_time."""
        headers = dict(self.headers)
        credentials = base64.b64encode(f"{self.username}:{self.password}".encode())
        headers["authorization"] = "Basic " + credentials.decode()
        r = self._send("GET", "/api/rest/login_session", headers=headers,
                       params=LOGIN_SESSION_DETAILS_QUERY)
        if r.status_code == 200:
            self.creation_time = time.time()
            body = r.json()
            data = body[0] if isinstance(body, list) else {}
            self.idle_timeout = data.get("idle_timeout", self.idle_timeout)
            self.login_session = data
        self.dell_emc_token = r.headers.get("DELL-EMC-TOKEN")
        self.cookie = r.cookies.get("auth_cookie")
        self.gh.secrets.update(x for x in (self.dell_emc_token, self.cookie) if x)

    def is_session_alive(self):
        return bool(self.creation_time and self.idle_timeout
                    and time.time() - self.creation_time < self.idle_timeout)

    def get_token_and_cookie(self):
        if not self.dell_emc_token or not self.cookie or not self.is_session_alive():
            self.login()
        return {"DELL-EMC-TOKEN": self.dell_emc_token, "Cookie": f"auth_cookie={self.cookie}"}

    def logout_session(self):
        headers = dict(self.headers)
        headers.update({"DELL-EMC-TOKEN": self.dell_emc_token,
                        "Cookie": f"auth_cookie={self.cookie}"})
        r = self._send("POST", "/api/rest/logout", headers=headers, data=None)
        self.dell_emc_token = None
        self.cookie = None
        return r

    def fetch_response(self, method, path, payload=None, querystring=None, myrange=None):
        headers = dict(self.headers)
        headers.update(self.get_token_and_cookie())
        if myrange:
            headers["Range"] = myrange
        if payload:
            return self._send(method, path, data=json.dumps(payload), headers=headers)
        if querystring:
            return self._send(method, path, headers=headers, params=querystring)
        return self._send(method, path, headers=headers)

    def request(self, method, path, payload=None, querystring=None, all_pages=None):
        """PowerStoreClient.request: the JSON answer, every page of it with
        all_pages; raise_http_exception on any other status."""
        r = self.fetch_response(method, path, payload=payload, querystring=querystring)
        if r.status_code not in VALID_CODES:
            raise PowerStoreError(r)
        body = None
        if r.status_code != 204 and not (r.status_code == 201 and r.content == b""):
            body = r.json()
        content_range = r.headers.get("content-range")
        if all_pages and r.status_code == 206 and content_range:
            total = int(content_range.split("/")[-1])
            for first in range(OFFSET, total, MAX_LIMIT):
                more = self.fetch_response(method, path, payload=payload,
                                           querystring=querystring,
                                           myrange=f"{first}-{first + MAX_LIMIT}")
                if more.status_code not in VALID_CODES:
                    raise PowerStoreError(more)
                body.extend(more.json())
        return body


def test_pypowerstore_sequence(make_server):
    gh = make_server()
    c = PyPowerStoreReplay(gh, "admin", gh.admin_password)
    # Provisioning.get_array_version: the first call logs in.
    versions = c.request("GET", "/api/rest/software_installed", querystring=SELECT_VERSION)
    assert versions[0]["release_version"] == "3.6.0.0"
    ls = c.login_session
    assert set(ls) == set(LOGIN_SESSION_DETAILS_QUERY["select"].split(","))
    assert ls["user"] == "admin" and ls["role_ids"] == ["1"] and ls["idle_timeout"] == 3600
    assert ls["is_password_change_required"] is False and ls["is_built_in_user"] is True
    assert c.dell_emc_token and c.cookie
    # Provisioning.get_volumes(all_pages=True), and with a filter_dict.
    vols = c.request("GET", "/api/rest/volume", querystring=SELECT_ID_AND_NAME, all_pages=True)
    assert [v["name"] for v in vols] == ["vmfs-datastore-01", "oracle-data-01", "scratch-01"]
    assert all(set(v) == {"id", "name"} for v in vols)
    vol = c.request("GET", "/api/rest/volume",
                    querystring={**SELECT_ID_AND_NAME, "name": "eq.scratch-01"})
    assert vol == [{"id": "e2b4d6f8-0a1c-4e3f-9b5d-7c8e9f0a1b83", "name": "scratch-01"}]
    # Provisioning.get_hosts, Configuration.get_roles.
    hosts = c.request("GET", "/api/rest/host", querystring=SELECT_ID_AND_NAME)
    assert sorted(h["name"] for h in hosts) == ["esx-prod-01", "linux-db-01"]
    roles = c.request("GET", "/api/rest/role", querystring=SELECT_ID_AND_NAME)
    assert len(roles) == 5
    # Configuration: create_local_user, modify_local_user (one PATCH per
    # attribute), get_local_user_details, delete_local_user.
    pw = new_password()
    gh.secrets.add(pw)
    made = c.request("POST", "/api/rest/local_user",
                     payload={"name": "pyuser", "password": pw, "role_id": "3"})
    assert re.fullmatch(r"[1-9][0-9]*", made["id"])
    for key, value in {"role_id": "4", "is_locked": False}.items():
        assert c.request("PATCH", "/api/rest/local_user/" + made["id"],
                         payload={key: value}) is None
    got = c.request("GET", "/api/rest/local_user/" + made["id"],
                    querystring=LOCAL_USER_DETAILS_QUERY)
    assert got == {"id": made["id"], "name": "pyuser", "is_built_in": False,
                   "is_locked": False, "is_default_password": False, "role_id": "4"}
    assert c.request("DELETE", "/api/rest/local_user/" + made["id"]) is None
    # raise_http_exception reads the PowerStore error body.
    with pytest.raises(PowerStoreError) as e:
        c.request("GET", "/api/rest/local_user/" + made["id"],
                  querystring=LOCAL_USER_DETAILS_QUERY)
    r = e.value.response
    assert r.status_code == 404 and r.json()["messages"][0]["code"] == "0xE1404001"
    # AuthenticationManager.logout_session; the cookie and token it ended
    # are refused afterwards.
    token, cookie = c.dell_emc_token, c.cookie
    assert c.logout_session().status_code == 204
    r = c._send("GET", "/api/rest/volume", headers={
        **c.headers, "DELL-EMC-TOKEN": token, "Cookie": f"auth_cookie={cookie}"})
    assert r.status_code == 401


class GoPowerStoreReplay:
    """gopowerstore's ClientIMPL (api/api.go, v1.20.1)."""

    def __init__(self, gh, user, password):
        self.gh = gh
        # http.Client with a cookiejar.Jar (NewClientWithArgs); Go's net/http
        # sends User-Agent and Accept-Encoding of its own, and no Accept.
        self.s = gh.session(auth=(user, password))
        self.s.headers.clear()
        self.s.headers.update({"User-Agent": "Go-http-client/1.1", "Accept-Encoding": "gzip"})
        self.token = ""
        self.logins = 0
        self.login()                      # NewClientWithArgs -> clientImpl.login

    def login(self):
        """ClientIMPL.login: GET login_session through Query."""
        self.logins += 1
        meta, body = self.query("GET", "login_session")
        return meta, body

    def query(self, method, endpoint, params=None, body=None, retry=True):
        """ClientIMPL.Query with prepareRequest: Basic (SetBasicAuth), the last
        DELL-EMC-TOKEN, the body json.Marshal'ed (compact, no Content-Type)."""
        headers = {"DELL-EMC-TOKEN": self.token} if self.token else {}
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        r = self.s.request(method, f"{self.gh.url}/api/rest/{endpoint}", params=params,
                           data=data, headers=headers, timeout=10)
        meta = {"status": r.status_code}
        if 200 <= r.status_code < 300:
            if r.headers.get("DELL-EMC-TOKEN"):
                self.token = r.headers["DELL-EMC-TOKEN"]
                self.gh.secrets.add(self.token)
            if r.headers.get("content-range"):           # updatePaginationInfoInMeta
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


def go_query(*pairs):
    """QueryParams.Encode: url.Values.Encode sorts the names."""
    return sorted(pairs)


def test_gopowerstore_sequence(make_server):
    gh = make_server()
    pw = gh.add_user("csi", "Administrator")
    c = GoPowerStoreReplay(gh, "csi", pw)
    assert c.token and "auth_cookie" in c.s.cookies
    gh.secrets.add(c.s.cookies["auth_cookie"])
    # GetCluster (cluster.go): GetSoftwareMajorMinorVersion first, whose
    # GetSoftwareInstalled (software_installed.go) sorts with order=id: gatehouse
    # does not sort and says so (400); GetCluster logs that and goes on.
    meta, err = c.query("GET", "software_installed", params=go_query(
        ("select", "id,is_cluster,release_version,build_version,build_id"),
        ("order", "id"), ("offset", "0"), ("limit", "1000")))
    assert meta["status"] == 400 and err["messages"][0]["code"] == "0xE1400004"
    meta, clusters = c.query("GET", "cluster", params=go_query(
        ("select", "id,name,management_address,state,system_time")))
    assert meta["status"] == 200 and clusters[0]["id"] == "0"
    assert set(clusters[0]) == {"id", "name", "management_address", "state", "system_time"}
    # GetVolumeByName, then GetVolume by its id (volume.go): select=*.
    meta, vols = c.query("GET", "volume", params=go_query(
        ("select", "*"), ("name", "eq.oracle-data-01")))
    assert meta["status"] == 200 and len(vols) == 1 and vols[0]["name"] == "oracle-data-01"
    meta, vol = c.query("GET", "volume/" + vols[0]["id"], params=go_query(("select", "*")))
    assert meta["status"] == 200 and vol == vols[0]
    # GetVolumes (volume.go) filters with not.eq and sorts: refused, 400.
    meta, err = c.query("GET", "volume", params=go_query(
        ("select", "*"), ("type", "not.eq.Snapshot"), ("order", "name"),
        ("offset", "0"), ("limit", "1000")))
    assert meta["status"] == 400 and err["messages"][0]["code"] == "0xE1400004"
    # Paging as readPaginatedData reads it back from Content-Range.
    items, offset = [], 0
    while True:
        meta, page = c.query("GET", "volume", params=go_query(
            ("select", "id,name"), ("offset", str(offset)), ("limit", "2")))
        items += page
        if "pagination" not in meta or meta["pagination"][1] + 1 >= meta["pagination"][2]:
            break
        offset = meta["pagination"][1] + 1
    assert [v["name"] for v in items] == ["vmfs-datastore-01", "oracle-data-01", "scratch-01"]
    # Writes through the same transport (gopowerstore has no local_user call;
    # it is the resource gatehouse lets a client write): a JSON body with no
    # Content-Type, Basic on each, so a stale token changes nothing.
    upw = new_password()
    gh.secrets.add(upw)
    meta, made = c.query("POST", "local_user", body={"name": "gouser", "password": upw,
                                                     "role_id": "2"})
    assert meta["status"] == 201, made
    meta, _ = c.query("PATCH", "local_user/" + made["id"], body={"role_id": "3"})
    assert meta["status"] == 204
    c.token = "f" * 64
    meta, _ = c.query("DELETE", "local_user/" + made["id"])
    assert meta["status"] == 204
    # The session behind the jar revoked: Basic still carries every request.
    assert "csi" in gh.cli("session", "list").stdout
    gh.cli("session", "revoke", "--user", "csi")
    meta, vols = c.query("GET", "volume")
    assert meta["status"] == 200 and len(vols) == 3
    # A refusal for the role stays one after Query's login-and-repeat on 403.
    meta, err = c.query("DELETE", "local_user/name:admin")
    assert meta["status"] == 422 and err["messages"][0]["code"] == "0xE1422001"
    op = GoPowerStoreReplay(gh, "viewer", gh.add_user("viewer", "Operator"))
    meta, err = op.query("POST", "local_user", body={"name": "x", "password": upw,
                                                     "role_id": "3"})
    assert meta["status"] == 403 and err["messages"][0]["code"] == "0xE1403002"


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
