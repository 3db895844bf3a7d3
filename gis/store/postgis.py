"""The production store: PostgreSQL + PostGIS through psycopg 3.

Same tables and the same transaction rules as the GeoPackage store; geometry columns are typed
`geometry(<TYPE>, 4490)` with a GiST index, so other city systems (GeoServer, QGIS, tipg) can
read the tables directly. Reads run in autocommit so API readers never hold a snapshot open;
every write is one explicit transaction.

Revisions: each layer table has one statement-level trigger (INSERT/UPDATE/DELETE/TRUNCATE)
that bumps the layer's row in `landgis_revisions` — once per transaction and table. Bumping on
every statement would be ruinous: psycopg's executemany sends one INSERT per row, and updating
one counter row 10^5 times in a transaction makes each update walk a longer version chain (a
100 000-row import went from 8 s to 120 s). A transaction-local setting
(`landgis.rev_<table oid>`, reset at commit/rollback and undone by a rolled-back savepoint)
remembers that the bump is done, so later statements cost one `current_setting` call.
The bump itself runs in a SECURITY DEFINER helper, so an outside role that may edit a layer
(QGIS, psql) needs no rights on `landgis_revisions`; the per-statement part stays an ordinary
function because a function-level `SET search_path` costs ~6 µs on every call.

Locks: every landgis write transaction sets `lock_timeout` (and, for single-feature edits,
`statement_timeout`) with SET LOCAL, so a row held `FOR UPDATE` by QGIS/psql or a layer locked
by a long import makes an edit answer StoreBusy after `lock_timeout_s` instead of waiting for
as long as the other session likes. Edits take the layer's table lock first — ROW EXCLUSIVE,
or SHARE ROW EXCLUSIVE when a check reads the other rows (overlaps): that mode conflicts with
itself and with every other writer's ROW EXCLUSIVE, but not with readers or `FOR UPDATE` row
locks, so checked edits are serialised per layer and the check sees what it commits against.
Taking the table lock before any row lock keeps the two kinds of edit from deadlocking.

Placeholders: the shared SQL is written with `?`; `_q` turns those into psycopg's `%s` only
outside quotes and doubles `%` inside quoted identifiers and literals, so columns named
`绿地率%` or `是否?` are just names.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from contextlib import contextmanager
from functools import lru_cache

import numpy as np
import psycopg
import psycopg.sql
import pyarrow as pa
import shapely

from gis.crs import STORE_EPSG, AxisCrs
from gis.star_rings import safe_zooms
from gis.store import pg_copy
from gis.store.base import HISTORY, LAYERS, REVISIONS, Store, db_values, quote
from gis.store.dialect import Dialect
from gis.store.items import Clause

_QUOTED_OR_PLACEHOLDER = re.compile(r'"[^"]*"|\'[^\']*\'|\?')


def _pg_placeholders(sql: str) -> str:
    """`?` → `%s` outside quotes; `%` → `%%` inside "identifiers" and 'literals'.

    `%` outside quotes is left alone: the dialect's own snippets (`ST_GeomFromWKB(%s, …)`) are
    already in psycopg's style. A doubled quote inside a name ("a""b") splits it into two quoted
    runs, which are escaped the same way, so the result is still right.
    """

    def sub(m: re.Match) -> str:
        text = m.group(0)
        return "%s" if text == "?" else text.replace("%", "%%")

    return _QUOTED_OR_PLACEHOLDER.sub(sub, sql)


_PG_TYPES = {"INTEGER": "bigint", "REAL": "double precision", "BOOLEAN": "boolean", "TEXT": "text"}

REV_TRIGGER = "landgis_revision"
_BUMP_SIGNATURE = "landgis_bump_revision(text,text)"
_BUMP_BODY = """
BEGIN
  EXECUTE format('INSERT INTO %I.landgis_revisions AS r (layer, revision) VALUES ($1, 1) '
                 'ON CONFLICT (layer) DO UPDATE SET revision = r.revision + 1', schema_name) USING layer_name;
