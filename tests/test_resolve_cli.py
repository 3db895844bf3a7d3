"""Re-resolving after a road import redraws schematic parcels and never touches surveyed ones."""

from __future__ import annotations

import json

import shapely
from typer.testing import CliRunner

from api.cli import app
from services.locations import re_resolve
from gis.store import open_store
from parcels.layers import prepare_features

runner = CliRunner()


def move_road(store, name: str, dy_deg: float):
    roads = store.read_layer("roads")
    i = roads.index[roads["name"] == name][0]
    roads.loc[i, "geometry"] = shapely.affinity.translate(roads.loc[i, "geometry"], yoff=dy_deg)
    roads["geometry_source"] = "surveyed"
    ready, _ = prepare_features("roads", roads)
    store.import_features("roads", ready, mode="replace", user="bureau")


def test_text_parse_matches_spec_example(store_url):
    assert runner.invoke(app, ["init", "--store", store_url]).exit_code == 0
    r = runner.invoke(app, ["resolve", "--store", store_url, "--text", "东至独山大道，南至张衡路"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["constraints"] == [{"ref": "独山大道", "side": "W"}, {"ref": "张衡路", "side": "N"}]
    r = runner.invoke(app, ["resolve", "--store", store_url, "--text", "幸福路以南、热电厂以西"])
    doc = json.loads(r.output)
    assert "幸福路" in doc["missing"] and "热电厂" in doc["found"]


def test_reresolve_updates_schematic_keeps_surveyed(store_url, monkeypatch):
    # RP-02's text names a ≈5 000 亩 block of the coarse bundled road sketch: above the default
    # largest plausible parcel, so the redraw is tested with the limit raised (LANDGIS_SIZHI_MAX_MU).
    monkeypatch.setenv("LANDGIS_SIZHI_MAX_MU", "6000")
    assert runner.invoke(app, ["init", "--store", store_url]).exit_code == 0
    s = open_store(store_url)
    s.update_feature("reserve_parcels", "RP-01", {"geometry_source": "surveyed"}, user="bureau", reason="实测成果")
    before = {r.id: r.geometry for r in s.read_layer("reserve_parcels").itertuples()}
    move_road(s, "信臣路", 0.005)  # ~550 m north: RP-02 (信臣路以北) is now on the wrong side
    report = re_resolve(s, "reserve_parcels", user="tester").set_index("id")
    after = {r.id: r for r in s.read_layer("reserve_parcels").itertuples()}
    assert report.loc["RP-02", "action"] == "updated"
    assert not after["RP-02"].geometry.equals(before["RP-02"])
    road = s.read_layer("roads").query("name == '信臣路'").geometry.iloc[0]
    assert after["RP-02"].geometry.bounds[1] >= road.bounds[3] - 1e-9  # now north of the moved road
    assert report.loc["RP-01", "action"] == "kept-surveyed"
    assert after["RP-01"].geometry.equals(before["RP-01"])
    hist = s.history("reserve_parcels", "RP-02")
    assert hist.iloc[-1]["action"] == "resolve" and hist.iloc[-1]["user"] == "tester"
    s.close()
