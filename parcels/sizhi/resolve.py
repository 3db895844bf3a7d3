"""Resolve parsed 四至 constraints to a candidate area against the `roads`/`landmarks` layers.

Why this shape of algorithm: a Chinese location text names the features around a parcel, not
the parcel. The honest answer is therefore a *candidate area* plus a statement of how sure we
are, and a refusal to guess when a named feature does not exist.

Steps (all geometry in EPSG:4546 metres, results returned in EPSG:4490):

1. Every reference is looked up by name, then by alias (`alias` may hold several names split by
   "/", "、", ",", ";"). "原西环路"/"旧…"/"老…" is a former name: after an exact try, the prefix is
   dropped and the rest is matched against aliases first, then names. "纬7路" matches "纬七路"
   (Arabic numbers below 100 are read as Chinese numerals); "独山大道(原东环路)" tries both.
   Nothing is matched fuzzily: near names only appear in `suggestions`.
2. Each constraint becomes a region:
   - a road on a side it runs across (以南 of an east–west road): the half-plane beyond the
     polyline, made by extending the line's ends straight to the edges of a working box
     (horizontally for N/S, vertically for E/W) and closing the polygon on the wanted side;
   - a landmark, or a road on a side it runs along (以西 of an east–west road): the half-plane
     beyond its bounds (以西 of 热电厂 = west of its westmost x);
   - `both` (两侧): a corridor of ±`BOTH_HALF_WIDTH_M` along the reference;
   - `at` with `with` (交叉口): discs of `AT_RADIUS_M` around the points where the two roads
     meet (or come within `MEET_TOL_M`), cut to the named corner's quadrant;
   - `at` alone (附近): the reference buffered by `AT_RADIUS_M`.
   Corridors and discs are search *windows*: they choose blocks but do not cut them.
3. The directional half-planes are intersected, then clipped to `clip` (the zone and the
   expansion area).
4. Blocks: the clip area (or the working box) minus every road buffered by `ROAD_HALF_WIDTH_M`.
   The region is cut into block pieces (slivers under `MIN_PIECE_M2` dropped; with windows,
   only pieces overlapping every window by at least `MIN_PIECE_M2`). When the
   constraints enclose the area on their own (the half-plane intersection does not reach the
   working box), every piece is kept: the text describes an enclosure ("…所围合区域").
   Otherwise each piece is scored by the referenced features it touches (a road within
   `ROAD_HALF_WIDTH_M + ADJ_TOL_M`, a landmark within `LANDMARK_ADJ_M`), and the pieces with
   the best positive score are kept; among those, the ones at a point where two of the
   referenced roads meet win ("经十路以西、纬七路以南" → the corner block at the crossing).
5. Candidates are the kept pieces, where pieces facing each other across a `两侧` road count as
   one candidate.

`ambiguity` = 1 − (area of the largest candidate) / (area of all candidates): 0 when the text
pins down one block, 0.5 for two equal blocks, → 1 when the area is spread over many. It is 1
when the area is not closed at all (no clip given and the result reaches the working box).
`candidate_count` is the number of candidates. `geometry` is the union of all candidates.

Missing references: if any reference is not found, `geometry` is None and `status` is
"missing". The remaining references are *not* used to guess an area: an official must fix the
name (or import the road) first. Statuses: "resolved", "partial" (an area was found but part of
the text was not understood, so the area may be too large), "missing", "unmet" (two roads of a
交叉口 do not meet), "empty" (the constraints contradict each other or lie outside the clip),
"no_constraints" (nothing readable), "detached" (an area satisfies the directions but borders
none of the named features, e.g. they lie outside the clip: geometry returned for display,
ambiguity 1, never used to redraw a parcel), "underbounded" and "oversized" (below).

A text never pins a parcel unless it bounds it on at least two sides: the directional sides
named (以南 / 东至 …, distinct), a 交叉口 counting as two and a 两侧 corridor as one. A result bounded on
fewer (“雪枫路以南”) is "underbounded" — the clip, not the text, decides how far it reaches; and
a candidate larger than the largest plausible parcel (`max_parcel_mu`, setting
`LANDGIS_SIZHI_MAX_MU`, default `DEFAULT_MAX_PARCEL_MU`; all candidates together) is "oversized". Neither is "resolved"
(so neither ever redraws a parcel), and ambiguity then also reflects the candidate area: at
least 1 − (largest plausible parcel) / (candidate area), and at least 0.5 when underbounded.
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry import MultiPolygon, Polygon, box as make_box
from shapely.geometry.base import BaseGeometry

from gis.crs import MEASURE_EPSG, STORE_EPSG, m2_to_mu, plane_area_m2, reproject, to_measure
from gis.errors import InputError, RowError
from parcels.sizhi.parse import Constraint, ParsedLocation

ROAD_HALF_WIDTH_M = 12.0
"""Half the width of the road corridor that separates blocks (a 24 m urban road)."""
ADJ_TOL_M = 5.0
LANDMARK_ADJ_M = 150.0
"""A piece within this distance of a named landmark counts as bordering it (fences, green strips)."""
BOTH_HALF_WIDTH_M = 1000.0
AT_RADIUS_M = 500.0
MEET_TOL_M = 100.0
"""Two roads whose centre lines come this close count as meeting (digitizing gaps at crossings)."""
MARGIN_M = 3000.0
MIN_PIECE_M2 = 200.0

STATUSES = ("resolved", "partial", "detached", "underbounded", "oversized", "missing", "unmet", "empty", "no_constraints")
DEFAULT_MAX_PARCEL_MU = 3000.0
"""Largest plausible parcel a 四至 text may pin (2 km²), in 亩. Far above any 宗地 the plan sizes
(Table 2's parcels are 180–275 亩; the largest single projects, 数控装备制造项目 and 华为应用技术产业园
二期, 500 亩), and above the blocks of the bundled schematic road sketch (≤ ≈1 900 亩), so a coarse
road network alone does not refuse a text that names a block; a 52 km² half-plane is refused.
A setting (`LANDGIS_SIZHI_MAX_MU`), not a rule: with the zone's real road network, lower it to
its largest 宗地."""
MIN_SIDES = 2
"""A text bounding the land on fewer sides than this leaves it open: never "resolved"."""


def bounded_sides(parsed: ParsedLocation) -> int:
    """Sides the text bounds: distinct directions (N/S/E/W), a 交叉口 (two roads meeting) counts 2,
    a 两侧 corridor 1; 附近 (near X) bounds nothing."""
    directions = {c.side for c in parsed.constraints if c.side in ("N", "S", "E", "W")}
    crossings = sum(2 for c in parsed.constraints if c.side == "at" and c.with_)
    corridors = sum(1 for c in parsed.constraints if c.side == "both")
    return len(directions) + crossings + corridors
_FORMER = ("原", "旧", "老", "前")


class SizhiInputError(InputError):
    """Reference layers or a parcel layer that cannot be used (missing column, wrong CRS)."""


# --- names ---------------------------------------------------------------------------------

_CN = "零一二三四五六七八九"


def _num_to_cn(n: int) -> str:
    if n < 10:
        return _CN[n]
    if n < 20:
        return "十" + (_CN[n % 10] if n % 10 else "")
    return _CN[n // 10] + "十" + (_CN[n % 10] if n % 10 else "")


def canonical_name(name: str) -> str:
    """Comparison key of a name: width-folded, no spaces/quotes, small numbers as Chinese numerals."""
    t = unicodedata.normalize("NFKC", str(name))
    t = re.sub(r"[\s“”\"'‘’《》「」『』【】]", "", t)
    return re.sub(r"(?<!\d)\d{1,2}(?!\d)", lambda m: _num_to_cn(int(m.group())), t)


def _split_alias(alias) -> list[str]:
    if alias is None or (not isinstance(alias, str) and pd.isna(alias)):
        return []
    return [a.strip() for a in re.split(r"[/、,，;；|]", str(alias)) if a.strip()]


@dataclass
class _Layer:
    kind: str  # "road" | "landmark"
    ids: list[str]
    names: list[str]
    geoms: np.ndarray  # EPSG:4546
    by_name: dict[str, list[int]]
    by_alias: dict[str, list[int]]


def _measure(gdf: gpd.GeoDataFrame) -> np.ndarray:
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    crs = gdf.crs
    if crs is None or CRS.from_user_input(crs).to_epsg() == STORE_EPSG:
        return to_measure(geoms)
    if CRS.from_user_input(crs).to_epsg() == MEASURE_EPSG:
        return geoms
    return reproject(geoms, crs, MEASURE_EPSG)


def _build_layer(gdf: gpd.GeoDataFrame | None, kind: str, label: str, notes: list[str]) -> _Layer:
    empty = _Layer(kind, [], [], np.empty(0, dtype=object), {}, {})
    if gdf is None or len(gdf) == 0:
        return empty
    if "name" not in gdf.columns:
        raise SizhiInputError(
            f"{label}图层缺少“name”（名称）字段，无法按名称查找四至参照物。",
            [RowError(None, "name", "缺少字段")],
            hint=f"请在{label}数据中加入名称字段 name（可另加别名字段 alias，多个别名用“/”或“、”分隔）后重新导入。",
        )
    geoms = _measure(gdf)
    ids = [str(v) for v in (gdf["id"] if "id" in gdf.columns else gdf.index)]
    names = ["" if n is None or (not isinstance(n, str) and pd.isna(n)) else str(n) for n in gdf["name"].tolist()]
    aliases = gdf["alias"].tolist() if "alias" in gdf.columns else [None] * len(gdf)
    bad = np.array([g is None for g in geoms]) | shapely.is_empty(np.where([g is None for g in geoms], shapely.Point(), geoms))
    if bad.any():
        notes.append(f"{label}图层中 {int(bad.sum())} 个要素无几何，已忽略：" + "、".join(np.asarray(ids)[bad][:10]))
    by_name: dict[str, list[int]] = {}
    by_alias: dict[str, list[int]] = {}
    for i, (n, a) in enumerate(zip(names, aliases)):
        if bad[i]:
            continue
        if n:
            by_name.setdefault(canonical_name(n), []).append(i)
        for al in _split_alias(a):
            by_alias.setdefault(canonical_name(al), []).append(i)
    return _Layer(kind, ids, names, geoms, by_name, by_alias)


@dataclass
class _Match:
    ref: str
    kind: str  # road | landmark
    geom: BaseGeometry  # union of the matched features, EPSG:4546
    ids: list[str]
    via: str  # name | alias | former-name | alternative


# --- result --------------------------------------------------------------------------------


@dataclass
class Resolution:
    parsed: ParsedLocation
    geometry: BaseGeometry | None  # MultiPolygon in EPSG:4490, or None
    status: str
    found: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    suggestions: dict[str, list[str]] = field(default_factory=dict)
    matches: dict[str, list[str]] = field(default_factory=dict)  # ref -> matched feature ids
    ambiguity: float = 1.0
    candidate_count: int = 0
    area_m2: float = 0.0
    bounded: bool = False
    notes: list[str] = field(default_factory=list)
    geometry_m: BaseGeometry | None = field(default=None, repr=False)  # same area in EPSG:4546
    refs_m: list[BaseGeometry] = field(default_factory=list, repr=False)  # matched features, EPSG:4546

    @property
    def area_mu(self) -> float:
        return float(m2_to_mu(self.area_m2))

    def to_json(self) -> dict:
        """The parse JSON (constraints, unparsed, …) merged with the resolution; geometry as GeoJSON."""
        out = self.parsed.to_json()
        out.update(
            {
                "status": self.status,
                "found": list(self.found),
                "missing": list(self.missing),
                "suggestions": {k: list(v) for k, v in self.suggestions.items()},
                "matches": {k: list(v) for k, v in self.matches.items()},
                "ambiguity": round(float(self.ambiguity), 4),
                "candidate_count": int(self.candidate_count),
                "area_m2": round(float(self.area_m2), 2),
                "area_mu": round(self.area_mu, 2),
                "notes": list(self.notes),
                "geometry": json.loads(shapely.to_geojson(self.geometry)) if self.geometry is not None else None,
            }
        )
        return out


# --- geometry helpers ----------------------------------------------------------------------


def _polygonal(geom: BaseGeometry | None) -> BaseGeometry:
    """Polygonal part of a geometry, valid; empty Polygon when there is none."""
    if geom is None or geom.is_empty:
        return Polygon()
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return Polygon()
    return shapely.union_all(parts)


def _polygonal_array(geoms: np.ndarray) -> np.ndarray:
    """`_polygonal` over an array, touching only the rare non-polygon results of an overlay."""
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0:
        return geoms
    types = shapely.get_type_id(geoms)
    out = geoms.copy()
    odd = ~np.isin(types, (3, 6))  # not Polygon / MultiPolygon
    for i in np.flatnonzero(odd):
        out[i] = _polygonal(geoms[i])
    return out


def _to_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    parts = [p for p in shapely.get_parts(_polygonal(geom)) if p.geom_type == "Polygon" and not p.is_empty]
    return MultiPolygon(parts)


SEGMENT_M = 25.0
"""Edges are densified to this length before leaving EPSG:4546, so that neighbouring pieces cut
from one area still share their edges after the (non-linear) transform to lon/lat."""


def to_store_multipolygon(geom_m: BaseGeometry) -> MultiPolygon:
    """EPSG:4546 polygonal geometry → valid MultiPolygon in EPSG:4490 (edges densified first)."""
    dense = shapely.segmentize(_polygonal(geom_m), SEGMENT_M)
    return _to_multipolygon(reproject(np.array([dense], dtype=object), MEASURE_EPSG, STORE_EPSG)[0])


def _ordered_coords(geom: BaseGeometry, axis: int) -> np.ndarray:
    """Vertices of a (multi)line as one chain running along `axis` (0: west→east, 1: south→north)."""
    merged = shapely.line_merge(geom) if geom.geom_type == "MultiLineString" else geom
    chains = []
    for part in shapely.get_parts(merged):
        c = shapely.get_coordinates(part)
        if len(c) == 0:
            continue
        if c[0, axis] > c[-1, axis]:
            c = c[::-1]
        chains.append(c)
    chains.sort(key=lambda c: float(c[:, axis].mean()))
    return np.vstack(chains)


def _runs_across(geom: BaseGeometry, side: str) -> bool:
    """Does the line divide space along `side`? (an E–W road for N/S, an N–S road for E/W)."""
    if geom.geom_type not in ("LineString", "MultiLineString", "LinearRing"):
        return False
    x0, y0, x1, y1 = geom.bounds
    dx, dy = x1 - x0, y1 - y0
    return dx >= 0.5 * dy if side in "NS" else dy >= 0.5 * dx


def _line_half_plane(geom: BaseGeometry, side: str, work: Polygon) -> BaseGeometry:
    bx0, by0, bx1, by1 = work.bounds
    if side in "NS":
        c = _ordered_coords(geom, 0)
        edge = by0 if side == "S" else by1
        ring = [(bx0, c[0, 1]), *map(tuple, c), (bx1, c[-1, 1]), (bx1, edge), (bx0, edge)]
    else:
        c = _ordered_coords(geom, 1)
        edge = bx1 if side == "E" else bx0
        ring = [(c[0, 0], by0), *map(tuple, c), (c[-1, 0], by1), (edge, by1), (edge, by0)]
    return _polygonal(Polygon(ring)).intersection(work)


def _bounds_half_plane(geom: BaseGeometry, side: str, work: Polygon) -> BaseGeometry:
    gx0, gy0, gx1, gy1 = geom.bounds
    bx0, by0, bx1, by1 = work.bounds
    box = {
        "S": (bx0, by0, bx1, gy0),
        "N": (bx0, gy1, bx1, by1),
        "W": (bx0, by0, gx0, by1),
        "E": (gx1, by0, bx1, by1),
    }[side]
    if box[0] >= box[2] or box[1] >= box[3]:
        return Polygon()
    return make_box(*box)


def _quadrant(x: float, y: float, corner: str | None, work: Polygon) -> Polygon:
    bx0, by0, bx1, by1 = work.bounds
    if corner:
        if "N" in corner:
            by0 = y
        if "S" in corner:
            by1 = y
        if "E" in corner:
            bx0 = x
        if "W" in corner:
            bx1 = x
    return make_box(bx0, by0, bx1, by1)


def _meeting_points(gx: BaseGeometry, gy: BaseGeometry) -> list[shapely.Point]:
    inter = gx.intersection(gy)
    if not inter.is_empty:
        return [p if p.geom_type == "Point" else p.centroid for p in shapely.get_parts(inter)]
    if gx.distance(gy) <= MEET_TOL_M:
        return [shapely.shortest_line(gx, gy).centroid]
    return []


def _axes(geom_m: BaseGeometry) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors along the long and short sides of the minimum rotated rectangle."""
    rect = shapely.minimum_rotated_rectangle(geom_m)
    if rect.geom_type != "Polygon":
        return np.array([1.0, 0.0]), np.array([0.0, 1.0])
    rc = np.asarray(rect.exterior.coords)[:4]
    e1, e2 = rc[1] - rc[0], rc[2] - rc[1]
    u = e1 if np.hypot(*e1) >= np.hypot(*e2) else e2
    if np.hypot(*u) == 0:
        return np.array([1.0, 0.0]), np.array([0.0, 1.0])
    u = u / np.hypot(*u)
    return u, np.array([-u[1], u[0]])


