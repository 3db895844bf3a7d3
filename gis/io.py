"""Readers and writers: the one way landgis reads a file and the one way it writes one.

Chinese land data arrives as shapefiles with GBK attributes and no .cpg, Excel sheets, CSV saved
by Excel in GBK or UTF-8 with a BOM, GeoPackages from QGIS and GeoJSON from web maps. Readers
sniff the encoding instead of trusting GDAL's ISO-8859-1 default, and hand back an EPSG:4490
GeoDataFrame with a note of what was detected. Writers pick the format from the suffix and keep
Chinese attributes intact on the round trip (UTF-8 + .cpg for shapefiles, BOM for Excel CSV).
"""

from __future__ import annotations

import io
import os
import re
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from gis import crs as crsmod
from gis.errors import InputError, RowError

TABLE_SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm"}
VECTOR_WRITE_DRIVERS = {
    ".gpkg": "GPKG",
    ".shp": "ESRI Shapefile",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".fgb": "FlatGeobuf",
}
WRITE_SUFFIXES = sorted(set(VECTOR_WRITE_DRIVERS) | {".parquet", ".csv", ".xlsx"})

LON_NAMES = ("lon", "lng", "longitude", "x", "经度", "东经")
LAT_NAMES = ("lat", "latitude", "y", "纬度", "北纬")
WKT_NAMES = ("geometry", "wkt", "geom", "the_geom", "几何")

# Shapefile field names are limited to 10 characters: long landgis names get fixed short
# forms on export and are mapped back on import, instead of GDAL's lossy truncation.
SHP_SHORT_NAMES = {
    "geometry_source": "geom_src",
    "data_source": "data_src",
    "status_date": "stat_date",
    "supply_method": "supply_mth",
    "planned_area_mu": "plan_mu",
    "planned_area_km2": "plan_km2",
    "leading_industry": "lead_ind",
    "sl_investment_intensity": "sl_invest",
    "sl_floor_area_ratio": "sl_far",
    "sl_tax_per_mu": "sl_taxmu",
    "enterprise_id": "ent_id",
    "land_area_mu": "land_mu",
    "above_scale": "abv_scale",
    "industry_code": "ind_code",
    "rented_floor_m2": "rent_fl_m2",
    "emission_eq": "emission",
    "rd_expense": "rd_exp",
    "output_value": "output_val",
    "electricity": "elec",
    "floor_area_ratio": "far",
    "building_coverage": "bld_cover",
    "declared_area_m2": "decl_m2",
    # the land supply ledger (SPEC §4.2): dBASE names are 10 bytes at most
    "reserve_parcel_id": "rp_id",
    "approval_no": "appr_no",
    "approval_date": "appr_date",
    "supply_date": "sup_date",
    "contract_no": "contr_no",
    "term_years": "term_yrs",
    "agreed_start_date": "agr_start",
    "agreed_completion_date": "agr_compl",
    "agreed_production_date": "agr_prod",
    "actual_start_date": "act_start",
    "actual_completion_date": "act_compl",
    "actual_production_date": "act_prod",
    "developed_share": "dev_share",
    "invested_share": "inv_share",
    "halted_since": "halted",
    "delay_cause": "delay_cse",
    "committed_investment_intensity": "c_invest",
    "committed_floor_area_ratio": "c_far",
    "committed_building_coverage": "c_cover",
    "committed_office_living_share": "c_office",
    "committed_green_ratio": "c_green",
    "committed_tax_per_mu": "c_taxmu",
    "committed_revenue_per_mu": "c_revmu",
    "committed_energy_per_va": "c_energy",
    "ellipsoid_area_m2": "ell_m2",
}
SHP_LONG_NAMES = {v: k for k, v in SHP_SHORT_NAMES.items()}

MAX_ZIP_RATIO = 200
MAX_ZIP_TOTAL = 2 * 1024**3


@dataclass
class ReadResult:
    frame: gpd.GeoDataFrame | pd.DataFrame
    crs_label: str | None
    crs_how: str | None
    encoding: str | None
    source: str


# --- encodings ----------------------------------------------------------------------------


