"""The `supervision` map (SPEC §4.2, §9): every ledger parcel coloured by the list it is on.

Input: the ledger rows with `list` (approved_not_supplied | supplied_not_started | idle |
completion_overdue | production_review_due | incomplete | none), `list_zh`, and describing
fields (stage, fee, days, dates), as services/supervision.py::supervision_frame returns them;
and the conflicts of the report, drawn as red outlines of the parcels concerned. Pure: frames
in, a Folium map out. Synthetic and schematic data say so in the legend.
"""

from __future__ import annotations

import folium
import geopandas as gpd

from maps.base import MapContext, PageOptions, add_layer, finish_map, open_page
from maps.errors import MapInputError
from maps.legend import LegendItem, LegendSection, LegendSpec
from maps.parcels import add_context_layers, context_legend_sections
from maps.popups import PopupConfig, PopupField

TITLE = "南阳高新区土地供应监管（批供用补查）"

LIST_COLOURS: dict[str, tuple[str, str]] = {
    # One colour per list; 闲置 in the strongest red, the lists before it in warm tones.
    "approved_not_supplied": ("#f2c14e", "批而未供"),
    "supplied_not_started": ("#f08a24", "供而未用"),
    "idle": ("#c62828", "闲置土地"),
    "completion_overdue": ("#8e44ad", "逾期未竣工"),
    "production_review_due": ("#1f78b4", "达产复核到期"),
    "incomplete": ("#9e9e9e", "资料不全无法判定"),
    "none": ("#b2dfdb", "无需处置"),
}

POPUP_FIELDS = (
    PopupField("id", "宗地编号", "", None),
    PopupField("list_zh", "监管清单", "", None),
    PopupField("stage_zh", "处置阶段", "", None),
    PopupField("fee_wan", "土地闲置费", "万元", 2),
    PopupField("days", "超过判定日期天数", "天", 0),
    PopupField("land_use", "土地用途", "", None),
    PopupField("supply_method", "供地方式", "", None),
    PopupField("grantee", "受让人", "", None),
    PopupField("approval_date", "批准日期", "", None),
    PopupField("supply_date", "供地日期", "", None),
    PopupField("agreed_start_date", "约定动工日期", "", None),
    PopupField("actual_start_date", "实际动工日期", "", None),
    PopupField("agreed_completion_date", "约定竣工日期", "", None),
    PopupField("agreed_production_date", "约定达产日期", "", None),
    PopupField("area_mu", "面积", "亩", 2),
    PopupField("geometry_source", "几何来源", "", None, values=(("schematic", "示意位置（非实测）"), ("surveyed", "实测"), ("digitized", "数字化"))),
)


def build_supervision_map(
    ledger: gpd.GeoDataFrame,
    parks: gpd.GeoDataFrame | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    *,
    as_of: str,
    conflicts: gpd.GeoDataFrame | None = None,
    synthetic: bool = False,
    page: PageOptions = PageOptions(),
) -> tuple[folium.Map, MapContext]:
    if "list" not in ledger.columns:
        raise MapInputError("供地台账缺少监管清单列（list），无法着色。")
    unknown = sorted(set(ledger["list"].astype(str)) - set(LIST_COLOURS))
    if unknown:
        raise MapInputError(f"未知的监管清单：{'、'.join(unknown)}。")
    frame = ledger.copy()
    for col in ("approval_date", "supply_date", "agreed_start_date", "actual_start_date", "agreed_completion_date", "agreed_production_date"):
        if col in frame.columns:
            frame[col] = frame[col].astype(object).where(frame[col].notna(), None).map(lambda v: None if v is None else str(v)[:10])
    m, ctx = open_page(f"{TITLE}（截至 {as_of}）", page)
    add_context_layers(m, ctx, parks, boundary, roads=page.roads)
    fields = tuple(f for f in POPUP_FIELDS if f.name in frame.columns)
    popup = PopupConfig(fields, title="供地监管", title_field="id")
    style = {"base": {"color": "#424242", "weight": 1.5, "fillOpacity": 0.75}, "fillBy": "list", "fills": {k: c for k, (c, _) in LIST_COLOURS.items()}, "missingColor": LIST_COLOURS["none"][0]}
    add_layer(m, ctx, frame, key="land_supply", title="供地台账宗地（按监管清单着色）", style=style, popup=popup, tooltip="list_zh", search="id")
    if conflicts is not None and len(conflicts):
        cstyle = {"base": {"color": "#d50000", "weight": 3, "fillOpacity": 0.0, "dashArray": "6 4"}}
        cpopup = PopupConfig(tuple(f for f in (PopupField("id", "编号", "", None), PopupField("layer_zh", "图层", "", None), PopupField("overlap_mu", "与已供土地重叠", "亩", 1), PopupField("note", "说明", "", None)) if f.name in conflicts.columns), title="用地冲突", title_field="id")
        add_layer(m, ctx, conflicts, key="conflicts", title="用地冲突（与已供土地重叠）", style=cstyle, popup=cpopup, tooltip="note")
    counts = frame["list"].value_counts()
    items = [LegendItem(f"{label}（{int(counts.get(k, 0))} 宗）", fill=c, stroke="#424242") for k, (c, label) in LIST_COLOURS.items() if k != "incomplete" or counts.get(k, 0)]
    sections = [LegendSection("监管清单", items)]
    if conflicts is not None and len(conflicts):
        sections.append(LegendSection("用地冲突", [LegendItem(f"与已供土地重叠（{len(conflicts)} 宗）", stroke="#d50000", dash="6 4", weight=3)]))
    notes = [f"统计截止日期：{as_of}；闲置土地依《闲置土地处置办法》（国土资源部令第53号）认定。"]
    if synthetic:
        notes.append("注意：供地台账为合成示例数据（synthetic），非真实供地记录。")
    if "geometry_source" in frame.columns and (frame["geometry_source"] == "schematic").any():
        notes.append("注意：部分宗地几何为示意位置（schematic），非实测界线。")
    finish_map(m, ctx, LegendSpec("图例", sections + context_legend_sections(parks, boundary, page.roads), notes))
    return m, ctx
