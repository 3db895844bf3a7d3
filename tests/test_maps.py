"""Map builders, offline assets, the maps router and `landgis map` (no browser; see test_maps_browser.py)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

REPO = Path(__file__).resolve().parents[1]
# A tag that would make the browser fetch from another host (an <a href> in Leaflet's
# attribution is a link, not a load, and is allowed).
EXTERNAL_TAG = re.compile(r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["'](?:https?:)?//""", re.I)


@pytest.fixture(scope="session", autouse=True)
def map_assets():
    """Vendored Leaflet + plugins (npm pack, idempotent; a no-op once installed)."""
    from maps.assets import check_assets

    try:
        check_assets()
    except Exception:
        subprocess.run(["bash", str(REPO / "scripts" / "fetch-map-assets.sh")], check=True)
        check_assets()


@pytest.fixture(scope="module")
def plan():
    from parcels.sample.plan import build_plan_layers

    return build_plan_layers()


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    from gis.store import open_store
    from parcels.layers import prepare_features
    from parcels.sample import sample_layers
    from parcels.schema import LAYERS

    store = open_store(str(tmp_path_factory.mktemp("maps") / "s.gpkg"))
    for name, gdf in sample_layers().items():
        ready, _ = prepare_features(name, gdf)
        store.import_features(name, ready, mode="replace", user="test", geometry_type=LAYERS[name].geometry_type, title=LAYERS[name].title_zh, reason="test")
    yield store
    store.close()


def parcels_html(plan, **kw) -> tuple[str, object]:
    from maps.base import PageOptions, render_html
    from maps.parcels import build_parcels_map

    m, ctx = build_parcels_map(plan["reserve_parcels"], plan["park_zones"], plan["zone_boundary"], page=PageOptions(**kw))
    return render_html(m, ctx), ctx


# --- palette ------------------------------------------------------------------------------


def test_land_use_colours_follow_the_class_table():
    from maps.palette import LAND_USE_CLASSES, UNKNOWN_USE_COLOUR, land_use_colour

    by_name = {c.name: c.hex for c in LAND_USE_CLASSES}
    assert land_use_colour("工业") == by_name["工业用地"]
    assert land_use_colour("居住") == by_name["居住用地"]
    assert land_use_colour("仓储") == by_name["仓储用地"]
    assert land_use_colour("二类工业用地") == by_name["工业用地"]
    assert len({land_use_colour(u) for u in ("工业", "居住", "仓储")}) == 3
    assert land_use_colour("火星基地") == UNKNOWN_USE_COLOUR
    assert land_use_colour(None) == UNKNOWN_USE_COLOUR


def test_land_use_colours_pinned_to_the_table_transcription():
    """The values compared with a transcription of 附录B of 《市级国土空间总体规划制图规范（试行）》
    (maps/palette.py): a change must be deliberate; the status stays `unverified` until someone
    checks them against the printed table, and the legend says so in Chinese."""
    from maps.palette import LAND_USE_CLASSES, LAND_USE_SOURCE, LAND_USE_SOURCE_NOTE_ZH, LAND_USE_SOURCE_STATUS

    rgb = {c.name: c.rgb for c in LAND_USE_CLASSES}
    assert rgb["耕地"] == (245, 248, 220) and rgb["林地"] == (104, 177, 103)
    assert rgb["居住用地"] == (255, 255, 45) and rgb["商业服务业用地"] == (255, 0, 0)
    assert rgb["工业用地"] == (187, 150, 116) and rgb["仓储用地"] == (135, 97, 211)
    assert rgb["交通运输用地"] == (183, 183, 183) and rgb["绿地与开敞空间用地"] == (0, 255, 0)
    assert rgb["陆地水域"] == (51, 142, 192)
    assert {c.name for c in LAND_USE_CLASSES if c.basis.startswith("landgis")} == {"公共管理与公共服务用地"}
    assert "附录B" in LAND_USE_SOURCE and "234号" in LAND_USE_SOURCE and LAND_USE_SOURCE_STATUS == "unverified"
    assert "尚未与规范原文逐项核对" in LAND_USE_SOURCE_NOTE_ZH


