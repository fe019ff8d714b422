"""What the DMTF Redfish Protocol Validator asserts beyond the basics in
test_redfish_protocol.py, over real HTTPS: Allow on GET/HEAD and on 405,
Link rel=describedby naming the schema of @odata.type, a PATCH of OData
annotations alone, the EntityContainer in the first Schema of $metadata, the
only and excerpt query parameters, and /redfish/v1/openapi.yaml describing
exactly the paths and methods the service answers."""

import re
import xml.etree.ElementTree as ET
from collections import deque

import pytest
import yaml

from gatehouse_harness import ACCOUNTS, ROLES, SESSIONS, assert_redfish_error

OPEN = ["/redfish/v1/", "/redfish/v1/odata", "/redfish/v1/$metadata", "/redfish/v1/openapi.yaml"]
METHODS = {"get", "head", "post", "patch", "delete", "put"}


def allow_of(r):
    return {m.strip() for m in r.headers.get("Allow", "").split(",") if m.strip()}


def crawl(server, s):
    """Every resource reachable from the root: {path: document}."""
    seen, queue = {}, deque(["/redfish/v1/"])
    while queue:
        path = queue.popleft()
        key = path.rstrip("/").lower()
        if key in seen:
            continue
        r = s.get(server.url + path, timeout=10)
        assert r.status_code == 200, f"{path}: {r.status_code}"
        seen[key] = (path, r.json())

        def walk(v, top):
            if isinstance(v, dict):
                if not top and isinstance(v.get("@odata.id"), str):
                    queue.append(v["@odata.id"].split("#")[0])
                for x in v.values():
                    walk(x, False)
            elif isinstance(v, list):
                for x in v:
                    walk(x, False)
        walk(seen[key][1], True)
    return {p: d for p, d in seen.values()}


# ------------------------------------------------------------------- Allow

@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_service_root_allow_on_get_and_head(server, method):
    r = server.request(method, "/redfish/v1/")
    assert r.status_code == 200
    assert allow_of(r) == {"GET", "HEAD"}, r.headers


@pytest.mark.parametrize("path,allowed", [
    ("/redfish", {"GET", "HEAD"}),
    ("/redfish/v1/odata", {"GET", "HEAD"}),
    ("/redfish/v1/$metadata", {"GET", "HEAD"}),
    ("/redfish/v1/Systems", {"GET", "HEAD"}),
    ("/redfish/v1/Systems/1", {"GET", "HEAD"}),
    ("/redfish/v1/SessionService", {"GET", "HEAD", "PATCH"}),
    (SESSIONS, {"GET", "HEAD", "POST"}),
    ("/redfish/v1/AccountService", {"GET", "HEAD", "PATCH"}),
    (ACCOUNTS, {"GET", "HEAD", "POST"}),
    (ROLES, {"GET", "HEAD"}),
    (ROLES + "/Operator", {"GET", "HEAD"}),
])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_allow_names_the_methods_of_each_resource(server, path, allowed, method):
    with server.admin() as s:
        r = s.request(method, server.url + path, timeout=10)
    assert r.status_code == 200, r.text[:300]
    assert allow_of(r) == allowed, f"{method} {path}: {r.headers}"


def test_allow_of_accounts_and_sessions(server):
    """A session can be deleted; an account can be changed and deleted, but
    the built-in account cannot be deleted, so its Allow leaves DELETE out."""
    name = "allow-probe"
    server.add_user(name, role="ReadOnly")
    token, location, _, _ = server.login()
    try:
        with server.session(token=token) as s:
            r = s.get(server.url + location, timeout=10)
            assert r.status_code == 200
            assert allow_of(r) == {"GET", "HEAD", "DELETE"}, r.headers
            members = s.get(server.url + ACCOUNTS, timeout=10).json()["Members"]
            by_name = {}
            for m in members:
                a = s.get(server.url + m["@odata.id"], timeout=10)
                by_name[a.json()["UserName"]] = a
    finally:
        server.logout(token, location)
    assert allow_of(by_name[name]) == {"GET", "HEAD", "PATCH", "DELETE"}, by_name[name].headers
    assert allow_of(by_name["admin"]) == {"GET", "HEAD", "PATCH"}, by_name["admin"].headers
    server.cli("user", "del", name)


