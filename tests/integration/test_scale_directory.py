"""A directory profile made through one node's API binds on every node
(issue 16, docs/scale-out.md): the service password travels in the shared
store sealed under the server secret, and each node writes its own
DATA_DIR/directory/NAME.password (0600) from the seal. Redis holds the seal,
never the password in clear."""

import os
import stat
import time

import pytest

from gatehouse_harness import wait_for
from slapd_server import Slapd
from test_powerstore_ldap import ACCOUNTS, DOMAINS, admin, lab_body, role_ids


@pytest.fixture
def slapd(base_dir):
    s = Slapd(base_dir / f"slapd-scale-{os.getpid()}-{time.monotonic_ns()}")
    s.start()
    yield s
    s.stop()


def password_file(gh, name="lab"):
    return gh.data / "directory" / f"{name}.password"


def test_a_domain_made_on_one_node_binds_on_every_node(cluster, redis, slapd):
    a, b, c = cluster.nodes
    a.secrets.update(slapd.passwords.values())
    a.secrets.update({slapd.service_password, slapd.root_password})
    r = admin(a, "POST", DOMAINS, json=lab_body(slapd))
    assert r.status_code == 201, r.text
    r = admin(a, "POST", ACCOUNTS, json={"domain_id": "lab", "name": "readers",
                                         "type": "Group", "role_id": "3"})
    assert r.status_code == 201, r.text
    assert password_file(a).exists()
    # Each node is its own machine: node a's file is no help to the others
    # (here they share a disk, so take it away; a makes it again itself).
    password_file(a).unlink()
    for gh in (b, c, a):
        wait_for(lambda: role_ids(gh, "rita@lab", slapd.passwords["rita"]) == ["3"], 20,
                 f"rita@lab logs in on {gh.dir.name}")
        st = os.stat(password_file(gh))
        assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
        assert password_file(gh).read_text() == slapd.service_password
    # a new service password reaches every node's file at its next bind
    r = admin(b, "PATCH", DOMAINS + "/lab", json={"bind_password": "Other-service-pw-123"})
    assert r.status_code == 204, r.text
    a.secrets.add("Other-service-pw-123")
    # The other nodes take the change from the change log at their next sync
    # tick: a login in between still binds with the old password.
    for gh in (a, c):      # the service bind fails now: 503, the directory unusable
        wait_for(lambda: role_ids(gh, "rita@lab", slapd.passwords["rita"]) == 503, 20,
                 f"{gh.dir.name} binding with the new service password")
        assert password_file(gh).read_text() == "Other-service-pw-123"
    # Redis holds the seal, not the password
    held = redis.dump()
    assert any(b"bind_password_sealed=" in v for v in held.values()), \
        "no sealed password in Redis: where did the profile go?"
    for pw in (slapd.service_password, "Other-service-pw-123"):
        assert not [k for k, v in held.items() if pw.encode() in v or pw in k], \
            "a directory service password in clear in Redis"
    assert slapd.service_password.encode() not in redis.aof_bytes()
    # deleted on c: every node's file goes with it
    r = admin(c, "DELETE", DOMAINS + "/lab")
    assert r.status_code == 204, r.text
    for gh in (a, b, c):
        wait_for(lambda: not password_file(gh).exists(), 10,
                 f"{gh.dir.name}'s password file removed with the profile")


def test_a_tampered_seal_binds_nowhere(cluster, redis, slapd):
    """A seal that does not open (tampered in Redis) fails closed: no file,
    no bind, a line in the audit log that names the profile and not the
    password."""
    a, b, c = cluster.nodes
    a.secrets.update(slapd.passwords.values())
    a.secrets.update({slapd.service_password, slapd.root_password})
    assert admin(a, "POST", DOMAINS, json=lab_body(slapd)).status_code == 201
    assert admin(a, "POST", ACCOUNTS, json={"domain_id": "lab", "name": "readers",
                                            "type": "Group", "role_id": "3"}).status_code == 201
    assert role_ids(b, "rita@lab", slapd.passwords["rita"]) == ["3"]
    held = redis.dump()
    key = next(k for k, v in held.items() if b"bind_password_sealed=" in v)
    text = redis.cli_run("--raw", "HGET", key, "text").stdout.decode().rstrip("\n") + "\n"
    at = text.index("bind_password_sealed=") + len("bind_password_sealed=") + 20
    text = text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1:]
    redis.cli_run("HSET", key, "text", text)
    password_file(c).unlink(missing_ok=True)
    assert role_ids(c, "rita@lab", slapd.passwords["rita"]) != ["3"]
    assert not password_file(c).exists()
    wait_for(lambda: "seal refused" in c.audit_log.read_text(), 10,
             "the refused seal is in c's audit log")
