"""指标清单 of a reserve parcel: the 标准地 limits announced with the land (按标做地、明标供地).

The sheet lists, for each indicator, the deciding limit and every rule behind it with source
and status, so that an announcement built on unverified or sample values says so. When the
industry is not yet fixed, per-industry limits (容积率 by GB/T 4754 division) are listed as a
table instead of a single value. A 居住 parcel gets a sheet saying 标准地 does not apply: the
control indicators are for industrial land, and (per the local guideline of DOMAIN §3.3) for
warehousing.

`sheet_limits_for_parcel` gives the values to store on the parcel (`sl_*` fields of
parcels/schema.py); `sl_rules` keeps each limit's source and status, and `check_project` binds a
project on that parcel to them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gis.errors import RowError
from parcels.standard_land import engine
from parcels.standard_land.check import SCHEMATIC_AREA_NOTE, schematic_area
from parcels.standard_land.indicators import INDICATOR_ORDER, INDICATORS, STANDARD_LAND_USES, requirement_text
from parcels.standard_land.industry import load_mapping, normalize_code
from parcels.standard_land.inputs import ProjectInputError, attach_context, normalize_projects
from parcels.standard_land.rules import SL_FIELDS, RuleSet

NOT_APPLICABLE = (
    "标准地控制指标仅适用于工业用地（以及按地方仓储用地导则适用于仓储用地）。本地块用途为“{use}”，"
    "不适用标准地指标，无需出具标准地指标清单。"
)


@dataclass
class IndicatorSheet:
    parcel: dict
    applicable: bool
    message: str
    industry_code: str | None
    indicators: list[dict] = field(default_factory=list)
    by_industry: list[dict] = field(default_factory=list)
    slots: list[dict] = field(default_factory=list)
    rule_sets: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    limits: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        p = self.parcel
        return {
            "parcel_id": _clean(p.get("id")),
            "parcel": {k: _clean(p.get(k)) for k in ("id", "seq", "name", "district", "park", "location", "use", "area_m2", "ellipsoid_area_m2", "area_mu", "status", "geometry_source")},
            "area_schematic": schematic_area(p),
            "area_note": SCHEMATIC_AREA_NOTE if schematic_area(p) else "",
            "applicable": self.applicable,
            "message": self.message,
            "industry_code": self.industry_code,
            "industry_name": load_mapping().name_2017(self.industry_code),
            "indicators": self.indicators,
            "by_industry": self.by_industry,
            "slots": self.slots,
            "rule_sets": self.rule_sets,
            "notes": self.notes,
            "limits": self.limits,
        }

    @property
    def provisional(self) -> bool:
        return any(i["status"] != "confirmed" for i in self.indicators)

    def to_html(self) -> str:
        from parcels.standard_land.render import sheet_html

        return sheet_html(self)

    def to_workbook(self):
        from parcels.standard_land.render import sheet_workbook

        return sheet_workbook(self)


def _clean(v):
    """Plain JSON values from whatever a store row holds (NaN → None, numpy scalars → Python)."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v != v:
        return None
    return v


def _area_mu(parcel: dict) -> float:
    for key, factor in (("area_mu", 1.0), ("area_m2", 15 / 10000)):
        v = parcel.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and v > 0:
            return float(v) * factor
    return 1.0  # the sheet states limits, not values: any positive area will do


