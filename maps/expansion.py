"""The `expansion` map (SPEC §7, §9): suitability raster, candidate blocks and the land balance.

Inputs (from the expansion study, issue 8): the suitability raster (a GeoTIFF path or an array
with its EPSG:4490 bounds; higher = more suitable), candidate blocks (GeoDataFrame with `id`,
`score` or `suitability_mean`, `area_mu`, `rank`, ...), and the land balance (rows of
item / 亩). The raster is drawn as a PNG embedded in the page, so it works offline too.
"""

from __future__ import annotations

from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from maps.base import MapContext, PageOptions, add_layer, finish_map, open_page
from maps.errors import MapInputError
from maps.legend import LegendItem, LegendSection, LegendSpec, LegendTable
from maps.palette import SUITABILITY, UNCLASSED, hex_to_rgb, quantile_breaks, ramp
from maps.parcels import add_context_layers, context_legend_sections
from maps.popups import PopupConfig, PopupField

TITLE = "南阳高新区扩区研究：适宜性与候选区域"
MAX_RASTER_PX = 1024  # longest side of the embedded image; finer than a screen needs
SUITABILITY_LABELS = ("很低", "较低", "一般", "较高", "很高")

CANDIDATE_FIELDS: tuple[tuple[str, str, str, int | None], ...] = (
    ("id", "候选区编号", "", None),
    ("block_id", "候选区编号", "", None),
    ("suitability", "综合适宜性", "", 3),
    ("connects", "与原有辖区相连", "", None),
    ("selected", "推荐扩区", "", None),
    ("selection_order", "推荐顺序", "", 0),
    ("dist_to_zone_m", "距原有辖区", "米", 0),
    ("name", "名称", "", None),
    ("rank", "排序", "", 0),
    ("score", "适宜性得分", "", 2),
    ("suitability_mean", "平均适宜性", "", 3),
    ("suitability_min", "最低适宜性", "", 3),
    ("area_mu", "面积", "亩", 1),
    ("area_m2", "面积", "平方米", 0),
    ("adjacent", "与现有辖区相连", "", None),
    ("slope_mean", "平均坡度", "度", 1),
    ("cropland_share", "耕地占比", "%", 1),
    ("water_share", "水域占比", "%", 1),
    ("road_distance_m", "距道路距离", "米", 0),
    ("park_distance_m", "距园区距离", "米", 0),
    ("note", "说明", "", None),
)


OVERLAYS: dict[str, tuple[str, str, str, str]] = {
    # study layer -> (map title, fill, stroke, legend label); drawn over the candidates
    "permanent_farmland": ("永久基本农田", "#FFD54F", "#8D6E00", "永久基本农田（刚性排除；内置样例为示意）"),
    "ecological_redline": ("生态保护红线", "#43A047", "#1B5E20", "生态保护红线（刚性排除；内置样例为示意）"),
    "recommended_expansion": ("推荐扩区用地", "#D81B60", "#880E4F", "推荐扩区用地（按净需求与毛面积系数）"),
}
OVERLAY_FIELDS: tuple[tuple[str, str, str, int | None], ...] = (
    ("name", "名称", "", None),
    ("area_mu", "面积", "亩", 1),
    ("in_plan_expansion_mu", "位于规划扩区内", "亩", 1),
    ("geometry_source", "几何来源", "", None),
    ("data_source", "数据来源", "", None),
)


