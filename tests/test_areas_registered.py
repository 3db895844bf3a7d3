"""Areas as registered (SPEC §3.1): `area_m2` is the plane area in the survey CRS, the 宗地面积 a
不动产权证书 / 出让合同 carries; `ellipsoid_area_m2` (三调) stands beside it; `area_mu` from `area_m2`.

The parcel: a 200 m × 150 m rectangle surveyed in EPSG:4546 (GK CM 111E) at the DOMAIN.md §A
example point (643 006.5, 3 652 678.8) — registered 30 000 m², 45 亩; on the ellipsoid, 1.5° east of
the central meridian, it is ≈29 984.9 m² (areal scale ≈1.0005).
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from gis import crs
from gis.io import write_features
from parcels.schema import LAYERS
from services.areas import layers_needing_upgrade, upgrade_areas_on_open
from services.imports import import_file

X0, Y0 = 643006.5, 3652678.8
REGISTERED_M2 = 30000.00
ELLIPSOID_M2 = 29984.86  # plane / areal scale of EPSG:4546 at the parcel (pyproj get_factors)


def gk_parcel_file(tmp_path, suffix=".shp"):
    gdf = gpd.GeoDataFrame(
        {"id": ["ZD-001"], "land_use": ["工业"], "geom_src": ["surveyed"], "data_src": ["宗地图（测试）"]},
        geometry=[shapely.box(X0, Y0, X0 + 200, Y0 + 150)],
        crs="EPSG:4546",
    )
    path = tmp_path / f"zongdi{suffix}"
    gdf.to_file(path)
    return path


def test_gk_parcel_keeps_its_registered_area_on_import_and_in_every_export(store, tmp_path):
    import_file(store, "industrial_parcels", gk_parcel_file(tmp_path), user="t")
    got = store.read_layer("industrial_parcels")
    row = got.iloc[0]
    assert row["area_m2"] == REGISTERED_M2
    assert row["ellipsoid_area_m2"] == pytest.approx(ELLIPSOID_M2, abs=0.05)
    assert row["area_mu"] == pytest.approx(45.0, abs=1e-9)

    labels = LAYERS["industrial_parcels"].labels_zh()
    plane_label, ell_label = labels["area_m2"], labels["ellipsoid_area_m2"]
    for suffix in (".gpkg", ".geojson", ".shp"):
        path = write_features(got, tmp_path / f"out{suffix}", layer="industrial_parcels")
        back = pyogrio.read_dataframe(path)
        ell_col = "ell_m2" if suffix == ".shp" else "ellipsoid_area_m2"
        assert back["area_m2"].iloc[0] == pytest.approx(REGISTERED_M2, abs=0.005), suffix
        assert back[ell_col].iloc[0] == pytest.approx(ELLIPSOID_M2, abs=0.05), suffix
    # exported back in the survey CRS, the plane geometry is the surveyed rectangle again
    gk = write_features(got, tmp_path / "gk.gpkg", crs="EPSG:4546", layer="industrial_parcels")
    assert shapely.area(pyogrio.read_dataframe(gk).geometry.iloc[0]) == pytest.approx(REGISTERED_M2, abs=1e-4)
    csv = write_features(got, tmp_path / "out.csv", labels=labels)  # CSV keeps field names, XLSX shows the Chinese labels
    table = pd.read_csv(csv, encoding="utf-8-sig")
    assert table["area_m2"].iloc[0] == pytest.approx(REGISTERED_M2) and table["ellipsoid_area_m2"].iloc[0] == pytest.approx(ELLIPSOID_M2, abs=0.05)
    xlsx = write_features(got, tmp_path / "out.xlsx", labels=labels)
    sheet = pd.read_excel(xlsx)
    assert sheet[plane_label].iloc[0] == pytest.approx(REGISTERED_M2) and sheet[ell_label].iloc[0] == pytest.approx(ELLIPSOID_M2, abs=0.05)
    assert plane_label != ell_label


def test_editing_a_reserve_parcel_recomputes_both_areas(store, tmp_path):
    from parcels.layers import prepare_features
    from services.parcel_edits import edit_parcel

    box = shapely.box(X0, Y0, X0 + 100, Y0 + 100)
    lonlat = crs.reproject(np.array([box]), 4546, crs.STORE_EPSG)
    ready, _ = prepare_features("reserve_parcels", gpd.GeoDataFrame({"id": ["RP-T"], "use": ["工业"], "geometry_source": ["surveyed"], "data_source": ["t"]}, geometry=list(lonlat), crs=4490))
    store.import_features("reserve_parcels", ready, user="t", geometry_type="MULTIPOLYGON")
    bigger = crs.reproject(np.array([shapely.box(X0, Y0, X0 + 200, Y0 + 150)]), 4546, crs.STORE_EPSG)[0]
    new = edit_parcel(store, "RP-T", user="t", geometry=bigger, reason="界址调整")
    assert new["area_m2"] == REGISTERED_M2 and new["area_mu"] == pytest.approx(45.0)
    assert new["ellipsoid_area_m2"] == pytest.approx(ELLIPSOID_M2, abs=0.05)


def test_store_made_before_the_change_is_upgraded_on_open_with_history(store, tmp_path):
    # An older landgis stored the ellipsoidal area under area_m2 and had no ellipsoid_area_m2.
    lonlat = crs.reproject(np.array([shapely.box(X0, Y0, X0 + 200, Y0 + 150)]), 4546, crs.STORE_EPSG)
    old = gpd.GeoDataFrame(
        {"id": ["IP-OLD"], "geometry_source": ["surveyed"], "data_source": ["t"], "area_m2": [29984.86], "area_mu": [29984.86 * 15 / 10000]},
        geometry=[shapely.MultiPolygon([lonlat[0]])], crs=4490,
    )
    store.import_features("industrial_parcels", old, user="old-landgis", geometry_type="MULTIPOLYGON")
    assert layers_needing_upgrade(store) == ["industrial_parcels"]
    assert upgrade_areas_on_open(store) == {"industrial_parcels": 1}
    row = store.read_layer("industrial_parcels").iloc[0]
    assert row["area_m2"] == REGISTERED_M2 and row["area_mu"] == pytest.approx(45.0)
    assert row["ellipsoid_area_m2"] == pytest.approx(ELLIPSOID_M2, abs=0.05)
    hist = store.history("industrial_parcels", "IP-OLD")
    migrated = hist[hist["action"] == "migrate"]
    assert len(migrated) == 1 and json.loads(migrated["old"].iloc[0])["area_m2"] == pytest.approx(29984.86)
    # once upgraded, opening again writes nothing
    assert layers_needing_upgrade(store) == [] and upgrade_areas_on_open(store) == {}