def sniff_text_encoding(data: bytes) -> str:
    """utf-8-sig for a BOM, utf-8 when it decodes, else GB18030 (a superset of GBK/GB2312)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of a sample is not a reason to give up on UTF-8.
        if exc.start >= len(data) - 3:
            try:
                data[: exc.start].decode("utf-8")
                return "utf-8"
            except UnicodeDecodeError:
                pass
    try:
        data.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        raise InputError(
            "无法识别文件的字符编码（既不是 UTF-8，也不是 GBK/GB18030）。",
            hint="请用 Excel 或 WPS 另存为“CSV UTF-8”或 XLSX 后重新导入，或用 --encoding 指定编码。",
        )


def _dbf_records(head_and_body: bytes, limit: int = 2_000_000) -> bytes:
    """The record area of a DBF file's bytes (the header holds field names, not values)."""
    if len(head_and_body) < 32:
        return b""
    header_len = struct.unpack("<H", head_and_body[8:10])[0]
    return head_and_body[header_len : header_len + limit]


def _encoding_from_cpg(text: str) -> str | None:
    text = text.strip().upper()
    if text in ("UTF-8", "UTF8", "65001"):
        return "UTF-8"
    if text in ("GBK", "936", "CP936", "GB2312", "GB18030", "ANSI 936"):
        return "GB18030"
    return text or None


def _encoding_from_dbf(data: bytes) -> str | None:
    sample = _dbf_records(data)
    if not sample or all(b < 0x80 for b in sample):
        return None
    enc = sniff_text_encoding(sample)
    return "UTF-8" if enc.startswith("utf-8") else "GB18030"


def shapefile_encoding(path: Path) -> str | None:
    """The encoding of a shapefile's attributes: from .cpg if present, else sniffed from the DBF."""
    for candidate in (path.with_suffix(".cpg"), path.with_suffix(".CPG")):
        if candidate.exists():
            return _encoding_from_cpg(candidate.read_text(errors="ignore"))
    for dbf in (path.with_suffix(".dbf"), path.with_suffix(".DBF")):
        if dbf.exists():
            with open(dbf, "rb") as fh:
                return _encoding_from_dbf(fh.read(2_100_000))
    return None


def zipped_shapefile_encoding(archive: Path, member: str) -> str | None:
    """The same rule for a shapefile inside a zip (sidecars matched by stem, any case)."""
    stem = str(Path(member).with_suffix("")).lower()
    with zipfile.ZipFile(archive) as zf:
        siblings = {n.lower(): n for n in zf.namelist()}
        if stem + ".cpg" in siblings:
            return _encoding_from_cpg(zf.read(siblings[stem + ".cpg"]).decode("ascii", errors="ignore"))
        if stem + ".dbf" in siblings:
            with zf.open(siblings[stem + ".dbf"]) as fh:
                return _encoding_from_dbf(fh.read(2_100_000))
    return None


# --- archives -----------------------------------------------------------------------------


def check_zip(path: Path) -> list[str]:
    """Refuse archives that would escape the folder or explode in size; return member names."""
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise InputError("压缩包已损坏或不是 zip 格式。", hint="请重新打包为 .zip 后上传。")
    names = []
    total = 0
    with zf:
        for info in zf.infolist():
            name = info.filename
            if name.startswith(("/", "\\")) or ".." in Path(name.replace("\\", "/")).parts or re.match(r"^[A-Za-z]:", name):
                raise InputError(f"压缩包中的文件名不安全：“{name}”（含绝对路径或 ../）。", hint="请只打包数据文件本身。")
            total += info.file_size
            if info.compress_size and info.file_size / max(info.compress_size, 1) > MAX_ZIP_RATIO and info.file_size > 10 * 1024**2:
                raise InputError(f"压缩包中的“{name}”压缩比异常（疑似压缩炸弹），已拒绝。")
            names.append(name)
    if total > MAX_ZIP_TOTAL:
        raise InputError("压缩包解压后过大，已拒绝。", hint="请拆分数据后分批导入。")
    return names


def _resolve_archive(path: Path, layer: str | None) -> str:
    names = check_zip(path)
    vectors = [n for n in names if Path(n).suffix.lower() in (".shp", ".gpkg", ".geojson", ".json", ".fgb", ".kml", ".gml", ".tab", ".mif")]
    if not vectors:
        raise InputError("压缩包中没有可识别的矢量数据（.shp/.gpkg/.geojson 等）。")
    if len(vectors) > 1 and layer is None:
        raise InputError(f"压缩包中有多个数据文件：{'、'.join(vectors)}。", hint="请一次只打包一个图层，或解压后分别导入。")
    return f"/vsizip/{path}/{vectors[0]}"


