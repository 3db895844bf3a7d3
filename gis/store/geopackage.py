"""The embedded default store: one OGC GeoPackage file, written with plain sqlite3.

Writing the GeoPackage ourselves (rather than through GDAL) is what lets an import, its
history rows and its spatial-index updates share one SQLite transaction: GDAL commits on its own
schedule. The file stays a standard GeoPackage 1.3 (gpkg_* tables, GeoPackageBinary geometry,
R-tree extension with the standard triggers), so QGIS, ArcGIS and ogr2ogr open it directly and
their edits keep the index right. WAL mode lets the API read while an import writes.

Locks: every write starts with BEGIN IMMEDIATE, i.e. takes the file's one write lock before it
reads anything, so a check made inside the transaction (overlaps of reserve parcels) cannot be
overtaken by another writer. The wait for that lock is bounded by the busy timeout
(`lock_timeout_s`, default 5 s): a long import in another process, or QGIS holding an edit
session open, answers StoreBusy instead of freezing the request. Readers never wait (WAL).

Revisions: three row triggers per layer (AFTER INSERT/UPDATE/DELETE) add one to the layer's
row in `landgis_revisions`. SQLite has no statement triggers, but the row trigger costs about
2 µs a row (≈2 % of a 100 000-row import), and being plain SQL it also runs inside GDAL and
QGIS when they edit the file — the same technique GDAL uses for its own feature counts.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely

from gis.crs import MEASURE_EPSG, STORE_EPSG, AxisCrs, geoms_to_axis_crs
from gis.errors import StoreBusy
from gis.store.base import HISTORY, LAYERS, REVISIONS, Store, quote
from gis.store.dialect import Dialect
from gis.store.items import Clause
from gis.store.rtree_pack import bulk_load, float32_down, float32_up

log = logging.getLogger(__name__)


GPKG_APPLICATION_ID = 0x47504B47
GPKG_USER_VERSION = 10300
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_HEADER = struct.Struct("<2sBBi4d")
_EMPTY_HEADER = struct.Struct("<2sBBi")


def encode(geoms: np.ndarray, srs_id: int = STORE_EPSG) -> list[bytes | None]:
    """GeoPackageBinary blobs: 'GP', version 0, little-endian, xy envelope, then ISO WKB."""
    return encode_with_bounds(geoms, srs_id)[0]


def encode_with_bounds(geoms: np.ndarray, srs_id: int = STORE_EPSG) -> tuple[list[bytes | None], np.ndarray]:
    """(`encode`'s blobs, each geometry's (minx, miny, maxx, maxy), NaN where missing or empty).

    The headers are one structured array (a struct.pack per geometry was ≈1 s of a 10^6-parcel
    import); each blob is then one slice of it and one concatenation. The bounds are the
    envelopes' and the R-tree's."""
    arr = np.asarray(geoms, dtype=object)
    n = len(arr)
    out: list[bytes | None] = [None] * n
    bounds = np.full((n, 4), np.nan)
    present = ~shapely.is_missing(arr)
    if not present.any():
        return out, bounds
    idx = np.nonzero(present)[0]
    sub = arr[idx]
    wkb = shapely.to_wkb(sub, output_dimension=2, byte_order=1, flavor="iso")
    b = shapely.bounds(sub)
    empty = shapely.is_empty(sub)
    b[empty] = np.nan
    bounds[idx] = b
    head = np.zeros(len(idx), dtype=np.dtype([("magic", "S2"), ("version", "u1"), ("flags", "u1"), ("srs", "<i4"), ("env", "<f8", (4,))]))
    head["magic"] = b"GP"
    head["flags"] = np.where(empty, 0x11, 0x03)
    head["srs"] = srs_id
    head["env"] = b[:, [0, 2, 1, 3]]  # minx, maxx, miny, maxy
    raw = head.tobytes()
    size = head.itemsize
    hlen = np.where(empty, _EMPTY_HEADER.size, _HEADER.size).tolist()
    for k, (i, h, w) in enumerate(zip(idx.tolist(), hlen, wkb.tolist())):
        out[i] = raw[k * size:k * size + h] + w
    return out, bounds


def _wkb_start(blob: bytes) -> int:
    return 8 + _ENVELOPE_BYTES.get((blob[3] >> 1) & 0x07, 0)


def decode(blobs: list) -> np.ndarray:
    out = np.empty(len(blobs), dtype=object)
    wkbs = []
    where = []
    for i, b in enumerate(blobs):
        if b is None:
            out[i] = None
            continue
        b = bytes(b)
        wkbs.append(b[_wkb_start(b):])
        where.append(i)
    if wkbs:
        out[np.array(where)] = shapely.from_wkb(wkbs)
    return out


def _envelope(blob) -> tuple[float, float, float, float] | None:
    if blob is None:
        return None
    b = bytes(blob)
    flags = b[3]
    if flags & 0x10:
        return None
    if (flags >> 1) & 0x07:
        minx, maxx, miny, maxy = struct.unpack_from("<4d", b, 8)
        return minx, maxx, miny, maxy
    g = shapely.from_wkb(b[_wkb_start(b):])
    if g.is_empty:
        return None
    x0, y0, x1, y1 = g.bounds
    return x0, x1, y0, y1


def _register_functions(conn: sqlite3.Connection) -> None:
    """The SQL functions the standard R-tree triggers call (GDAL provides them in its own driver)."""

    def is_empty(blob):
        if blob is None:
            return None
        return 1 if _envelope(blob) is None else 0

    def part(i):
        def f(blob):
            env = _envelope(blob)
            return None if env is None else env[i]

        return f

    conn.create_function("ST_IsEmpty", 1, is_empty, deterministic=True)
    conn.create_function("ST_MinX", 1, part(0), deterministic=True)
    conn.create_function("ST_MaxX", 1, part(1), deterministic=True)
    conn.create_function("ST_MinY", 1, part(2), deterministic=True)
    conn.create_function("ST_MaxY", 1, part(3), deterministic=True)
    # SQLite's own LOWER folds ASCII only, so CQL2 CASEI('Ａ') never met a full-width or Greek
    # letter that Python (the pattern side) had lowered; PostgreSQL's lower() is Unicode-aware.
    conn.create_function("lower", 1, lambda v: v.lower() if isinstance(v, str) else v, deterministic=True)


# =========================================================================================
# GeoPackage: the spatial predicates SQLite lacks, as SQL functions over GeoPackageBinary
# =========================================================================================

@lru_cache(maxsize=64)
def _literal(wkb: bytes):
    g = shapely.from_wkb(wkb)
    shapely.prepare(g)
    return g


def _blob_geom(blob):
    b = bytes(blob)
    return shapely.from_wkb(b[_wkb_start(b):])


def _lg_spatial(op, blob, wkb):
    if blob is None or wkb is None:
        return None
    try:
        lit = _literal(bytes(wkb))
        g = _blob_geom(blob)
        if g.is_empty:
            return 0
        fn = {
            "intersects": lambda: lit.intersects(g),
            "disjoint": lambda: lit.disjoint(g),
            "within": lambda: lit.contains(g),  # geom within literal
            "contains": lambda: lit.within(g),  # geom contains literal
            "overlaps": lambda: lit.overlaps(g),
            "touches": lambda: lit.touches(g),
            "crosses": lambda: lit.crosses(g),
            "equals": lambda: lit.equals(g),
        }[op]
        return 1 if fn() else 0
    except Exception:  # a corrupt blob never turns into a 500
        return 0


def _lg_bbox(blob, minx, miny, maxx, maxy):
    """Exact bbox intersection: envelope test first, the geometry only for edge cases."""
    if blob is None:
        return 0
    env = _envelope(blob)
    if env is None:
        return 0
    ex0, ex1, ey0, ey1 = env
    if ex0 > maxx or ex1 < minx or ey0 > maxy or ey1 < miny:
        return 0
    if ex0 >= minx and ex1 <= maxx and ey0 >= miny and ey1 <= maxy:
        return 1  # envelope inside the box: no need to decode
    try:
        return 1 if _literal(shapely.to_wkb(shapely.box(minx, miny, maxx, maxy))).intersects(_blob_geom(blob)) else 0
    except Exception:
        return 0


def _register_query_functions(conn: sqlite3.Connection) -> None:
    """The exact spatial tests of the items query (CQL2 S_* predicates, bbox), on every connection."""
    conn.create_function("lg_spatial", 3, _lg_spatial, deterministic=True)
    conn.create_function("lg_bbox", 5, _lg_bbox, deterministic=True)


def like_to_glob(pattern: str) -> str:
    """CQL2 LIKE (% _ with backslash escape, case-sensitive) → SQLite GLOB (also case-sensitive)."""
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append({"*": "[*]", "?": "[?]", "[": "[[]"}.get(nxt, nxt))
            i += 2
            continue
        if ch == "%":
            out.append("*")
        elif ch == "_":
            out.append("?")
        elif ch in "*?[":
            out.append(f"[{ch}]")
        else:
            out.append(ch)
        i += 1
    return "".join(out)


class GeoPackageDialect(Dialect):
    """SQLite with the GeoPackage R-tree: `?`, GLOB for LIKE, the `lg_*` functions above."""

    name = "geopackage"
    ph = "?"

    def like(self, sql: str, pattern: str) -> Clause:
        return Clause(f"{sql} GLOB ?", [like_to_glob(pattern)])

    def geometry_param(self) -> str:
        return "?"

    def rtree_match(self, layer: str, bbox: tuple[float, float, float, float]) -> Clause:
        """The one R-tree subquery: rows whose envelope meets the box."""
        x0, y0, x1, y1 = bbox
        rt = quote(f"rtree_{layer}_geom")
        return Clause(f"fid IN (SELECT id FROM {rt} WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?)", [x1, x0, y1, y0])

    def bbox_candidates(self, layer: str, bbox) -> Clause:
        return self.rtree_match(layer, bbox)

    def bbox_intersects(self, layer: str, bbox) -> Clause:
        pre = self.rtree_match(layer, bbox)
        return Clause(f"{pre.sql} AND lg_bbox(geom, ?, ?, ?, ?)", pre.params + list(bbox))

    def spatial(self, layer: str, op: str, wkb: bytes) -> Clause:
        fn = f"lg_spatial('{op}', geom, ?)"
        if op == "disjoint":
            return Clause(fn, [wkb])
        pre = self.rtree_match(layer, shapely.from_wkb(wkb).bounds)
        return Clause(f"{pre.sql} AND {fn}", pre.params + [wkb])


def _gpkg_features(rows: list[tuple], columns: list[str], kinds: dict[str, str], crs: AxisCrs) -> list[str]:
    """Rows of (id, columns…, geom blob) → serialised GeoJSON features: the page's blobs decoded
    in one vectorised call, transformed once, `shapely.to_geojson`."""
    n = len(columns)
    geoms = decode([r[n + 1] for r in rows])
    present = np.array([g is not None for g in geoms], dtype=bool)
    gjson = np.full(len(rows), "null", dtype=object)
    if present.any():
        sub = geoms_to_axis_crs(geoms[present], crs)
        gjson[present] = shapely.to_geojson(sub)
    bools = [i for i, c in enumerate(columns) if kinds.get(c) == "BOOLEAN"]
    dumps = json.dumps
    out = []
    for k, r in enumerate(rows):
        vals = list(r[1 : n + 1])
        for i in bools:
            if vals[i] is not None:
                vals[i] = bool(vals[i])
        props = dumps(dict(zip(columns, vals)), ensure_ascii=False, allow_nan=False)
        out.append('{"type":"Feature","id":' + dumps(r[0], ensure_ascii=False) + ',"geometry":' + gjson[k] + ',"properties":' + props + "}")
    return out


def _create_seek_index(cur, layer: str) -> None:
    """An index of the fids alone: a deep page finds its first fid by walking this compact
    b-tree (≈9 ms to offset 500 000 of 1 000 000) instead of the table's leaves, which hold
    every row's columns and geometry (≈87 ms). See `Store._items_seek`."""
    cur.execute(f"CREATE INDEX IF NOT EXISTS {quote(layer + '_fid_seek')} ON {quote(layer)} (fid)")


