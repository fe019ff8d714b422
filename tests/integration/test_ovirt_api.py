"""The oVirt API over real HTTPS: who may read it (Bearer, Basic
user@profile), the <api> root in XML and JSON, HEAD, versions, content
negotiation, the bundled collections and their members, faults, and writes
refused. Persistent-auth sessions are in test_ovirt_persistent.py."""

import pytest

from ovirt_util import API, bearer, get_token, xml_of

VM1 = "0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d"


@pytest.fixture(scope="module")
def admin_token(server):
    return get_token(server)


def test_unauthenticated_is_refused_as_the_engine_does(server):
    for path in (API, API + "/", API + "/vms", API + "/v4/hosts", "/ovirt-engine/webadmin"):
        r = server.get(path)
        assert r.status_code == 401, path
        assert r.reason == "Authorization Required"
        assert r.headers["WWW-Authenticate"] == 'Basic realm="RESTAPI"'
    for auth in (("admin", server.admin_password), ("admin@internal", "Wrong-Password-3"),
                 ("admin@elsewhere", server.admin_password)):
        assert server.get(API, auth=auth).status_code == 401, auth[0]
    r = server.get(API, headers={"Authorization": "Bearer " + "f" * 64})
    assert r.status_code == 401
    r = server.get(API, headers={"Authorization": "Basic %%%"})
    assert r.status_code == 400
    # A Redfish session is no oVirt token.
    token, location, _, _ = server.login()
    assert server.get(API, headers=bearer(token)).status_code == 401
    server.logout(token, location)


def test_root_xml(server, admin_token):
    r = server.get(API, headers=bearer(admin_token, Accept="application/xml"))
    assert r.status_code == 200
    api = xml_of(r)
    assert api.tag == "api"
    assert api.findtext("product_info/name") == "oVirt Engine"
    assert api.findtext("product_info/version/major") == "4"
    rels = {link.get("rel"): link.get("href") for link in api.findall("link")}
    assert rels == {"vms": API + "/vms", "hosts": API + "/hosts", "clusters": API + "/clusters"}
    user = api.find("authenticated_user")
    assert user.get("id") and user.get("href") == f"{API}/users/{user.get('id')}"
    assert api.find("effective_user").get("id") == user.get("id")
    assert api.findtext("time")
    # An Administrator's root has the summary.
    assert api.findtext("summary/vms/total") == "3"
    assert api.findtext("summary/hosts/active") == "1"
    assert int(api.findtext("summary/users/total")) >= 3
    # XML is the default too.
    assert xml_of(server.get(API, headers=bearer(admin_token))).tag == "api"


def test_root_json_and_summary_for_administrators_only(server, admin_token):
    r = server.get(API, headers=bearer(admin_token, Accept="application/json"))
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    doc = r.json()
    assert doc["product_info"]["vendor"]
    assert isinstance(doc["time"], int)
    assert {link["rel"] for link in doc["link"]} == {"vms", "hosts", "clusters"}
    assert doc["summary"]["vms"] == {"active": "2", "total": "3"}
    r = server.get(API, auth=("reader@internal", server.users["reader"]),
                   headers={"Accept": "application/json"})
    assert r.status_code == 200
    assert "summary" not in r.json()
    assert r.json()["authenticated_user"]["id"] != doc["authenticated_user"]["id"]


def test_head(server):
    r = server.request("HEAD", API, auth=("admin@internal", server.admin_password))
    assert r.status_code == 200
    assert r.content == b""
    link = r.headers["Link"]
    for rel in ("vms", "hosts", "clusters"):
        assert f"<{API}/{rel}>; rel={rel}" in link


@pytest.mark.parametrize("path,version,status", [
    (API, "4", 200), (API, "3", 200), (API, "5", 400), (API, "four", 400),
    (API + "/v4", None, 200), (API + "/v4/vms", None, 200), (API + "/v3/hosts", None, 200),
    (API + "/v5/vms", None, 400), (API + "/v4/vms", "2", 200),
])
def test_versions(server, admin_token, path, version, status):
    headers = bearer(admin_token)
    if version is not None:
        headers["Version"] = version
    r = server.get(path, headers=headers)
    assert r.status_code == status, r.text


