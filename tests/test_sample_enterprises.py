"""The calibrated synthetic enterprise set (parcels/sample/enterprises.py, SPEC §3.4).

The plan's 2020 figures are typed in here from the plan text (chapter 一 and Table 1), not taken
from the module, so a wrong constant there fails here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import geopandas as gpd
import pytest
import shapely
from pyproj import Geod, Transformer

from gis.crs import plane_area_m2, reproject
from parcels.schema import ENTERPRISES, INDUSTRIAL_PARCELS
from parcels.sample.enterprises import SampleDataError, generate_enterprises

# --- the plan, 2020 (亿元 → 万元 × 10 000) ---------------------------------------------------------
PLAN_OUTPUT = 198.6 * 10_000  # 规上工业总产值 198.6 亿元
PLAN_VA = 24.21 * 10_000  # 规上工业增加值 24.21 亿元
PLAN_HT_VA = 19.92 * 10_000  # 高新技术产业增加值 19.92 亿元
PLAN_HT_SHARE_PCT = 82.28  # 占规上工业增加值比重
PLAN_ENERGY_PER_VA = 1.41  # 吨标准煤/万元
PLAN_GDP = 114.21 * 10_000
PLAN_RD_PCT = 5.8
PLAN_N_ABOVE = 77

ECONOMIC = ["tax", "revenue", "value_added", "energy_tce", "emission_eq", "rd_expense",
            "output_value", "profit", "electricity", "employees"]
MONEY = ["tax", "revenue", "value_added", "rd_expense", "output_value", "profit"]
SOURCE = "合成样例数据（种子 2020），按《南阳高新区“十四五”规划》2020年指标校准；非真实企业"


def _fake_parks() -> gpd.GeoDataFrame:
    """Six irregular quadrilateral parks near 112.55°E 33.03°N, one nested in another."""
    t = Transformer.from_crs(4490, 4546, always_xy=True)
    cx, cy = t.transform(112.55, 33.03)

    def quad(dx, dy, w, h):
        x0, y0 = cx + dx, cy + dy
        return shapely.MultiPolygon([shapely.Polygon(
            [(x0, y0), (x0 + w, y0 + 0.05 * h), (x0 + 1.02 * w, y0 + h), (x0 - 0.03 * w, y0 + 0.97 * h)]
        )])

    specs = [
        ("光电产业园", "", "数字光电", quad(-3000, 1000, 2000, 1600)),
        ("机械装备产业园", "", "防爆装备", quad(-200, 1000, 2600, 1700)),
        ("防爆电气产业园", "机械装备产业园", "防爆装备", quad(100, 1300, 1200, 1000)),
        ("中医药产业园", "", "中医药", quad(-3000, -1200, 1300, 1100)),
        ("科技产业园", "", "生产性服务业", quad(-1200, -1400, 1500, 1200)),
        ("冷链物流产业园", "科技产业园", "生产性服务业", quad(700, -1300, 900, 800)),
    ]
    geoms = reproject(np.array([g for *_, g in specs], dtype=object), 4546, 4490)
    return gpd.GeoDataFrame(
        {
            "id": [f"PZ-{k + 1:02d}" for k in range(len(specs))],
            "name": [s[0] for s in specs],
            "parent": [s[1] for s in specs],
            "leading_industry": [s[2] for s in specs],
        },
        geometry=list(geoms),
        crs=4490,
    )


@pytest.fixture(scope="module")
def parks() -> gpd.GeoDataFrame:
    return _fake_parks()


@pytest.fixture(scope="module")
def sample(parks):
    return generate_enterprises(parks)


@pytest.fixture(scope="module")
def ent(sample):
    return sample[0]


@pytest.fixture(scope="module")
def par(sample):
    return sample[1]


def _above(ent):
    return ent[ent["above_scale"].astype(bool)]


def _links(ent) -> pd.DataFrame:
    """One row per (enterprise, parcel) link."""
    linked = ent[ent["parcel_id"].notna()][["enterprise_id", "parcel_id"]]
    out = linked.assign(parcel_id=linked["parcel_id"].str.split(";")).explode("parcel_id")
    return out.reset_index(drop=True)


# --- shape of the layers -------------------------------------------------------------------------


def test_columns_types_and_crs(ent, par):
    assert list(ent.columns) == [*ENTERPRISES.field_names, "geometry"]
    assert list(par.columns) == [*INDUSTRIAL_PARCELS.field_names, "geometry"]
    assert ent.crs.to_epsg() == 4490 and par.crs.to_epsg() == 4490
    assert set(ent.geom_type) == {"Point"}
    assert set(par.geom_type) == {"MultiPolygon"}
    assert par.is_valid.all() and not par.is_empty.any()
    assert ent["id"].is_unique and par["id"].is_unique
    assert par["id"].str.fullmatch(r"IP-\d{4}").all()
    assert (par["land_use"] == "工业").all()
    assert (ent["year"] == 2020).all()


def test_counts(ent):
    assert int(ent["above_scale"].sum()) == PLAN_N_ABOVE
    assert int((~ent["above_scale"].astype(bool)).sum()) == 120


def test_provenance_on_every_row(ent, par):
    for frame in (ent, par):
        assert (frame["geometry_source"] == "schematic").all()
        assert (frame["data_source"] == SOURCE).all()


def test_ids_and_names_are_visibly_fake(ent):
    ids = ent["enterprise_id"]
    assert ids.is_unique
    assert (ids.str.len() == 18).all()
    assert ids.str.startswith("91411300SYN").all()
    assert ent["name"].str.startswith("示例").all()
    assert ent["name"].is_unique


# --- calibration to the plan --------------------------------------------------------------------


def test_output_value_matches_plan(ent):
    assert round(float(_above(ent)["output_value"].sum()), 2) == pytest.approx(PLAN_OUTPUT, abs=0.005)


def test_value_added_matches_plan(ent):
    assert round(float(_above(ent)["value_added"].sum()), 2) == pytest.approx(PLAN_VA, abs=0.005)


def test_high_tech_value_added_matches_plan(ent):
    a = _above(ent)
    ht = float(a.loc[a["high_tech"].astype(bool), "value_added"].sum())
    assert round(ht, 2) == pytest.approx(PLAN_HT_VA, abs=0.005)
    assert round(100 * ht / float(a["value_added"].sum()), 2) == PLAN_HT_SHARE_PCT


def test_energy_per_value_added_matches_plan(ent):
    a = _above(ent)
    energy = float(a["energy_tce"].sum())
    assert round(energy, 2) == pytest.approx(PLAN_ENERGY_PER_VA * PLAN_VA, abs=0.005)
    assert energy / float(a["value_added"].sum()) == pytest.approx(PLAN_ENERGY_PER_VA, abs=1e-9)


def test_rd_over_all_enterprises_matches_plan(ent):
    expected = round(PLAN_GDP * PLAN_RD_PCT / 100, 2)  # 66 241.80
    assert round(float(ent["rd_expense"].sum()), 2) == pytest.approx(expected, abs=0.005)
    assert (ent["rd_expense"] >= 0).all()


def test_money_is_rounded_to_cents(ent):
    for col in MONEY + ["energy_tce", "electricity"]:
        v = ent[col].dropna().to_numpy()
        assert np.allclose(v * 100, np.round(v * 100), atol=1e-6), col


def test_calibration_holds_without_below_scale_rows(parks):
    ent, par = generate_enterprises(parks, n_below_scale=0)
    assert len(ent) == PLAN_N_ABOVE and ent["above_scale"].all()
    assert round(float(ent["output_value"].sum()), 2) == pytest.approx(PLAN_OUTPUT, abs=0.005)
    assert round(float(ent["rd_expense"].sum()), 2) == pytest.approx(PLAN_GDP * 0.058, abs=0.005)
    assert set(_links(ent)["parcel_id"]) <= set(par["id"])


# --- determinism --------------------------------------------------------------------------------


def _assert_same(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> None:
    pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")), pd.DataFrame(b.drop(columns="geometry")))
    assert list(a.geometry.to_wkb()) == list(b.geometry.to_wkb())


def test_same_seed_same_frames(parks, sample):
    ent2, par2 = generate_enterprises(parks, seed=2020)
    _assert_same(sample[0], ent2)
    _assert_same(sample[1], par2)


def test_other_seed_other_frames(parks, ent, par):
    ent3, par3 = generate_enterprises(parks, seed=7)
    assert not np.array_equal(ent["output_value"].to_numpy(), ent3["output_value"].to_numpy())
    assert list(par.geometry.to_wkb()) != list(par3.geometry.to_wkb())
    # ... and still calibrated
    assert round(float(_above(ent3)["value_added"].sum()), 2) == pytest.approx(PLAN_VA, abs=0.005)


# --- geometry -----------------------------------------------------------------------------------


def test_parcels_do_not_overlap(par):
    geoms = np.asarray(par.geometry.values, dtype=object)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pairs = [(a, b) for a, b in zip(left, right, strict=True) if a != b]
    assert pairs == []


def test_parcels_inside_their_park(par, parks):
    by_name = dict(zip(parks["name"], parks.geometry, strict=True))
    assert set(par["park"]) <= set(by_name)
    inside = [by_name[p].covers(g) for p, g in zip(par["park"], par.geometry, strict=True)]
    assert all(inside)


def test_parcels_match_park_industry(ent, parks):
    lead = dict(zip(parks["name"], parks["leading_industry"], strict=True))
    share = (ent["park"].map(lead) == ent["industry"]).mean()
    assert share > 0.9  # the fake parks have room enough: nearly every firm in its own park


def test_areas(par):
    assert np.allclose(par["area_m2"], plane_area_m2(par.geometry.values), rtol=1e-9)
    assert np.allclose(par["area_mu"], par["area_m2"] * 15 / 10000, rtol=1e-12)
    # independent check: geodesic area on the CGCS2000 ellipsoid (GRS80)
    geod = Geod(ellps="GRS80")
    geodesic = np.array([abs(geod.geometry_area_perimeter(g)[0]) for g in par.geometry])
    assert np.allclose(par["ellipsoid_area_m2"], geodesic, rtol=1e-6)
    assert np.all(par["area_m2"] / geodesic - 1 > 4e-4)  # area_m2 is the GK plane area, stretched ≈0.05 %
    busy = par[~par["idle"]]
    assert par["area_mu"].between(2.5, 370).all()  # ≤ 300 亩 a parcel; a two-parcel firm ≤ 560 亩
    assert busy["area_mu"].max() >= 100  # big manufacturers exist


def test_points_on_their_land(ent, par):
    parcel_geom = dict(zip(par["id"], par.geometry, strict=True))
    for pid, pt in zip(ent["parcel_id"], ent.geometry, strict=True):
        if pd.isna(pid):
            continue
        assert parcel_geom[pid.split(";")[0]].contains(pt), pid


# --- links and the edge cases of SPEC §5.1 -------------------------------------------------------


def test_every_parcel_link_resolves(ent, par):
    links = _links(ent)
    assert set(links["parcel_id"]) <= set(par["id"])
    used = set(links["parcel_id"])
    idle = par["idle"].astype(bool)
    assert not (set(par.loc[idle, "id"]) & used)  # idle parcels carry no enterprise
    assert set(par.loc[~idle, "id"]) <= used  # every other parcel carries one


def test_land_area_follows_the_parcels(ent, par):
    area = dict(zip(par["id"], par["area_mu"], strict=True))
    links = _links(ent)
    per_parcel = links.groupby("parcel_id")["enterprise_id"].nunique()
    solo = ent[ent["parcel_id"].notna()].copy()
    solo["parcels"] = solo["parcel_id"].str.split(";")
    solo = solo[solo["parcels"].map(lambda ps: all(per_parcel[p] == 1 for p in ps))]
    expected = solo["parcels"].map(lambda ps: sum(area[p] for p in ps))
    assert np.allclose(solo["land_area_mu"], expected, atol=0.006)


def test_enterprise_on_two_parcels(ent, par):
    two = ent[ent["parcel_id"].str.contains(";", na=False)]
    assert 1 <= len(two) <= 2
    area = dict(zip(par["id"], par["area_mu"], strict=True))
    for pid, land in zip(two["parcel_id"], two["land_area_mu"], strict=True):
        ids = pid.split(";")
        assert len(ids) == 2
        assert land == pytest.approx(sum(area[p] for p in ids), abs=0.006)


def test_shared_parcels_with_and_without_shares(ent, par):
    area = dict(zip(par["id"], par["area_mu"], strict=True))
    single = ent[ent["parcel_id"].notna() & ~ent["parcel_id"].str.contains(";", na=False)]
    groups = single.groupby("parcel_id")
    shared = [(pid, g) for pid, g in groups if len(g) > 1]
    assert len(shared) >= 2
    with_shares = [(pid, g) for pid, g in shared if g["land_area_mu"].notna().all()]
    without = [(pid, g) for pid, g in shared if g["land_area_mu"].isna().all()]
    assert with_shares and without
    for pid, g in with_shares:
        assert g["land_area_mu"].sum() == pytest.approx(area[pid], abs=0.006)


def test_tenants_rent_floor_space(ent, par, parks):
    tenants = ent[ent["parcel_id"].isna()]
    assert len(tenants) >= 3
    assert tenants["rented_floor_m2"].gt(0).all()
    assert tenants["land_area_mu"].isna().all()
    assert ent.loc[ent["parcel_id"].notna(), "rented_floor_m2"].isna().all()
    zone = shapely.union_all(parks.geometry.values)
    on_parcels = shapely.union_all(par.geometry.values)
    for pt, park in zip(tenants.geometry, tenants["park"], strict=True):
        assert zone.contains(pt)
        assert parks.loc[parks["name"] == park].geometry.iloc[0].contains(pt)
        assert not on_parcels.contains(pt)


def test_idle_parcels(par):
    idle = par[par["idle"].astype(bool)]
    assert len(idle) >= 1
    assert (idle["floor_area_ratio"] < 0.3).all()


def test_some_below_scale_rows_lack_emissions(ent):
    missing = ent["emission_eq"].isna()
    assert missing.sum() >= 1
    assert not ent.loc[missing, "above_scale"].any()


# --- plausibility -------------------------------------------------------------------------------


def test_no_nan_in_above_scale_economic_fields(ent):
    a = _above(ent)
    assert not a[ECONOMIC].isna().any().any()
    assert np.isfinite(a[ECONOMIC].to_numpy(dtype=float)).all()
    assert (a[[c for c in ECONOMIC if c != "profit"]] >= 0).all().all()


def test_relationships_are_plausible(ent):
    a = _above(ent)
    b = ent[~ent["above_scale"].astype(bool)]
    assert (a["revenue"] >= 2000).all()  # 规上: 主营业务收入 ≥ 2000 万元
    assert (b["revenue"] < 2000).all()
    assert (a["tax"] / a["revenue"]).between(0.029, 0.081).all()
    assert (a["value_added"] / a["output_value"]).between(0.09, 0.16).all()
    assert (a["revenue"] / a["output_value"]).between(0.9, 1.06).all()
    assert (ent["employees"] > 0).all()
    tax_per_mu = (a["tax"] / a["land_area_mu"]).dropna()
    assert 5 <= tax_per_mu.median() <= 40
    assert tax_per_mu.between(3, 80).all()


def test_industries_in_plan_proportions(ent):
    counts = ent["industry"].value_counts()
    assert set(counts.index) == {"防爆装备", "数字光电", "中医药", "生产性服务业"}
    assert counts.idxmax() == "防爆装备"  # 主导产业
    a = _above(ent)
    assert set(a["industry"]) == {"防爆装备", "数字光电", "中医药"}  # 规上工业: manufacturing only
    # the plan: 光电产业产值突破 100 亿元 (2020)
    assert a.loc[a["industry"] == "数字光电", "output_value"].sum() >= 100 * 10_000
    allowed = {"防爆装备": {"34", "35", "36", "38"}, "数字光电": {"39", "40"}, "中医药": {"27"},
               "生产性服务业": {"59", "60"}}
    for ind, codes in allowed.items():
        assert set(ent.loc[ent["industry"] == ind, "industry_code"]) <= codes
    # 高新技术企业: 41 in Table 1 (2020)
    assert int(ent["high_tech"].sum()) == 41


# --- bad input ----------------------------------------------------------------------------------


def test_bad_input_is_refused_in_chinese(parks):
    with pytest.raises(SampleDataError, match="园区"):
        generate_enterprises(parks.iloc[0:0])
    with pytest.raises(SampleDataError, match="坐标系"):
        generate_enterprises(gpd.GeoDataFrame(parks.drop(columns="geometry"), geometry=list(parks.geometry)))
    with pytest.raises(SampleDataError, match="n_below_scale"):
        generate_enterprises(parks, n_below_scale=-1)
    with pytest.raises(ValueError, match="name"):
        generate_enterprises(parks.drop(columns="name"))


def test_too_small_parks_are_refused(parks):
    tiny = parks.copy()
    tiny["geometry"] = tiny.geometry.to_crs(4546).centroid.buffer(150).to_crs(4490)
    with pytest.raises(SampleDataError, match="园区面积不足"):
        generate_enterprises(tiny)


def test_runs_on_the_plan_parks():
    plan = pytest.importorskip("parcels.sample.plan")
    parks = plan.build_plan_layers()["park_zones"]
    ent, par = generate_enterprises(parks)
    assert round(float(_above(ent)["output_value"].sum()), 2) == pytest.approx(PLAN_OUTPUT, abs=0.005)
    by_name = dict(zip(parks["name"], parks.geometry, strict=True))
    assert all(by_name[p].covers(g) for p, g in zip(par["park"], par.geometry, strict=True))
    geoms = np.asarray(par.geometry.values, dtype=object)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    assert (left == right).all()