def split_by_shares(geom_m: BaseGeometry, shares: list[float]) -> list[BaseGeometry]:
    """Cut a polygon into strips across its long axis with the given area shares (sum 1).

    Used to give several schematic parcels that share one location text non-overlapping parts
    of the resolved area, in proportion to their areas. Cut positions are found by bisection
    on the area, to 1e-6 of the total.
    """
    if len(shares) == 1:
        return [geom_m]
    u, v = _axes(geom_m)
    pts = shapely.get_coordinates(geom_m)
    t = pts @ u
    s = pts @ v
    t0, t1 = float(t.min()), float(t.max())
    s0, s1 = float(s.min()) - 1.0, float(s.max()) + 1.0
    total = geom_m.area

    def slab(a: float, b: float) -> Polygon:
        corners = [a * u + s0 * v, b * u + s0 * v, b * u + s1 * v, a * u + s1 * v]
        return Polygon(corners)

    cuts = [t0 - 1.0]
    acc = 0.0
    for share in shares[:-1]:
        acc += share
        lo, hi = t0, t1
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if geom_m.intersection(slab(t0 - 1.0, mid)).area < acc * total:
                lo = mid
            else:
                hi = mid
            if hi - lo < 1e-6 * max(1.0, t1 - t0):
                break
        cuts.append(0.5 * (lo + hi))
    cuts.append(t1 + 1.0)
    return [_polygonal(geom_m.intersection(slab(a, b))) for a, b in zip(cuts[:-1], cuts[1:])]


