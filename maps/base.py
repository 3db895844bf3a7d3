"""The map factory shared by every landgis map: basemaps, offline assets, controls, layers, output.

Why one factory: each map (parcels, efficiency, standard-land, expansion) differs only in its
layers, styles and legend; everything an official relies on (Chinese controls, measure in 亩,
search, scale, fullscreen, layer control, the offline default, AMap's GCJ-02 correction, the
large-layer switch, the self-contained save) is set up here once.

Two output modes:
- ``served``: the page links the vendored JS/CSS under ``/static/maps`` (cached by the browser)
  and draws layers above ``large_threshold`` features from the API's vector tiles;
- ``saved``: one self-contained HTML file (assets inlined, no CDN), large layers as simplified,
  coordinate-rounded GeoJSON drawn on a canvas.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import folium
import geopandas as gpd
import numpy as np
from branca.element import Element, MacroElement
from folium.plugins import Fullscreen, MeasureControl
from folium.template import Template

from maps.assets import STATIC_PREFIX, asset_url, check_assets, inline_assets
from maps.basemaps import Basemap, choose_basemaps
from maps.elements import BasemapLayer, BasemapNote, EmptyBaseLayer, LabelLayer, FeatureLayer, LandgisAssets, MapTitle, MetricScale, SearchControl, TiledSearchControl, VectorTileLayer
from maps.errors import MapInputError
from maps.geojson import feature_collection
from maps.labels import LabelSpec, label_columns
from maps.legend import Legend, LegendSpec
from maps.popups import PopupConfig, json_safe_frame, translate_geometry_source
from maps.summary import LayerSummary

# Nanyang High-tech Zone, for an empty map (lon/lat of the zone's centre, roughly).
ZONE_CENTER = (32.99, 112.47)  # (lat, lon) as Leaflet wants it
LARGE_THRESHOLD = 5000
"""Above this many features a layer is drawn from vector tiles (served) or simplified (saved)."""
MU_PER_M2 = 15 / 10000  # 1 亩 = 10000/15 m²



@dataclass(frozen=True)
class PageOptions:
    """How a map page is made, the same for every builder: basemap and the bureau's own
    basemaps, saved file or served page, where assets and the API live, when a layer switches to
    tiles, and the roads drawn for orientation. Callers build one (services/maps.py); builders
    hand it to `open_page` and read only `roads`."""

    basemap: str | None = "none"
    tianditu_key: str | None = None
    mode: str = "saved"
    prefix: str | None = None
    api_root: str = ""
    large_threshold: int | None = None
    roads: gpd.GeoDataFrame | None = None
    basemaps: tuple = ()


@dataclass
class MapContext:
    """What the builders need to know about the map being made."""

    title: str
    basemap: Basemap
    mode: str = "saved"  # "saved" | "served"
    prefix: str = STATIC_PREFIX  # where the assets are linked from (served) / inlined from (saved)
    api_root: str = ""  # root of the API for vector-tile URLs (served mode)
    large_threshold: int = LARGE_THRESHOLD
    bounds: list[float] | None = None  # [minx, miny, maxx, maxy] of everything drawn
    notes: list[str] = field(default_factory=list)
    layers: dict[str, dict] = field(default_factory=dict)  # key → {"mode", "count"}
    tile_view: tuple[float, float, int] | None = None  # (lat, lon, zoom) to open a tiled map at
    labelled: bool = False  # some layer carries labels (maps/labels.py): finish_map adds the 注记 overlay
    legend: LegendSpec | None = None  # kept by finish_map, for a print sheet (maps/sheet.py)

    @property
    def gcj02(self) -> bool:
        return self.basemap.gcj02


class _Script(MacroElement):
    """A few lines of JavaScript run against the map (`MAP` is replaced by the map's name)."""

    _template = Template("{% macro script(this, kwargs) %}{{ this.code }}{% endmacro %}")

    def __init__(self, code: str):
        super().__init__()
        self._name = "Script"
        self.code = code

    def render(self, **kwargs):
        self.code = self.code.replace("MAP", self._parent.get_name())
        super().render(**kwargs)


def open_page(title: str, page: PageOptions) -> tuple[folium.Map, MapContext]:
    """`new_map` with a builder's `PageOptions` (unset prefix and threshold keep their defaults)."""
    kwargs = {k: v for k, v in {"prefix": page.prefix, "large_threshold": page.large_threshold}.items() if v is not None}
    return new_map(title, basemap=page.basemap, tianditu_key=page.tianditu_key, mode=page.mode, api_root=page.api_root, basemaps=page.basemaps, **kwargs)


def new_map(title: str, *, basemap: str | None = "none", tianditu_key: str | None = None, mode: str = "saved", prefix: str = STATIC_PREFIX, api_root: str = "", large_threshold: int = LARGE_THRESHOLD, basemaps: tuple[Basemap, ...] | list[Basemap] = ()) -> tuple[folium.Map, MapContext]:
    """An empty landgis map with its basemap switcher (`basemaps`: the bureau's own, maps/basemaps.py)
    and every control, and its context."""
    if mode not in ("saved", "served"):
        raise MapInputError(f"地图输出方式“{mode}”无效：只能是 saved 或 served。")
    check_assets()
    # A saved file with the offline default offers no internet basemap (maps/basemaps.py).
    choice = choose_basemaps(basemap, tianditu_key, tuple(basemaps), internet=mode == "served" or (basemap or "none").strip().lower() != "none")
    bm = choice.initial
    ctx = MapContext(title=title, basemap=bm, mode=mode, prefix=prefix.rstrip("/"), api_root=api_root.rstrip("/"), large_threshold=large_threshold)
    m = folium.Map(location=ZONE_CENTER, zoom_start=13, tiles=None, control_scale=False, zoom_control=False, max_zoom=19)
    m.default_js = [("leaflet", asset_url("leaflet", ctx.prefix))]
    m.default_css = [("leaflet_css", asset_url("leaflet_css", ctx.prefix))]
    m.get_root().title = title
    # No favicon request: the browser's automatic /favicon.ico is a 404 on landgis and a console
    # error on every map (and a saved file opened from disk would ask the file system for one).
    m.get_root().header.add_child(Element('<link rel="icon" href="data:,">'), name="landgis_favicon")
    LandgisAssets(ctx.prefix).add_to(m)

    for b in choice.offered:
        if b.url is None:
            EmptyBaseLayer(b.title, show=bm.key == "none").add_to(m)
        else:
            BasemapLayer(b.to_js(tianditu_key), show=b.key == bm.key).add_to(m)
    _Script('landgis.watchBasemap(MAP);').add_to(m)
    if bm.gcj02:
        BasemapNote({"text": "本页数据已偏移至 GCJ-02 坐标，只能叠加 GCJ-02 底图；其他底图请打开", "link": "basemap=none", "linkText": "CGCS2000 版本", "served": mode == "served"}).add_to(m)
    elif choice.gcj02_alternative is not None and (mode == "served" or bm.key != "none"):
        alt = choice.gcj02_alternative
        BasemapNote({"text": f"{alt.title}需将数据偏移至 GCJ-02，请打开", "link": f"basemap={alt.key}", "linkText": "高德版本", "served": mode == "served"}).add_to(m)

    _Script('L.control.zoom({position: "topleft", zoomInTitle: "放大", zoomOutTitle: "缩小"}).addTo(MAP);').add_to(m)
    fs = Fullscreen(position="topleft", title="全屏", title_cancel="退出全屏")
    fs.default_js = [("fullscreen", asset_url("fullscreen", ctx.prefix))]
    fs.default_css = [("fullscreen_css", asset_url("fullscreen_css", ctx.prefix))]
    fs.add_to(m)
    measure = MeasureControl(
        position="topleft",
        primary_length_unit="meters",
        secondary_length_unit="kilometers",
        primary_area_unit="sqmeters",
        secondary_area_unit="mu",
        localization="cn",
        units={"mu": {"factor": MU_PER_M2, "display": "亩", "decimals": 2}},
    )
    measure.default_js = [("measure", asset_url("measure", ctx.prefix))]
    measure.default_css = [("measure_css", asset_url("measure_css", ctx.prefix))]
    measure.add_to(m)
    MetricScale().add_to(m)
    MapTitle(title).add_to(m)
    return m, ctx


def _extend_bounds(ctx: MapContext, gdf: gpd.GeoDataFrame | LayerSummary) -> None:
    if isinstance(gdf, LayerSummary):
        if gdf.bounds is None:
            return
        b = [float(v) for v in gdf.bounds]
    else:
        if gdf.empty or gdf.geometry.isna().all():
            return
        b = [float(v) for v in gdf.total_bounds]
    if not np.all(np.isfinite(b)):
        return
    ctx.bounds = b if ctx.bounds is None else [min(ctx.bounds[0], b[0]), min(ctx.bounds[1], b[1]), max(ctx.bounds[2], b[2]), max(ctx.bounds[3], b[3])]


def tiles_apply(ctx: MapContext, count: int, collection: str | None) -> bool:
    """Whether a layer of `count` features is drawn from the API's vector tiles on this map."""
    return count > ctx.large_threshold and ctx.mode == "served" and bool(collection) and not ctx.gcj02


def add_layer(
    m: folium.Map,
    ctx: MapContext,
    gdf: gpd.GeoDataFrame | LayerSummary,
    *,
    key: str,
    title: str,
    style: dict,
    popup: PopupConfig | None = None,
    tooltip: str | None = None,
    search: str | None = None,
    collection: str | None = None,
    show: bool = True,
    radius: int | None = None,
    label: LabelSpec | None = None,
) -> FeatureLayer | VectorTileLayer:
    """Draw one layer. `style` is the landgis.styleOf config: {base, fillBy, fills|breaks+colors,
    strokeBy, strokes, missingColor}. `collection`: the store layer behind it, for vector tiles.
    `gdf` may be a LayerSummary (maps/summary.py) when the layer is drawn from tiles.
    `label`: what the 注记 overlay writes for each feature (maps/labels.py); not on tiled layers
    (a tile holds no label text, and 5 000+ labels would be clutter at any zoom).
    """
    summary = isinstance(gdf, LayerSummary)
    if summary and not tiles_apply(ctx, len(gdf), collection):
        raise ValueError(f"layer {key}: a LayerSummary can only be drawn from vector tiles (served map, > {ctx.large_threshold} features, no GCJ-02)")
    if not summary and gdf.crs is not None and gdf.crs.to_epsg() not in (4490, 4326):
        gdf = gdf.to_crs(4490)
    n = len(gdf)
    large = n > ctx.large_threshold
    _extend_bounds(ctx, gdf)
    cfg = dict(style)
    if popup is not None:
        cfg["popup"] = popup.to_js()
    if tooltip:
        cfg["tooltip"] = tooltip
    if radius:
        cfg["radius"] = radius
    if tiles_apply(ctx, n, collection):
        # The API's MVT endpoint (SPEC §8.2), relative to the server that serves this page.
        cfg["count"] = n
        cfg["sourceLayer"] = collection  # the API names each MVT layer after its collection
        bounds = gdf.bounds if summary else tuple(float(v) for v in gdf.total_bounds)
        zoom = detail_zoom(bounds, n)
        cfg["minZoom"] = zoom - 1
        ctx.notes.append(f"{title}共 {n:,} 个要素，以矢量瓦片显示：请放大至第 {zoom - 1} 级及以上查看地块。")
        if ctx.tile_view is None and bounds is not None:
            minx, miny, maxx, maxy = bounds
            ctx.tile_view = ((miny + maxy) / 2, (minx + maxx) / 2, zoom)
        # Tiles carry only what drawing needs (id + style fields); the popup fetches the clicked
        # feature from the items endpoint. Encoding all columns cost ~1.5x as much per tile.
        url = f"{ctx.api_root}/collections/{collection}/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}"
        tile_props = tile_properties(list(gdf.columns), style, tooltip)
        if tile_props:
            url += "?properties=" + ",".join(tile_props)
        cfg["itemsUrl"] = f"{ctx.api_root}/collections/{collection}/items/"
        layer = VectorTileLayer(key, title, url, cfg, prefix=ctx.prefix, show=show)
        layer.add_to(m)
        ctx.layers[key] = {"mode": "tiles", "count": n}
        if search and search in gdf.columns:
            # No features in the page: the control asks the items endpoint (CQL2 LIKE on `search`).
            TiledSearchControl(layer, search, f"按{_search_label(popup, search)}搜索…", prefix=ctx.prefix).add_to(m)
        return layer
    search_field = search
    wanted: list[str] = []
    for col in (popup.names if popup else []) + [style.get("fillBy"), style.get("strokeBy"), tooltip, search, popup.title_field if popup else None]:
        if col and col in gdf.columns and col not in wanted:
            wanted.append(col)
    props = json_safe_frame(translate_geometry_source(gdf), wanted)
    if label is not None:
        props = label_columns(gdf, props, label, gcj02=ctx.gcj02)
        cfg["label"] = label.to_js()
        ctx.labelled = True
    if search and search in props.columns and "id" in gdf.columns:
        # Table 2 repeats names (two 王庄区域工业储备地): search on "name（id）" so each is found.
        props["_search"] = [f"{n}（{i}）" if n is not None else str(i) for n, i in zip(props[search], gdf["id"].astype(str))]
        search = "_search"
    if large:
        cfg["canvas"] = True
        text, skipped = feature_collection(gdf, props, digits=5, simplify_deg=1e-5, gcj02=ctx.gcj02)
    else:
        text, skipped = feature_collection(gdf, props, digits=6, gcj02=ctx.gcj02)
    if skipped:
        ctx.notes.append(f"{title}：{skipped} 个要素没有几何，未绘制（属性仍在数据中）。")
    layer = FeatureLayer(key, title, text, cfg, prefix=ctx.prefix, show=show)
    layer.add_to(m)
    ctx.layers[key] = {"mode": "simplified" if large else "geojson", "count": n - skipped}
    if search and not large:
        SearchControl(layer, search, f"按{_search_label(popup, search_field)}搜索…", prefix=ctx.prefix).add_to(m)
    return layer


def tile_properties(columns: list[str], style: dict, tooltip: str | None = None) -> list[str]:
    """The columns a vector-tile layer needs in its tiles: `id` (to fetch the popup's feature)
    and the fields its style and tooltip read; only those present in the layer."""
    out: list[str] = []
    for col in ("id", style.get("fillBy"), style.get("strokeBy"), tooltip):
        if col and col in columns and col not in out:
            out.append(col)
    return out


VIEW_PX = (1280, 800)
FEATURES_PER_VIEW = 1500
"""A tiled layer opens at the zoom where a screen holds about this many features: enough to read
the pattern, few enough that the first tiles arrive and draw in well under two seconds."""


def detail_zoom(bounds: tuple[float, float, float, float] | None, count: int, per_view: int = FEATURES_PER_VIEW) -> int:
    """Smallest Web Mercator zoom at which a 1280×800 view holds ≤ per_view of `count` features
    spread uniformly over lon/lat `bounds`."""
    if bounds is None or count <= 0:
        return 13
    minx, miny, maxx, maxy = bounds
    lat = np.radians((miny + maxy) / 2)
    span_x = max(maxx - minx, 1e-6) * 111_320 * np.cos(lat)
    span_y = max(maxy - miny, 1e-6) * 110_574
    per_m2 = count / (span_x * span_y)
    for z in range(8, 19):
        res = 156_543.034 * np.cos(lat) / 2**z  # metres per pixel
        if per_m2 * VIEW_PX[0] * VIEW_PX[1] * res * res <= per_view:
            return z
    return 18


def _search_label(popup: PopupConfig | None, field_name: str) -> str:
    for f in popup.fields if popup else ():
        if f.name == field_name:
            return re.sub(r"[(（].*$", "", f.label)
    return "名称"


def finish_map(m: folium.Map, ctx: MapContext, legend: LegendSpec) -> folium.Map:
    """Legend (with the context's notes), layer control and the initial view."""
    if ctx.gcj02:
        legend.notes.append("底图为高德地图（GCJ-02 坐标），图上要素已做 GCJ-02 偏移以与底图套合；测量与导出仍以 CGCS2000 为准。")
    legend.notes.extend(ctx.notes)
    ctx.legend = legend
    Legend(legend).add_to(m)
    if ctx.labelled:
        LabelLayer().add_to(m)
    folium.LayerControl(position="topright", collapsed=False).add_to(m)
    if ctx.tile_view is not None:
        lat, lon, zoom = ctx.tile_view
        m.location, m.options["zoom"] = [float(lat), float(lon)], int(zoom)
    elif ctx.bounds is not None:
        minx, miny, maxx, maxy = ctx.bounds
        if ctx.gcj02:
            from gis.crs import wgs84_to_gcj02

            (minx, maxx), (miny, maxy) = wgs84_to_gcj02(np.array([minx, maxx]), np.array([miny, maxy]))
        m.fit_bounds([[float(miny), float(minx)], [float(maxy), float(maxx)]], padding=(20, 20))
    return m


_EXTERNAL = re.compile(r"""<(?:script|link|img)\b[^>]*\b(?:src|href)\s*=\s*["'](?:https?:)?//""", re.I)


def render_html(m: folium.Map, ctx: MapContext) -> str:
    """The page: linked assets (served) or one self-contained file (saved). Refuses any CDN link."""
    html = m.get_root().render()
    if ctx.mode == "saved":
        html = inline_assets(html, ctx.prefix)
    bad = _EXTERNAL.search(html)
    if bad:
        raise RuntimeError(f"地图页面引用了外部资源：{bad.group(0)}……（离线地图不得从 CDN 加载）")
    return html
