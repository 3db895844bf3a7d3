"""The recommended expansion: land grown from the zone, sized by the need, never on protected land.

The plan asks for “沿高新区南区进行整建制托管式扩区” and “与高新区原有辖区相连接、连片成块”; the
国土空间规划 forbids new construction on 永久基本农田 and in 生态保护红线 (DOMAIN.md §11). So:

1. Candidate units (administrative villages for 整建制托管, or suitability blocks) lose every
   piece of hard-excluded land first — 永久基本农田, 生态保护红线, land outside the 城镇开发边界
   when the scenario requires it, and raster exclusions (water, steep slopes) — by geometric
   difference, not by a weight: what remains is the unit's *buildable* land, cut into its
   connected pieces.
2. Growth starts from the zone. Each step takes the best open piece — a piece touching the zone
   or land already taken — ordered by (inside the plan's southern expansion area first, when
   the scenario prefers it; then the unit's suitability rank; then size). So every recommended
   piece is connected to the zone through recommended land: one contiguous area with the zone.
3. It stops at the target (the gross need, not the plan's 50 km²). The last piece is trimmed to
   the land within a distance of what is already taken (bisection on that distance), keeping
   only the parts that touch it, so the total lands on the target without overshooting.

Pure: geometries in EPSG:4546 metres in, frames out.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

M2_PER_MU = 10000 / 15
MEASURE_CRS = "EPSG:4546"
TOUCH_M = 0.05
"""Pieces within 5 cm count as touching: coordinates moved between CRSs differ by far less, and
no survey resolves less."""
MIN_PIECE_M2 = 100.0
"""Slivers smaller than this (a tenth of a mu and a half) are not land one can recommend."""


def buildable(units: gpd.GeoDataFrame, *, zone, exclude, within=None) -> gpd.GeoDataFrame:
    """Each unit's land minus the zone and every excluded area (and outside `within`, if given).

    `units`: EPSG:4546 frame with `unit_id`; `zone`, `exclude`, `within`: single geometries (or None).
    Adds `buildable_geom` (the remaining land), `buildable_m2` and `excluded_m2`.
    """
    geoms = np.asarray(units.geometry.values, dtype=object)
    cut = shapely.union_all([g for g in (zone, exclude) if g is not None and not g.is_empty]) if (zone is not None or exclude is not None) else None
    rest = shapely.make_valid(geoms)
    if within is not None:
        rest = shapely.intersection(rest, within)
    if cut is not None and not cut.is_empty:
        rest = shapely.difference(rest, cut)
    out = units.copy()
    out["buildable_geom"] = rest
    out["buildable_m2"] = shapely.area(rest)
    out["excluded_m2"] = np.maximum(0.0, shapely.area(geoms) - out["buildable_m2"].to_numpy())
    return out


def pieces_of(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The connected pieces of every unit's buildable land (one row each, with its unit's fields)."""
    rows, geoms = [], []
    for idx, g in zip(units.index, units["buildable_geom"].to_numpy()):
        if g is None or g.is_empty:
            continue
        for part in shapely.get_parts(g):
            if shapely.get_type_id(part) == 3 and part.area >= MIN_PIECE_M2:
                rows.append(idx)
                geoms.append(part)
    frame = units.loc[rows].drop(columns=["buildable_geom"]).reset_index(drop=True)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=MEASURE_CRS), crs=MEASURE_CRS)


def _trim(piece, anchor, want_m2: float, touch_m: float = TOUCH_M):
    """The part of `piece` within a distance d of `anchor`, touching it, with area ≈ want_m2 (≤)."""
    near = shapely.intersection(anchor, shapely.buffer(piece, touch_m * 4 + 1.0))

    def take(d: float):
        part = shapely.intersection(piece, shapely.buffer(near, d))
        keep = [p for p in shapely.get_parts(part) if shapely.get_type_id(p) == 3 and shapely.distance(p, anchor) <= touch_m]
        return shapely.union_all(keep) if keep else shapely.Polygon()

    x0, y0, x1, y1 = piece.bounds
    lo, hi = 0.0, float(np.hypot(x1 - x0, y1 - y0)) + 1.0
    best = shapely.Polygon()
    for _ in range(40):
        mid = (lo + hi) / 2
        g = take(mid)
        if g.area <= want_m2:
            lo, best = mid, g
            if want_m2 - g.area <= max(1.0, 1e-4 * want_m2):
                break
        else:
            hi = mid
    return best


