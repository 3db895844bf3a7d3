"""标准地 rule sets as data: bundled values, statuses, the 2002→2017 mapping, and file errors."""

from __future__ import annotations

import pytest

from parcels.standard_land import RuleFileError, bundled_rule_sets, load_rules
from parcels.standard_land.industry import load_mapping, normalize_code

# 容积率 minima of the 2008 table 2 by GB/T 4754-2002 code, typed from DOMAIN.md §3.3 (not read
# from the TOML under test).
FAR_2008 = {
    "13": 1.0, "14": 1.0, "15": 1.0, "16": 1.0, "17": 0.8, "18": 1.0, "19": 1.0, "20": 0.8, "21": 0.8,
    "22": 0.8, "23": 0.8, "24": 1.0, "25": 0.5, "26": 0.6, "27": 0.7, "28": 0.8, "29": 0.8, "30": 1.0,
    "31": 0.7, "32": 0.6, "33": 0.6, "34": 0.7, "35": 0.7, "36": 0.7, "37": 0.7, "39": 0.7, "40": 1.0,
    "41": 1.0, "42": 1.0, "43": 0.7,
}


@pytest.fixture(scope="module")
def all_rules():
    return load_rules()


def test_bundled_sets_listed_and_mapping_file_excluded():
    names = bundled_rule_sets()
    assert names[:3] == ["national_2008", "national_2023", "henan_3n1_sample"]
    assert "gbt4754_2002_to_2017" not in names


def test_statuses_per_set(all_rules):
    by_set: dict[str, set[str]] = {}
    for r in all_rules.rules:
        by_set.setdefault(r.rule_set, set()).add(r.status)
    assert by_set["national_2008"] == {"confirmed"}
    assert by_set["national_2023"] == {"unverified"}
    assert by_set["henan_3n1_sample"] == {"sample"}
    assert by_set["warehouse_guideline"] == {"unverified"}
    assert all(r.source.strip() for r in all_rules.rules)


def test_national_2008_general_limits(all_rules):
    rules = {(r.key, r.op): r.limit for r in all_rules.rules if r.rule_set == "national_2008" and r.key != "floor_area_ratio"}
    assert rules == {("building_coverage", ">="): 30.0, ("office_living_share", "<="): 7.0, ("green_ratio", "<="): 20.0}
    assert not any(r.key == "investment_intensity" for r in all_rules.rules if r.rule_set == "national_2008")


def test_national_2008_far_table_matches_domain(all_rules):
    far = {next(iter(r.scope.industry_2002)): r.limit for r in all_rules.rules if r.rule_set == "national_2008" and r.key == "floor_area_ratio"}
    assert far == FAR_2008


def test_henan_slots_3_n_1(all_rules):
    slots = {r.key: r.slot for r in all_rules.rules if r.rule_set == "henan_3n1_sample"}
    assert {k for k, s in slots.items() if s == "3"} == {"investment_intensity", "floor_area_ratio", "tax_per_mu"}
    info = all_rules.info("henan_3n1_sample")
    assert [s["slot"] for s in info.slots] == ["1"]


@pytest.mark.parametrize("c2002,c2017", [("40", ("39",)), ("39", ("38",)), ("35", ("34",)), ("36", ("35",)), ("37", ("36", "37")), ("30", ("29",)), ("27", ("27",))])
def test_mapping_2002_to_2017(c2002, c2017):
    m = load_mapping()
    assert m.to_2017[c2002] == c2017
    assert m.status == "unverified"


def test_mapping_never_identity_for_shifted_codes():
    m = load_mapping()
    # 2017 code 39 (computers) must come from 2002 code 40, not from 2002 code 39 (electrical).
    assert m.to_2002["39"] == ("40",)
    assert m.to_2002["38"] == ("39",)
    assert m.to_2002["29"] == ("29", "30")


@pytest.mark.parametrize("raw,code", [("27", "27"), (27, "27"), ("C39", "39"), ("2710", "27"), (" 38 ", "38"), ("", None), (None, None)])
def test_normalize_code(raw, code):
    assert normalize_code(raw) == code


@pytest.mark.parametrize("raw", ["abc", "7", 27.5, True, "12345"])
def test_normalize_code_rejects(raw):
    with pytest.raises(ValueError):
        normalize_code(raw)


def _write(tmp_path, body: str, name="custom.toml"):
    p = tmp_path / name
    p.write_text(body, encoding="utf-8")
    return str(p)


GOOD = '''
name = "测试规则"
source = "测试来源"
status = "sample"
[[rule]]
id = "t.far"
key = "floor_area_ratio"
op = ">="
limit = 1.5
scope = { industry = ["39"] }
'''


def test_load_by_path_and_comma_list(tmp_path):
    path = _write(tmp_path, GOOD)
    rs = load_rules([f"national_2008,{path}"])
    assert rs.names == ["national_2008", "custom"]
    r = rs.by_id()["t.far"]
    assert r.phases == ("出让", "竣工", "达产") and r.status == "sample" and r.source == "测试来源"
    assert r.scope.industry == frozenset({"39"})


@pytest.mark.parametrize(
    "patch,field",
    [
        (('key = "floor_area_ratio"', 'key = "far"'), "key"),
        (('op = ">="', 'op = ">"'), "op"),
        (('limit = 1.5', 'limit = "多"'), "limit"),
        (('scope = { industry = ["39"] }', 'scope = { industry = ["39"] }\ncolour = "red"'), "colour"),
        (('scope = { industry = ["39"] }', 'scope = { industry_2002 = ["38"] }'), "scope.industry_2002"),
        (('scope = { industry = ["39"] }', 'scope = { use = ["商业"] }'), "scope.use"),
        (('scope = { industry = ["39"] }', 'scope = { industry = ["39"] }\nphase = ["开工"]'), "phase"),
        (('status = "sample"', 'status = "maybe"'), "status"),
    ],
)
def test_rule_file_errors_name_rule_and_key(tmp_path, patch, field):
    path = _write(tmp_path, GOOD.replace(*patch))
    with pytest.raises(RuleFileError) as exc:
        load_rules([path])
    assert any(e.field == field for e in exc.value.errors), [str(e) for e in exc.value.errors]
    assert "custom.toml" in str(exc.value)
    assert isinstance(exc.value, ValueError)


def test_unit_mismatch_hints_hectare(tmp_path):
    body = GOOD.replace('key = "floor_area_ratio"', 'key = "investment_intensity"').replace("limit = 1.5", 'limit = 3000\nunit = "万元/公顷"')
    with pytest.raises(RuleFileError) as exc:
        load_rules([_write(tmp_path, body)])
    msg = " ".join(str(e) for e in exc.value.errors)
    assert "÷15" in msg and "unit" in [e.field for e in exc.value.errors]


def test_missing_source_refused(tmp_path):
    with pytest.raises(RuleFileError) as exc:
        load_rules([_write(tmp_path, GOOD.replace('source = "测试来源"', ""))])
    assert any(e.field == "source" for e in exc.value.errors)


def test_unknown_set_name_and_duplicate_ids(tmp_path):
    with pytest.raises(RuleFileError) as exc:
        load_rules(["national_2099"])
    assert "national_2008" in str(exc.value)
    dup = GOOD.replace('id = "t.far"', 'id = "national_2008.far.27"')
    with pytest.raises(RuleFileError):
        load_rules(["national_2008", _write(tmp_path, dup)])


def test_bad_toml_syntax(tmp_path):
    with pytest.raises(RuleFileError) as exc:
        load_rules([_write(tmp_path, "name = ")])
    assert "TOML" in str(exc.value)
