"""Coordinate systems of Chinese land data, and how landgis measures area.

Storage is CGCS2000 geographic (EPSG:4490, lon/lat); measurement is CGCS2000 / 3-degree
Gauss-Kruger CM 111E (EPSG:4546: the zone lies near 112.5°E, inside the CM 111E 3° band
110.5–113.5°E; DOMAIN.md §A). Lengths and buffers are plain EPSG:4546 metres.

Two areas, because Chinese land records use two (SPEC §3.1):

- `plane_area_m2` — the **plane area in the survey CRS** (setting `LANDGIS_SURVEY_CRS`, default
  EPSG:4546): the 宗地面积 that 不动产权证书 and 国有建设用地使用权出让合同 carry, computed from
  the Gauss-Kruger 界址点 coordinates. A parcel surveyed as a 200 m × 150 m rectangle in
  EPSG:4546 is 30 000.00 m² here, exactly. This is what the layers' `area_m2` holds and what
  `area_mu` (亩) is derived from.
- `ellipsoid_area_m2` — the **ellipsoidal area** (椭球面积) that the 三调 land survey reports.
  1.5° east of the central meridian the GK plane is stretched by an areal scale of ≈1.0005, so
  the ellipsoidal area is ≈0.05 % smaller (the rectangle above: ≈29 984.9 m²). It is the plane
  area in EPSG:4546 divided by the projection's areal scale at the feature (pyproj's
  `get_factors`), better than 1e-6 for parcels of a few km, and does not depend on the survey
  CRS setting.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Proj, Transformer

from gis.errors import InputError

STORE_EPSG = 4490
MEASURE_EPSG = 4546
MU_PER_M2 = 15 / 10000
"""1 亩 = 10000/15 m²."""
SURVEY_CRS_ENV = "LANDGIS_SURVEY_CRS"
"""The setting naming the survey CRS of `plane_area_m2` (EPSG code, e.g. EPSG:4546 or 4547)."""

# A generous box around Nanyang city and the zone's planned expansion, in lon/lat. Coordinates
# that land outside it after transformation are almost always a wrong or missing CRS.
SERVICE_AREA = (111.6, 32.4, 113.4, 33.6)

GK_CANDIDATES = {
    # form -> list of EPSG codes tried, in order (first that lands inside the service area wins)
    "cm": [4546, 4547],  # 6-digit easting, no zone number
    37: [4525],  # 8-digit easting with zone number 37 (CM 111E)
    38: [4526],  # zone 38 (CM 114E)
}

GCJ02 = "GCJ02"


class CRSDetectionError(InputError):
    """Coordinates that fit no coordinate system landgis knows for the zone.

    The message is in Chinese for officials and says how to fix the file.
    """

    def __init__(self, detail: str):
        super().__init__(detail)


@dataclass(frozen=True)
class DetectedCRS:
    crs: CRS | None  # None for GCJ-02, which has no EPSG code
    label: str
    how: str  # "declared" | "given" | "detected"
    gcj02: bool = False


_transformers: dict[tuple[str, int], Transformer] = {}


def transformer(src: CRS | int | str, dst: CRS | int | str) -> Transformer:
    key = (CRS.from_user_input(src).to_wkt(), CRS.from_user_input(dst).to_epsg() or 0)
    if key not in _transformers:
        _transformers[key] = Transformer.from_crs(src, dst, always_xy=True)
    return _transformers[key]


def to_store(geoms: np.ndarray, src: CRS | int | str) -> np.ndarray:
    """Transform an array of shapely geometries to EPSG:4490 (lon/lat)."""
    crs = CRS.from_user_input(src)
    if crs.to_epsg() == STORE_EPSG:
        return np.asarray(geoms, dtype=object)
    t = transformer(crs, STORE_EPSG)
    return shapely.transform(np.asarray(geoms, dtype=object), lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def to_measure(geoms: np.ndarray) -> np.ndarray:
    """EPSG:4490 geometries to Gauss-Kruger metres (EPSG:4546)."""
    t = transformer(STORE_EPSG, MEASURE_EPSG)
    return shapely.transform(np.asarray(geoms, dtype=object), lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def reproject(geoms: np.ndarray, src: CRS | int | str, dst: CRS | int | str) -> np.ndarray:
    t = transformer(src, dst)
    return shapely.transform(np.asarray(geoms, dtype=object), lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


@dataclass(frozen=True)
class AxisCrs:
    """An EPSG code as coordinates are written in it: `flip` when they are written north first
    (EPSG:4490 and EPSG:4546 in their authority axis order) rather than x/y. The stores take
    this plain pair; the OGC naming of CRSs (URIs, CRS84, `crs=` negotiation) is api/ogc/crs.py's."""

    epsg: int = STORE_EPSG
    flip: bool = False

    @property
    def transform_needed(self) -> bool:
        return self.epsg != STORE_EPSG


