"""The bad-input corpus of SPEC §10 (issue 9), generated at test time into a temp dir.

Why a generator and not committed files: every hostile file (zip bomb, GBK without .cpg, a
GeoPackage that lies about its CRS) is rebuilt from a few lines of code that say *what* is wrong
with it, so a reviewer can read the corpus, and no opaque binary sits in the repository.

Two kinds of case:
- `FileCase`: a file imported into a layer, through `landgis import` and
  `POST /collections/{id}/import`. `expect="refuse"` means exit 1 / a 4xx problem+json whose
  text contains one of `keywords` (the Chinese words naming the problem) and an unchanged store;
  `expect="accept"` (GBK, BOM, formula-looking text) means the import succeeds and `check`
  confirms the text arrived intact.
- `RequestCase`: a hostile HTTP request (CQL2 injection, deep nesting, oversized filter) that
  must get a 4xx naming the problem.

Run as a script to write the files into a folder for manual use:
`python tests/corpus/make_corpus.py OUT_DIR`.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# A small square parcel inside the zone (lon/lat, EPSG:4490) and its GK metre twin (EPSG:4546).
LON0, LAT0 = 112.55, 33.00
D = 0.002
SQUARE = f"POLYGON(({LON0} {LAT0}, {LON0 + D} {LAT0}, {LON0 + D} {LAT0 + D}, {LON0} {LAT0 + D}, {LON0} {LAT0}))"
BOWTIE = f"POLYGON(({LON0} {LAT0}, {LON0 + D} {LAT0 + D}, {LON0 + D} {LAT0}, {LON0} {LAT0 + D}, {LON0} {LAT0}))"
SWAPPED = f"POLYGON(({LAT0} {LON0}, {LAT0} {LON0 + D}, {LAT0 + D} {LON0 + D}, {LAT0 + D} {LON0}, {LAT0} {LON0}))"

LAYER = "park_zones"
"""Public, MULTIPOLYGON, with str and float fields: enough schema to exercise every check."""


@dataclass
class FileCase:
    name: str
    category: str
    filename: str
    data: bytes
    layer: str = LAYER
    options: dict = field(default_factory=dict)  # crs, encoding, mode, geometry_source
    expect: str = "refuse"  # refuse | accept
    keywords: tuple[str, ...] = ()
    check: Callable | None = None  # accept cases: check(store, layer) raises AssertionError if wrong
    known_bug: str | None = None  # a real defect outside the test's reach: skipped, listed in the summary
    channels: tuple[str, ...] = ("cli", "api")
    cli_exit: int = 1
    api_status: tuple[int, ...] = (400, 413, 422)
    note: str = ""


@dataclass
class RequestCase:
    name: str
    category: str
    method: str
    path: str
    params: dict | None = None
    json_body: dict | None = None
    keywords: tuple[str, ...] = ()
    api_status: tuple[int, ...] = (400,)
    role: str = "anonymous"  # 2xx in api_status: the request is odd but valid (redundant parentheses); no 5xx, no crash
    known_bug: str | None = None


def _csv(rows: list[list[str]], encoding: str = "utf-8", bom: bool = False) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    data = buf.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def _geojson(features: list[dict], crs: str | None = None) -> bytes:
    doc: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def _feature(fid: str, geometry: dict | None, **props) -> dict:
    return {"type": "Feature", "properties": {"id": fid, **props}, "geometry": geometry}


def _poly(x0: float, y0: float, d: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x0 + d, y0], [x0 + d, y0 + d], [x0, y0 + d], [x0, y0]]]}


def _vector_bytes(tmp: Path, name: str, wkts: list[str], crs, driver: str, props: dict | None = None, encoding: str | None = None) -> bytes:
    """A real OGR file (GPKG/FlatGeobuf) written by pyogrio, returned as bytes."""
    import geopandas as gpd
    import shapely

    props = props or {"id": [f"c{i}" for i in range(len(wkts))], "name": [f"园区{i}" for i in range(len(wkts))]}
    gdf = gpd.GeoDataFrame(props, geometry=[shapely.from_wkt(w) for w in wkts], crs=crs)
    path = tmp / name
    kwargs = {"encoding": encoding} if encoding else {}
    gdf.to_file(path, driver=driver, **kwargs)
    return path.read_bytes()


def _shapefile_zip(tmp: Path, stem: str, names: list[str], encoding: str, with_cpg: bool) -> bytes:
    """A zipped shapefile whose DBF is in `encoding`, optionally without the .cpg that would say so."""
    import geopandas as gpd
    import shapely

    folder = tmp / f"shp_{stem}"
    folder.mkdir()
    gdf = gpd.GeoDataFrame({"id": [f"s{i}" for i in range(len(names))], "name": names}, geometry=[shapely.from_wkt(SQUARE)] * len(names), crs=4490)
    gdf["geometry"] = [shapely.affinity.translate(g, xoff=i * 0.003) for i, g in enumerate(gdf.geometry)]
    gdf.to_file(folder / f"{stem}.shp", driver="ESRI Shapefile", encoding=encoding)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.iterdir()):
            if p.suffix.lower() == ".cpg" and not with_cpg:
                continue
            zf.write(p, p.name)
    return buf.getvalue()


def _zip(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _names_are(expected: dict[str, str]) -> Callable:
    """Accept-case check: the imported features carry exactly these Chinese names (no mojibake)."""

    def check(store, layer: str) -> None:
        gdf = store.read_layer(layer)
        got = dict(zip(gdf["id"].astype(str), gdf["name"].astype(str)))
        for fid, name in expected.items():
            assert got.get(fid) == name, f"{fid}: expected {name!r}, got {got.get(fid)!r}"
        assert not any(str(c).startswith("\ufeff") for c in gdf.columns), "BOM leaked into a column name"

    return check


def _column_kept(column: str, fid: str, value: str) -> Callable:
    """Accept-case check: an unknown (hostile) column arrived as a plain column; the layer is intact."""

    def check(store, layer: str) -> None:
        gdf = store.read_layer(layer)
        assert column in gdf.columns, f"column {column!r} lost: {list(gdf.columns)}"
        row = gdf.loc[gdf["id"] == fid]
        assert len(row) == 1 and str(row[column].iloc[0]) == value
        assert store.layer_exists(layer)

    return check


HEADER = ["id", "name", "planned_area_mu", "wkt"]


def file_cases(tmp: Path, *, upload_cap_mb: int) -> list[FileCase]:
    """Every hostile file, written under `tmp` (subfolders for the files that need sidecars)."""
    tmp = Path(tmp)
    tmp.mkdir(parents=True, exist_ok=True)
    ok = ["x1", "合规园区", "100", SQUARE]
    cases: list[FileCase] = [
        # --- geometry -------------------------------------------------------------------------
        FileCase("self_intersecting_polygon", "geometry", "bowtie.geojson",
                 _geojson([_feature("b1", json.loads(json.dumps({"type": "Polygon", "coordinates": [[[LON0, LAT0], [LON0 + D, LAT0 + D], [LON0 + D, LAT0], [LON0, LAT0 + D], [LON0, LAT0]]]})), name="蝴蝶结")]),
                 keywords=("自相交",)),
        FileCase("self_intersecting_in_csv", "geometry", "bowtie.csv", _csv([HEADER, ok, ["x2", "自交", "1", BOWTIE]]), keywords=("自相交", "第2行")),
        FileCase("unparsable_wkt", "geometry", "badwkt.csv", _csv([HEADER, ok, ["x2", "坏几何", "1", "POLYGON((112.5 33, 112.6 33"]]), keywords=("WKT", "无法解析")),
        FileCase("ring_too_few_points", "geometry", "spike.geojson",
                 _geojson([_feature("t1", {"type": "Polygon", "coordinates": [[[LON0, LAT0], [LON0 + D, LAT0], [LON0, LAT0]]]}, name="尖刺")]),
                 keywords=("顶点过少", "几何", "无法读取")),
        FileCase("null_geometry_row", "geometry", "nullgeom.geojson",
                 _geojson([_feature("g1", _poly(LON0, LAT0, D), name="好"), _feature("g2", None, name="无几何")]), keywords=("缺少几何",)),
        FileCase("empty_geometry_row", "geometry", "emptygeom.csv", _csv([HEADER, ok, ["x2", "空几何", "1", "POLYGON EMPTY"]]), keywords=("几何为空", "缺少几何")),
        FileCase("all_geometries_empty", "geometry", "allempty.csv", _csv([HEADER, ["x1", "空", "1", "POLYGON EMPTY"]]), keywords=("没有任何几何", "几何")),
        FileCase("wrong_geometry_type", "geometry", "points.geojson",
                 _geojson([_feature("p1", {"type": "Point", "coordinates": [LON0, LAT0]}, name="点")]), keywords=("几何类型",)),
        FileCase("nan_coordinates", "geometry", "nanxy.csv", _csv([["id", "name", "lon", "lat"], ["n1", "点", "nan", "33.0"]]), layer="landmarks", keywords=("几何", "坐标", "经纬度")),
        # --- CRS and axes ---------------------------------------------------------------------
        FileCase("no_crs_unplaceable_coords", "crs", "nowhere.csv", _csv([HEADER, ["x1", "无处", "1", "POLYGON((5 5, 6 5, 6 6, 5 6, 5 5))"]]), keywords=("坐标系",)),
        FileCase("declared_crs_wrong", "crs", "liar.gpkg",
                 _vector_bytes(tmp, "liar.gpkg", ["POLYGON((645000 3653000, 645200 3653000, 645200 3653200, 645000 3653200, 645000 3653000))"], 4490, "GPKG"),
                 keywords=("坐标系",)),
        FileCase("given_crs_wrong", "crs", "lonlat.csv", _csv([HEADER, ok]), options={"crs": "EPSG:4546"}, keywords=("坐标系",)),
        FileCase("given_crs_unknown", "crs", "lonlat2.csv", _csv([HEADER, ok]), options={"crs": "EPSG:999999"}, keywords=("无法识别坐标系",)),
        FileCase("given_crs_garbage", "crs", "lonlat3.csv", _csv([HEADER, ok]), options={"crs": "'; DROP TABLE park_zones; --"}, keywords=("无法识别坐标系",)),
        FileCase("swapped_lat_lon_wkt", "crs", "swapped.csv", _csv([HEADER, ["x1", "颠倒", "1", SWAPPED]]), keywords=("颠倒",)),
        FileCase("swapped_lat_lon_columns", "crs", "swapped_pts.csv", _csv([["id", "name", "lon", "lat"], ["p1", "颠倒点", str(LAT0), str(LON0)]]), layer="landmarks", keywords=("颠倒",)),
        FileCase("swapped_gk_metres", "crs", "swapped_gk.csv",
                 _csv([HEADER, ["x1", "颠倒", "1", "POLYGON((3653000 645000, 3653000 645200, 3653200 645200, 3653200 645000, 3653000 645000))"]]), keywords=("颠倒",)),
        # --- encodings ------------------------------------------------------------------------
        FileCase("gbk_csv", "encoding", "gbk.csv", _csv([HEADER, ["k1", "光电产业园", "1", SQUARE]], encoding="gbk"), options={"mode": "replace"}, expect="accept", check=_names_are({"k1": "光电产业园"})),
        FileCase("utf8_bom_csv", "encoding", "bom.csv", _csv([HEADER, ["m1", "机械装备产业园", "1", SQUARE]], bom=True), options={"mode": "replace"}, expect="accept", check=_names_are({"m1": "机械装备产业园"})),
        FileCase("gbk_shapefile_without_cpg", "encoding", "gbk_shp.zip", _shapefile_zip(tmp, "gbk", ["防爆电气产业园", "欧洲工业园"], "gbk", with_cpg=False),
                 options={"mode": "replace"}, expect="accept", check=_names_are({"s0": "防爆电气产业园", "s1": "欧洲工业园"})),
        FileCase("gbk_declared_utf8", "encoding", "gbk_as_utf8.csv", _csv([HEADER, ["k2", "冷链物流产业园", "1", SQUARE]], encoding="gbk"), options={"encoding": "utf-8"}, keywords=("无法解码", "编码")),
        FileCase("unknown_encoding_name", "encoding", "enc.csv", _csv([HEADER, ok]), options={"encoding": "klingon-8"}, keywords=("编码",)),
        FileCase("binary_garbage_csv", "encoding", "garbage.csv", bytes(range(128, 256)) * 64, keywords=("编码",)),
        # --- empty and truncated files --------------------------------------------------------
        FileCase("empty_csv", "empty", "empty.csv", b"", keywords=("空",)),
        FileCase("empty_geojson", "empty", "empty.geojson", b"", keywords=("空",)),
        FileCase("empty_gpkg", "empty", "empty.gpkg", b"", keywords=("空",)),
        FileCase("header_only_csv", "empty", "header.csv", _csv([HEADER]), keywords=("没有", "空")),
        FileCase("empty_feature_collection", "empty", "nofeatures.geojson", _geojson([]), keywords=("没有任何要素", "空", "没有")),
        FileCase("truncated_geojson", "empty", "truncated.geojson", _geojson([_feature("t1", _poly(LON0, LAT0, D), name="截断")])[:-40], keywords=("无法读取",)),
        FileCase("corrupt_xlsx", "empty", "corrupt.xlsx", b"PK\x03\x04 not really a workbook", keywords=("Excel",)),
        FileCase("legacy_xls", "empty", "old.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 512, keywords=(".xls", "不支持")),
        # --- values ---------------------------------------------------------------------------
        FileCase("text_in_number_field", "values", "text_num.csv", _csv([HEADER, ["v1", "园区", "三百", SQUARE]]), keywords=("不是数字", "planned_area_mu")),
        FileCase("infinite_value", "values", "inf.csv", _csv([HEADER, ["v1", "园区", "inf", SQUARE]]), keywords=("无穷大", "planned_area_mu")),
        FileCase("huge_value_overflows", "values", "huge.csv", _csv([HEADER, ["v1", "园区", "1e400", SQUARE]]), keywords=("无穷大", "planned_area_mu")),
        FileCase("nan_value", "values", "nan.csv", _csv([HEADER, ["v1", "园区", "NaN", SQUARE]]), keywords=("planned_area_mu",)),
        FileCase("negative_area", "values", "neg.csv", _csv([HEADER, ["v1", "园区", "-280", SQUARE]]), keywords=("planned_area_mu",)),
        FileCase("huge_coordinates", "values", "hugexy.csv", _csv([HEADER, ["v1", "园区", "1", "POLYGON((1e300 1e300, 2e300 1e300, 2e300 2e300, 1e300 1e300))"]]), keywords=("坐标",)),
        FileCase("bad_status", "values", "status.csv", _csv([HEADER + ["status"], ["r1", "地块", "1", SQUARE, "已卖掉"]]), layer="reserve_parcels", keywords=("状态", "status")),
        FileCase("bad_geometry_source", "values", "gsrc.csv", _csv([HEADER + ["geometry_source"], ["v1", "园区", "1", SQUARE, "猜的"]]), keywords=("geometry_source", "几何来源")),
        FileCase("duplicate_ids", "values", "dup.csv", _csv([HEADER, ["d1", "甲", "1", SQUARE], ["d1", "乙", "1", SQUARE]]), keywords=("重复", "d1")),
        FileCase("blank_id", "values", "blankid.csv", _csv([HEADER, ["d1", "甲", "1", SQUARE], ["  ", "乙", "1", SQUARE]]), keywords=("编号", "id")),
        FileCase("hostile_column_names", "values", "cols.csv",
                 _csv([["id", "name", 'x"; DROP TABLE park_zones; --', "wkt"], ["h1", "恶意列名", "1", SQUARE]]), options={"mode": "replace"}, expect="accept",
                 check=_column_kept('x"; DROP TABLE park_zones; --', "h1", "1"), note="unknown columns are kept verbatim (schema.py: nothing silently dropped); the name is data, never SQL"),
        FileCase("formula_injection_text", "values", "formula.csv",
                 _csv([HEADER, ["f1", "=HYPERLINK(\"http://evil/\";\"点我\")", "1", SQUARE], ["f2", "+cmd|' /C calc'!A0", "1", SQUARE.replace(str(LON0), str(LON0 + 0.01))]]),
                 options={"mode": "replace"}, expect="accept", check=_names_are({"f1": "=HYPERLINK(\"http://evil/\";\"点我\")"}), note="accepted verbatim; neutralized on CSV/XLSX export (see test_formula_injection_on_export)"),
        # --- request options ------------------------------------------------------------------
        FileCase("bad_mode", "options", "mode.csv", _csv([HEADER, ok]), options={"mode": "merge"}, keywords=("mode",), cli_exit=2, api_status=(400, 422)),
        FileCase("bad_layer_name", "options", "layer.csv", _csv([HEADER, ok]), layer="Park;drop", keywords=("图层名",), api_status=(400, 404, 422)),
        FileCase("system_layer_name", "options", "syslayer.csv", _csv([HEADER, ok]), layer="landgis_history", keywords=("图层名",), api_status=(400, 404, 422)),
        FileCase("bad_geometry_source_option", "options", "gsopt.csv", _csv([HEADER, ok]), options={"geometry_source": "guess"}, keywords=("geometry_source", "几何来源")),
        # --- archives -------------------------------------------------------------------------
        FileCase("zip_path_traversal", "archive", "evil.zip", _zip({"../../evil.geojson": _geojson([_feature("z1", _poly(LON0, LAT0, D), name="越界")])}), keywords=("不安全",)),
        FileCase("zip_absolute_path", "archive", "abs.zip", _zip({"/tmp/abs.geojson": _geojson([_feature("z1", _poly(LON0, LAT0, D), name="绝对")])}), keywords=("不安全",)),
        FileCase("zip_bomb", "archive", "bomb.zip", _zip({"bomb.geojson": b"\x20" * (24 * 1024 * 1024)}), keywords=("压缩炸弹",)),
        FileCase("zip_corrupt", "archive", "broken.zip", b"PK\x03\x04" + b"\x00" * 100, keywords=("损坏",)),
        FileCase("zip_without_data", "archive", "readme.zip", _zip({"readme.txt": "只有说明".encode()}), keywords=("没有可识别",)),
        FileCase("zip_two_layers", "archive", "two.zip", _zip({"a.geojson": _geojson([_feature("a1", _poly(LON0, LAT0, D))]), "b.geojson": _geojson([_feature("b1", _poly(LON0, LAT0, D))])}), keywords=("多个数据文件",)),
        # --- size -----------------------------------------------------------------------------
        FileCase("over_upload_cap", "size", "toobig.csv", _csv([HEADER, ok]) + b"#" * (upload_cap_mb * 1024 * 1024 + 1024), keywords=("上限",), channels=("api",), api_status=(413,),
                 note="the cap is on HTTP uploads; a local CLI import of a big file is legitimate"),
        FileCase("unsupported_upload_type", "size", "payload.exe", b"MZ" + b"\x00" * 100, keywords=("不支持的文件类型",), channels=("api",), note="CLI: GDAL decides; HTTP: refused by suffix"),
        FileCase("bare_shp_upload", "size", "lonely.shp", b"\x00\x00\x27\x0a" + b"\x00" * 96, keywords=("shapefile", ".zip"), channels=("api",)),
    ]
    for case in cases:
        (tmp / case.filename).write_bytes(case.data)
    return cases


def _nested_text(depth: int) -> str:
    return "(" * depth + "name = 'a'" + ")" * depth


def _nested_json(depth: int) -> str:
    """Built as text: json.dumps itself would hit Python's recursion limit at this depth."""
    leaf = '{"op": "=", "args": [{"property": "name"}, "a"]}'
    return '{"op": "not", "args": [' * depth + leaf + "]}" * depth


