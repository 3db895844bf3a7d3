"""Policy files of SPEC §5.2: load a TOML, validate it, refuse it in Chinese naming the key.

亩均 scoring is local policy that changes every year (DOMAIN §0.1), so nothing about weights,
benchmarks or class cut-offs lives in code: it lives in a TOML an official can read and edit.
A wrong key must fail loudly and say where (`above_scale.indicator[2].cap`), because a silently
ignored typo would re-rank a whole district. Documentation keys (`source`, `status`, `note`,
`assumptions`, ...) are allowed anywhere; other unknown keys are reported as warnings.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from parcels.efficiency.errors import PolicyError
from parcels.efficiency.indicators import INDICATORS

POLICY_DIR = Path(__file__).resolve().parent.parent / "policies"
GROUPS = ("above_scale", "below_scale")
GROUP_LABELS_ZH = {"above_scale": "规上企业", "below_scale": "规下企业"}
CLASSINGS = ("share", "threshold", "henan2019")
MISSING_RULES = ("group_mean_score",)
DOC_KEYS = {"source", "status", "note", "notes", "label", "unit", "description", "assumptions",
            "assumption", "year", "version", "jurisdiction", "comment", "name", "label_zh", "verified"}


@dataclass(frozen=True)
class IndicatorRule:
    key: str
    weight: float
    benchmark: str | float  # "mean" | "median" | number
    cap: float
    floor: float = 0.0
    missing: str | None = None
    status: str = ""
    note: str = ""


@dataclass(frozen=True)
class BonusRule:
    """A 加减分 item (`[[<class>.adjustment]]`): `points` added to the total when `flag` is set."""

    flag: str
    points: float
    label: str = ""


@dataclass(frozen=True)
class GroupPolicy:
    group: str  # "above_scale" | "below_scale"
    classing: str
    classes: tuple[tuple[str, Fraction], ...]  # share/henan2019: shares; threshold: minimum totals
    indicators: tuple[IndicatorRule, ...]
    bonuses: tuple[BonusRule, ...] = ()
    min_land_mu: float = 0.0
    default_class: str = ""  # threshold: the class below the last threshold
    a_pool: Fraction = Fraction(1, 2)
    c_pool: Fraction = Fraction(1, 2)
    a_resort: str = "tax_per_mu"
    c_resort: str = "revenue_per_energy"

    @property
    def class_names(self) -> list[str]:
        """Every class a row of this group can end in, best first."""
        if self.classing == "henan2019":
            return ["A", "B", "C"]
        names = [c for c, _ in self.classes]
        if self.classing == "threshold":
            names.append(self.default_class)
        return names

    @property
    def needs_land(self) -> bool:
        keys = [r.key for r in self.indicators]
        if self.classing == "henan2019":
            keys += [self.a_resort, self.c_resort]
        return self.min_land_mu > 0 or any(INDICATORS[k].per_mu for k in keys)


@dataclass(frozen=True)
class InefficientRules:
    """Thresholds of the 低效用地 screen (SPEC §5.4); `unverified` names the provisional ones."""

    classes: tuple[str, ...] = ()
    idle: bool = True
    floor_area_ratio_below: float | None = None
    building_coverage_below: float | None = None
    tax_per_mu_share_of_mean_below: float | None = None
    no_enterprise: bool = False
    unverified: frozenset[str] = frozenset()
    source: str = ""
    consecutive_years: int = 2
    """Years in a row in the lowest class before an enterprise's land is 低效 (SPEC §5.4: two)."""


@dataclass(frozen=True)
class Measure:
    """A 差别化措施 (`[[measures]]`, SPEC §5.5): what follows from a class, by consecutive years.

    `min_years`/`max_years` count consecutive evaluated years in the class (`consecutive_low`
    for the lowest class; other classes count one year). `status` is "confirmed" only when the
    source is this policy's own published scheme; anything else is shown marked on every row."""

    cls: str
    name: str
    min_years: int = 1
    max_years: int | None = None
    value: float | None = None
    unit: str = ""
    group: str = ""
    source: str = ""
    status: str = ""

    @property
    def confirmed(self) -> bool:
        return self.status == "confirmed"

    def text(self) -> str:
        """The measure as a row lists it: 用电加价 0.10 元/千瓦时（示例，未核实）."""
        v = f" {self.value:g} {self.unit}".rstrip() if self.value is not None else ""
        mark = "" if self.confirmed else f"（{self.status or '未核实'}）"
        return f"{self.name}{v}{mark}"