def test_popup_translates_geometry_source_in_the_browser_config():
    """A tiled layer's popup shows the record fetched from the API (raw `schematic`): the popup
    config carries the Chinese display text so the browser can translate it."""
    from maps.popups import GEOMETRY_SOURCE_ZH, popup_for_layer

    cfg = popup_for_layer("reserve_parcels", ["id", "geometry_source", "name", "use"]).to_js()
    by_name = {f["name"]: f for f in cfg["fields"]}
    assert by_name["geometry_source"]["values"] == GEOMETRY_SOURCE_ZH
    assert "values" not in by_name["name"]


def test_quantile_breaks_ignore_nan_and_stay_ascending():
    from maps.palette import quantile_breaks

    b = quantile_breaks([np.nan, 1, 2, 3, 4, 100, np.inf, 5, 6, 7, 8], 4)
    assert b == sorted(set(b)) and b[0] == 1.0 and len(b) == 4
    assert quantile_breaks([np.nan, np.nan]) == []


# --- GeoJSON text -------------------------------------------------------------------------


def test_feature_collection_rounds_coordinates_and_nulls_nan():
    from maps.geojson import feature_collection
    from maps.popups import json_safe_frame

    gdf = gpd.GeoDataFrame(
        {"name": ["甲", None], "v": [1.123456789, np.nan], "n": pd.array([3, None], dtype="Int64")},
        geometry=[box(112.1234567891, 32.9876543219, 112.13, 32.99), None],
        crs=4490,
    )
    text, skipped = feature_collection(gdf, json_safe_frame(gdf, ["name", "v", "n"]))
    data = json.loads(text)  # NaN would make this invalid JSON
    assert skipped == 1 and len(data["features"]) == 1
    assert data["features"][0]["properties"] == {"name": "甲", "v": 1.1235, "n": 3}
    coords = re.findall(r"-?\d+\.\d+", json.dumps(data["features"][0]["geometry"]))
    assert coords and all(len(c.split(".")[1]) <= 6 for c in coords)
    assert data["features"][0]["geometry"]["coordinates"][0][0] != [112.1234567891, 32.9876543219]


def test_amap_overlay_is_shifted_to_gcj02():
    from gis.crs import wgs84_to_gcj02
    from maps.geojson import display_geometries

    g = shapely.Point(112.5, 33.0)
    shifted = display_geometries([g], gcj02=True)[0]
    elon, elat = wgs84_to_gcj02(112.5, 33.0)
    assert abs(shifted.x - float(elon)) < 1e-6 and abs(shifted.y - float(elat)) < 1e-6
    assert abs(shifted.x - 112.5) > 1e-3  # hundreds of metres in Henan: a real correction


# --- the parcels map ----------------------------------------------------------------------


def test_saved_parcels_map_is_self_contained(plan):
    html, ctx = parcels_html(plan)
    assert "<script src=" not in html and '<link rel="stylesheet" href=' not in html
    assert not EXTERNAL_TAG.search(html)
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html and "code.jquery" not in html
    assert "L.Control.Measure" in html and "L.Control.Search" in html and "landgis.featureLayer" in html
    assert "data:image/png;base64," in html  # plugin CSS icons inlined
    assert "tile.openstreetmap.org" not in html  # offline default: no tiles at all
    assert ctx.layers["reserve_parcels"] == {"mode": "geojson", "count": len(plan["reserve_parcels"])}
    for label in ("图例", "储备地块用途（填充色）", "报批状态（边框）", "示意位置", "项目名称", "报批状态"):
        assert label in html
    for name in plan["reserve_parcels"]["name"]:
        assert json.dumps(name, ensure_ascii=False)[1:-1] in html


