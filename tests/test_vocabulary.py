"""One vocabulary (parcels/vocabulary.py): every label a report, sheet or map shows for a key is
the vocabulary's.

The strongest check is a marked vocabulary: every term's label is wrapped in 〔…〕 for the test,
and the outputs must show the wrapped text. A module that kept (or re-introduces) its own copy of
a label prints the unwrapped words and fails here, even when its copy is spelled the same today.
"""

from __future__ import annotations

import dataclasses
import io

import geopandas as gpd
import pandas as pd
import pytest
from openpyxl import load_workbook
from shapely.geometry import box

from parcels import vocabulary
from parcels.vocabulary import MAP, STANDARD_LAND, label, label_with_unit, unit
from efficiency_support import small_enterprise_table

ORIGINAL = {k: dataclasses.replace(t) for k, t in vocabulary.TERMS.items()}


def mark(monkeypatch: pytest.MonkeyPatch, *, units: bool) -> None:
    """Wrap every label (and, with `units`, every non-empty unit) of the vocabulary in 〔…〕.

    Units stay plain for 标准地 tests: the rule TOMLs state them and the loader insists they
    match the vocabulary's, which is itself the guard on units there."""
    for key, t in ORIGINAL.items():
        monkeypatch.setitem(vocabulary.TERMS, key, dataclasses.replace(
            t,
            label_zh=f"〔{t.label_zh}〕",
            unit=f"〔{t.unit}〕" if units and t.unit else t.unit,
            variants=tuple((c, f"〔{v}〕") for c, v in t.variants),
        ))


def original_headers() -> set[str]:
    """Every unmarked form a term could be printed in: 亩均税收, 亩均税收(万元/亩), variants."""
    out = set()
    for t in ORIGINAL.values():
        for context in (None, *(c for c, _ in t.variants)):
            out |= {t.label_in(context), t.with_unit(context)}
    return out


# --- the vocabulary itself -----------------------------------------------------------------------

def test_terms_read_as_officials_read_them():
    assert label("tax_per_mu") == "亩均税收" and unit("tax_per_mu") == "万元/亩"
    assert label_with_unit("tax_per_mu") == "亩均税收(万元/亩)"
    assert label_with_unit("floor_area_ratio") == "容积率" and unit("floor_area_ratio") == ""
    assert label_with_unit("building_coverage") == "建筑系数(%)"
    assert label_with_unit("office_living_share") == "行政办公及生活服务设施用地所占比重(%)"
    assert label_with_unit("investment_intensity") == "投资强度(万元/亩)"
    assert label_with_unit("energy_per_va") == "单位增加值能耗(吨标准煤/万元)"
    assert vocabulary.precision("energy_per_va") == 3 and vocabulary.precision("green_ratio") == 1
    assert vocabulary.term("tax_per_mu").label_en == "Tax per mu"


def test_context_variants_are_explicit_and_only_where_declared():
    assert label("revenue_per_mu") == "亩均营业收入"
    assert label("revenue_per_mu", STANDARD_LAND) == "亩均产值/营业收入"
    assert label("tax_per_mu", STANDARD_LAND) == "亩均税收"  # no variant: the one label
    assert label("class") == "调档后等级" and label("class", MAP) == "评价类别"
    with pytest.raises(ValueError, match="unknown context"):
        label("tax_per_mu", "brochure")
    with pytest.raises(ValueError, match="unknown context"):
        vocabulary.Term("x", "某指标", variants=(("brochure", "别名"),))


def test_unknown_keys_fail_loudly_and_old_map_spellings_resolve():
    with pytest.raises(KeyError, match="tax_per_hectare"):
        label("tax_per_hectare")
    with pytest.raises(KeyError):
        vocabulary.Labels(["tax", "no_such_column"])
    assert vocabulary.term("value_added_per_mu") is vocabulary.term("va_per_mu")
    assert label("emission_per_va") == "单位排放增加值" and not vocabulary.known("emission")


def test_every_indicator_any_module_computes_or_draws_is_a_term():
    from maps import efficiency as map_eff
    from maps import standard_land as map_sl
    from parcels.efficiency.indicators import INDICATORS as EFF
    from parcels.efficiency.policy import load_policy
    from parcels.standard_land.indicators import INDICATORS as SL

    for key in [*EFF, *SL, *map_eff.INDICATOR_KEYS, *map_sl.INDICATOR_KEYS]:
        assert key in vocabulary.TERMS, key
    # the efficiency map can draw every indicator a policy can score (it once named two differently)
    assert set(EFF) <= set(map_eff.INDICATOR_KEYS)
    assert set(map_sl.INDICATOR_KEYS) == set(SL)
    for name in ("henan_2019", "zhejiang_huangyan_2022"):
        assert set(load_policy(name).indicator_keys) <= set(map_eff.INDICATOR_KEYS)


