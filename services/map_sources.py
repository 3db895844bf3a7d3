"""What the served analysis maps show, computed from the store with the analysis modules.

Why separate from the builders: the builders take frames (and so work with any run's output);
this module decides which run a map opened from `GET /maps/{name}` shows, with the defaults an
official expects (the bundled policy / rules, the store's current data). When an analysis
module is not installed or refuses the data, the map says so (MapUnavailable, Chinese text).
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from maps.errors import MapUnavailable

VERDICT_ORDER = {"fail": 0, "incomplete": 1, "pass": 2}  # a parcel shows its worst enterprise


def efficiency_results(store, enterprises: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame | None, params: dict) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    """Score the store's enterprises with the chosen (default: bundled) policy; rows keep their points."""
    try:
        from parcels.efficiency import DEFAULT_POLICY, score_enterprises
    except ImportError as exc:  # pragma: no cover - depends on the analysis being installed
        raise MapUnavailable(f"亩均效益评价模块不可用：{exc}") from exc
    from services.scoring import recorded_adjustments

    table = pd.DataFrame(enterprises.drop(columns=enterprises.geometry.name))
    # The recorded 调档 apply here as in every run (`landgis score`, POST /scoring/efficiency):
    # a map that showed the unadjusted class would contradict the bureau's own decision.
    result = score_enterprises(table, params.get("policy") or DEFAULT_POLICY, parcels=parcels, adjustments=recorded_adjustments(store))
    r = result.results
    keep = enterprises[["enterprise_id", "parcel_id", "park", "data_source", enterprises.geometry.name]] if "parcel_id" in enterprises.columns else enterprises[["enterprise_id", enterprises.geometry.name]]
    merged = r.merge(pd.DataFrame(keep), on="enterprise_id", how="left")
    gdf = gpd.GeoDataFrame(merged, geometry=enterprises.geometry.name, crs=enterprises.crs)
    gdf.attrs["policy_title"] = getattr(result.policy, "name", "")
    return gdf, parcels


def standard_land_results(store, params: dict) -> gpd.GeoDataFrame:
    """达产复核 of the store's enterprises against the bundled rules, one verdict per industrial parcel."""
    try:
        from parcels.standard_land.review import review_production
        from parcels.standard_land.rules import load_rules
    except ImportError as exc:  # pragma: no cover
        raise MapUnavailable(f"标准地核查模块不可用：{exc}") from exc
    for name in ("enterprises", "industrial_parcels"):
        if not store.layer_exists(name):
            raise MapUnavailable(f"存储中没有图层 {name}，无法生成标准地核查地图。请先运行 `landgis init` 或导入该图层。")
    ent = store.read_layer("enterprises")
    parcels = store.read_layer("industrial_parcels")
    cols = [c for c in ("enterprise_id", "name", "parcel_id", "industry_code", "land_area_mu", "tax", "revenue", "value_added", "energy_tce", "year") if c in ent.columns]
    actuals = pd.DataFrame(ent[cols])
    linked = actuals["parcel_id"].notna() & actuals["parcel_id"].isin(set(parcels["id"])) if "parcel_id" in actuals.columns else pd.Series(False, index=actuals.index)
    actuals = actuals[linked]
    if actuals.empty:
        raise MapUnavailable("没有与工业用地宗地关联的企业（parcel_id），无法做达产复核地图。")
    com = pd.DataFrame(parcels[[c for c in ("id", "area_mu", "park", "district") if c in parcels.columns]]).rename(columns={"id": "parcel_id", "area_mu": "land_area_mu"})
    review = review_production(actuals.reset_index(drop=True), com, load_rules(params.get("rules")), detail=False)
    review = review.assign(_order=review["verdict"].map(VERDICT_ORDER)).sort_values("_order", kind="stable").drop_duplicates("parcel_id").drop(columns="_order")
    table = review[[c for c in ("parcel_id", "name", "enterprise_id", "verdict", "failed", "incomplete", "land_area_mu") if c in review.columns]].rename(columns={"incomplete": "missing"})
    from maps.standard_land import verdict_frame

    out = verdict_frame(parcels, table)
    out.attrs["note"] = f"按企业实际数据做达产复核（{int((~linked).sum())} 家企业未关联宗地，未纳入）；每宗地显示其上结论最差的企业。"
    return out


def expansion_results(store, params: dict) -> dict:
    """Run the expansion study (parcels.study, SPEC §7) on the store as `landgis study` does."""
    try:
        from services.study import study_from_store
        from parcels.study import load_scenario
    except ImportError as exc:
        raise MapUnavailable("扩区研究模块尚未安装，暂不能在线生成该地图。") from exc
    scenario = load_scenario(params["scenario"]) if params.get("scenario") else load_scenario()
    result = study_from_store(store, scenario)
    from maps.expansion import inputs_from_study

    return inputs_from_study(result)
