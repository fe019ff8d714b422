"""Redfish over real HTTPS: the open documents, the refusal of everything
else without credentials, path matching, the service root, the whole
resource tree as a crawler walks it, and the headers every response carries."""

import json
from collections import deque

import pytest

from gatehouse_harness import ACCOUNTS, ROLES, SESSIONS, assert_redfish_error

OPEN_JSON = ["/redfish/v1", "/redfish/v1/", "/redfish/v1/odata"]

# Paths that must refuse a request without credentials.
CLOSED = [
    "/redfish/v1/Systems",
    "/redfish/v1/Systems/1",
    "/redfish/v1/Chassis",
    "/redfish/v1/Managers/1",
    "/redfish/v1/SessionService",
    SESSIONS,
    "/redfish/v1/AccountService",
    ACCOUNTS,
    ROLES,
    ROLES + "/Administrator",
    "/redfish/v1/NoSuchThing",
    "/redfish/v1/Systems/1/NoSuchThing",
]


def assert_no_valid_session(r):
    body = assert_redfish_error(r, 401, "NoValidSession")
    assert r.headers.get("WWW-Authenticate") == 'Basic realm="Redfish"', r.headers
    return body


# ------------------------------------------------------------ open documents

def test_versions_document(server):
    r = server.get("/redfish")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json() == {"v1": "/redfish/v1/"}
    r2 = server.get("/redfish/")
    assert r2.status_code == 200 and r2.json() == {"v1": "/redfish/v1/"}


@pytest.mark.parametrize("path", OPEN_JSON)
def test_open_json_documents(server, path):
    r = server.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json"), r.headers
    r.json()


def test_odata_service_document(server):
    doc = server.get("/redfish/v1/odata").json()
    assert doc["@odata.context"] == "/redfish/v1/$metadata"
    urls = {v["name"]: v["url"] for v in doc["value"]}
    assert urls["Service"] == "/redfish/v1/"
    assert urls["Sessions"] == SESSIONS
    assert {"SessionService", "AccountService", "Systems", "Chassis", "Managers"} <= set(urls)


def test_metadata_document(server):
    r = server.get("/redfish/v1/$metadata")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/xml"), r.headers
    assert r.headers["OData-Version"] == "4.0"
    assert b"<edmx:Edmx" in r.content
    # Every schema the tree uses in @odata.type is referenced.
    for ns in ("ServiceRoot", "SessionService", "Session", "AccountService", "ManagerAccount",
               "Role", "ComputerSystem", "Chassis", "Manager"):
        assert f'Namespace="{ns}"'.encode() in r.content, ns


def test_open_documents_ignore_bad_credentials(server):
    """An open document stays open when the client sends credentials that
    are wrong (clients probe the root before logging in)."""
    with server.session(auth=("admin", "definitely-not-it-123")) as s:
        r = s.get(server.url + "/redfish/v1/", timeout=10)
    assert r.status_code == 200, r.text


# -------------------------------------------------- everything else is closed

@pytest.mark.parametrize("path", CLOSED)
def test_closed_without_credentials(server, path):
    assert_no_valid_session(server.get(path))


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE", "PUT"])
def test_closed_writes_without_credentials(server, method):
    r = server.request(method, "/redfish/v1/Systems/1", json={"AssetTag": "x"})
    assert_no_valid_session(r)


def test_closed_with_wrong_basic(server):
    with server.session(auth=("admin", "wrong-password-123")) as s:
        r = s.get(server.url + "/redfish/v1/Systems", timeout=10)
    assert_no_valid_session(r)
    assert "wrong-password-123" not in r.text


def test_closed_with_unknown_token(server):
    r = server.get("/redfish/v1/Systems", headers={"X-Auth-Token": "ab" * 32})
    assert_no_valid_session(r)


def test_head_is_closed_too(server):
    r = server.request("HEAD", "/redfish/v1/Systems")
    assert r.status_code == 401
    assert r.headers.get("WWW-Authenticate") == 'Basic realm="Redfish"'


