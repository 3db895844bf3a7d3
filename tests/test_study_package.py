"""The study package end to end (SPEC §7): `landgis study`, `POST /study/land-balance`, `GET /study/package`.

On the bundled sample data the package is written; every layer opens with GDAL in both CRSs; the
suitability raster is a valid COG; the XLSX has Chinese headers; the report has maps and charts.
"""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pyogrio
import pytest
import rasterio
import shapely
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
    assert {"扩区研究.gpkg", "suitability_cog.tif", "扩区研究表格.xlsx", "扩区研究报告.html", "数据字典.md", "summary.json"} <= names
    assert "工业用地需求" in output and "推荐扩区" in output


def test_every_layer_opens_with_gdal_in_both_crs(package):
    out, _ = package
    layers = dict(pyogrio.list_layers(out / "扩区研究.gpkg"))
    base = [n for n in layers if not n.endswith("_4546")]
    assert {"zone_boundary", "park_zones", "roads", "reserve_parcels", "inefficient_land", "candidate_blocks", "recommended_expansion"} <= set(base)
    # the constraint layers the study used travel with it (SPEC §7)
    assert {"permanent_farmland", "ecological_redline", "urban_boundary", "admin_units"} <= set(base)
    for name in base:
        a = pyogrio.read_dataframe(out / "扩区研究.gpkg", layer=name)
        b = pyogrio.read_dataframe(out / "扩区研究.gpkg", layer=f"{name}_4546")
        assert a.crs.to_epsg() == 4490 and b.crs.to_epsg() == 4546, name
        assert len(a) == len(b) > 0, name
        assert a.geometry.is_valid.all(), name
    units = pyogrio.read_dataframe(out / "扩区研究.gpkg", layer="candidate_blocks")
    ranked = units["rank"].dropna()
    assert sorted(ranked.astype(int)) == list(range(1, len(ranked) + 1))
    assert units["suitability"].dropna().between(0, 1).all()
    assert (units["kind"] == "行政村").all(), "the default scenario takes over whole villages (整建制托管)"
    sel = units[units["selected"].astype(bool)]
    rec = pyogrio.read_dataframe(out / "扩区研究.gpkg", layer="recommended_expansion")
    assert set(rec["unit_id"]) == set(sel["unit_id"])
    assert (rec["geometry_source"] == "schematic").all()


def _package_layer(out, name):
    return pyogrio.read_dataframe(out / "扩区研究.gpkg", layer=name)


def _plane_m2(geom) -> float:
    from gis.crs import to_measure

    return float(shapely.area(to_measure(np.asarray([geom], dtype=object)))[0])


def test_recommended_land_never_touches_farmland_or_redline(package):
    """Must show: recommended land ∩ 永久基本农田 / 生态保护红线 = 0 m², on the package's own layers."""
    out, _ = package
    rec = shapely.union_all(_package_layer(out, "recommended_expansion").geometry.values)
    assert _plane_m2(rec) > 1e6
    for name in ("permanent_farmland", "ecological_redline"):
        protected = _package_layer(out, name)
        assert len(protected) and (protected["geometry_source"] == "schematic").all()
        overlap = shapely.intersection(rec, shapely.union_all(protected.geometry.values))
        assert _plane_m2(overlap) == 0.0, name
    # and the farmland sketched right under the zone's south edge was the land most at risk
    farm01 = _package_layer(out, "permanent_farmland").set_index("id").geometry["PF-01"]
    assert shapely.distance(farm01, rec) < 1e-3


def test_recommended_land_is_one_area_with_the_zone(package):
    """Must show: zone ∪ recommended land is one polygon (the zone's south part, which the plan
    expands along), and the recommended land adds no part of its own to the zone (1 cm precision)."""
    out, _ = package
    zone = _package_layer(out, "zone_boundary")
    current = shapely.get_parts(shapely.union_all(zone.loc[zone["kind"] == "current"].geometry.values))
    rec = _package_layer(out, "recommended_expansion").geometry.values
    grid = 1e-7  # degrees ≈ 1 cm
    whole = shapely.union_all(np.concatenate([current, rec]), grid_size=grid)
    assert len(shapely.get_parts(whole)) == len(current), "no recommended part stands apart from the zone"
    south = min(current, key=lambda g: g.centroid.y)
    assert shapely.union_all(np.concatenate([[south], rec]), grid_size=grid).geom_type == "Polygon"


