"""Schematic 国土空间规划 constraint layers for the bundled zone (SPEC §7, DOMAIN.md §11) — drawn, not surveyed.

The expansion study needs the binding lines of the 国土空间规划 (三区三线: 永久基本农田, 生态保护红线,
城镇开发边界) and the administrative units that 整建制托管 takes over whole (乡镇/村). The real
lines live in the city's 国土空间总体规划 database and reach landgis by `landgis import`; no openly
licensed copy exists offline (DOMAIN.md §C: the public boundary files derive from AMap without a
licence). Until they are imported, these sketches stand in, and every feature says so in its
name, `geometry_source = "schematic"` and `data_source`.

The sketch is drawn in the 南区 frame of `parcels.sample.plan`, around the plan's southern
expansion (“沿高新区南区进行整建制托管式扩区”):

- `admin_units`: a grid of 示意村 (about 2 km × 1.6 km) south of, west and east of the zone's
  south part, grouped into three 示意镇; the fifteen villages of the middle band tile the plan's
  50 km² expansion exactly, so 整建制托管 of whole villages can reproduce it;
- `permanent_farmland`: four 示意 patches, one right under the zone's south edge (the land a
  suitability score alone would pick first), two inside the plan's expansion, one outside;
- `ecological_redline`: a riparian strip along the 白河 sketch and a north–south 示意生态廊道
  across the expansion;
- `urban_boundary`: the zone (both parts) and the plan's expansion with a 1 km margin, minus the two above.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, Polygon
from shapely.geometry.base import BaseGeometry

from parcels.sample.plan import SOUTH, _SOUTH_PART, build_plan_layers, _frame
from parcels.sample.sketch import multi
from parcels.schema import ADMIN_UNITS, ECOLOGICAL_REDLINE, PERMANENT_FARMLAND, URBAN_BOUNDARY

SCHEMATIC = "schematic"
NOTE = "示意数据（schematic）：位置与范围为演示扩区研究而绘制，非国土空间规划成果，不得用于审批；请导入自然资源部门的三区三线与行政区划数据替换"
SOURCE = "landgis 示意数据（parcels/sample/constraints.py），按《南阳高新区“十四五”规划》六（二）“沿高新区南区进行整建制托管式扩区”示意绘制；" + NOTE

COLUMN_M = 2040.0
"""Village width: the plan expansion's 10.2 km split into five columns."""
EXPANSION_ROWS = 3
"""Village rows inside the plan expansion; two more rows lie south of it."""


def _frame_y(lat: float) -> float:
    _, dy = SOUTH._deg_per_m
    return (lat - SOUTH.lat0) / dy


def _frame_x(lon: float) -> float:
    dx, _ = SOUTH._deg_per_m
    return (lon - SOUTH.lon0) / dx


def _expansion_extent() -> tuple[float, float, float, float]:
    """(x0, x1, y_bottom, y_top) of the plan's expansion sketch in the 南区 frame (metres)."""
    zb = build_plan_layers()["zone_boundary"]
    geom = zb.loc[zb["kind"] == "expansion"].geometry.iloc[0]
    lon0, lat0, lon1, lat1 = geom.bounds
    return round(_frame_x(lon0), 3), round(_frame_x(lon1), 3), _frame_y(lat0), float(_SOUTH_PART[2])


def _villages() -> list[tuple[str, str, str, Polygon]]:
    """(name, town, code, polygon in frame metres) of the 示意村 grid."""
    ex0, ex1, yb, yt = _expansion_extent()
    sx0, sx1, _, sy1 = _SOUTH_PART
    row_h = (yt - yb) / EXPANSION_ROWS
    out: list[tuple[str, str, str, Polygon]] = []
    cols = [ex0 + COLUMN_M * k for k in range(-2, 8)]  # 9 columns, the middle five are the expansion
    rows = [yt - row_h * j for j in range(EXPANSION_ROWS + 3)]  # 3 rows inside, 2 below
    town_of = lambda x0: "示意镇甲" if x0 < ex0 - 1 else ("示意镇丙" if x0 >= ex1 - 1 else "示意镇乙")
    for i in range(len(cols) - 1):
        for j in range(len(rows) - 1):
            code = f"S{i + 1}{j + 1}"
            out.append((f"示意村{code}", town_of(cols[i]), code, shapely.box(cols[i], rows[j + 1], cols[i + 1], rows[j])))
    # Flanks west and east of the zone's south part, up to its north edge.
    mid = (yt + sy1) / 2
    for side, (a, b) in (("W", (cols[0], sx0)), ("E", (sx1, cols[-1]))):
        xs = np.linspace(a, b, 4)
        for i in range(3):
            for j, (y0, y1) in enumerate(((yt, mid), (mid, sy1))):
                code = f"{side}{i + 1}{j + 1}"
                town = "示意镇甲" if side == "W" else "示意镇丙"
                out.append((f"示意村{code}", town, code, shapely.box(xs[i], y0, xs[i + 1], y1)))
    return out


