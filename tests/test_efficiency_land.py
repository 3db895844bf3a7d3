"""Land area from the industrial_parcels layer (SPEC §5.1): several parcels summed, a shared
parcel split by the areas given or equally, points placed in parcels, unknown ids reported."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis import crs as gcrs
from parcels.efficiency import parse_policy_text, score_enterprises

POLICY = parse_policy_text("""
name = "t"
[above_scale]
classing = "share"
classes = { A = 0.5, B = 0.5 }
[[above_scale.indicator]]
key = "tax_per_mu"
weight = 100
benchmark = 1
cap = 1000
""")


def square(lon, lat, side_deg):
    return shapely.box(lon, lat, lon + side_deg, lat + side_deg)


@pytest.fixture
def parcels():
    return gpd.GeoDataFrame({
        "id": ["P1", "P2", "P3", "P4"],
        "area_mu": [10.0, 6.0, 30.0, np.nan],  # P4: from the geometry
        "park": ["光电产业园", "光电产业园", "机械装备产业园", "机械装备产业园"],
        "district": ["卧龙区", "卧龙区", "宛城区", "宛城区"],
    }, geometry=[square(112.50, 33.00, 0.001), square(112.51, 33.00, 0.001), square(112.52, 33.00, 0.001),
                 square(112.53, 33.00, 0.002)], crs="EPSG:4490")


def _r(res):
    return res.results.set_index("enterprise_id")


def test_parcel_areas_summed_shared_and_from_geometry(parcels):
    t = pd.DataFrame({
        "enterprise_id": ["A", "B", "C", "D", "E", "F"],
        "above_scale": True,
        "parcel_id": ["P1;P2", "P3", "P3", "P3:12", "P4", "P9"],
        "land_area_mu": [None, None, None, None, None, None],
        "tax": [32.0, 10.0, 10.0, 10.0, 10.0, 10.0],
    })
    res = score_enterprises(t, POLICY, parcels=parcels)
    r = _r(res)
    # A: P1 + P2 = 16 亩 → tax/mu 2
    assert r.loc["A", "land_area_mu"] == pytest.approx(16.0)
    assert r.loc["A", "tax_per_mu"] == pytest.approx(2.0)
    # P3 (30 亩): D uses 12 亩 as given; B and C share the other 18 equally → 9 each
    assert r.loc["D", "land_area_mu"] == pytest.approx(12.0)
    assert r.loc["B", "land_area_mu"] == pytest.approx(9.0)
    assert r.loc["C", "land_area_mu"] == pytest.approx(9.0)
    assert "共用" in r.loc["B", "flags"]
    # E: P4 has no area_mu → ellipsoidal area of the geometry
    expected = float(gcrs.area_mu(np.array([parcels.geometry.iloc[3]]))[0])
    assert r.loc["E", "land_area_mu"] == pytest.approx(expected, rel=1e-9)
    # independent check: 0.002° × 0.002° at 33°N ≈ (0.002 × 111.32 km × cos 33°) × (0.002 × 110.9 km)
    rough_m2 = (0.002 * 111_320 * np.cos(np.radians(33.001))) * (0.002 * 110_900)
    assert expected == pytest.approx(rough_m2 * 15 / 10000, rel=0.01)  # ≈ 62 亩, never "degrees"
    # F: unknown parcel → unscorable with the reason
    assert pd.isna(r.loc["F", "class"]) and "P9" in r.loc["F", "flags"]
    links = res.links.set_index(["enterprise_id", "parcel_id"])["area_mu"]
    assert links[("A", "P1")] == pytest.approx(10.0) and links[("A", "P2")] == pytest.approx(6.0)


def test_table_areas_win_and_split_a_shared_parcel(parcels):
    t = pd.DataFrame({
        "enterprise_id": ["G", "H", "I"],
        "above_scale": True,
        "parcel_id": ["P1", "P1", "P2"],
        "land_area_mu": [4.0, None, 5.0],
        "tax": [8.0, 12.0, 10.0],
    })
    r = _r(score_enterprises(t, POLICY, parcels=parcels))
    # P1 = 10 亩: G gave 4 → H gets the remaining 6; I keeps its table value 5 (not P2's 6)
    assert r.loc["G", "land_area_mu"] == pytest.approx(4.0)
    assert r.loc["H", "land_area_mu"] == pytest.approx(6.0)
    assert r.loc["I", "land_area_mu"] == pytest.approx(5.0)


def test_equal_split_when_no_area_given(parcels):
    t = pd.DataFrame({"enterprise_id": ["J", "K", "L"], "above_scale": True, "parcel_id": ["P3", "P3", "P3"],
                      "tax": [1.0, 2.0, 3.0]})
    r = _r(score_enterprises(t, POLICY, parcels=parcels))
    assert r["land_area_mu"].tolist() == pytest.approx([10.0, 10.0, 10.0])
    assert all("均分" in f for f in r["flags"])


def test_point_inside_a_parcel_gives_its_area_and_park(parcels):
    t = pd.DataFrame({"enterprise_id": ["M", "N"], "above_scale": True, "lon": [112.5105, 112.70], "lat": [33.0005, 33.0],
                      "tax": [12.0, 1.0]})
    res = score_enterprises(t, POLICY, parcels=parcels)
    r = _r(res)
    assert r.loc["M", "land_area_mu"] == pytest.approx(6.0)  # inside P2
    assert pd.isna(r.loc["N", "land_area_mu"]) and pd.isna(r.loc["N", "class"])
    d = res.details.set_index("enterprise_id")
    assert d.loc["M", "park"] == "光电产业园" and d.loc["M", "land_source"] == "point"


def test_per_park_and_district_summary(parcels):
    t = pd.DataFrame({"enterprise_id": ["A", "B", "C"], "above_scale": True, "parcel_id": ["P1", "P2", "P3"],
                      "tax": [20.0, 6.0, 30.0], "revenue": [100.0, 60.0, 300.0]})
    res = score_enterprises(t, POLICY, parcels=parcels)
    s = res.summary("park").set_index("park")
    # 光电产业园: A (10 亩, tax 20) + B (6 亩, tax 6) → land 16, tax 26, 亩均税收 26/16
    assert s.loc["光电产业园", "land_area_mu"] == pytest.approx(16.0)
    assert s.loc["光电产业园", "tax"] == pytest.approx(26.0)
    assert s.loc["光电产业园", "tax_per_mu"] == pytest.approx(26 / 16)
    assert s.loc["机械装备产业园", "revenue_per_mu"] == pytest.approx(10.0)
    # classes: totals A 200, B 100, C 100 → n 3, A boundary floor(2) = 2 → A, and B/C tied at
    # position 2 → both A; so every park counts only A
    assert s.loc["光电产业园", "class_A"] == 2 and s.loc["机械装备产业园", "class_A"] == 1
    assert s.loc["机械装备产业园", "parcel_land_mu"] > 30  # P3 30 亩 + P4 from geometry
    cc = res.class_counts("district")
    assert cc.loc["卧龙区", "A"] == 2 and cc.loc["宛城区", "B"] == 0
