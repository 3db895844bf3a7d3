"""`landgis score` (亩均效益 evaluation, SPEC §5) and `landgis adjust` (调档 with a reason)."""

from __future__ import annotations

from pathlib import Path

import typer

SUFFIXES = (".csv", ".xlsx", ".gpkg", ".json")


def register(app: typer.Typer) -> None:
    from api.commands.common import StoreOpt, check_out_suffix, current_user, err, fail, open_store_cli, out, progress

    @app.command("score")
    def score_cmd(
        enterprises: str = typer.Argument(..., help="企业表（CSV/XLSX/任意 OGR 图层），或存储中的图层名 enterprises / enterprise table file or the layer name"),
        policy: str | None = typer.Option(None, "--policy", help="评价办法：内置名称（henan_2019、zhejiang_huangyan_2022）或 TOML 文件 / policy name or TOML file"),
        out_file: Path | None = typer.Option(None, "--out", help="输出文件：.csv .xlsx .gpkg .json / output, format from the suffix"),
        encoding: str | None = typer.Option(None, "--encoding", help="CSV 编码（默认自动识别）"),
        public: bool = typer.Option(False, "--public", help="输出公示名单（等级、企业名称、统一社会信用代码，不含经济数据）；--out 须为 .xlsx 或 .html / the publishable list"),
        store: str | None = StoreOpt,
    ) -> None:
        """亩均效益综合评价（A/B/C/D 分类）/ per-mu efficiency evaluation."""
        import json

        from rich.table import Table

        from services.scoring import efficiency_features, load_enterprise_source, run_scoring
        from gis.errors import InputError, NotFoundError
        from gis.io import write_features, write_table, write_workbook

        if public and (out_file is None or out_file.suffix.lower() not in (".xlsx", ".html")):
            fail(InputError("公示名单须写入 .xlsx 或 .html 文件。", hint="例如：landgis score enterprises --public --out 公示名单.xlsx"))
        check_out_suffix(out_file, SUFFIXES + ((".html",) if public else ()))
        s = open_store_cli(store)
        try:
            with progress() as bar:
                task = bar.add_task("读取企业数据 / reading", total=3)
                frame, data, label = load_enterprise_source(s, enterprises, encoding=encoding)
                bar.update(task, advance=1, description="评价 / scoring")
                run_id, result = run_scoring(s, frame, data, policy=policy, user=current_user(), label=label)
                bar.update(task, advance=1, description="输出 / writing")
                if out_file is not None and public:
                    from parcels.efficiency.report import public_frame, public_html

                    if out_file.suffix.lower() == ".html":
                        out_file.write_text(public_html(result.results, result.policy_name), encoding="utf-8")
                    else:
                        write_workbook({"公示名单": public_frame(result.results)}, out_file)
                elif out_file is not None:
                    suffix = out_file.suffix.lower()
                    if suffix == ".csv":
                        write_table(result.csv_frame(), out_file)
                    elif suffix == ".xlsx":
                        write_workbook(result.xlsx_frames(), out_file)
                    elif suffix == ".gpkg":
                        write_features(efficiency_features(s, result), out_file, layer="efficiency")
                    else:
                        from services.scoring import run_document

                        docs = [run_document(s, rid) for rid in result.run_ids.values()]
                        out_file.write_text(json.dumps(docs[-1] if len(docs) == 1 else {"runs": docs}, ensure_ascii=False, indent=1), encoding="utf-8")
                bar.update(task, advance=1)
        except (InputError, NotFoundError) as exc:
            fail(exc)
        for w in result.warnings:
            err.print(f"[yellow]提示：[/]{w}", highlight=False)
        counts = result.class_counts("park").reset_index()
        out.print(f"评价办法 / policy: {result.policy_name}")
        table = Table(*[str(c) for c in counts.columns], title="各园区分类统计 / class counts per park")
        for row in counts.itertuples(index=False):
            table.add_row(*[str(v) for v in row])
        out.print(table)
        res = result.results
        scored = res["class"].fillna("").astype(str).str.len() > 0
        for y, rid in result.run_ids.items():
            yr = result.by_year[y].results
            out.print(f"{y if y is not None else '（未注明年度）'} 年度：运行 {rid}，已评价 {int(yr['class'].notna().sum())} 家")
        per = "家次（企业×年度）" if len(result.run_ids) > 1 else "家"
        out.print(f"运行编号 / run: {run_id}；已评价 {int(scored.sum())} {per}，未评价/不可评价 {int((~scored).sum())} {per}；输入哈希 {result.input_hash[:12]}")
        if out_file is not None:
            out.print(f"结果已写入 / written: {out_file}")

    @app.command("adjust")
    def adjust_cmd(
        enterprise_id: str = typer.Argument(..., help="统一社会信用代码/企业编号"),
        new_class: str = typer.Argument(..., help="调整后的等级 A/B/C/D"),
        reason: str = typer.Option(..., "--reason", help="调档原因（必填）/ reason (required)"),
        year: int = typer.Option(..., "--year", help="评价年度（必填）：调档只对该年度有效 / evaluation year (required)"),
        policy: str | None = typer.Option(None, "--policy", help="只对该评价办法有效（默认对所有评价办法）/ only under this policy"),
        store: str | None = StoreOpt,
    ) -> None:
        """人工调档：只对所注年度有效，该年度每次评价都会沿用 / record a class adjustment for one year (kept by reruns)."""
        from services.scoring import record_adjustment
        from gis.errors import InputError

        s = open_store_cli(store)
        try:
            record_adjustment(s, enterprise_id, new_class, reason=reason, user=current_user(), year=year, policy=policy)
        except InputError as exc:
            fail(exc)
        scope = f"评价办法 {policy}" if policy else "所有评价办法"
        out.print(f"已记录调档：{enterprise_id} {year} 年度 → {new_class.strip().upper()}（{scope}；理由：{reason}）")
        from services.scoring import known_enterprise

        if not known_enterprise(s, enterprise_id):
            err.print(f"[yellow]提示：[/]企业图层中没有编号 {enterprise_id}，请核对；该记录将在含此企业的 {year} 年度评价中应用。", highlight=False)