def _farmland() -> list[tuple[str, Polygon]]:
    ex0, ex1, yb, yt = _expansion_extent()
    return [
        ("示意永久基本农田图斑01", shapely.box(-300, yt - 1100, 1300, yt - 250)),  # right under the zone's south edge
        ("示意永久基本农田图斑02", shapely.box(-4000, yb + 400, 1800, yb + 1500)),  # southern band of the expansion
        ("示意永久基本农田图斑03", shapely.box(ex0 + 300, yt - 3000, ex0 + 1700, yt - 1900)),  # west of the expansion
        ("示意永久基本农田图斑04", shapely.box(ex1 + 400, yb - 1500, ex1 + 3400, yb + 1800)),  # east, outside the expansion
    ]


def _redline() -> list[tuple[str, str, BaseGeometry]]:
    ex0, ex1, yb, yt = _expansion_extent()
    river = LineString([(-3800, 1750), (0, 1950), (4200, 2450)]).buffer(350, cap_style="flat", join_style="mitre")
    corridor = shapely.box(3700, yb - 2500, 3950, yt)
    return [
        ("示意白河滨河生态保护红线", "水源涵养与河流生态", river),
        ("示意生态廊道", "生态廊道", corridor),
    ]


def _place(geom: BaseGeometry) -> BaseGeometry:
    return multi(SOUTH.place(geom))


def constraint_layers() -> dict[str, gpd.GeoDataFrame]:
    """permanent_farmland, ecological_redline, urban_boundary, admin_units (EPSG:4490), all schematic."""
    sx0, sx1, sy0, sy1 = _SOUTH_PART
    zone_south = shapely.box(sx0, sy0, sx1, sy1)
    base = {"geometry_source": SCHEMATIC, "data_source": SOURCE}

    farm = _farmland()
    farm_rows = [dict(base, id=f"PF-{i + 1:02d}", name=n, code=f"SCH-PF-{i + 1:02d}") for i, (n, _) in enumerate(farm)]
    red = [(n, k, g.difference(zone_south)) for n, k, g in _redline()]
    red_rows = [dict(base, id=f"ER-{i + 1:02d}", name=n, kind=k) for i, (n, k, _) in enumerate(red)]

    ex0, ex1, yb, yt = _expansion_extent()
    hard = shapely.union_all([g for _, g in farm] + [g for _, _, g in red])
    # The 城镇开发边界 holds the whole zone (north part too) and the southern expansion, 1 km around.
    zb = build_plan_layers()["zone_boundary"]
    north = max(shapely.get_parts(zb.loc[zb["kind"] == "current"].geometry.iloc[0]), key=lambda g: g.centroid.y)
    nx0, ny0, nx1, ny1 = north.bounds
    pad_lon, pad_lat = 1000 * SOUTH._deg_per_m[0], 1000 * SOUTH._deg_per_m[1]
    north_box = shapely.box(nx0 - pad_lon, ny0 - pad_lat, nx1 + pad_lon, ny1 + pad_lat)
    urban_ll = shapely.union(SOUTH.place(shapely.box(ex0 - 1000, yb - 1000, ex1 + 1000, sy1 + 1000)), north_box)
    urban_ll = shapely.difference(urban_ll, SOUTH.place(hard))
    urban_rows = [dict(base, id="UB-01", name="示意城镇开发边界（高新区及南区规划扩区）")]

    villages = _villages()
    unit_rows: list[dict] = []
    unit_geoms: list[BaseGeometry] = []
    towns: dict[str, list[BaseGeometry]] = {}
    for name, town, code, poly in villages:
        g = poly.difference(zone_south)
        if g.is_empty or g.area < 1.0:
            continue
        unit_rows.append(dict(base, id=f"AU-{code}", name=name, level="村", parent=town, code=f"SCH-{code}"))
        unit_geoms.append(g)
        towns.setdefault(town, []).append(g)
    for k, (town, parts) in enumerate(sorted(towns.items())):
        unit_rows.append(dict(base, id=f"AU-T{k + 1}", name=town, level="乡镇", parent="", code=f"SCH-T{k + 1}"))
        unit_geoms.append(shapely.union_all(parts))

    return {
        "permanent_farmland": _frame(PERMANENT_FARMLAND, farm_rows, [_place(g) for _, g in farm]),
        "ecological_redline": _frame(ECOLOGICAL_REDLINE, red_rows, [_place(g) for _, _, g in red]),
        "urban_boundary": _frame(URBAN_BOUNDARY, urban_rows, [multi(urban_ll)]),
        "admin_units": _frame(ADMIN_UNITS, unit_rows, [_place(g) for g in unit_geoms]),
    }


CONSTRAINT_LAYERS = ("permanent_farmland", "ecological_redline", "urban_boundary", "admin_units")
