"""The query layer behind `/collections/{id}/items`: bbox, CQL2, sortby, properties, paging.

Built for the hot path of an OGC API – Features server: one SQL statement per page, no
(Geo)DataFrames. PostGIS writes each GeoJSON feature itself (`ST_AsGeoJSON` + `json_build_object`);
the GeoPackage path decodes the page's GeoPackageBinary blobs with shapely in one vectorised
call and `shapely.to_geojson`. Both dialects get the same WHERE clauses, every value bound as a
parameter; CQL2 is parsed by the maintained `cql2` library and its standard JSON tree is
translated here, against the layer's real columns, so a filter can never inject SQL.

Counting: `numberMatched` of an unfiltered request comes from a per-process row count kept
until the layer's revision changes (`Store.revision`: bumped by a trigger on every committed
write, whoever makes it), so it is never stale and never recounted for nothing (the peers count
every row on every request, which dominates at 10^6 rows). A layer without a revision (a store
made by an older landgis) falls back to COUNT_TTL_S seconds. A filtered count stops at
COUNT_CAP matches, beyond which numberMatched is omitted (OGC allows leaving it out). A page
shorter than `limit` at offset 0 is its own count.
"""


from __future__ import annotations

import atexit
import datetime as dt
import json
import logging
import math
import re
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import shapely
import shapely.geometry

from gis.crs import STORE_EPSG, transformer
from gis.errors import InputError
from gis.store.base import Store, quote

# --- CRSs (OGC API – Features Part 2) -------------------------------------------------------
# Axis order follows Part 2: CRS84 is lon/lat; every other CRS is written in the axis order its
# authority defines. EPSG:4490 (CGCS2000 geographic) is therefore lat/lon, and EPSG:4546
# (CGCS2000 / 3-degree GK CM 111E) is northing/easting (X north, Y east, as the EPSG register
# and Chinese surveying define it); EPSG:3857 is easting/northing. GDAL's OAPIF driver (default
# SERVER_FEATURE_AXIS_ORDER=AUTHORITY_COMPLIANT) and QGIS read it so. Stored geometry is
# EPSG:4490 lon/lat; CRS84 output is those coordinates unchanged (CGCS2000 and WGS 84 agree to a
# few centimetres, far below the precision of the plan's parcels).
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


@dataclass(frozen=True)
class OgcCrs:
    uri: str
    epsg: int  # the EPSG code used for transforms (CRS84 → the stored 4490 lon/lat)
    flip: bool  # authority axis order is (north, east): swap x/y on output and input

    @property
    def transform_needed(self) -> bool:
        return self.epsg != STORE_EPSG

    @property
    def is_geographic(self) -> bool:
        return self.epsg == STORE_EPSG


SUPPORTED: dict[str, OgcCrs] = {
    CRS84: OgcCrs(CRS84, STORE_EPSG, False),
    "http://www.opengis.net/def/crs/EPSG/0/4490": OgcCrs("http://www.opengis.net/def/crs/EPSG/0/4490", 4490, True),
    "http://www.opengis.net/def/crs/EPSG/0/4546": OgcCrs("http://www.opengis.net/def/crs/EPSG/0/4546", 4546, True),
    "http://www.opengis.net/def/crs/EPSG/0/3857": OgcCrs("http://www.opengis.net/def/crs/EPSG/0/3857", 3857, False),
}
SUPPORTED_URIS = list(SUPPORTED)
STORAGE_CRS = "http://www.opengis.net/def/crs/EPSG/0/4490"

_ALIASES = {
    "crs84": CRS84,
    "ogc:crs84": CRS84,
    "urn:ogc:def:crs:ogc:1.3:crs84": CRS84,
    "urn:ogc:def:crs:ogc::crs84": CRS84,
    "http://www.opengis.net/def/crs/ogc/1.3/crs84": CRS84,
    "https://www.opengis.net/def/crs/ogc/1.3/crs84": CRS84,
}
for _code in (4490, 4546, 3857):
    for _form in (f"epsg:{_code}", f"urn:ogc:def:crs:epsg::{_code}", f"http://www.opengis.net/def/crs/epsg/0/{_code}", f"https://www.opengis.net/def/crs/epsg/0/{_code}"):
        _ALIASES[_form] = f"http://www.opengis.net/def/crs/EPSG/0/{_code}"


class CrsError(InputError):
    """An unsupported or malformed CRS identifier (HTTP 400)."""

    status_code = 400


def parse_crs(text: str | None, *, param: str = "crs") -> OgcCrs:
    """Resolve a `crs`/`bbox-crs`/`filter-crs` value (URI, safe CURIE or EPSG:n) or refuse it."""
    if text is None or text == "":
        return SUPPORTED[CRS84]
    key = text.strip().strip("[]").lower()
    uri = _ALIASES.get(key)
    if uri is None:
        raise CrsError(
            f"参数 {param} 的坐标系“{text}”不受支持。",
            hint="可用：" + "、".join(SUPPORTED_URIS) + "（也可写作 EPSG:4490 等）。",
        )
    return SUPPORTED[uri]


