"""`landgis status`: move a reserve parcel through 计划报批 → 已组卷上报 → 已获批 → 已供地."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from api.commands.common import StoreOpt, current_user, fail, open_store_cli, out

    @app.command("status")
    def status_cmd(
        parcel_id: str = typer.Argument(..., help="储备地块编号，如 RP-01 / reserve parcel id"),
        new_status: str = typer.Argument(..., help="新状态：计划报批|已组卷上报|已获批|已供地|已注销"),
        reason: str | None = typer.Option(None, "--reason", help="原因（回退、注销时必填）/ reason (required to revert or delete)"),
        date: str | None = typer.Option(None, "--date", help="状态日期 YYYY-MM-DD，默认今天 / status date"),
        supply_method: str | None = typer.Option(None, "--supply-method", help="供地方式：出让|划拨（变更为已供地时必填）"),
        store: str | None = StoreOpt,
    ) -> None:
        """变更储备地块报批状态（全程留痕）/ change a reserve parcel's status, with history."""
        from services.parcel_edits import change_status
        from gis.errors import InputError, NotFoundError

        s = open_store_cli(store)
        try:
            # The command line runs with the store's own file/database rights: it acts as admin.
            new = change_status(s, parcel_id, new_status, user=current_user(), role="admin", reason=reason, date=date, supply_method=supply_method)
        except (InputError, NotFoundError) as exc:
            fail(exc)
        out.print(f"地块 {parcel_id} 状态已变更为“{new['status']}”（{new['status_date']}）。")
