"""Map of 100 000 parcels: landgis versus a naive `folium.GeoJson` of the same layer (SPEC §10).

One run, one machine: synthetic cadastral parcels (8–40 vertices) around Nanyang are loaded
into a GeoPackage store, served by the landgis API (maps + vector tiles) on 127.0.0.1, and
opened in headless Debian Chromium (Playwright, executable_path=/usr/bin/chromium), next to the
naive `folium.GeoJson(gdf).add_to(m); m.save(...)` page. Measured per page: HTML bytes, time to
first view (navigation start → the parcels painted: every visible vector tile drawn for landgis,
first frame after `load` for folium) and the JS heap after a GC. Targets: HTML < 1 MB, first
view < 2 s.

The landgis server runs in its own process (uvicorn on the bench store, like `landgis serve`), the
naive file is served by `python -m http.server`. First view is the median of `--runs` cold views
(a fresh browser context, so an empty browser cache; before each, one parcel is edited so the
layer's data revision moves and the server's revision-keyed tile and map-summary caches miss),
printed as min/median/max with
the margin under 2 s, and where the landgis view's time goes (page answer, scripts, tiles, decode
and draw). Each view must really show the parcels: every parcel whose centre is in the view is
in a drawn vector tile (landgis) or an SVG path in the view (folium), and at least 15 % of the
screen is painted, with no page error, failed or non-local request.

The naive page links Leaflet/jQuery/Bootstrap from CDNs; the machine has no internet, so its
Leaflet links are pointed at the same local files landgis serves and the other CDN links are
dropped (they only style markers) — this helps folium, not landgis.

Usage: .venv/bin/python bench/bench_map.py [--n 100000] [--runs 5] [--peer-runs 3] [--out bench/out]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]


def synthetic_parcels(n: int, seed: int = 6):
    """n star-shaped parcels of 8–40 vertices on a jittered grid around the zone (EPSG:4490)."""
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    cell = 0.0009  # ~100 m x ~85 m cells
    i = np.arange(n)
    cx = 112.40 + (i % side) * cell + cell / 2
    cy = 32.90 + (i // side) * cell + cell / 2
    nv = rng.integers(8, 41, n)
    total = int(nv.sum())
    owner = np.repeat(i, nv)
    start = np.concatenate([[0], np.cumsum(nv)[:-1]])
    k = np.arange(total) - np.repeat(start, nv)
    ang = 2 * np.pi * k / np.repeat(nv, nv)
    r = cell * (0.30 + 0.12 * rng.random(total))
    x = np.repeat(cx, nv) + r * np.cos(ang)
    y = np.repeat(cy, nv) + r * np.sin(ang) * 0.85
    # close each ring: append its first vertex
    xs = np.insert(x, np.cumsum(nv), x[start])
    ys = np.insert(y, np.cumsum(nv), y[start])
    ring_of = np.insert(owner, np.cumsum(nv), i)
    order = np.argsort(ring_of, kind="stable")
    rings = shapely.linearrings(np.column_stack([xs[order], ys[order]]), indices=ring_of[order])
    polys = shapely.multipolygons(shapely.polygons(rings)[:, None])  # one MultiPolygon per parcel
    uses = np.array(["工业", "居住", "仓储"])[rng.integers(0, 3, n)]
    status = np.array(["计划报批", "已组卷上报", "已获批", "已供地"])[rng.integers(0, 4, n)]
    return gpd.GeoDataFrame(
        {
            "id": [f"BP-{j:06d}" for j in range(n)],
            "geometry_source": "schematic",
            "data_source": "bench synthetic",
            "seq": np.arange(1, n + 1),
            "name": [f"地块{j:06d}" for j in range(n)],
            "use": uses,
            "status": status,
            "area_mu": np.round(rng.uniform(5, 60, n), 2),
        },
        geometry=polys,
        crs=4490,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Where the time of a first view goes (ms since navigation start), from the Navigation and
# Resource Timing entries the page itself records.
PHASES_JS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const res = performance.getEntriesByType("resource");
  const tiles = res.filter(r => r.name.includes("/tiles/WebMercatorQuad/"));
  const assets = res.filter(r => r.name.includes("/static/maps/") && /\.(js|css)$/.test(r.name));
  const max = (xs, f) => xs.length ? Math.max(...xs.map(f)) : null;
  const min = (xs, f) => xs.length ? Math.min(...xs.map(f)) : null;
  return {
    html_request: nav.requestStart, html_ttfb: nav.responseStart, html_end: nav.responseEnd, dom_interactive: nav.domInteractive,
    dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
    assets_end: max(assets, r => r.responseEnd), assets_n: assets.length,
    tile_first_start: min(tiles, r => r.startTime), tile_last_end: max(tiles, r => r.responseEnd),
    tile_n: tiles.length, tile_bytes: tiles.reduce((a, r) => a + (r.encodedBodySize || 0), 0),
    tile_max_ms: max(tiles, r => r.responseEnd - r.requestStart),
  };
}"""

