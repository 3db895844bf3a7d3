"""The expansion-study package (SPEC §7): what the 扩区 team opens in QGIS/ArcGIS, Excel and a browser.

`run_study` is pure: it takes the store's layers (EPSG:4490 GeoDataFrames), the DEM and land
cover (arrays on their grids) and a scenario, and returns a `StudyResult` holding every frame,
layer, raster and the HTML report. `write_package(dir, result)` is the one function that touches
the disk: GeoPackage (each layer in EPSG:4490 and an `_4546` copy), the suitability COG, the XLSX
workbook with Chinese headers, the HTML report and the data dictionary.
"""

from __future__ import annotations

import datetime as _dt
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.crs import MEASURE_EPSG, STORE_EPSG, to_measure
from gis.raster import Grid, reproject_to
from parcels.study.balance import LandBalance, land_balance
from parcels.study.scenario import CRITERIA, TABLE1_FIELDS, Scenario
from parcels.study.suitability import SuitabilityInputError, SuitabilityResult, analyse

PLAN = "南阳高新技术产业开发区管理委员会：《南阳高新区“十四五”国民经济与社会发展规划纲要及二〇三五年远景目标》，2021年4月"
SUITABILITY_NODATA = -1.0
FILES = {
    "gpkg": "扩区研究.gpkg",
    "cog": "suitability_cog.tif",
    "xlsx": "扩区研究表格.xlsx",
    "html": "扩区研究报告.html",
    "dictionary": "数据字典.md",
}
BLOCK_LABELS = {
    "block_id": "地块编号", "rank": "排名", "suitability": "综合适宜性", "area_m2": "面积(平方米)", "area_mu": "面积(亩)",
    "score_slope": "坡度得分", "score_landcover": "土地覆盖得分", "score_roads": "道路可达得分",
    "score_adjacency": "与原辖区连接得分", "score_parks": "与功能区呼应得分", "slope_deg": "平均坡度(度)",
    "cropland_share": "耕地占比", "built_share": "建设用地占比", "water_share": "水域占比",
    "dist_to_zone_m": "距原有辖区(米)", "connects": "与原有辖区相连", "selected": "推荐扩区", "selection_order": "推荐顺序",
}


@dataclass
class StudyResult:
    scenario: Scenario
    balance: LandBalance
    suitability: SuitabilityResult | None
    layers: dict[str, gpd.GeoDataFrame]  # EPSG:4490
    tables: dict[str, pd.DataFrame]  # sheet name -> frame (Chinese headers)
    dictionary: pd.DataFrame
    report_html: str
    notes: list[str] = field(default_factory=list)
    generated_at: str = ""


# --- inputs -------------------------------------------------------------------------------


def inefficient_from_layers(industrial_parcels: gpd.GeoDataFrame, enterprises: gpd.GeoDataFrame, policy_name: str) -> gpd.GeoDataFrame:
    """低效用地 (SPEC §5.4) from the store's layers with the scenario's 亩均 policy."""
    from parcels.efficiency import find_inefficient_land, load_policy, score_enterprises

    policy = load_policy(policy_name)
    table = pd.DataFrame(enterprises.drop(columns=enterprises.geometry.name)) if isinstance(enterprises, gpd.GeoDataFrame) else enterprises
    result = score_enterprises(table, policy, parcels=industrial_parcels)
    return find_inefficient_land(industrial_parcels, result, policy)


def analysis_grid(zone_m, params, source: Grid) -> Grid:
    """The current zone's bounds plus the study buffer, at the scenario's cell size, inside the rasters."""
    x0, y0, x1, y1 = shapely.total_bounds(np.asarray(zone_m, dtype=object))
    b = params.study_buffer_m
    sx0, sy0, sx1, sy1 = source.bounds
    want = (max(x0 - b, sx0), max(y0 - b, sy0), min(x1 + b, sx1), min(y1 + b, sy1))
    if want[0] >= want[2] or want[1] >= want[3] or x0 < sx0 or x1 > sx1 or y0 < sy0 or y1 > sy1:
        raise SuitabilityInputError(
            "高程/土地覆盖栅格没有覆盖高新区现有辖区，无法做适宜性分析。",
            hint="导入覆盖辖区及周边的栅格，或删除 data/rasters/ 让 landgis 重新生成示意栅格。",
        )
    return Grid.from_bounds(want, params.cell_size_m)


