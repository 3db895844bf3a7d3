"""The zone's land-use intensity (SPEC §11): every indicator, the potential, the zone type and,
when a weight set is named, the 集约度 score. Pure: a survey frame in, one JSON-ready dict out.

Areas are the survey's `area_m2` (plane area in the survey CRS, SPEC §3.1) in hectares
(÷ 10 000); floor area and footprint stay in m² over m² of land. A ratio whose denominator is
zero (no built land, nothing supplied) is `None` with the reason in `note`, never 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from parcels.intensity.rules import IndicatorSet, WeightSet, ZoneFigures, load_indicators, load_zone
from parcels.intensity.survey import SURVEY_STATUSES

M2_PER_HA = 10000.0
M2_PER_MU = 10000.0 / 15.0


def _flag(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return pd.array(frame[name], dtype="boolean").fillna(False).to_numpy(dtype=bool)


def _num(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)


def survey_sets(survey: pd.DataFrame) -> dict[str, np.ndarray]:
    """The 规程's land classes as boolean masks: A built, A2 built 工矿仓储, B21 ready, D supplied,
    G idle ∩ supplied, H high-tech built."""
    status = survey["status"].astype(str).to_numpy() if len(survey) else np.array([], dtype=str)
    use = survey["land_use"].astype(object).where(survey["land_use"].notna(), "").astype(str).to_numpy() if "land_use" in survey.columns else np.full(len(survey), "")
    built = status == "built"
    supplied = _flag(survey, "supplied")
    return {
        "built": built, "ready": status == "ready", "not_ready": status == "not_ready", "unavailable": status == "unavailable",
        "industrial": built & (use == "工矿仓储"), "residential": built & (use == "住宅"), "supplied": supplied,
        "idle": _flag(survey, "idle") & supplied, "high_tech": built & _flag(survey, "high_tech"),
    }


def _ratio(num: float, den: float, scale: float = 1.0) -> float | None:
    return None if den <= 0 else float(num / den * scale)


def indicator_values(survey: pd.DataFrame, population: float | None = None) -> tuple[dict[str, float | None], dict[str, str]]:
    """{key: value} of every SPEC §11 indicator, and {key: why it is None or partial}."""
    area = np.nan_to_num(_num(survey, "area_m2"))  # an empty geometry has no area, never NaN in a sum
    s = survey_sets(survey)
    A = area[s["built"]].sum()
    A2 = area[s["industrial"]].sum()
    D = area[s["supplied"]].sum()
    base = area[s["built"] | s["ready"]].sum()
    floor, foot, fixed, tax = (_num(survey, k) for k in ("floor_area_m2", "footprint_m2", "fixed_assets_wan", "tax_wan"))
    notes: dict[str, str] = {}

    def total(values: np.ndarray, mask: np.ndarray, keys: tuple[str, ...], what: str) -> float:
        missing = int((np.isnan(values) & mask).sum())
        if missing:
            for k in keys:
                notes[k] = f"{missing} 个图斑缺少{what}，按 0 计"
        return float(np.nansum(np.where(mask, values, np.nan)))

    f_built = total(floor, s["built"], ("composite_far",), "总建筑面积")
    f_ind = total(floor, s["industrial"], ("industrial_far",), "总建筑面积")
    b_built = total(foot, s["built"], ("building_density",), "建筑基底面积")
    b_ind = total(foot, s["industrial"], ("industrial_coverage",), "建筑基底面积")
    fa_ind = total(fixed, s["industrial"], ("industrial_investment_intensity",), "累计固定资产投资")
    t_ind = total(tax, s["industrial"], ("industrial_tax_per_ha",), "税收总额")
    t_built = total(tax, s["built"], ("composite_tax_per_ha",), "税收总额")
    values = {
        "supply_rate": _ratio(area[s["supplied"] & (s["built"] | s["ready"])].sum(), base, 100),
        "built_rate": _ratio(area[s["built"] & s["supplied"]].sum(), D, 100),
        "industrial_land_rate": _ratio(A2, A, 100),
        "high_tech_land_rate": _ratio(area[s["high_tech"]].sum(), A, 100),
        "composite_far": _ratio(f_built, A),
        "building_density": _ratio(b_built, A, 100),
        "industrial_far": _ratio(f_ind, A2),
        "industrial_coverage": _ratio(b_ind, A2, 100),
        "industrial_investment_intensity": _ratio(fa_ind, A2 / M2_PER_HA),
        "industrial_tax_per_ha": _ratio(t_ind, A2 / M2_PER_HA),
        "composite_tax_per_ha": _ratio(t_built, A / M2_PER_HA),
        "population_density": _ratio(population, A / M2_PER_HA) if population else None,
        "idle_rate": _ratio(area[s["idle"]].sum(), D, 100),
    }
    for key in ("industrial_land_rate", "high_tech_land_rate", "composite_far", "building_density", "composite_tax_per_ha", "population_density"):
        if A <= 0:
            notes[key] = "没有已建成城镇建设用地，无法计算"
    for key in ("industrial_far", "industrial_coverage", "industrial_investment_intensity", "industrial_tax_per_ha"):
        if A2 <= 0:
            notes[key] = "没有已建成的工矿仓储用地，无法计算"
    for key in ("built_rate", "idle_rate"):
        if D <= 0:
            notes[key] = "没有已供应国有建设用地，无法计算"
    if base <= 0:
        notes["supply_rate"] = "没有已建成或已达到供地条件的土地，无法计算"
    if not population and A > 0:
        notes["population_density"] = "常住人口未提供（parcels/intensity/zone.toml 的 population，或 --population），未计算"
    for key in ("industrial_investment_intensity", "industrial_tax_per_ha", "composite_tax_per_ha"):
        col = "fixed_assets_wan" if key == "industrial_investment_intensity" else "tax_wan"
        if col not in survey.columns or not np.isfinite(_num(survey, col)).any():
            values[key] = None
            notes[key] = f"调查图斑没有{'累计固定资产投资' if col == 'fixed_assets_wan' else '税收总额'}数据，未计算"
    return values, notes


def area_summary(survey: pd.DataFrame) -> dict[str, float]:
    """Hectares of each land class (and the whole survey), rounded to 4 places."""
    area = np.nan_to_num(_num(survey, "area_m2"))  # an empty geometry has no area, never NaN in a sum
    s = survey_sets(survey)
    out = {k: round(float(area[m].sum()) / M2_PER_HA, 4) for k, m in s.items()}
    out["total"] = round(float(np.nansum(area)) / M2_PER_HA, 4)
    out["ready_unsupplied"] = round(float(area[s["ready"] & ~s["supplied"]].sum()) / M2_PER_HA, 4)
    return out


def yearly_supply(ledger: pd.DataFrame | None, year: int, window: int) -> dict[int, float]:
    """Hectares supplied in each calendar year of the window ending with `year` (ledger `supply_date`)."""
    years = list(range(year - window + 1, year + 1))
    if ledger is None or not len(ledger) or "supply_date" not in ledger.columns:
        return {y: 0.0 for y in years}
    dates = pd.to_datetime(ledger["supply_date"].astype(object).where(ledger["supply_date"].notna(), None), errors="coerce")
    area = pd.to_numeric(ledger["area_m2"], errors="coerce").fillna(0.0).to_numpy()
    ys = dates.dt.year.to_numpy()
    return {y: round(float(area[ys == y].sum()) / M2_PER_HA, 4) for y in years}


def potential(survey: pd.DataFrame, ledger: pd.DataFrame | None, year: int, zone: ZoneFigures) -> dict:
    """潜力: land ready to supply and not supplied, and 尚可供地年数 = it ÷ mean yearly supply of the
    last `window_years` calendar years (up to and including `year`) in the land supply ledger."""
    left = area_summary(survey)["ready_unsupplied"]
    by_year = yearly_supply(ledger, year, zone.window_years)
    mean = sum(by_year.values()) / len(by_year)
    out = {
        "ready_unsupplied_ha": left, "ready_unsupplied_mu": round(left * M2_PER_HA / M2_PER_MU, 2),
        "supply_by_year_ha": {str(k): v for k, v in by_year.items()}, "mean_yearly_supply_ha": round(mean, 4),
        "years_of_supply": round(left / mean, 2) if mean > 0 else None,
        "formula": f"尚可供地年数 = 已达到供地条件而未供应的土地面积 ÷ 近{zone.window_years}年（{min(by_year)}–{max(by_year)}年）年均供地面积（土地供应台账 供地日期）",
        "source": zone.potential_source, "status": zone.potential_status,
    }
    if ledger is None:
        out["note"] = "存储中没有土地供应台账（land_supply），无法计算年均供地面积"
    elif mean <= 0:
        out["note"] = f"{min(by_year)}–{max(by_year)}年台账中没有供地记录，尚可供地年数无法计算"
    return out


def zone_type(survey: pd.DataFrame, zone: ZoneFigures) -> dict:
    """工业主导型 / 产城融合型 from the residential share of built land, with the rule's status."""
    area = np.nan_to_num(_num(survey, "area_m2"))  # an empty geometry has no area, never NaN in a sum
    s = survey_sets(survey)
    A = area[s["built"]].sum()
    share = _ratio(area[s["residential"]].sum(), A, 100)
    kind = None if share is None else ("产城融合型" if share >= zone.residential_share_min else "工业主导型")
    return {"type": kind, "residential_share": None if share is None else round(share, 4), "industrial_share": _ratio(area[s["industrial"]].sum(), A, 100),
            "rule": zone.zone_type_rule, "source": zone.zone_type_source, "status": zone.zone_type_status}