def render_tile_rows(rows: list[tuple], layer: str, columns: list[str], kinds: dict[str, str], z: int, x: int, y: int) -> bytes:
    """MVT bytes of tile z/x/y from the rows of `GeoPackageStore.tile`'s query (columns…, geom).
    Shared by the store's own thread and the tile workers (gis/tile_workers.py). Single-ring
    polygons (most parcels) go to the encoder as coordinate arrays read straight from the blobs
    (`single_ring_polygons`), the rest as shapely geometries."""
    from gis.tiles import encode_tile_rings

    if not rows:
        return b""
    table = list(zip(*rows))
    blobs = table[-1]
    is_ring, coords, counts = single_ring_polygons(blobs)
    other_idx = np.nonzero(~is_ring)[0]
    others = decode([blobs[i] for i in other_idx])
    values = [_typed(table[i], kinds.get(c)) for i, c in enumerate(columns)]
    return encode_tile_rings(layer, coords, counts, np.nonzero(is_ring)[0], others, other_idx, columns, values, z, x, y)


def tile_handler():
    """A tile worker's request handler (gis/tile_workers.py): (path, sql, params, layer,
    columns, kinds, z, x, y) → MVT bytes by `render_tile_rows`. One read-only SQLite connection
    per GeoPackage file, kept for the worker's life."""
    from urllib.parse import quote as url_quote

    conns: dict[str, sqlite3.Connection] = {}

    def handle(request: tuple) -> bytes:
        path, sql, params, layer, columns, kinds, z, x, y = request
        conn = conns.get(path)
        if conn is None:
            conn = conns[path] = sqlite3.connect(f"file:{url_quote(path)}?mode=ro", uri=True, timeout=5)
            conn.execute("PRAGMA busy_timeout = 5000")
        return render_tile_rows(conn.execute(sql, params).fetchall(), layer, columns, kinds, z, x, y)

    return handle


