"""Jobs kept in the store (issue: hardening): a real `landgis serve --workers 2` on loopback, on both
stores — every poll finds the job whichever worker answers, the result survives a restart, and
a job cut off by a kill shows as failed after the restart instead of "running" forever. Plus the
job table's own rules (orphans, pruning, bounded lock waits) and the router's body handling.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile

import httpx
import psycopg
import pytest
from api_support import free_port

from api.jobs import INTERRUPTED

MIN_POLLS = 20


# --- a live multi-worker server -----------------------------------------------------------------

def start_server(store_url: str, workers: int = 2) -> tuple[subprocess.Popen, str]:
    """`landgis serve --workers N` in its own process group, so a SIGKILL reaches every worker
    at once (api_support.LiveServer signals only the parent: its orphaned workers would keep the
    port and go on running the job)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--store", store_url, "--port", str(port), "--workers", str(workers)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_server(proc, signal.SIGKILL)
            pytest.fail("landgis serve --workers did not start")
        time.sleep(0.2)


def stop_server(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """SIGTERM: the parent stops its workers gracefully; SIGKILL: the whole group dies at once."""
    try:
        if sig == signal.SIGKILL:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.send_signal(sig)
        proc.wait(60)
    except ProcessLookupError:
        pass
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def analyst_key(store_url: str) -> dict:
    from api.auth import add_key
    from gis.store import open_store

    s = open_store(store_url)
    try:
        return {"Authorization": f"Bearer {add_key(s, 'jobs-analyst', 'analyst', user='test')}"}
    finally:
        s.close()



@contextlib.contextmanager
def holding_job_table(store_url: str):
    """Another session holds the job table locked (PostgreSQL) or the file's write lock (SQLite)."""
    if store_url.startswith("postgresql"):
        other = psycopg.connect(store_url)
        other.execute("LOCK TABLE landgis_jobs IN ACCESS EXCLUSIVE MODE")
    else:
        other = sqlite3.connect(store_url, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.rollback() if isinstance(other, psycopg.Connection) else other.execute("ROLLBACK")
        other.close()

def test_jobs_across_workers_and_restarts(store_url, record_property):
    key = analyst_key(store_url)  # the store is empty: serve loads the sample once, in the parent
    kind = "postgis" if store_url.startswith("postgresql") else "geopackage"
    proc, base = start_server(store_url)
    try:
        r = httpx.post(base + "/jobs", json={"kind": "study-package"}, headers=key, timeout=30)
        assert r.status_code == 202, r.text
        url = base + r.headers["location"]
        polls, not_found, served_by, doc = 0, 0, set(), r.json()
        deadline = time.monotonic() + 180
        # A fresh connection per poll (module-level httpx.get), so the kernel hands polls to
        # either worker; go on until the job is done, MIN_POLLS were made and both answered.
        while polls < 400 and time.monotonic() < deadline:
            resp = httpx.get(url, headers=key, timeout=30)
            polls += 1
            if resp.status_code == 404:
                not_found += 1
            else:
                assert resp.status_code == 200, resp.text
                doc = resp.json()
                served_by.add(resp.headers["x-landgis-worker"])
            if doc["status"] in ("successful", "failed") and polls >= MIN_POLLS and len(served_by) >= 2:
                break
            time.sleep(0.05)
        assert not_found == 0, f"{not_found} of {polls} polls answered 404"
        assert len(served_by) == 2, f"all {polls} polls reached the same worker {served_by}"
        assert doc["status"] == "successful", doc  # OGC API – Processes statusInfo (was "succeeded")
        assert doc["progress"] == 100 and len(doc["steps"]) == 5
        zipped = httpx.get(url + "/result", headers=key, timeout=60)
        assert zipped.status_code == 200 and zipped.headers["content-type"] == "application/zip"
        names = zipfile.ZipFile(io.BytesIO(zipped.content)).namelist()
        assert any(n.endswith(".gpkg") for n in names) and any(n.endswith(".tif") for n in names)
        digest = hashlib.sha256(zipped.content).hexdigest()
    finally:
        stop_server(proc)

    # Stopped and started again: the job and its result are still there, byte for byte.
    proc, base = start_server(store_url)
    try:
        again = httpx.get(url.replace(url.split("/jobs/")[0], base), headers=key, timeout=30)
        assert again.status_code == 200 and again.json()["status"] == "successful", again.text
        kept = httpx.get(base + f"/jobs/{doc['id']}/result", headers=key, timeout=60)
        assert kept.status_code == 200 and hashlib.sha256(kept.content).hexdigest() == digest
        # Two jobs started, then every process of the server killed before they can finish
        # (a study takes over a second; the kill follows the 202 within milliseconds).
        cut = []
        for _ in range(2):
            r = httpx.post(base + "/jobs", json={"kind": "study-package"}, headers=key, timeout=30)
            assert r.status_code == 202 and r.json()["status"] == "accepted", r.text
            cut.append(r.json()["id"])
    finally:
        stop_server(proc, signal.SIGKILL)

    proc, base = start_server(store_url)
    try:
        for job_id in cut:
            r = httpx.get(base + f"/jobs/{job_id}", headers=key, timeout=30)
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["status"] == "failed" and body["error"]["detail"] == INTERRUPTED and body["finished"], body
            res = httpx.get(base + f"/jobs/{job_id}/result", headers=key, timeout=30)
            assert res.status_code == 422 and res.headers["content-type"] == "application/problem+json"
            assert INTERRUPTED in res.json()["detail"]
        assert httpx.get(base + f"/jobs/{doc['id']}", headers=key, timeout=30).json()["status"] == "successful"
    finally:
        stop_server(proc)
    record_property(
        "report_line",
        f"jobs across workers ({kind}, 2 workers): {polls} polls, {not_found} not found, answered by {len(served_by)} workers; "
        f"kept after restart: yes; killed jobs failed after restart: {len(cut)}/{len(cut)}",
    )


# --- the job table itself -------------------------------------------------------------------------

@pytest.fixture
def table(store, tmp_path):
    from gis.store.jobs import JobStore

    t = JobStore.for_store(store, results_dir=tmp_path / "results", lock_timeout_s=0.5)
    t.ensure()
    t.ensure()  # idempotent
    yield t
    t.close()


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_orphans_fail_live_jobs_stay(table):
    import socket

    from api.jobs import check_orphan, sweep_orphans, worker_identity

    host = socket.gethostname()
    table.insert(id="a" * 16, kind="study-package", owner="x", total_steps=5, created="2026-01-01T00:00:00Z", worker=f"{host}:{_dead_pid()}:1")
    table.insert(id="b" * 16, kind="study-package", owner="x", total_steps=5, created="2026-01-01T00:00:00Z", worker="elsewhere:1:1")
    table.insert(id="c" * 16, kind="study-package", owner="x", total_steps=5, created="2026-01-01T00:00:00Z", worker=worker_identity())
    pid, start = worker_identity().split(":")[-2:]
    table.insert(id="d" * 16, kind="study-package", owner="x", total_steps=5, created="2026-01-01T00:00:00Z", worker=f"{host}:{pid}:{int(start) + 1}")

    dead = check_orphan(table, table.get("a" * 16), stale_s=60)
    assert dead["status"] == "failed" and dead["error"]["detail"] == INTERRUPTED and dead["finished"]
    assert check_orphan(table, table.get("b" * 16), stale_s=60)["status"] == "queued"  # another host, fresh heartbeat
    assert check_orphan(table, table.get("c" * 16), stale_s=60)["status"] == "queued"  # this very process
    assert check_orphan(table, table.get("d" * 16), stale_s=60)["status"] == "failed"  # same pid, later process
    time.sleep(0.3)
    assert sweep_orphans(table, stale_s=0.1) == 2  # b and c: heartbeats older than 0.1 s
    assert table.get("b" * 16)["status"] == "failed"


def test_progress_and_result_and_prune(table, store):
    for i in range(4):
        jid = f"{i:016x}"
        table.insert(id=jid, kind="study-package", owner="x", total_steps=2, created=f"2026-01-01T00:00:0{i}Z", worker="h:1:1")
        table.progress(jid, status="running", steps=["一"])
        assert table.get(jid)["steps"] == ["一"] and table.get(jid)["status"] == "running"
        assert table.succeed(jid, steps=["一", "二"], finished=f"2026-01-01T00:01:0{i}Z", data=f"zip{i}".encode(), media_type="application/zip", filename="study.zip")
    assert table.read_result(f"{3:016x}") == b"zip3"
    if store.kind == "geopackage":
        assert (table.results_dir / f"{0:016x}.result").is_file()
    # A job failed meanwhile (orphan sweep) is not resurrected by a late success; its result is dropped.
    table.insert(id="e" * 16, kind="study-package", owner="x", total_steps=2, created="2026-01-01T00:00:09Z", worker="h:1:1")
    table.fail("e" * 16, steps=None, finished="2026-01-01T00:00:10Z", error={"detail": INTERRUPTED})
    assert not table.succeed("e" * 16, steps=[], finished="2026-01-01T00:02:00Z", data=b"late", media_type="application/zip", filename="x")
    assert table.get("e" * 16)["status"] == "failed" and table.read_result("e" * 16) is None

    if store.kind == "geopackage":  # as if killed while writing job 1's result
        (table.results_dir / f".{1:016x}.part").write_bytes(b"half")
    pruned = table.prune(keep=2)
    assert sorted(pruned) == sorted([f"{0:016x}", f"{1:016x}", "e" * 16])  # finished 00:01:00, 00:01:01, 00:00:10
    assert table.get(f"{0:016x}") is None and table.read_result(f"{0:016x}") is None
    assert table.read_result(f"{2:016x}") == b"zip2" and table.get(f"{3:016x}")["status"] == "succeeded"
    if store.kind == "geopackage":
        assert sorted(p.name for p in table.results_dir.iterdir()) == [f"{2:016x}.result", f"{3:016x}.result"]


def test_lock_wait_is_bounded(table, store_url):
    """While another session holds the job table locked, a write gives up after the bounded wait
    with a 503-class error instead of hanging (or a 500)."""
    from gis.store.jobs import JobStoreBusy

    with holding_job_table(store_url):
        started = time.monotonic()
        with pytest.raises(JobStoreBusy) as caught:
            table.insert(id="f" * 16, kind="study-package", owner="x", total_steps=1, created="2026-01-01T00:00:00Z", worker="h:1:1")
        waited = time.monotonic() - started
    assert 0.4 <= waited < 5, waited
    assert caught.value.status_code == 503 and "稍后重试" in caught.value.detail
    table.insert(id="f" * 16, kind="study-package", owner="x", total_steps=1, created="2026-01-01T00:00:00Z", worker="h:1:1")
    assert table.get("f" * 16)["status"] == "queued"


# --- the router ---------------------------------------------------------------------------------------

@pytest.fixture
def app_and_key(store_url):
    from api.app import create_app
    from api.settings import Settings
    from gis.store import open_store

    key = analyst_key(store_url)
    s = open_store(store_url)
    yield create_app(Settings(store=store_url), store=s), key
    s.close()


def _asgi_post(app, headers: dict, body: bytes) -> tuple[int, dict, bool]:
    """POST /jobs straight through ASGI; reports whether the app ever asked for the body."""
    asked = {"body": False}
    sent: list[dict] = []

    async def receive():
        asked["body"] = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/jobs", "raw_path": b"/jobs", "query_string": b"", "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()] + [(b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(payload), asked["body"]


def test_role_checked_before_the_body_is_read(app_and_key):
    app, key = app_and_key
    status, doc, read = _asgi_post(app, {}, b"{not json" * 20000)
    assert status == 401 and not read and doc["detail"]
    status, doc, read = _asgi_post(app, key, b"{not json")
    assert status == 400 and read and "JSON" in doc["detail"]  # with a key the body is read (and refused)


def test_body_cap(app_and_key):
    from fastapi.testclient import TestClient

    app, key = app_and_key
    client = TestClient(app)
    big = json.dumps({"kind": "study-package", "pad": "x" * 70_000}).encode()
    r = client.post("/jobs", content=big, headers={**key, "content-type": "application/json"})
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json" and "64 KB" in r.json()["detail"]

    def chunks():  # no Content-Length: the cap is counted while the body streams in
        for _ in range(40):
            yield b" " * 4096

    r = client.post("/jobs", content=chunks(), headers={**key, "content-type": "application/json"})
    assert r.status_code == 413 and "上限" in r.json()["detail"]
    assert client.get("/jobs/" + "0" * 16, headers=key).status_code == 404
    assert client.get("/jobs/no-such-job", headers=key).status_code == 404


def test_busy_job_table_answers_503(app_and_key, store_url):
    """The API's side of the bounded wait: a locked job table gives 503 problem+json, not a hang or 500."""
    from fastapi.testclient import TestClient

    app, key = app_and_key
    client = TestClient(app)
    assert client.get("/jobs/" + "0" * 16, headers=key).status_code == 404  # manager made, table exists
    app.state.jobs.jobs.lock_timeout_s = 0.5  # read by every write transaction
    with holding_job_table(store_url):
        started = time.monotonic()
        r = client.post("/jobs", json={"kind": "study-package"}, headers=key)
        waited = time.monotonic() - started
    assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json", r.text
    assert "稍后重试" in r.json()["detail"] and waited < 5
