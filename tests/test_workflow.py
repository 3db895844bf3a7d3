"""Reserve-parcel workflow and audited edits on both stores (SPEC §4)."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from services.parcel_edits import change_status, edit_parcel
from gis.errors import InputError
from parcels.layers import prepare_features


def box(x, y, d=0.004):
    return shapely.box(x, y, x + d, y + d)


@pytest.fixture
def loaded(store):
    zone = gpd.GeoDataFrame({"id": ["ZB-current"], "name": ["高新区"], "kind": ["current"], "geometry_source": ["schematic"], "data_source": ["test"]}, geometry=[shapely.box(112.50, 33.00, 112.60, 33.06)], crs=4490)
    parcels = gpd.GeoDataFrame(
        {"id": ["RP-01", "RP-02"], "name": ["工业储备地", "仓储地"], "use": ["工业", "仓储"], "geometry_source": ["schematic", "surveyed"], "data_source": ["test", "test"]},
        geometry=[box(112.52, 33.02), box(112.54, 33.02)],
        crs=4490,
    )
    for name, frame in (("zone_boundary", zone), ("reserve_parcels", parcels)):
        ready, _ = prepare_features(name, frame)
        store.import_features(name, ready, geometry_type="MULTIPOLYGON", user="loader")
    return store


def test_status_forward_then_admin_revert_in_history(loaded):
    change_status(loaded, "RP-01", "已组卷上报", user="u1", role="admin", date="2026-01-05")
    change_status(loaded, "RP-01", "已获批", user="u2", role="admin", date="2026-03-01")
    with pytest.raises(InputError, match="原因"):
        change_status(loaded, "RP-01", "已组卷上报", user="u3", role="admin")
    with pytest.raises(InputError, match="管理员"):
        change_status(loaded, "RP-01", "已组卷上报", user="u3", role="analyst", reason="x")
    change_status(loaded, "RP-01", "已组卷上报", user="u3", role="admin", reason="省厅退回补正")
    hist = loaded.history("reserve_parcels", "RP-01")
    assert hist["action"].tolist() == ["insert", "status", "status", "revert"]
    assert hist["user"].tolist()[1:] == ["u1", "u2", "u3"]
    assert hist.iloc[-1]["reason"] == "省厅退回补正"
    assert '"status": "已获批"' in hist.iloc[-1]["old"] and '"status": "已组卷上报"' in hist.iloc[-1]["new"]
    assert loaded.get_feature("reserve_parcels", "RP-01")["status"] == "已组卷上报"


def test_no_skipping_and_supply_needs_method(loaded):
    with pytest.raises(InputError, match="跳过"):
        change_status(loaded, "RP-01", "已获批", user="u", role="admin")
    change_status(loaded, "RP-01", "已组卷上报", user="u", role="admin")
    change_status(loaded, "RP-01", "已获批", user="u", role="admin")
    with pytest.raises(InputError, match="供地方式"):
        change_status(loaded, "RP-01", "已供地", user="u", role="admin")
    new = change_status(loaded, "RP-01", "已供地", user="u", role="admin", supply_method="出让")
    assert new["supply_method"] == "出让"


def test_delete_is_a_status(loaded):
    change_status(loaded, "RP-02", "已注销", user="adm", role="admin", reason="规划调整")
    assert loaded.get_feature("reserve_parcels", "RP-02")["status"] == "已注销"
    assert loaded.count("reserve_parcels") == 2


def test_geometry_edit_recorded_and_area_recomputed(loaded):
    new_geom = box(112.52, 33.02, d=0.005)
    before_area = loaded.get_feature("reserve_parcels", "RP-01")["area_m2"]
    edit_parcel(loaded, "RP-01", user="adm", geometry=new_geom, reason="按测绘成果修正")
    after = loaded.get_feature("reserve_parcels", "RP-01")
    assert after["area_m2"] == pytest.approx(before_area * 25 / 16, rel=1e-3)
    assert after["area_mu"] == pytest.approx(after["area_m2"] * 15 / 10000, rel=1e-6)
    hist = loaded.history("reserve_parcels", "RP-01")
    assert hist.iloc[-1]["action"] == "edit" and hist.iloc[-1]["reason"] == "按测绘成果修正"


@pytest.mark.parametrize(
    "geom,msg",
    [
        (shapely.Polygon([(112.52, 33.02), (112.53, 33.03), (112.53, 33.02), (112.52, 33.03)]), "无效"),
        (box(112.539, 33.021), "重叠"),
        (box(112.70, 33.02), "范围之外"),
        (shapely.LineString([(112.52, 33.02), (112.53, 33.03)]), "不是面"),
    ],
)
def test_invalid_edits_refused_and_nothing_changes(loaded, geom, msg):
    before = loaded.history("reserve_parcels")
    feature = loaded.get_feature("reserve_parcels", "RP-01")
    with pytest.raises(InputError, match=msg):
        edit_parcel(loaded, "RP-01", user="adm", geometry=geom)
    assert len(loaded.history("reserve_parcels")) == len(before)
    assert loaded.get_feature("reserve_parcels", "RP-01")["geometry"].equals(feature["geometry"])
