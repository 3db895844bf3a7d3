"""The enterprise profile page (SPEC §5.5) as one self-contained Chinese HTML page.

Why inline SVG rather than Leaflet and a chart library: the page is a record an official prints
or saves; it must open offline with no script and no CDN. The small map draws the enterprise's
parcels (EPSG:4490 lon/lat, x scaled by cos(latitude) so shapes are not stretched); the chart
puts each year's class (best at the top) and rank on one time axis.
"""

from __future__ import annotations

import math
from html import escape

from parcels.efficiency.report import PRESENTATION_DECIMALS

CLASS_ORDER = ("A", "B", "C", "D")
CLASS_COLOURS = {"A": "#1a9850", "B": "#91cf60", "C": "#fc8d59", "D": "#d73027"}


def _fmt(v, pct: bool = False) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, (int, float)):
        return f"{v * 100:.{PRESENTATION_DECIMALS}f}%" if pct else f"{v:,.{PRESENTATION_DECIMALS}f}"
    return escape(str(v))


def _rings(geom: dict) -> list[list]:
    if not geom:
        return []
    if geom["type"] == "Polygon":
        return list(geom["coordinates"])
    if geom["type"] == "MultiPolygon":
        return [ring for poly in geom["coordinates"] for ring in poly]
    return []


def parcels_svg(parcels: list[dict], point: list | None, size: int = 320) -> str:
    """The enterprise's parcels (and its point) in a size × size SVG, north up, with a scale bar."""
    rings = [(p["id"], r) for p in parcels for r in _rings(p.get("geometry"))]
    pts = [xy for _, r in rings for xy in r] + ([point] if point else [])
    if not pts:
        return "<p>无地块或点位几何（企业图层未关联宗地）。</p>"
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    lat0 = (min(ys) + max(ys)) / 2
    k = math.cos(math.radians(lat0))
    w = max((max(xs) - min(xs)) * k, (max(ys) - min(ys)), 1e-4) * 1.15
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2

    def xy(lon, lat):
        return (size / 2 + (lon - cx) * k / w * size, size / 2 - (lat - cy) / w * size)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}" role="img" aria-label="企业用地示意图">',
             f'<rect width="{size}" height="{size}" fill="#f7f7f7" stroke="#999"/>']
    for pid, ring in rings:
        d = " ".join(f"{a:.1f},{b:.1f}" for a, b in (xy(*c[:2]) for c in ring))
        parts.append(f'<polygon points="{d}" fill="#fdae61" fill-opacity="0.6" stroke="#8c510a" stroke-width="1.5"><title>{escape(str(pid))}</title></polygon>')
    for p in parcels:
        r = _rings(p.get("geometry"))
        if r:
            a, b = xy(sum(c[0] for c in r[0]) / len(r[0]), sum(c[1] for c in r[0]) / len(r[0]))
            parts.append(f'<text x="{a:.1f}" y="{b:.1f}" font-size="11" text-anchor="middle">{escape(str(p["id"]))}</text>')
    if point:
        a, b = xy(*point)
        parts.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="4" fill="#2166ac"><title>企业点位</title></circle>')
    metres = w * 111_320 / 4  # a quarter of the frame, rounded to 1-2-5
    step = 10 ** math.floor(math.log10(metres))
    bar = max(s for s in (step, 2 * step, 5 * step) if s <= metres)
    px = bar / (w * 111_320) * size
    parts.append(f'<line x1="10" y1="{size - 12}" x2="{10 + px:.1f}" y2="{size - 12}" stroke="#000" stroke-width="2"/>'
                 f'<text x="10" y="{size - 16}" font-size="10">{bar:g} 米</text>'
                 f'<text x="{size - 14}" y="18" font-size="12" text-anchor="middle">北↑</text></svg>')
    return "".join(parts)


