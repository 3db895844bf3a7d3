"""Maps an official can orient by (issue 20, SPEC §9): roads and labels, the basemap switcher.

Headless Debian chromium (tests/browser_support.py), the network cut to this machine: the
default parcels map draws the store's roads with their names along them and labels the parks and
reserve parcels (checked in the DOM and in a screenshot, test-artifacts/maps/orient-*.png); the
labels avoid each other at every zoom; a bureau's intranet XYZ service set in LANDGIS_BASEMAPS
(a tiny tile route on the loopback test server) is listed by the switcher and, once chosen, is
the only tile source the page asks.
"""

from __future__ import annotations

import json
import zlib
import struct

import pytest

from browser_support import ARTIFACTS, Watch, chromium_browser, ensure_assets, ensure_chromium, live_server


def _png(rgb: tuple[int, int, int]) -> bytes:
    """A 256×256 one-colour PNG (no imaging library needed)."""
    raw = b"".join(b"\x00" + bytes(rgb) * 256 for _ in range(256))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 256, 256, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


TILE = _png((180, 220, 250))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    ensure_chromium()
    ensure_assets()
    from fastapi import FastAPI
    from fastapi.responses import Response

    from api import errors
    from api.routers import maps
    from api.settings import Settings
    from gis.store import open_store
    from parcels.layers import prepare_features
    from parcels.sample import sample_layers
    from parcels.schema import LAYERS

    store = open_store(str(tmp_path_factory.mktemp("orient") / "s.gpkg"))
    layers = sample_layers()
    for name, gdf in layers.items():
        ready, _ = prepare_features(name, gdf)
        store.import_features(name, ready, mode="replace", user="test", geometry_type=LAYERS[name].geometry_type, title=LAYERS[name].title_zh, reason="test")
    app = FastAPI()
    app.state.store = store
    tiles: list[str] = []
    errors.install(app)
    app.include_router(maps.router)

    @app.get("/intranet-tiles/{z}/{x}/{y}.png")
    def tile(z: int, x: int, y: int):
        tiles.append(f"{z}/{x}/{y}")
        return Response(TILE, media_type="image/png")

    with live_server(app) as base:
        app.state.settings = Settings(store=store.url, basemaps=json.dumps([
            {"name": "高新区内网影像", "key": "intranet", "url": base + "/intranet-tiles/{z}/{x}/{y}.png", "attribution": "南阳市自然资源和规划局（测试）"},
            {"name": "偏移校正影像", "key": "shifted", "url": base + "/intranet-tiles/{z}/{x}/{y}.png?shifted=1", "offset_m": [120, -40]},
        ], ensure_ascii=False))
        yield {"base": base, "store": store, "layers": layers, "tiles": tiles}
    store.close()


@pytest.fixture(scope="module")
def browser():
    yield from chromium_browser()


def _open(browser, url: str):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    watch = Watch(page)
    page.goto(url, wait_until="load")
    page.wait_for_function("window.landgis && window.landgis.labelStats && window.landgis.labelStats.shown > 0", timeout=10000)
    page.wait_for_timeout(300)
    return ctx, page, watch


def _boxes_overlap(page) -> list:
    """Pairs of label boxes (screen rectangles, rotated labels by their bounding box) that overlap by more than 2 px."""
    return page.evaluate(
        """() => {
            const r = Array.from(document.querySelectorAll('.landgis-label')).map(e => e.getBoundingClientRect());
            const bad = [];
            for (let i = 0; i < r.length; i++) for (let j = i + 1; j < r.length; j++) {
                const a = r[i], b = r[j];
                const w = Math.min(a.right, b.right) - Math.max(a.left, b.left), h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
                if (w > 2 && h > 2) bad.push([i, j, w, h]);
            }
            return bad;
        }"""
    )


