"""The test of scripts/redfish-privileges: a small publication in a temporary
directory (a Privilege Registry and the json-schema files with their uris),
what the script derives from it (overrides, ConfigureSelf, NoAuth, the trie's
order), that its output compiles against the repository's header, and that it
refuses publications it cannot read."""

import json
import subprocess
import sys
from importlib.machinery import SourceFileLoader
from importlib.util import module_from_spec, spec_from_loader
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "redfish-privileges"
_loader = SourceFileLoader("redfish_privileges", str(SCRIPT))
rp = module_from_spec(spec_from_loader("redfish_privileges", _loader))
_loader.exec_module(rp)


def ops(get, write):
    return {m: [{"Privilege": get}] for m in ("GET", "HEAD")} | \
           {m: [{"Privilege": write}] for m in ("PATCH", "POST", "PUT", "DELETE")}


def publication(where, extra_mappings=(), uris=None):
    mappings = [
        {"Entity": "ServiceRoot", "OperationMap": ops(["Login"], ["ConfigureManager"])
         | {"GET": [{"Privilege": ["Login"]}, {"Privilege": ["NoAuth"]}]}},
        {"Entity": "Manager", "OperationMap": ops(["Login"], ["ConfigureManager"])},
        {"Entity": "ComputerSystem", "OperationMap": ops(["Login"], ["ConfigureComponents"])},
        {"Entity": "EthernetInterfaceCollection",
         "OperationMap": ops(["Login"], ["ConfigureComponents"]),
         "SubordinateOverrides": [{"Targets": ["Manager"],
                                   "OperationMap": {"PATCH": [{"Privilege": ["ConfigureManager"]}]}}]},
        {"Entity": "EthernetInterface", "OperationMap": ops(["Login"], ["ConfigureComponents"]),
         "SubordinateOverrides": [{"Targets": ["Manager", "EthernetInterfaceCollection"],
                                   "OperationMap": {"PATCH": [{"Privilege": ["ConfigureManager"]}]}}],
         "ResourceURIOverrides": [{"Targets": ["/redfish/v1/Systems/special/EthernetInterfaces/lo"],
                                   "OperationMap": {"GET": [{"Privilege": ["ConfigureComponents"]}]}}]},
        {"Entity": "EventDestination", "OperationMap": ops(["Login"], ["ConfigureManager"])
         | {"PATCH": [{"Privilege": ["ConfigureManager"]}, {"Privilege": ["ConfigureSelf"]}],
            "DELETE": [{"Privilege": ["ConfigureSelf"]}]}},
        *extra_mappings,
    ]
    uris = uris or {
        "ServiceRoot": ["/redfish/v1/"],
        "Manager": ["/redfish/v1/Managers/{ManagerId}"],
        "ComputerSystem": ["/redfish/v1/Systems/{ComputerSystemId}"],
        "EthernetInterfaceCollection": ["/redfish/v1/Managers/{ManagerId}/EthernetInterfaces",
                                        "/redfish/v1/Systems/{ComputerSystemId}/EthernetInterfaces"],
        "EthernetInterface": [
            "/redfish/v1/Managers/{ManagerId}/EthernetInterfaces/{EthernetInterfaceId}",
            "/redfish/v1/Systems/{ComputerSystemId}/EthernetInterfaces/{EthernetInterfaceId}"],
        "EventDestination": ["/redfish/v1/EventService/Subscriptions/{EventDestinationId}"],
    }
    (where / "registries").mkdir(parents=True)
    (where / "json-schema").mkdir()
    for version in ("1.2.0", "1.10.0"):   # the newest by number, not by name
        reg = {"Id": "Redfish_%s_PrivilegeRegistry" % version,
               "Mappings": mappings if version == "1.10.0" else []}
        (where / "registries" / ("Redfish_%s_PrivilegeRegistry.json" % version)).write_text(
            json.dumps(reg))
    for entity, u in uris.items():
        (where / "json-schema" / (entity + ".json")).write_text(
            json.dumps({"definitions": {entity: {"uris": u}}}))
    return where


def derived(pub):
    _, _, patterns, mappings, uri_overrides = rp.load(str(pub))
    return rp.maps_of(patterns, mappings, uri_overrides)


def test_overrides_and_privileges(tmp_path):
    result = derived(publication(tmp_path))
    get, patch, delete = 0, 2, 5
    mgr_nic = result[("redfish", "v1", "managers", "{}", "ethernetinterfaces", "{}")]
    sys_nic = result[("redfish", "v1", "systems", "{}", "ethernetinterfaces", "{}")]
    assert mgr_nic[0] == "EthernetInterface"
    assert mgr_nic[1][patch] == ("GH_PRIV_CONFIGURE_MANAGER",)
    assert sys_nic[1][patch] == ("GH_PRIV_CONFIGURE_COMPONENTS",)
    assert mgr_nic[1][get] == ("GH_PRIV_LOGIN",)
    lo = result[("redfish", "v1", "systems", "special", "ethernetinterfaces", "lo")]
    assert lo[1][get] == ("GH_PRIV_CONFIGURE_COMPONENTS",)
    assert result[("redfish", "v1", "managers", "{}", "ethernetinterfaces")][1][patch] == \
        ("GH_PRIV_CONFIGURE_MANAGER",)
    # ConfigureSelf dropped; alone, it becomes ConfigureManager.
    sub = result[("redfish", "v1", "eventservice", "subscriptions", "{}")]
    assert sub[1][patch] == ("GH_PRIV_CONFIGURE_MANAGER",)
    assert sub[1][delete] == ("GH_PRIV_CONFIGURE_MANAGER",)
    # NoAuth is Login, and a repeated set is listed once.
    assert result[("redfish", "v1")][1][get] == ("GH_PRIV_LOGIN",)


def test_output_compiles(tmp_path):
    pub = publication(tmp_path / "pub")
    out = tmp_path / "table.c"
    r = subprocess.run([sys.executable, str(SCRIPT), str(pub), "0123abcd"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "Redfish_1.10.0_PrivilegeRegistry" in r.stdout and "0123abcd" in r.stdout
    # Literal children by length, then bytes: "managers" after "systems".
    assert r.stdout.index('"systems"') < r.stdout.index('"managers"')
    text = r.stdout.replace('#include "redfish_registry.h"',
                            '#include "%s"' % (ROOT / "src/dialects/redfish/redfish_registry.h"))
    out.write_text(text)
    c = subprocess.run(["cc", "-std=c17", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror",
                        "-I/usr/include/libxml2", "-c", "-o", str(tmp_path / "table.o"), str(out)],
                       capture_output=True, text=True)
    assert c.returncode == 0, c.stderr


def test_refuses_what_it_cannot_read(tmp_path):
    def run(pub):
        return subprocess.run([sys.executable, str(SCRIPT), str(pub)], capture_output=True,
                              text=True)
    r = run(tmp_path / "nothing")
    assert r.returncode == 1 and "no registries" in r.stderr
    clash = publication(tmp_path / "clash", uris={"Manager": ["/redfish/v1/Things/{Id}"],
                                                    "ComputerSystem": ["/redfish/v1/Things/{Other}"]})
    r = run(clash)
    assert r.returncode == 1 and "is Manager and ComputerSystem" in r.stderr
    r = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True)
    assert r.returncode == 2 and "usage" in r.stderr
