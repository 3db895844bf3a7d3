"""The `intensity` map in headless Chromium (issue 15): every survey polygon drawn, legend with the
indicators beside the national figures, a popup in Chinese, no request off this machine.

Same harness as tests/test_maps_browser.py; the page is served by the app (this worktree has its
own maps/assets/vendor) and also opened saved; screenshot in test-artifacts/maps/intensity.png.
"""

from __future__ import annotations

import pytest

from browser_support import chromium_browser, served_sample_maps
from test_maps_browser import check_map, open_map


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from served_sample_maps(tmp_path_factory.mktemp("intensity-browser"))


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
