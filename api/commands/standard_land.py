"""`landgis check` (标准地 check of a proposed project) and `landgis sheet` (a parcel's 指标清单), SPEC §6."""

from __future__ import annotations

import json
from pathlib import Path

import typer

SUFFIXES = (".json", ".html", ".xlsx")


def _write(result, out_file: Path) -> None:
    suffix = out_file.suffix.lower()
    out_file.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".json":
        out_file.write_text(json.dumps(result.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    elif suffix == ".html":
        out_file.write_text(result.to_html(), encoding="utf-8")
    else:
        result.to_workbook().save(out_file)


def register(app: typer.Typer) -> None:
    from api.commands.common import StoreOpt, check_out_suffix, current_user, fail, open_store_cli, out

    RulesOpt = typer.Option(None, "--rules", help="规则集（逗号分隔的内置名称或 TOML 文件）/ rule sets, comma-separated names or TOML files")

    @app.command("check")
    def check_cmd(
        project: Path = typer.Argument(..., help="项目文件 TOML 或 JSON / project file"),
        rules: str | None = RulesOpt,
        out_file: Path | None = typer.Option(None, "--out", help="输出：.json .html .xlsx"),
        store: str | None = StoreOpt,
    ) -> None:
        """按标准地控制指标审查拟建项目（默认只用已核实规则；--rules 点名后才用未核实/示例值规则）/ check a project against 标准地 indicators (confirmed rules unless named)."""
        from services.standard_land import standard_land_check
        from gis.errors import InputError, NotFoundError
        from parcels.standard_land import STATUS_LABELS, parse_project_text

        check_out_suffix(out_file, SUFFIXES)
        if not project.exists():
            fail(InputError(f"项目文件不存在：{project}"))
        try:
            data = parse_project_text(project.read_text(encoding="utf-8-sig"), project.suffix)
            s = open_store_cli(store) if data.get("parcel_id") else None
            result = standard_land_check(s, data, rules=rules)
        except (InputError, NotFoundError) as exc:
            fail(exc)
        doc = result.to_dict()
        if out_file is not None:
            _write(result, out_file)
        verdict_zh = {"pass": "通过", "fail": "不通过", "incomplete": "资料不全"}[doc["verdict"]]
        out.print(f"审查结论 / verdict: {doc['verdict']}（{verdict_zh}）")
        for item in doc["indicators"]:
            mark = {True: "✓", False: "✗", None: "?"}[item["pass"]]
            status = STATUS_LABELS.get(item["status"], item["status"])
            out.print(f"  {mark} {item['name']}: {item['value']} {item['op']} {item['limit']} {item['unit'] or ''} [{status}] {item['source']}", highlight=False, markup=False)
        if out_file is not None:
            out.print(f"已写入 / written: {out_file}")

    @app.command("sheet")
    def sheet_cmd(
        parcel_id: str = typer.Argument(..., help="储备地块编号，如 RP-01"),
        out_file: Path | None = typer.Option(None, "--out", help="输出：.json .html .xlsx（默认在屏幕显示 JSON）"),
        rules: str | None = RulesOpt,
        industry_code: str | None = typer.Option(None, "--industry", help="拟引入产业的国民经济行业代码（GB/T 4754-2017 两位）"),
        issue: bool = typer.Option(False, "--issue", help="发布：把清单指标写入地块（留痕）/ store the limits on the parcel"),
        store: str | None = StoreOpt,
    ) -> None:
        """储备地块标准地指标清单（默认只列已核实规则）/ the 标准地 indicator sheet of a reserve parcel (confirmed rules unless --rules names sets)."""
        from services.standard_land import parcel_indicator_sheet
        from gis.errors import InputError, NotFoundError

        check_out_suffix(out_file, SUFFIXES)
        s = open_store_cli(store)
        try:
            sheet = parcel_indicator_sheet(s, parcel_id, rules=rules, industry_code=industry_code, issue=issue, user=current_user())
        except (InputError, NotFoundError) as exc:
            fail(exc)
        if out_file is None:
            print(json.dumps(sheet.to_dict(), ensure_ascii=False, indent=1))
            return
        _write(sheet, out_file)
        out.print(f"已写入 / written: {out_file}" + ("；指标已写入地块 / limits stored on the parcel" if issue else ""))
