"""OGC API – Processes Part 1 over the process registry and the store's job table (SPEC §8.3).

`processes_router(registry)` builds the routes from a registry (titiler's factory style), so a new
process is an entry in `api/processes.py`, never a new route:

- `GET /processes`, `GET /processes/{processId}`: summaries and descriptions (anyone may read them;
  each names its role in `x-landgis-role`).
- `POST /processes/{processId}/execution`: synchronous by default (the single output itself, or
  with `"response": "document"` a JSON document naming it); `Prefer: respond-async` → 201 with
  `Location: /jobs/{jobId}`, a statusInfo body and `Preference-Applied: respond-async`.
- `GET /jobs` (newest first, `limit`), `GET /jobs/{jobId}` (statusInfo), `GET /jobs/{jobId}/results`
  (the single output, raw), `DELETE /jobs/{jobId}` (dismiss: the result is deleted, a running job
  stops at its next step).

Both kinds of execution are jobs in the store (`api/jobs.py`), so a synchronous run also shows in
`/jobs` and is bounded by the same per-process job threads. A job is visible only to callers holding
its process's role; the `/jobs` routes ask first for the least role any process needs (401 before
anything is read). OGC exception types (no-such-process, no-such-job, result-not-ready) ride in
the problem+json `type`, with the Chinese `detail` officials read.
"""

from __future__ import annotations

import asyncio
import os

from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import RANK, Principal, require
from api.bodies import body_schema, json_body
from api.dependencies import get_principal, get_store, requires
from api.errors import PROBLEM, problem_body
from api.jobs import manager
from api.processes import EXCEPTION, REGISTRY, Process, lowest_role
from gis.errors import InputError, NotFoundError
from gis.store import Store

MAX_EXECUTE_BODY = 16 * 1024 * 1024
"""An execute request carries at most a few thousand enterprise rows (16 MB of JSON)."""


class ExecuteRequest(BaseModel):
    """An OGC API – Processes execute request: `{"inputs": {...}, "response": "raw"|"document"}`."""

    model_config = ConfigDict(extra="forbid")
    inputs: dict[str, Any] | None = Field(None, description="处理过程的输入（见处理过程说明）/ the process's inputs")
    outputs: dict[str, Any] | None = Field(None, description="所需输出（每个处理过程只有一个输出，可省略）/ requested outputs")
    response: Literal["raw", "document"] = Field("raw", description="同步执行时返回原始结果或 JSON 文档 / raw output or a JSON document")
    subscriber: dict[str, Any] | None = Field(None, description="回调地址（暂不调用）/ callbacks (not called)")


def _ogc_problem(status: int, kind: str, detail: str, instance: str, hint: str | None = None) -> JSONResponse:
    body = problem_body(status, detail, hint=hint, instance=instance)
    body["type"] = EXCEPTION + kind
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _served_by(resp: Response) -> Response:
    """Which server process answered (operators, and the multi-worker test, see polls spread)."""
    resp.headers["X-Landgis-Worker"] = str(os.getpid())
    return resp


def _visible_roles(principal: Principal) -> tuple[str, ...]:
    return tuple(role for role, rank in RANK.items() if rank <= RANK[principal.role])


