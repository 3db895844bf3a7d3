"""Land supply ledger and supervision (issue 14; SPEC §4.2; DOMAIN.md §4, §10).

Written from the rules' text (tests/fixtures/supply/rules_text.md): a ledger with one row per
case goes in through `landgis import` (Chinese headers, XLSX), and `landgis supervise --as-of`
must put each row in exactly the list, stage and fee the text says, on both stores.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

AS_OF = "2025-06-30"

# One row per case; the comment is the rule text that decides it (as of 2025-06-30).
CASES = [
    # 供而未用: past the agreed start by less than one year (2024-12-01 → 211 days).
    dict(id="NS-LT1", supply_date="2024-08-01", agreed_start_date="2024-12-01", price_wan=400),
    # 364 days past the agreed start: still less than one (calendar) year.
    dict(id="NS-364D", supply_date="2024-03-01", agreed_start_date="2024-07-01", price_wan=400),
    # 闲置 not_started, one year or more (exactly 2024-06-30 → 2025-06-30): fee = 20 % × 500 = 100 万元.
    dict(id="NS-GE1", supply_date="2024-01-10", agreed_start_date="2024-06-30", price_wan=500),
    # two years or more: 无偿收回, no fee.
    dict(id="NS-GE2", supply_date="2023-01-10", agreed_start_date="2023-06-30", price_wan=800),
    # 政府原因: 协商处置, no fee, whatever the age.
    dict(id="GOV", supply_date="2022-06-01", agreed_start_date="2023-01-01", price_wan=600, delay_cause="政府原因"),
    # halted: developed < 1/3, halted ≥ 1 year (2024-05-01) → fee 20 % × 300 = 60.
    dict(id="HALT-DEV", supply_date="2022-01-01", agreed_start_date="2022-06-01", actual_start_date="2022-05-01", developed_share=0.2, invested_share=0.5, halted_since="2024-05-01", agreed_completion_date="2026-06-01", price_wan=300),
    # halted: invested < 25 %, halted ≥ 2 years (2023-03-01) → reclaim.
    dict(id="HALT-INV", supply_date="2021-01-01", agreed_start_date="2021-06-01", actual_start_date="2021-06-01", developed_share=0.5, invested_share=0.1, halted_since="2023-03-01", agreed_completion_date="2026-06-01", price_wan=900),
    # halted < 1 year (2025-01-01): not idle; completion not yet due → on no list.
    dict(id="HALT-LT1", supply_date="2023-01-01", agreed_start_date="2023-06-01", actual_start_date="2023-05-01", developed_share=0.2, invested_share=0.1, halted_since="2025-01-01", agreed_completion_date="2026-06-01", price_wan=300),
    # completed, production not yet due → on no list.
    dict(id="DONE", supply_date="2021-01-01", agreed_start_date="2021-06-01", actual_start_date="2021-05-01", agreed_completion_date="2023-06-01", actual_completion_date="2023-05-01", agreed_production_date="2026-01-01", price_wan=1000),
    # started, not completed, past the agreed completion date (2025-03-01 → 121 days).
    dict(id="LATE", supply_date="2022-01-01", agreed_start_date="2022-06-01", actual_start_date="2022-06-01", agreed_completion_date="2025-03-01", price_wan=700),
    # past the agreed production date (2025-01-01 → 180 days): 达产复核 due.
    dict(id="DUE", supply_date="2020-01-01", agreed_start_date="2020-06-01", actual_start_date="2020-06-01", agreed_completion_date="2022-06-01", actual_completion_date="2022-05-01", agreed_production_date="2025-01-01", price_wan=1200, committed_tax_per_mu=20),
    # 批而未供 under two years.
    dict(id="ANS-LT2", supply_date=None, approval_date="2024-01-01", supply_method=None),
    # 批而未供 two years or more (exactly 2023-06-30 → 2025-06-30).
    dict(id="ANS-GE2", supply_date=None, approval_date="2023-06-30", supply_method=None),
]

EXPECTED = {
    "supplied_not_started": {"NS-LT1": 211, "NS-364D": 364},
    "idle": {"NS-GE1": ("not_started", "fee", 100.0), "NS-GE2": ("not_started", "reclaim", None), "GOV": ("not_started", "negotiate", None),
             "HALT-DEV": ("halted", "fee", 60.0), "HALT-INV": ("halted", "reclaim", None)},
    "completion_overdue": {"LATE": 121},
    "production_review_due": {"DUE": 180},
    "approved_not_supplied": {"ANS-LT2": False, "ANS-GE2": True},
}

LABELS = {  # the Chinese headers an official's 台账 has (SPEC §4.2)
    "id": "宗地编号", "approval_date": "批准日期", "land_use": "土地用途", "supply_method": "供地方式", "supply_date": "供地日期",
    "price_wan": "价款(万元)", "agreed_start_date": "约定动工日期", "agreed_completion_date": "约定竣工日期",
    "agreed_production_date": "约定达产日期", "actual_start_date": "实际动工日期", "actual_completion_date": "实际竣工日期",
    "developed_share": "已开发面积占比", "invested_share": "已投资额占总投资额比例", "halted_since": "中止开发起始日期",
    "delay_cause": "延迟原因", "committed_tax_per_mu": "约定亩均税收", "geometry": "几何",
}


def _box(i: int) -> str:
    x, y = 112.50 + (i % 6) * 0.004, 32.98 + (i // 6) * 0.004
    return f"POLYGON(({x} {y}, {x + 0.002} {y}, {x + 0.002} {y + 0.002}, {x} {y + 0.002}, {x} {y}))"


def ledger_file(tmp_path, rows, name="台账.xlsx"):
    """An XLSX 台账 with Chinese headers, one row per case (approval 2019-01-01 unless given)."""
    records = []
    for i, r in enumerate(rows):
        rec = {"approval_date": "2019-01-01", "land_use": "工业", "supply_method": "挂牌出让", "geometry": _box(i), **r}
        records.append(rec)
    frame = pd.DataFrame(records).rename(columns=LABELS)
    path = tmp_path / name
    frame.to_excel(path, index=False)
    return path


def cli(*args):
    from api.cli import app

    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_supervise_puts_every_case_in_its_list(store, tmp_path):
    path = ledger_file(tmp_path, CASES)
    r = cli("import", "land_supply", str(path), "--store", store.url, "--geometry-source", "digitized")
    assert r.exit_code == 0, r.output
    out = tmp_path / "report.json"
    r = cli("supervise", "--as-of", AS_OF, "--out", str(out), "--store", store.url)
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["as_of"] == AS_OF
    listed = [i["id"] for name in EXPECTED for i in doc[name]]
    assert len(listed) == len(set(listed)), "a row is on two lists"
    assert {i["id"] for i in doc["supplied_not_started"]} == set(EXPECTED["supplied_not_started"])
    assert {i["id"]: i["days"] for i in doc["supplied_not_started"]} == EXPECTED["supplied_not_started"]
    idle = {i["id"]: (i["kind"], i["stage"], i["fee_wan"]) for i in doc["idle"]}
    assert idle == EXPECTED["idle"]
    assert {i["id"]: i["days"] for i in doc["completion_overdue"]} == EXPECTED["completion_overdue"]
    assert {i["id"]: i["days"] for i in doc["production_review_due"]} == EXPECTED["production_review_due"]
    assert {i["id"]: i["over_two_years"] for i in doc["approved_not_supplied"]} == EXPECTED["approved_not_supplied"]
    for name in ("HALT-LT1", "DONE"):
        assert name not in listed
    # every item carries its areas, deciding dates, days and legal basis
    for name in EXPECTED:
        for item in doc[name]:
            assert item["area_m2"] > 0 and item["area_mu"] == pytest.approx(item["area_m2"] * 15 / 10000, abs=1e-3)
            assert item["legal_basis"] and isinstance(item["days"], int)
    gov = next(i for i in doc["idle"] if i["id"] == "GOV")
    assert "协商" in gov["legal_basis"] and "第53号" in gov["legal_basis"]
    assert doc["totals"]["idle"]["fee_wan"] == pytest.approx(160.0)
    assert doc["totals"]["idle"]["by_stage"] == {"fee": 2, "reclaim": 2, "negotiate": 1}


def test_calendar_years_and_29_february():
    """A year is a calendar year: 2023-03-01 → 2024-03-01; from 02-29 the year ends on 02-28."""
    from parcels.supply.supervise import add_years, classify

    assert add_years(pd.Series(["2023-03-01", "2024-02-29"]), 1).dt.date.tolist() == [dt.date(2024, 3, 1), dt.date(2025, 2, 28)]
    ledger = pd.DataFrame({"id": ["L"], "area_m2": [1000.0], "approval_date": ["2023-01-01"], "supply_date": ["2023-06-01"], "agreed_start_date": ["2024-02-29"], "price_wan": [100.0]})
    assert classify(ledger, dt.date(2025, 2, 27))["list"].iloc[0] == "supplied_not_started"
    assert classify(ledger, dt.date(2025, 2, 28))["list"].iloc[0] == "idle"
    started_unsupplied = ledger.assign(supply_date=[None], actual_start_date=["2024-01-01"])
    assert classify(started_unsupplied, dt.date(2025, 2, 27))["list"].iloc[0] == "incomplete"  # never 批而未供 once built on
    ledger["agreed_start_date"] = ["2023-03-01"]
    assert classify(ledger, dt.date(2024, 2, 29))["list"].iloc[0] == "supplied_not_started"
    assert classify(ledger, dt.date(2024, 3, 1))["list"].iloc[0] == "idle"


@pytest.mark.parametrize(
    "bad, field, words",
    [
        ({"land_use": "居住", "supply_method": "划拨"}, "supply_method", ("划拨", "居住")),
        ({"approval_date": "2022-05-01", "supply_date": "2022-01-01"}, "supply_date", ("供地日期", "早于", "批准日期")),
        ({"land_use": "商业", "supply_method": "协议出让"}, "supply_method", ("招标", "挂牌")),
        ({"land_use": "工业", "supply_method": "划拨"}, "supply_method", ("划拨",)),
        ({"actual_start_date": "2099-01-01"}, "actual_start_date", ("未来",)),
        ({"committed_tax_per_mu": "很多"}, "committed_tax_per_mu", ("不是数字",)),
    ],
)
def test_bad_ledger_refused_whole_with_row_and_field(store, tmp_path, bad, field, words):
    from gis.errors import InputError
    from services.imports import import_file

    good = ledger_file(tmp_path, CASES[:3], "good.xlsx")
    import_file(store, "land_supply", good, user="t", geometry_source="digitized")
    before = store.count("land_supply")
    rows = [dict(CASES[3], id="OK-1"), dict(CASES[0], id="BAD-2", **bad)]
    path = ledger_file(tmp_path, rows, "bad.xlsx")
    with pytest.raises(InputError) as info:
        import_file(store, "land_supply", path, user="t", geometry_source="digitized")
    errors = [e for e in info.value.errors if e.row == 2 and e.field == field]
    assert errors, info.value.render()
    assert all(w in errors[0].message for w in words), errors[0].message
    assert store.count("land_supply") == before
    assert store.read_layer("land_supply", ids=["OK-1"]).empty


def test_rows_may_take_their_reserve_parcels_geometry(store, tmp_path):
    from api_support import load_sample
    from services.imports import import_file

    load_sample(store)
    # SPEC §4.2's own headers, brackets included, as a bureau's 台账 writes them
    frame = pd.DataFrame([{"宗地编号": "RP-06-供", "储备地块编号": "RP-06", "批准日期（农用地转用/土地征收批复）": "2024-01-01", "土地用途": "工业",
                           "供地日期(合同/划拨决定书)": "2024-06-01", "供地方式": "出让（挂牌）", "价款（万元）": "1,200", "约定动工日期": "2025-01-01"}])
    path = tmp_path / "ledger.csv"
    frame.to_csv(path, index=False)
    report, _, warnings = import_file(store, "land_supply", path, user="t")
    row = store.get_feature("land_supply", "RP-06-供")
    rp = store.get_feature("reserve_parcels", "RP-06")
    assert row["area_m2"] == pytest.approx(rp["area_m2"], rel=1e-6)
    assert (row["approval_date"], row["supply_date"], row["supply_method"], row["price_wan"]) == ("2024-01-01", "2024-06-01", "挂牌出让", 1200.0)
    frame = pd.DataFrame([{"宗地编号": "X", "储备地块编号": "RP-99", "批准日期": "2024-01-01"}])
    frame.to_csv(path, index=False)
    from gis.errors import InputError

    with pytest.raises(InputError) as info:
        import_file(store, "land_supply", path, user="t")
    assert info.value.errors[0].field == "reserve_parcel_id" and "RP-99" in info.value.errors[0].message


def test_import_warns_of_land_given_twice(store, tmp_path):
    """A ledger row on an industrial parcel's land (another id) is a warning, not a refusal."""
    from api_support import load_sample
    from services.imports import import_file
    import shapely

    load_sample(store)
    ip = store.read_layer("industrial_parcels", ids=["IP-0010"])
    frame = pd.DataFrame([{"宗地编号": "NEW-1", "批准日期": "2024-01-01", "供地日期": "2024-03-01", "供地方式": "挂牌", "土地用途": "工业", "几何": shapely.to_wkt(ip.geometry.iloc[0])}])
    path = tmp_path / "twice.csv"
    frame.to_csv(path, index=False)
    report, _, warnings = import_file(store, "land_supply", path, user="t")
    assert report.inserted == 1
    assert any("NEW-1" in w and "IP-0010" in w and "用地冲突" in w for w in warnings), warnings
    assert store.get_feature("land_supply", "NEW-1")["supply_method"] == "挂牌出让"  # canonical name stored


