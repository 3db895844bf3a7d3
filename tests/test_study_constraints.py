"""国土空间规划 constraint layers for the 扩区 study (SPEC §7, DOMAIN.md §11): schematic samples that
say so, importable like every layer."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gis.crs import to_measure
from parcels.sample.constraints import constraint_layers
from parcels.schema import LAYERS

NAMES = ("permanent_farmland", "ecological_redline", "urban_boundary", "admin_units")


@pytest.fixture(scope="module")
def layers():
    return constraint_layers()


def test_samples_are_schematic_labelled_and_follow_the_schema(layers):
    for name in NAMES:
        gdf = layers[name]
        assert list(gdf.columns) == LAYERS[name].field_names + ["geometry"], name
        assert len(gdf) and (gdf["geometry_source"] == "schematic").all(), name
        assert gdf["data_source"].str.contains("示意数据（schematic）").all(), name
        assert gdf["name"].str.contains("示意").all(), name
        assert gdf.geometry.is_valid.all() and gdf.crs.to_epsg() == 4490, name


def test_villages_tile_the_plans_southern_expansion(layers):
    """整建制托管 of whole villages can reproduce the plan's 50 km² area: the villages lying in it
    cover it exactly, and none overlaps the current zone."""
    from parcels.sample.plan import build_plan_layers

    # compared in lon/lat, where the sketch was drawn: a straight edge there is slightly curved in GK
    zb = build_plan_layers()["zone_boundary"]
    plan = zb.loc[zb["kind"] == "expansion"].geometry.iloc[0]
    zone = shapely.union_all(zb.loc[zb["kind"] == "current"].geometry.values)
    au = layers["admin_units"]
    villages = au.loc[au["level"] == "村"].geometry.values
    inside = [v for v in villages if shapely.intersection(v, plan).area > 0.5 * v.area]
    assert len(inside) == 15
    assert shapely.symmetric_difference(shapely.union_all(inside), plan).area < 1e-9 * plan.area
    assert max(shapely.intersection(v, zone).area for v in villages) < 1e-9 * plan.area
    towns = au[au["level"] == "乡镇"]
    assert set(au.loc[au["level"] == "村", "parent"]) == set(towns["name"])


def test_farmland_and_redline_lie_where_the_study_would_look(layers):
    """The samples are not decorative: one 永久基本农田 patch lies right under the zone's south edge."""
    from parcels.sample.plan import build_plan_layers

    zb = build_plan_layers()["zone_boundary"]
    zone = shapely.union_all(to_measure(np.asarray(zb.loc[zb["kind"] == "current"].geometry.values, dtype=object)))
    farm = to_measure(np.asarray(layers["permanent_farmland"].geometry.values, dtype=object))
    assert min(shapely.distance(f, zone) for f in farm) < 300
    assert max(shapely.intersection(f, zone).area for f in farm) == 0
    urban = layers["urban_boundary"].geometry.iloc[0]
    farm_ll = layers["permanent_farmland"].geometry.values
    assert max(shapely.intersection(f, urban).area / f.area for f in farm_ll) < 1e-9, "the 城镇开发边界 leaves 永久基本农田 out"


def test_constraint_layers_import_like_every_layer(tmp_path):
    """A 永久基本农田 file in GK metres with Chinese headers imports; a point file is refused in Chinese."""
    import pyogrio

    from gis.errors import InputError
    from gis.store import open_store
    from services.imports import import_file

    x, y = 643000.0, 3650000.0
    src = tmp_path / "jbnt.gpkg"
    gdf = gpd.GeoDataFrame({"图斑名称": ["基本农田01"], "图斑编号": ["JB-01"]}, geometry=[shapely.box(x, y, x + 200, y + 150)], crs=4546)
    pyogrio.write_dataframe(gdf, src, driver="GPKG")
    store = open_store(str(tmp_path / "s.gpkg"))
    try:
        import_file(store, "permanent_farmland", src, user="test", mode="replace")
        got = store.read_layer("permanent_farmland")
        assert list(got["name"]) == ["基本农田01"] and list(got["code"]) == ["JB-01"]
        assert got["area_mu"].iloc[0] == pytest.approx(45, rel=2e-3)
        pts = tmp_path / "pts.gpkg"
        pyogrio.write_dataframe(gpd.GeoDataFrame({"name": ["x"]}, geometry=[shapely.Point(x, y)], crs=4546), pts, driver="GPKG")
        with pytest.raises(InputError):
            import_file(store, "ecological_redline", pts, user="test", mode="replace")
        assert not store.layer_exists("ecological_redline")
    finally:
        store.close()


def test_expansion_map_draws_the_protected_land_and_the_recommendation(layers):
    from maps.base import render_html
    from maps.expansion import build_expansion_map

    au = layers["admin_units"]
    cands = au[au["level"] == "村"].head(3).assign(block_id=lambda d: d["id"], suitability=[0.3, 0.5, 0.7], rank=[3, 2, 1])
    rec = cands.head(1)[["name", "area_mu", "geometry_source", "data_source", "geometry"]]
    m, ctx = build_expansion_map(None, cands, overlays={"permanent_farmland": layers["permanent_farmland"],
                                                         "ecological_redline": layers["ecological_redline"], "recommended_expansion": rec})
    html = render_html(m, ctx)
    for key, n in (("permanent_farmland", 4), ("ecological_redline", 2), ("recommended_expansion", 1)):
        assert ctx.layers[key]["count"] == n, key
    assert "永久基本农田（刚性排除；内置样例为示意）" in html and "推荐扩区用地" in html