def test_405_carries_allow(server):
    with server.admin() as s:
        r = s.request("DELETE", server.url + "/redfish/v1/Systems/1", timeout=10)
        members = s.request("GET", server.url + SESSIONS + "/Members", timeout=10)
    assert r.status_code == 405 and allow_of(r) == {"GET", "HEAD"}, r.headers
    assert members.status_code == 405 and allow_of(members) == {"POST"}, members.headers


# -------------------------------------------------------------------- Link

LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?describedby"?')


def described_by(r):
    m = LINK.search(r.headers.get("Link", ""))
    return m.group(1) if m else None


def schema_of(odata_type):
    """The JSON schema file a @odata.type names: versioned when it is."""
    parts = odata_type.lstrip("#").split(".")
    return ".".join(parts[:2] if len(parts) == 3 else parts[:1]) + ".json"


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_link_describedby_on_every_resource(server, method):
    """The validator's rule, on every resource a crawler reaches: a Link
    rel=describedby whose file is the schema (and version) of @odata.type."""
    token, location, _, _ = server.login()
    try:
        with server.session(token=token) as s:
            docs = crawl(server, s)
            for path, doc in docs.items():
                r = s.request(method, server.url + path, timeout=10)
                assert r.status_code == 200, path
                url = described_by(r)
                assert url, f"{method} {path}: no Link rel=describedby: {r.headers}"
                assert url.startswith("http://redfish.dmtf.org/schemas/v1/"), url
                assert url.rsplit("/", 1)[1] == schema_of(doc["@odata.type"]), (path, url)
    finally:
        server.logout(token, location)
    assert len(docs) >= 15


def test_link_on_service_root_is_versioned(server):
    r = server.get("/redfish/v1/")
    assert described_by(r) == "http://redfish.dmtf.org/schemas/v1/ServiceRoot.v1_5_0.json"
    assert r.json()["@odata.type"] == "#ServiceRoot.v1_5_0.ServiceRoot"


def test_no_link_on_errors(server):
    r = server.get("/redfish/v1/Systems")
    assert r.status_code == 401 and described_by(r) is None


# ------------------------------------------------- PATCH of annotations only

@pytest.mark.parametrize("target", ["own", "SessionService", "AccountService"])
def test_patch_of_odata_annotations_only_is_no_operation(server, target):
    """The validator PATCHes {"@odata.id": ...} alone: 400 NoOperation (or
    success); EmptyJSON is for a body with nothing in it at all."""
    with server.admin() as s:
        if target == "own":
            path = next(m["@odata.id"] for m in s.get(server.url + ACCOUNTS, timeout=10)
                        .json()["Members"]
                        if s.get(server.url + m["@odata.id"], timeout=10).json()["UserName"]
                        == "admin")
        else:
            path = "/redfish/v1/" + target
        before = s.get(server.url + path, timeout=10).json()
        r = s.patch(server.url + path, json={"@odata.id": path + "/"}, timeout=10)
        empty = s.patch(server.url + path, json={}, timeout=10)
        after = s.get(server.url + path, timeout=10).json()
    assert_redfish_error(r, 400, "NoOperation")
    assert_redfish_error(empty, 400, "EmptyJSON")
    before.pop("@odata.etag", None)
    after.pop("@odata.etag", None)
    assert before == after


# ----------------------------------------------------------------- $metadata

def test_metadata_service_schema_with_entity_container_comes_first(server):
    """The validator reads the EntityContainer from the first Schema of
    DataServices."""
    r = server.get("/redfish/v1/$metadata")
    root = ET.fromstring(r.content)
    ns = {"edmx": "http://docs.oasis-open.org/odata/ns/edmx",
          "edm": "http://docs.oasis-open.org/odata/ns/edm"}
    first = root.find("edmx:DataServices", ns).find("edm:Schema", ns)
    assert first.get("Namespace") == "Service", ET.tostring(first)[:300]
    ec = first.find("edm:EntityContainer", ns)
    assert ec is not None and ec.get("Extends", "").startswith("ServiceRoot.v1_5_0."), ec


# ------------------------------------------------------ only and excerpt

def test_root_advertises_only_and_excerpt(server):
    f = server.get("/redfish/v1/").json()["ProtocolFeaturesSupported"]
    assert f["OnlyMemberQuery"] is True and f["ExcerptQuery"] is True, f
    assert f["SelectQuery"] is False and f["FilterQuery"] is False, f


