"""What the served analysis maps show, computed from the store with the analysis modules.

Why separate from the builders: the builders take frames (and so work with any run's output);
this module decides which run a map opened from `GET /maps/{name}` shows, with the defaults an
official expects (the bundled policy / rules, the store's current data). When an analysis
module is not installed or refuses the data, the map says so (MapUnavailable, Chinese text).
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from maps.errors import MapInputError, MapUnavailable

VERDICT_ORDER = {"fail": 0, "incomplete": 1, "pass": 2}  # a parcel shows its worst enterprise


def efficiency_results(store, enterprises: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame | None, params: dict) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    """The rows of a stored 亩均 run (`params["run"]`, else the latest), with the 调档 recorded for
    its year and policy, joined to where each enterprise is (the `enterprises` layer).

    Never a silent re-computation (SPEC §5.5): the classes are the run's, and a 调档 recorded after
    the run shows with its reason. Only when the store holds no run at all is the `enterprises`
    layer scored once with the default policy and stored as a run, and the map says so."""
    from parcels.efficiency.years import overlay_adjustments
    from services.scoring import latest_run_id, recorded_adjustments, run_classes, run_scoring

    from gis.errors import NotFoundError, StoreBusy

    auto = False
    run_id = params.get("run")
    if run_id is None:
        run_id = latest_run_id(store)
        if run_id is None:
            table = pd.DataFrame(enterprises.drop(columns=enterprises.geometry.name))
            buf = table.to_csv(index=False).encode("utf-8")
            try:
                run_id, _ = run_scoring(store, table, buf, policy=params.get("policy"), user="map", label="图层 enterprises（打开地图时首次评价）")
            except StoreBusy:
                raise  # a 503 with Retry-After, as every busy write
            except ValueError as exc:
                raise MapUnavailable(f"存储中没有亩均评价运行记录，且企业图层无法评价：{exc}") from exc
            auto = True
    try:
        meta, table = store.get_run(str(run_id))
    except NotFoundError as exc:
        raise MapInputError(f"没有编号为 {run_id} 的评价运行记录。请用 GET /scoring/efficiency 查看已有的运行。") from exc
    if meta.get("kind") != "efficiency":
        raise MapInputError(f"{run_id} 不是亩均评价的运行记录。")
    year = meta.get("year")
    if year is None and "year" in table.columns and table["year"].notna().any():
        year = int(table["year"].dropna().iloc[0])
    table, n_late = overlay_adjustments(table, recorded_adjustments(store), year, meta.get("policy_id") or "", meta.get("policy") or "",
                                        run_classes(meta, table))
    keep = [c for c in ("enterprise_id", "parcel_id", "park", "data_source") if c in enterprises.columns]
    merged = table.merge(pd.DataFrame(enterprises[keep + [enterprises.geometry.name]]), on="enterprise_id", how="left")
    if "year" in merged.columns:  # a year is a label on the map (2024, never "2,024")
        y = pd.to_numeric(merged["year"], errors="coerce")
        merged["year"] = [None if v != v else str(int(v)) for v in y]
    gdf = gpd.GeoDataFrame(merged, geometry=enterprises.geometry.name, crs=enterprises.crs)
    gdf.attrs["policy_title"] = meta.get("policy", "")
    note = f"评价运行：{meta['run_id']}（{year if year is not None else '未注明'} 年度，{meta.get('created_at', '')[:19]}）"
    if auto:
        note += "；存储中原无评价运行，打开地图时按默认评价办法对企业图层评价并存档"
    if n_late:
        note += f"；其后登记的调档 {n_late} 家已按调档后等级显示"
    missing = int((~table["enterprise_id"].astype(str).isin(set(enterprises["enterprise_id"].astype(str)))).sum()) if "enterprise_id" in enterprises.columns else 0
    if missing:
        note += f"；{missing} 家企业不在企业图层中（无地块或点位），未绘制"
    gdf.attrs["run_note"] = note
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
