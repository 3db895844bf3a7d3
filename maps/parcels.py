"""The `parcels` map (SPEC §9): reserve parcels by land use and approval status, park zones, boundary.

Fill = land use (national palette, maps/palette.py), outline = approval status, so one look
shows both what a parcel is for and how far its approval has gone.
"""

from __future__ import annotations

import geopandas as gpd
import folium

import pandas as pd

from maps.base import MapContext, PageOptions, add_layer, finish_map, open_page
from maps.labels import LabelSpec
from maps.legend import LegendItem, LegendSection, LegendSpec
from maps.palette import (
    BOUNDARY_STYLES,
    LAND_USE_SOURCE,
    LAND_USE_SOURCE_NOTE_ZH,
    PARK_STYLE,
    STATUS_STROKES,
    land_use_class_name,
    land_use_colour,
)
from maps.popups import popup_for_layer
from maps.summary import LayerSummary

RESERVE_VALUE_COLUMNS = ["use", "status", "geometry_source"]
"""What the map reads of a tiled reserve layer besides count and extent (maps/summary.py)."""

TITLE = "南阳高新区储备地块、产业园区与范围"


def _schematic_note(*frames: gpd.GeoDataFrame | LayerSummary) -> list[str]:
    n = sum(
        f.value_count("geometry_source", "schematic") if isinstance(f, LayerSummary) else int((f["geometry_source"] == "schematic").sum())
        for f in frames
        if "geometry_source" in f.columns
    )
    if not n:
        return []
    return [f"注意：{n} 个要素的几何为示意位置（schematic），依规划文本绘制，非实测界线，不得用于确权或计量。"]


def reserve_labels(reserve: gpd.GeoDataFrame) -> dict:
    """Label texts of reserve parcels: "序号 名称" (Table 2's row number, as officials cite the
    plan), or the 序号 alone where the parcel is too small on screen (the id without a 序号)."""
    ids = reserve["id"].astype(str) if "id" in reserve.columns else pd.Series([""] * len(reserve), index=reserve.index)
    seq = reserve["seq"] if "seq" in reserve.columns else pd.Series([None] * len(reserve), index=reserve.index)
    names = reserve["name"] if "name" in reserve.columns else pd.Series([None] * len(reserve), index=reserve.index)
    short = [f"{int(s)}" if pd.notna(s) and str(s).strip() != "" else i for s, i in zip(seq, ids)]
    full = [f"{s} {n}" if isinstance(n, str) and n.strip() else s for s, n in zip(short, names)]
    return {"_label": full, "_label_short": short}


def reserve_style(reserve: gpd.GeoDataFrame | LayerSummary) -> dict:
    values = reserve.value_set("use") if isinstance(reserve, LayerSummary) else reserve.get("use", [])
    uses = sorted({str(u) for u in values if u is not None and str(u) != "nan"})
    return {
        "base": {"color": "#555555", "weight": 2, "fillOpacity": 0.7, "opacity": 1},
        "fillBy": "use",
        "fills": {u: land_use_colour(u) for u in uses},
        "missingColor": land_use_colour(None),
        "strokeBy": "status",
        "strokes": STATUS_STROKES,
    }


def boundary_style() -> dict:
    return {
        "base": {"color": "#C62828", "weight": 3, "fill": False},
        "fillBy": None,
        "strokeBy": "kind",
        "strokes": BOUNDARY_STYLES,
    }


ROAD_STYLE = {"color": "#8A8A8A", "weight": 3, "opacity": 0.95, "lineCap": "round"}
ROAD_EMPHASIS = {"color": "#E65100", "weight": 5}
"""A road named in the parcel's 四至 (location text) on a parcel sheet."""


def road_style() -> dict:
    return {"base": ROAD_STYLE, "strokeBy": "_sizhi", "strokes": {"True": ROAD_EMPHASIS}}


