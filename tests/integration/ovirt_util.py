"""ovirt_util.py: what the oVirt integration tests share: the endpoints, the
token request as the engine's clients send it, the checks the Python SDK
(ovirtsdk4) makes on each answer, and curl, run as the vendor's guide writes
its walkthroughs. ovirtsdk4 is not packaged for Debian 12
(python3-ovirt-engine-sdk4 is unknown to apt), so test_ovirt_sdk.py replays
its requests with requests, written from its source at 4.6.2."""

import re
import subprocess
import xml.etree.ElementTree as ET

API = "/ovirt-engine/api"
TOKEN = "/ovirt-engine/sso/oauth/token"
LOGOUT = "/ovirt-engine/services/sso-logout"
PKI = "/ovirt-engine/services/pki-resource"
CA_QUERY = "?resource=ca-certificate&format=X509-PEM-CA"

# The SDK's own checks of content types (ovirtsdk4/__init__.py, 4.6.2).
XML_TYPE_RE = re.compile(r"^\s*(application|text)/xml\s*(;.*)?$")
JSON_TYPE_RE = re.compile(r"^\s*(application|text)/json\s*(;.*)?$")

SDK_USER_AGENT = "PythonSDK/4.6.2"


def token_request(server, username="admin@internal", password=None, scope="ovirt-app-api",
                  accept="application/json", extra=None, method="POST"):
    """POST (or GET with a query) a password grant; returns the response."""
    if password is None:
        password = server.users[username.split("@")[0]]
    server.secrets.add(password)
    params = {"grant_type": "password", "username": username, "password": password}
    if scope is not None:
        params["scope"] = scope
    params.update(extra or {})
    headers = {"Accept": accept} if accept is not None else {}
    if method == "GET":
        return server.request("GET", TOKEN, params=params, headers=headers)
    return server.request("POST", TOKEN, data=params, headers=headers)


def get_token(server, username="admin@internal", password=None):
    r = token_request(server, username, password)
    assert r.status_code == 200, f"{r.status_code} {r.text}"
    token = r.json()["access_token"]
    server.secrets.add(token)
    return token


def bearer(token, **headers):
    return {"Authorization": f"Bearer {token}", **headers}


def xml_of(r):
    assert XML_TYPE_RE.match(r.headers.get("Content-Type", "")), r.headers
    return ET.fromstring(r.content)


def curl(server, *args, check=True):
    """Run curl with the server's CA; returns the CompletedProcess (text)."""
    cmd = ["curl", "--silent", "--show-error", "--cacert", server.ca, *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    if check:
        assert p.returncode == 0, f"{' '.join(cmd)}: {p.returncode} {p.stderr}"
    return p


def curl_status_and_headers(output):
    """(status, {lower-case name: value}, body) of `curl --include` output;
    the last response counts."""
    head, _, body = output.replace("\r\n", "\n").partition("\n\n")
    lines = head.split("\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def cookie_value(set_cookie):
    """The JSESSIONID value of a Set-Cookie header."""
    m = re.match(r"JSESSIONID=([^;]*)", set_cookie or "")
    assert m, f"no JSESSIONID in {set_cookie!r}"
    return m.group(1)
