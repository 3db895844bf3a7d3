"""用地面积 of each enterprise (SPEC §5.1): from the table, else from the linked parcels.

亩均 is only as good as its denominator, so the rules are explicit and every derived area says
where it came from: the table's `land_area_mu` wins; otherwise the areas of the linked
`industrial_parcels` are summed (`parcel_id` may list several: "P1;P2", and "P1:3.5" gives the
share of P1 the enterprise uses); a parcel several enterprises use is shared by the areas given
(in the table or after the colon) and the rest of it equally among the others. Rows with no
`parcel_id` are placed by their lon/lat point (EPSG:4490) inside a parcel. Each row's park and
district come from the table if it has them, else from its largest linked parcel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from gis import crs as gcrs
from parcels.efficiency.errors import EnterpriseTableError

_SPLIT = re.compile(r"[;；,，、\s]+")
_LINK = re.compile(r"^(?P<pid>.+?)(?:[:：](?P<area>[0-9]+(?:\.[0-9]+)?))?$")


LAND_SOURCES = ("", "table", "parcel", "point")  # codes 0..3 of LandResolution.source


@dataclass
class LandResolution:
    area_mu: np.ndarray  # NaN where unknown
    source: np.ndarray  # int8 codes into LAND_SOURCES
    notes: list  # (rows, message or messages) events, in order, for the output's flags
    links: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row", "parcel_id", "area_mu"]))
    park: np.ndarray | None = None
    district: np.ndarray | None = None
    warnings: list[str] = field(default_factory=list)


def parcel_area_mu(parcels: pd.DataFrame) -> np.ndarray:
    """Area in 亩 of each parcel: the layer's `area_mu` where filled, else from the geometry
    (plane area in the survey CRS, the registered 宗地面积, via `gis.crs.area_mu`), never in degrees."""
    n = len(parcels)
    out = np.full(n, np.nan)
    if "area_mu" in parcels.columns:
        out = pd.to_numeric(parcels["area_mu"], errors="coerce").to_numpy(dtype=float, na_value=np.nan).copy()
        out[out <= 0] = np.nan
    need = np.isnan(out)
    if need.any() and "geometry" in parcels.columns:
        geoms = parcels.geometry.to_numpy()[need] if hasattr(parcels, "geometry") else parcels["geometry"].to_numpy()[need]
        geoms = _to_store(parcels, geoms)
        ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        vals = np.full(geoms.size, np.nan)
        if ok.any():
            vals[ok] = gcrs.area_mu(geoms[ok])
        out[need] = vals
    return out


def _to_store(frame: pd.DataFrame, geoms: np.ndarray) -> np.ndarray:
    crs = getattr(frame, "crs", None)
    if crs is not None and crs.to_epsg() != gcrs.STORE_EPSG:
        return gcrs.to_store(geoms, crs)
    return np.asarray(geoms, dtype=object)


def _explode_links(pid: pd.Series) -> pd.DataFrame:
    """One row per (enterprise row, parcel id, explicit area or NaN), split in Arrow."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(pid.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    parts = pc.split_pattern_regex(pc.utf8_trim_whitespace(arr), _SPLIT.pattern)
    rows = pc.list_parent_indices(parts).to_numpy(zero_copy_only=False).astype(np.int64)
    flat = pc.list_flatten(parts)
    keep = pc.greater(pc.utf8_length(flat), 0).to_numpy(zero_copy_only=False)
    m = pc.extract_regex(flat, _LINK.pattern)
    pids = m.field("pid").to_numpy(zero_copy_only=False)[keep]
    area = m.field("area").to_numpy(zero_copy_only=False)[keep]  # "" where no ":area" was given
    given = pd.to_numeric(pd.Series(area, dtype=object), errors="coerce").to_numpy(dtype=float)
    return pd.DataFrame({"row": rows[keep], "parcel_id": pd.array(pids, dtype="str"), "given": given})


