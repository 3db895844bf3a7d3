"""`GET /intensity`, the `land-intensity` process and `landgis intensity` (issue 15) on both stores."""

from __future__ import annotations

import io

import pytest

from intensity_support import load_ledger, load_zone, survey_file


@pytest.fixture
def api(store, tmp_path):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.auth import add_key
    from api.settings import Settings
    from services.imports import import_file

    load_zone(store, tmp_path)
    load_ledger(store, tmp_path)
    import_file(store, "land_survey", survey_file(tmp_path), user="test")
    keys = {"analyst": {"Authorization": f"Bearer {add_key(store, 'ana', 'analyst', user='test')}"}}
    return store, TestClient(create_app(Settings(store=store.url), store=store)), keys


def test_intensity_needs_analyst(api):
    _, client, keys = api
    r = client.get("/intensity")
    assert r.status_code == 401 and "tax_wan" not in r.text and "supply_rate" not in r.text
    assert client.get("/intensity", headers={"Authorization": "Bearer lg_wrong"}).status_code == 401
    assert client.get("/maps/intensity").status_code == 401
    assert client.get("/collections/land_survey/items").status_code == 401  # the survey carries enterprises' tax
    r = client.get("/intensity", params={"year": 2025, "population": 13000}, headers=keys["analyst"])
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["year"] == 2025 and doc["survey"]["kind"] == "survey"
    assert all({"key", "name", "value", "unit", "formula", "national", "source", "status"} <= set(i) for i in doc["indicators"])
    assert client.get("/intensity", params={"f": "pdf"}, headers=keys["analyst"]).status_code in (400, 422)
    bad = client.get("/intensity", params={"year": 1800}, headers=keys["analyst"])
    assert bad.status_code in (400, 422) and "年度" in bad.text
    bad = client.get("/intensity", params={"weights": "official"}, headers=keys["analyst"])
    assert bad.status_code in (400, 422) and "权重集" in bad.text


def test_intensity_xlsx_html_and_process(api):
    from openpyxl import load_workbook

    _, client, keys = api
    r = client.get("/intensity", params={"f": "xlsx", "year": 2025}, headers=keys["analyst"])
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames[0] == "评价指标" and [c.value for c in wb["评价指标"][2]][:3] == ["指标", "计算公式", "数值"]
    page = client.get("/intensity", params={"f": "html", "year": 2025}, headers=keys["analyst"])
    assert page.status_code == 200 and "土地供应率" in page.text and "92.84" in page.text
    assert "land-intensity" in {p["id"] for p in client.get("/processes", headers=keys["analyst"]).json()["processes"]}
    assert client.post("/processes/land-intensity/execution", json={"inputs": {"year": 2025}}).status_code == 401
    r = client.post("/processes/land-intensity/execution", json={"inputs": {"year": 2025, "population": 13000, "weights": "sample"}}, headers=keys["analyst"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["year"] == 2025 and body["score"]["status"] == "sample"
    assert client.post("/processes/land-intensity/execution", json={"inputs": {"weights": "official"}}, headers=keys["analyst"]).status_code == 400


def test_cli_writes_json_xlsx_html(api, tmp_path):
    import json

    from typer.testing import CliRunner

    from api.cli import app as cli_app

    store, _, _ = api
    runner = CliRunner()
    for suffix in (".json", ".xlsx", ".html"):
        out = tmp_path / f"r{suffix}"
        result = runner.invoke(cli_app, ["intensity", "--store", store.url, "--year", "2025", "--population", "13000", "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 0
    assert "土地供应率" in result.output and "尚可供地年数" in result.output
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["potential"]["years_of_supply"] == pytest.approx(1.5)
    bad = runner.invoke(cli_app, ["intensity", "--store", store.url, "--year", "1800"])
    assert bad.exit_code == 1 and "年度" in bad.output


def test_a_bad_survey_upload_is_a_chinese_4xx_and_changes_nothing(api, tmp_path):
    from gis.store.base import Store  # noqa: F401 - the store fixture's type

    from intensity_support import rect, survey_file
    from api.auth import add_key

    store, client, keys = api
    admin = {"Authorization": f"Bearer {add_key(store, 'adm', 'admin', user='test')}"}
    before = store.count("land_survey")
    path = survey_file(tmp_path, [("B1", "已建", True, False, "工矿仓储", False, -1.0, 5.0, 1.0, 1.0, rect(100, 700, 50, 50))], "bad.gpkg")
    with open(path, "rb") as fh:
        data = fh.read()
    assert client.post("/collections/land_survey/import", files={"file": ("调查.gpkg", data)}, data={"mode": "replace"}, headers=keys["analyst"]).status_code == 403
    r = client.post("/collections/land_survey/import", files={"file": ("调查.gpkg", data)}, data={"mode": "replace"}, headers=admin)
    assert r.status_code in (400, 422), r.text
    fields = {(e["row"], e["field"]) for e in r.json()["errors"]}
    assert (1, "status") in fields and (1, "floor_area_m2") in fields and "土地利用状况" in r.text and "总建筑面积" in r.text
    assert store.count("land_survey") == before
