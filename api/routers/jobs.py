"""`POST /jobs` starts long work (the study package), `GET /jobs/{id}` reports progress,
`GET /jobs/{id}/result` returns the file (SPEC §8.3)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from api.auth import Principal, require
from api.dependencies import get_principal
from gis.errors import InputError

router = APIRouter(tags=["作业 / jobs"])
KINDS = ("study-package",)


def _manager(request: Request):
    from api.jobs import JobManager

    if getattr(request.app.state, "jobs", None) is None:
        request.app.state.jobs = JobManager()
    return request.app.state.jobs


@router.post("/jobs", status_code=202, summary="启动作业 / start a job")
async def start(request: Request, principal: Principal = Depends(get_principal)) -> JSONResponse:
    require(principal, "analyst", "启动作业")
    try:
        body = json.loads(await request.body() or b"{}")
    except json.JSONDecodeError as exc:
        raise InputError(f"请求体不是有效的 JSON：{exc}")
    if not isinstance(body, dict) or body.get("kind") not in KINDS:
        raise InputError("请求体应为 {\"kind\": \"study-package\", \"scenario\": \"default_2025\"}。", hint=f"可用作业类型：{'、'.join(KINDS)}。")
    from api.routers.study import _bundled_name, _scenario

    scenario = _scenario(_bundled_name(body.get("scenario")), None, body.get("overrides"))
    store = request.app.state.store

    def work(step):
        from api.commands.study import study_from_store
        from parcels.study.package import write_package, zip_package

        result = study_from_store(store, scenario, step=step)
        step("写出成果包 / writing the package")
        with tempfile.TemporaryDirectory(prefix="landgis-job-") as tmp:
            return zip_package(write_package(Path(tmp), result)), "application/zip", "study.zip"

    job = _manager(request).submit("study-package", principal.name, total_steps=5, work=work)
    return JSONResponse(job.to_dict(), status_code=202, headers={"Location": f"/jobs/{job.id}"})


@router.get("/jobs/{job_id}", summary="作业进度 / job status")
def status(job_id: str, request: Request, principal: Principal = Depends(get_principal)) -> JSONResponse:
    require(principal, "analyst", "查看作业")
    return JSONResponse(_manager(request).get(job_id).to_dict())


@router.get("/jobs/{job_id}/result", summary="作业结果 / job result")
def result(job_id: str, request: Request, principal: Principal = Depends(get_principal)) -> Response:
    require(principal, "analyst", "下载作业结果")
    job = _manager(request).get(job_id)
    if job.status != "succeeded":
        raise InputError(f"作业 {job_id} 尚未完成（状态：{job.status}）。", hint="请稍后再试，或查看 GET /jobs/{id} 的进度。")
    return Response(job.result, media_type=job.media_type, headers={"Content-Disposition": f'attachment; filename="{job.filename}"'})