# --- readers ------------------------------------------------------------------------------


NOT_FILE_ENCODINGS = frozenset({"punycode", "idna", "unicode_escape", "raw_unicode_escape", "uu_codec", "base64_codec", "hex_codec", "quopri_codec", "zlib_codec", "bz2_codec", "rot_13", "undefined", "mbcs", "oem"})
"""Codecs Python knows that are not character sets of a data file (transport or escape codecs)."""


def check_encoding(encoding: str | None) -> str | None:
    """A user-named encoding, refused in Chinese unless it is a real character set.

    Why: the name goes to Python's codecs and GDAL; `punycode` or `idna` decode raise
    UnicodeError (not UnicodeDecodeError) on ordinary bytes, `base64_codec` is not text at all —
    each was a 500 before. The normalised codec name is returned."""
    if encoding is None or not str(encoding).strip():
        return None
    import codecs

    name = str(encoding).strip()
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        info = None
    if info is None or info.name in NOT_FILE_ENCODINGS or not getattr(info, "_is_text_encoding", True):
        raise InputError(
            f"不支持的字符编码“{name[:40]}”。",
            [RowError(None, "encoding", "不是文件字符集")],
            hint="常用编码：UTF-8、GBK（GB18030）、UTF-16；不确定时留空由系统自动识别。",
        )
    return name


def read_table(path: str | os.PathLike, encoding: str | None = None, sheet: str | int | None = 0) -> pd.DataFrame:
    """A CSV or Excel table as strings (ids with leading zeros and credit codes stay intact)."""
    encoding = check_encoding(encoding)
    path = Path(path)
    if not path.exists():
        raise InputError(f"文件不存在：{path}")
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise InputError(f"文件是空的：{path.name}", hint="请检查导出步骤是否成功。")
    if suffix in (".xlsx", ".xlsm"):
        try:
            frame = pd.read_excel(path, sheet_name=sheet, dtype=str, engine="openpyxl")
        except Exception as exc:
            raise InputError(f"无法读取 Excel 文件 {path.name}：{exc}", hint="请确认文件为 .xlsx 格式（旧版 .xls 请先另存为 .xlsx）。") from exc
    elif suffix == ".xls":
        raise InputError("不支持旧版 .xls 格式。", hint="请在 Excel/WPS 中另存为 .xlsx 后重新导入。")
    else:
        raw = path.read_bytes()
        enc = encoding or sniff_text_encoding(raw[:1_000_000])
        try:
            text = raw.decode(enc)
        except (UnicodeError, LookupError) as exc:
            raise InputError(f"按编码 {enc} 无法解码文件 {path.name}。", hint="请用 --encoding 指定正确的编码（如 GBK、UTF-8）。") from exc
        if text.startswith("\ufeff"):
            text = text[1:]
        try:
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""], skipinitialspace=True)
        except pd.errors.EmptyDataError:
            raise InputError(f"文件是空的：{path.name}")
        except pd.errors.ParserError as exc:
            raise InputError(f"CSV 格式错误：{exc}", hint="请检查分隔符与引号是否成对。") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.attrs["encoding"] = encoding if suffix in (".xlsx", ".xlsm") else enc
    return frame


def _find_column(columns, names) -> str | None:
    lower = {str(c).strip().lower(): c for c in columns}
    for n in names:
        if n in lower:
            return lower[n]
    return None


def table_geometry(frame: pd.DataFrame) -> tuple[np.ndarray | None, list[str]]:
    """Geometry from lon/lat columns or a WKT column; returns (geoms or None, columns used)."""
    lon = _find_column(frame.columns, LON_NAMES)
    lat = _find_column(frame.columns, LAT_NAMES)
    wkt = _find_column(frame.columns, WKT_NAMES)
    errors: list[RowError] = []
    if wkt is not None:
        geoms = np.empty(len(frame), dtype=object)
        for i, text in enumerate(frame[wkt].tolist()):
            if text is None or (isinstance(text, float) and np.isnan(text)) or str(text).strip() == "":
                geoms[i] = None
                continue
            try:
                geoms[i] = shapely.from_wkt(str(text))
            except Exception:
                errors.append(RowError(i + 1, wkt, "几何（WKT）无法解析"))
        if errors:
            raise InputError("表格中的几何列有错误。", errors, hint="WKT 应形如 POLYGON((x y, ...))。")
        return geoms, [wkt]
    if lon is not None and lat is not None:
        x = pd.to_numeric(frame[lon], errors="coerce")
        y = pd.to_numeric(frame[lat], errors="coerce")
        bad = frame.index[(x.isna() & frame[lon].notna()) | (y.isna() & frame[lat].notna())]
        if len(bad):
            raise InputError(
                "经纬度列中有非数字的值。",
                [RowError(int(i) + 1, f"{lon}/{lat}", "不是数字") for i in range(len(frame)) if frame.index[i] in set(bad)],
            )
        geoms = shapely.points(x.to_numpy(dtype=float), y.to_numpy(dtype=float))
        geoms = np.where(x.isna().to_numpy() | y.isna().to_numpy(), None, geoms)
        return geoms, [lon, lat]
    return None, []