def place_area(avail_m: BaseGeometry, target_m2: float, refs_m: list[BaseGeometry]) -> BaseGeometry:
    """A compact piece of `avail_m` with (plane) area `target_m2`, in the corner nearest the references.

    Why: a schematic parcel keeps its size when re-resolved (its area feeds the land balance of
    §7), but moves into the area its text describes, next to the roads the text names. The
    anchor is the vertex of `avail_m` with the least summed distance to the referenced features;
    the piece is `avail_m` cut by a square centred there (aligned with the area's rotated
    bounding rectangle), its size found by bisection to 1e-4 of the target. When the area is
    smaller than the target, all of it is returned.
    """
    if avail_m.area <= target_m2:
        return avail_m
    pts = shapely.points(shapely.get_coordinates(shapely.boundary(avail_m)))
    if refs_m:
        d = shapely.distance(pts[:, None], np.asarray(refs_m, dtype=object)[None, :]).sum(axis=1)
        a = pts[int(np.argmin(d))]
    else:
        a = pts[0]
    ax, ay = a.x, a.y
    u, v = _axes(avail_m)
    x0, y0, x1, y1 = avail_m.bounds
    lo, hi = 0.0, 2.0 * float(np.hypot(x1 - x0, y1 - y0))

    def square(h: float) -> Polygon:
        c = np.array([ax, ay])
        return Polygon([c + h * (sx * u + sy * v) for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))])

    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if avail_m.intersection(square(mid)).area < target_m2:
            lo = mid
        else:
            hi = mid
        if abs(avail_m.intersection(square(hi)).area - target_m2) <= 1e-7 * target_m2:
            break
    return _polygonal(avail_m.intersection(square(hi)))