def test_collections_and_members(server, admin_token):
    for kind, member, count in (("vms", "vm", 3), ("hosts", "host", 2), ("clusters", "cluster", 2)):
        x = xml_of(server.get(f"{API}/{kind}", headers=bearer(admin_token,
                                                                Accept="application/xml")))
        assert x.tag == kind and len(x.findall(member)) == count
        j = server.get(f"{API}/{kind}", headers=bearer(admin_token, Accept="application/json"))
        assert j.status_code == 200
        items = j.json()[member]
        assert len(items) == count
        for item in items:
            assert item["href"] == f"{API}/{kind}/{item['id']}"
            one = server.get(item["href"], headers=bearer(admin_token, Accept="application/json"))
            assert one.status_code == 200 and one.json()["id"] == item["id"]
            one = xml_of(server.get(item["href"], headers=bearer(admin_token)))
            assert one.tag == member and one.get("id") == item["id"]
    vm = xml_of(server.get(f"{API}/v4/vms/{VM1}/", headers=bearer(admin_token)))
    assert vm.findtext("name") == "web01" and vm.findtext("status") == "up"
    assert vm.find("cluster").get("href").startswith(API + "/clusters/")


def test_faults_and_refusals(server, admin_token):
    r = server.get(API + "/storagedomains", headers=bearer(admin_token))
    assert r.status_code == 404
    fault = xml_of(r)
    assert fault.tag == "fault" and fault.findtext("reason") == "Not Found"
    r = server.get(f"{API}/vms/nope", headers=bearer(admin_token, Accept="application/json"))
    assert r.status_code == 404 and r.json()["reason"] == "Not Found"
    r = server.get(API + "/vms", headers=bearer(admin_token, Accept="text/html"))
    assert r.status_code == 406
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        r = server.request(method, f"{API}/vms", data="<vm><name>x</name></vm>",
                           headers=bearer(admin_token, **{"Content-Type": "application/xml"}))
        assert r.status_code == 405, method
        assert r.headers["Allow"] == "GET, HEAD"
        assert xml_of(r).findtext("reason") == "Method Not Allowed"


def test_basic_user_at_profile(server):
    r = server.get(API + "/vms", auth=("operator@internal", server.users["operator"]),
                   headers={"Accept": "application/json"})
    assert r.status_code == 200
    assert len(r.json()["vm"]) == 3
    r = server.get(API + "/hosts", auth=("admin@ovirt@internalsso", server.admin_password))
    assert r.status_code == 200


def test_password_change_pending_is_refused(make_server):
    gh = make_server()
    pw = gh.add_user("newbie", "ReadOnly")
    with gh.admin() as s:
        accounts = s.get(gh.url + "/redfish/v1/AccountService/Accounts", timeout=10).json()
        for m in accounts["Members"]:
            acct = s.get(gh.url + m["@odata.id"], timeout=10).json()
            if acct["UserName"] == "newbie":
                r = s.patch(gh.url + m["@odata.id"], json={"PasswordChangeRequired": True},
                            headers={"If-Match": s.get(gh.url + m["@odata.id"],
                                                       timeout=10).headers["ETag"]},
                            timeout=10)
                assert r.status_code in (200, 204), r.text
    assert gh.get(API, auth=("newbie@internal", pw)).status_code == 401
    r = gh.request("POST", "/ovirt-engine/sso/oauth/token", headers={"Accept": "application/json"},
                   data={"grant_type": "password", "scope": "ovirt-app-api",
                         "username": "newbie@internal", "password": pw})
    assert r.status_code == 400
    assert r.json()["error"] == ("Cannot authenticate user 'newbie@internal': Unable to log in "
                                 "because the password has expired.")
