"""Star-shaped rings: a cheap proof that a polygon ring is simple, and stays simple when a vector
tile rounds it to its pixel grid.

Why: MVT polygons must be valid, and rounding to whole pixels can fold a thin ring. Checking
every rounded ring with GEOS (`is_simple`, or PostGIS's `ST_AsMVTGeom`, which re-validates
every polygon through wagyu) is most of a cold tile's geometry cost. Most cadastral parcels are
star-shaped about their vertex mean (every convex parcel is), and for those there is a proof on
whole arrays, one pass over the vertices:

A closed ring whose every edge turns the same way about a point c (all cross products
(vᵢ − c) × (vᵢ₊₁ − c) of one sign, none zero) and that goes round c exactly once is simple:
each ray from c meets it once (a star-shaped Jordan curve). Going round once is counted as the
edges crossing the ray from c along +x in the turning direction.

Rounding moves each vertex by at most d = √2⁄2 pixel. If every edge's cross product about a
fixed c exceeds d·(|vᵢ − c| + |vᵢ₊₁ − c|) + d², none can reach zero under any such moves, so the
rounded ring is still star-shaped about c — simple, and turning the same way. `safe_zooms` turns
that margin into the lowest zoom from which a feature's tile geometry needs no validation; the
PostGIS store keeps it per feature (gis/store/postgis.py). `star_simple` is the exact test on
rings already rounded (the GeoPackage encoder, gis/mvt.py). A ring that is not star-shaped about
its vertex mean proves nothing here and keeps the full check.
"""

from __future__ import annotations

import math

import numpy as np
import shapely

EARTH_RADIUS = 6378137.0
"""WGS 84 / CGCS2000 semi-major axis: the sphere of Web Mercator (EPSG:3857)."""
WORLD_M = 2 * math.pi * EARTH_RADIUS
"""Width of the EPSG:3857 world: a tile of zoom z is WORLD_M / 2**z metres wide."""
HALF_DIAGONAL = math.sqrt(0.5) * (1 + 1e-6)
"""The farthest rounding to a whole pixel moves a point, in pixels (plus floating-point slack)."""
MAX_SAFE_ZOOM = 30


