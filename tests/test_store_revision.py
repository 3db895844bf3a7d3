"""Per-layer data revisions on both stores: every committed write changes `Store.revision`, by
landgis or by an outside writer (sqlite3/GDAL on the .gpkg, psycopg on the PostGIS table); a
rolled-back one does not; older stores without the machinery still open; caches keyed on the
revision (the items count) are fresh right after a write.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid

import geopandas as gpd
import psycopg
import pytest
import shapely

from services import parcel_edits
from gis.store import open_store
from gis.store import items as items_query
from gis.store.base import REVISIONS
from gis.store.geopackage import _register_functions

LAYER = "industrial_parcels"


def parcels(ids, x0=112.55, **extra):
    geoms = [shapely.MultiPolygon([shapely.box(x0 + i * 0.002, 33.03, x0 + i * 0.002 + 0.001, 33.031)]) for i in range(len(ids))]
    data = {"id": ids, "name": [f"宗地{i}" for i in ids], **extra}
    return gpd.GeoDataFrame(data, geometry=geoms, crs=4490)


def counter(store, layer: str = LAYER) -> int:
    """The raw counter row, to check how often the trigger bumped (not part of the API)."""
    return int(store._fetchall(f"SELECT revision FROM {REVISIONS} WHERE layer = ?", (layer,))[0][0])


# --- outside writers: a plain connection to the same store, not through landgis -------------
class Outside:
    """A second, non-landgis client: sqlite3 with the GeoPackage ST_* functions GDAL/QGIS
    provide (the standard R-tree triggers call them), or psycopg on the PostGIS schema."""

    def __init__(self, store):
        self.pg = store.kind == "postgis"
        if self.pg:
            self.conn = psycopg.connect(store.url, autocommit=True)
        else:
            self.conn = sqlite3.connect(store.url, isolation_level=None, timeout=30)
            _register_functions(self.conn)

    def run(self, *statements: str, rollback: bool = False) -> None:
        self.conn.execute("BEGIN")
        for sql in statements:
            self.conn.execute(sql)
        self.conn.execute("ROLLBACK" if rollback else "COMMIT")

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def outside(store):
    o = Outside(store)
    yield o
    o.close()


# --- landgis writes ----------------------------------------------------------------------
def test_unknown_layer_has_no_revision(store):
    assert store.revision("no_such_layer") is None


def test_revision_changes_on_every_landgis_write(store):
    seen = []

    def step():
        rev = store.revision(LAYER)
        assert rev is not None and rev not in seen, (rev, seen)
        seen.append(rev)

    store.import_features(LAYER, parcels(["a", "b"]), geometry_type="MULTIPOLYGON", user="t")
    step()
    assert store.revision(LAYER) == seen[-1]  # reading does not change it
    store.read_layer(LAYER)
    assert store.revision(LAYER) == seen[-1]
    store.import_features(LAYER, parcels(["c"], x0=112.6), user="t")  # append
    step()
    store.update_feature(LAYER, "a", {"name": "改名"}, user="t")  # attribute edit
    step()
    store.update_feature(LAYER, "a", {}, geometry=shapely.MultiPolygon([shapely.box(112.7, 33.0, 112.701, 33.001)]), user="t")
    step()
    store.update_feature(LAYER, "a", {"new_field": 3}, user="t")  # edit that adds a column
    step()
    store.import_features(LAYER, parcels(["x", "y"]), mode="replace", user="t")  # replace
    step()
    assert store.count(LAYER) == 2


def test_status_change_and_delete_change_the_revision(store):
    services_layer = parcel_edits.RESERVE
    store.import_features(services_layer, parcels(["r1", "r2"], status=["计划报批", "计划报批"]), geometry_type="MULTIPOLYGON", user="t")
    r0 = store.revision(services_layer)
    parcel_edits.change_status(store, "r1", "已组卷上报", user="u", role="admin")
    r1 = store.revision(services_layer)
    parcel_edits.change_status(store, "r2", "已注销", user="u", role="admin", reason="测试注销")  # deletion is a status
    r2 = store.revision(services_layer)
    assert None not in (r0, r1, r2) and len({r0, r1, r2}) == 3


def test_opening_the_store_again_keeps_the_revision(store):
    """Every API worker and CLI command runs init(): that must not invalidate anybody's cache."""
    store.import_features(LAYER, parcels(["a"]), geometry_type="MULTIPOLYGON", user="t")
    before = store.revision(LAYER)
    again = open_store(store.url)
    try:
        assert again.revision(LAYER) == before
    finally:
        again.close()
    assert store.revision(LAYER) == before