# Parcels a landgis page has drawn: distinct feature ids in the vector tiles on the map, and
# whether every tile covering the view is loaded (a tile still loading has no features yet).
LANDGIS_DRAWN_JS = """() => {
  const l = window.landgis.layers.reserve_parcels.layer, m = l._map, ids = new Set();
  let tiles = 0;
  for (const k in l._vectorTiles) {
    const r = l._vectorTiles[k];
    if (!r._map) continue;
    tiles++;
    for (const id in r._features || {}) ids.add(id);
  }
  const b = m.getBounds();
  return {ids: Array.from(ids), tiles: tiles, zoom: m.getZoom(), bounds: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]};
}"""

# Parcels the naive page has drawn: SVG paths with a non-empty outline inside the view.
FOLIUM_DRAWN_JS = """() => {
  const m = Object.values(window).find(v => v instanceof L.Map), b = m.getBounds();
  const W = innerWidth, H = innerHeight;
  let n = 0;
  for (const p of document.querySelectorAll(".leaflet-overlay-pane path")) {
    const d = p.getAttribute("d");
    if (!d || d.length < 4) continue;
    const r = p.getBoundingClientRect();
    if (r.right > 0 && r.bottom > 0 && r.left < W && r.top < H && r.width > 0) n++;
  }
  return {paths_in_view: n, zoom: m.getZoom(), bounds: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]};
}"""

# Fraction of a screenshot's sample points (a grid over the map, clear of the controls) whose
# colour is not the page background: parcels must be visibly painted, not only loaded.
PAINTED_JS = """async ([b64, bg]) => {
  const blob = await (await fetch("data:image/png;base64," + b64)).blob();
  const bmp = await createImageBitmap(blob);
  const c = new OffscreenCanvas(bmp.width, bmp.height), g = c.getContext("2d");
  g.drawImage(bmp, 0, 0);
  let n = 0, painted = 0;
  for (let x = 100; x < 940; x += 7) for (let y = 40; y < 760; y += 7) {
    const d = g.getImageData(x, y, 1, 1).data;
    n++;
    if (Math.abs(d[0] - bg[0]) + Math.abs(d[1] - bg[1]) + Math.abs(d[2] - bg[2]) > 24) painted++;
  }
  return painted / n;
}"""
BACKGROUND = {"landgis": (0xF2, 0xF0, 0xEB), "folium": (0xDD, 0xDD, 0xDD)}  # .landgis-nobasemap / Leaflet's .leaflet-container


def in_view(centres: np.ndarray, bounds: list[float]) -> np.ndarray:
    w, s, e, n = bounds
    return (centres[:, 0] > w) & (centres[:, 0] < e) & (centres[:, 1] > s) & (centres[:, 1] < n)


