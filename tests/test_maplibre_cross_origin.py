"""A web map on another origin uses landgis (SPEC §8.1, §8.2; issue 18): MapLibre GL JS 6 and 5 from the
npm registry (scripts/fetch-test-assets.sh, never a CDN) on a page served from a second port, in
headless Chromium with every non-loopback request blocked, loads `/maps/parcels/style.json`, which
reaches the layers only through their TileJSON documents, and draws the reserve parcels, the park
zones and the zone boundary — with no header added by the test: the browser's own CORS checks
decide. Checked on the rendered features (MapLibre's `queryRenderedFeatures`), on the screenshot's
pixels (land-use fill colours inside the parcels, the boundary's red) and on the Chinese labels,
which both versions draw with the browser's fonts (the style has no glyph server). The screenshots
are kept in test-artifacts/maps/maplibre-cross-origin.png (6.x) and maplibre5-cross-origin.png.

Control: the same page against a server whose LANDGIS_CORS_ORIGINS does not list the page's
origin draws nothing — so CORS, not luck, is what makes the first page work.
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import subprocess
import threading
from urllib.parse import quote

import pytest
from api_support import load_sample, make_store
from browser_support import ARTIFACTS, REPO, WEBGL_ARGS, Watch, chromium_browser, ensure_chromium, free_port, live_server

VENDOR = REPO / "build" / "test-vendor"
MAPLIBRE = {
    # version: (how the page loads it: an ES module from 6.0, a UMD script before; screenshot name)
    "6.20.0": ('<script type="module">\nimport * as maplibregl from "./maplibre-gl.mjs";', "maplibre-cross-origin.png"),
    "5.24.1": ('<script src="./maplibre-gl.js"></script>\n<script type="module">\nconst maplibregl = window.maplibregl;', "maplibre5-cross-origin.png"),
}

PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>另一来源的 MapLibre 页面</title>
<link rel="stylesheet" href="./maplibre-gl.css">
<style>html, body, #map { margin: 0; width: 100%; height: 100%; }</style></head>
<body><div id="map"></div>
LOADER
const q = new URLSearchParams(location.search);
window.__errors = [];
const map = new maplibregl.Map({container: "map", style: q.get("style"), attributionControl: false,
  canvasContextAttributes: {preserveDrawingBuffer: true}});
map.on("error", (e) => window.__errors.push(String((e.error && e.error.message) || e.type)));
map.once("load", () => {
  map.fitBounds(JSON.parse(q.get("bounds")), {padding: 40, animate: false});
  map.once("idle", () => { window.__idle = true; });
});
window.__map = map;
</script></body></html>
"""


def ensure_maplibre() -> None:
    if not all((VENDOR / f"maplibre-gl-{v}" / ".landgis-version").exists() for v in MAPLIBRE):
        subprocess.run(["bash", str(REPO / "scripts" / "fetch-test-assets.sh")], check=True)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # noqa: D102 - keep the test output clean
        pass


@pytest.fixture(scope="module")
def page_origin(tmp_path_factory):
    """The second origin: a plain static server with a page and MapLibre's dist files per version."""
    ensure_maplibre()
    root = tmp_path_factory.mktemp("portal")
    for version, (loader, _) in MAPLIBRE.items():
        (root / version).mkdir()
        (root / version / "index.html").write_text(PAGE.replace("LOADER", loader), encoding="utf-8")
        for f in (VENDOR / f"maplibre-gl-{version}" / "dist").iterdir():
            if f.suffix in (".mjs", ".js", ".css"):
                (root / version / f.name).symlink_to(f)
    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="module")
def services(tmp_path_factory, page_origin):
    """landgis twice over one sample store: CORS open (default `*`) and CORS for another origin only."""
    from api.app import create_app
    from api.settings import Settings

    ensure_chromium()
    store, _ = make_store("geopackage", tmp_path_factory.mktemp("maplibre"))
    load_sample(store)
    open_app = create_app(Settings(store=store.url), store=store)
    closed_app = create_app(Settings(store=store.url, cors_origins="https://yzt.example.gov.cn"), store=store)
    with live_server(open_app) as open_base, live_server(closed_app) as closed_base:
        yield store, open_base, closed_base
    store.close()