END
"""
_TRIGGER_BODY = """
BEGIN
  IF current_setting('landgis.rev_' || TG_RELID, true) IS DISTINCT FROM '1' THEN
    EXECUTE format('SELECT %I.landgis_bump_revision($1, $2)', TG_TABLE_SCHEMA) USING TG_TABLE_SCHEMA, TG_TABLE_NAME;
    PERFORM set_config('landgis.rev_' || TG_RELID, '1', true);
  END IF;
  RETURN NULL;
END
"""
TILE_Z = "landgis_tile_z"
"""landgis's own column on each PostGIS layer: the zoom from which the feature's tile geometry may
skip `ST_AsMVTGeom` (`gis.star_rings.safe_zooms`: a one-ring polygon star-shaped about its vertex
mean with enough margin that rounding to the tile's pixels cannot fold it); NULL = never. Imports
fill it and landgis edits write it with the new shape (`_geometry_derived`); whoever else changes a
geometry without setting it (QGIS, psql) has it reset to NULL by the TILE_Z_TRIGGER, so a stale
value can never vouch for a new shape. Not a property: the store's `columns()` never lists it."""
TILE_Z_TRIGGER = "landgis_tile_z_reset"
_TILE_Z_BODY = """
BEGIN
  IF NEW.landgis_tile_z IS NOT DISTINCT FROM OLD.landgis_tile_z THEN
    NEW.landgis_tile_z := NULL;
  END IF;
  RETURN NEW;
END
"""

_FUNCTIONS = {
    _BUMP_SIGNATURE: (
        "CREATE OR REPLACE FUNCTION landgis_bump_revision(schema_name text, layer_name text) RETURNS void LANGUAGE plpgsql "
        "SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $landgis$" + _BUMP_BODY + "$landgis$",
        _BUMP_BODY,
    ),
    "landgis_revision_trigger()": (
        "CREATE OR REPLACE FUNCTION landgis_revision_trigger() RETURNS trigger LANGUAGE plpgsql AS $landgis$" + _TRIGGER_BODY + "$landgis$",
        _TRIGGER_BODY,
    ),
    "landgis_tile_z_reset()": (
        "CREATE OR REPLACE FUNCTION landgis_tile_z_reset() RETURNS trigger LANGUAGE plpgsql AS $landgis$" + _TILE_Z_BODY + "$landgis$",
        _TILE_Z_BODY,
    ),
}


_ST_PREDICATES = {
    "intersects": "ST_Intersects",
    "disjoint": "ST_Disjoint",
    "within": "ST_Within",
    "contains": "ST_Contains",
    "overlaps": "ST_Overlaps",
    "touches": "ST_Touches",
    "crosses": "ST_Crosses",
    "equals": "ST_Equals",
}


class PostGISDialect(Dialect):
    """psycopg's `%s`; identifiers and literals with `%` doubled (the SQL runs with parameters);
    `&&` on the GiST index, then the ST_* predicates."""

    name = "postgis"
    ph = "%s"

    def ident(self, name: str) -> str:
        return quote(name).replace("%", "%%")

    def text_literal(self, text: str) -> str:
        return super().text_literal(text).replace("%", "%%")

    def like(self, sql: str, pattern: str) -> Clause:
        return Clause(f"{sql} LIKE %s", [pattern])

    def geometry_param(self) -> str:
        return f"ST_GeomFromWKB(%s, {STORE_EPSG})"

    def bbox_candidates(self, layer: str, bbox) -> Clause:
        return Clause(f"geom && ST_MakeEnvelope(%s, %s, %s, %s, {STORE_EPSG})", list(bbox))

    def bbox_intersects(self, layer: str, bbox) -> Clause:
        pre = self.bbox_candidates(layer, bbox)
        return Clause(f"{pre.sql} AND ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, {STORE_EPSG}))", pre.params + list(bbox))

    def spatial(self, layer: str, op: str, wkb: bytes) -> Clause:
        return Clause(f"{_ST_PREDICATES[op]}(geom, {self.geometry_param()})", [wkb])


def _geom_expr(crs: AxisCrs) -> tuple[str, int]:
    g = "geom"
    if crs.transform_needed:
        g = f"ST_Transform(geom, {crs.epsg})"
    if crs.flip:
        g = f"ST_FlipCoordinates({g})"
    return g, (8 if crs.epsg == STORE_EPSG else 3)


@lru_cache(maxsize=256)
def _features_select_sql(layer: str, columns: tuple[str, ...], crs: AxisCrs) -> str:
    """The page SELECT of (layer, columns, CRS), built once: quoting every column name on every
    request cost ≈10 % of an items request's time on PostGIS."""
    return f"SELECT {_feature_sql(list(columns), crs)}, t.fid FROM {quote(layer)} t"  # fid: the page's keyset cursor


def _feature_sql(columns: list[str], crs: AxisCrs) -> str:
    """One serialised GeoJSON Feature per row, written by PostgreSQL itself."""
    d = PostGISStore.dialect
    gexpr, prec = _geom_expr(crs)
    if columns:
        chunks = [columns[i : i + 50] for i in range(0, len(columns), 50)]
        objs = ["jsonb_build_object(" + ", ".join(f"{d.text_literal(c)}, t.{d.ident(c)}" for c in chunk) + ")" for chunk in chunks]
        if len(objs) == 1:
            props = objs[0].replace("jsonb_build_object", "json_build_object", 1) + "::text"
        else:
            props = "(" + " || ".join(objs) + ")::text"
    else:
        props = "'{}'"
    return (
        "'{\"type\":\"Feature\",\"id\":' || to_json(t.id)::text || ',\"geometry\":' || "
        f"COALESCE(ST_AsGeoJSON({gexpr}, {prec}, 0), 'null') || ',\"properties\":' || {props} || '}}'"
    )


class PostGISStore(Store):
    kind = "postgis"
    ph = "%s"
    db_errors = (psycopg.Error,)
    dialect = PostGISDialect()
    blocking_io = True
    """A PostGIS call mostly waits for the database: threads overlap that wait."""

    def __init__(self, url: str):
        super().__init__()
        self.url = url
        self._tile_z: dict[str, bool] = {}
        """Per layer: does its table have the TILE_Z column (learnt with its columns)."""

    def _new_connection(self) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True, application_name="landgis")

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Cursor]:
        conn = self.connection()
        with conn.transaction():
            with conn.cursor() as cur:
                yield cur

    def _q(self, sql: str) -> str:
        """Only for SQL executed *with* parameters (psycopg reads `%` only then)."""
        return _pg_placeholders(sql)

    def _bound_waits(self, cur, *, quick: bool) -> None:
        cur.execute("SELECT set_config('lock_timeout', %s, true)", (f"{int(self.lock_timeout_s * 1000)}ms",))
        if quick:
            cur.execute("SELECT set_config('statement_timeout', %s, true)", (f"{int(max(self.edit_statement_timeout_s, self.lock_timeout_s + 1) * 1000)}ms",))

    def _is_busy(self, exc: BaseException) -> bool:
        # QueryCanceled: statement_timeout of an edit; DeadlockDetected: PostgreSQL broke a cycle
        # by rolling this transaction back. Either way nothing was written and a retry is right.
        return isinstance(exc, (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected, psycopg.errors.QueryCanceled))

    def _lock_layer(self, cur, layer: str, *, exclusive: bool) -> None:
        mode = "SHARE ROW EXCLUSIVE" if exclusive else "ROW EXCLUSIVE"
        started = time.monotonic()
        cur.execute(f"LOCK TABLE {quote(layer)} IN {mode} MODE")
        waited = time.monotonic() - started
        if waited > 0.05:
            # lock_timeout bounds each wait; the row lock that follows gets only what is left,
            # so an edit waits about `lock_timeout_s` in all, not once per lock.
            left = max(self.lock_timeout_s - waited, 0.1)
            cur.execute("SELECT set_config('lock_timeout', %s, true)", (f"{int(left * 1000)}ms",))

    def _bootstrap(self, cur) -> None:
        cur.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")
        if not cur.fetchone():
            cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    def _create_history(self, cur) -> None:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS landgis_history (hid bigserial PRIMARY KEY, layer text NOT NULL, feature_id text NOT NULL, "
            "action text NOT NULL, user_name text, at text NOT NULL, reason text, old text, new text)"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS landgis_history_feature ON landgis_history (layer, feature_id)")

    def _create_layer_table(self, cur, name: str, geometry_type: str, title: str) -> None:
        t = quote(name)
        gtype = geometry_type.upper() if geometry_type.upper() != "GEOMETRY" else "Geometry"
        cur.execute(f"CREATE TABLE {t} (fid bigserial PRIMARY KEY, geom geometry({gtype}, {STORE_EPSG}), id text NOT NULL UNIQUE)")
        cur.execute(f"CREATE INDEX {quote(name + '_geom_gist')} ON {t} USING gist (geom)")
        cur.execute(psycopg.sql.SQL("COMMENT ON TABLE {} IS {}").format(psycopg.sql.Identifier(name), psycopg.sql.Literal(title)))
        self._track_revisions(cur, name)
        self._add_tile_z(cur, name)

    def _add_tile_z(self, cur, name: str) -> None:
        """The TILE_Z column and the trigger that resets it when a geometry changes."""
        t = quote(name)
        cur.execute(f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS {TILE_Z} smallint")
        cur.execute(
            "SELECT 1 FROM pg_catalog.pg_trigger WHERE tgrelid = pg_catalog.to_regclass(pg_catalog.quote_ident(%s)) AND tgname = %s",
            (name, TILE_Z_TRIGGER),
        )
        if cur.fetchone() is None:
            cur.execute(
                f"CREATE TRIGGER {TILE_Z_TRIGGER} BEFORE UPDATE OF geom ON {t} FOR EACH ROW "
                "WHEN (OLD.geom IS DISTINCT FROM NEW.geom) EXECUTE FUNCTION landgis_tile_z_reset()"
            )
        self._tile_z[name] = True

    def init(self) -> None:
        super().init()
        self._upgrade_tile_z()

    def _upgrade_tile_z(self) -> None:
        """Give layers made by an older landgis the TILE_Z column (NULL: their tiles are drawn as
        before until re-imported). Best effort, one layer per transaction, like the revision
        triggers: a table landgis may not alter keeps the old tile path."""
        try:
            names = [r[0] for r in self._fetchall(
                f"SELECT l.name FROM {LAYERS} l WHERE pg_catalog.to_regclass(pg_catalog.quote_ident(l.name)) IS NOT NULL "
                "AND NOT EXISTS (SELECT 1 FROM information_schema.columns c WHERE c.table_schema = current_schema() "
                "AND c.table_name = l.name AND c.column_name = %s) ORDER BY l.name",
                (TILE_Z,),
            )]
        except psycopg.Error:
            return
        for name in names:
            try:
                with self._writing(f"图层 {name}", quick=True) as cur:
                    self._add_tile_z(cur, name)
            except Exception:  # noqa: BLE001 - best effort: the layer keeps the old tile path
                self._tile_z[name] = False

    # --- revisions ------------------------------------------------------------------------
    def _create_revisions(self, cur) -> None:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {REVISIONS} (layer text PRIMARY KEY, revision bigint NOT NULL, "
            "token text NOT NULL DEFAULT substr(md5(random()::text || clock_timestamp()::text), 1, 16))"
        )
        # CREATE OR REPLACE only when missing or different: run on every open it would make
        # concurrent starts fail with "tuple concurrently updated".
        for signature, (ddl, body) in _FUNCTIONS.items():
            cur.execute(
                "SELECT prosrc FROM pg_catalog.pg_proc WHERE oid = pg_catalog.to_regprocedure(pg_catalog.quote_ident(current_schema()) || '.' || %s)",
                (signature,),
            )
            row = cur.fetchone()
            if row is None or row[0] != body:
                cur.execute(ddl)

    def _track_revisions(self, cur, layer: str) -> None:
        self._create_revisions(cur)
        cur.execute(
            "SELECT 1 FROM pg_catalog.pg_trigger WHERE tgrelid = pg_catalog.to_regclass(pg_catalog.quote_ident(%s)) AND tgname = %s",
            (layer, REV_TRIGGER),
        )
        if cur.fetchone() is None:
            cur.execute(
                f"CREATE TRIGGER {REV_TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {quote(layer)} "
                "FOR EACH STATEMENT EXECUTE FUNCTION landgis_revision_trigger()"
            )
        cur.execute(
            f"INSERT INTO {REVISIONS} AS r (layer, revision) VALUES (%s, 1) ON CONFLICT (layer) DO UPDATE SET revision = r.revision + 1",
            (layer,),
        )

    def _untracked_layers(self, cur) -> list[str]:
        cur.execute(
            f"SELECT l.name FROM {LAYERS} l WHERE pg_catalog.to_regclass(pg_catalog.quote_ident(l.name)) IS NOT NULL AND ("
            "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t WHERE t.tgrelid = pg_catalog.to_regclass(pg_catalog.quote_ident(l.name)) "
            f"AND t.tgname = %s) OR NOT EXISTS (SELECT 1 FROM {REVISIONS} r WHERE r.layer = l.name)) ORDER BY l.name",
            (REV_TRIGGER,),
        )
        return [r[0] for r in cur.fetchall()]

    def _revision(self, layer: str) -> str | None:
        """`token.counter.table_oid.column_count`; None when the trigger is missing or disabled.

        The table oid changes when an outside tool drops and re-creates the table (which also
        drops the trigger); the column count folds ALTER TABLE ADD COLUMN in.
        """
        try:
            rows = self._fetchall(
                f"SELECT r.token, r.revision, c.oid, c.relnatts FROM {REVISIONS} r "
                "JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(pg_catalog.quote_ident(r.layer)) "
                "JOIN pg_catalog.pg_trigger t ON t.tgrelid = c.oid AND t.tgname = %s AND t.tgenabled <> 'D' "
                "WHERE r.layer = %s",
                (REV_TRIGGER, layer),
            )
        except psycopg.errors.UndefinedTable:  # a store made before revisions existed, opened with init=False
            return None
        if not rows:
            return None
        token, counter, oid, natts = rows[0]
        return f"{token}.{counter}.{oid}.{natts}"

    def _add_column(self, cur, layer: str, column: str, kind: str) -> None:
        cur.execute(f"ALTER TABLE {quote(layer)} ADD COLUMN {quote(column)} {_PG_TYPES[kind]}")

    def _table_columns(self, cur, layer: str) -> dict[str, str]:
        cur.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
            (layer,),
        )
        out: dict[str, str] = {}
        rows = cur.fetchall()
        self._tile_z[layer] = any(name == TILE_Z for name, _ in rows)
        for name, dtype in rows:
            if name in ("fid", "geom", TILE_Z):
                continue
            if dtype in ("bigint", "integer", "smallint"):
                out[name] = "INTEGER"
            elif dtype in ("double precision", "real", "numeric"):
                out[name] = "REAL"
            elif dtype == "boolean":
                out[name] = "BOOLEAN"
            else:
                out[name] = "TEXT"
        return out

    def _bulk_begin(self, cur, name: str, *, large: bool, fresh: bool):
        """A large import sends each batch from one background thread while the next batch is
        read, checked and turned into COPY text (`_bulk_rows`): the database parses and stores
        batch k on the other core instead of after it. The cursor is only ever used by one
        thread at a time (`_bulk_wait` before any other use).

        Into a table this transaction created, the GiST index is built once at the end
        (`_bulk_end`) instead of inserting 10^6 entries one by one: nobody else can see the table
        yet, so dropping and re-creating its index costs no reader anything. An existing table
        keeps its index (dropping it would lock out every reader)."""
        if not large:
            return None
        state = {"gist": False, "unique": [], "writer": ThreadPoolExecutor(1, thread_name_prefix="landgis-copy"), "pending": None, "tile_z": self._has_tile_z(cur, name)}
        if fresh:
            cur.execute(f"DROP INDEX {quote(name + '_geom_gist')}")
            # the id UNIQUE constraint likewise (built by one sort at the end, which still refuses a
            # duplicate; `import_batches` has already refused any within the import)
            cur.execute("SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'u'", (quote(name),))
            unique = [r[0] for r in cur.fetchall()]
            for con in unique:
                cur.execute(f"ALTER TABLE {quote(name)} DROP CONSTRAINT {quote(con)}")
            state.update(gist=True, unique=unique)
        return state

    def _bulk_rows(self, cur, state, name: str, cols: list[str], columns: list[list], geoms: np.ndarray, history: tuple) -> None:
        if state is None:
            return super()._bulk_rows(cur, state, name, cols, columns, geoms, history)
        # The COPY text is built here, while the writer still sends the previous batch: Python
        # work stays in this thread, the writer only waits on the database (which parses on
        # the other core). One batch in flight: memory holds at most two.
        payload = self._copy_payload(columns, geoms, state["tile_z"])
        self._bulk_wait(state)
        state["pending"] = state["writer"].submit(self._copy_batch, cur, name, cols, payload, history)

    def _bulk_wait(self, state) -> None:
        if state and state.get("pending") is not None:
            pending, state["pending"] = state["pending"], None
            pending.result()  # a failed COPY raises here, in the importing thread

    def _bulk_abort(self, state) -> None:
        if state and state.get("writer") is not None:
            pending, state["pending"] = state.get("pending"), None
            if pending is not None:
                futures_wait([pending])
            state["writer"].shutdown(wait=True)

    def _bulk_end(self, cur, state, name: str) -> None:
        if state is None:
            return
        self._bulk_wait(state)
        state["writer"].shutdown(wait=True)
        if state["gist"]:
            for con in state["unique"]:
                cur.execute(f"ALTER TABLE {quote(name)} ADD CONSTRAINT {quote(con)} UNIQUE (id)")
            cur.execute(f"CREATE INDEX {quote(name + '_geom_gist')} ON {quote(name)} USING gist (geom)")
            cur.execute(f"ANALYZE {quote(name)}")  # planner statistics now, not at autovacuum's next pass

    def _batch_columns(self, gdf, cols: list[str], kinds: list[str], ids: list[str]) -> list:
        """Arrow arrays where the column's dtype allows (`pg_copy.arrow_values`): the CSV is built
        from them without a Python object per value."""
        out = []
        for c, k in zip(cols, kinds):
            arr = pa.array(ids, pa.large_string()) if c == "id" else pg_copy.arrow_values(gdf[c], k)
            out.append(arr if arr is not None else db_values(gdf[c], k))
        return out

    def _bulk_insert(self, cur, name: str, cols: list[str], columns: list[list], geoms: np.ndarray) -> None:
        """One `COPY … (FORMAT csv)` per batch, its text built on whole columns by Arrow
        (gis/store/pg_copy.py); `write_row` only for a batch Arrow cannot type. The revision
        trigger fires once per transaction either way."""
        self._copy_in(cur, name, cols, self._copy_payload(columns, geoms, self._has_tile_z(cur, name)))

    def _geometry_derived(self, cur, name: str, geometry) -> dict[str, object]:
        """A landgis edit sets TILE_Z for the new shape (the reset trigger leaves a value that
        is set in the same UPDATE), so edited parcels keep the short tile path."""
        if not self._has_tile_z(cur, name):
            return {}
        z = safe_zooms(np.array([geometry], dtype=object))[0]
        return {TILE_Z: None if np.isnan(z) else int(z)}

    def _has_tile_z(self, cur, name: str) -> bool:
        """Has the layer's table the TILE_Z column (a table made by an older landgis that could
        not be upgraded has not)?"""
        if name not in self._tile_z:
            self._table_columns(cur, name)
        return self._tile_z.get(name, False)

    @staticmethod
    def _copy_payload(columns: list, geoms: np.ndarray, tile_z: bool) -> tuple[str, object, bool]:
        """("csv", the batch's COPY text, tile_z) or, for a batch Arrow cannot type, ("rows",
        tuples, tile_z). `tile_z`: the rows end with the TILE_Z column after the geometry."""
        hexes = pg_copy.hex_ewkb_column(geoms, STORE_EPSG)
        extra = [hexes]
        if tile_z:
            z = safe_zooms(geoms)
            extra.append(pa.array(np.nan_to_num(z, nan=0).astype(np.int16), pa.int16(), mask=np.isnan(z)))
        data = pg_copy.columns_csv(columns, extra)
        if data is not None:
            return "csv", data, tile_z
        return "rows", list(zip(*[c.to_pylist() if isinstance(c, pa.Array) else c for c in columns], *[e.to_pylist() for e in extra])), tile_z

    @staticmethod
    def _copy_in(cur, name: str, cols: list[str], payload: tuple[str, object, bool]) -> None:
        kind, data, tile_z = payload
        names = ", ".join([quote(c) for c in cols] + ["geom"] + ([TILE_Z] if tile_z else []))
        if kind == "csv":
            with cur.copy(f"COPY {quote(name)} ({names}) FROM STDIN WITH (FORMAT csv)") as copy:
                copy.write(data)
            return
        with cur.copy(f"COPY {quote(name)} ({names}) FROM STDIN") as copy:
            for row in data:
                copy.write_row(row)

    def _copy_batch(self, cur, name: str, cols: list[str], payload: tuple[str, object, bool], history: tuple) -> None:
        """The writer thread's part of a batch: only database work (the GIL is free meanwhile)."""
        self._copy_in(cur, name, cols, payload)
        self._insert_import_history(cur, name, *history)

    def _record_removed(self, cur, name: str, user: str, at: str, reason: str) -> None:
        """A replace import's history of the rows it removes, made by the server in one
        statement: each old row as JSON (its columns, NaN/±inf as null, and the geometry as WKT
        with 8 decimals, like `feature_json`). In Python this was ≈70 s for 10^6 rows."""
        cols = self._table_columns(cur, name)
        parts, params = [], []
        for c, kind in cols.items():
            v = f"t.{quote(c)}"
            if kind == "REAL":
                v = f"CASE WHEN {v} IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8) THEN NULL ELSE {v} END"
            parts.append(f"?::text, {v}")
            params.append(c)
        chunks = [parts[i:i + 50] for i in range(0, len(parts), 50)]  # jsonb_build_object takes ≤ 100 arguments
        body = " || ".join(f"jsonb_build_object({', '.join(chunk)})" for chunk in chunks) or "'{}'::jsonb"
        geometry = "CASE WHEN t.geom IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('geometry', ST_AsText(t.geom, 8)) END"
        cur.execute(
            self._q(f"INSERT INTO {HISTORY} (layer, feature_id, action, user_name, at, reason, old) SELECT ?, t.id, 'replace', ?, ?, ?, ({body} || {geometry})::text FROM {quote(name)} t ORDER BY t.fid"),
            [name, user, at, reason, *params],
        )

    def _insert_import_history(self, cur, name: str, ids: list[str], user: str, at: str, reason: str | None, first_fid: int | None = None) -> None:
        """An import's history rows (one per feature, `old`/`new` empty) made by the server from
        one array parameter: no row is formatted in Python."""
        cur.execute(
            f"INSERT INTO {HISTORY} (layer, feature_id, action, user_name, at, reason) SELECT %s, f, 'insert', %s, %s, %s FROM unnest(%s::text[]) AS f",
            (name, user, at, reason, ids),
        )

    def _insert_history(self, cur, rows: list[tuple]) -> None:
        """History rows by COPY when there are many."""
        if len(rows) < 1000:
            return super()._insert_history(cur, rows)
        with cur.copy(f"COPY {HISTORY} (layer, feature_id, action, user_name, at, reason, old, new) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def _geom_param(self) -> str:
        return f"ST_GeomFromWKB(%s, {STORE_EPSG})"

    def _geom_to_db(self, geoms: np.ndarray) -> list:
        arr = np.asarray(geoms, dtype=object)
        out: list = [None] * len(arr)
        present = np.array([g is not None for g in arr], dtype=bool)
        if present.any():
            wkb = shapely.to_wkb(arr[present], output_dimension=2, flavor="iso")
            for i, w in zip(np.nonzero(present)[0], wkb):
                out[i] = w
        return out

    def _geom_select(self) -> str:
        return "ST_AsBinary(geom)"

    def _geom_from_db(self, values: list) -> np.ndarray:
        out = np.empty(len(values), dtype=object)
        where = [i for i, v in enumerate(values) if v is not None]
        if where:
            out[np.array(where)] = shapely.from_wkb([bytes(values[i]) for i in where])
        for i, v in enumerate(values):
            if v is None:
                out[i] = None
        return out

    def _bbox_clause(self, layer: str, bbox) -> tuple[str, list]:
        c = self.dialect.bbox_candidates(layer, bbox)
        return c.sql, c.params

    # --- the items query and tiles (gis/store/items.py, gis/tiles.py) ------------------------
    def _features_select(self, layer: str, columns: list[str], crs: AxisCrs) -> str:
        return _features_select_sql(layer, tuple(columns), crs)

    def _features_out(self, rows: list[tuple], columns: list[str], kinds: dict[str, str], crs: AxisCrs) -> list[str]:
        return [r[0] for r in rows]

    def _extent(self, layer: str) -> tuple[float, float, float, float] | None:
        rows = self._read(f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) e FROM {quote(layer)}) s", [])
        return tuple(float(v) for v in rows[0]) if rows and rows[0][0] is not None else None

    def tile(self, layer: str, z: int, x: int, y: int, columns: list[str], kinds: dict[str, str] | None = None) -> bytes:
        """PostGIS builds the tile itself and `ST_AsMVT` encodes it. `ST_AsMVTGeom` clips,
        quantises and re-validates every polygon (through wagyu: most of a tile's time), so a
        feature that lies wholly inside the buffered tile and whose TILE_Z proves that rounding
        cannot fold it at this zoom is only projected, scaled to pixels and rounded
        (`ST_TransScale`, `ST_SnapToGrid`) and wound as ST_AsMVTGeom winds (`ST_ForcePolygonCCW`
        in tile coordinates, y down); the rest go through `ST_AsMVTGeom` as before."""
        from gis.tiles import EXTENT, search_box, tile_bounds

        sb = search_box(z, x, y)
        box = self.dialect.bbox_candidates(layer, sb)
        if not self._layer_has_tile_z(layer):
            return self._tile_rows(layer, z, x, y, columns, box, None)
        x0, _, x1, y1 = tile_bounds(z, x, y)
        scale = EXTENT / (x1 - x0)
        try:
            return self._tile_rows(layer, z, x, y, columns, box, [z, *sb, -x0, -y1, scale, -scale])
        except psycopg.errors.UndefinedColumn:  # the table was re-made without TILE_Z by another tool
            self._tile_z[layer] = False
            return self._tile_rows(layer, z, x, y, columns, box, None)

    def _tile_rows(self, layer: str, z: int, x: int, y: int, columns: list[str], box: Clause, fast: list | None) -> bytes:
        """The tile's SQL: every feature through `ST_AsMVTGeom` (`fast` None), or the safe ones
        by the short path (`fast` = zoom, buffered lon/lat box, translation and scale)."""
        from gis.tiles import BUFFER, EXTENT, MAX_FEATURES

        cols = "".join(f", t.{self.dialect.ident(c)}" for c in columns)
        out_cols = "".join(f", c.{self.dialect.ident(c)}" for c in columns)
        careful = f"ST_AsMVTGeom(ST_Transform(c.geom, 3857), ST_TileEnvelope(%s, %s, %s), {EXTENT}, {BUFFER}, true)"
        if fast is None:
            geom, params = careful, [z, x, y]
        else:
            geom = (
                f"CASE WHEN c.{TILE_Z} <= %s AND c.geom @ ST_MakeEnvelope(%s, %s, %s, %s, {STORE_EPSG})"
                " THEN ST_ForcePolygonCCW(ST_SnapToGrid(ST_TransScale(ST_Transform(c.geom, 3857), %s, %s, %s, %s), 1))"
                f" ELSE {careful} END"
            )
            params = [*fast, z, x, y]
        tile_z = f", t.{TILE_Z}" if fast is not None else ""
        sql = (
            f"WITH c AS (SELECT t.geom{tile_z}{cols} FROM {quote(layer)} t WHERE {box.sql} ORDER BY t.fid LIMIT {MAX_FEATURES}),"
            f" mvtgeom AS (SELECT {geom} AS mvt_geom{out_cols} FROM c)"
            f" SELECT ST_AsMVT(mvtgeom.*, %s, {EXTENT}, 'mvt_geom') FROM mvtgeom"
        )
        rows = self._read(sql, [*box.params, *params, layer])
        return bytes(rows[0][0]) if rows and rows[0][0] is not None else b""

    def _layer_has_tile_z(self, layer: str) -> bool:
        """`_has_tile_z` for a reader: learnt, like the columns, by `_table_columns`."""
        if layer not in self._tile_z:
            self.columns(layer)
        return self._tile_z.get(layer, False)

    def _lock_suffix(self) -> str:
        return " FOR UPDATE"

    def _after_layer_write(self, cur, layer: str) -> None:
        """Nothing to keep by hand: PostGIS indexes and statistics follow the rows."""
