"""Every map in headless Chromium with the network cut to this machine (SPEC §9, issue 6).

Debian `chromium` driven by the PyPI `playwright` package (never its own browser download).
For each map: no request leaves 127.0.0.1 (anything else is blocked and counted as a failure),
no failed request, no console error, the legend is shown, every feature of the main layer is
drawn, and a click opens a popup with Chinese field names. Screenshots go to test-artifacts/maps/.
"""

from __future__ import annotations


import numpy as np
import pytest

from browser_support import ARTIFACTS, Watch, chromium_browser, ensure_assets, ensure_chromium, live_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """uvicorn on 127.0.0.1 serving the maps router over a fresh sample store, plus saved maps."""
    ensure_chromium()
    ensure_assets()
    import geopandas as gpd
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse
    from shapely.geometry import box

    from api import errors
    from api.auth import add_key
    from api.routers import maps
    from api.settings import Settings
    from gis.store import open_store
    from maps.base import render_html
    from maps.expansion import build_expansion_map
    from parcels.layers import prepare_features
    from parcels.sample import sample_layers
    from parcels.schema import LAYERS

    store = open_store(str(tmp_path_factory.mktemp("browser") / "s.gpkg"))
    layers = sample_layers()
    for name, gdf in layers.items():
        ready, _ = prepare_features(name, gdf)
        store.import_features(name, ready, mode="replace", user="test", geometry_type=LAYERS[name].geometry_type, title=LAYERS[name].title_zh, reason="test")
    key = add_key(store, "browser", "analyst", user="test")

    # The expansion study (issue 8) is not in the store yet: its map from frames, saved mode.
    zb = store.read_layer("zone_boundary")
    minx, miny, maxx, maxy = zb.total_bounds
    arr = np.add.outer(np.linspace(0, 1, 60), np.linspace(0, 1, 80)) / 2
    cands = gpd.GeoDataFrame(
        {"id": ["EX-1", "EX-2", "EX-3"], "name": ["东片候选区", "南片候选区", "西片候选区"], "score": [0.81, 0.64, 0.42], "area_mu": [3200.0, 2100.0, 900.0], "rank": [1, 2, 3]},
        geometry=[box(maxx - 0.03, miny + 0.01, maxx - 0.01, miny + 0.03), box(minx + 0.02, miny + 0.002, minx + 0.05, miny + 0.02), box(minx + 0.002, maxy - 0.03, minx + 0.02, maxy - 0.01)],
        crs=4490,
    )
    m, ctx = build_expansion_map(arr, cands, zb, store.read_layer("park_zones"), suitability_bounds=(minx, miny, maxx, maxy), balance={"2025年工业用地需求": 15000, "表2储备地块": 3600, "低效用地可盘活": 1200})
    saved = {"expansion": render_html(m, ctx)}

    app = FastAPI()
    app.state.settings = Settings(store=store.url)
    app.state.store = store
    errors.install(app)
    app.include_router(maps.router)

    @app.get("/saved/{name}")
    def saved_map(name: str):
        return HTMLResponse(saved[name])

    with live_server(app) as base:
        yield {"base": base, "key": key, "store": store, "layers": layers}
    store.close()


@pytest.fixture(scope="module")
def browser():
    yield from chromium_browser()


def open_map(browser, url: str, name: str, headers: dict | None = None):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, extra_http_headers=headers or {})
    page = ctx.new_page()
    watch = Watch(page)
    page.goto(url, wait_until="load")
    page.wait_for_function("window.landgis && Object.keys(window.landgis.layers).length > 0", timeout=10000)
    page.wait_for_timeout(300)
    return ctx, page, watch


