"""OGC API – Tiles metadata and TileJSON 3.0 for the vector tiles (SPEC §8.2): pure builders.

A web map finds the tiles through these documents instead of a hand-written URL:
`/tileMatrixSets` → `/tileMatrixSets/WebMercatorQuad` (morecantile's definition of the OGC
2D-TMS), `/collections/{id}/tiles` (the tileset list) → `/collections/{id}/tiles/WebMercatorQuad`
(tileset metadata: a templated link `rel="item"` to the tiles, as OGC API – Tiles Part 1 names
it; on a collection `item` would mean a feature, so the collection links the tileset list with
the `tilesets-vector` rel instead) and TileJSON 3.0 (`…/tilejson.json`), which MapLibre GL JS,
OpenLayers and Leaflet plugins read directly.

The tile path keeps the service's order `{z}/{x}/{y}` (tileMatrix/tileCol/tileRow), which the
landgis maps use; every template names its variables, so a client following it asks for the
right tile.

Fields: the columns the caller may see (the access rule has removed restricted ones); they are
the attributes each tile carries by default.
"""

from __future__ import annotations

import morecantile

from api.ogc.schema import KIND_TYPES, property_schema

TMS_ID = "WebMercatorQuad"
TMS = morecantile.tms.get(TMS_ID)
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
CRS_3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
MVT = "application/vnd.mapbox-vector-tile"
JSON = "application/json"
REL_TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
REL_TILING_SCHEMES = "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"
REL_TILESETS_VECTOR = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
MIN_ZOOM = 0
MAX_ZOOM = 18
"""Zooms the tilesets advertise: at z18 a tile is ≈150 m wide, finer than any parcel boundary a
map needs; clients over-zoom beyond it (the route itself answers up to gis.tiles.MAX_ZOOM)."""
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
]
TILEJSON_TYPES = {"number": "Number", "integer": "Number", "boolean": "Boolean", "string": "String"}


def tile_template(base: str, layer: str) -> str:
    return f"{base}/collections/{layer}/tiles/{TMS_ID}/{{z}}/{{x}}/{{y}}"


def tile_matrix_sets(base: str) -> dict:
    return {
        "tileMatrixSets": [
            {"id": TMS_ID, "title": TMS.title, "uri": TMS_URI, "crs": CRS_3857, "links": [{"href": f"{base}/tileMatrixSets/{TMS_ID}", "rel": REL_TILING_SCHEME, "type": JSON, "title": "瓦片矩阵集 WebMercatorQuad 的定义"}]}
        ],
        "links": [{"href": f"{base}/tileMatrixSets", "rel": "self", "type": JSON, "title": "瓦片矩阵集列表"}],
    }


def tile_matrix_set(base: str) -> dict:
    """The OGC 2D Tile Matrix Set definition of WebMercatorQuad, as morecantile holds it."""
    doc = TMS.model_dump(mode="json", exclude_none=True)
    doc["links"] = [{"href": f"{base}/tileMatrixSets/{TMS_ID}", "rel": "self", "type": JSON, "title": TMS.title}]
    return doc


def _tileset_links(base: str, layer: str) -> list[dict]:
    return [
        {"href": f"{base}/collections/{layer}/tiles/{TMS_ID}", "rel": "self", "type": JSON, "title": "瓦片集元数据"},
        {"href": f"{base}/tileMatrixSets/{TMS_ID}", "rel": REL_TILING_SCHEME, "type": JSON, "title": "瓦片矩阵集 WebMercatorQuad"},
        {"href": f"{base}/collections/{layer}/tiles/{TMS_ID}/tilejson.json", "rel": "alternate", "type": JSON, "title": "TileJSON 3.0"},
        {"href": f"{base}/collections/{layer}", "rel": "collection", "type": JSON, "title": "图层"},
    ]


def tilesets(base: str, layer: str, title: str) -> dict:
    """The tileset list of a collection: one vector tileset on WebMercatorQuad."""
    return {
        "tilesets": [{"title": f"{title}（矢量瓦片）", "dataType": "vector", "crs": CRS_3857, "tileMatrixSetURI": TMS_URI, "links": _tileset_links(base, layer)}],
        "links": [{"href": f"{base}/collections/{layer}/tiles", "rel": "self", "type": JSON, "title": "瓦片集列表"}],
    }


def _limits() -> list[dict]:
    return [{"tileMatrix": str(z), "minTileRow": 0, "maxTileRow": (1 << z) - 1, "minTileCol": 0, "maxTileCol": (1 << z) - 1} for z in range(MIN_ZOOM, MAX_ZOOM + 1)]


def tileset(base: str, layer: str, title: str, columns: dict[str, str], extent: tuple[float, float, float, float] | None) -> dict:
    """Tileset metadata (OGC API – Tiles Part 1 `tileset`): the tile template, the layer and its fields."""
    props = {c: property_schema(layer, c, k) for c, k in columns.items()}
    doc = {
        "title": f"{title}（矢量瓦片）",
        "dataType": "vector",
        "crs": CRS_3857,
        "tileMatrixSetURI": TMS_URI,
        "tileMatrixSetLimits": _limits(),
        "links": _tileset_links(base, layer) + [{"href": tile_template(base, layer).replace("{z}/{x}/{y}", "{tileMatrix}/{tileCol}/{tileRow}"), "rel": "item", "type": MVT, "title": "矢量瓦片（Mapbox Vector Tile）", "templated": True}],
        "layers": [{"id": layer, "title": title, "dataType": "vector", "minTileMatrix": str(MIN_ZOOM), "maxTileMatrix": str(MAX_ZOOM), "propertiesSchema": {"type": "object", "properties": props}}],
    }
    if extent is not None:
        doc["boundingBox"] = {"lowerLeft": [extent[0], extent[1]], "upperRight": [extent[2], extent[3]], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}
    return doc


def tilejson(base: str, layer: str, title: str, columns: dict[str, str], extent: tuple[float, float, float, float] | None) -> dict:
    """TileJSON 3.0.0 of the layer: MapLibre's `{"type": "vector", "url": …}` source reads it."""
    fields = {}
    for c, k in columns.items():
        entry = property_schema(layer, c, k)
        fields[c] = f"{entry['title']} ({TILEJSON_TYPES[KIND_TYPES.get(k, 'string')]})"
    doc = {
        "tilejson": "3.0.0",
        "name": title,
        "description": f"{title}：南阳高新区 landgis 矢量瓦片（WebMercatorQuad，Mapbox Vector Tile；图层名 = 集合编号 {layer}）",
        "attribution": "南阳高新区 landgis",
        "scheme": "xyz",
        "tiles": [tile_template(base, layer)],
        "minzoom": MIN_ZOOM,
        "maxzoom": MAX_ZOOM,
        "vector_layers": [{"id": layer, "description": title, "minzoom": MIN_ZOOM, "maxzoom": MAX_ZOOM, "fields": fields}],
    }
    if extent is not None:
        x0, y0, x1, y1 = (float(v) for v in extent)
        doc["bounds"] = [x0, y0, x1, y1]
        doc["center"] = [round((x0 + x1) / 2, 6), round((y0 + y1) / 2, 6), 12]
    return doc
