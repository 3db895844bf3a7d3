"""开发区土地集约利用评价 (issue 15, SPEC §11) on both stores: a hand-worked survey, refusals, derivation.

The survey (tests/intensity_support.py) is eight rectangles drawn in EPSG:4546, so their plane
areas are known exactly; each expected value below is worked out from the formula text of SPEC §11
(areas in hectares), not from landgis's code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from intensity_support import SURVEY_ROWS, load_ledger, load_zone, rect, survey_file

FIXTURES = Path(__file__).parent / "fixtures" / "intensity"

# Hectares of the hand-made survey: S1 3, S2 1, S3 2, S4 0.5 (built); S5 1, S6 1.5 (ready); S7 1; S8 0.25.
A = 3 + 1 + 2 + 0.5  # 已建成城镇建设用地
A2 = 3 + 1  # 工矿仓储 built
D = 3 + 1 + 2 + 1  # supplied: S1, S2, S3, S5
BUILT_OR_READY = A + 1 + 1.5
POPULATION = 13000.0
EXPECTED = {
    "supply_rate": (3 + 1 + 2 + 1) / BUILT_OR_READY * 100,  # supplied ∩ (built ∪ ready) / (built ∪ ready)
    "built_rate": (3 + 1 + 2) / D * 100,  # built ∩ supplied / supplied
    "industrial_land_rate": A2 / A * 100,
    "high_tech_land_rate": 3 / A * 100,  # S1 only
    "composite_far": (36000 + 8000 + 50000 + 6000) / (A * 10000),
    "building_density": (18000 + 5000 + 6000 + 2000) / (A * 10000) * 100,
    "industrial_far": (36000 + 8000) / (A2 * 10000),
    "industrial_coverage": (18000 + 5000) / (A2 * 10000) * 100,
    "industrial_investment_intensity": (30000 + 9000) / A2,  # 万元 / 公顷
    "industrial_tax_per_ha": (2400 + 500) / A2,
    "composite_tax_per_ha": (2400 + 500 + 100 + 300) / A,
    "population_density": POPULATION / A,
    "idle_rate": 1 / D * 100,  # S5
}


@pytest.fixture
def surveyed(store, tmp_path):
    from services.imports import import_file

    load_zone(store, tmp_path)
    load_ledger(store, tmp_path)
    import_file(store, "land_survey", survey_file(tmp_path), user="test")
    return store


def test_every_indicator_matches_the_hand_worked_survey(surveyed):
    from services.intensity import intensity_report

    doc = intensity_report(surveyed, 2025, population=POPULATION)
    got = {i["key"]: i for i in doc["indicators"]}
    assert set(got) == set(EXPECTED)
    for key, value in EXPECTED.items():
        assert got[key]["value"] == pytest.approx(value, rel=1e-6), key
        assert set(got[key]) >= {"key", "name", "value", "unit", "formula", "national", "source", "status"}
        assert got[key]["derived"] is None  # a survey, not a derivation
    national = json.loads((FIXTURES / "national.json").read_text(encoding="utf-8"))
    for key, (value, year) in national.items():
        assert got[key]["national"] == value and got[key]["national_year"] == year and got[key]["source"], key
        assert got[key]["status"] == "unverified"  # secondary sources only (fixtures/intensity/SOURCE.md)
    assert doc["areas_ha"]["built"] == pytest.approx(A) and doc["areas_ha"]["total"] == pytest.approx(10.25)
    # 潜力: ready and unsupplied = S6 (1.5 ha); supply 2023–2025 = 1 + 0.5 + 1.5 ha → 1 ha a year (2022's 2 ha is outside)
    p = doc["potential"]
    assert p["ready_unsupplied_ha"] == pytest.approx(1.5) and p["mean_yearly_supply_ha"] == pytest.approx(1.0)
    assert p["years_of_supply"] == pytest.approx(1.5) and p["supply_by_year_ha"] == pytest.approx({"2023": 1.0, "2024": 0.5, "2025": 1.5})
    # 住宅 2 ha of 6.5 ha built = 30.8 % ≥ 25 % → 产城融合型, by a rule marked unverified
    assert doc["zone_type"]["type"] == "产城融合型" and doc["zone_type"]["status"] == "unverified"
    assert doc["score"] is None  # no weights named: no 集约度
    scored = intensity_report(surveyed, 2025, population=POPULATION, weights="sample")
    assert scored["score"]["status"] == "sample" and "示例" in scored["score"]["note"]
    # supply_rate 77.78 of ideal 100 → 77.78 points; idle 14.29 % is past the worst (5 %) → 0 points
    items = {i["key"]: i["score"] for i in scored["score"]["items"]}
    assert items["supply_rate"] == pytest.approx(EXPECTED["supply_rate"], rel=1e-4) and items["idle_rate"] == 0.0


def test_survey_land_in_the_planned_expansion_is_kept_apart(surveyed, tmp_path):
    from services.imports import import_file
    from services.intensity import intensity_report

    extra = [("X1", "built", True, False, "工矿仓储", False, 1000.0, 500.0, 10.0, 10.0, rect(100, -500, 100, 100))]
    import_file(surveyed, "land_survey", survey_file(tmp_path, extra, "extra.gpkg"), user="test")
    doc = intensity_report(surveyed, 2025, population=POPULATION)
    assert doc["survey"]["expansion_features"] == 1 and any("现状范围之外" in n for n in doc["survey"]["notes"])
    assert {i["key"]: i["value"] for i in doc["indicators"]}["composite_far"] == pytest.approx(EXPECTED["composite_far"], rel=1e-6)


BAD = {
    "outside": ([("B1", "built", True, False, "工矿仓储", False, 10.0, 5.0, 1.0, 1.0, rect(2600, 2600, 100, 100))], (1, "geometry"), "高新区范围"),
    "status": ([("B1", "已建成", True, False, "工矿仓储", False, 10.0, 5.0, 1.0, 1.0, rect(100, 700, 50, 50)),
                ("B2", "building", True, False, "工矿仓储", False, 10.0, 5.0, 1.0, 1.0, rect(200, 700, 50, 50))], (2, "status"), "土地利用状况"),
    "land_use": ([("B1", "built", True, False, "工业仓库区", False, 10.0, 5.0, 1.0, 1.0, rect(100, 700, 50, 50))], (1, "land_use"), "土地用途"),
    "negative floor": ([("B1", "built", True, False, "工矿仓储", False, 10.0, 5.0, 1.0, 1.0, rect(100, 700, 50, 50)),
                        ("B2", "built", True, False, "工矿仓储", False, -10.0, 5.0, 1.0, 1.0, rect(200, 700, 50, 50))], (2, "floor_area_m2"), "总建筑面积"),
    "negative tax": ([("B1", "built", True, False, "商服", False, 10.0, 5.0, None, -3.0, rect(100, 700, 50, 50))], (1, "tax_wan"), "税收总额"),
    "footprint over area": ([("B1", "built", True, False, "工矿仓储", False, 10.0, 2600.0, 1.0, 1.0, rect(100, 700, 50, 50))], (1, "footprint_m2"), "建筑基底面积"),
    "idle unsupplied": ([("B1", "ready", False, True, None, False, None, None, None, None, rect(100, 700, 50, 50))], (1, "idle"), "闲置"),
}


def test_a_bad_survey_is_refused_whole(surveyed, tmp_path):
    """Each bad file (outside the zone, unknown status or use, negative figures, …) is refused whole,
    appended or replacing: the row and field named in Chinese, the store and its history unchanged."""
    from gis.errors import InputError
    from services.imports import import_file

    before = surveyed.read_layer("land_survey").sort_values("id")
    history = len(surveyed.history())
    for n, (case, (rows, (row, field), label)) in enumerate(sorted(BAD.items())):
        for mode in ("append", "replace"):
            with pytest.raises(InputError) as err:
                import_file(surveyed, "land_survey", survey_file(tmp_path, rows, f"bad-{n}-{mode}.gpkg"), user="test", mode=mode)
            assert (row, field) in {(e.row, e.field) for e in err.value.errors}, (case, err.value.render())
            assert label in str(err.value) and "未作任何修改" in str(err.value), case
    after = surveyed.read_layer("land_survey").sort_values("id")
    assert after["id"].tolist() == before["id"].tolist() and after["area_m2"].tolist() == before["area_m2"].tolist()
    assert len(surveyed.history()) == history


def test_a_zone_without_a_survey_is_derived_and_says_so(store, tmp_path):
    from services.imports import import_file
    from services.intensity import intensity_report

    from intensity_support import write_gpkg

    load_zone(store, tmp_path)
    load_ledger(store, tmp_path)  # L1–L4 supplied, not completed: ready and supplied
    parcels = [("IP-1", "工业", 1.2, 50.0, False, rect(100, 100, 200, 150)), ("IP-2", "工业", 0.1, 5.0, True, rect(400, 100, 100, 100))]
    import_file(store, "industrial_parcels", write_gpkg(tmp_path / "ip.gpkg", parcels, ["id", "land_use", "floor_area_ratio", "building_coverage", "idle"], "ip"), user="test")
    doc = intensity_report(store, 2025)
    assert doc["survey"]["kind"] == "derived" and "推导" in doc["survey"]["label"]
    got = {i["key"]: i for i in doc["indicators"]}
    # IP-1 built (3 ha, FAR 1.2, 50 %); IP-2 idle → ready, supplied, idle (1 ha); ledger 5 ha supplied, not built
    assert got["industrial_far"]["value"] == pytest.approx(1.2) and got["industrial_coverage"]["value"] == pytest.approx(50.0)
    assert got["built_rate"]["value"] == pytest.approx(3 / (3 + 1 + 5) * 100) and got["idle_rate"]["value"] == pytest.approx(1 / 9 * 100)
    assert got["industrial_far"]["derived"] and "容积率" in got["industrial_far"]["derived"]
    # built land derived from industrial layers only: rates over all built land are withheld, and why
    for key in ("industrial_land_rate", "composite_far", "building_density"):
        assert got[key]["value"] is None and "没有住宅" in got[key]["note"]
    assert got["industrial_investment_intensity"]["value"] is None and "固定资产" in got["industrial_investment_intensity"]["note"]


def test_the_report_shows_each_indicator_formula_national_figure_and_source(surveyed):
    from io import BytesIO

    from openpyxl import load_workbook

    from parcels.intensity.report import intensity_html, intensity_workbook
    from services.intensity import intensity_report

    doc = intensity_report(surveyed, 2025, population=POPULATION)
    page = intensity_html(doc)
    wb = load_workbook(BytesIO(intensity_workbook(doc)))
    ws = wb["评价指标"]
    header = [c.value for c in ws[2]]
    assert header[:8] == ["指标", "计算公式", "数值", "单位", "全国国家级开发区数值", "全国值年度", "全国值来源", "状态"]
    rows = {r[0]: r for r in ws.iter_rows(min_row=3, max_row=2 + len(doc["indicators"]), values_only=True)}
    for i in doc["indicators"]:
        assert i["name"] in page and i["formula"] in page, i["key"]
        row = rows[i["name"]]
        assert row[1] == i["formula"] and row[2] == pytest.approx(round(i["value"], 2)) and row[7] == "未核实"
        if i["national"] is not None:
            assert f"<td>{i['national']}</td>" in page and i["source"] in page
            assert row[4] == i["national"] and row[6] == i["source"]
    assert "自然资办函〔2023〕215号" in page and "尚可供地年数" in page and "产城融合型" in page
    assert {"土地面积", "潜力与类型", "集约度", "说明"} <= set(wb.sheetnames)


def test_the_sample_survey_is_labelled_and_consistent_with_the_sample_layers():
    """`landgis init` ships a synthetic survey: every polygon says so, lies in the current zone, no
    land twice, and the sample's industrial parcels, idle parcels and ledger land keep their states."""
    import numpy as np
    import shapely

    from gis.crs import plane_area_m2, to_measure
    from parcels.intensity.survey import validate_survey
    from parcels.layers import prepare_features
    from parcels.sample import sample_layers

    layers = sample_layers()
    survey, _ = prepare_features("land_survey", layers["land_survey"])
    assert (survey["geometry_source"] == "schematic").all() and survey["data_source"].str.contains("合成示例数据（synthetic）").all()
    zb = layers["zone_boundary"]
    current = zb.loc[zb["kind"] == "current"].geometry.values[0]
    checked = validate_survey(survey, current)  # every polygon inside the current zone, valid statuses and uses
    g = to_measure(np.asarray(checked.geometry.values, dtype=object))
    total = float(plane_area_m2(np.asarray(checked.geometry.values, dtype=object)).sum())
    assert abs(float(shapely.area(shapely.union_all(g))) - float(shapely.area(g).sum())) < 1.0  # no land counted twice
    zone_m2 = float(plane_area_m2(np.array([current], dtype=object))[0])
    assert 0.97 * zone_m2 < total <= zone_m2 + 1.0  # the current zone, surveyed almost whole
    by_id = checked.set_index("id")
    ip = layers["industrial_parcels"]
    for pid, idle in zip(ip["id"], ip["idle"].astype(bool)):
        row = by_id.loc[f"LS-IP-{pid}"]
        assert row["land_use"] == "工矿仓储" and bool(row["supplied"])
        assert (row["status"], bool(row["idle"])) == (("ready", True) if idle else ("built", False)), pid
    assert {"built", "ready", "not_ready", "unavailable"} <= set(checked["status"])
    assert set(checked.loc[checked["status"] == "built", "land_use"]) == {"工矿仓储", "住宅", "商服", "公共管理与公共服务", "交通运输", "其他"}