def _current_zone(zone_boundary: gpd.GeoDataFrame) -> np.ndarray:
    if "kind" in zone_boundary.columns:
        cur = zone_boundary[zone_boundary["kind"].astype("str") == "current"]
    else:
        cur = zone_boundary
    if len(cur) == 0:
        raise SuitabilityInputError("zone_boundary 图层中没有 kind = current 的现有辖区要素。", hint="导入高新区现有辖区边界（kind 填 current）。")
    return to_measure(np.asarray(cur.geometry.values, dtype=object))


def _need(layers: dict, name: str) -> gpd.GeoDataFrame:
    g = layers.get(name)
    if g is None:
        raise SuitabilityInputError(f"缺少图层 {name}，无法运行扩区研究。", hint="先运行 landgis init 载入样例数据，或导入该图层。")
    return g


def run_study(
    scenario: Scenario,
    layers: dict[str, gpd.GeoDataFrame],
    *,
    dem: tuple[np.ndarray, Grid] | None,
    landcover: tuple[np.ndarray, Grid] | None,
    inefficient: gpd.GeoDataFrame | None = None,
    raster_note: str = "",
    notes: list[str] | None = None,
) -> StudyResult:
    """The whole study: suitability and candidates (when rasters are given), then the balance.

    `notes`: remarks of the caller (e.g. why no 低效用地 could be screened), shown in the report.
    """
    params = scenario.suitability
    zone_b = _need(layers, "zone_boundary")
    suit: SuitabilityResult | None = None
    notes = list(notes or [])
    if dem is not None and landcover is not None:
        zone_m = _current_zone(zone_b)
        grid = analysis_grid(zone_m, params, dem[1])
        d = reproject_to(dem[0].astype(np.float32), dem[1], grid, resampling="bilinear")
        lc = reproject_to(landcover[0].astype(np.uint8), landcover[1], grid, resampling="nearest")
        roads = to_measure(np.asarray(_need(layers, "roads").geometry.values, dtype=object))
        parks = to_measure(np.asarray(_need(layers, "park_zones").geometry.values, dtype=object))
        suit = analyse(d, lc, grid, roads=roads, zone=zone_m, parks=parks, params=params)
        notes += suit.notes
    else:
        notes.append("未提供高程与土地覆盖栅格：只计算用地平衡，未做适宜性分析。")
    candidates = None
    if suit is not None and len(suit.blocks):
        candidates = pd.DataFrame({"area_mu": suit.blocks["area_mu"].to_numpy(), "selected": suit.blocks["selected"].to_numpy()})
    bal = land_balance(
        scenario,
        industrial_parcels=_need(layers, "industrial_parcels"),
        enterprises=_need(layers, "enterprises"),
        reserve_parcels=_need(layers, "reserve_parcels"),
        inefficient=inefficient,
        candidates=candidates,
    )
    notes += bal.notes
    out_layers = _package_layers(layers, scenario, inefficient, suit)
    tables = _tables(scenario, bal, suit, inefficient, layers)
    dictionary = data_dictionary(scenario, raster_note)
    generated = _dt.datetime.now().isoformat(timespec="seconds")
    from parcels.study.report import render_report

    html = render_report(scenario=scenario, balance=bal, suitability=suit, layers=out_layers, tables=tables,
                         dictionary=dictionary, notes=notes, generated_at=generated, files=FILES)
    return StudyResult(scenario, bal, suit, out_layers, tables, dictionary, html, notes, generated)


