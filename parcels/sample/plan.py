"""The plan's sample layers: Table 2 reserve parcels, parks, zone boundary, roads, landmarks.

Everything a user reads here (names, locations, uses, stated areas) is copied verbatim from the
zone's 14th Five-Year Plan; everything a user sees on a map is a *schematic* sketch, because no
openly licensed survey of the zone exists offline. The sketch is not random: it is drawn so
that each location text of the plan holds against the sketched roads and landmarks (a parcel
“信臣路以南、热电厂以西” lies wholly south of 信臣路 and west of 热电厂, a few dozen metres from
both), so the §3.3 resolver, the maps and the tests all work on a coherent little world until
the land bureau's real CGCS2000 data is imported and replaces it.

Two sketch frames (see `sketch.Frame`): 北区 around 信臣路 in the north-west (光电产业园, 百里奚,
机械装备产业园, the zone's seat) and 南区 south of the White River (中关村科技产业园 with its
经/纬 road grid). The zone is a two-part MultiPolygon fitted to 43.27 km²; the planned expansion
(50 km²) shares an edge with the south part, as the plan's “沿高新区南区进行整建制托管式扩区”
says. Positions follow DOMAIN §C and are approximate (a few hundred metres at best).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from gis.crs import STORE_EPSG, ellipsoid_area_m2, m2_to_mu, plane_area_m2
from parcels.schema import LANDMARKS, PARK_ZONES, RESERVE_PARCELS, ROADS, ZONE_BOUNDARY, Layer
from parcels.sample.sketch import Frame, SketchError, fit_area, multi

PLAN_TITLE = "南阳高新区“十四五”国民经济与社会发展规划纲要及二〇三五年远景目标"
PLAN_ISSUER = "南阳高新技术产业开发区管理委员会"
PLAN_DATE = "2021-04-01"
PLAN_CITATION = f"{PLAN_ISSUER}：《{PLAN_TITLE}》，2021年4月"
"""The plan every attribute of these layers is quoted from."""

SCHEMATIC = "schematic"
_PLAN = "《南阳高新区“十四五”国民经济与社会发展规划纲要》"
_SKETCH_NOTE = "几何为示意位置，非测绘数据"

ZONE_AREA_KM2 = 43.27  # 一（一）“高新区面积仅为 43.27 平方公里”
EXPANSION_AREA_KM2 = 50.0  # 专栏9 “规划扩展 50 平方公里”
ZHONGGUANCUN_AREA_KM2 = 14.56  # 专栏6 “控规规划区面积 14.56km²”
M2_PER_KM2 = 1_000_000.0
M2_PER_MU = 10000 / 15

NORTH = Frame(112.520, 33.035)
"""北区 sketch frame: 信臣路 runs east–west 1.1 km north of this origin; the seat is ~3.5 km east."""
SOUTH = Frame(112.505, 32.958)
"""南区 sketch frame (白河南): the 中关村 经十路…经十三路 / 纬七路…纬十一路 grid is centred here."""


def _source(where: str, note: str = "") -> str:
    return f"{_PLAN}{where}{'；' + note if note else ''}；{_SKETCH_NOTE}"


# --- Table 2, verbatim --------------------------------------------------------------------
# (序号, 辖区, 项目名称, 位置, 用途) exactly as printed in 表2 地块报批计划 (spaces included).
TABLE_2: tuple[tuple[int, str, str, str, str], ...] = (
    (1, "百里奚街道", "工业储备地 (防爆 2 个)", "信臣路以南、热电厂以西", "工业"),
    (2, "百里奚街道", "工业储备地 (杭州织颜)", "信臣路以北、中光学西侧", "工业"),
    (3, "百里奚街道", "十二里河区域经营性储备地", "麒麟路以南、原西环路以西", "居住"),
    (4, "百里奚街道", "十二里河区域经营性储备地", "枣庄路以南、原西环路以西", "居住"),
    (5, "中关村", "光电产业园剩余地块", "经十路以西、纬七路以南", "工业"),
    (6, "东周庄区域工业储备地", "东周庄区域工业储备地", "城南大道以东、纬十路以南", "工业"),
    (7, "东周庄区域工业储备地", "东周庄区域工业储备地", "城南大道以东、纬十路以南", "工业"),
    (8, "王庄区域工业储备地", "王庄区域工业储备地", "纬七路以北、溧源路以东", "仓储"),
    (9, "王庄区域工业储备地", "王庄区域工业储备地", "纬七路以北、溧源路以东", "仓储"),
)


# --- roads --------------------------------------------------------------------------------
@dataclass(frozen=True)
class RoadSketch:
    name: str
    alias: str | None
    direction: str  # 东西 | 南北
    frame: Frame
    at: float  # y of an east–west road, x of a north–south road (frame metres)
    span: tuple[float, float]  # extent along the road (frame metres)
    cited: str  # where the plan names it


# North frame (北区). 信臣路 is the spine; 麒麟路/枣庄路 cross 百里奚 west of 原西环路's
# 十二里河 area; 仲景大道/关帝庙路/京宛大道 frame 魏营 as 专栏14 describes it.
_NORTH_ROADS = (
    RoadSketch("信臣路", None, "东西", NORTH, 1100, (-6500, 5200), "表2、一（一）4、六（五）4"),
    RoadSketch("京宛大道", None, "东西", NORTH, 2700, (-3000, 6500), "专栏9、专栏14"),
    RoadSketch("杜诗路", None, "东西", NORTH, 1900, (3000, 7000), "六（三）、专栏9"),
    RoadSketch("麒麟路", "麒麟西路", "东西", NORTH, 300, (-6500, 0), "表2；专栏9作“麒麟西路”"),
    RoadSketch("枣庄路", None, "东西", NORTH, -500, (-6500, -1500), "表2、专栏9"),
    RoadSketch("张衡路", "张衡西路", "东西", NORTH, -1100, (-2400, 6500), "专栏9、专栏14；六（三）作“张衡西路”"),
    RoadSketch("建设西路", None, "东西", NORTH, -1800, (-5500, 1500), "专栏9"),
    RoadSketch("两相路", None, "东西", NORTH, -2400, (0, 5500), "专栏14、六（五）4"),
    RoadSketch("原西环路", "西环路", "南北", NORTH, -4300, (-2600, 1700), "表2、专栏9"),
    RoadSketch("新野路", None, "南北", NORTH, -3500, (-2600, -500), "专栏9"),
    RoadSketch("仲景大道", "仲景路", "南北", NORTH, 2600, (-4200, 3300), "专栏14（魏营作“仲景大道”，梁庄、书香铭筑作“仲景路”）"),
    RoadSketch("关帝庙路", None, "南北", NORTH, 3900, (-1800, 3300), "专栏14"),
    RoadSketch("独山大道", "东环路", "南北", NORTH, 5000, (-4000, 2700), "一（一）4、六（三）、专栏9"),
)

# South frame (南区, 白河南). 经 roads numbered west → east, 纬 roads north → south, as the plan's
# relations require (纬七路以北 and 纬七路以南 parcels, 纬九路以北 / 纬十路以南 projects).
_SOUTH_NS = (-3200, 1600)
_SOUTH_EW = (-2800, 3600)
_SOUTH_ROADS = (
    RoadSketch("经十路", None, "南北", SOUTH, -1400, _SOUTH_NS, "表2、专栏8"),
    RoadSketch("经十一路", None, "南北", SOUTH, -700, _SOUTH_NS, "规划未直接列名，按经十路…经十三路的编号推定"),
    RoadSketch("经十二路", None, "南北", SOUTH, 0, _SOUTH_NS, "规划未直接列名，按经十路…经十三路的编号推定"),
    RoadSketch("经十三路", None, "南北", SOUTH, 700, _SOUTH_NS, "六（三）、专栏9"),
    RoadSketch("城南大道", None, "南北", SOUTH, 1400, (-5000, 1600), "表2、专栏4、六（三）、专栏9"),
    RoadSketch("溧源路", None, "南北", SOUTH, 2100, _SOUTH_NS, "表2、六（三）、专栏9"),
    RoadSketch("纬七路", None, "东西", SOUTH, 800, _SOUTH_EW, "表2、六（三）、专栏9"),
    RoadSketch("纬八路", None, "东西", SOUTH, 250, _SOUTH_EW, "专栏8、六（三）、专栏9"),
    RoadSketch("纬九路", None, "东西", SOUTH, -300, _SOUTH_EW, "专栏4、六（三）"),
    RoadSketch("纬十路", None, "东西", SOUTH, -850, _SOUTH_EW, "表2、六（三）、专栏9"),
    RoadSketch("纬十一路", None, "东西", SOUTH, -1400, _SOUTH_EW, "六（三）"),
    RoadSketch("雪枫路", None, "东西", SOUTH, -1950, _SOUTH_EW, "专栏6"),
)

ROAD_SKETCHES: tuple[RoadSketch, ...] = _NORTH_ROADS + _SOUTH_ROADS


def _road_geometry(r: RoadSketch) -> BaseGeometry:
    a, b = r.span
    coords = [(a, r.at), (b, r.at)] if r.direction == "东西" else [(r.at, a), (r.at, b)]
    return multi(r.frame.line(coords))


# --- landmarks ----------------------------------------------------------------------------
def _landmarks() -> list[tuple[dict, BaseGeometry]]:
    """Reference features named by the location texts, plus the rivers that orient a map."""
    return [
        (
            {"name": "热电厂", "alias": None, "kind": "工业设施", "cited": "表2（“热电厂以西”）"},
            NORTH.rect(-3300, -2950, 700, 1040),
        ),
        (
            {"name": "中光学", "alias": "中光学集团", "kind": "企业", "cited": "表2（“中光学西侧”）、四（一）2、六（一）1"},
            NORTH.rect(-2200, -1800, 1160, 1500),
        ),
        (
            {"name": "百里奚公园", "alias": "百里奚（湖）公园", "kind": "公园", "cited": "专栏9（百里奚公园辅路：枣庄路、新野路）"},
            NORTH.rect(-3420, -2600, -1400, -580),
        ),
        (
            {"name": "十二里河", "alias": None, "kind": "河流", "cited": "表2（十二里河区域经营性储备地）"},
            NORTH.band([(-5150, 2300), (-5250, 800), (-5180, -400), (-5300, -2600)], 40),
        ),
        (
            {"name": "白河", "alias": None, "kind": "河流", "cited": "专栏9（白河南溧源路……道路建设项目）"},
            SOUTH.band([(-3800, 1750), (0, 1950), (4200, 2450)], 200),
        ),
        (
            {"name": "东周庄", "alias": "康庄村东周庄", "kind": "村庄", "cited": "表2、专栏6（康庄村东周庄）"},
            SOUTH.point(1750, -1520),
        ),
        (
            {"name": "王庄", "alias": "王庄村", "kind": "村庄", "cited": "表2、专栏6（王庄村、王庄自然村）"},
            SOUTH.point(2650, 600),
        ),
    ]


# --- reserve parcels ----------------------------------------------------------------------
# Sketch rectangles (frame, x0, x1, y0, y1) in metres. Each sits in the corner its location text
# names, 40–80 m off the references; rows 6/7 and 8/9 share a block side by side along the road.
# The plan states no areas: these come out at roughly 180–275 亩 (schematic).
_PARCEL_SKETCH: dict[int, tuple[Frame, float, float, float, float]] = {
    1: (NORTH, -3800, -3350, 760, 1060),  # 信臣路(y 1100)以南、热电厂(x ≥ -3300)以西
    2: (NORTH, -2680, -2250, 1140, 1420),  # 信臣路以北、中光学(x ≥ -2200)西侧
    3: (NORTH, -4780, -4340, -40, 260),  # 麒麟路(y 300)以南、原西环路(x -4300)以西
    4: (NORTH, -4820, -4340, -920, -540),  # 枣庄路(y -500)以南、原西环路以西
    5: (SOUTH, -1800, -1440, 330, 760),  # 经十路(x -1400)以西、纬七路(y 800)以南
    6: (SOUTH, 1440, 1740, -1300, -890),  # 城南大道(x 1400)以东、纬十路(y -850)以南
    7: (SOUTH, 1760, 2060, -1340, -890),  # same block, east of row 6
    8: (SOUTH, 2140, 2460, 840, 1240),  # 纬七路(y 800)以北、溧源路(x 2100)以东
    9: (SOUTH, 2480, 2820, 840, 1240),  # same block, east of row 8
}


# --- zone boundary ------------------------------------------------------------------------
_SOUTH_PART = (-2300, 3200, -2400, 1400)  # 南区 rectangle (x0, x1, y0, y1), SOUTH frame
_NORTH_LOBE_X = (-5600, -3900)  # 百里奚 lobe (十二里河), y -1100 … 2100
_NORTH_BAND_Y = (0, 2100)  # the 信臣路 band from the lobe east to the fitted edge


def _north_part(east: float) -> BaseGeometry:
    x0, x1 = _NORTH_LOBE_X
    y0, y1 = _NORTH_BAND_Y
    return NORTH.polygon([(x0, -1100), (x1, -1100), (x1, y0), (east, y0), (east, y1), (x0, y1)])


def _zone_geometries() -> tuple[BaseGeometry, BaseGeometry]:
    """(current zone, expansion): both fitted to the plan's areas (plane area in the survey CRS)."""
    sx0, sx1, sy0, sy1 = _SOUTH_PART
    south = SOUTH.rect(sx0, sx1, sy0, sy1)
    _, current = fit_area(
        lambda east: MultiPolygon([_north_part(east), south]),
        ZONE_AREA_KM2 * M2_PER_KM2,
        3600,
        4900,
    )
    # The expansion's top edge carries the south part's bottom corners as vertices, so the two
    # share that edge exactly (touching, no sliver, no overlap) after the move to lon/lat.
    ex0, ex1 = -4600, 5600

    def expansion(depth: float) -> BaseGeometry:
        bottom = sy0 - depth
        return MultiPolygon(
            [SOUTH.polygon([(ex0, sy0), (sx0, sy0), (sx1, sy0), (ex1, sy0), (ex1, bottom), (ex0, bottom)])]
        )

    _, expanded = fit_area(expansion, EXPANSION_AREA_KM2 * M2_PER_KM2, 3000, 7000)
    return current, expanded


