"""Imports of files into layers, all-or-nothing (SPEC §2): the one path of `landgis import` and HTTP."""

from __future__ import annotations

from gis.store import Store
from services.parcel_edits import RESERVE


WHOLE_LAYERS = (RESERVE, "land_supply", "enterprises", "land_survey")
"""Read whole, never in batches: reserve parcels (the overlap check needs the whole import at
once), the supply ledger (rows take their reserve parcel's geometry and are checked together) and
enterprise tables (small, often without geometry); the land survey (its rules refuse the whole
file on one polygon outside the zone, services/intensity.py)."""


def import_file(store: Store, layer: str, path, *, crs: str | None = None, encoding: str | None = None, mode: str = "append", user: str, geometry_source: str = "surveyed", source_layer: str | None = None, label: str | None = None, progress=None):
    """Read, validate and import one file into a layer, all-or-nothing: the CLI and HTTP import.

    One function so that `landgis import` and `POST /collections/{id}/import` refuse exactly the
    same bad files with exactly the same Chinese messages. Returns (ImportReport, ReadResult
    or BatchedRead, warnings). A refused file leaves the store (rows and history) unchanged.

    An OGR vector file (GeoPackage, shapefile, FlatGeobuf, GeoJSON, …) is read, validated and
    written in batches inside one transaction (`gis.io.read_feature_batches`,
    `Store.import_batches`): memory holds one batch, a bad row anywhere rolls back every batch,
    and errors count rows from the file's first feature. `progress(rows)` after each batch.
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
    spec = LAYERS.get(layer)
    if layer not in WHOLE_LAYERS:
        from gis.io import read_feature_batches

        batched = read_feature_batches(path, crs=crs, encoding=encoding, layer=source_layer)
        if batched is not None:
            warnings: list[str] = []
            report = store.import_batches(
                layer, _prepared_batches(layer, batched, warnings, geometry_source=geometry_source, data_source=f"导入自 {name}"),
                mode=mode, user=user, geometry_type=spec.geometry_type if spec else "GEOMETRY", title=spec.title_zh if spec else layer,
                reason=f"import {name}", progress=progress,
            )
            return report, batched, warnings
    read = read_features(path, crs=crs, encoding=encoding, layer=source_layer, require_geometry=layer not in ("enterprises", "land_supply"))
    if layer == "land_supply":  # rows may take a reserve parcel's geometry; the ledger rules refuse bad rows (SPEC §4.2)
        from services.supply_ledger import prepare_ledger_import

        ready, warnings = prepare_ledger_import(store, read.frame, geometry_source=geometry_source, data_source=f"导入自 {name}")
    elif layer == "land_survey":  # 土地利用状况调查图斑: statuses, uses, in the zone (SPEC §11)
        from services.intensity import prepare_survey_import

        ready, warnings = prepare_survey_import(store, read.frame, geometry_source=geometry_source, data_source=f"导入自 {name}")
    else:
        ready, warnings = prepare_features(layer, read.frame, geometry_source=geometry_source, data_source=f"导入自 {name}")
    report = store.import_features(
        layer, ready, mode=mode, user=user, geometry_type=spec.geometry_type if spec else "GEOMETRY", title=spec.title_zh if spec else layer, reason=f"import {name}",
        check=_reserve_overlap_check(ready) if layer == RESERVE else None,
    )
    return report, read, warnings


def _reserve_overlap_check(ready):
    """No imported reserve parcel may overlap another live one (SPEC §4): checked in the transaction."""
    import numpy as np

    from parcels import workflow
    from parcels.schema import DELETED_STATUS

    ids = [str(v) for v in ready["id"].tolist()]
    geoms = np.asarray(ready.geometry.values, dtype=object)
    statuses = ready["status"].tolist() if "status" in ready.columns else [None] * len(ready)
    live = np.array([s != DELETED_STATUS for s in statuses], dtype=bool)
    checked = geoms.copy()
    checked[~live] = None  # a cancelled parcel holds no land; rows keep their numbers

    def check(view) -> None:
        others: dict = {}
        present = [g for g in geoms[live] if g is not None]
        if present and view.layer_exists(RESERVE):
            import shapely

            bounds = shapely.total_bounds(np.asarray(present, dtype=object))
            near = view.read_layer(RESERVE, columns=["id", "status"], bbox=tuple(float(b) for b in bounds))
            others = {r.id: r.geometry for r in near.itertuples() if getattr(r, "status", None) != DELETED_STATUS and r.geometry is not None}
        errors = workflow.reserve_overlap_errors(ids, checked, others)
        if errors:
            from gis.errors import InputError

            raise InputError(
                f"导入被拒绝：{len(errors)} 个储备地块与其他储备地块重叠，数据库未作任何修改。",
                errors,
                hint="储备地块之间重叠不得超过 1 平方米（SPEC §4）：请核对坐标系与边界后重新导入；整体替换请用 mode=replace。",
            )

    return check


def _prepared_batches(layer: str, batches, warnings: list[str], *, geometry_source: str, data_source: str):
    """Each batch through the domain rules of an import (`prepare_features`), its error rows
    counted from the file's first feature; the warnings of all batches, each once."""
    from gis.errors import InputError
    from parcels.layers import prepare_features

    offset = 0
    for frame in batches:
        try:
            ready, batch_warnings = prepare_features(layer, frame, geometry_source=geometry_source, data_source=data_source)
        except InputError as exc:
            import re

            for e in exc.errors:
                if getattr(e, "row", None) is not None:
                    e.row += offset
            if offset:
                exc.detail = re.sub(r"第\s*(\d+)\s*行", lambda m: f"第 {int(m.group(1)) + offset} 行", exc.detail)
                exc.args = (exc.render(),)
            raise
        for w in batch_warnings:
            if w not in warnings:
                warnings.append(w)
        offset += len(frame)
        yield ready
