"""gis/store/id_registry.py: an import's memory of the ids it has seen — exact (text-confirmed),
whatever the hashes do, and small."""

from __future__ import annotations

import numpy as np
import pytest

from gis.store import id_registry
from gis.store.id_registry import IdRegistry


def _fill(reg: IdRegistry, ids: list[str], batch: int) -> None:
    for start in range(0, len(ids), batch):
        part = ids[start:start + batch]
        reg.add(part, list(range(start + 1, start + 1 + len(part))))


def test_finds_every_earlier_id_with_its_first_row_and_nothing_else():
    ids = [f"P{i:07d}" for i in range(25_000)]
    reg = IdRegistry()
    _fill(reg, ids, 1_000)
    assert len(reg) == 25_000
    assert len(reg._runs) <= 6  # merged like a binary counter: 25 batches → popcount(25) runs
    probe = ["P0000000", "P0012345", "P0024999", "P0025000", "Q0000001", "", "宗地1"]
    assert reg.earlier(probe) == {"P0000000": 1, "P0012345": 12_346, "P0024999": 25_000}


def test_a_hash_collision_never_passes_for_a_repeat(monkeypatch):
    """Every id given the same hash: lookups must still answer by the text."""
    monkeypatch.setattr(id_registry, "_hashes", lambda ids: np.zeros(len(ids), dtype=np.uint64))
    reg = IdRegistry()
    _fill(reg, [f"A{i}" for i in range(300)], 64)
    assert reg.earlier(["A17", "B17", "A299"]) == {"A17": 18, "A299": 300}


@pytest.mark.parametrize("store_kind", ["geopackage", "postgis"])
def test_an_import_names_a_repeat_across_batches_and_its_first_row(store_kind, tmp_path, monkeypatch, request):
    import geopandas as gpd
    import shapely

    import gis.io
    from gis.errors import InputError
    from gis.store import open_store
    from gis.store.base import BULK_ROWS

    url = str(tmp_path / "s.gpkg") if store_kind == "geopackage" else request.getfixturevalue("pg_url")
    store = open_store(url)
    store.init()
    monkeypatch.setattr(gis.io, "BATCH_ROWS", 500)
    n = BULK_ROWS + 1_500
    ids = [f"P{i:05d}" for i in range(n)]
    ids[n - 3] = "P00042"  # repeats row 43, three batches later
    frame = gpd.GeoDataFrame({"id": ids}, geometry=[shapely.box(112.5 + i * 1e-4, 33.0, 112.50005 + i * 1e-4, 33.00005) for i in range(n)], crs=4490)
    path = tmp_path / "dup.gpkg"
    frame.to_file(path, layer="cadastre")
    from services.imports import import_file

    with pytest.raises(InputError) as err:
        import_file(store, "cadastre", path, user="t")
    rows = [(e.row, e.field, e.message) for e in err.value.errors]
    assert rows == [(n - 2, "id", "要素编号 P00042 与第43行重复")]
    assert "cadastre" not in store.layer_names()
    store.close()
