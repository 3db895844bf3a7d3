"""OGC API – Processes Part 1 (SPEC §8.3; issue 18): OWSLib's Processes client against a real
`landgis serve --workers 2` runs the study package asynchronously and downloads the zip, runs the
亩均 scoring synchronously and dismisses a job; in-process on both stores: statusInfo members,
`Prefer: respond-async`, the OGC exception types, Chinese errors naming the input, role-filtered
job lists, and a process added to a registry by one entry (the router factory).

Auth is a Bearer header for now (Basic arrives with the other half of issue 18).
"""

from __future__ import annotations

import io
import time
import zipfile

import httpx
import pytest
from api_support import load_sample, make_store
from test_jobs_workers import analyst_key, start_server, stop_server

STUDY_FILES = {"扩区研究.gpkg", "suitability_cog.tif", "扩区研究表格.xlsx", "扩区研究报告.html", "数据字典.md"}
"""What tests/test_study_package.py checks the package holds (its own test of the package)."""
EXC = "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/"


# --- OWSLib against a live two-worker server -----------------------------------------------------

@pytest.fixture(scope="module")
def live(tmp_path_factory):
    url = str(tmp_path_factory.mktemp("processes") / "live.gpkg")
    key = analyst_key(url)
    proc, base = start_server(url, workers=2)
    try:
        yield base, key, url
    finally:
        stop_server(proc)


@pytest.fixture
def owslib_headers(monkeypatch):
    """OWSLib 0.35 updates its module-level REQUEST_HEADERS with each client's headers (the key,
    `Prefer`): each test gets its own copy, so no key leaks into another test's OWSLib client."""
    import owslib.ogcapi

    monkeypatch.setattr(owslib.ogcapi, "REQUEST_HEADERS", dict(owslib.ogcapi.REQUEST_HEADERS))


def _owslib(base: str, key: dict):
    """OWSLib as QGIS users run it: HTTP Basic, the API key as the password (no custom header)."""
    from owslib.ogcapi.processes import Processes
    from owslib.util import Authentication

    secret = key["Authorization"].removeprefix("Bearer ")
    return Processes(base, auth=Authentication(username="landgis", password=secret))