def processes_router(registry: dict[str, Process] = REGISTRY) -> APIRouter:
    router = APIRouter(tags=["处理过程 / processes"])
    floor = lowest_role(registry)

    def _process(process_id: str, request: Request) -> Process | JSONResponse:
        process = registry.get(process_id)
        if process is None:
            return _ogc_problem(404, "no-such-process", f"没有名为“{process_id[:80]}”的处理过程。", request.url.path, hint="可用：" + "、".join(registry) + "（GET /processes）。")
        return process

    @router.get("/processes", summary="处理过程列表 / process list")
    async def process_list() -> JSONResponse:
        return JSONResponse({
            "processes": [p.summary() for p in registry.values()],
            "links": [{"rel": "self", "href": "/processes", "type": "application/json", "title": "处理过程列表"}],
        })

    @router.get("/processes/{processId}", summary="处理过程说明 / process description")
    async def process_description(processId: str, request: Request) -> JSONResponse:
        process = _process(processId, request)
        if isinstance(process, JSONResponse):
            return process
        return JSONResponse(process.description_document())

    @router.post("/processes/{processId}/execution", summary="执行处理过程 / execute a process", openapi_extra=body_schema(ExecuteRequest))
    async def execute(
        processId: str,
        request: Request,
        store: Store = Depends(get_store),
        principal: Principal = Depends(get_principal),
        prefer: str | None = Header(None, description="respond-async：异步执行 / run as a job"),
    ) -> Response:
        process = _process(processId, request)
        if isinstance(process, JSONResponse):
            return process
        require(principal, process.role, f"执行“{process.title}”")  # before a byte of the body is read
        body = await json_body(ExecuteRequest, max_bytes=MAX_EXECUTE_BODY)(request)
        inputs = process.parse_inputs(body.inputs)
        user = principal.name or "api"

        def work(step):
            return process.run(store, inputs, user, step)

        jobs = await run_in_threadpool(manager, request.app.state)
        job = await run_in_threadpool(lambda: jobs.submit(process.id, principal.name, process.steps, work, role=process.role))
        job_id = job["jobID"]
        if prefer and "respond-async" in prefer.lower():
            headers = {"Location": f"/jobs/{job_id}", "Preference-Applied": "respond-async"}
            return _served_by(JSONResponse(job, status_code=201, headers=headers))
        future = jobs.future(job_id)
        if future is not None:
            await asyncio.wrap_future(future)  # the event loop stays free; no thread waits
        status = await run_in_threadpool(jobs.get, job_id)
        if status["status"] == "failed":
            error = status.get("error") or {}
            return JSONResponse(problem_body(int(error.get("status", 500)), error.get("detail", "处理过程执行失败。"), errors=error.get("errors"), instance=request.url.path), status_code=int(error.get("status", 500)), media_type=PROBLEM)
        if status["status"] != "successful":
            return _ogc_problem(409, "result-not-ready", f"作业 {job_id} 未完成（状态：{status['status']}）。", request.url.path)
        if body.response == "document":
            if process.output.media_type == "application/json":
                data, _, _ = await run_in_threadpool(jobs.result, job_id)
                import json

                document = {process.output.id: json.loads(data)}
            else:
                document = {process.output.id: {"href": f"/jobs/{job_id}/results", "type": process.output.media_type}}
            return _served_by(JSONResponse(document, headers={"Location": f"/jobs/{job_id}"}))
        return await _result_response(jobs, job_id, request)

    async def _result_response(jobs, job_id: str, request: Request) -> Response:
        data, media_type, filename = await run_in_threadpool(jobs.result, job_id)
        return _served_by(Response(data, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}))

    async def _visible_job(jobs, job_id: str, principal: Principal, request: Request, what: str) -> dict | JSONResponse:
        try:
            row = await run_in_threadpool(jobs.row, job_id)
        except NotFoundError:
            return _ogc_problem(404, "no-such-job", f"作业 {job_id[:40]} 不存在（或已被清理）。", request.url.path, hint="作业列表见 GET /jobs。")
        require(principal, row.get("role") or "analyst", what)
        return row

    @router.get("/jobs", summary="作业列表 / job list")
    async def job_list(
        request: Request,
        principal: Principal = Depends(requires(floor, "查看作业列表")),
        limit: int = Query(100, ge=1, le=1000, description="最多返回的作业数 / most jobs returned"),
    ) -> JSONResponse:
        jobs = await run_in_threadpool(manager, request.app.state)
        listed = await run_in_threadpool(jobs.recent, limit, _visible_roles(principal))
        return _served_by(JSONResponse({"jobs": listed, "links": [{"rel": "self", "href": "/jobs", "type": "application/json", "title": "作业列表"}]}))

    @router.get("/jobs/{jobId}", summary="作业状态 / job status (statusInfo)")
    async def job_status(jobId: str, request: Request, principal: Principal = Depends(requires(floor, "查看作业"))) -> Response:
        jobs = await run_in_threadpool(manager, request.app.state)
        row = await _visible_job(jobs, jobId, principal, request, "查看作业")
        if isinstance(row, JSONResponse):
            return row
        return _served_by(JSONResponse(await run_in_threadpool(jobs.get, jobId)))

    @router.get("/jobs/{jobId}/results", summary="作业结果 / job results")
    async def job_results(jobId: str, request: Request, principal: Principal = Depends(requires(floor, "下载作业结果"))) -> Response:
        jobs = await run_in_threadpool(manager, request.app.state)
        row = await _visible_job(jobs, jobId, principal, request, "下载作业结果")
        if isinstance(row, JSONResponse):
            return row
        status = (await run_in_threadpool(jobs.get, jobId))["status"]
        if status in ("accepted", "running"):
            return _ogc_problem(404, "result-not-ready", f"作业 {jobId} 尚未完成（状态：{status}），暂无结果。", request.url.path, hint="请稍后再试，或查看 GET /jobs/{jobId} 的进度。")
        if status == "dismissed":
            return _ogc_problem(404, "no-such-job", f"作业 {jobId} 已撤销，结果已删除。", request.url.path)
        if status == "failed":
            error = (await run_in_threadpool(jobs.get, jobId)).get("error") or {}
            # 422 like the first jobs API: the request is fine, the job it names has no result.
            return _ogc_problem(422, "job-results-failed", f"作业 {jobId} 已失败，没有结果：{error.get('detail', '')}", request.url.path, hint="请修正输入后重新提交。")
        return await _result_response(jobs, jobId, request)

    @router.delete("/jobs/{jobId}", summary="撤销作业 / dismiss a job")
    async def job_dismiss(jobId: str, request: Request, principal: Principal = Depends(requires(floor, "撤销作业"))) -> Response:
        jobs = await run_in_threadpool(manager, request.app.state)
        row = await _visible_job(jobs, jobId, principal, request, "撤销作业")
        if isinstance(row, JSONResponse):
            return row
        return _served_by(JSONResponse(await run_in_threadpool(jobs.dismiss, jobId)))

    return router


router = processes_router()
