"""Vector tiles per collection: `/collections/{id}/tiles/WebMercatorQuad/{z}/{x}/{y}` (SPEC §8.2).

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

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.dependencies import LayerAccess, get_store, layer_access, layer_is_public, properties_param
from gis.store import Store
from gis.store.items import check_properties, visible_columns
from gis.tiles import TILE_TTL_S, cached_tile, tile_columns, tile_mvt

router = APIRouter()
MVT = "application/vnd.mapbox-vector-tile"


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
