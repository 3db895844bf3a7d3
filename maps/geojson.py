"""Compact GeoJSON text for the browser: coordinate-rounded and, for large layers, simplified.

Why: folium's GeoJson writes full float precision and a style per feature; at 100 000 parcels
that is tens of MB. Six decimals of a degree are ~0.1 m (finer than any cadastral survey the
zone has), five are ~1 m (enough to draw); simplification is done in degrees at a tolerance
below a screen pixel at the zoom the large layer is first seen. Display only: areas are never
computed from this text (they come from gis.crs in EPSG:4546).
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.crs import wgs84_geoms_to_gcj02


def display_geometries(geoms, *, digits: int = 6, simplify_deg: float | None = None, gcj02: bool = False) -> np.ndarray:
    """Geometries ready to draw: GCJ-02-shifted for AMap, simplified, coordinates rounded."""
    g = np.asarray(geoms, dtype=object)
    if gcj02:
        # CGCS2000 and WGS 84 agree to well under a metre at map scale, so the WGS 84 → GCJ-02
        # offset applies directly to the stored EPSG:4490 coordinates.
        g = wgs84_geoms_to_gcj02(g)
    if simplify_deg:
        g = shapely.simplify(g, simplify_deg, preserve_topology=True)
    # np.round gives the double nearest to the rounded decimal, whose shortest repr (what GEOS
    # prints) is that decimal: "112.512345", never "112.51234500000001".
    return shapely.transform(g, lambda xy: np.round(xy, digits))


def feature_collection(gdf: gpd.GeoDataFrame, props: pd.DataFrame, *, digits: int = 6, simplify_deg: float | None = None, gcj02: bool = False) -> tuple[str, int]:
    """A GeoJSON FeatureCollection text (EPSG:4490 lon/lat, RFC 7946 axis order) and the number
    of features left out because they have no geometry (the caller says so in the legend)."""
    geoms = display_geometries(gdf.geometry.values, digits=digits, simplify_deg=simplify_deg, gcj02=gcj02)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    gtext = shapely.to_geojson(geoms[keep])
    records = props.loc[keep].to_dict("records") if len(props.columns) else [{}] * int(keep.sum())
    ptext = [json.dumps(r, ensure_ascii=False, allow_nan=False, separators=(",", ":")) for r in records]
    features = ",".join(f'{{"type":"Feature","properties":{p},"geometry":{g}}}' for p, g in zip(ptext, gtext))
    return f'{{"type":"FeatureCollection","features":[{features}]}}', int((~keep).sum())


def script_safe(text: str) -> str:
    """JSON text that can sit inside a <script> element (no '</script>' in a value)."""
    return text.replace("</", "<\\/")