# --- layers and tables --------------------------------------------------------------------


def _package_layers(layers: dict, scenario: Scenario, inefficient, suit: SuitabilityResult | None) -> dict[str, gpd.GeoDataFrame]:
    out: dict[str, gpd.GeoDataFrame] = {}
    for name in ("zone_boundary", "park_zones", "roads", "reserve_parcels"):
        if layers.get(name) is not None:
            out[name] = layers[name].copy()
    if "reserve_parcels" in out:
        uses = set(scenario.assumptions.reserve_uses)
        out["reserve_parcels"]["counted_in_supply"] = out["reserve_parcels"]["use"].astype("str").isin(uses).to_numpy()
    if inefficient is not None and len(inefficient):
        keep = [c for c in ("parcel_id", "area_m2", "area_mu", "reason", "provisional", "park", "district") if c in inefficient.columns]
        out["inefficient_land"] = gpd.GeoDataFrame(inefficient[keep].copy(), geometry=inefficient.geometry.values, crs=inefficient.crs or f"EPSG:{STORE_EPSG}")
    if suit is not None and len(suit.blocks):
        blocks = suit.blocks.to_crs(f"EPSG:{STORE_EPSG}")
        out["candidate_blocks"] = blocks
        sel = suit.blocks[suit.blocks["selected"]]
        if len(sel):
            union = shapely.union_all(np.asarray(sel.geometry.values, dtype=object), grid_size=0.01)
            rec = gpd.GeoDataFrame(
                {"name": ["推荐扩区范围"], "blocks": [len(sel)], "area_m2": [float(sel["area_m2"].sum())],
                 "area_mu": [float(sel["area_mu"].sum())], "area_km2": [float(sel["area_m2"].sum()) / 1e6],
                 "target_km2": [scenario.suitability.expansion_target_km2]},
                geometry=gpd.GeoSeries([union], crs=f"EPSG:{MEASURE_EPSG}"), crs=f"EPSG:{MEASURE_EPSG}",
            ).to_crs(f"EPSG:{STORE_EPSG}")
            out["recommended_expansion"] = rec
    return out


def _tables(scenario: Scenario, bal: LandBalance, suit, inefficient, layers) -> dict[str, pd.DataFrame]:
    tables: dict[str, pd.DataFrame] = {"用地平衡": bal.table(), "储备地块按用途": bal.supply_by_use}
    rp = layers.get("reserve_parcels")
    if rp is not None:
        cols = [c for c in ("id", "seq", "district", "name", "location", "use", "area_mu", "status") if c in rp.columns]
        t = pd.DataFrame(rp[cols]).copy()
        t["计入工业用地供给"] = np.where(t["use"].astype("str").isin(list(scenario.assumptions.reserve_uses)), "是", "否")
        tables["储备地块（表2）"] = t.rename(columns={"id": "地块编号", "seq": "序号", "district": "辖区", "name": "项目名称", "location": "位置", "use": "用途", "area_mu": "面积(亩)", "status": "报批状态"})
    if inefficient is not None and len(inefficient):
        keep = [c for c in ("parcel_id", "area_mu", "reason", "provisional", "park", "district") if c in inefficient.columns]
        tables["低效用地"] = pd.DataFrame(inefficient[keep]).rename(columns={"parcel_id": "地块编号", "area_mu": "面积(亩)", "reason": "认定原因", "provisional": "阈值未核实", "park": "所在园区", "district": "辖区"})
    if suit is not None and len(suit.blocks):
        b = pd.DataFrame(suit.blocks.drop(columns="geometry"))
        b = b[[c for c in BLOCK_LABELS if c in b.columns]]
        tables["扩区候选地块"] = b.rename(columns=BLOCK_LABELS)
        tables["适宜性因子权重"] = pd.DataFrame({"因子": list(CRITERIA.values()), "代码": list(CRITERIA), "权重(归一化)": [suit.weights[k] for k in CRITERIA]})
    tables["规划目标（表1）"] = pd.DataFrame(
        {
            "指标": [TABLE1_FIELDS[k][0] for k in TABLE1_FIELDS],
            "单位": [TABLE1_FIELDS[k][1] for k in TABLE1_FIELDS],
            f"{scenario.base_year}年": [scenario.baseline.get(k) for k in TABLE1_FIELDS],
            f"{scenario.target_year}年": [scenario.targets.get(k) for k in TABLE1_FIELDS],
        }
    )
    tables["情景参数"] = scenario_table(scenario)
    return tables


