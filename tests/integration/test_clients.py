"""Real Redfish clients from Debian against gatehouse: redfishtool (Basic
and Session authentication) and python3-sushy (SessionOrBasicAuth).

On TLS verification: redfishtool 1.1.5 (Debian 12) has no option for a CA
and verifies nothing: redfishtoolTransport.py passes verify=False to every
request (getVersions, rftSendRecvRequest's default). To make it verify
honestly without changing it, the tests run the unmodified program with a
sitecustomize.py on PYTHONPATH that replaces requests' certificate check
(HTTPAdapter.cert_verify) with verification against the data directory's
CA, and a control run against a foreign CA proves that the replacement is in
force (redfishtool then fails to connect)."""

import json
import os
import subprocess
import textwrap
from urllib.parse import urlsplit

import pytest

from gatehouse_harness import SESSIONS

SHIM = textwrap.dedent('''\
    # Test shim (tests/integration/test_clients.py): make requests verify every
    # https connection against $GATEHOUSE_IT_CA, whatever verify= the program
    # passes, and note each verified URL in $GATEHOUSE_IT_SHIM_LOG.
    import os
    _ca = os.environ.get("GATEHOUSE_IT_CA")
    if _ca:
        import requests.adapters
        _orig = requests.adapters.HTTPAdapter.cert_verify

        def _cert_verify(self, conn, url, verify, cert):
            if url.lower().startswith("https:"):
                verify = _ca
                with open(os.environ["GATEHOUSE_IT_SHIM_LOG"], "a") as f:
                    f.write(url + "\\n")
            return _orig(self, conn, url, verify, cert)

        requests.adapters.HTTPAdapter.cert_verify = _cert_verify
    ''')


@pytest.fixture(scope="module")
def shim_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("rftshim")
    (d / "sitecustomize.py").write_text(SHIM)
    return d


@pytest.fixture(scope="module")
def foreign_ca(tmp_path_factory):
    d = tmp_path_factory.mktemp("foreignca")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(d / "k.pem"),
                    "-out", str(d / "ca.pem"), "-days", "2", "-subj", "/CN=not gatehouse"],
                   check=True, capture_output=True, timeout=60)
    return str(d / "ca.pem")


class Redfishtool:
    def __init__(self, gh, shim_dir, ca=None):
        self.gh = gh
        self.shim_dir = shim_dir
        self.ca = ca or gh.ca
        self.log = gh.dir / "redfishtool-verified.log"

    def run(self, *args, user="admin", password=None, auth="Basic", token=None):
        password = self.gh.admin_password if password is None and user == "admin" else password
        cmd = ["redfishtool", "-r", f"127.0.0.1:{self.gh.port}", "-S", "Always", "-A", auth]
        if token:
            cmd += ["-t", token]
        else:
            cmd += ["-u", user, "-p", password]
        env = dict(os.environ)
        env.update({"PYTHONPATH": str(self.shim_dir), "GATEHOUSE_IT_CA": self.ca,
                    "GATEHOUSE_IT_SHIM_LOG": str(self.log)})
        for k in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "LD_PRELOAD", "http_proxy",
                  "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
            env.pop(k, None)
        if self.log.exists():
            self.log.unlink()
        p = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=120, env=env)
        verified = self.log.read_text().split() if self.log.exists() else []
        return p, verified

    def json(self, *args, **kw):
        p, verified = self.run(*args, **kw)
        assert p.returncode == 0, f"redfishtool {' '.join(args)}: rc {p.returncode}\n" \
                                  f"{p.stdout}\n{p.stderr}"
        assert verified and all(u.startswith("https://") for u in verified), verified
        return json.loads(p.stdout)


@pytest.fixture
def rft(server, shim_dir):
    return Redfishtool(server, shim_dir)


def test_redfishtool_shim_really_verifies(server, shim_dir, foreign_ca):
    p, verified = Redfishtool(server, shim_dir, ca=foreign_ca).run("root")
    assert p.returncode != 0, "redfishtool accepted a server its CA did not sign"
    assert verified, "the verification shim was not loaded"


@pytest.mark.parametrize("auth", ["Basic", "Session"])
def test_redfishtool_root_and_systems(server, rft, auth):
    before = server.sessions_server_side()
    root = rft.json("root", auth=auth)
    assert root["@odata.id"] == "/redfish/v1/"
    assert root["Links"]["Sessions"]["@odata.id"] == SESSIONS
    systems = rft.json("Systems", auth=auth)
    assert [m["@odata.id"] for m in systems["Members"]] == ["/redfish/v1/Systems/1"]
    system = rft.json("Systems", "-1", auth=auth)
    assert system["@odata.id"] == "/redfish/v1/Systems/1"
    assert system["Id"] == "1"
    p, _ = rft.run("Systems", "list", auth=auth)
    assert p.returncode == 0, p.stderr
    assert "/redfish/v1/Systems/1" in p.stdout
    chassis = rft.json("Chassis", "-1", auth=auth)
    assert chassis["@odata.id"] == "/redfish/v1/Chassis/1"
    procs = rft.json("Systems", "-1", "Processors", auth=auth)
    assert procs["Members@odata.count"] >= 1
    # Session auth logs in and out around every command: nothing is left over.
    assert server.sessions_server_side() == before


