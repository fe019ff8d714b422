"""Redfish EventService and its Server-Sent Events stream over real HTTPS:
the resource and its links, the stream's keep-alives and session events, the
stream ending when the credential it was opened with ends (logout, `session
revoke`, a Basic account's password change), refusals in Redfish's error
format, and the cap on open streams."""

import json
import os
import queue
import signal
import threading
import time

import pytest

from gatehouse_harness import assert_redfish_error, new_password, wait_until

EVENT_SERVICE = "/redfish/v1/EventService"
SSE = EVENT_SERVICE + "/SSE"
SUBSCRIPTIONS = EVENT_SERVICE + "/Subscriptions"

# The promise (README.md, "Events"): a stream ends within about 100 ms when
# its session or account does; the bound leaves room for a loaded machine and
# the sanitizer build.
END_BOUND = 2.0


class Stream:
    """An SSE stream read on a thread: lines go to a queue, then None when
    the server ends the stream (ended records when)."""

    def __init__(self, gh, auth=None, token=None, headers=None):
        self.session = gh.session(auth=auth, token=token)
        self.lines = queue.Queue()
        self.ended = None
        self.r = self.session.get(gh.url + SSE, stream=True, timeout=(10, 60),
                                  headers=headers or {})
        if self.r.status_code == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        try:
            for line in self.r.iter_lines(chunk_size=1, decode_unicode=True):
                self.lines.put(line)
        except Exception as e:          # the server closed it some other way
            self.lines.put(f"!{type(e).__name__}")
        self.ended = time.monotonic()
        self.lines.put(None)

    def line(self, timeout=10):
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"no line from the stream in {timeout} s")

    def event(self, timeout=10):
        """The next event as (id, data dict), skipping comments."""
        deadline = time.monotonic() + timeout
        fields = {}
        while True:
            line = self.line(max(0.1, deadline - time.monotonic()))
            assert line is not None, "the stream ended before an event"
            if line == "":
                if fields:
                    return fields.get("id"), json.loads(fields["data"])
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value

    def wait_end(self, timeout=10):
        """Seconds from now until the stream ended, draining what came first."""
        t0 = time.monotonic()
        while True:
            line = self.line(max(0.1, timeout - (time.monotonic() - t0)))
            if line is None:
                return self.ended - t0
            assert not line.startswith("!"), f"the stream broke: {line}"

    def close(self):
        self.r.close()
        self.session.close()


def session_events(stream, n, timeout=10):
    got = []
    while len(got) < n:
        got.append(stream.event(timeout))
    return got


def assert_session_event(ev, message, location):
    eid, data = ev
    assert eid and eid.isdigit(), ev
    assert data["@odata.type"].startswith("#Event.") and data["@odata.type"].endswith(".Event")
    assert data["Id"] == eid and data["Name"]
    (rec,) = data["Events"]
    assert rec["MessageId"] == f"ResourceEvent.1.0.{message}", rec
    assert rec["EventId"] == eid and rec["MemberId"] == "0"
    assert rec["MessageSeverity"] == "OK" and rec["Message"]
    assert rec["OriginOfCondition"] == {"@odata.id": location}, rec
    assert rec["EventTimestamp"].endswith("+00:00")


def path_of(location):
    return "/" + location.split("/", 3)[3] if location.startswith("http") else location


# ------------------------------------------------------------ the resource

def test_event_service_resource(server):
    root = server.get("/redfish/v1/").json()
    assert root["EventService"] == {"@odata.id": EVENT_SERVICE}
    odata = server.get("/redfish/v1/odata").json()
    assert {"name": "EventService", "kind": "Singleton", "url": EVENT_SERVICE} in odata["value"]
    metadata = server.get("/redfish/v1/$metadata").text
    for ns in ("EventService.v1_7_0", "EventDestination.v1_7_0", "EventDestinationCollection",
               "Event.v1_7_0"):
        assert f'Namespace="{ns}"' in metadata, ns

    assert_redfish_error(server.get(EVENT_SERVICE), 401, "NoValidSession")
    with server.admin() as s:
        r = s.get(server.url + EVENT_SERVICE, timeout=10)
        assert r.status_code == 200, r.text
        doc = r.json()
        assert doc["@odata.id"] == EVENT_SERVICE
        assert doc["@odata.type"] == "#EventService.v1_7_0.EventService"
        assert doc["Id"] == "EventService" and doc["Name"]
        assert doc["ServiceEnabled"] is True
        assert doc["Status"] == {"State": "Enabled", "Health": "OK"}
        assert doc["ServerSentEventUri"] == SSE
        assert doc["Subscriptions"] == {"@odata.id": SUBSCRIPTIONS}
        assert doc["EventFormatTypes"] == ["Event"]
        assert doc["RegistryPrefixes"] == ["ResourceEvent"]
        sse = doc["SSEFilterPropertiesSupported"]
        assert sse and all(v is False for v in sse.values()), sse

        r = s.get(server.url + SUBSCRIPTIONS, timeout=10)
        assert r.status_code == 200, r.text
        assert r.json()["Members@odata.count"] == len(r.json()["Members"])
        assert r.json()["@odata.type"] == "#EventDestinationCollection.EventDestinationCollection"
        # Push subscriptions are not offered: POST is a method the collection lacks.
        r = s.post(server.url + SUBSCRIPTIONS, json={"Destination": "https://192.0.2.1/e",
                                                     "Protocol": "Redfish"}, timeout=10)
        assert_redfish_error(r, 405, "OperationNotAllowed")
        assert r.headers["Allow"] == "GET, HEAD"
        assert_redfish_error(s.post(server.url + SSE, timeout=10), 405, "OperationNotAllowed")


