"""The `supervision` map in headless Chromium (issue 14): every ledger parcel drawn, legend, popup.

Same harness as tests/test_maps_browser.py (Debian chromium via playwright, network cut to this
machine, no console error); the screenshot goes to test-artifacts/maps/supervision.png.
"""

from __future__ import annotations

import pytest

from browser_support import chromium_browser, served_sample_maps
from test_maps_browser import check_map, open_map


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from served_sample_maps(tmp_path_factory.mktemp("supervision-browser"))


@pytest.fixture(scope="module")
def browser():
    yield from chromium_browser()


def _saved(server, tmp_path, query: str = "") -> str:
    """The saved (self-contained) page as a file: assets inlined, as an official keeps it on a share.

    Saved rather than served: in a git worktree whose maps/assets/vendor is a symlink out of the
    tree, the served page's /static/maps/vendor/... answers 404 (maps.assets.resolve_static)."""
    import httpx

    r = httpx.get(f"{server['base']}/maps/supervision?download=1{query}", headers={"Authorization": f"Bearer {server['key']}"}, timeout=60)
    assert r.status_code == 200, r.text[:300]
    file = tmp_path / "supervision.html"
    file.write_text(r.text, encoding="utf-8")
    return file.as_uri()


def test_supervision_map_renders(server, browser, tmp_path):
    n = server["store"].count("land_supply")
    check_map(browser, _saved(server, tmp_path), "supervision", "land_supply", expected=n, popup_labels=("宗地编号", "监管清单"))
    ctx, page, watch = open_map(browser, _saved(server, tmp_path, "&as_of=2026-01-01"), "supervision-legend")
    try:
        legend = page.locator(".landgis-legend").inner_text()
        for title in ("批而未供", "供而未用", "闲置土地", "逾期未竣工", "达产复核到期", "用地冲突", "合成示例数据", "2026-01-01"):
            assert title in legend, legend[:400]
        assert page.evaluate("window.landgis.layers['conflicts'].count") == 3  # RP-01, RP-02, RP-05
        watch.assert_clean()
    finally:
        ctx.close()
