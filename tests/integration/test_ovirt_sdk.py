"""The oVirt Python SDK (ovirtsdk4) against gatehouse: a replay of its
requests, written from its source at 4.6.2 (github.com/oVirt/
python-ovirt-engine-sdk4, tag 4.6.2, commit d75004346f4e,
lib/ovirtsdk4/__init__.py, class Connection). ovirtsdk4 is not in Debian 12
(apt knows no python3-ovirt-engine-sdk4) and not installable from the
registries these machines reach, so SdkReplay sends what Connection sends,
step for step (each method names the one it replays): the token URL from
the API URL's scheme and host; a POST of grant_type, scope, username and
password, form-encoded, with Accept: application/json, requiring a JSON
content type back and raising AuthError on an "error" member; every API
request with Version: 4, Content-Type and Accept application/xml and the
Bearer token, requiring an XML content type; on a 401 a new token once and
the request again; and close() POSTs scope and token to
/ovirt-engine/services/sso-logout. What it does not replay: pycurl itself
(its connection reuse and header order)."""

import http.cookiejar
import xml.etree.ElementTree as ET
from urllib.parse import urlencode, urlparse

import pytest
import requests

from gatehouse_harness import IDLE_MARGIN, wait_for
from ovirt_util import API, JSON_TYPE_RE, SDK_USER_AGENT, XML_TYPE_RE


class SdkError(Exception):
    pass


class AuthError(SdkError):
    pass


class SdkReplay:
    def __init__(self, server, url, username, password):
        self.server = server
        self._url = url
        self._username = username
        self._password = password
        self._sso_token = None
        parsed = urlparse(url)
        base = f"{parsed.scheme}://{parsed.netloc}"
        self._sso_url = f"{base}/ovirt-engine/sso/oauth/token"
        self._sso_revoke_url = f"{base}/ovirt-engine/services/sso-logout"
        self.http = requests.Session()
        self.http.verify = server.ca
        self.http.trust_env = False
        # __send makes a new curl handle per request (COOKIEFILE ""): no
        # cookie outlives a request.
        self.http.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        # compress=True: pycurl.ENCODING "" (Debian's libcurl 7.88 offers these).
        self.http.headers["Accept-Encoding"] = "deflate, gzip, br, zstd"
        self.log = []        # (method, path, status) of every exchange, in order
        server.secrets.add(password)

    def _exchange(self, method, url, **kw):
        r = self.http.request(method, url, timeout=10, **kw)
        self.log.append((method, urlparse(url).path, r.status_code))
        return r

    @staticmethod
    def _check_content_type(regex, name, r):
        content_type = r.headers.get("Content-Type", "")
        if regex.match(content_type) is None:
            raise SdkError(f"The response content type '{content_type}' isn't the expected {name}")

    def _get_sso_response(self, url, params):
        """Connection._get_sso_response: curl's COPYPOSTFIELDS makes the
        Content-Type application/x-www-form-urlencoded."""
        r = self._exchange("POST", url, data=urlencode(params), headers={
            "User-Agent": SDK_USER_AGENT, "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded"})
        self._check_content_type(JSON_TYPE_RE, "JSON", r)
        return r.json()

    @staticmethod
    def _get_sso_error(sso_response):
        """Connection._get_sso_error."""
        if "error_description" in sso_response:
            return sso_response.get("error"), sso_response.get("error_description")
        return sso_response.get("error_code"), sso_response.get("error")

    def _get_access_token(self):
        """Connection._get_access_token (password grant)."""
        sso_response = self._get_sso_response(self._sso_url, {
            "grant_type": "password", "scope": "ovirt-app-api",
            "username": self._username, "password": self._password})
        if isinstance(sso_response, list):
            sso_response = sso_response[0]
        if "error" in sso_response:
            error = self._get_sso_error(sso_response)
            raise AuthError(f"Error during SSO authentication {error[0]} : {error[1]}")
        token = sso_response["access_token"]
        self.server.secrets.add(token)
        return token

    def authenticate(self):
        """Connection.authenticate."""
        if self._sso_token is None:
            self._sso_token = self._get_access_token()
        return self._sso_token

    def _send(self, method, path, body=None):
        """Connection.__send: the body only for POST and PUT."""
        self.authenticate()
        data = (body or "") if method in ("POST", "PUT") else None
        return self._exchange(method, self._url + path, data=data, headers={
            "User-Agent": SDK_USER_AGENT, "Version": "4", "Content-Type": "application/xml",
            "Accept": "application/xml", "Authorization": f"Bearer {self._sso_token}"})

    def send(self, method, path, body=None):
        """Connection.__wait: one new token and one retry after a 401."""
        r = self._send(method, path, body)
        if r.status_code == 401:
            self._sso_token = self._get_access_token()
            r = self._send(method, path, body)
        return r

    def get(self, path):
        """What a service's get()/list() does: an XML body or an error."""
        r = self.send("GET", path)
        if r.status_code != 200:
            raise SdkError(f"HTTP response code is {r.status_code}", r.status_code)
        self._check_content_type(XML_TYPE_RE, "XML", r)
        return ET.fromstring(r.content)

    def test(self):
        """Connection.test: system_service().get(), False on an Error."""
        try:
            self.get("")
            return True
        except SdkError:
            return False

    def close(self, logout=True):
        """Connection.close and _revoke_access_token."""
        if logout and self._sso_token is not None:
            sso_response = self._get_sso_response(self._sso_revoke_url, {
                "scope": "ovirt-app-api", "token": self._sso_token})
            if isinstance(sso_response, list):
                sso_response = sso_response[0]
            if "error" in sso_response:
                error = self._get_sso_error(sso_response)
                raise AuthError(f"Error during SSO revoke {error[0]} : {error[1]}")
        self.http.close()


