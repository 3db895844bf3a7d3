"""The store interface, and the SQL that GeoPackage and PostGIS share.

Both stores keep one table per layer (`fid` integer key, `id` stable text key, `geom`, then the
attribute columns as they came), one `landgis_history` table that records every change as
who/when/old/new JSON, and a few bookkeeping tables (layers, runs, records, revisions).
Everything a write does happens in one transaction, history included, so a failed or killed
import leaves the store exactly as it was. The dialects differ only in how they spell a
geometry, a parameter and a spatial filter; those are the hooks below.

Revisions: every layer table carries a trigger (SQLite: row triggers in plain SQL, so GDAL and
QGIS run them too; PostGIS: a statement trigger) that bumps the layer's counter in
`landgis_revisions` inside the writing transaction. `Store.revision(layer)` is therefore a
cheap, cross-process token that changes with every committed change of the layer's rows, by
landgis or by any other writer, and never for a rolled-back one: caches key on it instead of
expiring on a timer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
import os
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.crs import STORE_EPSG, STORE_XY, AxisCrs
from gis.store.cache import StoreCaches
from gis.store.dialect import Dialect, quote
from gis.store.id_registry import IdRegistry
from gis.store.items import (
    COUNT_CAP,
    EXTENT_TTL_S,
    FilterError,
    ItemsPage,
    ItemsQuery,
    check_properties,
    check_sortby,
    visible_columns,
)
from gis.errors import (
    ImportReport,
    InputError,
    NotFoundError,
    RowError,
    StoreBusy,
    WriteConflict,
    nul_errors_in_frame,
    nul_errors_in_values,
    refuse_nul,
)

HISTORY = "landgis_history"
LAYERS = "landgis_layers"
RUNS = "landgis_runs"
RECORDS = "landgis_records"
REVISIONS = "landgis_revisions"
RESERVED_COLUMNS = ("fid", "geom")
SEEK_OFFSET = 1000
"""From this offset on, an unfiltered page in fid order seeks its first fid (`_items_seek`)."""
SEEK_STEP = 1000
"""Distance between the kept fid marks of a layer (`_fid_marks`)."""
MAX_IDENT_BYTES = 63
DEFAULT_LOCK_TIMEOUT_S = 5.0
"""How long a write waits for a lock held by someone else before answering "busy, retry"."""
DEFAULT_EDIT_STATEMENT_TIMEOUT_S = 30.0
"""PostgreSQL statement_timeout of single-feature edits (imports are long by nature: no limit)."""


def _env_seconds(name: str, default: float) -> float:
    """A positive number of seconds from the environment (LANDGIS_LOCK_TIMEOUT_S …), else `default`."""
    raw = os.environ.get(name)
    try:
        value = float(raw) if raw else default
    except ValueError:
        log.warning("环境变量 %s=%r 不是秒数，按 %s 秒处理。", name, raw, default)
        return default
    return value if value > 0 else default

log = logging.getLogger("landgis.store")


def _env_float(name: str, default: float) -> float:
    """A number from the environment (LANDGIS_TILE_CACHE_MB …), else `default`."""
    try:
        return float(os.environ.get(name) or default)
    except ValueError:
        log.warning("环境变量 %s=%r 不是数字，按 %s 处理。", name, os.environ.get(name), default)
        return default


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def check_layer_name(name: str) -> str:
    import re

    if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", name or "") or name.startswith("landgis_") or name.startswith(("gpkg_", "rtree_")):
        raise InputError(
            f"图层名“{name}”不合法。",
            hint="图层名只能由小写英文字母、数字和下划线组成，以字母开头，如 industrial_parcels。",
        )
    return name


def check_column_name(name: str, row_hint: str = "") -> str:
    text = str(name).strip()
    if not text or any(ord(ch) < 32 for ch in text):
        raise InputError(f"字段名“{name}”为空或含控制字符{row_hint}。", hint="请在源文件中为该列起一个名字。")
    if text.lower().startswith("landgis_"):
        raise InputError(f"字段名“{text}”以 landgis_ 开头{row_hint}，这一前缀留给系统自用的字段。", hint="请给该列换一个名字（如去掉 landgis_ 前缀）。")
    if len(text.encode("utf-8")) > MAX_IDENT_BYTES:
        raise InputError(f"字段名“{text}”过长（超过 {MAX_IDENT_BYTES} 字节）。", hint="请缩短字段名（中文字段名不超过 21 个字）。")
    return text


def _json_value(v):
    if v is None:
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (dt.date, dt.datetime, pd.Timestamp)):
        return v.isoformat()
    return v


def feature_json(props: dict, geom) -> str:
    """A feature's state for history: its properties and its geometry as WKT (8 decimals)."""
    return feature_json_text(props, None if geom is None else shapely.to_wkt(geom, rounding_precision=8))


def feature_json_text(props: dict, wkt: str | None) -> str:
    """`feature_json` with the WKT already made (many features: `shapely.to_wkt` on an array)."""
    body = {k: _json_value(v) for k, v in props.items()}
    if wkt is not None:
        body["geometry"] = wkt
    return json.dumps(body, ensure_ascii=False, sort_keys=True)


def column_kind(series: pd.Series) -> str:
    """'INTEGER' | 'REAL' | 'BOOLEAN' | 'TEXT' — the portable type a column is stored as."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(dtype):
        return "INTEGER"
    if pd.api.types.is_float_dtype(dtype):
        return "REAL"
    if dtype == object:
        vals = series.dropna()
        if len(vals) and all(isinstance(v, (bool, np.bool_)) for v in vals):
            return "BOOLEAN"
        if len(vals) and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in vals):
            return "INTEGER"
        if len(vals) and all(isinstance(v, (float, int, np.floating, np.integer)) and not isinstance(v, bool) for v in vals):
            return "REAL"
    return "TEXT"


def _from_db(v, kind: str):
    if v is None:
        return None
    if kind == "BOOLEAN":
        return bool(v)
    return v


def to_db_value(v, kind: str):
    v = _json_value(v)
    if v is None:
        return None
    if kind == "BOOLEAN":
        return bool(v)
    if kind == "INTEGER":
        return int(v)
    if kind == "REAL":
        return float(v)
    return str(v)


def _shift_rows(errors: list[RowError], offset: int) -> list[RowError]:
    """Row numbers of a batch's errors counted from the import's first row."""
    for e in errors:
        if e.row is not None:
            e.row += offset
    return errors


BULK_ROWS = 2000
"""From this many rows in its first batch an import takes the stores' bulk path."""
RECORD_CHUNK = 50_000
"""Rows per read when a replace import records the rows it removes."""


