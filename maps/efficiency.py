"""The `efficiency` map (SPEC §5, §9): 亩均 classes A/B/C/D and one indicator as a choropleth.

Inputs are the scoring output (parcels/efficiency: one row per enterprise with `class`, the
indicator values, `total_score`, `rank`, `flags`) joined to where the enterprise is: either its
own geometry (points) or `parcel_id` into the `industrial_parcels` layer. A parcel is painted
with the class of the enterprise holding the most land on it.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from maps.base import MapContext, PageOptions, add_layer, finish_map, open_page
from maps.errors import MapInputError
from maps.legend import LegendItem, LegendSection, LegendSpec
from maps.palette import EFFICIENCY_CLASSES, UNCLASSED, quantile_breaks, ramp
from maps.parcels import add_context_layers, context_legend_sections
from maps.popups import PopupConfig, PopupField, term_field
from parcels import vocabulary

TITLE = "南阳高新区亩均效益评价"

INDICATOR_KEYS: tuple[str, ...] = (
    # The indicators this map can draw, in the order it offers them; keys of the bundled policies
    # (parcels/policies/*.toml) and SPEC §5.1. Names, units and decimals: parcels/vocabulary.py.
    "tax_per_mu", "revenue_per_mu", "va_per_mu", "profit_per_mu", "output_per_mu", "revenue_per_energy", "output_per_energy",
    "va_per_energy", "energy_per_va", "va_per_emission", "rd_intensity", "labor_productivity", "tax_per_electricity",
)

RESULT_KEYS: tuple[str, ...] = (
    "enterprise_id", "name", "class", "initial_class", "total_score", "rank", "above_scale", "land_area_mu", "park",
    "parcel_id", "year", "consecutive_low", "measures",
)
"""Result fields a popup shows before the indicators, labelled as the map's vocabulary says (类别)."""


def _canonical(column: object) -> object:
    """The vocabulary key of a result column (older spellings such as value_added_per_mu included)."""
    return vocabulary.ALIASES.get(column, column) if isinstance(column, str) else column


def indicator_label(key: str) -> tuple[str, str]:
    """(指标, unit) of an indicator column; an unknown column is shown under its own name."""
    if isinstance(key, str) and vocabulary.known(key):
        t = vocabulary.term(key)
        return t.label_zh, t.unit
    return key, ""


def indicator_columns(results: pd.DataFrame) -> list[str]:
    """Indicator value columns present: known keys first, then any `score_<key>` partner."""
    order = {k: i for i, k in enumerate(INDICATOR_KEYS)}
    known = sorted((c for c in results.columns if _canonical(c) in order), key=lambda c: order[_canonical(c)])
    extra = [c[len("score_"):] for c in results.columns if c.startswith("score_") and c[len("score_"):] in results.columns and c[len("score_"):] not in known]
    return known + extra


def efficiency_popup(results: pd.DataFrame) -> PopupConfig:
    fields = [term_field(k, context=vocabulary.MAP) for k in RESULT_KEYS if k in results.columns]
    for key in indicator_columns(results):
        if vocabulary.known(key):
            fields.append(term_field(_canonical(key), column=key))
        else:
            fields.append(PopupField(key, key, "", 2))
    if "flags" in results.columns:
        fields.append(PopupField("flags", "说明", "", None))
    return PopupConfig(tuple(fields), title="亩均效益评价", title_field="name")


def enterprise_points(results: pd.DataFrame) -> gpd.GeoDataFrame | None:
    if isinstance(results, gpd.GeoDataFrame) and results.geometry.name in results.columns and results.geometry.notna().any():
        return results
    return None


