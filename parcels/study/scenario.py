"""Scenario files of the expansion study (SPEC §7): load a TOML, validate it, refuse it in Chinese.

The 扩区 team edits one file to ask "what if": the plan's targets (Table 1), the 亩均
improvement they believe in, how much of the reserve and the 低效用地 can really be supplied,
and how the suitability criteria weigh against each other. Nothing of that lives in code, and a
typo (`revenue_per_mu_growht`) must fail loudly naming the key, because silently falling back to
a default would change the answer without anyone noticing. Values that may be derived from the
store's data are written `"auto"`.
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gis.errors import InputError, RowError

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
DEFAULT_SCENARIO = "default_2025"

TABLE1_FIELDS: dict[str, tuple[str, str]] = {
    # key -> (指标 as printed in 表1, unit). Only revenue and enterprise count drive the balance;
    # the others are carried into the package so the report shows the plan's whole picture.
    "gdp_yi": ("地区生产总值", "亿元"),
    "revenue_total_yi": ("营业总收入", "亿元"),
    "fixed_asset_investment_yi": ("固定资产投资", "亿元"),
    "above_scale_enterprises": ("规模以上工业企业", "家"),
    "high_tech_va_share_pct": ("高新技术产业增加值占规上工业增加值比重", "%"),
    "high_tech_enterprises": ("高新技术企业数", "家"),
    "rd_share_of_gdp_pct": ("社会研发经费投入占GDP比重", "%"),
    "energy_per_va_tce": ("规上工业企业单位增加值综合能耗", "吨标准煤/万元"),
    "green_coverage_pct": ("绿化覆盖率", "%"),
}
REQUIRED_TABLE1 = ("revenue_total_yi", "above_scale_enterprises")

CRITERIA: dict[str, str] = {
    # key -> Chinese name shown in the package; the order is the report's order.
    "slope": "坡度（越平越好）",
    "landcover": "土地覆盖（水域、耕地约束）",
    "roads": "距道路距离（越近越好）",
    "adjacency": "与原有辖区相连接（越近越好）",
    "parks": "与各功能区相呼应（距园区越近越好）",
}
DISTANCE_CRITERIA = ("roads", "adjacency", "parks")
DEMAND_METHODS = ("revenue", "projects", "investment", "enterprises")
CANDIDATE_KINDS = ("admin_units", "blocks")
URBAN_BOUNDARY_RULES = ("require", "ignore")
DOC_KEYS = {"source", "note", "notes", "description", "assumptions_note", "comment", "status"}


class ScenarioError(InputError):
    """A scenario file that cannot be used: every bad key is listed with how to fix it."""


@dataclass(frozen=True)
class Assumptions:
    industrial_revenue_share: float | None  # None = "auto": Σ enterprise revenue / baseline 营业总收入
    revenue_per_mu_growth: float  # 亩均营业收入 annual improvement (0.06 = 6 %/年)
    new_land_revenue_per_mu: float | None  # 万元/亩 on newly supplied land; None = target-year 亩均
    land_per_new_enterprise_mu: float | None  # 亩/家; None = mean land of the 规上 enterprises
    reserve_uses: tuple[str, ...]
    reserve_supply_share: float
    inefficient_recycle_share: float
    expansion_industrial_share: float
    inefficient_policy: str


@dataclass(frozen=True)
class Demand:
    decide_by: tuple[str, ...]  # the methods that size the net need (the largest of them)
    investment_industrial_share: float  # share of 全社会固定资产投资 on new industrial land
    intensity_rules: str | None  # 标准地 rule set whose investment_intensity is used
    intensity_wan_per_mu: float | None  # or a value given directly, with its source and status
    intensity_source: str
    intensity_status: str


@dataclass(frozen=True)
class Supply:
    zhongguancun_available_mu: float  # 专栏6 “全区域可用用地 21600.3 亩”
    zhongguancun_industrial_share: float
    zhongguancun_park: str  # the park_zones name whose reserve parcels are part of that land


@dataclass(frozen=True)
class Expansion:
    candidates: str  # admin_units (整建制托管) | blocks (suitability blocks)
    admin_level: str  # 村 | 乡镇
    prefer_plan_expansion: bool  # the plan's southern expansion area first
    urban_boundary: str  # require | ignore


@dataclass(frozen=True)
class Suitability:
    weights: dict[str, float]
    distance_m: dict[str, float]  # distance at which a distance criterion's score reaches 0
    max_slope_deg: float
    landcover_scores: dict[str, float]
    exclude_landcover: tuple[str, ...]
    threshold: float
    min_block_mu: float
    block_grid_m: float
    adjacency_tolerance_m: float
    expansion_target_km2: float
    cell_size_m: float
    study_buffer_m: float


@dataclass(frozen=True)
class Scenario:
    name: str
    source: str
    base_year: int
    target_year: int
    baseline: dict[str, float]
    targets: dict[str, float]
    assumptions: Assumptions
    suitability: Suitability
    demand: Demand
    supply: Supply
    expansion: Expansion
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def years(self) -> int:
        return self.target_year - self.base_year


class _Checker:
    """Collects every problem of a scenario before refusing it (one run, all errors)."""

    def __init__(self) -> None:
        self.errors: list[RowError] = []

    def fail(self, key: str, message: str) -> None:
        self.errors.append(RowError(None, key, message))

    def number(self, table: dict, key: str, path: str, *, lo: float | None = None, hi: float | None = None,
               lo_open: bool = False, default: Any = ..., auto: bool = False) -> float | None:
        full = f"{path}.{key}" if path else key
        if key not in table:
            if default is ...:
                self.fail(full, "缺少此项，请补上。")
                return None
            return default
        v = table[key]
        if auto and v == "auto":
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            extra = "或 \"auto\"" if auto else ""
            self.fail(full, f"应为数字{extra}，实际为 {v!r}。")
            return None
        v = float(v)
        if v != v or v in (float("inf"), float("-inf")):
            self.fail(full, "不能是 NaN 或无穷大。")
            return None
        if lo is not None and (v <= lo if lo_open else v < lo):
            self.fail(full, f"应{'大于' if lo_open else '不小于'} {lo:g}，实际为 {v:g}。")
        if hi is not None and v > hi:
            self.fail(full, f"应不大于 {hi:g}，实际为 {v:g}。")
        return v

    def unknown(self, table: dict, allowed: set[str], path: str) -> None:
        for k in table:
            if k not in allowed and k not in DOC_KEYS:
                where = f"{path}.{k}" if path else k
                self.fail(where, f"未知的键（允许：{'、'.join(sorted(allowed))}），请检查拼写。")


def _table(c: _Checker, data: dict, key: str) -> dict:
    v = data.get(key, {})
    if not isinstance(v, dict):
        c.fail(key, "应为一个表（[" + key + "]）。")
        return {}
    return v


def _table1(c: _Checker, t: dict, path: str) -> dict[str, float]:
    c.unknown(t, set(TABLE1_FIELDS), path)
    out: dict[str, float] = {}
    for key in TABLE1_FIELDS:
        if key in t or key in REQUIRED_TABLE1:
            v = c.number(t, key, path, lo=0, lo_open=key in REQUIRED_TABLE1)
            if v is not None:
                out[key] = v
    return out


def _assumptions(c: _Checker, a: dict) -> Assumptions:
    allowed = {f.name for f in Assumptions.__dataclass_fields__.values()}
    c.unknown(a, allowed, "assumptions")
    p = "assumptions"
    uses = a.get("reserve_uses", ["工业", "仓储"])
    if not isinstance(uses, list) or not all(isinstance(u, str) and u for u in uses):
        c.fail(f"{p}.reserve_uses", "应为用途名称的列表，如 [\"工业\", \"仓储\"]。")
        uses = []
    policy = a.get("inefficient_policy", "henan_2019")
    if not isinstance(policy, str) or not policy:
        c.fail(f"{p}.inefficient_policy", "应为评价政策名称（如 henan_2019）或 TOML 文件路径。")
        policy = "henan_2019"
    return Assumptions(
        industrial_revenue_share=c.number(a, "industrial_revenue_share", p, lo=0, hi=1, lo_open=True, default=None, auto=True),
        revenue_per_mu_growth=c.number(a, "revenue_per_mu_growth", p, lo=-0.5, hi=1.0, default=0.0) or 0.0,
        new_land_revenue_per_mu=c.number(a, "new_land_revenue_per_mu", p, lo=0, lo_open=True, default=None, auto=True),
        land_per_new_enterprise_mu=c.number(a, "land_per_new_enterprise_mu", p, lo=0, lo_open=True, default=None, auto=True),
        reserve_uses=tuple(uses),
        reserve_supply_share=c.number(a, "reserve_supply_share", p, lo=0, hi=1, default=1.0) or 0.0,
        inefficient_recycle_share=c.number(a, "inefficient_recycle_share", p, lo=0, hi=1, default=0.5) or 0.0,
        expansion_industrial_share=c.number(a, "expansion_industrial_share", p, lo=0, hi=1, lo_open=True, default=0.5) or 0.5,
        inefficient_policy=policy,
    )


def _suitability(c: _Checker, s: dict) -> Suitability:
    from parcels.sample.rasters import LANDCOVER_CLASSES

    p = "suitability"
    allowed = {"weights", "distance_m", "max_slope_deg", "landcover", "threshold", "min_block_mu", "block_grid_m",
               "adjacency_tolerance_m", "expansion_target_km2", "cell_size_m", "study_buffer_m"}
    c.unknown(s, allowed, p)
    w = s.get("weights", {})
    if not isinstance(w, dict):
        c.fail(f"{p}.weights", "应为一个表。")
        w = {}
    c.unknown(w, set(CRITERIA), f"{p}.weights")
    # No weights table: all criteria count equally; a table: criteria it leaves out count 0.
    missing_weight = 1.0 if "weights" not in s else 0.0
    weights = {k: c.number(w, k, f"{p}.weights", lo=0, default=missing_weight) or 0.0 for k in CRITERIA}
    if sum(weights.values()) <= 0:
        c.fail(f"{p}.weights", "权重之和必须大于 0（至少给一个适宜性因子正权重）。")
    d = s.get("distance_m", {})
    if not isinstance(d, dict):
        c.fail(f"{p}.distance_m", "应为一个表。")
        d = {}
    c.unknown(d, set(DISTANCE_CRITERIA), f"{p}.distance_m")
    defaults = {"roads": 3000.0, "adjacency": 6000.0, "parks": 8000.0}
    distance = {k: c.number(d, k, f"{p}.distance_m", lo=0, lo_open=True, default=defaults[k]) or defaults[k] for k in DISTANCE_CRITERIA}
    lc = s.get("landcover", {})
    if not isinstance(lc, dict):
        c.fail(f"{p}.landcover", "应为一个表。")
        lc = {}
    names = {v[0] for v in LANDCOVER_CLASSES.values()}
    c.unknown(lc, {"scores", "exclude"}, f"{p}.landcover")
    scores_in = lc.get("scores", {})
    if not isinstance(scores_in, dict):
        c.fail(f"{p}.landcover.scores", "应为一个表，如 { cropland = 0.3, built = 0.8 }。")
        scores_in = {}
    c.unknown(scores_in, names, f"{p}.landcover.scores")
    default_scores = {v[0]: v[2] for v in LANDCOVER_CLASSES.values()}
    scores = {k: c.number(scores_in, k, f"{p}.landcover.scores", lo=0, hi=1, default=default_scores[k]) for k in names}
    exclude = lc.get("exclude", ["water"])
    if not isinstance(exclude, list) or any(e not in names for e in exclude):
        c.fail(f"{p}.landcover.exclude", f"应为土地覆盖类别的列表，可选：{'、'.join(sorted(names))}。")
        exclude = ["water"]
    return Suitability(
        weights=weights,
        distance_m=distance,
        max_slope_deg=c.number(s, "max_slope_deg", p, lo=0, hi=90, lo_open=True, default=15.0) or 15.0,
        landcover_scores={k: (v if v is not None else 0.0) for k, v in scores.items()},
        exclude_landcover=tuple(exclude),
        threshold=c.number(s, "threshold", p, lo=0, hi=1, default=0.5) or 0.0,
        min_block_mu=c.number(s, "min_block_mu", p, lo=0, lo_open=True, default=1500.0) or 1500.0,
        block_grid_m=c.number(s, "block_grid_m", p, lo=100, default=2000.0) or 2000.0,
        adjacency_tolerance_m=c.number(s, "adjacency_tolerance_m", p, lo=0, default=100.0) or 0.0,
        expansion_target_km2=c.number(s, "expansion_target_km2", p, lo=0, lo_open=True, default=50.0) or 50.0,
        cell_size_m=c.number(s, "cell_size_m", p, lo=5, hi=500, default=30.0) or 30.0,
        study_buffer_m=c.number(s, "study_buffer_m", p, lo=0, hi=20000, default=8000.0) or 0.0,
    )


STATUSES = ("confirmed", "unverified", "sample")


def _demand(c: _Checker, d: dict) -> Demand:
    p = "demand"
    c.unknown(d, {"decide_by", "investment"}, p)
    decide = d.get("decide_by", ["revenue", "projects"])
    if not isinstance(decide, list) or not decide or any(m not in DEMAND_METHODS for m in decide):
        c.fail(f"{p}.decide_by", f"应为需求测算方法的非空列表，可选：{'、'.join(DEMAND_METHODS)}，实际为 {decide!r}。")
        decide = ["revenue", "projects"]
    inv = d.get("investment", {})
    if not isinstance(inv, dict):
        c.fail(f"{p}.investment", "应为一个表。")
        inv = {}
    ip = f"{p}.investment"
    c.unknown(inv, {"industrial_share", "intensity_rules", "intensity_wan_per_mu", "intensity_source", "intensity_status"}, ip)
    rules = inv.get("intensity_rules", None if "intensity_wan_per_mu" in inv else "henan_3n1_sample")
    value = c.number(inv, "intensity_wan_per_mu", ip, lo=0, lo_open=True, default=None)
    if (rules is None) == (value is None):
        c.fail(ip, "投资强度须二选一：intensity_rules（标准地规则集名称）或 intensity_wan_per_mu（数值，并注明 intensity_source 与 intensity_status）。")
    if rules is not None and (not isinstance(rules, str) or not rules):
        c.fail(f"{ip}.intensity_rules", "应为标准地规则集名称，如 henan_3n1_sample。")
        rules = None
    status = inv.get("intensity_status", "unverified")
    if status not in STATUSES:
        c.fail(f"{ip}.intensity_status", f"应为 {' | '.join(STATUSES)}，实际为 {status!r}。")
        status = "unverified"
    source = inv.get("intensity_source", "")
    if value is not None and not (isinstance(source, str) and source.strip()):
        c.fail(f"{ip}.intensity_source", "直接给出投资强度数值时须注明来源（可引用的文件名与文号）。")
    return Demand(
        decide_by=tuple(decide),
        investment_industrial_share=c.number(inv, "industrial_share", ip, lo=0, hi=1, lo_open=True, default=0.35) or 0.35,
        intensity_rules=rules,
        intensity_wan_per_mu=value,
        intensity_source=str(source),
        intensity_status=str(status),
    )


def _supply(c: _Checker, s: dict) -> Supply:
    p = "supply"
    c.unknown(s, {"zhongguancun_available_mu", "zhongguancun_industrial_share", "zhongguancun_park"}, p)
    park = s.get("zhongguancun_park", "中关村科技产业园")
    if not isinstance(park, str) or not park:
        c.fail(f"{p}.zhongguancun_park", "应为 park_zones 图层中的园区名称。")
        park = "中关村科技产业园"
    return Supply(
        zhongguancun_available_mu=c.number(s, "zhongguancun_available_mu", p, lo=0, default=21600.3) or 0.0,
        zhongguancun_industrial_share=c.number(s, "zhongguancun_industrial_share", p, lo=0, hi=1, default=0.15) or 0.0,
        zhongguancun_park=park,
    )


def _expansion(c: _Checker, e: dict) -> Expansion:
    p = "expansion"
    c.unknown(e, {"candidates", "admin_level", "prefer_plan_expansion", "urban_boundary"}, p)
    kind = e.get("candidates", "admin_units")
    if kind not in CANDIDATE_KINDS:
        c.fail(f"{p}.candidates", f"应为 admin_units（按行政单位整建制托管）或 blocks（按适宜性连片地块），实际为 {kind!r}。")
        kind = "admin_units"
    level = e.get("admin_level", "村")
    if level not in ("村", "乡镇"):
        c.fail(f"{p}.admin_level", f"应为 村 或 乡镇，实际为 {level!r}。")
        level = "村"
    prefer = e.get("prefer_plan_expansion", True)
    if not isinstance(prefer, bool):
        c.fail(f"{p}.prefer_plan_expansion", "应为 true 或 false。")
        prefer = True
    ub = e.get("urban_boundary", "require")
    if ub not in URBAN_BOUNDARY_RULES:
        c.fail(f"{p}.urban_boundary", f"应为 require（只在城镇开发边界内推荐）或 ignore，实际为 {ub!r}。")
        ub = "require"
    return Expansion(candidates=kind, admin_level=level, prefer_plan_expansion=prefer, urban_boundary=ub)


def scenario_from_dict(data: dict, *, origin: str = "情景文件") -> Scenario:
    """Validate a parsed scenario; raises ScenarioError listing every bad key."""
    if not isinstance(data, dict):
        raise ScenarioError(f"{origin}必须是一个 TOML 表或 JSON 对象。")
    c = _Checker()
    c.unknown(data, {"name", "source", "base_year", "target_year", "baseline", "targets", "assumptions", "suitability",
                     "demand", "supply", "expansion"}, "")
    years = {}
    for key, default in (("base_year", 2020), ("target_year", 2025)):
        v = data.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int) or not 1990 <= v <= 2100:
            c.fail(key, f"应为 1990–2100 之间的整数年份，实际为 {v!r}。")
            v = default
        years[key] = v
    if years["target_year"] <= years["base_year"]:
        c.fail("target_year", f"目标年（{years['target_year']}）必须晚于基期年（{years['base_year']}）。")
    baseline = _table1(c, _table(c, data, "baseline"), "baseline")
    targets = _table1(c, _table(c, data, "targets"), "targets")
    assumptions = _assumptions(c, _table(c, data, "assumptions"))
    suitability = _suitability(c, _table(c, data, "suitability"))
    demand = _demand(c, _table(c, data, "demand"))
    supply = _supply(c, _table(c, data, "supply"))
    expansion = _expansion(c, _table(c, data, "expansion"))
    if "investment" in demand.decide_by and "fixed_asset_investment_yi" not in targets:
        c.fail("targets.fixed_asset_investment_yi", "demand.decide_by 含 investment，须给出目标年固定资产投资（亿元）。")
    if c.errors:
        raise ScenarioError(f"{origin}有 {len(c.errors)} 处错误，未运行扩区研究。", c.errors,
                            hint="对照 parcels/study/scenarios/default_2025.toml 中的注释修改后重试。")
    return Scenario(
        name=str(data.get("name", "未命名情景")),
        source=str(data.get("source", "")),
        base_year=years["base_year"],
        target_year=years["target_year"],
        baseline=baseline,
        targets=targets,
        assumptions=assumptions,
        suitability=suitability,
        demand=demand,
        supply=supply,
        expansion=expansion,
        raw=copy.deepcopy(data),
    )


def merge(base: dict, overrides: dict) -> dict:
    """Deep-merge `overrides` into a copy of `base` (tables merge, other values replace)."""
    out = copy.deepcopy(base)
    for k, v in overrides.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def parse_scenario(text: str, *, origin: str = "情景文件", overrides: dict | None = None) -> Scenario:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{origin}不是有效的 TOML：{exc}", hint="检查引号、等号与方括号是否成对。") from exc
    if overrides:
        data = merge(data, overrides)
    return scenario_from_dict(data, origin=origin)


def default_scenario_path() -> Path:
    return SCENARIO_DIR / f"{DEFAULT_SCENARIO}.toml"


def load_scenario(path: str | Path | None = None, *, overrides: dict | None = None) -> Scenario:
    """A scenario file, a bundled scenario name, or (None) the bundled default_2025."""
    if path is None:
        p = default_scenario_path()
    else:
        p = Path(path)
        if not p.is_file():
            bundled = SCENARIO_DIR / f"{p.stem}.toml"
            if len(p.parts) == 1 and bundled.is_file():
                p = bundled
            else:
                raise ScenarioError(f"找不到情景文件：{path}", hint="给出 TOML 文件路径，或内置情景名 default_2025。")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"情景文件 {p.name} 不是 UTF-8 编码。", hint="用 UTF-8 另存后重试。") from exc
    return parse_scenario(text, origin=f"情景文件 {p.name} ", overrides=overrides)