def single_ring_polygons(blobs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mask, lon/lat coordinates, points per ring) of the GeoPackage blobs that hold one
    polygon with one ring — a 2D little-endian WKB Polygon, or MultiPolygon of one such part —
    read on whole arrays. Why: WKB → shapely → coordinates cost more than the rest of a cold
    tile's geometry work, and a cadastral parcel is nearly always one ring. Anything else
    (holes, several parts, Z/M, big-endian, empty) is left for `decode`."""
    n = len(blobs)
    lens = np.fromiter((0 if b is None else len(b) for b in blobs), dtype=np.int64, count=n)
    none = np.zeros(n, dtype=bool)
    if not n or not lens.all():
        none = lens == 0
    buf = np.frombuffer(b"".join(bytes(b) for b in blobs if b is not None), dtype=np.uint8)
    starts = np.zeros(n, dtype=np.int64)
    np.cumsum(lens[:-1], out=starts[1:])
    ok = ~none & (lens >= 8 + 9 + 4)
    if not ok.any():
        return ok, np.empty((0, 2)), np.empty(0, dtype=np.int64)
    end = starts + lens
    total = len(buf)

    def u8(at: np.ndarray) -> np.ndarray:
        return buf[np.minimum(at, total - 1)].astype(np.int64)

    def u32(at: np.ndarray) -> np.ndarray:
        return u8(at) | (u8(at + 1) << 8) | (u8(at + 2) << 16) | (u8(at + 3) << 24)

    flags = u8(starts + 3)
    env = np.array([0, 32, 48, 48, 64, -1, -1, -1], dtype=np.int64)[(flags >> 1) & 7]
    ok &= (u8(starts) == 0x47) & (u8(starts + 1) == 0x50) & (env >= 0) & ((flags & 0x10) == 0)
    w = starts + 8 + env  # the WKB
    kind = u32(w + 1)
    single = (u8(w) == 1) & (kind == 3) & (u32(w + 5) == 1)  # Polygon, one ring
    multi = (u8(w) == 1) & (kind == 6) & (u32(w + 5) == 1) & (u8(w + 9) == 1) & (u32(w + 10) == 3) & (u32(w + 14) == 1)
    npts_at = np.where(multi, w + 18, w + 9)
    npts = u32(npts_at)
    coord_at = npts_at + 4
    ok &= (single | multi) & (npts >= 4) & (coord_at + 16 * npts == end)
    idx = np.nonzero(ok)[0]
    counts = npts[idx]
    if not len(idx):
        return ok, np.empty((0, 2)), counts
    # Float64 views of the buffer at each of the 8 byte alignments; a coordinate is read from
    # the view its offset aligns with (one gather of doubles, no byte shuffling).
    first = coord_at[idx]
    owner = np.repeat(np.arange(len(idx)), 2 * counts)
    pos0 = np.zeros(len(idx) + 1, dtype=np.int64)
    np.cumsum(2 * counts, out=pos0[1:])
    byte_at = np.repeat(first, 2 * counts) + 8 * (np.arange(int(pos0[-1])) - pos0[owner])
    out = np.empty(len(byte_at), dtype=np.float64)
    align = byte_at % 8
    for a in np.unique(align):
        view = buf[a:a + (total - a) // 8 * 8].view("<f8")
        m = align == a
        out[m] = view[(byte_at[m] - a) // 8]
    return ok, out.reshape(-1, 2), counts


def _typed(values: tuple, kind: str | None) -> list:
    """SQLite hands booleans back as 0/1: give the tile real booleans, as PostGIS does."""
    if kind == "BOOLEAN":
        return [None if v is None else bool(v) for v in values]
    return list(values)


_SRS_ROWS = [
    ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian coordinate reference system"),
    ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinate reference system"),
]


def _srs_row(epsg: int) -> tuple:
    from pyproj import CRS

    crs = CRS.from_epsg(epsg)
    return (crs.name, epsg, "EPSG", epsg, crs.to_wkt("WKT1_GDAL"), crs.name)


_REV_EVENTS = ("insert", "update", "delete")


def _rev_trigger_names(layer: str) -> list[str]:
    return [f"landgis_rev_{layer}_{event}" for event in _REV_EVENTS]


class GeoPackageStore(Store):
    kind = "geopackage"
    ph = "?"
    db_errors = (sqlite3.Error,)
    dialect = GeoPackageDialect()
    blocking_io = False
    """SQLite work is CPU under the GIL, not a wait: small reads run on the event loop (see
    `Store.blocking_io`)."""

    def __init__(self, path: str | Path):
        super().__init__()
        self.path = Path(path)
        self.url = str(self.path)
        self._rev_checked: dict[str, tuple[int, bool]] = {}
        """layer → (schema_version, triggers present): re-checked only when the schema changes."""

    def _new_connection(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=self.lock_timeout_s, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(self.lock_timeout_s * 1000)}")
        if fresh:
            conn.execute(f"PRAGMA application_id = {GPKG_APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {GPKG_USER_VERSION}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        _register_functions(conn)
        _register_query_functions(conn)
        return conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        conn = self.connection()
        # lock_timeout_s may have been changed after the connection was opened.
        conn.execute(f"PRAGMA busy_timeout = {int(self.lock_timeout_s * 1000)}")
        cur = conn.cursor()
        try:
            cur.execute("BEGIN IMMEDIATE")
        except BaseException:
            cur.close()
            raise
        try:
            yield cur
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            cur.close()

    def _is_busy(self, exc: BaseException) -> bool:
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None:
            return (code & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
        return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))

    def _bootstrap(self, cur) -> None:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, "
            "organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, "
            "identifier TEXT UNIQUE, description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT "
            "(strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER, "
            "CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, "
            "geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL, "
            "CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name), "
            "CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name), "
            "CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, "
            "definition TEXT NOT NULL, scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))"
        )
        rows = _SRS_ROWS + [_srs_row(4326), _srs_row(STORE_EPSG), _srs_row(MEASURE_EPSG)]
        for r in rows:
            cur.execute("INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", r)

    def _register_tables(self, cur, names: list[str]) -> None:
        for n in names:
            cur.execute(
                "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description) VALUES (?, 'attributes', ?, ?)",
                (n, n, "landgis bookkeeping"),
            )

    def _create_history(self, cur) -> None:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS landgis_history (hid INTEGER PRIMARY KEY AUTOINCREMENT, layer TEXT NOT NULL, "
            "feature_id TEXT NOT NULL, action TEXT NOT NULL, user_name TEXT, at TEXT NOT NULL, reason TEXT, old TEXT, new TEXT)"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS landgis_history_feature ON landgis_history (layer, feature_id)")

    def _create_layer_table(self, cur, name: str, geometry_type: str, title: str) -> None:
        t = quote(name)
        rt = quote(f"rtree_{name}_geom")
        cur.execute(f"CREATE TABLE {t} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom {geometry_type}, id TEXT NOT NULL UNIQUE)")
        cur.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES (?, 'features', ?, ?, ?)",
            (name, name, title, STORE_EPSG),
        )
        cur.execute("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, ?, 0, 0)", (name, geometry_type, STORE_EPSG))
        cur.execute(f"CREATE VIRTUAL TABLE {rt} USING rtree(id, minx, maxx, miny, maxy)")
        cur.execute(
            "INSERT INTO gpkg_extensions VALUES (?, 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
            (name,),
        )
        env = 'ST_MinX(NEW."geom"), ST_MaxX(NEW."geom"), ST_MinY(NEW."geom"), ST_MaxY(NEW."geom")'
        trig = lambda suffix: quote(f"rtree_{name}_geom_{suffix}")  # noqa: E731
        cur.execute(
            f'CREATE TRIGGER {trig("insert")} AFTER INSERT ON {t} WHEN (NEW."geom" NOT NULL AND NOT ST_IsEmpty(NEW."geom")) '
            f"BEGIN INSERT OR REPLACE INTO {rt} VALUES (NEW.fid, {env}); END"
        )
        cur.execute(
            f'CREATE TRIGGER {trig("update1")} AFTER UPDATE OF "geom" ON {t} WHEN OLD.fid = NEW.fid AND '
            f'(NEW."geom" NOTNULL AND NOT ST_IsEmpty(NEW."geom")) BEGIN INSERT OR REPLACE INTO {rt} VALUES (NEW.fid, {env}); END'
        )
        cur.execute(
            f'CREATE TRIGGER {trig("update2")} AFTER UPDATE OF "geom" ON {t} WHEN OLD.fid = NEW.fid AND '
            f'(NEW."geom" ISNULL OR ST_IsEmpty(NEW."geom")) BEGIN DELETE FROM {rt} WHERE id = OLD.fid; END'
        )
        cur.execute(
            f'CREATE TRIGGER {trig("update3")} AFTER UPDATE ON {t} WHEN OLD.fid != NEW.fid AND '
            f'(NEW."geom" NOTNULL AND NOT ST_IsEmpty(NEW."geom")) BEGIN DELETE FROM {rt} WHERE id = OLD.fid; '
            f"INSERT OR REPLACE INTO {rt} VALUES (NEW.fid, {env}); END"
        )
        cur.execute(
            f'CREATE TRIGGER {trig("update4")} AFTER UPDATE ON {t} WHEN OLD.fid != NEW.fid AND '
            f'(NEW."geom" ISNULL OR ST_IsEmpty(NEW."geom")) BEGIN DELETE FROM {rt} WHERE id IN (OLD.fid, NEW.fid); END'
        )
        cur.execute(f'CREATE TRIGGER {trig("delete")} AFTER DELETE ON {t} WHEN OLD."geom" NOT NULL BEGIN DELETE FROM {rt} WHERE id = OLD.fid; END')
        _create_seek_index(cur, name)
        self._track_revisions(cur, name)

    def _track_untracked_layers(self) -> None:
        """Also give layers of older stores their fid seek index (best effort, like the triggers)."""
        super()._track_untracked_layers()
        try:
            names = [r[0] for r in self._fetchall(
                f"SELECT l.name FROM {LAYERS} l WHERE EXISTS (SELECT 1 FROM sqlite_master m WHERE m.type = 'table' AND m.name = l.name) "
                "AND NOT EXISTS (SELECT 1 FROM sqlite_master i WHERE i.type = 'index' AND i.name = l.name || '_fid_seek')"
            )]
            for name in names:
                with self._writing(f"图层 {name}") as cur:
                    _create_seek_index(cur, name)
        except (StoreBusy, *self.db_errors) as exc:
            log.warning("分页索引未能创建（深页将按 OFFSET 逐行跳过）：%s", exc)

    # --- revisions ------------------------------------------------------------------------
    def _create_revisions(self, cur) -> None:
        # An integer key like every GeoPackage attributes table; `layer` is the lookup key.
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {REVISIONS} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, layer TEXT NOT NULL UNIQUE, "
            "revision INTEGER NOT NULL, token TEXT NOT NULL DEFAULT (lower(hex(randomblob(8)))))"
        )

    def _track_revisions(self, cur, layer: str) -> None:
        self._create_revisions(cur)
        self._register_tables(cur, [REVISIONS])
        literal = "'" + layer.replace("'", "''") + "'"
        body = f"BEGIN UPDATE {REVISIONS} SET revision = revision + 1 WHERE layer = {literal}; END"
        for event, trigger in zip(_REV_EVENTS, _rev_trigger_names(layer)):
            cur.execute(f"CREATE TRIGGER IF NOT EXISTS {quote(trigger)} AFTER {event.upper()} ON {quote(layer)} FOR EACH ROW {body}")
        cur.execute(
            f"INSERT INTO {REVISIONS} (layer, revision) VALUES (?, 1) ON CONFLICT (layer) DO UPDATE SET revision = revision + 1",
            (layer,),
        )
        self._rev_checked.pop(layer, None)

    def _untracked_layers(self, cur) -> list[str]:
        cur.execute(
            f"SELECT l.name FROM {LAYERS} l WHERE EXISTS (SELECT 1 FROM sqlite_master m WHERE m.type = 'table' AND m.name = l.name) "
            "AND ((SELECT count(*) FROM sqlite_master t WHERE t.type = 'trigger' AND t.tbl_name = l.name "
            "AND t.name IN ('landgis_rev_' || l.name || '_insert', 'landgis_rev_' || l.name || '_update', 'landgis_rev_' || l.name || '_delete')) < 3 "
            f"OR NOT EXISTS (SELECT 1 FROM {REVISIONS} r WHERE r.layer = l.name)) ORDER BY l.name"
        )
        return [r[0] for r in cur.fetchall()]

    def _revision(self, layer: str) -> str | None:
        """`token.counter.schema_version`: the schema cookie folds column changes in and tells
        when the (slow, unindexed) sqlite_master check for the triggers must be redone."""
        try:
            rows = self._fetchall(
                f"SELECT r.token, r.revision, s.schema_version FROM {REVISIONS} r, pragma_schema_version() s WHERE r.layer = ?",
                (layer,),
            )
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):  # a file made before revisions existed, opened with init=False
                return None
            raise
        if not rows:
            return None
        token, counter, schema = rows[0]
        seen = self._rev_checked.get(layer)
        if seen is None or seen[0] != schema:
            names = _rev_trigger_names(layer)
            n = self._fetchall(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? AND name IN (?, ?, ?)", (layer, *names)
            )[0][0]
            seen = (schema, n == len(names))
            self._rev_checked[layer] = seen
        return f"{token}.{counter}.{schema}" if seen[1] else None

    def _add_column(self, cur, layer: str, column: str, kind: str) -> None:
        sql_type = {"INTEGER": "INTEGER", "REAL": "REAL", "BOOLEAN": "BOOLEAN", "TEXT": "TEXT"}[kind]
        cur.execute(f"ALTER TABLE {quote(layer)} ADD COLUMN {quote(column)} {sql_type}")

    def _table_columns(self, cur, layer: str) -> dict[str, str]:
        cur.execute(f"PRAGMA table_info({quote(layer)})")
        out: dict[str, str] = {}
        for _, name, decl, *_ in cur.fetchall():
            if name in ("fid", "geom"):
                continue
            d = (decl or "").upper()
            if d.startswith(("INT", "MEDIUMINT", "SMALLINT", "TINYINT")):
                out[name] = "INTEGER"
            elif d.startswith(("REAL", "DOUBLE", "FLOAT")):
                out[name] = "REAL"
            elif d.startswith("BOOL"):
                out[name] = "BOOLEAN"
            else:
                out[name] = "TEXT"
        return out

    def _geom_param(self) -> str:
        return "?"

    # --- bulk imports -----------------------------------------------------------------------
    # Why: the GeoPackage R-tree trigger calls ST_IsEmpty/ST_MinX/…/ST_MaxY — Python functions
    # here — five times per row, SQLite then inserts each envelope one by one (≈2 s per 10^5),
    # and the revision trigger updates its counter per row; for 10^6 parcels that was most of an
    # import. A large import drops the layer's two insert triggers, inserts rows with their fids
    # given, collects the envelopes on whole arrays, bulk loads the R-tree packed at the end
    # (`rtree_pack.bulk_load`) and re-creates the triggers from their own stored DDL, all before
    # the transaction commits (SQLite DDL is transactional: a failed import restores them with
    # everything else, and no other connection ever sees the layer without them). GDAL's
    # GeoPackage driver defers its R-tree the same way.

    def _bulk_begin(self, cur, name: str, *, large: bool, fresh: bool):
        if not large:
            return None
        triggers = self._drop_triggers(cur, name, (f"rtree_{name}_geom_insert", f"landgis_rev_{name}_insert"))
        cur.execute(f"SELECT max(coalesce((SELECT max(fid) FROM {quote(name)}), 0), coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0))", (name,))
        return {"triggers": triggers, "next_fid": int(cur.fetchone()[0]) + 1, "fids": [], "bounds": []}

    def _bulk_rows(self, cur, state, name: str, cols: list[str], columns: list[list], geoms: np.ndarray, history: tuple) -> None:
        if state is None:
            return super()._bulk_rows(cur, state, name, cols, columns, geoms, history)
        n = len(geoms)
        fids = np.arange(state["next_fid"], state["next_fid"] + n, dtype=np.int64)
        state["next_fid"] += n
        names = ", ".join(["fid"] + [quote(c) for c in cols] + ["geom"])
        marks = ", ".join("?" for _ in range(len(cols) + 2))
        blobs, bounds = encode_with_bounds(geoms)
        cur.executemany(f"INSERT INTO {quote(name)} ({names}) VALUES ({marks})", zip(fids.tolist(), *columns, blobs))
        present = ~np.isnan(bounds[:, 0])
        state["fids"].append(fids[present])
        # kept until the R-tree is packed at the end: as the float32 boxes it stores (rounded
        # outwards, minx, maxx, miny, maxy), 16 bytes a row instead of 32
        b = bounds[present]
        state["bounds"].append(np.column_stack([float32_down(b[:, 0]), float32_up(b[:, 2]), float32_down(b[:, 1]), float32_up(b[:, 3])]))
        self._insert_import_history(cur, name, *history, int(fids[0]) if n else None)

    def _insert_import_history(self, cur, name: str, ids: list[str], user: str, at: str, reason: str | None, first_fid: int | None = None) -> None:
        """With `first_fid` (the bulk path, which gave the batch's rows the fids first_fid, …, in
        the order of `ids`): made by SQLite from the rows just written, one statement, no row
        bound from Python — an executemany of 10^6 history rows was ≈3 s of a cadastre import."""
        if first_fid is None or not ids:
            return super()._insert_import_history(cur, name, ids, user, at, reason)
        cur.execute(
            f"INSERT INTO {HISTORY} (layer, feature_id, action, user_name, at, reason) "
            f"SELECT ?, id, 'insert', ?, ?, ? FROM {quote(name)} WHERE fid BETWEEN ? AND ? ORDER BY fid",
            (name, user, at, reason, first_fid, first_fid + len(ids) - 1),
        )

    def _bulk_end(self, cur, state, name: str) -> None:
        if state is None:
            return
        rtree = f"rtree_{name}_geom"
        fids = np.concatenate(state["fids"]) if state["fids"] else np.empty(0, dtype=np.int64)
        bounds = np.concatenate(state["bounds"]) if state["bounds"] else np.empty((0, 4), dtype=np.float32)  # minx, maxx, miny, maxy
        state["fids"], state["bounds"] = [], []
        cur.execute(f"SELECT count(*) FROM {quote(rtree + '_rowid')}")
        held_count = int(cur.fetchone()[0])
        if len(fids) * 4 < held_count:
            # a few rows appended to a big layer: inserting them costs less than repacking all
            cur.executemany(f"INSERT OR REPLACE INTO {quote(rtree)} VALUES (?, ?, ?, ?, ?)",
                            zip(fids.tolist(), *(bounds[:, k].astype(np.float64).tolist() for k in range(4))))
        else:
            cur.execute(f"SELECT id, minx, maxx, miny, maxy FROM {quote(rtree)}")
            held = np.array(cur.fetchall(), dtype=np.float64).reshape(-1, 5)  # float32 values already
            bulk_load(
                cur, rtree,
                np.concatenate([held[:, 0].astype(np.int64), fids]),
                *(np.concatenate([held[:, 1 + k].astype(np.float32), bounds[:, k]]) for k in range(4)),
            )
        self._restore_triggers(cur, name, state["triggers"])

    def _delete_all(self, cur, name: str) -> None:
        """A replace: without the per-row R-tree and revision delete triggers (one R-tree
        deletion per row), then an empty R-tree, the triggers back, the revision bumped."""
        triggers = self._drop_triggers(cur, name, (f"rtree_{name}_geom_delete", f"landgis_rev_{name}_delete"))
        cur.execute(f"DELETE FROM {quote(name)}")
        bulk_load(cur, f"rtree_{name}_geom", np.empty(0, dtype=np.int64), *([np.empty(0)] * 4))
        self._restore_triggers(cur, name, triggers)

    @staticmethod
    def _drop_triggers(cur, name: str, names: tuple[str, ...]) -> list[tuple[str, str]]:
        marks = ", ".join("?" for _ in names)
        cur.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? AND name IN ({marks})", (name, *names))
        triggers = cur.fetchall()
        for trigger, _ in triggers:
            cur.execute(f"DROP TRIGGER {quote(trigger)}")
        return triggers

    @staticmethod
    def _restore_triggers(cur, name: str, triggers: list[tuple[str, str]]) -> None:
        """Re-create dropped triggers from their stored DDL; a dropped revision trigger's bump
        is made once here."""
        for _, sql in triggers:
            cur.execute(sql)
        if any(t.startswith("landgis_rev_") for t, _ in triggers):
            cur.execute(f"UPDATE {REVISIONS} SET revision = revision + 1 WHERE layer = ?", (name,))

    def _geom_to_db(self, geoms: np.ndarray) -> list:
        return encode(geoms)

    def _geom_select(self) -> str:
        return "geom"

    def _geom_from_db(self, values: list) -> np.ndarray:
        return decode(values)

    def _bbox_clause(self, layer: str, bbox) -> tuple[str, list]:
        c = self.dialect.rtree_match(layer, bbox)
        return c.sql, c.params

    # --- the items query and tiles (gis/store/items.py, gis/tiles.py) ------------------------
    def _features_select(self, layer: str, columns: list[str], crs: AxisCrs) -> str:
        select = ", ".join(["id"] + [quote(c) for c in columns] + ["geom", "fid"])  # fid last: the page's keyset cursor
        return f"SELECT {select} FROM {quote(layer)} t"

    def _features_out(self, rows: list[tuple], columns: list[str], kinds: dict[str, str], crs: AxisCrs) -> list[str]:
        return _gpkg_features(rows, columns, kinds, crs)

    def _extent(self, layer: str) -> tuple[float, float, float, float] | None:
        rows = self._read(f"SELECT min(minx), min(miny), max(maxx), max(maxy) FROM {quote('rtree_' + layer + '_geom')}", [])
        return tuple(float(v) for v in rows[0]) if rows and rows[0][0] is not None else None

    def tile(self, layer: str, z: int, x: int, y: int, columns: list[str], kinds: dict[str, str] | None = None) -> bytes:
        """The tile's features through the R-tree, projected, clipped, quantised and encoded on
        whole arrays by gis/mvt.py (via `gis.tiles.encode_tile`) — in a tile worker process when
        one is free (gis/tile_workers.py: every core works), else in this thread."""
        from gis.tile_workers import POOL
        from gis.tiles import MAX_FEATURES, search_box

        kinds = kinds or self.columns(layer)
        box = self.dialect.bbox_candidates(layer, search_box(z, x, y))
        select = ", ".join([quote(c) for c in columns] + ["geom"])
        sql = f"SELECT {select} FROM {quote(layer)} WHERE {box.sql} ORDER BY fid LIMIT {MAX_FEATURES}"
        if self.path.is_file():
            data = POOL.render(str(self.path), sql, box.params, layer, columns, dict(kinds), z, x, y)
            if data is not None:
                return data
        return render_tile_rows(self._read(sql, box.params), layer, columns, kinds, z, x, y)

    def _after_layer_write(self, cur, layer: str) -> None:
        rt = quote(f"rtree_{layer}_geom")
        cur.execute(f"SELECT min(minx), min(miny), max(maxx), max(maxy) FROM {rt}")
        ext = cur.fetchone()
        cur.execute(
            "UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ?, "
            "last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name = ?",
            (*ext, layer),
        )
