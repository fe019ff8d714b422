"""The oVirt / RHV REST API guide's curl walkthroughs, run with curl as
written (the server's CA instead of --insecure): the CA download over plain
HTTP and HTTPS, the SSO token request, a Bearer GET of the VMs in XML, a
Basic HEAD of the API root, and the three steps of persistent authentication."""

import json
import re
import subprocess
import xml.etree.ElementTree as ET

from ovirt_util import API, CA_QUERY, PKI, TOKEN, cookie_value, curl, curl_status_and_headers

PEM_RE = re.compile(r"-----BEGIN CERTIFICATE-----\n.*?-----END CERTIFICATE-----\n", re.S)


def chain_from_s_client(server):
    """The certificates `openssl s_client -showcerts` shows, in order."""
    p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{server.port}",
                        "-showcerts", "-servername", "localhost"],
                       input="", capture_output=True, text=True, timeout=30)
    certs = PEM_RE.findall(p.stdout)
    assert len(certs) >= 2, p.stdout[:2000]
    return certs


def test_ca_download_over_http_and_https(server):
    last = chain_from_s_client(server)[-1]
    for base in (server.http_url, server.url):
        p = curl(server, "--output", "-", f"{base}{PKI}{CA_QUERY}")
        assert p.stdout == last, base
    # As the guide's other spelling: the format left to its default.
    p = curl(server, "--include", f"{server.http_url}{PKI}?resource=ca-certificate")
    status, headers, body = curl_status_and_headers(p.stdout)
    assert status == 200
    assert headers["content-type"] == "application/x-x509-ca-cert"
    assert body == last
    # The server's own certificate: the first the handshake shows.
    p = curl(server, "--output", "-",
             f"{server.url}{PKI}?resource=engine-certificate&format=X509-PEM")
    assert p.stdout == chain_from_s_client(server)[0]
    for query in ("?resource=nothing", "?resource=ca-certificate&format=PKCS12", ""):
        p = curl(server, "--include", f"{server.http_url}{PKI}{query}")
        assert curl_status_and_headers(p.stdout)[0] == 400, query


def test_token_then_bearer_get_of_vms(server):
    password = server.admin_password
    # The guide's token request: a GET with everything in the query.
    p = curl(server, "--header", "Accept: application/json",
             f"{server.url}{TOKEN}?grant_type=password&scope=ovirt-app-api"
             f"&username=admin%40internal&password={password}")
    doc = json.loads(p.stdout)
    token = doc["access_token"]
    server.secrets.add(token)
    assert doc["token_type"] == "bearer"
    assert doc["scope"] == "ovirt-app-api"
    assert doc["exp"].isdigit()
    # And as a form POST, the way --data sends it.
    p = curl(server, "--header", "Accept: application/json",
             "--data", f"grant_type=password&scope=ovirt-app-api&username=admin%40internal"
                       f"&password={password}", f"{server.url}{TOKEN}")
    server.secrets.add(json.loads(p.stdout)["access_token"])

    p = curl(server, "--include", "--header", "Accept: application/xml",
             "--header", f"Authorization: Bearer {token}", f"{server.url}{API}/vms")
    status, headers, body = curl_status_and_headers(p.stdout)
    assert status == 200
    assert headers["content-type"].startswith("application/xml")
    vms = ET.fromstring(body)
    assert vms.tag == "vms"
    names = [vm.findtext("name") for vm in vms.findall("vm")]
    assert "web01" in names and len(names) == 3
    for vm in vms.findall("vm"):
        assert vm.get("href") == f"{API}/vms/{vm.get('id')}"


def test_basic_head_of_the_api(server):
    p = curl(server, "--head", "--user", f"admin@internal:{server.admin_password}",
             f"{server.url}{API}")
    status, headers, body = curl_status_and_headers(p.stdout)
    assert status == 200
    assert body == ""
    assert "rel=vms" in headers["link"] and f"<{API}/hosts>" in headers["link"]
    # Without the profile, with a wrong one, or with no credentials: the engine's 401.
    for user in ("admin", "admin@nosuchprofile"):
        p = curl(server, "--head", "--user", f"{user}:{server.admin_password}",
                 f"{server.url}{API}")
        status, headers, _ = curl_status_and_headers(p.stdout)
        assert status == 401, user
    # The reason phrase is only in HTTP/1.1's status line.
    p = curl(server, "--http1.1", "--include", f"{server.url}{API}")
    status, headers, _ = curl_status_and_headers(p.stdout)
    assert p.stdout.startswith("HTTP/1.1 401 Authorization Required\n"), p.stdout[:100]
    assert headers["www-authenticate"] == 'Basic realm="RESTAPI"'


def test_persistent_authentication_three_steps(server):
    url = f"{server.url}{API}"
    # 1. Credentials once, with the preference: a session cookie comes back.
    p = curl(server, "--head", "--user", f"admin@internal:{server.admin_password}",
             "--header", "Prefer: persistent-auth", url)
    status, headers, _ = curl_status_and_headers(p.stdout)
    assert status == 200
    set_cookie = headers["set-cookie"]
    assert "Path=/ovirt-engine/api" in set_cookie
    assert "Secure" in set_cookie and "HttpOnly" in set_cookie
    session = cookie_value(set_cookie)
    server.secrets.add(session)
    # 2. The cookie and the preference, no credentials: served, again and again.
    for _ in range(2):
        p = curl(server, "--include", "--header", "Accept: application/xml",
                 "--header", f"Cookie: JSESSIONID={session}",
                 "--header", "Prefer: persistent-auth", url)
        status, headers, body = curl_status_and_headers(p.stdout)
        assert status == 200, p.stdout[:300]
        assert ET.fromstring(body).tag == "api"
        assert "set-cookie" not in headers
    # 3. The cookie without the preference: served once more, and the session is closed.
    p = curl(server, "--include", "--header", "Accept: application/xml",
             "--header", f"Cookie: JSESSIONID={session}", url)
    status, _, body = curl_status_and_headers(p.stdout)
    assert status == 200
    assert ET.fromstring(body).tag == "api"
    p = curl(server, "--include", "--header", f"Cookie: JSESSIONID={session}",
             "--header", "Prefer: persistent-auth", url)
    assert curl_status_and_headers(p.stdout)[0] == 401
