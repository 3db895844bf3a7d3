"""`landgis supervise` (批供用补查, SPEC §4.2) and `landgis review` (达产复核, SPEC §6)."""

from __future__ import annotations

from pathlib import Path

import typer

SUFFIXES = (".json", ".xlsx", ".html")


def register(app: typer.Typer) -> None:
    from api.commands.common import StoreOpt, check_out_suffix, fail, open_store_cli, out, write_report

    AsOfOpt = typer.Option(None, "--as-of", help="统计截止日期 YYYY-MM-DD（默认今天）/ the day of the report (default today)")
    OutOpt = typer.Option(None, "--out", help="输出：.json .xlsx .html（默认在屏幕显示汇总）")

    @app.command("supervise")
    def supervise_cmd(as_of: str | None = AsOfOpt, out_file: Path | None = OutOpt, store: str | None = StoreOpt) -> None:
        """土地供应监管（批而未供、供而未用、闲置、逾期竣工、达产复核到期）/ land supply supervision report."""
        from gis.errors import InputError
        from parcels.supply.report import supervision_html, supervision_workbook
        from parcels.supply.supervise import LIST_TITLES, STAGE_TITLES
        from services.supervision import supervision_report

        check_out_suffix(out_file, SUFFIXES)
        s = open_store_cli(store)
        try:
            doc = supervision_report(s, as_of)
        except InputError as exc:
            fail(exc)
        out.print(f"截至 / as of {doc['as_of']}：", highlight=False)
        for name, t in doc["totals"].items():
            if name in LIST_TITLES and isinstance(t, dict):
                out.print(f"  {LIST_TITLES[name]}：{t['count']} 宗" + (f"，{t['area_mu']:.2f} 亩" if "area_mu" in t else ""), highlight=False)
        idle = doc["totals"]["idle"]
        out.print(f"  其中闲置：" + "、".join(f"{STAGE_TITLES[k]} {v} 宗" for k, v in idle["by_stage"].items()) + f"；土地闲置费合计 {idle['fee_wan']:.2f} 万元", highlight=False)
        for note in doc["notes"]:
            out.print(f"[yellow]{note}[/]", highlight=False)
        if out_file is not None:
            write_report(out_file, doc, supervision_workbook, supervision_html)
            out.print(f"已写入 / written: {out_file}")

    @app.command("review")
    def review_cmd(
        as_of: str | None = AsOfOpt,
        out_file: Path | None = OutOpt,
        rules: str | None = typer.Option(None, "--rules", help="规则集（逗号分隔，默认同 landgis check）/ rule sets (default: those of landgis check)"),
        store: str | None = StoreOpt,
    ) -> None:
        """标准地达产复核：已过约定达产日期的企业对照合同约定指标 / 达产复核 of enterprises past their agreed production date."""
        from gis.errors import InputError, NotFoundError
        from parcels.supply.report import review_html, review_workbook
        from services.supervision import production_review

        check_out_suffix(out_file, SUFFIXES)
        s = open_store_cli(store)
        try:
            doc = production_review(s, as_of, rules=rules)
        except (InputError, NotFoundError) as exc:
            fail(exc)
        t = doc["totals"]
        out.print(f"达产复核（截至 {doc['as_of']}）：到期宗地 {t['due']} 宗；达标 {t['pass']}、未达标 {t['fail']}、资料不全 {t['incomplete']} 家企业；无企业可复核 {t['not_reviewed']} 宗", highlight=False)
        for item in doc["items"]:
            if item["verdict"] == "fail":
                out.print(f"  ✗ {item['parcel_id']} {item.get('name') or item['enterprise_id']}：{item['failed']}", highlight=False, markup=False)
        for note in doc["notes"]:
            out.print(f"[yellow]{note}[/]", highlight=False)
        if out_file is not None:
            write_report(out_file, doc, review_workbook, review_html)
            out.print(f"已写入 / written: {out_file}")
