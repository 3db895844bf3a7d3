"""The TILED path of a served map in headless Chromium (SPEC §9, issue 6), on both stores.

A reserve-parcel layer just above `maps.base.LARGE_THRESHOLD` switches the served `parcels` map to
the API's vector tiles. With every non-local request blocked, the test checks what an official
would see: no failed request and no console error; tiles requested and answered 200 with MVT
bytes that carry only the id and the style/tooltip fields; parcels really painted (pixels of a
screenshot at parcel centres have the land-use colour); hovering a parcel shows its name; a
click on a parcel that lies inside a park zone opens a popup with the Chinese field names of
the record fetched from `/collections/reserve_parcels/items/{id}`; a click between parcels
still reaches the park below. The screenshot is kept in test-artifacts/maps/.

Why this test exists: Leaflet.VectorGrid 1.3.0 calls `L.DomEvent.fakeStop`, gone since
Leaflet 1.8, so every click on a tile threw and no popup ever opened; and in the default tile
pane the park zones' filled paths lay over the parcels and took their clicks.
"""

from __future__ import annotations

import base64

import numpy as np
import pytest

from api_support import make_store
from browser_support import ARTIFACTS, Watch, chromium_browser, ensure_assets, ensure_chromium, live_server

BACKGROUND = (0xF2, 0xF0, 0xEB)  # .landgis-nobasemap (maps/assets/landgis-maps.css)
CELL = 0.0009  # ~85 m x ~100 m grid cells; parcels are octagons of radius 0.3–0.4 cell


# Names the search must take literally (CQL2 LIKE wildcards, its escape, the string quote, markup)
# and a name Table 2 style repeats.
SPECIAL_NAMES = {
    1: "50%储备地_甲",
    2: "O'Brien地块",
    3: "反斜杠\\地块",
    4: "下划线_地块",
    5: "重名储备地",
    6: "重名储备地",
    7: "<b>粗体</b>地块",
}


