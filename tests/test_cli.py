"""The foundation's promises through the real command line, on both stores (issue 2 must-shows)."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import httpx
import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import Geod
from typer.testing import CliRunner

from api.cli import app
from conftest import PLAN_TEXT

runner = CliRunner()
GEOD = Geod(ellps="GRS80")


def run(*args, ok=True):
    result = runner.invoke(app, [str(a) for a in args])
    if ok:
        assert result.exit_code == 0, result.output
    return result


def table2_rows() -> list[list[str]]:
    text = PLAN_TEXT.read_text(encoding="utf-8")
    block = text[text.index("表 2：南阳高新区地块报批计划") :]
    rows = [line.split("\t") for line in block.splitlines() if re.match(r"^\d\t", line)]
    return rows[:9]


@pytest.fixture
def sample_store(store_url):
    run("init", "--store", store_url)
    return store_url


def test_export_reserve_parcels_geojson(sample_store, tmp_path):
    out = tmp_path / "out.geojson"
    run("export", "reserve_parcels", out, "--store", sample_store)
    doc = json.loads(out.read_text(encoding="utf-8"))
    feats = doc["features"]
    assert len(feats) == 9
    expected = table2_rows()
    assert len(expected) == 9
    for feat, (seq, district, name, location, use) in zip(sorted(feats, key=lambda f: f["properties"]["seq"]), expected):
        p = feat["properties"]
        assert (str(p["seq"]), p["district"], p["name"], p["location"], p["use"]) == (seq, district, name, location, use)
        assert p["geometry_source"] in ("surveyed", "digitized", "schematic") and p["data_source"]
        assert p["area_mu"] == pytest.approx(p["area_m2"] * 15 / 10000, rel=1e-12)
        geom = shapely.geometry.shape(feat["geometry"])
        geodesic = abs(GEOD.geometry_area_perimeter(geom)[0])
        # area_m2 is the plane area in the survey CRS (GK, stretched ≈0.05 % here); ellipsoid_area_m2 the ellipsoidal one
        assert abs(p["ellipsoid_area_m2"] / geodesic - 1) < 1e-5
        assert 4e-4 < p["area_m2"] / geodesic - 1 < 6e-4


def gbk_shapefile_4546(path: Path, last_invalid: bool = False) -> gpd.GeoDataFrame:
    geoms = [shapely.box(112.551 + i * 0.002, 33.031, 112.552 + i * 0.002, 33.032) for i in range(4)]
    if last_invalid:
        geoms[-1] = shapely.Polygon([(112.56, 33.03), (112.561, 33.031), (112.561, 33.03), (112.56, 33.031)])
    src = gpd.GeoDataFrame({"id": [f"ZD{i}" for i in range(4)], "权利人": ["南阳防爆电机", "中光学集团", "利达光电", "示例企业"]}, geometry=geoms, crs=4490)
    pyogrio.write_dataframe(src.to_crs(4546), path, driver="ESRI Shapefile", encoding="GBK")
    for ext in (".prj", ".cpg"):
        path.with_suffix(ext).unlink(missing_ok=True)
    return src


def test_import_gbk_gauss_kruger_shapefile_without_prj(sample_store, tmp_path):
    shp = tmp_path / "zongdi.shp"
    src = gbk_shapefile_4546(shp)
    result = run("import", "industrial_parcels", shp, "--store", sample_store)
    assert "EPSG:4546" in result.output
    from gis.store import open_store

    s = open_store(sample_store)
    got = s.read_layer("industrial_parcels", ids=[f"ZD{i}" for i in range(4)])
    assert got["权利人"].tolist() == ["南阳防爆电机", "中光学集团", "利达光电", "示例企业"]
    expected = [abs(GEOD.geometry_area_perimeter(g)[0]) for g in src.geometry]
    assert np.allclose(got["ellipsoid_area_m2"], expected, rtol=1e-5)
    assert np.allclose(got["area_m2"], shapely.area(np.asarray(src.to_crs(4546).geometry.values)), rtol=0, atol=0.005)  # the plane area, to the cent


def test_import_failing_on_last_row_changes_nothing(sample_store, tmp_path):
    from gis.store import open_store

    s = open_store(sample_store)
    before = (s.count("industrial_parcels"), len(s.history()))
    shp = tmp_path / "bad.shp"
    gbk_shapefile_4546(shp, last_invalid=True)
    result = run("import", "industrial_parcels", shp, "--store", sample_store, ok=False)
    assert result.exit_code == 1
    assert "第4行" in result.output and "自相交" in result.output
    assert (s.count("industrial_parcels"), len(s.history())) == before


def test_swapped_and_unknown_coordinates_refused(sample_store, tmp_path):
    swapped = tmp_path / "swapped.csv"
    swapped.write_text("name,lon,lat\n甲,33.03,112.55\n", encoding="utf-8")
    r = run("import", "landmarks", swapped, "--store", sample_store, ok=False)
    assert r.exit_code == 1 and "颠倒" in r.output
    nowhere = tmp_path / "nowhere.csv"
    nowhere.write_text("name,geometry\n甲,POINT (5000 5000)\n", encoding="utf-8")
    r = run("import", "landmarks", nowhere, "--store", sample_store, ok=False)
    assert r.exit_code == 1 and "--crs" in r.output


def test_usage_errors_exit_2(tmp_path):
    assert runner.invoke(app, ["export"]).exit_code == 2
    assert runner.invoke(app, ["import", "roads", str(tmp_path / "x.gpkg"), "--mode", "merge"]).exit_code == 2


def test_export_history_and_all_formats(sample_store, tmp_path):
    run("status", "RP-01", "已组卷上报", "--store", sample_store, "--date", "2026-02-01")
    run("export", "history", tmp_path / "h.csv", "--store", sample_store)
    assert "已组卷上报" in (tmp_path / "h.csv").read_text(encoding="utf-8-sig")
    for suffix in (".gpkg", ".shp", ".fgb", ".parquet", ".csv", ".xlsx"):
        run("export", "park_zones", tmp_path / f"p{suffix}", "--store", sample_store, "--crs", "EPSG:4546")
        assert (tmp_path / f"p{suffix}").stat().st_size > 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_builds_sample_store_and_answers_health(tmp_path):
    store = tmp_path / "fresh" / "landgis.gpkg"
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--store", str(store), "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail(proc.stdout.read().decode() if proc.poll() is not None else "server did not start")
                time.sleep(0.3)
        assert r.status_code == 200 and r.json()["status"] == "ok" and r.json()["layers"] >= 7
        assert store.exists()
    finally:
        proc.terminate()
        proc.wait(10)
