"""Industrial land demand of the expansion study by several methods, side by side (SPEC §7).

One number for the land the zone needs hides how much it depends on the method. The study shows
every method with its inputs, and only the methods the scenario names in `demand.decide_by`
size the net need (the largest of them); the others are shown for comparison. A method fed by a
`sample` or `unverified` value (e.g. a 投资强度 from the sample 标准地 rule set) says so beside its
number and decides nothing unless the scenario names it.

- `revenue`: the revenue gap at the target year ÷ 亩均营业收入 on new land (`balance` computes it);
- `enterprises`: new 规上 enterprises × land per enterprise (`balance`);
- `projects`: the land the plan's named projects ask for (专栏 3–8, `data/named_projects.toml`);
- `investment`: fixed-asset investment over the plan period × the share on new industrial land
  ÷ 投资强度 (万元/亩), with the 投资强度 value's source and status.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from gis.errors import InputError

DATA_DIR = Path(__file__).resolve().parent / "data"
METHODS = {
    "revenue": "按营业收入目标 ÷ 亩均营业收入",
    "projects": "按规划重点项目用地（专栏3–8）",
    "investment": "按固定资产投资 ÷ 投资强度",
    "enterprises": "按新增规上企业 × 每家用地",
}
WAN_PER_YI = 10_000.0


@dataclass(frozen=True)
class NamedProject:
    name: str
    column: str
    area_mu: float
    use: str
    quote: str
    note: str = ""


@dataclass(frozen=True)
class DemandEstimate:
    """One demand method's answer, with how it was computed and how far it can be trusted."""

    method: str
    label: str
    mu: float
    how: str
    status: str  # confirmed | computed | sample | unverified
    source: str
    deciding: bool = False

    def as_dict(self) -> dict:
        return {"method": self.method, "label_zh": self.label, "mu": round(self.mu, 2), "how": self.how,
                "status": self.status, "source": self.source, "deciding": self.deciding}


def load_named_projects(path: Path | None = None) -> tuple[list[NamedProject], dict]:
    """The plan's named projects with a stated land area, and the file's header (source, not_listed)."""
    p = path or DATA_DIR / "named_projects.toml"
    data = tomllib.loads(p.read_text(encoding="utf-8"))
    projects = [NamedProject(str(r["name"]), str(r["column"]), float(r["area_mu"]), str(r.get("use", "")), str(r["quote"]), str(r.get("note", "")))
                for r in data.get("project", [])]
    header = {k: v for k, v in data.items() if k != "project"}
    return projects, header


def projects_demand(projects: list[NamedProject], header: dict) -> DemandEstimate:
    total = sum(p.area_mu for p in projects)
    parts = "、".join(f"{p.name} {p.area_mu:g} 亩（{p.column}）" for p in projects)
    return DemandEstimate("projects", METHODS["projects"], total, f"{parts}；合计 {total:g} 亩。{header.get('not_listed', '')}",
                          str(header.get("status", "confirmed")), str(header.get("source", "")))


@dataclass(frozen=True)
class Intensity:
    value: float  # 万元/亩
    status: str
    source: str


def intensity_from_rules(name: str) -> Intensity:
    """The 投资强度 (investment_intensity) of a named 标准地 rule set, with the rule's source and status."""
    from parcels.standard_land.rules import load_rules

    rules = [r for r in load_rules(name).rules if r.key == "investment_intensity"]
    if not rules:
        raise InputError(f"规则集 {name} 中没有投资强度（investment_intensity）规则，无法按投资强度测算用地需求。",
                         hint="在情景文件 [demand.investment] 中改用 intensity_wan_per_mu 直接给出数值并注明 intensity_source、intensity_status。")
    r = rules[0]
    return Intensity(float(r.limit), r.status, f"{r.rule_set_name}：{r.source}")


def cumulative_investment_yi(base: float, target: float, years: int) -> float:
    """Σ fixed-asset investment of the years after the base year up to the target year, growing
    geometrically from the base year's value to the target year's (表1 gives only the two ends)."""
    if years <= 0 or base <= 0:
        return target * max(years, 1)
    q = (target / base) ** (1.0 / years)
    return sum(base * q**t for t in range(1, years + 1))


def investment_demand(base_yi: float, target_yi: float, years: int, industrial_share: float, intensity: Intensity,
                      base_year: int, target_year: int) -> DemandEstimate:
    total = cumulative_investment_yi(base_yi, target_yi, years)
    industrial = total * industrial_share
    mu = industrial * WAN_PER_YI / intensity.value
    mark = "" if intensity.status == "confirmed" else f"（投资强度为{'示例值' if intensity.status == 'sample' else '未核实值'}，status = {intensity.status}）"
    how = (f"表1 固定资产投资 {base_yi:g}（{base_year}）→ {target_yi:g} 亿元（{target_year}），按等比增长累计 {base_year + 1}–{target_year} 年 {total:,.1f} 亿元"
           f" × 新增工业项目占比 {industrial_share:g} = {industrial:,.1f} 亿元 ÷ 投资强度 {intensity.value:g} 万元/亩{mark}")
    status = "computed" if intensity.status == "confirmed" else intensity.status
    return DemandEstimate("investment", METHODS["investment"], mu, how, status, f"表1；投资强度：{intensity.source}")
