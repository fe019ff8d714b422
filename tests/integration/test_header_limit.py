"""[server] max_header_bytes is the limit on a request's header block, on
HTTP/1.1 and on HTTP/2, at a small configured limit and at the default:
a block of exactly the limit is accepted however it is split into lines (one
line of nearly the whole limit included), one byte more is refused with 431
in the dialect's own format (Redfish error body, oVirt plain text,
PowerStore message list). Past what nginx itself takes (one line over
max_header_bytes, or six times it in all), HTTP/1.1 still gets the dialect's
431 and HTTP/2 loses its connection (nginx sends GOAWAY).

The block is counted as docs/gatehouse.conf.example says: every field as the
HTTP/1.1 line `Name: value` CRLF, plus the empty line that ends them; on
HTTP/2 the :authority pseudo-header counts as its host line. The requests here
are written so that both protocols carry exactly the fields listed: raw
HTTP/1.1 (http.client, no header of its own) and curl --http2 with its
User-Agent and Accept removed."""

import base64
import http.client
import json
import socket
import ssl
import subprocess

import pytest

import gatehouse_harness as H
from conftest import SHARED_CONFIG, _finish, _new

REDFISH = "/redfish/v1/Systems"
OVIRT = "/ovirt-engine/api"
POWERSTORE = "/api/rest/volume"


@pytest.fixture(scope="module", params=[4096, None], ids=["limit-4096", "limit-default"])
def gh(request, base_dir):
    """A server at max_header_bytes 4096, or at the default (16384)."""
    config = H.merge_config(SHARED_CONFIG)
    if request.param is not None:
        config["server"] = {"max_header_bytes": request.param}
    server = _new(base_dir, "hdr", config)
    server.limit = request.param or 16384
    try:
        yield server
    finally:
        _finish(server)


def block_size(fields):
    """The header block as max_header_bytes counts it."""
    return sum(len(n) + 2 + len(v) + 2 for n, v in fields) + 2


def base_fields(gh, auth=True):
    fields = [("Host", f"127.0.0.1:{gh.port}")]
    if auth:
        cred = base64.b64encode(f"admin:{gh.admin_password}".encode()).decode()
        fields.append(("Authorization", "Basic " + cred))
    return fields


def one_line(gh, size, auth=True, char="Z"):
    """The base fields and one X-Pad line making the block exactly size bytes."""
    fields = base_fields(gh, auth)
    pad = size - block_size(fields) - len("X-Pad: \r\n")
    return fields + [("X-Pad", char * pad)]


def many_lines(gh, size, auth=True):
    """The base fields and lines of 64 bytes or less making exactly size bytes."""
    fields = base_fields(gh, auth)
    i = 0
    while True:
        left = size - block_size(fields)
        name = f"X-F{i:04d}"
        if left <= 64:
            return fields + [(name, "b" * (left - len(name) - 4))]
        fields.append((name, "b" * (64 - len(name) - 4)))
        i += 1


def h1(gh, path, fields):
    """GET path over HTTP/1.1 with exactly these fields: (status, headers, body)."""
    ctx = ssl.create_default_context(cafile=gh.ca)
    conn = http.client.HTTPSConnection("127.0.0.1", gh.port, context=ctx, timeout=10)
    try:
        conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
        for name, value in fields:
            conn.putheader(name, value)
        conn.endheaders()
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def h2(gh, path, fields, tmp_path):
    """GET path over HTTP/2 (curl) with exactly these fields: (status, headers,
    body), status None when there was no answer (curl's error in body)."""
    hfile = tmp_path / "fields"
    hfile.write_text("".join(f"{n}: {v}\n" for n, v in fields))
    p = subprocess.run(["curl", "-sS", "--http2", "--cacert", gh.ca, "-i",
                        "-H", "User-Agent:", "-H", "Accept:", "-H", f"@{hfile}",
                        gh.url + path], capture_output=True, timeout=30)
    if p.returncode != 0:
        return None, {}, p.stderr
    head, _, body = p.stdout.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/2 "), lines[0]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


@pytest.fixture(params=["http1", "http2"])
def send(request, tmp_path):
    if request.param == "http1":
        return h1
    return lambda gh, path, fields: h2(gh, path, fields, tmp_path)


def assert_refused(answer, path):
    """answer is the dialect's 431 for path."""
    status, headers, body = answer
    assert status == 431, f"{status}: {body[:300]!r}"
    if path.startswith("/redfish"):
        assert headers.get("content-type", "").startswith("application/json"), headers
        assert headers.get("odata-version") == "4.0", headers
        ids = [m["MessageId"] for m in json.loads(body)["error"]["@Message.ExtendedInfo"]]
        assert len(ids) == 1 and ids[0].endswith(".GeneralError"), ids
    elif path.startswith("/ovirt-engine"):
        assert headers.get("content-type") == "text/plain; charset=utf-8", headers
        assert body == b"Request header fields too large\n", body
    else:
        assert headers.get("content-type") == "application/json", headers
        assert json.loads(body)["messages"][0]["code"] == "0xE1431001", body
    assert "strict-transport-security" in headers, headers


def still_answers(gh, send):
    status, _, body = send(gh, "/redfish/v1/", base_fields(gh, auth=False))
    assert status == 200, body[:300]


# ------------------------------------------------------------------ at the limit

def test_one_line_of_nearly_the_whole_limit_accepted(gh, send):
    fields = one_line(gh, gh.limit)
    assert block_size(fields) == gh.limit and len(fields[-1][1]) > gh.limit - 200
    status, _, body = send(gh, REDFISH, fields)
    assert status == 200, f"{status}: {body[:300]!r}"
    assert json.loads(body)["@odata.id"] == REDFISH