def refuse_nul_in_geojson(path: Path) -> None:
    """Refuse a GeoJSON whose text values hold U+0000, naming the feature and field.

    Why here: GDAL cuts such a string at the NUL ("乙\\u0000丙" arrives as "乙"), so the checks
    every import passes (parcels/layers.py) never see it and part of an official record would be
    dropped without a word. A cheap byte scan decides whether the file needs parsing at all."""
    import json
    import re

    raw = path.read_bytes()
    if b"\x00" not in raw and not re.search(rb"\\u0000", raw, re.IGNORECASE):
        return
    from gis.errors import nul_errors_in_values, refuse_nul

    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        raise InputError(f"文件 {path.name} 含有不可见的空字符（\\x00）且不是有效的 JSON。", hint="请在源数据中删除空字符后重新导出。") from None
    features = doc.get("features", []) if isinstance(doc, dict) else []
    errors: list[RowError] = []
    for i, feature in enumerate(features if isinstance(features, list) else []):
        props = feature.get("properties") if isinstance(feature, dict) else None
        for e in nul_errors_in_values(props if isinstance(props, dict) else {}):
            errors.append(RowError(i + 1, e.field, e.message))
    if not errors:
        errors = [RowError(None, None, "文件中含有不可见的空字符（\\x00）")]
    refuse_nul(errors, what="导入")


def ogr_source(path: Path, layer: str | None, encoding: str | None) -> tuple[str, str | None]:
    """(what GDAL opens, the attribute encoding) of an OGR file: a vetted archive member through
    /vsizip/, a shapefile's encoding from its .cpg or sniffed from its .dbf, GeoJSON scanned for
    NUL first (GDAL would cut such text short)."""
    suffix = path.suffix.lower()
    source, used_encoding = str(path), encoding
    if suffix == ".zip":
        source = _resolve_archive(path, layer)
        member = source.split(f"/vsizip/{path}/", 1)[1]
        if member.lower().endswith(".shp") and encoding is None:
            used_encoding = zipped_shapefile_encoding(path, member)
    elif suffix == ".shp" and encoding is None:
        used_encoding = shapefile_encoding(path)
    elif suffix in (".geojson", ".json"):
        refuse_nul_in_geojson(path)
    return source, used_encoding