# --- parks --------------------------------------------------------------------------------
def _mu(mu: float) -> float:
    return mu * M2_PER_MU


def _parks() -> list[tuple[dict, BaseGeometry]]:
    """Parks of 六（一） and the 专栏4/6/8 park projects with a stated area (plus 中基恒光)."""
    sx0, sx1, sy0, sy1 = _SOUTH_PART
    fangbao = NORTH.rect(-4250, -1400, 420, 1060)
    ouzhou = NORTH.rect(-1400, 1500, 420, 1060)
    _, zgc = fit_area(
        lambda east: SOUTH.rect(-2000, east, -1600, 1290), ZHONGGUANCUN_AREA_KM2 * M2_PER_KM2, 2900, 3200
    )
    _, semiconductor = fit_area(lambda top: SOUTH.rect(1100, 1700, -260, top), _mu(280), -100, 200)
    _, cnc = fit_area(lambda east: NORTH.rect(1540, east, 420, 1060), _mu(500), 1800, 2500)
    _, chuanmei = fit_area(lambda d: SOUTH.rect(-660, -40, -1990 - d, -1990), _mu(260), 100, 400)
    _, huawei = fit_area(lambda east: NORTH.rect(-400, east, 1140, 2050), _mu(500), -300, 200)

    def park(name: str, parent: str | None, industry: str, planned_mu: float | None, cited: str, note: str = "") -> dict:
        return {"name": name, "parent": parent, "leading_industry": industry, "planned_area_mu": planned_mu,
                "data_source": _source(cited, note)}

    return [
        (
            park("光电产业园", None, "数字光电（“研发-镜片-镜头-模组-成套设备”全产业链，安防监控设备、车载投影仪等智能终端）",
                 None, "六（一）1", "北片依托中光学集团，南片含表2序号5“光电产业园剩余地块”（中关村）；规划未载明面积"),
            MultiPolygon([NORTH.rect(-3000, -600, 1140, 2050), SOUTH.rect(-2000, -1420, 290, 1250)]),
        ),
        (
            park("机械装备产业园", None, "防爆电气装备、欧洲高端装备", None, "六（一）1（包括防爆电气产业园和欧洲工业园）",
                 "范围为两个子园区之和；规划未载明面积"),
            unary_union([fangbao, ouzhou]),
        ),
        (
            park("防爆电气产业园", "机械装备产业园", "防爆电气装备（大型电机、高效节能电机研发和生产及上下游配套）",
                 None, "六（一）1", "规划未载明面积"),
            fangbao,
        ),
        (
            park("欧洲工业园", "机械装备产业园", "欧洲高端装备（动臂智能塔机、轨道交通减振器）", None, "六（一）1",
                 "规划未载明面积"),
            ouzhou,
        ),
        (
            park("科技产业园", None, "科技金融、智慧物流、电子商务、软件和信息服务业、总部经济、科研孵化、生活服务",
                 None, "六（一）1（以中关村科技产业园为核心）", "范围示意为白河南片区（高新区南区）；规划未载明面积"),
            SOUTH.rect(sx0, sx1, sy0, sy1),
        ),
        (
            park("中关村科技产业园", "科技产业园", "数字产业（电子商务、软件和信息服务业）、科技金融、科技企业孵化",
                 ZHONGGUANCUN_AREA_KM2 * 1500, "六（一）1、专栏6（控规规划区面积 14.56 平方公里）",
                 "规划面积按 14.56 平方公里×1500 亩/平方公里计"),
            zgc,
        ),
        (
            park("镀邦产业园", None, "数字光电（功能薄膜、镀膜）", None, "六（一）2（新建产业园区）",
                 "主导产业据四（一）2 镀邦光电推断；位置据六（三）“完善镀邦产业园周边路网配套”所列道路推断；规划未载明面积"),
            SOUTH.rect(40, 660, -810, 210),
        ),
        (
            park("冷链物流产业园", None, "冷链物流", None, "六（一）2（新建产业园区）",
                 "主导产业据园区名称及四（一）4“大力发展电商物流、冷链物流”；规划未载明位置和面积"),
            SOUTH.rect(740, 1360, -1900, -1440),
        ),
        (
            park("半导体产业园（二期）项目", None, "数字光电（半导体）", 280.0, "专栏4（位于纬九路以北、城南大道两侧，总面积 280 亩）"),
            semiconductor,
        ),
        (
            park("数控装备制造项目", None, "高速伺服电机、智能激光切割设备和智能物流装备", 500.0, "专栏8（规划用地 500 亩）",
                 "规划未载明位置"),
            cnc,
        ),
        (
            park("河南传美中医药数字物流产业园项目", None, "中医药数字物流（综合楼、智慧仓储、分拨中心、加工车间）", 260.0,
                 "专栏6（位于雪枫路以南，项目用地约 260 亩）"),
            chuanmei,
        ),
        (
            park("华为应用技术产业园", None, "机器视觉、信创PC；智慧城市、物联网、大数据平台", 500.0,
                 "专栏8（二期启动产业园用地 500 亩；一期利用现有场地）", "规划面积为二期用地；规划未载明位置"),
            huawei,
        ),
        (
            park("中基恒光（南阳）现代中医药产业园", "中关村科技产业园", "中医药、生物医药、医疗器械", None,
                 "专栏8（位于南阳中关村科技园经十路以西、纬八路以南区域）", "规划未载明面积，面积为示意几何的面积"),
            SOUTH.rect(-1880, -1440, -260, 210),
        ),
    ]


