"""Suitability of land around the zone for the expansion (SPEC §7), and the candidate blocks.

The plan's 扩区 principle, “与各功能区相呼应、与高新区原有辖区相连接、连片成块便于产业布局”
(六（二）), becomes three of the five criteria and the block rule:

- slope from the DEM (flat land is cheap to build; over `max_slope_deg` it is excluded);
- land cover (water is a hard constraint; cropland is scored low, because 占用耕地 needs
  占补平衡; both configurable in the scenario);
- distance to roads (access);
- adjacency to the zone, 与原有辖区相连接 (distance to the current zone);
- proximity to the parks, 与各功能区相呼应 (distance to the park zones);

each scored 0–1 (distance criteria fall linearly to 0 at the scenario's `distance_m`), combined
by the scenario's weights (normalised), and cut by the `threshold` into suitable land. 连片成块:
suitable land is grouped into 4-connected regions, split along a planning grid of
`block_grid_m` so that one huge region becomes several comparable blocks, and pieces smaller
than `min_block_mu` are dropped. Each block gets coverage-weighted criterion means (zonal
statistics) and its rank. Hard constraints (永久基本农田, 生态保护红线, outside the 城镇开发边界) are
burnt into the excluded mask, never weighed; which land is recommended, and how much, is
`parcels.study.takeover`'s job. Pure: arrays and geometries in, arrays and frames out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.errors import InputError
from gis.raster import Grid, distance_to, rasterize, slope_degrees, zonal_stats
from parcels.sample.rasters import LANDCOVER_CLASSES, LANDCOVER_CODES
from parcels.study.scenario import CRITERIA, DISTANCE_CRITERIA, Suitability

M2_PER_MU = 10000 / 15
MEASURE_CRS = "EPSG:4546"
EXCLUDED_REASONS = {1: "土地覆盖约束（如水域）", 2: "坡度过大", 3: "位于现有辖区内", 4: "永久基本农田", 5: "生态保护红线", 6: "城镇开发边界外"}


class SuitabilityInputError(InputError):
    """Inputs the suitability analysis cannot use (empty layers, rasters off the study area)."""


@dataclass
class SuitabilityResult:
    grid: Grid
    slope: np.ndarray
    criteria: dict[str, np.ndarray]  # criterion -> score 0..1 (float32)
    excluded: np.ndarray  # uint8: 0 = allowed, else EXCLUDED_REASONS code
    score: np.ndarray  # float32 weighted overlay 0..1, NaN where excluded
    blocks: gpd.GeoDataFrame  # EPSG:4546, ranked, with `selected`
    weights: dict[str, float]
    notes: list[str] = field(default_factory=list)
    landcover: np.ndarray | None = None  # the land-cover codes on `grid` (for maps)


def normalized_weights(weights: dict[str, float]) -> dict[str, float]:
    total = float(sum(weights.get(k, 0.0) for k in CRITERIA))
    if total <= 0:
        raise SuitabilityInputError("适宜性权重之和必须大于 0。")
    return {k: float(weights.get(k, 0.0)) / total for k in CRITERIA}


def linear_decay(distance: np.ndarray, zero_at: float) -> np.ndarray:
    """1 at distance 0, falling linearly to 0 at `zero_at` metres (and 0 beyond)."""
    return np.clip(1.0 - np.asarray(distance, dtype=np.float32) / np.float32(zero_at), 0.0, 1.0).astype(np.float32)


def criteria_scores(
    dem: np.ndarray,
    landcover: np.ndarray,
    grid: Grid,
    *,
    roads,
    zone,
    parks,
    params: Suitability,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """(scores per criterion, slope in degrees, excluded reason codes) on `grid`.

    `roads`, `zone` (the current zone), `parks`: geometries in the grid's CRS (metres).
    """
    if dem.shape != grid.shape or landcover.shape != grid.shape:
        raise SuitabilityInputError(f"高程与土地覆盖栅格尺寸 {dem.shape}/{landcover.shape} 与分析网格 {grid.shape} 不一致。")
    slope = slope_degrees(dem, grid.cell)
    scores: dict[str, np.ndarray] = {"slope": np.clip(1.0 - slope / np.float32(params.max_slope_deg), 0.0, 1.0).astype(np.float32)}
    lut = np.zeros(256, dtype=np.float32)
    for code, (key, _, _) in LANDCOVER_CLASSES.items():
        lut[code] = params.landcover_scores.get(key, 0.0)
    scores["landcover"] = lut[landcover]
    layers = {"roads": roads, "adjacency": zone, "parks": parks}
    for key in DISTANCE_CRITERIA:
        scores[key] = linear_decay(distance_to(layers[key], grid), params.distance_m[key])
    excluded = np.zeros(grid.shape, dtype=np.uint8)
    bad_codes = [LANDCOVER_CODES[k] for k in params.exclude_landcover]
    excluded[np.isin(landcover, bad_codes) | ~np.isin(landcover, list(LANDCOVER_CLASSES))] = 1
    excluded[(excluded == 0) & (slope > params.max_slope_deg)] = 2
    inside = rasterize(np.asarray(zone, dtype=object), grid, 1).astype(bool)
    excluded[inside] = 3
    return scores, slope, excluded


def weighted_overlay(scores: dict[str, np.ndarray], weights: dict[str, float], excluded: np.ndarray | None = None) -> np.ndarray:
    """Σ wᵢ·sᵢ with normalised weights; NaN where `excluded` is non-zero."""
    w = normalized_weights(weights)
    shape = next(iter(scores.values())).shape
    out = np.zeros(shape, dtype=np.float32)
    for k, wk in w.items():
        if wk:
            out += np.float32(wk) * scores[k]
    if excluded is not None:
        out[excluded != 0] = np.nan
    return out


def delineate_blocks(score: np.ndarray, grid: Grid, params: Suitability) -> gpd.GeoDataFrame:
    """连片成块: suitable cells → 4-connected regions → split by the planning grid → ≥ min size."""
    from rasterio import features

    suitable = np.nan_to_num(score, nan=-1.0) >= params.threshold
    min_cells = max(1, int(np.ceil(params.min_block_mu * M2_PER_MU / grid.cell_area_m2)))
    mask = features.sieve(suitable.astype(np.uint8), size=min_cells, connectivity=4)
    regions = [shapely.geometry.shape(g) for g, v in features.shapes(mask, mask=mask.astype(bool), transform=grid.transform, connectivity=4) if v == 1]
    if not regions:
        return gpd.GeoDataFrame({"block_id": pd.Series([], dtype="str")}, geometry=gpd.GeoSeries([], crs=MEASURE_CRS), crs=MEASURE_CRS)
    regions_arr = np.asarray(regions, dtype=object)
    size = params.block_grid_m
    x0, y0, x1, y1 = grid.bounds
    gx = np.arange(np.floor(x0 / size) * size, x1, size)
    gy = np.arange(np.floor(y0 / size) * size, y1, size)
    cx, cy = np.meshgrid(gx, gy)
    cells = shapely.box(cx.ravel(), cy.ravel(), cx.ravel() + size, cy.ravel() + size)
    tree = shapely.STRtree(cells)
    ri, ci = tree.query(regions_arr, predicate="intersects")
    pieces = shapely.intersection(regions_arr[ri], cells[ci], grid_size=0.01)
    pieces = shapely.get_parts(pieces)
    pieces = pieces[shapely.get_type_id(pieces) == 3]
    area = shapely.area(pieces)
    keep = area >= params.min_block_mu * M2_PER_MU - 1e-6
    pieces = pieces[keep]
    # Stable ids: north to south, then west to east, by the representative point.
    rp = shapely.point_on_surface(pieces)
    order = np.lexsort((np.round(shapely.get_x(rp), 1), -np.round(shapely.get_y(rp), 1)))
    pieces = pieces[order]
    ids = [f"CB-{i + 1:03d}" for i in range(len(pieces))]
    return gpd.GeoDataFrame({"block_id": ids}, geometry=gpd.GeoSeries(pieces, crs=MEASURE_CRS), crs=MEASURE_CRS)


def block_statistics(blocks: gpd.GeoDataFrame, grid: Grid, criteria: dict[str, np.ndarray], slope: np.ndarray, landcover: np.ndarray) -> pd.DataFrame:
    """Coverage-weighted means of each criterion and of slope, plus land-cover shares, per block."""
    if len(blocks) == 0:
        return pd.DataFrame(index=blocks.index)
    bands = {f"score_{k}": v for k, v in criteria.items()}
    bands["slope_deg"] = slope.astype(np.float32)
    shares = ("cropland", "built", "water")
    for key in shares:
        bands[f"{key}_share"] = (landcover == LANDCOVER_CODES[key]).astype(np.float32)
    stats = zonal_stats(bands, blocks[["block_id", "geometry"]], ["mean"], grid=grid, include_cols=["block_id"])
    out = pd.DataFrame({"block_id": stats["block_id"].astype(str)})
    for name in bands:
        out[name] = stats[f"{name}_mean"].to_numpy(dtype=float)
    return out


def rank_blocks(stats: pd.DataFrame, weights: dict[str, float]) -> pd.DataFrame:
    """Suitability of each block = Σ wᵢ × (coverage-weighted mean of criterion i); rank 1 = best.

    Because the overlay is linear, this equals the block's mean overlay score, but computed
    from the criterion means it responds to a weight change exactly as the weight says: raising
    wᵢ lifts the blocks that score high on criterion i. Ties: larger block first, then id.
    """
    w = normalized_weights(weights)
    out = stats.copy()
    total = np.zeros(len(out))
    for k, wk in w.items():
        col = f"score_{k}"
        if col not in out.columns:
            raise SuitabilityInputError(f"候选地块缺少因子得分列 {col}。")
        total += wk * np.nan_to_num(out[col].to_numpy(dtype=float), nan=0.0)
    out["suitability"] = total
    area = out["area_mu"].to_numpy(dtype=float) if "area_mu" in out.columns else np.zeros(len(out))
    order = np.lexsort((out["block_id"].astype(str).to_numpy(), -area, -np.round(total, 12)))
    rank = np.empty(len(out), dtype=int)
    rank[order] = np.arange(1, len(out) + 1)
    out["rank"] = rank
    return out


def analyse(
    dem: np.ndarray,
    landcover: np.ndarray,
    grid: Grid,
    *,
    roads,
    zone,
    parks,
    params: Suitability,
    exclusions: list[tuple[int, object]] | None = None,
    delineate: bool = True,
) -> SuitabilityResult:
    """Criteria → overlay (→ blocks → statistics → rank, when `delineate`) on one analysis grid.

    `exclusions`: (reason code, geometry in the grid's CRS) pairs burnt into the excluded mask —
    永久基本农田 (4), 生态保护红线 (5), outside the 城镇开发边界 (6). They are hard: excluded cells
    get no score at all, and the candidate geometries lose them exactly (parcels.study.takeover).
    Selection is not done here: the recommended land is sized by the land balance.
    """
    scores, slope, excluded = criteria_scores(dem, landcover, grid, roads=roads, zone=zone, parks=parks, params=params)
    for code, geom in exclusions or []:
        if geom is None or geom.is_empty:
            continue
        mask = rasterize(np.asarray([geom], dtype=object), grid, 1).astype(bool)
        excluded[mask & (excluded == 0)] = code
    score = weighted_overlay(scores, params.weights, excluded)
    notes: list[str] = []
    blocks = gpd.GeoDataFrame(
        {"block_id": pd.Series([], dtype="str"), "rank": pd.Series([], dtype=int), "selected": pd.Series([], dtype=bool),
         "area_mu": pd.Series([], dtype=float), "suitability": pd.Series([], dtype=float)},
        geometry=gpd.GeoSeries([], crs=MEASURE_CRS), crs=MEASURE_CRS,
    )
    if delineate:
        found = delineate_blocks(score, grid, params)
        if len(found):
            stats = block_statistics(found, grid, scores, slope, landcover)
            area_m2 = shapely.area(np.asarray(found.geometry.values, dtype=object))
            stats["area_m2"] = area_m2
            stats["area_mu"] = area_m2 / M2_PER_MU
            ranked = rank_blocks(stats, params.weights)
            blocks = gpd.GeoDataFrame(ranked, geometry=found.geometry.values, crs=MEASURE_CRS).sort_values("rank", kind="stable").reset_index(drop=True)
        else:
            notes.append("没有满足阈值与最小面积的候选地块：可降低 suitability.threshold 或 min_block_mu 后重试。")
    return SuitabilityResult(grid=grid, slope=slope, criteria=scores, excluded=excluded, score=score, blocks=blocks,
                             weights=normalized_weights(params.weights), notes=notes, landcover=landcover)


def excluded_polygons(result: SuitabilityResult, codes=(1, 2)):
    """The raster exclusions (water, steep slopes by default) as one geometry in the grid's CRS."""
    from rasterio import features

    mask = np.isin(result.excluded, list(codes)).astype(np.uint8)
    if not mask.any():
        return shapely.Polygon()
    polys = [shapely.geometry.shape(g) for g, v in features.shapes(mask, mask=mask.astype(bool), transform=result.grid.transform, connectivity=4) if v == 1]
    return shapely.union_all(np.asarray(polys, dtype=object))
