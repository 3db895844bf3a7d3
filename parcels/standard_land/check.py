"""`landgis check PROJECT`: one proposed project against the 标准地 rules (SPEC §6).

`check_project` validates the project, takes land and use from its parcel when it names one,
adds the limits stored on that parcel (its issued 指标清单) to the rules, and returns a
`CheckResult` whose `to_dict()` is exactly the JSON of SPEC §6. Each item of `indicators` is one
binding rule; `decisive: true` marks the items that count toward the verdict (the strictest
rule of each indicator and operator, see `engine`). Extra keys per item: `decisive`,
`rule_id`, `rule_set`, `phase`, `scope`, `slot`, `industry_mapping`, `note`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from gis.errors import RowError
from parcels.standard_land import engine
from parcels.standard_land.indicators import PHASES
from parcels.standard_land.industry import load_mapping
from parcels.standard_land.inputs import ProjectInputError, attach_context, normalize_projects
from parcels.standard_land.rules import Rule, RuleSet, RuleSetInfo, bound_rules_from_parcel, drop_loaded_copies


SCHEMATIC_AREA_NOTE = (
    "用地面积取自示意几何（schematic），不是实测或登记的宗地面积，据此算出的投资强度、容积率等仅供参考；"
    "正式审查请以勘测定界或不动产登记面积为准（导入实测宗地后重新核查）。"
)
"""Beside every area taken from a sketch (SPEC §6): the sheet, the check, the map say it."""


def schematic_area(parcel: dict | None) -> bool:
    """True when the parcel's area comes from schematic (sketched) geometry."""
    return bool(parcel) and parcel.get("geometry_source") == "schematic"


def _parcel_area_mu(parcel: dict) -> float | None:
    for key, factor in (("area_mu", 1.0), ("area_m2", 15 / 10000)):
        v = parcel.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v:
            return float(v) * factor
    return None


@dataclass
class CheckResult:
    """Outcome of one check; `to_dict()` is the JSON contract, the rest feeds the reports."""

    verdict: str
    indicators: list[dict]
    project: dict = field(default_factory=dict)
    parcel: dict | None = None
    rule_sets: list[RuleSetInfo] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    land_area: dict | None = None
    """Where the land area came from when a parcel gave it (`mu`, `m2`, `geometry_source`,
    `schematic`, `note`); None when the project stated its own land area."""

    def to_dict(self) -> dict:
        out = {"verdict": self.verdict, "indicators": self.indicators}
        if self.land_area is not None:
            out["land_area"] = self.land_area
        return out

    @property
    def provisional(self) -> bool:
        """True when a deciding rule is not confirmed: the verdict rests on unverified/sample values."""
        return any(i["decisive"] and i["status"] != "confirmed" for i in self.indicators)

    def to_html(self) -> str:
        from parcels.standard_land.render import check_html

        return check_html(self)

    def to_workbook(self):
        from parcels.standard_land.render import check_workbook

        return check_workbook(self)


def _project_frame(project: dict) -> pd.DataFrame:
    if not isinstance(project, dict):
        raise ProjectInputError("项目数据应为键值表（TOML 表或 JSON 对象）。", [RowError(None, None, f"收到的是 {type(project).__name__}")])
    nested = [k for k, v in project.items() if isinstance(v, (dict, list))]
    if nested:
        raise ProjectInputError("项目数据有误。", [RowError(None, k, f"字段 {k} 应为单个数值或文本，不能是表或列表") for k in nested])
    return pd.DataFrame([{k: project[k] for k in project}]) if project else pd.DataFrame(index=[0])


