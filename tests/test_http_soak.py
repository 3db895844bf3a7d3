"""Concurrency soak over HTTP (SPEC §10, issue 9): a real `landgis serve` on loopback, readers
and admin writers at once, on both stores. Bounded: 4 writers × 15 edits, 4 readers, ≤ 60 s."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

WRITERS, EDITS, READERS = 4, 15, 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(store_url):
    from typer.testing import CliRunner

    from api.auth import add_key
    from api.cli import app
    from gis.store import open_store

    assert CliRunner().invoke(app, ["init", "--store", store_url]).exit_code == 0
    s = open_store(store_url)
    key = add_key(s, "soak-admin", "admin", user="test")
    s.close()
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--store", store_url, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
        time.sleep(0.2)
    yield base, {"Authorization": f"Bearer {key}"}
    proc.terminate()
    proc.wait(10)


def test_http_readers_and_writers(server, store_url, record_property):
    base, admin = server
    errors: list[str] = []
    reads = [0]
    stop = threading.Event()

    def writer(w: int):
        fid = f"RP-0{w + 1}"
        with httpx.Client(base_url=base, headers=admin, timeout=30) as c:
            for k in range(1, EDITS + 1):
                r = c.patch(f"/collections/reserve_parcels/items/{fid}", json={"properties": {"soak_counter": k}, "reason": f"soak {k}"})
                if r.status_code != 200:
                    errors.append(f"write {fid} {k}: {r.status_code} {r.text[:200]}")

    def reader():
        with httpx.Client(base_url=base, timeout=30) as c:
            while not stop.is_set():
                r = c.get("/collections/reserve_parcels/items", params={"limit": 100})
                if r.status_code != 200 or r.json()["numberReturned"] != 9:
                    errors.append(f"read: {r.status_code} {r.text[:200]}")
                reads[0] += 1

    threads = [threading.Thread(target=reader) for _ in range(READERS)]
    writers = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    started = time.monotonic()
    for t in threads + writers:
        t.start()
    for t in writers:
        t.join(120)
    stop.set()
    for t in threads:
        t.join(30)
    elapsed = time.monotonic() - started
    assert not errors, errors[:5]

    from gis.store import open_store

    s = open_store(store_url)
    for w in range(WRITERS):
        fid = f"RP-0{w + 1}"
        assert s.get_feature("reserve_parcels", fid)["soak_counter"] == EDITS  # no lost write
        hist = s.history("reserve_parcels", fid)
        assert (hist["action"] == "edit").sum() == EDITS  # no lost or duplicated history
    s.close()
    record_property("report_line", f"http soak {'postgis' if store_url.startswith('postgresql') else 'geopackage'}: {WRITERS * EDITS} writes, {reads[0]} reads, {len(errors)} errors, 0 lost in {elapsed:.1f}s")
