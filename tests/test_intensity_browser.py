"""The `intensity` map in headless Chromium (issue 15): every survey polygon drawn, legend with the
indicators beside the national figures, a popup in Chinese, no request off this machine.

Same harness as tests/test_maps_browser.py; the page is served by the app (this worktree has its
own maps/assets/vendor) and also opened saved; screenshot in test-artifacts/maps/intensity.png.
"""

from __future__ import annotations

import pytest

from browser_support import chromium_browser, ensure_assets, ensure_chromium, live_server
from test_maps_browser import check_map, open_map


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    ensure_chromium()
    ensure_assets()
    from fastapi import FastAPI

    from api import errors
    from api.auth import add_key
    from api.routers import maps
    from api.settings import Settings
    from api_support import load_sample
    from gis.store import open_store

    store = open_store(str(tmp_path_factory.mktemp("intensity-browser") / "s.gpkg"))
    load_sample(store)
    key = add_key(store, "browser", "analyst", user="test")
    app = FastAPI()
    app.state.settings = Settings(store=store.url)
    app.state.store = store
    errors.install(app)
    app.include_router(maps.router)
    with live_server(app) as base:
        yield {"base": base, "key": key, "store": store}
    store.close()


@pytest.fixture(scope="module")
def browser():
    yield from chromium_browser()


def test_intensity_map_renders(server, browser, tmp_path):
    import httpx

    headers = {"Authorization": f"Bearer {server['key']}"}
    n = server["store"].count("land_survey")
    check_map(browser, f"{server['base']}/maps/intensity", "intensity", "land_survey", expected=n, popup_labels=("图斑编号", "土地利用状况", "面积"), headers=headers)
    r = httpx.get(f"{server['base']}/maps/intensity?download=1", headers=headers, timeout=120)
    assert r.status_code == 200, r.text[:300]
    saved = tmp_path / "intensity.html"
    saved.write_text(r.text, encoding="utf-8")
    ctx, page, watch = open_map(browser, saved.as_uri(), "intensity-legend")
    try:
        legend = page.locator(".landgis-legend").inner_text()
        for text in ("工矿仓储", "已达到供地条件的其他土地", "土地供应率", "全国 92.84（2022）", "工业用地地均税收", "尚可供地年数", "合成示例数据", "闲置土地"):
            assert text in legend, legend[:600]
        assert page.evaluate("window.landgis.layers['idle'].count") >= 1
        watch.assert_clean()
    finally:
        ctx.close()
