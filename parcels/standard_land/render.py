"""Reports of 标准地 checks and sheets: self-contained HTML (Chinese) and in-memory XLSX.

Every rule shown carries its source and a status mark that cannot be missed: 已核实 (green),
未核实 (orange badge / cell), 示例值，需高新区确认 (red badge / cell), and matches made through
the unverified 2002→2017 industry table say so. HTML has no external assets (works on the
intranet, prints as is); workbooks are built in memory for the caller to save or stream, with
text cells guarded against formula injection.
"""

from __future__ import annotations

from jinja2 import Environment

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from parcels import vocabulary
from parcels.standard_land.indicators import STATUS_LABELS, format_number, requirement_text, unit_label

VERDICT_LABELS = {"pass": "通过", "fail": "不通过", "incomplete": "信息不全（无法判定）"}
PASS_LABELS = {True: "达标", False: "不达标", None: "信息不全"}
STATUS_FILL = {"confirmed": "C6EFCE", "unverified": "FFEB9C", "sample": "FFC7CE"}
PASS_FILL = {True: "C6EFCE", False: "FFC7CE", None: "D9D9D9"}
VERDICT_FILL = {"pass": "C6EFCE", "fail": "FFC7CE", "incomplete": "D9D9D9"}
MAPPING_MARK = "行业代码对照未核实"
PROVISIONAL_TEXT = "本结果所依据的规则中含“未核实”或“示例值”规则，结论为暂定，须以正式文件和高新区确认的指标为准。"

CSS = """
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;margin:24px;color:#222;font-size:14px}
h1{font-size:22px;margin:0 0 8px}h2{font-size:17px;margin:22px 0 8px;border-left:4px solid #2f6f9f;padding-left:8px}
table{border-collapse:collapse;width:100%;margin:6px 0 12px}th,td{border:1px solid #bbb;padding:5px 7px;vertical-align:top;text-align:left}
th{background:#eef3f8}td.num{text-align:right;white-space:nowrap}td.nw{white-space:nowrap}.meta td:first-child{width:160px;background:#f7f7f7}
.verdict{display:inline-block;padding:6px 16px;font-size:18px;font-weight:bold;border-radius:4px}
.verdict-pass{background:#c6efce;color:#006100}.verdict-fail{background:#ffc7ce;color:#9c0006}.verdict-incomplete{background:#e0e0e0;color:#333}
.badge{display:inline-block;padding:1px 6px;border-radius:3px;font-size:12px;white-space:nowrap;margin:1px 0}
.status-confirmed{background:#c6efce;color:#006100}.status-unverified{background:#ffb347;color:#5a2d00;font-weight:bold}
.status-sample{background:#ff6b6b;color:#fff;font-weight:bold}.schematic{background:#fff;color:#9c0006;border:1px dashed #9c0006;font-weight:bold}.mapping{background:#fff3cd;color:#7a5b00;border:1px dashed #c9a100}
.decisive{color:#9c0006;font-weight:bold}.pass-true{color:#006100;font-weight:bold}.pass-false{color:#9c0006;font-weight:bold}.pass-none{color:#666;font-weight:bold}
tr.secondary td{color:#666;background:#fafafa}.warn{background:#fff3cd;border:1px solid #e0c36a;padding:8px 12px;margin:10px 0}
.na{background:#eef3f8;border:1px solid #9db8d2;padding:10px 14px;margin:10px 0;font-size:15px}
.small{font-size:12px;color:#555}ul{margin:4px 0 8px 18px;padding:0}
@media print{body{margin:8mm}.badge{border:1px solid #666}}
"""

BADGES = """
{%- macro status_badge(status) -%}
<span class="badge status-{{ status }}">{{ labels.get(status, status) }}</span>
{%- endmacro -%}
{%- macro mapping_badge(m) -%}
{%- if m and m.status != 'confirmed' %} <span class="badge mapping" title="{{ m.source }}">{{ mapping_mark }}（2017:{{ m.code_2017 }}→2002:{{ m.code_2002 }}）</span>{% endif -%}
{%- endmacro -%}
"""

