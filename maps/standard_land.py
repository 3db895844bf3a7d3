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

from maps.base import MapContext, PageOptions, add_layer, finish_map, open_page
from maps.errors import MapInputError
from maps.legend import LegendItem, LegendSection, LegendSpec
from maps.palette import UNCLASSED, VERDICTS
from maps.parcels import add_context_layers, context_legend_sections
from maps.popups import PopupConfig, PopupField, term_field
from parcels import vocabulary

TITLE = "南阳高新区标准地控制指标核查"

CHECK_FIELDS: dict[str, str] = {
    # What a 标准地 check says about a parcel; the fields around them are vocabulary terms.
    "verdict_zh": "核查结论",
    "phase": "阶段",
    "failed": "未达标指标",
    "failed_indicators": "未达标指标",
    "missing": "缺少资料的指标",
    "rules_note": "规则状态",
}

INDICATOR_KEYS = ("investment_intensity", "floor_area_ratio", "building_coverage", "office_living_share", "green_ratio",
                  "tax_per_mu", "revenue_per_mu", "energy_per_va")
"""The 标准地 indicators (parcels/standard_land/indicators.py), named as a 标准地 sheet names them."""


def popup_fields() -> list[PopupField]:
    """Candidate popup rows in display order; the first of two columns with one label wins."""
    fields = [
        term_field("parcel_id", column="id"),  # a parcel layer's own id is its 地块编号
        term_field("parcel_id"),
        PopupField("name", "项目/地块名称", "", None),
        term_field("enterprise_id"),
    ]
    fields += [PopupField(n, lab, "", None) for n, lab in CHECK_FIELDS.items()]
    fields += [term_field("land_area_mu"), term_field("area_mu"), PopupField("area_note", "面积说明", "", None)]
    fields += [term_field(k, context=vocabulary.STANDARD_LAND) for k in INDICATOR_KEYS]
    fields.append(PopupField("geometry_source", "几何来源", "", None))
    return fields


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
    page: PageOptions = PageOptions(),
    rules_title: str | None = None,
    note: str | None = None,
) -> tuple[folium.Map, MapContext]:
    frame = prepare_verdicts(verdicts)
    m, ctx = open_page(TITLE, page)
    add_context_layers(m, ctx, parks, boundary, roads=page.roads)
    seen: set[str] = set()
    fields = []
    for f in popup_fields():
        if f.name in frame.columns and f.label not in seen:
            seen.add(f.label)
            fields.append(f)
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
    finish_map(m, ctx, LegendSpec("图例", [LegendSection("核查结论", items)] + context_legend_sections(parks, boundary, page.roads), notes))
    return m, ctx


def verdict_frame(parcels: gpd.GeoDataFrame, table: pd.DataFrame, *, on: str = "parcel_id") -> gpd.GeoDataFrame:
    """Attach a check/review table (one row per parcel, `verdict`, ...) to parcel geometries."""
    if on not in table.columns:
        raise MapInputError(f"核查结果缺少 {on} 列，无法与地块关联。")
    t = table.drop(columns=[c for c in ("geometry", "name") if c in table.columns and c in parcels.columns and c != on])
    joined = parcels.merge(t, left_on="id", right_on=on, how="inner")
    return gpd.GeoDataFrame(joined, geometry=parcels.geometry.name, crs=parcels.crs)