def parcels_by_class(results: pd.DataFrame, parcels: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Each parcel with the result row of the enterprise holding the most land on it."""
    if "parcel_id" not in results.columns:
        raise MapInputError("亩均效益结果缺少 parcel_id 列，无法与工业用地宗地关联。请在结果中提供 parcel_id 或企业点位几何。")
    r = pd.DataFrame(results.drop(columns=[c for c in ("geometry",) if c in results.columns]))
    # "P1;P2": an enterprise on several parcels paints each of them.
    r = r.assign(parcel_id=r["parcel_id"].astype("string").str.split(r"[;；,，]")).explode("parcel_id")
    r["parcel_id"] = r["parcel_id"].str.strip()
    r = r[r["parcel_id"].notna() & (r["parcel_id"] != "")]
    land = pd.to_numeric(r["land_area_mu"], errors="coerce") if "land_area_mu" in r.columns else pd.Series(0.0, index=r.index)
    r = r.assign(_land=land.fillna(-1.0)).sort_values("_land", ascending=False, kind="stable").drop_duplicates("parcel_id").drop(columns="_land")
    keep = [c for c in parcels.columns if c in ("id", "geometry", "park", "district", "area_mu")]
    joined = parcels[keep].merge(r.drop(columns=[c for c in ("park", "district") if c in r.columns and c in keep]), left_on="id", right_on="parcel_id", how="inner")
    return gpd.GeoDataFrame(joined, geometry="geometry", crs=parcels.crs)


def class_style() -> dict:
    return {
        "base": {"color": "#424242", "weight": 1, "fillOpacity": 0.75},
        "fillBy": "class",
        "fills": {k: c for k, (c, _) in EFFICIENCY_CLASSES.items()},
        "missingColor": UNCLASSED[0],
    }


def choropleth_style(values: pd.Series, key: str) -> tuple[dict, list[LegendItem]]:
    breaks = quantile_breaks(pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan))
    colours = ramp(len(breaks))
    style = {"base": {"color": "#616161", "weight": 1, "fillOpacity": 0.8}, "fillBy": key, "breaks": breaks, "colors": colours, "missingColor": UNCLASSED[0]}
    _, unit = indicator_label(key)
    items = []
    for i, (b, c) in enumerate(zip(breaks, colours)):
        upper = f"{breaks[i + 1]:,.2f}" if i + 1 < len(breaks) else "以上"
        items.append(LegendItem(f"{b:,.2f} – {upper} {unit}".replace("– 以上", "以上"), fill=c, stroke="#616161"))
    items.append(LegendItem("无数据", fill=UNCLASSED[0], stroke="#616161"))
    return style, items


def build_efficiency_map(
    results: pd.DataFrame,
    parcels: gpd.GeoDataFrame | None = None,
    parks: gpd.GeoDataFrame | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    *,
    indicator: str | None = None,
    policy_title: str | None = None,
    run_note: str | None = None,
    page: PageOptions = PageOptions(),
) -> tuple[folium.Map, MapContext]:
    """The efficiency map. `results`: scoring rows (GeoDataFrame of points, or with `parcel_id`)."""
    if "class" not in results.columns:
        raise MapInputError("亩均效益结果缺少 class（评价类别）列：请传入 score_enterprises 的结果表。")
    indicators = indicator_columns(results)
    if indicator is not None and indicator not in results.columns:
        raise MapInputError(f"指标“{indicator}”不在评价结果中。可选指标：{'、'.join(f'{k}（{indicator_label(k)[0]}）' for k in indicators) or '无'}。")
    key = indicator or (indicators[0] if indicators else None)
    m, ctx = open_page(TITLE, page)
    add_context_layers(m, ctx, parks, boundary, show_parks=True, roads=page.roads)
    popup = efficiency_popup(results)
    sections: list[LegendSection] = []
    present = set(results["class"].dropna().astype(str))
    class_items = [LegendItem(label, fill=c, stroke="#424242") for k, (c, label) in EFFICIENCY_CLASSES.items() if k in present or k in ("A", "B", "C")]
    class_items.append(LegendItem(UNCLASSED[1], fill=UNCLASSED[0], stroke="#424242"))
    sections.append(LegendSection("亩均效益类别", class_items))
    if parcels is not None and "parcel_id" in results.columns:
        by_parcel = parcels_by_class(results, parcels)
        add_layer(m, ctx, by_parcel, key="efficiency_parcels", title="工业用地宗地（按评价类别）", style=class_style(), popup=popup, tooltip="name", search="name")
        if key is not None:
            style, items = choropleth_style(by_parcel[key], key)
            add_layer(m, ctx, by_parcel, key="indicator_parcels", title=f"指标分级：{indicator_label(key)[0]}", style=style, popup=popup, tooltip="name", show=False)
            sections.append(LegendSection(f"{indicator_label(key)[0]}（分位数分级，图层“指标分级”）", items))
    points = enterprise_points(results)
    if points is not None:
        add_layer(m, ctx, points, key="enterprises", title="企业（按评价类别）", style=class_style() | {"base": {"color": "#212121", "weight": 1, "fillOpacity": 0.9}}, popup=popup, tooltip="name", search=None if parcels is not None else "name", radius=5)
    elif parcels is None:
        raise MapInputError("亩均效益地图需要企业点位几何或工业用地宗地（parcels）之一。")
    sections += context_legend_sections(parks, boundary, page.roads)
    notes = [f"评价办法：{policy_title}" if policy_title else "评价办法：见评价运行记录"]
    if run_note:
        notes.append(run_note)
    if "data_source" in results.columns and results["data_source"].astype(str).str.contains("合成|synthetic", regex=True).any():
        notes.append("注意：企业数据为合成样例（synthetic），仅供演示。")
    finish_map(m, ctx, LegendSpec("图例", sections, notes))
    return m, ctx