def test_sushy_reads_the_event_service(server):
    import sushy
    import sushy.auth
    from sushy.resources.eventservice import eventservice
    auth = sushy.auth.BasicAuth(username="admin", password=server.admin_password)
    conn = sushy.Sushy(f"{server.url}/redfish/v1", verify=server.ca, auth=auth)
    es = eventservice.EventService(conn._conn, EVENT_SERVICE)
    assert es.service_enabled is True
    assert all(m.startswith(SUBSCRIPTIONS + "/") for m in es.subscriptions.members_identities)


# ----------------------------------------------------------------- refusals

def test_stream_refusals(server):
    r = server.get(SSE, stream=True)
    assert_redfish_error(r, 401, "NoValidSession")
    r = server.get(SSE, stream=True, headers={"X-Auth-Token": "0" * 64})
    assert_redfish_error(r, 401, "NoValidSession")
    with server.admin() as s:
        # The validator's way to ask for an unsuccessful stream: a JSON Accept.
        r = s.get(server.url + SSE, headers={"Accept": "application/json"}, timeout=10)
        assert_redfish_error(r, 406, "HeaderInvalid")
        r = s.get(server.url + SSE, params={"$filter": "MessageId eq 'x'"}, timeout=10)
        assert_redfish_error(r, 501, "QueryNotSupported")


# ------------------------------------------------------------------ streams

def test_session_stream_events_then_logout_ends_it(server):
    token, location, _, _ = server.login()
    st = Stream(server, token=token)
    try:
        assert st.r.status_code == 200, st.r.text
        assert st.r.headers["Content-Type"].replace(" ", "") == "text/event-stream;charset=utf-8"
        assert st.r.headers["Cache-Control"] == "no-store"
        assert st.line() == ": keep-alive"
        # Another session of the same account starts and ends: two events.
        token2, location2, _, _ = server.login()
        server.logout(token2, location2)
        created, removed = session_events(st, 2)
        assert_session_event(created, "ResourceCreated", path_of(location2))
        assert_session_event(removed, "ResourceRemoved", path_of(location2))
        assert int(removed[0]) > int(created[0])
        # Ending the stream's own session ends the stream, after its event.
        r = server.logout(token, location)
        assert r.status_code == 204
        assert_session_event(st.event(), "ResourceRemoved", path_of(location))
        took = st.wait_end()
        assert took < END_BOUND, f"the stream outlived its session by {took:.3f} s"
    finally:
        st.close()


def test_session_stream_ends_on_cli_revoke(server):
    token, location, _, _ = server.login()
    st = Stream(server, token=token)
    try:
        assert st.r.status_code == 200, st.r.text
        assert st.line() == ": keep-alive"
        server.cli("session", "revoke", path_of(location).rsplit("/", 1)[1])
        took = st.wait_end()
        assert took < END_BOUND, f"the stream outlived its revocation by {took:.3f} s"
    finally:
        st.close()


def test_events_are_scoped_to_what_the_client_may_see(server):
    """A ReadOnly user sees its own sessions' events, not the admin's; the
    admin (ConfigureManager) sees everyone's."""
    reader_token, reader_loc, _, _ = server.login("reader")
    mine = Stream(server, token=reader_token)
    admin = Stream(server, auth=("admin", server.admin_password))
    try:
        assert mine.r.status_code == 200 and admin.r.status_code == 200
        assert mine.line() == ": keep-alive" and admin.line() == ": keep-alive"
        a_token, a_loc, _, _ = server.login()
        server.logout(a_token, a_loc)
        r_token, r_loc, _, _ = server.login("reader")
        ev = mine.event()
        assert_session_event(ev, "ResourceCreated", path_of(r_loc))
        seen = [admin.event() for _ in range(3)]
        assert [e[1]["Events"][0]["OriginOfCondition"]["@odata.id"] for e in seen] == \
            [path_of(a_loc), path_of(a_loc), path_of(r_loc)]
        server.logout(r_token, r_loc)
        server.logout(reader_token, reader_loc)
    finally:
        mine.close()
        admin.close()