LEGEND = """
<h2>标记说明</h2>
<ul>
<li>{{ status_badge('confirmed') }} 数值已在所引来源中核实（多为转载，法律用途前须与官方原文核对）。</li>
<li>{{ status_badge('unverified') }} 数值据回忆或推断、来源不明或转载不完整，属暂定规则，须以官方正式文本核实。</li>
<li>{{ status_badge('sample') }} 仅供演示的示例值，须由高新区按本区标准地指标表确认后替换。</li>
<li><span class="badge mapping">{{ mapping_mark }}</span> 规则按 GB/T 4754-2002 行业代码制定，经 2002→2017 大类对照表匹配，该对照表尚未核实。</li>
<li><span class="decisive">★ 决定</span> 同一指标有多条规则时取最严者判定；未标记的行为同时适用但较宽的规则，仅供参考。</li>
<li>余量：对“≥”指标为 数值 − 限值，对“≤”指标为 限值 − 数值；负数表示不达标。</li>
</ul>
"""

CHECK_TEMPLATE = BADGES + """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>标准地控制指标核查结果{% if p.name %} - {{ p.name }}{% endif %}</title>
<style>{{ css }}</style></head><body>
<h1>标准地控制指标核查结果</h1>
<table class="meta">
<tr><td>项目名称</td><td>{{ p.name or '（未填写）' }}</td></tr>
<tr><td>{{ v.label('parcel_id') }}</td><td>{{ p.parcel_id or '（未指定地块）' }}{% if parcel and parcel.name %}　{{ parcel.name }}{% endif %}</td></tr>
<tr><td>{{ v.label('land_area_mu') }}</td><td>{{ fmt(p.land_mu) }} {{ v.unit('land_area_mu') }}（{{ fmt(p.land_m2, 2) }} {{ v.unit('area_m2') }}）{% if r.land_area and r.land_area.schematic %} <span class="badge schematic">示意几何面积</span><div class="small">{{ r.land_area.note }}</div>{% endif %}</td></tr>
<tr><td>用地用途</td><td>{{ p.use or '未知' }}{% if p.district %}　辖区：{{ p.district }}{% endif %}{% if p.park %}　园区：{{ p.park }}{% endif %}</td></tr>
<tr><td>行业（GB/T 4754-2017）</td><td>{{ p.industry_code or '（未填写）' }} {{ p.industry_name }}</td></tr>
<tr><td>检查阶段</td><td>{{ p.phase }}</td></tr>
<tr><td>结论</td><td><span class="verdict verdict-{{ r.verdict }}">{{ verdict_labels[r.verdict] }}</span></td></tr>
</table>
{% if r.provisional %}<div class="warn">⚠ {{ provisional_text }}</div>{% endif %}
<h2>指标核查明细</h2>
<table>
<tr><th>指标</th><th>数值</th><th>要求</th><th>是否达标</th><th>余量</th><th>判定</th><th>规则状态</th><th>规则来源</th><th>说明</th></tr>
{% for i in r.indicators %}
<tr class="{{ '' if i.decisive else 'secondary' }}">
<td>{{ i.name }}<div class="small">{{ i.indicator }}</div></td>
<td class="num">{{ fmt(i.value) }}{% if i.value is not none and i.unit %} {{ i.unit }}{% endif %}</td>
<td class="num">{{ req(i.op, i.limit, i.unit) }}</td>
<td class="nw pass-{{ 'none' if i['pass'] is none else ('true' if i['pass'] else 'false') }}">{{ pass_labels[i['pass']] }}</td>
<td class="num">{{ fmt(i.margin) }}</td>
<td class="nw">{% if i.decisive %}<span class="decisive">★ 决定</span>{% else %}参考{% endif %}</td>
<td>{{ status_badge(i.status) }}{{ mapping_badge(i.industry_mapping) }}</td>
<td>{{ i.source }}<div class="small">规则 {{ i.rule_id }}；阶段 {{ i.phase|join('、') }}；适用范围 {{ i.scope }}</div></td>
<td class="small">{{ i.note }}</td>
</tr>
{% endfor %}
</table>
<h2>所用规则集</h2>
<table><tr><th>规则集</th><th>状态</th><th>来源</th><th>备注</th></tr>
{% for s in sets %}<tr><td>{{ s.name }}<div class="small">{{ s.id }}</div></td><td>{{ status_badge(s.status) }}</td><td>{{ s.source }}</td><td class="small">{{ s.note }}</td></tr>{% endfor %}
</table>
{% if notes %}<h2>说明</h2><ul>{% for n in notes %}<li>{{ n }}</li>{% endfor %}</ul>{% endif %}
""" + LEGEND + """
<p class="small">由 landgis 生成。标准地“按标做地、明标供地、履标用地、对标管地”。</p>
</body></html>
"""

