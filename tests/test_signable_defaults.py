"""Outputs an official can sign (issue 17, SPEC §6 and §3.3): defaults decide with confirmed rules
only, sample/unverified values appear only when named and are marked beside each value, areas
from sketches are flagged, sources that cannot be cited say so, and a one-sided 四至 is never
"resolved". End to end on the bundled sample store (GeoPackage; the store-dependent area rules
are tested on both stores in test_areas_registered.py)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from typer.testing import CliRunner

from api.app import create_app
from api.auth import add_key
from api.cli import app
from api.settings import Settings
from gis.store import open_store
from parcels.standard_land import load_rules
from parcels.standard_land.rules import NOT_CITABLE

runner = CliRunner()
NAMED = "national_2008,national_2023,henan_3n1_sample,warehouse_guideline"


def run(*args, code=0):
    r = runner.invoke(app, [str(a) for a in args])
    assert r.exit_code == code, r.output
    return r


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("signable") / "sample.gpkg"
    run("init", "--store", path)
    return str(path)


def statuses(sheet: dict) -> set[str]:
    return {i["status"] for i in sheet["indicators"]} | {r["status"] for i in sheet["indicators"] for r in i["rules"]}


def test_sheet_by_default_lists_only_confirmed_rules_and_flags_the_schematic_area(sample, tmp_path):
    doc = json.loads(run("sheet", "RP-01", "--store", sample).stdout)
    assert doc["indicators"] and statuses(doc) == {"confirmed"}
    assert [s["id"] for s in doc["rule_sets"]] == ["national_2008"]
    assert doc["parcel"]["geometry_source"] == "schematic" and doc["area_schematic"] is True
    assert "示意几何" in doc["area_note"] and doc["area_note"] in doc["notes"]
    assert any("仅采用已核实" in n and "henan_3n1_sample" in n for n in doc["notes"])  # says what was left out
    run("sheet", "RP-01", "--out", tmp_path / "s.html", "--store", sample)
    body = (tmp_path / "s.html").read_text(encoding="utf-8").split("<h2>标记说明</h2>")[0]  # the legend explains every badge
    assert "示意几何面积" in body and "badge status-sample" not in body and "badge status-unverified" not in body
    run("sheet", "RP-01", "--out", tmp_path / "s.xlsx", "--store", sample)
    cells = {c.value for row in load_workbook(tmp_path / "s.xlsx")["指标清单"].iter_rows() for c in row}
    assert any(isinstance(v, str) and "示意几何" in v for v in cells)
    assert "示例值，需高新区确认" not in cells and "未核实" not in cells


def test_named_sample_and_unverified_sets_are_marked_and_not_citable(sample):
    doc = json.loads(run("sheet", "RP-01", "--rules", NAMED, "--store", sample).stdout)
    assert {"confirmed", "unverified", "sample"} <= statuses(doc)
    for i in doc["indicators"]:
        for r in i["rules"]:
            assert (NOT_CITABLE in r["source"]) == (r["rule_set"] != "national_2008"), r
    assert not any("仅采用已核实" in n for n in doc["notes"])


def test_bundled_sources_cite_no_exam_bank_or_garbled_repost_without_the_mark():
    for r in load_rules().rules:
        weak = any(w in r.source for w in ("tiku", "题库", "jianbiaoku", "乱码", "提示词"))
        if weak or not r.citable:
            assert not r.citable and NOT_CITABLE in r.source, (r.id, r.source)
        if r.rule_set == "national_2008":
            assert r.citable and "http" not in r.source and r.source.startswith(("国土资源部", "国土资发〔2008〕24号")), r.source


def test_check_by_default_decides_with_confirmed_rules_and_flags_the_parcel_area(sample, tmp_path):
    project = tmp_path / "p.json"
    project.write_text(json.dumps({"parcel_id": "RP-05", "industry_code": "39", "fixed_asset_investment": 1000,
                                   "total_floor_area_m2": 10000, "tall_floor_area_m2": 0, "building_footprint_m2": 5000}), encoding="utf-8")
    out = tmp_path / "c.json"
    run("check", project, "--out", out, "--store", sample)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert {i["status"] for i in doc["indicators"]} == {"confirmed"}
    assert doc["land_area"]["schematic"] is True and "示意几何" in doc["land_area"]["note"]
    run("check", project, "--out", tmp_path / "c.html", "--store", sample)
    assert "示意几何面积" in (tmp_path / "c.html").read_text(encoding="utf-8")
    run("check", project, "--out", tmp_path / "c.xlsx", "--store", sample)
    assert any(isinstance(c.value, str) and "示意几何" in c.value for row in load_workbook(tmp_path / "c.xlsx")["核查结果"].iter_rows() for c in row)
    run("check", project, "--rules", NAMED, "--out", out, "--store", sample)
    named = json.loads(out.read_text(encoding="utf-8"))
    inv = [i for i in named["indicators"] if i["indicator"] == "investment_intensity"]
    assert inv and inv[0]["status"] == "sample" and inv[0]["pass"] is False  # decides only because it was named


def test_http_sheet_and_check_default_to_confirmed_rules(sample):
    store = open_store(sample)
    key = add_key(store, "k-signable", "analyst", user="test")
    with TestClient(create_app(Settings(store=sample), store=store)) as c:
        sheet = c.get("/standard-land/sheets/RP-01").json()
        assert statuses(sheet) == {"confirmed"} and sheet["area_schematic"] is True
        named = c.get("/standard-land/sheets/RP-01", params={"rules": "henan_3n1_sample"}).json()
        assert statuses(named) == {"sample"} and all(NOT_CITABLE in i["source"] for i in named["indicators"])
        project = {"parcel_id": "RP-05", "industry_code": "39", "fixed_asset_investment": 1000, "total_floor_area_m2": 10000,
                   "tall_floor_area_m2": 0, "building_footprint_m2": 5000}
        r = c.post("/standard-land/check", json=project, headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 200 and {i["status"] for i in r.json()["indicators"]} == {"confirmed"}
        assert r.json()["land_area"]["schematic"] is True


def test_standard_land_map_decides_with_confirmed_rules_by_default(sample):
    from services.map_sources import standard_land_results

    store = open_store(sample)
    default = standard_land_results(store, {})
    named = standard_land_results(store, {"rules": NAMED})
    n_fail, n_named = int((default["verdict"] == "fail").sum()), int((named["verdict"] == "fail").sum())
    assert n_named >= 170 and n_fail < 30  # measured: 181 red on every bundled set, 12 on confirmed rules
    assert (default["rules_note"] == "").all() and "仅采用已核实" in default.attrs["note"]
    assert not default.loc[default["verdict"] == "fail", "failed"].str.contains("示例值|未核实").any()
    assert (named.loc[named["failed"].str.contains("示例值|未核实"), "rules_note"] != "").all()
    assert (default.loc[default["geometry_source"] == "schematic", "area_note"].str.contains("示意几何")).all()


def test_map_page_shows_the_rule_status_and_area_flags(sample):
    from services.maps import MapOptions, render_map

    store = open_store(sample)
    html = render_map("standard-land", store, MapOptions(params={"rules": NAMED}, role="analyst"))
    assert "规则状态" in html and "面积说明" in html and "结论依据含未核实或示例值规则" in html


def test_production_review_default_ignores_sample_rules():
    from services.standard_land import default_rules, production_review

    assert default_rules().confirmed_only and {r.status for r in default_rules().rules} == {"confirmed"}
    actual = pd.DataFrame([{"enterprise_id": "E1", "parcel_id": "P1", "industry_code": "39", "land_area_mu": 30,
                            "revenue": 30 * 100, "total_floor_area_m2": 30 * 10000 / 15 * 1.2, "tall_floor_area_m2": 0}])
    default = production_review(actual, {"P1": {"land_area_mu": 30}})
    named = production_review(actual, {"P1": {"land_area_mu": 30}}, rules="national_2008,henan_3n1_sample")
    assert default["verdict"].iloc[0] != "fail"  # 容积率 1.2 ≥ 1.0 (2008, code 40 → 39); the rest is unknown
    assert named["verdict"].iloc[0] == "fail" and bool(named["provisional"].iloc[0])  # 亩均产值 100 < 400 (sample)


def test_one_sided_location_text_is_never_resolved(sample):
    doc = json.loads(run("resolve", "--store", sample, "--text", "雪枫路以南").stdout)
    assert doc["found"] == ["雪枫路"] and doc["status"] == "underbounded"
    assert doc["ambiguity"] >= 0.9 and doc["area_mu"] > 3000  # the candidate is the zone south of the road
    assert any("至少需要两个方向" in n for n in doc["notes"])
    two_sided = json.loads(run("resolve", "--store", sample, "--text", "经十路以西、纬七路以南").stdout)
    assert two_sided["status"] == "resolved" and two_sided["ambiguity"] == 0.0


def test_citable_must_be_a_boolean_and_marks_every_rule_of_its_set():
    from parcels.standard_land import RuleFileError, parse_rule_text

    text = 'id = "x"\nsource = "某转载"\nstatus = "unverified"\ncitable = false\n[[rule]]\nkey = "green_ratio"\nop = "<="\nlimit = 20\nunit = "%"\n'
    info, rules = parse_rule_text(text)
    assert not info.citable and NOT_CITABLE in info.source and all(not r.citable and NOT_CITABLE in r.source for r in rules)
    with pytest.raises(RuleFileError, match="citable"):
        parse_rule_text(text.replace("citable = false", 'citable = "no"'))
