"""HTML and XLSX reports: sources and status marks visible, self-contained, safe cells."""

from __future__ import annotations

import io
import re

import pytest
from markupsafe import escape
from openpyxl import load_workbook

from parcels.standard_land import check_project, load_rules, parcel_sheet

PROJECT = {
    "name": "=HYPERLINK(\"http://x\")", "land_area_mu": 30, "industry_code": "39", "fixed_asset_investment": 9000,
    "total_floor_area_m2": 18000, "tall_floor_area_m2": 2000, "building_footprint_m2": 9000,
    "office_living_land_m2": 1000, "green_area_m2": 2000, "expected_tax": 400,
}


@pytest.fixture(scope="module")
def result():
    return check_project(PROJECT, load_rules())


@pytest.fixture(scope="module")
def confirmed_only():
    return check_project({k: v for k, v in PROJECT.items() if k != "name"}, load_rules(["national_2008"]))


def _roundtrip(wb):
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return load_workbook(buf)


def _cells(ws):
    return [c for row in ws.iter_rows() for c in row if c.value is not None]


def test_html_marks_sources_and_verdict(result):
    html = result.to_html()
    assert html.startswith("<!DOCTYPE html>")
    assert 'class="badge status-unverified">未核实<' in html
    assert 'class="badge status-sample">示例值，需高新区确认<' in html
    assert "行业代码对照未核实" in html
    assert "信息不全（无法判定）" in html  # revenue/energy missing → incomplete
    for i in result.indicators:
        assert str(escape(i["source"])) in html
    assert "暂定" in html


def test_html_confirmed_only_has_no_unverified_badge(confirmed_only):
    html = confirmed_only.to_html().split("<h2>标记说明</h2>")[0]  # the legend shows every badge
    assert 'badge status-unverified' not in html and 'badge status-sample' not in html
    assert 'badge status-confirmed' in html and "⚠" not in html


def test_html_self_contained_and_escaped(result):
    html = result.to_html()
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", html)
    assert "url(" not in html
    assert "=HYPERLINK(&#34;http://x&#34;)" in html or "=HYPERLINK(&quot;http://x&quot;)" in html


def test_workbook_status_cells_highlighted(result):
    wb = _roundtrip(result.to_workbook())
    ws = wb["核查结果"]
    cells = _cells(ws)
    unverified = [c for c in cells if c.value == "未核实"]
    sample = [c for c in cells if c.value == "示例值，需高新区确认"]
    assert unverified and sample
    assert all(c.fill.fgColor.rgb.endswith("FFEB9C") for c in unverified)
    assert all(c.fill.fgColor.rgb.endswith("FFC7CE") for c in sample)
    assert any(isinstance(c.value, str) and c.value.startswith("行业代码对照未核实") for c in cells)
    headers = [c.value for c in cells if c.value in ("指标", "数值", "要求", "是否达标", "余量", "规则状态", "规则来源")]
    assert len(set(headers)) == 7
    for i in result.indicators:
        assert any(c.value == i["source"] for c in cells)
    assert "规则集" in wb.sheetnames and "说明" in wb.sheetnames


def test_workbook_guards_formula_injection(result):
    ws = _roundtrip(result.to_workbook())["核查结果"]
    name = ws["B2"].value
    assert name.startswith("'=") and ws["B2"].data_type == "s"


def test_sheet_html_and_workbook():
    rules = load_rules()
    sheet = parcel_sheet({"id": "RP-1", "name": "工业储备地", "use": "工业", "area_mu": 120.0, "area_m2": 80000.0}, rules)
    html = sheet.to_html()
    assert "标准地指标清单" in html and "示例值，需高新区确认" in html and "未核实" in html
    assert "分行业控制值" in html and "待定指标" in html
    wb = _roundtrip(sheet.to_workbook())
    assert {"指标清单", "分行业控制值", "待定指标", "规则集", "说明"} <= set(wb.sheetnames)
    sample_cells = [c for c in _cells(wb["指标清单"]) if c.value == "示例值，需高新区确认"]
    assert sample_cells and all(c.fill.fgColor.rgb.endswith("FFC7CE") for c in sample_cells)


def test_residential_sheet_html():
    sheet = parcel_sheet({"id": "RP-3", "use": "居住", "area_mu": 60.0}, load_rules())
    html = sheet.to_html()
    assert "不适用标准地指标" in html and "控制指标</h2>" not in html
    ws = _roundtrip(sheet.to_workbook())["指标清单"]
    assert any(c.value == "不适用" for c in _cells(ws))
