"""MapLibre GL style of the `parcels` map (SPEC §8.2, §9): the same colours as the Leaflet map.

A web map on another origin (a bureau's 一张图 portal, MapLibre GL JS, OpenLayers with
ol-mapbox-style) loads `/maps/parcels/style.json` and draws the same map the served Leaflet page
shows: reserve parcels filled by land use (maps/palette.py through maps/parcels.py's
`reserve_style`, so one 用途 has one colour everywhere) and outlined by approval status, park
zones, the zone boundary (current / expansion) and roads. Every source is the service's own
TileJSON (`/collections/{id}/tiles/WebMercatorQuad/tilejson.json`), so the page asks nothing of
any other host; there is no basemap (offline default, as the Leaflet maps).

Labels (注记, in Chinese, as on the Leaflet map: "序号 名称" inside reserve parcels, park names,
road names along the roads): the style has no `glyphs` URL. landgis serves no glyph files, and a
public glyph server (demotiles, Mapbox, MapTiler) would break the offline/intranet rule; MapLibre
GL JS (5.24 and 6.20 tested) then draws every label with the browser's own fonts (TinySDF;
`text-font` names the CSS families tried first: Noto Sans CJK SC, Microsoft YaHei, …).
`labels=False` (`?labels=false` on the route) leaves the text layers out for a client that draws
text only from a glyph server.

Pure: the caller passes the layers' summaries (maps/summary.py) and the service's base URL.
"""

from __future__ import annotations

from maps.palette import BOUNDARY_STYLES, LAND_USE_SOURCE, LAND_USE_SOURCE_NOTE_ZH, PARK_STYLE, STATUS_STROKES, land_use_class_name
from maps.parcels import ROAD_STYLE, TITLE, reserve_style
from maps.summary import LayerSummary
from parcels.schema import RESERVE_STATUSES

LABEL_FONTS = ["Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", "sans-serif"]
"""CSS families MapLibre draws the labels with (no glyph server: see the module doc)."""
LABEL_HALO = {"text-color": "#333333", "text-halo-color": "#FFFFFF", "text-halo-width": 1.5}
BACKGROUND = "#F7F7F2"
"""No basemap: the Leaflet maps' plain ground (offline default)."""


def tilejson_url(base: str, layer: str) -> str:
    return f"{base}/collections/{layer}/tiles/WebMercatorQuad/tilejson.json"


def _dash(dash: str | None, width: float) -> list[float] | None:
    """Leaflet's `dashArray` ("6 4", pixels) → MapLibre's `line-dasharray` (in line widths)."""
    if not dash:
        return None
    return [round(float(v) / width, 3) for v in dash.split()]


def _line(layer_id: str, source: str, colour: str, width: float, *, dash: str | None = None, opacity: float = 1.0, flt: list | None = None, title: str = "") -> dict:
    paint: dict = {"line-color": colour, "line-width": width, "line-opacity": opacity}
    dasharray = _dash(dash, width)
    if dasharray:
        paint["line-dasharray"] = dasharray
    out = {"id": layer_id, "type": "line", "source": source, "source-layer": source, "paint": paint, "metadata": {"landgis:title": title}}
    if flt is not None:
        out["filter"] = flt
    return out


def _label(layer_id: str, source: str, text: list, *, size: int, line: bool = False, min_zoom: float = 0, title: str = "") -> dict:
    layout: dict = {"text-field": text, "text-font": LABEL_FONTS, "text-size": size, "text-max-width": 8}
    if line:
        layout.update({"symbol-placement": "line", "text-max-angle": 30})
    return {"id": layer_id, "type": "symbol", "source": source, "source-layer": source, "minzoom": min_zoom, "layout": layout, "paint": dict(LABEL_HALO), "metadata": {"landgis:title": title}}