def test_summary_json_holds_the_balance(package):
    """Must show: ≥ 3 demand methods; recommended_mu within the net need and its gross-up."""
    out, _ = package
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    methods = {d["method"]: d for d in s["demand"]}
    assert len(methods) >= 3 and {"revenue", "projects", "investment"} <= set(methods)
    assert all(d["mu"] > 0 and d["how"] and d["status"] for d in s["demand"])
    assert methods["investment"]["status"] == "sample" and not methods["investment"]["deciding"]
    assert s["demand_mu"] == pytest.approx(max(d["mu"] for d in s["demand"] if d["deciding"]), abs=0.01)
    supply = {x["key"]: x["mu"] for x in s["supply"]}
    assert {"reserve_supply_mu", "zhongguancun_supply_mu", "recycled_supply_mu"} <= set(supply)
    assert s["supply_total_mu"] == pytest.approx(sum(supply.values()), abs=0.05)
    assert s["net_need_mu"] == pytest.approx(max(0.0, s["demand_mu"] - s["supply_total_mu"]), abs=0.05)
    assert s["net_need_mu"] > 0
    gross = s["net_need_mu"] * s["gross_up"]
    assert s["gross_need_mu"] == pytest.approx(gross, rel=1e-6)
    assert s["net_need_mu"] <= s["recommended_mu"] <= gross * (1 + 1e-6)
    # the recommendation is sized by the need, not by the plan's 50 km², and says how they compare
    assert s["recommended_km2"] < s["plan_expansion_target_km2"]
    assert s["recommended_vs_plan_target"] == pytest.approx(s["recommended_mu"] / (50 * 1500), rel=1e-3)
    # the package's layer agrees with the summary
    rec = _package_layer(out, "recommended_expansion")
    from gis.crs import to_measure

    plane = shapely.area(to_measure(np.asarray(rec.geometry.values, dtype=object))).sum() / (10000 / 15)
    assert plane == pytest.approx(s["recommended_mu"], rel=1e-4)
    assert s["schematic_layers"] and "示意" in s["schematic_note"]
    assert s["assumptions"]["status"] == "scenario" and s["gross_up"] == pytest.approx(1 / s["assumptions"]["expansion_industrial_share"])


def test_share_in_the_plans_southern_expansion_is_measured(package):
    out, _ = package
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    zone = _package_layer(out, "zone_boundary")
    plan = shapely.union_all(zone.loc[zone["kind"] == "expansion"].geometry.values)
    rec = shapely.union_all(_package_layer(out, "recommended_expansion").geometry.values)
    share = _plane_m2(shapely.intersection(rec, plan)) / _plane_m2(rec)
    assert s["share_in_plan_expansion"] == pytest.approx(share, abs=1e-3)
    assert share > 0.9, "the default scenario follows the plan's direction (south)"


