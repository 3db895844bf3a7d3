"""The expansion-study package (SPEC §7): what the 扩区 team opens in QGIS/ArcGIS, Excel and a browser.

`run_study` is pure: it takes the store's layers (EPSG:4490 GeoDataFrames), the DEM and land
cover (arrays on their grids) and a scenario, and returns a `StudyResult` holding every frame,
layer, raster and the HTML report. `write_package(dir, result)` is the one function that touches
the disk: GeoPackage (each layer in EPSG:4490 and an `_4546` copy), the suitability COG, the XLSX
workbook with Chinese headers, the HTML report and the data dictionary.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.crs import MEASURE_EPSG, STORE_EPSG, to_measure
from gis.raster import Grid, reproject_to
from parcels.study.balance import LandBalance, land_balance
from parcels.study.scenario import CRITERIA, TABLE1_FIELDS, Scenario
from parcels.study.suitability import M2_PER_MU, SuitabilityInputError, SuitabilityResult, analyse

PLAN = "南阳高新技术产业开发区管理委员会：《南阳高新区“十四五”国民经济与社会发展规划纲要及二〇三五年远景目标》，2021年4月"
SUITABILITY_NODATA = -1.0
FILES = {
    "gpkg": "扩区研究.gpkg",
    "cog": "suitability_cog.tif",
    "xlsx": "扩区研究表格.xlsx",
    "html": "扩区研究报告.html",
    "dictionary": "数据字典.md",
    "summary": "summary.json",
}
BLOCK_LABELS = {
    "block_id": "地块编号", "rank": "排名", "suitability": "综合适宜性", "area_m2": "面积(平方米)", "area_mu": "面积(亩)",
    "score_slope": "坡度得分", "score_landcover": "土地覆盖得分", "score_roads": "道路可达得分",
    "score_adjacency": "与原辖区连接得分", "score_parks": "与功能区呼应得分", "slope_deg": "平均坡度(度)",
    "cropland_share": "耕地占比", "built_share": "建设用地占比", "water_share": "水域占比",
    "dist_to_zone_m": "距原有辖区(米)", "connects": "与原有辖区相连", "selected": "推荐扩区", "selection_order": "推荐顺序",
}


@dataclass
class StudyResult:
    scenario: Scenario
    balance: LandBalance
    suitability: SuitabilityResult | None
    layers: dict[str, gpd.GeoDataFrame]  # EPSG:4490
    tables: dict[str, pd.DataFrame]  # sheet name -> frame (Chinese headers)
    dictionary: pd.DataFrame
    report_html: str
    notes: list[str] = field(default_factory=list)
    generated_at: str = ""
    summary: dict = field(default_factory=dict)


# --- inputs -------------------------------------------------------------------------------


def inefficient_from_layers(industrial_parcels: gpd.GeoDataFrame, enterprises: gpd.GeoDataFrame, policy_name: str) -> gpd.GeoDataFrame:
    """低效用地 (SPEC §5.4) from the store's layers with the scenario's 亩均 policy."""
    from parcels.efficiency import find_inefficient_land, load_policy, score_enterprises

    policy = load_policy(policy_name)
    table = pd.DataFrame(enterprises.drop(columns=enterprises.geometry.name)) if isinstance(enterprises, gpd.GeoDataFrame) else enterprises
    result = score_enterprises(table, policy, parcels=industrial_parcels)
    return find_inefficient_land(industrial_parcels, result, policy)


def analysis_grid(zone_m, params, source: Grid) -> Grid:
    """The current zone's bounds plus the study buffer, at the scenario's cell size, inside the rasters."""
    x0, y0, x1, y1 = shapely.total_bounds(np.asarray(zone_m, dtype=object))
    b = params.study_buffer_m
    sx0, sy0, sx1, sy1 = source.bounds
    want = (max(x0 - b, sx0), max(y0 - b, sy0), min(x1 + b, sx1), min(y1 + b, sy1))
    if want[0] >= want[2] or want[1] >= want[3] or x0 < sx0 or x1 > sx1 or y0 < sy0 or y1 > sy1:
        raise SuitabilityInputError(
            "高程/土地覆盖栅格没有覆盖高新区现有辖区，无法做适宜性分析。",
            hint="导入覆盖辖区及周边的栅格，或删除 data/rasters/ 让 landgis 重新生成示意栅格。",
        )
    return Grid.from_bounds(want, params.cell_size_m)


DENSIFY_DEG = 0.0005
"""Edges are split every ~50 m before a change of CRS: a straight lon/lat edge is a curve in
Gauss–Krüger (up to ~0.4 m off over 5 km here), and the zone, the units and the constraints must
keep sharing their edges after the move."""
CONSTRAINTS = ("permanent_farmland", "ecological_redline", "urban_boundary", "admin_units")
HARD = {"permanent_farmland": (4, "永久基本农田"), "ecological_redline": (5, "生态保护红线")}


def _measure(geoms) -> np.ndarray:
    arr = np.asarray(geoms, dtype=object)
    return to_measure(shapely.segmentize(shapely.make_valid(arr), DENSIFY_DEG))


def _to_store(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    geo = shapely.segmentize(np.asarray(gdf.geometry.values, dtype=object), 50.0)
    return gpd.GeoDataFrame(gdf.drop(columns=gdf.geometry.name), geometry=gpd.GeoSeries(geo, crs=f"EPSG:{MEASURE_EPSG}"), crs=f"EPSG:{MEASURE_EPSG}").to_crs(f"EPSG:{STORE_EPSG}")


def _zone_part(zone_boundary: gpd.GeoDataFrame, kind: str) -> gpd.GeoDataFrame:
    if "kind" in zone_boundary.columns:
        return zone_boundary[zone_boundary["kind"].astype("str") == kind]
    return zone_boundary if kind == "current" else zone_boundary.iloc[0:0]


def _current_zone(zone_boundary: gpd.GeoDataFrame) -> np.ndarray:
    cur = _zone_part(zone_boundary, "current")
    if len(cur) == 0:
        raise SuitabilityInputError("zone_boundary 图层中没有 kind = current 的现有辖区要素。", hint="导入高新区现有辖区边界（kind 填 current）。")
    return _measure(cur.geometry.values)


def _need(layers: dict, name: str) -> gpd.GeoDataFrame:
    g = layers.get(name)
    if g is None:
        raise SuitabilityInputError(f"缺少图层 {name}，无法运行扩区研究。", hint="先运行 landgis init 载入样例数据，或导入该图层。")
    return g


def _union_m(layers: dict, name: str):
    g = layers.get(name)
    if g is None or len(g) == 0:
        return None
    return shapely.union_all(_measure(g.geometry.values))


def _is_schematic(gdf: gpd.GeoDataFrame | None) -> bool:
    return gdf is not None and "geometry_source" in gdf.columns and bool((gdf["geometry_source"].astype(str) == "schematic").any())


@dataclass
class Expansion:
    """The recommended expansion and its candidates (EPSG:4546 until written)."""

    candidates: gpd.GeoDataFrame  # one row per candidate unit, unit geometry
    recommended: gpd.GeoDataFrame  # one row per unit with recommended land, taken geometry
    recommended_m2: float
    in_plan_m2: float
    hard_used: list[str]
    notes: list[str] = field(default_factory=list)


def _candidate_units(scenario: Scenario, layers: dict, suit: SuitabilityResult) -> tuple[gpd.GeoDataFrame, float]:
    """(units in EPSG:4546 with unit_id/name/parent/kind, touching tolerance in metres)."""
    e = scenario.expansion
    if e.candidates == "admin_units":
        au = layers.get("admin_units")
        if au is None or len(au) == 0:
            raise SuitabilityInputError("情景要求按行政单位整建制托管（expansion.candidates = admin_units），但存储中没有 admin_units 图层。",
                                        hint="运行 landgis init 载入示意行政区划，或 landgis import 导入乡镇/村界线；也可改用 candidates = \"blocks\"。")
        au = au[au["level"].astype(str) == e.admin_level] if "level" in au.columns else au
        if len(au) == 0:
            raise SuitabilityInputError(f"admin_units 图层中没有层级为“{e.admin_level}”的单位。", hint="检查 level 字段（村 或 乡镇）或修改 expansion.admin_level。")
        frame = pd.DataFrame({
            "unit_id": au["id"].astype(str).to_numpy(),
            "name": au["name"].astype(str).to_numpy() if "name" in au.columns else au["id"].astype(str).to_numpy(),
            "parent": au["parent"].astype(str).to_numpy() if "parent" in au.columns else "",
            "kind": f"行政{e.admin_level}",
        })
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(_measure(au.geometry.values), crs=f"EPSG:{MEASURE_EPSG}"), crs=f"EPSG:{MEASURE_EPSG}"), 0.05
    b = suit.blocks
    frame = pd.DataFrame({"unit_id": b["block_id"].astype(str).to_numpy(), "name": b["block_id"].astype(str).to_numpy(), "parent": "", "kind": "适宜性连片地块"})
    return gpd.GeoDataFrame(frame, geometry=b.geometry.values, crs=f"EPSG:{MEASURE_EPSG}"), scenario.suitability.adjacency_tolerance_m


def _require_protected_lines(layers: dict) -> None:
    missing = [f"{name}（{zh}）" for name, (_, zh) in HARD.items() if layers.get(name) is None]
    if missing:
        raise SuitabilityInputError(f"存储中缺少图层 {'、'.join(missing)}：无法保证推荐用地不占永久基本农田与生态保护红线，未推荐扩区用地。",
                                    hint="运行 landgis init 载入示意约束图层，或用 landgis import 导入自然资源部门的三区三线成果（图层名 permanent_farmland、ecological_redline）。")


def plan_expansion(scenario: Scenario, layers: dict, suit: SuitabilityResult, zone_m, target_m2: float) -> Expansion:
    """Candidates lose the protected land, then the recommendation grows from the zone to `target_m2`."""
    from parcels.study.suitability import block_statistics, excluded_polygons, rank_blocks
    from parcels.study.takeover import buildable, grow, pieces_of, recommended_frame

    notes: list[str] = []
    _require_protected_lines(layers)
    units, touch = _candidate_units(scenario, layers, suit)
    hard_used = [name for name in HARD if len(layers[name])]
    hard = shapely.union_all([_union_m(layers, n) for n in hard_used]) if hard_used else None
    raster_ex = excluded_polygons(suit)
    exclude = shapely.union_all([g for g in (hard, raster_ex) if g is not None and not g.is_empty]) if (hard is not None or not raster_ex.is_empty) else None
    within = _union_m(layers, "urban_boundary") if scenario.expansion.urban_boundary == "require" else None
    if scenario.expansion.urban_boundary == "require" and within is None:
        notes.append("存储中没有城镇开发边界（urban_boundary），未按边界限制推荐范围。")
    zone_geom = shapely.union_all(np.asarray(zone_m, dtype=object))
    units = buildable(units, zone=zone_geom, exclude=exclude, within=within)
    geoms = np.asarray(units.geometry.values, dtype=object)
    for name in HARD:
        g = _union_m(layers, name)
        units[f"{name}_m2"] = shapely.area(shapely.intersection(geoms, g)) if g is not None else 0.0
    ok = units["buildable_m2"].to_numpy() >= 100.0
    stats_in = gpd.GeoDataFrame({"block_id": units.loc[ok, "unit_id"].to_numpy()}, geometry=units.loc[ok, "buildable_geom"].to_numpy(), crs=f"EPSG:{MEASURE_EPSG}")
    if len(stats_in):
        stats = block_statistics(stats_in, suit.grid, suit.criteria, suit.slope, suit.landcover if suit.landcover is not None else np.zeros(suit.grid.shape, np.uint8))
        stats["area_mu"] = units.loc[ok, "buildable_m2"].to_numpy() / M2_PER_MU
        ranked = rank_blocks(stats, scenario.suitability.weights).rename(columns={"block_id": "unit_id"})
        units = units.merge(ranked[["unit_id", "suitability", "rank"] + [c for c in ranked.columns if c.startswith("score_") or c.endswith("_share") or c == "slope_deg"]], on="unit_id", how="left")
    else:
        units["suitability"], units["rank"] = np.nan, np.nan
        notes.append("扩区候选单位扣除永久基本农田、生态保护红线等约束后没有可建设用地。")
    plan_area = _union_m({"z": _zone_part(layers["zone_boundary"], "expansion")}, "z")
    candidates = units[units["rank"].notna()].copy()
    grown = grow(pieces_of(candidates), zone_geom, target_m2, plan_area=plan_area, prefer_plan=scenario.expansion.prefer_plan_expansion, touch_m=touch)
    rec = recommended_frame(grown)
    taken = grown.groupby("unit_id")["taken_m2"].sum() if len(grown) else pd.Series(dtype=float)
    order = grown[grown["selected"]].groupby("unit_id")["selection_order"].min() if len(grown) else pd.Series(dtype=int)
    units["recommended_m2"] = units["unit_id"].map(taken).fillna(0.0)
    units["selected"] = units["recommended_m2"] > 0
    units["selection_order"] = units["unit_id"].map(order).fillna(0).astype(int)
    rec_geoms = np.asarray(rec.geometry.values, dtype=object)
    rec_m2 = float(shapely.area(rec_geoms).sum()) if len(rec) else 0.0
    in_plan = float(shapely.area(shapely.intersection(rec_geoms, plan_area)).sum()) if len(rec) and plan_area is not None else 0.0
    if plan_area is not None:
        units["in_plan_share"] = shapely.area(shapely.intersection(np.asarray(units.geometry.values, dtype=object), plan_area)) / np.maximum(shapely.area(np.asarray(units.geometry.values, dtype=object)), 1e-9)
    if target_m2 <= 0:
        notes.append("存量与储备供给已满足工业用地需求（净需求为 0），本情景不推荐扩区用地。")
    elif rec_m2 < target_m2 * (1 - 1e-3):
        notes.append(f"与辖区相连、可建设的候选用地只有 {rec_m2 / M2_PER_MU:,.0f} 亩，不足按净需求测算的 {target_m2 / M2_PER_MU:,.0f} 亩。")
    if len(rec):
        rec["recommended_m2"] = shapely.area(rec_geoms)
        rec["in_plan_m2"] = shapely.area(shapely.intersection(rec_geoms, plan_area)) if plan_area is not None else 0.0
    return Expansion(units.drop(columns=["buildable_geom"]), rec, rec_m2, in_plan, hard_used, notes)


def run_study(
    scenario: Scenario,
    layers: dict[str, gpd.GeoDataFrame],
    *,
    dem: tuple[np.ndarray, Grid] | None,
    landcover: tuple[np.ndarray, Grid] | None,
    inefficient: gpd.GeoDataFrame | None = None,
    raster_note: str = "",
    notes: list[str] | None = None,
    intensity: dict | None = None,
) -> StudyResult:
    """The whole study: the balance (demand by every method, supply once), then suitability and
    the recommended expansion sized by the gross need (when rasters are given).

    `notes`: remarks of the caller (e.g. why no 低效用地 could be screened), shown in the report.
    `intensity`: the zone's 土地集约利用评价 (services/intensity.py, SPEC §11), when the store has a
    survey or layers to derive one from: `summary.json` → `intensity`, a sheet and a report section.
    """
    params = scenario.suitability
    zone_b = _need(layers, "zone_boundary")
    notes = list(notes or [])
    bal = land_balance(
        scenario,
        industrial_parcels=_need(layers, "industrial_parcels"),
        enterprises=_need(layers, "enterprises"),
        reserve_parcels=_need(layers, "reserve_parcels"),
        inefficient=inefficient,
        park_zones=layers.get("park_zones"),
    )
    notes += bal.notes
    suit: SuitabilityResult | None = None
    expansion: Expansion | None = None
    if dem is not None and landcover is not None:
        _require_protected_lines(layers)  # before minutes of raster work, not after
        zone_m = _current_zone(zone_b)
        grid = analysis_grid(zone_m, params, dem[1])
        d = reproject_to(dem[0].astype(np.float32), dem[1], grid, resampling="bilinear")
        lc = reproject_to(landcover[0].astype(np.uint8), landcover[1], grid, resampling="nearest")
        roads = to_measure(np.asarray(_need(layers, "roads").geometry.values, dtype=object))
        parks = to_measure(np.asarray(_need(layers, "park_zones").geometry.values, dtype=object))
        exclusions = [(code, _union_m(layers, name)) for name, (code, _) in HARD.items()]
        urban = _union_m(layers, "urban_boundary")
        if scenario.expansion.urban_boundary == "require" and urban is not None:
            x0, y0, x1, y1 = grid.bounds
            exclusions.append((6, shapely.difference(shapely.box(x0, y0, x1, y1), urban)))
        suit = analyse(d, lc, grid, roads=roads, zone=zone_m, parks=parks, params=params, exclusions=exclusions,
                       delineate=scenario.expansion.candidates == "blocks")
        notes += suit.notes
        target = bal["expansion_need_gross_mu"] * M2_PER_MU
        expansion = plan_expansion(scenario, layers, suit, zone_m, target)
        notes += expansion.notes
        add_recommendation(bal, expansion.recommended_m2 / M2_PER_MU, scenario)
    else:
        notes.append("未提供高程与土地覆盖栅格：只计算用地平衡，未做适宜性分析。")
    out_layers = _package_layers(layers, scenario, inefficient, expansion)
    summary = study_summary(scenario, bal, expansion, out_layers, notes)
    tables = _tables(scenario, bal, suit, inefficient, layers, expansion)
    if summary["schematic_layers"]:
        # the first sheet an official opens says which layers are drawn, not surveyed
        tables = {"说明（示意数据）": pd.DataFrame({"说明": [summary["schematic_note"], *notes]}), **tables}
    if intensity is not None:
        from parcels.intensity.report import HEADERS, indicator_rows

        summary["intensity"] = intensity_summary(intensity)
        tables["土地集约利用评价"] = pd.DataFrame(indicator_rows(intensity), columns=list(HEADERS))
    dictionary = data_dictionary(scenario, raster_note)
    generated = _dt.datetime.now().isoformat(timespec="seconds")
    from parcels.study.report import render_report

    html = render_report(scenario=scenario, balance=bal, suitability=suit, layers=out_layers, tables=tables,
                         dictionary=dictionary, notes=notes, generated_at=generated, files=FILES, summary=summary)
    if intensity is not None:
        from parcels.intensity.report import intensity_section

        html = html.replace("</body>", "<h2>开发区土地集约利用评价（" + str(intensity["year"]) + " 年度）</h2>" + intensity_section(intensity, level=3) + "</body>", 1)
    return StudyResult(scenario, bal, suit, out_layers, tables, dictionary, html, notes, generated, summary)


def intensity_summary(doc: dict) -> dict:
    """The intensity evaluation as `summary.json` carries it: each indicator beside the national figure."""
    keep = ("key", "name", "value", "unit", "national", "national_year", "source", "status", "derived")
    return {
        "year": doc["year"], "survey": doc.get("survey", {}).get("kind"), "survey_label": doc.get("survey", {}).get("label"),
        "notes": list(doc.get("survey", {}).get("notes", [])),
        "indicators": [{k: i.get(k) for k in keep} for i in doc["indicators"]],
        "potential": {k: doc["potential"].get(k) for k in ("ready_unsupplied_ha", "ready_unsupplied_mu", "mean_yearly_supply_ha", "years_of_supply", "status")},
        "zone_type": {k: doc["zone_type"].get(k) for k in ("type", "residential_share", "status")},
        "score": None if not doc.get("score") else {k: doc["score"].get(k) for k in ("value", "weights", "status")},
    }


def add_recommendation(bal: LandBalance, rec_mu: float, scenario: Scenario) -> None:
    """The recommended land's lines of the balance, and the comparison with the plan's 50 km²."""
    from parcels.study.balance import BalanceItem

    share = scenario.assumptions.expansion_industrial_share
    v = bal.values
    items = [i for i in bal.items if i.key != "balance_mu"]
    items += [
        BalanceItem("recommended_mu", "推荐扩区用地（毛面积）", rec_mu, "亩", "自现有辖区起逐块并入相连的可建设用地，至毛面积需求为止（已扣除永久基本农田、生态保护红线）"),
        BalanceItem("recommended_vs_plan_target", "推荐扩区用地 ÷ 规划扩区面积", rec_mu / v["plan_expansion_target_mu"] if v["plan_expansion_target_mu"] else 0.0, "",
                    f"推荐 {rec_mu / 1500:.2f} km² 对照专栏9 规划扩展 {scenario.suitability.expansion_target_km2:g} km²"),
        BalanceItem("expansion_supply_mu", "扩区工业用地供给", rec_mu * share, "亩", f"推荐扩区用地 × 工业用地比例 {share:g}"),
        BalanceItem("balance_mu", "供需差额（供给 − 需求）", v["planned_supply_mu"] + rec_mu * share - v["demand_mu"], "亩", "存量与储备供给 + 扩区工业用地供给 − 工业用地需求；负数为缺口"),
    ]
    bal.items[:] = items


def study_summary(scenario: Scenario, bal: LandBalance, expansion: Expansion | None, layers: dict, notes: list[str]) -> dict:
    """summary.json: the balance an official signs, in one small file (SPEC §7)."""
    v = bal.values
    supply_keys = ("reserve_supply_mu", "zhongguancun_supply_mu", "recycled_supply_mu")
    items = {i.key: i for i in bal.items}
    schematic = [n for n, g in layers.items() if _is_schematic(g)]
    out = {
        "scenario": {"name": scenario.name, "base_year": scenario.base_year, "target_year": scenario.target_year},
        "schematic_layers": schematic,
        "schematic_note": ("以下图层为示意数据（schematic），结果仅演示方法，不得作为审批依据：" + "、".join(schematic)) if schematic else "",
        "demand": [e.as_dict() for e in bal.demand],
        "decide_by": list(scenario.demand.decide_by),
        "demand_mu": round(v["demand_mu"], 2),
        "supply": [{"key": k, "label_zh": items[k].label, "mu": round(items[k].value, 2), "how": items[k].how} for k in supply_keys],
        "supply_total_mu": round(v["planned_supply_mu"], 2),
        "reserve_overlap_industrial_mu": round(v["reserve_overlap_industrial_mu"], 2),
        "reserve_overlaps": [] if bal.reserve is None else [
            {"id": r.id, "name": r.name, "overlap_mu": round(float(r.overlap_industrial_mu), 2)}
            for r in bal.reserve.itertuples() if r.overlap_industrial_mu > 0],
        "net_need_mu": round(v["expansion_need_mu"], 2),
        "gross_up": round(1.0 / scenario.assumptions.expansion_industrial_share, 4),
        "gross_need_mu": round(v["expansion_need_gross_mu"], 2),
        "plan_expansion_target_km2": scenario.suitability.expansion_target_km2,
        "recommended_mu": None,
        "recommended_km2": None,
        "share_in_plan_expansion": None,
        "candidates": scenario.expansion.candidates,
        # the scenario's own numbers that move the answer: assumptions of the 扩区 team, not facts
        "assumptions": {
            "status": "scenario",
            "revenue_per_mu_growth": scenario.assumptions.revenue_per_mu_growth,
            "reserve_supply_share": scenario.assumptions.reserve_supply_share,
            "inefficient_recycle_share": scenario.assumptions.inefficient_recycle_share,
            "zhongguancun_industrial_share": scenario.supply.zhongguancun_industrial_share,
            "expansion_industrial_share": scenario.assumptions.expansion_industrial_share,
            "investment_industrial_share": scenario.demand.investment_industrial_share,
        },
        "constraints_used": [],
        "recommended_units": [],
        "notes": list(notes),
    }
    if expansion is not None:
        rec_mu = expansion.recommended_m2 / M2_PER_MU
        out["recommended_mu"] = round(rec_mu, 2)
        out["recommended_km2"] = round(expansion.recommended_m2 / 1e6, 4)
        out["recommended_vs_plan_target"] = round(rec_mu / (scenario.suitability.expansion_target_km2 * 1500.0), 4)
        out["share_in_plan_expansion"] = round(expansion.in_plan_m2 / expansion.recommended_m2, 4) if expansion.recommended_m2 else None
        out["constraints_used"] = [n for n in CONSTRAINTS if n in layers]
        out["hard_exclusions"] = list(expansion.hard_used)
        rec = expansion.recommended
        out["recommended_units"] = [
            {"unit_id": r.unit_id, "name": r.name, "parent": r.parent, "recommended_mu": round(r.recommended_m2 / M2_PER_MU, 2),
             "in_plan_expansion_mu": round(r.in_plan_m2 / M2_PER_MU, 2)} for r in rec.itertuples()]
    return out


# --- layers and tables --------------------------------------------------------------------


def _package_layers(layers: dict, scenario: Scenario, inefficient, expansion: Expansion | None) -> dict[str, gpd.GeoDataFrame]:
    out: dict[str, gpd.GeoDataFrame] = {}
    for name in ("zone_boundary", "park_zones", "roads", "reserve_parcels"):
        if layers.get(name) is not None:
            out[name] = layers[name].copy()
    if "reserve_parcels" in out:
        uses = set(scenario.assumptions.reserve_uses)
        out["reserve_parcels"]["counted_in_supply"] = out["reserve_parcels"]["use"].astype("str").isin(uses).to_numpy()
    if inefficient is not None and len(inefficient):
        keep = [c for c in ("parcel_id", "area_m2", "area_mu", "reason", "provisional", "park", "district") if c in inefficient.columns]
        out["inefficient_land"] = gpd.GeoDataFrame(inefficient[keep].copy(), geometry=inefficient.geometry.values, crs=inefficient.crs or f"EPSG:{STORE_EPSG}")
    if expansion is None:
        return out
    for name in CONSTRAINTS:
        if layers.get(name) is not None and len(layers[name]):
            out[name] = layers[name].copy()
    cand = expansion.candidates.copy()
    cand["block_id"] = cand["unit_id"]
    cand["area_m2"] = shapely.area(np.asarray(cand.geometry.values, dtype=object))
    cand["area_mu"] = cand["area_m2"] / M2_PER_MU
    cand["buildable_mu"] = cand["buildable_m2"] / M2_PER_MU
    cand["recommended_mu"] = cand["recommended_m2"] / M2_PER_MU
    for name in HARD:
        cand[f"{name}_mu"] = cand[f"{name}_m2"] / M2_PER_MU
    out["candidate_blocks"] = _to_store(cand)
    rec = expansion.recommended
    if len(rec):
        rec4490 = _to_store(rec)
        hard = [layers[n] for n in expansion.hard_used]
        if hard:
            # The last cut is made in the store's CRS against the very geometries written beside
            # it, so the package's layers themselves show no overlap with protected land.
            cut = shapely.union_all(np.concatenate([np.asarray(h.geometry.values, dtype=object) for h in hard]))
            rec4490 = rec4490.set_geometry(shapely.difference(np.asarray(rec4490.geometry.values, dtype=object), cut))
        rec4490["name"] = [f"推荐扩区用地（{n}）" for n in rec4490["name"].astype(str)]
        rec4490["area_m2"] = rec4490["recommended_m2"]
        rec4490["area_mu"] = rec4490["recommended_m2"] / M2_PER_MU
        rec4490["area_km2"] = rec4490["recommended_m2"] / 1e6
        rec4490["in_plan_expansion_mu"] = rec4490["in_plan_m2"] / M2_PER_MU
        rec4490["plan_target_km2"] = scenario.suitability.expansion_target_km2
        rec4490["geometry_source"] = "schematic" if _is_schematic(layers.get("admin_units")) or _is_schematic(layers.get("zone_boundary")) else "digitized"
        out["recommended_expansion"] = rec4490.drop(columns=["recommended_m2", "in_plan_m2"])
    return out


RESERVE_LABELS = {"id": "地块编号", "name": "项目名称", "use": "用途", "status": "报批状态", "area_mu": "面积(亩)", "counted": "计入供给",
                  "overlap_industrial_mu": "与现状工业用地重叠(亩)", "net_mu": "扣除重叠后(亩)", "in_zhongguancun": "位于中关村（并入中关村可用用地）"}
UNIT_LABELS = {"unit_id": "单位编号", "name": "名称", "parent": "上级", "kind": "类型", "area_mu": "面积(亩)", "buildable_mu": "可建设用地(亩)",
               "permanent_farmland_mu": "永久基本农田(亩)", "ecological_redline_mu": "生态保护红线(亩)", "in_plan_share": "位于规划扩区比例",
               "suitability": "综合适宜性", "rank": "排名", "selected": "推荐托管", "selection_order": "推荐顺序", "recommended_mu": "推荐扩区用地(亩)"}


def _tables(scenario: Scenario, bal: LandBalance, suit, inefficient, layers, expansion: Expansion | None = None) -> dict[str, pd.DataFrame]:
    from parcels.study.demand import load_named_projects

    tables: dict[str, pd.DataFrame] = {"需求测算（方法对照）": bal.demand_table(), "用地平衡": bal.table(), "储备地块按用途": bal.supply_by_use}
    if bal.reserve is not None:
        tables["储备地块（只计一次）"] = bal.reserve.rename(columns=RESERVE_LABELS)
    projects, header = load_named_projects()
    tables["重点项目用地（专栏3–8）"] = pd.DataFrame({"项目": [p.name for p in projects], "专栏": [p.column for p in projects], "用地(亩)": [p.area_mu for p in projects],
                                              "用途": [p.use for p in projects], "规划原文": [p.quote for p in projects], "说明": [p.note for p in projects]})
    if expansion is not None:
        c = expansion.candidates.copy()
        c["area_mu"] = shapely.area(np.asarray(c.geometry.values, dtype=object)) / M2_PER_MU
        for col in ("buildable", "permanent_farmland", "ecological_redline", "recommended"):
            c[f"{col}_mu"] = c[f"{col}_m2"] / M2_PER_MU
        c = pd.DataFrame(c.drop(columns=c.geometry.name)).sort_values(["selected", "selection_order", "rank"], ascending=[False, True, True])
        tables["扩区候选单位"] = c[[k for k in UNIT_LABELS if k in c.columns]].rename(columns=UNIT_LABELS)
    rp = layers.get("reserve_parcels")
    if rp is not None:
        cols = [c for c in ("id", "seq", "district", "name", "location", "use", "area_mu", "status") if c in rp.columns]
        t = pd.DataFrame(rp[cols]).copy()
        t["计入工业用地供给"] = np.where(t["use"].astype("str").isin(list(scenario.assumptions.reserve_uses)), "是", "否")
        tables["储备地块（表2）"] = t.rename(columns={"id": "地块编号", "seq": "序号", "district": "辖区", "name": "项目名称", "location": "位置", "use": "用途", "area_mu": "面积(亩)", "status": "报批状态"})
    if inefficient is not None and len(inefficient):
        keep = [c for c in ("parcel_id", "area_mu", "reason", "provisional", "park", "district") if c in inefficient.columns]
        tables["低效用地"] = pd.DataFrame(inefficient[keep]).rename(columns={"parcel_id": "地块编号", "area_mu": "面积(亩)", "reason": "认定原因", "provisional": "阈值未核实", "park": "所在园区", "district": "辖区"})
    if suit is not None and len(suit.blocks):
        b = pd.DataFrame(suit.blocks.drop(columns="geometry"))
        b = b[[c for c in BLOCK_LABELS if c in b.columns]]
        tables["扩区候选地块"] = b.rename(columns=BLOCK_LABELS)
    if suit is not None:
        tables["适宜性因子权重"] = pd.DataFrame({"因子": list(CRITERIA.values()), "代码": list(CRITERIA), "权重(归一化)": [suit.weights[k] for k in CRITERIA]})
    tables["规划目标（表1）"] = pd.DataFrame(
        {
            "指标": [TABLE1_FIELDS[k][0] for k in TABLE1_FIELDS],
            "单位": [TABLE1_FIELDS[k][1] for k in TABLE1_FIELDS],
            f"{scenario.base_year}年": [scenario.baseline.get(k) for k in TABLE1_FIELDS],
            f"{scenario.target_year}年": [scenario.targets.get(k) for k in TABLE1_FIELDS],
        }
    )
    tables["情景参数"] = scenario_table(scenario)
    return tables


def scenario_table(scenario: Scenario) -> pd.DataFrame:
    """Every scenario value as one row (key path, value), so the run is reproducible from the XLSX."""
    rows: list[tuple[str, str]] = []

    def walk(prefix: str, v) -> None:
        if isinstance(v, dict):
            for k, x in v.items():
                walk(f"{prefix}.{k}" if prefix else k, x)
        else:
            rows.append((prefix, str(v)))

    walk("", scenario.raw)
    return pd.DataFrame(rows, columns=["参数", "取值"])


def data_dictionary(scenario: Scenario, raster_note: str = "") -> pd.DataFrame:
    """Every file, layer and figure of the package with its meaning and its source."""
    from parcels.sample.rasters import LANDCOVER_CLASSES, SCHEMATIC_NOTE

    lc = "；".join(f"{k}={v[1]}（{v[0]}）" for k, v in LANDCOVER_CLASSES.items())
    raster_src = raster_note or SCHEMATIC_NOTE
    rows = [
        (FILES["gpkg"], "zone_boundary / zone_boundary_4546", "高新区范围：现有辖区（current，43.27 km²）与规划扩区（expansion，50 km²）", f"{PLAN} 一（一）、专栏9；样例几何为示意位置（schematic），以各要素 data_source 为准"),
        (FILES["gpkg"], "park_zones / park_zones_4546", "产业园区（与各功能区相呼应的参照）", f"{PLAN} 六（一）、专栏4/6/8；几何示意"),
        (FILES["gpkg"], "roads / roads_4546", "道路（计算道路可达性）", f"{PLAN} 表2、专栏9 所列道路；几何示意"),
        (FILES["gpkg"], "reserve_parcels / reserve_parcels_4546", "表2 地块报批计划的储备地块；counted_in_supply = 是否计入工业用地供给", f"{PLAN} 表2；面积为示意几何面积"),
        (FILES["gpkg"], "inefficient_land / inefficient_land_4546", "低效用地（SPEC §5.4）：地块编号、面积、认定原因", f"亩均效益评价政策 {scenario.assumptions.inefficient_policy}（parcels/policies/），阈值来源见 DOMAIN.md §0.6、§4（地方阈值未核实 [U]）；企业数据为合成样例"),
        (FILES["gpkg"], "candidate_blocks / candidate_blocks_4546", "扩区候选单位（默认为行政村，整建制托管）：可建设用地、所含永久基本农田与生态保护红线、各因子覆盖加权平均得分、综合适宜性、排名、是否推荐", "本研究计算：适宜性加权叠加 + exactextract 覆盖加权分区统计；候选单位取自 admin_units 图层"),
        (FILES["gpkg"], "recommended_expansion / recommended_expansion_4546", "推荐扩区用地：自现有辖区起逐块并入相连的可建设用地，至按净需求与毛面积系数测算的面积为止；不含永久基本农田与生态保护红线；面积为 EPSG:4546 高斯平面面积", f"{PLAN} 六（二）“沿高新区南区进行整建制托管式扩区”“与高新区原有辖区相连接、连片成块”；专栏9 的 50 平方公里只作对照"),
        (FILES["gpkg"], "permanent_farmland / ecological_redline / urban_boundary / admin_units（及 _4546）", "研究所用的三区三线与行政区划：永久基本农田、生态保护红线为刚性排除，城镇开发边界外不推荐（情景 expansion.urban_boundary）", "以各要素 data_source 为准；内置样例为示意数据（schematic），须以自然资源部门三区三线成果替换（DOMAIN.md §11）"),
        (FILES["summary"], "summary.json", "用地平衡摘要：demand（每种方法一条）、supply、net_need_mu、gross_need_mu、recommended_mu、share_in_plan_expansion", "本研究计算；各项计算方法见 XLSX“用地平衡”“需求测算（方法对照）”"),
        (FILES["xlsx"], "重点项目用地（专栏3–8）", "规划专栏3–8 载明用地面积的重点项目（需求口径之一）", f"{PLAN} 专栏4、5、6、8（原文摘录）"),
        (FILES["cog"], "band 1", f"综合适宜性（0–1，越大越适宜）；{SUITABILITY_NODATA:g} = 约束区（水域等、坡度过大、现有辖区内）；EPSG:4546，{scenario.suitability.cell_size_m:g} 米", "本研究计算；输入高程与土地覆盖：" + raster_src),
        ("输入栅格", "dem.tif", "高程（米），用于坡度（Horn 3×3 算法）", raster_src),
        ("输入栅格", "landcover.tif", f"土地覆盖编码：{lc}", raster_src),
        (FILES["xlsx"], "用地平衡", "工业用地需求与供给，逐项给出计算方法", f"{PLAN} 表1（营业总收入、规上工业企业）；情景文件假设；store 中的工业用地、企业、储备地块图层"),
        (FILES["xlsx"], "规划目标（表1）", "表1 南阳高新区“十四五”发展主要目标（2020→2025）", f"{PLAN} 表1"),
        (FILES["xlsx"], "情景参数", "本次运行所用情景文件的全部参数", f"情景：{scenario.name}；{scenario.source}"),
        ("单位", "亩", "1 亩 = 10000/15 平方米；面积为测量坐标系（默认 EPSG:4546，CGCS2000 3度带）中的平面面积，即登记宗地面积；椭球面积另列于 ellipsoid_area_m2", "SPEC §3.1"),
        ("坐标系", "EPSG:4490 / EPSG:4546", "存储与交换：CGCS2000 经纬度（EPSG:4490）；量算：CGCS2000 3度带高斯-克吕格 CM 111E（EPSG:4546）", "DOMAIN.md §A；SPEC §3.1"),
    ]
    return pd.DataFrame(rows, columns=["文件", "图层/字段", "含义", "来源"])


# --- writing (the edge) ---------------------------------------------------------------------


def _write_layer(path: Path, gdf: gpd.GeoDataFrame, layer: str) -> None:
    import pyogrio

    from gis.io import _plain_dtypes

    pyogrio.write_dataframe(_plain_dtypes(gdf), path, driver="GPKG", layer=layer)


def write_package(out_dir: str | Path, result: StudyResult) -> dict[str, Path]:
    """Write the package files into `out_dir` (created; existing package files replaced)."""
    from gis.io import write_workbook
    from gis.raster import write_cog

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {k: out / v for k, v in FILES.items()}
    gpkg = paths["gpkg"]
    if gpkg.exists():
        gpkg.unlink()
    import pyogrio

    # A fresh output file written once: SQLite need not fsync after each of its ~20 layers
    # (2.7 s → 0.5 s here); a crash mid-write leaves an incomplete package either way.
    previous = pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS")
    pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})
    try:
        for name, gdf in result.layers.items():
            g = gdf.to_crs(f"EPSG:{STORE_EPSG}")
            _write_layer(gpkg, g, name)
            _write_layer(gpkg, g.to_crs(f"EPSG:{MEASURE_EPSG}"), f"{name}_{MEASURE_EPSG}")
    finally:
        pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": previous})
    if result.suitability is not None:
        s = result.suitability
        arr = np.where(np.isnan(s.score), SUITABILITY_NODATA, s.score).astype(np.float32)
        write_cog(paths["cog"], arr, s.grid, nodata=SUITABILITY_NODATA, description="综合适宜性 suitability (0-1)",
                  tags={"SCENARIO": result.scenario.name, "GENERATED": result.generated_at,
                        "WEIGHTS": "; ".join(f"{k}={v:.4f}" for k, v in s.weights.items()),
                        "NODATA_MEANING": "约束区：土地覆盖约束、坡度过大或现有辖区内"})
    else:
        paths.pop("cog")
    sheets = dict(result.tables)
    sheets["数据字典"] = result.dictionary
    write_workbook(sheets, paths["xlsx"])
    paths["html"].write_text(result.report_html, encoding="utf-8")
    paths["dictionary"].write_text(dictionary_markdown(result), encoding="utf-8")
    paths["summary"].write_text(json.dumps(result.summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return paths


def dictionary_markdown(result: StudyResult) -> str:
    lines = [f"# 扩区研究数据字典", "", f"情景：{result.scenario.name}；生成时间：{result.generated_at}", "",
             "| 文件 | 图层/字段 | 含义 | 来源 |", "|---|---|---|---|"]
    for r in result.dictionary.itertuples(index=False):
        lines.append("| " + " | ".join(str(v).replace("|", "／") for v in r) + " |")
    lines += ["", "## 候选地块字段", "", "| 字段 | 中文名 |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in BLOCK_LABELS.items()]
    return "\n".join(lines) + "\n"


def zip_package(paths: dict[str, Path]) -> bytes:
    """The package files as one zip (for GET /study/package)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for p in paths.values():
            zf.write(p, arcname=p.name)
    return buf.getvalue()
