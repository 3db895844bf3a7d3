"""JSON Schemas of a collection's features (SPEC §8.1), so clients type empty columns right.

Two documents, both built from the columns the caller may see (the access rule has already
removed restricted fields: they are not in `columns`), with Chinese titles and units:

- `feature_schema`: the schema of one GeoJSON Feature of the collection (`type`, `id`,
  `geometry`, `properties` with one entry per column). Linked `rel="describedby"`, type
  `application/schema+json`: GDAL's OAPIF driver (and so QGIS) fetches exactly that link and
  reads the field types from `properties.properties` — without it a column that is empty on the
  first page (the 标准地 `sl_*` indicators) arrives as String.
- `returnables_schema`: OGC API – Features Part 5 (Schemas) form: the feature's properties
  flat, the geometry marked `x-ogc-role: primary-geometry`, the id `x-ogc-role: id`, units as
  `x-ogc-unit`. Linked with the OGC schema rel.

Empty values: a property's `type` is one JSON type, not `[T, "null"]`: GDAL's schema reader
takes a one-word `type` only (a list makes the column String again, the very fault this
fixes). So a property may also be absent or null, which the schema says by not listing it in
`required` and with `x-nullable: true` (read by nothing but people); the GeoJSON the service
sends writes an empty value as `null`.
"""

from __future__ import annotations

from parcels import vocabulary
from parcels.schema import LAYERS

JSON_SCHEMA = "application/schema+json"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_REL = "http://www.opengis.net/def/rel/ogc/1.0/schema"
KIND_TYPES = {"INTEGER": "integer", "REAL": "number", "BOOLEAN": "boolean", "TEXT": "string"}
GEOMETRY_FORMATS = {
    "POINT": "geometry-point", "MULTIPOINT": "geometry-multipoint", "LINESTRING": "geometry-linestring",
    "MULTILINESTRING": "geometry-multilinestring", "POLYGON": "geometry-polygon", "MULTIPOLYGON": "geometry-multipolygon",
}
GEOJSON_GEOMETRY = {
    "POINT": "Point", "MULTIPOINT": "MultiPoint", "LINESTRING": "LineString", "MULTILINESTRING": "MultiLineString",
    "POLYGON": "Polygon", "MULTIPOLYGON": "MultiPolygon",
}


def layer_title(layer: str) -> str:
    spec = LAYERS.get(layer)
    return spec.title_zh if spec else layer


def property_schema(layer: str, column: str, kind: str) -> dict:
    """One column: its JSON type (from the store's column kind), Chinese title, unit, and `date`
    format for the schema's date fields (stored as ISO text)."""
    spec = LAYERS.get(layer)
    field = spec.field(column) if spec else None
    entry: dict = {"type": KIND_TYPES.get(kind, "string")}
    entry["title"] = field.label_zh if field else (vocabulary.label_with_unit(column) if vocabulary.known(column) else column)
    unit = field.unit if field else (vocabulary.unit(column) if vocabulary.known(column) else "")
    if unit:
        entry["x-ogc-unit"] = unit
    if field and field.dtype == "date" and entry["type"] == "string":
        entry["format"] = "date"
    if not (field and field.required):
        entry["x-nullable"] = True
    return entry


def _geometry_type(layer: str) -> str:
    spec = LAYERS.get(layer)
    return spec.geometry_type if spec else "GEOMETRY"


def feature_schema(layer: str, columns: dict[str, str], schema_id: str) -> dict:
    """The GeoJSON Feature of `layer` as the caller receives it (linked `describedby`).

    `properties.id` repeats the feature's `id` and is described there only: GDAL takes an `id`
    field from the first page and then every schema property, so listing it twice gave QGIS two
    `id` columns (GDAL 3.6). The object stays open (no `additionalProperties: false`)."""
    props = {c: property_schema(layer, c, k) for c, k in columns.items() if c != "id"}
    gtype = GEOJSON_GEOMETRY.get(_geometry_type(layer))
    geometry: dict = {"title": "几何（经纬度，CGCS2000 / CRS84 轴序）", "type": "object", "properties": {"type": {"type": "string"}, "coordinates": {"type": "array"}}}
    if gtype:
        geometry["properties"]["type"] = {"type": "string", "enum": [gtype]}
    required = [c for c in props if LAYERS.get(layer) and (f := LAYERS[layer].field(c)) is not None and f.required]
    return {
        "$schema": DRAFT,
        "$id": schema_id,
        "title": f"{layer_title(layer)}（GeoJSON 要素）",
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "string", "title": "要素编号"},
            "geometry": geometry,
            "properties": {"type": "object", "title": "属性", "required": required, "properties": props},
        },
    }


def returnables_schema(layer: str, columns: dict[str, str], schema_id: str) -> dict:
    """OGC API – Features Part 5 schema of `layer`'s features as the caller receives them."""
    props: dict = {"geometry": {"title": "几何", "format": GEOMETRY_FORMATS.get(_geometry_type(layer), "geometry-any"), "x-ogc-role": "primary-geometry"}}
    for c, k in columns.items():
        entry = property_schema(layer, c, k)
        if c == "id":
            entry["x-ogc-role"] = "id"
        props[c] = entry
    return {"$schema": DRAFT, "$id": schema_id, "title": layer_title(layer), "type": "object", "properties": props}
