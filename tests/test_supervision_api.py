"""HTTP of the land supply supervision (issue 14): who may read it, and the 台账 an official opens."""

from __future__ import annotations

import io

import pytest
from api_support import sample_api

LIST_SHEETS = ("批而未供", "供而未用", "闲置土地", "逾期未竣工", "达产复核到期")


@pytest.fixture(scope="module", params=["geopackage", "postgis"])
def api(request, tmp_path_factory):
    yield from sample_api(request.param, tmp_path_factory.mktemp("supervision"))


def _auth(keys, role):
    return {"Authorization": f"Bearer {keys[role]}"}


def test_supervision_needs_analyst(api):
    _, client, keys = api
    r = client.get("/supervision")
    assert r.status_code == 401 and "price_wan" not in r.text
    assert client.get("/supervision", headers={"Authorization": "Bearer lg_wrong"}).status_code == 401
    r = client.get("/supervision", params={"as_of": "2026-01-01"}, headers=_auth(keys, "analyst"))
    assert r.status_code == 200
    doc = r.json()
    assert doc["as_of"] == "2026-01-01" and set(LIST_SHEETS) and all(k in doc for k in ("approved_not_supplied", "supplied_not_started", "idle", "completion_overdue", "production_review_due", "totals"))
    bad = client.get("/supervision", params={"as_of": "2026-02-30"}, headers=_auth(keys, "analyst"))
    assert bad.status_code in (400, 422) and "YYYY-MM-DD" in bad.text
    assert client.get("/maps/supervision").status_code == 401


def test_supervision_xlsx_opens_with_chinese_headers(api):
    from openpyxl import load_workbook

    _, client, keys = api
    r = client.get("/supervision", params={"f": "xlsx"}, headers=_auth(keys, "analyst"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames[0] == "汇总" and all(name in wb.sheetnames for name in LIST_SHEETS)
    idle = [c.value for c in wb["闲置土地"][1]]
    assert {"宗地编号", "面积(亩)", "处置阶段", "土地闲置费(万元)", "依据"} <= set(idle)
    assert all(isinstance(h, str) and not h.isascii() for h in idle), idle  # every header Chinese
    fee_col = idle.index("土地闲置费(万元)")
    fees = [row[fee_col].value for row in wb["闲置土地"].iter_rows(min_row=2) if isinstance(row[fee_col].value, (int, float))]
    assert fees and all(round(f, 2) == f for f in fees)
    assert any("合成" in str(c.value) for row in wb["汇总"].iter_rows() for c in row if c.value)
    page = client.get("/supervision", params={"f": "html"}, headers=_auth(keys, "analyst"))
    assert page.status_code == 200 and "闲置土地" in page.text and "合成示例数据" in page.text


def test_review_route(api):
    _, client, keys = api
    assert client.post("/standard-land/review").status_code == 401
    r = client.post("/standard-land/review", json={}, headers=_auth(keys, "analyst"))
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["totals"]["due"] >= 1 and doc["items"]
    assert any(i["verdict"] == "fail" and "履约承诺" in i["failed"] for i in doc["items"])
    assert client.post("/standard-land/review", params={"rules": "../../etc/passwd"}, headers=_auth(keys, "analyst")).status_code in (400, 422)


def test_ledger_edit_needs_admin_and_passes_the_rules(api):
    store, client, keys = api
    row = store.read_layer("land_supply", columns=["id", "approval_date"]).iloc[0]
    url = f"/collections/land_supply/items/{row['id']}"
    assert client.patch(url, json={"properties": {"delay_cause": "政府原因"}}, headers=_auth(keys, "analyst")).status_code == 403
    r = client.patch(url, json={"properties": {"supply_date": "1990-01-01"}}, headers=_auth(keys, "admin"))
    assert r.status_code in (400, 422) and "供地日期" in r.text
    assert client.get(f"/collections/land_supply/items/{row['id']}").status_code == 401  # the ledger is not public


def test_bad_ledger_upload_is_a_chinese_4xx(api):
    store, client, keys = api
    before = store.count("land_supply")
    csv = "宗地编号,批准日期,供地日期,土地用途,供地方式,储备地块编号\nA-1,2024-05-01,2024-01-01,居住,划拨,RP-06\n".encode("utf-8")
    r = client.post("/collections/land_supply/import", files={"file": ("台账.csv", csv, "text/csv")}, data={"mode": "append"}, headers=_auth(keys, "admin"))
    assert r.status_code in (400, 422), r.text
    body = r.json()
    fields = {(e["row"], e["field"]) for e in body["errors"]}
    assert (1, "supply_method") in fields and (1, "supply_date") in fields
    assert "划拨" in r.text and "早于" in r.text
    assert store.count("land_supply") == before


def test_ledger_geometry_edit(api):
    store, client, keys = api
    row = store.get_feature("land_supply", "LS-PZ-01")
    minx, miny, maxx, maxy = row["geometry"].bounds
    poly = {"type": "Polygon", "coordinates": [[[minx, miny], [maxx, miny], [maxx, (miny + maxy) / 2], [minx, (miny + maxy) / 2], [minx, miny]]]}
    r = client.patch("/collections/land_supply/items/LS-PZ-01", json={"geometry": poly, "reason": "分割"}, headers=_auth(keys, "admin"))
    assert r.status_code == 200, r.text
    after = store.get_feature("land_supply", "LS-PZ-01")
    import numpy as np
    import shapely

    from gis.crs import plane_area_m2 as area_m2

    expected = area_m2(np.array([shapely.geometry.shape(poly)], dtype=object))[0]  # plane (registered) area, recomputed from the new shape
    assert after["area_m2"] == pytest.approx(expected, abs=0.01) and after["area_m2"] < row["area_m2"] and after["geometry_source"] == "digitized"
    swapped = {"type": "Polygon", "coordinates": [[[y, x] for x, y in ring] for ring in poly["coordinates"]]}
    assert client.patch("/collections/land_supply/items/LS-PZ-01", json={"geometry": swapped}, headers=_auth(keys, "admin")).status_code in (400, 422)
