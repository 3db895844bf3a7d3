"""Folium elements of landgis maps, each wired to the local assets (never a CDN).

Why our own elements instead of folium.GeoJson/Search/VectorGridProtobuf: those link their
JavaScript from CDNs and render one style per feature in Python; ours link the vendored files
(maps/assets.py) and style in the browser from one small config (landgis-maps.js).
"""

from __future__ import annotations

import json

from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template

from maps.assets import asset_url


def _js(value) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False).replace("</", "<\\/")


class LandgisAssets(JSCSSMixin, MacroElement):
    """Links landgis' own JS/CSS (and, when asked, plugins) into the page header once."""

    _template = Template("")

    def __init__(self, prefix: str, keys: tuple[str, ...] = ("landgis", "landgis_css")):
        super().__init__()
        self._name = "LandgisAssets"
        self.default_js = [(k, asset_url(k, prefix)) for k in keys if not k.endswith("_css")]
        self.default_css = [(k, asset_url(k, prefix)) for k in keys if k.endswith("_css")]


class FeatureLayer(JSCSSMixin, Layer):
    """A GeoJSON overlay styled, popped-up and tooltipped by landgis.featureLayer()."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = landgis.featureLayer({{ this._parent.get_name() }}, {{ this.key_js }}, {{ this.data }}, {{ this.cfg_js }});
        {% endmacro %}
        """
    )

    def __init__(self, key: str, title: str, geojson_text: str, cfg: dict, *, prefix: str, show: bool = True):
        super().__init__(name=title, overlay=True, control=True, show=show)
        self._name = "FeatureLayer"
        self.key = key
        self.key_js = _js(key)
        self.data = geojson_text.replace("</", "<\\/")
        self.cfg_js = _js(cfg)
        self.default_js = [("landgis", asset_url("landgis", prefix))]
        self.default_css = [("landgis_css", asset_url("landgis_css", prefix))]


class VectorTileLayer(JSCSSMixin, Layer):
    """A large layer drawn from the API's Mapbox Vector Tiles (Leaflet.VectorGrid, vendored)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = landgis.vectorTileLayer({{ this._parent.get_name() }}, {{ this.key_js }}, {{ this.url_js }}, {{ this.cfg_js }});
        {% endmacro %}
        """
    )

    def __init__(self, key: str, title: str, url: str, cfg: dict, *, prefix: str, show: bool = True):
        super().__init__(name=title, overlay=True, control=True, show=show)
        self._name = "VectorTileLayer"
        self.key_js = _js(key)
        self.url_js = _js(url)
        self.cfg_js = _js(cfg)
        self.default_js = [("vectorgrid", asset_url("vectorgrid", prefix)), ("landgis", asset_url("landgis", prefix))]


class SearchControl(JSCSSMixin, MacroElement):
    """Search by name (leaflet-search, vendored) over one FeatureLayer."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            landgis.searchControl({{ this._parent.get_name() }}, {{ this.layer.get_name() }}, {{ this.field_js }}, {{ this.placeholder_js }});
        {% endmacro %}
        """
    )

    def __init__(self, layer: FeatureLayer, field: str, placeholder: str, *, prefix: str):
        super().__init__()
        self._name = "SearchControl"
        self.layer = layer
        self.field_js = _js(field)
        self.placeholder_js = _js(placeholder)
        self.default_js = [("search", asset_url("search", prefix))]
        self.default_css = [("search_css", asset_url("search_css", prefix))]


class TiledSearchControl(JSCSSMixin, MacroElement):
    """Search by name on a VectorTileLayer: the page holds no features to search, so the control
    (leaflet-search, vendored) asks the API's items endpoint with a CQL2 LIKE filter."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            landgis.tiledSearchControl({{ this._parent.get_name() }}, {{ this.layer.get_name() }}, {{ this.field_js }}, {{ this.placeholder_js }});
        {% endmacro %}
        """
    )

    def __init__(self, layer: VectorTileLayer, field: str, placeholder: str, *, prefix: str):
        super().__init__()
        self._name = "TiledSearchControl"
        self.layer = layer
        self.field_js = _js(field)
        self.placeholder_js = _js(placeholder)
        self.default_js = [("search", asset_url("search", prefix)), ("landgis", asset_url("landgis", prefix))]
        self.default_css = [("search_css", asset_url("search_css", prefix))]


class MetricScale(MacroElement):
    """Scale bar in metres only (officials work in 米/千米, not miles)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            L.control.scale({imperial: false, metric: true, position: "bottomleft"}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )


class EmptyBaseLayer(Layer):
    """The 'no basemap' choice of the layer control (the offline default)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.layerGroup();
        {% endmacro %}
        """
    )

    def __init__(self, name: str, show: bool = True):
        super().__init__(name=name, overlay=False, control=True, show=show)
        self._name = "EmptyBaseLayer"


class MapTitle(MacroElement):
    """The map's title in a box at the top centre-left."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            (function () {
                var ctl = L.control({position: "topright"});
                ctl.onAdd = function () {
                    var d = L.DomUtil.create("div", "landgis-maptitle leaflet-control");
                    d.textContent = {{ this.title_js }};
                    return d;
                };
                ctl.addTo({{ this._parent.get_name() }});
            })();
        {% endmacro %}
        """
    )

    def __init__(self, title: str):
        super().__init__()
        self._name = "MapTitle"
        self.title_js = _js(title)


class BasemapLayer(Layer):
    """One choice of the basemap switcher: its tiles and, for 天地图, its 注记 drawn with them
    (one Leaflet layer group, so switching away removes both). Built in the browser by
    landgis.basemapLayer, which also applies a bureau service's `offset_m`."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = landgis.basemapLayer({{ this._parent.get_name() }}, {{ this.cfg_js }});
        {% endmacro %}
        """
    )

    def __init__(self, cfg: dict, *, show: bool = False):
        super().__init__(name=cfg["title"], overlay=False, control=True, show=show)
        self._name = "BasemapLayer"
        self.cfg_js = _js(cfg)


class LabelLayer(Layer):
    """注记: road names along the lines, park names, reserve parcel 序号/名称 — one overlay in the
    layer control. Laid out in the browser (landgis.labelLayer) at every zoom: a label is shown
    only where it fits (a road label on a stretch of line at least as long as the text, a parcel's
    full label only when the parcel is about as wide as the text, else its 序号) and never over
    another label (higher priority first), so the map stays readable at any zoom."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = landgis.labelLayer({{ this._parent.get_name() }}, {{ this.cfg_js }});
        {% endmacro %}
        """
    )

    def __init__(self, title: str = "注记（道路名、园区名、地块编号）", cfg: dict | None = None, *, show: bool = True):
        super().__init__(name=title, overlay=True, control=True, show=show)
        self._name = "LabelLayer"
        self.cfg_js = _js(cfg or {})


class BasemapNote(MacroElement):
    """A small line under the layer control: the GCJ-02 alternative of this page (a link on a
    served page), or on a GCJ-02 page the way back; see maps/basemaps.py for why."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            landgis.basemapNote({{ this._parent.get_name() }}, {{ this.cfg_js }});
        {% endmacro %}
        """
    )

    def __init__(self, cfg: dict):
        super().__init__()
        self._name = "BasemapNote"
        self.cfg_js = _js(cfg)
