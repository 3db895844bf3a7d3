"""Output of SPEC §5.3: the exact CSV columns, XLSX sheets with Chinese headers and summaries."""

from __future__ import annotations

import pandas as pd
import pytest

from gis.io import write_workbook
from efficiency_support import small_enterprise_table
from parcels.efficiency import load_policy, score_enterprises


def table():
    return small_enterprise_table().drop(columns=["value_added", "output_value"])


def test_csv_columns_are_exactly_the_spec_ones():
    res = score_enterprises(table(), load_policy("henan_2019"))
    keys = ["tax_per_mu", "revenue_per_mu", "profit_per_mu", "revenue_per_energy", "rd_intensity", "labor_productivity"]
    expected = (["enterprise_id", "name", "above_scale", "land_area_mu"] + keys + [f"score_{k}" for k in keys]
                + ["total_score", "rank", "initial_class", "class", "flags", "year", "consecutive_low", "measures"])
    assert list(res.results.columns) == expected
    csv = res.csv_frame()
    assert list(csv.columns) == expected
    # reading order: 规上 by rank, then 规下 by rank, unscored last
    above = csv[csv["above_scale"] == True]  # noqa: E712
    assert above["rank"].is_monotonic_increasing
    assert csv.index[csv["above_scale"] == False].min() > csv.index[csv["above_scale"] == True].max()  # noqa: E712
    assert res.policy_name == load_policy("henan_2019").name
    # 规下 E10 has 9 亩 ≥ 5, E09 has 4 亩 < 5: not evaluated
    r = res.results.set_index("enterprise_id")
    assert pd.isna(r.loc["E09", "class"]) and r.loc["E10", "class"] in ("A", "B", "C")


def test_xlsx_frames_have_chinese_headers_and_summaries(tmp_path):
    res = score_enterprises(table(), load_policy("henan_2019"))
    sheets = res.xlsx_frames()
    assert {"评价结果", "汇总", "按园区", "按辖区", "基准值", "不参与评价", "评价说明"} <= set(sheets)
    main = sheets["评价结果"]
    assert {"统一社会信用代码/企业编号", "企业名称", "亩均税收(万元/亩)", "亩均税收得分", "综合得分", "排名", "初评等级", "调档后等级"} <= set(main.columns)
    assert set(main["是否规上"]) == {"是", "否"}
    summary = sheets["汇总"].set_index("企业类别")
    assert summary.loc["规上企业", "企业数"] == 8 and summary.loc["规下企业", "不参与评价"] == 1
    # 规上 A count: floor(8 × 0.15 + 0.5) = 1; C: floor(0.8 + 0.5) = 1
    assert summary.loc["规上企业", "A类"] == 1 and summary.loc["规上企业", "C类"] == 1
    park = sheets["按园区"].set_index("园区")
    assert park.loc["光电产业园", "企业数"] == 6
    assert park.loc["光电产业园", "企业用地面积(亩)"] == pytest.approx(95.0)
    assert park.loc["光电产业园", "亩均税收(万元/亩)"] == round(550 / 95, 2)  # presentation: 2 decimals (SPEC §5.5)
    assert (main["亩均税收(万元/亩)"].dropna() == main["亩均税收(万元/亩)"].dropna().round(2)).all()
    assert "差别化措施" in sheets
    assert any("假设" in str(x) for x in sheets["评价说明"]["项目"])
    path = write_workbook(sheets, tmp_path / "评价.xlsx")
    from openpyxl import load_workbook

    wb = load_workbook(path)
    assert "汇总" in wb.sheetnames and wb["评价结果"]["A1"].value == "统一社会信用代码/企业编号"


def test_summary_by_district_and_class_counts():
    res = score_enterprises(table(), load_policy("henan_2019"))
    s = res.summary("district").set_index("district")
    assert s.loc["卧龙区", "enterprises"] == 12
    assert s.loc["卧龙区", "land_area_mu"] == pytest.approx(186.0)
    assert s.loc["卧龙区", "tax"] == pytest.approx(1202.0)
    counts = res.class_counts("park")
    assert int(counts.to_numpy().sum()) == int(res.results["class"].notna().sum())
    with pytest.raises(ValueError):
        res.summary("nothing")