# --- resolver ------------------------------------------------------------------------------


class Resolver:
    """Holds the reference layers (measured once, name index built once) and the blocks of the clip.

    `resolve_location` builds one per call; `re_resolve_layer` builds one for a whole layer.
    """

    def __init__(self, roads: gpd.GeoDataFrame | None, landmarks: gpd.GeoDataFrame | None, clip=None, *, max_parcel_mu: float | None = None):
        self.notes: list[str] = []
        self.max_parcel_mu = float(max_parcel_mu) if max_parcel_mu else DEFAULT_MAX_PARCEL_MU
        self.roads = _build_layer(roads, "road", "道路", self.notes)
        self.landmarks = _build_layer(landmarks, "landmark", "地标", self.notes)
        self.clip_m = self._clip_to_measure(clip)
        valid = [g for g in self.roads.geoms if g is not None and not g.is_empty]
        self._road_corridors = (
            shapely.buffer(np.asarray(valid, dtype=object), ROAD_HALF_WIDTH_M) if valid else np.empty(0, dtype=object)
        )
        self._road_tree = shapely.STRtree(self._road_corridors)
        self._clip_blocks: tuple[np.ndarray, shapely.STRtree] | None = None
        keys: dict[str, str] = {}
        for layer in (self.roads, self.landmarks):
            for k, idx in layer.by_name.items():
                keys.setdefault(k, layer.names[idx[0]])
            for k, idx in layer.by_alias.items():
                keys.setdefault(k, f"{layer.names[idx[0]]}（别名 {k}）")
        self._all_keys = keys

    def _pinned(self, parsed: ParsedLocation, status: str, ambiguity: float, bounded: bool,
                total_m2: float, notes: list[str]) -> tuple[str, float]:
        """Status and ambiguity once the text's bounds and the candidate's size are weighed
        (module docstring): an under-bounded or oversized area is never "resolved"."""
        max_m2 = self.max_parcel_mu * 10000 / 15
        if total_m2 > 0:
            ambiguity = max(ambiguity, 1.0 - min(1.0, max_m2 / total_m2))
        if status not in ("resolved", "partial"):
            return status, ambiguity
        sides = bounded_sides(parsed)
        if not bounded and sides < MIN_SIDES:
            notes.append(
                f"位置文字只限定了 {sides} 个方向（至少需要两个方向，如“某路以南、某路以西”），"
                f"候选区域（约 {total_m2 * 15 / 10000:,.0f} 亩）由裁剪范围而非文字决定，不能据此确定地块位置。"
            )
            return "underbounded", max(ambiguity, 0.5)
        if total_m2 > max_m2:
            notes.append(
                f"候选区域约 {total_m2 * 15 / 10000:,.0f} 亩，大于单宗地块的合理上限 {self.max_parcel_mu:,.0f} 亩"
                "（设置 LANDGIS_SIZHI_MAX_MU），不能据此确定地块位置。"
            )
            return "oversized", ambiguity
        return status, ambiguity

    @staticmethod
    def _clip_to_measure(clip) -> BaseGeometry | None:
        if clip is None:
            return None
        if isinstance(clip, (gpd.GeoDataFrame, gpd.GeoSeries)):
            if len(clip) == 0:
                return None
            frame = clip if isinstance(clip, gpd.GeoDataFrame) else gpd.GeoDataFrame(geometry=clip)
            geom = shapely.union_all(_measure(frame))
        else:
            geom = to_measure(np.array([clip], dtype=object))[0]
        geom = _polygonal(geom)
        if geom.is_empty:
            raise SizhiInputError(
                "裁剪范围（高新区范围/扩区范围）为空或不是面要素。",
                [RowError(None, "clip", "需要面几何")],
                hint="请先导入 zone_boundary 图层（高新区范围与扩区范围）。",
            )
        return geom

    # -- name lookup --
    def lookup(self, ref: str, alternatives: tuple[str, ...] = ()) -> _Match | None:
        tries: list[str] = [ref]
        m = re.match(r"^(.+?)[(（](.+?)[)）]$", unicodedata.normalize("NFKC", ref))
        if m:
            tries += [m.group(1), m.group(2)]
        tries += list(alternatives)
        for n, t in enumerate(tries):
            k = canonical_name(t)
            alt = n > 0 and t in alternatives
            steps = [("name", k, "by_name"), ("alias", k, "by_alias")]
            if len(k) > 2 and k[0] in _FORMER:
                steps += [("former-name", k[1:], "by_alias"), ("former-name", k[1:], "by_name")]
            for via, key, index in steps:
                for layer in (self.roads, self.landmarks):
                    idx = getattr(layer, index).get(key)
                    if idx:
                        geom = shapely.union_all(layer.geoms[idx])
                        return _Match(ref, layer.kind, geom, [layer.ids[i] for i in idx], "alternative" if alt else via)
        return None

    def suggest(self, ref: str) -> list[str]:
        k = canonical_name(ref)
        if len(k) > 2 and k[0] in _FORMER:
            k = k[1:]
        keys = list(self._all_keys)
        near = difflib.get_close_matches(k, keys, n=4, cutoff=0.5)
        core = re.sub(r"(大道|大街|路|街|道|巷)$", "", k)
        near += [x for x in keys if len(core) >= 2 and core in x and x not in near]
        return [self._all_keys[x] for x in near[:5]]

    # -- blocks --
    def _blocks(self, area: BaseGeometry, cacheable: bool) -> tuple[np.ndarray, shapely.STRtree]:
        if cacheable and self._clip_blocks is not None:
            return self._clip_blocks
        if len(self._road_corridors):
            near = self._road_tree.query(area, predicate="intersects")
            cut = shapely.union_all(self._road_corridors[near]) if len(near) else Polygon()
            rest = area.difference(cut)
        else:
            rest = area
        blocks = np.asarray([p for p in shapely.get_parts(_polygonal(rest)) if p.area >= MIN_PIECE_M2], dtype=object)
        out = (blocks, shapely.STRtree(blocks))
        if cacheable:
            self._clip_blocks = out
        return out

    # -- constraint regions --
    def _region(self, c: Constraint, mx: _Match, my: _Match | None, work: Polygon) -> BaseGeometry | None:
        g = mx.geom
        if c.side in ("N", "S", "E", "W"):
            if mx.kind == "road" and _runs_across(g, c.side):
                return _line_half_plane(g, c.side, work)
            return _bounds_half_plane(g, c.side, work)
        if c.side == "both":
            return g.buffer(BOTH_HALF_WIDTH_M, cap_style="flat") if g.geom_type != "Point" else g.buffer(BOTH_HALF_WIDTH_M)
        if c.side == "at" and my is None:
            region = g.buffer(AT_RADIUS_M)
            if c.corner:
                x0, y0, x1, y1 = g.bounds
                region = region.intersection(_quadrant((x0 + x1) / 2, (y0 + y1) / 2, c.corner, work))
            return region
        pts = _meeting_points(g, my.geom)
        if not pts:
            return None
        return shapely.union_all([p.buffer(AT_RADIUS_M).intersection(_quadrant(p.x, p.y, c.corner, work)) for p in pts])

    @staticmethod
    def _corners(parsed: ParsedLocation, matched: dict[str, _Match]) -> BaseGeometry | None:
        """Points where two roads named with a direction meet (None when there are none)."""
        names = []
        for c in parsed.constraints:
            if c.side in ("N", "S", "E", "W") and matched[c.ref].kind == "road" and c.ref not in names:
                names.append(c.ref)
        pts = []
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                pts += _meeting_points(matched[a].geom, matched[b].geom)
        return shapely.union_all(pts) if pts else None

    def resolve(self, parsed: ParsedLocation) -> Resolution:
        notes = list(self.notes)
        if parsed.unparsed:
            notes.append("以下文字未能识别，结果可能偏大：" + "；".join(parsed.unparsed))
        if not parsed.constraints:
            notes.append("未识别出任何四至约束，请按“某路以南、某路以西”或“东至某路”的格式填写位置。")
            return Resolution(parsed, None, "no_constraints", notes=notes)

        found: list[str] = []
        missing: list[str] = []
        suggestions: dict[str, list[str]] = {}
        matches: dict[str, list[str]] = {}
        matched: dict[str, _Match] = {}
        for c in parsed.constraints:
            for r in c.refs:
                if r in matched or r in missing:
                    continue
                m = self.lookup(r, c.alternatives if r == c.ref else ())
                if m is None:
                    missing.append(r)
                    s = self.suggest(r)
                    if s:
                        suggestions[r] = s
                else:
                    matched[r] = m
                    found.append(r)
                    matches[r] = m.ids
                    if m.via in ("former-name", "alias"):
                        notes.append(f"“{r}”按别名/原名匹配到 {'、'.join(m.ids)}")
        base = dict(found=found, missing=missing, suggestions=suggestions, matches=matches)
        if missing:
            notes.append(
                "以下参照物在道路/地标图层中不存在：" + "、".join(missing)
                + "。未据其余参照物推测位置；请核对名称或先导入相应道路/地标数据。"
            )
            return Resolution(parsed, None, "missing", notes=notes, **base)

        # working box: the clip and every referenced feature, with a margin
        geoms = [m.geom for m in matched.values()] + ([self.clip_m] if self.clip_m is not None else [])
        bx = np.array([g.bounds for g in geoms])
        work = make_box(bx[:, 0].min() - MARGIN_M, bx[:, 1].min() - MARGIN_M, bx[:, 2].max() + MARGIN_M, bx[:, 3].max() + MARGIN_M)

        # Directional constraints (以南, 东至) cut the area; 两侧 corridors and 交叉口/附近 discs
        # are search windows only: they pick blocks, they do not cut them.
        region: BaseGeometry = work
        window: BaseGeometry | None = None
        directional = False
        for c in parsed.constraints:
            r = self._region(c, matched[c.ref], matched.get(c.with_) if c.with_ else None, work)
            if r is None:
                notes.append(f"“{c.ref}”与“{c.with_}”在数据中不相交（相距超过 {MEET_TOL_M:.0f} 米），无法确定交叉口。")
                return Resolution(parsed, None, "unmet", notes=notes, **base)
            if c.side in ("N", "S", "E", "W"):
                directional = True
                region = _polygonal(region.intersection(r))
            else:
                window = _polygonal(r) if window is None else _polygonal(window.intersection(r))
        if window is not None:
            region_check = _polygonal(region.intersection(window))
        else:
            region_check = region
        bounded = directional and (not region.is_empty) and region.within(work.buffer(-1.0))
        if self.clip_m is not None:
            region = _polygonal(region.intersection(self.clip_m))
            region_check = _polygonal(region_check.intersection(self.clip_m))
        if region_check.is_empty or region_check.area < MIN_PIECE_M2:
            where = "且位于裁剪范围（高新区/扩区范围）之内" if self.clip_m is not None else ""
            notes.append(f"各四至约束没有共同区域{where}：请核对方位（以东/以西/以南/以北）是否写反。")
            return Resolution(parsed, None, "empty", bounded=bounded, notes=notes, **base)

        area = self.clip_m if self.clip_m is not None else work
        blocks, tree = self._blocks(area, cacheable=self.clip_m is not None)
        idx = tree.query(region_check, predicate="intersects") if len(blocks) else np.empty(0, dtype=int)
        pieces = blocks[idx].copy()
        if len(idx):
            # only blocks that cross the region's edge need an overlay
            inside = np.isin(idx, tree.query(region, predicate="contains"))
            pieces[~inside] = shapely.intersection(pieces[~inside], region)
        pieces = _polygonal_array(pieces)
        if len(pieces):
            big = shapely.area(pieces) >= MIN_PIECE_M2
            if window is not None:
                big &= shapely.area(shapely.intersection(pieces, window)) >= MIN_PIECE_M2
            pieces = pieces[big]
        if len(pieces) == 0:
            notes.append("约束区域全部落在道路范围内，没有可用地块。")
            return Resolution(parsed, None, "empty", bounded=bounded, notes=notes, **base)

        # adjacency score of each piece to the referenced features
        refs = list(matched.values())
        ref_geoms = np.asarray([m.geom for m in refs], dtype=object)
        thresholds = np.array([ROAD_HALF_WIDTH_M + ADJ_TOL_M if m.kind == "road" else LANDMARK_ADJ_M for m in refs])
        hit = shapely.STRtree(pieces).query(ref_geoms, predicate="dwithin", distance=thresholds)
        adjacent = np.zeros((len(pieces), len(refs)), dtype=bool)
        adjacent[hit[1], hit[0]] = True
        score = adjacent.sum(axis=1)
        if bounded or score.max() == 0:
            keep = np.ones(len(pieces), dtype=bool)
        else:
            keep = score == score.max()
            # Tie-break: two roads named with directions meet at the corner the text describes
            # ("经十路以西、纬七路以南" → the block at the crossing, not one that merely touches
            # both roads somewhere else, such as an open area wrapping round their ends).
            corners = self._corners(parsed, matched)
            if corners is not None and keep.sum() > 1:
                near = keep & (shapely.distance(pieces, corners) <= 2 * (ROAD_HALF_WIDTH_M + ADJ_TOL_M))
                if near.any():
                    keep = near
        kept = pieces[keep]
        kept_adj = adjacent[keep]

        # candidates: pieces facing each other across a 两侧 road are one candidate
        parent = list(range(len(kept)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        both_cols = [j for j, m in enumerate(refs) if any(c.side == "both" and c.ref == m.ref for c in parsed.constraints)]
        if both_cols and len(kept) > 1:
            gap = 2 * (ROAD_HALF_WIDTH_M + ADJ_TOL_M)
            pd_ = shapely.distance(kept[:, None], kept[None, :])
            for j in both_cols:
                on = np.flatnonzero(kept_adj[:, j])
                for a in on:
                    for b in on:
                        if a < b and pd_[a, b] <= gap:
                            parent[find(a)] = find(b)
        groups: dict[int, float] = {}
        areas = shapely.area(kept)
        for i, a in enumerate(areas):
            groups[find(i)] = groups.get(find(i), 0.0) + float(a)
        total = float(areas.sum())
        ambiguity = 1.0 - max(groups.values()) / total if total > 0 else 1.0
        result_m = _polygonal(shapely.union_all(kept))
        if self.clip_m is None and not result_m.within(work.buffer(-1.0)):
            ambiguity = 1.0
            notes.append("未提供高新区范围且约束未围合，结果延伸到计算边框，面积不可信。")
        ambiguity = float(min(1.0, max(0.0, ambiguity)))
        if len(groups) > 1:
            notes.append(f"有 {len(groups)} 个候选街区符合描述。")
        geom = to_store_multipolygon(result_m)
        status = "partial" if parsed.unparsed else "resolved"
        if not bounded and score.max() == 0:
            # Every piece satisfies the directions but none borders a named feature: the text's
            # features lie outside the clip, or the data has gaps. Shown, never used to redraw.
            status = "detached"
            ambiguity = 1.0
            notes.append(
                f"候选区域与所列参照物均不相邻（最近约 {float(shapely.distance(result_m, shapely.union_all(ref_geoms))):.0f} 米），仅满足方位关系；"
                "请核对高新区范围或道路数据。"
            )
        status, ambiguity = self._pinned(parsed, status, ambiguity, bounded, total, notes)
        return Resolution(
            parsed,
            geom,
            status,
            ambiguity=ambiguity,
            candidate_count=len(groups),
            area_m2=float(plane_area_m2(np.array([geom], dtype=object))[0]),
            bounded=bounded,
            notes=notes,
            geometry_m=result_m,
            refs_m=[m.geom for m in refs],
            **base,
        )


def resolve_location(
    parsed: ParsedLocation,
    roads: gpd.GeoDataFrame,
    landmarks: gpd.GeoDataFrame | None,
    clip: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    *,
    max_parcel_mu: float | None = None,
) -> Resolution:
    """Resolve one parsed text against the reference layers (EPSG:4490); see the module docstring."""
    return Resolver(roads, landmarks, clip, max_parcel_mu=max_parcel_mu).resolve(parsed)
