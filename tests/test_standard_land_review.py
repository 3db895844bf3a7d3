"""达产复核 against committed indicators, and failures as 低效用地 entries."""

from __future__ import annotations

import pandas as pd
import pytest

from parcels.standard_land import ProjectInputError, load_rules, review_failures_as_inefficient, review_production


@pytest.fixture(scope="module")
def n2008():
    return load_rules(["national_2008"])


ACTUALS = pd.DataFrame([
    # E1 on P1 (30 亩 = 20000 m²): FAR 0.8 meets the committed 0.8; tax 200/30 = 6.67 < committed 10 → fail
    {"enterprise_id": "E1", "parcel_id": "P1", "industry_code": "27", "land_area_mu": 30, "total_floor_area_m2": 16000,
     "tall_floor_area_m2": 0, "building_footprint_m2": 8000, "office_living_land_m2": 1000, "green_area_m2": 1000, "tax": 200},
    # E2 on P2 (land from the commitment: 20 亩): FAR 1.5, tax 800/20 = 40 ≥ 30 → pass on what it has; 建筑系数 missing
    {"enterprise_id": "E2", "parcel_id": "P2", "industry_code": "39", "total_floor_area_m2": 20000, "tall_floor_area_m2": 0, "tax": 800},
    # E3 without commitment: 专用设备 35 (2002-36 → 0.7), FAR 0.6 → fail on the national rule
    {"enterprise_id": "E3", "parcel_id": None, "industry_code": "35", "land_area_mu": 10, "total_floor_area_m2": 4000,
     "tall_floor_area_m2": 0, "building_footprint_m2": 3500, "office_living_land_m2": 100, "green_area_m2": 100},
    # E4 shares P1 and passes everything
    {"enterprise_id": "E4", "parcel_id": "P1", "industry_code": "27", "land_area_mu": 10, "total_floor_area_m2": 6000,
     "tall_floor_area_m2": 0, "building_footprint_m2": 3000, "office_living_land_m2": 300, "green_area_m2": 300, "tax": 150},
])
COMMITMENTS = {"P1": {"tax_per_mu": 10, "floor_area_ratio": 0.8}, "P2": {"land_area_mu": 20, "tax_per_mu": 30}}


def test_review_verdicts(n2008):
    df = review_production(ACTUALS, COMMITMENTS, n2008)
    assert list(df["enterprise_id"]) == ["E1", "E2", "E3", "E4"]
    assert list(df["verdict"]) == ["fail", "incomplete", "fail", "pass"]
    assert df.loc[0, "tax_per_mu"] == pytest.approx(200 / 30, abs=1e-6)
    assert df.loc[0, "pass_tax_per_mu"] is False and df.loc[0, "pass_floor_area_ratio"] is True
    assert "亩均税收" in df.loc[0, "failed"] and "履约承诺" in df.loc[0, "failed"]
    assert df.loc[1, "land_area_mu"] == pytest.approx(20.0)
    assert "建筑系数" in df.loc[1, "incomplete"]
    assert "容积率" in df.loc[2, "failed"] and not df.loc[2, "has_commitment"]
    assert df.loc[3, "failed"] == "" and df.loc[3, "n_fail"] == 0
    # the committed 0.8 is stricter than the national 0.7 for 医药 and decides
    far = [i for i in df.loc[0, "indicators"] if i["indicator"] == "floor_area_ratio" and i["decisive"]]
    assert far[0]["limit"] == 0.8 and far[0]["rule_set"] == "commitment:P1"
    assert all(i["source"] and i["status"] for row in df["indicators"] for i in row)


def test_failures_become_inefficient_entries(n2008):
    df = review_production(ACTUALS, COMMITMENTS, n2008)
    ineff = review_failures_as_inefficient(df)
    assert {"parcel_id", "reason"} <= set(ineff.columns)
    assert len(ineff) == 2
    p1 = ineff[ineff["parcel_id"] == "P1"].iloc[0]
    assert "E1" in p1["reason"] and "E4" not in p1["reason"] and "投而未达标" in p1["reason"]
    assert p1["land_area_mu"] == pytest.approx(30.0)
    no_parcel = ineff[ineff["parcel_id"].isna()].iloc[0]  # kept, not dropped
    assert "E3" in no_parcel["reason"]
    assert not ineff["provisional"].any()


def test_sample_rule_failure_is_provisional():
    act = pd.DataFrame([{"enterprise_id": "E9", "parcel_id": "P9", "industry_code": "39", "land_area_mu": 10,
                         "total_floor_area_m2": 7000, "tall_floor_area_m2": 0, "tax": 50}])
    df = review_production(act, {}, load_rules(["national_2008", "henan_3n1_sample"]))
    assert df.loc[0, "verdict"] == "fail" and df.loc[0, "provisional"]
    ineff = review_failures_as_inefficient(df)
    assert ineff.loc[0, "provisional"] and "暂定" in ineff.loc[0, "reason"]


def test_commitments_as_dataframe_with_sl_fields(n2008):
    com = pd.DataFrame([{"parcel_id": "P1", "sl_tax_per_mu": 5.0, "sl_floor_area_ratio": 0.9}])
    df = review_production(ACTUALS.iloc[[0]], com, n2008)
    assert df.loc[0, "pass_tax_per_mu"] is True and df.loc[0, "pass_floor_area_ratio"] is False


def test_bad_review_input_named():
    rules = load_rules(["national_2008"])
    bad = ACTUALS.copy()
    bad.loc[2, "tax"] = -5
    with pytest.raises(ProjectInputError) as exc:
        review_production(bad, COMMITMENTS, rules)
    assert any(e.row == 3 and e.field == "expected_tax" for e in exc.value.errors)
    with pytest.raises(ProjectInputError) as exc:
        review_production(ACTUALS, {"P1": {"tax_per_mu": "很多"}}, rules)
    assert exc.value.errors[0].field == "tax_per_mu"
    with pytest.raises(ProjectInputError):
        review_production(ACTUALS, {"P1": {"colour": 1}}, rules)
    with pytest.raises(ProjectInputError):
        review_production(pd.DataFrame(), COMMITMENTS, rules)


def test_no_failures_gives_empty_frame(n2008):
    df = review_production(ACTUALS.iloc[[3]], COMMITMENTS, n2008)
    ineff = review_failures_as_inefficient(df)
    assert ineff.empty and {"parcel_id", "reason"} <= set(ineff.columns)


def test_row_order_independent(n2008):
    a = review_production(ACTUALS, COMMITMENTS, n2008).set_index("enterprise_id")
    b = review_production(ACTUALS.iloc[::-1], COMMITMENTS, n2008).set_index("enterprise_id")
    assert a.loc[sorted(a.index), "verdict"].tolist() == b.loc[sorted(b.index), "verdict"].tolist()