def _point_links(table: pd.DataFrame, rows: np.ndarray, parcels, pids: np.ndarray) -> pd.DataFrame:
    """Rows placed by lon/lat: the parcel containing the point (the smallest if several)."""
    lon = table["lon"].to_numpy(dtype=float)[rows]
    lat = table["lat"].to_numpy(dtype=float)[rows]
    ok = np.isfinite(lon) & np.isfinite(lat)
    rows, lon, lat = rows[ok], lon[ok], lat[ok]
    empty = pd.DataFrame({"row": np.zeros(0, dtype=np.int64), "parcel_id": pd.Series([], dtype="str"), "given": np.zeros(0)})
    if rows.size == 0 or "geometry" not in parcels.columns:
        return empty
    geoms = _to_store(parcels, parcels.geometry.to_numpy())
    tree = shapely.STRtree(geoms)
    pts = shapely.points(lon, lat)
    pi, gi = tree.query(pts, predicate="within")
    if pi.size == 0:
        return empty
    area = shapely.area(geoms[gi])
    df = pd.DataFrame({"p": pi, "g": gi, "a": area}).sort_values(["p", "a", "g"]).drop_duplicates("p")
    return pd.DataFrame({"row": rows[df["p"].to_numpy()], "parcel_id": pids[df["g"].to_numpy()], "given": np.nan})