def read_features(
    path: str | os.PathLike,
    *,
    crs: str | None = None,
    encoding: str | None = None,
    layer: str | None = None,
    require_geometry: bool = False,
) -> ReadResult:
    """Read any OGR source, CSV or XLSX; geometry (if any) lands in EPSG:4490."""
    encoding = check_encoding(encoding)
    path = Path(path)
    if not path.exists():
        raise InputError(f"文件不存在：{path}")
    suffix = path.suffix.lower()
    given = crsmod.parse_crs(crs)
    used_encoding = encoding
    if suffix in TABLE_SUFFIXES:
        frame = read_table(path, encoding=encoding)
        used_encoding = frame.attrs.get("encoding")
        geoms, used_cols = table_geometry(frame)
        if geoms is None:
            if require_geometry:
                raise InputError(
                    "表格中没有几何：需要经度/纬度列（lon/lat、经度/纬度）或 WKT 列（geometry）。",
                    hint="请补充坐标列，或改用 shapefile/GeoPackage 导入。",
                )
            return ReadResult(frame, None, None, used_encoding, str(path))
        attrs = frame.drop(columns=used_cols)
        declared = None
    else:
        if path.stat().st_size == 0:
            raise InputError(f"文件是空的：{path.name}")
        source, used_encoding = ogr_source(path, layer, encoding)
        try:
            if suffix == ".parquet":
                gdf = gpd.read_parquet(path)
            else:
                gdf = pyogrio.read_dataframe(source, layer=layer, encoding=used_encoding, use_arrow=False)
        except Exception as exc:
            raise InputError(
                f"无法读取文件 {path.name}：{str(exc).splitlines()[0][:300]}",
                hint="请确认文件完整（shapefile 需 .shp/.shx/.dbf 同名同目录），或先在 QGIS 中打开检查。",
            ) from exc
        if suffix == ".shp":
            gdf = gdf.rename(columns={c: SHP_LONG_NAMES[c] for c in gdf.columns if c in SHP_LONG_NAMES})
        declared = gdf.crs
        geoms = np.asarray(gdf.geometry.values, dtype=object) if "geometry" in gdf else None
        attrs = pd.DataFrame(gdf.drop(columns="geometry", errors="ignore"))
    if len(attrs) == 0 and (geoms is None or len(geoms) == 0):
        raise InputError(f"文件中没有任何要素：{path.name}", hint="请检查导出的图层是否为空。")
    nonempty = np.array([g is not None and not shapely.is_empty(g) for g in geoms], dtype=bool) if geoms is not None else np.zeros(0, bool)
    if geoms is None or not nonempty.any():
        if require_geometry:
            raise InputError(f"文件 {path.name} 中没有任何几何。", hint="请检查文件是否为空间数据。")
        return ReadResult(attrs, None, None, used_encoding, str(path))
    detected = crsmod.detect_crs(geoms[nonempty], declared=declared, given=given)
    out = np.array(geoms, dtype=object)
    if detected.gcj02:
        out[nonempty] = crsmod.gcj02_geoms_to_store(out[nonempty])
    else:
        out[nonempty] = crsmod.to_store(out[nonempty], detected.crs)
    frame = gpd.GeoDataFrame(attrs.reset_index(drop=True), geometry=gpd.GeoSeries(out, crs=crsmod.STORE_EPSG))
    return ReadResult(frame, detected.label, detected.how, used_encoding, str(path))


BATCH_ROWS = 10_000
"""Features per batch of a batched read (`read_feature_batches`). 10 000 cadastral parcels are
≈20–40 MB in memory: at 10^6 parcels, batches of 10 000 imported as fast as batches of 50 000
(smaller arrays stay in the caches) with a peak of 500–660 MB instead of 810–950 MB (issue 19)."""
BATCHED_SUFFIXES = {".gpkg", ".shp", ".fgb", ".geojson", ".json", ".gml", ".kml", ".zip"}
"""Sources read in batches (OGR vector files); tables and Parquet are read whole."""


