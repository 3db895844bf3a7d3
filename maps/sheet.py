"""The print sheet (附图) of a map: paper, nominal scale, map frame and its furniture, as HTML.

Why HTML laid out in millimetres: the sheet is the very Leaflet map the official sees (same
layers, styles, labels — maps/base.py), framed on a page with what a 报批 file's 附图 needs:
图名, 图例 in Chinese, 比例尺 (a true scale bar and the nominal scale 1:N), 指北针, 制图单位,
制图日期, data-source and schematic-geometry notes and the CGCS2000 coordinates of the frame's
corners. Headless Chromium prints it (services/map_print.py). A CSS pixel is 1/96 inch on paper,
so setting Leaflet's (fractional) zoom to N × 0.0254/96 ground metres per pixel makes the map
exactly 1:N at the frame's centre latitude (Web Mercator: the scale varies by tan φ·Δφ across
the frame, ≈0.1 % over 10 km at 33°N).

Pure: sizes and view from numbers, HTML from the map's context; no store, no browser.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field

import folium
from branca.element import Element, MacroElement
from folium.template import Template

from maps.errors import MapInputError
from maps.legend import LegendSpec, legend_html

PAPERS_MM: dict[str, tuple[float, float]] = {"A4": (210.0, 297.0), "A3": (297.0, 420.0)}
"""Portrait width × height (GB/T 148 / ISO 216)."""
NICE_SCALES = (500, 1000, 2000, 2500, 5000, 10000, 15000, 20000, 25000, 50000, 75000, 100000, 150000, 200000, 250000, 500000, 1000000)
"""Nominal scales an official expects on a 附图 (the 1:N of the sheet)."""
EARTH_R = 6378137.0  # Web Mercator sphere (Leaflet's L.CRS.EPSG3857)
CSS_PX_M = 0.0254 / 96  # one CSS pixel on paper, in metres
MARGIN_MM = 10.0
TITLE_MM = 18.0
PANEL_MM = 78.0  # the side (landscape) or bottom (portrait) panel: legend, notes, tables


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class SheetLayout:
    paper: str
    landscape: bool
    width_mm: float
    height_mm: float
    map_box: Box
    panel_box: Box

    def pixels(self, dpi: int) -> tuple[int, int]:
        """The PNG size at `dpi` (A4 landscape at 300 dpi: 3508 × 2480)."""
        return round(self.width_mm / 25.4 * dpi), round(self.height_mm / 25.4 * dpi)


def sheet_layout(paper: str = "A4", landscape: bool = False, panel_mm: float = PANEL_MM) -> SheetLayout:
    """Page and boxes: map frame left and panel right on a landscape sheet, panel below on a portrait one."""
    key = (paper or "A4").strip().upper()
    if key not in PAPERS_MM:
        raise MapInputError(f"纸张“{paper}”不支持：只能是 {'、'.join(PAPERS_MM)}。")
    w, h = PAPERS_MM[key]
    if landscape:
        w, h = h, w
    top = MARGIN_MM + TITLE_MM
    if landscape:
        map_box = Box(MARGIN_MM, top, w - 2 * MARGIN_MM - panel_mm - 6, h - top - MARGIN_MM - 4)
        panel = Box(map_box.x + map_box.w + 6, top, panel_mm, map_box.h)
    else:
        panel_h = panel_mm + (30 if key == "A3" else 0)
        map_box = Box(MARGIN_MM, top, w - 2 * MARGIN_MM, h - top - MARGIN_MM - panel_h - 6)
        panel = Box(MARGIN_MM, map_box.y + map_box.h + 6, map_box.w, panel_h)
    return SheetLayout(key, landscape, w, h, map_box, panel)


@dataclass(frozen=True)
class SheetView:
    """Where the frame looks and at which nominal scale."""

    center: tuple[float, float]  # (lon, lat), CGCS2000
    scale: int  # N of 1:N
    zoom: float  # Leaflet's fractional zoom for that scale
    corners: dict[str, tuple[float, float]]  # "nw" "ne" "sw" "se" → (lon, lat), CGCS2000


def _merc(lon: float, lat: float) -> tuple[float, float]:
    return EARTH_R * math.radians(lon), EARTH_R * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def _unmerc(x: float, y: float) -> tuple[float, float]:
    return math.degrees(x / EARTH_R), math.degrees(2 * math.atan(math.exp(y / EARTH_R)) - math.pi / 2)


def fit_view(bbox: tuple[float, float, float, float], map_box: Box, *, margin: float = 0.05, scale: int | None = None) -> SheetView:
    """The smallest nice scale (NICE_SCALES) at which `bbox` (lon/lat) fits the frame with
    `margin` to spare on each side, or the given `scale`; centred on the bbox."""
    minx, miny, maxx, maxy = (float(v) for v in bbox)
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)) or maxx < minx or maxy < miny:
        raise MapInputError("出图范围无效：应为 最小经度,最小纬度,最大经度,最大纬度（CGCS2000 经纬度）。")
    if not (70 <= minx <= 140 and 0 <= miny <= 60 and 70 <= maxx <= 140 and 0 <= maxy <= 60):
        raise MapInputError("出图范围不在中国境内的经纬度范围：请按 最小经度,最小纬度,最大经度,最大纬度 给出 CGCS2000 经纬度。")
    lon0, lat0 = (minx + maxx) / 2, (miny + maxy) / 2
    (x0, y0), (x1, y1) = _merc(minx, miny), _merc(maxx, maxy)
    k = math.cos(math.radians(lat0))  # ground metres per Web Mercator metre at the centre
    frame_w_m, frame_h_m = map_box.w / 1000 * (1 - 2 * margin), map_box.h / 1000 * (1 - 2 * margin)
    need = max((x1 - x0) * k / frame_w_m, (y1 - y0) * k / frame_h_m, 1.0)
    if scale is None:
        scale = next((s for s in NICE_SCALES if s >= need), int(math.ceil(need / 100000.0) * 100000))
    ground_m_per_px = scale * CSS_PX_M
    merc_per_px = ground_m_per_px / k
    zoom = math.log2(2 * math.pi * EARTH_R / (256 * merc_per_px))
    cx, cy = _merc(lon0, lat0)
    half_w = map_box.w / 1000 / CSS_PX_M / 2 * merc_per_px
    half_h = map_box.h / 1000 / CSS_PX_M / 2 * merc_per_px
    corners = {
        "nw": _unmerc(cx - half_w, cy + half_h), "ne": _unmerc(cx + half_w, cy + half_h),
        "sw": _unmerc(cx - half_w, cy - half_h), "se": _unmerc(cx + half_w, cy - half_h),
    }
    return SheetView((lon0, lat0), int(scale), zoom, corners)


def scale_bar(scale: int, max_mm: float = 45.0) -> tuple[float, float]:
    """(ground length in metres, length on paper in mm) of the longest 1/2/5×10^k bar ≤ max_mm."""
    best = (0.0, 0.0)
    for exp in range(0, 7):
        for m in (1, 2, 5):
            length = m * 10**exp
            mm = length / scale * 1000
            if mm <= max_mm and length > best[0]:
                best = (float(length), mm)
    return best


def _dms(value: float, pos: str, neg: str) -> str:
    hemi = pos if value >= 0 else neg
    v = abs(value)
    d = int(v)
    mf = (v - d) * 60
    m = int(mf)
    s = (mf - m) * 60
    if s >= 59.95:
        s, m = 0.0, m + 1
    if m >= 60:
        m, d = m - 60, d + 1
    return f"{d}°{m:02d}′{s:04.1f}″{hemi}"


def format_lonlat(lon: float, lat: float) -> str:
    return f"{_dms(lon, 'E', 'W')} {_dms(lat, 'N', 'S')}"


def scale_text(scale: int) -> str:
    return f"1:{scale:,}".replace(",", " ")


@dataclass
class SheetInfo:
    """The sheet's words: every one Chinese, none from the map's interactive controls."""

    title: str
    producer: str
    date: str  # 制图日期, e.g. 2026年12月5日
    sources: list[str] = field(default_factory=list)  # 数据来源 lines
    notes: list[str] = field(default_factory=list)  # extra notes (schematic geometry, …)
    tables: list[tuple[str, list[str], list[list[str]]]] = field(default_factory=list)  # (title, header, rows)
    subtitle: str = ""


_CSS = """
@page {{ size: {w}mm {h}mm; margin: 0; }}
html, body {{ width: {w}mm !important; height: {h}mm !important; margin: 0; padding: 0; overflow: hidden; background: #fff; }}
body, .landgis-sheet {{ font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif; color: #111; -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
.folium-map {{ position: absolute !important; left: {mx}mm !important; top: {my}mm !important; width: {mw}mm !important; height: {mh}mm !important; }}
.leaflet-control-container {{ display: none !important; }}
.landgis-sheet-title {{ position: absolute; left: {m}mm; top: {m}mm; width: {tw}mm; height: 10mm; text-align: center; font-size: 20pt; font-weight: bold; letter-spacing: 2pt; }}
.landgis-sheet-subtitle {{ position: absolute; left: {m}mm; top: {sub}mm; width: {tw}mm; text-align: center; font-size: 9pt; color: #333; }}
.landgis-sheet-frame {{ position: absolute; left: {fx}mm; top: {fy}mm; width: {fw}mm; height: {fh}mm; border: 0.6mm solid #000; box-sizing: border-box; pointer-events: none; z-index: 1000; }}
.landgis-sheet-corner {{ position: absolute; font-size: 6.5pt; color: #000; white-space: nowrap; z-index: 1001; }}
.landgis-sheet-north {{ position: absolute; left: {nx}mm; top: {ny}mm; width: 12mm; z-index: 1001; text-align: center; }}
.landgis-sheet-scale {{ position: absolute; left: {sx}mm; top: {sy}mm; background: rgba(255,255,255,0.9); padding: 1.2mm 2mm; z-index: 1001; font-size: 7pt; border: 0.2mm solid #666; }}
.landgis-sheet-panel {{ position: absolute; left: {px}mm; top: {py}mm; width: {pw}mm; height: {ph}mm; overflow: hidden; column-fill: auto; font-size: 7.5pt; line-height: 1.35; border: 0.3mm solid #000; box-sizing: border-box; padding: 2.5mm 3mm; {columns} }}
.landgis-sheet-panel .landgis-legend-title {{ font-size: 11pt; font-weight: bold; margin-bottom: 1mm; }}
.landgis-sheet-panel .landgis-legend-section {{ margin-top: 1.2mm; break-inside: avoid; }}
.landgis-sheet-panel .landgis-legend-section-title {{ font-weight: bold; }}
.landgis-sheet-panel .landgis-legend-item {{ display: flex; align-items: center; gap: 1.5mm; }}
.landgis-sheet-panel .landgis-swatch {{ display: inline-block; width: 7mm; height: 3.6mm; flex: none; box-sizing: border-box; }}
.landgis-sheet-panel .landgis-swatch-line {{ height: 0; }}
.landgis-sheet-panel .landgis-legend-note {{ margin-top: 1mm; color: #5d3a00; font-size: 6.5pt; }}
.landgis-sheet-panel table {{ border-collapse: collapse; width: 100%; margin-top: 0.8mm; font-size: 6.8pt; break-inside: avoid; }}
.landgis-sheet-panel th, .landgis-sheet-panel td {{ border: 0.2mm solid #777; padding: 0.3mm 0.8mm; text-align: left; vertical-align: top; }}
.landgis-sheet-block {{ margin-top: 1.6mm; break-inside: avoid; }}
.landgis-sheet-block-title {{ font-weight: bold; font-size: 8pt; }}
.landgis-sheet-meta {{ margin-top: 1.6mm; border-top: 0.2mm solid #999; padding-top: 1mm; break-inside: avoid; }}
.landgis-sheet-schematic {{ color: #b00020; font-weight: bold; }}
"""


def _north_svg() -> str:
    return (
        '<svg width="12mm" height="16mm" viewBox="0 0 24 32" xmlns="http://www.w3.org/2000/svg">'
        '<text x="12" y="7" font-size="7" text-anchor="middle" font-weight="bold" font-family="Noto Sans CJK SC, sans-serif">北</text>'
        '<polygon points="12,9 18,30 12,25" fill="#000"/><polygon points="12,9 6,30 12,25" fill="#fff" stroke="#000" stroke-width="0.8"/></svg>'
    )


def _scale_html(scale: int) -> str:
    length, mm = scale_bar(scale)
    unit, div = ("千米", 1000.0) if length >= 1000 else ("米", 1.0)
    seg = mm / 4
    cells = "".join(
        f'<span style="display:inline-block;width:{seg:.3f}mm;height:1.6mm;box-sizing:border-box;border:0.2mm solid #000;background:{"#000" if i % 2 == 0 else "#fff"}"></span>'
        for i in range(4)
    )
    def num(v: float) -> str:
        return f"{v / div:g}"
    marks = (
        f'<div style="position:relative;height:3mm;width:{mm:.3f}mm">'
        f'<span style="position:absolute;left:0;transform:translateX(-50%)">0</span>'
        f'<span style="position:absolute;left:{mm / 2:.3f}mm;transform:translateX(-50%)">{num(length / 2)}</span>'
        f'<span style="position:absolute;left:{mm:.3f}mm;transform:translateX(-50%)">{num(length)}</span></div>'
    )
    return (
        f'<div class="landgis-sheet-scale"><div style="font-weight:bold">比例尺 {scale_text(scale)}</div>'
        f'<div style="white-space:nowrap;line-height:0">{cells}</div>{marks}<div>单位：{unit}（按图幅中心纬度）</div></div>'
    )


def sheet_html(layout: SheetLayout, view: SheetView, info: SheetInfo, legend: LegendSpec | None) -> tuple[str, str]:
    """(CSS, body HTML) of the sheet around the map frame. Every text is escaped."""
    mb, pb = layout.map_box, layout.panel_box
    css = _CSS.format(
        w=layout.width_mm, h=layout.height_mm, m=MARGIN_MM, tw=layout.width_mm - 2 * MARGIN_MM, sub=MARGIN_MM + 9.5,
        mx=mb.x, my=mb.y, mw=mb.w, mh=mb.h, fx=mb.x, fy=mb.y, fw=mb.w, fh=mb.h,
        nx=mb.x + mb.w - 17, ny=mb.y + 4, sx=mb.x + 4, sy=mb.y + mb.h - 17,
        px=pb.x, py=pb.y, pw=pb.w, ph=pb.h, columns="column-count: 2; column-gap: 5mm;" if pb.w >= 130 else "",
    )
    e = html.escape
    parts = [f'<div class="landgis-sheet"><div class="landgis-sheet-title">{e(info.title)}</div>']
    if info.subtitle:
        parts.append(f'<div class="landgis-sheet-subtitle">{e(info.subtitle)}</div>')
    parts.append('<div class="landgis-sheet-frame"></div>')
    c = view.corners
    corner_pos = {
        "nw": f"left:{mb.x}mm;top:{mb.y - 3.6}mm", "ne": f"left:{mb.x + mb.w}mm;top:{mb.y - 3.6}mm;transform:translateX(-100%)",
        "sw": f"left:{mb.x}mm;top:{mb.y + mb.h + 0.6}mm", "se": f"left:{mb.x + mb.w}mm;top:{mb.y + mb.h + 0.6}mm;transform:translateX(-100%)",
    }
    for k, pos in corner_pos.items():
        parts.append(f'<div class="landgis-sheet-corner landgis-sheet-corner-{k}" style="{pos}">{e(format_lonlat(*c[k]))}</div>')
    parts.append(f'<div class="landgis-sheet-north" title="指北针">{_north_svg()}</div>')
    parts.append(_scale_html(view.scale))
    parts.append('<div class="landgis-sheet-panel">')
    if legend is not None:
        parts.append(legend_html(legend))
    for title, header, rows in info.tables:
        head = "".join(f"<th>{e(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{e(str(v))}</td>" for v in row) + "</tr>" for row in rows)
        parts.append(f'<div class="landgis-sheet-block"><div class="landgis-sheet-block-title">{e(title)}</div><table><tr>{head}</tr>{body}</table></div>')
    meta = [
        f"比例尺：{scale_text(view.scale)}（纸张 {layout.paper}{'横向' if layout.landscape else '纵向'}，按原大打印）",
        "坐标系：2000 国家大地坐标系（CGCS2000，EPSG:4490），图廓角点为经纬度；显示投影为 Web 墨卡托。",
    ]
    meta += [f"数据来源：{s}" for s in info.sources]
    meta += info.notes
    meta += [f"制图单位：{info.producer}", f"制图日期：{info.date}"]
    parts.append('<div class="landgis-sheet-meta">' + "".join(
        f'<div class="{"landgis-sheet-schematic" if "示意" in line else ""}">{e(line)}</div>' for line in meta
    ) + "</div>")
    parts.append("</div></div>")
    return css, "".join(parts)


def apply_sheet(m: folium.Map, legend: LegendSpec | None, layout: SheetLayout, view: SheetView, info: SheetInfo, *, gcj02: bool = False) -> None:
    """Turn a built map into its print sheet: the frame at the sheet's view, the furniture around it.

    Sets `window.landgisSheet.ready` once the view is set and the basemap tiles (if any) have
    loaded, which is what the renderer waits for."""
    css, body = sheet_html(layout, view, info, legend)
    root = m.get_root()
    root.header.add_child(Element(f"<style>{css}</style>"), name="landgis_sheet_css")
    root.html.add_child(Element(body), name="landgis_sheet_body")
    lon, lat = view.center
    if gcj02:
        from gis.crs import wgs84_to_gcj02

        glon, glat = wgs84_to_gcj02(lon, lat)
        lon, lat = float(glon), float(glat)
    code = f"""
    (function () {{
        var map = MAP;
        window.landgisSheet = {{ready: false, scale: {view.scale}, zoom: {view.zoom!r}}};
        map.options.zoomSnap = 0;
        map.options.zoomAnimation = false;
        map.options.fadeAnimation = false;
        var target = [{lat!r}, {lon!r}], zoom = {view.zoom!r}, tries = 0, started = Date.now();
        // The builder's fitBounds starts its zoom animation on the next animation frame, and the
        // animation's end would undo our view: place the view after it, and check it held.
        function place() {{
            if (map._animatingZoom && tries++ < 200) return setTimeout(place, 30);
            map.invalidateSize(false);
            map.setView(target, zoom, {{animate: false, reset: true}});
            setTimeout(wait, 60);
        }}
        requestAnimationFrame(function () {{ requestAnimationFrame(place); }});
        function wait() {{
            if ((map._animatingZoom || Math.abs(map.getZoom() - zoom) > 1e-6) && tries++ < 200) return place();
            var pending = 0;
            map.eachLayer(function (l) {{ if (l instanceof L.TileLayer && l.isLoading && l.isLoading()) pending++; }});
            if (pending > 0 && Date.now() - started < 15000) return setTimeout(wait, 100);
            if (window.landgis && window.landgis.labels) window.landgis.labels.layout();
            fitPanel();
            window.landgisSheet.zoomSet = map.getZoom();
            requestAnimationFrame(function () {{ window.landgisSheet.ready = true; }});
        }}
        // The panel's text shrinks (down to 5 pt) until it all fits: nothing may be cut off.
        function fitPanel() {{
            var panel = document.querySelector(".landgis-sheet-panel");
            if (!panel) return;
            var size = parseFloat(getComputedStyle(panel).fontSize);
            function over() {{ return panel.scrollHeight > panel.clientHeight + 1 || panel.scrollWidth > panel.clientWidth + 1; }}
            while (over() && size > 6.7) {{
                size -= 0.25;
                panel.style.fontSize = size + "px";
                panel.querySelectorAll("table, .landgis-legend-note, .landgis-sheet-block-title, .landgis-legend-title").forEach(function (e) {{ e.style.fontSize = size + "px"; }});
            }}
            window.landgisSheet.panelFits = !over();
            window.landgisSheet.panelFontPx = size;
        }}
    }})();
    """
    _SheetScript(code).add_to(m)  # after every layer's script: the map and its layers exist


class _SheetScript(MacroElement):
    """The sheet's view script, rendered after the map's other children (`MAP`: the map's name)."""

    _template = Template("{% macro script(this, kwargs) %}{{ this.code }}{% endmacro %}")

    def __init__(self, code: str):
        super().__init__()
        self._name = "SheetScript"
        self.code = code

    def render(self, **kwargs):
        self.code = self.code.replace("var map = MAP;", f"var map = {self._parent.get_name()};")
        super().render(**kwargs)


def focus_style() -> dict:
    """The outline of the parcel a sheet is about (drawn over its own fill)."""
    return {"base": {"color": "#D50000", "weight": 4, "fill": False, "dashArray": None, "opacity": 1}}


def sheet_json(view: SheetView, layout: SheetLayout) -> str:
    """A small description of the sheet for logs and tests."""
    return json.dumps({"scale": view.scale, "zoom": view.zoom, "paper": layout.paper, "landscape": layout.landscape, "corners": view.corners}, ensure_ascii=False)