def read_suitability(suitability, bounds=None) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """(2-D float array with NaN for nodata, (minx, miny, maxx, maxy) in lon/lat)."""
    if isinstance(suitability, (str, Path)):
        import rasterio
        from rasterio.warp import Resampling, calculate_default_transform, reproject

        with rasterio.open(suitability) as src:
            scale = max(1, int(np.ceil(max(src.width, src.height) / MAX_RASTER_PX)))
            data = src.read(1, out_shape=(max(1, src.height // scale), max(1, src.width // scale)), masked=True).astype(float).filled(np.nan)
            transform = src.transform * src.transform.scale(src.width / data.shape[1], src.height / data.shape[0])
            crs = src.crs
            if crs is None:
                raise MapInputError(f"适宜性栅格 {suitability} 没有坐标系，请写入 EPSG:4490 或 EPSG:4546 后重试。")
            if crs.to_epsg() not in (4490, 4326):
                dst_t, w, h = calculate_default_transform(crs, "EPSG:4490", data.shape[1], data.shape[0], *rasterio.transform.array_bounds(data.shape[0], data.shape[1], transform))
                out = np.full((h, w), np.nan)
                reproject(data, out, src_transform=transform, src_crs=crs, dst_transform=dst_t, dst_crs="EPSG:4490", resampling=Resampling.bilinear, src_nodata=np.nan, dst_nodata=np.nan)
                data, transform = out, dst_t
            west, south, east, north = rasterio.transform.array_bounds(data.shape[0], data.shape[1], transform)
        return data, (west, south, east, north)
    arr = np.asarray(suitability, dtype=float)
    if arr.ndim != 2:
        raise MapInputError(f"适宜性栅格应为二维数组，收到 {arr.ndim} 维。")
    if bounds is None or len(bounds) != 4:
        raise MapInputError("以数组传入适宜性栅格时须同时给出 suitability_bounds=(minx, miny, maxx, maxy)（EPSG:4490 经纬度）。")
    step = max(1, int(np.ceil(max(arr.shape) / MAX_RASTER_PX)))
    return arr[::step, ::step], tuple(float(b) for b in bounds)


def suitability_rgba(arr: np.ndarray, *, opacity: int = 190) -> tuple[np.ndarray, list[float]]:
    """Colour the raster in 5 equal classes over its value range (0–1 or 0–100 scores): RGBA + breaks."""
    finite = np.isfinite(arr)
    if not finite.any():
        raise MapInputError("适宜性栅格全部为无数据（nodata），无法绘制。")
    lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
    top = 1.0 if hi <= 1.0 and lo >= 0.0 else (100.0 if hi <= 100.0 and lo >= 0.0 else hi)
    bottom = 0.0 if top in (1.0, 100.0) else lo
    breaks = list(np.linspace(bottom, top, len(SUITABILITY) + 1)[:-1])
    idx = np.clip(np.searchsorted(breaks, np.where(finite, arr, bottom), side="right") - 1, 0, len(SUITABILITY) - 1)
    lut = np.array([hex_to_rgb(c) + (opacity,) for c in SUITABILITY], dtype=np.uint8)
    rgba = lut[idx]
    rgba[~finite] = 0
    return rgba, [float(b) for b in breaks] + [top]


def balance_rows(balance) -> list[list[str]]:
    """Land balance as [项目, 亩] rows from a dict, a DataFrame (item/label + mu/value) or None."""
    if balance is None:
        return []
    if isinstance(balance, dict):
        pairs = list(balance.items())
    else:
        df = pd.DataFrame(balance)
        label = next((c for c in ("item_zh", "label", "item", "项目") if c in df.columns), df.columns[0])
        value = next((c for c in ("mu", "area_mu", "value", "亩") if c in df.columns), df.columns[-1])
        pairs = list(zip(df[label], df[value]))
    rows = []
    for k, v in pairs:
        try:
            f = float(v)
            text = ("—" if not np.isfinite(f) else f"{f:,.0f}" if abs(f) >= 100 else f"{f:,.2f}")
        except (TypeError, ValueError):
            text = str(v)
        rows.append([str(k), text])
    return rows


def build_expansion_map(
    suitability=None,
    candidates: gpd.GeoDataFrame | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    parks: gpd.GeoDataFrame | None = None,
    *,
    suitability_bounds=None,
    balance=None,
    page: PageOptions = PageOptions(),
    overlays: dict | None = None,
) -> tuple[folium.Map, MapContext]:
    if suitability is None and (candidates is None or candidates.empty):
        raise MapInputError("扩区研究地图需要适宜性栅格或候选区域之一：请先运行 `landgis study` 生成研究成果。")
    m, ctx = open_page(TITLE, page)
    sections: list[LegendSection] = []
    if suitability is not None:
        arr, (minx, miny, maxx, maxy) = read_suitability(suitability, suitability_bounds)
        rgba, breaks = suitability_rgba(arr)
        if ctx.gcj02:
            from gis.crs import wgs84_to_gcj02

            (minx, maxx), (miny, maxy) = wgs84_to_gcj02(np.array([minx, maxx]), np.array([miny, maxy]))
        folium.raster_layers.ImageOverlay(rgba, bounds=[[miny, minx], [maxy, maxx]], name="用地适宜性评价", mercator_project=True, origin="upper", overlay=True, show=True).add_to(m)
        ctx.bounds = [minx, miny, maxx, maxy] if not ctx.gcj02 else ctx.bounds
        items = [LegendItem(f"{lab}（{breaks[i]:.2f} – {breaks[i + 1]:.2f}）", fill=c, stroke=c) for i, (lab, c) in enumerate(zip(SUITABILITY_LABELS, SUITABILITY))]
        sections.append(LegendSection("用地适宜性（栅格）", items))
    add_context_layers(m, ctx, parks, boundary, roads=page.roads)
    if candidates is not None and not candidates.empty:
        score = next((c for c in ("score", "suitability", "suitability_mean") if c in candidates.columns), None)
        fields = []
        seen = set()
        for n, lab, unit, d in CANDIDATE_FIELDS:
            if n in candidates.columns and lab not in seen:
                seen.add(lab)
                fields.append(PopupField(n, lab, unit, d))
        popup = PopupConfig(tuple(fields), title="扩区候选区域", title_field=next((c for c in ("name", "id", "block_id") if c in candidates.columns), None))
        if score:
            breaks = quantile_breaks(pd.to_numeric(candidates[score], errors="coerce").to_numpy(dtype=float, na_value=np.nan), 4)
            colours = ramp(len(breaks), SUITABILITY[1:])
            style = {"base": {"color": "#1B5E20", "weight": 2, "fillOpacity": 0.55}, "fillBy": score, "breaks": breaks, "colors": colours, "missingColor": UNCLASSED[0]}
            items = [LegendItem(f"{'得分' if score == 'score' else '适宜性'} ≥ {b:.2f}", fill=c, stroke="#1B5E20") for b, c in zip(breaks, colours)]
        else:
            style = {"base": {"color": "#1B5E20", "weight": 2, "fillColor": "#66BB6A", "fillOpacity": 0.5}}
            items = [LegendItem("候选区域", fill="#66BB6A", stroke="#1B5E20")]
        label_field = next((c for c in ("name", "id", "block_id") if c in candidates.columns), None)
        add_layer(m, ctx, candidates, key="candidates", title="扩区候选区域", style=style, popup=popup, tooltip=label_field, search=label_field)
        sections.append(LegendSection("扩区候选区域", items))
    for key, (title, fill, stroke, label) in OVERLAYS.items():
        g = (overlays or {}).get(key)
        if g is None or len(g) == 0:
            continue
        fields = tuple(PopupField(n, lab, unit, d) for n, lab, unit, d in OVERLAY_FIELDS if n in g.columns)
        add_layer(m, ctx, g, key=key, title=title, style={"base": {"color": stroke, "weight": 1.5, "fillColor": fill, "fillOpacity": 0.45}},
                  popup=PopupConfig(fields, title=title, title_field="name" if "name" in g.columns else None), tooltip="name" if "name" in g.columns else None)
        sections.append(LegendSection(title, [LegendItem(label, fill=fill, stroke=stroke)]))
    sections += context_legend_sections(parks, boundary, page.roads)
    tables = []
    rows = balance_rows(balance)
    if rows:
        tables.append(LegendTable("用地供需平衡（未注单位者为亩）", ["项目", "数值"], rows))
    notes = ["适宜性由坡度、地类约束、道路距离、与现有辖区相连及园区邻近度加权叠加得到，权重见情景文件。"]
    finish_map(m, ctx, LegendSpec("图例", sections, notes, tables))
    return m, ctx


def inputs_from_study(result) -> dict:
    """Map inputs from a parcels.study StudyResult: score raster (EPSG:4546 grid → GeoTIFF in
    memory, reprojected by read_suitability), candidate blocks (EPSG:4490) and balance rows."""
    out: dict = {"candidates": result.layers.get("candidate_blocks"), "balance": None, "suitability": None,
                 "overlays": {k: result.layers[k] for k in OVERLAYS if k in result.layers}}
    bal = getattr(result, "balance", None)
    if bal is not None:
        out["balance"] = [(f"{i.label}（{i.unit}）" if getattr(i, "unit", "") not in ("", "亩") else i.label, i.value) for i in bal.items]
    suit = getattr(result, "suitability", None)
    if suit is not None:
        from rasterio.io import MemoryFile

        score = np.asarray(suit.score, dtype="float32")
        mem = MemoryFile()
        with mem.open(driver="GTiff", width=suit.grid.width, height=suit.grid.height, count=1, dtype="float32", crs=suit.grid.crs, transform=suit.grid.transform, nodata=np.nan) as ds:
            ds.write(score, 1)
        out["suitability"] = mem.name
        out["_memfile"] = mem  # keep the in-memory file alive while the map is built
    return out
