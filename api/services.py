"""Operations that read the store, apply a domain rule and write back: shared by CLI and HTTP.

Each function is the single way to do its job, so the command line and the API cannot drift
apart in what they check or how they record history.
"""

from __future__ import annotations

from gis.crs import area_m2, m2_to_mu
from gis.errors import InputError, NotFoundError, nul_errors_in_values, refuse_nul
from gis.geometry import promote
from gis.store import Store
from parcels import workflow
from parcels.schema import DELETED_STATUS

RESERVE = "reserve_parcels"


def change_status(store: Store, parcel_id: str, new_status: str, *, user: str, role: str, reason: str | None = None, date: str | None = None, supply_method: str | None = None) -> dict:
    """Move a reserve parcel one step of the approval workflow (or revert/delete it), with history.

    Blocks while it waits for the row (bounded: StoreBusy); callers on an event loop run it in a
    thread. The status read here is re-checked under the row lock (`expect`), so two concurrent
    changes cannot both apply (the second gets WriteConflict, 409).
    """
    refuse_nul(nul_errors_in_values({"id": parcel_id, "status": new_status, "reason": reason, "date": date, "supply_method": supply_method}), what="状态变更")
    feature = store.get_feature(RESERVE, parcel_id)
    if feature is None:
        raise NotFoundError(f"储备地块 {parcel_id} 不存在。")
    current = feature.get("status")
    action = workflow.check_transition(current, new_status, role=role, reason=reason, supply_method=supply_method)
    changes = workflow.status_changes(new_status, date=date, supply_method=supply_method)
    check = None
    if current == DELETED_STATUS and feature.get("geometry") is not None:
        # A cancelled parcel does not count in overlap checks, so its land may have been given
        # to another parcel meanwhile: reviving it must not make two reserve parcels overlap.
        geom = feature["geometry"]

        def check(view) -> None:
            workflow.check_parcel_place(geom, parcel_id=parcel_id, allowed_areas=[], others=_other_parcels(view, parcel_id, geom))

    return store.update_feature(RESERVE, parcel_id, changes, user=user, reason=reason, action=action, expect={"status": current}, check=check)


def _other_parcels(view, parcel_id: str, geom) -> dict:
    """Live reserve parcels near `geom` other than `parcel_id`, read inside the edit's transaction."""
    near = view.read_layer(RESERVE, columns=["id", "status"], bbox=tuple(geom.bounds))
    return {
        r.id: r.geometry
        for r in near.itertuples()
        if r.id != parcel_id and getattr(r, "status", None) != DELETED_STATUS and r.geometry is not None
    }


def edit_parcel(store: Store, parcel_id: str, *, user: str, properties: dict | None = None, geometry=None, reason: str | None = None) -> dict:
    """Admin edit of a reserve parcel's attributes and/or geometry, validated, with history.

    The geometry's own shape is checked first, without any lock; where it lies (inside the zone,
    overlapping no other live reserve parcel, SPEC §4) is checked inside the write transaction
    with the layer locked, so two concurrent edits cannot both move parcels onto the same land.
    """
    import numpy as np

    refuse_nul(
        nul_errors_in_values({"id": parcel_id, "reason": reason}) + nul_errors_in_values(properties or {}, feature_id=parcel_id),
        what="修改",
    )
    feature = store.get_feature(RESERVE, parcel_id)
    if feature is None:
        raise NotFoundError(f"储备地块 {parcel_id} 不存在。")
    changes = dict(properties or {})
    for locked in ("id", "status", "status_date", "area_m2", "area_mu"):
        if locked in changes:
            raise InputError(f"字段 {locked} 不能直接修改。", hint="状态请用状态变更功能；面积由几何自动计算。")
    check = None
    if geometry is not None:
        geometry = promote(np.array([geometry], dtype=object), "MULTIPOLYGON")[0]
        workflow.check_parcel_shape(geometry, parcel_id=parcel_id)

        def check(view) -> None:
            zone = view.read_layer("zone_boundary", columns=["id"]) if view.layer_exists("zone_boundary") else None
            allowed = [g for g in zone.geometry.values if g is not None] if zone is not None else []
            workflow.check_parcel_place(geometry, parcel_id=parcel_id, allowed_areas=allowed, others=_other_parcels(view, parcel_id, geometry))

        m2 = float(area_m2(np.array([geometry]))[0])
        changes["area_m2"] = round(m2, 2)
        changes["area_mu"] = float(m2_to_mu(changes["area_m2"]))
        changes.setdefault("geometry_source", "digitized")
    return store.update_feature(RESERVE, parcel_id, changes, geometry=geometry, user=user, reason=reason, action="edit", check=check)


