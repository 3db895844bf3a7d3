"""A served map of one PMTiles pack (`landgis tiles`): the field-laptop map (SPEC §8.2, §9).

Same page as the other maps (maps/base.py: vendored Leaflet, controls, legend, offline basemap),
with the layer drawn by `landgis.packLayer` (maps/assets/landgis-packs.js): tiles come out of the
pack by HTTP range requests, so a laptop running `landgis serve` with LANDGIS_TILE_PACKS shows the
layer with no store query per tile and no internet. Pure builder: the router passes what the
pack's metadata says.
"""

from __future__ import annotations

from dataclasses import dataclass

from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template

from maps.assets import ASSET_DIR, FETCH_HINT, STATIC_PREFIX, MapAssetsMissing
from maps.elements import _js

PMTILES_JS = "vendor/pmtiles/dist/pmtiles.js"
"""The `pmtiles` npm package (BSD-3-Clause), pinned in scripts/fetch-map-assets.sh."""
PACKS_JS = "landgis-packs.js"
PACK_STYLE = {"base": {"color": "#1565C0", "weight": 2, "fillColor": "#64B5F6", "fillOpacity": 0.45, "opacity": 1}}


@dataclass(frozen=True)
class PackInfo:
    name: str  # file name, e.g. reserve.pmtiles
    url: str  # where the page reads it, e.g. /tile-packs/reserve.pmtiles
    layer: str  # the MVT layer inside (the collection id)
    title: str
    columns: list[str]
    bounds: tuple[float, float, float, float]
    minzoom: int
    maxzoom: int
    restricted: bool


class PackLayer(JSCSSMixin, Layer):
    """A layer drawn from a PMTiles pack by landgis.packLayer()."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = landgis.packLayer({{ this._parent.get_name() }}, {{ this.key_js }}, {{ this.url_js }}, {{ this.cfg_js }});
            {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, key: str, title: str, url: str, cfg: dict, *, prefix: str):
        super().__init__(name=title, overlay=True, control=True, show=True)
        self._name = "PackLayer"
        self.key_js, self.url_js, self.cfg_js = _js(key), _js(url), _js(cfg)
        self.default_js = [
            ("vectorgrid", f"{prefix}/vendor/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js"),
            ("pmtiles", f"{prefix}/{PMTILES_JS}"),
            ("landgis_packs", f"{prefix}/{PACKS_JS}"),
        ]


def pack_map_html(pack: PackInfo, *, prefix: str = STATIC_PREFIX) -> str:
    """The served page of one pack (Chinese legend and notes)."""
    from maps.base import finish_map, new_map, render_html
    from maps.legend import LegendItem, LegendSection, LegendSpec
    from maps.popups import popup_for_layer

    if not (ASSET_DIR / PMTILES_JS).is_file():
        raise MapAssetsMissing(f"地图前端资源缺失：{PMTILES_JS}。{FETCH_HINT}")
    m, ctx = new_map(f"{pack.title}（瓦片包 {pack.name}）", mode="served", prefix=prefix)
    cfg = dict(PACK_STYLE)
    cfg.update(sourceLayer=pack.layer, minZoom=pack.minzoom + 1, maxNativeZoom=pack.maxzoom + 1, popup=popup_for_layer(pack.layer, pack.columns).to_js())
    if "name" in pack.columns:
        cfg["tooltip"] = "name"
    PackLayer(pack.layer, pack.title, pack.url, cfg, prefix=ctx.prefix).add_to(m)
    w, s, e, n = pack.bounds
    ctx.bounds = (w, s, e, n)
    legend = LegendSpec(title=pack.title, sections=[LegendSection("图层", [LegendItem(pack.title, fill=PACK_STYLE["base"]["fillColor"], stroke=PACK_STYLE["base"]["color"])])])
    legend.notes.append(f"数据来自瓦片包 {pack.name}（{pack.minzoom}–{pack.maxzoom} 级），离线可用；包内数据为打包时的状态。")
    if pack.restricted:
        legend.notes.append("内部资料：瓦片包含仅分析人员可见的数据，请勿外传。")
    finish_map(m, ctx, legend)
    return render_html(m, ctx)
