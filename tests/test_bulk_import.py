"""The bulk import path (issue 19): what it skips must still hold, on both stores.

- GeoPackage drops its R-tree and revision insert triggers for a bulk insert and re-creates them:
  afterwards the R-tree holds exactly the rows' envelopes, the triggers are back (a later edit
  updates the R-tree), the revision moved, and a failure leaves triggers, rows and history as
  they were.
- Import history rows no longer copy each feature: `history` gives back the imported state —
  from the next change's `old`, or the row as it stands — equal to what was imported.
"""

from __future__ import annotations

import json
import sqlite3

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gis.store.base import BULK_ROWS

N = BULK_ROWS + 500


def grid(n: int, prefix: str = "B") -> gpd.GeoDataFrame:
    i = np.arange(n)
    x0 = 112.40 + (i % 60) * 0.002
    y0 = 32.90 + (i // 60) * 0.002
    return gpd.GeoDataFrame(
        {"id": [f"{prefix}{j:05d}" for j in i], "name": [f"宗地{j}" for j in i], "area_mu": np.round(i * 0.5, 2), "idle": i % 3 == 0},
        geometry=shapely.box(x0, y0, x0 + 0.001 + (i % 5) * 0.0001, y0 + 0.001),
        crs="EPSG:4490",
    )


def gpkg_triggers(path, layer: str) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (layer,))}


def test_bulk_geopackage_rtree_triggers_and_revision(tmp_path):
    from gis.store import open_store

    path = tmp_path / "bulk.gpkg"
    store = open_store(str(path))
    store.import_features("cad", grid(10), geometry_type="POLYGON", user="t")  # small: the trigger path
    triggers = gpkg_triggers(path, "cad")
    assert {"rtree_cad_geom_insert", "landgis_rev_cad_insert"} <= triggers
    rev = store.revision("cad")
    frame = grid(N, "Z")
    store.import_features("cad", frame, geometry_type="POLYGON", user="t")
    assert gpkg_triggers(path, "cad") == triggers
    assert store.revision("cad") != rev
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT rtreecheck('rtree_cad_geom')").fetchone()[0] == "ok"  # SQLite's own integrity check
        rt = conn.execute("SELECT r.id, r.minx, r.maxx, r.miny, r.maxy, t.id FROM rtree_cad_geom r JOIN cad t ON t.fid = r.id ORDER BY r.id").fetchall()
    assert len(rt) == 10 + N
    want = dict(zip(frame["id"], shapely.bounds(frame.geometry.values)))
    for _, minx, maxx, miny, maxy, fid in rt:
        if fid in want:
            b = want[fid]  # R-tree stores float32, rounded outwards
            assert minx <= b[0] and maxx >= b[2] and miny <= b[1] and maxy >= b[3]
            assert b[0] - minx < 5e-5 and maxx - b[2] < 5e-5  # one or two float32 steps at 112°
    # bbox queries find the bulk rows through the R-tree
    b = shapely.bounds(frame.geometry.values[1234])
    gdf = store.read_layer("cad", bbox=(b[0] + 1e-5, b[1] + 1e-5, b[2] - 1e-5, b[3] - 1e-5))
    assert "Z01234" in set(gdf["id"])
    # the re-created triggers work: a moved feature is found at its new place
    store.update_feature("cad", "Z00007", {}, geometry=shapely.box(113.0, 34.0, 113.001, 34.001), user="t")
    assert store.read_layer("cad", bbox=(112.9995, 33.9995, 113.0015, 34.0015))["id"].tolist() == ["Z00007"]
    # fids continue after the bulk rows; a second bulk import repacks the tree with every entry
    store.import_features("cad", grid(3, "Q"), geometry_type="POLYGON", user="t")
    store.import_features("cad", grid(N, "W"), geometry_type="POLYGON", user="t")
    assert store.count("cad") == 10 + 2 * N + 3
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT rtreecheck('rtree_cad_geom')").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM rtree_cad_geom").fetchone()[0] == 10 + 2 * N + 3
    for fid in ("B00003", "Z00100", "Q00001", "W02001"):
        g = store.read_layer("cad", ids=[fid]).geometry.iloc[0]
        x0, y0, x1, y1 = g.bounds
        assert fid in set(store.read_layer("cad", bbox=(x0 + 1e-5, y0 + 1e-5, x1 - 1e-5, y1 - 1e-5))["id"])


