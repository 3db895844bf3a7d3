"""Layer schemas of SPEC §3.2: names, fields, geometry types and Chinese labels.

One table of truth for every layer, so that the stores, the importers, the exports (Chinese
headers in XLSX), the map popups and the API's queryables all agree on what a field is called
and what it means. Fields that a real import brings beyond these are kept as extra columns
(nothing is silently dropped); the ones listed here are the ones the product reasons about.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from parcels import vocabulary

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


def term_field(name: str, dtype: str, **kw) -> Field:
    """A field whose label and unit are the vocabulary's term of the same key (parcels/vocabulary.py),
    so the schema, the reports and the maps cannot name one column two ways."""
    return Field(name, dtype, vocabulary.label_with_unit(name), unit=vocabulary.unit(name), **kw)


COMMON = (
    Field("id", "str", "要素编号", required=True),
    Field("geometry_source", "str", "几何来源", required=True),
    Field("data_source", "str", "数据来源", required=True),
)

AREA = (
    # area_m2: plane area in the survey CRS (the registered 宗地面积); ellipsoid_area_m2: the
    # ellipsoidal area 三调 reports; area_mu from area_m2 (SPEC §3.1, gis/crs.py).
    term_field("area_m2", "float"),
    term_field("ellipsoid_area_m2", "float"),
    term_field("area_mu", "float"),
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
    term_field("tax", "float", restricted=True),
    term_field("revenue", "float", restricted=True),
    term_field("value_added", "float", restricted=True),
    term_field("energy_tce", "float", restricted=True),
    term_field("emission_eq", "float", restricted=True),
    term_field("rd_expense", "float", restricted=True),
    term_field("output_value", "float", restricted=True),
    term_field("profit", "float", restricted=True),
    term_field("electricity", "float", restricted=True),
    term_field("employees", "int", restricted=True),
)

ENTERPRISES = Layer(
    "enterprises",
    "工业企业",
    "POINT",
    COMMON
    + (
        term_field("enterprise_id", "str", required=True),
        term_field("name", "str"),
        term_field("parcel_id", "str"),
        term_field("park", "str"),
        term_field("district", "str"),
        term_field("land_area_mu", "float"),
        term_field("above_scale", "bool"),
        term_field("industry", "str"),
        term_field("industry_code", "str"),
        term_field("high_tech", "bool"),
        term_field("rented_floor_m2", "float"),
        term_field("year", "int"),
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
        term_field("park", "str"),
        term_field("district", "str"),
        Field("land_use", "str", "土地用途"),
        term_field("floor_area_ratio", "float"),
        term_field("building_coverage", "float"),
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

COMMITTED_INDICATORS = {
    # 出让合同/产业监管协议约定指标 (SPEC §4.2 `committed_<indicator>`, the §6 keys), checked at 达产复核.
    "investment_intensity": ("投资强度", "万元/亩"),
    "floor_area_ratio": ("容积率", ""),
    "building_coverage": ("建筑系数", "%"),
    "office_living_share": ("行政办公及生活服务设施用地所占比重", "%"),
    "green_ratio": ("绿地率", "%"),
    "tax_per_mu": ("亩均税收", "万元/亩"),
    "revenue_per_mu": ("亩均产值", "万元/亩"),
    "energy_per_va": ("单位增加值能耗", "吨标准煤/万元"),
}

LAND_SUPPLY = Layer(
    "land_supply",
    "土地供应台账（批供用补查）",
    "MULTIPOLYGON",
    (Field("id", "str", "宗地编号", required=True),)  # SPEC §4.2 calls a ledger row's id 宗地编号
    + COMMON[1:]
    + (
        Field("reserve_parcel_id", "str", "储备地块编号"),
        Field("approval_no", "str", "批准文号"),
        Field("approval_date", "date", "批准日期"),
        Field("land_use", "str", "土地用途"),
        Field("supply_method", "str", "供地方式"),
        Field("supply_date", "date", "供地日期"),
        Field("contract_no", "str", "合同编号"),
        # 受让人 and 价款 are published with every 出让结果 (招拍挂 results are announced), so they are
        # not the enterprise economic figures the access rule guards; the layer is analyst-only anyway.
        Field("grantee", "str", "受让人"),
        Field("price_wan", "float", "价款(万元)", unit="万元"),
        Field("term_years", "int", "出让年限(年)", unit="年"),
        Field("agreed_start_date", "date", "约定动工日期"),
        Field("agreed_completion_date", "date", "约定竣工日期"),
        Field("agreed_production_date", "date", "约定达产日期"),
        Field("actual_start_date", "date", "实际动工日期"),
        Field("actual_completion_date", "date", "实际竣工日期"),
        Field("actual_production_date", "date", "实际达产日期"),
        Field("developed_share", "float", "已开发面积占比"),
        # 已投资额 is the enterprise's own investment figure (not published): restricted like tax.
        Field("invested_share", "float", "已投资额占总投资额比例", restricted=True),
        Field("halted_since", "date", "中止开发起始日期"),
        Field("delay_cause", "str", "延迟原因"),
    )
    + tuple(
        # What the contract committed the enterprise to (tax, output, investment): enterprise economic terms.
        Field(f"committed_{key}", "float", f"约定{name}({unit})" if unit else f"约定{name}", restricted=True, unit=unit)
        for key, (name, unit) in COMMITTED_INDICATORS.items()
    )
    + AREA,
    public=False,
    description="批准、供应、动工、竣工、达产全过程台账（SPEC §4.2）",
)

# 国土空间规划 constraints for 扩区 (SPEC §7, DOMAIN.md §11): importable like every layer; the
# study never recommends land inside 永久基本农田 or 生态保护红线, and 整建制托管 takes whole
# administrative units (admin_units). Real lines come from the city's 国土空间总体规划 database.
PERMANENT_FARMLAND = Layer(
    "permanent_farmland",
    "永久基本农田",
    "MULTIPOLYGON",
    COMMON + (Field("name", "str", "图斑名称"), Field("code", "str", "图斑编号")) + AREA,
    description="三区三线：永久基本农田保护红线（刚性约束，扩区不得占用）",
)

ECOLOGICAL_REDLINE = Layer(
    "ecological_redline",
    "生态保护红线",
    "MULTIPOLYGON",
    COMMON + (Field("name", "str", "红线名称"), Field("kind", "str", "生态功能类型")) + AREA,
    description="三区三线：生态保护红线（刚性约束，扩区不得占用）",
)

URBAN_BOUNDARY = Layer(
    "urban_boundary",
    "城镇开发边界",
    "MULTIPOLYGON",
    COMMON + (Field("name", "str", "名称"),) + AREA,
    description="三区三线：城镇开发边界（产业园区在边界内拓展）",
)

ADMIN_UNITS = Layer(
    "admin_units",
    "行政区划（乡镇/村）",
    "MULTIPOLYGON",
    COMMON
    + (
        Field("name", "str", "单位名称"),
        Field("level", "str", "层级"),  # 乡镇 | 村
        Field("parent", "str", "上级单位"),
        Field("code", "str", "区划代码"),
    )
    + AREA,
    description="整建制托管扩区的候选单位（乡镇、行政村）",
)

# 开发区土地集约利用评价 (SPEC §11, DOMAIN.md §8): 土地利用状况调查图斑, one polygon per surveyed piece
# of land in the zone. `status` and `land_use` take the values of parcels/intensity (SURVEY_STATUSES,
# SURVEY_LAND_USES); the money figures are the enterprises' own, so restricted like `tax`.
LAND_SURVEY = Layer(
    "land_survey",
    "土地利用状况调查图斑",
    "MULTIPOLYGON",
    COMMON
    + (
        Field("status", "str", "土地利用状况", required=True),  # built | ready | not_ready | unavailable
        Field("supplied", "bool", "已供应国有建设用地"),
        Field("idle", "bool", "闲置土地"),
        Field("land_use", "str", "土地用途"),  # 工矿仓储/住宅/商服/公共管理与公共服务/交通运输/其他
        Field("high_tech", "bool", "高新技术产业用地"),
        Field("floor_area_m2", "float", "总建筑面积(平方米)", unit="m²"),
        Field("footprint_m2", "float", "建筑基底面积(平方米)", unit="m²"),
        Field("fixed_assets_wan", "float", "累计固定资产投资(万元)", restricted=True, unit="万元"),
        Field("tax_wan", "float", "税收总额(万元)", restricted=True, unit="万元"),
    )
    + AREA,
    public=False,
    description="开发区土地集约利用评价的土地利用状况调查图斑（SPEC §11）",
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
        LAND_SUPPLY,
        PERMANENT_FARMLAND,
        ECOLOGICAL_REDLINE,
        URBAN_BOUNDARY,
        ADMIN_UNITS,
        LAND_SURVEY,
    )
}

PUBLIC_LAYERS = [name for name, layer in LAYERS.items() if layer.public]

NONNEGATIVE_FIELDS = frozenset(
    {
        "seq", "area_m2", "ellipsoid_area_m2", "area_mu", "planned_area_mu", "planned_area_km2", "land_area_mu", "rented_floor_m2",
        "tax", "revenue", "energy_tce", "emission_eq", "rd_expense", "output_value", "electricity", "employees",
        "floor_area_ratio", "building_coverage", "sl_investment_intensity", "sl_floor_area_ratio", "sl_tax_per_mu",
    }
)
"""Quantities that cannot be below zero (SPEC §5.1); value added and profit can."""

NONNEGATIVE_FIELDS = NONNEGATIVE_FIELDS | frozenset(
    {"price_wan", "term_years", "developed_share", "invested_share"} | {f"committed_{k}" for k in COMMITTED_INDICATORS}
)
"""The ledger's prices, terms, shares and committed indicators (SPEC §4.2) cannot be negative either."""

NONNEGATIVE_FIELDS = NONNEGATIVE_FIELDS | frozenset({"floor_area_m2", "footprint_m2", "fixed_assets_wan", "tax_wan"})
"""The land survey's floor area, footprint, investment and tax (SPEC §11) cannot be negative."""


def layer_or_none(name: str) -> Layer | None:
    return LAYERS.get(name)
