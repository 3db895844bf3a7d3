"""Layer schemas of SPEC §3.2: names, fields, geometry types and Chinese labels.

One table of truth for every layer, so that the stores, the importers, the exports (Chinese
headers in XLSX), the map popups and the API's queryables all agree on what a field is called
and what it means. Fields that a real import brings beyond these are kept as extra columns
(nothing is silently dropped); the ones listed here are the ones the product reasons about.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GEOMETRY_SOURCES = ("surveyed", "digitized", "schematic")

RESERVE_STATUSES = ("计划报批", "已组卷上报", "已获批", "已供地")
"""Forward order of a reserve parcel's approval workflow (SPEC §4)."""

DELETED_STATUS = "已注销"
"""Deletion is a status with history, never a removal (SPEC §4)."""


@dataclass(frozen=True)
class Field:
    name: str
    dtype: str  # "str" | "float" | "int" | "bool" | "date"
    label_zh: str
    required: bool = False
    restricted: bool = False  # economic fields: never leave the service without `analyst` (§8.4)
    unit: str = ""


@dataclass(frozen=True)
class Layer:
    name: str
    title_zh: str
    geometry_type: str  # GeoPackage geometry type name: MULTIPOLYGON, MULTILINESTRING, POINT, GEOMETRY
    fields: tuple[Field, ...]
    public: bool = True
    description: str = ""
    extra: dict = field(default_factory=dict)

    def field(self, name: str) -> Field | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def restricted_fields(self) -> list[str]:
        return [f.name for f in self.fields if f.restricted]

    def labels_zh(self) -> dict[str, str]:
        return {f.name: f.label_zh for f in self.fields}


COMMON = (
    Field("id", "str", "要素编号", required=True),
    Field("geometry_source", "str", "几何来源", required=True),
    Field("data_source", "str", "数据来源", required=True),
)

AREA = (
    Field("area_m2", "float", "面积(平方米)", unit="m²"),
    Field("area_mu", "float", "面积(亩)", unit="亩"),
)

STANDARD_LAND_ON_PARCEL = (
    # The 标准地 indicators set for a reserve parcel before supply (SPEC §3.2, §6).
    Field("sl_investment_intensity", "float", "投资强度下限(万元/亩)", unit="万元/亩"),
    Field("sl_floor_area_ratio", "float", "容积率下限"),
    Field("sl_tax_per_mu", "float", "亩均税收下限(万元/亩)", unit="万元/亩"),
    Field("sl_rules", "str", "标准地指标规则(JSON)"),
)

RESERVE_PARCELS = Layer(
    "reserve_parcels",
    "储备地块（地块报批计划）",
    "MULTIPOLYGON",
    COMMON
    + (
        Field("seq", "int", "序号"),
        Field("district", "str", "辖区"),
        Field("name", "str", "项目名称"),
        Field("location", "str", "位置"),
        Field("use", "str", "用途"),
    )
    + AREA
    + (
        Field("status", "str", "报批状态"),
        Field("status_date", "date", "状态日期"),
        Field("supply_method", "str", "供地方式"),
    )
    + STANDARD_LAND_ON_PARCEL,
    description="《南阳高新区“十四五”规划》表2 地块报批计划的9个地块",
)

PARK_ZONES = Layer(
    "park_zones",
    "产业园区",
    "MULTIPOLYGON",
    COMMON
    + (
        Field("name", "str", "园区名称"),
        Field("parent", "str", "所属园区"),
        Field("leading_industry", "str", "主导产业"),
        Field("planned_area_mu", "float", "规划面积(亩)", unit="亩"),
    )
    + AREA,
)

ZONE_BOUNDARY = Layer(
    "zone_boundary",
    "高新区范围",
    "MULTIPOLYGON",
    COMMON
    + (
        Field("name", "str", "名称"),
        Field("kind", "str", "类型"),  # current | expansion
        Field("planned_area_km2", "float", "规划面积(平方公里)", unit="km²"),
    )
    + AREA,
)