def test_basemaps(plan):
    from maps.errors import MapInputError

    osm, _ = parcels_html(plan, basemap="osm")
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in osm
    tdt, _ = parcels_html(plan, basemap="tianditu", tianditu_key="KEY123")
    assert "tianditu.gov.cn/vec_w" in tdt and "tk=KEY123" in tdt and "cva_w" in tdt
    with pytest.raises(MapInputError, match="天地图"):
        parcels_html(plan, basemap="tianditu")
    with pytest.raises(MapInputError, match="底图"):
        parcels_html(plan, basemap="google")
    amap, ctx = parcels_html(plan, basemap="amap")
    assert "autonavi.com" in amap and "GCJ-02" in amap
    none, _ = parcels_html(plan)
    first = plan["reserve_parcels"].geometry.iloc[0]
    x0 = f"{round(shapely.get_coordinates(first)[0][0], 6)}"
    assert x0 in none and x0 not in amap


def test_large_layer_uses_tiles_when_served_and_simplified_geojson_when_saved(plan):
    served, ctx = parcels_html(plan, mode="served", large_threshold=3, api_root="/gis")
    assert ctx.layers["reserve_parcels"]["mode"] == "tiles"
    assert "/gis/collections/reserve_parcels/tiles/WebMercatorQuad/{z}/{x}/{y}" in served
    assert 'src="/static/maps/vendor/leaflet.vectorgrid/' in served
    saved, ctx = parcels_html(plan, mode="saved", large_threshold=3)
    assert ctx.layers["reserve_parcels"]["mode"] == "simplified"
    assert "= landgis.vectorTileLayer(" not in saved and "= landgis.vectorTileLayer(" in served
    assert '"canvas": true' in saved
    # No automatic /favicon.ico request (a 404 and a console error on every served map).
    assert '<link rel="icon" href="data:,">' in served and '<link rel="icon" href="data:,">' in saved


def test_tiled_layer_searches_through_the_items_endpoint(plan):
    """A tiled layer has no features in the page: its search control asks the API instead of
    leaflet-search's in-page layer search (which a tiled layer never got: issue 6)."""
    served, ctx = parcels_html(plan, mode="served", large_threshold=3, api_root="/gis")
    assert ctx.layers["reserve_parcels"]["mode"] == "tiles"
    calls = re.findall(r"landgis\.tiledSearchControl\((map_\w+), (vector_tile_layer_\w+), \"name\", \"按项目名称搜索…\"\);", served)
    assert len(calls) == 1, calls
    assert f"var {calls[0][1]} = landgis.vectorTileLayer(" in served  # the tiled layer itself
    assert '"itemsUrl": "/gis/collections/reserve_parcels/items/"' in served
    assert 'src="/static/maps/vendor/leaflet-search/dist/leaflet-search.min.js"' in served
    assert 'href="/static/maps/vendor/leaflet-search/dist/leaflet-search.min.css"' in served
    assert "landgis.searchControl(" not in served  # no GeoJSON layer left to search in the page
    # Below the threshold the in-page search stays, over "name（id）".
    small, ctx = parcels_html(plan, mode="served", api_root="/gis")
    assert ctx.layers["reserve_parcels"]["mode"] == "geojson"
    assert "landgis.searchControl(" in small and "landgis.tiledSearchControl(" not in small


def test_tiled_search_only_for_a_field_the_layer_has(plan):
    from maps.base import add_layer, new_map, render_html

    reserve = plan["reserve_parcels"]
    for search, expected in (("name", 1), ("no_such_field", 0), (None, 0)):
        m, ctx = new_map("t", mode="served", large_threshold=3)
        add_layer(m, ctx, reserve, key="r", title="储备地块", style={"base": {}}, search=search, collection="reserve_parcels")
        html = render_html(m, ctx)
        assert ctx.layers["r"]["mode"] == "tiles"
        assert html.count("landgis.tiledSearchControl(") == expected, search
        assert ("leaflet-search.min.js" in html) == bool(expected), search


def test_schematic_note_counts_features(plan):
    html, _ = parcels_html(plan)
    n = sum(int((plan[k]["geometry_source"] == "schematic").sum()) for k in ("reserve_parcels", "park_zones", "zone_boundary"))
    assert f"{n} 个要素的几何为示意位置" in html


# --- the analysis maps from frames ---------------------------------------------------------


def _parcels_grid(n: int = 4) -> gpd.GeoDataFrame:
    geoms = [box(112.45 + 0.01 * i, 32.98, 112.455 + 0.01 * i, 32.985) for i in range(n)]
    return gpd.GeoDataFrame({"id": [f"IP-{i}" for i in range(n)], "area_mu": [10.0 * (i + 1) for i in range(n)]}, geometry=geoms, crs=4490)