@pytest.mark.parametrize("collection,member", [
    ("/redfish/v1/Systems", "/redfish/v1/Systems/1"),
    ("/redfish/v1/Chassis/1/Sensors", "/redfish/v1/Chassis/1/Sensors/CPU1Temp"),
    (ROLES, None),
])
def test_only_on_a_collection(server, collection, member):
    """A collection of one member answers with that member; one of several,
    with itself."""
    with server.admin() as s:
        whole = s.get(server.url + collection, timeout=10)
        r = s.get(server.url + collection + "?only", timeout=10)
        alone = s.get(server.url + member, timeout=10) if member else None
    assert r.status_code == 200, r.text[:300]
    if member is None:
        assert len(whole.json()["Members"]) > 1
        assert r.json() == whole.json()
    else:
        assert r.json() == alone.json()
        assert r.json()["@odata.id"] == member
        assert r.headers.get("ETag") == alone.headers.get("ETag")


def test_only_on_own_sessions(server):
    """A ReadOnly user sees only its own session: ?only is that session,
    readable as its own, never anyone else's."""
    name = "only-probe"
    server.add_user(name, role="ReadOnly")
    token, location, _, _ = server.login(name)
    try:
        with server.session(token=token) as s:
            r = s.get(server.url + SESSIONS + "?only", timeout=10)
    finally:
        server.logout(token, location)
        server.cli("user", "del", name)
    assert r.status_code == 200, r.text
    assert r.json()["@odata.id"] == location
    assert r.json()["UserName"] == name


def test_only_on_a_single_resource_is_400(server):
    with server.admin() as s:
        r = s.get(server.url + "/redfish/v1/Systems/1?only", timeout=10)
    assert_redfish_error(r, 400, "QueryNotSupportedOnResource")


@pytest.mark.parametrize("query", ["only=foo", "excerpt=foo", "only=1&x=2"])
def test_value_on_a_parameter_without_values_is_400(server, query):
    with server.admin() as s:
        r = s.get(server.url + SESSIONS + "?" + query, timeout=10)
    assert_redfish_error(r, 400, "QueryParameterValueFormatError")
    root = server.get("/redfish/v1/?" + query)
    assert_redfish_error(root, 400, "QueryParameterValueFormatError")


def test_only_with_another_query_parameter_is_400(server):
    with server.admin() as s:
        r = s.get(server.url + "/redfish/v1/Systems?only&excerpt", timeout=10)
    assert_redfish_error(r, 400, "QueryCombinationInvalid")


@pytest.mark.parametrize("query", ["$rpvunknown", "$expand=*", "%24top=1", "only&$top=1"])
def test_dollar_parameters_stay_501(server, query):
    r = server.get("/redfish/v1/?" + query)
    assert_redfish_error(r, 501, "QueryNotSupported")


def test_unknown_plain_parameters_are_ignored(server):
    r = server.get("/redfish/v1/?rpvunknown=1&onlyx&excerpts")
    assert r.status_code == 200
    assert r.json() == server.get("/redfish/v1/").json()


def test_excerpt_of_a_sensor(server):
    """Sensor annotates Reading, PhysicalContext, ... as Redfish.Excerpt: the
    excerpt holds those and the OData identity, nothing else."""
    path = "/redfish/v1/Chassis/1/Sensors/CPU1Temp"
    with server.admin() as s:
        whole = s.get(server.url + path, timeout=10).json()
        r = s.get(server.url + path + "?excerpt", timeout=10)
    assert r.status_code == 200, r.text
    ex = r.json()
    assert set(ex) < set(whole)
    assert {"@odata.id", "@odata.type", "Reading", "PhysicalContext"} <= set(ex), ex
    assert "Name" not in ex and "ReadingRangeMax" not in ex and "Status" not in ex, ex
    assert all(ex[k] == whole[k] for k in ex)
    assert r.headers.get("ETag") != s.get(server.url + path, timeout=10).headers.get("ETag")


@pytest.mark.parametrize("path", ["/redfish/v1/", "/redfish/v1/Systems/1", ACCOUNTS])
def test_excerpt_without_excerpt_properties_is_the_whole_resource(server, path):
    with server.admin() as s:
        whole = s.get(server.url + path, timeout=10)
        r = s.get(server.url + path + "?excerpt", timeout=10)
    assert r.status_code == 200, r.text
    assert r.json() == whole.json()


