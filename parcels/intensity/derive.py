"""A land survey derived from the store's own layers, for a zone that has none (SPEC §11).

What each piece of derived land is, and why:
- `industrial_parcels`: 工矿仓储, supplied; built unless marked idle (an idle parcel is supplied land
  not built on: `ready`, supplied, idle); 总建筑面积 = 容积率 × 面积, 基底 = 建筑系数 × 面积; 税收 = the
  `tax` of the enterprises on it (`parcel_id`; an enterprise on n parcels split by their areas);
  高新技术 when an enterprise on it is `high_tech`. No fixed-asset figure exists in these layers.
- `land_supply` rows on other land: supplied when `supply_date` ≤ the year's end (built once
  `actual_completion_date` ≤ it, else `ready`), approved but unsupplied → `ready`; 闲置 as the
  supervision rules find it on 31 December of the year (parcels/supply/supervise.py).
- `reserve_parcels` not already covered: 已获批 → ready, 已供地 → ready and supplied, 计划报批 /
  已组卷上报 → not_ready (未达到供地条件).
Each later source is cut by the land the earlier ones cover, so no land is counted twice. The rest
of the zone (roads, housing, public land, water) has no layer to come from: the derived survey
says so, and the figures over all built land are withheld or flagged (`withheld`, `derivation`).
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.crs import STORE_EPSG, ellipsoid_area_m2, m2_to_mu, plane_area_m2
from parcels.intensity.survey import land_use_key

DATA_SOURCE = "由存储中的工业用地宗地、土地供应台账、企业与储备地块推导（非土地利用状况调查）"

HOW = {
    "supply_rate": "由土地供应台账（批准、供地日期）、工业用地宗地与储备地块（报批状态）推导",
    "built_rate": "已供应土地中，工业用地宗地（未闲置）与台账中已竣工宗地视为已建成",
    "idle_rate": "闲置：工业用地宗地的“是否闲置”与供地台账按《闲置土地处置办法》认定的闲置宗地",
    "industrial_far": "总建筑面积 = 工业用地宗地容积率 × 宗地面积（台账中已竣工而不在工业用地图层的宗地无建筑面积，按 0 计）",
    "industrial_coverage": "建筑基底面积 = 工业用地宗地建筑系数 × 宗地面积",
    "industrial_tax_per_ha": "税收 = 企业图层实缴税收，按企业所在宗地（parcel_id）汇总，跨多宗的企业按宗地面积分摊",
    "industrial_investment_intensity": "企业与宗地图层没有累计固定资产投资，未计算",
    "high_tech_land_rate": "高新技术产业用地 = 有高新技术企业的工业用地宗地",
}
BUILT_ONLY_PARTIAL = "存储中没有住宅、商服、公共管理与公共服务、交通运输等建成用地图层，推导的已建成城镇建设用地只含工业用地，以其为分母的指标无法得出"
WITHHELD_WHEN_PARTIAL = ("industrial_land_rate", "high_tech_land_rate", "composite_far", "building_density", "composite_tax_per_ha", "population_density")


def _frame(rows: list[dict], geoms: list) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=gpd.GeoSeries(geoms, crs=STORE_EPSG), crs=STORE_EPSG)


def _enterprise_figures(enterprises: pd.DataFrame | None, parcel_m2: pd.Series, year: int) -> tuple[pd.Series, pd.Series]:
    """(tax 万元 per parcel id, high-tech flag per parcel id) from the enterprises on each parcel."""
    if enterprises is None or not len(enterprises) or "parcel_id" not in enterprises.columns:
        return pd.Series(dtype=float), pd.Series(dtype=bool)
    ent = pd.DataFrame(enterprises.drop(columns=[enterprises.geometry.name]) if isinstance(enterprises, gpd.GeoDataFrame) else enterprises)
    if "year" in ent.columns and pd.to_numeric(ent["year"], errors="coerce").notna().any():
        y = pd.to_numeric(ent["year"], errors="coerce")
        upto = y[y <= year]
        if len(upto):
            ent = ent[y == upto.max()]
    links = ent["parcel_id"].astype(object).where(ent["parcel_id"].notna(), "").astype(str).str.split(";")
    long = ent.assign(_pid=links).explode("_pid")
    long["_pid"] = long["_pid"].str.strip()
    long = long[long["_pid"].isin(parcel_m2.index)]
    m2 = long["_pid"].map(parcel_m2).astype(float)
    share = m2 / m2.groupby(level=0).transform("sum").replace(0, np.nan)
    tax = pd.to_numeric(long["tax"], errors="coerce") if "tax" in long.columns else pd.Series(np.nan, index=long.index)
    long = long.assign(_tax=tax * share.fillna(1.0))
    ht = pd.array(long["high_tech"], dtype="boolean").fillna(False) if "high_tech" in long.columns else pd.array(np.zeros(len(long), bool), dtype="boolean")
    long = long.assign(_ht=np.asarray(ht, dtype=bool))
    return long.groupby("_pid")["_tax"].sum(min_count=1), long.groupby("_pid")["_ht"].any()


def derive_survey(layers: dict, year: int) -> tuple[gpd.GeoDataFrame, dict[str, str], dict[str, str], list[str]]:
    """(survey frame in EPSG:4490 with area_m2, derivation {key: how}, withheld {key: why}, notes)."""
    end = dt.date(year, 12, 31)
    t = pd.Timestamp(end)
    rows: list[dict] = []
    geoms: list = []
    notes: list[str] = [f"本次评价没有土地利用状况调查图斑（land_survey），按存储中的其他图层推导（截至 {end}）：{DATA_SOURCE}。"]
    used: list = []

    industrial = layers.get("industrial_parcels")
    ledger = layers.get("land_supply")
    idle_ledger: set[str] = set()
    if ledger is not None and len(ledger):
        from parcels.supply.supervise import classify

        c = classify(ledger.reset_index(drop=True), end)
        idle_ledger = set(ledger.reset_index(drop=True).loc[(c["list"] == "idle").to_numpy(), "id"].astype(str))
    if industrial is not None and len(industrial):
        ip = industrial.reset_index(drop=True)
        m2 = pd.Series(plane_area_m2(np.asarray(ip.geometry.values, dtype=object)), index=ip["id"].astype(str))
        tax, ht = _enterprise_figures(layers.get("enterprises"), m2, year)
        far = pd.to_numeric(ip.get("floor_area_ratio"), errors="coerce") if "floor_area_ratio" in ip.columns else pd.Series(np.nan, index=ip.index)
        cov = pd.to_numeric(ip.get("building_coverage"), errors="coerce") if "building_coverage" in ip.columns else pd.Series(np.nan, index=ip.index)
        idle = pd.array(ip["idle"], dtype="boolean").fillna(False).to_numpy(dtype=bool) if "idle" in ip.columns else np.zeros(len(ip), bool)
        for i, r in ip.iterrows():
            pid = str(r["id"])
            is_idle = bool(idle[i]) or pid in idle_ledger
            area = float(m2[pid])
            rows.append({
                "id": f"DS-IP-{pid}", "source_layer": "industrial_parcels", "source_id": pid, "status": "ready" if is_idle else "built",
                "supplied": True, "idle": is_idle, "land_use": land_use_key(r.get("land_use")) or "工矿仓储", "high_tech": bool(ht.get(pid, False)),
                "floor_area_m2": None if pd.isna(far[i]) else float(far[i]) * area, "footprint_m2": None if pd.isna(cov[i]) else float(cov[i]) / 100 * area,
                "fixed_assets_wan": None, "tax_wan": None if pd.isna(tax.get(pid, np.nan)) else float(tax[pid]),
            })
            geoms.append(r.geometry)
        used = list(ip.geometry.values)
    if ledger is not None and len(ledger):
        lg = ledger.reset_index(drop=True)
        taken = set(industrial["id"].astype(str)) if industrial is not None else set()
        cover = shapely.union_all(np.asarray(used, dtype=object)) if used else None
        for _, r in lg.iterrows():
            lid = str(r["id"])
            if lid in taken:
                continue
            approved = pd.notna(r.get("approval_date")) and pd.Timestamp(r["approval_date"]) <= t
            supplied = pd.notna(r.get("supply_date")) and pd.Timestamp(r["supply_date"]) <= t
            if not (approved or supplied):
                continue
            done = supplied and pd.notna(r.get("actual_completion_date")) and pd.Timestamp(r["actual_completion_date"]) <= t
            g = r.geometry if cover is None else shapely.difference(r.geometry, cover)
            rows.append({"id": f"DS-LS-{lid}", "source_layer": "land_supply", "source_id": lid, "status": "built" if done else "ready", "supplied": bool(supplied),
                         "idle": lid in idle_ledger, "land_use": land_use_key(r.get("land_use")) or "其他", "high_tech": False,
                         "floor_area_m2": None, "footprint_m2": None, "fixed_assets_wan": None, "tax_wan": None})
            geoms.append(g)
            used.append(r.geometry)
    reserve = layers.get("reserve_parcels")
    if reserve is not None and len(reserve):
        cover = shapely.union_all(np.asarray(used, dtype=object)) if used else None
        status_of = {"已获批": ("ready", False), "已供地": ("ready", True), "计划报批": ("not_ready", False), "已组卷上报": ("not_ready", False)}
        for _, r in reserve.reset_index(drop=True).iterrows():
            st = status_of.get(str(r.get("status")))
            if st is None:
                continue
            g = r.geometry if cover is None else shapely.difference(r.geometry, cover)
            rows.append({"id": f"DS-RP-{r['id']}", "source_layer": "reserve_parcels", "source_id": str(r["id"]), "status": st[0], "supplied": st[1], "idle": False,
                         "land_use": land_use_key(r.get("use")) or "其他", "high_tech": False, "floor_area_m2": None, "footprint_m2": None, "fixed_assets_wan": None, "tax_wan": None})
            geoms.append(g)
    survey = _frame(rows, geoms) if rows else _frame([], [])
    if len(survey):
        keep = ~shapely.is_empty(np.asarray(survey.geometry.values, dtype=object))
        survey = survey[keep].reset_index(drop=True)
        g = np.asarray(survey.geometry.values, dtype=object)
        survey["area_m2"] = np.round(plane_area_m2(g), 2)
        survey["ellipsoid_area_m2"] = np.round(ellipsoid_area_m2(g), 2)
        survey["area_mu"] = m2_to_mu(survey["area_m2"].to_numpy(dtype=float))
        survey["geometry_source"] = "derived"
        survey["data_source"] = DATA_SOURCE
    for col in ("status", "land_use", "area_m2"):
        if col not in survey.columns:
            survey[col] = pd.Series(dtype=object if col != "area_m2" else float)
    derivation = dict(HOW)
    withheld: dict[str, str] = {"industrial_investment_intensity": HOW["industrial_investment_intensity"]}
    built_uses = set(survey.loc[survey["status"] == "built", "land_use"].astype(str)) if len(survey) else set()
    if built_uses <= {"工矿仓储"}:
        for key in WITHHELD_WHEN_PARTIAL:
            withheld[key] = BUILT_ONLY_PARTIAL
        notes.append(BUILT_ONLY_PARTIAL + "（工业用地率、综合容积率、建筑密度、综合地均税收、人口密度等不予计算）。")
    else:
        for key in WITHHELD_WHEN_PARTIAL:
            derivation[key] = "已建成城镇建设用地只含存储中有图层的建成用地，分母可能偏小，与全国值比较须谨慎"
    notes.append("未被任何图层覆盖的区内土地（道路、居住、公共设施、水域等）不在推导的调查中：土地供应率、建成率只反映这些图层中的土地。")
    return survey, derivation, withheld, notes