def parcels_style(base: str, reserve: LayerSummary, parks: LayerSummary | None = None, boundary: LayerSummary | None = None, roads: LayerSummary | None = None, *, labels: bool = True) -> dict:
    """The style document of the `parcels` map; `None` layers (absent from the store) are left out."""
    present = [s for s in (reserve, parks, boundary, roads) if s is not None]
    sources = {s.name: {"type": "vector", "url": tilejson_url(base, s.name)} for s in present}
    layers: list[dict] = [{"id": "background", "type": "background", "paint": {"background-color": BACKGROUND}, "metadata": {"landgis:title": "底色（无底图）"}}]
    legend: list[dict] = []

    if parks is not None:
        layers.append({"id": "park_zones-fill", "type": "fill", "source": "park_zones", "source-layer": "park_zones", "paint": {"fill-color": PARK_STYLE["fillColor"], "fill-opacity": PARK_STYLE["fillOpacity"]}, "metadata": {"landgis:title": "产业园区"}})
        layers.append(_line("park_zones-line", "park_zones", PARK_STYLE["color"], PARK_STYLE["weight"], dash=PARK_STYLE["dashArray"], title="产业园区边界"))
        legend.append({"title": "产业园区", "fill": PARK_STYLE["fillColor"], "stroke": PARK_STYLE["color"]})

    style = reserve_style(reserve)
    fills = style["fills"]
    fill_colour: object = style["missingColor"]
    if fills:
        fill_colour = ["match", ["to-string", ["get", "use"]], *[v for use, colour in fills.items() for v in (use, colour)], style["missingColor"]]
    layers.append({
        "id": "reserve_parcels-fill", "type": "fill", "source": "reserve_parcels", "source-layer": "reserve_parcels",
        "paint": {"fill-color": fill_colour, "fill-opacity": style["base"]["fillOpacity"]},
        "metadata": {"landgis:title": "储备地块（表2 地块报批计划）：用途（填充色）"},
    })
    legend += [{"title": f"{use}（{land_use_class_name(use)}）", "fill": colour} for use, colour in fills.items()]
    layers.append(_line("reserve_parcels-line", "reserve_parcels", style["base"]["color"], 1, flt=["!", ["in", ["get", "status"], ["literal", list(STATUS_STROKES)]]], title="储备地块边界（其他状态）"))
    shown_statuses = reserve.value_set("status") | set(RESERVE_STATUSES)
    for status, stroke in STATUS_STROKES.items():
        layers.append(_line(f"reserve_parcels-status-{status}", "reserve_parcels", stroke["color"], stroke["weight"], dash=stroke["dashArray"], flt=["==", ["get", "status"], status], title=f"报批状态：{status}（边框）"))
        if status in shown_statuses:  # the Leaflet legend's rule (maps/parcels.py)
            legend.append({"title": status, "stroke": stroke["color"], "dash": stroke["dashArray"]})

    if roads is not None:
        layers.append({**_line("roads", "roads", ROAD_STYLE["color"], ROAD_STYLE["weight"], opacity=ROAD_STYLE["opacity"], title="道路（示意走向）"), "layout": {"line-cap": "round", "line-join": "round"}})
        legend.append({"title": "道路（示意走向）", "stroke": ROAD_STYLE["color"]})
    if boundary is not None:
        for kind, st in BOUNDARY_STYLES.items():
            name = "高新区现状范围" if kind == "current" else "规划扩区范围"
            layers.append(_line(f"zone_boundary-{kind}", "zone_boundary", st["color"], st["weight"], dash=st["dashArray"], flt=["==", ["get", "kind"], kind], title=name))
            legend.append({"title": name, "stroke": st["color"], "dash": st["dashArray"]})
        layers.append(_line("zone_boundary-other", "zone_boundary", BOUNDARY_STYLES["current"]["color"], BOUNDARY_STYLES["current"]["weight"], flt=["!", ["in", ["get", "kind"], ["literal", list(BOUNDARY_STYLES)]]], title="高新区范围"))

    if labels:
        if roads is not None:
            layers.append(_label("roads-label", "roads", ["coalesce", ["get", "name"], ""], size=12, line=True, min_zoom=13, title="道路名称"))
        if parks is not None:
            layers.append(_label("park_zones-label", "park_zones", ["coalesce", ["get", "name"], ""], size=13, title="园区名称"))
        seq_name = ["case", ["has", "seq"], ["concat", ["to-string", ["get", "seq"]], " ", ["coalesce", ["get", "name"], ""]], ["coalesce", ["get", "name"], ["get", "id"]]]
        layers.append(_label("reserve_parcels-label", "reserve_parcels", seq_name, size=12, min_zoom=12, title="储备地块：序号 项目名称"))

    doc: dict = {
        "version": 8,
        "name": TITLE,
        "metadata": {
            "landgis:map": "parcels",
            "landgis:title": TITLE,
            "landgis:legend": legend,
            "landgis:colour_source": f"{LAND_USE_SOURCE}（{LAND_USE_SOURCE_NOTE_ZH}）",
            "landgis:labels": ("注记由 MapLibre GL JS 用浏览器本机字体绘制，无需字形服务（landgis 不提供也不引用外网字形服务）；只能从字形服务取字的客户端请用 ?labels=false。" if labels else "不含文字注记（labels=false）。"),
        },
        "sources": sources,
        "layers": layers,
    }
    if reserve.bounds is not None:
        x0, y0, x1, y1 = reserve.bounds
        doc["center"] = [round((x0 + x1) / 2, 6), round((y0 + y1) / 2, 6)]
        doc["zoom"] = 12
    if any(s.count and "schematic" in s.value_set("geometry_source") for s in present):
        doc["metadata"]["landgis:note"] = "注意：部分要素的几何为示意位置（schematic），依规划文本绘制，非实测界线，不得用于确权或计量。"
    return doc