def test_many_lines_of_exactly_the_limit_accepted(gh, send):
    fields = many_lines(gh, gh.limit)
    assert block_size(fields) == gh.limit
    status, _, body = send(gh, REDFISH, fields)
    assert status == 200, f"{status}: {body[:300]!r}"


def test_open_path_at_the_limit_accepted(gh, send):
    """Without credentials too, and on every dialect: the limit is the
    adapter's, before any dialect looks at the request."""
    status, _, _ = send(gh, "/redfish/v1/", one_line(gh, gh.limit, auth=False))
    assert status == 200
    for path in (OVIRT, POWERSTORE):
        status, _, body = send(gh, path, one_line(gh, gh.limit, auth=False))
        assert status == 401, f"{path}: {status}: {body[:300]!r}"


# ------------------------------------------------------------ one byte over it

@pytest.mark.parametrize("path", [REDFISH, OVIRT, POWERSTORE])
def test_one_line_one_byte_over_refused(gh, send, path):
    assert_refused(send(gh, path, one_line(gh, gh.limit + 1)), path)
    still_answers(gh, send)


@pytest.mark.parametrize("path", [REDFISH, OVIRT, POWERSTORE])
def test_many_lines_one_byte_over_refused(gh, send, path):
    assert_refused(send(gh, path, many_lines(gh, gh.limit + 1)), path)


def test_refused_without_credentials_and_on_open_paths(gh, send):
    """The 431 comes before authentication: good, bad or no credentials."""
    assert_refused(send(gh, "/redfish/v1/", one_line(gh, gh.limit + 1, auth=False)),
                   "/redfish/v1/")
    fields = many_lines(gh, gh.limit + 1, auth=False)
    assert_refused(send(gh, REDFISH, fields), REDFISH)


# ------------------------------------------------------------ what is counted

def raw_status(gh, head):
    """Send head (bytes) on a fresh TLS connection; the response's status."""
    ctx = ssl.create_default_context(cafile=gh.ca)
    with socket.create_connection(("127.0.0.1", gh.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as sock:
            sock.sendall(head)
            data = b""
            while b"\r\n" not in data:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
    return int(data.split(b" ", 2)[1])


@pytest.mark.parametrize("eol", [b"\r\n", b"\n"], ids=["crlf", "bare-lf"])
def test_http1_counts_the_lines_as_sent(gh, eol):
    """Whitespace around a value and each line ending count as sent: a block
    of exactly the limit with them is accepted, one more space is not."""
    def head(pad):
        lines = [b"Host: 127.0.0.1", b"X-Pad:   " + b"Z" * pad + b"   "]
        block = b"".join(line + eol for line in lines) + eol
        return b"GET /redfish/v1/ HTTP/1.1" + eol + block, len(block)
    _, fixed = head(0)
    request, size = head(gh.limit - fixed)
    assert size == gh.limit
    assert raw_status(gh, request) == 200
    request, size = head(gh.limit - fixed + 1)
    assert size == gh.limit + 1
    assert raw_status(gh, request) == 431


def test_http2_cookie_fields_count_as_one_cookie_line(gh, tmp_path):
    """Cookie fields sent apart over HTTP/2 count as the one line nginx joins
    them into, which is what HTTP/1.1 sends: the same count on both."""
    def crumbs(size):
        fields = base_fields(gh, auth=False) + [("Cookie", "a=1"), ("Cookie", "b=2")]
        joined = base_fields(gh, auth=False) + [("Cookie", "a=1; b=2")]
        pad = "c=" + "Z" * (size - block_size(joined) - len("; c="))
        return fields + [("Cookie", pad)], joined[:-1] + [("Cookie", "a=1; b=2; " + pad)]
    apart, joined = crumbs(gh.limit)
    assert block_size(joined) == gh.limit
    assert h2(gh, "/redfish/v1/", apart, tmp_path)[0] == 200
    assert h1(gh, "/redfish/v1/", joined)[0] == 200
    apart, joined = crumbs(gh.limit + 1)
    assert_refused(h2(gh, "/redfish/v1/", apart, tmp_path), "/redfish/v1/")
    assert_refused(h1(gh, "/redfish/v1/", joined), "/redfish/v1/")


# --------------------------------------------------- past what nginx itself takes

def test_http1_line_longer_than_the_limit_gets_the_dialect_431(gh):
    """nginx refuses a line longer than its buffer (max_header_bytes) itself:
    error_page sends its 494 to the module as 431."""
    for path in (REDFISH, OVIRT, POWERSTORE):
        assert_refused(h1(gh, path, one_line(gh, gh.limit * 2)), path)
    still_answers(gh, h1)


def test_http1_block_past_nginx_buffers_gets_the_dialect_431(gh):
    assert_refused(h1(gh, REDFISH, many_lines(gh, gh.limit * 8)), REDFISH)
    still_answers(gh, h1)


def test_http2_head_nginx_refuses_ends_the_connection(gh, tmp_path):
    """A field longer than max_header_bytes as encoded ('Z' does not shrink
    under HPACK's Huffman code), or fields whose names and values add up to
    more than six times it, are refused by nginx with GOAWAY: no status to
    answer in, and the server goes on."""
    status, _, err = h2(gh, REDFISH, one_line(gh, gh.limit * 2, char="Z"), tmp_path)
    assert status is None, f"{status}: {err[:300]!r}"
    status, _, err = h2(gh, REDFISH, many_lines(gh, gh.limit * 8), tmp_path)
    assert status is None, f"{status}: {err[:300]!r}"
    still_answers(gh, h1)