def grow(pieces: gpd.GeoDataFrame, zone, target_m2: float, *, plan_area=None, prefer_plan: bool = True,
         touch_m: float = TOUCH_M) -> gpd.GeoDataFrame:
    """Select pieces from the zone outwards until `target_m2` (see the module doc).

    `pieces` needs `rank` (1 = most suitable unit). Returns the pieces with `taken_geom`,
    `taken_m2`, `selected`, `selection_order`, `in_plan_share` (share of the piece inside the
    plan's expansion area). `touch_m`: how close counts as touching (suitability blocks, which
    stop one raster cell short of the zone, use the scenario's adjacency tolerance).
    """
    out = pieces.copy()
    n = len(out)
    geoms = np.asarray(out.geometry.values, dtype=object)
    area = shapely.area(geoms) if n else np.zeros(0)
    if plan_area is not None and n:
        in_plan = shapely.area(shapely.intersection(geoms, plan_area)) / np.maximum(area, 1e-9)
    else:
        in_plan = np.zeros(n)
    out["in_plan_share"] = in_plan
    rank = out["rank"].to_numpy(dtype=float) if n else np.zeros(0)
    priority = (in_plan >= 0.5).astype(int) if prefer_plan else np.zeros(n, dtype=int)
    anchor = shapely.union_all(np.asarray(zone, dtype=object)) if not isinstance(zone, shapely.Geometry) else zone
    reach = shapely.distance(geoms, anchor) if n else np.zeros(0)
    selected = np.zeros(n, dtype=bool)
    order = np.zeros(n, dtype=int)
    taken_geom = np.array([None] * n, dtype=object)
    taken_m2 = np.zeros(n)
    total = 0.0
    step = 0
    while target_m2 - total > max(MIN_PIECE_M2, 1e-3 * target_m2):
        open_ = ~selected & (reach <= touch_m)
        if not open_.any():
            break
        cand = np.flatnonzero(open_)
        pick = int(cand[np.lexsort((-area[cand], rank[cand], -priority[cand]))[0]])
        step += 1
        selected[pick] = True
        order[pick] = step
        want = target_m2 - total
        g = geoms[pick] if area[pick] <= want else _trim(geoms[pick], anchor, want, touch_m)
        taken_geom[pick] = g
        taken_m2[pick] = g.area
        total += g.area
        anchor = shapely.union(anchor, g)
        reach = np.minimum(reach, shapely.distance(geoms, g))
    out["selected"] = selected
    out["selection_order"] = order
    out["taken_geom"] = taken_geom
    out["taken_m2"] = taken_m2
    return out


def recommended_frame(grown: gpd.GeoDataFrame, label_cols: tuple[str, ...] = ("unit_id", "name", "parent")) -> gpd.GeoDataFrame:
    """The taken land dissolved per unit (one feature per unit), EPSG:4546."""
    sel = grown[grown["selected"]]
    if len(sel) == 0:
        return gpd.GeoDataFrame({"unit_id": pd.Series([], dtype=str)}, geometry=gpd.GeoSeries([], crs=MEASURE_CRS), crs=MEASURE_CRS)
    rows, geoms = [], []
    for uid, grp in sel.groupby("unit_id", sort=False):
        g = shapely.union_all(np.asarray(grp["taken_geom"].to_numpy(), dtype=object))
        first = grp.iloc[0]
        rows.append({**{c: first[c] for c in label_cols if c in grp.columns}, "selection_order": int(grp["selection_order"].min())})
        geoms.append(g)
    frame = pd.DataFrame(rows).sort_values("selection_order", kind="stable")
    geo = gpd.GeoSeries([geoms[i] for i in frame.index], crs=MEASURE_CRS)
    return gpd.GeoDataFrame(frame.reset_index(drop=True), geometry=geo.values, crs=MEASURE_CRS)
