"""亩均 scoring against hand-computed held-out-style tables (SPEC §5.2).

Every expected total, rank and class below was worked out by hand from the SPEC's rules and is
written in the comments; none is produced by the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from parcels.efficiency import AdjustmentError, parse_policy_text, score_enterprises

# --- share classing, mean and median benchmarks, caps, floors, zero denominators, ties --------

SHARE_POLICY = """
name = "测试-份额"
source = "test"
[above_scale]
classing = "share"
classes = { A = 0.3, B = 0.4, C = 0.2, D = 0.1 }
[[above_scale.indicator]]
key = "tax_per_mu"
weight = 60
benchmark = "mean"
cap = 2.0
[[above_scale.indicator]]
key = "va_per_energy"
weight = 40
benchmark = "median"
cap = 1.5
floor = 0.2
"""

SHARE_TABLE = pd.DataFrame({
    "enterprise_id": ["E01", "E02", "E03", "E04", "E05", "E06", "E07"],
    "above_scale": [True] * 7,
    "land_area_mu": [10, 20, 5, 10, 10, 5, 10],
    "tax": [100, 100, 150, 0, 50, 25, 100],
    "value_added": [500, 300, 200, 100, 0, 400, 500],
    "energy_tce": [100, 100, 20, 100, 0, 0, 100],
})
# tax_per_mu mean = 525 / 70 = 7.5; values 10, 5, 30, 0, 5, 5, 10
#   ratios 1.3333, 0.6667, 4→cap 2, 0, 0.6667, 0.6667, 1.3333 → ×60: 80, 40, 120, 0, 40, 40, 80
# va_per_energy defined values 5, 3, 10, 1, 5 (E05, E06 have zero energy) → median 5
#   ratios 1, 0.6, 2→cap 1.5, 0.2 (= floor), E05 0/0 → 0, E06 400/0 → cap 1.5, 1 → ×40:
#   40, 24, 60, 8, 0, 60, 40
# totals: E01 120, E02 64, E03 180, E04 8, E05 40, E06 100, E07 120
# n = 7, boundaries floor(7×0.3+0.5)=2, floor(7×0.7+0.5)=5, floor(7×0.9+0.5)=6, 7
# order: E03 (pos 1, A), E01/E07 tie at pos 2 → both A, E06 pos 4 → B, E02 pos 5 → B,
#        E05 pos 6 → C, E04 pos 7 → D
SHARE_EXPECTED = {
    "E01": (120.0, 2, "A"), "E02": (64.0, 5, "B"), "E03": (180.0, 1, "A"), "E04": (8.0, 7, "D"),
    "E05": (40.0, 6, "C"), "E06": (100.0, 4, "B"), "E07": (120.0, 2, "A"),
}


def _by_id(res) -> pd.DataFrame:
    return res.results.set_index("enterprise_id")


def test_share_classing_matches_hand_computation():
    res = score_enterprises(SHARE_TABLE, parse_policy_text(SHARE_POLICY))
    r = _by_id(res)
    for eid, (total, rank, cls) in SHARE_EXPECTED.items():
        assert r.loc[eid, "total_score"] == pytest.approx(total, abs=1e-6), eid
        assert r.loc[eid, "rank"] == rank, eid
        assert r.loc[eid, "initial_class"] == cls, eid
        assert r.loc[eid, "class"] == cls, eid
    assert r.loc["E03", "score_tax_per_mu"] == pytest.approx(120.0)  # capped at 2 × 60
    assert r.loc["E04", "score_va_per_energy"] == pytest.approx(8.0)  # floored at 0.2 × 40
    assert r.loc["E06", "score_va_per_energy"] == pytest.approx(60.0)  # zero energy, VA > 0 → cap
    assert r.loc["E05", "score_va_per_energy"] == pytest.approx(0.0)  # zero energy, VA = 0 → 0
    assert pd.isna(r.loc["E06", "va_per_energy"])  # undefined value: empty, never inf
    assert "综合能耗为0" in r.loc["E06", "flags"] and "综合能耗为0" in r.loc["E05", "flags"]
    assert r.loc["E01", "tax_per_mu"] == pytest.approx(10.0)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_share_result_independent_of_row_order(seed):
    base = score_enterprises(SHARE_TABLE, parse_policy_text(SHARE_POLICY)).results
    shuffled = SHARE_TABLE.sample(frac=1.0, random_state=seed)
    assert list(shuffled["enterprise_id"]) != list(SHARE_TABLE["enterprise_id"]) or seed == 0
    other = score_enterprises(shuffled, parse_policy_text(SHARE_POLICY)).results
    pd.testing.assert_frame_equal(base, other)  # bit-identical, same row order


def test_boundary_counts_use_exact_arithmetic():
    # n = 10, shares A 0.1 B 0.25 C 0.3 D 0.35: boundaries floor(1+0.5)=1, floor(3.5+0.5)=4,
    # floor(6.5+0.5)=7, 10 → A 1, B 3, C 3, D 3. In binary floating point 0.1 + 0.25 + 0.3 is
    # 0.6499999…, and 10 × that + 0.5 floors to 6: the 7th firm would wrongly be D.
    pol = parse_policy_text("""
