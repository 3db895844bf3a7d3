"""Imports of files into layers, all-or-nothing (SPEC §2): the one path of `landgis import` and HTTP."""

from __future__ import annotations

from gis.store import Store


def import_file(store: Store, layer: str, path, *, crs: str | None = None, encoding: str | None = None, mode: str = "append", user: str, geometry_source: str = "surveyed", source_layer: str | None = None, label: str | None = None):
    """Read, validate and import one file into a layer, all-or-nothing: the CLI and HTTP import.

    One function so that `landgis import` and `POST /collections/{id}/import` refuse exactly the
    same bad files with exactly the same Chinese messages. Returns (ImportReport, ReadResult,
    warnings). Raises InputError before anything is written, so a refused file leaves the store
    (rows and history) unchanged.
    """
    from pathlib import Path

    from gis.errors import InputError
    from gis.io import read_features
    from gis.store.base import check_layer_name
    from parcels.layers import prepare_features
    from parcels.schema import LAYERS

    check_layer_name(layer)
    if mode not in ("append", "replace"):
        raise InputError(f"导入模式“{mode}”不合法。", hint="请使用 append（追加）或 replace（替换）。")
    if geometry_source not in ("surveyed", "digitized", "schematic"):
        raise InputError(f"几何来源“{geometry_source}”不合法。", hint="只能是 surveyed、digitized 或 schematic。")
    path = Path(path)
    name = label or path.name
    read = read_features(path, crs=crs, encoding=encoding, layer=source_layer, require_geometry=layer not in ("enterprises",))
    ready, warnings = prepare_features(layer, read.frame, geometry_source=geometry_source, data_source=f"导入自 {name}")
    spec = LAYERS.get(layer)
    report = store.import_features(
        layer, ready, mode=mode, user=user, geometry_type=spec.geometry_type if spec else "GEOMETRY", title=spec.title_zh if spec else layer, reason=f"import {name}"
    )
    return report, read, warnings
