"""`POST /jobs` starts long work (the study package), `GET /jobs/{id}` reports progress,
`GET /jobs/{id}/result` returns the file (SPEC §8.3).

The caller's role is a dependency declared before the body (api/bodies.py), so an anonymous
request gets its 401 without a byte of its body being read; the JSON body is then read with a
64 KiB cap (a job request is a few hundred bytes). Every call into the job table blocks on the
store, so it runs in the thread pool.
"""

from __future__ import annotations

import threading
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Principal
from api.bodies import json_body
from api.dependencies import get_store, requires
from gis.store import Store

router = APIRouter(tags=["作业 / jobs"])
MAX_BODY = 64 * 1024
_create = threading.Lock()


class JobRequest(BaseModel):
    """A job to start: `{"kind": "study-package", "scenario": "default_2025"}`."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["study-package"]
    scenario: str | None = Field(None, description="内置情景名，如 default_2025 / bundled scenario name")
    overrides: dict[str, Any] | None = Field(None, description="合并进情景的 JSON / merged into the scenario")


def _manager(request: Request):
    """The process's JobManager, made on first use (it creates the job table if absent)."""
    state = request.app.state
    if getattr(state, "jobs", None) is None:
        with _create:
            if getattr(state, "jobs", None) is None:
                from api.jobs import JobManager
                from gis.store.jobs import JobStore

                settings, store = state.settings, state.store
                table = JobStore.for_store(store, results_dir=settings.jobs_dir)
                state.jobs = JobManager(table, threads=settings.jobs_threads, keep=settings.jobs_keep, stale_s=settings.jobs_stale_s)
    return state.jobs


def _served_by(resp: Response) -> Response:
    """Which server process answered: lets an operator (and the multi-worker test) see that
    polls of one job reach every worker."""
    import os

    resp.headers["X-Landgis-Worker"] = str(os.getpid())
    return resp


@router.post("/jobs", status_code=202, summary="启动作业 / start a job")
async def start(
    request: Request,
    store: Store = Depends(get_store),
    principal: Principal = Depends(requires("analyst", "启动作业")),
    body: JobRequest = Depends(json_body(JobRequest, max_bytes=MAX_BODY, optional=False)),
) -> JSONResponse:
    from services.study import bundled_scenario_name, scenario_from_request, study_package_zip

    scenario = scenario_from_request(bundled_scenario_name(body.scenario), None, body.overrides)

    def work(step):
        return study_package_zip(store, scenario, step=step), "application/zip", "study.zip"

    def submit() -> dict:
        return _manager(request).submit("study-package", principal.name, total_steps=5, work=work)

    job = await run_in_threadpool(submit)
    return _served_by(JSONResponse(job, status_code=202, headers={"Location": f"/jobs/{job['id']}"}))


@router.get("/jobs/{job_id}", summary="作业进度 / job status")
async def status(job_id: str, request: Request, principal: Principal = Depends(requires("analyst", "查看作业"))) -> JSONResponse:
    job = await run_in_threadpool(lambda: _manager(request).get(job_id))
    return _served_by(JSONResponse(job))


@router.get("/jobs/{job_id}/result", summary="作业结果 / job result")
async def result(job_id: str, request: Request, principal: Principal = Depends(requires("analyst", "下载作业结果"))) -> Response:
    data, media_type, filename = await run_in_threadpool(lambda: _manager(request).result(job_id))
    return _served_by(Response(data, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}))