# ---------------------------------------------------------------- openapi

def openapi(server):
    r = server.get("/redfish/v1/openapi.yaml", headers={"Accept": "application/yaml"})
    assert r.status_code == 200, r.text[:300]
    assert r.headers["Content-Type"].split(";")[0] == "application/yaml"
    return yaml.safe_load(r.text)


def test_openapi_document(server):
    doc = openapi(server)
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"] and doc["info"]["version"]
    for p in ["/redfish/v1", "/redfish/v1/$metadata", "/redfish/v1/openapi.yaml", SESSIONS,
              SESSIONS + "/{SessionId}", ACCOUNTS + "/{ManagerAccountId}", ROLES + "/{RoleId}"]:
        assert p in doc["paths"], p
    root = doc["paths"]["/redfish/v1"]["get"]["responses"]["200"]
    assert root["content"]["application/json"]["schema"]["$ref"] == (
        "http://redfish.dmtf.org/schemas/v1/ServiceRoot.v1_5_0.yaml"
        "#/components/schemas/ServiceRoot_v1_5_0_ServiceRoot")


def test_openapi_covers_every_resource_a_crawler_reaches(server):
    """Cannot drift from the tree: every resource reachable from the root is
    a path of the document (a concrete one or a template), with the schema of
    its @odata.type."""
    paths = openapi(server)["paths"]
    templates = [(re.compile("^" + re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(p)) + "$"), p)
                 for p in paths]
    token, location, _, _ = server.login()
    try:
        with server.session(token=token) as s:
            docs = crawl(server, s)
    finally:
        server.logout(token, location)
    for path, doc in docs.items():
        path = path.rstrip("/") or "/"
        hits = [p for rx, p in templates if rx.match(path)]
        assert hits, f"{path} is not in openapi.yaml"
        p = path if path in paths else hits[0]
        ref = paths[p]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        t = doc["@odata.type"].lstrip("#").split(".")
        name = "_".join(t[:2] if len(t) == 3 else t[:1]) + "_" + t[-1]
        assert ref.endswith("/" + schema_of(doc["@odata.type"]).replace(".json", ".yaml")
                            + "#/components/schemas/" + name), (path, ref)


def test_openapi_methods_are_what_the_service_allows(server):
    """Each path's operations are exactly the methods its Allow names (a
    template is tried with a real member where there is one)."""
    paths = openapi(server)["paths"]
    server.add_user("openapi-probe", role="ReadOnly")
    token, location, _, _ = server.login()
    with server.session(token=token) as s:
        account = next(m["@odata.id"] for m in s.get(server.url + ACCOUNTS, timeout=10)
                       .json()["Members"]
                       if s.get(server.url + m["@odata.id"], timeout=10).json()["UserName"]
                       == "openapi-probe")
    # Not the built-in account: that one cannot be deleted, so its Allow is shorter.
    sample = {"{SessionId}": location.rsplit("/", 1)[1],
              "{ManagerAccountId}": account.rsplit("/", 1)[1], "{RoleId}": "Administrator"}
    try:
        with server.session(token=token) as s, server.session(token=token) as events:
            # An open event stream is the one EventDestination there can be.
            stream = events.get(server.url + "/redfish/v1/EventService/SSE", stream=True,
                                timeout=10)
            assert stream.status_code == 200, stream.status_code
            member = s.get(server.url + "/redfish/v1/EventService/Subscriptions",
                           timeout=10).json()["Members"][0]["@odata.id"]
            sample["{EventDestinationId}"] = member.rsplit("/", 1)[1]
            for p, item in paths.items():
                ops = {m.upper() for m in item if m in METHODS}
                url = p
                for k, v in sample.items():
                    url = url.replace(k, v)
                probe = "GET" if "GET" in ops else "PUT"
                # The SSE stream stays open: its headers are all this needs.
                with s.request(probe, server.url + url, timeout=10, stream=True) as r:
                    assert allow_of(r) == ops, \
                        f"{p}: openapi {ops}, Allow {r.headers.get('Allow')}"
            stream.close()
    finally:
        server.logout(token, location)
        server.cli("user", "del", "openapi-probe")


@pytest.mark.parametrize("path", OPEN)
def test_open_documents_need_no_login(server, path):
    r = server.get(path)
    assert r.status_code == 200, (path, r.status_code)
    assert allow_of(r) == {"GET", "HEAD"}
