"""Streams and upstream failures through the nginx configuration `gatehouse
serve` writes (`[server] upstream` = upstream_recorder.py; the default
stream_paths; the Upgrade map): Server-Sent Events pass through unbuffered
and end within a second of their session's revocation; a WebSocket echo
works and ends within a second of its Basic account's deletion; an
upstream that is down, slower than upstream_timeout or resets mid-body
gets the dialect's 502/504 on a Redfish and a PowerStore path, nothing
hangs and the next request works; the upstream's own 5xx passes
unchanged."""

import base64
import threading
import time

import pytest
import websocket

import gatehouse_harness as H
from upstream_recorder import UpstreamRecorder

SSE = "/redfish/v1/EventService/SSE"
PS = "/api/rest"
# The product's promise for a long-lived request whose credential ended
# (docs/gateway.md, "Uploads and streams").
STREAM_PROMISE = 1.0
STREAM_MARGIN = 1.0 if H.SANITIZE else 0.5


@pytest.fixture(scope="module")
def upstream():
    up = UpstreamRecorder().start()
    yield up
    up.stop()


@pytest.fixture
def gw(make_server, upstream):
    gh = make_server(config={"server": {"upstream": upstream.url, "upstream_timeout": 2}},
                     start=False)
    gh.add_user("operator", "Operator")
    gh.start()
    return gh


def ends_within(what, body, promise=STREAM_PROMISE):
    """Run body (which returns once the stream has ended) in a thread and
    return the seconds it took; fail if it takes past the promise."""
    t0 = time.monotonic()
    ended = threading.Event()

    def run():
        try:
            body()
        except Exception:
            pass
        ended.set()
    threading.Thread(target=run, daemon=True).start()
    assert ended.wait(10), f"{what} did not end"
    took = time.monotonic() - t0
    assert took < promise + STREAM_MARGIN, f"{what} ended after {took:.2f} s"
    return took


@pytest.mark.parametrize("accept", ["text/event-stream", "*/*"])
def test_sse_unbuffered_and_ends_on_revoke(gw, upstream, accept):
    token, _, body, _ = gw.login("operator")
    closed = upstream.streams_closed("sse")
    with gw.session(token=token) as s:
        r = s.get(gw.url + SSE, stream=True, timeout=10, headers={"Accept": accept})
        assert r.status_code == 200 and r.headers["Content-Type"] == "text/event-stream"
        lines = r.iter_lines(chunk_size=1)
        assert next(lines) == b": open"
        H.wait_for(lambda: upstream.streams_open("sse") >= 1, 10, "the stream at the upstream")
        # each event reaches the client while the upstream keeps the stream open
        for text in ("first", "second"):
            assert upstream.send_event(text) == 1
            got = [next(lines) for _ in range(2)]
            assert f"data: {text}".encode() in got, got
        assert upstream.streams_open("sse") == 1
        gw.cli("session", "revoke", body["Id"])
        ends_within("the SSE stream", lambda: [None for _ in lines])
    H.wait_for(lambda: upstream.streams_closed("sse") > closed, 5,
               "the upstream's SSE connection closed")


def test_websocket_echo_and_ends_on_user_deleted(gw, upstream):
    pw = gw.add_user("ws1", "Operator")
    basic = base64.b64encode(f"ws1:{pw}".encode()).decode()
    closed = upstream.streams_closed("ws")
    ws = websocket.create_connection(f"wss://127.0.0.1:{gw.port}/redfish/v1/Managers/1/ws",
                                     sslopt={"ca_certs": gw.ca},
                                     header=[f"Authorization: Basic {basic}"], timeout=10)
    try:
        for message in ("echo me", "and me"):
            ws.send(message)
            assert ws.recv() == message
        (rec,) = [r for r in upstream.snapshot() if r.path == "/redfish/v1/Managers/1/ws"]
        assert rec.values("X-Gatehouse-User") == ["ws1"]
        assert rec.values("X-Gatehouse-Session") == [""]
        assert not rec.values("Authorization")
        gw.cli("user", "del", "ws1")

        def until_closed():
            while True:
                ws.recv()
        ends_within("the WebSocket", until_closed)
        H.wait_for(lambda: upstream.streams_closed("ws") > closed, 5,
                   "the upstream's WebSocket connection closed")
    finally:
        ws.close()


def basic(gh):
    return {"auth": ("admin", gh.admin_password)}


def assert_powerstore_error(r, status):
    assert r.status_code == status, r.text
    assert list(r.json()) == ["messages"], r.text


def test_upstream_slow_is_504_then_fine(gw, upstream):
    """upstream_timeout 2: the read times out, the dialect's 504."""
    r = gw.get("/redfish/v1/Systems/x/slow", timeout=30, **basic(gw))
    H.assert_redfish_error(r, 504, "OperationTimeout")
    r = gw.get(PS + "/volume/slow", timeout=30, **basic(gw))
    assert_powerstore_error(r, 504)
    assert gw.get("/redfish/v1/Systems/1", **basic(gw)).status_code == 200
    assert gw.get(PS + "/volume", **basic(gw)).status_code == 200


def test_upstream_reset_mid_body_is_502_then_fine(gw, upstream):
    """The upstream reads a byte of the body, then resets the connection
    (the body within max_body_bytes, so that it is passed on at all)."""
    body = b"z" * 60000
    r = gw.request("POST", "/redfish/v1/Systems/1/reset", data=body, timeout=30, **basic(gw))
    H.assert_redfish_error(r, 502, "OperationFailed")
    r = gw.request("POST", PS + "/volume/reset", data=body, timeout=30, **basic(gw))
    assert_powerstore_error(r, 502)
    assert gw.get("/redfish/v1/Systems/1", **basic(gw)).status_code == 200
    assert gw.request("POST", PS + "/volume", json={}, **basic(gw)).status_code == 200


def test_upstream_own_5xx_passes_unchanged(gw, upstream):
    for path in ("/redfish/v1/Systems/503", PS + "/volume/503"):
        r = gw.get(path, **basic(gw))
        assert r.status_code == 503 and r.json() == {"upstream": "own 503"}, r.text


def test_upstream_down_is_502_then_fine(make_server, upstream):
    gh = make_server(config={"server": {"upstream": f"http://127.0.0.1:{H.free_port()}"}},
                     start=False)
    gh.ready_path = "/redfish"                # gatehouse's own: the upstream is down
    gh.start()
    for _ in range(2):
        r = gh.get("/redfish/v1/Systems", **basic(gh))
        H.assert_redfish_error(r, 502, "OperationFailed")
        r = gh.get(PS + "/volume", **basic(gh))
        assert_powerstore_error(r, 502)
    # the service root falls back to gatehouse's own
    r = gh.get("/redfish/v1/")
    assert r.status_code == 200 and r.json()["Name"] == "Root Service"