ECONOMIC_FIELDS = (
    Field("tax", "float", "实缴税收(万元)", restricted=True, unit="万元"),
    Field("revenue", "float", "营业收入(万元)", restricted=True, unit="万元"),
    Field("value_added", "float", "工业增加值(万元)", restricted=True, unit="万元"),
    Field("energy_tce", "float", "综合能耗(吨标准煤)", restricted=True, unit="吨标准煤"),
    Field("emission_eq", "float", "主要污染物排放当量(吨)", restricted=True, unit="吨"),
    Field("rd_expense", "float", "研发经费支出(万元)", restricted=True, unit="万元"),
    Field("output_value", "float", "工业总产值(万元)", restricted=True, unit="万元"),
    Field("profit", "float", "利润总额(万元)", restricted=True, unit="万元"),
    Field("electricity", "float", "用电量(万千瓦时)", restricted=True, unit="万千瓦时"),
    Field("employees", "int", "年平均职工人数", restricted=True),
)

ENTERPRISES = Layer(
    "enterprises",
    "工业企业",
    "POINT",
    COMMON
    + (
        Field("enterprise_id", "str", "统一社会信用代码/企业编号", required=True),
        Field("name", "str", "企业名称"),
        Field("parcel_id", "str", "地块编号"),
        Field("park", "str", "所在园区"),
        Field("district", "str", "辖区"),
        Field("land_area_mu", "float", "用地面积(亩)", unit="亩"),
        Field("above_scale", "bool", "是否规上"),
        Field("industry", "str", "产业"),
        Field("industry_code", "str", "行业代码"),
        Field("high_tech", "bool", "是否高新技术企业"),
        Field("rented_floor_m2", "float", "租用厂房面积(平方米)", unit="m²"),
        Field("year", "int", "年度"),
    )
    + ECONOMIC_FIELDS,
    public=False,
)

INDUSTRIAL_PARCELS = Layer(
    "industrial_parcels",
    "工业用地宗地",
    "MULTIPOLYGON",
    COMMON
    + (
        Field("park", "str", "所在园区"),
        Field("district", "str", "辖区"),
        Field("land_use", "str", "土地用途"),
        Field("floor_area_ratio", "float", "容积率"),
        Field("building_coverage", "float", "建筑系数(%)", unit="%"),
        Field("idle", "bool", "是否闲置"),
    )
    + AREA,
    public=False,
)

ROADS = Layer(
    "roads",
    "道路",
    "MULTILINESTRING",
    COMMON + (Field("name", "str", "道路名称"), Field("alias", "str", "别名"), Field("direction", "str", "走向")),
)

LANDMARKS = Layer(
    "landmarks",
    "地标",
    "GEOMETRY",
    COMMON + (Field("name", "str", "地标名称"), Field("alias", "str", "别名"), Field("kind", "str", "类型")),
)

LAYERS: dict[str, Layer] = {
    layer.name: layer
    for layer in (
        RESERVE_PARCELS,
        PARK_ZONES,
        ZONE_BOUNDARY,
        ENTERPRISES,
        INDUSTRIAL_PARCELS,
        ROADS,
        LANDMARKS,
    )
}

PUBLIC_LAYERS = [name for name, layer in LAYERS.items() if layer.public]

NONNEGATIVE_FIELDS = frozenset(
    {
        "seq", "area_m2", "area_mu", "planned_area_mu", "planned_area_km2", "land_area_mu", "rented_floor_m2",
        "tax", "revenue", "energy_tce", "emission_eq", "rd_expense", "output_value", "electricity", "employees",
        "floor_area_ratio", "building_coverage", "sl_investment_intensity", "sl_floor_area_ratio", "sl_tax_per_mu",
    }
)
"""Quantities that cannot be below zero (SPEC §5.1); value added and profit can."""


def layer_or_none(name: str) -> Layer | None:
    return LAYERS.get(name)
