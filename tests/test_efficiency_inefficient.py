"""低效用地 screen (SPEC §5.4): class, floor-area ratio, tax per mu, idle, 达产复核 failures."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis import crs as gcrs
from parcels.efficiency import InefficientInputError, find_inefficient_land, parse_policy_text, score_enterprises

POLICY = parse_policy_text("""
name = "t"
[above_scale]
classing = "share"
classes = { A = 0.25, B = 0.5, C = 0.0, D = 0.25 }
[[above_scale.indicator]]
key = "tax_per_mu"
weight = 100
benchmark = "mean"
cap = 5
[inefficient]
classes = ["D"]
idle = true
floor_area_ratio_below = 0.5
tax_per_mu_share_of_mean_below = 0.5
unverified = ["floor_area_ratio_below", "tax_per_mu_share_of_mean_below"]
""")


@pytest.fixture
def parcels():
    geoms = [shapely.box(112.50 + 0.01 * i, 33.0, 112.501 + 0.01 * i, 33.001) for i in range(6)]
    return gpd.GeoDataFrame({
        "id": ["Q1", "Q2", "Q3", "Q4", "Q5", "Q6"],
        "area_mu": [10.0, 10.0, 10.0, 10.0, 8.0, np.nan],
        "floor_area_ratio": [1.5, np.nan, 0.9, 0.8, 0.3, 1.2],
        "idle": [False, False, False, False, False, True],
        "park": ["光电产业园"] * 6,
        "district": ["卧龙区"] * 6,
    }, geometry=geoms, crs="EPSG:4490")


@pytest.fixture
def result(parcels):
    t = pd.DataFrame({"enterprise_id": ["X1", "X2", "X3", "X4"], "above_scale": True,
                      "parcel_id": ["Q1", "Q2", "Q3", "Q4"], "tax": [200.0, 100.0, 80.0, 10.0]})
    return score_enterprises(t, POLICY, parcels=parcels)


def test_inefficient_parcels_and_reasons(parcels, result):
    # tax per mu 20, 10, 8, 1; zone mean 390/40 = 9.75 → half 4.875 → Q4.
    # n 4, boundaries 1, 3, 3, 4 → X1 A, X2 B, X3 B, X4 D → Q4 again.
    r = result.results.set_index("enterprise_id")
    assert r["class"].to_dict() == {"X1": "A", "X2": "B", "X3": "B", "X4": "D"}
    fails = pd.DataFrame({"parcel_id": ["Q2"], "reason": ["投资强度未达到承诺值"]})
    out = find_inefficient_land(parcels, result, POLICY, extra_failures=fails)
    assert isinstance(out, gpd.GeoDataFrame)
    assert list(out["parcel_id"]) == ["Q2", "Q4", "Q5", "Q6"]
    o = out.set_index("parcel_id")
    assert "D类" in o.loc["Q4", "reason"] and "亩均税收" in o.loc["Q4", "reason"]
    assert "达产复核" in o.loc["Q2", "reason"] and "投资强度" in o.loc["Q2", "reason"]
    assert "容积率" in o.loc["Q5", "reason"] and "未核实" in o.loc["Q5", "reason"]
    assert bool(o.loc["Q5", "provisional"]) and not bool(o.loc["Q6", "provisional"])
    assert "闲置" in o.loc["Q6", "reason"]
    assert o.loc["Q4", "area_mu"] == pytest.approx(10.0)
    assert o.loc["Q4", "area_m2"] == pytest.approx(10.0 * 10000 / 15)
    # Q6 has no area_mu: the ellipsoidal area of its geometry
    m2 = float(gcrs.plane_area_m2(np.array([parcels.geometry.iloc[5]]))[0])
    assert o.loc["Q6", "area_m2"] == pytest.approx(m2) and o.loc["Q6", "area_mu"] == pytest.approx(m2 * 15 / 10000)
    assert out.crs.to_epsg() == 4490 and out.geometry.notna().all()


def test_without_a_result_only_parcel_rules_apply(parcels):
    out = find_inefficient_land(parcels, None, POLICY)
    assert list(out["parcel_id"]) == ["Q5", "Q6"]


def test_unknown_parcel_in_failures_is_refused(parcels, result):
    with pytest.raises(InefficientInputError) as e:
        find_inefficient_land(parcels, result, POLICY, extra_failures=pd.DataFrame({"parcel_id": ["QX"], "reason": ["x"]}))
    assert "QX" in str(e.value)


def test_henan_policy_flags_class_c(parcels):
    from parcels.efficiency import load_policy

    pol = load_policy("henan_2019")
    assert pol.inefficient.classes == ("C",)