STORE_XY = AxisCrs(STORE_EPSG, False)
"""Stored lon/lat, x first (what OGC calls CRS84)."""


def geoms_to_axis_crs(geoms: np.ndarray, crs: AxisCrs) -> np.ndarray:
    """Stored lon/lat geometries → `crs`, in its axis order."""
    out = np.asarray(geoms, dtype=object)
    if crs.transform_needed:
        t = transformer(STORE_EPSG, crs.epsg)
        out = shapely.transform(out, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
    if crs.flip:
        out = shapely.transform(out, lambda xy: xy[:, ::-1].copy())
    return out


def geoms_from_axis_crs(geoms: np.ndarray, crs: AxisCrs) -> np.ndarray:
    """Geometries given in `crs` (its axis order) → stored lon/lat."""
    out = np.asarray(geoms, dtype=object)
    if crs.flip:
        out = shapely.transform(out, lambda xy: xy[:, ::-1].copy())
    if crs.transform_needed:
        t = transformer(crs.epsg, STORE_EPSG)
        out = shapely.transform(out, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
    return out


_measure_proj: Proj | None = None


def areal_scale(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Areal scale factor of EPSG:4546 at lon/lat points (≈1.0005 at the zone)."""
    global _measure_proj
    if _measure_proj is None:
        _measure_proj = Proj(f"EPSG:{MEASURE_EPSG}")
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    out = np.ones(lon.shape, dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if ok.any():
        out[ok] = np.asarray(_measure_proj.get_factors(lon[ok], lat[ok]).areal_scale, dtype=float)
    return out


def survey_epsg() -> int:
    """EPSG code of the survey CRS (`LANDGIS_SURVEY_CRS`, default EPSG:4546), read at each call so a
    deployment that registers land in the CM 114E band (EPSG:4547) sets it once for all areas.

    Only a projected CRS in metres makes sense here; anything else is refused in Chinese."""
    return _survey_epsg((os.environ.get(SURVEY_CRS_ENV) or "").strip() or f"EPSG:{MEASURE_EPSG}")


@lru_cache(maxsize=8)
def _survey_epsg(text: str) -> int:
    try:
        crs = CRS.from_user_input(int(text) if text.isdigit() else text)
    except Exception as exc:
        raise CRSDetectionError(f"设置 {SURVEY_CRS_ENV}=“{text}” 不是可识别的坐标系：请使用 EPSG 编码，如 EPSG:4546。") from exc
    epsg = crs.to_epsg()
    unit = crs.axis_info[0].unit_name if crs.axis_info else ""
    if not crs.is_projected or epsg is None or unit not in ("metre", "meter"):
        raise CRSDetectionError(
            f"设置 {SURVEY_CRS_ENV}=“{text}” 不是以米为单位的投影坐标系：宗地面积须按高斯-克吕格平面坐标计算"
            "（如 EPSG:4546 CGCS2000 111°带、EPSG:4547 114°带）。"
        )
    return epsg


def _valid(arr: np.ndarray) -> np.ndarray:
    ok = np.array([g is not None for g in arr], dtype=bool)
    ok[ok] = ~shapely.is_empty(arr[ok])
    return ok


def plane_area_m2(geoms) -> np.ndarray:
    """Plane area in m² in the survey CRS of EPSG:4490 geometries: the registered 宗地面积 (`area_m2`)."""
    arr = np.asarray(getattr(geoms, "values", geoms), dtype=object)
    area = np.zeros(len(arr), dtype=float)
    if arr.size == 0:
        return area
    ok = _valid(arr)
    if ok.any():
        area[ok] = shapely.area(reproject(arr[ok], STORE_EPSG, survey_epsg()))
    area[~np.isfinite(area)] = 0.0
    return area


def ellipsoid_area_m2(geoms) -> np.ndarray:
    """Ellipsoidal area (椭球面积, as 三调 reports it) in m² of EPSG:4490 geometries (see module doc)."""
    arr = np.asarray(getattr(geoms, "values", geoms), dtype=object)
    area = np.zeros(len(arr), dtype=float)
    if arr.size == 0:
        return area
    ok = _valid(arr)
    if ok.any():
        plane = shapely.area(to_measure(arr[ok]))
        centroids = shapely.centroid(arr[ok])
        scale = areal_scale(shapely.get_x(centroids), shapely.get_y(centroids))
        area[ok] = plane / scale
    area[~np.isfinite(area)] = 0.0
    return area


def m2_to_mu(m2):
    return np.asarray(m2, dtype=float) * MU_PER_M2


def area_mu(geoms) -> np.ndarray:
    """亩 from the plane (registered) area, as `area_mu` = `area_m2` × 15/10000."""
    return m2_to_mu(plane_area_m2(geoms))


# --- GCJ-02 -------------------------------------------------------------------------------
# The published GCJ-02 forward formula (the offset AMap/Tencent coordinates carry), and its
# inverse by fixed-point iteration, which converges to well under a millimetre in a few steps.
_A = 6378245.0
_EE = 0.00669342162296594323


def _delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = lon - 105.0
    y = lat - 35.0
    dlat = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon, lat):
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlon, dlat = _delta(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon, lat, iterations: int = 8):
    glon = np.asarray(lon, dtype=float)
    glat = np.asarray(lat, dtype=float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(iterations):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        wlon = wlon - (flon - glon)
        wlat = wlat - (flat - glat)
    return wlon, wlat


def gcj02_geoms_to_store(geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(
        np.asarray(geoms, dtype=object), lambda xy: np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1]))
    )


def wgs84_geoms_to_gcj02(geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(
        np.asarray(geoms, dtype=object), lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1]))
    )


# --- detection ----------------------------------------------------------------------------


def parse_crs(text: str | int | None) -> CRS | str | None:
    """Parse a user-given CRS (`EPSG:4546`, `4546`, `GCJ02`, WKT, ...); GCJ-02 returns "GCJ02"."""
    if text is None or text == "":
        return None
    if isinstance(text, str) and text.strip().upper().replace("-", "").replace("_", "") in ("GCJ02", "GCJ"):
        return GCJ02
    try:
        return CRS.from_user_input(int(text) if isinstance(text, str) and text.isdigit() else text)
    except Exception as exc:  # pyproj raises CRSError with English text
        raise CRSDetectionError(f"无法识别坐标系 “{text}”：请使用 EPSG 编码，如 EPSG:4490、EPSG:4546，或 GCJ02。({exc})") from exc


def _inside(lon: np.ndarray, lat: np.ndarray, box=SERVICE_AREA) -> np.ndarray:
    return (lon >= box[0]) & (lon <= box[2]) & (lat >= box[1]) & (lat <= box[3])


def _bounds_of(geoms: np.ndarray) -> np.ndarray:
    b = shapely.bounds(np.asarray(geoms, dtype=object))
    b = b[np.all(np.isfinite(b), axis=1)]
    return b


def _share_inside(b: np.ndarray, crs: CRS | int) -> float:
    """Share of the finite bounds `b` (from `_bounds_of`) inside the zone once brought to the store CRS."""
    if len(b) == 0:
        return 0.0
    t = transformer(crs, STORE_EPSG)
    lon1, lat1 = t.transform(b[:, 0], b[:, 1])
    lon2, lat2 = t.transform(b[:, 2], b[:, 3])
    ok = _inside(np.asarray(lon1), np.asarray(lat1)) & _inside(np.asarray(lon2), np.asarray(lat2))
    return float(ok.mean())


def _describe_extent(b: np.ndarray) -> str:
    return f"x {b[:, 0].min():.6g}…{b[:, 2].max():.6g}, y {b[:, 1].min():.6g}…{b[:, 3].max():.6g}"


def detect_crs(geoms: np.ndarray, declared: CRS | None = None, given: CRS | str | None = None) -> DetectedCRS:
    """Decide the CRS of incoming geometries, or refuse with a message that says how to fix it.

    `given` (the user's --crs) wins over `declared` (the file's .prj); either is checked against
    the coordinates, so a file labelled EPSG:4326 that holds Gauss-Kruger metres, or lon/lat
    written as lat/lon, is refused instead of landing in the sea off Africa.
    """
    b = _bounds_of(geoms)
    if len(b) == 0:
        raise CRSDetectionError("文件中没有可用的坐标（几何全部为空）：请检查文件内容。")
    xs = np.concatenate([b[:, 0], b[:, 2]])
    ys = np.concatenate([b[:, 1], b[:, 3]])

    swapped_geographic = bool(np.all(_inside(ys, xs)))  # lat in x, lon in y
    northing_in_x = bool(np.all((xs > 3.0e6) & (xs < 4.0e6)))
    easting_in_y = bool(np.all(((ys > 1.0e5) & (ys < 9.0e5)) | ((ys > 3.7e7) & (ys < 3.9e7))))
    swapped_projected = northing_in_x and easting_in_y

    def refuse_swapped() -> None:
        raise CRSDetectionError(
            f"坐标轴顺序颠倒（经纬度或东北坐标互换）：范围 {_describe_extent(b)}。"
            "请将 X 设为经度/东坐标、Y 设为纬度/北坐标后重新导入（例如在 QGIS 中“交换 X/Y”）。"
        )

    chosen = given if given is not None else declared
    how = "given" if given is not None else "declared"
    # A pyproj CRS compared with the string would parse "GCJ02" as a CRS (≈200 ms, every batch
    # of an import): the sentinel is only ever a string.
    if isinstance(chosen, str) and chosen == GCJ02:
        if swapped_geographic:
            refuse_swapped()
        lon, lat = gcj02_to_wgs84(xs, ys)
        if not np.all(_inside(lon, lat)):
            raise CRSDetectionError(
                f"声明为 GCJ-02 的坐标不在南阳高新区附近：范围 {_describe_extent(b)}。请核对坐标系。"
            )
        return DetectedCRS(None, "GCJ-02", how, gcj02=True)
    if chosen is not None:
        crs = CRS.from_user_input(chosen)
        try:
            share = _share_inside(b, crs)
        except Exception:
            share = 0.0
        if share >= 0.999:
            return DetectedCRS(crs, f"EPSG:{crs.to_epsg()}" if crs.to_epsg() else crs.name, how)
        if swapped_geographic or swapped_projected:
            refuse_swapped()
        source = "--crs 参数" if how == "given" else "文件自带的坐标系（.prj 等）"
        raise CRSDetectionError(
            f"{source}为 {crs.to_string()}，但按此坐标系换算后数据不在南阳高新区附近"
            f"（范围 {_describe_extent(b)}）。请核对坐标系，或用 --crs 指定正确的坐标系"
            "（如 EPSG:4546 高斯-克吕格 111°带、EPSG:4525 带号37、EPSG:4490 经纬度）。"
        )

    # No CRS anywhere: guess from the coordinates' magnitude, then check the location.
    if np.all(_inside(xs, ys)):
        return DetectedCRS(CRS.from_epsg(STORE_EPSG), "EPSG:4490", "detected")
    if swapped_geographic or swapped_projected:
        refuse_swapped()
    if np.all((ys > 3.0e6) & (ys < 4.0e6)):
        if np.all((xs > 1.0e5) & (xs < 9.0e5)):
            forms = GK_CANDIDATES["cm"]
        elif np.all((xs > 3.7e7) & (xs < 3.8e7)):
            forms = GK_CANDIDATES[37]
        elif np.all((xs > 3.8e7) & (xs < 3.9e7)):
            forms = GK_CANDIDATES[38]
        else:
            forms = []
        for epsg in forms:
            if _share_inside(b, epsg) >= 0.999:
                return DetectedCRS(CRS.from_epsg(epsg), f"EPSG:{epsg}", "detected")
    raise CRSDetectionError(
        f"文件没有坐标系信息，且坐标（范围 {_describe_extent(b)}）既不像南阳高新区附近的经纬度，"
        "也不像 CGCS2000 高斯-克吕格 3 度带坐标（111°带 6 位东坐标或带号 37/38 的 8 位东坐标）。"
        "请补充 .prj 文件或用 --crs 指定坐标系（如 --crs EPSG:4546）。"
    )
