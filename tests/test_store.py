"""The same store contract on GeoPackage and PostGIS: reads, writes, history, atomicity."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from gis.errors import InputError
from gis.store.base import Store


def parcels(ids, x0=112.55, names=None):
    geoms = [shapely.MultiPolygon([shapely.box(x0 + i * 0.002, 33.03, x0 + i * 0.002 + 0.001, 33.031)]) for i in range(len(ids))]
    return gpd.GeoDataFrame(
        {"id": ids, "name": names or [f"宗地{i}" for i in ids], "area_m2": [1000.0 + i for i in range(len(ids))], "idle": [i % 2 == 0 for i in range(len(ids))]},
        geometry=geoms,
        crs=4490,
    )


def snapshot(store: Store, layer: str):
    gdf = store.read_layer(layer)
    hist = store.history(layer)
    return gdf.drop(columns="geometry").to_dict("records"), shapely.to_wkb(gdf.geometry.values).tolist(), len(hist)


def test_roundtrip_types_and_chinese(store):
    store.import_features("industrial_parcels", parcels(["a", "b", "c"]), geometry_type="MULTIPOLYGON", user="tester")
    gdf = store.read_layer("industrial_parcels")
    assert gdf.crs.to_epsg() == 4490
    assert gdf["id"].tolist() == ["a", "b", "c"]
    assert gdf["name"].tolist() == ["宗地a", "宗地b", "宗地c"]
    assert gdf["area_m2"].tolist() == [1000.0, 1001.0, 1002.0]
    assert gdf["idle"].tolist() == [True, False, True]
    assert gdf.geometry.iloc[1].equals(parcels(["a", "b"]).geometry.iloc[1])
    assert store.count("industrial_parcels") == 3
    assert "industrial_parcels" in store.layer_names()


def test_bbox_uses_the_index(store):
    store.import_features("industrial_parcels", parcels([f"p{i}" for i in range(20)]), geometry_type="MULTIPOLYGON", user="t")
    hit = store.read_layer("industrial_parcels", bbox=(112.5545, 33.0, 112.5575, 33.1))
    # boxes i=2 (112.554-112.555), i=3 (112.556-112.557) intersect; i=1 ends at 112.553
    assert hit["id"].tolist() == ["p2", "p3"]


def test_update_records_who_when_old_new(store):
    store.import_features("industrial_parcels", parcels(["a"]), geometry_type="MULTIPOLYGON", user="loader")
    new_geom = shapely.MultiPolygon([shapely.box(112.56, 33.03, 112.561, 33.0315)])
    store.update_feature("industrial_parcels", "a", {"name": "改名"}, geometry=new_geom, user="admin1", reason="测绘更新")
    hist = store.history("industrial_parcels", "a")
    assert hist["action"].tolist() == ["insert", "update"]
    last = hist.iloc[-1]
    assert last["user"] == "admin1" and last["reason"] == "测绘更新" and last["at"].endswith("Z")
    assert '"name": "宗地a"' in last["old"] and '"name": "改名"' in last["new"]
    assert "112.561" in last["new"] and "112.561" not in last["old"]
    assert store.get_feature("industrial_parcels", "a")["name"] == "改名"


def test_duplicate_id_against_store_changes_nothing(store):
    store.import_features("industrial_parcels", parcels(["a", "b"]), geometry_type="MULTIPOLYGON", user="t")
    before = snapshot(store, "industrial_parcels")
    with pytest.raises(InputError) as info:
        store.import_features("industrial_parcels", parcels(["c", "d", "b"]), user="t")
    assert info.value.errors[0].row == 3 and "b" in str(info.value)
    assert snapshot(store, "industrial_parcels") == before


def test_failure_on_last_row_inside_transaction_rolls_back(store, monkeypatch):
    """A fault after every row but the last is written (a killed disk, a DB constraint) undoes all."""
    store.import_features("industrial_parcels", parcels(["a", "b"]), geometry_type="MULTIPOLYGON", user="t")
    before = snapshot(store, "industrial_parcels")
    original = type(store)._bulk_rows

    def insert_then_fail(self, cur, state, name, cols, columns, geoms, history):
        ids, *rest = history
        original(self, cur, state, name, cols, [c[:-1] for c in columns], geoms[:-1], (ids[:-1], *rest))
        self._bulk_wait(state)
        raise RuntimeError("simulated failure on the last row")

    monkeypatch.setattr(type(store), "_bulk_rows", insert_then_fail)
    with pytest.raises(RuntimeError):
        store.import_features("industrial_parcels", parcels(["x", "y", "z"], names=["新1", "新2", "新3"]), mode="replace", user="t")
    monkeypatch.undo()
    assert snapshot(store, "industrial_parcels") == before


def test_failed_first_import_leaves_no_layer(store, monkeypatch):
    def boom(self, cur, *args):
        raise RuntimeError("history write failed")

    monkeypatch.setattr(type(store), "_insert_import_history", boom)
    with pytest.raises(RuntimeError):
        store.import_features("roads", gpd.GeoDataFrame({"id": ["r1"]}, geometry=[shapely.LineString([(112.5, 33), (112.6, 33)])], crs=4490), user="t")
    monkeypatch.undo()
    assert "roads" not in store.layer_names()


def test_replace_keeps_old_rows_in_history(store):
    store.import_features("industrial_parcels", parcels(["a", "b"]), geometry_type="MULTIPOLYGON", user="t")
    store.import_features("industrial_parcels", parcels(["c"]), mode="replace", user="t2")
    assert store.read_layer("industrial_parcels")["id"].tolist() == ["c"]
    hist = store.history("industrial_parcels")
    replaced = hist[hist["action"] == "replace"]
    assert sorted(replaced["feature_id"]) == ["a", "b"] and replaced["old"].notna().all()


def test_runs_and_records(store):
    import pandas as pd

    run_id = store.save_run("efficiency", pd.DataFrame({"enterprise_id": ["e1"], "class": ["A"]}), user="u", input_hash="abc", policy="p")
    meta, table = store.get_run(run_id)
    assert meta["input_hash"] == "abc" and table.to_dict("records") == [{"enterprise_id": "e1", "class": "A"}]
    store.put_record("class_adjustment", "e1", {"class": "B", "reason": "核查"}, user="admin")
    store.put_record("class_adjustment", "e1", {"class": "C", "reason": "复核"}, user="admin")
    assert store.get_records("class_adjustment") == {"e1": {"class": "C", "reason": "复核"}}
    assert len(store.history("landgis_records:class_adjustment", "e1")) == 2


def test_unsafe_layer_names_refused(store):
    with pytest.raises(InputError):
        store.import_features('x"; drop table landgis_history; --', parcels(["a"]), user="t")


def test_value_counts_group_without_reading_geometries(store):
    store.import_features("industrial_parcels", parcels(["a", "b", "c", "d"], names=["甲", "乙", "甲", None]), geometry_type="MULTIPOLYGON", user="tester")
    rows = store.value_counts("industrial_parcels", ["name", "idle"])
    got = {(n, bool(i)): c for n, i, c in rows}
    assert got == {("甲", True): 2, ("乙", False): 1, (None, False): 1}
    with pytest.raises(InputError, match="没有字段"):
        store.value_counts("industrial_parcels", ["name", "no_such"])


@pytest.mark.parametrize("text, expected", [
    ("CASEI(name) = CASEI('ａbc')", {"x"}),  # full-width Ａ folds like PostgreSQL's lower()
    ("CASEI(name) LIKE CASEI('%éδ%')", {"y"}),
    ("CASEI(name) = CASEI('宗地')", {"z"}),
])
def test_casei_folds_unicode_on_both_stores(store, text, expected):
    import json

    from gis.store.cql2 import cql2_to_sql, parse_cql2
    from gis.store.items import ItemsQuery, fetch_items

    store.import_features("industrial_parcels", parcels(["x", "y", "z"], names=["Ａbc", "ÉΔ地", "宗地"]), geometry_type="MULTIPOLYGON", user="tester")
    where = cql2_to_sql(store, "industrial_parcels", parse_cql2(text, "cql2-text"), store.columns("industrial_parcels"))
    page = fetch_items(store, "industrial_parcels", ItemsQuery(where=[where]))
    assert {json.loads(f)["id"] for f in page.features} == expected