def test_redfishtool_wrong_password_fails(server, rft):
    server.secrets.add("Wrong-rft-password-1")
    for auth in ("Basic", "Session"):
        p, _ = rft.run("Systems", "-1", auth=auth, password="Wrong-rft-password-1")
        assert p.returncode != 0, auth
        assert "GH-1000" not in p.stdout


def test_redfishtool_session_login_logout(server, rft):
    out = rft.json("SessionService", "login", auth="Session")
    token = out["X-Auth-Token"]
    server.secrets.add(token)
    location = urlsplit(out["SessionLocation"]).path
    assert location == f"{SESSIONS}/{out['SessionId']}"
    assert location in server.sessions_server_side()
    # The token works for redfishtool and for anyone holding it.
    system = rft.json("Systems", "-1", auth="Session", token=token)
    assert system["Id"] == "1"
    sessions = rft.json("SessionService", "Sessions", auth="Session", token=token)
    assert location in [m["@odata.id"] for m in sessions["Members"]]
    # Logout by id (redfishtool finds it in the collection's Members).
    p, _ = rft.run("SessionService", "logout", f"-i{out['SessionId']}", auth="Session",
                   token=token)
    assert p.returncode == 0, f"{p.stdout}\n{p.stderr}"
    assert location not in server.sessions_server_side()
    r = server.get("/redfish/v1/Systems", headers={"X-Auth-Token": token})
    assert r.status_code == 401


def test_redfishtool_session_service_and_accounts(server, rft):
    ss = rft.json("SessionService", auth="Session")
    assert ss["ServiceEnabled"] is True
    acc = rft.json("AccountService", "Accounts", auth="Basic")
    assert acc["Members@odata.count"] >= 3
    roles = rft.json("AccountService", "Roles", auth="Basic")
    assert roles["Members@odata.count"] == 3


def test_redfishtool_odata_and_metadata(server, rft):
    p, _ = rft.run("metadata", auth="None")
    assert p.returncode == 0, p.stderr
    assert "<edmx:Edmx" in p.stdout
    doc = rft.json("odata", auth="None")
    assert doc["@odata.context"] == "/redfish/v1/$metadata"


# --------------------------------------------------------------------- sushy

def sushy_client(gh, user, password):
    import sushy
    import sushy.auth
    auth = sushy.auth.SessionOrBasicAuth(username=user, password=password)
    return sushy.Sushy(f"{gh.url}/redfish/v1", verify=gh.ca, auth=auth), auth


def test_sushy_session_or_basic(server):
    before = server.sessions_server_side()
    conn, auth = sushy_client(server, "admin", server.admin_password)
    key = auth.get_session_key()
    session_uri = auth.get_session_resource_id()
    try:
        # It got a real session, not the Basic fallback.
        assert key, "sushy fell back to Basic authentication"
        server.secrets.add(key)
        assert session_uri
        assert urlsplit(session_uri).path in server.sessions_server_side()
        systems = conn.get_system_collection()
        assert list(systems.members_identities) == ["/redfish/v1/Systems/1"]
        system = conn.get_system("/redfish/v1/Systems/1")
        assert system.identity == "1"
        assert system.name
        assert system.uuid
        assert str(system.power_state).lower().endswith("on")
        assert len(systems.get_members()) == 1
        # Other resource types through the same session.
        chassis = conn.get_chassis_collection().get_members()
        assert [c.identity for c in chassis] == ["1"]
        managers = conn.get_manager_collection().get_members()
        assert [m.identity for m in managers] == ["1"]
        sessions = conn.get_session_service().sessions
        assert urlsplit(session_uri).path in [urlsplit(p).path
                                              for p in sessions.members_identities]
    finally:
        auth.close()   # sushy's logout: DELETE the session (errors only logged)
    # Logged out: the session is gone server-side, and its key refused.
    assert auth.get_session_key() is None
    assert urlsplit(session_uri).path not in server.sessions_server_side()
    assert server.sessions_server_side() == before
    r = server.get("/redfish/v1/Systems", headers={"X-Auth-Token": key})
    assert r.status_code == 401


def test_sushy_wrong_password(server):
    import sushy.exceptions
    server.secrets.add("Wrong-sushy-pw-1")
    with pytest.raises(sushy.exceptions.AccessError):
        conn, _ = sushy_client(server, "admin", "Wrong-sushy-pw-1")
        conn.get_system_collection()


def test_sushy_readonly_user(server):
    conn, auth = sushy_client(server, "reader", server.users["reader"])
    try:
        assert auth.get_session_key()
        server.secrets.add(auth.get_session_key())
        system = conn.get_system("/redfish/v1/Systems/1")
        assert system.identity == "1"
    finally:
        auth.close()