name = "t"
[above_scale]
classing = "share"
classes = { A = 0.1, B = 0.25, C = 0.3, D = 0.35 }
[[above_scale.indicator]]
key = "tax_per_mu"
weight = 100
benchmark = 1
cap = 1000
""")
    t = pd.DataFrame({"enterprise_id": list("abcdefghij"), "above_scale": [True] * 10, "land_area_mu": [1.0] * 10,
                      "tax": [10.0, 9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0]})
    r = _by_id(score_enterprises(t, pol))
    assert r["class"].tolist() == ["A", "B", "B", "B", "C", "C", "C", "D", "D", "D"]
    assert r["total_score"].tolist() == pytest.approx([1000, 900, 800, 700, 600, 500, 400, 300, 200, 100])


def test_ties_within_1e9_share_the_best_class():
    pol = parse_policy_text("""
name = "t"
[above_scale]
classing = "share"
classes = { A = 0.5, B = 0.5 }
[[above_scale.indicator]]
key = "tax_per_mu"
weight = 1
benchmark = 1
cap = 1000
""")
    # totals 4, 3 + 4e-10, 3, 1: n = 4, A boundary floor(2.5) = 2 → positions 1, 2 are A;
    # the row at 3 is within 1e-9 of position 2 → A as well
    t = pd.DataFrame({"enterprise_id": ["p", "q", "r", "s"], "above_scale": True, "land_area_mu": 1.0,
                      "tax": [4.0, 3.0 + 4e-10, 3.0, 1.0]})
    r = _by_id(score_enterprises(t, pol))
    assert r["class"].to_dict() == {"p": "A", "q": "A", "r": "A", "s": "B"}
    assert r["rank"].to_dict() == {"p": 1, "q": 2, "r": 2, "s": 4}


# --- threshold classing, numeric benchmark, group-mean for missing data, 加减分 ---------------

THRESHOLD_POLICY = """
name = "测试-分数线"
[above_scale]
classing = "threshold"
classes = { A = 90, B = 60, C = 30 }
[[above_scale.indicator]]
key = "tax_per_mu"
weight = 50
benchmark = 10
cap = 2
[[above_scale.indicator]]
key = "va_per_emission"
weight = 50
benchmark = "mean"
cap = 1.5
missing = "group_mean_score"
[[above_scale.adjustment]]
flag = "high_tech"
points = 5
"""

THRESHOLD_TABLE = pd.DataFrame({
    "enterprise_id": ["T1", "T2", "T3", "T4", "T5", "T6"],
    "above_scale": ["是", "是", "是", "是", "是", "是"],
    "land_area_mu": [10, 10, 10, 20, 10, 10],
    "tax": [100, 200, 50, 300, 60, 120],
    "value_added": [200, 100, 300, 100, 0, 0],
    "emission_eq": [2, 4, None, 1, 0, 5],
    "flags": ["", None, "high_tech", "listed", "listed;high_tech", ""],
})
# tax_per_mu / 10 × 50: T1 10→50, T2 20→2→100, T3 5→25, T4 15→75, T5 6→30, T6 12→60
# va_per_emission mean over rows with data (T3 lacks emissions): 400 / 12 = 33.333
#   T1 100 → 3 → cap 1.5 → 75; T2 25 → 0.75 → 37.5; T4 100 → 75; T5 0/0 → 0; T6 0 → 0
#   group mean item score = (75 + 37.5 + 75 + 0 + 0) / 5 = 37.5 → T3
# bonus +5 for high_tech: T3, T5
# totals: T1 125 A, T2 137.5 A, T3 25 + 37.5 + 5 = 67.5 B, T4 150 A, T5 35 C, T6 60 (= B line) B
THRESHOLD_EXPECTED = {"T1": (125.0, 3, "A"), "T2": (137.5, 2, "A"), "T3": (67.5, 4, "B"),
                      "T4": (150.0, 1, "A"), "T5": (35.0, 6, "C"), "T6": (60.0, 5, "B")}


def test_threshold_classing_with_group_mean_and_bonus():
    res = score_enterprises(THRESHOLD_TABLE, parse_policy_text(THRESHOLD_POLICY))
    r = _by_id(res)
    for eid, (total, rank, cls) in THRESHOLD_EXPECTED.items():
        assert r.loc[eid, "total_score"] == pytest.approx(total, abs=1e-6), eid
        assert r.loc[eid, "rank"] == rank, eid
        assert r.loc[eid, "class"] == cls, eid
    assert r.loc["T3", "score_va_per_emission"] == pytest.approx(37.5)
    assert "平均得分" in r.loc["T3", "flags"]
    assert "+5" in r.loc["T5", "flags"] and "+5" not in r.loc["T4", "flags"]


def test_threshold_default_class_below_the_last_line():
    pol = parse_policy_text(THRESHOLD_POLICY.replace("A = 90, B = 60, C = 30", "A = 200, B = 150, C = 140"))
    r = _by_id(score_enterprises(THRESHOLD_TABLE, pol))
    # totals 125, 137.5, 67.5, 150 (= B line), 35, 60
    assert r["class"].to_dict() == {"T1": "D", "T2": "D", "T3": "D", "T4": "B", "T5": "D", "T6": "D"}


# --- henan2019 --------------------------------------------------------------------------------

HENAN_POLICY = """
name = "测试-河南"
[above_scale]
classing = "henan2019"
classes = { A = 0.15, C = 0.10 }
a_pool = 0.5
a_resort = "va_per_energy"
c_pool = 0.5
c_resort = "revenue_per_energy"
[[above_scale.indicator]]
key = "tax_per_mu"
weight = 1
benchmark = 1
cap = 1000
"""


def henan_table() -> pd.DataFrame:
    # total = tax (land 1, benchmark 1, weight 1). energy 10 except H04 and H09 (0 → undefined).
    rows = [  # id, tax/total, va_per_energy, revenue_per_energy
        ("H01", 100, 5, 50), ("H02", 90, 8, 40), ("H03", 80, 9, 30), ("H04", 70, None, None),
        ("H05", 60, 7, 3), ("H06", 60, 10, 1), ("H07", 40, 1, 5), ("H08", 30, 3, 25),
        ("H09", 20, None, None), ("H10", 10, 6, 12),
    ]
    energy = [0.0 if v is None else 10.0 for _, _, v, _ in rows]
    return pd.DataFrame({
        "enterprise_id": [r[0] for r in rows], "above_scale": True, "land_area_mu": 1.0,
        "tax": [float(r[1]) for r in rows],
        "value_added": [20.0 if r[2] is None else r[2] * 10.0 for r in rows],
        "revenue": [200.0 if r[3] is None else r[3] * 10.0 for r in rows],
        "energy_tce": energy,
    })


# n = 10: A count floor(1.5+0.5)=2, C count floor(1.0+0.5)=1, pools floor(5.5)=5
# A pool: positions 1-5 = H01 H02 H03 H04 + (H05|H06 tied at 60) → both join: {H01…H06}
#   re-sorted by va_per_energy desc, undefined first: H04 (undefined), H06 10 → A = {H04, H06}
# C pool: positions 6-10; its best row is tied at 60 → H05 and H06 join: {H05…H10} minus A (H06)
#   re-sorted by revenue_per_energy asc, undefined last: H05 3, H07 5, … → C = {H05}
#   (H06 has the lowest value, 1, but a row picked for A is not eligible for C)
HENAN_EXPECTED = {"H01": "B", "H02": "B", "H03": "B", "H04": "A", "H05": "C", "H06": "A", "H07": "B",
                  "H08": "B", "H09": "B", "H10": "B"}


def test_henan2019_pools_resort_and_exclusion():
    r = _by_id(score_enterprises(henan_table(), parse_policy_text(HENAN_POLICY)))
    assert r["class"].to_dict() == HENAN_EXPECTED
    assert r["rank"].to_dict() == {"H01": 1, "H02": 2, "H03": 3, "H04": 4, "H05": 5, "H06": 5, "H07": 7,
                                   "H08": 8, "H09": 9, "H10": 10}
    assert r.loc["H04", "total_score"] == pytest.approx(70.0)


@pytest.mark.parametrize("seed", range(6))
def test_henan2019_independent_of_row_order(seed):
    t = henan_table().sample(frac=1.0, random_state=seed).reset_index(drop=True)
    r = _by_id(score_enterprises(t, parse_policy_text(HENAN_POLICY)))
    assert r["class"].to_dict() == HENAN_EXPECTED


def test_henan2019_resort_ties_break_by_total_then_id():
    pol = parse_policy_text("""
