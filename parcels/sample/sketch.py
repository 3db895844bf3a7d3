"""Drawing tools for schematic sample geometry: local metre sketches → EPSG:4490 lon/lat.

The plan gives locations only as text (“信臣路以南、热电厂以西”), so the sample layers are
sketched on a local grid in metres and then placed on the ellipsoid. A `Frame` maps metres to
lon/lat *linearly* (meridian and prime-vertical radii of CGCS2000 at the frame's origin). That
keeps every east–west road on one latitude and every north–south road on one longitude, so
“以南”/“以西” in the plan become exact, testable inequalities in the stored coordinates; the
linear map is off by centimetres over a few km, which does not matter for a sketch whose
position is known only to a few hundred metres anyway.

Areas are never taken from the sketch's metres: `fit_area` solves one free coordinate of a
shape until `gis.crs.plane_area_m2` (the plane area in the survey CRS, the product's `area_m2`)
hits the target, so a park that the plan sizes at 280 亩 measures 280 亩 in every export.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from gis.crs import plane_area_m2

# CGCS2000 ellipsoid (identical to GRS80 to well below a millimetre for this purpose).
_A = 6378137.0
_F = 1 / 298.257222101
_E2 = _F * (2 - _F)


class SketchError(ValueError):
    """The sketch cannot be built as specified (a layout constant was edited into conflict)."""


@dataclass(frozen=True)
class Frame:
    """A local east/north metre grid whose origin sits at (lon0, lat0) on CGCS2000."""

    lon0: float
    lat0: float

    @property
    def _deg_per_m(self) -> tuple[float, float]:
        phi = math.radians(self.lat0)
        w = math.sqrt(1 - _E2 * math.sin(phi) ** 2)
        n = _A / w  # prime vertical radius
        m = _A * (1 - _E2) / w**3  # meridian radius
        return math.degrees(1 / (n * math.cos(phi))), math.degrees(1 / m)

    def to_lonlat(self, xy: np.ndarray) -> np.ndarray:
        dx, dy = self._deg_per_m
        xy = np.asarray(xy, dtype=float)
        return np.column_stack([self.lon0 + xy[:, 0] * dx, self.lat0 + xy[:, 1] * dy])

    def place(self, geom: BaseGeometry) -> BaseGeometry:
        """A geometry drawn in this frame's metres, moved to lon/lat."""
        return shapely.transform(geom, self.to_lonlat)

    def rect(self, x0: float, x1: float, y0: float, y1: float) -> Polygon:
        if not (x0 < x1 and y0 < y1):
            raise SketchError(f"示意矩形坐标有误：x {x0}…{x1}，y {y0}…{y1}（须左小右大、下小上大）。")
        return self.place(shapely.box(x0, y0, x1, y1))

    def polygon(self, coords: Sequence[tuple[float, float]]) -> Polygon:
        poly = Polygon(coords)
        if not poly.is_valid:
            raise SketchError(f"示意多边形无效：{shapely.is_valid_reason(poly)}")
        return self.place(poly)

    def line(self, coords: Sequence[tuple[float, float]]) -> LineString:
        return self.place(LineString(coords))

    def point(self, x: float, y: float) -> Point:
        return self.place(Point(x, y))

    def band(self, coords: Sequence[tuple[float, float]], width_m: float) -> Polygon:
        """A river or strip: a centre line widened to `width_m` in metres, then placed."""
        return self.place(LineString(coords).buffer(width_m / 2, cap_style="flat", join_style="mitre"))


def multi(geom: BaseGeometry) -> BaseGeometry:
    """Single parts to their Multi* form, so each layer has one geometry type (SPEC §3.2)."""
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    if isinstance(geom, LineString):
        return MultiLineString([geom])
    return geom


def geom_area_m2(geom: BaseGeometry) -> float:
    return float(plane_area_m2(np.array([geom], dtype=object))[0])


def fit_area(
    build: Callable[[float], BaseGeometry],
    target_m2: float,
    lo: float,
    hi: float,
    rel_tol: float = 1e-9,
) -> tuple[float, BaseGeometry]:
    """Solve the free coordinate `t` in [lo, hi] so that the plane area (survey CRS) of build(t) is target.

    The area must grow with `t` (move the edge away from the fixed ones). Regula falsi with the
    Illinois step: the area is nearly linear in one edge, so it converges in a handful of
    evaluations; a bracket that does not contain the target is a layout error, reported as such.
    """
    f_lo = geom_area_m2(build(lo)) - target_m2
    f_hi = geom_area_m2(build(hi)) - target_m2
    if f_lo > 0 or f_hi < 0:
        raise SketchError(
            f"示意几何无法拟合到目标面积 {target_m2:.1f} 平方米：可调范围 {lo}…{hi} 内面积为 "
            f"{f_lo + target_m2:.1f}…{f_hi + target_m2:.1f} 平方米，请调整布局常量。"
        )
    side = 0
    for _ in range(100):
        t = hi - f_hi * (hi - lo) / (f_hi - f_lo)
        g = build(t)
        f_t = geom_area_m2(g) - target_m2
        if abs(f_t) <= rel_tol * target_m2:
            return t, g
        if f_t > 0:
            hi, f_hi = t, f_t
            if side == 1:
                f_lo /= 2
            side = 1
        else:
            lo, f_lo = t, f_t
            if side == -1:
                f_hi /= 2
            side = -1
    raise SketchError(f"示意几何面积拟合未收敛（目标 {target_m2:.1f} 平方米）。")
