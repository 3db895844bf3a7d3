"""批供用补查 and 达产复核 over HTTP (SPEC §4.2, §6), and admin edits of the ledger.

`GET /supervision?as_of=&f=json|xlsx|html` (analyst), `POST /standard-land/review` (analyst),
`PATCH /collections/land_supply/items/{id}` (admin). Store reads block, so each call runs in the
thread pool; the role check runs before any of it (a refused caller costs no read).
"""

from __future__ import annotations

import json
from typing import Any

import shapely
from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Principal
from api.bodies import body_schema, json_body
from api.dependencies import get_store, requires
from api.reports import report_format, report_response
from gis.errors import InputError
from gis.store import Store
from services import supervision, supply_ledger

router = APIRouter(tags=["供地监管 / land supply supervision"])

@router.get("/supervision", summary="土地供应监管台账（批供用补查）/ land supply supervision")
async def supervision_report(
    as_of: str | None = None,
    f: str = "json",
    store: Store = Depends(get_store),
    principal: Principal = Depends(requires("analyst", "查看土地供应监管台账")),
) -> Response:
    """As of `as_of` (YYYY-MM-DD, default today): 批而未供, 供而未用, 闲置 (stage, 闲置费), overdue
    completion, 达产复核 due, conflicts and totals; `f=xlsx` the 台账, `f=html` the report."""
    from parcels.supply.report import supervision_html, supervision_workbook

    f = report_format(f)
    day = supervision.parse_as_of(as_of)
    doc = await run_in_threadpool(supervision.supervision_report, store, day)
    return await report_response(doc, f, supervision_workbook, supervision_html, f"supervision-{doc['as_of']}")


class ReviewRequest(BaseModel):
    """达产复核 options (all optional; query parameters of the same names work too)."""

    model_config = ConfigDict(extra="forbid")
    as_of: str | None = Field(None, description="复核截止日期 YYYY-MM-DD（默认今天）")
    rules: str | None = Field(None, description="规则集，逗号分隔（默认同 /standard-land/check）")


@router.post("/standard-land/review", summary="标准地达产复核 / production review", openapi_extra=body_schema(ReviewRequest))
async def review(
    as_of: str | None = None,
    rules: str | None = None,
    f: str = "json",
    store: Store = Depends(get_store),
    principal: Principal = Depends(requires("analyst", "标准地达产复核")),
    body: ReviewRequest | None = Depends(json_body(ReviewRequest, max_bytes=16 * 1024, optional=True)),
) -> Response:
    from api.routers.analysis import _bundled_rules
    from parcels.supply.report import review_html, review_workbook

    f = report_format(f)
    as_of = (body.as_of if body else None) or as_of
    rules = (body.rules if body else None) or rules
    _bundled_rules(rules)  # only bundled sets by name over HTTP: a path would read the server's files
    day = supervision.parse_as_of(as_of)
    doc = await run_in_threadpool(supervision.production_review, store, day, rules=rules)
    return await report_response(doc, f, review_workbook, review_html, f"review-{doc['as_of']}")


class LedgerEdit(BaseModel):
    """A GeoJSON Feature of the ledger row's new properties and/or geometry, plus the edit's reason."""

    model_config = ConfigDict(extra="forbid")
    type: str | None = Field(None, description="Feature")
    id: str | int | None = None
    geometry: dict[str, Any] | None = Field(None, description="EPSG:4490 经纬度 GeoJSON 几何")
    properties: dict[str, Any] | None = None
    reason: str | None = Field(None, description="修改原因")


@router.patch("/collections/land_supply/items/{featureId}", summary="编辑供地台账 / edit a ledger row (admin)", openapi_extra=body_schema(LedgerEdit))
async def edit_ledger(
    featureId: str,
    store: Store = Depends(get_store),
    principal: Principal = Depends(requires("admin", "编辑供地台账")),
    body: LedgerEdit = Depends(json_body(LedgerEdit, max_bytes=5 * 1024 * 1024)),
) -> JSONResponse:
    """The merged row must pass the import's rules (dates in order, not in the future, supply method
    allowed for the use); otherwise 400 with the field named and nothing changes."""
    from api.routers.edits import _feature_json

    geometry = None
    if body.geometry is not None:
        try:
            geometry = shapely.from_geojson(json.dumps(body.geometry))
        except Exception as exc:  # noqa: BLE001 - GEOS names what is wrong
            raise InputError(f"几何不是有效的 GeoJSON：{str(exc)[:200]}", hint="坐标为 EPSG:4490 经纬度（经度在前）。") from None
        from gis.crs import detect_crs

        detect_crs([geometry], given=4490)  # refuses swapped axes or projected metres sent as degrees
    props = await run_in_threadpool(supply_ledger.edit_ledger_row, store, featureId, user=principal.name or "api", properties=body.properties or {}, geometry=geometry, reason=body.reason)
    return JSONResponse(json.loads(json.dumps(_feature_json(props), ensure_ascii=False, default=str)))
