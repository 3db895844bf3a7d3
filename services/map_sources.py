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
    """达产复核 of the store's enterprises, one verdict per industrial parcel: by default against the
    confirmed rules only (services.standard_land.default_rules), named sets with `?rules=`."""
    try:
        from parcels.standard_land.review import review_production
        from services.standard_land import select_rules
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
    actuals = _with_parcel_form(actuals, parcels)
    com = pd.DataFrame(parcels[[c for c in ("id", "area_mu", "park", "district") if c in parcels.columns]]).rename(columns={"id": "parcel_id", "area_mu": "land_area_mu"})
    rules = select_rules(params.get("rules"))
    review = review_production(actuals.reset_index(drop=True), com, rules, detail=False)
    review = review.assign(_order=review["verdict"].map(VERDICT_ORDER)).sort_values("_order", kind="stable").drop_duplicates("parcel_id").drop(columns="_order")
    table = review[[c for c in ("parcel_id", "name", "enterprise_id", "verdict", "failed", "incomplete", "land_area_mu", "provisional") if c in review.columns]].rename(columns={"incomplete": "missing"})
    from maps.standard_land import verdict_frame

    out = verdict_frame(parcels, table)
    out = mark_rules_and_areas(out)
    notes = [f"按企业实际数据做达产复核（{int((~linked).sum())} 家企业未关联宗地，未纳入）；每宗地显示其上结论最差的企业。"]
    notes.append(rules.selection_note() or f"指定规则集：{'、'.join(f'{s.name}（{s.status_label}）' for s in rules.sets)}；未核实或示例值规则的结论为暂定，逐宗注明。")
    out.attrs["note"] = "".join(notes)
    return out


def _with_parcel_form(actuals: pd.DataFrame, parcels: gpd.GeoDataFrame) -> pd.DataFrame:
    """Actual 容积率 and 建筑系数 from the parcel layer (`floor_area_ratio`, `building_coverage`),
    as the floor area and footprint they mean on the enterprise's land, so the confirmed 2008
    rules (容积率 by industry, 建筑系数 ≥ 30 %) can decide; the economic rules need figures no
    confirmed rule set has. Storeys over 8 m are not known per parcel: the recorded ratio is
    taken as already counting them (tall floor area 0)."""
    have = [c for c in ("floor_area_ratio", "building_coverage") if c in parcels.columns]
    if not have or "land_area_mu" not in actuals.columns:
        return actuals
    form = pd.DataFrame(parcels[["id", *have]]).rename(columns={"id": "parcel_id"}).drop_duplicates("parcel_id")
    out = actuals.merge(form, on="parcel_id", how="left")
    land_m2 = pd.to_numeric(out["land_area_mu"], errors="coerce") * 10000 / 15
    if "floor_area_ratio" in out.columns:
        out["total_floor_area_m2"] = pd.to_numeric(out.pop("floor_area_ratio"), errors="coerce") * land_m2
        out["tall_floor_area_m2"] = out["total_floor_area_m2"].where(out["total_floor_area_m2"].isna(), 0.0)
    if "building_coverage" in out.columns:
        out["building_footprint_m2"] = pd.to_numeric(out.pop("building_coverage"), errors="coerce") / 100 * land_m2
    return out


def mark_rules_and_areas(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Popup columns an official reads beside the verdict: `rules_note` where a failing deciding
    rule is unverified/sample (the verdict is provisional), `area_note` where the area comes from
    schematic geometry (SPEC §6)."""
    out = frame.copy()
    if "provisional" in out.columns:
        prov = out["provisional"].fillna(False).astype(bool)
        out["rules_note"] = prov.map({True: "结论依据含未核实或示例值规则，为暂定结论", False: ""}).astype(object)
        out = out.drop(columns="provisional")
    if "geometry_source" in out.columns:
        schematic = out["geometry_source"] == "schematic"
        out["area_note"] = schematic.map({True: "面积取自示意几何（schematic），非实测或登记面积", False: ""}).astype(object)
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