def check_project(project: dict, rules: RuleSet, parcel: dict | None = None) -> CheckResult:
    """Check a proposed project (SPEC §6 keys) against `rules` and its parcel's stored limits.

    `parcel` is the reserve parcel's properties when the project names `parcel_id` (the caller
    looks it up). Raises ProjectInputError (Chinese, every bad field named) for unknown keys,
    non-numeric or negative values, no land area, a 居住 parcel, or no rule applying at all.
    """
    frame = _project_frame(project)
    norm, errors = normalize_projects(frame, single=True)
    pid = norm["parcel_id"].iloc[0]
    if parcel is not None:
        ppid = str(parcel.get("id") or "")
        if pid is not None and ppid and ppid != pid:
            errors.append(RowError(None, "parcel_id", f"项目地块编号 {pid} 与所给地块 {ppid} 不一致"))
        if pid is None and ppid:
            norm.loc[0, "parcel_id"] = ppid
    elif pid is not None and pd.isna(norm["land_area_mu"].iloc[0]):
        errors.append(RowError(None, "parcel_id", f"未找到地块 {pid}，且未填写 land_area_mu：请核对地块编号或填写用地面积（亩）"))
    p = parcel or {}
    ctx = attach_context(
        norm,
        parcel_area_mu=pd.Series([_parcel_area_mu(p)], dtype=float),
        use=pd.Series([p.get("use")], dtype=object),
        park=pd.Series([p.get("park")], dtype=object),
        district=pd.Series([p.get("district")], dtype=object),
        single=True,
        errors=errors,
    )
    bound: list[tuple[int, Rule]] = []
    if parcel is not None:
        # The parcel's issued sheet binds too; a copy of a rule already loaded is not listed twice.
        bound = [(0, r) for r in drop_loaded_copies(bound_rules_from_parcel(parcel), rules)]
    admitted = rules.admits(bound)
    held_back = [r for _, r in bound if (0, r) not in admitted]
    bound = admitted
    long = engine.match_rules(ctx, rules.rules, bound)
    ev = engine.evaluate(ctx, long)
    records = engine.indicator_records(ctx, ev, 0)
    if not records:
        mapping = load_mapping()
        code = ctx["industry_code"].iloc[0]
        what = f"行业 {code} {mapping.name_2017(code)}".strip() if code else "未填写行业代码"
        raise ProjectInputError(
            "没有适用于该项目的标准地控制指标，无法核查。",
            [RowError(None, "industry_code", f"{what}；用途 {ctx['use'].iloc[0] or '未知'}；阶段 {ctx['phase'].iloc[0]}：所选规则集（{'、'.join(rules.names) or '无'}）中没有适用的规则。标准地指标适用于工业（制造业 13–43）和仓储（59）项目")],
            hint="请核对行业代码、地块和 --rules 所选规则集。" + (
                "未指定规则集时只采用已核实规则；仓储等用途目前只有未核实规则（如 warehouse_guideline），须用 --rules 点名参考。"
                if rules.confirmed_only else ""),
        )
    verdict = engine.verdicts(ctx, ev).iloc[0]
    notes = _notes(ctx, parcel)
    if rules.selection_note():
        notes.insert(0, rules.selection_note())
    if held_back:
        notes.insert(1, f"地块已登记的指标清单中有 {len(held_back)} 项为未核实或示例值（"
                     + "、".join(f"{r.name} {r.requirement()}" for r in held_back) + "），默认不参与判定。")
    row = ctx.iloc[0]
    echo = {k: (None if pd.isna(row[k]) else row[k]) for k in (
        "name", "parcel_id", "industry_code", "industry_code_2002", "phase", "land_mu", "land_m2", "use", "park", "district")}
    echo["industry_name"] = load_mapping().name_2017(row["industry_code"])
    sets = list(rules.sets)
    for _, r in bound:
        if all(s.id != r.rule_set for s in sets):
            sets.append(RuleSetInfo(r.rule_set, r.rule_set_name, "地块已登记的标准地指标清单", r.status))
    land_area = None
    if parcel is not None and bool(row["land_from_parcel"]):
        flagged = schematic_area(parcel)
        land_area = {
            "mu": float(row["land_mu"]), "m2": float(row["land_m2"]), "from_parcel": str(row["parcel_id"]),
            "geometry_source": parcel.get("geometry_source"), "schematic": flagged,
            "note": SCHEMATIC_AREA_NOTE if flagged else "",
        }
        if flagged:
            notes.insert(0, SCHEMATIC_AREA_NOTE)
    return CheckResult(verdict, records, echo, parcel, sets, notes, land_area)


def _notes(ctx: pd.DataFrame, parcel: dict | None) -> list[str]:
    row = ctx.iloc[0]
    notes = []
    if not row["phase_given"]:
        notes.append(f"未填写检查阶段 phase，按“出让”核查（可选：{'/'.join(PHASES)}）。")
    if row["land_from_parcel"]:
        notes.append(f"用地面积取自地块 {row['parcel_id']}：{row['land_mu']:.4f} 亩。")
    if row["use"] is not None and not row["use_from_parcel"]:
        notes.append(f"未给出地块，用地用途按行业代码推定为“{row['use']}”。")
    notes.append("用地面积换算：1 亩 = 10000/15 平方米；容积率中层高超过8米的楼层建筑面积按两倍计算。")
    notes.append("余量 margin：对“≥”指标为 数值−限值，对“≤”指标为 限值−数值；负数表示不达标。")
    return notes
