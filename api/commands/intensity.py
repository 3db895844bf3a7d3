"""`landgis intensity` (开发区土地集约利用评价, SPEC §11): the zone's indicators beside the national figures."""

from __future__ import annotations

from pathlib import Path

import typer

SUFFIXES = (".json", ".xlsx", ".html")


def register(app: typer.Typer) -> None:
    from api.commands.common import StoreOpt, check_out_suffix, fail, open_store_cli, out, write_report

    @app.command("intensity")
    def intensity_cmd(
        year: int | None = typer.Option(None, "--year", help="评价年度（默认上一年）/ evaluation year (default: last year)"),
        out_file: Path | None = typer.Option(None, "--out", help="输出：.json .xlsx .html（默认在屏幕显示）"),
        population: float | None = typer.Option(None, "--population", help="常住人口（人），用于人口密度 / resident population"),
        weights: str | None = typer.Option(None, "--weights", help="集约度权重集（如 sample，示例非正式）/ weight set for the 集约度 score"),
        store: str | None = StoreOpt,
    ) -> None:
        """开发区土地集约利用评价：供应率、建成率、容积率、投入强度、地均税收、闲置率、尚可供地年数 / land-use intensity of the zone."""
        from gis.errors import InputError
        from parcels.intensity.report import intensity_html, intensity_workbook, notes
        from services.intensity import intensity_report

        check_out_suffix(out_file, SUFFIXES)
        s = open_store_cli(store)
        try:
            doc = intensity_report(s, year, population=population, weights=weights)
        except InputError as exc:
            fail(exc)
        out.print(f"{doc['zone']}土地集约利用评价（{doc['year']} 年度）；数据：{doc['survey']['label']}", highlight=False)
        for i in doc["indicators"]:
            value = "—" if i["value"] is None else f"{i['value']:.2f}"
            national = "—" if i["national"] is None else f"{i['national']}（{i['national_year']}）"
            mark = "（推导）" if i.get("derived") else ""
            out.print(f"  {i['name']}：{value} {i['unit']}{mark}；全国 {national}", highlight=False, markup=False)
        p, z = doc["potential"], doc["zone_type"]
        years = "—" if p["years_of_supply"] is None else f"{p['years_of_supply']:.2f}"
        out.print(f"  尚可供应土地 {p['ready_unsupplied_ha']:.2f} 公顷；尚可供地年数 {years} 年", highlight=False)
        out.print(f"  开发区类型：{z['type'] or '无法判定'}（规则状态：{z['status']}）", highlight=False)
        if doc.get("score"):
            out.print(f"  集约度分值：{doc['score']['value']}（{doc['score']['name']}，{doc['score']['status']}）", highlight=False)
        for n in notes(doc):
            out.print(f"[yellow]{n}[/]", highlight=False)
        if out_file is not None:
            write_report(out_file, doc, intensity_workbook, intensity_html)
            out.print(f"已写入 / written: {out_file}")
