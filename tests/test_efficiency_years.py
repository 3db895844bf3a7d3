"""Several years in one table (SPEC §5.5), checked against an independent re-implementation.

The reference is bench/bench_scoring.py's row-wise pandas `apply` (the same one
tests/test_efficiency_crosscheck.py uses), run on each year's rows alone; `consecutive_low` is
recomputed here from the reference classes. Two seeds give two different years for the same
enterprise ids, so some firms are in the lowest class in one year and some in both.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from parcels.efficiency import EnterpriseTableError, normalize_enterprise_table, score_enterprises
from parcels.efficiency.report import public_frame, public_html
from parcels.efficiency.years import score_years

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_scoring.py"
N = 800


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_scoring", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def two_years(bench):
    a = bench.synthetic(N, seed=11).assign(year=2023)
    b = bench.synthetic(N, seed=12).assign(year=2024)
    both = pd.concat([a, b], ignore_index=True)
    return both.sample(frac=1.0, random_state=3).reset_index(drop=True)  # years interleaved, any order


def _reference(bench, raw, policy) -> pd.DataFrame:
    totals = bench.apply_scores(raw, policy, raw)
    classes = bench.apply_classes(totals, raw["above_scale"], policy)
    return pd.DataFrame({"total": totals.to_numpy(dtype=float), "class": classes.astype(object).fillna("").to_numpy()},
                        index=raw["enterprise_id"].to_numpy())


def test_two_year_table_scores_each_year_alone(bench, two_years):
    policy = bench.bench_policy()
    res = score_years(two_years, policy)
    assert res.years == [2023, 2024]
    low_before = None
    seen_one, seen_both = 0, 0
    for year in (2023, 2024):
        raw = two_years[two_years["year"] == year].reset_index(drop=True)
        ref = _reference(bench, raw, policy)
        mine = res.by_year[year].results.set_index("enterprise_id")
        assert (mine["year"] == year).all()
        got = mine["total_score"].reindex(ref.index).to_numpy(dtype=float, na_value=np.nan)
        assert np.array_equal(np.isnan(got), np.isnan(ref["total"].to_numpy()))
        assert np.nanmax(np.abs(got - ref["total"].to_numpy())) < 1e-9
        assert (mine["class"].reindex(ref.index).astype(object).fillna("").to_numpy() == ref["class"].to_numpy()).all()
        # consecutive_low recomputed from the reference classes (D is the lowest class of both groups)
        low = ref["class"] == "D"
        expect = low.astype(int) if low_before is None else (low.astype(int) * (1 + low_before.reindex(ref.index).fillna(0).astype(int)))
        got_cl = mine["consecutive_low"].reindex(ref.index).fillna(0).astype(int)
        assert (got_cl == expect).all()
        if low_before is not None:
            seen_both = int((expect == 2).sum())
            seen_one = int((expect == 1).sum())
        low_before = expect
    assert seen_both > 0 and seen_one > 0  # firms low in both years and firms low only this year


def test_each_year_is_benchmarked_on_its_own(bench, two_years):
    policy = bench.bench_policy()
    res = score_years(two_years, policy)
    b = res.benchmarks.set_index(["year", "group", "indicator"])["benchmark"]
    only_2024 = score_enterprises(two_years[two_years["year"] == 2024].reset_index(drop=True), policy)
    ref = only_2024.benchmarks.set_index(["group", "indicator"])["benchmark"]
    assert np.allclose(b.loc[2024].reindex(ref.index).to_numpy(), ref.to_numpy(), rtol=0, atol=1e-12)
    assert not np.allclose(b.loc[2023].reindex(ref.index).to_numpy(), ref.to_numpy())


def test_an_adjustment_for_one_year_leaves_the_other_alone(bench, two_years):
    policy = bench.bench_policy()
    plain = score_years(two_years, policy)
    r23 = plain.by_year[2023].results.set_index("enterprise_id")
    eid = r23.index[r23["class"] == "A"][0]
    adj = pd.DataFrame({"enterprise_id": [eid], "class": ["D"], "reason": ["2023 年安全生产事故"], "year": [2023], "policy": [""]})
    res = score_years(two_years, policy, adjustments=adj)
    a23 = res.by_year[2023].results.set_index("enterprise_id").loc[eid]
    a24 = res.by_year[2024].results.set_index("enterprise_id").loc[eid]
    assert a23["class"] == "D" and a23["initial_class"] == "A" and a23["consecutive_low"] == 1
    assert a24["class"] == plain.by_year[2024].results.set_index("enterprise_id").loc[eid, "class"]
    # named for another policy: applies nowhere under this one
    other = score_years(two_years, policy, adjustments=adj.assign(policy="henan_2019"))
    assert other.by_year[2023].results.set_index("enterprise_id").loc[eid, "class"] == "A"
    # a record without a year (before SPEC §5.5) applies to no year
    legacy = score_years(two_years, policy, adjustments=adj.assign(year=None))
    assert legacy.by_year[2023].results.set_index("enterprise_id").loc[eid, "class"] == "A"


def test_history_continues_the_count(bench, two_years):
    """A one-year table continues `consecutive_low` from the stored previous year."""
    policy = bench.bench_policy()
    both = score_years(two_years, policy)
    r23 = both.by_year[2023].results
    history = pd.DataFrame({"enterprise_id": r23["enterprise_id"], "year": 2023, "consecutive_low": r23["consecutive_low"].fillna(0)})
    alone = score_years(two_years[two_years["year"] == 2024], policy, history=history)
    a = alone.by_year[2024].results.set_index("enterprise_id")["consecutive_low"]
    b = both.by_year[2024].results.set_index("enterprise_id")["consecutive_low"]
    assert a.equals(b.reindex(a.index))


def test_duplicate_enterprise_year_is_refused_with_the_row():
    t = pd.DataFrame({"enterprise_id": ["E1", "E1", "E1"], "year": [2023, 2024, 2024], "tax": [1, 2, 3]})
    with pytest.raises(EnterpriseTableError) as e:
        normalize_enterprise_table(t)
    assert e.value.errors[0]["row"] == 3 and "每个年度只能有一行" in e.value.errors[0]["message"]
    no_year = pd.DataFrame({"enterprise_id": ["E1", "E1"], "tax": [1, 2]})
    with pytest.raises(EnterpriseTableError, match="错误"):
        normalize_enterprise_table(no_year)


def test_measures_follow_class_and_consecutive_years():
    from parcels.efficiency import load_policy

    policy = load_policy("zhejiang_huangyan_2022")
    rows = []
    for year in (2022, 2023, 2024):
        for i in range(20):
            rows.append({"enterprise_id": f"E{i:02d}", "year": year, "above_scale": "否", "land_area_mu": 10,
                         "tax": 100.0 - i if i != 19 else 0.5, "electricity": 50.0})
    res = score_years(pd.DataFrame(rows), policy)
    last = {y: res.by_year[y].results.set_index("enterprise_id").loc["E19"] for y in (2022, 2023, 2024)}
    assert [int(last[y]["consecutive_low"]) for y in (2022, 2023, 2024)] == [1, 2, 3]
    assert "0.05 元/千瓦时" in last[2022]["measures"] and "0.1 元/千瓦时" in last[2023]["measures"]
    assert "0.15 元/千瓦时" in last[2024]["measures"] and "山东" in last[2024]["measures"]  # marked as another province's rule
    assert res.by_year[2024].results.set_index("enterprise_id").loc["E00", "measures"] == ""
    sheet = res.xlsx_frames()["差别化措施"]
    assert list(sheet["标准"]) == [0.05, 0.10, 0.15] and sheet["来源"].str.contains("鲁政字").all()


def test_public_list_has_no_economic_column(bench, two_years):
    res = score_years(two_years, bench.bench_policy())
    pub = public_frame(res.results)
    assert list(pub.columns) == ["评价年度", "评价等级", "企业名称", "统一社会信用代码"]
    assert len(pub) == int(res.results["class"].notna().sum())
    html = public_html(res.results, res.policy_name)
    for word in ("税", "收入", "得分", "亩均", "排名", "能耗"):
        assert word not in html.split("<table>", 1)[1], word


def test_a_measure_without_source_or_status_is_refused_naming_the_key():
    from parcels.efficiency import PolicyError, parse_policy_text

    text = """
name = "t"
[above_scale]
classing = "share"
classes = { A = 0.5, D = 0.5 }
[[above_scale.indicator]]
key = "tax_per_mu"
weight = 100
benchmark = "mean"
cap = 3
[[measures]]
class = "D"
name = "用电加价"
value = 0.05
unit = "元/千瓦时"
"""
    with pytest.raises(PolicyError) as e:
        parse_policy_text(text)
    fields = {x["field"] for x in e.value.errors}
    assert {"measures[1].source", "measures[1].status"} <= fields
    with pytest.raises(PolicyError) as e:
        parse_policy_text(text.replace('class = "D"', 'class = "E"') + 'source = "x"\nstatus = "confirmed"\n')
    assert "measures[1].class" in {x["field"] for x in e.value.errors}