def connect(gh, username="admin@internal", password=None):
    return SdkReplay(gh, gh.url + API, username,
                     gh.admin_password if password is None else password)


def test_sdk_session(server):
    conn = connect(server)
    assert conn.test()
    assert conn.log == [("POST", "/ovirt-engine/sso/oauth/token", 200), ("GET", API, 200)]
    api = conn.get("")
    assert api.findtext("product_info/version/major") == "4"
    vms = conn.get("/vms")
    names = sorted(vm.findtext("name") for vm in vms.findall("vm"))
    assert names == ["build01", "db01", "web01"]
    vm_id = next(vm.get("id") for vm in vms.findall("vm") if vm.findtext("name") == "db01")
    vm = conn.get(f"/vms/{vm_id}")
    assert vm.get("id") == vm_id and vm.findtext("memory") == "17179869184"
    # Connection.follow_link: the href less the connection's base URL path.
    cluster = conn.get(vm.find("cluster").get("href")[len(API):])
    assert cluster.tag == "cluster"
    hosts = conn.get("/hosts")
    assert len(hosts.findall("host")) == 2
    token = conn._sso_token
    conn.close()
    assert conn.log[-1] == ("POST", "/ovirt-engine/services/sso-logout", 200)
    r = server.get(API, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    # The token carried the whole session: the server refused nothing.
    assert [e for e in conn.log if e[2] == 401] == []


def test_sdk_gets_a_new_token_once_on_401(server):
    conn = connect(server, "operator@internal", server.users["operator"])
    assert conn.test()
    # The token ends behind the SDK's back (a revocation, an expiry).
    r = server.request("POST", "/ovirt-engine/services/sso-logout",
                       data={"token": conn._sso_token})
    assert r.json() == {}
    conn.log.clear()
    assert len(conn.get("/clusters").findall("cluster")) == 2
    assert conn.log == [("GET", API + "/clusters", 401),
                        ("POST", "/ovirt-engine/sso/oauth/token", 200),
                        ("GET", API + "/clusters", 200)]
    conn.close()


def test_sdk_wrong_password(server):
    conn = connect(server, password="Not-The-Password-9")
    with pytest.raises(AuthError) as e:
        conn.authenticate()
    assert str(e.value) == (
        "Error during SSO authentication access_denied : Cannot authenticate user "
        "'admin@internal': Unable to log in. Verify your login information or contact the "
        "system administrator.")
    assert not conn.test()
    conn.close()


def test_sdk_rides_over_an_idle_timeout(make_server):
    gh = make_server(config={"ovirt": {"token_idle_timeout": 2}})
    before = gh.sessions_server_side()
    conn = connect(gh)
    assert conn.test()
    # The token ends by its idle time (the administrator's list, which uses
    # no token, shows when).
    (path,) = gh.sessions_server_side() - before
    wait_for(lambda: path not in gh.sessions_server_side(), 2 + 1 + IDLE_MARGIN,
             "the SDK's token ended by its idle time", interval=0.1)
    conn.log.clear()
    assert conn.get("/vms").tag == "vms"
    assert [status for _, _, status in conn.log] == [401, 200, 200]
    conn.close()


def test_sdk_survives_a_restart(make_server):
    gh = make_server()
    conn = connect(gh)
    assert conn.test()
    gh.restart()
    conn.log.clear()
    assert conn.get("/hosts").tag == "hosts"
    assert conn.log == [("GET", API + "/hosts", 200)]
    conn.close()