def test_layers_have_independent_revisions(store):
    store.import_features(LAYER, parcels(["a"]), geometry_type="MULTIPOLYGON", user="t")
    store.import_features("other_layer", parcels(["a"]), geometry_type="MULTIPOLYGON", user="t")
    before = store.revision(LAYER)
    store.update_feature("other_layer", "a", {"name": "改"}, user="t")
    assert store.revision(LAYER) == before


def test_failed_import_leaves_the_revision_alone(store, monkeypatch):
    store.import_features(LAYER, parcels(["a", "b"]), geometry_type="MULTIPOLYGON", user="t")
    before = store.revision(LAYER)
    bumps = counter(store)

    def broken(cur, *args):  # fails after the rows (and their trigger bumps) are written
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store, "_insert_import_history", broken)
    with pytest.raises(RuntimeError):
        store.import_features(LAYER, parcels(["c", "d"], x0=112.6), user="t")
    with pytest.raises(RuntimeError):
        store.import_features(LAYER, parcels(["x"]), mode="replace", user="t")
    with pytest.raises(RuntimeError):
        store.import_features("brand_new_layer", parcels(["n"]), geometry_type="MULTIPOLYGON", user="t")
    monkeypatch.undo()
    assert store.revision(LAYER) == before
    assert counter(store) == bumps
    assert store.count(LAYER) == 2
    assert store.revision("brand_new_layer") is None  # the layer, its trigger and its row all rolled back
    store.update_feature(LAYER, "a", {"name": "改"}, user="t")  # and the next write still counts
    assert store.revision(LAYER) != before


def test_a_bulk_import_bumps_a_handful_of_times_not_once_per_row(store):
    """PostGIS runs one INSERT per row: the trigger must bump once per transaction, or a
    large import crawls (the counter row's version chain grows with every bump)."""
    store.import_features(LAYER, parcels(["seed"]), geometry_type="MULTIPOLYGON", user="t")
    before = counter(store)
    store.import_features(LAYER, parcels([f"p{i}" for i in range(300)], x0=112.6), user="t")
    after = counter(store)
    if store.kind == "postgis":
        assert after - before == 1
    else:  # SQLite row triggers: one bump per row, cheap there (no MVCC)
        assert after - before == 300


# --- outside writers ---------------------------------------------------------------------
def test_outside_update_delete_insert_change_the_revision(store, outside):
    store.import_features(LAYER, parcels(["a", "b", "c"]), geometry_type="MULTIPOLYGON", user="t")
    r0 = store.revision(LAYER)
    outside.run(f"UPDATE {LAYER} SET name = 'QGIS 改' WHERE id = 'a'")
    r1 = store.revision(LAYER)
    outside.run(f"DELETE FROM {LAYER} WHERE id = 'b'")
    r2 = store.revision(LAYER)
    outside.run(f"INSERT INTO {LAYER} (id, name) VALUES ('z', '外部新增')")
    r3 = store.revision(LAYER)
    assert None not in (r0, r1, r2, r3) and len({r0, r1, r2, r3}) == 4
    assert store.get_feature(LAYER, "a")["name"] == "QGIS 改"
    assert store.count(LAYER) == 3


def test_outside_rollback_leaves_the_revision_alone(store, outside):
    store.import_features(LAYER, parcels(["a", "b"]), geometry_type="MULTIPOLYGON", user="t")
    before = store.revision(LAYER)
    outside.run(f"UPDATE {LAYER} SET name = '撤销'", f"DELETE FROM {LAYER} WHERE id = 'b'", rollback=True)
    assert store.revision(LAYER) == before
    assert store.count(LAYER) == 2


@pytest.fixture
def pg_store(pg_url):
    s = open_store(pg_url)
    yield s
    s.close()


@pytest.fixture
def gpkg_store(tmp_path):
    s = open_store(str(tmp_path / "store.gpkg"))
    yield s
    s.close()


