"""Map labels (注记): what each labelled layer writes, and where an area's label sits.

Why computed here and laid out in the browser: which labels fit depends on the zoom the
official is looking at, so the placement (along a road, inside a parcel, no overlaps) runs in
landgis-maps.js on every zoom; the page only carries each feature's text, a short form for
when the full one does not fit, and for areas a point inside the shape (shapely's
point_on_surface: an L-shaped parcel's centroid can lie outside it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely


@dataclass(frozen=True)
class LabelSpec:
    text: str  # column with the full label
    kind: str = "area"  # "area" (inside the shape) | "line" (along the line, rotated)
    short: str | None = None  # column with the short label (e.g. the parcel's 序号)
    priority: int = 1  # higher first: a lower-priority label never covers it
    cls: str = ""  # CSS class suffix: landgis-label-<cls>
    min_zoom: float = 0  # shown only from this zoom up
    emphasis: str | None = None  # boolean column: emphasised labels (e.g. a parcel's 四至 roads)

    def to_js(self) -> dict:
        return {"kind": self.kind, "priority": self.priority, "cls": self.cls, "minZoom": self.min_zoom}


def label_columns(gdf, props: pd.DataFrame, spec: LabelSpec, *, gcj02: bool = False) -> pd.DataFrame:
    """`props` with `_lt` (text), `_ls` (short text), `_le` (emphasis) and, for areas, `_lp`
    ([lon, lat] inside the shape, GCJ-02-shifted like the geometry when the page is)."""
    out = props.copy()

    def text(col: str | None) -> list:
        if not col or col not in gdf.columns:
            return [None] * len(gdf)
        return [None if v is None or (isinstance(v, float) and not np.isfinite(v)) or str(v).strip() in ("", "nan", "None") else str(v) for v in gdf[col]]

    out["_lt"] = pd.Series(text(spec.text), index=out.index, dtype=object)
    if spec.short:
        out["_ls"] = pd.Series(text(spec.short), index=out.index, dtype=object)
    if spec.emphasis and spec.emphasis in gdf.columns:
        out["_le"] = pd.Series([v is True or v == "True" for v in gdf[spec.emphasis]], index=out.index, dtype=object)
    if spec.kind == "area":
        geoms = np.asarray(gdf.geometry.values, dtype=object)
        ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        pts = np.full(len(geoms), None, dtype=object)
        pts[ok] = shapely.point_on_surface(geoms[ok])
        xy = np.full((len(geoms), 2), np.nan)
        if ok.any():
            xy[ok] = shapely.get_coordinates(pts[ok])
            if gcj02:
                from gis.crs import wgs84_to_gcj02

                xy[ok, 0], xy[ok, 1] = wgs84_to_gcj02(xy[ok, 0], xy[ok, 1])
        out["_lp"] = pd.Series([None if not np.isfinite(x) else [round(float(x), 6), round(float(y), 6)] for x, y in xy], index=out.index, dtype=object)
    return out