@pytest.fixture(scope="module")
def browser():
    yield from chromium_browser(WEBGL_ARGS)


COUNT_COLOURS = """async ([b64, targets, tol]) => {
    const blob = await (await fetch("data:image/png;base64," + b64)).blob();
    const bmp = await createImageBitmap(blob);
    const c = new OffscreenCanvas(bmp.width, bmp.height), g = c.getContext("2d");
    g.drawImage(bmp, 0, 0);
    const d = g.getImageData(0, 0, bmp.width, bmp.height).data;
    const counts = targets.map(() => 0);
    for (let i = 0; i < d.length; i += 4)
        targets.forEach((t, k) => { if (Math.abs(d[i] - t[0]) <= tol && Math.abs(d[i + 1] - t[1]) <= tol && Math.abs(d[i + 2] - t[2]) <= tol) counts[k]++; });
    return counts;
}"""


def open_map(browser, page_origin: str, service: str, bounds, version: str = "6.20.0") -> tuple:
    ctx = browser.new_context(viewport={"width": 1100, "height": 800})
    page = ctx.new_page()
    watch = Watch(page)
    requests: list[tuple[str, dict]] = []
    page.on("request", lambda r: requests.append((r.url, r.headers)) if r.url.startswith(service) else None)
    style = f"{service}/maps/parcels/style.json"
    corners = json.dumps([[float(bounds[0]), float(bounds[1])], [float(bounds[2]), float(bounds[3])]])
    page.goto(f"{page_origin}/{version}/index.html?style={quote(style)}&bounds={quote(corners)}", wait_until="load")
    return ctx, page, watch, requests


def blend(top, alpha: float, under) -> tuple[float, ...]:
    return tuple(alpha * t + (1 - alpha) * u for t, u in zip(top, under))