def test_sample_conflicts_and_lists(store):
    """Issue 14: sample reserve parcels overlap industrial parcels (RP-01 61 %, RP-05 57 %, RP-02 94 亩)."""
    from api_support import load_sample
    from services.supervision import supervision_report

    load_sample(store)
    doc = supervision_report(store)
    by_id = {c["id"]: c for c in doc["conflicts"] if c["layer"] == "reserve_parcels"}
    assert by_id["RP-01"]["share"] == pytest.approx(0.61, abs=0.01)
    assert by_id["RP-05"]["share"] == pytest.approx(0.57, abs=0.01)
    assert by_id["RP-02"]["overlap_mu"] == pytest.approx(94, abs=1)
    for name in ("approved_not_supplied", "supplied_not_started", "idle", "completion_overdue", "production_review_due"):
        assert doc[name], f"the sample ledger shows no {name}"
    assert {i["stage"] for i in doc["idle"]} == {"fee", "reclaim", "negotiate"}
    assert {i["kind"] for i in doc["idle"]} == {"not_started", "halted"}
    assert doc["synthetic"] and any("合成" in n for n in doc["notes"])


def test_review_and_inefficient_feed(store):
    """达产复核 of due ledger land against its committed indicators; failures and idle land feed 低效用地."""
    from api_support import load_sample
    from services.study import read_study_layers
    from services.supervision import inefficient_with_supply, production_review, supervision_report

    load_sample(store)
    doc = production_review(store)
    committed = [i for i in doc["items"] if i["has_commitment"] and i["verdict"] == "fail"]
    assert committed and "履约承诺" in committed[0]["failed"]
    import services.standard_land as standard_land

    assert [r["id"] for r in doc["rule_sets"]] == [i.id for i in standard_land.default_rules().sets]  # the default of `landgis check`
    layers = read_study_layers(store) | {"land_supply": store.read_layer("land_supply")}
    found, _ = inefficient_with_supply(layers, "henan_2019")
    reasons = dict(zip(found["parcel_id"], found["reason"]))
    idle_ids = {i["id"] for i in supervision_report(store)["idle"]}
    assert len(idle_ids) == 5
    for pid in idle_ids:
        assert pid in reasons and "闲置" in reasons[pid]
    assert "达产复核" in reasons[committed[0]["parcel_id"]]
    from services.study import screen_inefficient

    screened, notes = screen_inefficient(read_study_layers(store), "henan_2019")  # the study's 低效用地 line reads the ledger too
    assert idle_ids <= set(screened["parcel_id"]) and not any("未能完成" in n for n in notes)