SHEET_TEMPLATE = BADGES + """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>标准地指标清单 - {{ d.parcel_id }}</title>
<style>{{ css }}</style></head><body>
<h1>标准地指标清单（按标做地、明标供地）</h1>
<table class="meta">
<tr><td>{{ v.label('parcel_id') }}</td><td>{{ d.parcel_id }}</td></tr>
<tr><td>项目名称</td><td>{{ d.parcel.name or '' }}</td></tr>
<tr><td>{{ v.label('district') }}</td><td>{{ d.parcel.district or '' }}</td></tr>
<tr><td>位置</td><td>{{ d.parcel.location or '' }}</td></tr>
<tr><td>用途</td><td>{{ d.parcel.use or '未知' }}</td></tr>
<tr><td>{{ v.label('area_mu') }}</td><td>{% if d.parcel.area_mu is not none %}{{ fmt(d.parcel.area_mu) }} {{ v.unit('area_mu') }}（{{ v.label('area_m2') }} {{ fmt(d.parcel.area_m2, 2) }} {{ v.unit('area_m2') }}{% if d.parcel.ellipsoid_area_m2 is not none %}；{{ v.label('ellipsoid_area_m2') }} {{ fmt(d.parcel.ellipsoid_area_m2, 2) }} {{ v.unit('ellipsoid_area_m2') }}{% endif %}）{% endif %}{% if d.area_schematic %} <span class="badge schematic">示意几何面积</span><div class="small">{{ d.area_note }}</div>{% endif %}</td></tr>
<tr><td>拟引进行业</td><td>{% if d.industry_code %}{{ d.industry_code }} {{ d.industry_name }}（GB/T 4754-2017）{% else %}未指定{% endif %}</td></tr>
</table>
{% if not d.applicable %}
<div class="na">{{ d.message }}</div>
{% else %}
{% if provisional %}<div class="warn">⚠ 本清单中含“未核实”或“示例值”指标，出让公告前须以正式文件和高新区确认的指标替换。</div>{% endif %}
{% if d.message %}<div class="na">{{ d.message }}</div>{% endif %}
<h2>控制指标</h2>
<table>
<tr><th>指标</th><th>要求</th><th>检查阶段</th><th>规则状态</th><th>依据（取最严者）</th><th>同时适用的规则</th></tr>
{% for i in d.indicators %}
<tr>
<td>{{ i.name }}{% if i.slot %}<div class="small">“3+N+1” 中的“{{ i.slot }}”类</div>{% endif %}</td>
<td class="num">{{ i.requirement }}</td>
<td>{{ i.phase|join('、') }}</td>
<td>{{ status_badge(i.status) }}</td>
<td>{{ i.source }}{% if i.industry_dependent %}<div class="small">按行业取值，见“分行业控制值”</div>{% endif %}</td>
<td class="small">{% for x in i.rules %}<div>{% if x.decisive %}<span class="decisive">★</span>{% endif %}{{ x.requirement }} {{ status_badge(x.status) }} {{ x.rule_id }}</div>{% endfor %}</td>
</tr>
{% endfor %}
</table>
{% if d.by_industry %}
<h2>分行业控制值</h2>
<table><tr><th>指标</th><th>行业（GB/T 4754-2017）</th><th>原表代码（2002）</th><th>要求</th><th>规则状态</th><th>来源</th></tr>
{% for b in d.by_industry %}<tr><td>{{ b.name }}</td><td>{{ b.code_2017 }} {{ b.name_2017 }}</td><td>{{ b.code_2002 }}</td><td class="num">{{ b.requirement }}</td>
<td>{{ status_badge(b.status) }}{% if b.mapping_status and b.mapping_status != 'confirmed' %} <span class="badge mapping">{{ mapping_mark }}</span>{% endif %}</td><td class="small">{{ b.source }}</td></tr>{% endfor %}
</table>
{% endif %}
{% if d.slots %}
<h2>待定指标</h2>
<table><tr><th>类别</th><th>名称</th><th>状态</th><th>说明</th></tr>
{% for s in d.slots %}<tr><td>“{{ s.slot }}”</td><td>{{ s.name }}</td><td>{{ status_badge(s.status or 'unverified') }}</td><td>{{ s.note }}{% if s.candidates %}<div class="small">候选：{{ s.candidates|join('、') }}</div>{% endif %}</td></tr>{% endfor %}
</table>
{% endif %}
{% endif %}
<h2>所用规则集</h2>
<table><tr><th>规则集</th><th>状态</th><th>来源</th><th>备注</th></tr>
{% for s in d.rule_sets %}<tr><td>{{ s.name }}<div class="small">{{ s.id }}</div></td><td>{{ status_badge(s.status) }}</td><td>{{ s.source }}</td><td class="small">{{ s.note }}</td></tr>{% endfor %}
</table>
{% if d.notes %}<h2>说明</h2><ul>{% for n in d.notes %}<li>{{ n }}</li>{% endfor %}</ul>{% endif %}
""" + LEGEND + """
<p class="small">由 landgis 生成。</p>
</body></html>
"""

