"""The intensity evaluation as officials read it: an XLSX (指标, 潜力, 分值, 说明) and a self-contained
HTML report in Chinese. Pure: the evaluation dict in, bytes/text out. Values are rounded to 2
places; each row carries its formula, the national figure with year and source, and the status.
"""

from __future__ import annotations

import html
import io

STATUS_ZH = {"confirmed": "已核实", "unverified": "未核实", "sample": "示例（非正式）"}
HEADERS = ("指标", "计算公式", "数值", "单位", "全国国家级开发区数值", "全国值年度", "全国值来源", "状态", "推导方式", "说明")


def _r(v, nd: int = 2):
    return None if v is None else round(float(v), nd)


def title(doc: dict) -> str:
    return f"{doc.get('zone') or '开发区'}土地集约利用评价（{doc['year']} 年度）"


def provenance(doc: dict) -> str:
    src = doc.get("survey", {})
    text = "数据：" + (src.get("label") or "")
    return text


def indicator_rows(doc: dict) -> list[list]:
    """One row per indicator in the order of HEADERS."""
    out = []
    for i in doc["indicators"]:
        out.append([
            i["name"], i["formula"], _r(i["value"]), i["unit"], i["national"], i.get("national_year"), i.get("source") or "",
            STATUS_ZH.get(i["status"], i["status"]), i.get("derived") or "", i.get("note") or "",
        ])
    return out


def notes(doc: dict) -> list[str]:
    out = [provenance(doc)] if doc.get("survey") else []
    out += list(doc.get("survey", {}).get("notes", []))
    out += list(doc.get("notes", []))
    out.append(f"指标定义：{doc['indicator_set']['source']}（{STATUS_ZH.get(doc['indicator_set']['status'], '')}）。")
    out.append(f"全国值：{doc['national']['title']}，均转引自二手来源（{STATUS_ZH.get(doc['national']['status'], '')}），引用前请核对原通报。")
    return out


def potential_rows(doc: dict) -> list[list]:
    p = doc["potential"]
    rows = [["已达到供地条件而未供应的土地（公顷）", _r(p["ready_unsupplied_ha"], 4)], ["已达到供地条件而未供应的土地（亩）", _r(p["ready_unsupplied_mu"])]]
    rows += [[f"{y} 年供地面积（公顷）", _r(v, 4)] for y, v in p["supply_by_year_ha"].items()]
    rows += [["近年年均供地面积（公顷）", _r(p["mean_yearly_supply_ha"], 4)], ["尚可供地年数（年）", p["years_of_supply"]],
             ["计算方法", p["formula"]], ["依据", p["source"]], ["状态", STATUS_ZH.get(p["status"], p["status"])]]
    if p.get("note"):
        rows.append(["说明", p["note"]])
    return rows


def zone_type_rows(doc: dict) -> list[list]:
    z = doc["zone_type"]
    return [["开发区类型", z["type"] or "无法判定"], ["住宅用地占已建成城镇建设用地比例(%)", _r(z["residential_share"])],
            ["工矿仓储用地占已建成城镇建设用地比例(%)", _r(z["industrial_share"])], ["判定规则", z["rule"]], ["依据", z["source"]],
            ["状态", STATUS_ZH.get(z["status"], z["status"])]]


def area_rows(doc: dict) -> list[list]:
    names = {"total": "调查图斑合计", "built": "已建成城镇建设用地（A）", "industrial": "其中：工矿仓储用地（A2）", "high_tech": "其中：高新技术产业用地（H）",
             "residential": "其中：住宅用地", "ready": "已达到供地条件的其他土地（B21）", "ready_unsupplied": "其中：尚未供应", "not_ready": "未达到供地条件的土地",
             "unavailable": "不可建设土地", "supplied": "已供应国有建设用地（D）", "idle": "闲置土地（G）"}
    a = doc["areas_ha"]
    return [[label, _r(a.get(k), 4), _r(a.get(k, 0) * 15, 2)] for k, label in names.items() if k in a]