def test_efficiency_parcel_takes_class_of_largest_land_holder():
    from maps.efficiency import parcels_by_class

    results = pd.DataFrame(
        {
            "enterprise_id": ["E1", "E2", "E3"],
            "name": ["小企业", "大企业", "另一地块"],
            "parcel_id": ["IP-0", "IP-0", "IP-1;IP-2"],
            "land_area_mu": [5.0, 50.0, 8.0],
            "class": ["D", "A", "C"],
            "tax_per_mu": [1.0, 30.0, np.nan],
        }
    )
    out = parcels_by_class(results, _parcels_grid()).set_index("id")
    assert out.loc["IP-0", "class"] == "A" and out.loc["IP-0", "name"] == "大企业"
    assert out.loc["IP-1", "class"] == "C" and out.loc["IP-2", "class"] == "C"
    assert "IP-3" not in out.index


def test_efficiency_map_refuses_unknown_indicator_and_draws_classes():
    from maps.base import render_html
    from maps.errors import MapInputError
    from maps.efficiency import build_efficiency_map

    results = pd.DataFrame({"enterprise_id": ["E1", "E2"], "name": ["甲", "乙"], "parcel_id": ["IP-0", "IP-1"], "land_area_mu": [5.0, 6.0], "class": ["A", "C"], "tax_per_mu": [30.0, 2.0]})
    with pytest.raises(MapInputError, match="energy_xyz"):
        build_efficiency_map(results, _parcels_grid(), indicator="energy_xyz")
    m, ctx = build_efficiency_map(results, _parcels_grid(), indicator="tax_per_mu")
    html = render_html(m, ctx)
    assert ctx.layers["efficiency_parcels"]["count"] == 2
    assert "A类（优先发展）" in html and "亩均税收" in html and "评价类别" in html


def test_standard_land_verdicts_validated_by_row():
    from maps.base import render_html
    from maps.errors import MapInputError
    from maps.standard_land import build_standard_land_map

    g = _parcels_grid(3).assign(name=["一", "二", "三"])
    with pytest.raises(MapInputError, match="第 2 行"):
        build_standard_land_map(g.assign(verdict=["pass", "maybe", "fail"]))
    m, ctx = build_standard_land_map(g.assign(verdict=["pass", "incomplete", "FAIL"], failed=[None, None, "容积率 0.6 < 1.0"]))
    html = render_html(m, ctx)
    assert "达标（1 宗）" in html and "不达标（1 宗）" in html and "资料不全（1 宗）" in html
    assert "核查结论" in html and "未达标指标" in html


def test_expansion_map_embeds_raster_candidates_and_balance():
    from maps.base import render_html
    from maps.errors import MapInputError
    from maps.expansion import build_expansion_map, suitability_rgba

    arr = np.linspace(0, 1, 400).reshape(20, 20)
    arr[0, 0] = np.nan
    rgba, breaks = suitability_rgba(arr)
    assert rgba[0, 0, 3] == 0 and rgba[-1, -1, 3] > 0 and breaks[0] == 0.0 and breaks[-1] == 1.0
    assert tuple(rgba[-1, -1, :3]) != tuple(rgba[1, 0, :3])  # high and low suitability differ
    cands = _parcels_grid(3).assign(score=[0.2, 0.6, 0.9], rank=[3, 2, 1])
    with pytest.raises(MapInputError, match="suitability_bounds"):
        build_expansion_map(arr, cands)
    m, ctx = build_expansion_map(arr, cands, suitability_bounds=(112.4, 32.95, 112.5, 33.02), balance={"工业用地需求": 12000, "储备地块供给": 3500.4})
    html = render_html(m, ctx)
    assert "data:image/png;base64," in html and "用地适宜性" in html
    assert "用地供需平衡" in html and "12,000" in html and "3,500" in html
    assert ctx.layers["candidates"]["count"] == 3
    with pytest.raises(MapInputError):
        build_expansion_map(None, None)


