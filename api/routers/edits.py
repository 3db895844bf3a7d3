"""Edits of reserve parcels over HTTP (SPEC §4): status moves, validated geometry/attribute edits,
and the history of any feature. Writes need `admin`; history is as public as the layer.

The write routes are `async` only to read the body: the store calls block (a write may wait up
to `lock_timeout_s` for a row another session holds), so they run in the thread pool. On the
event loop, one edit waiting on a lock used to freeze every request, `/health` included.
A wait that runs out answers 503 with Retry-After; nothing is written.
"""

from __future__ import annotations

import json
from typing import Any

import shapely
from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Principal, require
from api.bodies import body_schema, json_body
from api.dependencies import get_principal, get_store, layer_is_public, requires
from gis.errors import InputError, NotFoundError
from gis.store import Store
from parcels.access import hidden_for, redact_mapping
from services import parcel_edits

router = APIRouter(tags=["地块变更 / parcel edits"])


class StatusChange(BaseModel):
    """A move of the approval workflow (SPEC §4): 计划报批 → 已组卷上报 → 已获批 → 已供地, back with a reason."""

    model_config = ConfigDict(extra="forbid")
    status: str = Field(..., description="新状态，如 已组卷上报 / the new status")
    reason: str | None = Field(None, description="原因（退回、注销时必填）/ reason (required to go back or cancel)")
    date: str | None = Field(None, description="状态日期 YYYY-MM-DD / status date")
    supply_method: str | None = Field(None, description="供地方式：出让 | 划拨 / supply method (for 已供地)")


class ParcelEdit(BaseModel):
    """A GeoJSON Feature of the parcel's new geometry and/or properties, plus the edit's reason."""

    model_config = ConfigDict(extra="forbid")
    type: str | None = Field(None, description="Feature")
    id: str | int | None = None
    bbox: list[float] | None = None
    geometry: dict[str, Any] | None = Field(None, description="EPSG:4490 经纬度 GeoJSON 几何 / geometry in lon/lat")
    properties: dict[str, Any] | None = None
    reason: str | None = Field(None, description="修改原因 / reason of the edit")


EDIT_BODY_BYTES = 5 * 1024 * 1024
"""A surveyed parcel of several thousand vertices is a few hundred KB of GeoJSON; 5 MB is ample."""


def _feature_json(props: dict) -> dict:
    geom = props.pop("geometry", None)
    return {"type": "Feature", "id": props.get("id"), "geometry": json.loads(shapely.to_geojson(geom)) if geom is not None else None, "properties": props}


async def _write(fn, *args, **kw) -> JSONResponse:
    """Run a blocking store write in the thread pool (StoreBusy → 503 + Retry-After, api/errors.py)."""
    return JSONResponse(_feature_json(await run_in_threadpool(fn, *args, **kw)))


@router.post("/collections/reserve_parcels/items/{featureId}/status", summary="变更报批状态 / change status", openapi_extra=body_schema(StatusChange))
async def change_status(
    featureId: str,
    store: Store = Depends(get_store),
    principal: Principal = Depends(requires("admin", "变更地块状态")),
    body: StatusChange = Depends(json_body(StatusChange, max_bytes=64 * 1024, optional=False)),
) -> JSONResponse:
    return await _write(
        parcel_edits.change_status, store, featureId, body.status, user=principal.name or "api", role=principal.role,
        reason=body.reason, date=body.date, supply_method=body.supply_method,
    )


@router.patch("/collections/reserve_parcels/items/{featureId}", summary="编辑储备地块 / edit a reserve parcel", openapi_extra=body_schema(ParcelEdit))
async def edit(
    featureId: str,
    store: Store = Depends(get_store),
    principal: Principal = Depends(requires("admin", "编辑地块")),
    body: ParcelEdit = Depends(json_body(ParcelEdit, max_bytes=EDIT_BODY_BYTES)),
) -> JSONResponse:
    """Body: a GeoJSON Feature (geometry and/or properties) plus optional `reason`."""
    geometry = None
    if body.geometry is not None:
        try:
            geometry = shapely.from_geojson(json.dumps(body.geometry))
        except Exception as exc:  # noqa: BLE001 - GEOS names what is wrong; the caller gets it in Chinese context
            raise InputError(f"几何不是有效的 GeoJSON：{str(exc)[:200]}", hint="坐标为 EPSG:4490 经纬度（经度在前）。") from None
        from gis.crs import detect_crs

        detect_crs([geometry], given=4490)
    return await _write(
        parcel_edits.edit_parcel, store, featureId, user=principal.name or "api", properties=body.properties or {}, geometry=geometry, reason=body.reason
    )


@router.get("/collections/{collectionId}/items/{featureId}/history", summary="要素变更记录 / history of a feature")
def history(collectionId: str, featureId: str, store: Store = Depends(get_store), principal: Principal = Depends(get_principal)) -> JSONResponse:
    """Who changed what, when and why — in full for `analyst` and `admin` only.

    Below `analyst` a record keeps its action, time and the old/new values redacted by the one
    access rule (parcels/access.py), and loses `user` (API key names say who holds which key)
    and `reason` (free text that may quote restricted figures).
    """
    if not layer_is_public(collectionId):
        require(principal, "analyst", "查看该图层的变更记录")
    if not store.layer_exists(collectionId):
        raise NotFoundError(f"图层 {collectionId} 不存在。")
    frame = store.history(collectionId, featureId)
    if frame.empty:
        raise NotFoundError(f"要素 {featureId} 没有变更记录。")
    hidden = hidden_for(principal.role)
    full = principal.has("analyst")
    records = []
    for r in frame.itertuples():
        old = json.loads(r.old) if isinstance(r.old, str) else None
        new = json.loads(r.new) if isinstance(r.new, str) else None
        record = {"action": r.action, "at": r.at, "old": redact_mapping(old, hidden), "new": redact_mapping(new, hidden)}
        if full:
            record["user"] = r.user
            record["reason"] = r.reason if isinstance(r.reason, str) else None
        records.append(record)
    return JSONResponse({"collection": collectionId, "featureId": featureId, "history": records})
