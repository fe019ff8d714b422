"""Fixtures for the integration tests: real `gatehouse serve` instances on
loopback ports, always stopped again, with sanitizer and secret checks at
teardown. See gatehouse_harness.py for the knobs (GATEHOUSE_BUILD, ...)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

# requests lets these override verify=: the tests must verify against the
# data directory's own CA, never against something from the environment.
for _var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
    os.environ.pop(_var, None)

import gatehouse_harness as H  # noqa: E402


def _require_build():
    missing = [str(p) for p in (H.GATEHOUSE, H.MODULE) if not p.exists()]
    if missing:
        pytest.fail(f"build first (make): missing {', '.join(missing)}", pytrace=False)


@pytest.fixture(scope="session")
def base_dir():
    base = H.make_base_dir()
    yield base
    if not H.KEEP_TMP:
        import shutil
        shutil.rmtree(base, ignore_errors=True)


def _new_sanitizer_reports(gh):
    """Sanitizer reports of gh not yet reported by an earlier check."""
    fresh = [(w, t) for w, t in gh.sanitizer_reports() if w not in gh.reported]
    gh.reported.update(w for w, _ in fresh)
    return fresh


def _finish(gh):
    """Stop gh and fail on sanitizer reports or leaked secrets."""
    gh.close_sessions()
    gh.stop()
    problems = []
    for path, text in _new_sanitizer_reports(gh):
        problems.append(f"sanitizer report {path}:\n{text[:4000]}")
    for where, what in gh.leaked_secrets():
        problems.append(f"secret in {where}: {what}")
    if problems:
        msg = f"gatehouse '{gh.name}' at {gh.dir}:\n" + "\n".join(problems)
        pytest.fail(msg, pytrace=False)
    gh.cleanup()


_counter = [0]


def _new(base_dir, prefix, config=None, cheap_hashing=True, start=True):
    _require_build()
    _counter[0] += 1
    gh = H.Gatehouse(base_dir, f"{prefix}-{_counter[0]}", config=config,
                     cheap_hashing=cheap_hashing)
    gh.init()
    if start:
        gh.start()
    return gh


# Settings of the shared server: nothing a test does there may lock an account
# or fill a session table.
SHARED_CONFIG = {
    "lockout": {"lockout_threshold": 0},
    "sessions": {"max_sessions_per_account": 10000, "max_sessions": 100000},
}


@pytest.fixture(scope="module")
def server(base_dir):
    """A server shared by the tests of one module that only read, or change
    nothing another test looks at. Accounts it has: admin (Administrator),
    operator (Operator), reader (ReadOnly)."""
    gh = _new(base_dir, "shared", SHARED_CONFIG, start=False)
    gh.add_user("operator", "Operator")
    gh.add_user("reader", "ReadOnly")
    gh.start()
    try:
        yield gh
    finally:
        _finish(gh)


@pytest.fixture
def make_server(base_dir):
    """Factory for a fresh server of the calling test:
    make_server(config=None, cheap_hashing=True, start=True)."""
    made = []

    def make(config=None, cheap_hashing=True, start=True):
        gh = _new(base_dir, "fresh", config, cheap_hashing, start)
        made.append(gh)
        return gh

    yield make
    errors = []
    for gh in made:
        try:
            _finish(gh)
        except BaseException as e:  # report every server, not just the first
            errors.append(str(e))
    if errors:
        pytest.fail("\n".join(errors), pytrace=False)


@pytest.fixture
def fresh(make_server):
    """A fresh server on the default test configuration."""
    return make_server()


@pytest.fixture(autouse=True)
def _sanitizer_watch():
    """After every test, a sanitizer report from any running server fails
    that test (at teardown), not the last test of the module."""
    yield
    problems = []
    for gh in list(H.Gatehouse.registry):
        for where, text in _new_sanitizer_reports(gh):
            problems.append(f"gatehouse '{gh.name}': sanitizer report {where}:\n{text[:4000]}")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for gh in list(H.Gatehouse.registry):
            report.sections.append((f"gatehouse {gh.name} stderr", gh.stderr_tail(60)))


# ------------------------------------------------ several nodes on Redis (issue 16)

# Settings of a scale-out test's nodes: as SHARED_CONFIG, unless a test is
# about them.
SCALE_CONFIG = {
    "lockout": {"lockout_threshold": 0},
    "sessions": {"max_sessions_per_account": 10000, "max_sessions": 100000},
}


@pytest.fixture
def make_redis(base_dir):
    """Factory for throw-away Redis servers of the calling test (redis_server.
    RedisServer's arguments), stopped at its end. A missing redis-server is
    a failure, never a skip."""
    from redis_server import RedisServer
    made = []

    def make(*args, start=True, **kw):
        r = RedisServer(base_dir, *args, **kw)
        made.append(r)
        return r.start() if start else r

    yield make
    for r in reversed(made):
        r.stop()


@pytest.fixture
def redis(make_redis):
    """One Redis primary with the settings docs/scale-out.md asks for."""
    return make_redis()


@pytest.fixture
def make_cluster(base_dir):
    """Factory: make_cluster(store_keys, n=3, config=None, redis_files=None,
    start=True): n gatehouse nodes on one store (scale_harness.Cluster),
    each checked at the end as a single server is (sanitizer reports, leaked
    secrets), the balancer stopped if one was made. Accounts it has: admin,
    operator (Operator), reader (ReadOnly)."""
    from scale_harness import Cluster
    made = []

    def make(store_keys, n=3, config=None, redis_files=None, start=True):
        _require_build()
        c = Cluster(base_dir, store_keys, n, H.merge_config(SCALE_CONFIG, config), redis_files)
        made.append(c)
        c.init()
        c.add_user("operator", "Operator")
        c.add_user("reader", "ReadOnly")
        if start:
            c.start()
        return c

    yield make
    errors = []
    for c in made:
        if c.balancer is not None:
            c.balancer.stop()
        for gh in c.nodes:
            try:
                _finish(gh)
            except BaseException as e:  # report every node, not just the first
                errors.append(str(e))
    if errors:
        pytest.fail("\n".join(errors), pytrace=False)


@pytest.fixture
def cluster(make_cluster, redis):
    """Three nodes on the `redis` fixture's server."""
    return make_cluster(redis.store_keys(), redis_files=redis)
