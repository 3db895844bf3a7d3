"""PMTiles packs served for offline and field use (SPEC §8.2): `GET /tile-packs` lists the
`.pmtiles` files in `LANDGIS_TILE_PACKS`, `GET /tile-packs/{name}` serves one with HTTP range
requests (what the PMTiles readers in browsers and GIS ask for: the header, a directory, a tile).

Access: each pack records the role it needs (`landgis:role`, written by `landgis tiles`); a pack
that needs `analyst` is served only to an analyst, and is not even listed for anyone below. A pack
whose metadata cannot be read counts as `analyst`. Names are plain file names (no path parts).
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from api.auth import Principal, require
from api.dependencies import get_principal
from gis.errors import NotFoundError

router = APIRouter(tags=["瓦片包 / tile packs"])
PACK_NAME = re.compile(r"[A-Za-z0-9_.\-\u4e00-\u9fff]{1,120}\.pmtiles")
_roles: dict[tuple[str, float], str] = {}


def _dir(request: Request) -> Path | None:
    folder = getattr(request.app.state.settings, "tile_packs", None)
    return Path(folder) if folder else None


def _role(path: Path) -> str:
    """The pack's role, remembered per (path, mtime): a replaced pack is read again."""
    from services.tile_packs import pack_role_of

    key = (str(path), path.stat().st_mtime)
    if key not in _roles:
        if len(_roles) > 1000:
            _roles.clear()
        _roles[key] = pack_role_of(path)
    return _roles[key]


def _needed(role: str) -> str:
    """The role a caller needs for a pack marked `role`: only an explicit `anonymous` is public."""
    return role if role in ("anonymous", "admin") else "analyst"


def _packs(folder: Path | None) -> list[Path]:
    if folder is None or not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and PACK_NAME.fullmatch(p.name))


@router.get("/tile-packs", summary="瓦片包列表 / PMTiles packs")
async def pack_list(request: Request, principal: Principal = Depends(get_principal)) -> JSONResponse:
    def listing() -> list[dict]:
        shown = []
        for p in _packs(_dir(request)):
            role = _role(p)
            if principal.has(_needed(role)):
                shown.append({"name": p.name, "href": f"/tile-packs/{p.name}", "type": "application/vnd.pmtiles", "size": p.stat().st_size, "role": role})
        return shown

    packs = await run_in_threadpool(listing)
    note = None if _dir(request) else "未配置瓦片包目录（LANDGIS_TILE_PACKS）。"
    body = {"packs": packs, "links": [{"rel": "self", "href": "/tile-packs", "type": "application/json"}]}
    if note:
        body["note"] = note
    return JSONResponse(body)


@router.get("/tile-packs/{name}", summary="瓦片包（支持 Range 请求）/ one PMTiles pack (HTTP range requests)", response_class=FileResponse)
async def pack_file(name: str, request: Request, principal: Principal = Depends(get_principal)) -> FileResponse:
    folder = _dir(request)
    path = folder / name if folder is not None and PACK_NAME.fullmatch(name) else None
    if path is None or not path.is_file():
        raise NotFoundError(f"没有名为“{name[:80]}”的瓦片包。" + ("" if folder else "服务未配置瓦片包目录（LANDGIS_TILE_PACKS）。"))
    role = await run_in_threadpool(_role, path)
    require(principal, _needed(role), f"读取瓦片包 {name}")
    cache = "private, max-age=300" if _needed(role) != "anonymous" else "public, max-age=300"
    return FileResponse(path, media_type="application/vnd.pmtiles", headers={"Cache-Control": cache, "Vary": "Authorization"})


@router.get("/tile-packs/{name}/map", summary="瓦片包地图（离线/外业）/ a map of one pack", response_class=HTMLResponse)
async def pack_map(name: str, request: Request, principal: Principal = Depends(get_principal)) -> HTMLResponse:
    """The pack drawn on a landgis map (maps/pack_map.py), tiles read from the pack by range requests."""
    folder = _dir(request)
    path = folder / name if folder is not None and PACK_NAME.fullmatch(name) else None
    if path is None or not path.is_file():
        raise NotFoundError(f"没有名为“{name[:80]}”的瓦片包。")
    role = await run_in_threadpool(_role, path)
    require(principal, _needed(role), f"查看瓦片包 {name} 的地图")

    def build() -> str:
        from pmtiles.reader import MmapSource, Reader

        from maps.pack_map import PackInfo, pack_map_html

        with open(path, "rb") as f:
            reader = Reader(MmapSource(f))
            header, meta = reader.header(), reader.metadata()
        layer = (meta.get("vector_layers") or [{}])[0]
        bounds = tuple(header[k] / 1e7 for k in ("min_lon_e7", "min_lat_e7", "max_lon_e7", "max_lat_e7"))
        info = PackInfo(
            name=name, url=f"/tile-packs/{name}", layer=str(layer.get("id") or "layer"), title=str(meta.get("name") or name),
            columns=sorted((layer.get("fields") or {}).keys()), bounds=bounds, minzoom=int(header["min_zoom"]), maxzoom=int(header["max_zoom"]),
            restricted=_needed(role) != "anonymous",
        )
        return pack_map_html(info)

    html = await run_in_threadpool(build)
    return HTMLResponse(html, headers={"Cache-Control": "no-cache", "Vary": "Authorization"})