_env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)


def _fmt(v, digits: int = 4) -> str:
    return "—" if v is None else format_number(v, digits)


def _common() -> dict:
    return {
        "css": CSS, "labels": STATUS_LABELS, "mapping_mark": MAPPING_MARK, "fmt": _fmt,
        "req": requirement_text, "verdict_labels": VERDICT_LABELS, "pass_labels": PASS_LABELS,
        "provisional_text": PROVISIONAL_TEXT, "v": vocabulary,
    }


def check_html(result) -> str:
    """Self-contained Chinese HTML report of a CheckResult."""
    sets = [{"id": s.id, "name": s.name, "source": s.source, "status": s.status, "note": s.note} for s in result.rule_sets]
    return _env.from_string(CHECK_TEMPLATE).render(r=result, p=result.project, parcel=result.parcel, sets=sets, notes=result.notes, **_common())


def sheet_html(sheet) -> str:
    """Self-contained Chinese HTML 指标清单 of a parcel."""
    return _env.from_string(SHEET_TEMPLATE).render(d=sheet.to_dict(), provisional=sheet.provisional, **_common())


# --- XLSX -----------------------------------------------------------------------------------

_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="DCE6F1")


def safe(v):
    """Text that a spreadsheet would run as a formula (=, +, -, @) is prefixed with a quote."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return v


def _fill(color: str) -> PatternFill:
    return PatternFill("solid", fgColor=color)


def _table(ws, start_row: int, headers: list[str], rows: list[list], widths: list[int] | None = None) -> int:
    for j, h in enumerate(headers, start=1):
        c = ws.cell(row=start_row, column=j, value=h)
        c.font = Font(bold=True)
        c.fill = _HEAD_FILL
        c.border = _BORDER
        c.alignment = Alignment(wrap_text=True, vertical="center")
    for i, row in enumerate(rows, start=start_row + 1):
        for j, v in enumerate(row, start=1):
            c = ws.cell(row=i, column=j, value=safe(v))
            c.border = _BORDER
            c.alignment = Alignment(wrap_text=True, vertical="top")
    for j, w in enumerate(widths or [], start=1):
        ws.column_dimensions[get_column_letter(j)].width = w
    return start_row + len(rows) + 1


def _meta(ws, title: str, pairs: list[tuple[str, object]]) -> int:
    ws.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
    for i, (k, v) in enumerate(pairs, start=2):
        ws.cell(row=i, column=1, value=k).font = Font(bold=True)
        ws.cell(row=i, column=2, value=safe(v))
    return len(pairs) + 3


def _legend_sheet(wb: Workbook, notes: list[str]) -> None:
    ws = wb.create_sheet("说明")
    rows = [
        [STATUS_LABELS["confirmed"], "数值已在所引来源中核实（多为转载，法律用途前须与官方原文核对）"],
        [STATUS_LABELS["unverified"], "数值据回忆或推断、来源不明或转载不完整，属暂定规则，须以官方正式文本核实"],
        [STATUS_LABELS["sample"], "仅供演示的示例值，须由高新区按本区标准地指标表确认后替换"],
        [MAPPING_MARK, "规则按 GB/T 4754-2002 行业代码制定，经 2002→2017 大类对照表匹配，该对照表尚未核实"],
        ["★ 决定", "同一指标有多条规则时取最严者判定；其余为同时适用但较宽的规则"],
        ["余量", "“≥”指标为 数值−限值，“≤”指标为 限值−数值；负数表示不达标"],
    ]
    end = _table(ws, 1, ["标记", "含义"], rows, [26, 90])
    for i, status in enumerate(("confirmed", "unverified", "sample"), start=2):
        ws.cell(row=i, column=1).fill = _fill(STATUS_FILL[status])
    for k, n in enumerate(notes, start=end + 1):
        ws.cell(row=k, column=1, value="说明" if k == end + 1 else None)
        ws.cell(row=k, column=2, value=safe(n))


def _sets_sheet(wb: Workbook, sets: list[dict]) -> None:
    ws = wb.create_sheet("规则集")
    _table(ws, 1, ["规则集编号", "名称", "状态", "来源", "备注"],
           [[s["id"], s["name"], STATUS_LABELS.get(s["status"], s["status"]), s["source"], s["note"]] for s in sets], [22, 40, 22, 70, 60])
    for i, s in enumerate(sets, start=2):
        ws.cell(row=i, column=3).fill = _fill(STATUS_FILL.get(s["status"], "FFFFFF"))


def check_workbook(result) -> Workbook:
    """XLSX of a CheckResult: results with highlighted status and pass cells, rule sets, legend."""
    wb = Workbook()
    ws = wb.active
    ws.title = "核查结果"
    p = result.project
    start = _meta(ws, "标准地控制指标核查结果", [
        ("项目名称", p.get("name") or "（未填写）"),
        (vocabulary.label("parcel_id"), p.get("parcel_id") or "（未指定地块）"),
        (vocabulary.label_with_unit("land_area_mu"), p.get("land_mu")),
        ("用地面积(平方米)", round(p["land_m2"], 2) if p.get("land_m2") is not None else None),
        ("面积说明", result.land_area["note"] if result.land_area and result.land_area["schematic"] else ""),
        ("用地用途", p.get("use") or "未知"),
        ("行业代码(GB/T 4754-2017)", f"{p.get('industry_code') or ''} {p.get('industry_name') or ''}".strip() or "（未填写）"),
        ("检查阶段", p.get("phase")),
        ("结论", VERDICT_LABELS[result.verdict]),
    ])
    ws.cell(row=start - 2, column=2).fill = _fill(VERDICT_FILL[result.verdict])
    if result.land_area and result.land_area["schematic"]:
        ws.cell(row=start - 6, column=2).fill = _fill(STATUS_FILL["sample"])
    if result.provisional:
        ws.cell(row=start - 1, column=1, value="注意").font = Font(bold=True, color="9C0006")
        ws.cell(row=start - 1, column=2, value=PROVISIONAL_TEXT).fill = _fill(STATUS_FILL["unverified"])
        start += 1
    headers = ["指标", "指标键", "数值", "要求", "运算符", "限值", "单位", "是否达标", "余量", "判定", "规则状态",
               "行业代码对照", "规则来源", "规则编号", "规则集", "检查阶段", "适用范围", "说明"]
    rows = []
    for i in result.indicators:
        m = i.get("industry_mapping")
        rows.append([
            i["name"], i["indicator"], i["value"], requirement_text(i["op"], i["limit"], i["unit"]), i["op"], i["limit"],
            unit_label(i["unit"]), PASS_LABELS[i["pass"]], i["margin"], "★ 决定" if i["decisive"] else "参考",
            STATUS_LABELS.get(i["status"], i["status"]),
            (f"{MAPPING_MARK}（2017:{m['code_2017']}→2002:{m['code_2002']}）" if m and m["status"] != "confirmed" else ("已核实" if m else "")),
            i["source"], i["rule_id"], i["rule_set"], "、".join(i["phase"]), i["scope"], i["note"],
        ])
    _table(ws, start, headers, rows, [22, 20, 10, 16, 8, 8, 10, 10, 10, 9, 20, 26, 60, 30, 18, 16, 30, 60])
    for k, i in enumerate(result.indicators, start=start + 1):
        ws.cell(row=k, column=8).fill = _fill(PASS_FILL[i["pass"]])
        ws.cell(row=k, column=11).fill = _fill(STATUS_FILL.get(i["status"], "FFFFFF"))
        m = i.get("industry_mapping")
        if m and m["status"] != "confirmed":
            ws.cell(row=k, column=12).fill = _fill(STATUS_FILL["unverified"])
        if i["decisive"]:
            ws.cell(row=k, column=10).font = Font(bold=True, color="9C0006")
    ws.freeze_panes = ws.cell(row=start + 1, column=2)
    _sets_sheet(wb, [{"id": s.id, "name": s.name, "source": s.source, "status": s.status, "note": s.note} for s in result.rule_sets])
    _legend_sheet(wb, result.notes)
    return wb


def sheet_workbook(sheet) -> Workbook:
    """XLSX 指标清单: indicators with status cells, per-industry limits, open slots, rule sets, legend."""
    d = sheet.to_dict()
    pa = d["parcel"]
    wb = Workbook()
    ws = wb.active
    ws.title = "指标清单"
    start = _meta(ws, "标准地指标清单（按标做地、明标供地）", [
        (vocabulary.label("parcel_id"), d["parcel_id"]), ("项目名称", pa.get("name")),
        (vocabulary.label("district"), pa.get("district")), ("位置", pa.get("location")),
        ("用途", pa.get("use")), (vocabulary.label_with_unit("area_mu"), pa.get("area_mu")),
        (vocabulary.label_with_unit("area_m2"), pa.get("area_m2")),
        (vocabulary.label_with_unit("ellipsoid_area_m2"), pa.get("ellipsoid_area_m2")),
        ("面积说明", d["area_note"]),
        ("拟引进行业", f"{d['industry_code']} {d['industry_name']}" if d["industry_code"] else "未指定"),
        ("是否适用标准地", "适用" if d["applicable"] else "不适用"),
    ])
    if d["area_schematic"]:
        ws.cell(row=start - 4, column=2).fill = _fill(STATUS_FILL["sample"])
    if not d["applicable"]:
        ws.cell(row=start, column=1, value="说明").font = Font(bold=True)
        ws.cell(row=start, column=2, value=d["message"]).fill = _fill("DCE6F1")
    else:
        if sheet.provisional:
            ws.cell(row=start - 1, column=1, value="注意").font = Font(bold=True, color="9C0006")
            ws.cell(row=start - 1, column=2, value="本清单中含“未核实”或“示例值”指标，出让公告前须以正式文件和高新区确认的指标替换。").fill = _fill(STATUS_FILL["unverified"])
            start += 1
        rows = [[i["name"], i["indicator"], i["requirement"], i["op"], i["limit"], unit_label(i["unit"]), "、".join(i["phase"]),
                 STATUS_LABELS.get(i["status"], i["status"]), i["source"], i["decisive_rule"] or "按行业确定",
                 f"“{i['slot']}”类" if i["slot"] else "",
                 "；".join(f"{'★' if x['decisive'] else ''}{x['requirement']}（{STATUS_LABELS.get(x['status'])}，{x['rule_id']}）" for x in i["rules"])]
                for i in d["indicators"]]
        _table(ws, start, ["指标", "指标键", "要求", "运算符", "限值", "单位", "检查阶段", "规则状态", "依据（取最严者）", "决定规则", "3+N+1 类别", "同时适用的规则"],
               rows, [24, 20, 18, 8, 8, 10, 16, 22, 60, 30, 12, 80])
        for k, i in enumerate(d["indicators"], start=start + 1):
            ws.cell(row=k, column=8).fill = _fill(STATUS_FILL.get(i["status"], "FFFFFF"))
        if d["by_industry"]:
            wi = wb.create_sheet("分行业控制值")
            _table(wi, 1, ["指标", "行业代码(2017)", "行业名称(2017)", "原表代码(2002)", "要求", "规则状态", "行业代码对照", "来源", "规则编号"],
                   [[b["name"], b["code_2017"], b["name_2017"], b["code_2002"], b["requirement"], STATUS_LABELS.get(b["status"]),
                     MAPPING_MARK if b["mapping_status"] and b["mapping_status"] != "confirmed" else "", b["source"], b["rule_id"]] for b in d["by_industry"]],
                   [12, 14, 34, 14, 12, 22, 20, 70, 26])
            for k, b in enumerate(d["by_industry"], start=2):
                wi.cell(row=k, column=6).fill = _fill(STATUS_FILL.get(b["status"], "FFFFFF"))
                if b["mapping_status"] and b["mapping_status"] != "confirmed":
                    wi.cell(row=k, column=7).fill = _fill(STATUS_FILL["unverified"])
        if d["slots"]:
            wslot = wb.create_sheet("待定指标")
            _table(wslot, 1, ["类别", "名称", "状态", "说明", "候选"],
                   [[f"“{s['slot']}”", s.get("name"), STATUS_LABELS.get(s.get("status", "unverified")), s.get("note"), "、".join(s.get("candidates", []))] for s in d["slots"]],
                   [8, 24, 22, 80, 40])
            for k in range(2, len(d["slots"]) + 2):
                wslot.cell(row=k, column=3).fill = _fill(STATUS_FILL["unverified"])
    _sets_sheet(wb, d["rule_sets"])
    _legend_sheet(wb, d["notes"])
    return wb
