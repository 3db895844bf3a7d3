"""The study package end to end (SPEC §7): `landgis study`, `POST /study/land-balance`, `GET /study/package`.

On the bundled sample data the package is written; every layer opens with GDAL in both CRSs; the
suitability raster is a valid COG; the XLSX has Chinese headers; the report has maps and charts.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pyogrio
import pytest
import rasterio
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import app as cli_app
from gis.raster import cog_validate

runner = CliRunner()


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """A GeoPackage store with the bundled sample data, and coarse sample rasters (fast)."""
    from api.commands.common import load_sample
    from gis.store import open_store
    from parcels.sample.rasters import ensure_sample_rasters

    base = tmp_path_factory.mktemp("study")
    store_path = base / "store.gpkg"
    s = open_store(str(store_path))
    load_sample(s)
    rasters = base / "rasters"
    ensure_sample_rasters(rasters, cell=90.0)
    yield {"store": s, "store_path": store_path, "rasters": rasters, "base": base}
    s.close()


@pytest.fixture(scope="module")
def package(sample):
    out = sample["base"] / "pkg"
    result = runner.invoke(cli_app, ["study", "--store", str(sample["store_path"]), "--out", str(out), "--rasters", str(sample["rasters"])])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_study_writes_every_file(package):
    out, output = package
    names = {p.name for p in out.iterdir()}
    assert {"扩区研究.gpkg", "suitability_cog.tif", "扩区研究表格.xlsx", "扩区研究报告.html", "数据字典.md"} <= names
    assert "工业用地需求" in output and "推荐扩区" in output


def test_every_layer_opens_with_gdal_in_both_crs(package):
    out, _ = package
    layers = dict(pyogrio.list_layers(out / "扩区研究.gpkg"))
    base = [n for n in layers if not n.endswith("_4546")]
    assert {"zone_boundary", "park_zones", "roads", "reserve_parcels", "inefficient_land", "candidate_blocks", "recommended_expansion"} <= set(base)
    for name in base:
        a = pyogrio.read_dataframe(out / "扩区研究.gpkg", layer=name)
        b = pyogrio.read_dataframe(out / "扩区研究.gpkg", layer=f"{name}_4546")
        assert a.crs.to_epsg() == 4490 and b.crs.to_epsg() == 4546, name
        assert len(a) == len(b) > 0, name
        assert a.geometry.is_valid.all(), name
    blocks = pyogrio.read_dataframe(out / "扩区研究.gpkg", layer="candidate_blocks")
    assert sorted(blocks["rank"]) == list(range(1, len(blocks) + 1))
    assert blocks["suitability"].between(0, 1).all()
    sel = blocks[blocks["selected"].astype(bool)]
    # the recommended expansion reaches the plan's 50 km² (专栏9) through blocks connected to the zone
    rec = pyogrio.read_dataframe(out / "扩区研究.gpkg", layer="recommended_expansion")
    assert rec["area_km2"].iloc[0] >= 50 and rec["area_km2"].iloc[0] == pytest.approx(sel["area_m2"].sum() / 1e6)
    first = sel.sort_values("selection_order").iloc[0]
    assert bool(first["connects"])


def test_suitability_cog_validates(package):
    out, _ = package
    ok, errors, _ = cog_validate(out / "suitability_cog.tif")
    assert ok, errors
    with rasterio.open(out / "suitability_cog.tif") as src:
        assert src.crs.to_epsg() == 4546 and src.nodata == -1
        arr = src.read(1)
    valid = arr[arr != -1]
    assert valid.size and valid.min() >= 0 and valid.max() <= 1 and np.isfinite(arr).all()


def test_xlsx_has_chinese_headers_and_the_balance(package):
    from openpyxl import load_workbook

    out, _ = package
    wb = load_workbook(out / "扩区研究表格.xlsx", read_only=True)
    assert {"用地平衡", "储备地块按用途", "扩区候选地块", "规划目标（表1）", "情景参数", "数据字典", "低效用地"} <= set(wb.sheetnames)
    header = [c.value for c in next(wb["用地平衡"].iter_rows(max_row=1))]
    assert header == ["代码", "项目", "数值", "单位", "计算方法与来源"]
    rows = {r[0]: r[2] for r in wb["用地平衡"].iter_rows(min_row=2, values_only=True)}
    assert rows["target_revenue_total_yi"] == 1000  # 表1
    assert rows["demand_mu"] == pytest.approx(max(rows["demand_by_revenue_mu"], rows["demand_by_enterprises_mu"]), rel=1e-6)
    blocks_header = [c.value for c in next(wb["扩区候选地块"].iter_rows(max_row=1))]
    assert "综合适宜性" in blocks_header and "排名" in blocks_header


def test_report_and_dictionary_cite_sources(package):
    out, _ = package
    html = (out / "扩区研究报告.html").read_text(encoding="utf-8")
    assert html.count("<svg") >= 3 and "data:image/png;base64," in html
    assert "用地平衡" in html or "供需平衡" in html
    assert "schematic" in html and "http" not in html.split("<body>")[0]  # no CDN in the head
    md = (out / "数据字典.md").read_text(encoding="utf-8")
    for cite in ("表1", "表2", "专栏9", "六（二）", "DOMAIN.md", "示意"):
        assert cite in md, cite


def test_bad_scenario_exits_1_with_the_key(sample, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[assumptions]\nrevenue_per_mu_growht = 0.1\n", encoding="utf-8")
    result = runner.invoke(cli_app, ["study", "--store", str(sample["store_path"]), "--out", str(tmp_path / "o"), "--scenario", str(bad), "--rasters", str(sample["rasters"])])
    assert result.exit_code == 1
    assert "revenue_per_mu_growht" in result.output


# --- HTTP -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(sample):
    import os

    from api import errors
    from api.auth import AuthError, Principal
    from api.dependencies import auth_error_response, get_principal
    from api.routers.study import router

    os.environ["LANDGIS_RASTERS"] = str(sample["rasters"])
    app = FastAPI()
    app.state.store = sample["store"]
    errors.install(app)

    @app.exception_handler(AuthError)
    async def _auth(request, exc):
        return auth_error_response(exc)

    app.include_router(router)
    anon = TestClient(app)
    app2 = FastAPI()
    app2.state.store = sample["store"]
    errors.install(app2)
    app2.add_exception_handler(AuthError, lambda r, e: auth_error_response(e))
    app2.include_router(router)
    app2.dependency_overrides[get_principal] = lambda: Principal("tester", "analyst")
    yield anon, TestClient(app2)
    os.environ.pop("LANDGIS_RASTERS", None)


def test_land_balance_endpoint(client):
    anon, analyst = client
    assert anon.post("/study/land-balance", json={}).status_code == 401
    r = analyst.post("/study/land-balance", json={})
    assert r.status_code == 200, r.text
    base = r.json()["values"]
    faster = analyst.post("/study/land-balance", json={"overrides": {"assumptions": {"revenue_per_mu_growth": 0.12}}}).json()["values"]
    # a higher 亩均 improvement needs less land for the same revenue target
    assert faster["demand_by_revenue_mu"] < base["demand_by_revenue_mu"]
    bad = analyst.post("/study/land-balance", json={"overrides": {"assumptions": {"reserve_supply_share": 7}}})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert any("reserve_supply_share" in (e.get("field") or "") for e in bad.json()["errors"])
    assert analyst.post("/study/land-balance", json={"scenario": "../../etc/passwd"}).status_code == 422
    assert analyst.post("/study/land-balance", json={"nonsense": 1}).status_code == 422


def test_package_endpoint_returns_a_zip(client):
    anon, analyst = client
    assert anon.get("/study/package").status_code == 401
    r = analyst.get("/study/package")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    names = set(zipfile.ZipFile(io.BytesIO(r.content)).namelist())
    assert {"扩区研究.gpkg", "suitability_cog.tif", "扩区研究表格.xlsx", "扩区研究报告.html", "数据字典.md"} <= names
