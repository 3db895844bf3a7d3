"""The first jobs API, kept as an alias of OGC API – Processes (README says until when):
`POST /jobs {"kind": "study-package"}` runs the `study-package` process asynchronously (202,
`Location: /jobs/{id}`), `GET /jobs/{id}/result` returns its file. `GET /jobs/{id}` itself is
the OGC statusInfo route of api/routers/processes.py (it keeps `id`, `kind` and `steps`).

The caller's role is a dependency declared before the body (api/bodies.py), so an anonymous
request gets its 401 without a byte of its body being read; the JSON body is then read with a
64 KiB cap (a job request is a few hundred bytes). Every call into the job table blocks on the
store, so it runs in the thread pool.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Principal
from api.bodies import json_body
from api.dependencies import get_store, requires
from api.jobs import manager
from gis.store import Store

router = APIRouter(tags=["作业 / jobs"])
MAX_BODY = 64 * 1024


class JobRequest(BaseModel):
    """A job to start: `{"kind": "study-package", "scenario": "default_2025"}`."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["study-package"]
    scenario: str | None = Field(None, description="内置情景名，如 default_2025 / bundled scenario name")
    overrides: dict[str, Any] | None = Field(None, description="合并进情景的 JSON / merged into the scenario")


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
    from api.processes import STUDY

    inputs = STUDY.parse_inputs({"scenario": body.scenario, "overrides": body.overrides})
    user = principal.name or "api"

    def work(step):
        return STUDY.run(store, inputs, user, step)

    def submit() -> dict:
        return manager(request.app.state).submit(STUDY.id, principal.name, total_steps=STUDY.steps, work=work, role=STUDY.role)

    job = await run_in_threadpool(submit)
    return _served_by(JSONResponse(job, status_code=202, headers={"Location": f"/jobs/{job['id']}"}))


@router.get("/jobs/{job_id}/result", summary="作业结果 / job result")
async def result(job_id: str, request: Request, principal: Principal = Depends(requires("analyst", "下载作业结果"))) -> Response:
    data, media_type, filename = await run_in_threadpool(lambda: manager(request.app.state).result(job_id))
    return _served_by(Response(data, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}))
