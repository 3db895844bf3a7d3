"""`GET /keys`: the API keys and their roles, for admins (names and status only, never hashes)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from api.auth import Principal, list_keys
from api.dependencies import get_store, requires
from gis.store import Store

router = APIRouter()


@router.get("/keys", summary="API 密钥列表（管理员）/ API keys (admin)")
def keys(store: Store = Depends(get_store), principal: Principal = Depends(requires("admin", "查看 API 密钥"))) -> dict:
    return {"keys": list_keys(store)}