def score_rows(doc: dict) -> list[list]:
    s = doc.get("score")
    if not s:
        return [["未计算集约度分值：未给出权重与理想值（规程数值未取得）。"]]
    names = {i["key"]: i["name"] for i in doc["indicators"]}
    rows = [[f"集约度分值：{s['value']}（权重集 {s['name']}，状态：{STATUS_ZH.get(s['status'], s['status'])}）"], [s.get("note", "")], [f"方法：{s['method']}（{STATUS_ZH.get(s['method_status'], '')}）"],
            ["指标", "权重", "理想值", "方向", "标准化分值"]]
    rows += [[names.get(i["key"], i["key"]), i["weight"], i["ideal"], "正向" if i["direction"] == "+" else "逆向", _r(i["score"])] for i in s["items"]]
    if s["missing"]:
        rows.append(["无数值未计入：" + "、".join(names.get(k, k) for k in s["missing"])])
    return rows


def intensity_workbook(doc: dict) -> bytes:
    """XLSX: 评价指标, 土地面积, 潜力与类型, 集约度, 说明 (Chinese sheets and headers)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font


    wb = Workbook()
    ws = wb.active
    ws.title = "评价指标"
    ws.append([title(doc)])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(list(HEADERS))
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in indicator_rows(doc):
        ws.append(row)
    for col, width in zip("ABCDEFGHIJ", (22, 60, 12, 10, 16, 10, 50, 12, 40, 40)):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=3):
        row[1].alignment = Alignment(wrap_text=True)
    ws.append([])
    for n in notes(doc):
        ws.append([n])
    ws.freeze_panes = "B3"
    for name, header, rows in (("土地面积", ["地类", "面积(公顷)", "面积(亩)"], area_rows(doc)), ("潜力与类型", ["项目", "数值"], potential_rows(doc) + [[]] + zone_type_rows(doc)),
                               ("集约度", None, score_rows(doc)), ("说明", ["说明"], [[n] for n in notes(doc)])):
        sheet = wb.create_sheet(name)
        if header:
            sheet.append(header)
            for cell in sheet[1]:
                cell.font = Font(bold=True)
        for row in rows:
            sheet.append(row)
        sheet.column_dimensions["A"].width = 44
        sheet.column_dimensions["B"].width = 60
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _table(header: list | tuple, rows: list[list]) -> str:
    e = html.escape
    cells = lambda r, tag: "".join(f"<{tag}>{'' if v is None else e(str(v))}</{tag}>" for v in r)  # noqa: E731
    return "<table><tr>" + cells(header, "th") + "</tr>" + "".join("<tr>" + cells(r, "td") + "</tr>" for r in rows) + "</table>"


def intensity_section(doc: dict, level: int = 2) -> str:
    """The report's body (no <html>): also the 扩区 study report's section."""
    e = html.escape
    h = f"h{level}"
    parts = [f"<{h}>评价指标与全国国家级开发区对比</{h}>"]
    parts += [f"<p class='note'>{e(n)}</p>" for n in notes(doc)]
    parts.append(_table(HEADERS, indicator_rows(doc)))
    parts.append(f"<{h}>土地面积</{h}>" + _table(["地类", "面积(公顷)", "面积(亩)"], area_rows(doc)))
    parts.append(f"<{h}>潜力（尚可供地年数）</{h}>" + _table(["项目", "数值"], potential_rows(doc)))
    parts.append(f"<{h}>开发区类型</{h}>" + _table(["项目", "数值"], zone_type_rows(doc)))
    s = score_rows(doc)
    parts.append(f"<{h}>集约度分值</{h}>" + ("".join(f"<p>{e(str(r[0]))}</p>" for r in s) if not doc.get("score") else
                                          "".join(f"<p>{e(str(r[0]))}</p>" for r in s[:3]) + _table(s[3], s[4:])))
    return "".join(parts)


def intensity_html(doc: dict) -> str:
    """A self-contained HTML report in Chinese (no script, no external asset)."""
    e = html.escape
    return ("<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
            f"<title>{e(title(doc))}</title>"
            "<style>body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:24px;color:#222}"
            "table{border-collapse:collapse;margin:8px 0 24px;font-size:13px}th,td{border:1px solid #bbb;padding:4px 8px;text-align:left;vertical-align:top}"
            "th{background:#eef2f6}.note{color:#8a4b00}h2{border-left:4px solid #1f5f99;padding-left:8px}</style></head><body>"
            f"<h1>{e(title(doc))}</h1>" + intensity_section(doc) + "</body></html>")
