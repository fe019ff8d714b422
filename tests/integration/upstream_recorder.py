"""upstream_recorder.py: a small upstream for the gateway tests, written in
the tests: Python's threading http.server on 127.0.0.1, HTTP/1.1 with
keep-alive, that records every request it receives and answers JSON.

What it records (UpstreamRecorder.requests, in arrival order, a Recorded
each): the method, the path with its query, the header list exactly as it
arrived (names in their case, duplicates and order kept, underscores too),
the body's length and SHA-256. A request is recorded as soon as its head
has arrived (body_len None until the body is read), so a test can wait for
the arrival of a request the upstream never finishes.

What it answers: a document a test set for the path (set_document(path,
status, obj): that status and obj as JSON, e.g. a Redfish service root);
else what the last segment of the path names, ignoring case, so that any
dialect's prefix may lead to it (/api2/json/nodes/slow, /redfish/v1/x/sse,
/redfish/v1/EventService/SSE):
  slow    waits (for stop() or 60 s) without answering: past any proxy timeout
  reset   reads a little of the body, then resets the connection (RST)
  503     its own 503 with a JSON body {"upstream": "own 503"}
  sse     an event stream: each send_event(text) writes "data: text" to every
          open stream; it ends when the peer goes or stop() is called
  ws      a WebSocket echo (RFC 6455 handshake, text and binary echoed, ping
          answered, close answered)
  else    200 {"method", "path", "body_len", "body_sha256"}

Long-lived streams are counted: streams_open(kind) and streams_closed(kind)
say how many SSE or WebSocket connections are open and how many the peer
closed, for a test waiting on "the upstream connection was closed too".

The server stops with stop() (the fixture does it): it never outlives the test.
"""

import base64
import hashlib
import json
import queue
import select
import socket
import struct
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SLOW_MAX = 60.0
POLL = 0.02