def grid_parcels(n: int, centre: tuple[float, float], seed: int = 6):
    """n octagonal reserve parcels on a square grid centred on `centre` (lon, lat), EPSG:4490."""
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    i = np.arange(n)
    cx = centre[0] + ((i % side) - side / 2 + 0.5) * CELL
    cy = centre[1] + ((i // side) - side / 2 + 0.5) * CELL
    r = CELL * rng.uniform(0.30, 0.40, n)
    ang = np.linspace(0, 2 * np.pi, 9)[:-1]
    rings = np.stack([np.column_stack([x + rr * np.cos(ang), y + rr * np.sin(ang)]) for x, y, rr in zip(cx, cy, r)])
    polys = shapely.multipolygons(shapely.polygons(rings)[:, None])
    names = [f"瓦片地块{j:05d}" for j in range(n)]
    for j, special in SPECIAL_NAMES.items():
        if j < n:
            names[j] = special
    return gpd.GeoDataFrame(
        {
            "id": [f"TP-{j:05d}" for j in range(n)],
            "geometry_source": "schematic",
            "data_source": "test synthetic",
            "seq": np.arange(1, n + 1),
            "name": names,
            "use": np.array(["工业", "居住", "仓储"])[rng.integers(0, 3, n)],
            "status": np.array(["计划报批", "已组卷上报", "已获批", "已供地"])[rng.integers(0, 4, n)],
            "area_mu": np.round(rng.uniform(5, 60, n), 2),
        },
        geometry=polys,
        crs=4490,
    )


@pytest.fixture(scope="module", params=["geopackage", "postgis"])
def tiled(request, tmp_path_factory):
    """The real app (maps, tiles, items) on 127.0.0.1 over a store whose reserve layer is tiled."""
    ensure_chromium()
    ensure_assets()

    from api.app import create_app
    from api.settings import Settings
    from maps.base import LARGE_THRESHOLD
    from parcels.layers import prepare_features
    from parcels.sample import sample_layers
    from parcels.schema import LAYERS

    store, pg = make_store(request.param, tmp_path_factory.mktemp("tiled"))
    sample = sample_layers()
    for name in ("zone_boundary", "park_zones"):
        ready, _ = prepare_features(name, sample[name])
        store.import_features(name, ready, mode="replace", user="test", geometry_type=LAYERS[name].geometry_type, title=LAYERS[name].title_zh, reason="test")
    parks = store.read_layer("park_zones")
    biggest = parks.geometry.to_crs(4546).area.idxmax()
    centre = parks.geometry[biggest].representative_point()
    parcels = grid_parcels(LARGE_THRESHOLD + 500, (centre.x, centre.y))
    store.import_features("reserve_parcels", parcels, mode="replace", user="test", geometry_type="MULTIPOLYGON", title=LAYERS["reserve_parcels"].title_zh, reason="test")

    app = create_app(Settings(store=store.url), store=store)
    try:
        with live_server(app) as base:
            yield {"base": base, "parcels": parcels, "parks": parks, "kind": request.param}
    finally:
        store.close()
        if pg:
            pg.drop()


@pytest.fixture(scope="module")
def browser():
    yield from chromium_browser()


def screen_pixels(page, png: bytes, points: list[tuple[float, float]]) -> list[tuple[int, int, int]]:
    """RGB of a screenshot at container points (decoded by the page: no image library needed)."""
    return [
        tuple(px)
        for px in page.evaluate(
            """async ([b64, pts]) => {
                const blob = await (await fetch("data:image/png;base64," + b64)).blob();
                const bmp = await createImageBitmap(blob);
                const c = new OffscreenCanvas(bmp.width, bmp.height), g = c.getContext("2d");
                g.drawImage(bmp, 0, 0);
                return pts.map(([x, y]) => Array.from(g.getImageData(Math.round(x), Math.round(y), 1, 1).data.slice(0, 3)));
            }""",
            [base64.b64encode(png).decode("ascii"), [list(p) for p in points]],
        )
    ]


TILE_RECORDER = """
window.__tiles = [];
const _fetch = window.fetch;
window.fetch = function (url, opts) {
  return _fetch.apply(this, arguments).then(function (r) {
    if (String(url).includes("/tiles/WebMercatorQuad/")) {
      r.clone().arrayBuffer().then(function (buf) {
        let s = ""; const b = new Uint8Array(buf);
        for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
        window.__tiles.push({url: String(url), status: r.status, b64: btoa(s)});
      });
    }
    return r;
  });
};
"""


def blend(top: tuple[int, ...], alpha: float, under: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(alpha * t + (1 - alpha) * u for t, u in zip(top, under))


def test_tiled_parcels_map(tiled, browser):
    import mapbox_vector_tile
    import shapely

    from maps.base import LARGE_THRESHOLD
    from maps.palette import PARK_STYLE, hex_to_rgb, land_use_colour

    base, parcels, parks = tiled["base"], tiled["parcels"], tiled["parks"]
    assert len(parcels) > LARGE_THRESHOLD
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    # The bytes each tile request gave the page (Playwright's response.body() is empty for them).
    page.add_init_script(TILE_RECORDER)
    watch = Watch(page)
    tile_responses = []
    item_responses = []
    page.on("response", lambda r: tile_responses.append(r) if "/tiles/WebMercatorQuad/" in r.url else item_responses.append(r) if "/items/" in r.url else None)
    try:
        page.goto(f"{base}/maps/parcels", wait_until="load")
        page.wait_for_function("window.landgis && window.landgis.layers.reserve_parcels && window.landgis.tilesLoadedAt", timeout=30000)
        page.wait_for_timeout(300)
        layer = page.evaluate("(() => { const l = window.landgis.layers.reserve_parcels; return {tiles: !!l.tiles, count: l.count}; })()")
        assert layer == {"tiles": True, "count": len(parcels)}, layer

        # Tiles: asked for, 200, MVT bytes of the layer, with only the fields the map needs.
        assert tile_responses, "no vector tile was requested"
        for r in tile_responses:
            assert r.status == 200, f"{r.url} → {r.status}"
            assert r.headers.get("content-type", "").startswith("application/vnd.mapbox-vector-tile"), r.headers
            assert "properties=id,use,status,name" in r.url, r.url
        got_tiles = page.evaluate("window.__tiles")
        assert len(got_tiles) == len(tile_responses) and all(t["status"] == 200 for t in got_tiles), got_tiles[:3]
        feats = []
        for t in got_tiles:
            decoded = mapbox_vector_tile.decode(base64.b64decode(t["b64"]))
            assert list(decoded) == ["reserve_parcels"], f"{t['url']}: layers {list(decoded)}"
            feats += decoded["reserve_parcels"]["features"]
        assert feats and all(set(f["properties"]) <= {"id", "use", "status", "name"} for f in feats)
        assert all(f["properties"]["id"].startswith("TP-") for f in feats)

        # Parcels painted: at the centre of every parcel well inside the view, the screenshot has
        # the parcel's land-use colour (fill opacity 0.7 over the park tint or the background).
        view = page.evaluate(
            """(() => { const m = window.landgis.layers.reserve_parcels.layer._map; const b = m.getBounds();
                return {zoom: m.getZoom(), w: b.getWest(), s: b.getSouth(), e: b.getEast(), n: b.getNorth()}; })()"""
        )
        centres = shapely.centroid(parcels.geometry.values)  # the octagons' centres, inside each
        cx_, cy_ = shapely.get_x(centres), shapely.get_y(centres)
        keep = (cx_ > view["w"]) & (cx_ < view["e"]) & (cy_ > view["s"]) & (cy_ < view["n"])
        inner, inner_centres = parcels[keep], centres[keep]
        pts = page.evaluate(
            "(lls) => { const m = window.landgis.layers.reserve_parcels.layer._map; return lls.map(([y, x]) => { const p = m.latLngToContainerPoint([y, x]); return [p.x, p.y]; }); }",
            [[c.y, c.x] for c in inner_centres],
        )
        # Clear of the controls (zoom/fullscreen/measure top left, layers/title top right, legend bottom right).
        # ...and clear of the 注记 (road/park names, issue 20), which are drawn over everything.
        labels = page.evaluate("Array.from(document.querySelectorAll('.landgis-label')).map(e => { const r = e.getBoundingClientRect(); return [r.left - 2, r.top - 2, r.right + 2, r.bottom + 2]; })")
        clear = [i for i, (x, y) in enumerate(pts) if 80 < x < 940 and 20 < y < 760 and not any(l <= x <= r and t <= y <= b for l, t, r, b in labels)]
        assert len(clear) >= 100, f"only {len(clear)} parcels in the open part of the first view (zoom {view['zoom']})"
        sample = clear[:: max(1, len(clear) // 60)]
        png = page.screenshot()
        got = screen_pixels(page, png, [pts[i] for i in sample])
        park_union = shapely.union_all(parks.geometry.values)
        park_rgb = hex_to_rgb(PARK_STYLE["fillColor"])
        wrong = []
        for i, px in zip(sample, got):
            row = inner.iloc[i]
            under = BACKGROUND
            for _ in range(int(parks.geometry.contains(inner_centres[i]).sum())):  # park zones may overlap
                under = blend(park_rgb, PARK_STYLE["fillOpacity"], under)
            want = blend(hex_to_rgb(land_use_colour(row["use"])), 0.7, under)
            if max(abs(a - b) for a, b in zip(px, want)) > 12:
                wrong.append((row["id"], row["use"], px, tuple(round(v) for v in want)))
        assert not wrong, f"{len(wrong)} of {len(sample)} parcel centres not painted in their land-use colour: {wrong[:5]}"

        # A parcel inside a park: hover shows its name, a click opens the full record in Chinese.
        in_park = [i for i in clear if park_union.contains(inner_centres[i])]
        assert in_park, "no parcel of the first view lies inside a park zone"
        target, target_centre = inner.iloc[in_park[len(in_park) // 2]], inner_centres[in_park[len(in_park) // 2]]
        x, y = pts[in_park[len(in_park) // 2]]
        page.mouse.move(x, y)
        page.mouse.move(x + 1, y + 1)
        tip = page.locator(".leaflet-tooltip")
        tip.wait_for(timeout=5000)
        assert target["name"] in tip.inner_text()
        page.mouse.click(x + 1, y + 1)
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for(timeout=5000)
        page.wait_for_function("document.querySelector('.leaflet-popup-content').innerText.includes('项目名称')", timeout=5000)
        text = popup.inner_text()
        for label in ("项目名称", "用途", "报批状态", "面积(亩)", "几何来源", "示意位置（非实测）", target["id"], target["name"]):
            assert label in text, f"popup lacks {label}: {text[:300]}"
        assert any(r.url.split("?")[0].endswith(f"/collections/reserve_parcels/items/{target['id']}") and r.status == 200 for r in item_responses), [r.url for r in item_responses]
        page.wait_for_timeout(400)  # the popup's fade-in, for the picture
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"parcels-tiled-{tiled['kind']}.png"))

        # Between parcels, over the same park: the click goes through the tile to the park's popup.
        corner = shapely.Point(target_centre.x + CELL / 2, target_centre.y + CELL / 2)  # a grid-cell corner
        under = parks[parks.geometry.contains(corner)]
        assert len(under) and not parcels.geometry.intersects(corner).any()
        cx, cy = page.evaluate("([y, x]) => { const p = window.landgis.layers.reserve_parcels.layer._map.latLngToContainerPoint([y, x]); return [p.x, p.y]; }", [corner.y, corner.x])
        page.locator(".leaflet-popup-close-button").click()
        page.wait_for_timeout(400)  # a closed popup fades out for 200 ms and still takes clicks
        page.mouse.click(cx, cy)
        page.wait_for_function("(() => { const p = document.querySelector('.leaflet-popup-content'); return p && p.innerText.includes('园区名称'); })()", timeout=5000)
        text = popup.inner_text()
        assert any(name in text for name in under["name"]), f"park popup {text[:100]} is not of {list(under['name'])}"
        watch.assert_clean()
    finally:
        ctx.close()


# --- search by name on the tiled layer (SPEC §9) ---------------------------------------------

SEARCH_BOX = ".leaflet-control-search input.search-input"
SEARCH_TIPS = ".leaflet-control-search .search-tooltip .search-tip"
SEARCH_ALERT = ".leaflet-control-search .search-alert"


def search_for(page, text: str, *, ime: bool = False) -> list[str]:
    """Type `text` into the search box and wait for the API's answer; the choices shown.

    `ime`: the text arrives as a Chinese input method delivers it (one input event, then
    compositionend) instead of key by key."""
    page.evaluate("window.landgis.lastSearch = null")
    box = page.locator(SEARCH_BOX)
    if not box.is_visible():
        page.locator(".leaflet-control-search .search-button").click()
    box.fill("")
    if ime:
        box.focus()
        page.keyboard.insert_text(text)
        box.dispatch_event("compositionend")
    else:
        box.press_sequentially(text)
    page.wait_for_function("(t) => window.landgis.lastSearch && window.landgis.lastSearch.text === t", arg=text.strip(), timeout=10000)
    return page.locator(SEARCH_TIPS).all_inner_texts()


def choices(parcels, part: str) -> list[str]:
    return [f"{n}（{i}）" for n, i in zip(parcels["name"], parcels["id"]) if part in n]


def map_view(page) -> dict:
    return page.evaluate(
        """(() => { const m = window.landgis.layers.reserve_parcels.layer._map, b = m.getBounds(), c = m.getCenter();
            return {zoom: m.getZoom(), w: b.getWest(), s: b.getSouth(), e: b.getEast(), n: b.getNorth(), lat: c.lat, lon: c.lng}; })()"""
    )


HOSTILE = ["50%", "%", "_", "'", "\\", "O'B", "\\地", "''", "%%", "\\%", "\\_", "_地块", '"', "<b>", "瓦片地块0000", "*", "?", "[", "不存在"]


def test_tiled_search_by_name(tiled, browser):
    import httpx
    import shapely

    base, parcels = tiled["base"], tiled["parcels"]
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    watch = Watch(page)
    searches, items = [], []
    page.on("response", lambda r: searches.append(r) if "/collections/reserve_parcels/items?" in r.url else items.append(r) if "/collections/reserve_parcels/items/" in r.url else None)
    try:
        page.goto(f"{base}/maps/parcels", wait_until="load")
        page.wait_for_function("window.landgis && window.landgis.layers.reserve_parcels && window.landgis.tilesLoadedAt", timeout=30000)
        assert page.locator(".leaflet-control-search").count() == 1

        # The CQL2 the page builds takes every character literally, on the API itself.
        with httpx.Client(base_url=base, timeout=30) as http:
            for text in HOSTILE:
                cql = page.evaluate("(t) => window.landgis.likeContains('name', t)", text)
                r = http.get("/collections/reserve_parcels/items", params={"limit": 100, "properties": "id,name", "filter": cql, "filter-lang": "cql2-text"})
                assert r.status_code == 200, (text, cql, r.text[:300])
                got = sorted(f["properties"]["id"] for f in r.json()["features"])
                want = sorted(parcels["id"][parcels["name"].str.contains(text, regex=False)])
                assert got == want, (text, cql, got[:5], want[:5])

        # Part of the name of a parcel far from the first view: ten "name（id）" choices.
        target = parcels.iloc[-1]
        part = target["name"][2:-1]  # 地块0549
        centre = shapely.centroid(target.geometry)
        before = map_view(page)
        assert not (before["w"] < centre.x < before["e"] and before["s"] < centre.y < before["n"]), "the target is already in view"
        tips = search_for(page, part)
        assert tips == choices(parcels, part)[:10] and f"{target['name']}（{target['id']}）" in tips, tips
        page.locator(SEARCH_TIPS, has_text=target["id"]).click()
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for(timeout=10000)
        page.wait_for_function("(id) => document.querySelector('.leaflet-popup-content').innerText.includes(id)", arg=target["id"], timeout=10000)
        text = popup.inner_text()
        for label in ("项目名称", "用途", "报批状态", "面积(亩)", "几何来源", "示意位置（非实测）", target["id"], target["name"]):
            assert label in text, f"popup lacks {label}: {text[:300]}"
        view = map_view(page)
        minx, miny, maxx, maxy = target.geometry.bounds
        assert view["w"] <= minx and maxx <= view["e"] and view["s"] <= miny and maxy <= view["n"], (view, target.geometry.bounds)
        assert abs(view["lon"] - centre.x) < CELL and abs(view["lat"] - centre.y) < CELL, (view, centre)
        assert 15 <= view["zoom"] <= 17, view
        assert any(r.url.split("?")[0].endswith(f"/items/{target['id']}") and r.status == 200 for r in items), [r.url for r in items]

        # Names repeat in Table 2: each one is its own choice (typed through an input method).
        assert search_for(page, "重名储备地", ime=True) == ["重名储备地（TP-00005）", "重名储备地（TP-00006）"]
        # LIKE's wildcards, its escape and the quote are literal; a name's markup stays text.
        for part in ("50%", "_", "'", "\\", "<b>"):
            assert sorted(search_for(page, part)) == sorted(choices(parcels, part)), part
        assert page.locator(".leaflet-control-search .search-tooltip b").count() == 0

        # Nothing found (and a hostile string that matches nothing): 未找到, no error anywhere.
        for text, ime in (("不存在的地块", True), ("'%\\_\"<b>x", False)):
            assert search_for(page, text, ime=ime) == []
            alert = page.locator(SEARCH_ALERT)
            assert alert.is_visible() and alert.inner_text() == "未找到", text
        bad = [(r.url, r.status) for r in searches + items if r.status != 200]
        assert searches and not bad, bad
        watch.assert_clean()

        # The API refusing or the network failing: a Chinese message, no script error.
        seen_errors = len(watch.errors)

        def is_search(url: str) -> bool:
            return "/collections/reserve_parcels/items?" in url

        def answer_with(status: int | None):
            if status is None:
                return lambda route: route.abort()
            return lambda route: route.fulfill(status=status, content_type="application/problem+json", body='{"title": "x"}')

        for answer, message in ((503, "服务器出错"), (401, "需要分析人员权限"), (None, "网络错误")):
            page.route(is_search, answer_with(answer))
            assert search_for(page, "瓦片地块0001") == []
            alert = page.locator(SEARCH_ALERT)
            assert alert.is_visible() and message in alert.inner_text(), (answer, alert.inner_text())
            assert page.evaluate("window.landgis.lastSearch.error") == (answer or 0)
            page.unroute(is_search)
        # Chromium itself logs each refused request ("Failed to load resource: … 503"); nothing else.
        extra = [e for e in watch.errors[seen_errors:] if not e.startswith("Failed to load resource")]
        assert not extra, extra
    finally:
        ctx.close()
