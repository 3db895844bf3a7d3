"""Liveness and the list of collections: what an operator checks first after `landgis serve`."""

from __future__ import annotations

from fastapi import APIRouter, Request

from parcels.schema import LAYERS, PUBLIC_LAYERS

router = APIRouter()


@router.get("/health", summary="服务状态 / service health")
def health(request: Request) -> dict:
    store = request.app.state.store
    layers = store.layer_names()
    return {"status": "ok", "store": store.kind, "layers": len(layers)}


@router.get("/collections", summary="图层列表 / collections")
def collections(request: Request) -> dict:
    """Public layers only; restricted layers (enterprises, industrial land) need `analyst` (issue 5)."""
    store = request.app.state.store
    out = []
    for name in store.layer_names():
        if name not in PUBLIC_LAYERS:
            continue
        layer = LAYERS[name]
        out.append({"id": name, "title": layer.title_zh, "itemCount": store.count(name)})
    return {"collections": out}
