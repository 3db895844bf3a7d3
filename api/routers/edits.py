"""Edits of reserve parcels over HTTP (SPEC §4): status moves, validated geometry/attribute edits,
and the history of any feature. Writes need `admin`; history is as public as the layer.

The write routes are `async` only to read the body: the store calls block (a write may wait up
to `lock_timeout_s` for a row another session holds), so they run in the thread pool. On the
event loop, one edit waiting on a lock used to freeze every request, `/health` included.
A wait that runs out answers 503 with Retry-After; nothing is written.
"""

from __future__ import annotations

import json

import shapely
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from services import parcel_edits
from api.auth import Principal, require
from api.dependencies import get_principal, layer_is_public
from gis.errors import InputError, NotFoundError
from parcels.access import hidden_for, redact_mapping

router = APIRouter(tags=["地块变更 / parcel edits"])


async def _json(request: Request) -> dict:
    try:
        body = json.loads(await request.body() or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"请求体不是有效的 JSON：{exc}")
    if not isinstance(body, dict):
        raise InputError("请求体应为 JSON 对象。")
    return body


def _feature_json(props: dict) -> dict:
    geom = props.pop("geometry", None)
    return {"type": "Feature", "id": props.get("id"), "geometry": json.loads(shapely.to_geojson(geom)) if geom is not None else None, "properties": props}


def _text(body: dict, key: str) -> str | None:
    value = body.get(key)
    return None if value is None else str(value)


async def _write(fn, *args, **kw) -> JSONResponse:
    """Run a blocking store write in the thread pool (StoreBusy → 503 + Retry-After, api/errors.py)."""
    return JSONResponse(_feature_json(await run_in_threadpool(fn, *args, **kw)))


@router.post("/collections/reserve_parcels/items/{featureId}/status", summary="变更报批状态 / change status")
async def change_status(featureId: str, request: Request, principal: Principal = Depends(get_principal)) -> JSONResponse:
    require(principal, "admin", "变更地块状态")
    body = await _json(request)
    if "status" not in body:
        raise InputError("缺少 status 字段。", hint="如 {\"status\": \"已组卷上报\", \"reason\": \"…\"}")
    return await _write(
        parcel_edits.change_status, request.app.state.store, featureId, str(body["status"]), user=principal.name or "api", role=principal.role,
        reason=_text(body, "reason"), date=_text(body, "date"), supply_method=_text(body, "supply_method"),
    )


@router.patch("/collections/reserve_parcels/items/{featureId}", summary="编辑储备地块 / edit a reserve parcel")
async def edit(featureId: str, request: Request, principal: Principal = Depends(get_principal)) -> JSONResponse:
    """Body: a GeoJSON Feature (geometry and/or properties) plus optional `reason`."""
    require(principal, "admin", "编辑地块")
    body = await _json(request)
    geometry = None
    if body.get("geometry") is not None:
        try:
            geometry = shapely.from_geojson(json.dumps(body["geometry"]))
        except Exception as exc:
            raise InputError(f"几何不是有效的 GeoJSON：{exc}", hint="坐标为 EPSG:4490 经纬度（经度在前）。")
        from gis.crs import detect_crs

        detect_crs([geometry], given=4490)
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise InputError("properties 应为对象。")
    return await _write(
        parcel_edits.edit_parcel, request.app.state.store, featureId, user=principal.name or "api", properties=props, geometry=geometry, reason=_text(body, "reason")
    )


@router.get("/collections/{collectionId}/items/{featureId}/history", summary="要素变更记录 / history of a feature")
def history(collectionId: str, featureId: str, request: Request, principal: Principal = Depends(get_principal)) -> JSONResponse:
    """Who changed what, when and why — in full for `analyst` and `admin` only.

    Below `analyst` a record keeps its action, time and the old/new values redacted by the one
    access rule (parcels/access.py), and loses `user` (API key names say who holds which key)
    and `reason` (free text that may quote restricted figures).
    """
    if not layer_is_public(collectionId):
        require(principal, "analyst", "查看该图层的变更记录")
    store = request.app.state.store
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