def test_unauthenticated_if_none_match_gets_401_not_304(server):
    with server.admin() as s:
        r = s.get(server.url + "/redfish/v1/Systems/1", timeout=10)
    assert r.status_code == 200
    etag = r.headers.get("ETag")
    assert etag, "a tree resource carries an ETag"
    # With credentials the ETag is honoured...
    with server.admin() as s:
        r = s.get(server.url + "/redfish/v1/Systems/1", headers={"If-None-Match": etag},
                  timeout=10)
    assert r.status_code == 304
    # ...without them it is not looked at.
    r = server.get("/redfish/v1/Systems/1", headers={"If-None-Match": etag})
    assert_no_valid_session(r)
    r = server.get("/redfish/v1/Systems/1", headers={"If-None-Match": "*"})
    assert_no_valid_session(r)


def test_sessions_collection_get_is_closed_post_is_open(server):
    assert_no_valid_session(server.get(SESSIONS))
    # POST is the login: open, and refuses bad credentials by itself.
    r = server.request("POST", SESSIONS, json={"UserName": "admin", "Password": "nope-nope-1"})
    assert r.status_code == 401


# ------------------------------------------------------------ path matching

@pytest.mark.parametrize("path,canonical", [
    ("/redfish/v1/systems", "/redfish/v1/Systems"),
    ("/REDFISH/V1/SYSTEMS/", "/redfish/v1/Systems"),
    ("/redfish/v1/Systems/", "/redfish/v1/Systems"),
    ("/redfish/v1/systems/1", "/redfish/v1/Systems/1"),
    ("/Redfish/V1/Systems/1/", "/redfish/v1/Systems/1"),
    ("/redfish/v1/chassis/1/", "/redfish/v1/Chassis/1"),
    ("/redfish/v1/managers/1/networkprotocol", "/redfish/v1/Managers/1/NetworkProtocol"),
    ("/redfish/v1/sessionservice", "/redfish/v1/SessionService"),
    ("/redfish/v1/SessionService/", "/redfish/v1/SessionService"),
    ("/redfish/v1/accountservice/accounts/", ACCOUNTS),
    ("/redfish/v1/AccountService/roles/administrator", ROLES + "/Administrator"),
])
def test_path_case_and_trailing_slash(server, path, canonical):
    with server.admin() as s:
        r = s.get(server.url + path, timeout=10)
    assert r.status_code == 200, f"{path}: {r.status_code} {r.text[:300]}"
    assert r.json()["@odata.id"] == canonical


def test_root_with_and_without_slash_and_case(server):
    a = server.get("/redfish/v1").json()
    b = server.get("/redfish/v1/").json()
    c = server.get("/REDFISH/V1/").json()
    assert a == b == c
    assert a["@odata.id"] == "/redfish/v1/"


