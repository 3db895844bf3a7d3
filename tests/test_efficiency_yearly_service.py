"""亩均 as the bureau runs it, end to end on both stores (SPEC §5.4, §5.5): stored runs with their
year, `landgis adjust --year` seen on the served efficiency map, 调档 over HTTP (admin), the
enterprise profile (analyst), the 公示名单, several years over HTTP, and the 低效 screen on the
bundled data."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from typer.testing import CliRunner

from api.cli import app as cli_app
from api_support import sample_api
from services.scoring import latest_run_id

runner = CliRunner()
SAMPLE_YEAR = 2020  # parcels/sample/enterprises.py: the synthetic enterprises' evaluation year


def cli(*args, code=0):
    r = runner.invoke(cli_app, [str(a) for a in args])
    assert r.exit_code == code, r.output
    return r


@pytest.fixture(scope="module", params=["geopackage", "postgis"])
def served(request, tmp_path_factory):
    yield from sample_api(request.param, tmp_path_factory.mktemp("yearly"))


def map_features(html: str, key: str) -> list[dict]:
    """The features a served map page embeds in its layer `key` (what the browser draws)."""
    m = re.search(r"landgis\.featureLayer\([^,]+,\s*\"" + re.escape(key) + r"\",\s*", html)
    assert m, f"layer {key} not on the page"
    data, _ = json.JSONDecoder().raw_decode(html[m.end():].replace("<\\/", "</"))
    return [f["properties"] for f in data["features"]]


def test_map_shows_the_adjusted_class_after_landgis_adjust(served):
    store, client, keys = served
    h = {"Authorization": f"Bearer {keys['analyst']}"}
    cli("score", "enterprises", "--policy", "zhejiang_huangyan_2022", "--store", store.url)
    run_id = latest_run_id(store)
    page = client.get("/maps/efficiency", headers=h)
    assert page.status_code == 200, page.text[:300]
    assert run_id in page.text and f"{SAMPLE_YEAR} 年度" in page.text  # says which run and year
    before = {p["enterprise_id"]: p for p in map_features(page.text, "efficiency_parcels")}
    eid = next(e for e, p in before.items() if p["class"] == "A")
    other = next(e for e, p in before.items() if p["class"] == "B")
    cli("adjust", eid, "D", "--reason", "安全生产事故，降档", "--year", SAMPLE_YEAR, "--store", store.url)
    cli("adjust", other, "D", "--reason", "另一年度的调档", "--year", SAMPLE_YEAR - 1, "--store", store.url)
    cli("adjust", other, "A", "--reason", "无年度", "--store", store.url, code=2)  # --year is required
    after = {p["enterprise_id"]: p for p in map_features(client.get("/maps/efficiency", headers=h).text, "efficiency_parcels")}
    assert after[eid]["class"] == "D" and after[eid]["initial_class"] == "A"
    assert after[other]["class"] == "B"  # a 调档 of another year leaves this year's class alone
    # ?run= chooses a run; a rerun keeps the 调档 in its stored classes
    cli("score", "enterprises", "--policy", "zhejiang_huangyan_2022", "--store", store.url)
    new_run = latest_run_id(store)
    _, table = store.get_run(new_run)
    assert table.set_index("enterprise_id").loc[eid, "class"] == "D"
    old = client.get(f"/maps/efficiency?run={run_id}", headers=h).text
    assert run_id in old and new_run not in old
    # the D (for every policy) is no class of henan_2019 (A/B/C): its run neither fails nor shows a D
    cli("score", "enterprises", "--policy", "henan_2019", "--store", store.url)
    henan = {p["enterprise_id"]: p for p in map_features(client.get("/maps/efficiency", headers=h).text, "efficiency_parcels")}
    assert henan[eid]["class"] in ("A", "B", "C")
    assert client.get("/maps/efficiency?run=nope", headers=h).status_code in (400, 404)


def test_adjust_over_http_is_admin_only_and_shows_in_the_profile(served):
    store, client, keys = served
    cli("score", "enterprises", "--store", store.url)  # henan_2019, the default
    _, table = store.get_run(latest_run_id(store))
    eid = table.loc[table["class"] == "B", "enterprise_id"].iloc[0]
    body = {"class": "C", "reason": "环保处罚", "year": SAMPLE_YEAR, "policy": "henan_2019"}
    assert client.post(f"/enterprises/{eid}/adjustments", json=body).status_code == 401
    assert client.post(f"/enterprises/{eid}/adjustments", json=body, headers={"Authorization": f"Bearer {keys['analyst']}"}).status_code == 403
    r = client.post(f"/enterprises/{eid}/adjustments", json=body, headers={"Authorization": f"Bearer {keys['admin']}"})
    assert r.status_code == 201, r.text
    bad = client.post(f"/enterprises/{eid}/adjustments", json={**body, "class": "Z"}, headers={"Authorization": f"Bearer {keys['admin']}"})
    assert bad.status_code == 422 and "等级" in bad.json()["detail"]
    h = {"Authorization": f"Bearer {keys['analyst']}"}
    assert client.get(f"/enterprises/{eid}/profile").status_code == 401
    prof = client.get(f"/enterprises/{eid}/profile", params={"policy": "henan_2019"}, headers=h)
    assert prof.status_code == 200, prof.text[:300]
    doc = prof.json()
    year = [y for y in doc["years"] if y["year"] == SAMPLE_YEAR][-1]
    assert year["class"] == "C" and year["initial_class"] == "B" and year["rank"] >= 1
    ind = {i["key"]: i for i in year["indicators"]}
    assert ind["tax_per_mu"]["benchmark"] > 0 and ind["tax_per_mu"]["value"] is not None
    assert any(a["reason"] == "环保处罚" and a["year"] == SAMPLE_YEAR for a in doc["adjustments"])
    assert doc["parcels"] and doc["parcels"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    html = client.get(f"/enterprises/{eid}/profile", params={"f": "html"}, headers=h).text
    assert "<svg" in html and "历年等级与排名" in html and "环保处罚" in html and "<script" not in html
    assert "合成" in html  # synthetic data says so
    assert client.get("/enterprises/NO-SUCH/profile", headers=h).status_code == 404


def test_two_years_over_http_and_the_public_list(served, tmp_path):
    store, client, keys = served
    h = {"Authorization": f"Bearer {keys['analyst']}"}
    rows = [{"enterprise_id": f"E{i}", "name": f"企业{i}", "land_area_mu": 10, "above_scale": "否", "year": y,
             "tax": (50 * i if i != 1 else 1) + y % 7, "electricity": 10 + i} for y in (2023, 2024) for i in range(1, 13)]
    r = client.post("/scoring/efficiency", json={"rows": rows, "policy": "zhejiang_huangyan_2022"}, headers=h)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["year"] == 2024 and [x["year"] for x in body["runs"]] == [2023, 2024] and body["benchmarks"]
    e1 = next(x for x in body["rows"] if x["enterprise_id"] == "E1")
    assert e1["class"] == "D" and e1["consecutive_low"] == 2 and "0.1 元/千瓦时" in e1["measures"]
    listed = client.get("/scoring/efficiency", headers=h).json()["runs"]
    assert [(r["run_id"], r["year"]) for r in listed[-2:]] == [(x["run_id"], x["year"]) for x in body["runs"]]
    run = client.get(body["links"]["self"], headers=h).json()
    assert set(run) >= {"run_id", "policy", "year", "benchmarks", "rows"} and run["year"] == 2024
    pub = client.get(body["links"]["public"], headers=h)
    assert pub.status_code == 200 and "企业1" in pub.text and "税" not in pub.text.split("<table>", 1)[1]
    out = tmp_path / "公示名单.xlsx"
    cli("score", "enterprises", "--public", "--out", out, "--store", store.url)
    from openpyxl import load_workbook

    ws = load_workbook(out).active
    assert [c.value for c in ws[1]] == ["评价年度", "评价等级", "企业名称", "统一社会信用代码"]
    cli("score", "enterprises", "--public", "--out", tmp_path / "x.csv", "--store", store.url, code=1)


@pytest.mark.parametrize("policy", ["henan_2019", "zhejiang_huangyan_2022"])
def test_bundled_data_lists_no_top_two_class_land_on_economic_grounds(policy):
    """The sample year and the same figures a year before (so the two-year rule can fire): parcels
    are listed on economic grounds, and none of them is used by an A or B enterprise."""
    from parcels.efficiency import find_inefficient_land, load_policy
    from parcels.efficiency.years import score_years
    from parcels.sample import sample_layers

    layers = sample_layers()
    ents = pd.DataFrame(layers["enterprises"].drop(columns="geometry"))
    parcels = layers["industrial_parcels"]
    pol = load_policy(policy)
    two = pd.concat([ents.assign(year=SAMPLE_YEAR - 1), ents], ignore_index=True)
    res = score_years(two, pol, parcels=parcels)
    out = find_inefficient_land(parcels, res, pol)
    economic = out[out["rules"].str.contains("classes|tax_per_mu", regex=True)]
    assert len(economic) > 0
    r = res.latest.results.set_index("enterprise_id")
    links = res.latest.links
    top = links[links["enterprise_id"].map(r["class"]).isin(["A", "B"])]
    assert not set(economic["parcel_id"]) & set(top["parcel_id"])
    assert economic["reason"].str.contains("规则").all()


def test_an_old_adjustment_without_a_year_applies_to_no_year_and_is_listed(served):
    """Records written before 调档 had a year (key = the enterprise id) are kept, listed in the
    profile as not applied, and named in every run's warnings; they change no class."""
    store, client, keys = served
    cli("score", "enterprises", "--policy", "zhejiang_huangyan_2022", "--store", store.url)
    _, table = store.get_run(latest_run_id(store))
    row = table[table["class"] == "A"].iloc[-1]
    eid = row["enterprise_id"]
    store.put_record("class_adjustment", eid, {"class": "D", "reason": "旧版调档（无年度）"}, user="old")
    r = cli("score", "enterprises", "--policy", "zhejiang_huangyan_2022", "--store", store.url)
    assert "未注明年度" in r.output and eid in r.output
    _, again = store.get_run(latest_run_id(store))
    assert again.set_index("enterprise_id").loc[eid, "class"] == "A"
    doc = client.get(f"/enterprises/{eid}/profile", headers={"Authorization": f"Bearer {keys['analyst']}"}).json()
    old = [a for a in doc["adjustments"] if a["reason"] == "旧版调档（无年度）"]
    assert old and old[0]["year"] is None and old[0]["applies"] is False
