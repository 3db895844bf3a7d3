"""gis/star_rings.py: the array proof that a ring is simple (star-shaped about its vertex mean), and
the per-feature zoom from which rounding to a tile's pixels cannot fold it — checked against GEOS
on rings built to be awkward (slivers, spikes, tiny rings, both windings)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from gis.star_rings import HALF_DIAGONAL, WORLD_M, mercator, safe_zooms, star_simple


def _awkward_polygons(n: int = 2400, seed: int = 5) -> np.ndarray:
    """Valid one-ring polygons around the zone: stars, slivers, spiky non-stars and rings a few
    centimetres wide; every second one as a one-part MultiPolygon, some wound clockwise."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        i = len(out)
        cx, cy = 112.53 + rng.uniform(-0.05, 0.05), 33.0 + rng.uniform(-0.05, 0.05)
        k = int(rng.integers(3, 30))
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        kind = i % 4
        if kind == 0:
            r = rng.uniform(1e-6, 3e-4, k)
        elif kind == 1:  # slivers: a few metres wide at most
            r = 3e-4 * np.abs(np.cos(ang)) + 3e-4 * np.abs(np.sin(ang)) * rng.uniform(0.001, 0.05)
        elif kind == 2:  # deep notches: mostly not star-shaped about the vertex mean
            r = rng.uniform(0.2e-4, 3e-4, k)
            r[::2] *= rng.uniform(0.01, 0.3)
        else:  # centimetres
            r = rng.uniform(1e-7, 2e-6, k)
        pts = np.column_stack([cx + r * np.cos(ang), cy + r * np.sin(ang)])
        if i % 8 == 3:
            pts = pts[::-1]
        p = shapely.Polygon(pts)
        if p.is_valid and p.area > 0:
            out.append(shapely.MultiPolygon([p]) if i % 2 else p)
    return np.array(out, dtype=object)


def _ring_xy(g) -> np.ndarray:
    part = shapely.get_geometry(g, 0) if g.geom_type == "MultiPolygon" else g
    return mercator(shapely.get_coordinates(shapely.get_exterior_ring(part)))


def _signed_area(xy: np.ndarray) -> float:
    xy = xy - xy[0]  # grid coordinates reach 10^9 at zoom 21: products would lose the area
    return float(np.sum(xy[:-1, 0] * xy[1:, 1] - xy[1:, 0] * xy[:-1, 1]))


def test_rounding_at_or_beyond_the_safe_zoom_never_folds_a_ring():
    """Every zoom from a feature's safe zoom on, whatever the pixel grid's offset: the rounded
    ring is simple, keeps three distinct vertices and winds as before."""
    geoms = _awkward_polygons()
    zooms = safe_zooms(geoms)
    safe = np.nonzero(np.isfinite(zooms))[0]
    assert 300 < len(safe) < len(geoms)  # the corpus holds both kinds
    rng = np.random.default_rng(11)
    checked = 0
    for i in safe:
        xy = _ring_xy(geoms[i])
        sign = np.sign(_signed_area(xy))
        for z in range(int(zooms[i]), min(int(zooms[i]) + 3, 31)):
            p = WORLD_M / 4096 / 2**z
            for _ in range(3):
                q = np.round((xy + rng.uniform(0, p, 2)) / p)
                assert shapely.is_simple(shapely.linearrings(q)), (i, z)
                assert len(np.unique(q[:-1], axis=0)) >= 3, (i, z)
                assert np.sign(_signed_area(q)) == sign, (i, z)
                checked += 1
    assert checked > 2500


def test_a_thin_strip_is_vouched_for_only_where_its_pixels_are_finer_than_it():
    """A strip 0.3 m wide and 50 m long (a ditch parcel) collapses when z14's 0.6 m pixels round
    it, so its safe zoom lies beyond 14; a 56 m parcel is safe long before."""
    lat = 33.0
    dlat = 0.3 / 110_900  # ≈ 0.3 m
    strip = shapely.box(112.53, lat, 112.53 + 50 / 93_400, lat + dlat)
    parcel = shapely.box(112.53, lat, 112.5306, lat + 0.0005)
    z_strip, z_parcel = safe_zooms(np.array([strip, parcel], dtype=object))
    assert z_parcel <= 12
    assert 14 < z_strip <= 18
    xy = _ring_xy(strip)
    p = WORLD_M / 4096 / 2**14
    collapsed = [len(np.unique(np.round((xy + off) / p)[:-1], axis=0)) < 3 or not shapely.Polygon(np.round((xy + off) / p)).area
                 for off in np.random.default_rng(1).uniform(0, p, (20, 2))]
    assert any(collapsed)
    p = WORLD_M / 4096 / 2 ** int(z_strip)
    assert HALF_DIAGONAL * p < 0.15


