"""`landgis score / adjust / check / sheet` end to end on the sample store (issues 4 and 7)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from api.cli import app
from gis.store import open_store

runner = CliRunner()


def run(*args, code=0):
    r = runner.invoke(app, [str(a) for a in args])
    assert r.exit_code == code, r.output
    return r


@pytest.fixture
def sample(store_url):
    run("init", "--store", store_url)
    return store_url


@pytest.mark.parametrize("policy", ["henan_2019", "zhejiang_huangyan_2022"])
def test_score_sample_under_both_policies(sample, tmp_path, policy):
    out = tmp_path / "r.csv"
    r = run("score", "enterprises", "--policy", policy, "--out", out, "--store", sample)
    assert "光电产业园" in r.output  # class counts per park printed
    frame = pd.read_csv(out, encoding="utf-8-sig", dtype={"enterprise_id": str})
    s = open_store(sample)
    assert len(frame) == s.count("enterprises")
    assert list(frame.columns[:4]) == ["enterprise_id", "name", "above_scale", "land_area_mu"]
    scored = frame["class"].notna()
    assert scored.sum() > 77 * 0.9
    assert not frame["total_score"].isin([float("inf")]).any()
    assert frame.loc[~scored, "flags"].notna().all()  # every unscored row says why
    runs = s.list_runs("efficiency")
    assert len(runs) == 1 and runs.iloc[0]["policy"] and len(runs.iloc[0]["input_hash"]) == 64


def test_adjustment_survives_rerun(sample, tmp_path):
    out = tmp_path / "r.csv"
    run("score", "enterprises", "--policy", "zhejiang_huangyan_2022", "--out", out, "--store", sample)
    frame = pd.read_csv(out, encoding="utf-8-sig", dtype={"enterprise_id": str})
    row = frame[frame["class"] == "A"].iloc[0]
    run("adjust", row["enterprise_id"], "C", "--reason", "安全生产事故，降档", "--year", 2020, "--store", sample)
    run("adjust", row["enterprise_id"], "X", "--reason", "x", "--year", 2020, "--store", sample, code=1)
    run("score", "enterprises", "--policy", "zhejiang_huangyan_2022", "--out", out, "--store", sample)
    again = pd.read_csv(out, encoding="utf-8-sig", dtype={"enterprise_id": str}).set_index("enterprise_id")
    assert again.loc[row["enterprise_id"], "initial_class"] == "A"
    assert again.loc[row["enterprise_id"], "class"] == "C"


def test_score_xlsx_has_chinese_headers(sample, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "r.xlsx"
    run("score", "enterprises", "--out", out, "--store", sample)
    wb = load_workbook(out)
    assert "汇总" in wb.sheetnames
    headers = [c.value for c in wb[wb.sheetnames[0]][1]]
    assert "企业名称" in headers


def test_bad_enterprise_table_exit_1(sample, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("统一社会信用代码,企业名称,用地面积(亩),实缴税收(万元)\nA1,甲,10,-5\nA1,乙,abc,3\n", encoding="gbk")
    r = run("score", bad, "--store", sample, code=1)
    assert "第" in r.output and "行" in r.output


def project_file(tmp_path, **overrides):
    data = {
        "land_area_mu": 100,
        "industry_code": "39",
        "fixed_asset_investment": 30000,
        "total_floor_area_m2": 50000,
        "tall_floor_area_m2": 0,
        "building_footprint_m2": 25000,
        "office_living_land_m2": 3000,
        "green_area_m2": 8000,
        "phase": "出让",
    }
    data.update(overrides)
    p = tmp_path / "project.json"
    p.write_text(json.dumps({k: v for k, v in data.items() if v is not None}, ensure_ascii=False), encoding="utf-8")
    return p


def test_check_verdicts(tmp_path):
    land = 100 * 10000 / 15
    out = tmp_path / "c.json"
    # 39 (计算机通信电子, 2002 code 40) needs FAR >= 1.0: 50000/66667 = 0.75 fails ...
    run("check", project_file(tmp_path), "--out", out)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["verdict"] == "fail"
    far = [i for i in doc["indicators"] if i["indicator"] == "floor_area_ratio" and i.get("decisive")]
    assert far and far[0]["limit"] == 1.0 and far[0]["value"] == pytest.approx(50000 / land)
    # ... and passes once 17 000 m² of storeys over 8 m count double
    run("check", project_file(tmp_path, tall_floor_area_m2=17000), "--out", out)
    assert json.loads(out.read_text(encoding="utf-8"))["verdict"] == "pass"
    # a missing input is incomplete, never pass
    run("check", project_file(tmp_path, tall_floor_area_m2=17000, green_area_m2=None), "--out", out)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["verdict"] == "incomplete"
    green = [i for i in doc["indicators"] if i["indicator"] == "green_ratio"]
    assert green and all(i["pass"] is None for i in green)
    assert all(i["source"] and i["status"] for i in doc["indicators"])


def test_sheet_issue_binds_later_checks(sample, tmp_path):
    # Sample and unverified values appear (marked) only when their rule sets are named (SPEC §6);
    # the default sheet is tested in test_signable_defaults.py.
    run("sheet", "RP-01", "--out", tmp_path / "s.html", "--rules", "national_2008,national_2023,henan_3n1_sample", "--store", sample)
    html = (tmp_path / "s.html").read_text(encoding="utf-8")
    assert "示例值" in html and "未核实" in html
    run("sheet", "RP-01", "--issue", "--out", tmp_path / "s.json", "--rules", "national_2008,henan_3n1_sample", "--store", sample)
    parcel = open_store(sample).get_feature("reserve_parcels", "RP-01")
    assert parcel["sl_investment_intensity"] and parcel["sl_rules"]
    out = tmp_path / "c.json"
    project = project_file(tmp_path, land_area_mu=None, parcel_id="RP-01", fixed_asset_investment=10)
    # named rule sets: the parcel's issued (sample) 投资强度 binds, marked as a sample value
    run("check", project, "--rules", "national_2008", "--out", out, "--store", sample)
    doc = json.loads(out.read_text(encoding="utf-8"))
    inv = [i for i in doc["indicators"] if i["indicator"] == "investment_intensity"]
    assert inv and any(i["pass"] is False and i["status"] == "sample" for i in inv)
    # by default only confirmed rules decide: the issued sample limit does not
    run("check", project, "--out", out, "--store", sample)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert {i["status"] for i in doc["indicators"]} == {"confirmed"}
    assert not [i for i in doc["indicators"] if i["indicator"] == "investment_intensity"]
    run("sheet", "RP-99", "--store", sample, code=1)
