"""Schematic DEM and land-cover rasters for the expansion study (SPEC §3.4, §7) — generated, not surveyed.

No openly licensed DEM or land-cover map of the zone is available offline, so landgis ships a
seeded generator instead of data. The rasters are a *schematic* sketch of the Nanyang basin,
drawn so the study has a coherent little world to work on until the land bureau's real rasters
(e.g. a 5 m DEM and the 三调 land-use map) are dropped in their place:

- DEM: the basin floor at ~110–140 m, rising gently to the north, with the 白河 valley a few
  metres lower, foothills of the 伏牛山 in the north-west and an isolated hill standing for
  独山 in the north-east (≈ 360 m), plus smooth seeded undulation. Shapes and heights are
  illustrative only.
- Land cover (codes below): water for the 白河 and 十二里河 as sketched in the sample layers
  and a few ponds; built-up land over most of the current zone, the city centre and seeded
  villages; forest and grass on the hills and river banks; cropland everywhere else, as in the
  real basin.

Both cover the sample zone and its planned expansion plus `MARGIN_M` (10 km) around, in
EPSG:4546 at 30 m, and are written as Cloud-Optimized GeoTIFFs under `data/rasters/`
(gitignored) the first time they are needed. Every file carries tags saying it is schematic.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import shapely

from gis.crs import to_measure
from gis.raster import Grid, distance_to, rasterize, slope_degrees, write_cog

SEED = 2021
CELL_M = 30.0
MARGIN_M = 10_000.0
VERSION = "1"
DEFAULT_CACHE = Path("data/rasters")

LANDCOVER_CLASSES: dict[int, tuple[str, str, float]] = {
    # code -> (key used in scenario files, 中文名, default suitability score 0–1)
    1: ("cropland", "耕地", 0.4),
    2: ("forest", "林地", 0.2),
    3: ("grass", "草地", 0.7),
    4: ("water", "水域（含白河、十二里河、坑塘）", 0.0),
    5: ("built", "建设用地（城镇、村庄）", 0.6),
    6: ("bare", "未利用地", 0.9),
}
LANDCOVER_CODES = {v[0]: k for k, v in LANDCOVER_CLASSES.items()}
LANDCOVER_COLORS = {
    1: (246, 231, 160, 255), 2: (56, 168, 0, 255), 3: (170, 222, 120, 255),
    4: (115, 178, 255, 255), 5: (230, 80, 80, 255), 6: (210, 200, 190, 255),
}
SCHEMATIC_NOTE = "示意数据（schematic）：由 parcels.sample.rasters 以固定随机种子生成，非测绘数据，仅供演示扩区研究流程"
DUSHAN_LONLAT = (112.60, 33.05)  # 独山, north-east of the city (approximate)


def sample_grid(cell: float = CELL_M) -> Grid:
    """The sample zone and its planned expansion plus MARGIN_M, in EPSG:4546."""
    from parcels.sample.plan import build_plan_layers

    zone = build_plan_layers()["zone_boundary"]
    x0, y0, x1, y1 = shapely.total_bounds(to_measure(zone.geometry.values))
    return Grid.from_bounds((x0 - MARGIN_M, y0 - MARGIN_M, x1 + MARGIN_M, y1 + MARGIN_M), cell)


def _smooth_noise(rng: np.random.Generator, x: np.ndarray, y: np.ndarray, n: int, wavelengths: tuple[float, float], amplitude: float) -> np.ndarray:
    """A sum of `n` random plane waves: smooth, seeded undulation with no filtering library."""
    out = np.zeros(x.shape, dtype=np.float64)
    for _ in range(n):
        theta = rng.uniform(0, np.pi)
        k = 2 * np.pi / rng.uniform(*wavelengths)
        phase = rng.uniform(0, 2 * np.pi)
        out += np.cos(k * (x * np.cos(theta) + y * np.sin(theta)) + phase)
    return amplitude * out / np.sqrt(n)


def _to_measure_xy(lon: float, lat: float) -> tuple[float, float]:
    from gis.crs import MEASURE_EPSG, STORE_EPSG, transformer

    x, y = transformer(STORE_EPSG, MEASURE_EPSG).transform(lon, lat)
    return float(x), float(y)


def _landmarks_m() -> dict[str, object]:
    from parcels.sample.plan import build_plan_layers

    layers = build_plan_layers()
    lm = layers["landmarks"]
    geoms = dict(zip(lm["name"].astype(str), to_measure(lm.geometry.values)))
    zb = layers["zone_boundary"]
    zones = dict(zip(zb["kind"].astype(str), to_measure(zb.geometry.values)))
    return {"baihe": geoms.get("白河"), "shierlihe": geoms.get("十二里河"), "current": zones.get("current")}


def generate_dem(grid: Grid, seed: int = SEED) -> np.ndarray:
    """Schematic elevation in metres (float32) on `grid` (see the module doc)."""
    rng = np.random.default_rng(seed)
    x, y = grid.centres()
    cx = (grid.bounds[0] + grid.bounds[2]) / 2
    cy = (grid.bounds[1] + grid.bounds[3]) / 2
    z = 122.0 + 0.6 * (y - cy) / 1000.0  # basin floor, rising ~0.6 m/km to the north
    z += _smooth_noise(rng, x, y, 12, (6000, 20000), 4.0) + _smooth_noise(rng, x, y, 12, (900, 3000), 1.2)
    marks = _landmarks_m()
    if marks["baihe"] is not None:
        d = distance_to([marks["baihe"]], grid, coarse_factor=4)
        z -= 7.0 * np.exp(-((d / 1500.0) ** 2))  # the White River valley
    # 伏牛山 foothills in the north-west corner, broad and rising off the grid.
    x0, y0, x1, y1 = grid.bounds
    nw = np.hypot(x - (x0 - 2000), y - (y1 + 2000))
    z += 210.0 * np.exp(-((nw / 9000.0) ** 2))
    # 独山 in the north-east: a compact hill about 240 m above the plain.
    hx, hy = _to_measure_xy(*DUSHAN_LONLAT)
    z += 240.0 * np.exp(-((np.hypot(x - hx, y - hy) / 1300.0) ** 2))
    z += 60.0 * np.exp(-((np.hypot(x - hx - 2500, y - hy - 2500) / 3500.0) ** 2))
    return z.astype(np.float32)


def generate_landcover(grid: Grid, dem: np.ndarray, seed: int = SEED) -> np.ndarray:
    """Schematic land-cover codes (uint8, LANDCOVER_CLASSES) on `grid`, consistent with `dem`."""
    rng = np.random.default_rng(seed + 1)
    x, y = grid.centres()
    lc = np.full(grid.shape, LANDCOVER_CODES["cropland"], dtype=np.uint8)
    slope = slope_degrees(dem, grid.cell)
    lc[(dem > 175) | (slope > 8)] = LANDCOVER_CODES["forest"]
    lc[(dem > 150) & (dem <= 175) & (slope <= 8)] = LANDCOVER_CODES["grass"]
    marks = _landmarks_m()
    # Built-up: most of the current zone (leaving seeded gaps), the city centre, villages.
    if marks["current"] is not None:
        lc[rasterize([marks["current"]], grid, 1).astype(bool)] = LANDCOVER_CODES["built"]
    cx, cy = _to_measure_xy(112.535, 33.00)  # the city centre
    lc[np.hypot(x - cx, y - cy) < 3500] = LANDCOVER_CODES["built"]
    n_villages = 140
    vx = rng.uniform(grid.bounds[0], grid.bounds[2], n_villages)
    vy = rng.uniform(grid.bounds[1], grid.bounds[3], n_villages)
    vr = rng.uniform(90, 260, n_villages)
    villages = shapely.buffer(shapely.points(vx, vy), vr, quad_segs=4)
    lc[rasterize(villages, grid, 1).astype(bool)] = LANDCOVER_CODES["built"]
    bare = shapely.buffer(shapely.points(rng.uniform(grid.bounds[0], grid.bounds[2], 12), rng.uniform(grid.bounds[1], grid.bounds[3], 12)), rng.uniform(150, 400, 12))
    lc[rasterize(bare, grid, 1).astype(bool)] = LANDCOVER_CODES["bare"]
    # Water last: rivers as sketched in the sample layers, grass on their banks, a few ponds.
    rivers = [g for g in (marks["baihe"], marks["shierlihe"]) if g is not None]
    if rivers:
        d = distance_to(rivers, grid, coarse_factor=2)
        lc[(d > 0) & (d < 250) & (lc == LANDCOVER_CODES["cropland"])] = LANDCOVER_CODES["grass"]
        lc[rasterize(rivers, grid, 1, all_touched=True).astype(bool)] = LANDCOVER_CODES["water"]
    ponds = shapely.buffer(shapely.points(rng.uniform(grid.bounds[0], grid.bounds[2], 25), rng.uniform(grid.bounds[1], grid.bounds[3], 25)), rng.uniform(60, 220, 25))
    lc[rasterize(ponds, grid, 1).astype(bool)] = LANDCOVER_CODES["water"]
    return lc


def _tags(kind: str, seed: int) -> dict[str, str]:
    return {
        "LANDGIS_SCHEMATIC": "yes", "LANDGIS_KIND": kind, "LANDGIS_SEED": str(seed), "LANDGIS_VERSION": VERSION,
        "NOTE": SCHEMATIC_NOTE, "GENERATOR": "parcels.sample.rasters",
        "LANDCOVER_CODES": "; ".join(f"{k}={v[0]}/{v[1]}" for k, v in LANDCOVER_CLASSES.items()) if kind == "landcover" else "",
    }


def cache_dir(path: str | os.PathLike | None = None) -> Path:
    return Path(path or os.environ.get("LANDGIS_RASTERS") or DEFAULT_CACHE)


def ensure_sample_rasters(directory: str | os.PathLike | None = None, *, seed: int = SEED, cell: float = CELL_M, force: bool = False) -> dict[str, Path]:
    """Generate the schematic DEM and land cover as COGs unless they already exist; return paths."""
    d = cache_dir(directory)
    paths = {"dem": d / "dem.tif", "landcover": d / "landcover.tif"}
    if not force and all(p.is_file() for p in paths.values()):
        return paths
    grid = sample_grid(cell)
    dem = generate_dem(grid, seed)
    lc = generate_landcover(grid, dem, seed)
    write_cog(paths["dem"], dem, grid, nodata=-9999.0, tags=_tags("dem", seed), description="高程（米，示意）")
    write_cog(paths["landcover"], lc, grid, nodata=0, tags=_tags("landcover", seed), description="土地覆盖（示意）",
              resampling="nearest", colormap=LANDCOVER_COLORS)
    return paths
