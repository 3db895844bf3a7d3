"""四至 location texts → constraints → geometry (SPEC §3.3).

- `parse_location(text)` reads "信臣路以南、热电厂以西" into constraints (pure text, `parse.py`);
- `resolve_location(parsed, roads, landmarks, clip)` turns them into a candidate area against the
  `roads`/`landmarks` layers, with found/missing references and an ambiguity measure
  (`resolve.py`);
- `re_resolve_layer(parcels, roads, landmarks, clip)` refreshes the schematic geometries of a
  layer after real road data arrives, never touching surveyed or digitized ones (`layer.py`).

From a CLI command (`landgis resolve --text T`):

    from parcels.sizhi import parse_location, resolve_location
    parsed = parse_location(text)
    print(json.dumps(parsed.to_json(), ensure_ascii=False))            # constraints only
    res = resolve_location(parsed, roads, landmarks, clip=zone_union)  # EPSG:4490 inputs
    print(json.dumps(res.to_json(), ensure_ascii=False))               # + status, found, geometry…
"""

from parcels.sizhi.layer import REPORT_COLUMNS, re_resolve_layer
from parcels.sizhi.parse import Constraint, LocationTextError, ParsedLocation, normalize_text, parse_location
from parcels.sizhi.resolve import Resolution, Resolver, SizhiInputError, canonical_name, resolve_location

__all__ = [
    "Constraint",
    "LocationTextError",
    "ParsedLocation",
    "REPORT_COLUMNS",
    "Resolution",
    "Resolver",
    "SizhiInputError",
    "canonical_name",
    "normalize_text",
    "parse_location",
    "re_resolve_layer",
    "resolve_location",
]