def _reference_layers(store: Store):
    import geopandas as gpd

    roads = store.read_layer("roads") if store.layer_exists("roads") else gpd.GeoDataFrame({"id": [], "name": [], "alias": []}, geometry=[], crs=4490)
    landmarks = store.read_layer("landmarks") if store.layer_exists("landmarks") else None
    clip = None
    if store.layer_exists("zone_boundary"):
        zone = store.read_layer("zone_boundary")
        import shapely

        clip = shapely.union_all(zone.geometry.values)
    return roads, landmarks, clip


def resolve_text(store: Store, text: str) -> dict:
    """Parse a 四至 text and resolve it against the store's roads/landmarks (SPEC §3.3)."""
    from parcels.sizhi import parse_location, resolve_location

    parsed = parse_location(text)
    roads, landmarks, clip = _reference_layers(store)
    if len(roads) == 0 and landmarks is None:
        return parsed.to_json()
    return resolve_location(parsed, roads, landmarks, clip).to_json()


def re_resolve(store: Store, layer: str, *, user: str):
    """Redraw the schematic geometries of a layer from its location texts; surveyed ones are never touched."""
    from parcels.sizhi import re_resolve_layer

    parcels = store.read_layer(layer)
    if "location" not in parcels.columns:
        from gis.errors import InputError

        raise InputError(f"图层 {layer} 没有位置（location）字段，无法按四至解析。")
    roads, landmarks, clip = _reference_layers(store)
    updated, report = re_resolve_layer(parcels, roads, landmarks, clip)
    for fid in report.loc[report["action"] == "updated", "id"]:
        row = updated.loc[updated["id"] == fid].iloc[0]
        changes = {k: row[k] for k in ("area_m2", "area_mu") if k in updated.columns}
        store.update_feature(layer, fid, changes, geometry=row.geometry, user=user, reason="按四至重新解析（道路数据更新）", action="resolve", expect={"geometry_source": "schematic"})
    return report


ADJUSTMENT_KIND = "class_adjustment"


def load_enterprise_source(store: Store, source: str, *, encoding: str | None = None):
    """An enterprise table from a file (CSV/XLSX/OGR) or, by name, the store's `enterprises` layer.

    Returns (frame, input bytes for hashing, label).
    """
    import io as _io
    from pathlib import Path

    import pandas as pd

    from gis.errors import InputError
    from gis.io import read_features

    path = Path(source)
    if path.exists():
        read = read_features(path, encoding=encoding)
        frame = pd.DataFrame(read.frame.drop(columns=read.frame.geometry.name)) if hasattr(read.frame, "geometry") and read.frame.geometry.name in read.frame else pd.DataFrame(read.frame)
        if hasattr(read.frame, "geometry") and "lon" not in frame.columns:
            pts = read.frame.geometry
            if len(pts) and (pts.geom_type == "Point").all():
                frame["lon"], frame["lat"] = pts.x.to_numpy(), pts.y.to_numpy()
        return frame, path.read_bytes(), path.name
    if store.layer_exists(source):
        gdf = store.read_layer(source)
        frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        buf = _io.StringIO()
        frame.to_csv(buf, index=False)
        return frame, buf.getvalue().encode("utf-8"), f"图层 {source}"
    raise InputError(f"找不到企业数据“{source}”：既不是文件，也不是存储中的图层。", hint="请给出 CSV/XLSX 文件路径，或使用图层名 enterprises。")


def recorded_adjustments(store: Store):
    import pandas as pd

    records = store.get_records(ADJUSTMENT_KIND)
    rows = [{"enterprise_id": k, "class": v.get("class"), "reason": v.get("reason")} for k, v in records.items()]
    return pd.DataFrame(rows, columns=["enterprise_id", "class", "reason"])


def record_adjustment(store: Store, enterprise_id: str, new_class: str, *, reason: str, user: str) -> None:
    from gis.errors import InputError

    if not reason or not reason.strip():
        raise InputError("调档必须填写原因。", hint="请用 --reason 说明调档依据。")
    if new_class not in ("A", "B", "C", "D"):
        raise InputError(f"等级“{new_class}”无效。", hint="等级只能是 A、B、C、D 之一。")
    store.put_record(ADJUSTMENT_KIND, enterprise_id, {"class": new_class, "reason": reason.strip()}, user=user)


def run_scoring(store: Store, frame, data: bytes, *, policy: str | None, user: str, label: str):
    """Score an enterprise table, store the run (input hash, policy, time, user) and return it."""
    from gis.store.base import input_hash
    from parcels.efficiency import DEFAULT_POLICY, load_policy, normalize_enterprise_table, score_enterprises

    pol = load_policy(policy or DEFAULT_POLICY)
    table = normalize_enterprise_table(frame)
    parcels = store.read_layer("industrial_parcels") if store.layer_exists("industrial_parcels") else None
    result = score_enterprises(table, pol, parcels=parcels, adjustments=recorded_adjustments(store))
    result.input_hash = input_hash(data)
    run_id = store.save_run(
        "efficiency",
        result.results,
        user=user,
        input_hash=result.input_hash,
        policy=pol.name,
        meta={"source": label, "rows": int(len(result.results)), "warnings": list(result.warnings)},
    )
    return run_id, result


