"""Each dialect's sessions are labelled by what its dialect declares (its
name, its label in the dialect table), never by a guess: a session of each
dialect, started the way its clients start one, is listed under its own
dialect by `gatehouse session list` and by Redfish's SessionService."""

from gatehouse_harness import SESSIONS
from ovirt_util import get_token

PS_LOGIN = "/api/rest/login_session"
PVE_TICKET = "/api2/json/access/ticket"


def ps_login(gh):
    """A PowerStore login_session with Basic; returns its session id."""
    with gh.session() as s:
        r = s.get(gh.url + PS_LOGIN, auth=("admin", gh.admin_password), timeout=10)
        assert r.status_code == 200, r.text
        gh.secrets.update({r.headers["DELL-EMC-TOKEN"], s.cookies["auth_cookie"]})
        return r.json()[0]["id"]


def pve_login(gh):
    """A Proxmox VE ticket, from a password: a session with no id in sight."""
    r = gh.request("POST", PVE_TICKET,
                   data={"username": "admin@pam", "password": gh.admin_password})
    assert r.status_code == 200, r.text
    d = r.json()["data"]
    gh.secrets.update({d["ticket"], d["CSRFPreventionToken"]})


def test_each_dialect_labels_its_sessions(fresh):
    gh = fresh
    _, _, body, _ = gh.login()
    redfish_id = body["Id"]
    get_token(gh)
    powerstore_id = ps_login(gh)
    before = {row.split()[0] for row in gh.cli("session", "list").stdout.splitlines()[1:]}
    pve_login(gh)

    # the command line: ID USER DIALECT ..., one row per session
    out = gh.cli("session", "list").stdout.splitlines()
    assert out[0].split()[:3] == ["ID", "USER", "DIALECT"], out
    dialects = {row.split()[0]: row.split()[2] for row in out[1:]}
    assert len(dialects) == 4, out
    assert dialects[redfish_id] == "redfish"
    assert dialects[powerstore_id] == "powerstore"
    (ovirt_id,) = [i for i in before if i not in (redfish_id, powerstore_id)]
    assert dialects[ovirt_id] == "ovirt"
    (proxmox_id,) = set(dialects) - before
    assert dialects[proxmox_id] == "proxmox"

    # Redfish: its own as Redfish, the others as OEM with their dialect's label
    with gh.admin() as s:
        r = s.get(gh.url + SESSIONS, timeout=10)
        assert r.status_code == 200, r.text
        members = {m["@odata.id"].rsplit("/", 1)[1] for m in r.json()["Members"]}
        assert members == set(dialects), (members, dialects)
        types = {}
        for sid in members:
            doc = s.get(f"{gh.url}{SESSIONS}/{sid}", timeout=10).json()
            types[sid] = (doc["SessionType"], doc.get("OemSessionType"))
    assert types[redfish_id] == ("Redfish", None)
    assert types[ovirt_id] == ("OEM", "oVirt")
    assert types[powerstore_id] == ("OEM", "PowerStore")
    assert types[proxmox_id] == ("OEM", "Proxmox VE")