class BatchedRead:
    """An OGR source read `batch_rows` features at a time, each batch checked and brought to
    EPSG:4490 like `read_features` does with the whole file: the CRS decided on the first batch
    (given, declared or detected) and checked again on every later one, GCJ-02 corrected,
    shapefile names restored. Iterating yields GeoDataFrames; `crs_label`, `crs_how`, `encoding`
    and `source` are known once the first batch is read (`ReadResult`'s fields, for reports),
    `total` when the driver can count cheaply (None otherwise)."""

    def __init__(self, path: Path, source: str, *, crs: str | None, encoding: str | None, layer: str | None, batch_rows: int):
        self.path, self.source, self.layer, self.batch_rows = path, source, layer, batch_rows
        self.given = crsmod.parse_crs(crs)
        self.encoding = encoding
        self.crs_label: str | None = None
        self.crs_how: str | None = None
        self.frame = None  # ReadResult compatibility: the batches are never held together
        try:
            info = pyogrio.read_info(source, layer=layer, encoding=encoding)
            self.total = int(info["features"]) if int(info.get("features", -1)) >= 0 else None
        except Exception:  # counted on the way instead
            self.total = None

    def __iter__(self):
        from pyproj import CRS

        path = self.path
        detected = None
        try:
            reader_ctx = pyogrio.open_arrow(self.source, layer=self.layer, encoding=self.encoding, batch_size=self.batch_rows, use_pyarrow=True)
            meta, reader = reader_ctx.__enter__()
        except Exception as exc:
            raise InputError(
                f"无法读取文件 {path.name}：{str(exc).splitlines()[0][:300]}",
                hint="请确认文件完整（shapefile 需 .shp/.shx/.dbf 同名同目录），或先在 QGIS 中打开检查。",
            ) from exc
        try:
            declared = CRS.from_user_input(meta["crs"]) if meta.get("crs") else None
            geom_col = meta.get("geometry_name") or "wkb_geometry"
            first_row = 0
            for batch in reader:
                table = batch if hasattr(batch, "column_names") else batch
                names = list(table.schema.names)
                gname = geom_col if geom_col in names else next((n for n in names if n in ("wkb_geometry", "geometry", "geom")), None)
                geoms = shapely.from_wkb(table.column(names.index(gname)).to_numpy(zero_copy_only=False)) if gname else np.full(table.num_rows, None, dtype=object)
                attrs = table.drop_columns([gname]).to_pandas() if gname else table.to_pandas()
                if path.suffix.lower() == ".shp" or ".shp" in self.source.lower():
                    attrs = attrs.rename(columns={c: SHP_LONG_NAMES[c] for c in attrs.columns if c in SHP_LONG_NAMES})
                geoms = np.asarray(geoms, dtype=object)
                nonempty = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
                out = geoms.copy()
                if nonempty.any():
                    here = crsmod.detect_crs(geoms[nonempty], declared=declared, given=self.given)
                    if detected is None:
                        detected = here
                        self.crs_label, self.crs_how = here.label, here.how
                    elif (here.crs, here.gcj02) != (detected.crs, detected.gcj02):
                        raise InputError(
                            f"文件 {path.name} 第 {first_row + 1}–{first_row + table.num_rows} 行的坐标与前面的要素不属于同一坐标系"
                            f"（前面：{detected.label}；此处：{here.label}）。",
                            hint="请检查源数据是否混入了不同坐标系的要素，或用 --crs 指定坐标系。",
                        )
                    if detected.gcj02:
                        out[nonempty] = crsmod.gcj02_geoms_to_store(out[nonempty])
                    else:
                        out[nonempty] = crsmod.to_store(out[nonempty], detected.crs)
                yield gpd.GeoDataFrame(attrs.reset_index(drop=True), geometry=gpd.GeoSeries(out, crs=crsmod.STORE_EPSG))
                first_row += table.num_rows
            if first_row == 0:
                raise InputError(f"文件中没有任何要素：{path.name}", hint="请检查导出的图层是否为空。")
            if detected is None:
                raise InputError(f"文件 {path.name} 中没有任何几何。", hint="请检查文件是否为空间数据。")
        finally:
            reader_ctx.__exit__(None, None, None)


def read_feature_batches(
    path: str | os.PathLike,
    *,
    crs: str | None = None,
    encoding: str | None = None,
    layer: str | None = None,
    batch_rows: int | None = None,
) -> BatchedRead | None:
    """A city's cadastre without holding it in memory: the OGR vector file as batches of
    `batch_rows` features (`BatchedRead`), with the checks of `read_features` (encoding, archive
    vetting, NUL in GeoJSON, CRS). None for a source that is read whole (CSV/XLSX tables,
    Parquet): the caller then uses `read_features`."""
    encoding = check_encoding(encoding)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in BATCHED_SUFFIXES:
        return None
    if not path.exists():
        raise InputError(f"文件不存在：{path}")
    if path.stat().st_size == 0:
        raise InputError(f"文件是空的：{path.name}")
    source, used_encoding = ogr_source(path, layer, encoding)
    return BatchedRead(path, source, crs=crs, encoding=used_encoding, layer=layer, batch_rows=batch_rows or BATCH_ROWS)


# --- writers ------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula (CSV/XLSX injection)."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            s = out[col]
            mask = s.notna() & s.astype(str).str.startswith(_FORMULA_START)
            if mask.any():
                out[col] = s.astype(object).where(~mask, "'" + s.astype(str))
    return out


def _with_labels(frame: pd.DataFrame, labels: dict[str, str] | None) -> pd.DataFrame:
    if not labels:
        return frame
    return frame.rename(columns={k: v for k, v in labels.items() if k in frame.columns})