def test_failed_bulk_import_restores_triggers_and_rows(tmp_path, monkeypatch):
    from gis.store import open_store

    path = tmp_path / "fail.gpkg"
    store = open_store(str(path))
    store.import_features("cad", grid(10), geometry_type="POLYGON", user="t")
    triggers = gpkg_triggers(path, "cad")
    before = (store.count("cad"), len(store.history("cad")), store.revision("cad"))

    def boom(self, cur, *args):
        raise RuntimeError("history write failed")

    monkeypatch.setattr(type(store), "_insert_import_history", boom)
    with pytest.raises(RuntimeError):
        store.import_features("cad", grid(N, "Z"), geometry_type="POLYGON", user="t")
    monkeypatch.undo()
    assert gpkg_triggers(path, "cad") == triggers
    assert (store.count("cad"), len(store.history("cad")), store.revision("cad")) == before
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM rtree_cad_geom").fetchone()[0] == 10


@pytest.mark.parametrize("n", [5, N])
def test_import_history_gives_back_the_imported_state(store, n):
    frame = grid(n)
    store.import_features("cad", frame, geometry_type="POLYGON", user="importer", reason="import test.gpkg")
    fid = frame["id"].iloc[3]
    store.update_feature("cad", fid, {"name": "改名"}, user="editor", reason="fix")
    untouched = frame["id"].iloc[4]
    for feature, changed in ((fid, True), (untouched, False)):
        hist = store.history("cad", feature)
        first = hist.iloc[0]
        assert first["action"] == "insert" and first["user"] == "importer" and first["reason"] == "import test.gpkg"
        new = json.loads(first["new"])
        row = frame[frame["id"] == feature].iloc[0]
        assert new["name"] == row["name"] and new["area_mu"] == pytest.approx(row["area_mu"]) and bool(new["idle"]) == bool(row["idle"])
        assert shapely.from_wkt(new["geometry"]).equals_exact(row.geometry, 1e-7)
        if changed:
            assert json.loads(hist.iloc[1]["old"])["name"] == row["name"] and json.loads(hist.iloc[1]["new"])["name"] == "改名"
    # the layer-wide history fills every import row too
    whole = store.history("cad")
    assert whole[whole["action"] == "insert"]["new"].notna().all()
    # the spatial index is there (PostGIS builds it after a fresh bulk load) and answers
    if store.kind == "postgis":
        assert store._fetchall("SELECT count(*) FROM pg_indexes WHERE tablename = 'cad' AND indexname = 'cad_geom_gist' AND schemaname = current_schema()")[0][0] == 1
    b = shapely.bounds(frame.geometry.values[n - 1])
    assert frame["id"].iloc[n - 1] in set(store.read_layer("cad", bbox=(b[0] + 1e-5, b[1] + 1e-5, b[2] - 1e-5, b[3] - 1e-5))["id"])


