"""Mapbox Vector Tiles of a layer on the WebMercatorQuad tile matrix set (SPEC §8.2).

Each store builds its own tiles (`Store.tile`): PostGIS in the database (`ST_AsMVTGeom` clips and
quantises, `ST_AsMVT` encodes); the GeoPackage store finds the tile's features through its R-tree
and `gis.mvt` projects, clips, quantises and encodes them on whole arrays (≈4× faster than
`mapbox_vector_tile`, which is kept as the reference decoder in the tests). This module holds
what both share: the tile grid, the tile's lon/lat search box (the densified transform of the
buffered tile, so the R-tree/GiST lookup never misses a feature that reaches into the tile), the
array encoder's entry point, and the cache. A tile holds at most MAX_FEATURES features (ordered
by fid) so a low-zoom tile over 10^6 parcels stays bounded; maps switch to tiles at zooms where
that limit is never reached.

Encoded tiles are kept in the store's "tiles" cache (`Store.caches`, gis/store/cache.py), keyed by
the layer's data revision (`Store.revision`, bumped by database triggers on every write, whoever
writes): map clients ask for the same tiles again and again, parcels change rarely, and a cold
z14 tile costs 25–35 ms of CPU on either store. Its byte budget is LANDGIS_TILE_CACHE_MB
(`store.caches.set_budget("tiles", …)`; 0 turns it off). The API also sends `Cache-Control`/`ETag`
so browsers keep them.
"""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING

import morecantile
import numpy as np

from gis.errors import InputError
from gis.mvt import (
    clip_and_quantise,
    encode_geometries,
    encode_layer,
    encode_layer_streams,
    lonlat_array_to_tile_pixels,
    lonlat_to_tile_pixels,
    merge_streams,
    quantise_rings,
    ring_polygon_streams,
    star_ring_streams,
)
from gis.star_rings import EARTH_RADIUS

if TYPE_CHECKING:
    from gis.store import Store

EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 24
MAX_FEATURES = 20_000
TILE_TTL_S = float(os.environ.get("LANDGIS_TILE_TTL", "30"))
"""`Cache-Control: max-age` for browsers and proxies, which cannot see the data revision."""
TMS = morecantile.tms.get("WebMercatorQuad")



class TileError(InputError):
    status_code = 400


def check_tile(z: int, x: int, y: int) -> None:
    if not 0 <= z <= MAX_ZOOM:
        raise TileError(f"瓦片层级 {z} 超出范围（0–{MAX_ZOOM}）。")
    n = 1 << z
    if not (0 <= x < n and 0 <= y < n):
        raise TileError(f"瓦片行列号 x={x}, y={y} 超出层级 {z} 的范围（0–{n - 1}）。")


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """The tile's EPSG:3857 bounds."""
    b = TMS.xy_bounds(morecantile.Tile(x, y, z))
    return (b.left, b.bottom, b.right, b.top)


