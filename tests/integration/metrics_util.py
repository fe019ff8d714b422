"""Reading a node's /metrics in the tests: one scrape as {series: value},
what moved between two scrapes, and waiting for a count that lands as a
request ends or as a worker's timer or change log brings it."""

import re

import requests

import gatehouse_harness as H

SAMPLE_RE = re.compile(r'^([a-z_]+)(?:\{([^}]*)\})? (-?[0-9.e+]+)$')
# Upper bound for a count to land: a request counted as its worker frees
# it, an expiry found by the timer, a change applied from the log.
LANDS = 15.0


def scrape(gh, path="/metrics"):
    with requests.Session() as s:
        s.trust_env = False
        return s.get(gh.metrics_url + path, timeout=10)


def samples(gh):
    """{(name, ((label, value), ...)): value} of one scrape of gh's /metrics."""
    r = scrape(gh)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    out = {}
    for line in r.text.splitlines():
        if line.startswith("#") or not line:
            continue
        m = SAMPLE_RE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = tuple(re.findall(r'([a-z_]+)="([^"]*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def settled(gh):
    """samples(gh) once two scrapes in a row agree: a request answered just
    before (the harness's last readiness GET) is counted as its worker frees
    it, an instant after the answer left."""
    last = [samples(gh)]

    def same():
        now = samples(gh)
        agree = now == last[0]
        last[0] = now
        return agree
    H.wait_for(same, LANDS, "two scrapes that agree")
    return last[0]


def moved(before, after, name):
    """{labels: after - before} of the series of family name that moved."""
    out = {}
    for (n, labels), v in after.items():
        if n == name and v != before.get((n, labels), 0):
            out[labels] = v - before.get((n, labels), 0)
    return out


def value(s, name, **labels):
    return s.get((name, tuple(labels.items())), 0)


def wait_moved(gh, before, name, expected):
    """Wait until family name has moved by as much as expected in all,
    summed over the workers, then return what moved: the caller compares it
    with expected, so a count under another label fails as one missing."""
    total = sum(expected.values())
    H.wait_for(lambda: sum(moved(before, samples(gh), name).values()) >= total, LANDS,
               f"{total} more {name}")
    return moved(before, samples(gh), name)