name = "t"
[above_scale]
classing = "henan2019"
classes = { A = 0.25, C = 0.25 }
a_pool = 1.0
a_resort = "va_per_energy"
c_pool = 1.0
c_resort = "va_per_energy"
[[above_scale.indicator]]
key = "tax_per_mu"
weight = 1
benchmark = 1
cap = 1000
""")
    # n = 4: one A (floor(1.5)) and one C; every row has the same va_per_energy (2), so re-sort
    # ties break by total desc: A = z (9). C: among x, y (both 8) and w (1), total desc puts x and
    # y first, and as their totals tie too, enterprise_id asc decides: x → C.
    t = pd.DataFrame({"enterprise_id": ["y", "x", "z", "w"], "above_scale": True, "land_area_mu": 1.0,
                      "tax": [8.0, 8.0, 9.0, 1.0], "value_added": 20.0, "energy_tce": 10.0})
    for seed in range(4):
        r = _by_id(score_enterprises(t.sample(frac=1.0, random_state=seed), pol))
        assert r["class"].to_dict() == {"z": "A", "x": "C", "y": "B", "w": "B"}


# --- groups, min_land_mu, unscorable rows -------------------------------------------------------

TWO_GROUP_POLICY = """
name = "两组"
[above_scale]
classing = "share"
classes = { A = 0.5, B = 0.5 }
[[above_scale.indicator]]
key = "tax_per_mu"
weight = 100
benchmark = "mean"
cap = 3
[below_scale]
min_land_mu = 5
classing = "share"
classes = { A = 0.5, B = 0.5 }
[[below_scale.indicator]]
key = "tax_per_mu"
weight = 100
benchmark = "mean"
cap = 3
"""


def test_groups_are_benchmarked_separately_and_min_land_excludes():
    t = pd.DataFrame({
        "enterprise_id": ["U1", "U2", "L1", "L2", "L3"],
        "above_scale": [True, True, False, False, False],
        "land_area_mu": [10, 10, 5, 10, 4.99],
        "tax": [300, 100, 10, 30, 1000],
    })
    r = _by_id(score_enterprises(t, parse_policy_text(TWO_GROUP_POLICY)))
    # 规上 mean 400/20 = 20: U1 30/20 = 1.5 → 150, U2 10/20 → 50
    # 规下 L3 (4.99 亩 < 5) not evaluated; mean over L1, L2 = 40/15: L1 2/(8/3) = 0.75 → 75,
    #   L2 3/(8/3) = 1.125 → 112.5
    assert r.loc["U1", "total_score"] == pytest.approx(150)
    assert r.loc["U2", "total_score"] == pytest.approx(50)
    assert r.loc["L1", "total_score"] == pytest.approx(75)
    assert r.loc["L2", "total_score"] == pytest.approx(112.5)
    assert r.loc["L2", "rank"] == 1 and r.loc["U1", "rank"] == 1
    assert pd.isna(r.loc["L3", "class"]) and pd.isna(r.loc["L3", "total_score"]) and pd.isna(r.loc["L3", "rank"])
    assert "低于 5 亩" in r.loc["L3", "flags"]


def test_unscorable_rows_get_no_class_and_a_reason_never_nan_or_inf(tmp_path):
    t = pd.DataFrame({
        "enterprise_id": ["OK1", "OK2", "NOLAND", "ZERO", "NOSCALE", "TENANT"],
        "above_scale": [True, True, True, True, None, True],
        "land_area_mu": [10, 20, None, 0, 10, None],
        "tax": [100, 100, 50, 50, 50, 80],
        "rented_floor_m2": [None, None, None, None, None, 3000],
    })
    res = score_enterprises(t, parse_policy_text(TWO_GROUP_POLICY))
    r = _by_id(res)
    for eid, word in (("NOLAND", "缺少用地面积"), ("ZERO", "用地面积为0"), ("NOSCALE", "是否规上"), ("TENANT", "租用厂房")):
        assert pd.isna(r.loc[eid, "class"]) and pd.isna(r.loc[eid, "initial_class"]), eid
        assert pd.isna(r.loc[eid, "total_score"]) and pd.isna(r.loc[eid, "rank"]), eid
        assert word in r.loc[eid, "flags"], eid
    # the ranking set is OK1 and OK2 only: mean 200/30; OK1 10/(20/3) = 1.5 → 150
    assert r.loc["OK1", "total_score"] == pytest.approx(150)
    assert r.loc["OK2", "total_score"] == pytest.approx(75)
    out = tmp_path / "r.csv"
    res.csv_frame().to_csv(out, index=False)
    cells = [c.strip().lower() for line in out.read_text(encoding="utf-8").splitlines() for c in line.split(",")]
    assert not {"nan", "inf", "-inf", "<na>", "none"} & set(cells)
    numeric = res.results.select_dtypes("number")
    assert not np.isinf(numeric.to_numpy(dtype=float, na_value=0.0)).any()


def test_group_not_defined_by_policy_is_not_scored():
    pol = parse_policy_text(TWO_GROUP_POLICY.split("[below_scale]")[0])
    t = pd.DataFrame({"enterprise_id": ["a", "b"], "above_scale": [True, False], "land_area_mu": [1, 1], "tax": [1, 1]})
    r = _by_id(score_enterprises(t, pol))
    assert r.loc["a", "class"] == "A" and pd.isna(r.loc["b", "class"])
    assert "未定义规下" in r.loc["b", "flags"]


def test_rd_intensity_and_labor_productivity_formulas():
    pol = parse_policy_text("""