# --- assembling ---------------------------------------------------------------------------
def _column(values: list, dtype: str):
    if dtype == "float":
        return np.array([np.nan if v is None else float(v) for v in values], dtype=float)
    if dtype == "int":
        if any(v is None for v in values):
            return pd.array(values, dtype="Int64")
        return np.array(values, dtype=np.int64)
    return list(values)  # text: pandas infers its string dtype; missing stays missing


def _frame(layer: Layer, rows: list[dict], geoms: list[BaseGeometry]) -> gpd.GeoDataFrame:
    """A GeoDataFrame with exactly the layer's schema columns (in order) plus `geometry`."""
    geo = np.asarray(geoms, dtype=object)
    if any(f.name == "area_m2" for f in layer.fields):
        m2 = plane_area_m2(geo)
        ell = ellipsoid_area_m2(geo)
        for row, a, e in zip(rows, m2, ell):
            row["area_m2"] = float(a)
            row["ellipsoid_area_m2"] = float(e)
            row["area_mu"] = float(m2_to_mu(a))
    data = {f.name: _column([r.get(f.name) for r in rows], f.dtype) for f in layer.fields}
    return gpd.GeoDataFrame(pd.DataFrame(data), geometry=gpd.GeoSeries(geo, crs=STORE_EPSG), crs=STORE_EPSG)


