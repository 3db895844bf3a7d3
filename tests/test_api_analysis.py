"""The analysis and edit endpoints of SPEC §8.3/§4 on both stores, with access rules (§8.4)."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import add_key
from api.settings import Settings
from api_support import load_sample, make_store


@pytest.fixture(scope="module", params=["geopackage", "postgis"])
def client(request, tmp_path_factory):
    store, pg = make_store(request.param, tmp_path_factory.mktemp("analysis"))
    store.init()
    load_sample(store)
    keys = {role: add_key(store, f"k-{role}", role, user="test") for role in ("analyst", "admin")}
    app = create_app(Settings(store=store.url), store=store)
    with TestClient(app) as c:
        c.keys = {role: {"Authorization": f"Bearer {k}"} for role, k in keys.items()}
        yield c
    store.close()
    if pg:
        pg.drop()


def test_scoring_needs_analyst(client):
    rows = [{"enterprise_id": "E1", "land_area_mu": 10, "tax": 100, "above_scale": "是"}]
    assert client.post("/scoring/efficiency", json={"rows": rows}).status_code == 401
    r = client.post("/scoring/efficiency", json={"rows": rows}, headers={"Authorization": "Bearer lgk_wrong"})
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")


def test_scoring_json_and_multipart_and_run_export(client):
    h = client.keys["analyst"]
    rows = [
        {"enterprise_id": f"E{i}", "name": f"企业{i}", "land_area_mu": 10 + i, "above_scale": "否", "tax": 50 * i, "electricity": 10 + i}
        for i in range(1, 8)
    ]
    r = client.post("/scoring/efficiency", json={"rows": rows, "policy": "zhejiang_huangyan_2022"}, headers=h)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["policy"].startswith("浙江") and len(body["rows"]) == 7 and body["run_id"] and "benchmarks" in body and "year" in body
    run = client.get(f"/scoring/efficiency/{body['run_id']}?f=csv", headers=h)
    assert run.status_code == 200 and "enterprise_id" in run.content.decode("utf-8-sig")
    xlsx = client.get(f"/scoring/efficiency/{body['run_id']}?f=xlsx", headers=h)
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    csv = pd.DataFrame(rows).rename(columns={"enterprise_id": "统一社会信用代码", "tax": "实缴税收(万元)"}).to_csv(index=False).encode("gbk")
    r = client.post("/scoring/efficiency", files={"file": ("企业.csv", io.BytesIO(csv), "text/csv")}, data={"policy": "henan_2019"}, headers=h)
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    "payload",
    [{"rows": []}, {"rows": "x"}, {"rows": [{"enterprise_id": "E1", "tax": "abc", "land_area_mu": 1}]}, {"rows": [{"enterprise_id": "E1"}], "policy": "/etc/passwd"}],
)
def test_scoring_bad_input_is_4xx_problem(client, payload):
    r = client.post("/scoring/efficiency", json=payload, headers=client.keys["analyst"])
    assert 400 <= r.status_code < 500 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["detail"]


def test_standard_land_check_and_sheet(client):
    project = {"land_area_mu": 100, "industry_code": "27", "total_floor_area_m2": 50000, "tall_floor_area_m2": 0, "building_footprint_m2": 25000, "office_living_land_m2": 3000, "green_area_m2": 8000}
    assert client.post("/standard-land/check", json=project).status_code == 401
    r = client.post("/standard-land/check", json=project, headers=client.keys["analyst"])
    assert r.status_code == 200 and r.json()["verdict"] == "pass"
    r = client.post("/standard-land/check", json={**project, "green_area_m2": -1}, headers=client.keys["analyst"])
    assert r.status_code == 422
    s = client.get("/standard-land/sheets/RP-05?f=html")
    assert s.status_code == 200 and "RP-05" in s.text
    assert client.get("/standard-land/sheets/RP-99").status_code == 404


def test_status_edit_history_over_api(client):
    admin, analyst = client.keys["admin"], client.keys["analyst"]
    url = "/collections/reserve_parcels/items/RP-08"
    assert client.post(url + "/status", json={"status": "已组卷上报"}, headers=analyst).status_code == 403
    r = client.post(url + "/status", json={"status": "已组卷上报", "date": "2026-03-01"}, headers=admin)
    assert r.status_code == 200 and r.json()["properties"]["status"] == "已组卷上报"
    r = client.post(url + "/status", json={"status": "已供地"}, headers=admin)
    assert r.status_code == 422 and "跳过" in r.json()["detail"]
    feat = client.get(url).json()
    ring = feat["geometry"]["coordinates"][0][0]
    xs = [p[0] for p in ring]
    ys = [p[1] for p in ring]
    shrunk = {"type": "Polygon", "coordinates": [[[min(xs), min(ys)], [min(xs) + (max(xs) - min(xs)) / 2, min(ys)], [min(xs) + (max(xs) - min(xs)) / 2, max(ys)], [min(xs), max(ys)], [min(xs), min(ys)]]]}
    r = client.patch(url, json={"geometry": shrunk, "reason": "实测调整"}, headers=admin)
    assert r.status_code == 200, r.text
    bow_tie = {"type": "Polygon", "coordinates": [[[112.5, 33.0], [112.51, 33.01], [112.51, 33.0], [112.5, 33.01], [112.5, 33.0]]]}
    r = client.patch(url, json={"geometry": bow_tie}, headers=admin)
    assert r.status_code == 422
    r = client.post(url + "/status", json={"status": "计划报批", "reason": "材料退回"}, headers=admin)
    assert r.status_code == 200
    hist = client.get(url + "/history", headers=analyst).json()["history"]  # reasons are for analyst and up
    assert [h["action"] for h in hist] == ["insert", "status", "edit", "revert"]
    assert hist[-1]["reason"] == "材料退回" and hist[2]["reason"] == "实测调整"


def test_history_of_restricted_layer_needs_analyst(client):
    ent = client.get("/collections/enterprises/items?limit=1", headers=client.keys["analyst"]).json()["features"][0]
    url = f"/collections/enterprises/items/{ent['id']}/history"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=client.keys["analyst"]).status_code == 200


def test_study_package_as_a_job(client):
    import time
    import zipfile

    assert client.post("/jobs", json={"kind": "study-package"}).status_code == 401
    assert client.post("/jobs", json={"kind": "format-disk"}, headers=client.keys["analyst"]).status_code == 422
    r = client.post("/jobs", json={"kind": "study-package"}, headers=client.keys["analyst"])
    assert r.status_code == 202 and r.headers["location"].startswith("/jobs/")
    url = r.headers["location"]
    deadline = time.monotonic() + 120
    seen = []
    while True:
        doc = client.get(url, headers=client.keys["analyst"]).json()
        seen.append(doc["progress"])
        if doc["status"] in ("successful", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert doc["status"] == "successful", doc  # OGC API – Processes statusInfo (was "succeeded")
    assert doc["progress"] == 100 and len(doc["steps"]) >= 4 and seen == sorted(seen)
    zipped = client.get(url + "/result", headers=client.keys["analyst"])
    names = zipfile.ZipFile(io.BytesIO(zipped.content)).namelist()
    assert any(n.endswith(".gpkg") for n in names) and any(n.endswith(".tif") for n in names)
    assert client.get("/jobs/nope", headers=client.keys["analyst"]).status_code == 404