name = "t"
[above_scale]
classing = "threshold"
classes = { A = 1000 }
[[above_scale.indicator]]
key = "rd_intensity"
weight = 10
benchmark = "mean"
cap = 5
[[above_scale.indicator]]
key = "labor_productivity"
weight = 10
benchmark = "median"
cap = 5
""")
    t = pd.DataFrame({"enterprise_id": ["a", "b", "c"], "above_scale": True, "revenue": [1000, 3000, 0],
                      "rd_expense": [50, 30, 0], "value_added": [100, 300, 90], "employees": [10, 10, 3]})
    r = _by_id(score_enterprises(t, pol))  # no per-mu indicator: land is not needed
    # rd_intensity %: a 5, b 1, c 0/0 undefined; mean = 80/4000 × 100 = 2 → a 2.5 × 10, b 0.5 × 10, c 0
    # labor productivity: 10, 30, 30 → median 30 → a 1/3 × 10, b 10, c 10
    assert r.loc["a", "rd_intensity"] == pytest.approx(5.0)
    assert r.loc["a", "total_score"] == pytest.approx(25 + 10 / 3)
    assert r.loc["b", "total_score"] == pytest.approx(5 + 10)
    assert r.loc["c", "total_score"] == pytest.approx(0 + 10)


# --- 调档 -----------------------------------------------------------------------------------------


def test_manual_reclassification_keeps_initial_class_and_reason():
    pol = parse_policy_text(SHARE_POLICY)
    adj = pd.DataFrame({"enterprise_id": ["E04", "E03", "GONE"], "class": ["B", "b", "A"],
                        "reason": ["新投产企业，暂按B类管理", "复核后确认", "已注销"]})
    res = score_enterprises(SHARE_TABLE, pol, adjustments=adj)
    r = _by_id(res)
    assert r.loc["E04", "initial_class"] == "D" and r.loc["E04", "class"] == "B"
    assert "新投产企业" in r.loc["E04", "flags"] and "调档" in r.loc["E04", "flags"]
    assert r.loc["E03", "class"] == "B" and r.loc["E03", "initial_class"] == "A"
    assert r.loc["E01", "class"] == "A" and "调档" not in r.loc["E01", "flags"]
    assert any("GONE" in w for w in res.warnings)
    again = score_enterprises(SHARE_TABLE.iloc[::-1], pol, adjustments=adj)  # a rerun keeps them
    pd.testing.assert_frame_equal(res.results, again.results)


def test_reclassification_to_unknown_class_or_without_reason_is_refused():
    pol = parse_policy_text(SHARE_POLICY)
    with pytest.raises(AdjustmentError) as e:
        score_enterprises(SHARE_TABLE, pol, adjustments=pd.DataFrame({"enterprise_id": ["E01"], "class": ["Z"], "reason": ["x"]}))
    assert "Z" in str(e.value) and e.value.errors[0]["field"] == "class"
    with pytest.raises(AdjustmentError) as e:
        score_enterprises(SHARE_TABLE, pol, adjustments=pd.DataFrame({"enterprise_id": ["E01"], "class": ["B"], "reason": [""]}))
    assert "理由" in str(e.value)


# --- the bundled published scheme --------------------------------------------------------------


def test_bundled_huangyan_reproduces_the_published_formula():
    from parcels.efficiency import load_policy

    pol = load_policy("zhejiang_huangyan_2022")
    # 规上 row exactly at every 2022 benchmark → each item = its weight → 100.
    # 100 employees, VA 1814 (→ 18.14 万元/人), land 1814/136.16 亩, tax 24.097 × land,
    # energy 1814/2.694, emissions 1814/4929.81, R&D / revenue = 0.0302.
    land = 1814 / 136.16
    at = dict(enterprise_id="Z1", above_scale=True, land_area_mu=land, tax=24.097 * land, value_added=1814.0,
              energy_tce=1814 / 2.694, emission_eq=1814 / 4929.81, employees=100, revenue=10000.0, rd_expense=302.0)
    # a second row at twice every benchmark, and one without emission data (group mean item score)
    twice = dict(at, enterprise_id="Z2", tax=2 * 24.097 * land, value_added=3628.0, rd_expense=604.0)
    nodata = dict(at, enterprise_id="Z3", emission_eq=None)
    # 规下: 亩均税收 / 11.5932 × 50 + 单位用电税收 / 0.2352 × 50; tax 115.932 on 10 亩, 1 × 50;
    # electricity such that tax/electricity = 0.2352 / 2 → 0.5 × 50
    small = dict(enterprise_id="S1", above_scale=False, land_area_mu=10.0, tax=115.932, electricity=115.932 / 0.1176)
    t = pd.DataFrame([at, twice, nodata, small])
    r = _by_id(score_enterprises(t, pol))
    assert r.loc["Z1", "total_score"] == pytest.approx(100.0, abs=1e-6)
    # Z2: tax/mu 2× → 60, va/mu 2× → 40, va/energy 2× → 40, va/emission 2× → 20,
    # labour productivity: employees unchanged, VA 2× → 20, R&D 2× → 20 → 200 (cap 2 not binding)
    assert r.loc["Z2", "total_score"] == pytest.approx(200.0, abs=1e-6)
    # Z3: emission item = mean of Z1 (10) and Z2 (20) = 15 → 90 + 15
    assert r.loc["Z3", "score_va_per_emission"] == pytest.approx(15.0, abs=1e-6)
    assert r.loc["Z3", "total_score"] == pytest.approx(105.0, abs=1e-6)
    assert r.loc["S1", "total_score"] == pytest.approx(75.0, abs=1e-6)


def test_scores_are_never_inf_with_extreme_values():
    pol = parse_policy_text(SHARE_POLICY)
    t = SHARE_TABLE.astype({"tax": float, "land_area_mu": float})
    t.loc[0, "tax"] = 1e300
    t.loc[1, "land_area_mu"] = 1e-300
    r = score_enterprises(t, pol).results
    vals = r["total_score"].to_numpy(dtype=float, na_value=np.nan)
    assert np.all(np.isfinite(vals)), vals
    assert all(math.isfinite(v) for v in r["score_tax_per_mu"].dropna())


def test_henan_2019_resorts_c_by_output_per_energy():
    """The C pool is re-sorted by 单位能耗总产值 = 工业总产值 ÷ 综合能耗, as the cited 郑州 2018 scheme
    says — not by 营业收入 ÷ 能耗, which the bundled policy used before."""
    import numpy as np

    from efficiency_support import small_enterprise_table
    from parcels.efficiency import load_policy, score_enterprises

    policy = load_policy("henan_2019")
    assert policy.groups["above_scale"].c_resort == "output_per_energy"
    table = small_enterprise_table()
    details = score_enterprises(table, policy).details.set_index("enterprise_id")
    above = table[table["above_scale"]].set_index("enterprise_id")
    got = details.loc[above.index, "c_resort_value"].astype(float).to_numpy()
    assert np.allclose(got, (above["output_value"] / above["energy_tce"]).to_numpy())
    assert not np.allclose(got, (above["revenue"] / above["energy_tce"]).to_numpy())
