"""The real clients against three nodes behind a load balancer (issue 16):
redfishtool, sushy, the oVirt SDK replay and the PowerStore replays of
test_clients.py, test_ovirt_sdk.py and test_powerstore_clients.py, run
unchanged against the cluster seen through an nginx balancer that sends
each request to the next node (round-robin per request), so a session a
client logs in on one node is used on the next, and its logout made on a
third. Each run checks, from the balancer's log, that the client's requests
went to every node, never twice in a row to the same one.

A logout answered by one node is obeyed by the others within 100 ms (the
promise), not before the client's next request: after each logout a
client makes, scale_harness.ChangeBarrier waits until every node obeys it,
asserting the promise, so the one-server tests' "refused right after the
logout" holds on whichever node comes next."""

import pytest

import test_clients as tc
import test_ovirt_sdk as tov
import test_powerstore_clients as tps
from scale_harness import ChangeBarrier


@pytest.fixture(scope="module")
def shim_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("rftshim")
    (d / "sitecustomize.py").write_text(tc.SHIM)
    return d


@pytest.fixture
def lb(cluster):
    return cluster.balance()


@pytest.fixture
def view(lb, monkeypatch):
    barrier = ChangeBarrier(lb.cluster).install(monkeypatch)
    yield lb.view
    barrier.close_sessions()


class Redfishtool(tc.Redfishtool):
    """redfishtool, a process of its own: the barrier after its logouts."""

    def __init__(self, view, shim_dir):
        super().__init__(view, shim_dir)
        self.barrier = ChangeBarrier(view._balancer.cluster)

    def run(self, *args, **kw):
        out = super().run(*args, **kw)
        if "logout" in args and out[0].returncode == 0:
            self.barrier()
        return out


def spread(lb, before):
    """The requests the balancer passed on since before (a len(seen())):
    assert they went to every node, each to another node than the last."""
    seen = lb.seen()[before:]
    nodes = [node for _, _, _, node in seen]
    assert len(seen) >= 3, seen
    assert set(nodes) == {g.name for g in lb.cluster.nodes}, nodes
    repeats = [(seen[i - 1], seen[i]) for i in range(1, len(seen)) if nodes[i] == nodes[i - 1]]
    assert not repeats, f"two requests in a row to one node: {repeats[:3]}"
    return seen


@pytest.mark.parametrize("auth", ["Basic", "Session"])
def test_redfishtool(lb, view, shim_dir, auth):
    before = len(lb.seen())
    rft = Redfishtool(view, shim_dir)
    tc.test_redfishtool_root_and_systems(view, rft, auth)
    spread(lb, before)


def test_redfishtool_session_login_logout_and_accounts(lb, view, shim_dir):
    before = len(lb.seen())
    rft = Redfishtool(view, shim_dir)
    tc.test_redfishtool_session_login_logout(view, rft)
    tc.test_redfishtool_session_service_and_accounts(view, rft)
    tc.test_redfishtool_wrong_password_fails(view, rft)
    spread(lb, before)


def test_sushy(lb, view):
    before = len(lb.seen())
    tc.test_sushy_session_or_basic(view)
    tc.test_sushy_readonly_user(view)
    tc.test_sushy_wrong_password(view)
    spread(lb, before)


def test_ovirt_sdk_replay(lb, view):
    before = len(lb.seen())
    tov.test_sdk_session(view)
    tov.test_sdk_gets_a_new_token_once_on_401(view)
    tov.test_sdk_wrong_password(view)
    spread(lb, before)


def test_pypowerstore_replay(lb, view):
    before = len(lb.seen())
    tps.test_pypowerstore_sequence(lambda: view)
    spread(lb, before)


def test_gopowerstore_replay(lb, view):
    before = len(lb.seen())
    tps.test_gopowerstore_sequence(lambda: view)
    spread(lb, before)
