"""低效用地 screen (SPEC §5.4): class, floor-area ratio, tax per mu, idle, 达产复核 failures."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis import crs as gcrs
from parcels.efficiency import InefficientInputError, find_inefficient_land, parse_policy_text, score_enterprises
from parcels.efficiency.years import score_years

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


def _table(year: int) -> pd.DataFrame:
    return pd.DataFrame({"enterprise_id": ["X1", "X2", "X3", "X4"], "above_scale": True, "year": year,
                         "parcel_id": ["Q1", "Q2", "Q3", "Q4"], "tax": [200.0, 100.0, 80.0, 10.0]})


@pytest.fixture
def result(parcels):
    """Two years alike: X4 is in the lowest class (D) in 2023 and 2024."""
    return score_years(pd.concat([_table(2023), _table(2024)], ignore_index=True), POLICY, parcels=parcels)


def test_inefficient_parcels_and_reasons(parcels, result):
    # tax per mu 20, 10, 8, 1; 规上 benchmark 390/40 = 9.75 → half 4.875 → Q4.
    # n 4, boundaries 1, 3, 3, 4 → X1 A, X2 B, X3 B, X4 D, two years in a row → Q4 again.
    r = result.latest.results.set_index("enterprise_id")
    assert r["class"].to_dict() == {"X1": "A", "X2": "B", "X3": "B", "X4": "D"}
    assert r["consecutive_low"].to_dict() == {"X1": 0, "X2": 0, "X3": 0, "X4": 2}
    fails = pd.DataFrame({"parcel_id": ["Q2"], "reason": ["投资强度未达到承诺值"]})
    out = find_inefficient_land(parcels, result, POLICY, extra_failures=fails)
    assert isinstance(out, gpd.GeoDataFrame)
    assert list(out["parcel_id"]) == ["Q2", "Q4", "Q5", "Q6"]
    o = out.set_index("parcel_id")
    assert "连续 2 年" in o.loc["Q4", "reason"] and "D 类" in o.loc["Q4", "reason"] and "亩均税收" in o.loc["Q4", "reason"]
    assert "规则" in o.loc["Q4", "reason"] and "来源" in o.loc["Q4", "reason"]
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


def test_one_year_in_the_lowest_class_is_not_enough(parcels):
    one = score_enterprises(_table(2024), POLICY, parcels=parcels)
    out = find_inefficient_land(parcels, one, POLICY).set_index("parcel_id")
    assert "连续" not in out.loc["Q4", "reason"]  # only the tax screen fires for Q4
    assert "亩均税收" in out.loc["Q4", "reason"]


def test_idle_land_from_the_ledger_is_listed(parcels):
    idle = pd.DataFrame({"parcel_id": ["Q1"], "reason": ["动工开发日期满一年未动工"]})
    out = find_inefficient_land(parcels, None, POLICY, idle=idle).set_index("parcel_id")
    assert "闲置土地：动工开发日期满一年未动工" in out.loc["Q1", "reason"]
    with pytest.raises(InefficientInputError):
        find_inefficient_land(parcels, None, POLICY, idle=pd.DataFrame({"parcel_id": ["QX"], "reason": ["x"]}))


TWO_GROUPS = parse_policy_text("""
name = "t2"
[above_scale]
classing = "share"
classes = { A = 0.25, B = 0.5, C = 0.0, D = 0.25 }
[[above_scale.indicator]]
key = "tax_per_mu"
weight = 100
benchmark = "mean"
cap = 5
[below_scale]
classing = "share"
classes = { A = 0.25, B = 0.5, C = 0.0, D = 0.25 }
[[below_scale.indicator]]
key = "tax_per_mu"
weight = 100
benchmark = "mean"
cap = 5
[inefficient]
classes = ["D"]
tax_per_mu_share_of_mean_below = 0.5
""")


def _two_groups(year: int, y3_tax: float = 12.0) -> pd.DataFrame:
    return pd.DataFrame({
        "enterprise_id": ["X1", "X2", "X3", "X5", "Y1", "Y2", "Y3", "Y4"], "year": year,
        "above_scale": [True] * 4 + [False] * 4,
        "parcel_id": ["Q1", "Q2", "Q2", "Q1", "Q4", "Q4", "Q3", "Q4"],
        "land_area_mu": [5.0] * 4 + [10.0] * 4,
        "tax": [500.0, 300.0, 200.0, 1.0, 30.0, 25.0, y3_tax, 24.0]})


def test_top_two_classes_shield_their_parcel(parcels):
    """X1 (A) shares Q1 with X5, in the lowest class two years in a row: Q1 is never listed on
    economic grounds, though X5 alone would be on both rules."""
    res = score_years(pd.concat([_two_groups(2023), _two_groups(2024)], ignore_index=True), TWO_GROUPS, parcels=parcels)
    r = res.latest.results.set_index("enterprise_id")
    assert r.loc["X1", "class"] == "A" and r.loc["X5", "class"] == "D" and r.loc["X5", "consecutive_low"] == 2
    out = find_inefficient_land(parcels, res, TWO_GROUPS).set_index("parcel_id")
    assert "Q1" not in out.index
    alone = _two_groups(2024).replace({"parcel_id": {"Q1": "Q5"}}).assign(parcel_id=lambda t: t["parcel_id"].where(t["enterprise_id"] != "X1", "Q1"))
    res2 = score_years(pd.concat([alone.assign(year=2023), alone], ignore_index=True), TWO_GROUPS, parcels=parcels)
    assert "连续 2 年" in find_inefficient_land(parcels, res2, TWO_GROUPS).set_index("parcel_id").loc["Q5", "reason"]


@pytest.mark.parametrize(("y3_tax", "listed"), [(12.0, False), (5.0, True)])
def test_below_scale_is_compared_with_below_scale(parcels, y3_tax, listed):
    """Y3 (规下, D in one year) pays 1.2 万元/亩: under half the zone mean (≈ 18) but not under half
    the 规下 benchmark (91/40 ≈ 2.28 → 1.14), so its parcel Q3 is not 低效; at 0.5 it is."""
    res = score_enterprises(_two_groups(2024, y3_tax), TWO_GROUPS, parcels=parcels)
    assert res.results.set_index("enterprise_id").loc["Y3", "class"] == "D"
    out = find_inefficient_land(parcels, res, TWO_GROUPS).set_index("parcel_id")
    assert ("Q3" in out.index) is listed
    if listed:
        assert "规下企业基准" in out.loc["Q3", "reason"] and "连续" not in out.loc["Q3", "reason"]


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
