"""Land balance (SPEC §7) reproduced from first principles, and scenario validation."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gis.errors import InputError
from parcels.study.balance import BalanceInputError, land_balance
from parcels.study.scenario import ScenarioError, load_scenario, merge, parse_scenario, scenario_from_dict

SMALL = {
    "name": "测试情景",
    "base_year": 2020,
    "target_year": 2022,
    "baseline": {"revenue_total_yi": 18, "above_scale_enterprises": 10},
    "targets": {"revenue_total_yi": 40, "above_scale_enterprises": 12},
    "assumptions": {
        "revenue_per_mu_growth": 0.1,
        "reserve_uses": ["工业", "仓储"],
        "reserve_supply_share": 1.0,
        "inefficient_recycle_share": 0.5,
        "expansion_industrial_share": 0.5,
    },
    "demand": {"decide_by": ["revenue", "enterprises"]},
    "supply": {"zhongguancun_available_mu": 0},
}


def frames():
    industrial = pd.DataFrame({"id": ["P1", "P2", "P3"], "area_mu": [100.0, 200.0, 300.0]})
    enterprises = pd.DataFrame({"enterprise_id": ["E1", "E2"], "revenue": [30000.0, 60000.0], "above_scale": [True, True], "land_area_mu": [100.0, 200.0]})
    reserve = pd.DataFrame(
        {"id": ["R1", "R2", "R3"], "use": ["工业", "仓储", "居住"], "area_mu": [50.0, 30.0, 70.0], "status": ["计划报批", "已供地", "计划报批"]}
    )
    inefficient = pd.DataFrame({"parcel_id": ["P1", "P1"], "area_mu": [100.0, 100.0]})  # duplicate row counted once
    return industrial, enterprises, reserve, inefficient


def test_balance_arithmetic_from_first_principles():
    sc = scenario_from_dict(SMALL)
    industrial, enterprises, reserve, inefficient = frames()
    candidates = pd.DataFrame({"area_mu": [400.0, 600.0], "selected": [True, False]})
    b = land_balance(sc, industrial_parcels=industrial, enterprises=enterprises, reserve_parcels=reserve, inefficient=inefficient, candidates=candidates)
    v = b.values
    # Hand computation: L0 = 600 亩, revenue 90 000 万元 → r0 = 150 万元/亩; share = 90 000 / 180 000 = 0.5
    assert v["existing_land_mu"] == pytest.approx(600)
    assert v["base_revenue_per_mu"] == pytest.approx(150)
    assert v["industrial_revenue_share"] == pytest.approx(0.5)
    # rT = 150 × 1.1² = 181.5; R_ind = 40 亿 × 0.5 = 200 000 万元; L_eff = 600 − 100 = 500
    assert v["target_revenue_per_mu"] == pytest.approx(181.5)
    assert v["target_industrial_revenue_wan"] == pytest.approx(200000)
    assert v["inefficient_land_mu"] == pytest.approx(100)
    assert v["effective_land_mu"] == pytest.approx(500)
    # gap = 200 000 − 500 × 181.5 = 109 250; D_rev = 109 250 / 181.5
    assert v["revenue_gap_wan"] == pytest.approx(109250)
    assert v["demand_by_revenue_mu"] == pytest.approx(109250 / 181.5)
    # 2 new 规上 firms × mean land 150 亩 = 300 亩; the larger of the two deciding methods → D_rev (≈ 601.93)
    assert v["demand_by_enterprises_mu"] == pytest.approx(300)
    assert v["demand_mu"] == pytest.approx(109250 / 181.5)
    # supply: 工业 50 (仓储 30 already supplied, 居住 not counted) + 100 × 0.5 recycled
    assert v["reserve_supply_mu"] == pytest.approx(50)
    assert v["recycled_supply_mu"] == pytest.approx(50)
    assert v["expansion_need_mu"] == pytest.approx(109250 / 181.5 - 100)
    assert v["expansion_need_gross_mu"] == pytest.approx((109250 / 181.5 - 100) / 0.5)
    assert v["selected_area_mu"] == pytest.approx(400)
    assert v["expansion_supply_mu"] == pytest.approx(200)
    assert v["balance_mu"] == pytest.approx(100 + 200 - 109250 / 181.5)
    by_use = b.supply_by_use.set_index("用途")
    assert by_use.loc["仓储", "未供面积(亩)"] == 0
    assert by_use.loc["居住", "计入工业用地供给"] == "否"
    table = b.table()
    assert list(table.columns) == ["代码", "项目", "数值", "单位", "计算方法与来源"]


def test_demand_methods_and_explicit_assumptions():
    industrial, enterprises, reserve, inefficient = frames()
    data = merge(SMALL, {"demand": {"decide_by": ["enterprises"]}, "assumptions": {"land_per_new_enterprise_mu": 80, "new_land_revenue_per_mu": 400,
                                         "industrial_revenue_share": 0.25}})
    v = land_balance(scenario_from_dict(data), industrial_parcels=industrial, enterprises=enterprises, reserve_parcels=reserve, inefficient=None).values
    assert v["demand_mu"] == pytest.approx(2 * 80)
    assert v["inefficient_land_mu"] == 0
    # share 0.25: R_ind = 100 000; gap = 100 000 − 600 × 181.5 < 0 → 0
    assert v["revenue_gap_wan"] == 0
    assert v["demand_by_revenue_mu"] == 0
    assert "expansion_supply_mu" not in v
    assert v["balance_mu"] == pytest.approx(50 - 160)


def test_area_from_geometry_when_missing():
    """A parcel without area_mu is measured on the ellipsoid (EPSG:4546), not dropped."""
    sc = scenario_from_dict(SMALL)
    _, enterprises, reserve, _ = frames()
    lon, lat = 112.53, 32.99
    square = shapely.box(lon, lat, lon + 0.003, lat + 0.003)
    industrial = gpd.GeoDataFrame({"id": ["P1", "P2"], "area_mu": [None, 100.0]}, geometry=[square, square], crs=4490)
    v = land_balance(sc, industrial_parcels=industrial, enterprises=enterprises, reserve_parcels=reserve).values
    from gis.crs import area_mu

    assert v["existing_land_mu"] == pytest.approx(100 + area_mu([square])[0])


def test_bad_inputs_are_refused_in_chinese():
    sc = scenario_from_dict(SMALL)
    industrial, enterprises, reserve, _ = frames()
    with pytest.raises(BalanceInputError, match="revenue"):
        land_balance(sc, industrial_parcels=industrial, enterprises=enterprises.drop(columns="revenue"), reserve_parcels=reserve)
    no_area = pd.DataFrame({"id": ["P1"], "area_mu": [None]})
    with pytest.raises(BalanceInputError) as exc:
        land_balance(sc, industrial_parcels=no_area, enterprises=enterprises, reserve_parcels=reserve)
    assert exc.value.errors[0].feature_id == "P1" and "面积" in str(exc.value)
    negative = enterprises.assign(revenue=[-1.0, 5.0])
    with pytest.raises(BalanceInputError, match="第1行"):
        land_balance(sc, industrial_parcels=industrial, enterprises=negative, reserve_parcels=reserve)
    too_small = scenario_from_dict(merge(SMALL, {"baseline": {"revenue_total_yi": 1}}))
    with pytest.raises(BalanceInputError, match="industrial_revenue_share"):
        land_balance(too_small, industrial_parcels=industrial, enterprises=enterprises, reserve_parcels=reserve)
    assert issubclass(BalanceInputError, ValueError)


def test_default_scenario_quotes_table1():
    sc = load_scenario()
    # 表1: 营业总收入 350 → 1000 亿元; 规上工业企业 77 → 145 家; 2020 → 2025
    assert (sc.base_year, sc.target_year) == (2020, 2025)
    assert sc.baseline["revenue_total_yi"] == 350 and sc.targets["revenue_total_yi"] == 1000
    assert sc.baseline["above_scale_enterprises"] == 77 and sc.targets["above_scale_enterprises"] == 145
    assert sc.suitability.expansion_target_km2 == 50  # 专栏9
    assert "表1" in sc.source


def test_scenario_errors_name_every_bad_key():
    bad = merge(SMALL, {"target_year": 2019, "assumptions": {"revenue_per_mu_growht": 0.1, "reserve_supply_share": 1.5},
                        "suitability": {"weights": {"slope": -1, "roads": 0, "adjacency": 0, "parks": 0, "landcover": 0}}})
    with pytest.raises(ScenarioError) as exc:
        scenario_from_dict(bad)
    fields = {e.field for e in exc.value.errors}
    assert {"target_year", "assumptions.revenue_per_mu_growht", "assumptions.reserve_supply_share", "suitability.weights.slope"} <= fields
    assert isinstance(exc.value, InputError) and "错误" in str(exc.value)
    with pytest.raises(ScenarioError, match="TOML"):
        parse_scenario("name = ")
    with pytest.raises(ScenarioError, match="找不到"):
        load_scenario("/nonexistent/x.toml")
    with pytest.raises(ScenarioError, match="landcover"):
        scenario_from_dict(merge(SMALL, {"suitability": {"landcover": {"exclude": ["lava"]}}}))


def test_overrides_merge_into_the_file():
    sc = load_scenario(None, overrides={"assumptions": {"revenue_per_mu_growth": 0.08}, "suitability": {"weights": {"roads": 0.5}}})
    assert sc.assumptions.revenue_per_mu_growth == 0.08
    assert sc.suitability.weights["roads"] == 0.5
    assert sc.suitability.weights["adjacency"] == load_scenario().suitability.weights["adjacency"]


def test_each_piece_of_land_is_counted_once():
    """A reserve parcel overlapping existing industrial land adds only the part outside it; two
    reserve parcels overlapping each other count once; reserve parcels inside 中关村 are part of
    the 中关村 available land, not added again (SPEC §7)."""
    from gis.crs import area_mu

    lon, lat, d = 112.50, 32.95, 0.004
    r1 = shapely.box(lon, lat, lon + 2 * d, lat + d)
    r2 = shapely.box(lon + 1.5 * d, lat, lon + 2.5 * d, lat + d)  # half of it lies in r1
    r3 = shapely.box(lon + 10 * d, lat, lon + 11 * d, lat + d)  # inside the park
    p1 = shapely.box(lon + d, lat, lon + 3 * d, lat + d)  # existing industrial land under r1's east half and all of r2
    park = shapely.box(lon + 9 * d, lat - d, lon + 12 * d, lat + 2 * d)
    reserve = gpd.GeoDataFrame({"id": ["R1", "R2", "R3"], "name": ["a", "b", "c"], "use": ["工业", "工业", "工业"], "status": ["计划报批"] * 3},
                               geometry=[r1, r2, r3], crs=4490)
    industrial = gpd.GeoDataFrame({"id": ["P1"]}, geometry=[p1], crs=4490)
    parks = gpd.GeoDataFrame({"name": ["中关村科技产业园"]}, geometry=[park], crs=4490)
    _, enterprises, _, _ = frames()
    sc = scenario_from_dict(merge(SMALL, {"supply": {"zhongguancun_available_mu": 1000, "zhongguancun_industrial_share": 0.5}}))
    b = land_balance(sc, industrial_parcels=industrial, enterprises=enterprises, reserve_parcels=reserve, park_zones=parks)
    v = b.values
    a = lambda g: float(area_mu([g])[0])
    overlap = a(r1.intersection(p1)) + a(r2.intersection(p1))
    assert v["reserve_overlap_industrial_mu"] == pytest.approx(overlap, rel=1e-6)
    # what is left outside the existing land and outside 中关村: r1's west half only (r2 lies wholly on P1)
    assert v["reserve_supply_mu"] == pytest.approx(a(r1.difference(p1)), rel=1e-6)
    assert v["zhongguancun_supply_mu"] == pytest.approx(500)  # r3 is part of the 500, not added to it
    rows = b.reserve.set_index("id")
    assert bool(rows.loc["R3", "in_zhongguancun"]) and not bool(rows.loc["R1", "in_zhongguancun"])
    assert v["planned_supply_mu"] == pytest.approx(a(r1.difference(p1)) + 500)
