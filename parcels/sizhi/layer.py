"""Re-resolve a parcel layer's location texts after real roads arrive (SPEC §3.3).

Why: the bundled reserve parcels are sketches placed from their 四至 text. When the land bureau's
road centre lines are imported, the same texts point somewhere more exact, so schematic
geometries are redrawn; surveyed and digitized geometries are evidence and are never changed,
only checked against their text.

Choice of the new schematic shape (per schematic feature whose text resolves fully):
- if at least `CONSISTENT_SHARE` of its current geometry lies inside the resolved area, it
  already agrees with its text and stays as it is ("unchanged");
- otherwise it keeps its *area* (a schematic parcel's size feeds the land balance of §7 and
  must not jump to a whole block) and is redrawn as a compact piece of that area inside the
  resolved area, in the corner nearest the features the text names (`place_area`). Land held
  by surveyed/digitized parcels and by parcels already placed is excluded first, so parcels
  sharing one text (Table 2 rows 6–7, 8–9) never overlap; order is `seq`, then `id`;
- a feature without current geometry gets the whole free resolved area (shared equally, in
  strips, with other geometry-less features of the same text).
`area_m2`/`area_mu` columns, when present, are recomputed for updated rows. A missing
reference, an unread fragment or an empty intersection leaves the geometry as it was, reported
"unresolved". Surveyed and digitized geometries are never changed ("kept-surveyed"), only
checked: `share_inside` says how much of them lies inside the area their text describes.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry import Polygon

from gis.crs import MEASURE_EPSG, STORE_EPSG, areal_scale, ellipsoid_area_m2, plane_area_m2, m2_to_mu, reproject, to_measure
from gis.errors import RowError
from parcels.schema import GEOMETRY_SOURCES
from parcels.sizhi.parse import LocationTextError, ParsedLocation, parse_location
from parcels.sizhi.resolve import (
    MIN_PIECE_M2,
    place_area,
    Resolution,
    Resolver,
    SizhiInputError,
    _polygonal,
    split_by_shares,
    to_store_multipolygon,
)

PROTECTED_SOURCES = ("surveyed", "digitized")
CONSISTENT_SHARE = 0.99
"""A schematic geometry with at least this share inside its resolved area already agrees with
its text and is left alone ("unchanged"), so re-resolving twice changes nothing."""
REPORT_COLUMNS = [
    "id",
    "location",
    "geometry_source",
    "status",
    "action",
    "found",
    "missing",
    "suggestions",
    "unparsed",
    "ambiguity",
    "candidate_count",
    "resolved_area_m2",
    "area_m2_before",
    "area_m2_after",
    "share_inside",
    "note",
]
"""One report row per feature. `found`/`missing`/`unparsed` are "、"-joined (export-friendly);
`share_inside` is the share of the feature's current geometry inside the resolved area (a check
on surveyed parcels; NaN when there is no resolved area or no current geometry)."""


def _text(v) -> str:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return ""
    return str(v).strip()


def _validate(parcels: gpd.GeoDataFrame) -> None:
    missing_cols = [c for c in ("id", "location", "geometry_source") if c not in parcels.columns]
    if missing_cols:
        raise SizhiInputError(
            "地块图层缺少重新解析位置所需的字段：" + "、".join(missing_cols),
            [RowError(None, c, "缺少字段") for c in missing_cols],
            hint="需要 id（要素编号）、location（位置文字）与 geometry_source（几何来源：surveyed/digitized/schematic）。",
        )
    if parcels.crs is not None and CRS.from_user_input(parcels.crs).to_epsg() != STORE_EPSG:
        raise SizhiInputError(
            f"地块图层坐标系为 {parcels.crs}，应为 EPSG:4490（CGCS2000 经纬度）。",
            [RowError(None, "geometry", "坐标系不符")],
            hint="请先将图层转换为 EPSG:4490 后再重新解析。",
        )
    errors = []
    for i, (fid, src) in enumerate(zip(parcels["id"].tolist(), parcels["geometry_source"].tolist())):
        if _text(src) not in GEOMETRY_SOURCES:
            errors.append(
                RowError(i + 1, "geometry_source", f"几何来源为“{_text(src)}”，应为 surveyed、digitized 或 schematic", str(fid))
            )
    if errors:
        raise SizhiInputError(
            "地块图层中有几何来源（geometry_source）无效的要素，未做任何修改。",
            errors,
            hint="实测几何填 surveyed，数字化几何填 digitized，示意几何填 schematic。",
        )


def re_resolve_layer(
    parcels: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame,
    landmarks: gpd.GeoDataFrame | None,
    clip=None,
    *,
    max_parcel_mu: float | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Re-resolve every feature's `location`; redraw schematic geometry, never surveyed/digitized.

    Returns the updated copy of the layer (input untouched) and a report (`REPORT_COLUMNS`), one
    row per feature, in the layer's order; actions: "updated", "unchanged" (schematic and
    already inside its resolved area), "kept-surveyed" (surveyed or digitized: geometry kept,
    only checked), "unresolved" (schematic but the text did not resolve, or no text; geometry
    kept).
    """
    _validate(parcels)
    resolver = Resolver(roads, landmarks, clip, max_parcel_mu=max_parcel_mu)
    out = parcels.copy()
    n = len(out)
    geom_col = out.geometry.name
    old = np.asarray(out.geometry.values, dtype=object)
    has_geom = np.array([g is not None and not g.is_empty for g in old], dtype=bool)
    old_m = np.empty(n, dtype=object)
    if has_geom.any():
        old_m[has_geom] = to_measure(old[has_geom])
    old_area = np.zeros(n)  # ellipsoidal: what a redrawn sketch keeps wherever it lands
    old_plane = np.zeros(n)  # plane area in the survey CRS: what the report and area_m2 say
    if has_geom.any():
        old_area[has_geom] = ellipsoid_area_m2(old[has_geom])
        old_plane[has_geom] = plane_area_m2(old[has_geom])

    sources = [_text(s) for s in out["geometry_source"].tolist()]
    texts = [_text(t) for t in out["location"].tolist()]
    ids = [str(v) for v in out["id"].tolist()]
    cache: dict[str, Resolution] = {}
    res: list[Resolution | None] = []
    for t in texts:
        if not t:
            res.append(None)
            continue
        if t not in cache:
            try:
                cache[t] = resolver.resolve(parse_location(t))
            except LocationTextError as exc:  # reported on its row, the other rows go on
                cache[t] = Resolution(ParsedLocation(t, unparsed=[t[:40] + "…"]), None, "no_constraints", notes=[exc.detail])
        res.append(cache[t])

    report = [
        {
            "id": ids[i],
            "location": texts[i],
            "geometry_source": sources[i],
            "status": r.status if r else "no_location",
            "action": "kept-surveyed" if sources[i] in PROTECTED_SOURCES else "unresolved",
            "found": "、".join(r.found) if r else "",
            "missing": "、".join(r.missing) if r else "",
            "suggestions": "；".join(f"{k}→{'、'.join(v)}" for k, v in r.suggestions.items()) if r else "",
            "unparsed": "、".join(r.parsed.unparsed) if r else "",
            "ambiguity": float(r.ambiguity) if r else 1.0,
            "candidate_count": int(r.candidate_count) if r else 0,
            "resolved_area_m2": float(r.area_m2) if r else 0.0,
            "area_m2_before": float(old_plane[i]),
            "area_m2_after": float(old_plane[i]),
            "share_inside": _share_inside(old_m[i], r),
            "note": "；".join(r.notes) if r else "无位置文字，几何未改动",
        }
        for i, r in enumerate(res)
    ]

    protected = np.array([s in PROTECTED_SOURCES for s in sources], dtype=bool)
    taken = list(old_m[protected & has_geom])  # land of surveyed/digitized parcels: never given away
    todo: list[int] = []
    for i, r in enumerate(res):
        if protected[i] or r is None or r.status != "resolved" or r.geometry_m is None:
            continue
        if has_geom[i] and _share_inside(old_m[i], r) >= CONSISTENT_SHARE:
            report[i]["action"] = "unchanged"
            taken.append(old_m[i])
        else:
            todo.append(i)

    seq = out["seq"].tolist() if "seq" in out.columns else [None] * n
    new_geoms = old.copy()
    occupied = _polygonal(shapely.union_all(np.asarray(taken, dtype=object))) if taken else Polygon()
    for i in sorted(todo, key=lambda i: (_seq_key(seq[i]), ids[i])):
        r = res[i]
        avail = _polygonal(r.geometry_m.difference(occupied))
        if avail.is_empty or avail.area < MIN_PIECE_M2:
            report[i]["note"] = _join(report[i]["note"], "解析区域已被其他地块占满，几何未改动")
            continue
        if has_geom[i] and old_m[i].area > 0:
            # keep the ellipsoidal area: plane target = area × areal scale where the piece lands
            piece = avail
            for _ in range(2):
                target = old_area[i] * _scale_at(piece.centroid)
                piece = place_area(avail, target, r.refs_m)
            if piece.area < 0.999 * target:
                report[i]["note"] = _join(report[i]["note"], "解析区域剩余面积小于原示意面积，按剩余面积生成")
        else:
            same = [j for j in todo if res[j] is r and not has_geom[j]]
            piece = split_by_shares(avail, [1 / len(same)] * len(same))[same.index(i)] if len(same) > 1 else avail
        geom = to_store_multipolygon(piece)
        if geom.is_empty:
            report[i]["note"] = _join(report[i]["note"], "生成的几何为空，几何未改动")
            continue
        new_geoms[i] = geom
        report[i]["action"] = "updated"
        report[i]["area_m2_after"] = float(plane_area_m2(np.array([geom], dtype=object))[0])
        occupied = _polygonal(occupied.union(piece))

    updated = np.array([row["action"] == "updated" for row in report], dtype=bool)
    if updated.any():
        out[geom_col] = gpd.GeoSeries(new_geoms, index=out.index, crs=out.crs)
        after = np.array([row["area_m2_after"] for row in report])
        if "area_m2" in out.columns:
            col = out["area_m2"].astype("float64").to_numpy(copy=True)
            col[updated] = np.round(after[updated], 2)
            out["area_m2"] = col
        if "ellipsoid_area_m2" in out.columns or "area_m2" in out.columns:
            col = (out["ellipsoid_area_m2"].astype("float64").to_numpy(copy=True) if "ellipsoid_area_m2" in out.columns
                   else np.full(n, np.nan))
            col[updated] = np.round(ellipsoid_area_m2(new_geoms[updated]), 2)
            out["ellipsoid_area_m2"] = col
        if "area_mu" in out.columns:
            col = out["area_mu"].astype("float64").to_numpy(copy=True)
            col[updated] = m2_to_mu(np.round(after[updated], 2))
            out["area_mu"] = col
    return out, pd.DataFrame(report, columns=REPORT_COLUMNS)


def _scale_at(p_m: shapely.Point) -> float:
    ll = reproject(np.array([p_m], dtype=object), MEASURE_EPSG, STORE_EPSG)[0]
    return float(areal_scale(np.array([ll.x]), np.array([ll.y]))[0])


def _join(a: str, b: str) -> str:
    return f"{a}；{b}" if a else b


def _seq_key(v) -> float:
    try:
        f = float(v)
        return f if np.isfinite(f) else float("inf")
    except (TypeError, ValueError):
        return float("inf")


def _share_inside(geom_m, r: Resolution | None) -> float:
    if geom_m is None or r is None or r.geometry_m is None or geom_m.is_empty or geom_m.area <= 0:
        return float("nan")
    return float(min(1.0, geom_m.intersection(r.geometry_m).area / geom_m.area))