def test_only_one_ring_polygons_that_are_star_shaped_get_a_zoom():
    box = shapely.box(112.53, 33.0, 112.531, 33.001)
    holed = shapely.Polygon(box.exterior.coords, [[(112.5302, 33.0002), (112.5304, 33.0002), (112.5304, 33.0004)]])
    two = shapely.MultiPolygon([box, shapely.box(112.54, 33.0, 112.541, 33.001)])
    # a thin L: its vertex mean lies outside the L's arms' reach, so it is not star-shaped about it
    notch = shapely.Polygon([(112.53, 33.0), (112.5310, 33.0), (112.5310, 33.0001), (112.53005, 33.0001), (112.53005, 33.0010), (112.53, 33.0010)])
    z = safe_zooms(np.array([box, shapely.MultiPolygon([box]), holed, two, notch, None, shapely.Polygon(), shapely.LineString([(0, 0), (1, 1)])], dtype=object))
    assert np.isfinite(z[0]) and z[0] == z[1]
    assert np.isnan(z[2:]).all()


def test_star_simple_only_vouches_for_simple_rings():
    geoms = _awkward_polygons(1600, seed=9)
    rng = np.random.default_rng(3)
    coords, counts, simple = [], [], []
    for g in geoms:
        xy = _ring_xy(g)
        q = np.round(xy / (WORLD_M / 4096 / 2 ** int(rng.integers(12, 20))))
        coords.append(q)
        counts.append(len(q))
        simple.append(shapely.is_simple(shapely.linearrings(q)) and len(np.unique(q[:-1], axis=0)) >= 3)
    # and some that are certainly not simple: bow ties
    for _ in range(50):
        a = rng.uniform(0, 100, 2)
        q = np.array([a, a + (10, 10), a + (10, 0), a + (0, 10), a], dtype=float)
        coords.append(q)
        counts.append(5)
        simple.append(False)
    star = star_simple(np.concatenate(coords), np.array(counts))
    simple = np.array(simple)
    assert not (star & ~simple).any()
    assert star.sum() > 200  # and it does vouch for many
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]], dtype=float)
    assert star_simple(square, np.array([5])).tolist() == [True]
    assert star_simple(square[::-1], np.array([5])).tolist() == [True]
    assert star_simple(np.zeros((3, 2)), np.array([3])).tolist() == [False]
    # a zero-width spike along a ray from the vertex mean (2.5, 0): its edges turn by nothing
    spike = np.array([[-30, 0], [-10, -10], [10, -10], [10, 0], [30, 0], [10, 0], [10, 10], [-10, 10], [-30, 0]], dtype=float)
    assert not shapely.is_simple(shapely.linearrings(spike))
    assert star_simple(spike, np.array([9])).tolist() == [False]
    # a pentagram turns the same way about its centre at every edge, but goes round it twice
    k = np.array([0, 2, 4, 1, 3, 0])
    pentagram = np.column_stack([np.cos(2 * np.pi * k / 5), np.sin(2 * np.pi * k / 5)]) * 1000
    assert star_simple(pentagram, np.array([6])).tolist() == [False]
    assert np.isnan(safe_zooms(np.array([shapely.Polygon(112.53 + pentagram / 1e7 + [0, 33])], dtype=object))).all()


@pytest.mark.parametrize("n", [0, 1])
def test_empty_inputs(n):
    assert safe_zooms(np.array([None] * n, dtype=object)).shape == (n,)
    assert star_simple(np.empty((0, 2)), np.zeros(0, dtype=np.int64)).shape == (0,)
