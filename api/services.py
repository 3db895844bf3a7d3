"""Operations that read the store, apply a domain rule and write back: shared by CLI and HTTP.

Each function is the single way to do its job, so the command line and the API cannot drift
apart in what they check or how they record history.
"""

from __future__ import annotations

from gis.crs import area_m2, m2_to_mu
from gis.errors import NotFoundError
from gis.geometry import promote
from gis.store import Store
from parcels import workflow
from parcels.schema import DELETED_STATUS

RESERVE = "reserve_parcels"


def change_status(store: Store, parcel_id: str, new_status: str, *, user: str, role: str, reason: str | None = None, date: str | None = None, supply_method: str | None = None) -> dict:
    feature = store.get_feature(RESERVE, parcel_id)
    if feature is None:
        raise NotFoundError(f"储备地块 {parcel_id} 不存在。")
    current = feature.get("status")
    action = workflow.check_transition(current, new_status, role=role, reason=reason, supply_method=supply_method)
    changes = workflow.status_changes(new_status, date=date, supply_method=supply_method)
    return store.update_feature(RESERVE, parcel_id, changes, user=user, reason=reason, action=action, expect={"status": current})


def edit_parcel(store: Store, parcel_id: str, *, user: str, properties: dict | None = None, geometry=None, reason: str | None = None) -> dict:
    """Admin edit of a reserve parcel's attributes and/or geometry, validated, with history."""
    import numpy as np

    feature = store.get_feature(RESERVE, parcel_id)
    if feature is None:
        raise NotFoundError(f"储备地块 {parcel_id} 不存在。")
    changes = dict(properties or {})
    for locked in ("id", "status", "status_date", "area_m2", "area_mu"):
        if locked in changes:
            from gis.errors import InputError

            raise InputError(f"字段 {locked} 不能直接修改。", hint="状态请用状态变更功能；面积由几何自动计算。")
    if geometry is not None:
        geometry = promote(np.array([geometry], dtype=object), "MULTIPOLYGON")[0]
        zone = store.read_layer("zone_boundary") if store.layer_exists("zone_boundary") else None
        allowed = list(zone.geometry.values) if zone is not None else []
        parcels = store.read_layer(RESERVE)
        others = {r.id: r.geometry for r in parcels.itertuples() if r.id != parcel_id and r.status != DELETED_STATUS}
        workflow.check_parcel_geometry(geometry, parcel_id=parcel_id, allowed_areas=allowed, others=others)
        m2 = float(area_m2(np.array([geometry]))[0])
        changes["area_m2"] = round(m2, 2)
        changes["area_mu"] = round(float(m2_to_mu(m2)), 4)
        changes.setdefault("geometry_source", "digitized")
    return store.update_feature(RESERVE, parcel_id, changes, geometry=geometry, user=user, reason=reason, action="edit")


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
