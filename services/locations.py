"""四至 location texts against the store's roads and landmarks (SPEC §3.3): resolve one, redraw a layer."""

from __future__ import annotations

import os

from gis.errors import InputError
from gis.store import Store

MAX_MU_ENV = "LANDGIS_SIZHI_MAX_MU"


def max_parcel_mu() -> float:
    """The largest plausible parcel a 四至 text may pin, in 亩 (LANDGIS_SIZHI_MAX_MU; default
    parcels.sizhi.resolve.DEFAULT_MAX_PARCEL_MU): larger candidates are never "resolved"."""
    from parcels.sizhi.resolve import DEFAULT_MAX_PARCEL_MU

    text = (os.environ.get(MAX_MU_ENV) or "").strip()
    if not text:
        return DEFAULT_MAX_PARCEL_MU
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise InputError(f"设置 {MAX_MU_ENV}=“{text}” 无效：应为正数（亩），如 3000。")
    return value


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
    return resolve_location(parsed, roads, landmarks, clip, max_parcel_mu=max_parcel_mu()).to_json()


def re_resolve(store: Store, layer: str, *, user: str):
    """Redraw the schematic geometries of a layer from its location texts; surveyed ones are never touched."""
    from parcels.sizhi import re_resolve_layer

    parcels = store.read_layer(layer)
    if "location" not in parcels.columns:
        raise InputError(f"图层 {layer} 没有位置（location）字段，无法按四至解析。")
    roads, landmarks, clip = _reference_layers(store)
    updated, report = re_resolve_layer(parcels, roads, landmarks, clip, max_parcel_mu=max_parcel_mu())
    for fid in report.loc[report["action"] == "updated", "id"]:
        row = updated.loc[updated["id"] == fid].iloc[0]
        changes = {k: row[k] for k in ("area_m2", "ellipsoid_area_m2", "area_mu") if k in updated.columns}
        store.update_feature(layer, fid, changes, geometry=row.geometry, user=user, reason="按四至重新解析（道路数据更新）", action="resolve", expect={"geometry_source": "schematic"})
    return report