@pytest.mark.parametrize("n", [0, 1, 51, 52, 2601, 20000])
def test_packed_rtree_passes_sqlites_check_and_answers_like_brute_force(n):
    """rtree_pack against SQLite itself: rtreecheck() ok, every window query equal to a scan of
    the envelopes, and the module keeps working (insert, delete) on the packed tree."""
    from gis.store.rtree_pack import bulk_load

    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE VIRTUAL TABLE r USING rtree(id, minx, maxx, miny, maxy)")
    rng = np.random.default_rng(n)
    x, y, w = rng.uniform(112, 113, n), rng.uniform(32, 33, n), rng.uniform(0, 0.002, n)
    ids = np.arange(1, n + 1) * 7
    conn.execute("BEGIN")
    bulk_load(conn.cursor(), "r", ids, x, x + w, y, y + w)
    conn.execute("COMMIT")
    assert conn.execute("SELECT rtreecheck('r')").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM r").fetchone()[0] == n
    for _ in range(25):
        qx, qy, d = rng.uniform(112, 113), rng.uniform(32, 33), rng.uniform(0.001, 0.2)
        got = {r[0] for r in conn.execute("SELECT id FROM r WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?", (qx, qx + d, qy, qy + d))}
        want = set(ids[(x + w >= qx) & (x <= qx + d) & (y + w >= qy) & (y <= qy + d)].tolist())
        assert want <= got  # never misses an entry
        # extras only from float32 rounding outwards (an R-tree is a conservative filter, as in SQLite)
        tol = 3e-5
        near = set(ids[(x + w >= qx - tol) & (x <= qx + d + tol) & (y + w >= qy - tol) & (y <= qy + d + tol)].tolist())
        assert got <= near
    conn.execute("INSERT INTO r VALUES (1, 112.5, 112.6, 32.5, 32.6)")
    if n:
        conn.execute("DELETE FROM r WHERE id = ?", (int(ids[0]),))
    assert conn.execute("SELECT rtreecheck('r')").fetchone()[0] == "ok"


def test_db_values_equal_to_db_value_for_every_dtype():
    """The vectorised column conversion gives exactly what `to_db_value` gives per value."""
    import pandas as pd

    from gis.store.base import db_values, to_db_value

    cases = {
        "INTEGER": [pd.Series([1, 2, 3]), pd.Series([1, None, 3], dtype="Int64"), pd.Series([1.0, 2.0]), pd.Series([1, None], dtype=object)],
        "REAL": [pd.Series([1.5, float("nan"), float("inf")]), pd.Series([1, 2]), pd.Series([1, None], dtype="Int64"), pd.Series(["1.5"], dtype=object)],
        "BOOLEAN": [pd.Series([True, False]), pd.Series([True, None], dtype="boolean"), pd.Series([1, 0])],
        "TEXT": [pd.Series(["a", "b"]), pd.Series(["a", None, 3], dtype=object), pd.Series(["x", None], dtype="string")],
    }
    for kind, series_list in cases.items():
        for series in series_list:
            got = db_values(series, kind)
            want = [to_db_value(v, kind) for v in series.tolist()]
            assert got == want and [type(v) for v in got] == [type(v) for v in want], (kind, series.dtype, got, want)


def test_arrow_columns_hold_what_db_values_holds():
    """PostGIS builds its COPY text from Arrow arrays (gis/store/pg_copy.arrow_values) where the
    dtype allows: the values are those `db_values` gives, NaN/inf as NULL included; the dtypes it
    does not take are left to `db_values`."""
    import pandas as pd
    import pyarrow as pa

    from gis.store.base import db_values
    from gis.store.pg_copy import arrow_values

    arrow_text = pd.Series(pa.array(["甲", None, ""]).to_pandas(types_mapper=pd.ArrowDtype)).astype("string[pyarrow]")
    taken = {
        "TEXT": [arrow_text, pd.Series(["x", None], dtype="string")],
        "REAL": [pd.Series([1.5, float("nan"), float("inf"), -float("inf"), 0.1 + 0.2]), pd.Series([1, 2**53 + 1]), pd.Series([3], dtype="uint8")],
        "INTEGER": [pd.Series([1, -2, 2**62])],
        "BOOLEAN": [pd.Series([True, False])],
    }
    for kind, series_list in taken.items():
        for series in series_list:
            arr = arrow_values(series, kind)
            assert arr is not None, (kind, series.dtype)
            assert arr.to_pylist() == db_values(series, kind), (kind, series.dtype, arr.to_pylist())
    for kind, series in (("TEXT", pd.Series(["a", 3], dtype=object)), ("INTEGER", pd.Series([1, None], dtype="Int64")), ("REAL", pd.Series(["1.5"], dtype=object)), ("BOOLEAN", pd.Series([True, None], dtype="boolean"))):
        assert arrow_values(series, kind) is None, (kind, series.dtype)