def _star(coords: np.ndarray, counts: np.ndarray, min_cross: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Closed rings laid end to end (`counts` ≥ 4 points each, last = first) → (star-shaped about
    the vertex mean, per ring; the turning-signed cross product of each edge about it, +inf
    between rings; the points relative to their ring's vertex mean; the turning direction per
    ring, +1 for a positive shoelace area in the coordinates given). A ring is star-shaped only if
    every cross product exceeds `min_cross`.

    Edge i joins point i to point i + 1 (the closing point stands in for the first vertex), so
    every step is a shifted view of whole arrays: no gather per vertex."""
    n = len(counts)
    owner = np.repeat(np.arange(n), counts)
    start = np.zeros(n, dtype=np.int64)
    np.cumsum(counts[:-1], out=start[1:])
    last = start + counts - 1
    sums = np.column_stack([np.bincount(owner, coords[:, 0], n), np.bincount(owner, coords[:, 1], n)])
    centre = (sums - coords[last]) / (counts - 1)[:, None]  # the closing point counted once
    rel = coords - centre[owner]
    a, b = rel[:-1], rel[1:]
    cross = a[:, 0] * b[:, 1] - b[:, 0] * a[:, 1]
    between = last[:-1]  # the "edge" from one ring's closing point to the next ring's first
    cross[between] = 0.0
    edge_owner = owner[:-1]
    turn = np.sign(np.bincount(edge_owner, cross, n))
    signed = cross * turn[edge_owner]
    signed[between] = np.inf
    lowest = np.minimum.reduceat(signed, start) if len(signed) else np.full(n, -np.inf)
    # once round: crossings of the ray c + t·(1, 0), t > 0, in the turning direction
    y = rel[:, 1] * turn[owner]
    up = (y[:-1] < 0) & (y[1:] >= 0)
    up[between] = False
    once = np.bincount(edge_owner[up], minlength=n) == 1
    return (counts >= 4) & (lowest > min_cross) & once, signed, rel, turn


def star_simple(coords: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per closed ring (`counts` points each, last = first): True where the ring is proven simple
    by being star-shaped about its vertex mean. False proves nothing (ask GEOS)."""
    return star_turns(coords, counts)[0]


def star_turns(coords: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`star_simple`, and each proven ring's turning direction (+1: positive shoelace area in
    the coordinates given; 0 where not proven). A proven ring also has no repeated consecutive
    points (every edge's cross product about the centre is non-zero).

    For whole-pixel coordinates (what tiles round to): about the vertex mean of m integer points
    a cross product is 0 or at least 1/m, while floating-point error stays under 1e-8 for tile
    pixels — so a product must exceed 1e-6 to count, and an edge lying exactly on a ray from the
    centre (a zero-width spike) is never mistaken for a turning one."""
    counts = np.asarray(counts, dtype=np.int64)
    ok = counts >= 4
    star = np.zeros(len(counts), dtype=bool)
    turn = np.zeros(len(counts), dtype=np.int8)
    if not ok.any():
        return star, turn
    coords = np.asarray(coords, dtype=np.float64)
    if not ok.all():
        coords, counts = coords[np.repeat(ok, counts)], counts[ok]
    proven, _, _, turns = _star(coords, counts, min_cross=1e-6)
    star[ok] = proven
    turn[ok] = np.where(proven, turns, 0)
    return star, turn


def mercator(lonlat: np.ndarray) -> np.ndarray:
    """Lon/lat degrees → EPSG:3857 metres, in closed form: the numbers PROJ's `+proj=merc
    +a=6378137` gives (PostGIS's ST_Transform(…, 3857)), without a PROJ call. Shared with the
    tile encoder (gis/mvt.py), so a safe zoom is computed on the very coordinates tiles round."""
    lon = np.radians(lonlat[:, 0])
    lat = np.radians(np.clip(lonlat[:, 1], -85.06, 85.06))
    return np.column_stack([EARTH_RADIUS * lon, EARTH_RADIUS * np.log(np.tan(np.pi / 4 + lat / 2))])


def one_ring_polygons(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(indices, coordinates, points per ring) of the geometries that are one polygon with one
    ring (a Polygon without holes, or a MultiPolygon of one such part), read without a shapely
    object per part or ring: a polygon's coordinates are its exterior ring (closed, so its first
    point comes back at its end) and then its holes, so the ring is the whole geometry exactly
    when the first point first comes back at the last one."""
    geoms = np.asarray(geoms, dtype=object)
    none = np.empty(0, dtype=np.int64)
    if not len(geoms):
        return none, np.empty((0, 2)), none
    types = shapely.get_type_id(geoms)
    one_part = (types == 3) | ((types == 6) & (shapely.get_num_geometries(geoms) == 1))
    idx = np.nonzero(one_part)[0]
    if not len(idx):
        return none, np.empty((0, 2)), none
    coords, owner = shapely.get_coordinates(geoms[idx], return_index=True)
    counts = np.bincount(owner, minlength=len(idx)).astype(np.int64)
    start = np.zeros(len(idx), dtype=np.int64)
    np.cumsum(counts[:-1], out=start[1:])
    again = np.all(coords == coords[start[owner]], axis=1)
    again[start[counts > 0]] = False
    returns = np.bincount(owner[again], minlength=len(idx))
    last = start + counts - 1
    single = (counts >= 4) & (returns == 1) & again[np.maximum(last, 0)]
    if not single.all():
        coords, counts, idx = coords[single[owner]], counts[single], idx[single]
    return idx, coords, counts


def safe_zooms(geoms: np.ndarray) -> np.ndarray:
    """Per lon/lat geometry: the lowest tile zoom from which its rounded tile geometry is
    guaranteed simple without a check (float; NaN = never: not a one-ring polygon, or not
    star-shaped about its vertex mean). Only for a feature drawn whole — one that crosses the
    tile's edge is clipped, and the clip is validated anyway.

    The margin is the largest move d (metres) every vertex may make while every edge's cross
    product about the fixed vertex mean stays positive: cross − d·(rᵢ + rᵢ₊₁) − d² > 0. A tile of
    zoom z has pixels of p = WORLD_M / (4096·2**z) metres and rounding moves a vertex at most
    HALF_DIAGONAL·p, so every zoom with HALF_DIAGONAL·p < d is safe."""
    geoms = np.asarray(geoms, dtype=object)
    out = np.full(len(geoms), np.nan)
    if not len(geoms):
        return out
    idx, coords, counts = one_ring_polygons(geoms)
    if not len(idx):
        return out
    star, signed, rel, _ = _star(mercator(coords), counts)
    r = np.hypot(rel[:, 0], rel[:, 1])
    rsum = r[:-1] + r[1:]
    inner = np.isfinite(signed)  # not the step between two rings
    d_edge = np.full(len(signed), np.inf)
    d_edge[inner] = (np.sqrt(rsum[inner] ** 2 + 4 * np.maximum(signed[inner], 0)) - rsum[inner]) / 2
    d = np.minimum.reduceat(d_edge, np.concatenate([[0], np.cumsum(counts[:-1])]))
    z = np.floor(np.log2(HALF_DIAGONAL * WORLD_M / 4096 / np.where(star & (d > 0), d, np.nan))) + 1
    out[idx] = np.clip(z, 0, MAX_SAFE_ZOOM + 1)
    out[out > MAX_SAFE_ZOOM] = np.nan
    return out