def resolve_land(table: pd.DataFrame, parcels=None) -> LandResolution:
    """Land area per row of a normalized enterprise table (see the module doc for the rules)."""
    n = len(table)
    given = table["land_area_mu"].to_numpy(dtype=float) if "land_area_mu" in table.columns else np.full(n, np.nan)
    area = given.copy()
    source = np.where(np.isnan(given), 0, 1).astype(np.int8)
    notes: list = []
    park = table["park"].to_numpy(dtype=object) if "park" in table.columns else None
    district = table["district"].to_numpy(dtype=object) if "district" in table.columns else None
    has_links = "parcel_id" in table.columns or ("lon" in table.columns and "lat" in table.columns)
    if parcels is None or not has_links or len(parcels) == 0:
        if parcels is None and "parcel_id" in table.columns:
            need = np.isnan(given) & table["parcel_id"].notna().to_numpy()
            if need.any():
                notes.append((np.flatnonzero(need), "未提供工业用地图层，无法按地块编号计算用地面积"))
        return LandResolution(area, source, notes, park=park, district=district)
    if "id" not in parcels.columns:
        raise EnterpriseTableError("工业用地图层缺少 id（地块编号）字段，无法按地块计算用地面积。")

    pids = parcels["id"].astype("str").to_numpy(dtype=object)
    p_area = parcel_area_mu(parcels)
    p_index = pd.Series(np.arange(len(pids)), index=pd.Index(pids))
    if p_index.index.has_duplicates:
        p_index = p_index[~p_index.index.duplicated()]

    links = _explode_links(table["parcel_id"] if "parcel_id" in table.columns else pd.Series([], dtype="str"))
    if "lon" in table.columns and "lat" in table.columns:
        no_pid = np.ones(n, dtype=bool)
        no_pid[links["row"].to_numpy()] = False
        pl = _point_links(table, np.flatnonzero(no_pid), parcels, pids)
        links = pd.concat([links, pl], ignore_index=True) if len(pl) else links
    links["pidx"] = p_index.reindex(links["parcel_id"].to_numpy()).to_numpy(dtype=float, na_value=np.nan)
    unknown = links[np.isnan(links["pidx"].to_numpy())]
    if len(unknown):
        msg = "地块编号 " + unknown["parcel_id"].astype("str") + " 不在工业用地图层中"
        notes.append((unknown["row"].to_numpy(), msg.to_numpy(dtype=object)))
    links = links[~np.isnan(links["pidx"].to_numpy())].copy()
    links["pidx"] = links["pidx"].astype(np.int64)
    links["parcel_area"] = p_area[links["pidx"].to_numpy()]
    links = links.sort_values(["parcel_id", "row"], kind="stable").reset_index(drop=True)

    # Given areas on a link: after the colon, else the table's area for a single-parcel row,
    # else the table's area spread over the row's parcels in proportion to their areas.
    row_ids = links["row"].to_numpy()
    n_links = np.bincount(row_ids, minlength=n)
    tbl = given[row_ids]
    g = links["given"].to_numpy().copy()
    pa = links["parcel_area"].to_numpy()
    row_pa = np.bincount(row_ids, weights=np.nan_to_num(pa), minlength=n)
    use_tbl = np.isnan(g) & ~np.isnan(tbl)
    with np.errstate(divide="ignore", invalid="ignore"):
        prop = np.where(n_links[row_ids] == 1, tbl, tbl * np.nan_to_num(pa) / row_pa[row_ids])
    g[use_tbl] = prop[use_tbl]
    links["given"] = g

    # Share each parcel: given areas first, the remainder equally among the links without one.
    # (links are sorted by parcel and canonical row, so these sums are order-independent)
    links["free"] = np.isnan(g).astype(np.int64)
    grp = links.groupby("pidx", sort=False)
    sum_given = grp["given"].transform("sum")
    n_free = grp["free"].transform("sum")
    n_on = grp["row"].transform("size").to_numpy()
    remainder = np.maximum(pa - sum_given.to_numpy(), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        free_share = remainder / n_free.to_numpy()
    alloc = np.where(np.isnan(g), free_share, g)
    links["area_mu"] = alloc

    over = (sum_given.to_numpy() > pa + 1e-6) & (n_on > 1)
    shared = n_on > 1
    if shared.any():
        sh = links[shared]
        how = np.where(np.isnan(sh["given"].to_numpy()), "其余面积均分", "按填报面积")
        msg = ("地块 " + sh["parcel_id"].astype("str") + " 由 " + pd.Series(n_on[shared], index=sh.index).astype("str")
               + " 家企业共用，" + pd.Series(how, index=sh.index) + "计 "
               + pd.Series(np.round(sh["area_mu"].to_numpy(), 4), index=sh.index).astype("str") + " 亩")
        notes.append((sh["row"].to_numpy(), msg.to_numpy(dtype=object)))
    if over.any():
        ov = links[over]
        notes.append((ov["row"].to_numpy(), ("地块 " + ov["parcel_id"].astype("str") + " 的填报面积合计超过地块面积，请核对").to_numpy(dtype=object)))

    # Row areas for rows without a table area.
    row_sum = np.bincount(row_ids, weights=np.nan_to_num(links["area_mu"].to_numpy()), minlength=n)
    row_nan = np.bincount(row_ids, weights=np.isnan(links["area_mu"].to_numpy()).astype(float), minlength=n)
    from_links = np.isnan(given) & (n_links > 0) & (row_nan == 0)
    area[from_links] = row_sum[from_links]
    is_point = np.zeros(n, dtype=bool)
    if "lon" in table.columns and "parcel_id" in table.columns:
        is_point = table["parcel_id"].isna().to_numpy()
    elif "parcel_id" not in table.columns:
        is_point[:] = True
    source[from_links] = np.where(is_point[from_links], 3, 2)
    multi = from_links & (n_links > 1)
    if multi.any():
        notes_multi = pd.Series("用地面积为 ", index=np.flatnonzero(multi)) + pd.Series(n_links[multi], index=np.flatnonzero(multi)).astype("str") + " 个地块之和"
        notes.append((np.flatnonzero(multi), notes_multi.to_numpy(dtype=object)))

    # Park / district from the largest linked parcel when the table does not give them.
    if len(links):
        big = links.sort_values(["row", "area_mu", "parcel_id"], ascending=[True, False, True]).drop_duplicates("row")
        for col, cur in (("park", park), ("district", district)):
            if col in parcels.columns:
                vals = parcels[col].astype(object).to_numpy()[big["pidx"].to_numpy()]
                arr = np.full(n, None, dtype=object) if cur is None else cur.copy()
                r = big["row"].to_numpy()
                fill = pd.isna(arr[r])
                arr[r[fill]] = vals[fill]
                if col == "park":
                    park = arr
                else:
                    district = arr
    out_links = links[["row", "parcel_id", "area_mu"]].copy()
    return LandResolution(area, source, notes, out_links, park, district)