def test_supply_counts_the_reserve_overlap_once(sample, package):
    """The 349 亩 where reserve parcels lie on existing industrial parcels are reported, not supplied."""
    from gis.crs import area_mu

    out, _ = package
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    store = sample["store"]
    reserve = store.read_layer("reserve_parcels")
    counted = reserve[reserve["use"].isin(["工业", "仓储"])]
    industrial = shapely.union_all(store.read_layer("industrial_parcels").geometry.values)
    overlap = float(area_mu([shapely.intersection(shapely.union_all(counted.geometry.values), industrial)])[0])
    assert overlap > 300
    assert s["reserve_overlap_industrial_mu"] == pytest.approx(overlap, rel=2e-3)
    assert sum(r["overlap_mu"] for r in s["reserve_overlaps"]) == pytest.approx(overlap, rel=2e-3)


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
    assert wb.sheetnames[0] == "说明（示意数据）" and "permanent_farmland" in next(wb["说明（示意数据）"].iter_rows(min_row=2, values_only=True))[0]
    assert {"需求测算（方法对照）", "用地平衡", "储备地块按用途", "储备地块（只计一次）", "重点项目用地（专栏3–8）", "扩区候选单位",
            "规划目标（表1）", "情景参数", "数据字典", "低效用地"} <= set(wb.sheetnames)
    header = [c.value for c in next(wb["用地平衡"].iter_rows(max_row=1))]
    assert header == ["代码", "项目", "数值", "单位", "计算方法与来源"]
    rows = {r[0]: r[2] for r in wb["用地平衡"].iter_rows(min_row=2, values_only=True)}
    assert rows["target_revenue_total_yi"] == 1000  # 表1
    # the methods side by side, in Chinese, the deciding ones marked
    demand = list(wb["需求测算（方法对照）"].iter_rows(values_only=True))
    assert demand[0][:4] == ("方法", "代码", "用地需求(亩)", "决定净需求")
    by_code = {r[1]: r for r in demand[1:]}
    assert {"revenue", "projects", "investment"} <= set(by_code)
    assert rows["demand_mu"] == pytest.approx(max(r[2] for r in demand[1:] if r[3] == "是"), rel=1e-6)
    assert "示例值" in by_code["investment"][4]
    units_header = [c.value for c in next(wb["扩区候选单位"].iter_rows(max_row=1))]
    assert {"综合适宜性", "排名", "永久基本农田(亩)", "推荐扩区用地(亩)"} <= set(units_header)


def test_report_and_dictionary_cite_sources(package):
    out, _ = package
    html = (out / "扩区研究报告.html").read_text(encoding="utf-8")
    assert html.count("<svg") >= 3 and "data:image/png;base64," in html
    assert "用地平衡" in html or "供需平衡" in html
    assert "多种方法对照" in html and "按固定资产投资 ÷ 投资强度" in html and "示例值" in html
    assert "永久基本农田" in html and "规划南区扩区范围" in html and "示意" in html
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
    assert len(r.json()["demand"]) >= 3
    base = r.json()["values"]
    faster = analyst.post("/study/land-balance", json={"overrides": {"assumptions": {"revenue_per_mu_growth": 0.12}}}).json()["values"]
    # a higher 亩均 improvement needs less land for the same revenue target
    assert faster["demand_by_revenue_mu"] < base["demand_by_revenue_mu"]
    bad = analyst.post("/study/land-balance", json={"overrides": {"assumptions": {"reserve_supply_share": 7}}})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert any("reserve_supply_share" in (e.get("field") or "") for e in bad.json()["errors"])
    assert analyst.post("/study/land-balance", json={"scenario": "../../etc/passwd"}).status_code == 422
    assert analyst.post("/study/land-balance", json={"nonsense": 1}).status_code == 422
    full = analyst.post("/study/land-balance", json={"with_candidates": True})
    assert full.status_code == 200, full.text
    summary = full.json()["summary"]
    assert summary["net_need_mu"] <= summary["recommended_mu"] <= summary["gross_need_mu"] + 0.01
    assert len(summary["demand"]) >= 3 and 0 < summary["share_in_plan_expansion"] <= 1


def test_package_endpoint_returns_a_zip(client):
    anon, analyst = client
    assert anon.get("/study/package").status_code == 401
    r = analyst.get("/study/package")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    zf = zipfile.ZipFile(io.BytesIO(r.content))
    names = set(zf.namelist())
    assert {"扩区研究.gpkg", "suitability_cog.tif", "扩区研究表格.xlsx", "扩区研究报告.html", "数据字典.md", "summary.json"} <= names
    assert json.loads(zf.read("summary.json"))["recommended_mu"] > 0


