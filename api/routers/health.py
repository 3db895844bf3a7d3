"""Liveness: what an operator checks first after `landgis serve`.

The collection list lives in api/routers/features.py (OGC API – Features), where the access
rules of SPEC §8.4 apply.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from api.dependencies import get_store
from gis.store import Store

router = APIRouter()


@router.get("/health", summary="服务状态 / service health")
def health(store: Store = Depends(get_store)) -> dict:
    """A plain `def` (thread pool) reading only the layer list: no lock a writer holds blocks it
    (PostgreSQL readers take no row locks and landgis never locks `landgis_layers` exclusively;
    GeoPackage readers never wait in WAL mode), and no write on the event loop can stall it —
    tests/test_hardening_writes.py times it while edits wait on a held lock."""
    layers = store.layer_names()
    return {"status": "ok", "store": store.kind, "layers": len(layers)}
