"""Parse Chinese 四至 location texts ("信臣路以南、热电厂以西") into spatial constraints.

Plan tables and land files describe a parcel by the roads and landmarks around it, never by
coordinates. This module turns such a text into a list of `Constraint`s that the resolver
(`parcels.sizhi.resolve`) can intersect against the `roads`/`landmarks` layers. It is pure
text processing: no geometry, no I/O.

Meaning of `side` (SPEC §3.3): the side of the reference on which the area lies.

| phrasing                                   | constraint                              |
|--------------------------------------------|-----------------------------------------|
| X以南 / X之南 / X南侧 / X南面 / X路南       | {"ref": X, "side": "S"}                 |
| 北至X / 北临X / 北邻X / 北靠X / 北侧为X     | {"ref": X, "side": "S"} (X bounds the north) |
| X以东南 / X东南侧 / X以东、以南             | two constraints, "E" and "S"            |
| X两侧 / X两边 / X两旁 / X沿线               | {"ref": X, "side": "both"}              |
| X与Y交叉口(东南角)                          | {"ref": X, "side": "at", "with": Y, "corner": "SE"} |
| X附近 / X周边                               | {"ref": X, "side": "at"} (near X, no "with") |

`corner` is one of N, S, E, W, NE, NW, SE, SW and only present when the text names one; `with`
only for crossings. Every other constraint dict has exactly the keys `ref` and `side`, so the
SPEC example `东至独山大道，南至张衡路` prints exactly
`{"constraints": [{"ref": "独山大道", "side": "W"}, {"ref": "张衡路", "side": "N"}], ...}`.

References are kept verbatim (after NFKC width folding): "原西环路" stays "原西环路"; matching a
former name (原/旧/老) or "纬7路" against "纬七路" is the resolver's job, so a report always
shows what the text said. Text that no rule reads goes to `unparsed`, never silently away;
only pure filler ("所围合区域", "区域", "范围内", "一带", …) is dropped. A plot name in front
of the text ("梁庄安置地块位于…", "地块一：…", "王庄区域工业储备地 纬七路以北") becomes `prefix`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from gis.errors import InputError, RowError

SIDES = ("N", "S", "E", "W", "both", "at")
MAX_TEXT_LEN = 500
"""Longer input is not a location text; refusing it also bounds the regex work (hostile input)."""


class LocationTextError(InputError):
    """A location text that cannot be a 四至 description at all (too long)."""

CORNERS = ("N", "S", "E", "W", "NE", "NW", "SE", "SW")

_DIR = {"东": "E", "西": "W", "南": "S", "北": "N"}
_OPPOSITE = {"E": "W", "W": "E", "N": "S", "S": "N"}

# --- vocabulary ----------------------------------------------------------------------------
# Verbs of the boundary-first form "东至X": the area's east boundary is X.
_BVERB = r"(?:紧临|紧邻|紧靠|临近|邻近|毗邻|相邻|相接|至|临|邻|靠|接|抵|到|为|起)"
_BSTART = rf"[东西南北](?:侧|面|边|方|界)?{_BVERB}"
_SIDE_SUFFIX = r"(?:侧|面|边|方|部|首)"
_FILLER = r"(?:的)?(?:区域内?|地块|范围内?|一带|片区|区块|地段|用地|处|一线|沿线以内)?"
_CROSS = r"(?:交叉路口|交叉口|交叉处|交汇口|交汇处|交会口|交会处|交界处|交口|十字路口|丁字路口|路口)"
_BOTH = r"(?:两侧|两边|两旁|沿线|沿街|沿路)"
_NEAR = r"(?:附近|周边|周围|旁边|一侧|旁)"
_CONNECTOR = r"(?:以及|并且|及|和|与|并|且|同)"
_CONNECTOR_RE = re.compile(_CONNECTOR)
_NAME_STARTS = ("和", "与", "同")  # connectors that also begin common names (和平路, 同心路)
_ROAD_END = r"(?:大道|大街|路|街|道|巷|线|桥)"

# One character of a reference name: anything that does not start a direction marker.
_REFCH = (
    rf"(?:(?!以[东西南北]|之[东西南北]|{_BSTART}|{_BOTH}|{_CROSS}|{_NEAR}|[东西南北]{{1,2}}(?:侧|面|边|角))[^,;、。:])"
)
_REF = rf"{_REFCH}+?"
_DIRS = r"[东西南北]{1,2}"

_ITEM_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    # X与Y交叉口(东南角); X ends like a road in the first try so that "新和路和建设路交叉口" splits right.
    (
        "cross",
        re.compile(
            rf"(?P<x>{_REF}{_ROAD_END})(?:与|和|同|及|跟|、)(?P<y>{_REF}){_CROSS}(?:的)?"
            rf"(?:(?P<corner>东南|东北|西南|西北|[东西南北])(?:角|侧|方|面|部)?)?(?:{_NEAR})?{_FILLER}"
        ),
    ),
    (
        "cross",
        re.compile(
            rf"(?P<x>{_REF})(?:与|和|同|及|跟|、)(?P<y>{_REF}){_CROSS}(?:的)?"
            rf"(?:(?P<corner>东南|东北|西南|西北|[东西南北])(?:角|侧|方|面|部)?)?(?:{_NEAR})?{_FILLER}"
        ),
    ),
    # 东至X / 东临X / 东侧为X: up to the next boundary-first item or the end of the clause.
    (
        "bound",
        re.compile(
            rf"(?P<dir>[东西南北]{{1,2}})(?:侧|面|边|方|界)?{_BVERB}:?(?P<ref>(?:(?!{_BSTART}|{_CONNECTOR}{_BSTART})[^,;、。:])+?)"
            rf"(?:一线|边界|路边|红线)?(?=$|{_CONNECTOR}?{_BSTART})"
        ),
    ),
    # X以东 / X之东 / X以东南 / X以东以南 / X以东及以南 (+ filler)
    (
        "dir",
        re.compile(
            rf"(?P<ref>{_REF})(?P<dirs>(?:以|之){_DIRS}(?:{_CONNECTOR}?(?:以|之){_DIRS})*)"
            rf"(?:{_SIDE_SUFFIX})?(?:{_NEAR})?{_FILLER}"
        ),
    ),
    # X两侧 / X沿线
    ("both", re.compile(rf"(?P<ref>{_REF}){_BOTH}{_FILLER}")),
    # X东侧 / X东南角 / X北面
    (
        "dir",
        re.compile(rf"(?P<ref>{_REF})(?P<dirs>{_DIRS})(?:{_SIDE_SUFFIX}|角)(?:{_NEAR})?{_FILLER}"),
    ),
    # X附近
    ("near", re.compile(rf"(?P<ref>{_REF}){_NEAR}{_FILLER}")),
    # 以南 (no reference: inherits the previous clause's, as in "信臣路以东、以南")
    ("bare", re.compile(rf"(?P<dirs>(?:以|之){_DIRS}(?:{_CONNECTOR}?(?:以|之)?{_DIRS})*)(?:{_SIDE_SUFFIX})?{_FILLER}")),
    # 信臣路北 (bare direction after a road-like name, only at the end of a clause)
    ("dir", re.compile(rf"(?P<ref>{_REF}{_ROAD_END})(?P<dirs>[东西南北])(?=$|{_CONNECTOR})")),
]

_PURE_FILLER = re.compile(
    r"^(?:所?围合?(?:的)?|所包围的|之间的)?(?:区域内?|地块|范围内?|一带|片区|区块|地段|用地|处|等|附近区域|四至范围|四至|位置)?$"
)
_TRAILING_FILLER = re.compile(r"(?:所?围合|所包围|围成)(?:的)?(?:区域|地块|范围)?内?$")
_LOCATOR = re.compile(r"(?:坐落于|座落于|坐落在|座落在|位于|地处|处于|位置在|位置为|地点在|地点为|地点位于|建设地点|位置)")
_PLOT_NAME = re.compile(r"(?:地块|储备地|储备用地|项目|用地|宗地|安置区|小区|一期|二期|三期|[)\]】」]|[一二三四五六七八九十\d]+号?)$")
_QUOTES = str.maketrans("", "", "“”\"'‘’《》「」『』【】")
_NUM_LABEL = re.compile(r"^(?:\(?[\d一二三四五六七八九十]+\)|[\d一二三四五六七八九十]+[.、])")


@dataclass(frozen=True)
class Constraint:
    """One spatial constraint: the area lies on `side` of the feature named `ref`."""

    ref: str
    side: str
    with_: str | None = None  # the second road of a crossing ("with" in JSON)
    corner: str | None = None  # corner of a crossing / side of a landmark, when the text says
    # Other readings of `ref` the resolver tries when `ref` itself is not found: "和平路" when
    # "以南和平路以北" was split after the connector 和. Not part of the JSON unless present.
    alternatives: tuple[str, ...] = field(default=(), compare=False)

    def to_json(self) -> dict:
        out: dict = {"ref": self.ref, "side": self.side}
        if self.with_ is not None:
            out["with"] = self.with_
        if self.corner is not None:
            out["corner"] = self.corner
        if self.alternatives:
            out["alternatives"] = list(self.alternatives)
        return out

    @property
    def refs(self) -> list[str]:
        """Every name this constraint depends on (two for a crossing)."""
        return [self.ref] + ([self.with_] if self.with_ else [])


@dataclass
class ParsedLocation:
    text: str
    constraints: list[Constraint] = field(default_factory=list)
    unparsed: list[str] = field(default_factory=list)
    prefix: str | None = None

    @property
    def refs(self) -> list[str]:
        """Distinct reference names in order of first mention."""
        seen: dict[str, None] = {}
        for c in self.constraints:
            for r in c.refs:
                seen.setdefault(r, None)
        return list(seen)

    def to_json(self) -> dict:
        return {
            "constraints": [c.to_json() for c in self.constraints],
            "unparsed": list(self.unparsed),
            "text": self.text,
            "prefix": self.prefix,
        }


# --- normalisation -------------------------------------------------------------------------


_WS = re.compile(r"\s+")
_GLUE_AFTER = re.compile(
    rf"^(?:以[东西南北]|之[东西南北]|{_BOTH}|{_CROSS}|交叉|{_NEAR}|[东西南北]{{1,2}}(?:侧|面|边|角)|{_CONNECTOR}|、|,)"
)
_GLUE_BEFORE = re.compile(rf"(?:{_BSTART}|{_CONNECTOR}|、|,|:)$")


def _whitespace(m: re.Match[str]) -> str:
    before, after = m.string[: m.start()], m.string[m.end() :]
    if _GLUE_AFTER.match(after) or _GLUE_BEFORE.search(before):
        return ""
    return ","


def normalize_text(text: str) -> str:
    """Fold widths (NFKC: "，" → ",", "；" → ";", "：" → ":"), unify separators, drop quotes.

    Whitespace next to a direction marker is glue ("信臣路 以南"); elsewhere it separates
    clauses ("王庄储备地 纬七路以北").
    """
    t = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    t = re.sub(r"[，,;；。!！?？\n\r\t|]+", ",", t)
    t = re.sub(r"[、]+", "、", t)
    t = re.sub(r"\s*\(([^()]*)\)", lambda m: "(" + re.sub(r"\s+", "", m.group(1)) + ")", t)
    t = _WS.sub(_whitespace, t.strip())
    # "X、Y交叉口": the ideographic comma joins the two roads of a crossing, it does not split.
    t = re.sub(rf"([^,、]+?)、([^,、]+?{_CROSS})", r"\1与\2", t)
    return t.strip(",")


def _split_prefix(t: str) -> tuple[str | None, str]:
    """Take a "项目位于" lead-in, a "地块一:" label or a "1." number off the front of the text."""
    prefix = None
    m = _LOCATOR.search(t)
    if m is not None and not _has_marker(t[: m.start()]):
        prefix = t[: m.start()].strip(",:、") or None
        t = t[m.end() :].lstrip(",:、")
    if ":" in t:
        head, tail = t.rsplit(":", 1)
        if tail and not _has_marker(head):
            prefix = ",".join(p for p in (prefix, head.strip(",、")) if p) or None
            t = tail
    t = _NUM_LABEL.sub("", t)
    return prefix, t.strip(",、")


_MARKER = re.compile(rf"以[东西南北]|之[东西南北]|{_BSTART}|{_BOTH}|{_CROSS}|[东西南北]{_SIDE_SUFFIX}|{_NEAR}")


def _has_marker(s: str) -> bool:
    return bool(_MARKER.search(s))


def _dirs(s: str) -> list[str]:
    return [_DIR[ch] for ch in s if ch in _DIR]


def _clean_ref(ref: str) -> str:
    """Trim glue characters; a "name" made only of direction words ("东西两侧") is no name."""
    ref = ref.strip(" ,、:的在于").strip()
    return "" if re.fullmatch(r"[东西南北以之]*", ref) else ref


def _corner(s: str | None) -> str | None:
    if not s:
        return None
    d = _dirs(s)
    # Chinese names the east/west part first ("东南"); the code is N/S first ("SE").
    ns = [x for x in d if x in "NS"]
    ew = [x for x in d if x in "EW"]
    return "".join(ns + ew) or None


def _parse_clause(clause: str, last_ref: str | None) -> tuple[list[Constraint], str | None, str | None]:
    """Read items left to right; return the constraints, the last ref named, and the unread rest."""
    out: list[Constraint] = []
    pos = 0
    n = len(clause)
    while pos < n:
        if clause[pos] in "、,":
            pos += 1
            continue
        conn = _CONNECTOR_RE.match(clause, pos)
        if conn and out:
            # "以南和平路以北": the connector may be the first character of the next name.
            # Read past it, and let the resolver try the name with it ("和平路") as a fallback.
            glued = conn.group(0) if conn.group(0) in _NAME_STARTS else None
            pos = conn.end()
            more, last_ref, rest = _parse_clause(clause[pos:], last_ref)
            if glued and more:
                first = more[0]
                more[0] = Constraint(first.ref, first.side, first.with_, first.corner, alternatives=(glued + first.ref,))
            out.extend(more)
            return out, last_ref, rest
        for kind, pat in _ITEM_PATTERNS:
            m = pat.match(clause, pos)
            if m is None or m.end() == pos:
                continue
            if kind == "bare" and last_ref is None:
                continue
            if kind == "cross":
                x, y = _clean_ref(m.group("x")), _clean_ref(m.group("y"))
                if not x or not y:
                    continue
                out.append(Constraint(x, "at", with_=y, corner=_corner(m.group("corner"))))
                last_ref = x
            elif kind == "bound":
                ref = _clean_ref(m.group("ref"))
                if not ref:
                    continue
                out.extend(Constraint(ref, _OPPOSITE[d]) for d in _dirs(m.group("dir")))
                last_ref = ref
            elif kind == "both":
                ref = _clean_ref(m.group("ref"))
                if not ref:
                    continue
                out.append(Constraint(ref, "both"))
                last_ref = ref
            elif kind == "near":
                ref = _clean_ref(m.group("ref"))
                if not ref:
                    continue
                out.append(Constraint(ref, "at"))
                last_ref = ref
            else:  # dir / bare
                ref = last_ref if kind == "bare" else _clean_ref(m.group("ref"))
                if not ref:
                    continue
                out.extend(Constraint(ref, d) for d in _dirs(m.group("dirs")))
                last_ref = ref
            pos = m.end()
            break
        else:
            return out, last_ref, clause[pos:]
    return out, last_ref, None


def _strip_plot_name(c: Constraint) -> tuple[Constraint, str | None]:
    """'王庄区域工业储备地纬七路' → ('纬七路', '王庄区域工业储备地'): a plot name glued to the first ref."""
    ref = c.ref
    best = None
    for m in re.finditer(r"(?:地块|储备地|储备用地|项目|宗地|安置区)(?:\([^)]*\))?", ref):
        if m.end() < len(ref) - 1:
            best = m
    if best is None:
        return c, None
    return Constraint(ref[best.end() :], c.side, c.with_, c.corner), ref[: best.end()]


def parse_location(text: str) -> ParsedLocation:
    """Parse a 四至 location text into constraints (see the module docstring for the grammar).

    Never raises on odd text: what cannot be read is returned in `.unparsed`. A text over
    `MAX_TEXT_LEN` characters raises `LocationTextError` (a ValueError); a non-string is a
    programming error and raises `TypeError`.
    """
    if text is None:
        return ParsedLocation(text="", unparsed=[])
    if not isinstance(text, str):
        raise TypeError(f"位置文字应为字符串，得到 {type(text).__name__}")
    if len(text) > MAX_TEXT_LEN:
        raise LocationTextError(
            f"位置文字过长（{len(text)} 字，上限 {MAX_TEXT_LEN} 字），不像四至描述。",
            [RowError(None, "location", "文字过长")],
            hint="请只填写四至，如“信臣路以南、热电厂以西”。",
        )
    original = text
    t = normalize_text(text)
    prefix, t = _split_prefix(t)
    t = _TRAILING_FILLER.sub("", t).strip(",、")
    clauses = [c for c in re.split(r"[,]", t) if c]
    constraints: list[Constraint] = []
    unparsed: list[str] = []
    last_ref: str | None = None
    leading = True
    for clause in clauses:
        for piece in _split_ideographic(clause):
            if _PURE_FILLER.match(piece):
                continue
            cs, last_ref, rest = _parse_clause(piece, last_ref)
            if leading and cs:
                first, plot = _strip_plot_name(cs[0])
                if plot:
                    cs[0] = first
                    prefix = ",".join(p for p in (prefix, plot) if p)
                    if last_ref == plot + first.ref:
                        last_ref = first.ref
            if leading and not cs and rest and not _has_marker(rest) and _PLOT_NAME.search(rest):
                prefix = ",".join(p for p in (prefix, rest) if p)
                continue
            constraints.extend(cs)
            if rest and not _PURE_FILLER.match(rest):
                unparsed.append(rest)
            if cs:
                leading = False
    # drop exact duplicates, keep order
    seen: set[Constraint] = set()
    unique = []
    for c in constraints:
        if c not in seen:
            seen.add(c)
            unique.append(c)
    return ParsedLocation(text=original, constraints=unique, unparsed=unparsed, prefix=prefix or None)


def _split_ideographic(clause: str) -> list[str]:
    """Split a clause on "、" (crossings "X、Y交叉口" were already rewritten to "X与Y交叉口")."""
    return [p for p in clause.split("、") if p]
