"""MapLibre GL styles of the maps: `GET /maps/{name}/style.json` (SPEC §8.2).

The same role rule as the map page (a map of economic data needs `analyst`); the style itself
references only this service's TileJSON documents, built from the request's own base URL.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.auth import require
from api.dependencies import get_principal, get_store
from api.errors import problem
from gis.store import Store
from maps.errors import MapInputError
from services.map_styles import StyleUnavailable, map_style
from services.maps import get_spec

router = APIRouter(tags=["maps"])


@router.get("/maps/{name}/style.json", summary="MapLibre 样式 / MapLibre GL style of a map")
async def style(
    request: Request,
    name: str,
    store: Store = Depends(get_store),
    labels: bool = Query(True, description="中文注记（MapLibre GL JS 用浏览器本机字体绘制，无需字形服务；只能从字形服务取字的客户端请用 false）"),
) -> Response:
    path = str(request.url.path)
    try:
        spec = get_spec(name)
    except MapInputError as exc:
        return problem(404, str(exc), instance=path)
    if not spec.public:
        require(get_principal(request), "analyst", f"地图“{spec.title}”")
    base = str(request.base_url).rstrip("/")
    try:
        doc = await run_in_threadpool(lambda: map_style(name, store, base, labels=labels))
    except StyleUnavailable as exc:
        return problem(404, str(exc), instance=path)
    return Response(json.dumps(doc, ensure_ascii=False).encode("utf-8"), media_type="application/json", headers={"Cache-Control": "public, max-age=60" if spec.public else "private, max-age=60", "Vary": "Authorization"})