def test_postgis_truncate_savepoints_and_foreign_search_path(pg_store, pg_url):
    store = pg_store
    store.import_features(LAYER, parcels(["a", "b"]), geometry_type="MULTIPOLYGON", user="t")
    schema = pg_url.split("search_path%3D")[1].split(",")[0]
    base_url = pg_url.split("?")[0]
    with psycopg.connect(base_url, autocommit=True) as conn:  # default search_path: names qualified
        r0 = store.revision(LAYER)
        with conn.transaction():
            with pytest.raises(psycopg.errors.UniqueViolation), conn.transaction():  # a savepoint that fails
                conn.execute(f"UPDATE {schema}.{LAYER} SET name = 'x'")
                conn.execute(f"INSERT INTO {schema}.{LAYER} (id) VALUES ('a')")
        assert store.revision(LAYER) == r0  # the savepoint's bump went with it
        with conn.transaction():
            with pytest.raises(psycopg.errors.UniqueViolation), conn.transaction():
                conn.execute(f"UPDATE {schema}.{LAYER} SET name = 'x'")
                conn.execute(f"INSERT INTO {schema}.{LAYER} (id) VALUES ('a')")
            conn.execute(f"UPDATE {schema}.{LAYER} SET name = 'y' WHERE id = 'a'")  # must bump again
        r1 = store.revision(LAYER)
        assert r1 != r0 and store.get_feature(LAYER, "a")["name"] == "y"
        conn.execute(f"TRUNCATE {schema}.{LAYER}")
        r2 = store.revision(LAYER)
        assert r2 not in (r0, r1) and store.count(LAYER) == 0


def test_postgis_editor_role_needs_no_rights_on_the_revisions_table(pg_store, pg_url):
    """QGIS users often edit with their own role: the bump runs as the table's owner."""
    store = pg_store
    store.import_features(LAYER, parcels(["a"]), geometry_type="MULTIPOLYGON", user="t")
    schema = pg_url.split("search_path%3D")[1].split(",")[0]
    role = f"editor_{uuid.uuid4().hex[:8]}"
    before = store.revision(LAYER)
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role}")
        try:
            admin.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
            admin.execute(f"GRANT SELECT, UPDATE ON {schema}.{LAYER} TO {role}")
            with admin.transaction():
                admin.execute(f"SET LOCAL ROLE {role}")
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    admin.execute(f"SELECT * FROM {schema}.{REVISIONS}")
            with admin.transaction():
                admin.execute(f"SET LOCAL ROLE {role}")
                admin.execute(f"UPDATE {schema}.{LAYER} SET name = '编辑员改' WHERE id = 'a'")
        finally:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")
    assert store.revision(LAYER) != before
    assert store.get_feature(LAYER, "a")["name"] == "编辑员改"


def test_gdal_append_to_the_geopackage_changes_the_revision(gpkg_store):
    """GDAL runs our triggers itself: they are plain SQL."""
    import pyogrio

    store = gpkg_store
    store.import_features(LAYER, parcels(["a"]), geometry_type="MULTIPOLYGON", user="t")
    before = store.revision(LAYER)
    pyogrio.write_dataframe(parcels(["g"], x0=112.8), store.url, layer=LAYER, append=True)
    assert store.revision(LAYER) != before
    assert store.count(LAYER) == 2


# --- stores without the machinery ----------------------------------------------------------
def strip_revisions(store) -> None:
    """Make the store look like one written by a landgis without revisions."""
    conn = store.connection()
    if store.kind == "postgis":
        conn.execute(f"DROP TABLE {REVISIONS}")
        conn.execute("DROP FUNCTION landgis_revision_trigger() CASCADE")  # and every layer's trigger
        conn.execute("DROP FUNCTION landgis_bump_revision(text, text)")
    else:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'landgis_rev_%'")]
        for n in names:
            conn.execute(f'DROP TRIGGER "{n}"')
        conn.execute(f"DROP TABLE {REVISIONS}")
        conn.execute("DELETE FROM gpkg_contents WHERE table_name = ?", (REVISIONS,))
    store._column_cache.clear()


def test_old_store_opens_works_and_is_upgraded_on_init(store_url):
    s = open_store(store_url)
    s.import_features(LAYER, parcels(["a", "b"]), geometry_type="MULTIPOLYGON", user="t")
    strip_revisions(s)
    s.close()

    old = open_store(store_url, init=False)  # as an older deployment or a read-only tool would
    try:
        assert old.revision(LAYER) is None
        assert old.count(LAYER) == 2 and items_query.cached_count(old, LAYER) == 2
        old.update_feature(LAYER, "a", {"name": "旧版也能写"}, user="t")  # no trigger, no table: still writes
        old.import_features("new_layer", parcels(["n"]), geometry_type="MULTIPOLYGON", user="t")  # creates what it needs
        assert old.revision("new_layer") is not None
        assert old.revision(LAYER) is None
    finally:
        old.close()

    upgraded = open_store(store_url)  # init installs the missing trigger
    try:
        r0 = upgraded.revision(LAYER)
        assert r0 is not None
        upgraded.update_feature(LAYER, "b", {"name": "升级后"}, user="t")
        assert upgraded.revision(LAYER) not in (None, r0)
        assert upgraded.get_feature(LAYER, "a")["name"] == "旧版也能写"
    finally:
        upgraded.close()


