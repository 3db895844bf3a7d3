"""The production store: PostgreSQL + PostGIS through psycopg 3.

Same tables and the same transaction rules as the GeoPackage store; geometry columns are typed
`geometry(<TYPE>, 4490)` with a GiST index, so other city systems (GeoServer, QGIS, tipg) can
read the tables directly. Reads run in autocommit so API readers never hold a snapshot open;
every write is one explicit transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import psycopg
import psycopg.sql
import shapely

from gis.crs import STORE_EPSG
from gis.store.base import Store, quote

_PG_TYPES = {"INTEGER": "bigint", "REAL": "double precision", "BOOLEAN": "boolean", "TEXT": "text"}


class PostGISStore(Store):
    kind = "postgis"
    ph = "%s"

    def __init__(self, url: str):
        super().__init__()
        self.url = url

    def _new_connection(self) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True, application_name="landgis")

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Cursor]:
        conn = self.connection()
        with conn.transaction():
            with conn.cursor() as cur:
                yield cur

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

    def _add_column(self, cur, layer: str, column: str, kind: str) -> None:
        cur.execute(f"ALTER TABLE {quote(layer)} ADD COLUMN {quote(column)} {_PG_TYPES[kind]}")

    def _table_columns(self, cur, layer: str) -> dict[str, str]:
        cur.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
            (layer,),
        )
        out: dict[str, str] = {}
        for name, dtype in cur.fetchall():
            if name in ("fid", "geom"):
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
        return f"geom && ST_MakeEnvelope(?, ?, ?, ?, {STORE_EPSG})", list(bbox)

    def _lock_suffix(self) -> str:
        return " FOR UPDATE"

    def _after_layer_write(self, cur, layer: str) -> None:
        """Nothing to keep by hand: PostGIS indexes and statistics follow the rows."""