def _reserve_parcels() -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for seq, district, name, location, use in TABLE_2:
        frame, x0, x1, y0, y1 = _PARCEL_SKETCH[seq]
        rows.append({
            "id": f"RP-{seq:02d}",
            "geometry_source": SCHEMATIC,
            "data_source": _source(
                "表2 地块报批计划", "序号、辖区、项目名称、位置、用途逐字摘录；规划未载明面积，面积为示意几何的面积；"
                "报批状态为规划编制时（2021年4月）的计划报批"
            ),
            "seq": seq, "district": district, "name": name, "location": location, "use": use,
            "status": "计划报批", "status_date": PLAN_DATE, "supply_method": None,
        })
        geoms.append(multi(frame.rect(x0, x1, y0, y1)))
    return _frame(RESERVE_PARCELS, rows, geoms)


def _roads() -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for i, r in enumerate(ROAD_SKETCHES, start=1):
        rows.append({
            "id": f"RD-{i:02d}", "geometry_source": SCHEMATIC,
            "data_source": _source(r.cited, "走向与位置为概略推断"),
            "name": r.name, "alias": r.alias, "direction": r.direction,
        })
        geoms.append(_road_geometry(r))
    return _frame(ROADS, rows, geoms)


def _landmark_frame() -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for i, (attrs, geom) in enumerate(_landmarks(), start=1):
        rows.append({
            "id": f"LM-{i:02d}", "geometry_source": SCHEMATIC,
            "data_source": _source(attrs["cited"], "位置为概略推断"),
            "name": attrs["name"], "alias": attrs["alias"], "kind": attrs["kind"],
        })
        geoms.append(geom)
    return _frame(LANDMARKS, rows, geoms)