def request_cases() -> list[RequestCase]:
    """Hostile requests against the OGC items endpoint and the analysis endpoints."""
    items = f"/collections/{LAYER}/items"
    return [
        RequestCase("cql2_sql_injection_literal", "cql2", "GET", items, {"filter": "name = 'x'; DROP TABLE park_zones; --"}, keywords=("过滤", "filter", "CQL2")),
        RequestCase("cql2_injection_identifier", "cql2", "GET", items, {"filter": "\"name\" = 'a' OR \"1\"=\"1\" --"}, keywords=("过滤", "字段", "CQL2")),
        RequestCase("cql2_unknown_property", "cql2", "GET", items, {"filter": "sqlite_master = 'x'"}, keywords=("sqlite_master", "字段")),
        RequestCase("cql2_subquery", "cql2", "GET", items, {"filter": "name IN (SELECT name FROM landgis_api_keys)"}, keywords=("过滤", "CQL2")),
        RequestCase("cql2_nesting_500_text", "cql2", "GET", items, {"filter": _nested_text(500)}, keywords=("过滤", "嵌套", "层", "CQL2"), api_status=(200, 400)),
        RequestCase("cql2_nesting_5000_text", "cql2", "GET", items, {"filter": _nested_text(5000)}, keywords=("过滤", "嵌套", "层", "CQL2")),
        RequestCase("cql2_nesting_300_json", "cql2", "GET", items, {"filter": _nested_json(300), "filter-lang": "cql2-json"}, keywords=("过滤", "嵌套", "层", "CQL2")),
        RequestCase("cql2_huge_filter", "cql2", "GET", items, {"filter": " OR ".join(f"name = 'n{i}'" for i in range(1500))}, keywords=("过滤", "过长", "字符", "CQL2")),
        RequestCase("cql2_many_nodes", "cql2", "GET", items, {"filter": " OR ".join(f"name = '{i}'" for i in range(1100))}, keywords=("过滤", "复杂", "节点", "CQL2")),
        RequestCase("cql2_json_not_json", "cql2", "GET", items, {"filter": "{not json", "filter-lang": "cql2-json"}, keywords=("过滤", "JSON", "CQL2")),
        RequestCase("cql2_bad_lang", "cql2", "GET", items, {"filter": "name = 'a'", "filter-lang": "sql"}, keywords=("filter-lang",)),
        RequestCase("cql2_restricted_field_anonymous", "cql2", "GET", "/collections/reserve_parcels/items", {"filter": "tax > 0"}, keywords=("tax", "字段")),
        RequestCase("cql2_bad_geometry_literal", "cql2", "GET", items, {"filter": "S_INTERSECTS(geometry, POLYGON((1 1, 2 2)))"}, keywords=("过滤", "几何", "CQL2")),
        RequestCase("sortby_injection", "cql2", "GET", items, {"sortby": "name; DROP TABLE park_zones"}, keywords=("sortby", "排序")),
        RequestCase("bbox_nan", "cql2", "GET", items, {"bbox": "nan,nan,nan,nan"}, keywords=("bbox",)),
        RequestCase("limit_negative", "cql2", "GET", items, {"limit": "-5"}, keywords=("limit",)),
        RequestCase("crs_unknown", "cql2", "GET", items, {"crs": "EPSG:999999"}, keywords=("crs", "坐标系")),
        RequestCase("scoring_nan_negative_rows", "values", "POST", "/scoring/efficiency", json_body={"rows": [{"enterprise_id": "e1", "name": "甲", "tax": "NaN", "land_area_mu": -5}]}, keywords=("第1行", "字段", "数"), api_status=(400, 422), role="analyst"),
        RequestCase("scoring_rows_not_objects", "values", "POST", "/scoring/efficiency", json_body={"rows": [1, 2, 3]}, keywords=("rows",), api_status=(400, 422), role="analyst"),
        RequestCase("scoring_policy_path_traversal", "values", "POST", "/scoring/efficiency", json_body={"rows": [{"enterprise_id": "e1"}], "policy": "../../../etc/passwd"}, keywords=("评价办法", "policy"), api_status=(400, 422), role="analyst"),
    ]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("用法 / usage: python tests/corpus/make_corpus.py OUT_DIR")
        return 2
    out = Path(argv[1])
    cases = file_cases(out, upload_cap_mb=1)
    print(f"{len(cases)} files and {len(request_cases())} hostile requests written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