def test_keepalive_and_basic_stream_ends_on_password_change(make_server):
    gh = make_server(config={"events": {"keepalive_seconds": 1}})
    password = gh.add_user("watcher", "ReadOnly")
    st = Stream(gh, auth=("watcher", password))
    try:
        assert st.r.status_code == 200, st.r.text
        assert st.line() == ": keep-alive"
        t0 = time.monotonic()
        assert st.line(timeout=5) == ""
        assert st.line(timeout=5) == ": keep-alive"
        # keepalive_seconds (docs/gatehouse.conf.example): a lower bound, which
        # a slow machine only makes later.
        assert time.monotonic() - t0 >= 0.5, "keep-alives come at the configured interval"
        new = new_password("watcher")
        gh.secrets.add(new)
        gh.cli("user", "passwd", "watcher", "--password-file", gh.secret_file(new))
        took = st.wait_end()
        assert took < END_BOUND, f"the stream outlived the password by {took:.3f} s"
        # The new password opens a new stream.
        again = Stream(gh, auth=("watcher", new))
        assert again.r.status_code == 200
        again.close()
        gh.users["watcher"] = new
    finally:
        st.close()


def test_basic_stream_ends_when_the_account_is_deleted(make_server):
    gh = make_server()
    password = gh.add_user("gone", "Operator")
    st = Stream(gh, auth=("gone", password))
    try:
        assert st.r.status_code == 200, st.r.text
        assert st.line() == ": keep-alive"
        gh.cli("user", "del", "gone")
        took = st.wait_end()
        assert took < END_BOUND, f"the stream outlived its account by {took:.3f} s"
    finally:
        st.close()


def test_stream_cap(make_server):
    gh = make_server(config={"server": {"workers": 1}, "events": {"max_streams": 1}})
    token, location, _, _ = gh.login()
    first = Stream(gh, token=token)
    try:
        assert first.r.status_code == 200
        assert first.line() == ": keep-alive"
        with gh.admin() as s:
            r = s.get(gh.url + SSE, timeout=10)
            assert_redfish_error(r, 503, "ServiceTemporarilyUnavailable")
            assert r.headers.get("Retry-After")
        gh.logout(token, location)
        first.wait_end()
        # The slot is free again once the first stream ended.
        second = Stream(gh, auth=("admin", gh.admin_password))
        assert second.r.status_code == 200
        assert second.line() == ": keep-alive"
        # ... and once a client closed its stream: the server notices and
        # frees the slot (polled, since the close reaches it on its own time).
        second.close()
        streams = []

        def opens():
            s = Stream(gh, auth=("admin", gh.admin_password))
            streams.append(s)
            return s.r.status_code == 200

        try:
            assert wait_until(opens, 10, interval=0.05) is not None, \
                "a stream the client closed still holds its slot"
        finally:
            for s in streams:
                s.close()
    finally:
        first.close()


def test_streams_off(make_server):
    gh = make_server(config={"events": {"max_streams": 0}})
    with gh.admin() as s:
        assert s.get(gh.url + EVENT_SERVICE, timeout=10).json()["ServiceEnabled"] is False
        assert_redfish_error(s.get(gh.url + SSE, timeout=10), 503,
                             "ServiceTemporarilyUnavailable")


def test_reload_ends_streams_as_responses_end(make_server):
    """A reload retires the old workers: their streams end with the chunked
    encoding's last chunk (not cut off), and the client reconnects to the new
    ones."""
    gh = make_server()
    token, _, _, _ = gh.login()
    st = Stream(gh, token=token)
    try:
        assert st.r.status_code == 200, st.r.text
        assert st.line() == ": keep-alive"
        os.kill(gh.proc.pid, signal.SIGHUP)
        st.wait_end()
        again = Stream(gh, token=token)
        assert again.r.status_code == 200
        assert again.line() == ": keep-alive"
        again.close()
    finally:
        st.close()


