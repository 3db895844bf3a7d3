"""Policy files (SPEC §5.2): bundled schemes load and cite sources; bad files are refused in
Chinese, naming the key."""

from __future__ import annotations

from fractions import Fraction

import pytest

from parcels.efficiency import DEFAULT_POLICY, PolicyError, bundled_policies, load_policy, parse_policy_text

GOOD = """
name = "示例"
source = "测试"
[above_scale]
classing = "share"
classes = { A = 0.2, B = 0.5, C = 0.25, D = 0.05 }
[[above_scale.indicator]]
key = "tax_per_mu"
weight = 40
benchmark = "mean"
cap = 3.0
"""


def test_bundled_policies_and_default():
    names = bundled_policies()
    assert {"zhejiang_huangyan_2022", "henan_2019"} <= set(names)
    assert DEFAULT_POLICY in names
    for n in names:
        p = load_policy(n)
        assert p.source and "http" in p.source, n  # each cites its source
        assert p.assumptions, n  # and says which parts are assumptions


def test_bundled_huangyan_weights_and_benchmarks_are_the_published_ones():
    p = load_policy("zhejiang_huangyan_2022")
    above = {r.key: (r.weight, r.benchmark) for r in p.groups["above_scale"].indicators}
    assert above == {
        "tax_per_mu": (30, 24.097), "va_per_mu": (20, 136.16), "va_per_energy": (20, 2.694),
        "va_per_emission": (10, 4929.81), "labor_productivity": (10, 18.14), "rd_intensity": (10, 3.02),
    }
    below = {r.key: (r.weight, r.benchmark) for r in p.groups["below_scale"].indicators}
    assert below == {"tax_per_mu": (50, 11.5932), "tax_per_electricity": (50, 0.2352)}
    emission = next(r for r in p.groups["above_scale"].indicators if r.key == "va_per_emission")
    assert emission.missing == "group_mean_score"
    assert p.inefficient.classes == ("D",)


def test_bundled_henan_2019_is_the_a_b_c_scheme():
    p = load_policy("henan_2019")
    g = p.groups["above_scale"]
    assert g.classing == "henan2019"
    assert dict(g.classes) == {"A": Fraction(15, 100), "C": Fraction(1, 10)}
    assert (g.a_pool, g.a_resort, g.c_pool) == (Fraction(1, 2), "tax_per_mu", Fraction(1, 2))
    assert p.groups["below_scale"].min_land_mu == 5
    assert "floor_area_ratio_below" in p.inefficient.unverified


def test_policy_from_a_file_path(tmp_path):
    f = tmp_path / "my.toml"
    f.write_text(GOOD, encoding="utf-8")
    p = load_policy(f)
    assert p.name == "示例" and p.id == "my"
    assert p.groups["above_scale"].indicators[0].floor == 0.0  # default floor


@pytest.mark.parametrize(
    "change, key",
    [
        (("cap = 3.0\n", ""), "above_scale.indicator[1].cap"),
        (('key = "tax_per_mu"', 'key = "tax_per_acre"'), "above_scale.indicator[1].key"),
        (('classing = "share"', 'classing = "quota"'), "above_scale.classing"),
        (("D = 0.05", "D = 0.10"), "above_scale.classes"),
        (('benchmark = "mean"', 'benchmark = "average"'), "above_scale.indicator[1].benchmark"),
        (('benchmark = "mean"', "benchmark = -2"), "above_scale.indicator[1].benchmark"),
        (("weight = 40", 'weight = "40"'), "above_scale.indicator[1].weight"),
        (("cap = 3.0", "cap = 3.0\nfloor = 4.0"), "above_scale.indicator[1].floor"),
        (("cap = 3.0", 'cap = 3.0\nmissing = "zero"'), "above_scale.indicator[1].missing"),
    ],
)
def test_bad_policy_names_the_key(change, key):
    text = GOOD.replace(*change)
    assert text != GOOD
    with pytest.raises(PolicyError) as e:
        parse_policy_text(text)
    assert key in str(e.value)
    assert any(err["field"] == key for err in e.value.errors)
    assert isinstance(e.value, ValueError)


def test_henan2019_needs_a_and_c_and_known_resort_keys():
    text = GOOD.replace('classing = "share"', 'classing = "henan2019"').replace(
        "classes = { A = 0.2, B = 0.5, C = 0.25, D = 0.05 }", 'classes = { A = 0.15 }\na_resort = "nope"')
    with pytest.raises(PolicyError) as e:
        parse_policy_text(text)
    fields = {err["field"] for err in e.value.errors}
    assert {"above_scale.classes", "above_scale.a_resort"} <= fields


def test_unknown_name_and_invalid_toml():
    with pytest.raises(PolicyError) as e:
        load_policy("no_such_policy")
    assert "henan_2019" in str(e.value)  # lists the bundled ones
    with pytest.raises(PolicyError):
        parse_policy_text("name = ")


def test_unknown_keys_are_warnings_not_silence():
    p = parse_policy_text(GOOD.replace("cap = 3.0", "cap = 3.0\nwieght = 2"))
    assert any("wieght" in w for w in p.warnings)


def test_threshold_default_class_is_the_next_letter():
    p = parse_policy_text(GOOD.replace('classing = "share"', 'classing = "threshold"').replace(
        "classes = { A = 0.2, B = 0.5, C = 0.25, D = 0.05 }", "classes = { B = 60, A = 90, C = 30 }"))
    g = p.groups["above_scale"]
    assert [c for c, _ in g.classes] == ["A", "B", "C"] and g.default_class == "D"
    assert g.class_names == ["A", "B", "C", "D"]
