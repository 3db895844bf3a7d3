"""Enterprises over HTTP (SPEC §5.5): the 亩均 profile (analyst) and 调档 records (admin).

Thin: the profile is assembled by services/enterprise_profile.py from the stored runs and drawn
by maps/enterprise_profile.py; a 调档 is recorded by services/scoring.py, as `landgis adjust` does.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Principal
from api.bodies import json_body
from api.dependencies import get_store, requires
from gis.errors import InputError
from gis.store import Store
from services import enterprise_profile, scoring

router = APIRouter(tags=["企业 / enterprises"])


class Adjustment(BaseModel):
    """A 调档: the class, the reason, the year it applies to, and optionally the one policy."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    cls: str = Field(alias="class", description="调档后等级 A/B/C/D")
    reason: str = Field(description="调档理由（必填）")
    year: int = Field(description="评价年度：调档只对该年度有效")
    policy: str | None = Field(None, description="只对该评价办法有效（内置名称），默认对所有评价办法")


@router.get("/enterprises/{enterprise_id}/profile", summary="企业亩均档案 / an enterprise's profile")
async def profile(
    enterprise_id: str,
    store: Store = Depends(get_store),
    principal: Principal = Depends(requires("analyst", "查看企业亩均档案")),
    f: str = Query("json", description="json | html"),
    policy: str | None = Query(None, description="只看该评价办法的运行"),
) -> Response:
    if f not in ("json", "html"):
        raise InputError(f"不支持的格式 f={f}。", hint="f 可取 json、html。")
    data = await run_in_threadpool(enterprise_profile.enterprise_profile, store, enterprise_id, policy)
    if f == "html":
        from maps.enterprise_profile import profile_html

        return HTMLResponse(profile_html(data))
    return JSONResponse(data)


@router.post("/enterprises/{enterprise_id}/adjustments", status_code=201, summary="登记调档 / record a 调档 for one year")
async def adjust(
    enterprise_id: str,
    store: Store = Depends(get_store),
    principal: Principal = Depends(requires("admin", "登记调档")),
    body: Adjustment = Depends(json_body(Adjustment, max_bytes=16 * 1024, optional=False)),
) -> JSONResponse:
    key = await run_in_threadpool(scoring.record_adjustment, store, enterprise_id, body.cls, reason=body.reason,
                                  user=principal.name or "api", year=body.year, policy=body.policy)
    return JSONResponse({"key": key, "enterprise_id": enterprise_id, "class": body.cls.strip().upper(), "year": body.year,
                         "policy": body.policy or "", "reason": body.reason.strip(),
                         "links": {"profile": f"/enterprises/{enterprise_id}/profile"}}, status_code=201)