def test_ilo_guide_curl_example(server):
    """The iLO guide's `curl https://ilo/redfish/v1/systems/1/ -u user:pw`."""
    import subprocess
    p = subprocess.run(["curl", "-sS", "--fail", "--cacert", server.ca,
                        "-u", f"admin:{server.admin_password}",
                        server.url + "/redfish/v1/systems/1/"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["@odata.id"] == "/redfish/v1/Systems/1"


def test_unknown_path_is_404_with_redfish_error(server):
    with server.admin() as s:
        r = s.get(server.url + "/redfish/v1/Systems/2", timeout=10)
    assert r.status_code == 404, r.text
    body = r.json()
    assert "error" in body and body["error"]["@Message.ExtendedInfo"], body


# ------------------------------------------------------------- service root

def test_service_root_fields(server):
    root = server.get("/redfish/v1/").json()
    for k in ("@odata.id", "@odata.type", "Id", "Name", "RedfishVersion", "UUID"):
        assert root.get(k), k
    assert root["@odata.type"].startswith("#ServiceRoot.")
    assert root["SessionService"] == {"@odata.id": "/redfish/v1/SessionService"}
    assert root["AccountService"] == {"@odata.id": "/redfish/v1/AccountService"}
    for coll in ("Systems", "Chassis", "Managers"):
        assert root[coll] == {"@odata.id": f"/redfish/v1/{coll}"}
    assert root["Links"]["Sessions"] == {"@odata.id": SESSIONS}


def test_links_sessions_equals_session_service_sessions(server):
    root = server.get("/redfish/v1/").json()
    with server.admin() as s:
        ss = s.get(server.url + root["SessionService"]["@odata.id"], timeout=10).json()
    assert root["Links"]["Sessions"]["@odata.id"] == ss["Sessions"]["@odata.id"]


def test_session_service_fields(server):
    with server.admin() as s:
        ss = s.get(server.url + "/redfish/v1/SessionService", timeout=10).json()
    assert ss["ServiceEnabled"] is True
    assert isinstance(ss["SessionTimeout"], int)
    assert 30 <= ss["SessionTimeout"] <= 86400


# ------------------------------------------------------------ the whole tree

def _links(doc):
    """Every @odata.id below the top level of doc (what a crawler follows)."""
    out = []

    def walk(v, top):
        if isinstance(v, dict):
            if not top and isinstance(v.get("@odata.id"), str):
                out.append(v["@odata.id"])
            for k, x in v.items():
                walk(x, False)
        elif isinstance(v, list):
            for x in v:
                walk(x, False)
    walk(doc, True)
    return out


def test_crawl_every_resource(server):
    """Walk the tree from the root following @odata.id links; every resource
    answers 200 with @odata.id (equal to where it was found), @odata.type, and
    Name; every non-collection also Id (sushy refuses resources without them)."""
    token, location, _, _ = server.login()
    seen = {}
    queue = deque(["/redfish/v1/"])
    try:
        with server.session(token=token) as s:
            while queue:
                path = queue.popleft()
                key = path.rstrip("/").split("#")[0].lower() or "/"
                if key in seen:
                    continue
                r = s.get(server.url + path.split("#")[0], timeout=10)
                assert r.status_code == 200, f"{path}: {r.status_code} {r.text[:300]}"
                assert r.headers["Content-Type"].startswith("application/json"), path
                assert r.headers.get("OData-Version") == "4.0", path
                doc = r.json()
                seen[key] = doc
                for k in ("@odata.id", "@odata.type", "Name"):
                    assert isinstance(doc.get(k), str) and doc[k], f"{path} lacks {k}: {doc}"
                assert doc["@odata.id"].rstrip("/") == path.split("#")[0].rstrip("/"), path
                assert doc["@odata.type"].startswith("#"), path
                is_collection = "Collection." in doc["@odata.type"]
                if is_collection:
                    assert isinstance(doc.get("Members"), list), path
                    assert doc.get("Members@odata.count") == len(doc["Members"]), path
                else:
                    assert isinstance(doc.get("Id"), str) and doc["Id"], f"{path} lacks Id"
                for link in _links(doc):
                    if link.startswith("/redfish/v1"):
                        queue.append(link)
    finally:
        server.logout(token, location)
    must = {"/redfish/v1", "/redfish/v1/systems", "/redfish/v1/systems/1",
            "/redfish/v1/chassis", "/redfish/v1/chassis/1", "/redfish/v1/managers",
            "/redfish/v1/managers/1", "/redfish/v1/sessionservice",
            SESSIONS.lower(), "/redfish/v1/accountservice", ACCOUNTS.lower(),
            ROLES.lower(), (ROLES + "/Administrator").lower(), (ROLES + "/Operator").lower(),
            (ROLES + "/ReadOnly").lower()}
    assert must <= set(seen), f"not reached: {must - set(seen)}"


# --------------------------------------------------------- headers, methods

def _sample_responses(server):
    token, location, _, login = server.login()
    out = [("login", login)]
    with server.session(token=token) as s:
        for p in ["/redfish", "/redfish/v1/", "/redfish/v1/odata", "/redfish/v1/Systems",
                  "/redfish/v1/Systems/1", "/redfish/v1/SessionService", SESSIONS, location,
                  "/redfish/v1/AccountService", ACCOUNTS, ROLES, "/redfish/v1/nothing-here"]:
            out.append((f"GET {p}", s.get(server.url + p, timeout=10)))
        out.append(("POST tree", s.post(server.url + "/redfish/v1/Systems", json={}, timeout=10)))
        out.append(("bad OData-Version", s.get(server.url + "/redfish/v1/Systems",
                                               headers={"OData-Version": "4.1"}, timeout=10)))
    out.append(("401", server.get("/redfish/v1/Systems")))
    out.append(("bad login", server.request("POST", SESSIONS, data=b"{nope")))
    server.logout(token, location)
    return out


def test_every_response_has_odata_version_cache_control_json(server):
    for what, r in _sample_responses(server):
        assert r.headers.get("OData-Version") == "4.0", f"{what}: {dict(r.headers)}"
        assert r.headers.get("Cache-Control"), f"{what}: {dict(r.headers)}"
        if r.status_code != 204:
            assert r.headers.get("Content-Type", "").startswith("application/json"), \
                f"{what}: {r.status_code} {dict(r.headers)}"


def test_hsts_on_https_responses(server):
    for what, r in _sample_responses(server):
        hsts = r.headers.get("Strict-Transport-Security", "")
        assert "max-age=" in hsts, f"{what} ({r.status_code}): no HSTS: {dict(r.headers)}"
        age = int(hsts.split("max-age=")[1].split(";")[0].strip())
        assert age >= 86400, hsts


@pytest.mark.parametrize("version", ["4.1", "5.0", "3.0", "garbage"])
def test_odata_version_other_than_4_0_is_412(server, version):
    with server.admin() as s:
        r = s.get(server.url + "/redfish/v1/Systems", headers={"OData-Version": version},
                  timeout=10)
    assert r.status_code == 412, r.text
    assert r.headers["OData-Version"] == "4.0"
    assert "error" in r.json()


def test_odata_version_4_0_accepted(server):
    with server.admin() as s:
        r = s.get(server.url + "/redfish/v1/Systems", headers={"OData-Version": "4.0"},
                  timeout=10)
    assert r.status_code == 200


@pytest.mark.parametrize("method", ["POST", "PATCH", "PUT", "DELETE"])
@pytest.mark.parametrize("path", ["/redfish/v1/Systems", "/redfish/v1/Systems/1",
                                  "/redfish/v1/Chassis/1", "/redfish/v1/Managers/1"])
def test_tree_writes_are_405_with_allow(server, method, path):
    with server.admin() as s:
        r = s.request(method, server.url + path, json={"AssetTag": "x"}, timeout=10)
    assert r.status_code == 405, f"{method} {path}: {r.status_code} {r.text[:300]}"
    allow = {m.strip() for m in r.headers.get("Allow", "").split(",")}
    assert "GET" in allow and method not in allow, r.headers
    assert "error" in r.json()


@pytest.mark.parametrize("path", ["/redfish", "/redfish/v1/", "/redfish/v1/odata"])
def test_open_documents_refuse_writes(server, path):
    with server.admin() as s:
        r = s.post(server.url + path, json={}, timeout=10)
    assert r.status_code == 405, r.text
    assert "GET" in r.headers.get("Allow", "")


def test_unauthenticated_write_is_401_before_405(server):
    """Authentication comes first: a write without credentials is 401 even
    where the method is not allowed, and says nothing about the resource."""
    r = server.request("DELETE", "/redfish/v1/Systems/1")
    assert_no_valid_session(r)
    assert "Allow" not in r.headers
    assert "GH-1000" not in r.text


@pytest.mark.parametrize("method,path,allowed", [
    ("DELETE", "/redfish/v1/SessionService", {"GET", "PATCH"}),
    ("POST", "/redfish/v1/SessionService", {"GET", "PATCH"}),
    ("PUT", "/redfish/v1/AccountService", {"GET", "PATCH"}),
    ("DELETE", "/redfish/v1/AccountService", {"GET", "PATCH"}),
    ("PATCH", SESSIONS, {"GET", "POST"}),
    ("DELETE", SESSIONS, {"GET", "POST"}),
    ("PUT", ACCOUNTS, {"GET", "POST"}),
    ("DELETE", ACCOUNTS, {"GET", "POST"}),
])
def test_service_resources_405_with_allow(server, method, path, allowed):
    with server.admin() as s:
        r = s.request(method, server.url + path, json={}, timeout=10)
    assert r.status_code == 405, f"{method} {path}: {r.status_code} {r.text[:300]}"
    allow = {m.strip() for m in r.headers.get("Allow", "").split(",")}
    assert allowed <= allow and method not in allow, r.headers
    assert "error" in r.json()


def test_path_is_decoded_once(server):
    """The dialect sees the path as sent and decodes it once: an escaped
    letter names the same resource, an escaped '/' or an escaped escape
    names none (nginx's own decoding is not applied a second time)."""
    with server.admin() as s:
        same = s.get(server.url + "/redfish/v1/%53ystems/1", timeout=10)
        slash = s.get(server.url + "/redfish/v1/Systems%2F1", timeout=10)
        twice = s.get(server.url + "/redfish/v1/Systems/%2531", timeout=10)
    assert same.status_code == 200, same.text[:300]
    assert same.json()["@odata.id"] == "/redfish/v1/Systems/1"
    for r in (slash, twice):
        assert 400 <= r.status_code < 500, r.status_code
        assert r.status_code != 401
        assert "error" in r.json()