def test_no_recommendation_without_the_protected_lines(sample):
    """Without 永久基本农田 / 生态保护红线 the study cannot promise to spare them: it refuses in Chinese."""
    from gis.errors import InputError
    from gis.raster import read_raster
    from parcels.study.package import run_study
    from parcels.study.scenario import load_scenario
    from services.study import STUDY_LAYERS, read_study_layers

    layers = read_study_layers(sample["store"], STUDY_LAYERS)
    for name in ("ecological_redline", "urban_boundary", "admin_units"):
        layers[name] = sample["store"].read_layer(name)
    dem, dg, _ = read_raster(sample["rasters"] / "dem.tif")
    lc, lg, _ = read_raster(sample["rasters"] / "landcover.tif")
    with pytest.raises(InputError) as exc:
        run_study(load_scenario(), layers, dem=(dem, dg), landcover=(lc, lg))
    assert "permanent_farmland（永久基本农田）" in str(exc.value) and "landgis import" in exc.value.hint


def test_blocks_instead_of_villages_keep_the_same_promises(sample):
    """`expansion.candidates = "blocks"`: suitability blocks, still sized by the need and never on
    protected land; blocks stop one raster cell short of the zone, so they connect within the
    scenario's adjacency tolerance rather than edge to edge."""
    from parcels.study.scenario import load_scenario
    from services.study import study_from_store

    sc = load_scenario(None, overrides={"expansion": {"candidates": "blocks"}})
    result = study_from_store(sample["store"], sc, rasters_dir=sample["rasters"])
    s = result.summary
    assert s["candidates"] == "blocks" and s["net_need_mu"] <= s["recommended_mu"] <= s["gross_need_mu"] + 0.01
    rec = result.layers["recommended_expansion"]
    protected = shapely.union_all(np.concatenate([result.layers[n].geometry.values for n in ("permanent_farmland", "ecological_redline")]))
    assert _plane_m2(shapely.intersection(shapely.union_all(rec.geometry.values), protected)) == 0.0
    from gis.crs import to_measure

    zone = result.layers["zone_boundary"]
    reached = shapely.union_all(to_measure(np.asarray(zone.loc[zone["kind"] == "current"].geometry.values, dtype=object)))
    parts = list(to_measure(np.asarray(rec.sort_values("selection_order").geometry.values, dtype=object)))
    for part in parts:
        assert shapely.distance(part, reached) <= sc.suitability.adjacency_tolerance_m + 1
        reached = shapely.union(reached, part)


def test_no_need_no_expansion(sample):
    """When the 中关村 land alone covers the need, nothing is recommended and the report says why."""
    from parcels.study.scenario import load_scenario
    from services.study import study_from_store

    sc = load_scenario(None, overrides={"supply": {"zhongguancun_industrial_share": 1.0}})
    result = study_from_store(sample["store"], sc, rasters_dir=sample["rasters"])
    s = result.summary
    assert s["net_need_mu"] == 0 and s["recommended_mu"] == 0 and s["share_in_plan_expansion"] is None
    assert "recommended_expansion" not in result.layers
    assert any("净需求为 0" in n for n in result.notes) and "净需求为 0" in result.report_html


def test_the_package_carries_the_intensity_evaluation(package):
    """Issue 15: summary.json → intensity, a sheet and a report section, each value beside the national figure."""
    from openpyxl import load_workbook

    out, _ = package
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))["intensity"]
    assert s["survey"] == "survey" and any("合成" in n for n in s["notes"])  # the sample survey says it is synthetic
    keys = {i["key"]: i for i in s["indicators"]}
    assert keys["supply_rate"]["national"] == 92.84 and keys["supply_rate"]["value"] is not None and keys["supply_rate"]["status"] == "unverified"
    assert s["potential"]["ready_unsupplied_ha"] > 0 and s["zone_type"]["status"] == "unverified"
    wb = load_workbook(out / "扩区研究表格.xlsx", read_only=True)
    rows = list(wb["土地集约利用评价"].iter_rows(values_only=True))
    assert rows[0][:3] == ("指标", "计算公式", "数值") and {r[0] for r in rows[1:]} >= {"土地供应率", "工业用地地均税收", "土地闲置率"}
    page = (out / "扩区研究报告.html").read_text(encoding="utf-8")
    assert "开发区土地集约利用评价" in page and "尚可供地年数" in page and "92.84" in page
