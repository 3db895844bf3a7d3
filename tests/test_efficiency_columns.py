"""The enterprise table of SPEC §5.1: Chinese headers, GBK files, 是/否, and refusals that name
every bad cell."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gis.io import read_table
from parcels.efficiency import EnterpriseTableError, load_policy, normalize_enterprise_table, score_enterprises

GBK_CSV = (
    "统一社会信用代码,企业名称,是否规上,用地面积（亩）,实缴税收(万元),营业收入(万元),工业增加值(万元),"
    "综合能耗(吨标准煤),研发经费支出(万元),利润总额(万元),年平均职工人数,是否高新技术企业\n"
    "91411300MA0001,南阳防爆电气有限公司,是,\"1,200.5\",2400,36000,8000,3000,900,1500,350,是\n"
    "91411300MA0002,中光学配套企业,否,12,60,800,150,40,0,20,30,否\n"
    "91411300MA0003,数字光电科技,是,35,300,9000,1800,600,450,300,120,否\n"
)


def test_gbk_csv_with_chinese_headers_is_normalized(tmp_path):
    path = tmp_path / "企业.csv"
    path.write_bytes(GBK_CSV.encode("gbk"))
    raw = read_table(path)
    t = normalize_enterprise_table(raw)
    for key in ("enterprise_id", "name", "above_scale", "land_area_mu", "tax", "revenue", "value_added",
                "energy_tce", "rd_expense", "profit", "employees", "high_tech"):
        assert key in t.columns, key
    row = t.set_index("enterprise_id").loc["91411300MA0001"]
    assert row["name"] == "南阳防爆电气有限公司"
    assert row["land_area_mu"] == pytest.approx(1200.5)  # thousands separator, full-width header brackets
    assert bool(row["above_scale"]) is True and bool(row["high_tech"]) is True
    assert bool(t.set_index("enterprise_id").loc["91411300MA0002", "above_scale"]) is False
    assert t["tax"].dtype == np.float64
    # and it scores under a bundled policy
    res = score_enterprises(t, load_policy("henan_2019"))
    assert set(res.results["enterprise_id"]) == {"91411300MA0001", "91411300MA0002", "91411300MA0003"}


def test_english_keys_and_aliases_map_the_same():
    a = pd.DataFrame({"enterprise_id": ["x"], "tax": [1.0], "land_area_mu": [2.0], "above_scale": ["yes"]})
    b = pd.DataFrame({"企业编号": ["x"], "实缴税金": ["1"], "用地面积": ["2"], "是否规上": ["是"]})
    ta, tb = normalize_enterprise_table(a), normalize_enterprise_table(b)
    assert ta[["enterprise_id", "tax", "land_area_mu"]].equals(tb[["enterprise_id", "tax", "land_area_mu"]])
    assert bool(ta["above_scale"][0]) and bool(tb["above_scale"][0])


def test_every_bad_cell_is_reported_with_row_and_field():
    df = pd.DataFrame({
        "统一社会信用代码": ["A1", "A2", "A1", None, "A5", "A6"],
        "实缴税收(万元)": ["10", "-3", "5", "1", "abc", "2"],
        "是否规上": ["是", "否", "也许", "是", "是", "是"],
        "年平均职工人数": ["10", "12.5", "3", "4", "5", "6"],
        "用地面积(亩)": ["1", "2", "3", "4", "5", "inf"],
    })
    with pytest.raises(EnterpriseTableError) as e:
        normalize_enterprise_table(df)
    found = {(x["row"], x["field"]) for x in e.value.errors}
    assert (2, "tax") in found  # negative tax
    assert (5, "tax") in found  # not a number
    assert (3, "above_scale") in found  # unreadable 是/否
    assert (2, "employees") in found  # not an integer
    assert (3, "enterprise_id") in found  # duplicate of row 1
    assert (4, "enterprise_id") in found  # empty id
    assert (6, "land_area_mu") in found  # infinite
    assert isinstance(e.value, ValueError)
    msg = str(e.value)
    assert "第2行" in msg and "负数" in msg and "重复" in msg
    dup = next(x for x in e.value.errors if x["row"] == 3 and x["field"] == "enterprise_id")
    assert "第1行" in dup["message"]


def test_missing_enterprise_id_column_is_refused():
    with pytest.raises(EnterpriseTableError) as e:
        normalize_enterprise_table(pd.DataFrame({"企业名称": ["甲"], "实缴税收": [1]}))
    assert e.value.errors[0]["field"] == "enterprise_id"
    assert "企业编号" in str(e.value)


def test_score_enterprises_validates_raw_tables_too():
    with pytest.raises(EnterpriseTableError):
        score_enterprises(pd.DataFrame({"enterprise_id": ["a", "a"], "tax": [1, 2]}), load_policy("henan_2019"))
    with pytest.raises(EnterpriseTableError):
        score_enterprises(pd.DataFrame({"enterprise_id": ["a"], "tax": [-1.0]}), load_policy("henan_2019"))


def test_edited_normalized_table_is_rechecked():
    t = normalize_enterprise_table(pd.DataFrame({"enterprise_id": ["a", "b"], "tax": [1.0, 2.0],
                                                 "land_area_mu": [1.0, 1.0], "above_scale": [True, True]}))
    t.loc[1, "tax"] = -5.0
    with pytest.raises(EnterpriseTableError):
        score_enterprises(t, load_policy("henan_2019"))


def test_excel_style_numeric_ids_lose_the_trailing_zero():
    t = normalize_enterprise_table(pd.DataFrame({"企业编号": [1001.0, 1002.0], "实缴税收": [1, 2]}))
    assert list(t["enterprise_id"]) == ["1001", "1002"]


def test_unknown_columns_are_kept_and_rows_sorted_by_id():
    t = normalize_enterprise_table(pd.DataFrame({"enterprise_id": ["b", "a"], "备注": ["二", "一"]}))
    assert list(t["enterprise_id"]) == ["a", "b"] and list(t["备注"]) == ["一", "二"]


def test_shuffled_normalized_table_still_scores_identically():
    from parcels.efficiency import parse_policy_text

    pol = parse_policy_text("""
name = "t"
[above_scale]
classing = "share"
classes = { A = 0.5, B = 0.5 }
[[above_scale.indicator]]
key = "tax_per_mu"
weight = 100
benchmark = "mean"
cap = 3
""")
    rng = np.random.default_rng(3)
    raw = pd.DataFrame({"enterprise_id": [f"id{i:03d}" for i in range(50)], "above_scale": True,
                        "land_area_mu": rng.uniform(1, 20, 50), "tax": rng.uniform(0, 100, 50)})
    t = normalize_enterprise_table(raw)
    base = score_enterprises(t, pol).results
    shuffled = t.sample(frac=1.0, random_state=1)  # keeps the attrs of a normalized frame
    pd.testing.assert_frame_equal(base, score_enterprises(shuffled, pol).results)
    pd.testing.assert_frame_equal(base, score_enterprises(normalize_enterprise_table(shuffled), pol).results)