def _cadastre_file(tmp_path, n: int, bad_row: int | None = None, kind: str = "selfcross"):
    """A GDAL-written GeoPackage of n parcels; row `bad_row` (1-based) broken in the way asked."""
    import pyogrio

    frame = grid(n, "K").drop(columns=["idle"])
    if bad_row is not None:
        i = bad_row - 1
        if kind == "selfcross":
            x, y = 112.5, 33.0
            frame.loc[i, "geometry"] = shapely.Polygon([(x, y), (x + 0.001, y + 0.001), (x + 0.001, y), (x, y + 0.001), (x, y)])
        elif kind == "dup":
            frame.loc[i, "id"] = frame.loc[3, "id"]
    path = tmp_path / f"cad_{n}_{bad_row}_{kind}.gpkg"
    pyogrio.write_dataframe(frame, path, layer="cad")
    return path


def test_batched_import_lands_every_batch(store, tmp_path, monkeypatch):
    import gis.io
    from services.imports import import_file

    monkeypatch.setattr(gis.io, "BATCH_ROWS", 300)
    seen = []
    report, read, _ = import_file(store, "industrial_parcels", _cadastre_file(tmp_path, 1000), user="t", progress=seen.append)
    assert report.inserted == 1000 and store.count("industrial_parcels") == 1000
    assert seen == [300, 600, 900, 1000]  # four batches, rows reported as they landed
    assert read.crs_label == "EPSG:4490" and read.total == 1000
    hist = store.history("industrial_parcels")
    assert len(hist) == 1000 and set(hist["action"]) == {"insert"}
    gdf = store.read_layer("industrial_parcels", ids=["K00999"])
    assert gdf["area_mu"].iloc[0] > 0 and gdf["ellipsoid_area_m2"].iloc[0] > 0


@pytest.mark.parametrize("kind", ["selfcross", "dup"])
def test_bad_row_in_a_late_batch_refuses_everything_and_names_the_row(store, tmp_path, monkeypatch, kind):
    import gis.io
    from gis.errors import InputError
    from services.imports import import_file

    monkeypatch.setattr(gis.io, "BATCH_ROWS", 300)
    import_file(store, "industrial_parcels", _cadastre_file(tmp_path, 10), user="t")  # already there
    before = (store.count("industrial_parcels"), len(store.history("industrial_parcels")), store.revision("industrial_parcels"))
    with pytest.raises(InputError) as err:
        import_file(store, "industrial_parcels", _cadastre_file(tmp_path, 1000, bad_row=950, kind=kind), user="t", mode="replace")
    rows = [e.row for e in err.value.errors]
    assert 950 in rows, (err.value.detail, rows)
    assert (store.count("industrial_parcels"), len(store.history("industrial_parcels")), store.revision("industrial_parcels")) == before


@pytest.mark.parametrize("n", [6, 1200])
def test_awkward_values_survive_the_bulk_write_exactly(store, n):
    """The PostGIS import writes CSV built on whole columns (gis/store/pg_copy.py): text with
    commas, quotes, newlines and backslashes, an empty string beside a missing value, floats
    needing 17 digits, booleans, a big integer and a missing geometry come back as imported, on
    both stores, in a small import and in one past the history COPY threshold."""
    text = ['逗号,引号"和\n换行', "", None, "反斜杠\\N", "\\.", "普通"]
    floats = [0.1 + 0.2, 1e-300, None, -0.0, 123456789.12345678, 2.5]
    i = np.arange(n)
    frame = gpd.GeoDataFrame(
        {
            "id": [f"A{j:05d}" for j in i],
            "note": [text[j % 6] for j in i],
            "ratio": [floats[j % 6] for j in i],
            "big": [2**53 + 1 + j for j in i],
            "flag": [bool(j % 2) for j in i],
        },
        geometry=[None if j % 6 == 2 else shapely.box(112.4 + j * 1e-4, 32.9, 112.40005 + j * 1e-4, 32.90005) for j in i],
        crs="EPSG:4490",
    )
    store.import_features("awk", frame, user="importer")
    got = store.read_layer("awk").set_index("id").loc[frame["id"]]
    for j in range(min(n, 12)):
        row = got.iloc[j]
        want_text = text[j % 6]
        assert (row["note"] is None or row["note"] != row["note"]) if want_text is None else row["note"] == want_text, (j, row["note"])
        want = floats[j % 6]
        assert (row["ratio"] != row["ratio"] or row["ratio"] is None) if want is None else row["ratio"] == want, (j, row["ratio"])
        assert int(row["big"]) == 2**53 + 1 + j and bool(row["flag"]) == bool(j % 2)
        assert (row.geometry is None) == (j % 6 == 2)
    assert len(store.history("awk")) == n


