"""`landgis resolve`: 四至 location texts → constraints → candidate areas (SPEC §3.3)."""

from __future__ import annotations

import json

import typer


def register(app: typer.Typer) -> None:
    from api.commands.common import StoreOpt, current_user, fail, open_store_cli, out

    @app.command("resolve")
    def resolve_cmd(
        layer: str = typer.Option("reserve_parcels", "--layer", help="按四至重新解析的图层 / layer to re-resolve"),
        text: str | None = typer.Option(None, "--text", help="只解析这段位置描述并输出 JSON / parse (and resolve) one text, print JSON"),
        store: str | None = StoreOpt,
    ) -> None:
        """解析四至位置描述；重绘示意几何，实测几何不动 / resolve location texts; redraw schematic geometry only."""
        from rich.table import Table

        from services.locations import re_resolve, resolve_text
        from gis.errors import InputError, NotFoundError

        s = open_store_cli(store)
        try:
            if text is not None:
                print(json.dumps(resolve_text(s, text), ensure_ascii=False))
                return
            report = re_resolve(s, layer, user=current_user())
        except (InputError, NotFoundError) as exc:
            fail(exc)
        table = Table("id", "位置 location", "结果 action", "已找到 found", "未找到 missing", "模糊度 ambiguity")
        for r in report.itertuples():
            table.add_row(str(r.id), str(r.location), str(r.action), str(r.found or ""), str(r.missing or ""), f"{r.ambiguity:.2f}" if r.ambiguity == r.ambiguity else "")
        out.print(table)
        counts = report["action"].value_counts().to_dict()
        out.print("；".join(f"{k} {v}" for k, v in counts.items()))