def add_context_layers(
    m: folium.Map, ctx: MapContext, parks: gpd.GeoDataFrame | None, boundary: gpd.GeoDataFrame | None, *, show_parks: bool = True, roads: gpd.GeoDataFrame | None = None,
) -> None:
    """Boundary, park zones and roads: the frame of reference on every map, so an official can
    tell where a parcel is (roads and parks are labelled by name, maps/labels.py).

    `roads` may carry a boolean `_sizhi` column: the roads a parcel's 四至 names, drawn and
    labelled with emphasis (services/map_print.py sets it on a parcel sheet)."""
    if boundary is not None and len(boundary):
        add_layer(m, ctx, boundary, key="zone_boundary", title="高新区范围", style=boundary_style(), popup=popup_for_layer("zone_boundary", list(boundary.columns)), tooltip="name", collection="zone_boundary")
    if parks is not None and len(parks):
        add_layer(
            m, ctx, parks, key="park_zones", title="产业园区", style={"base": PARK_STYLE}, popup=popup_for_layer("park_zones", list(parks.columns)), tooltip="name", collection="park_zones", show=show_parks,
            label=LabelSpec("name", "area", priority=1, cls="park"),
        )
    if roads is not None and len(roads):
        if "_sizhi" in roads.columns:
            roads = roads.assign(_sizhi=roads["_sizhi"].fillna(False).astype(bool).astype(str))
        add_layer(
            m, ctx, roads, key="roads", title="道路", style=road_style(), popup=popup_for_layer("roads", list(roads.columns)), tooltip="name", collection="roads",
            label=LabelSpec("name", "line", priority=3, cls="road", emphasis="_sizhi" if "_sizhi" in roads.columns else None),
        )


def context_legend_sections(parks: gpd.GeoDataFrame | None, boundary: gpd.GeoDataFrame | None, roads: gpd.GeoDataFrame | None = None) -> list[LegendSection]:
    items = []
    if roads is not None and len(roads):
        items.append(LegendItem("道路（示意走向）", stroke=ROAD_STYLE["color"], line=True, weight=3))
        if "_sizhi" in roads.columns and roads["_sizhi"].fillna(False).astype(bool).any():
            items.append(LegendItem("四至道路", stroke=ROAD_EMPHASIS["color"], line=True, weight=4))
    if boundary is not None and len(boundary):
        kinds = set(boundary["kind"]) if "kind" in boundary.columns else {"current"}
        if "current" in kinds or not kinds & set(BOUNDARY_STYLES):
            items.append(LegendItem("高新区现状范围", stroke=BOUNDARY_STYLES["current"]["color"], line=True, weight=3))
        if "expansion" in kinds:
            items.append(LegendItem("规划扩区范围", stroke=BOUNDARY_STYLES["expansion"]["color"], dash="12 6", line=True, weight=3))
    if parks is not None and len(parks):
        items.append(LegendItem("产业园区", fill=PARK_STYLE["fillColor"], stroke=PARK_STYLE["color"], dash=PARK_STYLE["dashArray"]))
    return [LegendSection("范围、园区与道路", items)] if items else []


def build_parcels_map(
    reserve: gpd.GeoDataFrame | LayerSummary,
    parks: gpd.GeoDataFrame | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    *,
    page: PageOptions = PageOptions(),
) -> tuple[folium.Map, MapContext]:
    """The parcels map from the three layers (and `page.roads`, the store's road centre lines) (EPSG:4490 GeoDataFrames as the store returns them).

    `reserve` may be a LayerSummary (maps/summary.py) when it is drawn from vector tiles: a
    served map of a large layer then never reads the layer's geometries."""
    m, ctx = open_page(TITLE, page)
    add_context_layers(m, ctx, parks, boundary, roads=page.roads)
    style = reserve_style(reserve)
    label = None
    if not isinstance(reserve, LayerSummary):
        reserve = reserve.assign(**reserve_labels(reserve))
        label = LabelSpec("_label", "area", short="_label_short", priority=5, cls="parcel")
    add_layer(
        m, ctx, reserve, key="reserve_parcels", title="储备地块（表2 地块报批计划）", style=style,
        popup=popup_for_layer("reserve_parcels", list(reserve.columns)), tooltip="name", search="name", collection="reserve_parcels", label=label,
    )
    use_items = [LegendItem(f"{u}（{land_use_class_name(u)}）", fill=c, stroke="#555555") for u, c in style["fills"].items()]
    if isinstance(reserve, LayerSummary):
        status_present = reserve.value_set("status")
    else:
        status_present = set(reserve["status"].dropna().astype(str)) if "status" in reserve.columns else set()
    status_items = [
        LegendItem(s, fill="#FFFFFF", stroke=st["color"], dash=st["dashArray"], weight=st["weight"])
        for s, st in STATUS_STROKES.items()
        if s in status_present or s in ("计划报批", "已组卷上报", "已获批", "已供地")
    ]
    notes = _schematic_note(reserve, *(f for f in (parks, boundary, page.roads) if f is not None))
    notes.append(f"用地颜色：{LAND_USE_SOURCE}（{LAND_USE_SOURCE_NOTE_ZH}）。")
    legend = LegendSpec(
        "图例",
        [LegendSection("储备地块用途（填充色）", use_items), LegendSection("报批状态（边框）", status_items)] + context_legend_sections(parks, boundary, page.roads),
        notes,
    )
    finish_map(m, ctx, legend)
    return m, ctx
