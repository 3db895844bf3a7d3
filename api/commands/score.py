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
        store: str | None = StoreOpt,
    ) -> None:
        """亩均效益综合评价（A/B/C/D 分类）/ per-mu efficiency evaluation."""
        import json

        from rich.table import Table

        from services.scoring import efficiency_features, load_enterprise_source, run_scoring
        from gis.errors import InputError, NotFoundError
        from gis.io import write_features, write_table, write_workbook

        check_out_suffix(out_file, SUFFIXES)
        s = open_store_cli(store)
        try:
            with progress() as bar:
                task = bar.add_task("读取企业数据 / reading", total=3)
                frame, data, label = load_enterprise_source(s, enterprises, encoding=encoding)
                bar.update(task, advance=1, description="评价 / scoring")
                run_id, result = run_scoring(s, frame, data, policy=policy, user=current_user(), label=label)
                bar.update(task, advance=1, description="输出 / writing")
                if out_file is not None:
                    suffix = out_file.suffix.lower()
                    if suffix == ".csv":
                        write_table(result.csv_frame(), out_file)
                    elif suffix == ".xlsx":
                        write_workbook(result.xlsx_frames(), out_file)
                    elif suffix == ".gpkg":
                        write_features(efficiency_features(s, result), out_file, layer="efficiency")
                    else:
                        out_file.write_text(result.csv_frame().to_json(orient="records", force_ascii=False, indent=1), encoding="utf-8")
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
        out.print(f"运行编号 / run: {run_id}；已评价 {int(scored.sum())} 家，未评价/不可评价 {int((~scored).sum())} 家；输入哈希 {result.input_hash[:12]}")
        if out_file is not None:
            out.print(f"结果已写入 / written: {out_file}")

    @app.command("adjust")
    def adjust_cmd(
        enterprise_id: str = typer.Argument(..., help="统一社会信用代码/企业编号"),
        new_class: str = typer.Argument(..., help="调整后的等级 A/B/C/D"),
        reason: str = typer.Option(..., "--reason", help="调档原因（必填）/ reason (required)"),
        store: str | None = StoreOpt,
    ) -> None:
        """人工调档：记录后每次评价都会沿用 / record a manual class adjustment (kept by reruns)."""
        from services.scoring import record_adjustment
        from gis.errors import InputError

        s = open_store_cli(store)
        try:
            record_adjustment(s, enterprise_id, new_class, reason=reason, user=current_user())
        except InputError as exc:
            fail(exc)
        out.print(f"已记录调档：{enterprise_id} → {new_class}（{reason}）")
