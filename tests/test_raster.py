"""gis.raster: COG writing, slope, distance, zonal statistics; the schematic sample rasters."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine

from gis.raster import Grid, RasterError, cog_validate, distance_to, read_raster, reproject_to, slope_degrees, write_cog, zonal_stats


def small_grid(w=40, h=30, cell=30.0, x0=640000.0, y1=3650000.0) -> Grid:
    return Grid(Affine(cell, 0, x0, 0, -cell, y1), w, h, "EPSG:4546")


def test_cog_roundtrip_validates(tmp_path):
    g = small_grid(600, 520)
    arr = (np.arange(g.width * g.height, dtype=np.float32).reshape(g.shape) % 97) / 97
    p = write_cog(tmp_path / "x.tif", arr, g, nodata=-1.0, tags={"NOTE": "测试"}, description="适宜性")
    ok, errors, _ = cog_validate(p)
    assert ok, errors
    back, g2, nodata = read_raster(p)
    assert np.array_equal(back, arr) and nodata == -1.0
    assert g2.transform == g.transform and g2.crs == "EPSG:4546"
    with rasterio.open(p) as src:
        assert src.tags()["NOTE"] == "测试"
        assert src.overviews(1), "a COG of this size has overviews"
    with pytest.raises(RasterError):
        read_raster(tmp_path / "missing.tif")


def test_slope_of_a_plane():
    g = small_grid()
    x, y = g.centres()
    dem = (x - x.min()) * np.tan(np.radians(10.0))
    s = slope_degrees(dem, g.cell)
    assert np.allclose(s[1:-1, 1:-1], 10.0, atol=1e-3)
    flat = slope_degrees(np.full(g.shape, 120.0), g.cell)
    assert np.all(flat == 0)


def test_distance_matches_geos_within_a_coarse_cell():
    g = small_grid(90, 70)
    line = shapely.LineString([(640300, 3649000), (642000, 3648200)])
    poly = shapely.box(641500, 3648900, 641800, 3649500)
    x, y = g.centres()
    exact = shapely.distance(shapely.points(x.ravel(), y.ravel()), shapely.union(line, poly)).reshape(g.shape)
    approx = distance_to([line, poly], g, coarse_factor=3)
    assert np.abs(approx - exact).max() < 3 * g.cell
    assert np.array_equal(distance_to([line, poly], g, coarse_factor=1), exact.astype(np.float32))
    inside = shapely.contains_xy(poly, x, y)
    assert np.all(approx[inside] == 0)
    with pytest.raises(RasterError):
        distance_to([], g)


def test_zonal_mean_is_coverage_weighted():
    g = Grid(Affine(1.0, 0, 640000.0, 0, -1.0, 3650002.0), 2, 2, "EPSG:4546")
    values = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    # covers the top-left cell fully and half of the top-right one
    poly = shapely.box(640000.0, 3650001.0, 640001.5, 3650002.0)
    frame = gpd.GeoDataFrame({"pid": ["a"]}, geometry=[poly], crs="EPSG:4546")
    out = zonal_stats({"v": values}, frame, ["mean"], grid=g, include_cols=["pid"])
    assert out["v_mean"].iloc[0] == pytest.approx((1 * 1 + 2 * 0.5) / 1.5)
    assert out["pid"].iloc[0] == "a"


def test_zonal_stats_on_a_file_equals_exactextract_and_reprojects(tmp_path):
    from exactextract import exact_extract

    g = small_grid(200, 150)
    rng = np.random.default_rng(1)
    arr = rng.random(g.shape).astype(np.float32)
    p = write_cog(tmp_path / "r.tif", arr, g, nodata=-1.0)
    x0, y0, x1, y1 = g.bounds
    polys = [shapely.box(x0 + 100 + i * 250, y0 + 200, x0 + 290 + i * 250, y0 + 700 + i * 13).buffer(7) for i in range(20)]
    frame_m = gpd.GeoDataFrame({"pid": [f"p{i}" for i in range(20)]}, geometry=polys, crs="EPSG:4546")
    ours = zonal_stats(p, frame_m, ["mean", "count"], include_cols=["pid"])
    ref = exact_extract(str(p), frame_m, ["mean", "count"], include_cols=["pid"], output="pandas")
    assert np.array_equal(ours["mean"].to_numpy(), ref["mean"].to_numpy())
    # polygons given in EPSG:4490 are moved to the raster CRS first
    lonlat = zonal_stats(p, frame_m.to_crs(4490), ["mean"])
    assert np.allclose(lonlat["mean"].to_numpy(), ref["mean"].to_numpy(), rtol=1e-4)
    with pytest.raises(RasterError):
        zonal_stats(p, frame_m.set_crs(None, allow_override=True), ["mean"])


def test_reproject_to_coarser_grid_averages():
    g = small_grid(4, 4, cell=30.0)
    arr = np.arange(16, dtype=np.float32).reshape(4, 4)
    coarse = Grid(Affine(60.0, 0, g.transform.c, 0, -60.0, g.transform.f), 2, 2, "EPSG:4546")
    out = reproject_to(arr, g, coarse, resampling="average")
    assert out[0, 0] == pytest.approx(np.mean([0, 1, 4, 5]))


def test_sample_rasters_are_schematic_cogs(tmp_path):
    from parcels.sample.rasters import LANDCOVER_CLASSES, ensure_sample_rasters

    paths = ensure_sample_rasters(tmp_path, cell=300.0)
    for p in paths.values():
        ok, errors, _ = cog_validate(p)
        assert ok, errors
        with rasterio.open(p) as src:
            assert src.tags()["LANDGIS_SCHEMATIC"] == "yes" and "示意" in src.tags()["NOTE"]
            assert src.crs.to_epsg() == 4546
    dem, g, _ = read_raster(paths["dem"])
    lc, _, _ = read_raster(paths["landcover"])
    assert 100 < np.median(dem) < 145 and dem.max() > 250  # basin floor with hills
    assert set(np.unique(lc)) <= set(LANDCOVER_CLASSES)
    assert (lc == 4).any() and (lc == 5).any() and (lc == 1).sum() > lc.size / 2
    # second call reuses the files; same seed gives the same rasters
    mtime = paths["dem"].stat().st_mtime_ns
    assert ensure_sample_rasters(tmp_path, cell=300.0)["dem"].stat().st_mtime_ns == mtime
    again = ensure_sample_rasters(tmp_path / "b", cell=300.0)
    assert np.array_equal(read_raster(again["dem"])[0], dem)


def test_many_polygons_keep_input_order_and_empty_rows(tmp_path):
    """Above HILBERT_MIN_FEATURES landgis visits parcels in Hilbert order: rows must come back in input order."""
    from exactextract import exact_extract

    from gis.raster import HILBERT_MIN_FEATURES

    g = small_grid(300, 300)
    rng = np.random.default_rng(3)
    p = write_cog(tmp_path / "r.tif", rng.random(g.shape).astype(np.float32), g, nodata=-1.0)
    x0, y0, x1, y1 = g.bounds
    n = HILBERT_MIN_FEATURES + 200
    cx, cy = rng.uniform(x0 + 200, x1 - 200, n), rng.uniform(y0 + 200, y1 - 200, n)
    geoms = shapely.buffer(shapely.points(cx, cy), rng.uniform(20, 90, n), quad_segs=3)
    frame = gpd.GeoDataFrame({"pid": [f"p{i}" for i in range(n)]}, geometry=geoms, crs="EPSG:4546")
    ref = exact_extract(str(p), frame, ["mean"], include_cols=["pid"], output="pandas")
    frame.loc[7, "geometry"] = None
    ours = zonal_stats(p, frame, ["mean"], include_cols=["pid"])
    assert list(ours["pid"]) == list(frame["pid"])
    assert np.isnan(ours["mean"].iloc[7])
    keep = np.arange(n) != 7
    assert np.array_equal(ours["mean"].to_numpy()[keep], ref["mean"].to_numpy()[keep])
