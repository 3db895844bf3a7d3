"""CQL2 for the items query: the hardened parse (prescan + parser processes) and the
translation of the standard CQL2-JSON tree into bound SQL through a store's `Dialect`.

The text or JSON filter is parsed by `cql2` (the maintained Rust implementation of OGC CQL2),
which hands back the standard CQL2-JSON tree; that tree is walked here and turned into SQL whose
every literal is a bound parameter and whose every identifier is a column the layer really has.
Nothing from the request is ever spliced into SQL text. The translator never asks which store it
runs on: placeholders, identifiers, LIKE, geometry literals and spatial predicates (the R-tree
subquery on GeoPackage) come from the dialect (gis/store/dialect.py).
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import math
import re
from dataclasses import dataclass

import numpy as np
import shapely
import shapely.geometry

from gis.crs import STORE_XY, AxisCrs, geoms_from_axis_crs
from gis.store.dialect import Dialect
from gis.store.items import Clause, FilterError, _shown
from gis.workers import JSON, PoolBusy, WorkerError, WorkerLost, WorkerPool, program


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
COMPARISONS = {"=": "=", "<>": "<>", "<": "<", ">": ">", "<=": "<=", ">=": ">="}


@dataclass
class _Val:
    sql: str
    params: list
    kind: str  # INTEGER | REAL | TEXT | BOOLEAN | NUMBER (literal) | NULL | GEOMETRY | BOOL (predicate)
    folded: bool = False  # a case-folded text expression (CASEI)


def _numeric(kind: str) -> bool:
    return kind in ("INTEGER", "REAL", "NUMBER")


class _Translator:
    def __init__(self, dialect: Dialect, layer: str, columns: dict[str, str], filter_crs: AxisCrs):
        self.d = dialect
        self.layer = layer
        self.columns = columns
        self.filter_crs = filter_crs
        self.nodes = 0

    # -- helpers ------------------------------------------------------------------------
    def ph(self) -> str:
        return self.d.ph

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
        return self.d.ident(name)

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
        geom = geoms_from_axis_crs(np.array([geom], dtype=object), self.filter_crs)[0]
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        wkb = shapely.to_wkb(geom, output_dimension=2)
        return _Val(self.d.geometry_param(), [wkb], "GEOMETRY")

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
                if not a.folded:
                    a = _Val(self.d.fold(a.sql), a.params, "TEXT", folded=True)
            if not isinstance(pattern_node, str):
                self.fail("LIKE 的模式必须是文本，如 '%光电%'。")
            self.check_text(pattern_node)
            if a.folded:
                pattern_node = pattern_node.lower()
            like = self.d.like(a.sql, pattern_node)
            return _Val(like.sql, a.params + like.params, "BOOL")
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
            return _Val(self.d.fold(a.sql), a.params, "TEXT", folded=True)
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
        # b is a geometry literal: its one parameter is the lon/lat WKB
        c = self.d.spatial(self.layer, op, b.params[0])
        return _Val(c.sql, c.params, "BOOL")


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


class _ParserPool:
    """Up to PARSE_WORKERS parser processes (gis/workers.py, JSON frames: the worker reads text
    from anyone, so its answers are never unpickled). A worker that crashes or overruns
    PARSE_TIMEOUT_S is killed and replaced by the next request; both are counted and logged —
    a worker that dies on every filter (e.g. cql2 missing) must not pass for a run of bad filters."""

    def __init__(self, size: int):
        self.workers = WorkerPool(program("gis.cql2_parse:parse_handler", JSON), JSON, size, PARSE_WAIT_S)
        self.crashes = 0
        self.timeouts = 0

    def parse(self, lang: str, text: str) -> dict:
        try:
            return self.workers.ask({"lang": lang, "text": text}, PARSE_TIMEOUT_S)
        except PoolBusy:
            raise FilterError("过滤条件解析繁忙，请稍后重试。", hint="同时提交的复杂过滤条件过多。") from None
        except WorkerError as exc:  # e.g. a tree nested too deep to send back
            return {"error": str(exc)}
        except WorkerLost as gone:
            logging.getLogger("landgis.query").warning("CQL2 parser worker lost (%s) on a %d-character %s filter; replaced", gone.reason, len(text), lang)
            if gone.reason == "timeout":
                self.timeouts += 1
                raise _too_complex(f"解析超过 {PARSE_TIMEOUT_S:g} 秒") from None
            self.crashes += 1
            raise FilterError(f"过滤条件（{lang}）无法解析：解析器无法处理这样的结构。", hint="请简化过滤条件（减少嵌套与连续运算符）。") from None

    def close(self) -> None:
        self.workers.close()


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


def cql2_to_sql(store, layer: str, tree: dict, columns: dict[str, str], filter_crs: AxisCrs | None = None) -> Clause:
    """A CQL2-JSON tree → a WHERE fragment with bound parameters in the store's dialect
    (`store` is a Store, or a Dialect itself)."""
    dialect = store if isinstance(store, Dialect) else store.dialect
    t = _Translator(dialect, layer, columns, filter_crs or STORE_XY)
    return t.predicate(tree)