def test_default_parcels_map_shows_roads_and_labels(server, browser):
    ctx, page, watch = _open(browser, f"{server['base']}/maps/parcels")
    try:
        roads = server["layers"]["roads"]
        assert page.locator("path.landgis-roads").count() == len(roads)
        road_labels = page.locator(".landgis-label-road").all_inner_texts()
        parcel_labels = page.locator(".landgis-label-parcel").all_inner_texts()
        park_labels = page.locator(".landgis-label-park").all_inner_texts()
        # The plan's road names are written along the roads: 信臣路 (RP-01/02's 四至) among them.
        assert set(road_labels) <= set(roads["name"]) and len(set(road_labels)) >= 8, road_labels
        assert "信臣路" in road_labels or "城南大道" in road_labels
        assert park_labels and set(park_labels) <= set(server["layers"]["park_zones"]["name"])
        # Every reserve parcel carries its 序号 (alone, or with its name where it fits).
        seqs = {str(int(s)) for s in server["layers"]["reserve_parcels"]["seq"]}
        assert parcel_labels and {t.split(" ")[0] for t in parcel_labels} <= seqs
        assert _boxes_overlap(page) == []
        # Road labels are turned along their road: a north-south road's label stands upright.
        angles = page.evaluate("Array.from(document.querySelectorAll('.landgis-label-road')).map(e => e.style.transform)")
        assert any("rotate(" in a and abs(float(a.split("rotate(")[1].split("deg")[0])) > 60 for a in angles), angles
        # The layer switch: 道路 and 注记 are overlays that can be turned off.
        control = page.locator(".leaflet-control-layers").inner_text()
        assert "道路" in control and "注记" in control
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "orient-parcels-labels.png"))
        page.locator(".leaflet-control-layers label", has_text="注记").locator("input").uncheck()
        assert page.locator(".landgis-label").count() == 0
        watch.assert_clean()
    finally:
        ctx.close()


def test_labels_fit_the_zoom_without_overlap(server, browser):
    ctx, page, watch = _open(browser, f"{server['base']}/maps/parcels")
    try:
        counts = {}
        for z in (12, 13, 16):
            # Centred on RP-01 (信臣路以南): zoomed in, its full "序号 名称" label fits inside it.
            page.evaluate(f"""(() => {{
                const lyr = window.landgis.layers.reserve_parcels.layer, m = lyr._map;
                const rp = lyr.getLayers().find(l => l.feature.properties.id === 'RP-01');
                m.setView(rp.getBounds().getCenter(), {z}, {{animate: false}});
            }})()""")
            page.wait_for_timeout(300)
            assert _boxes_overlap(page) == [], f"labels overlap at zoom {z}"
            counts[z] = (page.locator(".landgis-label-full").all_inner_texts(), page.locator(".landgis-label-short").all_inner_texts())
        # Zoomed out, the small parcels show their 序号 only; zoomed in, the full name appears.
        assert "1" in counts[12][1] and "1 工业储备地 (防爆 2 个)" not in counts[12][0], counts[12]
        assert "1 工业储备地 (防爆 2 个)" in counts[16][0], counts[16]
        assert "信臣路" in page.locator(".landgis-label-road").all_inner_texts()
        page.screenshot(path=str(ARTIFACTS / "orient-parcels-rp01-z16.png"))
        watch.assert_clean()
    finally:
        ctx.close()


def test_switcher_lists_the_intranet_service_and_asks_only_it(server, browser):
    server["tiles"].clear()
    ctx, page, watch = _open(browser, f"{server['base']}/maps/parcels")
    try:
        control = page.locator(".leaflet-control-layers-base").inner_text()
        assert "无底图（离线）" in control and "高新区内网影像" in control and "OpenStreetMap" in control
        assert "高德" not in control  # GCJ-02 basemaps only on pages built for them
        assert server["tiles"] == []  # offline default: nothing asked before the choice
        page.locator(".leaflet-control-layers-base label", has_text="高新区内网影像").locator("input").check()
        page.wait_for_function("window.landgis.currentBasemap === 'intranet'")
        page.wait_for_timeout(800)
        assert len(server["tiles"]) >= 4, server["tiles"]
        assert all(t.split("/")[0] == page.evaluate("String(window.landgis.layers.reserve_parcels.layer._map.getZoom())") for t in server["tiles"])
        assert page.evaluate("document.querySelector('.leaflet-container').classList.contains('landgis-nobasemap')") is False
        page.screenshot(path=str(ARTIFACTS / "orient-intranet-basemap.png"))
        # A service with offset_m [120 east, -40 north] draws each tile shifted by that many metres.
        page.locator(".leaflet-control-layers-base label", has_text="偏移校正影像").locator("input").check()
        page.wait_for_function("window.landgis.currentBasemap === 'shifted'")
        shift = page.evaluate("""(() => {
            const layer = window.landgis.basemaps.shifted.getLayers()[0], m = layer._map;
            const c = L.point(100, 200); c.z = Math.round(m.getZoom());
            const a = layer._getTilePos(c), b = L.TileLayer.prototype._getTilePos.call(layer, c);
            const mpp = 40075016.686 * Math.cos(m.getCenter().lat * Math.PI / 180) / (256 * Math.pow(2, c.z));
            return [(a.x - b.x) * mpp, (a.y - b.y) * mpp];
        })()""")
        assert abs(shift[0] - 120) < 0.01 and abs(shift[1] - 40) < 0.01, shift
        watch.assert_clean()  # no request left 127.0.0.1: OSM/天地图 were listed but never asked
    finally:
        ctx.close()