def scenario_table(scenario: Scenario) -> pd.DataFrame:
    """Every scenario value as one row (key path, value), so the run is reproducible from the XLSX."""
    rows: list[tuple[str, str]] = []

    def walk(prefix: str, v) -> None:
        if isinstance(v, dict):
            for k, x in v.items():
                walk(f"{prefix}.{k}" if prefix else k, x)
        else:
            rows.append((prefix, str(v)))

    walk("", scenario.raw)
    return pd.DataFrame(rows, columns=["参数", "取值"])


def data_dictionary(scenario: Scenario, raster_note: str = "") -> pd.DataFrame:
    """Every file, layer and figure of the package with its meaning and its source."""
    from parcels.sample.rasters import LANDCOVER_CLASSES, SCHEMATIC_NOTE

    lc = "；".join(f"{k}={v[1]}（{v[0]}）" for k, v in LANDCOVER_CLASSES.items())
    raster_src = raster_note or SCHEMATIC_NOTE
    rows = [
        (FILES["gpkg"], "zone_boundary / zone_boundary_4546", "高新区范围：现有辖区（current，43.27 km²）与规划扩区（expansion，50 km²）", f"{PLAN} 一（一）、专栏9；样例几何为示意位置（schematic），以各要素 data_source 为准"),
        (FILES["gpkg"], "park_zones / park_zones_4546", "产业园区（与各功能区相呼应的参照）", f"{PLAN} 六（一）、专栏4/6/8；几何示意"),
        (FILES["gpkg"], "roads / roads_4546", "道路（计算道路可达性）", f"{PLAN} 表2、专栏9 所列道路；几何示意"),
        (FILES["gpkg"], "reserve_parcels / reserve_parcels_4546", "表2 地块报批计划的储备地块；counted_in_supply = 是否计入工业用地供给", f"{PLAN} 表2；面积为示意几何面积"),
        (FILES["gpkg"], "inefficient_land / inefficient_land_4546", "低效用地（SPEC §5.4）：地块编号、面积、认定原因", f"亩均效益评价政策 {scenario.assumptions.inefficient_policy}（parcels/policies/），阈值来源见 DOMAIN.md §0.6、§4（地方阈值未核实 [U]）；企业数据为合成样例"),
        (FILES["gpkg"], "candidate_blocks / candidate_blocks_4546", "扩区候选地块：各因子覆盖加权平均得分、综合适宜性、排名、是否推荐", "本研究计算：适宜性加权叠加 + 连片成块 + exactextract 覆盖加权分区统计"),
        (FILES["gpkg"], "recommended_expansion / recommended_expansion_4546", "推荐扩区范围：自现有辖区起逐块并入最适宜且相连的候选地块，至规划扩区面积", f"{PLAN} 六（二）扩区原则、专栏9（50 平方公里）"),
        (FILES["cog"], "band 1", f"综合适宜性（0–1，越大越适宜）；{SUITABILITY_NODATA:g} = 约束区（水域等、坡度过大、现有辖区内）；EPSG:4546，{scenario.suitability.cell_size_m:g} 米", "本研究计算；输入高程与土地覆盖：" + raster_src),
        ("输入栅格", "dem.tif", "高程（米），用于坡度（Horn 3×3 算法）", raster_src),
        ("输入栅格", "landcover.tif", f"土地覆盖编码：{lc}", raster_src),
        (FILES["xlsx"], "用地平衡", "工业用地需求与供给，逐项给出计算方法", f"{PLAN} 表1（营业总收入、规上工业企业）；情景文件假设；store 中的工业用地、企业、储备地块图层"),
        (FILES["xlsx"], "规划目标（表1）", "表1 南阳高新区“十四五”发展主要目标（2020→2025）", f"{PLAN} 表1"),
        (FILES["xlsx"], "情景参数", "本次运行所用情景文件的全部参数", f"情景：{scenario.name}；{scenario.source}"),
        ("单位", "亩", "1 亩 = 10000/15 平方米；面积按 CGCS2000 椭球面积（EPSG:4546 计算并作比例改正）", "DOMAIN.md §A"),
        ("坐标系", "EPSG:4490 / EPSG:4546", "存储与交换：CGCS2000 经纬度（EPSG:4490）；量算：CGCS2000 3度带高斯-克吕格 CM 111E（EPSG:4546）", "DOMAIN.md §A；SPEC §3.1"),
    ]
    return pd.DataFrame(rows, columns=["文件", "图层/字段", "含义", "来源"])


