"""Map of 100 000 parcels: landgis versus a naive `folium.GeoJson` of the same layer (SPEC §10).

One run, one machine: synthetic cadastral parcels (8–40 vertices) around Nanyang are loaded
into a GeoPackage store, served by the landgis API (maps + vector tiles) on 127.0.0.1, and
opened in headless Debian Chromium (Playwright, executable_path=/usr/bin/chromium), next to the
naive `folium.GeoJson(gdf).add_to(m); m.save(...)` page. Measured per page: HTML bytes, time to
first view (navigation start → the parcels painted: first vector tiles drawn for landgis, first
frame after `load` for folium) and the JS heap after a GC. Targets: HTML < 1 MB, first view < 2 s.

The naive page links Leaflet/jQuery/Bootstrap from CDNs; the machine has no internet, so its
Leaflet links are pointed at the same local files landgis serves and the other CDN links are
dropped (they only style markers) — this helps folium, not landgis.

Usage: .venv/bin/python bench/bench_map.py [--n 100000] [--out bench/out]
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import sys
import tempfile
import threading
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


def measure(browser, url: str, kind: str) -> dict:
    """Time to first view (ms since navigation start) and JS heap (MB) of one page."""
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
    page.on("pageerror", lambda e: errors.append(str(e)))
    t0 = time.monotonic()
    page.goto(url, wait_until="load", timeout=180_000)
    if kind == "landgis":
        page.wait_for_function("window.landgis && window.landgis.tilesLoadedAt", timeout=60_000)
        first = page.evaluate("new Promise(r => requestAnimationFrame(() => r(window.landgis.tilesLoadedAt)))")
    else:
        first = page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now()))))")
    wall = (time.monotonic() - t0) * 1000
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
    return {"first_view_ms": float(first), "wall_ms": wall, "heap_mb": metrics.get("JSHeapUsedSize", float("nan")) / 1e6, "pan_ms": pan, "blocked": len(blocked), "errors": errors[:3]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "out")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    import folium
    import uvicorn
    from fastapi.responses import HTMLResponse
    from playwright.sync_api import sync_playwright

    from api.app import create_app
    from api.routers import maps as maps_router
    from api.settings import Settings
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

    settings = Settings(store=store.url)
    app = create_app(settings, store=store)
    if not any(getattr(r, "path", "") == "/maps/{name}" for r in app.routes):
        app.include_router(maps_router.router)

    @app.get("/bench/naive")
    def naive():
        return HTMLResponse(local)

    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=srv.run, daemon=True).start()
    while not srv.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"

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

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        ours = measure(browser, f"{base}/maps/parcels", "landgis")
        peer = measure(browser, f"{base}/bench/naive", "folium")
        browser.close()
    srv.should_exit = True

    rows = [
        ("HTML bytes (MB)", len(served.content) / 1e6, len(naive_html.encode()) / 1e6, "< 1 MB"),
        ("time to first view (ms)", ours["first_view_ms"], peer["first_view_ms"], "< 2000 ms"),
        ("JS heap after GC (MB)", ours["heap_mb"], peer["heap_mb"], ""),
        ("one pan, drag→frame (ms)", ours["pan_ms"], peer["pan_ms"], ""),
        ("server build of page (s)", served_build, naive_build, ""),
    ]
    print(f"\nmap of {args.n} parcels, headless Chromium, 2-core machine; landgis = served map + MVT tiles")
    print(f"{'measure':28} {'landgis':>12} {'naive folium':>14} {'ratio peer/landgis':>20}  target")
    for name, a, b, target in rows:
        ratio = b / a if a else float("nan")
        print(f"{name:28} {a:12.2f} {b:14.2f} {ratio:20.1f}  {target}")
    print(f"saved self-contained landgis file (simplified GeoJSON fallback): {len(saved.content) / 1e6:.1f} MB, built in {saved_build:.1f}s")
    print(f"blocked non-local requests: landgis {ours['blocked']}, folium {peer['blocked']}; page errors: landgis {ours['errors']}, folium {peer['errors']}")
    result = {"n": args.n, "landgis": ours | {"html_bytes": len(served.content), "saved_bytes": len(saved.content)}, "folium": peer | {"html_bytes": len(naive_html.encode())}}
    (args.out / "bench_map.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    ok = len(served.content) < 1e6 and ours["first_view_ms"] < 2000
    print("targets met" if ok else "TARGETS NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