def efficiency_features(store: Store, result):
    """The results joined to land: each enterprise's parcels (dissolved), else its point."""
    import geopandas as gpd
    import shapely

    rows = result.csv_frame()
    geoms = {}
    if store.layer_exists("industrial_parcels"):
        parcels = store.read_layer("industrial_parcels").set_index("id")
        links = result.links
        for eid, group in links.groupby("enterprise_id"):
            ids = [p for p in group["parcel_id"] if p in parcels.index]
            if ids:
                geoms[eid] = shapely.union_all(parcels.loc[ids].geometry.values)
    if store.layer_exists("enterprises"):
        ents = store.read_layer("enterprises")
        for r in ents.itertuples():
            if r.enterprise_id not in geoms and r.geometry is not None:
                geoms[r.enterprise_id] = r.geometry
    return gpd.GeoDataFrame(rows, geometry=[geoms.get(e) for e in rows["enterprise_id"]], crs=4490)


CHECK_DEFAULT_RULES = ["national_2008"]
"""Checks default to the confirmed national rules; unverified and sample sets are opt-in (--rules)."""
SHEET_DEFAULT_RULES = None
"""Sheets show every bundled set (sample and unverified rows visibly marked), for the official to choose."""


def _rules(names: str | list[str] | None, default):
    from parcels.standard_land import load_rules

    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    return load_rules(names or default)


def standard_land_check(store: Store, project: dict, *, rules: str | list[str] | None = None):
    """Check a proposed project (SPEC §6); a parcel_id binds the sheet issued on that parcel too."""
    from parcels.standard_land import check_project

    parcel = None
    if project.get("parcel_id"):
        parcel = store.get_feature(RESERVE, str(project["parcel_id"]))
        if parcel is None:
            raise NotFoundError(f"储备地块 {project['parcel_id']} 不存在。")
        parcel = {k: v for k, v in parcel.items() if k != "geometry"}
    return check_project(project, _rules(rules, CHECK_DEFAULT_RULES), parcel)


def parcel_indicator_sheet(store: Store, parcel_id: str, *, rules: str | list[str] | None = None, industry_code: str | None = None, issue: bool = False, user: str = "system"):
    """The 指标清单 of a reserve parcel; with issue=True its limits are stored on the parcel (with history)."""
    from parcels.standard_land import parcel_sheet, sheet_limits_for_parcel

    feature = store.get_feature(RESERVE, parcel_id)
    if feature is None:
        raise NotFoundError(f"储备地块 {parcel_id} 不存在。")
    parcel = {k: v for k, v in feature.items() if k != "geometry"}
    ruleset = _rules(rules, SHEET_DEFAULT_RULES)
    sheet = parcel_sheet(parcel, ruleset, industry_code=industry_code)
    if issue:
        limits = sheet_limits_for_parcel(parcel, ruleset, industry_code=industry_code)
        store.update_feature(RESERVE, parcel_id, limits, user=user, reason="发布标准地指标清单", action="sheet")
    return sheet


def import_file(store: Store, layer: str, path, *, crs: str | None = None, encoding: str | None = None, mode: str = "append", user: str, geometry_source: str = "surveyed", source_layer: str | None = None, label: str | None = None):
    """Read, validate and import one file into a layer, all-or-nothing: the CLI and HTTP import.

    One function so that `landgis import` and `POST /collections/{id}/import` refuse exactly the
    same bad files with exactly the same Chinese messages. Returns (ImportReport, ReadResult,
    warnings). Raises InputError before anything is written, so a refused file leaves the store
    (rows and history) unchanged.
    """
    from pathlib import Path

    from gis.errors import InputError
    from gis.io import read_features
    from gis.store.base import check_layer_name
    from parcels.layers import prepare_features
    from parcels.schema import LAYERS

    check_layer_name(layer)
    if mode not in ("append", "replace"):
        raise InputError(f"导入模式“{mode}”不合法。", hint="请使用 append（追加）或 replace（替换）。")
    if geometry_source not in ("surveyed", "digitized", "schematic"):
        raise InputError(f"几何来源“{geometry_source}”不合法。", hint="只能是 surveyed、digitized 或 schematic。")
    path = Path(path)
    name = label or path.name
    read = read_features(path, crs=crs, encoding=encoding, layer=source_layer, require_geometry=layer not in ("enterprises",))
    ready, warnings = prepare_features(layer, read.frame, geometry_source=geometry_source, data_source=f"导入自 {name}")
    spec = LAYERS.get(layer)
    report = store.import_features(
        layer, ready, mode=mode, user=user, geometry_type=spec.geometry_type if spec else "GEOMETRY", title=spec.title_zh if spec else layer, reason=f"import {name}"
    )
    return report, read, warnings
