"""CRS negotiation of OGC API – Features Part 2: URIs, CURIEs, `crs`/`bbox-crs`/`filter-crs`.

Axis order follows Part 2: CRS84 is lon/lat; every other CRS is written in the axis order its
authority defines. EPSG:4490 (CGCS2000 geographic) is therefore lat/lon, and EPSG:4546
(CGCS2000 / 3-degree GK CM 111E) is northing/easting (X north, Y east, as the EPSG register
and Chinese surveying define it); EPSG:3857 is easting/northing. GDAL's OAPIF driver (default
SERVER_FEATURE_AXIS_ORDER=AUTHORITY_COMPLIANT) and QGIS read it so. Stored geometry is
EPSG:4490 lon/lat; CRS84 output is those coordinates unchanged (CGCS2000 and WGS 84 agree to a
few centimetres, far below the precision of the plan's parcels).

The store never sees a URI: an `OgcCrs` *is* a `gis.crs.AxisCrs` (EPSG code + axis flip), which
is all the stores take.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gis.crs import STORE_EPSG, AxisCrs, geoms_from_axis_crs, geoms_to_axis_crs, transformer
from gis.errors import InputError

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


@dataclass(frozen=True)
class OgcCrs(AxisCrs):
    uri: str = CRS84

    @property
    def is_geographic(self) -> bool:
        return self.epsg == STORE_EPSG


def _epsg_uri(code: int) -> str:
    return f"http://www.opengis.net/def/crs/EPSG/0/{code}"


SUPPORTED: dict[str, OgcCrs] = {
    CRS84: OgcCrs(epsg=STORE_EPSG, flip=False, uri=CRS84),
    _epsg_uri(4490): OgcCrs(epsg=4490, flip=True, uri=_epsg_uri(4490)),
    _epsg_uri(4546): OgcCrs(epsg=4546, flip=True, uri=_epsg_uri(4546)),
    _epsg_uri(3857): OgcCrs(epsg=3857, flip=False, uri=_epsg_uri(3857)),
}
SUPPORTED_URIS = list(SUPPORTED)
STORAGE_CRS = _epsg_uri(4490)

_ALIASES = {
    "crs84": CRS84,
    "ogc:crs84": CRS84,
    "urn:ogc:def:crs:ogc:1.3:crs84": CRS84,
    "urn:ogc:def:crs:ogc::crs84": CRS84,
    "http://www.opengis.net/def/crs/ogc/1.3/crs84": CRS84,
    "https://www.opengis.net/def/crs/ogc/1.3/crs84": CRS84,
}
for _code in (4490, 4546, 3857):
    for _form in (f"epsg:{_code}", f"urn:ogc:def:crs:epsg::{_code}", f"http://www.opengis.net/def/crs/epsg/0/{_code}", f"https://www.opengis.net/def/crs/epsg/0/{_code}"):
        _ALIASES[_form] = _epsg_uri(_code)


class CrsError(InputError):
    """An unsupported or malformed CRS identifier (HTTP 400)."""

    status_code = 400


def parse_crs(text: str | None, *, param: str = "crs") -> OgcCrs:
    """Resolve a `crs`/`bbox-crs`/`filter-crs` value (URI, safe CURIE or EPSG:n) or refuse it."""
    if text is None or text == "":
        return SUPPORTED[CRS84]
    key = text.strip().strip("[]").lower()
    uri = _ALIASES.get(key)
    if uri is None:
        raise CrsError(
            f"参数 {param} 的坐标系“{text}”不受支持。",
            hint="可用：" + "、".join(SUPPORTED_URIS) + "（也可写作 EPSG:4490 等）。",
        )
    return SUPPORTED[uri]


def to_output(geoms: np.ndarray, crs: AxisCrs) -> np.ndarray:
    """Stored lon/lat geometries → the requested CRS, in its axis order."""
    return geoms_to_axis_crs(geoms, crs)


def from_input(geoms: np.ndarray, crs: AxisCrs) -> np.ndarray:
    """Geometries given in `crs` (its axis order) → stored lon/lat."""
    return geoms_from_axis_crs(geoms, crs)


def bbox_to_store(values: list[float], crs: OgcCrs) -> tuple[float, float, float, float]:
    """A bbox in `crs` (axis order of the CRS) → a lon/lat bbox that covers it (edges densified)."""
    if len(values) == 6:  # 3-D bbox: drop the heights
        values = [values[0], values[1], values[3], values[4]]
    a0, a1, b0, b1 = values[0], values[1], values[2], values[3]
    if crs.flip:
        x0, y0, x1, y1 = a1, a0, b1, b0
    else:
        x0, y0, x1, y1 = a0, a1, b0, b1
    if crs.epsg == STORE_EPSG or not crs.transform_needed:
        return (x0, y0, x1, y1)
    t = transformer(crs.epsg, STORE_EPSG)
    xs = np.concatenate([np.linspace(x0, x1, 21), np.full(21, x1), np.linspace(x1, x0, 21), np.full(21, x0)])
    ys = np.concatenate([np.full(21, y0), np.linspace(y0, y1, 21), np.full(21, y1), np.linspace(y1, y0, 21)])
    lon, lat = t.transform(xs, ys)
    lon, lat = np.asarray(lon), np.asarray(lat)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        raise CrsError("bbox 在所给坐标系中超出可转换的范围。", hint="请检查 bbox 与 bbox-crs 是否匹配。")
    return (float(lon[ok].min()), float(lat[ok].min()), float(lon[ok].max()), float(lat[ok].max()))


def bbox_from_store(bbox: tuple[float, float, float, float], crs: OgcCrs) -> list[float]:
    """A lon/lat extent expressed in `crs` and its axis order (for collection metadata)."""
    x0, y0, x1, y1 = bbox
    if crs.transform_needed:
        t = transformer(STORE_EPSG, crs.epsg)
        xs, ys = t.transform([x0, x1, x0, x1], [y0, y0, y1, y1])
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    return [y0, x0, y1, x1] if crs.flip else [x0, y0, x1, y1]