def test_amap_page_is_a_gcj02_page(server, browser):
    ctx, page, watch = _open(browser, f"{server['base']}/maps/parcels?basemap=amap")
    try:
        control = page.locator(".leaflet-control-layers-base").inner_text()
        assert "高德地图" in control and "OpenStreetMap" not in control and "高新区内网影像" not in control
        assert "CGCS2000 版本" in page.locator(".landgis-basemap-note").inner_text()
        page.locator(".leaflet-control-layers-base label", has_text="无底图").locator("input").check()
        assert page.locator(".landgis-label-road").count() > 0
        # The page opened on AMap: its tiles (blocked here) are the only requests that left 127.0.0.1.
        assert watch.blocked and all("autonavi.com" in u for u in watch.blocked), watch.blocked[:3]
        assert all("autonavi.com" in u for u in watch.failed)
    finally:
        ctx.close()


def test_tianditu_vector_and_imagery_each_with_its_annotation():
    from maps.basemaps import choose_basemaps

    choice = choose_basemaps("tianditu_img", "KEY123")
    offered = {b.key: b for b in choice.offered}
    assert {"none", "osm", "tianditu", "tianditu_img"} <= set(offered) and "amap" not in offered
    vec, img = offered["tianditu"].to_js("KEY123"), offered["tianditu_img"].to_js("KEY123")
    assert "/vec_w/" in vec["url"] and "/cva_w/" in vec["overlayUrl"] and "tk=KEY123" in vec["url"]
    assert "/img_w/" in img["url"] and "/cia_w/" in img["overlayUrl"] and choice.initial.key == "tianditu_img"
    assert "tianditu" not in {b.key for b in choose_basemaps("none", None).offered}  # no key, not offered
    assert {b.key for b in choose_basemaps("amap").offered} == {"none", "amap"}  # a GCJ-02 page


def test_bad_basemap_setting_is_a_chinese_503(server):
    from fastapi.testclient import TestClient

    from api.settings import Settings

    from maps.basemaps import parse_bureau_basemaps
    from maps.errors import MapConfigError

    for bad, word in (("[{", "JSON"), ('[{"name": "x", "url": "ftp://a/{z}/{x}/{y}"}]', "http"), ('[{"name": "x", "url": "http://a/{z}/{x}"}]', "{y}"), ('[{"name": "x", "url": "http://a/{z}/{x}/{y}", "crs": "EPSG:4490"}]', "EPSG:3857"), ('[{"name": "x", "key": "osm", "url": "http://a/{z}/{x}/{y}"}]', "重复")):
        with pytest.raises(MapConfigError, match=word.replace("{", r"\{").replace("}", r"\}")):
            parse_bureau_basemaps(bad)
    from fastapi import FastAPI

    from api import errors
    from api.routers import maps

    app = FastAPI()
    app.state.store = server["store"]
    app.state.settings = Settings(store=server["store"].url, basemaps="[{")
    errors.install(app)
    app.include_router(maps.router)
    with TestClient(app) as c:
        r = c.get("/maps/parcels")
    assert r.status_code == 503 and "LANDGIS_BASEMAPS" in r.json()["detail"]