@pytest.mark.parametrize("fail", ["writer", "reader"])
def test_large_batches_written_in_the_background_fail_whole(store, tmp_path, monkeypatch, fail):
    """Large batches (≥ BULK_ROWS) are written while the next one is read (PostGIS: a writer
    thread). A write that fails in the background (a database error in batch 2), or a bad row
    found while batch 2 is being written, refuses the whole import: rows, history and revision
    as before, on a layer that exists and on one the import would have created."""
    import gis.io
    from gis.errors import InputError
    from services.imports import import_file

    monkeypatch.setattr(gis.io, "BATCH_ROWS", BULK_ROWS + 100)
    n = 3 * (BULK_ROWS + 100)
    if fail == "writer":
        original, calls = type(store)._insert_import_history, []

        def second_fails(self, *args):
            calls.append(1)
            if len(calls) == 2:
                raise RuntimeError("simulated database failure in batch 2")
            return original(self, *args)

        monkeypatch.setattr(type(store), "_insert_import_history", second_fails)
        source, expected = _cadastre_file(tmp_path, n), RuntimeError
    else:
        source, expected = _cadastre_file(tmp_path, n, bad_row=n - 50, kind="selfcross"), InputError
    with pytest.raises(expected):
        import_file(store, "fresh_layer", source, user="t")
    assert "fresh_layer" not in store.layer_names()
    (tmp_path / "small").mkdir()
    import_file(store, "industrial_parcels", _cadastre_file(tmp_path / "small", 10), user="t")
    before = (store.count("industrial_parcels"), len(store.history("industrial_parcels")), store.revision("industrial_parcels"))
    if fail == "writer":
        calls.clear()
    with pytest.raises(expected) as err:
        import_file(store, "industrial_parcels", source, user="t", mode="replace")
    assert (store.count("industrial_parcels"), len(store.history("industrial_parcels")), store.revision("industrial_parcels")) == before
    if fail == "reader":
        assert n - 50 in [e.row for e in err.value.errors]
    monkeypatch.undo()
    report, _, _ = import_file(store, "industrial_parcels", _cadastre_file(tmp_path / "small", n), user="t", mode="replace")
    assert report.inserted == n and store.count("industrial_parcels") == n and len(store.history("industrial_parcels", "K00000")) >= 1


@pytest.mark.parametrize("chunk", [2, 50_000])
def test_replace_history_keeps_every_old_row_as_it_was(store, monkeypatch, chunk):
    """A replace import records each removed row (PostGIS: made by the server in one statement;
    GeoPackage: read in chunks of RECORD_CHUNK rows, here also 2 so that the chunks' seams are
    crossed): its values as they were — awkward text, 17-digit floats, NaN stored as null,
    booleans, a missing value — and its geometry, equal to what `feature_json` writes."""
    import gis.store.base
    from gis.store.base import feature_json

    monkeypatch.setattr(gis.store.base, "RECORD_CHUNK", chunk)

    frame = gpd.GeoDataFrame(
        {
            "id": ["R1", "R2", "R3"],
            "note": ['引号"和,逗号\n换行', None, "%s ?"],
            "ratio": [0.1 + 0.2, float("nan"), 1e-300],
            "flag": [True, False, True],
            "n": [1, 2**40, -3],
        },
        geometry=[shapely.box(112.4, 32.9, 112.400012345678, 32.9001), shapely.Polygon([(112.5, 33), (112.5001, 33), (112.5, 33.0001)]), None],
        crs="EPSG:4490",
    )
    store.import_features("rep", frame, user="t")
    kept = store.read_layer("rep").set_index("id")
    store.import_features("rep", grid(2, "N"), mode="replace", user="t2", reason="年度更新")
    hist = store.history("rep")
    removed = hist[hist["action"] == "replace"].set_index("feature_id")
    assert sorted(removed.index) == ["R1", "R2", "R3"] and set(removed["reason"]) == {"年度更新"}
    for fid in ["R1", "R2", "R3"]:
        got = json.loads(removed.loc[fid, "old"])
        row = kept.loc[fid]
        want = json.loads(feature_json({k: (None if k == "geometry" else row[k]) for k in kept.columns if k != "geometry"} | {"id": fid}, row.geometry))
        geom_got, geom_want = got.pop("geometry", None), want.pop("geometry", None)
        assert got == want, (fid, got, want)
        assert (geom_got is None) == (geom_want is None)
        if geom_want is not None:
            assert shapely.from_wkt(geom_got).equals_exact(shapely.from_wkt(geom_want), 1e-9)


