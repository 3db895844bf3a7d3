"""The supervision report as the bureau reads it: the XLSX 台账 (one sheet per list, Chinese
headers, rounded figures) and an HTML report in Chinese. Pure: the report dict in, bytes/text out.

Text cells that a spreadsheet would run as a formula are neutralised (gis.io), as in every export.
"""

from __future__ import annotations

import html
import io

import pandas as pd

from gis.io import neutralize_formulas
from parcels.supply.supervise import KIND_TITLES, LIST_TITLES, STAGE_TITLES

HEADERS = {
    "id": "宗地编号", "reserve_parcel_id": "储备地块编号", "land_use": "土地用途", "supply_method": "供地方式", "grantee": "受让人",
    "contract_no": "合同编号", "approval_no": "批准文号", "area_m2": "面积(平方米)", "area_mu": "面积(亩)",
    "approval_date": "批准日期", "supply_date": "供地日期", "agreed_start_date": "约定动工日期", "actual_start_date": "实际动工日期",
    "agreed_completion_date": "约定竣工日期", "actual_completion_date": "实际竣工日期", "agreed_production_date": "约定达产日期",
    "actual_production_date": "实际达产日期", "halted_since": "中止开发起始日期", "idle_from": "满一年（转为闲置）日期",
    "developed_share": "已开发面积占比", "invested_share": "已投资额占比", "delay_cause": "延迟原因", "price_wan": "价款(万元)",
    "kind_zh": "闲置类型", "stage_zh": "处置阶段", "fee_wan": "土地闲置费(万元)", "days": "超过判定日期天数",
    "over_two_years_zh": "批准满两年", "legal_basis": "依据", "geometry_source": "几何来源", "reason": "说明",
    "layer_zh": "图层", "overlap_m2": "重叠面积(平方米)", "overlap_mu": "重叠面积(亩)", "share_pct": "占本宗比例(%)", "others_text": "重叠的已供土地", "note": "说明",
}
DROP = ("kind", "stage", "over_two_years", "layer", "share", "others")
ROUND = {"area_m2": 2, "area_mu": 2, "fee_wan": 2, "price_wan": 2, "overlap_m2": 2, "overlap_mu": 2, "share_pct": 1, "developed_share": 3, "invested_share": 3}
SHEETS = ("approved_not_supplied", "supplied_not_started", "idle", "completion_overdue", "production_review_due", "incomplete", "conflicts")


def list_frame(report: dict, name: str) -> pd.DataFrame:
    """One list of the report as a table with Chinese headers and rounded figures."""
    items = report.get(name) or []
    frame = pd.DataFrame(items)
    if frame.empty:
        return pd.DataFrame(columns=["说明"])
    if "over_two_years" in frame.columns:
        frame["over_two_years_zh"] = frame["over_two_years"].map({True: "是", False: "否"})
    if "share" in frame.columns:
        frame["share_pct"] = pd.to_numeric(frame["share"], errors="coerce") * 100
    if "others" in frame.columns:
        frame["others_text"] = frame["others"].map(lambda os_: "、".join(f"{o['id']}（{o['overlap_m2']:.0f} 平方米）" for o in os_))
    frame = frame.drop(columns=[c for c in DROP if c in frame.columns])
    for col, nd in ROUND.items():
        if col in frame.columns:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").round(nd)
    if "geometry_source" in frame.columns:
        frame["geometry_source"] = frame["geometry_source"].map(lambda v: "示意（schematic）" if v == "schematic" else v)
    return neutralize_formulas(frame).rename(columns=HEADERS)


def _title(report: dict) -> str:
    return f"南阳高新区土地供应监管台账（批供用补查），截至 {report['as_of']}"


