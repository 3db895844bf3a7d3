"""指标清单 of reserve parcels and the limits stored on them (SPEC §3.2, §6)."""

from __future__ import annotations

import json

import pytest

from parcels.standard_land import ProjectInputError, check_project, load_rules, parcel_sheet, sheet_limits_for_parcel

INDUSTRIAL = {"id": "RP-1", "seq": 1, "district": "百里奚街道", "name": "工业储备地 (防爆 2 个)", "location": "信臣路以南、热电厂以西", "use": "工业", "area_mu": 120.0, "area_m2": 80000.0}
RESIDENTIAL = {"id": "RP-3", "seq": 3, "district": "百里奚街道", "name": "十二里河区域经营性储备地", "use": "居住", "area_mu": 60.0}
WAREHOUSE = {"id": "RP-8", "seq": 8, "name": "王庄区域工业储备地", "use": "仓储", "area_mu": 90.0, "park": float("nan")}


@pytest.fixture(scope="module")
def all_rules():
    return load_rules()


@pytest.fixture(scope="module")
def n2008():
    return load_rules(["national_2008"])


def by_key(sheet):
    return {i["indicator"]: i for i in sheet.indicators}


def test_industrial_sheet_with_industry(n2008):
    s = parcel_sheet(INDUSTRIAL, n2008, "39")
    ind = by_key(s)
    assert ind["floor_area_ratio"]["limit"] == 1.0 and ind["floor_area_ratio"]["status"] == "confirmed"
    assert ind["building_coverage"]["requirement"] == "≥ 30 %"
    assert ind["office_living_share"]["op"] == "<=" and ind["office_living_share"]["limit"] == 7.0
    assert all(i["source"] for i in s.indicators)
    assert s.limits["sl_floor_area_ratio"] == 1.0
    assert s.limits["sl_investment_intensity"] is None  # no 投资强度 rule in the 2008 set


def test_industrial_sheet_without_industry_lists_per_industry(n2008):
    s = parcel_sheet(INDUSTRIAL, n2008)
    far = by_key(s)["floor_area_ratio"]
    assert far["industry_dependent"] and far["limit"] is None
    assert s.limits["sl_floor_area_ratio"] is None
    rows = {(b["code_2017"], b["code_2002"]): b["limit"] for b in s.by_industry if b["indicator"] == "floor_area_ratio"}
    assert rows[("39", "40")] == 1.0 and rows[("38", "39")] == 0.7 and rows[("27", "27")] == 0.7
    assert rows[("29", "29")] == 0.8 and rows[("29", "30")] == 1.0


def test_sample_and_unverified_rules_on_sheet(all_rules):
    s = parcel_sheet(INDUSTRIAL, all_rules, "27")
    ind = by_key(s)
    assert ind["investment_intensity"]["status"] == "sample"
    assert ind["building_coverage"]["limit"] == 40.0 and ind["building_coverage"]["status"] == "unverified"
    # both 容积率 rules listed; the sample 1.0 is stricter than the confirmed 0.7 for 医药
    far_rules = {(r["rule_id"], r["decisive"]) for r in ind["floor_area_ratio"]["rules"]}
    assert ("henan_3n1_sample.floor_area_ratio", True) in far_rules and ("national_2008.far.27", False) in far_rules
    assert s.provisional
    assert [x["slot"] for x in s.slots] == ["1"]
    lim = s.limits
    assert (lim["sl_investment_intensity"], lim["sl_floor_area_ratio"], lim["sl_tax_per_mu"]) == (250.0, 1.0, 11.0)
    stored = json.loads(lim["sl_rules"])
    assert {r["key"] for r in stored["rules"]} >= {"investment_intensity", "floor_area_ratio", "tax_per_mu"}
    assert all(r["source"] and r["status"] for r in stored["rules"])


def test_residential_parcel_sheet_says_not_applicable(all_rules):
    s = parcel_sheet(RESIDENTIAL, all_rules)
    d = s.to_dict()
    assert d["applicable"] is False and d["indicators"] == []
    assert "工业" in d["message"] and "仓储" in d["message"] and "居住" in d["message"]
    lim = sheet_limits_for_parcel(RESIDENTIAL, all_rules)
    assert lim["sl_floor_area_ratio"] is None and json.loads(lim["sl_rules"])["applicable"] is False


def test_warehouse_parcel_gets_warehouse_rules_only(all_rules):
    s = parcel_sheet(WAREHOUSE, all_rules)
    ind = by_key(s)
    assert ind["floor_area_ratio"]["limit"] == 0.8 and ind["floor_area_ratio"]["status"] == "unverified"
    assert ind["building_coverage"]["limit"] == 40.0
    assert not any(r["rule_set"] == "national_2008" for i in s.indicators for r in i["rules"])
    assert s.by_industry == []
    json.dumps(s.to_dict(), allow_nan=False)


def test_stored_limits_bind_a_later_check(all_rules, n2008):
    parcel = dict(INDUSTRIAL)
    parcel.update(sheet_limits_for_parcel(parcel, all_rules, "39"))
    # checked against the 2008 set only, the parcel's announced sample limits still bind
    project = {"parcel_id": "RP-1", "industry_code": "39", "total_floor_area_m2": 90000, "tall_floor_area_m2": 0, "fixed_asset_investment": 120 * 200}
    res = check_project(project, n2008, parcel)
    inv = [i for i in res.indicators if i["indicator"] == "investment_intensity"]
    assert len(inv) == 1 and inv[0]["limit"] == 250.0 and inv[0]["pass"] is False and inv[0]["status"] == "sample"
    assert inv[0]["rule_set"] == "parcel:RP-1" and "RP-1" in inv[0]["source"]
    # the stored copy of a rule that is loaded anyway is not listed twice
    far = [i for i in res.indicators if i["indicator"] == "floor_area_ratio"]
    assert [i["rule_id"] for i in far].count("national_2008.far.40") == 1
    assert not any(i["rule_id"] == "parcel:RP-1:national_2008.far.40" for i in far)
    assert res.verdict == "fail"


def test_hand_typed_limit_on_parcel_is_unverified(n2008):
    parcel = dict(INDUSTRIAL, sl_floor_area_ratio=1.2)
    res = check_project({"parcel_id": "RP-1", "industry_code": "39", "total_floor_area_m2": 88000, "tall_floor_area_m2": 0}, n2008, parcel)
    (dec,) = [i for i in res.indicators if i["indicator"] == "floor_area_ratio" and i["decisive"]]
    assert dec["limit"] == 1.2 and dec["status"] == "unverified" and dec["pass"] is False  # 1.1 < 1.2


def test_sheet_notes_stored_values_that_differ(n2008):
    s = parcel_sheet(dict(INDUSTRIAL, sl_floor_area_ratio=0.5), n2008, "39")
    assert any("sl_floor_area_ratio" in n for n in s.notes)


def test_bad_industry_code_on_sheet(n2008):
    with pytest.raises(ProjectInputError):
        parcel_sheet(INDUSTRIAL, n2008, "电子")
