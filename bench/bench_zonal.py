"""Zonal statistics bench (SPEC §10): 10 000 parcels on a 26-megapixel raster, in one run.

landgis (`gis.raster.zonal_stats`) vs `exactextract.exact_extract` called directly with the
same raster file and the same polygons (the accuracy reference, coverage-weighted) vs
`rasterstats.zonal_stats` (centre-of-pixel rule). Prints a table with times and ratios and the
largest relative difference of landgis' means from exactextract's (bar: ≤ 1e-6, and landgis no
slower than exactextract).

    .venv/bin/python bench/bench_zonal.py                 # full run (rasterstats takes ~1 min)
    .venv/bin/python bench/bench_zonal.py --rasterstats-sample 1000   # time rasterstats on a subset

Data: a seeded, smooth float32 raster of 6000 × 4334 cells (26.0 Mpx, 10 m, EPSG:4546, tiled
DEFLATE GeoTIFF) around Nanyang and 10 000 synthetic cadastral parcels of 8–40 vertices
(irregular convex-ish polygons of 0.1–4 ha) scattered over it, written under bench/out/.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gis.raster import Grid, write_cog, zonal_stats  # noqa: E402

OUT = ROOT / "bench" / "out"
WIDTH, HEIGHT, CELL = 6000, 4334, 10.0
X0, Y1 = 615000.0, 3675000.0  # around the zone, EPSG:4546


def make_raster(path: Path, seed: int = 7) -> Path:
    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    g = Grid(Affine(CELL, 0, X0, 0, -CELL, Y1), WIDTH, HEIGHT, "EPSG:4546")
    yy = np.arange(HEIGHT, dtype=np.float32)[:, None]
    xx = np.arange(WIDTH, dtype=np.float32)[None, :]
    arr = np.zeros((HEIGHT, WIDTH), dtype=np.float32)
    for _ in range(8):
        kx, ky = rng.uniform(0.001, 0.02, 2)
        arr += np.sin(kx * xx + rng.uniform(0, 6)) * np.cos(ky * yy + rng.uniform(0, 6)).astype(np.float32)
    arr += rng.random((HEIGHT, WIDTH), dtype=np.float32) * 0.5
    write_cog(path, arr, g, nodata=-9999.0)
    return path


def make_parcels(n: int, seed: int = 11) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    cx = rng.uniform(X0 + 500, X0 + WIDTH * CELL - 500, n)
    cy = rng.uniform(Y1 - HEIGHT * CELL + 500, Y1 - 500, n)
    k = rng.integers(8, 41, n)
    polys = []
    for i in range(n):  # data generation only, not the measured path
        ang = np.sort(rng.uniform(0, 2 * np.pi, k[i]))
        r = rng.uniform(18, 110) * rng.uniform(0.75, 1.0, k[i])
        polys.append(shapely.Polygon(np.column_stack([cx[i] + r * np.cos(ang), cy[i] + r * np.sin(ang)])))
    geoms = shapely.make_valid(np.asarray(polys, dtype=object))
    return gpd.GeoDataFrame({"parcel_id": [f"P{i:05d}" for i in range(n)]}, geometry=geoms, crs="EPSG:4546")


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parcels", type=int, default=10_000)
    ap.add_argument("--rasterstats-sample", type=int, default=0, help="time rasterstats on this many parcels and scale (0 = all)")
    ap.add_argument("--repeat", type=int, default=2, help="runs of landgis and exactextract, alternating; best time reported")
    args = ap.parse_args()

    from exactextract import exact_extract

    OUT.mkdir(parents=True, exist_ok=True)
    raster = make_raster(OUT / "zonal_26mpx.tif")
    parcels = make_parcels(args.parcels)
    print(f"raster {WIDTH}×{HEIGHT} = {WIDTH * HEIGHT / 1e6:.1f} Mpx; parcels {len(parcels)}")

    t_ours, t_ee = [], []
    for _ in range(args.repeat):
        ee, t = timed(lambda: exact_extract(str(raster), parcels, ["mean"], include_cols=["parcel_id"], output="pandas"))
        t_ee.append(t)
        ours, t = timed(lambda: zonal_stats(raster, parcels, ["mean"], include_cols=["parcel_id"]))
        t_ours.append(t)
    assert list(ours["parcel_id"]) == list(parcels["parcel_id"]) == list(ee["parcel_id"])
    a, b = ours["mean"].to_numpy(), ee["mean"].to_numpy()
    rel = np.nanmax(np.abs(a - b) / np.maximum(np.abs(b), 1e-12))

    from rasterstats import zonal_stats as rs_zonal

    sub = parcels if not args.rasterstats_sample else parcels.iloc[: args.rasterstats_sample]
    rs, t_rs = timed(lambda: rs_zonal(sub, str(raster), stats=["mean"]))
    scale = len(parcels) / len(sub)
    rs_mean = np.array([r["mean"] if r["mean"] is not None else np.nan for r in rs])
    rs_rel = np.nanmax(np.abs(rs_mean - b[: len(sub)]) / np.maximum(np.abs(b[: len(sub)]), 1e-12))

    best_ours, best_ee = min(t_ours), min(t_ee)
    print()
    print(f"{'tool':<34}{'time (s)':>10}{'ratio to exactextract':>24}{'max rel. Δmean':>18}")
    print(f"{'landgis gis.raster.zonal_stats':<34}{best_ours:>10.2f}{best_ours / best_ee:>24.2f}{rel:>18.2e}")
    print(f"{'exactextract.exact_extract':<34}{best_ee:>10.2f}{1.0:>24.2f}{0.0:>18.2e}")
    label = "rasterstats.zonal_stats" + (f" (×{scale:g})" if scale != 1 else "")
    print(f"{label:<34}{t_rs * scale:>10.2f}{t_rs * scale / best_ee:>24.2f}{rs_rel:>18.2e}")
    print(f"\nall runs: landgis {[round(t, 2) for t in t_ours]}, exactextract {[round(t, 2) for t in t_ee]}")
    ok = rel <= 1e-6 and best_ours <= best_ee * 1.0
    print(f"bar (≤ exactextract time, Δmean ≤ 1e-6): {'PASS' if ok else 'FAIL'}")


if __name__ == "__main__":
    main()