def _match(parcel: dict, rules: RuleSet, industry_code: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    try:
        code = normalize_code(industry_code)
    except ValueError as exc:
        raise ProjectInputError("行业代码有误。", [RowError(None, "industry_code", str(exc))]) from exc
    norm, errors = normalize_projects(pd.DataFrame([{"industry_code": code, "parcel_id": parcel.get("id")}]), single=True)
    ctx = attach_context(
        norm,
        parcel_area_mu=pd.Series([_area_mu(parcel)], dtype=float),
        use=pd.Series([parcel.get("use")], dtype=object),
        park=pd.Series([parcel.get("park")], dtype=object),
        district=pd.Series([parcel.get("district")], dtype=object),
        single=True,
        errors=errors,
    )
    long = engine.match_rules(ctx, rules.rules, None, phase_filter=False)
    return ctx, engine.evaluate(ctx, long)


def _rule_entry(r) -> dict:
    return {
        "rule_id": r.rule_id, "rule_set": r.rule_set, "op": r.op,
        "limit": None if np.isnan(r.limit) else float(r.limit),
        "requirement": requirement_text(r.op, None if np.isnan(r.limit) else r.limit, r.unit),
        "phase": list(r.phase), "scope": r.scope, "source": r.source, "status": r.status,
        "decisive": bool(r.decisive), "determined": bool(r.determined),
        "slot": r.slot if isinstance(r.slot, str) else None, "note": r.note,
    }


def _by_industry(rules: RuleSet, use: str | None) -> list[dict]:
    """Per-industry limits (e.g. 容积率 by division), for a sheet whose industry is not fixed."""
    mapping = load_mapping()
    out = []
    for r in rules.rules:
        if not r.scope.industry_specific:
            continue
        if r.scope.use is not None and use is not None and use not in r.scope.use:
            continue
        for c17 in sorted(r.scope.industry or ()):
            if use is not None and mapping.use_of(c17) not in (None, use):
                continue  # e.g. manufacturing limits on a 仓储 parcel
            out.append({
                "indicator": r.key, "name": INDICATORS[r.key].name, "code_2017": c17, "name_2017": mapping.name_2017(c17),
                "code_2002": "、".join(sorted(r.scope.industry_2002)) if r.scope.industry_2002 else "",
                "op": r.op, "limit": r.limit, "unit": r.unit, "requirement": r.requirement(),
                "phase": list(r.phases), "source": r.source, "status": r.status, "rule_id": r.id,
                "mapping_status": mapping.status if r.scope.industry_2002 else None,
            })
    out.sort(key=lambda e: (INDICATOR_ORDER[e["indicator"]], e["code_2017"], -e["limit"] if e["op"] == ">=" else e["limit"]))
    return out


def parcel_sheet(parcel: dict, rules: RuleSet, industry_code: str | None = None) -> IndicatorSheet:
    """The 指标清单 of a reserve parcel under `rules`, for a given industry or any industry."""
    use = parcel.get("use")
    sets = [{"id": s.id, "name": s.name, "source": s.source, "status": s.status, "note": s.note, "citable": s.citable} for s in rules.sets]
    slots = [dict(s, rule_set=info.id) for info in rules.sets for s in info.slots]
    if use is not None and use not in STANDARD_LAND_USES:
        limits = {f: None for f in SL_FIELDS}
        limits["sl_rules"] = json.dumps({"applicable": False, "reason": NOT_APPLICABLE.format(use=use), "rules": []}, ensure_ascii=False)
        return IndicatorSheet(parcel, False, NOT_APPLICABLE.format(use=use), normalize_code(industry_code) if industry_code else None,
                              rule_sets=sets, limits=limits)
    ctx, ev = _match(parcel, rules, industry_code)
    code = ctx["industry_code"].iloc[0]
    indicators = []
    ev = ev.sort_values(["ind_order", "op", "decisive", "determined", "strict", "status_rank", "rule_i"],
                        ascending=[True, True, False, False, False, True, True])
    for (key, op), grp in ev.groupby(["indicator", "op"], sort=False):
        dec = grp[grp["decisive"]]
        det_dec = dec[dec["determined"]]
        open_ = dec[~dec["determined"]]
        head = det_dec.iloc[0] if len(det_dec) else None
        industry_dependent = len(open_) > 0
        limit = None if industry_dependent or head is None else float(head["limit"])
        basis = head if head is not None and not industry_dependent else (open_.iloc[0] if len(open_) else grp.iloc[0])
        statuses = sorted(set(dec["status"]), key=lambda s: {"confirmed": 0, "unverified": 1, "sample": 2}[s])
        indicators.append({
            "indicator": key, "name": INDICATORS[key].name, "op": op, "limit": limit, "unit": INDICATORS[key].unit,
            "requirement": requirement_text(op, limit, INDICATORS[key].unit),
            "industry_dependent": industry_dependent,
            "phase": sorted({p for ps in grp["phase"] for p in ps}, key=["出让", "竣工", "达产"].index),
            "source": basis["source"], "status": statuses[-1] if industry_dependent else basis["status"],
            "decisive_rule": None if industry_dependent else basis["rule_id"],
            "slot": basis["slot"] if isinstance(basis["slot"], str) else None,
            "rules": [_rule_entry(r) for r in grp.itertuples(index=False)],
        })
    by_industry = _by_industry(rules, ctx["use"].iloc[0]) if code is None else []
    notes = [rules.selection_note()] if rules.selection_note() else []
    if schematic_area(parcel):
        notes.insert(0, SCHEMATIC_AREA_NOTE)
    if by_industry:
        notes.append("未指定行业：另列“分行业控制值”表；出让公告应按拟引进产业取表中数值与上表中较严者。")
    if ctx["use"].iloc[0] == "仓储":
        notes.append("仓储用地不在国家《工业项目建设用地控制指标》范围内，所列仓储指标出自地方导则（未核实）。")
    notes.append("容积率中层高超过8米的楼层建筑面积按两倍计算；1 亩 = 10000/15 平方米。")
    if not indicators:
        notes.append("所选规则集中没有适用于本地块的指标。")
    limits = _limits(indicators, code, rules)
    stored = {f: parcel.get(f) for f in SL_FIELDS if isinstance(parcel.get(f), (int, float)) and parcel.get(f) == parcel.get(f)}
    diff = [f"{f}：已登记 {v:g}，按当前规则为 {limits[f] if limits[f] is not None else '未定'}" for f, v in stored.items() if limits[f] is None or abs(float(v) - limits[f]) > 1e-9]
    if diff:
        notes.append("地块已登记的标准地指标与按当前规则计算的不同（" + "；".join(diff) + "）。")
    message = "" if indicators else "所选规则集中没有适用于本地块的标准地指标。"
    return IndicatorSheet(parcel, True, message, code, indicators, by_industry, slots, sets, notes, limits)


def _limits(indicators: list[dict], code: str | None, rules: RuleSet) -> dict:
    out: dict = {f: None for f in SL_FIELDS}
    decided = []
    for ind in indicators:
        for r in ind["rules"]:
            if r["decisive"] and r["determined"]:
                decided.append({
                    "id": r["rule_id"], "key": ind["indicator"], "op": r["op"], "limit": r["limit"], "unit": ind["unit"],
                    "phase": r["phase"], "source": r["source"], "status": r["status"], "rule_set": r["rule_set"],
                })
        if ind["op"] == ">=" and ind["limit"] is not None:
            for f, key in SL_FIELDS.items():
                if key == ind["indicator"]:
                    out[f] = ind["limit"]
    out["sl_rules"] = json.dumps(
        {"applicable": True, "industry_code": code, "rule_sets": rules.names, "rules": decided},
        ensure_ascii=False,
    )
    return out


def sheet_limits_for_parcel(parcel: dict, rules: RuleSet, industry_code: str | None = None) -> dict:
    """Values to store on the parcel: `sl_investment_intensity`, `sl_floor_area_ratio`,
    `sl_tax_per_mu` (None when not set or industry-dependent) and `sl_rules` (JSON of the
    deciding rules with source and status)."""
    return parcel_sheet(parcel, rules, industry_code).limits
