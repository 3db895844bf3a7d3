"""`landgis keys add NAME --role R` / `list` / `revoke NAME`: API keys for analysts and admins (§8.4)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from api.commands.common import StoreOpt, current_user, fail, open_store_cli, out

    keys = typer.Typer(help="管理 API 密钥与角色 / manage API keys and roles (analyst, admin)", no_args_is_help=True)

    @keys.command("add")
    def add_cmd(
        name: str = typer.Argument(..., help="密钥名称（使用人），如 zhang.san / key name (its holder)"),
        role: str = typer.Option(..., "--role", help="角色 analyst（分析人员）| admin（管理员）"),
        store: str | None = StoreOpt,
    ) -> None:
        """新建密钥；密钥只显示这一次（最后一行）/ create a key; it is printed once, alone on the last line."""
        from api.auth import add_key
        from gis.errors import InputError

        s = open_store_cli(store)
        try:
            key = add_key(s, name, role, user=current_user())
        except InputError as exc:
            fail(exc)
        out.print(f"已为“{name}”创建 {role} 密钥。密钥只显示这一次，请妥善保存（库中仅存其哈希）：", highlight=False)
        print(key)

    @keys.command("list")
    def list_cmd(store: str | None = StoreOpt) -> None:
        """列出密钥（不显示密钥本身）/ list keys (never the keys themselves)."""
        from rich.table import Table

        from api.auth import list_keys

        s = open_store_cli(store)
        table = Table("名称 name", "角色 role", "创建时间 created", "状态 status", "前缀 prefix")
        for k in list_keys(s):
            table.add_row(k["name"], k["role"] or "", k["created_at"] or "", f"已吊销 revoked {k['revoked_at'] or ''}" if k["revoked"] else "有效 active", (k["hint"] or "") + "…")
        out.print(table)

    @keys.command("revoke")
    def revoke_cmd(
        name: str = typer.Argument(..., help="要吊销的密钥名称 / key name"),
        reason: str | None = typer.Option(None, "--reason", help="原因 / reason"),
        store: str | None = StoreOpt,
    ) -> None:
        """吊销密钥（数秒内在所有服务进程中失效）/ revoke a key (stops working within seconds)."""
        from api.auth import revoke_key
        from gis.errors import NotFoundError

        s = open_store_cli(store)
        try:
            revoke_key(s, name, user=current_user(), reason=reason)
        except NotFoundError as exc:
            fail(exc)
        out.print(f"已吊销密钥“{name}”。")

    app.add_typer(keys, name="keys")
