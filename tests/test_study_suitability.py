"""Suitability (SPEC §7): criteria, weighted overlay, 连片成块 blocks, ranking by the weights, selection."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine

from gis.raster import Grid
from parcels.sample.rasters import LANDCOVER_CODES
from parcels.study.scenario import load_scenario
from parcels.study.suitability import (
    M2_PER_MU,
    block_statistics,
    criteria_scores,
    delineate_blocks,
    rank_blocks,
    weighted_overlay,
)
from parcels.study.takeover import buildable, grow, pieces_of

X0, Y1, CELL = 640000.0, 3650000.0, 30.0


def grid(w=100, h=100) -> Grid:
    return Grid(Affine(CELL, 0, X0, 0, -CELL, Y1), w, h, "EPSG:4546")


def params(**kw):
    return dataclasses.replace(load_scenario().suitability, **kw)


def test_weighted_overlay_normalises_and_masks():
    a = np.full((2, 2), 1.0, np.float32)
    b = np.zeros((2, 2), np.float32)
    scores = {"slope": a, "landcover": b, "roads": b, "adjacency": b, "parks": b}
    out = weighted_overlay(scores, {"slope": 3, "roads": 1}, np.array([[0, 1], [0, 0]], np.uint8))
    assert out[0, 0] == pytest.approx(0.75) and np.isnan(out[0, 1])


def test_criteria_exclude_water_steep_land_and_the_zone():
    g = grid(60, 60)
    x, y = g.centres()
    dem = np.full(g.shape, 120.0, np.float32)
    dem[:, 40:] = 120 + (x[:, 40:] - x[0, 40]) * np.tan(np.radians(30))  # a steep slope on the east
    lc = np.full(g.shape, LANDCOVER_CODES["cropland"], np.uint8)
    lc[5:8, 5:20] = LANDCOVER_CODES["water"]
    zone = shapely.box(X0 + 600, Y1 - 1200, X0 + 900, Y1 - 900)
    road = shapely.LineString([(X0, Y1 - 1500), (X0 + 1800, Y1 - 1500)])
    park = shapely.box(X0 + 100, Y1 - 300, X0 + 200, Y1 - 200)
    scores, slope, excluded = criteria_scores(dem, lc, g, roads=[road], zone=[zone], parks=[park], params=params(max_slope_deg=15))
    assert np.all(excluded[5:8, 5:20] == 1)
    assert np.all(excluded[10:, 42:58] == 2)
    r, c = ~g.transform @ (X0 + 750, Y1 - 1050)
    assert excluded[int(c), int(r)] == 3
    assert excluded[40, 10] == 0
    assert scores["landcover"][40, 10] == pytest.approx(load_scenario().suitability.landcover_scores["cropland"])
    # distance criteria fall with distance: a cell on the road scores higher than one far away
    row_on_road = int(1500 / CELL)
    assert scores["roads"][row_on_road, 10] > scores["roads"][0, 10]
    assert scores["parks"][8, 5] > scores["parks"][55, 35]
    assert float(scores["slope"][20, 10]) == pytest.approx(1.0)


def test_blocks_keep_contiguous_land_of_minimum_size_and_split_on_the_grid():
    g = grid(150, 150)  # 4.5 km square
    score = np.zeros(g.shape, np.float32)
    score[10:110, 10:110] = 0.9  # 3 km × 3 km = 13 500 亩, crosses the 2 km planning grid
    score[130:134, 130:134] = 0.9  # 16 cells ≈ 21.6 亩: too small
    score[60, 60] = np.nan  # an excluded cell inside does not break the rule
    blocks = delineate_blocks(score, g, params(threshold=0.5, min_block_mu=300, block_grid_m=2000))
    areas_mu = shapely.area(np.asarray(blocks.geometry.values)) / M2_PER_MU
    assert len(blocks) >= 2, "one 3 km region is split along the 2 km grid"
    assert np.all(areas_mu >= 300)
    big = shapely.box(X0 + 300, Y1 - 3300, X0 + 3300, Y1 - 300)
    assert shapely.union_all(np.asarray(blocks.geometry.values)).difference(big).area < 1e-6
    assert list(blocks["block_id"]) == [f"CB-{i:03d}" for i in range(1, len(blocks) + 1)]
    none = delineate_blocks(np.zeros(g.shape, np.float32), g, params())
    assert len(none) == 0


def _two_blocks_world():
    """Block A beside a road, block B beside a park; everything else equal."""
    g = grid(100, 60)
    a = shapely.box(X0 + 300, Y1 - 1500, X0 + 1200, Y1 - 300)
    b = shapely.box(X0 + 1800, Y1 - 1500, X0 + 2700, Y1 - 300)
    x, y = g.centres()
    roads = np.where(x < X0 + 1500, 0.9, 0.3).astype(np.float32)
    parks = np.where(x < X0 + 1500, 0.35, 0.95).astype(np.float32)
    ones = np.ones(g.shape, np.float32)
    criteria = {"slope": ones, "landcover": ones * 0.5, "roads": roads, "adjacency": ones * 0.8, "parks": parks}
    blocks = gpd.GeoDataFrame({"block_id": ["CB-001", "CB-002"]}, geometry=[a, b], crs="EPSG:4546")
    stats = block_statistics(blocks, g, criteria, np.zeros(g.shape, np.float32), np.full(g.shape, 1, np.uint8))
    stats["area_mu"] = shapely.area(np.asarray(blocks.geometry.values)) / M2_PER_MU
    return stats


def test_changing_one_weight_changes_the_ranking_the_way_it_says():
    stats = _two_blocks_world()
    # exactextract means are the criterion values over each block
    assert stats.set_index("block_id").loc["CB-001", "score_roads"] == pytest.approx(0.9)
    assert stats.set_index("block_id").loc["CB-002", "score_parks"] == pytest.approx(0.95)
    base = {"slope": 0.15, "landcover": 0.15, "roads": 0.3, "adjacency": 0.3, "parks": 0.1}
    r1 = rank_blocks(stats, base).set_index("block_id")["rank"]
    assert r1["CB-001"] == 1, "with roads weighted high, the block by the road leads"
    more_parks = dict(base, parks=0.6)
    r2 = rank_blocks(stats, more_parks).set_index("block_id")["rank"]
    assert r2["CB-002"] == 1, "raising the parks weight lifts the block by the park"
    # monotone: raising a criterion's weight never lowers the block that scores best on it
    for w in np.linspace(0.0, 2.0, 9):
        ranks = rank_blocks(stats, dict(base, parks=w)).set_index("block_id")["rank"]
        if w >= 0.6:
            assert ranks["CB-002"] == 1
    # suitability is the weighted sum of the criterion means
    s = rank_blocks(stats, base).set_index("block_id")
    row = s.loc["CB-001"]
    total = sum(base.values())
    assert row["suitability"] == pytest.approx(sum(base[k] / total * row[f"score_{k}"] for k in base))


def _units(boxes: dict[str, shapely.Polygon], ranks: dict[str, int]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"unit_id": list(boxes), "name": list(boxes), "parent": "", "rank": [ranks[k] for k in boxes]},
                            geometry=list(boxes.values()), crs="EPSG:4546")


def test_growth_starts_at_the_zone_and_goes_only_through_touching_land():
    zone = shapely.box(0, 0, 1000, 1000)
    units = _units({
        "A": shapely.box(1000, 0, 2000, 1000),  # touches the zone
        "B": shapely.box(2000, 0, 3000, 1000),  # touches only A
        "C": shapely.box(5000, 5000, 6000, 6000),  # best ranked but isolated
        "D": shapely.box(0, 1000, 1000, 2000),  # touches the zone
    }, {"A": 3, "B": 2, "C": 1, "D": 4})
    b = buildable(units, zone=zone, exclude=None)
    out = grow(pieces_of(b), zone, 2.5e6, prefer_plan=False).set_index("unit_id")
    assert not out.loc["C", "selected"]
    assert out.loc["A", "selection_order"] == 1 and out.loc["B", "selection_order"] == 2 and out.loc["D", "selection_order"] == 3
    # sized by the target: 2.5 km² = A + B + half of D, the half nearest the zone
    assert out["taken_m2"].sum() == pytest.approx(2.5e6, rel=2e-3)
    d = out.loc["D", "taken_geom"]
    assert d.area == pytest.approx(0.5e6, rel=5e-3) and d.bounds[3] <= 1500 + 1
    taken = shapely.union_all([zone] + [g for g in out["taken_geom"] if g is not None])
    assert taken.geom_type == "Polygon", "one contiguous area with the zone"


def test_protected_land_is_cut_out_not_weighed_and_can_cut_a_unit_off():
    zone = shapely.box(0, 0, 1000, 1000)
    units = _units({"A": shapely.box(1000, 0, 3000, 1000), "B": shapely.box(0, 1000, 1000, 2000)}, {"A": 1, "B": 2})
    farmland = shapely.box(1400, -10, 1600, 1010)  # a strip across A: its east part no longer touches the zone
    b = buildable(units, zone=zone, exclude=farmland)
    assert b.set_index("unit_id").loc["A", "excluded_m2"] == pytest.approx(200 * 1000)
    out = grow(pieces_of(b), zone, 5e6, prefer_plan=False)
    taken = shapely.union_all([g for g in out["taken_geom"] if g is not None])
    assert taken.intersection(farmland).area == 0
    # A's west piece (0.4 km²) and B (1 km²) are reachable; A's east piece beyond the farmland is not
    assert taken.area == pytest.approx(0.4e6 + 1e6)
    assert shapely.union_all([zone, taken]).geom_type == "Polygon"


def test_the_plan_area_comes_first_when_the_scenario_prefers_it():
    zone = shapely.box(0, 0, 1000, 1000)
    units = _units({"N": shapely.box(0, 1000, 1000, 2000), "S": shapely.box(0, -1000, 1000, 0)}, {"N": 1, "S": 2})
    plan = shapely.box(-100, -1100, 1100, 0)
    b = pieces_of(buildable(units, zone=zone, exclude=None))

    def first(out) -> str:
        return out.loc[out["selection_order"] == 1, "unit_id"].iloc[0]

    assert first(grow(b, zone, 1e6, plan_area=plan, prefer_plan=True)) == "S"
    assert first(grow(b, zone, 1e6, plan_area=plan, prefer_plan=False)) == "N"