def test_schema_fields_that_are_terms_carry_the_terms_label():
    """parcels/schema.py still writes its labels out; until it reads the vocabulary, they must agree."""
    from parcels.schema import LAYERS

    checked = 0
    for layer in LAYERS.values():
        for f in layer.fields:
            if f.name == "name" and layer.name != "enterprises":
                continue  # `name` is a project's, a park's, a road's name on other layers
            if f.name == "high_tech" and layer.name == "land_survey":
                continue  # 高新技术产业用地: a survey patch's land use (SPEC §11), not an enterprise's status
            if vocabulary.known(f.name):
                assert f.label_zh == label_with_unit(f.name), (layer.name, f.name)
                checked += 1
    assert checked >= 20


# --- 亩均效益: the enterprise table and the XLSX report -------------------------------------------

def enterprises() -> pd.DataFrame:
    return small_enterprise_table()


def test_enterprise_table_headers_are_the_vocabulary(monkeypatch):
    from parcels.efficiency.columns import COLUMNS, LABELS_ZH
    from parcels.efficiency.indicators import COLUMN_LABELS_ZH

    mark(monkeypatch, units=True)
    for spec in COLUMNS:
        if vocabulary.known(spec.key):
            assert not spec.own_label, f"{spec.key} keeps its own header"
            assert LABELS_ZH[spec.key] == label_with_unit(spec.key) == spec.label_zh
    assert LABELS_ZH["tax"] == "〔实缴税收〕(〔万元〕)"
    assert dict(COLUMN_LABELS_ZH) == {k: label(k) for k in COLUMN_LABELS_ZH}
    assert COLUMN_LABELS_ZH["land_area_mu"] == "〔用地面积〕"


@pytest.mark.parametrize("policy", ["henan_2019", "zhejiang_huangyan_2022"])
def test_scoring_report_headers_come_from_the_vocabulary(monkeypatch, policy):
    from parcels.efficiency import load_policy, score_enterprises
    from parcels.efficiency.report import AGG_COLUMNS, SUMMARY_RATIOS

    mark(monkeypatch, units=True)
    res = score_enterprises(enterprises(), load_policy(policy))
    keys = res.policy.indicator_keys
    sheets = res.xlsx_frames()

    main = sheets["评价结果"]
    fields = ["enterprise_id", "name", "above_scale", "land_area_mu", "total_score", "rank", "initial_class", "class",
              "year", "consecutive_low", "measures"]
    expected = {label_with_unit(k) for k in fields + list(keys)} | {f"{label(k)}得分" for k in keys} | {"说明"}
    assert set(main.columns) == expected
    assert "〔亩均税收〕(〔万元/亩〕)" in main.columns and "〔亩均税收〕得分" in main.columns

    total = sheets["汇总"]
    assert {label_with_unit("land_area_mu"), label_with_unit("tax"), label_with_unit("tax_per_mu")} <= set(total.columns)

    bench = sheets["基准值"]
    assert set(bench["指标"]) == {label(k) for k in keys}
    assert all(bench["单位"] == [unit(k) for k in res.benchmarks["indicator"]])

    park = sheets["按园区"]
    present = [c for c in AGG_COLUMNS if c in enterprises().columns]
    assert {label_with_unit(c) for c in present} <= set(park.columns)
    assert {label_with_unit(k) for k in SUMMARY_RATIOS} <= set(park.columns)
    assert f"企业{label_with_unit('land_area_mu')}" in park.columns and label("district") in sheets["按辖区"].columns

    left_out = sheets["不参与评价"]
    assert {label_with_unit(k) for k in ("enterprise_id", "name", "above_scale", "land_area_mu")} <= set(left_out.columns)

    stale = original_headers() & {c for s in sheets.values() for c in map(str, s.columns)}
    assert not stale, f"headers not read from the vocabulary: {sorted(stale)}"


def test_api_result_labels_follow_the_vocabulary(monkeypatch):
    """api/routers/analysis.py writes a run's results with `result_labels_zh`."""
    from parcels.efficiency.report import result_labels_zh

    mark(monkeypatch, units=False)
    labels = result_labels_zh(["tax_per_mu", "va_per_emission"])
    assert labels["tax_per_mu"] == "〔亩均税收〕(万元/亩)" and labels["score_va_per_emission"] == "〔单位排放增加值〕得分"
    assert labels["class"] == "〔调档后等级〕" and labels["enterprise_id"] == "〔统一社会信用代码/企业编号〕"


# --- 标准地: the sheet, the check and their workbooks ----------------------------------------------

INDUSTRIAL = {"id": "RP-1", "seq": 1, "district": "百里奚街道", "name": "工业储备地", "use": "工业", "area_mu": 120.0, "area_m2": 80000.0}