# --- router -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(sample_store):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from api import errors
    from api.routers import maps
    from api.settings import Settings

    app = FastAPI()
    app.state.settings = Settings(store=sample_store.url)
    app.state.store = sample_store
    errors.install(app)
    app.include_router(maps.router)
    with TestClient(app) as c:
        yield c


def test_list_maps_json_and_html(client):
    r = client.get("/maps?f=json")
    assert r.status_code == 200
    names = [m["name"] for m in r.json()["maps"]]
    assert names == ["parcels", "efficiency", "standard-land", "expansion", "supervision", "intensity"]
    assert {b["key"] for b in r.json()["basemaps"]} == {"none", "osm", "tianditu", "amap"}
    h = client.get("/maps", headers={"accept": "text/html"})
    assert h.status_code == 200 and "text/html" in h.headers["content-type"] and "储备地块" in h.text
    assert client.get("/maps?f=xml").status_code == 400


def test_served_parcels_map_links_local_assets(client):
    r = client.get("/maps/parcels")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert 'src="/static/maps/vendor/leaflet/dist/leaflet.js"' in r.text
    assert not EXTERNAL_TAG.search(r.text)
    js = client.get("/static/maps/vendor/leaflet/dist/leaflet.js")
    assert js.status_code == 200 and "leafletjs.com" in js.text and "javascript" in js.headers["content-type"]
    assert client.get("/static/maps/landgis-maps.css").status_code == 200
    for bad in ("/static/maps/../../api/app.py", "/static/maps/%2e%2e/%2e%2e/api/app.py", "/static/maps/nope.js"):
        assert client.get(bad).status_code == 404


def test_map_errors_are_problem_json(client):
    r = client.get("/maps/nope")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json") and "parcels" in r.json()["detail"]
    r = client.get("/maps/parcels?basemap=google")
    assert r.status_code == 400 and "底图" in r.json()["detail"]
    r = client.get("/maps/parcels?basemap=tianditu")
    assert r.status_code == 400 and "密钥" in r.json()["detail"]
    r = client.get("/maps/efficiency")  # enterprise data: analyst only (SPEC §8.4)
    assert r.status_code == 401


def test_download_is_self_contained(client):
    r = client.get("/maps/parcels?download=1")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert "<script src=" not in r.text and "L.Control.Measure" in r.text


def test_analysis_maps_with_analyst_key(client, sample_store):
    from api.auth import add_key

    key = add_key(sample_store, "map-analyst", "analyst", user="test")
    for name in ("efficiency", "standard-land", "expansion"):
        r = client.get(f"/maps/{name}", headers={"authorization": f"Bearer {key}"})
        assert r.status_code == 200, r.text[:300]
        assert "图例" in r.text
    r = client.get("/maps/efficiency?indicator=nope", headers={"authorization": f"Bearer {key}"})
    assert r.status_code == 400 and "nope" in r.json()["detail"]


# --- CLI ----------------------------------------------------------------------------------


def test_cli_map_writes_self_contained_file(sample_store, tmp_path):
    from typer.testing import CliRunner

    from api.cli import app

    runner = CliRunner()
    out = tmp_path / "parcels.html"
    r = runner.invoke(app, ["map", "parcels", "--out", str(out), "--store", sample_store.url])
    assert r.exit_code == 0, r.output
    text = out.read_text(encoding="utf-8")
    assert "<script src=" not in text and "储备地块" in text
    assert runner.invoke(app, ["map", "nope", "--out", str(out), "--store", sample_store.url]).exit_code == 2
    assert runner.invoke(app, ["map", "parcels", "--out", str(tmp_path / "x.txt"), "--store", sample_store.url]).exit_code == 2
    r = runner.invoke(app, ["map", "parcels", "--basemap", "tianditu", "--out", str(out), "--store", sample_store.url], env={"LANDGIS_TIANDITU_KEY": ""})
    assert r.exit_code == 1


# --- large layers: the served page reads a summary, not the layer (services/maps.py) --------


