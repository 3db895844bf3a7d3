"""A synthetic 土地利用状况调查 (SPEC §11) of the bundled zone, consistent with the sample layers.

Nothing here is a survey: every polygon says `geometry_source = "schematic"` and its `data_source`
says synthetic. Built from the sample layers so that the evaluation, the ledger and the maps tell
one story: the industrial parcels, ledger land and reserve parcels are derived exactly as
`parcels.intensity.derive` derives them (same statuses, floor areas, taxes, idle flags), the
built 工矿仓储 land gets a seeded 累计固定资产投资, and the rest of the current zone is cut into
500 m cells given statuses and uses in fixed, documented shares (seeded), with floor areas,
footprints and taxes drawn in plausible ranges. Only land in the current zone is surveyed.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.crs import MEASURE_EPSG, STORE_EPSG, reproject

DATA_SOURCE = "合成示例数据（synthetic）：土地利用状况调查图斑为演示生成，非实地调查；工业用地、供地台账、储备地块部分按样例图层推导，其余为 500 米示意网格"
CELL_M = 500.0

FILLER: tuple[tuple[str, str | None, float, tuple[float, float], tuple[float, float], tuple[float, float]], ...] = (
    # (status, land use, share of the filler cells, 容积率 range, 建筑密度 % range, 税收 万元/公顷 range)
    ("built", "工矿仓储", 0.26, (0.7, 1.3), (38.0, 60.0), (300.0, 1100.0)),
    ("built", "住宅", 0.17, (1.5, 2.5), (20.0, 30.0), (20.0, 60.0)),
    ("built", "商服", 0.07, (1.2, 2.5), (30.0, 45.0), (200.0, 600.0)),
    ("built", "公共管理与公共服务", 0.09, (0.6, 1.2), (20.0, 30.0), (0.0, 0.0)),
    ("built", "交通运输", 0.14, (0.0, 0.0), (0.0, 0.0), (0.0, 0.0)),
    ("built", "其他", 0.04, (0.1, 0.4), (5.0, 15.0), (0.0, 0.0)),
    ("ready", None, 0.09, (0.0, 0.0), (0.0, 0.0), (0.0, 0.0)),
    ("not_ready", None, 0.09, (0.0, 0.0), (0.0, 0.0), (0.0, 0.0)),
    ("unavailable", None, 0.05, (0.0, 0.0), (0.0, 0.0), (0.0, 0.0)),
)
INVESTMENT_PER_HA = (6000.0, 14000.0)
"""累计固定资产投资 on built 工矿仓储 land, 万元/公顷 (the national mean is 10 711.51, DOMAIN.md §8 [U])."""
HIGH_TECH_SHARE = 0.45
"""Share of filler 工矿仓储 cells that are 高新技术产业用地."""
READY_SUPPLIED_SHARE = 0.3
"""Share of filler `ready` cells already supplied (供而未建)."""


def _polygonal(geom):
    """The polygons of an overlay result (a cut may leave touching lines or points)."""
    from shapely.geometry import MultiPolygon

    parts = [p for p in shapely.get_parts(shapely.make_valid(geom)) if p.geom_type == "Polygon" and p.area > 0]
    return MultiPolygon(parts) if parts else MultiPolygon()


def _cells(zone_m, taken_m, rng: np.random.Generator) -> list:
    x0, y0, x1, y1 = zone_m.bounds
    free = shapely.difference(zone_m, taken_m) if taken_m is not None else zone_m
    out = []
    for y in np.arange(y0, y1, CELL_M):
        for x in np.arange(x0, x1, CELL_M):
            piece = _polygonal(shapely.intersection(shapely.box(x, y, x + CELL_M, y + CELL_M), free))
            if not piece.is_empty and piece.area >= 2000.0:
                out.append(piece)
    return out


def build_sample_survey(layers: dict[str, gpd.GeoDataFrame], *, seed: int = 2020, today: dt.date | None = None) -> gpd.GeoDataFrame:
    """The sample `land_survey` layer (EPSG:4490) from the other sample layers."""
    from parcels.intensity.derive import derive_survey
    from parcels.sample.sketch import multi

    rng = np.random.default_rng(seed)
    year = (today or dt.date.today()).year
    derived, _, _, _ = derive_survey(layers, year)
    zb = layers["zone_boundary"]
    zone = zb.loc[zb["kind"] == "current"].geometry.values[0]
    zone_m = reproject(np.array([zone], dtype=object), STORE_EPSG, MEASURE_EPSG)[0]
    d_m = reproject(np.asarray(derived.geometry.values, dtype=object), STORE_EPSG, MEASURE_EPSG)
    d_m = np.array([_polygonal(g) for g in shapely.intersection(d_m, zone_m)], dtype=object)  # only land in the current zone is surveyed
    keep = ~shapely.is_empty(d_m) & (shapely.area(d_m) > 1.0)
    derived = derived[keep].reset_index(drop=True)
    d_m = d_m[keep]
    industrial = (derived["status"] == "built") & (derived["land_use"] == "工矿仓储")
    area_ha = shapely.area(d_m) / 10000.0
    derived["fixed_assets_wan"] = np.where(industrial, np.round(area_ha * rng.uniform(*INVESTMENT_PER_HA, len(derived)), 2), None)
    derived = derived.drop(columns=["source_layer", "source_id", "area_m2", "ellipsoid_area_m2", "area_mu", "geometry_source", "data_source"], errors="ignore")
    derived["id"] = [f"LS-{i}" for i in derived["id"].str.removeprefix("DS-")]

    cells = _cells(zone_m, shapely.union_all(d_m) if len(d_m) else None, rng)
    shares = np.array([f[2] for f in FILLER])
    pick = rng.choice(len(FILLER), size=len(cells), p=shares / shares.sum())
    rows = []
    for i, (cell, k) in enumerate(zip(cells, pick)):
        status, use, _, far, cov, tax = FILLER[k]
        ha = cell.area / 10000.0
        built = status == "built"
        industrial_cell = built and use == "工矿仓储"
        rows.append({
            "id": f"LS-CELL-{i + 1:04d}", "status": status,
            "supplied": built or (status == "ready" and rng.random() < READY_SUPPLIED_SHARE), "idle": False,
            "land_use": use, "high_tech": bool(industrial_cell and rng.random() < HIGH_TECH_SHARE),
            "floor_area_m2": round(cell.area * rng.uniform(*far), 1) if built else None,
            "footprint_m2": round(cell.area * rng.uniform(*cov) / 100.0, 1) if built else None,
            "fixed_assets_wan": round(ha * rng.uniform(*INVESTMENT_PER_HA), 2) if industrial_cell else None,
            "tax_wan": (round(ha * rng.uniform(*tax), 2) if tax[1] > 0 else 0.0) if built else None,
        })
    filler = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=gpd.GeoSeries(reproject(np.asarray(cells, dtype=object), MEASURE_EPSG, STORE_EPSG), crs=STORE_EPSG), crs=STORE_EPSG)
    derived = derived.set_geometry(gpd.GeoSeries(reproject(d_m, MEASURE_EPSG, STORE_EPSG), crs=STORE_EPSG))
    out = pd.concat([derived, filler], ignore_index=True)
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=STORE_EPSG)
    out = out.set_geometry(gpd.GeoSeries([multi(g) for g in out.geometry.values], crs=STORE_EPSG))
    out.insert(1, "geometry_source", "schematic")
    out.insert(2, "data_source", DATA_SOURCE)
    for col in ("supplied", "idle", "high_tech"):
        out[col] = out[col].astype(bool)
    return out