def _cells(wb) -> list[str]:
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return [str(c.value) for ws in load_workbook(buf).worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def test_standard_land_sheet_rows_are_the_vocabulary(monkeypatch):
    from parcels.standard_land import load_rules, parcel_sheet

    rules = load_rules()
    mark(monkeypatch, units=False)
    sheet = parcel_sheet(INDUSTRIAL, rules, "27")
    assert {i["indicator"] for i in sheet.indicators} >= {"investment_intensity", "floor_area_ratio", "tax_per_mu", "revenue_per_mu"}
    for i in sheet.indicators:
        assert i["name"] == label(i["indicator"], STANDARD_LAND) and i["unit"] == unit(i["indicator"])
    assert "〔亩均产值/营业收入〕" in {i["name"] for i in sheet.indicators}
    cells = _cells(sheet.to_workbook())
    for i in sheet.indicators:
        assert i["name"] in cells
    assert {label("parcel_id"), label_with_unit("area_mu"), label_with_unit("area_m2"), label("district")} <= set(cells)
    html = sheet.to_html()
    assert f"<td>{label('area_mu')}</td>" in html and f"<td>{label('parcel_id')}</td>" in html
    for i in sheet.indicators:
        assert f"<td>{i['name']}" in html
    by_industry = parcel_sheet(INDUSTRIAL, rules).by_industry
    assert by_industry and all(b["name"] == label(b["indicator"], STANDARD_LAND) for b in by_industry)


def test_standard_land_check_report_names_are_the_vocabulary(monkeypatch):
    from parcels.standard_land import check_project, load_rules

    rules = load_rules()
    mark(monkeypatch, units=False)
    project = {"land_area_mu": 30, "industry_code": "39", "fixed_asset_investment": 9000, "total_floor_area_m2": 18000,
               "building_footprint_m2": 9000, "expected_tax": 400}
    result = check_project(project, rules)
    names = {i["indicator"]: i["name"] for i in result.indicators}
    assert names and all(n == label(k, STANDARD_LAND) for k, n in names.items())
    cells = set(_cells(result.to_workbook()))
    assert set(names.values()) <= cells and label_with_unit("land_area_mu") in cells
    assert f"<td>{label('land_area_mu')}</td>" in result.to_html()


# --- maps: popups and legend titles ----------------------------------------------------------------

def _parcels(n: int = 2) -> gpd.GeoDataFrame:
    geoms = [box(112.45 + 0.01 * i, 32.98, 112.455 + 0.01 * i, 32.985) for i in range(n)]
    return gpd.GeoDataFrame({"id": [f"IP-{i}" for i in range(n)], "area_mu": [10.0] * n}, geometry=geoms, crs=4490)


def _legend(m):
    from maps.legend import Legend

    return next(c for c in m._children.values() if isinstance(c, Legend)).spec


def test_efficiency_map_popup_and_legend_come_from_the_vocabulary(monkeypatch):
    from maps.base import render_html
    from maps.efficiency import build_efficiency_map, efficiency_popup

    mark(monkeypatch, units=True)
    results = pd.DataFrame({
        "enterprise_id": ["E1", "E2"], "name": ["甲", "乙"], "parcel_id": ["IP-0", "IP-1"], "land_area_mu": [5.0, 6.0],
        "class": ["A", "C"], "initial_class": ["B", "C"], "total_score": [80.0, 40.0], "rank": [1, 2],
        "tax_per_mu": [30.0, 2.0], "va_per_mu": [50.0, 9.0], "energy_per_va": [0.3, 0.9], "flags": ["", ""],
    })
    popup = {f.name: f for f in efficiency_popup(results).fields}
    for key in ("tax_per_mu", "va_per_mu", "energy_per_va", "land_area_mu", "enterprise_id", "total_score", "rank"):
        t = vocabulary.term(key)
        assert (popup[key].label, popup[key].unit, popup[key].digits) == (t.label_zh, t.unit, t.precision), key
    assert popup["class"].label == label("class", MAP) == "〔评价类别〕"
    assert popup["initial_class"].label == label("initial_class", MAP)

    m, ctx = build_efficiency_map(results, _parcels(), indicator="va_per_mu")
    titles = [s.title for s in _legend(m).sections]
    assert f"{label('va_per_mu')}（分位数分级，图层“指标分级”）" in titles
    items = next(s for s in _legend(m).sections if s.title.startswith(label("va_per_mu"))).items
    assert any(i.label.endswith(unit("va_per_mu")) for i in items)
    html = render_html(m, ctx)
    assert label("va_per_mu") in html and label("class", MAP) in html


def test_standard_land_map_popup_comes_from_the_vocabulary(monkeypatch):
    from maps.base import render_html
    from maps.standard_land import INDICATOR_KEYS, build_standard_land_map, popup_fields

    mark(monkeypatch, units=True)
    fields = popup_fields()
    by_name = {f.name: f for f in fields}
    for key in INDICATOR_KEYS:
        t = vocabulary.term(key)
        assert (by_name[key].label, by_name[key].unit, by_name[key].digits) == (t.label_in(STANDARD_LAND), t.unit, t.precision)
    assert by_name["id"].label == by_name["parcel_id"].label == label("parcel_id")
    assert by_name["enterprise_id"].label == label("enterprise_id")
    assert not original_headers() & {f.label for f in fields if vocabulary.known(f.name) or f.name == "id"}

    frame = _parcels(2).assign(verdict=["pass", "fail"], name=["一", "二"], floor_area_ratio=[1.2, 0.6], revenue_per_mu=[500.0, 90.0])
    m, ctx = build_standard_land_map(frame)
    html = render_html(m, ctx)
    assert label("floor_area_ratio") in html and label("revenue_per_mu", STANDARD_LAND) in html
