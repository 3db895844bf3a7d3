"""Mapbox Vector Tiles of a layer on the WebMercatorQuad tile matrix set (SPEC §8.2).

PostGIS builds the tile itself (`ST_AsMVTGeom` clips and quantises, `ST_AsMVT` encodes); the
GeoPackage store finds the tile's features through its R-tree and `gis.mvt` projects, clips,
quantises and encodes them on whole arrays (≈4× faster than `mapbox_vector_tile`, which is kept
as the reference decoder in the tests). The tile's lon/lat search box is the
densified transform of the buffered tile, so the R-tree/GiST lookup never misses a feature that
reaches into the tile. A tile holds at most MAX_FEATURES features (ordered by fid) so a
low-zoom tile over 10^6 parcels stays bounded; maps switch to tiles at zooms where that limit is
never reached.

Encoded tiles are kept in an in-process LRU keyed by the layer's data revision (`Store.revision`,
bumped by database triggers on every write, whoever writes): map clients ask for the same tiles
again and again, parcels change rarely, and a cold z14 tile costs 25–35 ms of CPU on either
store. The API also sends `Cache-Control`/`ETag` so browsers keep them.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict

import morecantile
import numpy as np

from gis.crs import STORE_EPSG, transformer
from gis.errors import InputError
from gis.mvt import clip_and_quantise, encode_layer, lonlat_to_tile_pixels
from gis.store import Store
from gis.store.base import quote

EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 24
MAX_FEATURES = 20_000
TILE_TTL_S = float(os.environ.get("LANDGIS_TILE_TTL", "30"))
"""`Cache-Control: max-age` for browsers and proxies, which cannot see the data revision."""
TILE_CACHE_MB = float(os.environ.get("LANDGIS_TILE_CACHE_MB", "128"))
"""Bytes of encoded tiles kept in process (revision-keyed, see _TileCache); 0 turns the cache off."""
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
    """Lon/lat box covering the tile plus its buffer (densified edges)."""
    x0, y0, x1, y1 = tile_bounds(z, x, y)
    pad = (x1 - x0) * BUFFER / EXTENT
    x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
    t = transformer(3857, STORE_EPSG)
    xs = np.concatenate([np.linspace(x0, x1, 9), np.full(9, x1), np.linspace(x1, x0, 9), np.full(9, x0)])
    ys = np.concatenate([np.full(9, y0), np.linspace(y0, y1, 9), np.full(9, y1), np.linspace(y1, y0, 9)])
    lon, lat = t.transform(xs, ys)
    return (float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat)))


def _pg_tile(store: Store, layer: str, z: int, x: int, y: int, columns: list[str]) -> bytes:
    cols = "".join(f", t.{quote(c).replace('%', '%%')}" for c in columns)
    sx0, sy0, sx1, sy1 = search_box(z, x, y)
    sql = (
        "WITH mvtgeom AS ("
        f" SELECT ST_AsMVTGeom(ST_Transform(t.geom, 3857), ST_TileEnvelope(%s, %s, %s), {EXTENT}, {BUFFER}, true) AS mvt_geom{cols}"
        f" FROM {quote(layer)} t WHERE t.geom && ST_MakeEnvelope(%s, %s, %s, %s, {STORE_EPSG}) ORDER BY t.fid LIMIT {MAX_FEATURES}"
        ") SELECT ST_AsMVT(mvtgeom.*, %s, " + str(EXTENT) + ", 'mvt_geom') FROM mvtgeom"
    )
    cur = store.connection().cursor()
    try:
        cur.execute(sql, [z, x, y, sx0, sy0, sx1, sy1, layer])
        row = cur.fetchone()
    finally:
        cur.close()
        store._end_read()
    return bytes(row[0]) if row and row[0] is not None else b""


def _gpkg_tile(store: Store, layer: str, z: int, x: int, y: int, columns: list[str], kinds: dict[str, str]) -> bytes:
    from gis.store.geopackage import decode

    sx0, sy0, sx1, sy1 = search_box(z, x, y)
    rt = quote(f"rtree_{layer}_geom")
    select = ", ".join([quote(c) for c in columns] + ["geom"])
    sql = (
        f"SELECT {select} FROM {quote(layer)} WHERE fid IN (SELECT id FROM {rt} WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?) "
        f"ORDER BY fid LIMIT {MAX_FEATURES}"
    )
    cur = store.connection().cursor()
    try:
        cur.execute(sql, [sx1, sx0, sy1, sy0])
        rows = cur.fetchall()
    finally:
        cur.close()
    if not rows:
        return b""
    table = list(zip(*rows))
    geoms = decode(list(table[-1]))
    return encode_tile(layer, geoms, columns, [_typed(table[i], kinds.get(c)) for i, c in enumerate(columns)], z, x, y)


def _typed(values: tuple, kind: str | None) -> list:
    """SQLite hands booleans back as 0/1: give the tile real booleans, as PostGIS does."""
    if kind == "BOOLEAN":
        return [None if v is None else bool(v) for v in values]
    return list(values)


def encode_tile(layer: str, geoms_lonlat: np.ndarray, columns: list[str], values: list[list], z: int, x: int, y: int) -> bytes:
    """Lon/lat geometries + attribute columns → the MVT bytes of tile z/x/y (gis.mvt, vectorised)."""
    bounds = tile_bounds(z, x, y)
    px = clip_and_quantise(lonlat_to_tile_pixels(np.asarray(geoms_lonlat, dtype=object), bounds, EXTENT), EXTENT, BUFFER)
    return encode_layer(layer, px, columns, values, extent=EXTENT)


class _TileCache:
    """LRU of encoded tiles, bounded by bytes. Keys carry the layer's data revision, so a write
    (by landgis or any other client of the database) makes every old tile of that layer
    unreachable at once; nothing is served stale and nothing expires on a timer."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.bytes = 0
        self.data: OrderedDict[tuple, tuple[bytes, str]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple) -> tuple[bytes, str] | None:
        with self.lock:
            hit = self.data.get(key)
            if hit is not None:
                self.data.move_to_end(key)
            return hit

    def put(self, key: tuple, tile: bytes, etag: str) -> None:
        if len(tile) > self.max_bytes // 8:  # one huge tile must not flush everything else
            return
        with self.lock:
            old = self.data.pop(key, None)
            if old is not None:
                self.bytes -= len(old[0])
            self.data[key] = (tile, etag)
            self.bytes += len(tile)
            while self.bytes > self.max_bytes and self.data:
                _, (dropped, _) = self.data.popitem(last=False)
                self.bytes -= len(dropped)

    def clear(self) -> None:
        with self.lock:
            self.data.clear()
            self.bytes = 0