def test_session_stream_ends_when_its_role_changes(make_server):
    """What a stream shows depends on the role it was opened with: another
    role (given by an administrator's PATCH) ends it, and the client's new
    stream is judged by the new role."""
    gh = make_server()
    password = new_password("promoted")
    gh.secrets.add(password)
    with gh.admin() as s:
        r = s.post(gh.url + "/redfish/v1/AccountService/Accounts", timeout=10,
                   json={"UserName": "promoted", "Password": password, "RoleId": "ReadOnly"})
        assert r.status_code == 201, r.text
        account = path_of(r.headers["Location"])
    gh.users["promoted"] = password
    token, _, _, _ = gh.login("promoted")
    st = Stream(gh, token=token)
    try:
        assert st.r.status_code == 200, st.r.text
        assert st.line() == ": keep-alive"
        with gh.admin() as s:
            r = s.patch(gh.url + account, json={"RoleId": "Administrator"}, timeout=10)
            assert r.status_code == 200, r.text
        took = st.wait_end()
        assert took < END_BOUND, f"the stream outlived its role by {took:.3f} s"
        again = Stream(gh, token=token)
        assert again.r.status_code == 200 and again.line() == ": keep-alive"
        a_token, a_loc, _, _ = gh.login()          # admin's: visible to an Administrator now
        assert_session_event(again.event(), "ResourceCreated", path_of(a_loc))
        again.close()
    finally:
        st.close()


def test_session_stream_ends_with_the_session_lifetime(make_server):
    """A session's time is up by the configuration (session_lifetime here; the
    idle timeout is the same check): its stream ends with it, though the
    session was never asked about again."""
    gh = make_server(config={"sessions": {"session_lifetime": 3}})
    token, _, _, _ = gh.login()
    t0 = time.monotonic()
    st = Stream(gh, token=token)
    try:
        assert st.r.status_code == 200, st.r.text
        assert st.line() == ": keep-alive"
        st.wait_end(timeout=10)
        lived = st.ended - t0
        # session_lifetime (docs/gatehouse.conf.example), in whole seconds,
        # then the promise of END_BOUND.
        assert 1.5 < lived < 3 + END_BOUND, f"the stream lived {lived:.3f} s"
    finally:
        st.close()


def subscriptions(gh, s):
    r = s.get(gh.url + SUBSCRIPTIONS, timeout=10)
    assert r.status_code == 200, r.text
    return {m["@odata.id"] for m in r.json()["Members"]}


def test_stream_is_an_event_destination(server):
    """As DSP0266 asks and the Protocol Validator checks it: opening a stream
    adds one EventDestination (SSE, with an opaque Context) to Subscriptions,
    closing it removes it, and deleting it closes the stream."""
    with server.admin() as s:
        before = subscriptions(server, s)
        st = Stream(server, auth=("admin", server.admin_password))
        try:
            assert st.r.status_code == 200
            (dest,) = subscriptions(server, s) - before
            r = s.get(server.url + dest, timeout=10)
            assert r.status_code == 200, r.text
            doc = r.json()
            assert doc["@odata.id"] == dest and doc["Id"] == dest.rsplit("/", 1)[1]
            assert doc["@odata.type"].startswith("#EventDestination.")
            assert doc["SubscriptionType"] == "SSE" and doc["Protocol"] == "Redfish"
            assert isinstance(doc["Context"], str) and doc["Context"]
            st.close()
            assert wait_until(lambda: s.get(server.url + dest, timeout=10).status_code == 404,
                              10, interval=0.05) is not None, "closed, still listed"
        finally:
            st.close()

        st = Stream(server, auth=("admin", server.admin_password))
        try:
            assert st.line() == ": keep-alive"
            (dest,) = subscriptions(server, s) - before
            r = s.delete(server.url + dest, timeout=10)
            assert r.status_code == 204, r.text
            took = st.wait_end()
            assert took < END_BOUND, f"the stream outlived its EventDestination by {took:.3f} s"
            assert s.get(server.url + dest, timeout=10).status_code == 404
            assert dest not in subscriptions(server, s)
        finally:
            st.close()


def test_event_destinations_are_scoped(server):
    """A ReadOnly user sees and may delete its own streams only."""
    reader = ("reader", server.users["reader"])
    mine = Stream(server, auth=reader)
    admin = Stream(server, auth=("admin", server.admin_password))
    try:
        assert mine.line() == ": keep-alive" and admin.line() == ": keep-alive"
        with server.admin() as s:
            everyone = subscriptions(server, s)
        with server.session(auth=reader) as s:
            own = subscriptions(server, s)
            assert len(own) == 1 and own < everyone
            (other,) = [d for d in everyone - own
                        if s.get(server.url + d, timeout=10).status_code == 403][:1]
            assert_redfish_error(s.delete(server.url + other, timeout=10), 403,
                                 "InsufficientPrivilege")
            r = s.delete(server.url + next(iter(own)), timeout=10)
            assert r.status_code == 204, r.text
        mine.wait_end()
        assert admin.ended is None, "the admin's stream ended with the reader's"
    finally:
        mine.close()
        admin.close()