def test_edit_passes_the_same_rules(store, tmp_path):
    from gis.errors import InputError
    from services.imports import import_file
    from services.supply_ledger import edit_ledger_row

    import_file(store, "land_supply", ledger_file(tmp_path, CASES[:1]), user="t", geometry_source="digitized")
    with pytest.raises(InputError) as info:
        edit_ledger_row(store, "NS-LT1", user="t", properties={"supply_date": "2018-01-01"})
    assert info.value.errors[0].field == "supply_date"
    assert store.get_feature("land_supply", "NS-LT1")["supply_date"] == "2024-08-01"
    with pytest.raises(InputError) as info:
        edit_ledger_row(store, "NS-LT1", user="t", properties={"supply_method": "划拨"})  # the row is 工业
    assert info.value.errors[0].field == "supply_method"
    edit_ledger_row(store, "NS-LT1", user="t", properties={"actual_start_date": "2025-01-02"}, reason="补录动工")
    assert store.get_feature("land_supply", "NS-LT1")["actual_start_date"] == "2025-01-02"


def test_workflow_dates_and_allocation(store):
    from api_support import load_sample
    from gis.errors import InputError
    from services.parcel_edits import change_status

    load_sample(store)
    with pytest.raises(InputError, match="早于上一状态"):
        change_status(store, "RP-01", "已组卷上报", user="u", role="admin", date="2020-01-01")  # the plan's 计划报批 is 2021-04-01
    with pytest.raises(InputError, match="未来"):
        change_status(store, "RP-01", "已组卷上报", user="u", role="admin", date=(dt.date.today() + dt.timedelta(days=1)).isoformat())
    change_status(store, "RP-01", "已组卷上报", user="u", role="admin", date="2022-01-05")
    change_status(store, "RP-01", "已获批", user="u", role="admin", date="2022-06-01")
    with pytest.raises(InputError, match="划拨"):
        change_status(store, "RP-01", "已供地", user="u", role="admin", date="2023-01-01", supply_method="划拨")  # RP-01 is 工业
    assert change_status(store, "RP-01", "已供地", user="u", role="admin", date="2023-01-01", supply_method="出让")["status"] == "已供地"


@pytest.mark.parametrize("suffix", [".shp", ".gpkg", ".xlsx"])
def test_ledger_round_trips_through_exports(store, tmp_path, suffix):
    """What `landgis export` writes, `landgis import` reads back whole (shapefile names ≤ 10 bytes)."""
    path = ledger_file(tmp_path, CASES)
    assert cli("import", "land_supply", str(path), "--store", store.url, "--geometry-source", "digitized").exit_code == 0
    before = store.read_layer("land_supply").set_index("id").sort_index()
    out = tmp_path / f"ledger{suffix}"
    r = cli("export", "land_supply", str(out), "--store", store.url)
    assert r.exit_code == 0, r.output
    r = cli("import", "land_supply", str(out), "--mode", "replace", "--store", store.url)
    assert r.exit_code == 0, r.output
    after = store.read_layer("land_supply").set_index("id").sort_index()
    for col in ("approval_date", "supply_date", "agreed_start_date", "actual_start_date", "halted_since", "supply_method", "delay_cause", "committed_tax_per_mu", "invested_share"):
        assert before[col].astype(str).tolist() == after[col].astype(str).tolist(), col
