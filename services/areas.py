"""Areas as registered: bring a store made before `ellipsoid_area_m2` existed up to SPEC §3.1.

Before this change a polygon layer's `area_m2` held the ellipsoidal area. Now `area_m2` is the
plane area in the survey CRS (the 宗地面积 of a 不动产权证书 / 出让合同), `ellipsoid_area_m2` the
ellipsoidal area (三调), and `area_mu` comes from `area_m2`. A store written by the older code
is recognised by a schema polygon layer that has `area_m2` but no `ellipsoid_area_m2` column;
`upgrade_areas` recomputes all three from the stored geometry, one transaction per layer, with a
history row per changed feature (action `migrate`), so nothing changes silently.

When it runs: on opening the store, from the CLI (`open_store_cli`) and the service
(`create_app`), so an old store never shows an ellipsoidal number under the plane name; and on
demand with `landgis areas --upgrade`. The check is one column lookup per polygon layer; a
store already upgraded is not written to. A failure (layer busy, no privilege) is reported and
the store still opens: the next open tries again.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from gis.crs import ellipsoid_area_m2, m2_to_mu, plane_area_m2
from gis.errors import StoreBusy
from gis.store import Store
from parcels.schema import LAYERS

log = logging.getLogger("landgis.areas")

MIGRATION_REASON = "面积口径迁移：area_m2 改为测量坐标系平面面积（宗地面积），新增 ellipsoid_area_m2（椭球面积），area_mu 按平面面积换算"


def area_layers(store: Store) -> list[str]:
    """Schema layers with areas that the store holds."""
    return [name for name, layer in LAYERS.items() if layer.field("area_m2") is not None and store.layer_exists(name)]


def layers_needing_upgrade(store: Store) -> list[str]:
    """Area layers whose table predates `ellipsoid_area_m2` (their `area_m2` is the old ellipsoidal value)."""
    out = []
    for name in area_layers(store):
        cols = store.columns(name)
        if "area_m2" in cols and "ellipsoid_area_m2" not in cols:
            out.append(name)
    return out


def recomputed_areas(frame) -> pd.DataFrame:
    """`id`, `area_m2` (plane, survey CRS), `ellipsoid_area_m2`, `area_mu` of stored features, as an import computes them."""
    geoms = np.asarray(frame.geometry.values, dtype=object)
    plane = np.round(plane_area_m2(geoms), 2)
    return pd.DataFrame({
        "id": frame["id"].astype(str).to_numpy(),
        "area_m2": plane,
        "ellipsoid_area_m2": np.round(ellipsoid_area_m2(geoms), 2),
        "area_mu": m2_to_mu(plane),
    })


def upgrade_areas(store: Store, *, user: str = "landgis-migrate", layers: list[str] | None = None) -> dict[str, int]:
    """Recompute the areas of `layers` (default: those needing it); {layer: features changed}."""
    out: dict[str, int] = {}
    for name in layers_needing_upgrade(store) if layers is None else layers:
        frame = store.read_layer(name, columns=["id"])
        out[name] = store.update_columns(name, recomputed_areas(frame), user=user, reason=MIGRATION_REASON, action="migrate")
    return out


def upgrade_areas_on_open(store: Store) -> dict[str, int]:
    """`upgrade_areas` as a store is opened: never stops the open; a failure is logged (Chinese) and retried next time."""
    try:
        return upgrade_areas(store)
    except (StoreBusy, *store.db_errors) as exc:
        log.warning("旧存储的面积字段未能升级（下次打开时重试，或运行 landgis areas --upgrade）：%s", exc)
        return {}