def supervision_workbook(report: dict) -> bytes:
    """The XLSX 台账: a 汇总 sheet, then one sheet per list (Chinese names and headers)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"
    ws.append([_title(report)])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(["清单", "宗数", "面积(平方米)", "面积(亩)"])
    totals = report["totals"]
    for name in SHEETS[:-1]:
        t = totals.get(name, {})
        ws.append([LIST_TITLES[name], t.get("count", 0), round(t.get("area_m2", 0.0), 2), round(t.get("area_mu", 0.0), 2)])
    ws.append([LIST_TITLES["conflicts"], totals.get("conflicts", {}).get("count", 0), None, None])
    idle = totals.get("idle", {})
    ws.append([])
    ws.append(["土地闲置费合计(万元)", round(idle.get("fee_wan", 0.0), 2)])
    for stage, title in STAGE_TITLES.items():
        ws.append([f"闲置土地：{title}（宗）", idle.get("by_stage", {}).get(stage, 0)])
    for kind, title in KIND_TITLES.items():
        ws.append([f"闲置土地：{title}（宗）", idle.get("by_kind", {}).get(kind, 0)])
    ws.append([])
    for note in report.get("notes", []):
        ws.append([note])
    ws.column_dimensions["A"].width = 40
    for name in SHEETS:
        frame = list_frame(report, name)
        sheet = wb.create_sheet(LIST_TITLES[name])
        sheet.append(list(frame.columns))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in frame.itertuples(index=False):
            sheet.append([None if (isinstance(v, float) and v != v) else v for v in row])
        for i, col in enumerate(frame.columns, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = min(60, max(10, len(str(col)) * 2 + 2))
        sheet.freeze_panes = "A2"
        if report.get("synthetic"):
            sheet.append([])
            sheet.append(["注意：台账含合成示例数据（synthetic），非真实供地记录。"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def supervision_html(report: dict) -> str:
    """A self-contained HTML report in Chinese (no script, no external asset)."""
    e = html.escape
    parts = [
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>{e(_title(report))}</title>",
        "<style>body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:24px;color:#222}"
        "table{border-collapse:collapse;margin:8px 0 24px;font-size:13px}th,td{border:1px solid #bbb;padding:4px 8px;text-align:left}"
        "th{background:#eef2f6}.note{color:#8a4b00}h2{border-left:4px solid #1f5f99;padding-left:8px}</style></head><body>",
        f"<h1>{e(_title(report))}</h1>",
    ]
    for note in report.get("notes", []):
        parts.append(f"<p class='note'>{e(note)}</p>")
    totals = report["totals"]
    parts.append("<h2>汇总</h2><table><tr><th>清单</th><th>宗数</th><th>面积(亩)</th></tr>")
    for name in SHEETS[:-1]:
        t = totals.get(name, {})
        parts.append(f"<tr><td>{e(LIST_TITLES[name])}</td><td>{t.get('count', 0)}</td><td>{t.get('area_mu', 0.0):.2f}</td></tr>")
    parts.append(f"<tr><td>{e(LIST_TITLES['conflicts'])}</td><td>{totals.get('conflicts', {}).get('count', 0)}</td><td></td></tr></table>")
    parts.append(f"<p>土地闲置费合计：{totals.get('idle', {}).get('fee_wan', 0.0):.2f} 万元</p>")
    for name in SHEETS:
        frame = list_frame(report, name)
        parts.append(f"<h2>{e(LIST_TITLES[name])}（{len(report.get(name) or [])} 宗）</h2>")
        if not report.get(name):
            parts.append("<p>无。</p>")
            continue
        parts.append("<table><tr>" + "".join(f"<th>{e(str(c))}</th>" for c in frame.columns) + "</tr>")
        for row in frame.itertuples(index=False):
            parts.append("<tr>" + "".join(f"<td>{'' if v is None or (isinstance(v, float) and v != v) else e(str(v))}</td>" for v in row) + "</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts)


REVIEW_HEADERS = {
    "enterprise_id": "统一社会信用代码", "name": "企业名称", "parcel_id": "宗地编号", "year": "年度", "land_area_mu": "用地面积(亩)",
    "verdict_zh": "复核结论", "failed": "未达标指标", "incomplete": "缺少资料的指标", "has_commitment_zh": "有合同约定指标",
    "provisional_zh": "结论暂定", "investment_intensity": "投资强度(万元/亩)", "floor_area_ratio": "容积率", "building_coverage": "建筑系数(%)",
    "office_living_share": "行政办公及生活服务设施用地所占比重(%)", "green_ratio": "绿地率(%)", "tax_per_mu": "亩均税收(万元/亩)",
    "revenue_per_mu": "亩均产值(万元/亩)", "energy_per_va": "单位增加值能耗(吨标准煤/万元)",
}
VERDICT_ZH = {"pass": "达标", "fail": "未达标", "incomplete": "资料不全"}


def review_frame(doc: dict) -> pd.DataFrame:
    """The 达产复核 items as a table with Chinese headers (indicator values rounded to 4 places)."""
    frame = pd.DataFrame(doc.get("items") or [])
    if frame.empty:
        return pd.DataFrame(columns=["说明"])
    frame["verdict_zh"] = frame["verdict"].map(VERDICT_ZH)
    frame["has_commitment_zh"] = frame["has_commitment"].map({True: "是", False: "否"})
    frame["provisional_zh"] = frame["provisional"].map({True: "是", False: "否"})
    cols = [c for c in REVIEW_HEADERS if c in frame.columns]
    out = frame[cols].copy()
    for c in cols:
        if c in ("investment_intensity", "floor_area_ratio", "building_coverage", "office_living_share", "green_ratio", "tax_per_mu", "revenue_per_mu", "energy_per_va", "land_area_mu"):
            out[c] = pd.to_numeric(out[c], errors="coerce").round(4)
    return neutralize_formulas(out).rename(columns=REVIEW_HEADERS)


def review_workbook(doc: dict) -> bytes:
    """达产复核 as XLSX: 复核结果, 未复核宗地, 列入低效用地 (Chinese sheets and headers)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "复核结果"
    frame = review_frame(doc)
    ws.append([f"标准地达产复核，截至 {doc['as_of']}；规则：" + "、".join(f"{r['name']}（{r['status']}）" for r in doc.get("rule_sets", []))])
    ws["A1"].font = Font(bold=True)
    ws.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        ws.append([None if (isinstance(v, float) and v != v) else v for v in row])
    for note in doc.get("notes", []):
        ws.append([note])
    nr = wb.create_sheet("未复核宗地")
    nr.append(["宗地编号", "说明"])
    for item in doc.get("not_reviewed", []):
        nr.append([item["id"], item["reason"]])
    ie = wb.create_sheet("列入低效用地")
    ie.append(["宗地编号", "原因", "企业", "用地面积(亩)", "结论暂定"])
    for item in doc.get("inefficient", []):
        ie.append([item.get("parcel_id"), item.get("reason"), item.get("enterprise_ids"), item.get("land_area_mu"), "是" if item.get("provisional") else "否"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def review_html(doc: dict) -> str:
    e = html.escape
    frame = review_frame(doc)
    parts = ["<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>标准地达产复核</title>",
             "<style>body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:24px}table{border-collapse:collapse;font-size:13px}"
             "th,td{border:1px solid #bbb;padding:4px 8px}th{background:#eef2f6}</style></head><body>",
             f"<h1>标准地达产复核（截至 {e(doc['as_of'])}）</h1>",
             "<p>规则：" + e("、".join(f"{r['name']}（{r['status']}）" for r in doc.get("rule_sets", []))) + "</p>"]
    parts += [f"<p>{e(n)}</p>" for n in doc.get("notes", [])]
    t = doc.get("totals", {})
    parts.append(f"<p>到期宗地 {t.get('due', 0)} 宗；达标 {t.get('pass', 0)}、未达标 {t.get('fail', 0)}、资料不全 {t.get('incomplete', 0)} 家企业；无企业可复核 {t.get('not_reviewed', 0)} 宗。</p>")
    parts.append("<table><tr>" + "".join(f"<th>{e(str(c))}</th>" for c in frame.columns) + "</tr>")
    for row in frame.itertuples(index=False):
        parts.append("<tr>" + "".join(f"<td>{'' if v is None or (isinstance(v, float) and v != v) else e(str(v))}</td>" for v in row) + "</tr>")
    parts.append("</table></body></html>")
    return "".join(parts)
