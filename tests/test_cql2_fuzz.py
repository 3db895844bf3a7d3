"""CQL2 chain fuzz against a real `landgis serve`, both stores: the hardening issue's crash (a long
unary-minus or NOT chain overflowed the native parser's stack and killed the process with one
anonymous GET) and its relatives, each grown in doubling lengths far past where it is refused.

Every answer must be a 2xx or a 4xx, every request must be followed by a /health that answers,
and the server process must still be the same one at the end: a crash fails the test. The
figure is printed by `make test`.
"""

from __future__ import annotations

import http.client
import time
from collections import Counter
from urllib.parse import urlencode, urlsplit

import pytest
from api_support import LiveServer, load_sample, make_store

LONGEST = 100_000
"""Chains grow until their filter passes this many characters (5× the filter cap)."""
LEAF = "id='x'"
JSON_LEAF = '{"op":"=","args":[{"property":"id"},"x"]}'

CHAINS = {
    "unary minus": lambda n: ("seq=" + "-" * n + "1", None),
    "NOT": lambda n: ("NOT " * n + LEAF, None),
    "parentheses": lambda n: ("(" * n + LEAF + ")" * n, None),
    "unclosed parentheses": lambda n: ("(" * n + LEAF, None),
    "parentheses around an error": lambda n: ("(" * n + "id=" + ")" * n, None),
    "NOT (": lambda n: ("NOT (" * n + LEAF + ")" * n, None),
    "minus (": lambda n: ("seq=" + "-(" * n + "1" + ")" * n, None),
    "function calls": lambda n: ("CASEI(" * n + "'x'" + ")" * n + " = name", None),
    "spatial in NOT": lambda n: ("NOT (" * n + "S_INTERSECTS(geometry, POINT(112.6 33.0))" + ")" * n, None),
    "subtraction": lambda n: ("seq = 1" + " - 1" * n, None),
    "comparison": lambda n: ("seq" + " = 1" * n, None),
    "AND": lambda n: (" AND ".join([LEAF] * n), None),
    "OR": lambda n: (" OR ".join([LEAF] * n), None),
    "cql2-json not": lambda n: ('{"op":"not","args":[' * n + JSON_LEAF + "]}" * n, "cql2-json"),
    "cql2-json arrays": lambda n: ("[" * n + "]" * n, "cql2-json"),
    "cql2-json and": lambda n: ('{"op":"and","args":[' + ",".join([JSON_LEAF] * n) + "]}", "cql2-json"),
}


@pytest.fixture(scope="module", params=["geopackage", "postgis"])
def live(request, tmp_path_factory):
    store, pg = make_store(request.param, tmp_path_factory.mktemp("fuzz"))
    load_sample(store)
    url = store.url
    store.close()
    server = LiveServer(url)
    try:
        yield request.param, server
    finally:
        server.stop()
        if pg:
            pg.drop()


def get(base: str, path: str, params: dict) -> tuple[int, str]:
    """A plain GET with http.client: httpx refuses to send a query string over 64 KiB, and the
    point is to see what the server does with one."""
    u = urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request("GET", path + "?" + urlencode(params))
        r = conn.getresponse()
        return r.status, r.read(300).decode("utf-8", "replace")
    finally:
        conn.close()


def test_cql2_chains_never_crash_the_server(live, record_property):
    kind, server = live
    pid = server.proc.pid
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    crashes = longest = 0
    slowest = (0.0, "")
    for label, make in CHAINS.items():
        n = 1
        while True:
            text, lang = make(n)
            params = {"filter": text, **({"filter-lang": lang} if lang else {})}
            started = time.monotonic()
            try:
                status, body = get(server.base, "/collections/reserve_parcels/items", params)
            except (OSError, http.client.HTTPException) as exc:  # the connection died with the server
                status, body = 0, type(exc).__name__
            took = time.monotonic() - started
            slowest = max(slowest, (took, f"{label} n={n}"))
            statuses[status] += 1
            longest = max(longest, len(text))
            if status >= 500 or status == 0:
                failures.append(f"{label} n={n} ({len(text)} chars): {status} {body[:200]}")
            if not server.alive():
                crashes += 1
                failures.append(f"{label} n={n} ({len(text)} chars): the server died")
                break
            if len(text) > LONGEST:
                break
            n *= 2
        if crashes:
            break
    refused = sum(v for s, v in statuses.items() if 400 <= s < 500)
    accepted = sum(v for s, v in statuses.items() if 200 <= s < 300)
    record_property(
        "report_line",
        f"CQL2 fuzz ({kind}): longest chain {longest} chars, {refused} refused (4xx: {dict(sorted((s, v) for s, v in statuses.items() if s >= 400))}), "
        f"{accepted} accepted, crashes {crashes}; slowest answer {slowest[0] * 1000:.0f} ms ({slowest[1]})",
    )
    assert crashes == 0 and server.proc.pid == pid and server.proc.poll() is None, failures
    assert not failures, failures[:5]
    assert refused > 0 and accepted > 0
    assert slowest[0] < 10, slowest