def check_map(browser, url, name, layer, *, expected: int, popup_labels: tuple[str, ...], headers=None, min_px: float = 0.0):
    """`min_px` > 0 also asks each feature to cover a visible box at the initial zoom (reserve
    parcels are large enough; 180 industrial parcels at zoom 13 include sub-pixel ones)."""
    ctx, page, watch = open_map(browser, url, name, headers)
    try:
        legend = page.locator(".landgis-legend")
        assert legend.is_visible() and "图例" in legend.inner_text()
        paths = page.locator(f"path.landgis-{layer}")
        assert paths.count() == expected
        drawn = page.evaluate(f"Array.from(document.querySelectorAll('path.landgis-{layer}')).filter(p => {{ const b = p.getBBox(); return p.getAttribute('d') && p.getAttribute('d').length > 3 && b.width >= {min_px} && b.height >= {min_px}; }}).length")
        assert drawn == expected, f"{drawn} of {expected} {layer} features drawn"
        assert page.evaluate(f"window.landgis.layers[{layer!r}].count") == expected
        paths.last.click(force=True)
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for(timeout=5000)
        text = popup.inner_text()
        for label in popup_labels:
            assert label in text, f"popup lacks {label}: {text[:200]}"
        page.wait_for_timeout(400)  # let the popup's fade-in finish before the picture
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
        watch.assert_clean()
    finally:
        ctx.close()


def test_parcels_map_served(server, browser):
    n = len(server["layers"]["reserve_parcels"])
    check_map(browser, f"{server['base']}/maps/parcels", "parcels", "reserve_parcels", expected=n, popup_labels=("项目名称", "用途", "报批状态", "位置", "面积(亩)"), min_px=2.0)


def test_parcels_map_search_and_measure(server, browser):
    ctx, page, watch = open_map(browser, f"{server['base']}/maps/parcels", "parcels-search")
    try:
        page.locator(".leaflet-control-search .search-button").click()
        box = page.locator(".leaflet-control-search input.search-input")
        # Chinese text arrives by IME (insertText, no key events): fire the keyup leaflet-search listens to.
        box.fill("王庄")
        box.dispatch_event("keyup")
        page.locator(".leaflet-control-search .search-tooltip .search-tip").first.click(timeout=5000)
        page.locator(".leaflet-popup-content").wait_for(timeout=5000)
        assert "王庄区域工业储备地" in page.locator(".leaflet-popup-content").inner_text()
        assert page.locator(".leaflet-control-measure").count() == 1
        assert page.locator(".leaflet-control-fullscreen, .leaflet-control-zoom-fullscreen").count() >= 1
        assert "米" in page.locator(".leaflet-control-scale").inner_text() or "km" in page.locator(".leaflet-control-scale").inner_text() or "m" in page.locator(".leaflet-control-scale").inner_text()
        watch.assert_clean()
    finally:
        ctx.close()


def test_saved_parcels_file_works_from_disk(server, browser, tmp_path):
    import httpx

    html = httpx.get(f"{server['base']}/maps/parcels?download=1").text
    file = tmp_path / "parcels.html"
    file.write_text(html, encoding="utf-8")
    ctx, page, watch = open_map(browser, file.as_uri(), "parcels-saved")
    try:
        assert page.locator("path.landgis-reserve_parcels").count() == len(server["layers"]["reserve_parcels"])
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "parcels-saved.png"))
        watch.assert_clean()
    finally:
        ctx.close()


def test_efficiency_map(server, browser):
    auth = {"Authorization": f"Bearer {server['key']}"}
    n = len(server["layers"]["enterprises"])
    check_map(browser, f"{server['base']}/maps/efficiency", "efficiency", "enterprises", expected=n, popup_labels=("企业名称", "评价类别", "综合得分"), headers=auth)


def test_standard_land_map(server, browser):
    auth = {"Authorization": f"Bearer {server['key']}"}
    ctx, page, _ = open_map(browser, f"{server['base']}/maps/standard-land", "standard-land-count", auth)
    expected = page.evaluate("window.landgis.layers['standard_land'].count")
    ctx.close()
    assert expected > 0
    check_map(browser, f"{server['base']}/maps/standard-land", "standard-land", "standard_land", expected=expected, popup_labels=("核查结论",), headers=auth)


def test_expansion_map(server, browser):
    check_map(browser, f"{server['base']}/saved/expansion", "expansion", "candidates", expected=3, popup_labels=("候选区编号", "适宜性得分", "面积"))