def to_output(geoms: np.ndarray, crs: OgcCrs) -> np.ndarray:
    """Stored lon/lat geometries → the requested CRS, in its axis order."""
    out = np.asarray(geoms, dtype=object)
    if crs.transform_needed:
        t = transformer(STORE_EPSG, crs.epsg)
        out = shapely.transform(out, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
    if crs.flip:
        out = shapely.transform(out, lambda xy: xy[:, ::-1].copy())
    return out


def from_input(geoms: np.ndarray, crs: OgcCrs) -> np.ndarray:
    """Geometries given in `crs` (its axis order) → stored lon/lat."""
    out = np.asarray(geoms, dtype=object)
    if crs.flip:
        out = shapely.transform(out, lambda xy: xy[:, ::-1].copy())
    if crs.transform_needed:
        t = transformer(crs.epsg, STORE_EPSG)
        out = shapely.transform(out, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
    return out


def bbox_to_store(values: list[float], crs: OgcCrs) -> tuple[float, float, float, float]:
    """A bbox in `crs` (axis order of the CRS) → a lon/lat bbox that covers it (edges densified)."""
    if len(values) == 6:  # 3-D bbox: drop the heights
        values = [values[0], values[1], values[3], values[4]]
    a0, a1, b0, b1 = values[0], values[1], values[2], values[3]
    if crs.flip:
        x0, y0, x1, y1 = a1, a0, b1, b0
    else:
        x0, y0, x1, y1 = a0, a1, b0, b1
    if crs.epsg == STORE_EPSG or not crs.transform_needed:
        return (x0, y0, x1, y1)
    t = transformer(crs.epsg, STORE_EPSG)
    xs = np.concatenate([np.linspace(x0, x1, 21), np.full(21, x1), np.linspace(x1, x0, 21), np.full(21, x0)])
    ys = np.concatenate([np.full(21, y0), np.linspace(y0, y1, 21), np.full(21, y1), np.linspace(y1, y0, 21)])
    lon, lat = t.transform(xs, ys)
    lon, lat = np.asarray(lon), np.asarray(lat)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        raise CrsError("bbox 在所给坐标系中超出可转换的范围。", hint="请检查 bbox 与 bbox-crs 是否匹配。")
    return (float(lon[ok].min()), float(lat[ok].min()), float(lon[ok].max()), float(lat[ok].max()))


def bbox_from_store(bbox: tuple[float, float, float, float], crs: OgcCrs) -> list[float]:
    """A lon/lat extent expressed in `crs` and its axis order (for collection metadata)."""
    x0, y0, x1, y1 = bbox
    if crs.transform_needed:
        t = transformer(STORE_EPSG, crs.epsg)
        xs, ys = t.transform([x0, x1, x0, x1], [y0, y0, y1, y1])
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    return [y0, x0, y1, x1] if crs.flip else [x0, y0, x1, y1]


# =========================================================================================
# CQL2 → parameterised SQL
# =========================================================================================
# The text or JSON filter is parsed by `cql2` (the maintained Rust implementation of OGC
# CQL2), which hands back the standard CQL2-JSON tree; that tree is walked here and turned into
# SQL whose every literal is a bound parameter and whose every identifier is a column the layer
# really has. Nothing from the request is ever spliced into SQL text.

MAX_FILTER_CHARS = 20_000
MAX_FILTER_NODES = 2_000
MAX_FILTER_DEPTH = 60
GEOMETRY_NAMES = ("geometry", "geom")
SPATIAL_OPS = {
    "s_intersects": "intersects",
    "s_disjoint": "disjoint",
    "s_within": "within",
    "s_contains": "contains",
    "s_overlaps": "overlaps",
    "s_touches": "touches",
    "s_crosses": "crosses",
    "s_equals": "equals",
}
_SWAPPED = {"within": "contains", "contains": "within"}
_PG_SPATIAL = {
    "intersects": "ST_Intersects",
    "disjoint": "ST_Disjoint",
    "within": "ST_Within",
    "contains": "ST_Contains",
    "overlaps": "ST_Overlaps",
    "touches": "ST_Touches",
    "crosses": "ST_Crosses",
    "equals": "ST_Equals",
}
COMPARISONS = {"=": "=", "<>": "<>", "<": "<", ">": ">", "<=": "<=", ">=": ">="}


class FilterError(InputError):
    """A filter that cannot run (syntax, unknown property, type clash, unsupported operator): HTTP 400."""

    status_code = 400


@dataclass
class Clause:
    sql: str
    params: list


@dataclass
class _Val:
    sql: str
    params: list
    kind: str  # INTEGER | REAL | TEXT | BOOLEAN | NUMBER (literal) | NULL | GEOMETRY | BOOL (predicate)


def _numeric(kind: str) -> bool:
    return kind in ("INTEGER", "REAL", "NUMBER")


class _Translator:
    def __init__(self, store: Store, layer: str, columns: dict[str, str], filter_crs: OgcCrs):
        self.store = store
        self.pg = store.kind == "postgis"
        self.layer = layer
        self.columns = columns
        self.filter_crs = filter_crs
        self.nodes = 0

    # -- helpers ------------------------------------------------------------------------
    def ph(self) -> str:
        return "%s" if self.pg else "?"

    def fail(self, detail: str, hint: str | None = None):
        raise FilterError(detail, hint=hint or "请参照 /collections/{id}/queryables 所列字段，按 CQL2 语法书写过滤条件。")

    def check_text(self, text: str) -> None:
        if "\x00" in text:
            self.fail("过滤条件中的文本含有空字符（NUL，%00），任何字段都不会含有它。", "请去掉文本中的 %00。")

    def queryable_hint(self) -> str:
        names = ", ".join(sorted(self.columns))
        return f"可用字段（queryables）：{names}, geometry。"

    # -- walk ---------------------------------------------------------------------------
    def predicate(self, node, depth: int = 0) -> Clause:
        v = self.value(node, depth)
        if v.kind == "BOOLEAN":  # a bare boolean property or literal used as a predicate
            if v.params == [True] and v.sql == self.ph():
                return Clause("1 = 1", [])
            if v.params == [False] and v.sql == self.ph():
                return Clause("1 = 0", [])
            return Clause(f"({v.sql}) = {self.ph()}", v.params + [True])
        if v.kind != "BOOL":
            self.fail("过滤条件的结果不是真/假判断。", "例如：use = '工业' AND area_mu > 100")
        return Clause(v.sql, v.params)

    def value(self, node, depth: int) -> _Val:
        self.nodes += 1
        if self.nodes > MAX_FILTER_NODES or depth > MAX_FILTER_DEPTH:
            self.fail(f"过滤条件过于复杂（超过 {MAX_FILTER_NODES} 个节点或 {MAX_FILTER_DEPTH} 层嵌套）。", "请简化过滤条件。")
        if node is None:
            return _Val("NULL", [], "NULL")
        if isinstance(node, bool):
            return _Val(self.ph(), [node], "BOOLEAN")
        if isinstance(node, (int, float)):
            f = float(node)
            if not math.isfinite(f):
                self.fail("过滤条件中的数值不是有限数。")
            if abs(f) >= INT64_LIMIT:
                # What SQLite (int64) and PostgreSQL bigint can compare alike; the cql2 parser
                # hands every number over as a double, so bigger ones have lost their digits.
                self.fail(f"过滤条件中的数值 {node!r} 超出可比较的范围（绝对值须小于 2^63，即 9223372036854775808）。", "请检查数值的位数。")
            return _Val(self.ph(), [int(f) if f.is_integer() and abs(f) < 2**53 else f], "NUMBER")
        if isinstance(node, str):
            self.check_text(node)
            return _Val(self.ph(), [node], "TEXT")
        if isinstance(node, list):
            self.fail("数组只能用于 IN 运算。")
        if not isinstance(node, dict):
            self.fail("无法识别的过滤条件。")
        if "property" in node:
            return self.property(node["property"])
        if "date" in node:
            return self.temporal_literal(node["date"], "date")
        if "timestamp" in node:
            return self.temporal_literal(node["timestamp"], "timestamp")
        if "interval" in node:
            self.fail("暂不支持时间区间（INTERVAL）过滤。", "请用 >= 与 <= 比较日期字段，如 status_date >= '2024-01-01'。")
        if "bbox" in node or "type" in node:
            return self.geometry_literal(node)
        op = str(node.get("op", "")).lower()
        args = node.get("args", [])
        if not isinstance(args, list):
            self.fail(f"运算 {op} 的参数格式有误。")
        return self.operation(op, args, depth)

    def property(self, name) -> _Val:
        if not isinstance(name, str):
            self.fail("字段名必须是文本。")
        if name in GEOMETRY_NAMES:
            return _Val("geom", [], "GEOMETRY")
        kind = self.columns.get(name)
        if kind is None:
            self.fail(f"过滤条件中的字段“{_shown(name)}”不存在或不可查询。", self.queryable_hint())
        return _Val(self.ident(name), [], kind)

    def ident(self, name: str) -> str:
        q = quote(name)
        return q.replace("%", "%%") if self.pg else q

    def temporal_literal(self, text, what: str) -> _Val:
        try:
            if what == "date":
                value = dt.date.fromisoformat(str(text)).isoformat()
            else:
                value = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00")).isoformat()
        except ValueError:
            self.fail(f"日期/时间“{text}”格式有误。", "日期请写作 DATE('2024-01-31')，时间写作 TIMESTAMP('2024-01-31T08:00:00Z')。")
        return _Val(self.ph(), [value], "TEXT")

    def geometry_literal(self, node) -> _Val:
        try:
            if "bbox" in node:
                b = [float(v) for v in node["bbox"]]
                if len(b) == 6:
                    b = [b[0], b[1], b[3], b[4]]
                if len(b) != 4 or not all(math.isfinite(v) for v in b):
                    raise ValueError
                geom = shapely.box(min(b[0], b[2]), min(b[1], b[3]), max(b[0], b[2]), max(b[1], b[3]))
            else:
                geom = shapely.geometry.shape(node)
        except Exception:
            self.fail("过滤条件中的几何对象无法解析。", "几何请写作 WKT（如 POINT(112.6 33.0)）、BBOX(x1,y1,x2,y2) 或 GeoJSON 几何。")
        if geom.is_empty or not np.isfinite(shapely.get_coordinates(geom)).all():
            self.fail("过滤条件中的几何对象为空或含非有限坐标。")
        if shapely.get_num_coordinates(geom) > 100_000:
            self.fail("过滤条件中的几何对象顶点过多（超过 10 万）。")
        geom = from_input(np.array([geom], dtype=object), self.filter_crs)[0]
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        wkb = shapely.to_wkb(geom, output_dimension=2)
        if self.pg:
            return _Val(f"ST_GeomFromWKB(%s, {STORE_EPSG})", [wkb], "GEOMETRY")
        return _Val("?", [wkb], "GEOMETRY")

    def operation(self, op: str, args: list, depth: int) -> _Val:
        if op in ("and", "or"):
            if len(args) < 2:
                self.fail(f"{op.upper()} 至少需要两个条件。")
            parts = [self.predicate(a, depth + 1) for a in args]
            return _Val(_balanced(op.upper(), [p.sql for p in parts]), [x for p in parts for x in p.params], "BOOL")
        if op == "not":
            if len(args) != 1:
                self.fail("NOT 只接受一个条件。")
            p = self.predicate(args[0], depth + 1)
            return _Val(f"NOT ({p.sql})", p.params, "BOOL")
        if op in COMPARISONS:
            if len(args) != 2:
                self.fail(f"比较运算 {op} 需要两个操作数。")
            a, b = self.value(args[0], depth + 1), self.value(args[1], depth + 1)
            if "NULL" in (a.kind, b.kind):
                self.fail("不能用比较运算判断空值。", "请使用 IS NULL 或 IS NOT NULL。")
            self.check_comparable(a, b, op)
            return _Val(f"{a.sql} {COMPARISONS[op]} {b.sql}", a.params + b.params, "BOOL")
        if op == "like":
            if len(args) != 2:
                self.fail("LIKE 需要两个操作数。")
            a, b = self.value(args[0], depth + 1), args[1]
            if a.kind != "TEXT":
                self.fail("LIKE 只能用于文本字段。")
            pattern_node = b
            if isinstance(b, dict) and str(b.get("op", "")).lower() == "casei":
                pattern_node = (b.get("args") or [None])[0]
                if not a.sql.startswith("LOWER("):
                    a = _Val(f"LOWER({a.sql})", a.params, "TEXT")
            if not isinstance(pattern_node, str):
                self.fail("LIKE 的模式必须是文本，如 '%光电%'。")
            self.check_text(pattern_node)
            if a.sql.startswith("LOWER("):
                pattern_node = pattern_node.lower()
            if self.pg:
                return _Val(f"{a.sql} LIKE %s", a.params + [pattern_node], "BOOL")
            return _Val(f"{a.sql} GLOB ?", a.params + [like_to_glob(pattern_node)], "BOOL")
        if op == "between":
            if len(args) != 3:
                self.fail("BETWEEN 需要字段、下限和上限三个操作数。")
            a, lo, hi = (self.value(x, depth + 1) for x in args)
            self.check_comparable(a, lo, op)
            self.check_comparable(a, hi, op)
            return _Val(f"{a.sql} BETWEEN {lo.sql} AND {hi.sql}", a.params + lo.params + hi.params, "BOOL")
        if op == "in":
            if len(args) != 2 or not isinstance(args[1], list) or not args[1]:
                self.fail("IN 需要一个字段和一个非空列表，如 use IN ('工业','仓储')。")
            if len(args[1]) > 1000:
                self.fail("IN 列表过长（超过 1000 项）。")
            a = self.value(args[0], depth + 1)
            items = [self.value(x, depth + 1) for x in args[1]]
            for it in items:
                self.check_comparable(a, it, "IN")
            sql = f"{a.sql} IN ({', '.join(i.sql for i in items)})"
            return _Val(sql, a.params + [p for i in items for p in i.params], "BOOL")
        if op == "isnull":
            if len(args) != 1:
                self.fail("IS NULL 只接受一个操作数。")
            a = self.value(args[0], depth + 1)
            if a.kind == "GEOMETRY":
                return _Val("geom IS NULL", [], "BOOL")
            return _Val(f"{a.sql} IS NULL", a.params, "BOOL")
        if op == "casei":
            if len(args) != 1:
                self.fail("CASEI 只接受一个操作数。")
            a = self.value(args[0], depth + 1)
            if a.kind != "TEXT":
                self.fail("CASEI 只能用于文本。")
            if a.params and a.sql == self.ph():
                return _Val(a.sql, [str(a.params[0]).lower()], "TEXT")
            return _Val(f"LOWER({a.sql})", a.params, "TEXT")
        if op in SPATIAL_OPS:
            return self.spatial(SPATIAL_OPS[op], args, depth)
        if op.startswith("t_") or op.startswith("a_"):
            self.fail(f"暂不支持时间或数组运算 {op.upper()}。", "日期字段请用比较运算，如 status_date >= DATE('2024-01-01')。")
        if op in ("+", "-", "*", "/", "%", "div", "^"):
            self.fail(f"暂不支持算术运算 {op}。", "请直接比较字段与数值。")
        self.fail(f"不支持的运算“{op}”。")
        raise AssertionError  # pragma: no cover

    def check_comparable(self, a: _Val, b: _Val, op: str) -> None:
        ka, kb = a.kind, b.kind
        if "GEOMETRY" in (ka, kb) or "BOOL" in (ka, kb):
            self.fail(f"运算 {op} 不能用于几何或逻辑表达式。", "几何请使用 S_INTERSECTS 等空间函数。")
        if _numeric(ka) and _numeric(kb):
            return
        if ka == kb:
            return
        if "BOOLEAN" in (ka, kb) and {ka, kb} <= {"BOOLEAN"}:
            return
        names = {"INTEGER": "整数", "REAL": "数值", "NUMBER": "数值", "TEXT": "文本", "BOOLEAN": "真/假"}
        self.fail(f"运算 {op} 两侧类型不一致：{names.get(ka, ka)} 与 {names.get(kb, kb)}。", "数值字段请与数字比较，文本字段请与带单引号的文本比较，真假字段请与 true/false 比较。")

    def spatial(self, op: str, args: list, depth: int) -> _Val:
        if len(args) != 2:
            self.fail(f"空间函数 {op} 需要两个几何参数。")
        a, b = self.value(args[0], depth + 1), self.value(args[1], depth + 1)
        if a.kind != "GEOMETRY" or b.kind != "GEOMETRY":
            self.fail("空间函数的参数必须是几何字段 geometry 或几何对象。")
        if a.sql == "geom" and b.sql == "geom":
            return _Val("1 = 1" if op in ("intersects", "within", "contains", "equals") else "1 = 0", [], "BOOL")
        if a.sql != "geom" and b.sql != "geom":
            self.fail("空间函数至少要有一个参数是几何字段 geometry。")
        if a.sql != "geom":  # literal first: swap so the column comes first
            a, b = b, a
            op = _SWAPPED.get(op, op)
        if self.pg:
            return _Val(f"{_PG_SPATIAL[op]}(geom, {b.sql})", b.params, "BOOL")
        wkb = b.params[0]
        fn = f"lg_spatial('{op}', geom, ?)"
        if op == "disjoint":
            return _Val(fn, [wkb], "BOOL")
        x0, y0, x1, y1 = shapely.from_wkb(wkb).bounds
        rt = quote(f"rtree_{self.layer}_geom")
        pre = f"fid IN (SELECT id FROM {rt} WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?)"
        return _Val(f"{pre} AND {fn}", [x1, x0, y1, y0, wkb], "BOOL")


INT64_LIMIT = 2**63


def _balanced(op: str, parts: list[str]) -> str:
    """`a AND b AND c …` as a balanced tree of parentheses. Why: SQLite and PostgreSQL parse a
    flat chain into a left-deep tree, and SQLite refuses a tree deeper than 1 000
    (SQLITE_MAX_EXPR_DEPTH), so a long flat list of conditions would be a 500; balanced, the
    depth is log2 of their number. The parameters keep their left-to-right order."""
    if len(parts) <= 2:
        return f" {op} ".join(f"({p})" for p in parts)
    mid = len(parts) // 2
    return f"({_balanced(op, parts[:mid])}) {op} ({_balanced(op, parts[mid:])})"


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


# --- bounding the native parser ---------------------------------------------------------------
# `cql2.parse_text` is a recursive-descent (pest) parser in Rust that holds the GIL. Measured with
# cql2 0.6.0 on this machine (tests/test_cql2_fuzz.py re-checks the server side):
#
# * Stack: at the default 8 MiB stack (the event loop's and every pool thread's) it overflows
#   and the *process* dies (SIGSEGV/abort, no exception) at about 3 400 unary minus signs or
#   `NOT `s, 1 530 balanced parentheses, 1 060 `NOT (` levels, 3 050 nested function calls,
#   4 000 chained comparisons (`a = 1 = 1 …`) and 10 000 chained subtractions. All of these fit
#   in MAX_FILTER_CHARS. A 256 MiB thread stack survives most of them at the character cap, but
#   not all (20 000 unclosed `(`).
# * Time: on a syntax error inside nested parentheses it backtracks exponentially: 12 levels
#   take 50–130 ms, 16 levels 0.3–0.9 s, 20 levels 4–10 s, and 400 sibling groups 10 deep
#   0.4 s — all with the GIL held, so a thread cannot bound it; the whole server stops.
#
# Hence two defences. (a) `prescan_cql2` refuses, in one linear regex pass, what real filters
# never need: unbalanced brackets, more than MAX_PAREN_DEPTH nested parentheses, an operator
# nesting estimate above MAX_FILTER_DEPTH (every unary or non-AND/OR binary operator since the
# last AND/OR/comma counts as one level, every enclosing bracket as one more), more than
# MAX_FILTER_TOKENS tokens; cql2-json: bracket depth above MAX_JSON_DEPTH. The margins: depth 60
# against ≥ 1 060 levels that kill the default stack, 10 parentheses against the 16+ that make
# parsing take seconds. (b) What passes is parsed in a separate worker process (`_ParserPool`)
# with PARSE_TIMEOUT_S: a crash or a runaway parse there costs that worker (restarted on the
# next filter) and the caller a 400, never the server.

MAX_PAREN_DEPTH = 10
MAX_FILTER_TOKENS = 6_000
MAX_JSON_DEPTH = 2 * MAX_FILTER_DEPTH + 8
PARSE_TIMEOUT_S = 3.0
PARSE_WORKERS = 2
PARSE_WAIT_S = 10.0

_TOKENS = re.compile(
    r"""(?P<ws>\s+)
    |(?P<str>'(?:[^']|'')*'?)
    |(?P<qid>"(?:[^"]|"")*"?)
    |(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    |(?P<word>[^\W\d][\w.:]*)
    |(?P<open>[(\[])
    |(?P<close>[)\]])
    |(?P<comma>,)
    |(?P<op><>|<=|>=|!=|[-+*/%^=<>])
    |(?P<other>.)""",
    re.X | re.S,
)
_RESET_WORDS = {"and", "or"}
_OP_WORDS = {"not", "like", "between", "in", "is", "div"}


def _too_complex(what: str) -> FilterError:
    return FilterError(f"过滤条件过于复杂：{what}。", hint="请简化过滤条件（拆成多次查询，或改用 bbox 参数）。")


def prescan_cql2(text: str, lang: str) -> None:
    """Refuse, before any parser sees it, a filter whose nesting or size could crash or stall
    the native CQL2 parser (see the figures above). Linear in the text; raises FilterError."""
    if lang == "cql2-json":
        _prescan_json(text)
        return
    tokens = 0
    stack: list[int] = []  # per open bracket: the enclosing level's operator count at the bracket
    outer = 0  # sum over open brackets of (1 + their level's operators)
    ops = 0  # operators at the current level since its last AND/OR/comma
    for m in _TOKENS.finditer(text):
        kind = m.lastgroup
        if kind == "ws":
            continue
        tokens += 1
        if kind == "open":
            stack.append(ops)
            outer += 1 + ops
            ops = 0
            if len(stack) > MAX_PAREN_DEPTH:
                raise _too_complex(f"括号嵌套超过 {MAX_PAREN_DEPTH} 层")
        elif kind == "close":
            if not stack:
                raise FilterError("过滤条件的括号不配对：多了右括号“)”。", hint="请检查每个“(”都有对应的“)”。")
            ops = stack.pop()
            outer -= 1 + ops
        elif kind == "comma" or (kind == "word" and m.group().lower() in _RESET_WORDS):
            ops = 0
        elif kind == "op" or (kind == "word" and m.group().lower() in _OP_WORDS):
            ops += 1
            if outer + ops > MAX_FILTER_DEPTH:
                raise _too_complex(f"运算符嵌套超过 {MAX_FILTER_DEPTH} 层（如连续的 NOT 或负号）")
        if tokens > MAX_FILTER_TOKENS:
            raise _too_complex(f"超过 {MAX_FILTER_TOKENS} 个词元")
    if stack:
        raise FilterError(f"过滤条件的括号不配对：缺少 {len(stack)} 个右括号“)”。", hint="请检查每个“(”都有对应的“)”。")


def _prescan_json(text: str) -> None:
    """Bracket depth and item count of a JSON document, strings skipped, in one pass."""
    depth = items = 0
    in_str = escaped = False
    for ch in text:
        if in_str:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise _too_complex(f"JSON 嵌套超过 {MAX_JSON_DEPTH} 层")
        elif ch in "]}":
            depth -= 1
        elif ch == ",":
            items += 1
            if items > MAX_FILTER_TOKENS:
                raise _too_complex(f"超过 {MAX_FILTER_TOKENS} 项")


_WORKER = r"""
import json, sys
import cql2
for line in sys.stdin.buffer:
    try:
        req = json.loads(line)
        expr = cql2.parse_json(req["text"]) if req["lang"] == "cql2-json" else cql2.parse_text(req["text"])
        answer = {"tree": expr.to_json()}
        del expr
    except Exception as exc:
        answer = {"error": str(exc)}
    try:
        data = json.dumps(answer)
    except (RecursionError, ValueError):
        data = json.dumps({"error": "nesting too deep"})
    sys.stdout.buffer.write(data.encode() + b"\n")
    sys.stdout.buffer.flush()
"""


class _ParserGone(Exception):
    """The worker died (crash) or overran PARSE_TIMEOUT_S."""


class _ParserProcess:
    """One `python -c _WORKER` child speaking JSON lines over its stdin/stdout."""

    def __init__(self):
        import subprocess
        import sys

        self.proc = subprocess.Popen([sys.executable, "-c", _WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
        self.buf = b""

    def ask(self, lang: str, text: str, timeout: float) -> dict:
        import os
        import select

        deadline = time.monotonic() + timeout
        try:
            self.proc.stdin.write(json.dumps({"lang": lang, "text": text}, ensure_ascii=False).encode("utf-8") + b"\n")
        except OSError as exc:
            raise _ParserGone("crash") from exc
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _ParserGone("timeout")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise _ParserGone("crash")
                self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        try:
            return json.loads(line)
        except (ValueError, RecursionError) as exc:
            raise _ParserGone("garbled") from exc

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass


class _ParserPool:
    """Up to PARSE_WORKERS parser processes, started on demand and reused; one that crashes or
    overruns is killed and replaced by the next request. Re-created after a fork (a child must
    not share its parent's pipes)."""

    def __init__(self, size: int):
        import os

        self.size = size
        self.idle: list[_ParserProcess] = []
        self.lock = threading.Lock()
        self.slots = threading.BoundedSemaphore(size)
        self.pid = os.getpid()
        self.crashes = 0
        self.timeouts = 0

    def parse(self, lang: str, text: str) -> dict:
        import os

        if not self.slots.acquire(timeout=PARSE_WAIT_S):
            raise FilterError("过滤条件解析繁忙，请稍后重试。", hint="同时提交的复杂过滤条件过多。")
        try:
            with self.lock:
                if self.pid != os.getpid():
                    self.idle, self.pid = [], os.getpid()
                worker = self.idle.pop() if self.idle else None
            if worker is None or worker.proc.poll() is not None:
                worker = _ParserProcess()
            try:
                answer = worker.ask(lang, text, PARSE_TIMEOUT_S)
            except _ParserGone as gone:
                worker.close()
                # Logged: a worker that dies on every filter (e.g. cql2 missing) must not pass
                # for a run of bad filters.
                logging.getLogger("landgis.query").warning("CQL2 parser worker lost (%s) on a %d-character %s filter; replaced", gone, len(text), lang)
                if str(gone) == "timeout":
                    self.timeouts += 1
                    raise _too_complex(f"解析超过 {PARSE_TIMEOUT_S:g} 秒") from None
                self.crashes += 1
                raise FilterError(f"过滤条件（{lang}）无法解析：解析器无法处理这样的结构。", hint="请简化过滤条件（减少嵌套与连续运算符）。") from None
            with self.lock:
                self.idle.append(worker)
            return answer
        finally:
            self.slots.release()

    def close(self) -> None:
        with self.lock:
            idle, self.idle = self.idle, []
        for w in idle:
            w.close()


PARSER = _ParserPool(PARSE_WORKERS)
atexit.register(PARSER.close)


def parse_cql2(text: str, lang: str | None = None) -> dict:
    """CQL2 text or JSON → the standard CQL2-JSON tree, via the `cql2` library, bounded first by
    `prescan_cql2` and run in a parser process (see the figures above)."""
    if len(text) > MAX_FILTER_CHARS:
        raise FilterError(f"过滤条件过长（超过 {MAX_FILTER_CHARS} 个字符）。", hint="请简化过滤条件或改用 bbox 参数。")
    lang = (lang or "").lower() or ("cql2-json" if text.lstrip().startswith("{") else "cql2-text")
    if lang not in ("cql2-text", "cql2-json"):
        raise FilterError(f"不支持的 filter-lang “{lang}”。", hint="可用：cql2-text、cql2-json。")
    prescan_cql2(text, lang)
    answer = PARSER.parse(lang, text)
    if "error" in answer:
        first = str(answer["error"]).strip().splitlines()
        raise FilterError(
            f"过滤条件（{lang}）语法有误：{' '.join(first[:6])[:400]}",
            hint="CQL2 文本示例：use = '工业' AND area_mu > 100；空间：S_INTERSECTS(geometry, BBOX(112.5,32.9,112.7,33.1))。",
        )
    return answer["tree"]


def cql2_to_sql(store: Store, layer: str, tree: dict, columns: dict[str, str], filter_crs: OgcCrs | None = None) -> Clause:
    """A CQL2-JSON tree → a WHERE fragment with bound parameters in the store's dialect."""
    if store.kind != "postgis":
        _ensure_gpkg_functions(store)
    t = _Translator(store, layer, columns, filter_crs or SUPPORTED[CRS84])
    return t.predicate(tree)


# =========================================================================================
# GeoPackage: the spatial predicates SQLite lacks, as SQL functions over GeoPackageBinary
# =========================================================================================

@lru_cache(maxsize=64)
def _literal(wkb: bytes):
    g = shapely.from_wkb(wkb)
    shapely.prepare(g)
    return g


def _blob_geom(blob):
    from gis.store.geopackage import _wkb_start

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
    from gis.store.geopackage import _envelope

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


def _ensure_gpkg_functions(store: Store) -> None:
    conn = store.connection()
    if getattr(store._local, "lg_functions", None) is conn:
        return
    conn.create_function("lg_spatial", 3, _lg_spatial, deterministic=True)
    conn.create_function("lg_bbox", 5, _lg_bbox, deterministic=True)
    store._local.lg_functions = conn


# =========================================================================================
# Items
# =========================================================================================

COUNT_CAP = 100_000
"""Filtered counts stop here: beyond it numberMatched is left out rather than counted (OGC allows it)."""
COUNT_TTL_S = 5.0
"""Layers without a revision (older stores) cache their count this many seconds."""


@dataclass
class ItemsQuery:
    limit: int = 100
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None  # lon/lat (EPSG:4490)
    where: list[Clause] = field(default_factory=list)
    properties: list[str] | None = None  # None: every visible column
    sortby: list[tuple[str, bool]] = field(default_factory=list)  # (column, descending)
    crs: OgcCrs = field(default_factory=lambda: SUPPORTED[CRS84])
    hidden: frozenset[str] = frozenset()  # columns the caller may not see (restricted fields)


@dataclass
class ItemsPage:
    features: list[str]  # each one GeoJSON Feature, serialised
    number_returned: int
    number_matched: int | None


_count_cache: dict[tuple[str, str], tuple[float, str | None, int]] = {}
"""(store url, layer) → (monotonic time, revision it was counted at, count)."""
_count_locks: dict[tuple[str, str], threading.Lock] = {}
_count_locks_guard = threading.Lock()


def _count_lock(key: tuple[str, str]) -> threading.Lock:
    with _count_locks_guard:
        lock = _count_locks.get(key)
        if lock is None:
            lock = _count_locks[key] = threading.Lock()
        return lock


def _count_fresh(hit: tuple[float, str | None, int] | None, revision: str | None) -> bool:
    if hit is None:
        return False
    at, counted_at, _ = hit
    if revision is not None:
        return counted_at == revision
    return counted_at is None and time.monotonic() - at < COUNT_TTL_S


def cached_count(store: Store, layer: str) -> int:
    """Row count of a whole layer, cached per process until the layer's revision changes.

    Single flight: when the revision moved, one thread counts and the others wait for its
    answer (they never get the pre-write count), so a 10^6-row COUNT(*) never runs on every
    waiting request at once. A layer without a revision keeps the old TTL behaviour: one thread
    refreshes an expired entry while the others answer with the previous value.
    """
    key = (store.url, layer)
    revision = store.revision(layer)  # before counting: the count can only be newer than its key
    hit = _count_cache.get(key)
    if _count_fresh(hit, revision):
        return hit[2]
    lock = _count_lock(key)
    if revision is None and hit is not None:
        if not lock.acquire(blocking=False):
            return hit[2]
    else:
        lock.acquire()
    try:
        hit = _count_cache.get(key)
        if _count_fresh(hit, revision):  # counted by the thread we waited for
            return hit[2]
        n = store.count(layer)
        _count_cache[key] = (time.monotonic(), revision, n)
    finally:
        lock.release()
    return n


def visible_columns(store: Store, layer: str, hidden: frozenset[str] | set[str] = frozenset()) -> dict[str, str]:
    from parcels.access import is_hidden

    return {c: k for c, k in store.columns(layer).items() if not is_hidden(c, frozenset(hidden))}


def _shown(text: str, limit: int = 60) -> str:
    """A name from the request as echoed in an error: shortened (a 20 000-character "field
    name" must not come back whole) and with NUL made visible."""
    text = text.replace("\x00", "\\0")
    return text if len(text) <= limit else text[:limit] + "…"


def check_properties(names: list[str], columns: dict[str, str]) -> list[str]:
    bad = [n for n in names if n not in columns]
    if bad:
        raise FilterError(f"properties 中的字段不存在或不可见：{_shown(', '.join(bad), 200)}。", hint="可用字段：" + ", ".join(columns) + "。")
    return names


def parse_sortby(text: str | None, columns: dict[str, str]) -> list[tuple[str, bool]]:
    """`sortby=name,-area_mu` (also `+name`) → [(column, descending)]; unknown fields are refused."""
    if not text:
        return []
    out = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        desc = part.startswith("-")
        name = part.lstrip("+-").strip()
        if name not in columns:
            raise FilterError(f"sortby 中的字段“{_shown(name)}”不存在或不可排序。", hint="可排序字段：" + ", ".join(columns) + "。")
        out.append((name, desc))
    if len(out) > 8:
        raise FilterError("sortby 字段过多（最多 8 个）。")
    return out


def _where(store: Store, layer: str, q: ItemsQuery) -> tuple[str, list]:
    pg = store.kind == "postgis"
    clauses: list[str] = []
    params: list = []
    if q.bbox is not None:
        x0, y0, x1, y1 = q.bbox
        if pg:
            clauses.append(f"geom && ST_MakeEnvelope(%s, %s, %s, %s, {STORE_EPSG}) AND ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, {STORE_EPSG}))")
            params += [x0, y0, x1, y1, x0, y0, x1, y1]
        else:
            _ensure_gpkg_functions(store)
            rt = quote(f"rtree_{layer}_geom")
            clauses.append(f"fid IN (SELECT id FROM {rt} WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?) AND lg_bbox(geom, ?, ?, ?, ?)")
            params += [x1, x0, y1, y0, x0, y0, x1, y1]
    for c in q.where:
        clauses.append(c.sql)
        params += c.params
    return (" WHERE " + _balanced("AND", clauses)) if clauses else "", params


def _order(store: Store, q: ItemsQuery) -> str:
    pg = store.kind == "postgis"
    parts = []
    for name, desc in q.sortby:
        ident = quote(name).replace("%", "%%") if pg else quote(name)
        parts.append(f"{ident} {'DESC NULLS LAST' if desc else 'ASC NULLS LAST'}")
    parts.append("fid")
    return " ORDER BY " + ", ".join(parts)


def _execute(store: Store, sql: str, params: list) -> list[tuple]:
    cur = store.connection().cursor()
    try:
        cur.execute(sql, params)
        return cur.fetchall()
    finally:
        cur.close()
        store._end_read()


def count_matched(store: Store, layer: str, q: ItemsQuery) -> int | None:
    if q.bbox is None and not q.where:
        return cached_count(store, layer)
    where, params = _where(store, layer, q)
    ph = "%s" if store.kind == "postgis" else "?"
    sql = f"SELECT count(*) FROM (SELECT 1 FROM {quote(layer)}{where} LIMIT {ph}) s"
    n = int(_execute(store, sql, params + [COUNT_CAP + 1])[0][0])
    return None if n > COUNT_CAP else n


def _pg_geom_expr(crs: OgcCrs) -> tuple[str, int]:
    g = "geom"
    if crs.transform_needed:
        g = f"ST_Transform(geom, {crs.epsg})"
    if crs.flip:
        g = f"ST_FlipCoordinates({g})"
    return g, (8 if crs.epsg == STORE_EPSG else 3)


def _pg_literal(text: str) -> str:
    return "'" + text.replace("'", "''").replace("%", "%%") + "'"


def _pg_feature_sql(columns: list[str], crs: OgcCrs) -> str:
    gexpr, prec = _pg_geom_expr(crs)
    if columns:
        chunks = [columns[i : i + 50] for i in range(0, len(columns), 50)]
        objs = [
            "jsonb_build_object(" + ", ".join(f"{_pg_literal(c)}, t.{quote(c).replace('%', '%%')}" for c in chunk) + ")" for chunk in chunks
        ]
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


def _gpkg_features(rows: list[tuple], columns: list[str], kinds: dict[str, str], crs: OgcCrs) -> list[str]:
    from gis.store.geopackage import decode

    n = len(columns)
    geoms = decode([r[n + 1] for r in rows])
    present = np.array([g is not None for g in geoms], dtype=bool)
    gjson = np.full(len(rows), "null", dtype=object)
    if present.any():
        sub = to_output(geoms[present], crs)
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


def _output_columns(store: Store, layer: str, q: ItemsQuery) -> tuple[list[str], dict[str, str]]:
    kinds = visible_columns(store, layer, q.hidden)
    cols = list(kinds) if q.properties is None else check_properties(q.properties, kinds)
    return cols, kinds


def fetch_items(store: Store, layer: str, q: ItemsQuery, *, with_count: bool = True) -> ItemsPage:
    """One page of a layer as serialised GeoJSON features, plus numberMatched when cheap."""
    cols, kinds = _output_columns(store, layer, q)
    where, params = _where(store, layer, q)
    order = _order(store, q)
    if store.kind == "postgis":
        sql = f"SELECT {_pg_feature_sql(cols, q.crs)} FROM {quote(layer)} t{where}{order} LIMIT %s OFFSET %s"
        rows = _execute(store, sql, params + [q.limit, q.offset])
        features = [r[0] for r in rows]
    else:
        select = ", ".join(["id"] + [quote(c) for c in cols] + ["geom"])
        sql = f"SELECT {select} FROM {quote(layer)}{where}{order} LIMIT ? OFFSET ?"
        rows = _execute(store, sql, params + [q.limit, q.offset])
        features = _gpkg_features(rows, cols, kinds, q.crs)
    matched = None
    if with_count:
        if q.offset == 0 and len(features) < q.limit:
            matched = len(features)
        else:
            matched = count_matched(store, layer, q)
    return ItemsPage(features, len(features), matched)


def fetch_item(store: Store, layer: str, feature_id: str, *, crs: OgcCrs | None = None, hidden: frozenset[str] = frozenset(), properties: list[str] | None = None) -> str | None:
    """One feature as serialised GeoJSON, or None."""
    q = ItemsQuery(limit=1, crs=crs or SUPPORTED[CRS84], hidden=hidden, properties=properties)
    cols, kinds = _output_columns(store, layer, q)
    if "\x00" in feature_id:  # no stored id holds NUL (and PostgreSQL text cannot even take it)
        return None
    if store.kind == "postgis":
        rows = _execute(store, f"SELECT {_pg_feature_sql(cols, q.crs)} FROM {quote(layer)} t WHERE id = %s", [feature_id])
        return rows[0][0] if rows else None
    select = ", ".join(["id"] + [quote(c) for c in cols] + ["geom"])
    rows = _execute(store, f"SELECT {select} FROM {quote(layer)} WHERE id = ?", [feature_id])
    return _gpkg_features(rows, cols, kinds, q.crs)[0] if rows else None


_extent_cache: dict[tuple[str, str], tuple[float, str | None, tuple | None]] = {}


def layer_extent(store: Store, layer: str, ttl: float = 30.0) -> tuple[float, float, float, float] | None:
    """The lon/lat extent of a layer (GeoPackage: its R-tree; PostGIS: ST_Extent), cached until
    the layer's revision changes (or for `ttl` seconds when the layer has none)."""
    key = (store.url, layer)
    revision = store.revision(layer)
    now = time.monotonic()
    hit = _extent_cache.get(key)
    if hit and (hit[1] == revision if revision is not None else hit[1] is None and now - hit[0] < ttl):
        return hit[2]
    if store.kind == "postgis":
        rows = _execute(store, f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) e FROM {quote(layer)}) s", [])
    else:
        rows = _execute(store, f"SELECT min(minx), min(miny), max(maxx), max(maxy) FROM {quote('rtree_' + layer + '_geom')}", [])
    ext = tuple(float(v) for v in rows[0]) if rows and rows[0][0] is not None else None
    _extent_cache[key] = (now, revision, ext)
    return ext
