"""Readers and writers against the files Chinese land data really comes in."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Geod, Transformer

from gis import crs, io
from gis.errors import InputError

GEOD = Geod(ellps="GRS80")
NAMES = ["南阳光电宗地一号", "防爆电机厂（二期）", "百里奚·仓储"]


def wgs_parcels() -> gpd.GeoDataFrame:
    geoms = [shapely.Polygon([(112.55 + i * 0.003, 33.03), (112.552 + i * 0.003, 33.03), (112.5515 + i * 0.003, 33.0315), (112.5502 + i * 0.003, 33.0312)]) for i in range(3)]
    return gpd.GeoDataFrame({"宗地号": ["ZD001", "ZD002", "ZD003"], "权利人": NAMES}, geometry=geoms, crs=4490)


def write_gk_shapefile_without_prj(path, encoding="GBK"):
    src = wgs_parcels()
    gk = src.to_crs(4546)
    pyogrio.write_dataframe(gk, path, driver="ESRI Shapefile", encoding=encoding)
    for ext in (".prj", ".cpg"):
        p = path.with_suffix(ext)
        if p.exists():
            p.unlink()
    return src


def test_gbk_shapefile_without_prj_or_cpg(tmp_path):
    path = tmp_path / "zongdi.shp"
    src = write_gk_shapefile_without_prj(path)
    raw = path.with_suffix(".dbf").read_bytes()
    assert NAMES[0].encode("gbk") in raw  # the file really is GBK
    read = io.read_features(path)
    assert read.crs_label == "EPSG:4546" and read.crs_how == "detected"
    assert read.encoding == "GB18030"
    assert read.frame["权利人"].tolist() == NAMES
    expected = [abs(GEOD.geometry_area_perimeter(g)[0]) for g in src.geometry]
    got = crs.ellipsoid_area_m2(read.frame.geometry.values)
    assert np.allclose(got, expected, rtol=1e-5)


def test_gcj02_import_lands_on_wgs84_twin(tmp_path):
    src = wgs_parcels()
    gcj = src.copy()
    gcj["geometry"] = crs.wgs84_geoms_to_gcj02(src.geometry.values)
    path = tmp_path / "amap.geojson"
    gcj.set_crs(None, allow_override=True).to_file(path, driver="GeoJSON")
    read = io.read_features(path, crs="GCJ02")
    assert read.crs_label == "GCJ-02"
    a = shapely.get_coordinates(read.frame.geometry.values)
    b = shapely.get_coordinates(src.geometry.values)
    _, _, d = GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    assert d.max() < 1.0
    # without the declaration it would be ~590 m off: the data itself cannot tell
    plain = io.read_features(path)
    c = shapely.get_coordinates(plain.frame.geometry.values)
    _, _, d2 = GEOD.inv(c[:, 0], c[:, 1], b[:, 0], b[:, 1])
    assert d2.min() > 400


def test_swapped_axes_file_refused(tmp_path):
    src = wgs_parcels()
    sw = src.copy()
    sw["geometry"] = shapely.transform(src.geometry.values, lambda xy: xy[:, ::-1])
    path = tmp_path / "swapped.geojson"
    sw.to_file(path, driver="GeoJSON")
    with pytest.raises(InputError, match="颠倒"):
        io.read_features(path)


def test_gbk_csv_with_points_and_bom_csv(tmp_path):
    frame = pd.DataFrame({"企业名称": NAMES, "经度": [112.55, 112.56, 112.57], "纬度": [33.03, 33.031, 33.032], "统一社会信用代码": ["0914113001", "0914113002", "0914113003"]})
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(frame.to_csv(index=False).encode("gbk"))
    bom = tmp_path / "bom.csv"
    bom.write_bytes(frame.to_csv(index=False).encode("utf-8-sig"))
    for path in (gbk, bom):
        read = io.read_features(path)
        assert read.frame["企业名称"].tolist() == NAMES
        assert read.frame["统一社会信用代码"].tolist()[0] == "0914113001"  # leading zero kept
        assert read.frame.geometry.iloc[0].equals(shapely.Point(112.55, 33.03))
    assert io.read_table(gbk).attrs["encoding"] == "gb18030"
    assert io.read_table(bom).attrs["encoding"] == "utf-8-sig"


def test_empty_file_refused(tmp_path):
    p = tmp_path / "empty.csv"
    p.write_bytes(b"")
    with pytest.raises(InputError, match="空"):
        io.read_features(p)


@pytest.mark.parametrize("suffix", [".gpkg", ".shp", ".geojson", ".fgb", ".parquet", ".csv", ".xlsx"])
def test_export_roundtrip_keeps_chinese_and_field_names(tmp_path, suffix):
    src = wgs_parcels().rename(columns={"权利人": "name"})
    src["id"] = ["a", "b", "c"]
    src["geometry_source"] = "surveyed"
    src["area_mu"] = [1.5, 2.5, 3.25]
    path = tmp_path / f"out{suffix}"
    io.write_features(src, path, layer="parcels")
    if suffix == ".shp":
        assert path.with_suffix(".cpg").read_text().strip().upper().startswith("UTF")
    if suffix == ".xlsx":
        back = io.read_table(path)
        assert back["name"].tolist() == NAMES
        return
    read = io.read_features(path).frame.sort_values("id").reset_index(drop=True)  # FlatGeobuf orders by its index
    assert read["name"].tolist() == NAMES
    assert read["geometry_source"].tolist() == ["surveyed"] * 3
    assert pd.to_numeric(read["area_mu"]).tolist() == [1.5, 2.5, 3.25]
    # shapefiles store outer rings clockwise: compare normalised shapes
    a = shapely.normalize(np.asarray(read.geometry.values))
    b = shapely.normalize(np.asarray(src.geometry.values))
    assert shapely.equals_exact(a, b, tolerance=1e-9).all()


def test_export_to_gauss_kruger(tmp_path):
    src = wgs_parcels()
    path = tmp_path / "gk.gpkg"
    io.write_features(src, path, crs="EPSG:4546")
    back = gpd.read_file(path)
    assert back.crs.to_epsg() == 4546
    t = Transformer.from_crs(4490, 4546, always_xy=True)
    x, y = t.transform(*src.geometry.iloc[0].exterior.coords[0])
    assert back.geometry.iloc[0].exterior.coords[0] == pytest.approx((x, y), abs=1e-6)


def test_formula_injection_neutralised(tmp_path):
    frame = pd.DataFrame({"name": ["=HYPERLINK(\"http://x\")", "+cmd", "正常", "@SUM(A1)"], "value": [-1.5, 2, 3, 4]})
    csv = tmp_path / "x.csv"
    io.write_table(frame, csv)
    back = pd.read_csv(csv, encoding="utf-8-sig")
    assert back["name"].tolist() == ["'=HYPERLINK(\"http://x\")", "'+cmd", "正常", "'@SUM(A1)"]
    assert back["value"].tolist() == [-1.5, 2, 3, 4]  # numbers are untouched
    xlsx = tmp_path / "x.xlsx"
    io.write_table(frame, xlsx)
    from openpyxl import load_workbook

    ws = load_workbook(xlsx).active
    assert ws["A2"].value.startswith("'=") and ws["A2"].data_type == "s"


def test_unsupported_suffix_refused(tmp_path):
    with pytest.raises(InputError, match="不支持"):
        io.write_features(wgs_parcels(), tmp_path / "x.dwg")


def test_zip_with_path_traversal_refused(tmp_path):
    import zipfile

    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("../../etc/passwd.shp", b"x")
    with pytest.raises(InputError, match="不安全"):
        io.read_features(z)


def test_zipped_gbk_shapefile_without_cpg(tmp_path):
    import zipfile

    path = tmp_path / "zongdi.shp"
    write_gk_shapefile_without_prj(path)
    archive = tmp_path / "zongdi.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for ext in (".shp", ".shx", ".dbf"):
            zf.write(path.with_suffix(ext), f"数据/zongdi{ext}")
    read = io.read_features(archive)
    assert read.encoding == "GB18030" and read.frame["权利人"].tolist() == NAMES
    assert read.crs_label == "EPSG:4546"