def test_bulk_history_rows_follow_the_rows_of_each_batch(store, monkeypatch):
    """The GeoPackage bulk path makes import history from the rows it has just written (by fid
    range): every batch of an import and of a later append gets one row per feature, in order,
    for exactly its own ids — never an older row's."""
    import gis.io

    monkeypatch.setattr(gis.io, "BATCH_ROWS", 700)
    store.import_features("cad", grid(N), geometry_type="POLYGON", user="first")
    store.import_features("cad", grid(N, "Z"), geometry_type="POLYGON", user="second")
    h = store.history("cad")
    inserts = h[h["action"] == "insert"]
    assert inserts[inserts["user"] == "first"]["feature_id"].tolist() == [f"B{j:05d}" for j in range(N)]
    assert inserts[inserts["user"] == "second"]["feature_id"].tolist() == [f"Z{j:05d}" for j in range(N)]
    assert inserts["old"].isna().all() and len(inserts) == 2 * N


def test_geopackage_blobs_are_the_standard_layout():
    """encode_with_bounds builds headers on arrays: each blob is still 'GP', version 0, flags
    (little-endian; xy envelope, or none and the empty bit for an empty geometry), srs_id, the
    envelope as minx, maxx, miny, maxy, then ISO WKB — the bytes struct.pack gave."""
    import struct

    from gis.store.geopackage import encode_with_bounds

    geoms = np.array([shapely.box(112.5, 33.0, 112.6, 33.1), None, shapely.Polygon(), shapely.Point(112.53, 33.01),
                      shapely.MultiPolygon([shapely.box(1, 2, 3, 4), shapely.box(5, 6, 7, 8)])], dtype=object)
    blobs, bounds = encode_with_bounds(geoms, 4490)
    for g, blob, b in zip(geoms, blobs, bounds):
        if g is None:
            assert blob is None and np.isnan(b).all()
            continue
        wkb = shapely.to_wkb(g, output_dimension=2, byte_order=1, flavor="iso")
        if g.is_empty:
            assert blob == struct.pack("<2sBBi", b"GP", 0, 0x11, 4490) + wkb and np.isnan(b).all()
        else:
            x0, y0, x1, y1 = g.bounds
            assert blob == struct.pack("<2sBBi4d", b"GP", 0, 0x03, 4490, x0, x1, y0, y1) + wkb
            assert tuple(b) == g.bounds


def test_hex_ewkb_is_what_postgis_and_shapely_write():
    """pg_copy.hex_ewkb_column splices the SRID into GEOS's WKB on the whole buffer: the text
    must equal shapely's EWKB with the SRID set, geometry by geometry, whatever the kind."""
    from gis.store.pg_copy import hex_ewkb_column

    geoms = np.array([shapely.box(112.5, 33, 112.6, 33.1), None, shapely.Point(1, 2), shapely.Polygon(), shapely.LineString([(0, 0), (1, 1)]),
                      shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3)]), shapely.GeometryCollection([shapely.Point(1, 1)]), None], dtype=object)
    got = hex_ewkb_column(geoms, 4490).to_pylist()
    for g, text in zip(geoms, got):
        if g is None:
            assert text is None
        else:
            assert text.upper() == shapely.to_wkb(shapely.set_srid(g, 4490), hex=True, include_srid=True, output_dimension=2, byte_order=1).upper()