def search_box(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """Lon/lat box covering the tile plus its buffer.

    The inverse spherical Mercator in closed form: lon depends on x alone and lat on y alone
    (both monotone), so the buffered tile's corners give the exact box — the numbers PROJ gives
    for EPSG:3857 → 4490 (its datum step is a null ballpark; `tests/test_mvt.py` compares). Why
    not PROJ: a pyproj Transformer is per thread, and building one costs ≈100 ms in every fresh
    server thread (the thread pool retires idle threads), ≈3 ms a cold tile in the bench."""
    x0, y0, x1, y1 = tile_bounds(z, x, y)
    pad = (x1 - x0) * BUFFER / EXTENT
    lon = np.degrees(np.array([x0 - pad, x1 + pad]) / EARTH_RADIUS)
    lat = np.degrees(2 * np.arctan(np.exp(np.array([y0 - pad, y1 + pad]) / EARTH_RADIUS)) - np.pi / 2)
    return (float(lon[0]), float(lat[0]), float(lon[1]), float(lat[1]))


def encode_tile(layer: str, geoms_lonlat: np.ndarray, columns: list[str], values: list[list], z: int, x: int, y: int) -> bytes:
    """Lon/lat geometries + attribute columns → the MVT bytes of tile z/x/y (gis.mvt, vectorised)."""
    bounds = tile_bounds(z, x, y)
    px = clip_and_quantise(lonlat_to_tile_pixels(np.asarray(geoms_lonlat, dtype=object), bounds, EXTENT), EXTENT, BUFFER)
    return encode_layer(layer, px, columns, values, extent=EXTENT)


def encode_tile_rings(layer: str, ring_coords: np.ndarray, ring_counts: np.ndarray, ring_idx: np.ndarray, others_lonlat: np.ndarray, other_idx: np.ndarray, columns: list[str], values: list[list], z: int, x: int, y: int) -> bytes:
    """`encode_tile` for features given partly as arrays: single-ring polygons (lon/lat
    coordinates of closed rings, `ring_counts` points each, at feature positions `ring_idx`) and
    the rest as shapely geometries (at `other_idx`). Same tile, fewer shapely objects: the rings
    are projected, rounded and encoded on arrays (gis.mvt.quantise_rings); only those that cross
    the tile's edge or fold when rounded go through GEOS like every feature of `encode_tile`."""
    bounds = tile_bounds(z, x, y)
    n = len(ring_idx) + len(other_idx)
    px = lonlat_array_to_tile_pixels(ring_coords, bounds, EXTENT) if len(ring_coords) else np.empty((0, 2))
    q = quantise_rings(px, np.asarray(ring_counts, dtype=np.int64), EXTENT, BUFFER)
    parts = [(ring_idx[q.star_idx], star_ring_streams(*q.star)), (ring_idx[q.simple_idx], ring_polygon_streams(*q.simple))]
    rest_px, rest_local = q.rest, q.rest_idx
    slow_px = np.concatenate([lonlat_to_tile_pixels(np.asarray(others_lonlat, dtype=object), bounds, EXTENT), rest_px]) if len(other_idx) else rest_px
    slow_idx = np.concatenate([np.asarray(other_idx, dtype=np.int64), ring_idx[rest_local]])
    if len(slow_idx):
        parts.append((slow_idx, encode_geometries(clip_and_quantise(slow_px, EXTENT, BUFFER))))
    return encode_layer_streams(layer, merge_streams(n, parts), columns, values, extent=EXTENT)


def tile_columns(columns: list[str]) -> list[str]:
    """The attribute columns of a tile in one canonical form: sorted, each once. Why: they are
    part of the cache key and the ETag, and `properties=a,b` and `properties=b,a,a` ask for the
    same tile (an MVT feature's attributes are a set), so they must share one cache entry and
    one ETag instead of filling the cache with copies."""
    return sorted(set(columns))


def _cache_key(layer: str, z: int, x: int, y: int, columns: list[str]) -> tuple:
    return (layer, z, x, y, tuple(columns))


def cached_tile(store: Store, layer: str, z: int, x: int, y: int, columns: list[str]) -> tuple[bytes, str] | None:
    """The cached (bytes, ETag) of a tile, or None when it would have to be built. Cheap (one
    revision lookup), so the API answers a hit on the event loop and builds a miss in a thread."""
    check_tile(z, x, y)
    cache = store.caches("tiles")
    if cache.max_bytes <= 0:
        return None
    revision = store.revision(layer)
    if revision is None:
        return None
    return cache.peek(revision, _cache_key(layer, z, x, y, tile_columns(columns)))


def tile_mvt(store: Store, layer: str, z: int, x: int, y: int, columns: list[str], kinds: dict[str, str] | None = None, *, use_cache: bool = True) -> tuple[bytes, str]:
    """The MVT bytes of one tile (layer name = the collection id) and a strong ETag."""
    check_tile(z, x, y)
    columns = tile_columns(columns)
    cache = store.caches("tiles")

    def build() -> tuple[bytes, str]:
        data = store.tile(layer, z, x, y, columns, kinds)
        # The column list is part of the ETag: the same bytes under another `properties=` must not 304.
        h = hashlib.blake2b(data, digest_size=12)
        h.update(b"\0" + "\x1f".join(columns).encode("utf-8"))
        return data, '"' + h.hexdigest() + '"'

    # The revision is read before the rows: a write landing in between can only make the cached
    # tile newer than its key, never older.
    revision = store.revision(layer) if use_cache and cache.max_bytes > 0 else None
    return cache.get_or_compute(revision, _cache_key(layer, z, x, y, columns), build)
