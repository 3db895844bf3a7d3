"""Reserve parcels through their approval workflow (SPEC §4): status moves and validated edits.

Each change re-reads the parcel, applies the pure rule of `parcels.workflow` and writes with
history; checks of where a parcel lies run inside the write transaction (no write skew). The CLI
(`landgis status`) and HTTP (`POST …/status`, `PATCH …/items/{id}`) call these functions.
"""

from __future__ import annotations

from gis.crs import ellipsoid_area_m2, m2_to_mu, plane_area_m2
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
    action = workflow.check_transition(current, new_status, role=role, reason=reason, supply_method=supply_method, use=feature.get("use"))
    changes = workflow.status_changes(new_status, date=date, supply_method=supply_method, previous_date=feature.get("status_date"))
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
    for locked in ("id", "status", "status_date", "area_m2", "ellipsoid_area_m2", "area_mu"):
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

        m2 = float(plane_area_m2(np.array([geometry]))[0])
        changes["area_m2"] = round(m2, 2)
        changes["ellipsoid_area_m2"] = round(float(ellipsoid_area_m2(np.array([geometry]))[0]), 2)
        changes["area_mu"] = float(m2_to_mu(changes["area_m2"]))
        changes.setdefault("geometry_source", "digitized")
    return store.update_feature(RESERVE, parcel_id, changes, geometry=geometry, user=user, reason=reason, action="edit", check=check)