@pytest.mark.parametrize("version", list(MAPLIBRE))
def test_maplibre_on_another_origin_draws_landgis_tiles(services, page_origin, browser, version):
    import shapely

    from maps.maplibre import BACKGROUND
    from maps.palette import BOUNDARY_STYLES, PARK_STYLE, hex_to_rgb, land_use_colour

    store, service, _ = services
    reserve = store.read_layer("reserve_parcels")
    parks = store.read_layer("park_zones")
    bounds = tuple(reserve.total_bounds)
    shot_name = MAPLIBRE[version][1]
    ctx, page, watch, requests = open_map(browser, page_origin, service, bounds, version)
    try:
        page.wait_for_function("window.__idle === true", timeout=60000)
        page.wait_for_timeout(300)
        assert page.evaluate("window.__errors") == []
        watch.assert_clean()  # nothing left the machine, nothing failed, no console error

        # Only landgis' own documents and tiles were asked for, through TileJSON, with no header of ours.
        urls = [u for u, _ in requests]
        assert f"{service}/maps/parcels/style.json" in urls
        assert f"{service}/collections/reserve_parcels/tiles/WebMercatorQuad/tilejson.json" in urls
        assert f"{service}/collections/park_zones/tiles/WebMercatorQuad/tilejson.json" in urls
        assert any("/collections/reserve_parcels/tiles/WebMercatorQuad/" in u and u.rsplit("/", 3)[-3].isdigit() for u in urls)
        assert not any("authorization" in {k.lower() for k in h} for _, h in requests)
        assert all(h.get("origin") == page_origin for u, h in requests if "/tiles/" in u and not u.endswith(".json")), "tile requests were not cross-origin"

        # Rendered features: every reserve parcel, and park zones (a public layer) under them.
        drawn = page.evaluate("""(() => {
            const ids = (layer) => [...new Set(window.__map.queryRenderedFeatures({layers: [layer]}).map((f) => f.properties.id))];
            const labels = ["reserve_parcels-label", "park_zones-label"].filter((id) => window.__map.getLayer(id));
            return {reserve: ids("reserve_parcels-fill"), parks: ids("park_zones-fill"), boundary: ids("zone_boundary-current"),
                    labels: labels.length ? window.__map.queryRenderedFeatures({layers: labels}).length : 0};
        })()""")
        assert sorted(drawn["reserve"]) == sorted(reserve["id"]), drawn
        visible_parks = parks[parks.intersects(shapely.box(*bounds))]
        assert drawn["parks"] and set(drawn["parks"]) <= set(parks["id"]) and len(drawn["parks"]) >= min(2, len(visible_parks)), drawn
        assert drawn["labels"] > 0, "no Chinese label placed"

        png = page.screenshot()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / shot_name).write_bytes(png)

        # Pixels: zoomed to each of the three largest parcels, points inside it (an inner ring, off
        # the centre where its label sits) have the land-use fill (opacity 0.7) over the ground or
        # over the park tint.
        bg = hex_to_rgb(BACKGROUND)
        park_bg = blend(hex_to_rgb(PARK_STYLE["fillColor"]), PARK_STYLE["fillOpacity"], bg)
        metric = reserve.to_crs(4546)
        hits = total = 0
        samples = []
        for i in metric.geometry.area.sort_values(ascending=False).index[:3]:
            geom, use = reserve.geometry[i], reserve["use"][i]
            page.evaluate("(b) => { window.__idle = false; window.__map.fitBounds(b, {padding: 150, animate: false}); window.__map.once('idle', () => { window.__idle = true; }); }", [[float(v) for v in geom.bounds[:2]], [float(v) for v in geom.bounds[2:]]])
            page.wait_for_function("window.__idle === true", timeout=30000)
            ring = geom.buffer(-0.25 * min(geom.bounds[2] - geom.bounds[0], geom.bounds[3] - geom.bounds[1])).boundary
            pts = [[p.x, p.y] for p in (ring.interpolate(k / 40, normalized=True) for k in range(40))]
            fill = hex_to_rgb(land_use_colour(use))
            cands = [blend(fill, 0.7, bg), blend(fill, 0.7, park_bg)]
            screen = page.evaluate("(pts) => pts.map((p) => { const q = window.__map.project(p); return [q.x, q.y]; })", pts)
            shot = page.screenshot()
            colours = page.evaluate(
                """async ([b64, pts]) => {
                    const bmp = await createImageBitmap(await (await fetch("data:image/png;base64," + b64)).blob());
                    const c = new OffscreenCanvas(bmp.width, bmp.height), g = c.getContext("2d"); g.drawImage(bmp, 0, 0);
                    return pts.map(([x, y]) => Array.from(g.getImageData(Math.round(x), Math.round(y), 1, 1).data.slice(0, 3)));
                }""",
                [base64.b64encode(shot).decode("ascii"), screen],
            )
            hits += sum(any(max(abs(a - b) for a, b in zip(got, c)) <= 14 for c in cands) for got in colours)
            total += len(colours)
            samples.append((use, colours[:2], cands))
        assert hits >= 0.6 * total, f"{hits}/{total} points inside the parcels have the land-use colour; e.g. {samples}"
        red = page.evaluate(COUNT_COLOURS, [base64.b64encode(png).decode("ascii"), [list(hex_to_rgb(BOUNDARY_STYLES["current"]["color"]))], 20])[0]
        assert red > 300, f"zone boundary not drawn ({red} red pixels)"
        print(f"maplibre {version} cross-origin: {len(drawn['reserve'])} parcels, {len(drawn['parks'])} park zones, {drawn['labels']} labels, {hits}/{total} fill pixels, {red} boundary pixels")
    finally:
        ctx.close()


def test_without_cors_for_the_page_origin_nothing_is_drawn(services, page_origin, browser):
    store, _, closed = services
    bounds = tuple(store.read_layer("reserve_parcels").total_bounds)
    ctx, page, watch, requests = open_map(browser, page_origin, closed, bounds)
    try:
        page.wait_for_function("window.__errors.length > 0 || window.__idle === true", timeout=60000)
        page.wait_for_timeout(500)
        drawn = page.evaluate("window.__map.loaded() && window.__map.getStyle() ? window.__map.queryRenderedFeatures().length : 0")
        assert drawn == 0
        assert page.evaluate("window.__errors"), "MapLibre reported no error although the browser blocked the style"
        assert not watch.blocked  # blocked by CORS, not by the test's network guard
    finally:
        ctx.close()
