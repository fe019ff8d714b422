"""libgovirt_client.py: drive Debian's libgovirt (gir1.2-govirt-1.0, 0.3.9)
from Python, as virt-viewer drives it, and print what it got as one JSON
object. test_ovirt_libgovirt.py runs it as a child process: libsoup reads
SOUP_FORCE_HTTP1 from the environment, and a client that hangs or aborts
must not take the test process with it.

Argument: a JSON object with host ("127.0.0.1:PORT"), ca_file, and either
user and password (Basic, libsoup answering the server's 401) or token
(OvirtProxy:sso-token, Bearer from the first request).

Each step is what libgovirt's synchronous API does (govirt/ovirt-proxy.c,
ovirt-api.c, ovirt-collection.c at 0.3.9): ovirt_proxy_new(host) with the
CA file set (RestProxy:ssl-ca-file, which OvirtProxy:ca-cert mirrors),
ovirt_proxy_fetch_api() (GET /ovirt-engine/api), then ovirt_collection_fetch()
on each collection the <api> document links to."""

import json
import sys

import gi

gi.require_version("GoVirt", "1.0")
from gi.repository import GLib, GoVirt  # noqa: E402

COLLECTIONS = ("vms", "hosts", "clusters", "storage_domains", "data_centers", "vm_pools")


def step(out, name, fn):
    try:
        out["steps"].append([name, "ok", fn()])
        return True
    except GLib.Error as e:
        out["steps"].append([name, "error", e.domain, e.code, e.message])
        return False


def main(args):
    out = {"steps": []}
    proxy = GoVirt.Proxy.new(args["host"])
    proxy.set_property("ssl-ca-file", args["ca_file"])
    if "token" in args:
        proxy.set_property("sso-token", args["token"])
    else:
        proxy.set_property("username", args["user"])
        proxy.set_property("password", args["password"])
    out["ca_cert_bytes"] = len(proxy.get_property("ca-cert") or b"")
    api = []
    if step(out, "fetch_api", lambda: api.append(proxy.fetch_api()) and None):
        for name in COLLECTIONS:
            coll = getattr(api[0], "get_" + name)()
            if coll is None:
                out["steps"].append([name, "absent"])
                continue

            def fetch(coll=coll):
                if not coll.fetch(proxy):
                    return None
                found = coll.get_resources() or {}
                return sorted(r.get_property("name") for r in found.values())
            step(out, name, fetch)
    print(json.dumps(out))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