@dataclass(frozen=True)
class Policy:
    name: str
    source: str
    groups: dict[str, GroupPolicy]
    inefficient: InefficientRules = InefficientRules()
    measures: tuple[Measure, ...] = ()
    id: str = ""  # bundled name or file stem
    path: str = ""
    assumptions: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def indicator_keys(self) -> list[str]:
        """Weighted indicator keys of all groups, above-scale first, in policy order."""
        keys: list[str] = []
        for g in GROUPS:
            if g in self.groups:
                for r in self.groups[g].indicators:
                    if r.key not in keys:
                        keys.append(r.key)
        return keys


# --- validation helpers ---------------------------------------------------------------------


class _Checker:
    def __init__(self) -> None:
        self.errors: list[dict] = []
        self.warnings: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append({"row": None, "field": path, "message": f"{path}：{message}"})

    def number(self, table: dict, key: str, path: str, *, required: bool = False, default=None,
               minimum: float | None = None, positive: bool = False):
        if key not in table:
            if required:
                self.fail(f"{path}.{key}", "缺少此项（必填）")
            return default
        v = table[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            self.fail(f"{path}.{key}", f"应为数字，实际为 {v!r}")
            return default
        v = float(v)
        if v != v or v in (float("inf"), float("-inf")):
            self.fail(f"{path}.{key}", "不能是 nan 或 inf")
            return default
        if positive and v <= 0:
            self.fail(f"{path}.{key}", f"应大于 0，实际为 {v:g}")
            return default
        if minimum is not None and v < minimum:
            self.fail(f"{path}.{key}", f"应不小于 {minimum:g}，实际为 {v:g}")
            return default
        return v

    def fraction(self, table: dict, key: str, path: str, default: Fraction) -> Fraction:
        if key not in table:
            return default
        v = self.number(table, key, path)
        if v is None:
            return default
        if not 0 < v <= 1:
            self.fail(f"{path}.{key}", f"应在 (0, 1] 之间，实际为 {v:g}")
            return default
        return exact(table[key])

    def unknown(self, table: dict, known: set[str], path: str) -> None:
        for k in table:
            if k not in known and k not in DOC_KEYS:
                self.warnings.append(f"{path}.{k}：未知的键，已忽略（请检查拼写）")


def exact(v: int | float) -> Fraction:
    """The decimal the official typed (0.15 → 3/20), so floor(n × share + 0.5) is exact."""
    return Fraction(str(v)) if isinstance(v, float) else Fraction(v)


def _indicator(c: _Checker, t: object, path: str) -> IndicatorRule | None:
    if not isinstance(t, dict):
        c.fail(path, "应为一个表（[[...indicator]]）")
        return None
    c.unknown(t, {"key", "weight", "benchmark", "cap", "floor", "missing"}, path)
    key = t.get("key")
    if key not in INDICATORS:
        c.fail(f"{path}.key", f"未知指标 {key!r}；可用指标：{', '.join(INDICATORS)}")
        key = None
    weight = c.number(t, "weight", path, required=True, minimum=0)
    bench = t.get("benchmark", "mean")
    if isinstance(bench, str):
        if bench not in ("mean", "median"):
            c.fail(f"{path}.benchmark", f"应为 \"mean\"、\"median\" 或正数，实际为 {bench!r}")
    else:
        bench = c.number(t, "benchmark", path, positive=True)
    cap = c.number(t, "cap", path, required=True, positive=True)
    floor = c.number(t, "floor", path, default=0.0, minimum=0)
    if cap is not None and floor is not None and floor > cap:
        c.fail(f"{path}.floor", f"下限 {floor:g} 大于上限 cap {cap:g}")
    missing = t.get("missing")
    if missing is not None and missing not in MISSING_RULES:
        c.fail(f"{path}.missing", f"只支持 \"group_mean_score\"，实际为 {missing!r}")
    if key is None or weight is None or bench is None or cap is None or floor is None:
        return None
    return IndicatorRule(key, weight, bench, cap, floor, missing, str(t.get("status", "")), str(t.get("note", t.get("source", ""))))


def _group(c: _Checker, g: str, t: object, top_min_land: float) -> GroupPolicy | None:
    path = g
    if not isinstance(t, dict):
        c.fail(path, "应为一个表（[above_scale] / [below_scale]）")
        return None
    c.unknown(t, {"classing", "classes", "indicator", "indicators", "adjustment", "adjustments", "min_land_mu",
                  "a_pool", "c_pool", "a_resort", "c_resort", "default_class"}, path)
    classing = t.get("classing")
    if classing not in CLASSINGS:
        c.fail(f"{path}.classing", f"应为 \"share\"、\"threshold\" 或 \"henan2019\"，实际为 {classing!r}")
    raw_inds = t.get("indicator", t.get("indicators"))
    inds: list[IndicatorRule] = []
    if not isinstance(raw_inds, list) or not raw_inds:
        c.fail(f"{path}.indicator", "至少需要一个指标（[[" + g + ".indicator]]）")
    else:
        seen: set[str] = set()
        for i, it in enumerate(raw_inds, start=1):
            r = _indicator(c, it, f"{path}.indicator[{i}]")
            if r is not None:
                if r.key in seen:
                    c.fail(f"{path}.indicator[{i}].key", f"指标 {r.key} 重复")
                seen.add(r.key)
                inds.append(r)
    bonuses: list[BonusRule] = []
    raw_b = t.get("adjustment", t.get("adjustments", []))
    if not isinstance(raw_b, list):
        c.fail(f"{path}.adjustment", "应为表数组（[[" + g + ".adjustment]]）")
        raw_b = []
    for i, b in enumerate(raw_b, start=1):
        bp = f"{path}.adjustment[{i}]"
        if not isinstance(b, dict):
            c.fail(bp, "应为一个表")
            continue
        c.unknown(b, {"flag", "points"}, bp)
        flag = b.get("flag")
        if not isinstance(flag, str) or not flag.strip():
            c.fail(f"{bp}.flag", "缺少标记名（如 flag = \"high_tech\"）")
            continue
        pts = c.number(b, "points", bp, required=True)
        if pts is not None:
            bonuses.append(BonusRule(flag.strip(), pts, str(b.get("label", ""))))
    min_land = c.number(t, "min_land_mu", path, default=top_min_land, minimum=0)
    raw_classes = t.get("classes")
    classes: list[tuple[str, Fraction]] = []
    default_class = ""
    a_pool = c_pool = Fraction(1, 2)
    a_resort, c_resort = "tax_per_mu", "revenue_per_energy"
    if not isinstance(raw_classes, dict) or not raw_classes:
        c.fail(f"{path}.classes", "缺少等级划分（如 classes = { A = 0.2, B = 0.5, C = 0.25, D = 0.05 }）")
    elif classing in CLASSINGS:
        for name, v in raw_classes.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v:
                c.fail(f"{path}.classes.{name}", f"应为数字，实际为 {v!r}")
            else:
                classes.append((str(name), exact(v)))
        if classing == "share":
            if all(len(n) == 1 for n, _ in classes):
                classes.sort(key=lambda x: x[0])
            for n_, v in classes:
                if v < 0 or v > 1:
                    c.fail(f"{path}.classes.{n_}", f"比例应在 0～1 之间，实际为 {float(v):g}")
            total = sum((v for _, v in classes), Fraction(0))
            if classes and abs(total - 1) > Fraction(1, 10**6):
                c.fail(f"{path}.classes", f"各等级比例之和应为 1，实际为 {float(total):g}")
        elif classing == "threshold":
            classes.sort(key=lambda x: -x[1])
            default_class = t.get("default_class")
            if default_class is None:
                last = max(n for n, _ in classes) if classes else "C"
                if len(last) == 1 and last.isalpha() and last.upper() != "Z":
                    default_class = chr(ord(last) + 1)
                else:
                    c.fail(f"{path}.default_class", "等级名不是单个字母时，须用 default_class 指定最低档等级名")
                    default_class = ""
            default_class = str(default_class)
        else:  # henan2019
            names = {n for n, _ in classes}
            if names != {"A", "C"}:
                c.fail(f"{path}.classes", f"henan2019 需要且只需要 A 与 C 的比例（B 为其余），实际为 {sorted(names)}")
            for n_, v in classes:
                if not 0 <= v <= 1:
                    c.fail(f"{path}.classes.{n_}", f"比例应在 0～1 之间，实际为 {float(v):g}")
            a_pool = c.fraction(t, "a_pool", path, Fraction(1, 2))
            c_pool = c.fraction(t, "c_pool", path, Fraction(1, 2))
            a_resort = t.get("a_resort", "tax_per_mu")
            c_resort = t.get("c_resort", "revenue_per_energy")
            for k, v in (("a_resort", a_resort), ("c_resort", c_resort)):
                if v not in INDICATORS:
                    c.fail(f"{path}.{k}", f"未知指标 {v!r}；可用指标：{', '.join(INDICATORS)}")
    if classing not in CLASSINGS or not inds or min_land is None:
        return None
    return GroupPolicy(g, classing, tuple(classes), tuple(inds), tuple(bonuses), float(min_land), default_class,
                       a_pool, c_pool, str(a_resort), str(c_resort))


def _inefficient(c: _Checker, t: object) -> InefficientRules:
    if t is None:
        return InefficientRules()
    if not isinstance(t, dict):
        c.fail("inefficient", "应为一个表（[inefficient]）")
        return InefficientRules()
    known = {"classes", "idle", "floor_area_ratio_below", "building_coverage_below",
             "tax_per_mu_share_of_mean_below", "no_enterprise", "unverified", "consecutive_years"}
    c.unknown(t, known, "inefficient")
    classes = t.get("classes", [])
    if not isinstance(classes, list) or not all(isinstance(x, str) for x in classes):
        c.fail("inefficient.classes", "应为等级名列表，如 [\"D\"]")
        classes = []
    unverified = t.get("unverified", [])
    if not isinstance(unverified, list):
        c.fail("inefficient.unverified", "应为键名列表")
        unverified = []
    for k in ("idle", "no_enterprise"):
        if k in t and not isinstance(t[k], bool):
            c.fail(f"inefficient.{k}", "应为 true 或 false")
    return InefficientRules(
        tuple(classes),
        bool(t.get("idle", True)),
        c.number(t, "floor_area_ratio_below", "inefficient", minimum=0),
        c.number(t, "building_coverage_below", "inefficient", minimum=0),
        c.number(t, "tax_per_mu_share_of_mean_below", "inefficient", minimum=0),
        bool(t.get("no_enterprise", False)),
        frozenset(str(x) for x in unverified),
        str(t.get("source", "")),
        int(c.number(t, "consecutive_years", "inefficient", default=2, minimum=1) or 2),
    )


def _measures(c: _Checker, raw: object, groups: dict) -> tuple[Measure, ...]:
    """`[[measures]]`: class, name, years, value and unit, each with its source and status."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        c.fail("measures", "应为表数组（[[measures]]）")
        return ()
    known_classes = {n for gp in groups.values() for n in gp.class_names}
    out = []
    for i, m in enumerate(raw, start=1):
        path = f"measures[{i}]"
        if not isinstance(m, dict):
            c.fail(path, "应为一个表")
            continue
        c.unknown(m, {"class", "name", "min_years", "max_years", "value", "unit", "group"}, path)
        cls, name = m.get("class"), m.get("name")
        if not isinstance(cls, str) or (known_classes and cls not in known_classes):
            c.fail(f"{path}.class", f"应为本政策的等级之一（{'、'.join(sorted(known_classes))}），实际为 {cls!r}")
            continue
        if not isinstance(name, str) or not name.strip():
            c.fail(f"{path}.name", "缺少措施名称（如 name = \"用电加价\"）")
            continue
        for k in ("source", "status"):
            if not str(m.get(k, "")).strip():
                c.fail(f"{path}.{k}", "每项措施须注明来源（source）与核实状态（status）")
        lo = c.number(m, "min_years", path, default=1, minimum=1)
        hi = c.number(m, "max_years", path, default=None, minimum=1)
        val = c.number(m, "value", path, default=None)
        group = m.get("group", "")
        if group and group not in GROUPS:
            c.fail(f"{path}.group", f"应为 above_scale 或 below_scale，实际为 {group!r}")
        if lo is None or (hi is not None and hi < lo):
            c.fail(f"{path}.max_years", "max_years 不能小于 min_years")
            continue
        out.append(Measure(cls, name.strip(), int(lo), int(hi) if hi is not None else None, val, str(m.get("unit", "")),
                           str(group), str(m.get("source", "")), str(m.get("status", ""))))
    return tuple(out)


def policy_from_dict(data: dict, *, id: str = "", path: str = "") -> Policy:
    """Validate a parsed policy; raise `PolicyError` listing every bad key at once."""
    c = _Checker()
    if not isinstance(data, dict):
        raise PolicyError("评价政策文件格式错误：顶层应为 TOML 表。")
    c.unknown(data, {"name", "source", "above_scale", "below_scale", "inefficient", "min_land_mu", "id", "measures"}, "(顶层)")
    top_min = c.number(data, "min_land_mu", "(顶层)", default=0.0, minimum=0) or 0.0
    groups: dict[str, GroupPolicy] = {}
    for g in GROUPS:
        if g in data:
            gp = _group(c, g, data[g], top_min)
            if gp is not None:
                groups[g] = gp
    if not any(g in data for g in GROUPS):
        c.fail("above_scale", "政策至少要定义 [above_scale] 或 [below_scale] 之一")
    ineff = _inefficient(c, data.get("inefficient"))
    measures = _measures(c, data.get("measures"), groups)
    if c.errors:
        where = f"（{path or id}）" if (path or id) else ""
        raise PolicyError(
            f"评价政策{where}有 {len(c.errors)} 处错误。",
            c.errors,
            hint="请对照 SPEC §5.2 的政策文件格式修改所列的键。",
        )
    assumptions = data.get("assumptions", [])
    if isinstance(assumptions, str):
        assumptions = [assumptions]
    return Policy(
        name=str(data.get("name", id or "未命名评价政策")),
        source=str(data.get("source", "")),
        groups=groups,
        inefficient=ineff,
        measures=measures,
        id=id,
        path=path,
        assumptions=tuple(str(a) for a in assumptions),
        warnings=tuple(c.warnings),
        raw=data,
    )


def parse_policy_text(text: str, *, id: str = "", path: str = "") -> Policy:
    """A policy from TOML text (e.g. uploaded with an API request)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"评价政策文件不是有效的 TOML：{exc}", hint="请检查引号、方括号和等号是否成对、完整。") from exc
    return policy_from_dict(data, id=id, path=path)


def bundled_policies() -> list[str]:
    """Names of the policies shipped in `parcels/policies/` (usable with `load_policy`)."""
    return sorted(p.stem for p in POLICY_DIR.glob("*.toml"))


def load_policy(path_or_name: str | Path) -> Policy:
    """A bundled policy by name ("henan_2019", "zhejiang_huangyan_2022") or a TOML file path."""
    if isinstance(path_or_name, Policy):
        return path_or_name
    p = Path(path_or_name)
    if not p.is_file():
        stem = p.name[:-5] if p.name.endswith(".toml") else p.name
        candidate = POLICY_DIR / f"{stem}.toml"
        if candidate.is_file() and len(p.parts) <= 1:
            p = candidate
        else:
            raise PolicyError(
                f"找不到评价政策“{path_or_name}”。",
                hint=f"请给出政策文件路径，或使用内置政策：{', '.join(bundled_policies())}。",
            )
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = p.read_bytes().decode("gb18030", errors="strict")
    return parse_policy_text(text, id=p.stem, path=str(p))