def _park_frame() -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for i, (attrs, geom) in enumerate(_parks(), start=1):
        rows.append({"id": f"PZ-{i:02d}", "geometry_source": SCHEMATIC, **attrs})
        geoms.append(multi(geom))
    return _frame(PARK_ZONES, rows, geoms)


def _zone_frame() -> gpd.GeoDataFrame:
    current, expansion = _zone_geometries()
    rows = [
        {
            "id": "ZB-current", "geometry_source": SCHEMATIC, "name": "南阳高新区", "kind": "current",
            "planned_area_km2": ZONE_AREA_KM2,
            "data_source": _source("一（一）（高新区面积 43.27 平方公里）",
                                   "北区（信臣路一带、百里奚）与南区（白河南·中关村）两片，范围为示意，面积按规划值拟合"),
        },
        {
            "id": "ZB-expansion", "geometry_source": SCHEMATIC, "name": "南阳高新区扩区（规划）", "kind": "expansion",
            "planned_area_km2": EXPANSION_AREA_KM2,
            "data_source": _source("专栏9（规划扩展 50 平方公里）、六（二）（沿高新区南区进行整建制托管式扩区）",
                                   "范围为示意，与南区共边，面积按规划值拟合"),
        },
    ]
    return _frame(ZONE_BOUNDARY, rows, [multi(current), multi(expansion)])


def build_plan_layers() -> dict[str, gpd.GeoDataFrame]:
    """The five sample layers of the plan, EPSG:4490, schema columns only, deterministic.

    Keys: reserve_parcels, park_zones, zone_boundary, roads, landmarks. Geometry is schematic
    (said so in `geometry_source` and `data_source` of every feature); attributes are the plan's.
    Raises `SketchError` (a ValueError) if the layout constants were edited into conflict.
    """
    return {
        "reserve_parcels": _reserve_parcels(),
        "park_zones": _park_frame(),
        "zone_boundary": _zone_frame(),
        "roads": _roads(),
        "landmarks": _landmark_frame(),
    }


__all__ = ["PLAN_CITATION", "PLAN_TITLE", "PLAN_ISSUER", "PLAN_DATE", "TABLE_2", "SketchError", "build_plan_layers"]