def test_owslib_runs_the_study_package_async_and_downloads_the_zip(live, owslib_headers, record_property):
    base, key, _ = live
    client = _owslib(base, key)
    assert {"study-package", "efficiency-scoring"} <= {p["id"] for p in client.processes()}
    described = client.process("study-package")
    assert described["outputs"]["package"]["schema"]["contentMediaType"] == "application/zip"
    assert described["inputs"]["scenario"]["schema"]["enum"] == ["default_2025"] and described["inputs"]["scenario"]["minOccurs"] == 0

    started = time.monotonic()
    accepted = client.execute("study-package", inputs={"scenario": "default_2025"}, async_=True)
    location = client.response_headers["Location"]
    assert client.response_headers["Preference-Applied"] == "respond-async"
    assert accepted["status"] == "accepted" and accepted["type"] == "process" and location == f"/jobs/{accepted['jobID']}"

    workers, seen, polls = set(), [], 0
    while time.monotonic() - started < 180:
        info = client._request(path=location.lstrip("/"))  # OWSLib has no job helpers: its request path
        polls += 1
        workers.add(client.response_headers["X-Landgis-Worker"])
        seen.append(info["progress"])
        if info["status"] in ("successful", "failed") and len(workers) == 2:
            break
        time.sleep(0.05)
    assert info["status"] == "successful", info
    assert len(workers) == 2, f"every poll reached one worker: {workers}"  # the job is in the store, not in a process
    assert seen == sorted(seen) and info["progress"] == 100 and info["processID"] == "study-package"
    assert info["created"] <= info["started"] <= info["finished"] and info["updated"] == info["finished"]
    results = [link for link in info["links"] if link["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/results"]
    assert results and results[0]["type"] == "application/zip"

    data = client._request(path=results[0]["href"].lstrip("/"), as_dict=False)
    assert client.response_headers["Content-Type"] == "application/zip"
    names = {n.rsplit("/", 1)[-1] for n in zipfile.ZipFile(io.BytesIO(data)).namelist()}
    assert STUDY_FILES <= names, names
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    listed = client._request(path="jobs")["jobs"]
    assert accepted["jobID"] in {j["jobID"] for j in listed}
    record_property("report_line", f"OWSLib Processes study package: {time.monotonic() - started:.1f}s async, {polls} polls over {len(workers)} workers, zip {len(data) / 1e6:.1f} MB")


def test_owslib_sync_scoring_and_dismiss(live, owslib_headers):
    base, key, store_path = live
    client = _owslib(base, key)
    doc = client.execute("efficiency-scoring", inputs={"source": "enterprises", "policy": "henan_2019"}, response="document")
    run = doc["run"]
    assert run["policy"] and run["run_id"] and run["year"] and run["rows"] and {"enterprise_id", "class"} <= set(run["rows"][0])
    assert httpx.get(base + run["links"]["self"], headers=key).json() is not None  # the stored run is there too

    client.execute("study-package", inputs={}, async_=True)
    job = client.response_headers["Location"]
    dismissed = client._request(method="DELETE", path=job.lstrip("/"))
    assert dismissed["status"] == "dismissed"
    time.sleep(3)  # the worker stops at its next step; a late success must not resurrect the job
    after = client._request(path=job.lstrip("/"))
    assert after["status"] == "dismissed" and len(after["steps"]) < 5
    from gis.store.jobs import default_results_dir

    assert not (default_results_dir(store_path) / f"{after['jobID']}.result").exists()  # the stopped job left no result
    r = httpx.get(base + job + "/results", headers=key)
    assert r.status_code == 404 and r.json()["type"] == EXC + "no-such-job" and "撤销" in r.json()["detail"]


def test_anonymous_caller_reads_descriptions_but_cannot_run_or_see_jobs(live):
    base, _, _ = live
    assert httpx.get(base + "/processes").status_code == 200
    r = httpx.post(base + "/processes/study-package/execution", json={"inputs": {}}, headers={"Prefer": "respond-async"})
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json" and "分析人员" in r.json()["detail"]
    assert httpx.get(base + "/jobs").status_code == 401


# --- in process, both stores ----------------------------------------------------------------------

@pytest.fixture(scope="module", params=["geopackage", "postgis"])
def api(request, tmp_path_factory):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.auth import add_key
    from api.settings import Settings

    store, pg = make_store(request.param, tmp_path_factory.mktemp("proc"))
    load_sample(store)
    keys = {role: {"Authorization": f"Bearer {add_key(store, 'p-' + role, role, user='test')}"} for role in ("analyst", "admin")}
    with TestClient(create_app(Settings(store=store.url), store=store)) as client:
        yield store, client, keys
    store.close()
    if pg:
        pg.drop()


def _wait(client, location: str, headers: dict, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        info = client.get(location, headers=headers).json()
        if info["status"] not in ("accepted", "running") or time.monotonic() > deadline:
            return info
        time.sleep(0.1)


def test_sync_scoring_is_the_raw_output_and_a_listed_job(api):
    store, client, keys = api
    rows = store.read_layer("enterprises").drop(columns="geometry").head(5)
    payload = {"inputs": {"rows": [{k: (None if v != v else v) for k, v in r.items()} for r in rows.to_dict("records")]}}
    r = client.post("/processes/efficiency-scoring/execution", json=payload, headers=keys["analyst"])
    assert r.status_code == 200 and r.headers["content-type"] == "application/json", r.text
    body = r.json()
    assert len(body["rows"]) == 5 and sorted(e["enterprise_id"] for e in body["rows"]) == sorted(rows["enterprise_id"])
    assert "Preference-Applied" not in r.headers
    jobs = client.get("/jobs", headers=keys["analyst"]).json()["jobs"]
    assert jobs[0]["processID"] == "efficiency-scoring" and jobs[0]["status"] == "successful"
    again = client.get(f"/jobs/{jobs[0]['jobID']}/results", headers=keys["analyst"])
    assert again.json()["run_id"] == body["run_id"]


def test_async_scoring_statusinfo(api):
    _, client, keys = api
    r = client.post("/processes/efficiency-scoring/execution", json={"inputs": {"source": "enterprises"}}, headers={**keys["analyst"], "Prefer": "respond-async"})
    assert r.status_code == 201 and r.headers["preference-applied"] == "respond-async"
    assert r.headers["location"] == f"/jobs/{r.json()['jobID']}"
    info = _wait(client, r.headers["location"], keys["analyst"])
    assert info["status"] == "successful" and info["progress"] == 100 and info["steps"][0].startswith("读取企业数据")
    assert {"jobID", "processID", "type", "status", "created", "started", "finished", "updated", "links"} <= set(info)


def test_bad_inputs_and_unknown_names_are_chinese_and_typed(api):
    _, client, keys = api
    r = client.post("/processes/efficiency-scoring/execution", json={"inputs": {"rows": [], "policy": "x"}}, headers=keys["analyst"])
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    assert "inputs.rows" in r.json()["detail"] and any(e["field"] == "inputs.rows" for e in r.json()["errors"])
    r = client.post("/processes/efficiency-scoring/execution", json={"inputs": {"source": "enterprises", "rows": [{"a": 1}]}}, headers=keys["analyst"])
    assert r.status_code == 400 and "二选一" not in r.text and "其一" in r.json()["detail"]
    r = client.post("/processes/study-package/execution", json={"inputs": {"scenario": "../../etc/passwd"}}, headers=keys["analyst"])
    assert r.status_code == 400 and "内置情景" in r.json()["detail"]
    r = client.get("/processes/format-disk")
    assert r.status_code == 404 and r.json()["type"] == EXC + "no-such-process" and "format-disk" in r.json()["detail"]
    r = client.get("/jobs/" + "0" * 16, headers=keys["analyst"])
    assert r.status_code == 404 and r.json()["type"] == EXC + "no-such-job"
    conf = client.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/job-list" in conf and "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/dismiss" in conf


def test_a_process_is_one_registry_entry_and_its_role_hides_its_jobs(api):
    """The factory over a registry with one more process (admin-only): its route, description and
    jobs appear with no router change, and an analyst neither runs it nor sees its jobs."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from pydantic import BaseModel

    from api import errors
    from api.processes import REGISTRY, Output, Process
    from api.routers.processes import processes_router

    store, client, keys = api

    class EchoInputs(BaseModel):
        text: str

    echo = Process(
        id="echo", title="回显", description="测试用：原样返回文本。", role="admin", inputs=EchoInputs,
        output=Output("text", "文本", "text/plain", {"type": "string"}), steps=1,
        run=lambda s, i, user, step: (step("回显") or i.text.encode(), "text/plain; charset=utf-8", "echo.txt"),
    )
    app = FastAPI()
    app.state.settings, app.state.store = client.app.state.settings, store
    errors.install(app)
    app.include_router(processes_router({**REGISTRY, "echo": echo}))
    with TestClient(app) as extra:
        assert "echo" in {p["id"] for p in extra.get("/processes").json()["processes"]}
        assert extra.get("/processes/echo").json()["inputs"]["text"]["minOccurs"] == 1
        assert extra.post("/processes/echo/execution", json={"inputs": {"text": "地块"}}, headers=keys["analyst"]).status_code == 403
        r = extra.post("/processes/echo/execution", json={"inputs": {"text": "地块"}}, headers={**keys["admin"], "Prefer": "respond-async"})
        assert r.status_code == 201
        job = r.headers["location"]
        assert _wait(extra, job, keys["admin"])["status"] == "successful"
        assert extra.get(job + "/results", headers=keys["admin"]).text == "地块"
        assert extra.get(job, headers=keys["analyst"]).status_code == 403
        assert r.json()["jobID"] not in {j["jobID"] for j in extra.get("/jobs", headers=keys["analyst"]).json()["jobs"]}
        assert r.json()["jobID"] in {j["jobID"] for j in extra.get("/jobs", headers=keys["admin"]).json()["jobs"]}


def test_a_job_table_from_before_processes_is_upgraded_in_place(tmp_path):
    """A store whose landgis_jobs predates OGC API – Processes keeps its jobs: ensure() adds the
    role/started/updated columns, old rows read as analyst jobs in the OGC vocabulary."""
    import sqlite3

    from api.jobs import to_dict
    from gis.store.jobs import JobStore

    path = tmp_path / "old.gpkg"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE landgis_jobs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, owner TEXT, status TEXT NOT NULL, steps TEXT NOT NULL DEFAULT '[]', "
            "total_steps INTEGER NOT NULL, created TEXT NOT NULL, finished TEXT, error TEXT, worker TEXT, heartbeat REAL, media_type TEXT, filename TEXT, result_size INTEGER)"
        )
        db.execute("INSERT INTO landgis_jobs VALUES ('aaaaaaaaaaaaaaaa', 'study-package', 'x', 'succeeded', '[\"一\"]', 1, '2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z', NULL, 'h:1:1', 0, 'application/zip', 'study.zip', 3)")
    table = JobStore("geopackage", str(path))
    table.ensure()
    row = table.get("a" * 16)
    assert row["role"] is None and row["started"] is None
    doc = to_dict(row)
    assert doc["status"] == "successful" and doc["progress"] == 100 and doc["updated"] == "2026-01-01T00:01:00Z"
    assert [j["id"] for j in table.recent(10, roles=("anonymous", "analyst"))] == ["a" * 16]
    assert table.recent(10, roles=("anonymous",)) == []
    table.close()


def test_supervision_is_a_process_with_the_report_of_get_supervision(tmp_path):
    """The 批供用补查 report as an OGC process: the same JSON as GET /supervision, analyst only."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.auth import add_key
    from api.settings import Settings
    from gis.store import open_store
    from api_support import load_sample

    store = open_store(str(tmp_path / "s.gpkg"))
    load_sample(store)
    key = {"Authorization": f"Bearer {add_key(store, 'sup', 'analyst', user='test')}"}
    client = TestClient(create_app(Settings(store=store.url), store=store))
    described = client.get("/processes/land-supervision").json()
    assert described["inputs"]["as_of"]["schema"]["pattern"]
    assert client.post("/processes/land-supervision/execution", json={"inputs": {"as_of": "2026-06-30"}}).status_code in (401, 403)
    r = client.post("/processes/land-supervision/execution", json={"inputs": {"as_of": "2026-06-30"}}, headers=key)
    assert r.status_code == 200, r.text
    direct = client.get("/supervision", params={"as_of": "2026-06-30"}, headers=key).json()
    body = r.json()
    assert body["as_of"] == "2026-06-30" and body["totals"] == direct["totals"]
    assert {i["id"] for i in body["idle"]} == {i["id"] for i in direct["idle"]} and body["idle"]
    bad = client.post("/processes/land-supervision/execution", json={"inputs": {"as_of": "30/06/2026"}}, headers=key)
    assert bad.status_code == 400 and any("\u4e00" <= ch <= "\u9fff" for ch in bad.json()["detail"])