def db_values(series: pd.Series, kind: str) -> list:
    """`to_db_value` over a whole column: the common clean dtypes on whole arrays (an import of
    10^6 rows made 10^7 Python calls through `to_db_value`), anything else value by value."""
    dtype = series.dtype
    if kind == "REAL" and (pd.api.types.is_float_dtype(dtype) or (pd.api.types.is_integer_dtype(dtype) and dtype.kind in "iu")):
        a = series.to_numpy(dtype=float, na_value=np.nan)
        out = a.astype(object)
        out[~np.isfinite(a)] = None
        return out.tolist()
    plain = isinstance(dtype, np.dtype)  # numpy dtypes hold no NA; pandas' nullable Int64/boolean go value by value
    if kind == "INTEGER" and plain and dtype.kind in "iu":
        return series.to_numpy().tolist()
    if kind == "BOOLEAN" and plain and dtype.kind == "b":
        return series.to_numpy().tolist()
    values = series.tolist()
    if kind == "TEXT" and all(type(v) is str for v in values):
        return values
    return [to_db_value(v, kind) for v in values]


class Store(ABC):
    """A place where layers, their history and analysis runs live."""

    url: str
    kind: str
    """"geopackage" | "postgis": for reports (/health) only — code asks the store, not its kind."""
    dialect: Dialect
    """How this store spells the items query's SQL (gis/store/dialect.py)."""
    blocking_io: bool = False
    """True when a read mostly waits on a database server (PostGIS): callers on an event loop run
    every call in a thread. False (GeoPackage): a small read is CPU under the GIL, cheaper inline."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._column_cache: dict[str, tuple[float, dict[str, str]]] = {}
        self.lock_timeout_s = _env_seconds("LANDGIS_LOCK_TIMEOUT_S", DEFAULT_LOCK_TIMEOUT_S)
        """Longest wait of any write for a lock another session holds (SQLite busy timeout,
        PostgreSQL lock_timeout); past it the write raises StoreBusy and changes nothing."""
        self.edit_statement_timeout_s = _env_seconds("LANDGIS_EDIT_STATEMENT_TIMEOUT_S", DEFAULT_EDIT_STATEMENT_TIMEOUT_S)
        """PostgreSQL statement_timeout of single-feature edits (never below lock_timeout_s + 1)."""
        self.caches = StoreCaches({"tiles": int(_env_float("LANDGIS_TILE_CACHE_MB", 128.0) * 1024 * 1024)})
        """What is derived from this store's layers (counts, extents, tiles, map pages), each
        named cache keyed by layer revision (gis/store/cache.py): dies with the store."""

    def cached(self, cache: str, layers: str | tuple[str, ...], key, compute):
        """`compute()` once per data revision of `layers` (a name or several); never stale.

        When the store cannot vouch for a layer's revision (an untracked table) nothing is kept."""
        names = (layers,) if isinstance(layers, str) else tuple(layers)
        revisions = tuple(self.revision(n) if self.layer_exists(n) else "absent" for n in names)
        revision = None if any(r is None for r in revisions) else revisions
        return self.caches(cache).get_or_compute(revision, (names, key), compute)

    # --- dialect hooks --------------------------------------------------------------------
    ph = "?"

    @abstractmethod
    def _new_connection(self): ...

    @abstractmethod
    @contextmanager
    def _transaction(self) -> Iterator[object]: ...

    @abstractmethod
    def _create_layer_table(self, cur, name: str, geometry_type: str, title: str) -> None: ...

    @abstractmethod
    def _add_column(self, cur, layer: str, column: str, kind: str) -> None: ...

    @abstractmethod
    def _table_columns(self, cur, layer: str) -> dict[str, str]: ...

    @abstractmethod
    def _geom_param(self) -> str:
        """SQL expression for one geometry parameter."""

    @abstractmethod
    def _geom_to_db(self, geoms: np.ndarray) -> list: ...

    @abstractmethod
    def _geom_select(self) -> str:
        """SQL expression selecting the geometry as something `_geom_from_db` reads."""

    @abstractmethod
    def _geom_from_db(self, values: list) -> np.ndarray: ...

    @abstractmethod
    def _bbox_clause(self, layer: str, bbox: tuple[float, float, float, float]) -> tuple[str, list]: ...

    @abstractmethod
    def _bootstrap(self, cur) -> None:
        """Create the dialect's metadata tables (gpkg_* / extensions)."""

    @abstractmethod
    def _after_layer_write(self, cur, layer: str) -> None:
        """Refresh extents/statistics after rows changed."""

    db_errors: tuple[type[BaseException], ...] = ()
    """The driver's error classes: a best-effort repair catches these and nothing else."""

    @abstractmethod
    def _is_busy(self, exc: BaseException) -> bool:
        """True when `exc` means "a lock was not granted in time" (or a deadlock was broken):
        the write did nothing and may simply be retried."""

    def _bound_waits(self, cur, *, quick: bool) -> None:
        """Bound this write transaction's lock waits (PostgreSQL: SET LOCAL …); SQLite bounds
        them with the connection's busy timeout before BEGIN, so its hook does nothing."""

    def _lock_layer(self, cur, layer: str, *, exclusive: bool) -> None:
        """Take the layer's table lock before any row lock (PostgreSQL), so edits that check the
        whole layer serialise with every other writer of it. SQLite: BEGIN IMMEDIATE already
        holds the one write lock of the file, so nothing to do."""

    @abstractmethod
    def _create_revisions(self, cur) -> None:
        """Create the revisions table (and, for PostGIS, the trigger functions) if missing."""

    @abstractmethod
    def _track_revisions(self, cur, layer: str) -> None:
        """Give `layer` its revision trigger(s) if missing and bump its revision once.

        Called by `_create_layer_table` (so every new layer is tracked from its first row) and by
        `init` for layers that lack the trigger. Idempotent.
        """

    @abstractmethod
    def _untracked_layers(self, cur) -> list[str]:
        """Layers whose table exists but has no revision trigger or no revision row: made by an
        older landgis, or re-created by an outside tool (which drops the table's triggers)."""

    @abstractmethod
    def _revision(self, layer: str) -> str | None: ...

    # --- connections ----------------------------------------------------------------------
    def connection(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._new_connection()
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _q(self, sql: str) -> str:
        """The dialect's spelling of `?` placeholders (PostGIS overrides this)."""
        return sql

    @contextmanager
    def _writing(self, subject: str = "数据库", *, quick: bool = False) -> Iterator[object]:
        """One write transaction whose lock waits are bounded; a wait that runs out becomes
        StoreBusy (503, retry) instead of a frozen request or a driver error (500).

        `quick`: a single-feature edit — PostgreSQL also bounds each statement's run time.
        """
        try:
            with self._transaction() as cur:
                self._bound_waits(cur, quick=quick)
                yield cur
        except self.db_errors as exc:
            if not self._is_busy(exc):
                raise
            wait = self.lock_timeout_s
            raise StoreBusy(
                f"{subject}正被其他用户或程序编辑（等待 {wait:g} 秒仍未释放），本次操作未执行，请稍后重试。",
                hint="稍候片刻再提交即可；如持续出现，请确认没有 QGIS、psql 或导入任务长时间占用该图层。",
                retry_after=math.ceil(wait),
            ) from exc

    def _fetchall(self, sql: str, params: list | tuple = ()) -> list[tuple]:
        cur = self.connection().cursor()
        try:
            cur.execute(self._q(sql), params)
            return cur.fetchall()
        finally:
            cur.close()
            self._end_read()

    def _end_read(self) -> None:
        """Close the implicit read transaction (PostgreSQL) so readers never hold snapshots."""

    def _read(self, sql: str, params: list | tuple = ()) -> list[tuple]:
        """Rows of SQL already in the dialect's spelling (the items query, tiles): run as is."""
        cur = self.connection().cursor()
        try:
            cur.execute(sql, params)
            return cur.fetchall()
        finally:
            cur.close()
            self._end_read()

    # --- set-up ---------------------------------------------------------------------------
    def init(self) -> None:
        with self._writing() as cur:
            self._bootstrap(cur)
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {LAYERS} (name TEXT PRIMARY KEY, title TEXT, geometry_type TEXT, created_at TEXT)"
            )
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {RUNS} (run_id TEXT PRIMARY KEY, kind TEXT NOT NULL, created_at TEXT NOT NULL, "
                "user_name TEXT, input_hash TEXT, policy TEXT, meta TEXT, results TEXT)"
            )
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {RECORDS} (kind TEXT NOT NULL, rkey TEXT NOT NULL, value TEXT, user_name TEXT, "
                "updated_at TEXT, PRIMARY KEY (kind, rkey))"
            )
            self._create_history(cur)
            self._create_revisions(cur)
            self._register_tables(cur, [LAYERS, RUNS, RECORDS, HISTORY, REVISIONS])
        self._track_untracked_layers()

    def _track_untracked_layers(self) -> None:
        """Install missing revision triggers (a store made by an older landgis).

        Best effort and one layer per transaction: a layer that cannot be fixed (no privilege on
        a PostGIS table owned by someone else, say) keeps `revision()` None — callers then do
        not cache it — and opening the store never fails because of it.
        """
        try:
            cur = self.connection().cursor()
            try:
                names = self._untracked_layers(cur)
            finally:
                cur.close()
                self._end_read()
        except self.db_errors as exc:
            log.warning("无法检查图层的数据版本触发器：%s", exc)
            return
        for name in names:
            try:
                with self._writing(f"图层 {name}") as cur:
                    self._track_revisions(cur, name)
            except (StoreBusy, *self.db_errors) as exc:
                log.warning("图层 %s 的数据版本触发器未能创建（该图层的缓存将不按版本失效）：%s", name, exc)

    def _register_tables(self, cur, names: list[str]) -> None:
        """Declare bookkeeping tables to the container format (GeoPackage lists them as attributes)."""

    @abstractmethod
    def _create_history(self, cur) -> None: ...

    # --- layers ---------------------------------------------------------------------------
    def layer_names(self) -> list[str]:
        return [r[0] for r in self._fetchall(f"SELECT name FROM {LAYERS} ORDER BY name")]

    def layer_exists(self, name: str) -> bool:
        return bool(self._fetchall(f"SELECT 1 FROM {LAYERS} WHERE name = ?", (name,)))

    def layer_meta(self, name: str) -> dict:
        rows = self._fetchall(f"SELECT name, title, geometry_type, created_at FROM {LAYERS} WHERE name = ?", (name,))
        if not rows:
            raise NotFoundError(f"图层 {name} 不存在。")
        n, title, gtype, created = rows[0]
        return {"name": n, "title": title, "geometry_type": gtype, "created_at": created}

    COLUMN_CACHE_S = 2.0
    """Columns are cached briefly: another process (a CLI import) may add some at any time."""

    def columns(self, name: str) -> dict[str, str]:
        import time

        hit = self._column_cache.get(name)
        if hit is None or time.monotonic() - hit[0] > self.COLUMN_CACHE_S:
            cur = self.connection().cursor()
            try:
                hit = (time.monotonic(), self._table_columns(cur, name))
            finally:
                cur.close()
                self._end_read()
            self._column_cache[name] = hit
        return hit[1]

    def revision(self, name: str) -> str | None:
        """An opaque token that changes whenever the layer's rows change; None: not tracked.

        It changes on every committed insert, update or delete of the layer's rows — imports,
        edits, status changes, replace — whoever makes them (another landgis process, QGIS/GDAL
        on the .gpkg, psql on the PostGIS table), and stays the same when a transaction rolls
        back. Column additions change it too. Costs one indexed lookup.

        None means the store cannot vouch for the layer (unknown layer, a store made by an older
        landgis and opened with `init=False`, a trigger dropped by an outside tool): do not
        cache. Read the revision *before* the data it keys, so a concurrent write can only make
        the cached value newer than its key, never older.
        """
        return self._revision(name)

    def count(self, name: str) -> int:
        check_layer_name(name)
        return int(self._fetchall(f"SELECT COUNT(*) FROM {quote(name)}")[0][0])

    def value_counts(self, name: str, columns: list[str]) -> list[tuple]:
        """(value of each column…, number of rows) per distinct combination: one scan, for legends
        and summaries that must not read every geometry."""
        check_layer_name(name)
        known = self.columns(name)
        for c in columns:
            if c not in known:
                raise InputError(f"图层“{name}”没有字段“{c}”。")
        cols = ", ".join(quote(c) for c in columns)
        return [tuple(r) for r in self._fetchall(f"SELECT {cols}, COUNT(*) FROM {quote(name)} GROUP BY {cols}")]

    def read_layer(
        self,
        name: str,
        *,
        bbox: tuple[float, float, float, float] | None = None,
        ids: list[str] | None = None,
        columns: list[str] | None = None,
    ) -> gpd.GeoDataFrame:
        """A whole layer (or a bbox / id subset) as an EPSG:4490 GeoDataFrame, ordered by fid."""
        if not self.layer_exists(name):
            raise NotFoundError(f"图层 {name} 不存在。")
        cols = self.columns(name)
        wanted = [c for c in cols if columns is None or c in columns or c == "id"]
        select = ", ".join([quote(c) for c in wanted] + [self._geom_select()])
        sql = f"SELECT {select} FROM {quote(name)}"
        params: list = []
        clauses = []
        if bbox is not None:
            clause, p = self._bbox_clause(name, bbox)
            clauses.append(clause)
            params += p
        if ids is not None:
            # No stored id holds a NUL (writes refuse it) and PostgreSQL cannot even compare one.
            ids = [i for i in ids if "\x00" not in str(i)]
            if not ids:
                clauses.append("1 = 0")
            else:
                clauses.append(f"id IN ({', '.join('?' for _ in ids)})")
                params += list(ids)
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY fid"
        rows = self._fetchall(sql, params)
        return self._frame(rows, wanted, cols)

    def _frame(self, rows: list[tuple], wanted: list[str], kinds: dict[str, str]) -> gpd.GeoDataFrame:
        data = {c: [r[i] for r in rows] for i, c in enumerate(wanted)}
        frame = pd.DataFrame(data, columns=wanted)
        for c in wanted:
            kind = kinds.get(c, "TEXT")
            if kind == "BOOLEAN":
                frame[c] = pd.array([None if v is None else bool(v) for v in frame[c]], dtype="boolean")
            elif kind == "REAL":
                frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
            elif kind == "INTEGER":
                frame[c] = pd.array(frame[c].tolist(), dtype="Int64")
            else:
                frame[c] = frame[c].astype(object)
        geoms = self._geom_from_db([r[len(wanted)] for r in rows])
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=STORE_EPSG))

    def get_feature(self, name: str, fid: str) -> dict | None:
        gdf = self.read_layer(name, ids=[fid])
        if gdf.empty:
            return None
        row = gdf.iloc[0]
        props = {c: _json_value(row[c]) for c in gdf.columns if c != "geometry"}
        props["geometry"] = row.geometry
        return props

    # --- the items query (OGC API – Features), extents, counts, tiles ----------------------
    # The SQL of a page is assembled here from the dialect's pieces; each store writes its own
    # SELECT list (`_features_select`: PostGIS serialises GeoJSON itself, GeoPackage decodes the
    # page's blobs in `_features_out`), its extent query and its tiles.

    @abstractmethod
    def _features_select(self, layer: str, columns: list[str], crs: AxisCrs) -> str:
        """`SELECT … FROM <layer> t` producing what `_features_out` turns into GeoJSON strings."""

    @abstractmethod
    def _features_out(self, rows: list[tuple], columns: list[str], kinds: dict[str, str], crs: AxisCrs) -> list[str]: ...

    @abstractmethod
    def _extent(self, layer: str) -> tuple[float, float, float, float] | None: ...

    @abstractmethod
    def tile(self, layer: str, z: int, x: int, y: int, columns: list[str], kinds: dict[str, str] | None = None) -> bytes:
        """The Mapbox Vector Tile of tile z/x/y (WebMercatorQuad) with `columns` as attributes;
        b"" when empty. Not cached: `gis.tiles.tile_mvt` keeps tiles in `caches("tiles")`."""

    def _items_columns(self, layer: str, q: ItemsQuery) -> tuple[list[str], dict[str, str]]:
        kinds = visible_columns(self, layer, q.hidden)
        cols = list(kinds) if q.properties is None else check_properties(q.properties, kinds)
        return cols, kinds

    def _items_where(self, layer: str, q: ItemsQuery, kinds: dict[str, str]) -> tuple[str, list]:
        """bbox, then `?field=value`, then the given clauses, then the CQL2 filter, ANDed."""
        from gis.store.cql2 import _balanced, cql2_to_sql

        d = self.dialect
        clauses: list[str] = []
        params: list = []
        if q.bbox is not None:
            c = d.bbox_intersects(layer, q.bbox)
            clauses.append(c.sql)
            params += c.params
        for name, value in q.equals:
            if name not in kinds:
                raise FilterError(f"字段“{name[:60]}”不存在或不可查询。")
            clauses.append(f"{d.ident(name)} = {d.ph}")
            params.append(value)
        for c in q.where:
            clauses.append(c.sql)
            params += c.params
        if q.filter is not None:
            c = cql2_to_sql(self, layer, q.filter, kinds, q.filter_crs)
            clauses.append(c.sql)
            params += c.params
        return (" WHERE " + _balanced("AND", clauses)) if clauses else "", params

    def _items_order(self, q: ItemsQuery, kinds: dict[str, str]) -> str:
        parts = [f"{self.dialect.ident(name)} {'DESC NULLS LAST' if desc else 'ASC NULLS LAST'}" for name, desc in check_sortby(q.sortby, kinds)]
        parts.append("fid")
        return " ORDER BY " + ", ".join(parts)

    def features(self, layer: str, query: ItemsQuery, *, with_count: bool = True) -> ItemsPage:
        """One page of a layer as serialised GeoJSON features, plus numberMatched when cheap:
        one SQL statement per page, no (Geo)DataFrames, every value bound."""
        kinds = visible_columns(self, layer, query.hidden)
        where, params = self._items_where(layer, query, kinds)
        cols = list(kinds) if query.properties is None else check_properties(query.properties, kinds)
        order = self._items_order(query, kinds)
        seek_where, seek_params, offset = self._items_seek(layer, query, where, params)
        ph = self.dialect.ph
        sql = f"{self._features_select(layer, cols, query.crs)}{seek_where}{order} LIMIT {ph} OFFSET {ph}"
        rows = self._read(sql, seek_params + [query.limit, offset])
        features = self._features_out(rows, cols, kinds, query.crs)
        matched = None
        if with_count:
            if query.offset == 0 and query.after is None and len(features) < query.limit:
                matched = len(features)
            elif query.unfiltered:
                matched = self.cached_count(layer)
            else:
                matched = self._count_where(layer, where, params)
        return ItemsPage(features, len(features), matched, last_fid=int(rows[-1][-1]) if rows else None)

    def _items_seek(self, layer: str, q: ItemsQuery, where: str, params: list) -> tuple[str, list, int]:
        """Where a page starts, without walking the rows before it when the order allows.

        A keyset cursor (`q.after`) continues after a fid: `fid > N` is an index seek. A plain
        deep offset of an unfiltered layer in fid order first finds the page's first fid through
        the primary key alone (`SELECT fid … LIMIT 1 OFFSET n` reads no row data: on GeoPackage
        the skipped rows' columns and blobs are never decoded), then reads just the page. Any
        other query (sortby, filters) keeps OFFSET: its order or its match set is not the key's.
        Returns (where, params, the OFFSET still to apply)."""
        ph = self.dialect.ph
        if q.after is not None:
            if not q.keyset:
                raise FilterError("cursor 只能用于未指定 sortby 的分页。", hint="按 sortby 排序时请使用 offset 分页。")
            clause = f"fid > {ph}"
            return (f"{where} AND {clause}" if where else f" WHERE {clause}"), params + [q.after], 0
        if q.offset >= SEEK_OFFSET and q.keyset and q.unfiltered:
            marks = self._fid_marks(layer)
            if marks is not None:
                k = min(q.offset // SEEK_STEP, len(marks) - 1)
                if k >= 0:
                    return f" WHERE fid >= {ph}", [int(marks[k])], q.offset - k * SEEK_STEP
            return f" WHERE fid >= (SELECT fid FROM {quote(layer)} ORDER BY fid LIMIT 1 OFFSET {ph})", [q.offset], 0
        return where, params, q.offset

    def _fid_marks(self, layer: str):
        """Every SEEK_STEP-th fid of the layer in fid order (mark k is the row at position
        k × SEEK_STEP), kept in `caches("seek")` until the layer's revision changes: a deep
        offset then starts at the mark before it and skips fewer than SEEK_STEP rows. One walk
        of the primary key per revision (≈0.1–0.3 s at 10^6 rows) instead of one per page.
        None for a layer without a revision (nothing can vouch for a kept copy)."""
        import numpy as np

        revision = self.revision(layer)
        if revision is None:
            return None
        sql = (
            f"SELECT fid FROM (SELECT fid, row_number() OVER (ORDER BY fid) AS rn FROM {quote(layer)}) s "
            f"WHERE (rn - 1) - ((rn - 1) / {SEEK_STEP}) * {SEEK_STEP} = 0 ORDER BY fid"  # rn - 1 ≡ 0 (mod step), integer division in both dialects
        )
        return self.caches("seek").get_or_compute(revision, layer, lambda: np.array([r[0] for r in self._read(sql, [])], dtype=np.int64))

    def feature(self, layer: str, feature_id: str, *, crs: AxisCrs | None = None, hidden: frozenset[str] = frozenset(), properties: list[str] | None = None) -> str | None:
        """One feature as serialised GeoJSON, or None."""
        q = ItemsQuery(limit=1, crs=crs or STORE_XY, hidden=hidden, properties=properties)
        cols, kinds = self._items_columns(layer, q)
        if "\x00" in feature_id:  # no stored id holds NUL (and PostgreSQL text cannot even take it)
            return None
        rows = self._read(f"{self._features_select(layer, cols, q.crs)} WHERE id = {self.dialect.ph}", [feature_id])
        return self._features_out(rows, cols, kinds, q.crs)[0] if rows else None

    def _count_where(self, layer: str, where: str, params: list) -> int | None:
        sql = f"SELECT count(*) FROM (SELECT 1 FROM {quote(layer)}{where} LIMIT {self.dialect.ph}) s"
        n = int(self._read(sql, params + [COUNT_CAP + 1])[0][0])
        return None if n > COUNT_CAP else n

    def count_matched(self, layer: str, query: ItemsQuery) -> int | None:
        """numberMatched of a query: the cached row count when unfiltered, else a count that
        stops at COUNT_CAP (None beyond it)."""
        if query.unfiltered:
            return self.cached_count(layer)
        where, params = self._items_where(layer, query, visible_columns(self, layer, query.hidden))
        return self._count_where(layer, where, params)

    def cached_count(self, layer: str) -> int:
        """Row count of a whole layer, kept in `caches("counts")` until the layer's revision
        changes (gis/store/items.py: single flight; TTL for a layer without a revision)."""
        from gis.store.items import cached_count

        return cached_count(self, layer)

    def extent(self, layer: str, *, ttl: float = EXTENT_TTL_S) -> tuple[float, float, float, float] | None:
        """The lon/lat extent of a layer (GeoPackage: its R-tree; PostGIS: ST_Extent), kept in
        `caches("extents")` until the layer's revision changes (or `ttl` seconds when it has
        none; `ttl` 0: not kept)."""
        revision = self.revision(layer)
        if revision is None and ttl <= 0:
            return self._extent(layer)
        return self.caches("extents").get_or_compute(revision, layer, lambda: (self._extent(layer),), ttl=ttl)[0]

    # --- writes ---------------------------------------------------------------------------
    def import_features(
        self,
        name: str,
        gdf: gpd.GeoDataFrame,
        *,
        mode: str = "append",
        user: str = "system",
        geometry_type: str = "GEOMETRY",
        title: str | None = None,
        reason: str | None = None,
        check=None,
    ) -> ImportReport:
        """All-or-nothing: the rows land with their history, or nothing changes at all.

        `check(view)`: a domain rule against the rows the import lands beside (no two reserve
        parcels may overlap), run inside the transaction with the layer locked against every other
        writer and after a replace has removed the old rows — as for `update_feature`."""
        return self.import_batches(name, [gdf], mode=mode, user=user, geometry_type=geometry_type, title=title, reason=reason, check=check)

    def import_batches(
        self,
        name: str,
        batches: Iterable[gpd.GeoDataFrame],
        *,
        mode: str = "append",
        user: str = "system",
        geometry_type: str = "GEOMETRY",
        title: str | None = None,
        reason: str | None = None,
        check=None,
        progress: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """`import_features` for a source read in batches (a city's cadastre): every batch lands
        in one transaction, so memory holds one batch while the import stays all-or-nothing — a
        bad row in the last batch, or an exception raised by the iterator itself (a batch that
        failed validation), rolls back every batch before it. Row numbers in errors count from
        the first row of the first batch. `check` needs the whole import at once: it is only
        allowed with a single batch. `progress(rows_so_far)` after each batch.

        The write lock is held while the batches are read, validated and written (≈ the time of
        the import; other writers wait up to `lock_timeout_s`, then get StoreBusy)."""
        check_layer_name(name)
        if mode not in ("append", "replace"):
            raise InputError(f"导入模式“{mode}”不合法。", hint="请使用 append（追加）或 replace（替换）。")
        refuse_nul(nul_errors_in_values({"user": user, "reason": reason, "title": title}), what="导入")
        report = ImportReport(layer=name, mode=mode)
        at = now_iso()
        seen = IdRegistry()
        with self._writing(f"图层 {name}") as cur:
            bulk = None
            began = False
            existing_cols: dict[str, str] = {}
            offset = 0
            try:
                for number, gdf in enumerate(batches):
                    if number > 0 and check is not None:
                        raise InputError("内部错误：带检查的导入只能一次读入。")
                    ids, rows_of = self._batch_ids(gdf, offset, seen)
                    refuse_nul(_shift_rows(nul_errors_in_frame(gdf, [c for c in gdf.columns if c != gdf.geometry.name]), offset), what="导入")
                    attrs = [check_column_name(c) for c in gdf.columns if c != gdf.geometry.name]
                    for c in attrs:
                        if c in RESERVED_COLUMNS:
                            raise InputError(f"字段名“{c}”为系统保留字段。", hint=f"请在源文件中将其改名，如 {c}_src。")
                    kinds = {c: column_kind(gdf[c]) for c in attrs}
                    kinds["id"] = "TEXT"
                    if number == 0:
                        exists = bool(self._cur_fetch(cur, f"SELECT 1 FROM {LAYERS} WHERE name = ?", (name,)))
                        if not exists:
                            self._create_layer_table(cur, name, geometry_type, title or name)
                            cur.execute(self._q(f"INSERT INTO {LAYERS} (name, title, geometry_type, created_at) VALUES (?, ?, ?, ?)"), (name, title or name, geometry_type, at))
                        self._column_cache.pop(name, None)
                        if exists and check is not None:
                            self._lock_layer(cur, name, exclusive=True)
                        existing_cols = self._table_columns(cur, name)
                        if mode == "replace":
                            # counted, not fetched: a city's cadastre is 10^6 ids the import never needs
                            held = int(self._cur_fetch(cur, f"SELECT count(*) FROM {quote(name)}")[0][0])
                            if held:
                                self._record_removed(cur, name, user, at, reason or "replace import")
                                self._delete_all(cur, name)
                                report.replaced = held
                    for c in attrs:
                        if c not in existing_cols:
                            self._bulk_wait(bulk)
                            self._add_column(cur, name, c, kinds[c])
                            existing_cols[c] = kinds[c]
                    if mode == "append" and exists:  # this import's earlier batches were checked against `seen`
                        self._bulk_wait(bulk)
                        clash = self._existing_ids(cur, name, [i for i in ids if i])
                        if clash:
                            rows = [RowError(rows_of[c], "id", f"要素编号 {c} 已存在于图层 {name}", c) for c in sorted(clash, key=lambda c: rows_of[c])]
                            raise InputError(
                                "导入被拒绝：部分要素编号已存在，数据库未作任何修改。",
                                rows,
                                hint="如需整体替换请使用 --mode replace；如需修改单个要素请使用编辑功能。",
                            )
                    if check is not None:
                        self._bulk_wait(bulk)
                        check(TxView(self, cur))
                    cols = ["id"] + [c for c in attrs if c != "id"]
                    col_kinds = [existing_cols.get(c, kinds.get(c, "TEXT")) for c in cols]
                    columns = self._batch_columns(gdf, cols, col_kinds, ids)
                    geoms = np.asarray(gdf.geometry.values, dtype=object)
                    if not began:
                        bulk, began = self._bulk_begin(cur, name, large=len(gdf) >= BULK_ROWS, fresh=not exists), True
                    # One history row per feature goes with the batch, its `new` left empty: the
                    # imported state is the row itself until its first later change, whose history
                    # row keeps it as `old` (`history` fills it in on reading). Writing every feature
                    # twice — once as a row, once as JSON with WKT — was most of an import's time.
                    self._bulk_rows(cur, bulk, name, cols, columns, geoms, (ids, user, at, reason))
                    offset += len(gdf)
                    if progress is not None:
                        progress(offset)
                if not began:
                    raise InputError("没有要导入的要素（文件为空）。")
                self._bulk_end(cur, bulk, name)
            except BaseException:
                self._bulk_abort(bulk)  # a batch still being written finishes before the rollback
                raise
            self._after_layer_write(cur, name)
        self._column_cache.pop(name, None)
        report.inserted = offset
        return report

    @staticmethod
    def _batch_ids(gdf: gpd.GeoDataFrame, offset: int, seen: IdRegistry) -> tuple[list[str], dict[str, int]]:
        """The batch's ids as text and {id: row} for this batch; empty or repeated ids (across
        batches too: `seen` holds the earlier ones) are refused, each with its row number
        counted from the import's first row."""
        if "id" not in gdf.columns:
            raise InputError("待导入数据缺少 id 字段。")
        ids = [None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in gdf["id"].tolist()]
        errors = [RowError(offset + i + 1, "id", "要素编号为空") for i, v in enumerate(ids) if not v]
        earlier = seen.earlier([v for v in ids if v])
        here: dict[str, int] = {}
        for i, v in enumerate(ids):
            if not v:
                continue
            first = earlier.get(v) or here.get(v)
            if first:
                errors.append(RowError(offset + i + 1, "id", f"要素编号 {v} 与第{first}行重复", v))
            else:
                here[v] = offset + i + 1
        if errors:
            raise InputError("导入被拒绝：要素编号有误，数据库未作任何修改。", errors, hint="每个要素需要唯一的 id。")
        seen.add(list(here), list(here.values()))
        return ids, here

    def _bulk_begin(self, cur, name: str, *, large: bool, fresh: bool):
        """Prepare the layer for an import's rows (the stores' bulk paths); returns their state.
        `fresh`: the table was created by this transaction (nobody else can see it yet)."""
        return None

    def _bulk_rows(self, cur, state, name: str, cols: list[str], columns: list[list], geoms: np.ndarray, history: tuple) -> None:
        """Insert one batch (column lists already in database types) and its history rows
        (`history` = ids, user, at, reason) in the open transaction."""
        self._bulk_insert(cur, name, cols, columns, geoms)
        self._insert_import_history(cur, name, *history)

    def _batch_columns(self, gdf: gpd.GeoDataFrame, cols: list[str], kinds: list[str], ids: list[str]) -> list:
        """An import batch's columns in the form `_bulk_rows` writes: lists of database values
        (`db_values`); a store may hand over another form holding the same values."""
        return [ids if c == "id" else db_values(gdf[c], k) for c, k in zip(cols, kinds)]

    def _bulk_wait(self, state) -> None:
        """Wait until the batches handed to `_bulk_rows` are written (a store that writes them
        in the background must finish before the import uses the cursor for anything else)."""

    def _bulk_abort(self, state) -> None:
        """The import failed: stop background writing, whatever it raised, before the rollback."""

    def _bulk_end(self, cur, state, name: str) -> None:
        """Finish what `_bulk_begin` prepared, before the transaction commits."""

    def _delete_all(self, cur, name: str) -> None:
        """Remove every row of a layer (a replace import), its history already recorded."""
        cur.execute(f"DELETE FROM {quote(name)}")

    def _bulk_insert(self, cur, name: str, cols: list[str], columns: list[list], geoms: np.ndarray) -> None:
        """Insert an import's rows (column lists already in database types) in the open
        transaction. The stores override it with their bulk paths (GeoPackage: R-tree filled
        from the geometries' bounds; PostGIS: COPY)."""
        self._insert_rows(cur, name, cols, list(zip(*columns, self._geom_to_db(geoms))))

    def _insert_rows(self, cur, name: str, cols: list[str], rows: list[tuple]) -> None:
        names = ", ".join(quote(c) for c in cols) + ", geom"
        params = ", ".join("?" for _ in cols) + ", " + self._geom_param()
        cur.executemany(self._q(f"INSERT INTO {quote(name)} ({names}) VALUES ({params})"), rows)

    def _insert_import_history(self, cur, name: str, ids: list[str], user: str, at: str, reason: str | None, first_fid: int | None = None) -> None:
        """One history row per imported feature, `old` and `new` empty (the row is its own state).
        `first_fid`: the batch's rows hold the fids first_fid, first_fid + 1, … in the order of
        `ids` (a store may then make the rows from the table)."""
        self._insert_history(cur, [(name, i, "insert", user, at, reason, None, None) for i in ids])

    def _insert_history(self, cur, rows: list[tuple]) -> None:
        if rows:
            cur.executemany(
                self._q(f"INSERT INTO {HISTORY} (layer, feature_id, action, user_name, at, reason, old, new) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
                rows,
            )

    def _cur_fetch(self, cur, sql: str, params=()) -> list[tuple]:
        cur.execute(self._q(sql), params)
        return cur.fetchall()

    def _existing_ids(self, cur, name: str, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            rows = self._cur_fetch(cur, f"SELECT id FROM {quote(name)} WHERE id IN ({', '.join('?' for _ in chunk)})", chunk)
            found.update(r[0] for r in rows)
        return found

    def _record_removed(self, cur, name: str, user: str, at: str, reason: str) -> None:
        """History rows of every row of the layer, which a replace import is about to remove: read
        and written RECORD_CHUNK rows at a time in fid order (memory holds one chunk of a city's
        cadastre, not all of it), the geometries' WKT made on whole arrays."""
        cols = list(self._table_columns(cur, name))
        select = ", ".join(["fid"] + [quote(c) for c in cols] + [self._geom_select()])
        last = None
        while True:
            where, params = ("WHERE fid > ? ", [last]) if last is not None else ("", [])
            rows = self._cur_fetch(cur, f"SELECT {select} FROM {quote(name)} {where}ORDER BY fid LIMIT {RECORD_CHUNK}", params)
            if not rows:
                return
            last = rows[-1][0]
            wkts = shapely.to_wkt(self._geom_from_db([r[-1] for r in rows]), rounding_precision=8)
            hist = []
            for r, wkt in zip(rows, wkts.tolist()):
                props = dict(zip(cols, r[1:-1]))
                hist.append((name, props["id"], "replace", user, at, reason, feature_json_text(props, wkt), None))
            self._insert_history(cur, hist)

    def update_feature(
        self,
        name: str,
        fid: str,
        changes: dict,
        *,
        geometry=None,
        user: str,
        reason: str | None = None,
        action: str = "update",
        expect: dict | None = None,
        check=None,
    ) -> dict:
        """Change one feature's attributes and/or geometry, with its history, atomically.

        `expect` holds values the caller read before deciding (e.g. the old status); if the row
        no longer has them, another writer got there first, nothing is written (WriteConflict).

        `check(view)` is a domain rule that depends on *other* rows (no two reserve parcels may
        overlap): it runs inside this transaction, after the layer is locked against every other
        writer, with a `TxView` that reads what the write will commit against. Run outside, two
        concurrent edits could each pass against the old state and both commit (write skew).

        Every lock wait is bounded (`lock_timeout_s`): a row or layer held by another session
        raises StoreBusy and nothing changes.
        """
        check_layer_name(name)
        refuse_nul(
            nul_errors_in_values({"id": fid, "reason": reason, "user": user}) + nul_errors_in_values(changes, feature_id=fid),
            what="修改",
        )
        at = now_iso()
        with self._writing(f"要素 {fid}（图层 {name}）", quick=True) as cur:
            if not self._cur_fetch(cur, f"SELECT 1 FROM {LAYERS} WHERE name = ?", (name,)):
                raise NotFoundError(f"图层 {name} 不存在。")
            # Edits that add a column upgrade to the strongest lock later (ALTER TABLE); taking
            # the exclusive layer lock first serialises them, instead of two such edits each
            # holding a row and waiting for the other (a deadlock, since they now run in parallel).
            adds_columns = any(k not in self._table_columns(cur, name) for k in changes)
            self._lock_layer(cur, name, exclusive=check is not None or adds_columns)
            cols = self._table_columns(cur, name)
            select = ", ".join([quote(c) for c in cols] + [self._geom_select()])
            rows = self._cur_fetch(cur, f"SELECT {select} FROM {quote(name)} WHERE id = ?" + self._lock_suffix(), (fid,))
            if not rows:
                raise NotFoundError(f"图层 {name} 中没有编号为 {fid} 的要素。")
            old_props = {c: _from_db(rows[0][i], cols[c]) for i, c in enumerate(cols)}
            old_geom = self._geom_from_db([rows[0][len(cols)]])[0]
            if expect:
                for k, v in expect.items():
                    if old_props.get(k) != v:
                        raise WriteConflict(
                            f"要素 {fid} 的 {k} 已被他人修改（当前为 {old_props.get(k)}），本次修改未执行。",
                            hint="请刷新后重试。",
                        )
            if check is not None:
                check(TxView(self, cur))
            unknown = [k for k in changes if k not in cols]
            for k in unknown:
                check_column_name(k)
                if k in RESERVED_COLUMNS or k == "id":
                    raise InputError(f"字段 {k} 不可修改。")
                kind = column_kind(pd.Series([changes[k]]))
                self._add_column(cur, name, k, kind)
                cols[k] = kind
            sets = []
            params: list = []
            for k, v in changes.items():
                if k == "id":
                    raise InputError("要素编号 id 不可修改。")
                sets.append(f"{quote(k)} = ?")
                params.append(to_db_value(v, cols[k]))
            new_geom = old_geom
            if geometry is not None:
                sets.append(f"geom = {self._geom_param()}")
                params.append(self._geom_to_db(np.array([geometry], dtype=object))[0])
                for column, value in self._geometry_derived(cur, name, geometry).items():
                    sets.append(f"{column} = ?")
                    params.append(value)
                new_geom = geometry
            if sets:
                cur.execute(self._q(f"UPDATE {quote(name)} SET {', '.join(sets)} WHERE id = ?"), params + [fid])
            new_props = dict(old_props)
            for k, v in changes.items():
                new_props[k] = to_db_value(v, cols[k])
            self._insert_history(cur, [(name, fid, action, user, at, reason, feature_json(old_props, old_geom), feature_json(new_props, new_geom))])
            self._after_layer_write(cur, name)
        self._column_cache.pop(name, None)
        new_props["geometry"] = new_geom
        return new_props

    def _geometry_derived(self, cur, name: str, geometry) -> dict[str, object]:
        """Store-kept columns that follow a feature's geometry (none here; PostGIS: its tile
        zoom), to be written with a new geometry."""
        return {}

    def _lock_suffix(self) -> str:
        return ""

    def update_columns(self, name: str, values: pd.DataFrame, *, user: str, reason: str, action: str = "update") -> int:
        """Set columns of many features at once (`values`: an `id` column and the columns to set),
        adding missing columns, with one history row per changed feature; all or nothing.

        Why beside `update_feature`: a store-wide recomputation (a migration of derived columns
        such as areas) would otherwise be one transaction per feature. The layer is locked
        against every other writer for the whole write; lock waits are bounded as everywhere."""
        check_layer_name(name)
        if "id" not in values.columns:
            raise InputError("批量更新缺少 id 列。")
        targets = [check_column_name(c) for c in values.columns if c != "id"]
        for c in targets:
            if c in RESERVED_COLUMNS:
                raise InputError(f"字段 {c} 不可修改。")
        at = now_iso()
        by_id = {str(r["id"]): r for r in values.to_dict("records")}
        with self._writing(f"图层 {name}") as cur:
            if not self._cur_fetch(cur, f"SELECT 1 FROM {LAYERS} WHERE name = ?", (name,)):
                raise NotFoundError(f"图层 {name} 不存在。")
            self._lock_layer(cur, name, exclusive=True)
            cols = self._table_columns(cur, name)
            for c in targets:
                if c not in cols:
                    kind = column_kind(values[c])
                    self._add_column(cur, name, c, kind)
                    cols[c] = kind
            select = ", ".join([quote(c) for c in cols] + [self._geom_select()])
            rows = self._cur_fetch(cur, f"SELECT {select} FROM {quote(name)}")
            geoms = self._geom_from_db([r[len(cols)] for r in rows])
            params, hist = [], []
            for row, geom in zip(rows, geoms):
                old = {c: _from_db(row[i], cols[c]) for i, c in enumerate(cols)}
                new_values = by_id.get(str(old["id"]))
                if new_values is None:
                    continue
                new = dict(old)
                for c in targets:
                    new[c] = to_db_value(new_values[c], cols[c])
                if all(new[c] == old[c] for c in targets):
                    continue
                params.append([new[c] for c in targets] + [old["id"]])
                hist.append((name, old["id"], action, user, at, reason, feature_json(old, geom), feature_json(new, geom)))
            if params:
                sets = ", ".join(f"{quote(c)} = ?" for c in targets)
                cur.executemany(self._q(f"UPDATE {quote(name)} SET {sets} WHERE id = ?"), params)
                self._insert_history(cur, hist)
                self._after_layer_write(cur, name)
        self._column_cache.pop(name, None)
        return len(params)

    def history(self, name: str | None = None, fid: str | None = None) -> pd.DataFrame:
        columns = ["hid", "layer", "feature_id", "action", "user", "at", "reason", "old", "new"]
        if "\x00" in (name or "") + (fid or ""):
            return pd.DataFrame([], columns=columns)  # nothing stored holds a NUL; PostgreSQL cannot even compare one
        sql = f"SELECT hid, layer, feature_id, action, user_name, at, reason, old, new FROM {HISTORY}"
        clauses, params = [], []
        if name:
            clauses.append("layer = ?")
            params.append(name)
        if fid:
            clauses.append("feature_id = ?")
            params.append(fid)
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY hid"
        rows = self._fetchall(sql, params)
        frame = pd.DataFrame(rows, columns=columns)
        return self._imported_states(frame)

    def _imported_states(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Fill in `new` of import rows, which the import leaves empty (`import_features`): the
        imported state is the `old` of the feature's next recorded change, or, when nothing
        changed it since, the row as it stands. (A change made outside landgis — QGIS, psql —
        records no history in either case; it would show here as part of the imported state.)"""
        todo = (frame["action"] == "insert") & frame["new"].isna() & ~frame["layer"].astype(str).str.startswith(f"{RECORDS}:")
        if not todo.any():
            return frame
        frame = frame.copy()
        nxt_old = frame.groupby(["layer", "feature_id"], sort=False)["old"].shift(-1)
        frame.loc[todo, "new"] = nxt_old[todo]
        current = todo & frame["new"].isna()
        for layer, part in frame[current].groupby("layer"):
            if not self.layer_exists(layer):
                continue
            rows = self.read_layer(layer, ids=[str(v) for v in part["feature_id"]])
            if rows.empty:
                continue
            props = rows.drop(columns=rows.geometry.name)
            by_id = {str(r["id"]): feature_json(r, g) for r, g in zip(props.to_dict("records"), rows.geometry.values)}
            frame.loc[part.index, "new"] = [by_id.get(str(v)) for v in part["feature_id"]]
        return frame

    # --- runs and records -----------------------------------------------------------------
    def save_run(self, kind: str, table: pd.DataFrame, *, user: str, input_hash: str, policy: str, meta: dict | None = None) -> str:
        run_id = f"{kind}-{dt.datetime.now(dt.timezone.utc):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}"
        results = table.to_json(orient="split", force_ascii=False, index=False)
        with self._writing() as cur:
            cur.execute(
                self._q(f"INSERT INTO {RUNS} (run_id, kind, created_at, user_name, input_hash, policy, meta, results) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
                (run_id, kind, now_iso(), user, input_hash, policy, json.dumps(meta or {}, ensure_ascii=False), results),
            )
        return run_id

    def get_run(self, run_id: str) -> tuple[dict, pd.DataFrame]:
        rows = self._fetchall(f"SELECT run_id, kind, created_at, user_name, input_hash, policy, meta, results FROM {RUNS} WHERE run_id = ?", (run_id,))
        if not rows:
            raise NotFoundError(f"没有编号为 {run_id} 的运行记录。")
        r = rows[0]
        meta = {"run_id": r[0], "kind": r[1], "created_at": r[2], "user": r[3], "input_hash": r[4], "policy": r[5], **json.loads(r[6] or "{}")}
        import io as _io

        table = pd.read_json(_io.StringIO(r[7]), orient="split", dtype=False)
        return meta, table

    def list_runs(self, kind: str | None = None) -> pd.DataFrame:
        sql = f"SELECT run_id, kind, created_at, user_name, input_hash, policy FROM {RUNS}"
        params = []
        if kind:
            sql += " WHERE kind = ?"
            params.append(kind)
        sql += " ORDER BY created_at, run_id"
        return pd.DataFrame(self._fetchall(sql, params), columns=["run_id", "kind", "created_at", "user", "input_hash", "policy"])

    def put_record(self, kind: str, key: str, value: dict, *, user: str) -> None:
        """Small keyed documents (class adjustments, API keys) with a history row each time."""
        at = now_iso()
        body = json.dumps(value, ensure_ascii=False, sort_keys=True)
        with self._writing() as cur:
            old = self._cur_fetch(cur, f"SELECT value FROM {RECORDS} WHERE kind = ? AND rkey = ?", (kind, key))
            if old:
                cur.execute(self._q(f"UPDATE {RECORDS} SET value = ?, user_name = ?, updated_at = ? WHERE kind = ? AND rkey = ?"), (body, user, at, kind, key))
            else:
                cur.execute(self._q(f"INSERT INTO {RECORDS} (kind, rkey, value, user_name, updated_at) VALUES (?, ?, ?, ?, ?)"), (kind, key, body, user, at))
            self._insert_history(cur, [(f"{RECORDS}:{kind}", key, "update" if old else "insert", user, at, value.get("reason"), old[0][0] if old else None, body)])

    def get_records(self, kind: str) -> dict[str, dict]:
        rows = self._fetchall(f"SELECT rkey, value FROM {RECORDS} WHERE kind = ? ORDER BY rkey", (kind,))
        return {k: json.loads(v) for k, v in rows}


class TxView:
    """Reads inside a write transaction, for `update_feature(check=…)`.

    A domain check sees exactly the rows the write will commit against (the layer is locked on
    PostgreSQL; SQLite's BEGIN IMMEDIATE holds the file's write lock), so it cannot be fooled by
    an edit committing between the check and the write. The store still owns the SQL.
    """

    def __init__(self, store: Store, cur) -> None:
        self._store = store
        self._cur = cur

    def layer_exists(self, name: str) -> bool:
        return bool(self._store._cur_fetch(self._cur, f"SELECT 1 FROM {LAYERS} WHERE name = ?", (name,)))

    def read_layer(self, name: str, *, columns: list[str] | None = None, bbox: tuple[float, float, float, float] | None = None) -> gpd.GeoDataFrame:
        """Like `Store.read_layer` (ordered by fid, EPSG:4490), inside the transaction."""
        check_layer_name(name)
        store = self._store
        cols = store._table_columns(self._cur, name)
        if not cols:
            raise NotFoundError(f"图层 {name} 不存在。")
        wanted = [c for c in cols if columns is None or c in columns or c == "id"]
        sql = f"SELECT {', '.join([quote(c) for c in wanted] + [store._geom_select()])} FROM {quote(name)}"
        params: list = []
        if bbox is not None:
            clause, params = store._bbox_clause(name, bbox)
            sql += " WHERE " + clause
        rows = store._cur_fetch(self._cur, sql + " ORDER BY fid", params)
        return store._frame(rows, wanted, cols)


def input_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
