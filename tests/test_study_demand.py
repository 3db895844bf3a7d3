"""Demand by several methods side by side (SPEC §7): the named projects are the plan's own words,
the investment method says which 投资强度 it used and how far it can be trusted."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from parcels.study.balance import land_balance
from parcels.study.demand import cumulative_investment_yi, load_named_projects
from parcels.study.scenario import ScenarioError, load_scenario, merge, scenario_from_dict

PLAN = Path(__file__).parent / "fixtures" / "plan" / "nanyang_hitech_14th_fyp_2021.txt"


def _plain(text: str) -> str:
    """The plan's text without whitespace and Markdown emphasis (the conversion split lines)."""
    return re.sub(r"\s+|\*", "", text)


def _columns(text: str) -> dict[str, str]:
    """专栏 number → its text, up to the next 专栏 heading."""
    parts = re.split(r"^#+\s*\**\s*专栏\s*(\d+)\s*[:：]", text, flags=re.M)
    return {f"专栏{parts[i]}": parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def test_every_named_project_is_in_its_column_of_the_plan():
    text = PLAN.read_text(encoding="utf-8")
    columns = {k: _plain(v) for k, v in _columns(text).items()}
    assert {"专栏3", "专栏4", "专栏5", "专栏6", "专栏7", "专栏8"} <= set(columns)
    projects, header = load_named_projects()
    assert len(projects) >= 5
    for p in projects:
        assert p.column in {"专栏3", "专栏4", "专栏5", "专栏6", "专栏7", "专栏8"}, p.name
        quote = _plain(p.quote)
        assert quote in columns[p.column], f"{p.name}: quote not found in {p.column}"
        assert f"{p.area_mu:g}亩" in quote, f"{p.name}: {p.area_mu:g} 亩 is not what the quote says"
    by_name = {p.name: p.area_mu for p in projects}
    assert by_name["数控装备制造项目"] == 500 and by_name["半导体产业园（二期）项目"] == 280
    assert by_name["华为应用技术产业园（二期）"] == 500
    assert "专栏" in header["source"] and header["status"] == "confirmed"


def test_no_project_with_a_stated_area_is_left_out():
    """Every “N 亩” of 专栏 3–8 that states a project's land is on the list (or is its part)."""
    text = PLAN.read_text(encoding="utf-8")
    projects, header = load_named_projects()
    listed = {p.area_mu for p in projects} | set(header["counted_as_supply_mu"])
    assert 21600.3 in header["counted_as_supply_mu"]  # 专栏6: the 中关村 available land is supply
    for col in ("专栏3", "专栏4", "专栏5", "专栏6", "专栏7", "专栏8"):
        body = _plain(_columns(text)[col])
        for m in re.finditer(r"(\d+(?:\.\d+)?)亩", body):
            mu = float(m.group(1))
            # the 华为 二期 500 亩 is broken down into 300/40/20/20/20/100/60/20/20 亩 parts of it
            assert mu in listed or "华为" in body[max(0, m.start() - 400):m.start()], (col, body[max(0, m.start() - 60):m.end()])


def test_investment_method_states_its_intensity_and_status():
    # 表1 固定资产投资 76.3 → 120 亿元 over five years, growing geometrically
    q = (120 / 76.3) ** (1 / 5)
    assert cumulative_investment_yi(76.3, 120, 5) == pytest.approx(sum(76.3 * q**t for t in range(1, 6)))
    sc = load_scenario()
    industrial, enterprises, reserve = _frames()
    b = land_balance(sc, industrial_parcels=industrial, enterprises=enterprises, reserve_parcels=reserve)
    inv = {e.method: e for e in b.demand}["investment"]
    assert inv.status == "sample" and not inv.deciding, "a sample 投资强度 never decides by default"
    assert "250" in inv.how and "示例值" in inv.how
    assert inv.mu == pytest.approx(cumulative_investment_yi(76.3, 120, 5) * 0.35 * 10_000 / 250)


def test_decide_by_picks_the_largest_named_method_and_the_others_are_shown():
    industrial, enterprises, reserve = _frames()
    base = land_balance(load_scenario(), industrial_parcels=industrial, enterprises=enterprises, reserve_parcels=reserve)
    methods = {e.method: e for e in base.demand}
    assert set(methods) == {"revenue", "projects", "investment", "enterprises"}
    assert base["demand_mu"] == pytest.approx(max(methods["revenue"].mu, methods["projects"].mu))
    table = base.demand_table()
    assert list(table["代码"]) == ["revenue", "projects", "investment", "enterprises"] and "示例值" in " ".join(table["数据状态"])
    projects_only = load_scenario(None, overrides={"demand": {"decide_by": ["projects"]}})
    b = land_balance(projects_only, industrial_parcels=industrial, enterprises=enterprises, reserve_parcels=reserve)
    assert b["demand_mu"] == pytest.approx(sum(p.area_mu for p in load_named_projects()[0]))
    confirmed = load_scenario(None, overrides={"demand": {"decide_by": ["investment"], "investment": {
        "intensity_rules": "henan_3n1_sample"}}})
    b = land_balance(confirmed, industrial_parcels=industrial, enterprises=enterprises, reserve_parcels=reserve)
    assert any("示例值" in n for n in b.notes), "a sample value that decides is said to decide"


def test_bad_demand_settings_are_refused_naming_the_key():
    with pytest.raises(ScenarioError) as exc:
        load_scenario(None, overrides={"demand": {"decide_by": ["revenue", "guess"]}})
    assert "demand.decide_by" in {e.field for e in exc.value.errors}
    with pytest.raises(ScenarioError) as exc:
        scenario_from_dict(merge(_small(), {"demand": {"investment": {"intensity_wan_per_mu": 300}}}))
    assert "demand.investment.intensity_source" in {e.field for e in exc.value.errors}
    with pytest.raises(ScenarioError) as exc:
        load_scenario(None, overrides={"expansion": {"candidates": "everything"}})
    assert "expansion.candidates" in {e.field for e in exc.value.errors}


def _small() -> dict:
    return {"baseline": {"revenue_total_yi": 18, "above_scale_enterprises": 10}, "targets": {"revenue_total_yi": 40, "above_scale_enterprises": 12}}


def _frames():
    industrial = pd.DataFrame({"id": ["P1", "P2"], "area_mu": [3000.0, 4000.0]})
    enterprises = pd.DataFrame({"enterprise_id": ["E1", "E2"], "revenue": [1.0e6, 1.0e6], "above_scale": [True, True], "land_area_mu": [100.0, 200.0]})
    reserve = pd.DataFrame({"id": ["R1"], "use": ["工业"], "area_mu": [100.0], "status": ["计划报批"]})
    return industrial, enterprises, reserve