def trend_svg(years: list[dict], width: int = 520, height: int = 200) -> str:
    """Class (A at the top) and rank over the years, one series per policy."""
    rows = [y for y in years if y.get("year") is not None and y.get("class")]
    if not rows:
        return "<p>尚无年度评价结果。</p>"
    xs = sorted({y["year"] for y in rows})
    classes = [c for c in CLASS_ORDER if any(y["class"] == c for y in rows) or c in ("A", "B", "C")]
    left, right, top, bottom = 60, 110, 20, 30  # room on the right for the last year's rank label
    def px(year):
        return left + (0.5 if len(xs) == 1 else xs.index(year) / (len(xs) - 1)) * (width - left - right)
    def py(cls):
        return top + classes.index(cls) / max(len(classes) - 1, 1) * (height - top - bottom)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="评价等级与排名趋势">']
    for c in classes:
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{py(c):.1f}" y2="{py(c):.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 8}" y="{py(c) + 4:.1f}" font-size="12" text-anchor="end">{c} 类</text>')
    for x in xs:
        parts.append(f'<text x="{px(x):.1f}" y="{height - 8}" font-size="12" text-anchor="middle">{x}</text>')
    by_policy: dict = {}
    for y in rows:
        by_policy.setdefault(y.get("policy") or "", []).append(y)
    for series in by_policy.values():
        series.sort(key=lambda y: y["year"])
        pts = [(px(y["year"]), py(y["class"])) for y in series if y["class"] in classes]
        if len(pts) > 1:
            parts.append('<polyline fill="none" stroke="#555" stroke-width="1.5" points="' + " ".join(f"{a:.1f},{b:.1f}" for a, b in pts) + '"/>')
        for y in series:
            if y["class"] not in classes:
                continue
            a, b = px(y["year"]), py(y["class"])
            rank = f"第 {y['rank']}/{y['ranked']} 名" if y.get("rank") else ""
            parts.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="6" fill="{CLASS_COLOURS.get(y["class"], "#999")}" stroke="#333">'
                         f'<title>{y["year"]} 年度 {y["class"]} 类 {rank}</title></circle>'
                         f'<text x="{a + 9:.1f}" y="{b - 8:.1f}" font-size="11">{escape(rank)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def profile_html(profile: dict) -> str:
    """The whole page: who and where, the map, the trend, each year's indicators, the 调档."""
    e = profile["enterprise"]
    title = f"{e.get('name') or e['enterprise_id']} 亩均效益档案"
    head = "".join(f"<tr><th>{escape(k)}</th><td>{_fmt(e.get(v))}</td></tr>" for k, v in (
        ("统一社会信用代码", "enterprise_id"), ("企业名称", "name"), ("园区", "park"), ("是否规上", "above_scale"),
        ("用地面积(亩)", "land_area_mu"), ("宗地", "parcel_id"), ("数据来源", "data_source")) if e.get(v) is not None)
    parcels = "".join(f"<tr><td>{escape(str(p['id']))}</td><td>{_fmt(p.get('area_mu'))}</td><td>{_fmt(p.get('park'))}</td></tr>" for p in profile["parcels"])
    years = []
    for y in profile["years"]:
        ind = "".join(f"<tr><td>{escape(i['label_zh'])}</td><td>{escape(i['unit'] or '')}</td><td>{_fmt(i['value'])}</td>"
                      f"<td>{_fmt(i['benchmark'])}</td><td>{_fmt(i['ratio'], pct=True)}</td><td>{_fmt(i['score'])}</td></tr>" for i in y["indicators"])
        adj = f"（初评 {y['initial_class']} 类，调档后 {y['class']} 类）" if y.get("initial_class") and y["initial_class"] != y["class"] else ""
        group = {"above_scale": "规上企业", "below_scale": "规下企业"}.get(y["group"], "")
        rank = f"{group}第 {y['rank']} 名 / 共 {y['ranked']} 家" if y.get("rank") else "未排名"
        years.append(
            f"<h3>{y['year'] if y['year'] is not None else '未注明'} 年度 · {escape(y.get('policy') or '')}</h3>"
            f"<p>等级：<b>{escape(str(y['class'] or '未评价'))}</b>{escape(adj)}；{escape(rank)}；综合得分 {_fmt(y['total_score'])}；"
            f"连续末档 {y['consecutive_low'] if y['consecutive_low'] is not None else '—'} 年；"
            f"差别化措施：{escape(y['measures'] or '无')}。<br><small>运行 {escape(y['run_id'])}；说明：{escape(y['flags'] or '无')}</small></p>"
            "<table><thead><tr><th>指标</th><th>单位</th><th>本企业</th><th>同类基准</th><th>本企业/基准</th><th>得分</th></tr></thead>"
            f"<tbody>{ind}</tbody></table>")
    adj_rows = "".join(
        f"<tr><td>{a['year'] if a['year'] is not None else '未注明（旧记录，未应用）'}</td><td>{escape(str(a['policy']))}</td>"
        f"<td>{escape(str(a['class']))}</td><td>{escape(str(a['reason']))}</td><td>{escape(str(a['user'] or ''))}</td><td>{escape(str(a['at'] or ''))}</td></tr>"
        for a in profile["adjustments"])
    synthetic = "<p><b>注意：企业数据为合成样例（synthetic），仅供演示。</b></p>" if "合成" in str(e.get("data_source", "")) or "synthetic" in str(e.get("data_source", "")) else ""
    return (
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        "<style>body{font-family:sans-serif;margin:1.5em;max-width:60em}table{border-collapse:collapse;margin:.5em 0}"
        "td,th{border:1px solid #bbb;padding:3px 8px;text-align:left}th{background:#f0f0f0}.row{display:flex;gap:2em;flex-wrap:wrap}</style>"
        f"</head><body><h1>{escape(title)}</h1>{synthetic}"
        f'<div class="row"><div><h2>企业与用地</h2><table>{head}</table>'
        f"<table><thead><tr><th>宗地</th><th>面积(亩)</th><th>园区</th></tr></thead><tbody>{parcels}</tbody></table></div>"
        f"<div><h2>用地示意图</h2>{parcels_svg(profile['parcels'], profile.get('point'))}<br><small>示意图，坐标系 CGCS2000（EPSG:4490）</small></div></div>"
        f"<h2>历年等级与排名</h2>{trend_svg(profile['years'])}"
        f"<h2>历年指标与同类基准</h2>{''.join(years) or '<p>尚无评价运行记录。</p>'}"
        "<h2>调档记录</h2><table><thead><tr><th>年度</th><th>评价办法</th><th>调档后等级</th><th>理由</th><th>登记人</th><th>时间</th></tr></thead>"
        f"<tbody>{adj_rows or '<tr><td colspan=6>无</td></tr>'}</tbody></table>"
        f"<p><small>{escape(profile.get('note', ''))}</small></p></body></html>")
