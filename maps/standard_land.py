"""The `standard-land` map (SPEC §6, §9): the 标准地 check result of each parcel.

Input: one row per parcel (GeoDataFrame) with `verdict` ∈ pass | fail | incomplete, as
parcels/standard_land returns it per checked project or per 达产复核 row, plus whatever
describing fields it has (`name`, `failed` / `failed_indicators`, `phase`, indicator values).
"incomplete" is drawn in its own colour: a missing input is never shown as a pass.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd

from maps.base import MapContext, MapInputError, add_layer, finish_map, new_map
from maps.legend import LegendItem, LegendSection, LegendSpec
from maps.palette import UNCLASSED, VERDICTS
from maps.parcels import add_context_layers, context_legend_sections
from maps.popups import PopupConfig, PopupField

TITLE = "南阳高新区标准地控制指标核查"

FIELDS: tuple[tuple[str, str, str, int | None], ...] = (
    ("id", "地块编号", "", None),
    ("parcel_id", "地块编号", "", None),
    ("name", "项目/地块名称", "", None),
    ("enterprise_id", "企业编号", "", None),
    ("verdict_zh", "核查结论", "", None),
    ("phase", "阶段", "", None),
    ("failed", "未达标指标", "", None),
    ("failed_indicators", "未达标指标", "", None),
    ("missing", "缺少资料的指标", "", None),
    ("land_area_mu", "用地面积", "亩", 2),
    ("area_mu", "面积", "亩", 2),
    ("investment_intensity", "投资强度", "万元/亩", 2),
    ("floor_area_ratio", "容积率", "", 2),
    ("building_coverage", "建筑系数", "%", 1),
    ("office_living_share", "行政办公及生活服务设施用地所占比重", "%", 1),
    ("green_ratio", "绿地率", "%", 1),
    ("tax_per_mu", "亩均税收", "万元/亩", 2),
    ("revenue_per_mu", "亩均产值/营业收入", "万元/亩", 2),
    ("energy_per_va", "单位增加值能耗", "吨标准煤/万元", 3),
    ("geometry_source", "几何来源", "", None),
)


def prepare_verdicts(verdicts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Validate the verdict column and add its Chinese text; unknown values are refused by row."""
    if "verdict" not in verdicts.columns:
        raise MapInputError("标准地核查结果缺少 verdict 列（pass/fail/incomplete）。")
    v = verdicts["verdict"].astype("string").str.strip().str.lower()
    bad = v.isna() | ~v.isin(list(VERDICTS))
    if bad.any():
        rows = [str(i + 1) for i in bad.to_numpy().nonzero()[0][:10]]
        raise MapInputError(f"标准地核查结果第 {'、'.join(rows)} 行的 verdict 无效：只能是 pass、fail 或 incomplete。")
    out = verdicts.copy()
    out["verdict"] = v.astype(object)
    out["verdict_zh"] = v.map({k: label for k, (_, label) in VERDICTS.items()}).astype(object)
    return out


def build_standard_land_map(
    verdicts: gpd.GeoDataFrame,
    parks: gpd.GeoDataFrame | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    *,
    basemap: str | None = "none",
    tianditu_key: str | None = None,
    mode: str = "saved",
    prefix: str | None = None,
    api_root: str = "",
    large_threshold: int | None = None,
    rules_title: str | None = None,
    note: str | None = None,
) -> tuple[folium.Map, MapContext]:
    frame = prepare_verdicts(verdicts)
    kwargs = {k: v for k, v in {"prefix": prefix, "large_threshold": large_threshold}.items() if v is not None}
    m, ctx = new_map(TITLE, basemap=basemap, tianditu_key=tianditu_key, mode=mode, api_root=api_root, **kwargs)
    add_context_layers(m, ctx, parks, boundary)
    seen: set[str] = set()
    fields = []
    for n, lab, unit, d in FIELDS:
        if n in frame.columns and lab not in seen:
            seen.add(lab)
            fields.append(PopupField(n, lab, unit, d))
    popup = PopupConfig(tuple(fields), title="标准地核查", title_field="name" if "name" in frame.columns else None)
    style = {"base": {"color": "#424242", "weight": 2, "fillOpacity": 0.75}, "fillBy": "verdict", "fills": {k: c for k, (c, _) in VERDICTS.items()}, "missingColor": UNCLASSED[0]}
    tooltip = "name" if "name" in frame.columns else "verdict_zh"
    add_layer(m, ctx, frame, key="standard_land", title="标准地核查结论", style=style, popup=popup, tooltip=tooltip, search="name" if "name" in frame.columns else None)
    counts = frame["verdict"].value_counts()
    items = [LegendItem(f"{label}（{int(counts.get(k, 0))} 宗）", fill=c, stroke="#424242") for k, (c, label) in VERDICTS.items()]
    notes = ["“资料不全”表示缺少某项指标的输入，不视为达标。"]
    if note:
        notes.append(note)
    if rules_title:
        notes.append(f"指标规则：{rules_title}")
    if "geometry_source" in frame.columns and (frame["geometry_source"] == "schematic").any():
        notes.append("注意：部分地块几何为示意位置（schematic），非实测界线。")
    finish_map(m, ctx, LegendSpec("图例", [LegendSection("核查结论", items)] + context_legend_sections(parks, boundary), notes))
    return m, ctx


def verdict_frame(parcels: gpd.GeoDataFrame, table: pd.DataFrame, *, on: str = "parcel_id") -> gpd.GeoDataFrame:
    """Attach a check/review table (one row per parcel, `verdict`, ...) to parcel geometries."""
    if on not in table.columns:
        raise MapInputError(f"核查结果缺少 {on} 列，无法与地块关联。")
    t = table.drop(columns=[c for c in ("geometry", "name") if c in table.columns and c in parcels.columns and c != on])
    joined = parcels.merge(t, left_on="id", right_on=on, how="inner")
    return gpd.GeoDataFrame(joined, geometry=parcels.geometry.name, crs=parcels.crs)