@dataclass
class Recorded:
    method: str
    path: str
    headers: list                      # [(name, value)] as received
    body_len: int = None               # None until the body was read
    body_sha256: str = None
    done: threading.Event = field(default_factory=threading.Event)

    def header_names(self):
        return [n for n, _ in self.headers]

    def values(self, name):
        """Every value of header name (case-insensitive), in order."""
        return [v for n, v in self.headers if n.lower() == name.lower()]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "upstream-recorder"

    def log_message(self, fmt, *args):   # quiet: pytest shows failures, not traffic
        pass

    def _last_segment(self):
        return self.path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1].lower()

    def _record(self):
        rec = Recorded(self.command, self.path, list(self.headers.items()))
        with self.server.lock:
            self.server.recorder.requests.append(rec)
        return rec

    def _read_body(self, rec, limit=None):
        """Read the body (Content-Length or chunked), or its first limit bytes."""
        digest = hashlib.sha256()
        total = 0
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while limit is None or total < limit:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunk = self.rfile.read(size)
                self.rfile.readline()
                digest.update(chunk)
                total += len(chunk)
        else:
            left = int(self.headers.get("Content-Length") or 0)
            if limit is not None:
                left = min(left, limit)
            while left > 0:
                chunk = self.rfile.read(min(left, 65536))
                if not chunk:
                    break
                digest.update(chunk)
                total += len(chunk)
                left -= len(chunk)
        rec.body_len = total
        rec.body_sha256 = digest.hexdigest()

    def _json(self, status, obj):
        data = (json.dumps(obj) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _handle(self):
        rec = self._record()
        kind = self._last_segment()
        if kind == "reset":
            self._read_body(rec, limit=1)
            rec.done.set()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if kind == "ws" and self.headers.get("Upgrade", "").lower() == "websocket":
            rec.done.set()
            self._websocket()
            return
        self._read_body(rec)
        rec.done.set()
        with self.server.lock:
            document = self.server.recorder.documents.get(self.path.split("?", 1)[0])
        if document is not None:
            self._json(*document)
            return
        if kind == "slow":
            self.server.recorder.stopping.wait(SLOW_MAX)
            self.close_connection = True
            return
        if kind == "503":
            self._json(503, {"upstream": "own 503"})
            return
        if kind == "sse":
            self._sse()
            return
        self._json(200, {"method": self.command, "path": self.path,
                         "body_len": rec.body_len, "body_sha256": rec.body_sha256})

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _handle

    # ---------------------------------------------------------------- streams

    def _peer_gone(self):
        """True once the peer closed its end (readable, and nothing to read)."""
        r, _, _ = select.select([self.connection], [], [], 0)
        if not r:
            return False
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _stream_opened(self, kind):
        q = queue.Queue()
        rec = self.server.recorder
        with self.server.lock:
            rec._open[kind] = rec._open.get(kind, 0) + 1
            if kind == "sse":
                rec._sse_queues.append(q)
        return q

    def _stream_closed(self, kind, q):
        rec = self.server.recorder
        with self.server.lock:
            rec._open[kind] -= 1
            rec._closed[kind] = rec._closed.get(kind, 0) + 1
            if q in rec._sse_queues:
                rec._sse_queues.remove(q)

    def _sse(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(b": open\n\n")
        self.wfile.flush()
        self.close_connection = True
        q = self._stream_opened("sse")
        stopping = self.server.recorder.stopping
        try:
            while not stopping.is_set() and not self._peer_gone():
                try:
                    text = q.get(timeout=POLL)
                except queue.Empty:
                    continue
                self.wfile.write(f"data: {text}\n\n".encode())
                self.wfile.flush()
        except OSError:
            pass
        finally:
            self._stream_closed("sse", q)

    def _ws_frame(self, opcode, payload):
        head = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            head += bytes([n])
        elif n < 65536:
            head += bytes([126]) + struct.pack("!H", n)
        else:
            head += bytes([127]) + struct.pack("!Q", n)
        self.wfile.write(head + payload)
        self.wfile.flush()

    def _ws_read_frame(self):
        head = self.rfile.read(2)
        if len(head) < 2:
            return None, None
        opcode = head[0] & 0x0F
        n = head[1] & 0x7F
        if n == 126:
            n = struct.unpack("!H", self.rfile.read(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self.rfile.read(8))[0]
        mask = self.rfile.read(4) if head[1] & 0x80 else b"\0\0\0\0"
        data = self.rfile.read(n)
        return opcode, bytes(b ^ mask[i % 4] for i, b in enumerate(data))

    def _websocket(self):
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        q = self._stream_opened("ws")
        stopping = self.server.recorder.stopping
        try:
            while not stopping.is_set():
                r, _, _ = select.select([self.connection], [], [], POLL)
                if not r:
                    continue
                opcode, payload = self._ws_read_frame()
                if opcode is None:
                    break                       # the peer went
                if opcode == 0x8:
                    self._ws_frame(0x8, payload[:2])
                    break
                if opcode == 0x9:
                    self._ws_frame(0xA, payload)
                elif opcode in (0x1, 0x2):
                    self._ws_frame(opcode, payload)
        except OSError:
            pass
        finally:
            self._stream_closed("ws", q)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class UpstreamRecorder:
    """The upstream: start() it, point proxy_pass at url, stop() it."""

    def __init__(self):
        self.requests = []
        self.documents = {}
        self.stopping = threading.Event()
        self._open = {}
        self._closed = {}
        self._sse_queues = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.recorder = self
        self._server.lock = threading.Lock()
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)

    # ------------------------------------------------------------ for tests

    def snapshot(self):
        with self._server.lock:
            return list(self.requests)

    def find(self, path_part):
        """Recorded requests whose path holds path_part."""
        return [r for r in self.snapshot() if path_part in r.path]

    def clear(self):
        with self._server.lock:
            self.requests.clear()

    def set_document(self, path, status, obj):
        """Answer every request for path (its query aside) with status
        and obj as JSON; obj None: forget path's document."""
        with self._server.lock:
            if obj is None:
                self.documents.pop(path, None)
            else:
                self.documents[path] = (status, obj)

    def send_event(self, text):
        """Write "data: text" on every open SSE stream; how many it reached."""
        with self._server.lock:
            queues = list(self._sse_queues)
        for q in queues:
            q.put(text)
        return len(queues)

    def streams_open(self, kind):
        with self._server.lock:
            return self._open.get(kind, 0)

    def streams_closed(self, kind):
        with self._server.lock:
            return self._closed.get(kind, 0)