def write_table(frame: pd.DataFrame, path: str | os.PathLike, labels: dict[str, str] | None = None, sheet: str = "数据") -> Path:
    """CSV (UTF-8 with BOM, so Excel shows Chinese) or XLSX; formula-like text is neutralised."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    safe = neutralize_formulas(frame)
    if path.suffix.lower() == ".xlsx":
        write_workbook({sheet: _with_labels(safe, labels)}, path)
    else:
        safe.to_csv(path, index=False, encoding="utf-8-sig")
    return path


def write_workbook(frames: dict[str, pd.DataFrame], path: str | os.PathLike) -> Path:
    """Several frames as sheets of one XLSX, header bold and frozen, columns sized for Chinese."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    wb.remove(wb.active)
    for name, frame in frames.items():
        ws = wb.create_sheet(title=str(name)[:31])
        safe = neutralize_formulas(frame)
        ws.append([str(c) for c in safe.columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in safe.itertuples(index=False, name=None):
            ws.append([_cell(v) for v in row])
        ws.freeze_panes = "A2"
        for i, col in enumerate(safe.columns, start=1):
            width = max([len(str(col)) * 2] + [min(len(str(v)), 60) for v in safe[col].head(200).tolist()])
            ws.column_dimensions[get_column_letter(i)].width = min(max(8, width + 2), 62)
    wb.save(path)
    return path


def _cell(value):
    if value is None:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        v = float(value)
        return None if np.isnan(v) else v
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value, ensure_ascii=False)
    return value


def write_features(
    gdf: gpd.GeoDataFrame,
    path: str | os.PathLike,
    *,
    crs: str | int | None = None,
    layer: str | None = None,
    labels: dict[str, str] | None = None,
    warnings: list[str] | None = None,
) -> Path:
    """Write a layer; the format comes from the suffix (.gpkg .shp .geojson .fgb .parquet .csv .xlsx).

    Shapefile limits (254-byte text) are reported through `warnings`, never hit silently.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITE_SUFFIXES:
        raise InputError(
            f"不支持的导出格式：{suffix or '（无后缀）'}",
            hint=f"请使用以下后缀之一：{' '.join(WRITE_SUFFIXES)}",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    out = gdf
    if crs is not None:
        target = crsmod.parse_crs(crs)
        if target == crsmod.GCJ02:
            out = gdf.set_geometry(gpd.GeoSeries(crsmod.wgs84_geoms_to_gcj02(gdf.geometry.values), crs=None))
        else:
            out = gdf.to_crs(target)
    if suffix in (".csv", ".xlsx"):
        frame = pd.DataFrame(out.drop(columns=out.geometry.name))
        frame["geometry"] = shapely.to_wkt(np.asarray(out.geometry.values, dtype=object), rounding_precision=-1)
        return write_table(frame, path, labels=labels)
    if suffix == ".parquet":
        out.to_parquet(path, index=False)
        return path
    driver = VECTOR_WRITE_DRIVERS[suffix]
    kwargs: dict = {}
    if driver == "ESRI Shapefile":
        for col in out.columns:
            if col != out.geometry.name and (out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype)):
                too_long = out[col].dropna().astype(str).map(lambda v: len(v.encode("utf-8")) > 254)
                if too_long.any() and warnings is not None:
                    warnings.append(f"shapefile 文本字段最长 254 字节：字段 {col} 有 {int(too_long.sum())} 个值被截断；完整内容请导出为 .gpkg 或 .geojson。")
        out = out.rename(columns={c: SHP_SHORT_NAMES[c] for c in out.columns if c in SHP_SHORT_NAMES})
        kwargs["encoding"] = "UTF-8"
        if path.exists():
            for sib in path.parent.glob(path.stem + ".*"):
                sib.unlink()
    elif path.exists():
        path.unlink()
    if driver == "GeoJSON":
        kwargs["layer_options"] = {"WRITE_NAME": "NO"}
    out = _plain_dtypes(out)
    import warnings as _warnings

    with _warnings.catch_warnings():
        _warnings.filterwarnings("ignore", message=".*has been truncated to 254 characters.*")
        pyogrio.write_dataframe(out, path, driver=driver, layer=layer or path.stem, **kwargs)
    return path


def _plain_dtypes(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """OGR drivers want object/str columns, not pandas' nullable extension types."""
    out = gdf.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        dt = out[col].dtype
        if isinstance(dt, pd.BooleanDtype):
            out[col] = out[col].astype(object).where(out[col].notna(), None)
        elif pd.api.types.is_string_dtype(dt) and dt != object:
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out