def intensity_score(values: dict[str, float | None], weights: WeightSet) -> dict:
    """集约度 by the named weight set (理想值法); indicators without a value are left out and named."""
    items, total, wsum, missing = [], 0.0, 0.0, []
    for w in weights.weights:
        v = values.get(w.key)
        if v is None:
            missing.append(w.key)
            continue
        if w.direction == "-":
            worst = w.worst if w.worst is not None else 2 * w.ideal
            score = 100.0 * max(0.0, min(1.0, (worst - v) / (worst - w.ideal))) if worst != w.ideal else 0.0
        else:
            score = 100.0 * max(0.0, min(1.0, v / w.ideal)) if w.ideal else 0.0
        items.append({"key": w.key, "weight": w.weight, "ideal": w.ideal, "direction": w.direction, "score": round(score, 4)})
        total += w.weight * score
        wsum += w.weight
    out = {"value": round(total / wsum, 2) if wsum else None, "weights": weights.id, "name": weights.name, "source": weights.source,
           "status": weights.status, "method": weights.method, "method_status": weights.method_status, "items": items, "missing": missing}
    if weights.status == "sample":
        out["note"] = "示例权重与理想值（sample），非规程数值：集约度分值仅演示方法，不得用于评价结论"
    return out


def evaluate(
    survey: pd.DataFrame,
    *,
    year: int,
    ledger: pd.DataFrame | None = None,
    population: float | None = None,
    weights: WeightSet | None = None,
    indicators: IndicatorSet | None = None,
    zone: ZoneFigures | None = None,
    derivation: dict | None = None,
    withheld: dict | None = None,
) -> dict:
    """The evaluation document of SPEC §11: per indicator {key, name, value, unit, formula,
    national, national_year, source, status, note, derived}, plus areas, potential, zone type,
    score (only with `weights`) and notes. `derivation` ({indicator key: how}) marks figures that
    were derived from other layers rather than surveyed; `withheld` ({key: why}) are left without a
    value because the derivation cannot give them honestly."""
    indicators = indicators or load_indicators()
    zone = zone or load_zone()
    population = population if population is not None else zone.population
    values, why = indicator_values(survey, population)
    derivation = derivation or {}
    for key, reason in (withheld or {}).items():
        values[key] = None
        why[key] = reason
    rows = []
    for ind in indicators.indicators:
        note = "；".join(n for n in (why.get(ind.key), ind.note) if n)
        rows.append({
            "key": ind.key, "name": ind.name, "value": values[ind.key], "unit": ind.unit, "formula": ind.formula,
            "national": ind.national, "national_year": ind.national_year, "source": ind.national_source if ind.national is not None else "",
            "status": ind.status, "note": note, "derived": derivation.get(ind.key),
        })
    doc = {
        "year": year, "zone": zone.name, "indicator_set": {"id": indicators.id, "name": indicators.name, "source": indicators.definitions_source, "status": indicators.definitions_status},
        "national": {"title": indicators.national_title, "status": indicators.national_status},
        "areas_ha": area_summary(survey), "features": int(len(survey)),
        "statuses": dict(SURVEY_STATUSES),
        "indicators": rows, "potential": potential(survey, ledger, year, zone), "zone_type": zone_type(survey, zone),
        "population": {"value": population, "source": zone.population_source if population == zone.population else "调用时给出", "status": zone.population_status},
        "score": intensity_score(values, weights) if weights is not None else None,
        "notes": [],
    }
    if weights is None:
        doc["notes"].append("未给出集约度权重与理想值（规程数值未取得），不计算集约度分值；可指定示例权重集 sample 演示方法。")
    return doc