def measure(browser, url: str, kind: str, centres: np.ndarray, ids: np.ndarray, *, shot: Path | None = None) -> dict:
    """One cold first view (fresh browser context: empty cache) of one page: time to the parcels
    painted (ms since navigation start), its phases, what was drawn, JS heap, one pan."""
    import base64

    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    blocked: list[str] = []

    def route(r):
        host = re.match(r"^[a-z]+://([^/:]+)", r.request.url)
        if r.request.url.startswith(("data:", "blob:", "file:")) or (host and host.group(1) in ("127.0.0.1", "localhost")):
            return r.continue_()
        blocked.append(r.request.url)
        return r.abort()

    page.route("**/*", route)
    errors: list[str] = []
    failed: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("requestfailed", lambda r: failed.append(r.url[:100]))
    t0 = time.monotonic()
    page.goto(url, wait_until="load", timeout=180_000)
    if kind == "landgis":
        page.wait_for_function("window.landgis && window.landgis.tilesLoadedAt", timeout=60_000)
        first = page.evaluate("new Promise(r => requestAnimationFrame(() => r(window.landgis.tilesLoadedAt)))")
    else:
        first = page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now()))))")
    wall = (time.monotonic() - t0) * 1000
    phases = page.evaluate(PHASES_JS)
    drawn = page.evaluate(LANDGIS_DRAWN_JS if kind == "landgis" else FOLIUM_DRAWN_JS)
    expected = int(in_view(centres, drawn["bounds"]).sum())
    if kind == "landgis":
        # Every parcel whose centre is in the view must be in a drawn tile.
        missing = int(np.setdiff1d(ids[in_view(centres, drawn["bounds"])], np.array(drawn["ids"])).size)
        drawn_n = len(drawn["ids"])
    else:
        missing = max(0, expected - drawn["paths_in_view"])
        drawn_n = drawn["paths_in_view"]
    png = page.screenshot(path=str(shot) if shot else None)
    painted = page.evaluate(PAINTED_JS, [base64.b64encode(png).decode("ascii"), list(BACKGROUND[kind])])
    cdp = ctx.new_cdp_session(page)
    cdp.send("HeapProfiler.collectGarbage")
    cdp.send("Performance.enable")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    # Pan once to show the tiles follow (landgis) / the page stays responsive (both).
    t1 = time.monotonic()
    page.mouse.move(640, 400)
    page.mouse.down()
    page.mouse.move(400, 300, steps=5)
    page.mouse.up()
    page.evaluate("new Promise(r => requestAnimationFrame(() => r(0)))")
    pan = (time.monotonic() - t1) * 1000
    ctx.close()
    return {
        "first_view_ms": float(first), "wall_ms": wall, "heap_mb": metrics.get("JSHeapUsedSize", float("nan")) / 1e6, "pan_ms": pan,
        "blocked": len(blocked), "errors": errors[:3], "failed": failed[:3], "phases": phases, "zoom": drawn["zoom"],
        "in_view": expected, "drawn": drawn_n, "missing": missing, "painted": painted,
    }


def runs_summary(runs: list[dict], key: str) -> tuple[float, float, float]:
    v = np.array([r[key] for r in runs], dtype=float)
    return float(v.min()), float(np.median(v)), float(v.max())


def drawn_ok(r: dict) -> bool:
    """The first view shows the parcels: all in view drawn, a good part of the screen painted."""
    return r["in_view"] > 0 and r["missing"] == 0 and r["painted"] >= 0.15 and not r["errors"] and not r["failed"] and not r["blocked"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "out")
    ap.add_argument("--runs", type=int, default=5, help="cold first views of the landgis map (median reported)")
    ap.add_argument("--peer-runs", type=int, default=3, help="first views of the naive folium page (~20 s each)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    import folium

    from gis.store import open_store
    from maps.assets import asset_url, check_assets

    check_assets()
    t = time.monotonic()
    gdf = synthetic_parcels(args.n)
    verts = int(sum(len(g.exterior.coords) for g in gdf.geometry.explode().values[:1000]) / 1000)
    print(f"{args.n} synthetic parcels (~{verts} vertices each) in {time.monotonic() - t:.1f}s")

    tmp = Path(tempfile.mkdtemp(prefix="landgis-bench-map-"))
    store = open_store(str(tmp / "bench.gpkg"))
    t = time.monotonic()
    store.import_features("reserve_parcels", gdf, mode="replace", user="bench", geometry_type="MULTIPOLYGON", title="bench", reason="bench")
    print(f"loaded into GeoPackage store in {time.monotonic() - t:.1f}s")

    # Naive peer: folium.GeoJson of the same layer, saved as folium writes it.
    t = time.monotonic()
    m = folium.Map(location=[33.0, 112.55], zoom_start=13, tiles=None)  # landgis draws no basemap either
    folium.GeoJson(gdf[["id", "name", "use", "status", "area_mu", "geometry"]]).add_to(m)
    naive_path = args.out / "naive_folium_map.html"
    m.save(str(naive_path))
    naive_build = time.monotonic() - t
    naive_html = naive_path.read_text(encoding="utf-8")
    local = naive_html
    for url in re.findall(r'(?:src|href)="(https://[^"]+)"', naive_html):
        if url.endswith("leaflet.js"):
            local = local.replace(url, asset_url("leaflet"))
        elif url.endswith("leaflet.css"):
            local = local.replace(url, asset_url("leaflet_css"))
        else:
            local = re.sub(rf'<(?:script|link)[^>]*{re.escape(url)}[^>]*>(?:</script>)?', "", local)

    # Both pages are served by their own processes, as in use: landgis by uvicorn on the bench
    # store (like `landgis serve`), the naive file by a static file server. In this process the
    # server would share the GIL with Playwright, which handles every request of the page.
    port, naive_port = free_port(), free_port()
    base, naive_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{naive_port}"
    local = re.sub(r'(src|href)="/static/maps/', rf'\1="{base}/static/maps/', local)
    (args.out / "naive_local.html").write_text(local, encoding="utf-8")
    logs = open(args.out / "servers.log", "w")
    procs = [
        subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "bench.landgis_app:make", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                         cwd=str(REPO), env={**os.environ, "LANDGIS_STORE": store.url, "PYTHONPATH": str(REPO)}, stdout=logs, stderr=subprocess.STDOUT),
        subprocess.Popen([sys.executable, "-m", "http.server", str(naive_port), "--bind", "127.0.0.1", "--directory", str(args.out)], stdout=logs, stderr=subprocess.STDOUT),
    ]
    try:
        return _run(args, store, gdf, base, f"{naive_base}/naive_local.html", naive_build, naive_html)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        store.close()
        shutil.rmtree(tmp, ignore_errors=True)  # the bench store (~100 MB for 100 000 parcels)


