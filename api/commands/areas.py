"""`landgis areas`: which area is which in the store, and the upgrade of a store made before
`ellipsoid_area_m2` (SPEC §3.1; services/areas.py)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from api.commands.common import StoreOpt, current_user, fail, open_store_cli, out

    @app.command("areas")
    def areas_cmd(
        upgrade: bool = typer.Option(False, "--upgrade", help="重新计算旧存储的面积字段（打开存储时也会自动执行）/ recompute areas of a store made by an older landgis"),
        store: str | None = StoreOpt,
    ) -> None:
        """面积口径：area_m2 平面面积（测量坐标系，宗地面积）、ellipsoid_area_m2 椭球面积 / the store's area columns."""
        from gis.crs import survey_epsg
        from gis.errors import InputError
        from services.areas import area_layers, layers_needing_upgrade, upgrade_areas

        s = open_store_cli(store, upgrade=False)
        try:
            epsg = survey_epsg()
            pending = layers_needing_upgrade(s)
            done = upgrade_areas(s, user=current_user(), layers=pending) if upgrade else {}
        except InputError as exc:
            fail(exc)
        out.print(f"area_m2 = 测量坐标系 EPSG:{epsg} 平面面积（不动产权证书/出让合同的宗地面积）；ellipsoid_area_m2 = 椭球面积（三调口径）；area_mu = area_m2 × 15/10000。", highlight=False)
        for name in area_layers(s):
            if name in done:
                state = f"已升级 {done[name]} 个要素"
            elif name in pending:
                state = "旧口径（area_m2 为椭球面积）：请运行 landgis areas --upgrade"
            else:
                state = "已是现行口径"
            out.print(f"  {name}: {state}", highlight=False)
