"""The `intensity` map (SPEC §11, §9): the land survey coloured by status and, on built land, by use.

Input: the survey rows with `class_key` ("built:<用途>" | ready | not_ready | unavailable) and
describing fields, as services/intensity.py::intensity_map_frame returns them, and the evaluation
document, whose indicators are listed in the legend beside the national figures. Built land takes
the land-use palette (maps/palette.py); the other statuses their own neutral fills; idle land is
outlined red. Pure: frames in, a Folium map out. Derived, synthetic and schematic data say so.
"""

from __future__ import annotations

import folium
import geopandas as gpd

from maps.base import MapContext, PageOptions, add_layer, finish_map, open_page
from maps.errors import MapInputError
from maps.legend import LegendItem, LegendSection, LegendSpec
from maps.palette import land_use_colour
from maps.parcels import add_context_layers, context_legend_sections
from maps.popups import PopupConfig, PopupField

TITLE = "南阳高新区土地集约利用评价（土地利用状况调查）"
USES = ("工矿仓储", "住宅", "商服", "公共管理与公共服务", "交通运输", "其他")
USE_COLOURS = {u: land_use_colour({"工矿仓储": "工业", "公共管理与公共服务": "公共", "其他": None}.get(u, u)) for u in USES}
USE_COLOURS["其他"] = "#FFE0B2"  # a landgis choice: the palette has no class for 其他
STATUS_COLOURS = {"ready": ("#80CBC4", "已达到供地条件的其他土地"), "not_ready": ("#D1C4E9", "未达到供地条件的土地"), "unavailable": ("#90CAF9", "不可建设土地")}
IDLE_STROKE = "#C62828"

POPUP_FIELDS = (
    PopupField("id", "图斑编号", "", None),
    PopupField("status_zh", "土地利用状况", "", None),
    PopupField("land_use", "土地用途", "", None),
    PopupField("supplied_zh", "已供应", "", None),
    PopupField("idle_zh", "闲置", "", None),
    PopupField("high_tech_zh", "高新技术产业用地", "", None),
    PopupField("area_mu", "面积", "亩", 2),
    PopupField("floor_area_m2", "总建筑面积", "平方米", 0),
    PopupField("footprint_m2", "建筑基底面积", "平方米", 0),
    PopupField("fixed_assets_wan", "累计固定资产投资", "万元", 2),
    PopupField("tax_wan", "税收总额", "万元", 2),
    PopupField("geometry_source", "几何来源", "", None, values=(("schematic", "示意位置（非实测）"), ("surveyed", "实测"), ("digitized", "数字化"), ("derived", "由其他图层推导"))),
    PopupField("data_source", "数据来源", "", None),
)


def fills() -> dict[str, str]:
    out = {f"built:{u}": c for u, c in USE_COLOURS.items()}
    out.update({k: c for k, (c, _) in STATUS_COLOURS.items()})
    return out


def _fmt(v) -> str:
    return "—" if v is None else f"{v:,.2f}"


def indicator_notes(doc: dict) -> list[str]:
    """One legend line per indicator: value beside the national figure (year), status."""
    out = []
    for i in doc["indicators"]:
        national = "全国值未检索到" if i["national"] is None else f"全国 {i['national']:,}（{i['national_year']}）"
        mark = "；推导" if i.get("derived") else ""
        out.append(f"{i['name']}：{_fmt(i['value'])}{i['unit']}（{national}；{'未核实' if i['status'] == 'unverified' else i['status']}{mark}）")
    p = doc["potential"]
    out.append(f"尚可供应土地 {p['ready_unsupplied_ha']:,.2f} 公顷；尚可供地年数 {_fmt(p['years_of_supply'])} 年")
    return out


def build_intensity_map(
    survey: gpd.GeoDataFrame,
    doc: dict,
    parks: gpd.GeoDataFrame | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    *,
    page: PageOptions = PageOptions(),
) -> tuple[folium.Map, MapContext]:
    if "class_key" not in survey.columns:
        raise MapInputError("调查图斑缺少分类列（class_key），无法着色。")
    frame = survey.copy()
    m, ctx = open_page(f"{TITLE}（{doc['year']} 年度）", page)
    add_context_layers(m, ctx, parks, boundary, roads=page.roads)
    popup = PopupConfig(tuple(f for f in POPUP_FIELDS if f.name in frame.columns), title="土地利用状况调查图斑", title_field="id")
    style = {"base": {"color": "#616161", "weight": 0.8, "fillOpacity": 0.7}, "fillBy": "class_key", "fills": fills(), "missingColor": "#E0E0E0"}
    add_layer(m, ctx, frame, key="land_survey", title="调查图斑（按土地利用状况与用途着色）", style=style, popup=popup, tooltip="status_zh", search="id")
    idle = frame[frame["idle_zh"] == "是"] if "idle_zh" in frame.columns else frame.iloc[0:0]
    if len(idle):
        add_layer(m, ctx, idle[["id", "status_zh", "geometry"]], key="idle", title="闲置土地", style={"base": {"color": IDLE_STROKE, "weight": 3, "fillOpacity": 0.0}},
                  popup=PopupConfig((PopupField("id", "图斑编号", "", None), PopupField("status_zh", "土地利用状况", "", None)), title="闲置土地", title_field="id"), tooltip="id")
    counts = frame["class_key"].value_counts()
    built = [LegendItem(f"{u}（{int(counts.get(f'built:{u}', 0))}）", fill=c, stroke="#616161") for u, c in USE_COLOURS.items()]
    other = [LegendItem(f"{label}（{int(counts.get(k, 0))}）", fill=c, stroke="#616161") for k, (c, label) in STATUS_COLOURS.items()]
    sections = [LegendSection("已建成城镇建设用地（按用途）", built), LegendSection("其他土地（按状况）", other)]
    if len(idle):
        sections.append(LegendSection("闲置", [LegendItem(f"闲置土地（{len(idle)}）", stroke=IDLE_STROKE, weight=3)]))
    notes = indicator_notes(doc)
    survey_info = doc.get("survey", {})
    notes.insert(0, f"数据：{survey_info.get('label', '')}")
    notes += list(survey_info.get("notes", []))
    notes.append("全国值为国家级开发区监测统计通报数值，转引自二手来源（未核实）。")
    finish_map(m, ctx, LegendSpec("图例", sections + context_legend_sections(parks, boundary, page.roads), notes))
    return m, ctx
