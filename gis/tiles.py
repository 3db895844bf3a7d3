"""Mapbox Vector Tiles of a layer on the WebMercatorQuad tile matrix set (SPEC §8.2).

PostGIS builds the tile itself (`ST_AsMVTGeom` clips and quantises, `ST_AsMVT` encodes); the
GeoPackage store finds the tile's features through its R-tree, transforms and clips them with
shapely (vectorised) and encodes with `mapbox_vector_tile`. The tile's lon/lat search box is the
densified transform of the buffered tile, so the R-tree/GiST lookup never misses a feature that
reaches into the tile. A tile holds at most MAX_FEATURES features (ordered by fid) so a
low-zoom tile over 10^6 parcels stays bounded; maps switch to tiles at zooms where that limit is
never reached.

Encoded tiles are kept in a small in-process LRU for TILE_TTL_S seconds: map clients ask for the
same tiles again and again, and the API also sends `Cache-Control`/`ETag` so browsers keep them.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict

import morecantile
import numpy as np
import shapely

from gis.crs import STORE_EPSG, transformer
from gis.errors import InputError
from gis.store import Store
from gis.store.base import quote

EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 24
MAX_FEATURES = 20_000
TILE_TTL_S = float(os.environ.get("LANDGIS_TILE_TTL", "30"))
"""Seconds an encoded tile stays in the in-process cache; 0 disables it (the benchmark runs cold)."""
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
    import mapbox_vector_tile

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
    n = len(columns)
    geoms = decode([r[n] for r in rows])
    keep = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    if not keep.any():
        return b""
    t = transformer(STORE_EPSG, 3857)
    merc = shapely.transform(geoms[keep], lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
    bx0, by0, bx1, by1 = tile_bounds(z, x, y)
    pad = (bx1 - bx0) * BUFFER / EXTENT
    clipped = shapely.clip_by_rect(merc, bx0 - pad, by0 - pad, bx1 + pad, by1 + pad)
    # Quantise to tile pixels (y down) and orient rings here, vectorised: the encoder's own
    # per-vertex Python quantising and winding checks cost ~0.5 s on a 1 300-parcel tile.
    sx = EXTENT / (bx1 - bx0)
    sy = EXTENT / (by1 - by0)
    clipped = shapely.transform(clipped, lambda xy: np.column_stack([np.round((xy[:, 0] - bx0) * sx), np.round((by1 - xy[:, 1]) * sy)]))
    clipped = shapely.set_precision(clipped, 1.0, mode="pointwise")
    invalid = ~shapely.is_valid(clipped)
    if invalid.any():  # snapping can fold a sliver: repair, drop collapsed parts
        clipped[invalid] = shapely.make_valid(clipped[invalid], method="structure", keep_collapsed=False)
    clipped = _no_collections(clipped)
    # MVT exterior rings are clockwise on screen (y down), i.e. positive shoelace area on these numbers
    clipped = shapely.orient_polygons(clipped, exterior_cw=False)
    kept_rows = [r for r, k in zip(rows, keep) if k]
    bools = {i for i, c in enumerate(columns) if kinds.get(c) == "BOOLEAN"}
    features = []
    for r, g in zip(kept_rows, clipped):
        if g is None or g.is_empty:
            continue
        props = {}
        for i, c in enumerate(columns):
            v = r[i]
            if v is None:
                continue
            props[c] = bool(v) if i in bools else v
        features.append({"geometry": g, "properties": props})
    if not features:
        return b""
    return mapbox_vector_tile.encode(
        [{"name": layer, "features": features}],
        default_options={"extents": EXTENT, "y_coord_down": True, "check_winding_order": False},
    )


def _no_collections(geoms: np.ndarray) -> np.ndarray:
    """MVT has no geometry collections: keep each collection's highest-dimension parts."""
    ids = shapely.get_type_id(geoms)
    for i in np.nonzero(ids == 7)[0]:
        parts = shapely.get_parts(geoms[i])
        if len(parts) == 0:
            geoms[i] = None
            continue
        dims = shapely.get_dimensions(parts)
        keep = parts[dims == dims.max()]
        kind = shapely.get_type_id(keep[0])
        geoms[i] = shapely.multipolygons(shapely.get_parts(keep)) if kind in (3, 6) else shapely.multilinestrings(shapely.get_parts(keep)) if kind in (1, 2, 5) else shapely.multipoints(shapely.get_parts(keep))
    return geoms


class _TileCache:
    def __init__(self, size: int = 2048):
        self.size = size
        self.data: OrderedDict[tuple, tuple[float, bytes, str]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple) -> tuple[bytes, str] | None:
        with self.lock:
            hit = self.data.get(key)
            if hit is None:
                return None
            if time.monotonic() - hit[0] > TILE_TTL_S:
                self.data.pop(key, None)
                return None
            self.data.move_to_end(key)
            return hit[1], hit[2]

    def put(self, key: tuple, tile: bytes, etag: str) -> None:
        with self.lock:
            self.data[key] = (time.monotonic(), tile, etag)
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.data.clear()


CACHE = _TileCache()


def tile_mvt(store: Store, layer: str, z: int, x: int, y: int, columns: list[str], kinds: dict[str, str] | None = None, *, use_cache: bool = True) -> tuple[bytes, str]:
    """The MVT bytes of one tile (layer name = the collection id) and a strong ETag."""
    check_tile(z, x, y)
    key = (store.url, layer, z, x, y, tuple(columns))
    use_cache = use_cache and TILE_TTL_S > 0
    if use_cache:
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
    if use_cache:
        CACHE.put(key, data, etag)
    return data, etag