# --- writing (the edge) ---------------------------------------------------------------------


def _write_layer(path: Path, gdf: gpd.GeoDataFrame, layer: str) -> None:
    import pyogrio

    from gis.io import _plain_dtypes

    pyogrio.write_dataframe(_plain_dtypes(gdf), path, driver="GPKG", layer=layer)


def write_package(out_dir: str | Path, result: StudyResult) -> dict[str, Path]:
    """Write the package files into `out_dir` (created; existing package files replaced)."""
    from gis.io import write_workbook
    from gis.raster import write_cog

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {k: out / v for k, v in FILES.items()}
    gpkg = paths["gpkg"]
    if gpkg.exists():
        gpkg.unlink()
    for name, gdf in result.layers.items():
        g = gdf.to_crs(f"EPSG:{STORE_EPSG}")
        _write_layer(gpkg, g, name)
        _write_layer(gpkg, g.to_crs(f"EPSG:{MEASURE_EPSG}"), f"{name}_{MEASURE_EPSG}")
    if result.suitability is not None:
        s = result.suitability
        arr = np.where(np.isnan(s.score), SUITABILITY_NODATA, s.score).astype(np.float32)
        write_cog(paths["cog"], arr, s.grid, nodata=SUITABILITY_NODATA, description="综合适宜性 suitability (0-1)",
                  tags={"SCENARIO": result.scenario.name, "GENERATED": result.generated_at,
                        "WEIGHTS": "; ".join(f"{k}={v:.4f}" for k, v in s.weights.items()),
                        "NODATA_MEANING": "约束区：土地覆盖约束、坡度过大或现有辖区内"})
    else:
        paths.pop("cog")
    sheets = dict(result.tables)
    sheets["数据字典"] = result.dictionary
    write_workbook(sheets, paths["xlsx"])
    paths["html"].write_text(result.report_html, encoding="utf-8")
    paths["dictionary"].write_text(dictionary_markdown(result), encoding="utf-8")
    return paths


def dictionary_markdown(result: StudyResult) -> str:
    lines = [f"# 扩区研究数据字典", "", f"情景：{result.scenario.name}；生成时间：{result.generated_at}", "",
             "| 文件 | 图层/字段 | 含义 | 来源 |", "|---|---|---|---|"]
    for r in result.dictionary.itertuples(index=False):
        lines.append("| " + " | ".join(str(v).replace("|", "／") for v in r) + " |")
    lines += ["", "## 候选地块字段", "", "| 字段 | 中文名 |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in BLOCK_LABELS.items()]
    return "\n".join(lines) + "\n"


def zip_package(paths: dict[str, Path]) -> bytes:
    """The package files as one zip (for GET /study/package)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for p in paths.values():
            zf.write(p, arcname=p.name)
    return buf.getvalue()
