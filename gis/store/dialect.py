"""How one store spells the SQL of a query: the part of a dialect the query layer needs.

The CQL2 translator (gis/store/cql2.py) and the items queries (`Store.features`) build their
WHERE clauses through a `Dialect` instead of asking which store they run on. Each store module
defines its own (GeoPackageDialect: `?`, SQLite GLOB, the R-tree subquery and the `lg_*` SQL
functions; PostGISDialect: `%s`, `%`-escaped identifiers, `&&` and the ST_* predicates) and the
store holds it as `Store.dialect`. The SQL these produce is executed as is (never through
`Store._q`), so PostGIS identifiers and literals carry their `%` already doubled.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from gis.store.items import Clause

SPATIAL_PREDICATES = ("intersects", "disjoint", "within", "contains", "overlaps", "touches", "crosses", "equals")
"""`geom <op> literal`, as CQL2 names them (S_INTERSECTS …) without the prefix."""


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Dialect(ABC):
    name: str
    ph: str
    """The driver's placeholder for one bound value."""

    def ident(self, name: str) -> str:
        """A column name as a quoted identifier, ready for SQL executed with parameters."""
        return quote(name)

    def text_literal(self, text: str) -> str:
        """A constant text as an SQL literal (for names the SQL itself writes, never request values)."""
        return "'" + text.replace("'", "''") + "'"

    def fold(self, sql: str) -> str:
        """Unicode case folding of a text expression (CQL2 CASEI)."""
        return f"LOWER({sql})"

    @abstractmethod
    def like(self, sql: str, pattern: str) -> Clause:
        """`sql LIKE pattern` with CQL2's case-sensitive `%`/`_` and backslash escapes."""

    @abstractmethod
    def geometry_param(self) -> str:
        """SQL of one bound geometry literal, given as lon/lat WKB."""

    @abstractmethod
    def bbox_candidates(self, layer: str, bbox: tuple[float, float, float, float]) -> Clause:
        """Rows whose envelope meets the lon/lat box: the spatial index alone (R-tree / GiST)."""

    @abstractmethod
    def bbox_intersects(self, layer: str, bbox: tuple[float, float, float, float]) -> Clause:
        """Rows whose geometry meets the lon/lat box exactly (index first, then the geometry)."""

    @abstractmethod
    def spatial(self, layer: str, op: str, wkb: bytes) -> Clause:
        """`geom <op> literal` for one of SPATIAL_PREDICATES, the literal lon/lat WKB."""