def _same_page(a: str, b: str) -> bool:
    """Equal up to folium's random element ids and the map centre's last digits (the R-tree's
    float32 extent versus the exact bounds)."""
    norm = lambda h: re.sub(r"center: \[[^\]]*\]", "center", re.sub(r"_[0-9a-f]{32}", "_ID", h))  # noqa: E731
    return norm(a) == norm(b)


def test_served_tiled_map_reads_no_geometry_and_matches_the_full_build(sample_store, monkeypatch):
    from maps.base import render_html
    from maps.parcels import build_parcels_map
    from services.maps import MapOptions, _kwargs, render_map

    opts = MapOptions(mode="served", large_threshold=3)
    full = render_html(*build_parcels_map(sample_store.read_layer("reserve_parcels"), sample_store.read_layer("park_zones"), sample_store.read_layer("zone_boundary"), **_kwargs(opts, sample_store)))
    real_read = sample_store.read_layer

    def read_layer(name, **kw):
        assert name != "reserve_parcels", "a served map of a tiled layer read the whole layer"
        return real_read(name, **kw)

    monkeypatch.setattr(sample_store, "read_layer", read_layer)
    page = render_map("parcels", sample_store, opts)
    assert "= landgis.vectorTileLayer(" in page
    assert _same_page(page, full)
    for use in set(real_read("reserve_parcels")["use"]):
        assert f"{use}（" in page  # its legend row
    # AMap needs the GCJ-02 shift of every vertex: no tiles there, so the layer is read.
    with pytest.raises(AssertionError, match="read the whole layer"):
        render_map("parcels", sample_store, MapOptions(mode="served", large_threshold=3, basemap="amap"))


def test_layer_summary_is_kept_per_revision_only(sample_store, monkeypatch):
    from services import maps as summary  # summarize_layer lives in the maps service, its cache in the store

    sample_store.caches.clear()
    calls = []
    real = summary._summarize
    monkeypatch.setattr(summary, "_summarize", lambda *a: calls.append(1) or real(*a))
    rev = {"r": "1"}
    monkeypatch.setattr(sample_store, "revision", lambda layer: rev["r"], raising=False)
    s1 = summary.summarize_layer(sample_store, "reserve_parcels", ["use", "status"])
    assert summary.summarize_layer(sample_store, "reserve_parcels", ["use", "status"]) is s1 and len(calls) == 1
    rev["r"] = "2"  # a write
    summary.summarize_layer(sample_store, "reserve_parcels", ["use", "status"])
    assert len(calls) == 2
    rev["r"] = None  # a store that cannot say: never cached
    summary.summarize_layer(sample_store, "reserve_parcels", ["use", "status"])
    summary.summarize_layer(sample_store, "reserve_parcels", ["use", "status"])
    assert len(calls) == 4
    n = len(sample_store.read_layer("reserve_parcels"))
    assert s1.count == n and sum(s1.values["use"].values()) <= n
    sample_store.caches.clear()


def test_efficiency_map_shows_the_recorded_class_adjustment(sample_store):
    """The map shows a stored run (SPEC §5.5) and the 调档 recorded for its year: a store without a
    run gets one (stored and named on the map), never a silent re-computation."""
    from services.map_sources import efficiency_results
    from services.scoring import latest_run_id, record_adjustment

    before, _ = efficiency_results(sample_store, sample_store.read_layer("enterprises"), sample_store.read_layer("industrial_parcels"), {})
    run_id = latest_run_id(sample_store)
    assert run_id and run_id in before.attrs["run_note"] and "2020 年度" in before.attrs["run_note"]
    row = before[before["class"].notna()].iloc[0]
    target = "C" if row["class"] != "C" else "A"  # a class of the default policy (A/B/C)
    record_adjustment(sample_store, row["enterprise_id"], target, reason="测试：环保处罚调档", user="test", year=2020)
    after, _ = efficiency_results(sample_store, sample_store.read_layer("enterprises"), sample_store.read_layer("industrial_parcels"), {})
    assert latest_run_id(sample_store) == run_id  # shown, not re-scored
    moved = after.set_index("enterprise_id").loc[row["enterprise_id"]]
    assert moved["class"] == target and moved["initial_class"] == row["initial_class"]
    assert "调档" in after.attrs["run_note"]