CACHE = _TileCache(int(TILE_CACHE_MB * 1024 * 1024))


def tile_columns(columns: list[str]) -> list[str]:
    """The attribute columns of a tile in one canonical form: sorted, each once. Why: they are
    part of the cache key and the ETag, and `properties=a,b` and `properties=b,a,a` ask for the
    same tile (an MVT feature's attributes are a set), so they must share one cache entry and
    one ETag instead of filling the cache with copies."""
    return sorted(set(columns))


def _cache_key(store: Store, layer: str, revision, z: int, x: int, y: int, columns: list[str]) -> tuple:
    return (store.url, layer, revision, z, x, y, tuple(columns))


def cached_tile(store: Store, layer: str, z: int, x: int, y: int, columns: list[str]) -> tuple[bytes, str] | None:
    """The cached (bytes, ETag) of a tile, or None when it would have to be built. Cheap (one
    revision lookup), so the API answers a hit on the event loop and builds a miss in a thread."""
    check_tile(z, x, y)
    if CACHE.max_bytes <= 0:
        return None
    revision = store.revision(layer)
    if revision is None:
        return None
    return CACHE.get(_cache_key(store, layer, revision, z, x, y, tile_columns(columns)))


def tile_mvt(store: Store, layer: str, z: int, x: int, y: int, columns: list[str], kinds: dict[str, str] | None = None, *, use_cache: bool = True) -> tuple[bytes, str]:
    """The MVT bytes of one tile (layer name = the collection id) and a strong ETag."""
    check_tile(z, x, y)
    columns = tile_columns(columns)
    # The revision is read before the rows: a write landing in between can only make the cached
    # tile newer than its key, never older.
    revision = store.revision(layer) if use_cache and CACHE.max_bytes > 0 else None
    key = _cache_key(store, layer, revision, z, x, y, columns)
    if revision is not None:
        hit = CACHE.get(key)
        if hit is not None:
            return hit
    if store.kind == "postgis":
        data = _pg_tile(store, layer, z, x, y, columns)
    else:
        data = _gpkg_tile(store, layer, z, x, y, columns, kinds or store.columns(layer))
    # The column list is part of the ETag: the same bytes under another `properties=` must not 304.
    h = hashlib.blake2b(data, digest_size=12)
    h.update(b"\0" + "\x1f".join(columns).encode("utf-8"))
    etag = '"' + h.hexdigest() + '"'
    if revision is not None:
        CACHE.put(key, data, etag)
    return data, etag