def wait_up(url: str, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server at {url} did not start (see servers.log)")


def bump_revision(store, ids: np.ndarray, i: int) -> str | None:
    """A real edit of one parcel (its area, back and forth), so the layer's data revision moves:
    the server's revision-keyed tile and map-summary caches then miss, as after any write."""
    fid = str(ids[i % len(ids)])
    old = store.get_feature("reserve_parcels", fid)["area_mu"]
    store.update_feature("reserve_parcels", fid, {"area_mu": round(float(old) + (0.01 if i % 2 == 0 else -0.01), 2)}, user="bench", reason="bench: new data revision")
    return store.revision("reserve_parcels")


def _run(args, store, gdf, base: str, naive_url: str, naive_build: float, naive_html: str) -> int:
    import shapely
    from playwright.sync_api import sync_playwright

    wait_up(f"{base}/health")
    wait_up(naive_url)
    import httpx

    t = time.monotonic()
    served = httpx.get(f"{base}/maps/parcels", timeout=300)
    served_build = time.monotonic() - t
    assert served.status_code == 200, served.text[:500]
    assert "landgis.vectorTileLayer(" in served.text, "the large layer did not switch to vector tiles"
    (args.out / "landgis_parcels_served.html").write_text(served.text, encoding="utf-8")
    t = time.monotonic()
    saved = httpx.get(f"{base}/maps/parcels?download=1", timeout=600)
    saved_build = time.monotonic() - t
    (args.out / "landgis_parcels_saved.html").write_text(saved.text, encoding="utf-8")

    centres = np.column_stack([shapely.get_x(c := shapely.centroid(gdf.geometry.values)), shapely.get_y(c)])
    ids = gdf["id"].to_numpy()
    ours: list[dict] = []
    peer: list[dict] = []
    revisions = [store.revision("reserve_parcels")]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        for i in range(args.runs):
            revisions.append(bump_revision(store, ids, i))
            ours.append(measure(browser, f"{base}/maps/parcels", "landgis", centres, ids, shot=args.out / "landgis_first_view.png" if i == 0 else None))
        # The same page again with the server's caches warm (no write since): the usual case of
        # an official opening the map; the browser cache is still empty (a fresh context).
        warm = [measure(browser, f"{base}/maps/parcels", "landgis", centres, ids) for _ in range(args.runs)]
        for i in range(args.peer_runs):
            peer.append(measure(browser, naive_url, "folium", centres, ids, shot=args.out / "naive_first_view.png" if i == 0 else None))
        browser.close()
    cold = None not in revisions and len(set(revisions)) == len(revisions)

    fv, pv = runs_summary(ours, "first_view_ms"), runs_summary(peer, "first_view_ms")
    heap, pheap = runs_summary(ours, "heap_mb"), runs_summary(peer, "heap_mb")
    rows = [
        ("HTML bytes (MB)", len(served.content) / 1e6, len(naive_html.encode()) / 1e6, "< 1 MB"),
        ("first view, median (ms)", fv[1], pv[1], "< 2000 ms"),
        ("JS heap after GC, median (MB)", heap[1], pheap[1], ""),
        ("one pan, drag→frame, median (ms)", runs_summary(ours, "pan_ms")[1], runs_summary(peer, "pan_ms")[1], ""),
        ("server build of page (s)", served_build, naive_build, ""),
    ]
    print(f"\nmap of {args.n} parcels, headless Chromium, 2-core machine; landgis = served map + MVT tiles")
    print(f"{'measure':34} {'landgis':>12} {'naive folium':>14} {'ratio peer/landgis':>20}  target")
    for name, a, b, target in rows:
        ratio = b / a if a else float("nan")
        print(f"{name:34} {a:12.2f} {b:14.2f} {ratio:20.1f}  {target}")
    print(f"first view min/median/max: landgis {fv[0]:.0f} / {fv[1]:.0f} / {fv[2]:.0f} ms over {len(ours)} cold runs"
          f"{'' if cold else ' (the data revision did not move between runs: server caches may have been warm)'}; naive folium {pv[0]:.0f} / {pv[1]:.0f} / {pv[2]:.0f} ms over {len(peer)} runs")
    print(f"margin under 2 s: median {2000 - fv[1]:.0f} ms, slowest run {2000 - fv[2]:.0f} ms")
    wv = runs_summary(warm, "first_view_ms")
    wt = float(np.median([r["phases"]["html_ttfb"] - r["phases"]["html_request"] for r in warm]))
    ct = float(np.median([r["phases"]["html_ttfb"] - r["phases"]["html_request"] for r in ours]))
    print(f"same map, server caches warm (no write since the last view): first view {wv[0]:.0f} / {wv[1]:.0f} / {wv[2]:.0f} ms; "
          f"page answered in {wt:.0f} ms median (cold, right after a write: {ct:.0f} ms)")
    print("landgis first view, median run, ms since navigation start:")
    med = sorted(ours, key=lambda r: r["first_view_ms"])[len(ours) // 2]
    ph = med["phases"]
    print(f"  page request sent {ph['html_request']:.0f} (browser start-up of the new page), first byte {ph['html_ttfb']:.0f} (server builds the page), HTML received {ph['html_end']:.0f}, "
          f"scripts/CSS ({ph['assets_n']}) received {ph['assets_end'] or 0:.0f}, DOM interactive {ph['dom_interactive']:.0f}, load {ph['load']:.0f}")
    print(f"  {ph['tile_n']} tiles at zoom {med['zoom']} (512 px): first asked {ph['tile_first_start'] or 0:.0f}, last received {ph['tile_last_end'] or 0:.0f} "
          f"(slowest tile {ph['tile_max_ms'] or 0:.0f} ms, {ph['tile_bytes'] / 1e3:.0f} KB), decoded and drawn {med['first_view_ms']:.0f}")
    for label, runs in (("landgis", ours), ("naive folium", peer)):
        r = runs[0]
        print(f"drawn in the first view ({label}): {r['drawn']} parcels drawn, {r['in_view']} with their centre in view, "
              f"{r['missing']} of those missing, {100 * r['painted']:.0f} % of the screen painted; all runs drawn: {all(drawn_ok(x) for x in runs)}")
    print(f"saved self-contained landgis file (simplified GeoJSON fallback): {len(saved.content) / 1e6:.1f} MB, built in {saved_build:.1f}s")
    print(f"blocked non-local requests: landgis {sum(r['blocked'] for r in ours)}, folium {sum(r['blocked'] for r in peer)}; "
          f"errors: landgis {[e for r in ours for e in r['errors'] + r['failed']][:3]}, folium {[e for r in peer for e in r['errors'] + r['failed']][:3]}")
    result = {
        "n": args.n,
        "landgis": {"runs": ours, "warm_runs": warm, "first_view_ms": dict(zip(("min", "median", "max"), fv)), "warm_first_view_ms": dict(zip(("min", "median", "max"), wv)), "html_bytes": len(served.content), "saved_bytes": len(saved.content), "cold_server_caches": cold},
        "folium": {"runs": peer, "first_view_ms": dict(zip(("min", "median", "max"), pv)), "html_bytes": len(naive_html.encode())},
    }
    (args.out / "bench_map.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    ok = len(served.content) < 1e6 and fv[1] < 2000 and all(drawn_ok(r) for r in ours + warm)
    if not all(drawn_ok(r) for r in peer):
        print("note: the naive page failed the drawn check (a parcel in view not drawn, or < 15 % of its view painted: with small --n its fixed view is mostly empty)")
    print("targets met" if ok else "TARGETS NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