def test_dropped_trigger_means_no_revision_until_reopened(store, outside):
    """An outside tool that re-creates a table drops its triggers: say so (None), never a stale token."""
    store.import_features(LAYER, parcels(["a"]), geometry_type="MULTIPOLYGON", user="t")
    assert store.revision(LAYER) is not None
    if store.kind == "postgis":
        outside.run(f"DROP TRIGGER landgis_revision ON {LAYER}")
    else:
        outside.run(f'DROP TRIGGER "landgis_rev_{LAYER}_update"')
    assert store.revision(LAYER) is None
    reopened = open_store(store.url)
    try:
        r = reopened.revision(LAYER)
        assert r is not None
        outside.run(f"UPDATE {LAYER} SET name = '再改'")
        assert reopened.revision(LAYER) not in (None, r)
    finally:
        reopened.close()


# --- caches keyed on the revision ------------------------------------------------------------
def test_count_is_fresh_right_after_a_write(store, outside, monkeypatch):
    monkeypatch.setattr(items_query, "COUNT_TTL_S", 3600.0)  # a timer could not rescue a stale count
    store.import_features(LAYER, parcels(["a", "b", "c"]), geometry_type="MULTIPOLYGON", user="t")
    assert items_query.cached_count(store, LAYER) == 3
    store.import_features(LAYER, parcels(["d", "e"], x0=112.6), user="t")
    assert items_query.cached_count(store, LAYER) == 5
    outside.run(f"DELETE FROM {LAYER} WHERE id IN ('a', 'b')")
    assert items_query.cached_count(store, LAYER) == 3
    store.import_features(LAYER, parcels(["z"]), mode="replace", user="t")
    assert items_query.cached_count(store, LAYER) == 1


def test_count_is_not_recounted_while_the_revision_stands(store, monkeypatch):
    store.import_features(LAYER, parcels(["a", "b"]), geometry_type="MULTIPOLYGON", user="t")
    calls = []
    real = store.count
    monkeypatch.setattr(store, "count", lambda name: calls.append(name) or real(name))
    monkeypatch.setattr(items_query, "COUNT_TTL_S", 0.0)  # only the revision can keep it
    for _ in range(5):
        assert items_query.cached_count(store, LAYER) == 2
    assert len(calls) == 1
    store.update_feature(LAYER, "a", {"name": "改"}, user="t")
    assert items_query.cached_count(store, LAYER) == 2
    assert len(calls) == 2


def test_extent_follows_the_revision(store):
    store.import_features(LAYER, parcels(["a"]), geometry_type="MULTIPOLYGON", user="t")
    assert items_query.layer_extent(store, LAYER)[2] == pytest.approx(112.551)
    store.import_features(LAYER, parcels(["far"], x0=113.0), user="t")
    assert items_query.layer_extent(store, LAYER)[2] == pytest.approx(113.001)


class SlowStore:
    """Just enough store for cached_count: a fixed revision and a slow, counted COUNT(*)."""

    url = "stub://slow"

    def __init__(self, revision: str | None):
        from gis.store.cache import StoreCaches

        self.rev = revision
        self.calls = 0
        self.lock = threading.Lock()
        self.caches = StoreCaches()

    def revision(self, layer):
        return self.rev

    def count(self, layer):
        with self.lock:
            self.calls += 1
        time.sleep(0.2)
        return 100 + self.calls


def _hammer(stub, n=8) -> list[int]:
    out: list[int] = []
    threads = [threading.Thread(target=lambda: out.append(items_query.cached_count(stub, LAYER))) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_count_single_flight_after_a_write():
    stub = SlowStore("r1")
    assert _hammer(stub) == [101] * 8 and stub.calls == 1  # one COUNT for eight requests
    stub.rev = "r2"  # a write: everybody waits for the one recount, nobody gets the old 101
    assert _hammer(stub) == [102] * 8 and stub.calls == 2


def test_count_without_revision_keeps_the_ttl_and_serves_the_old_value_while_refreshing(monkeypatch):
    stub = SlowStore(None)
    assert items_query.cached_count(stub, LAYER) == 101
    assert items_query.cached_count(stub, LAYER) == 101 and stub.calls == 1  # within the TTL
    monkeypatch.setattr(items_query, "COUNT_TTL_S", 0.0)
    got = _hammer(stub)
    assert stub.calls == 2 and sorted(set(got)) == [101, 102]  # one refresh; the others did not wait
