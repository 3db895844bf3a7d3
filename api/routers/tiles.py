"""Vector tiles per collection: `/collections/{id}/tiles/WebMercatorQuad/{z}/{x}/{y}` (SPEC §8.2),
and the OGC API – Tiles documents that let clients find them (api/ogc/tiles.py builds them):
`/tileMatrixSets`, `/tileMatrixSets/WebMercatorQuad`, `/collections/{id}/tiles`,
`/collections/{id}/tiles/WebMercatorQuad` and its TileJSON 3.0 (`…/tilejson.json`).

Same access rules as the items (restricted layers need `analyst`; restricted fields never in a
tile for anyone below it). Public tiles may be cached by browsers and proxies for a short time;
restricted tiles are `private`. `If-None-Match` with the tile's ETag gets a 304.

`properties=id,use` (comma-separated) limits the attributes carried by each feature, checked
against the visible columns exactly like the items route; the default is every visible column.
Order and repeats do not matter (`gis.tiles.tile_columns`): `properties=b,a,a` is the tile,
cache entry and ETag of `properties=a,b`.
Why: encoding is the tile's main cost and a map only needs its style fields in the tiles — its
popup fetches the clicked feature from `/items/{featureId}`.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.dependencies import LayerAccess, get_store, layer_access, layer_is_public, properties_param
from api.errors import problem
from api.ogc import tiles as ogc_tiles
from api.ogc.schema import layer_title
from gis.store import Store
from gis.store.items import check_properties, visible_columns
from gis.tiles import TILE_TTL_S, cached_tile, tile_columns, tile_mvt

router = APIRouter()
MVT = "application/vnd.mapbox-vector-tile"
TMS_ID = ogc_tiles.TMS_ID


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _json(body: dict, access: LayerAccess | None = None) -> Response:
    """A metadata document. Per-layer documents list the fields the caller may see, so they are
    `private` for restricted layers and vary by `Authorization` like the tiles themselves."""
    headers = {"Vary": "Authorization"}
    if access is not None and not layer_is_public(access.name):
        headers["Cache-Control"] = "private, max-age=60"
    return Response(json.dumps(body, ensure_ascii=False).encode("utf-8"), media_type="application/json", headers=headers)


def _unknown_tms(request: Request, tms: str) -> Response:
    return problem(404, f"瓦片矩阵集“{tms[:40]}”不存在。本服务只提供 {TMS_ID}（Web 墨卡托，EPSG:3857）。", instance=str(request.url.path))


@router.get("/tileMatrixSets", summary="瓦片矩阵集列表 / tile matrix sets")
def tile_matrix_sets(request: Request) -> Response:
    return _json(ogc_tiles.tile_matrix_sets(_base(request)))


@router.get("/tileMatrixSets/{tileMatrixSetId}", summary="瓦片矩阵集定义 / tile matrix set")
def tile_matrix_set(request: Request, tileMatrixSetId: str) -> Response:
    if tileMatrixSetId != TMS_ID:
        return _unknown_tms(request, tileMatrixSetId)
    return _json(ogc_tiles.tile_matrix_set(_base(request)))


@router.get("/collections/{collectionId}/tiles", summary="图层的瓦片集列表 / tilesets of a collection")
def collection_tilesets(request: Request, access: LayerAccess = Depends(layer_access)) -> Response:
    return _json(ogc_tiles.tilesets(_base(request), access.name, layer_title(access.name)), access)


@router.get("/collections/{collectionId}/tiles/{tileMatrixSetId}", summary="瓦片集元数据 / tileset metadata")
async def collection_tileset(request: Request, tileMatrixSetId: str, access: LayerAccess = Depends(layer_access), store: Store = Depends(get_store)) -> Response:
    if tileMatrixSetId != TMS_ID:
        return _unknown_tms(request, tileMatrixSetId)
    from api.routers.features import on_store

    columns, extent = await on_store(store, _layer_facts, store, access)
    return _json(ogc_tiles.tileset(_base(request), access.name, layer_title(access.name), columns, extent), access)


@router.get("/collections/{collectionId}/tiles/{tileMatrixSetId}/tilejson.json", summary="TileJSON 3.0 / TileJSON of a collection")
async def collection_tilejson(request: Request, tileMatrixSetId: str, access: LayerAccess = Depends(layer_access), store: Store = Depends(get_store)) -> Response:
    if tileMatrixSetId != TMS_ID:
        return _unknown_tms(request, tileMatrixSetId)
    from api.routers.features import on_store

    columns, extent = await on_store(store, _layer_facts, store, access)
    return _json(ogc_tiles.tilejson(_base(request), access.name, layer_title(access.name), columns, extent), access)


def _layer_facts(store: Store, access: LayerAccess) -> tuple[dict[str, str], tuple | None]:
    """The columns a tile carries for this caller (the access rule applied) and the layer's extent."""
    return visible_columns(store, access.name, access.hidden), store.extent(access.name)


@router.get(
    "/collections/{collectionId}/tiles/WebMercatorQuad/{z}/{x}/{y}",
    summary="矢量瓦片 / Mapbox vector tile",
    response_class=Response,
    responses={200: {"content": {MVT: {}}}},
)
async def tile(
    request: Request,
    z: int,
    x: int,
    y: int,
    access: LayerAccess = Depends(layer_access),
    properties: list[str] | None = Depends(properties_param),
    store: Store = Depends(get_store),
) -> Response:
    from api.routers.features import on_store

    if not store.blocking_io:
        # A cached tile is a dictionary lookup: answered on the event loop. A cold one (up to
        # 0.9 s on GeoPackage) is built in a thread so it never holds up other requests.
        hit = _tile(request, store, z, x, y, access, properties, cached_only=True)
        if hit is not None:
            return hit
    return await on_store(store, _tile, request, store, z, x, y, access, properties, heavy=True)


def _tile(request: Request, store: Store, z: int, x: int, y: int, access: LayerAccess, properties: list[str] | None = None, cached_only: bool = False) -> Response | None:
    """The tile response; with `cached_only`, None unless the tile is in the cache."""
    kinds = visible_columns(store, access.name, access.hidden)
    columns = tile_columns(list(kinds) if properties is None else check_properties(properties, kinds))
    if cached_only:
        found = cached_tile(store, access.name, z, x, y, columns)
        if found is None:
            return None
        data, etag = found
    else:
        data, etag = tile_mvt(store, access.name, z, x, y, columns, kinds)
    cache = f"public, max-age={int(TILE_TTL_S)}" if layer_is_public(access.name) else f"private, max-age={int(TILE_TTL_S)}"
    headers = {"ETag": etag, "Cache-Control": cache, "Vary": "Authorization"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if not data:
        return Response(status_code=204, headers=headers)
    return Response(data, media_type=MVT, headers=headers)
