"""HTML report of the expansion study: one self-contained file, maps and charts inline.

Charts are inline SVG whose text uses the page's font, so Chinese labels render in any browser
with no font file, no plotting library and no internet; the suitability map is a PNG (encoded by
GDAL) under an SVG overlay of the zone, parks, roads and candidate blocks, drawn in the
analysis grid's own pixel coordinates (EPSG:4546, north up).
"""

from __future__ import annotations

import base64
import html

import numpy as np
import pandas as pd
import shapely

from gis.crs import to_measure
from gis.raster import png_bytes

RAMP = np.array([[215, 25, 28], [253, 174, 97], [255, 255, 191], [166, 217, 106], [26, 150, 65]], dtype=float)
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2"]


def _e(v) -> str:
    return html.escape(str(v))


def _fmt(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "是" if v else "否"
    if isinstance(v, (float, np.floating)):
        if np.isnan(v):
            return ""
        return f"{v:,.4f}".rstrip("0").rstrip(".") if abs(v) < 10 else f"{v:,.2f}"
    if v is None or v is pd.NA:
        return ""
    return str(v)


def table_html(frame: pd.DataFrame, limit: int | None = None) -> str:
    rows = frame if limit is None else frame.head(limit)
    head = "".join(f"<th>{_e(c)}</th>" for c in rows.columns)
    body = "".join("<tr>" + "".join(f"<td>{_e(_fmt(v))}</td>" for v in r) + "</tr>" for r in rows.itertuples(index=False))
    more = f"<p class='note'>仅列前 {limit} 行，共 {len(frame)} 行，完整内容见 XLSX。</p>" if limit is not None and len(frame) > limit else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def bar_chart(groups: list[tuple[str, list[tuple[str, float]]]], unit: str, title: str) -> str:
    """Horizontal stacked bars: each group is one bar made of (label, value) segments."""
    longest = max([len(name) for name, _ in groups] + [8])
    left = max(170, 14 * longest + 16)  # room for the longest Chinese label (≈ 14 px a character)
    width, bar_h, gap = 640 + left, 34, 22
    top = 40
    total_max = max([sum(v for _, v in segs) for _, segs in groups] + [1e-9])
    scale = (width - left - 120) / total_max
    height = top + len(groups) * (bar_h + gap) + 60
    parts = [f"<svg class='chart' viewBox='0 0 {width} {height}' width='{width}' height='{height}' role='img' aria-label='{_e(title)}'>",
             f"<text x='10' y='22' class='ct'>{_e(title)}</text>"]
    legend: dict[str, str] = {}
    for i, (name, segs) in enumerate(groups):
        y = top + i * (bar_h + gap)
        parts.append(f"<text x='{left - 8}' y='{y + bar_h * 0.65}' text-anchor='end'>{_e(name)}</text>")
        x = float(left)
        for j, (label, v) in enumerate(segs):
            color = legend.setdefault(label, PALETTE[len(legend) % len(PALETTE)])
            w = max(0.0, v * scale)
            parts.append(f"<rect x='{x:.1f}' y='{y}' width='{w:.1f}' height='{bar_h}' fill='{color}'><title>{_e(label)}：{v:,.0f} {unit}</title></rect>")
            x += w
        parts.append(f"<text x='{x + 6:.1f}' y='{y + bar_h * 0.65}'>{sum(v for _, v in segs):,.0f} {_e(unit)}</text>")
    ly = top + len(groups) * (bar_h + gap) + 10
    lx = 10
    for label, color in legend.items():
        parts.append(f"<rect x='{lx}' y='{ly}' width='14' height='14' fill='{color}'/><text x='{lx + 20}' y='{ly + 12}'>{_e(label)}</text>")
        lx += 30 + 14 * len(label)
    parts.append("</svg>")
    return "".join(parts)


def _ramp(score: np.ndarray) -> np.ndarray:
    s = np.clip(np.nan_to_num(score, nan=0.0), 0, 1) * (len(RAMP) - 1)
    i = np.minimum(np.floor(s).astype(int), len(RAMP) - 2)
    f = (s - i)[..., None]
    return RAMP[i] * (1 - f) + RAMP[i + 1] * f


def _map_png(suit) -> tuple[bytes, int, int]:
    step = max(1, int(np.ceil(max(suit.grid.shape) / 1000)))
    score = suit.score[::step, ::step]
    rgb = _ramp(score)
    alpha = np.full(score.shape, 255, dtype=np.uint8)
    excluded = suit.excluded[::step, ::step]
    rgb[excluded != 0] = (205, 205, 205)
    if suit.landcover is not None:
        water = suit.landcover[::step, ::step] == 4
        rgb[water] = (115, 178, 255)
    arr = np.concatenate([rgb.transpose(2, 0, 1).astype(np.uint8), alpha[None]], axis=0)
    return png_bytes(arr), score.shape[1], score.shape[0]


def _path(geom, to_px) -> str:
    out = []
    for part in shapely.get_parts(np.asarray([geom], dtype=object)):
        tid = shapely.get_type_id(part)
        if tid == 3:
            rings = [part.exterior, *part.interiors]
            for ring in rings:
                xy = to_px(np.asarray(ring.coords))
                out.append("M" + " L".join(f"{x:.1f} {y:.1f}" for x, y in xy) + " Z")
        elif tid in (1, 2):
            xy = to_px(np.asarray(part.coords))
            out.append("M" + " L".join(f"{x:.1f} {y:.1f}" for x, y in xy))
        elif tid in (5, 6, 7):
            out.append(_path(part, to_px))
    return " ".join(out)


def suitability_map(suit, layers: dict) -> str:
    png, w, h = _map_png(suit)
    x0, y0, x1, y1 = suit.grid.bounds
    sx, sy = w / (x1 - x0), h / (y1 - y0)

    def to_px(xy: np.ndarray) -> np.ndarray:
        return np.column_stack([(xy[:, 0] - x0) * sx, (y1 - xy[:, 1]) * sy])

    def layer_paths(name: str, css: str, where=None, label_col: str | None = None) -> str:
        g = layers.get(name)
        if g is None or len(g) == 0:
            return ""
        if where is not None:
            g = g[where(g)]
        geoms = to_measure(np.asarray(g.to_crs(4490).geometry.values, dtype=object))
        out = []
        for i, geom in enumerate(geoms):
            tip = f"<title>{_e(g[label_col].iloc[i])}</title>" if label_col else ""
            out.append(f"<path class='{css}' d='{_path(geom, to_px)}'>{tip}</path>")
            rank = g["rank"].iloc[i] if "rank" in g.columns else None
            if label_col and name == "candidate_blocks" and rank is not None and pd.notna(rank):
                rp = shapely.point_on_surface(geom)
                px = to_px(np.array([[rp.x, rp.y]]))[0]
                out.append(f"<text class='bl' x='{px[0]:.1f}' y='{px[1]:.1f}'>{int(rank)}</text>")
        return "".join(out)

    blocks = layers.get("candidate_blocks")
    overlay = [
        layer_paths("permanent_farmland", "farm", label_col="name"),
        layer_paths("ecological_redline", "eco", label_col="name"),
        layer_paths("park_zones", "park", label_col="name"),
        layer_paths("roads", "road", label_col="name"),
        layer_paths("zone_boundary", "zone-cur", where=lambda g: g["kind"].astype("str") == "current"),
        layer_paths("zone_boundary", "zone-plan", where=lambda g: g["kind"].astype("str") == "expansion"),
    ]
    if blocks is not None and len(blocks):
        overlay.append(layer_paths("candidate_blocks", "blk", where=lambda g: ~g["selected"].astype(bool), label_col="block_id"))
        overlay.append(layer_paths("candidate_blocks", "blk-sel", where=lambda g: g["selected"].astype(bool), label_col="block_id"))
    overlay.append(layer_paths("recommended_expansion", "rec", label_col="name"))
    bar_px = 5000 * sx
    b64 = base64.b64encode(png).decode("ascii")
    return (
        f"<svg class='map' viewBox='0 0 {w} {h + 40}' style='max-width:100%;height:auto' width='{w}' height='{h + 40}'>"
        f"<image href='data:image/png;base64,{b64}' x='0' y='0' width='{w}' height='{h}'/>"
        + "".join(overlay)
        + f"<g transform='translate(12,{h + 12})'><rect width='{bar_px:.1f}' height='6' fill='#000'/><text x='{bar_px + 6:.1f}' y='8'>5 km</text></g>"
        + f"<g transform='translate({w - 30},30)'><path d='M0 -18 L7 6 L0 0 L-7 6 Z' fill='#000'/><text x='-5' y='22'>北</text></g>"
        + "</svg>"
    )


MAP_LEGEND = (
    "<div class='legend'><span class='sw' style='background:linear-gradient(90deg,#d7191c,#fdae61,#ffffbf,#a6d96a,#1a9641)'></span> 综合适宜性 0 → 1"
    "<span class='sw' style='background:#cdcdcd'></span> 约束区（坡度、现有辖区、三区三线、城镇开发边界外）<span class='sw' style='background:#73b2ff'></span> 水域"
    "<span class='sw' style='border:2px solid #000'></span> 现有辖区 <span class='sw' style='border:2px dashed #7b3294'></span> 规划扩区（示意）"
    "<span class='sw' style='border:2px solid #0050b4;background:rgba(0,80,180,.25)'></span> 推荐托管单位（数字为排名）"
    "<span class='sw' style='background:rgba(220,0,80,.45)'></span> 推荐扩区用地 <span class='sw' style='background:rgba(255,215,0,.55)'></span> 永久基本农田（示意）"
    "<span class='sw' style='background:rgba(0,140,70,.5)'></span> 生态保护红线（示意）"
    "<span class='sw' style='border:1px solid #333'></span> 其他候选地块 <span class='sw' style='background:rgba(255,140,0,.35)'></span> 产业园区</div>"
)

CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC","WenQuanYi Micro Hei",sans-serif;margin:24px auto;max-width:1100px;color:#222;line-height:1.55}
h1{font-size:24px}h2{font-size:19px;border-bottom:2px solid #2b6cb0;padding-bottom:4px;margin-top:32px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{border:1px solid #ccc;padding:3px 7px;text-align:left}th{background:#eef3fa}
.note{color:#666;font-size:13px}.warn{background:#fff4e5;border-left:4px solid #f0a020;padding:8px 12px}
.chart text,.map text{font-size:13px;font-family:inherit}.ct{font-size:15px;font-weight:bold}
.park{fill:rgba(255,140,0,.35);stroke:#c06000;stroke-width:.8}.road{fill:none;stroke:#555;stroke-width:1}
.zone-cur{fill:none;stroke:#000;stroke-width:2}.zone-plan{fill:none;stroke:#7b3294;stroke-width:2;stroke-dasharray:6 4}
.blk{fill:none;stroke:#333;stroke-width:1}.blk-sel{fill:rgba(0,80,180,.25);stroke:#0050b4;stroke-width:1.6}
.farm{fill:rgba(255,215,0,.55);stroke:#a08000;stroke-width:1}.eco{fill:rgba(0,140,70,.5);stroke:#006030;stroke-width:1}
.rec{fill:rgba(220,0,80,.45);stroke:#a00040;stroke-width:1.5}
.bl{font-size:11px;fill:#002a66;text-anchor:middle;font-weight:bold}
.legend{font-size:13px}.sw{display:inline-block;width:22px;height:12px;margin:0 4px 0 14px;vertical-align:middle}
"""


def _status_mark(status: str) -> str:
    return {"sample": "（示例值）", "unverified": "（未核实）"}.get(status, "")


def render_report(*, scenario, balance, suitability, layers, tables, dictionary, notes, generated_at, files, summary=None) -> str:
    v = balance.values
    summary = summary or {}
    parts = [
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>南阳高新区扩区研究报告 — {_e(scenario.name)}</title><style>{CSS}</style></head><body>",
        "<h1>南阳高新区扩区研究报告</h1>",
        f"<p>情景：<b>{_e(scenario.name)}</b>（{scenario.base_year} → {scenario.target_year} 年）；生成时间：{_e(generated_at)}</p>",
        "<p class='warn'>样例数据说明：地块、园区、道路与辖区几何为示意位置（schematic），高程与土地覆盖栅格为以固定随机种子生成的示意数据，企业为合成数据；"
        "导入国土部门的实测数据后重新运行即可得到正式结果。标注“假设”的参数请扩区工作组按实际情况修改情景文件。</p>",
    ]
    if summary.get("schematic_note"):
        parts.append(f"<p class='warn'>{_e(summary['schematic_note'])}。永久基本农田、生态保护红线、城镇开发边界与乡镇/村界线的内置样例均为示意数据，不是国土空间规划成果。</p>")
    if notes:
        parts.append("<ul>" + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>")
    parts.append("<h2>一、用地需求：多种方法对照</h2>")
    parts.append(bar_chart([(f"{e.label}{_status_mark(e.status)}", [("决定净需求" if e.deciding else "对照", e.mu)]) for e in balance.demand], "亩",
                           f"{scenario.target_year} 年工业用地需求（亩），各方法并列"))
    parts.append(table_html(balance.demand_table()))
    parts.append(f"<p>决定净需求的口径：{_e('、'.join(e.label for e in balance.demand if e.deciding))}，取其中较大者 <b>{v['demand_mu']:,.0f} 亩</b>；"
                 "标“示例值”“未核实”的方法只作对照，除非情景文件 demand.decide_by 点名。</p>")
    if "重点项目用地（专栏3–8）" in tables:
        parts.append("<h3>规划重点项目用地（专栏3–8 原文）</h3>" + table_html(tables["重点项目用地（专栏3–8）"]))
    parts.append("<h2>二、供给（每块地只计一次）与净需求</h2>")
    supply = [("表2储备地块", v["reserve_supply_mu"]), ("中关村可用用地", v["zhongguancun_supply_mu"]), ("低效用地盘活", v["recycled_supply_mu"])]
    groups = [("工业用地需求", [("需求", v["demand_mu"])]), ("存量与储备供给", supply), ("净需求（扩区）", [("净需求", v["expansion_need_mu"])]),
              ("毛面积需求", [("毛面积", v["expansion_need_gross_mu"])])]
    if "recommended_mu" in v:
        groups.append(("推荐扩区用地", [("推荐", v["recommended_mu"])]))
    parts.append(bar_chart(groups, "亩", "需求、供给、净需求与推荐扩区（亩）"))
    parts.append(f"<p>储备地块与现状工业用地重叠 <b>{v['reserve_overlap_industrial_mu']:,.2f} 亩</b>：已计入现状工业用地，不再计入供给；"
                 "位于中关村科技产业园内的储备地块并入“中关村可用用地”一项，不另计。</p>")
    if "储备地块（只计一次）" in tables:
        parts.append("<h3>储备地块逐块核算</h3>" + table_html(tables["储备地块（只计一次）"]))
    parts.append(table_html(balance.table()))
    parts.append("<p class='note'>低效用地按零有效产出计：其产出正是盘活要替代的部分（保守口径）。</p>")
    parts.append("<h3>表2储备地块按用途</h3>" + table_html(balance.supply_by_use))
    if suitability is not None:
        parts.append("<h2>三、扩区方向、约束与推荐用地</h2>")
        parts.append("<p>规划：“探索沿高新区南区进行整建制托管式扩区”，“与各功能区相呼应、与高新区原有辖区相连接、连片成块便于产业布局”（六（二））。"
                     "推荐用地不含永久基本农田与生态保护红线（刚性排除，不参与加权），其他耕地在适宜性中按成本计；"
                     + ("每一块推荐用地都经由推荐用地与现有辖区相连（整建制托管，按行政单位逐个并入）。</p>" if scenario.expansion.candidates == "admin_units"
                        else f"候选为适宜性连片地块，与现有辖区或已推荐地块的距离不超过 {scenario.suitability.adjacency_tolerance_m:g} 米即视为相连。</p>"))
        if summary.get("recommended_mu") and summary.get("share_in_plan_expansion") is not None:
            target = scenario.suitability.expansion_target_km2
            parts.append(
                f"<p>推荐扩区用地 <b>{summary['recommended_mu']:,.0f} 亩（{summary['recommended_km2']:.2f} km²）</b>，按净需求 {summary['net_need_mu']:,.0f} 亩 × 毛面积系数 "
                f"{summary['gross_up']:g} = {summary['gross_need_mu']:,.0f} 亩确定；规划专栏9 扩展 {target:g} km²（{target * 1500:,.0f} 亩），推荐用地为其 "
                f"{summary['recommended_vs_plan_target'] * 100:.1f}%。其中位于规划南区扩区范围内的比例：<b>{summary['share_in_plan_expansion'] * 100:.1f}%</b>。</p>")
        parts.append(suitability_map(suitability, layers) + MAP_LEGEND)
        w = suitability.weights
        from parcels.study.scenario import CRITERIA

        parts.append(bar_chart([(CRITERIA[k].split("（")[0], [("权重", w[k] * 100)]) for k in CRITERIA], "%", "适宜性因子权重（%）"))
        if "扩区候选单位" in tables:
            parts.append("<h3>候选单位（整建制托管）</h3>" + table_html(tables["扩区候选单位"], limit=30))
        if "扩区候选地块" in tables:
            parts.append("<h3>候选地块排名</h3>" + table_html(tables["扩区候选地块"], limit=30))
    parts.append("<h2>四、规划目标（表1）</h2>" + table_html(tables["规划目标（表1）"]))
    parts.append("<h2>五、数据字典与来源</h2>" + table_html(dictionary))
    parts.append("<h2>六、文件清单</h2><ul>" + "".join(f"<li>{_e(f)}</li>" for f in files.values()) + "</ul>")
    parts.append("<h3>情景参数</h3>" + table_html(tables["情景参数"]))
    parts.append("</body></html>")
    return "".join(parts)
