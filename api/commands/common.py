"""What every `landgis` command shares: consoles, the --store option, errors, progress, the sample.

Why a module of its own: the command modules import these at the top, and `api/cli.py` imports
the command modules to register them — with the helpers in `api/cli.py` that was an import
cycle (cli → commands → cli), resolved only by imports hidden inside functions.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from gis.errors import InputError

out = Console()
err = Console(stderr=True)

StoreOpt = typer.Option(None, "--store", help="存储：GeoPackage 路径或 postgresql:// 地址 / store: GeoPackage path or postgresql:// URL (env LANDGIS_STORE)")


def current_user() -> str:
    return os.environ.get("LANDGIS_USER") or f"cli:{getpass.getuser()}"


def progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(), console=err, transient=False)


def fail(exc: Exception) -> None:
    """Print an input error for an official and exit 1 (never a traceback)."""
    text = exc.render() if isinstance(exc, InputError) else str(getattr(exc, "detail", exc))
    err.print(f"[bold red]错误：[/]{text}", markup=True, highlight=False)
    raise typer.Exit(1)


def check_out_suffix(out_file: Path | None, suffixes: tuple[str, ...]) -> None:
    """Refuse an --out whose suffix names no format the command writes (usage error, exit 2)."""
    if out_file is not None and out_file.suffix.lower() not in suffixes:
        err.print(f"错误：--out 的格式只能是 {' '.join(suffixes)}")
        raise typer.Exit(2)


def write_report(out_file: Path, doc: dict, workbook, page) -> None:
    """A report document to `--out`: .json as is, .xlsx by `workbook`, .html by `page`."""
    import json

    out_file.parent.mkdir(parents=True, exist_ok=True)
    suffix = out_file.suffix.lower()
    if suffix == ".json":
        out_file.write_text(json.dumps(doc, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    elif suffix == ".xlsx":
        out_file.write_bytes(workbook(doc))
    else:
        out_file.write_text(page(doc), encoding="utf-8")


def open_store_cli(store: str | None, *, upgrade: bool = True):
    """The store, opened; a store made before `ellipsoid_area_m2` gets its areas upgraded first
    (services/areas.py), unless `upgrade=False` (`landgis areas` reports before it upgrades)."""
    from gis.store import open_store

    try:
        s = open_store(store)
        if upgrade:
            from services.areas import upgrade_areas_on_open

            for name, n in upgrade_areas_on_open(s).items():
                err.print(f"已升级旧存储的面积字段：{name}（{n} 个要素，area_m2 改为平面面积，新增 ellipsoid_area_m2）", highlight=False)
        return s
    except InputError as exc:
        fail(exc)
    except Exception as exc:  # connection refused, unreadable file
        err.print(f"[bold red]错误：[/]无法打开存储 {store or ''}：{exc}", highlight=False)
        raise typer.Exit(1)


def load_sample(store, *, replace: bool = False) -> dict[str, int]:
    """Load every sample layer that the store does not have yet (or all, with replace)."""
    from parcels.layers import prepare_features
    from parcels.sample import sample_layers
    from parcels.schema import LAYERS

    loaded: dict[str, int] = {}
    with progress() as bar:
        task = bar.add_task("生成样例数据 / building sample data", total=None)
        layers = sample_layers()
        bar.update(task, total=len(layers), completed=0, description="载入样例数据 / loading sample data")
        for name, gdf in layers.items():
            if store.layer_exists(name) and not replace:
                bar.advance(task)
                continue
            ready, _ = prepare_features(name, gdf)
            store.import_features(
                name, ready, mode="replace", user="landgis-init", geometry_type=LAYERS[name].geometry_type, title=LAYERS[name].title_zh, reason="载入内置样例数据"
            )
            loaded[name] = len(ready)
            bar.advance(task)
    return loaded
