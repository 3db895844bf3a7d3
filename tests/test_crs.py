"""CRS rules of SPEC §3.1: detection, refusal, GCJ-02, and area in the measuring CRS."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer

from gis import crs

GEOD = Geod(ellps="GRS80")  # the CGCS2000 ellipsoid differs from GRS80 by 0.1 mm in b
ZONE_BOX = shapely.box(112.55, 33.02, 112.56, 33.03)


def test_domain_example_point():
    t = Transformer.from_crs(4490, 4546, always_xy=True)
    x, y = t.transform(112.53, 32.99)
    assert (round(x, 1), round(y, 1)) == (643006.5, 3652678.8)


def test_ellipsoid_area_matches_the_geodesic_and_plane_area_is_the_gk_plane():
    geodesic = abs(GEOD.geometry_area_perimeter(ZONE_BOX)[0])
    ours = crs.ellipsoid_area_m2(np.array([ZONE_BOX]))[0]
    plane = shapely.area(crs.to_measure(np.array([ZONE_BOX])))[0]
    assert abs(ours / geodesic - 1) < 1e-6
    assert plane / geodesic - 1 > 4.5e-4  # the plane stretch the ellipsoidal area removes
    assert crs.plane_area_m2(np.array([ZONE_BOX]))[0] == pytest.approx(plane, rel=1e-12)
    # 亩 come from the registered (plane) area, not from the ellipsoidal one
    assert crs.area_mu(np.array([ZONE_BOX]))[0] == pytest.approx(plane * 15 / 10000)


def _gk_rectangle(epsg=4546, x0=643006.5, y0=3652678.8):
    """A 200 m × 150 m parcel surveyed in GK coordinates, moved to the stored lon/lat."""
    return crs.reproject(np.array([shapely.box(x0, y0, x0 + 200, y0 + 150)]), epsg, crs.STORE_EPSG)


def test_gk_rectangle_keeps_its_registered_plane_area():
    g = _gk_rectangle()
    assert round(float(crs.plane_area_m2(g)[0]), 2) == 30000.00
    assert float(crs.area_mu(g)[0]) == pytest.approx(45.0, abs=1e-6)
    assert float(crs.ellipsoid_area_m2(g)[0]) == pytest.approx(29984.86, abs=0.05)


def test_survey_crs_setting(monkeypatch):
    # Land registered in the CM 114E band: its plane area is that band's, the ellipsoid area is not affected.
    g = _gk_rectangle(4547, 356000.0, 3652000.0)
    ell = float(crs.ellipsoid_area_m2(g)[0])
    assert round(float(crs.plane_area_m2(g)[0]), 2) != 30000.00
    monkeypatch.setenv("LANDGIS_SURVEY_CRS", "EPSG:4547")
    assert round(float(crs.plane_area_m2(g)[0]), 2) == 30000.00
    assert float(crs.ellipsoid_area_m2(g)[0]) == ell
    monkeypatch.setenv("LANDGIS_SURVEY_CRS", "EPSG:4490")
    with pytest.raises(crs.CRSDetectionError, match="LANDGIS_SURVEY_CRS"):
        crs.plane_area_m2(g)


@pytest.mark.parametrize(
    "offset,expected",
    [((0, 0), 4546), ((37_000_000, 0), 4525)],
)
def test_gauss_kruger_without_prj_is_detected(offset, expected):
    t = Transformer.from_crs(4490, expected, always_xy=True)
    x, y = t.transform(112.555, 33.025)
    g = np.array([shapely.box(x - 50, y - 50, x + 50, y + 50)])
    found = crs.detect_crs(g)
    assert found.crs.to_epsg() == expected and found.how == "detected"


def test_cm114_zone_form_detected_when_data_lies_there():
    t = Transformer.from_crs(4490, 4526, always_xy=True)
    x, y = t.transform(113.3, 33.0)
    assert crs.detect_crs(np.array([shapely.Point(x, y)])).crs.to_epsg() == 4526


def test_lonlat_detected_and_swapped_refused():
    assert crs.detect_crs(np.array([ZONE_BOX])).crs.to_epsg() == 4490
    swapped = shapely.transform(ZONE_BOX, lambda xy: xy[:, ::-1])
    with pytest.raises(crs.CRSDetectionError, match="颠倒"):
        crs.detect_crs(np.array([swapped]))
    with pytest.raises(crs.CRSDetectionError, match="颠倒"):
        crs.detect_crs(np.array([swapped]), declared=crs.CRS.from_epsg(4326))


def test_projected_swapped_refused():
    t = Transformer.from_crs(4490, 4546, always_xy=True)
    x, y = t.transform(112.555, 33.025)
    with pytest.raises(crs.CRSDetectionError, match="颠倒"):
        crs.detect_crs(np.array([shapely.Point(y, x)]))


def test_coordinates_fitting_nothing_are_refused_with_fix():
    with pytest.raises(crs.CRSDetectionError) as info:
        crs.detect_crs(np.array([shapely.box(5000, 5000, 5100, 5100)]))
    assert "--crs" in str(info.value) and "EPSG:4546" in str(info.value)


def test_declared_crs_that_does_not_fit_is_refused():
    t = Transformer.from_crs(4490, 4546, always_xy=True)
    x, y = t.transform(112.555, 33.025)
    with pytest.raises(crs.CRSDetectionError, match="不在南阳高新区附近"):
        crs.detect_crs(np.array([shapely.Point(x, y)]), declared=crs.CRS.from_epsg(4326))
    # …while the right --crs overrides a wrong .prj
    assert crs.detect_crs(np.array([shapely.Point(x, y)]), declared=crs.CRS.from_epsg(4326), given=crs.CRS.from_epsg(4546)).crs.to_epsg() == 4546


def test_gcj02_offset_matches_domain_and_inverts_to_a_millimetre():
    lon, lat = np.array([112.53, 112.60, 112.45]), np.array([32.99, 33.05, 33.10])
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    assert abs(glon[0] - lon[0] - 0.00584) < 1e-4 and abs(glat[0] - lat[0] + 0.00200) < 1e-4  # DOMAIN §C at 112.53E
    assert np.all(np.hypot(glon - lon, glat - lat) < 0.0075)  # a few hundred metres everywhere near the zone
    back_lon, back_lat = crs.gcj02_to_wgs84(glon, glat)
    _, _, dist = GEOD.inv(lon, lat, back_lon, back_lat)
    assert np.max(dist) < 0.001


def test_parse_crs_inputs():
    assert crs.parse_crs("EPSG:4546").to_epsg() == 4546
    assert crs.parse_crs("4547").to_epsg() == 4547
    assert crs.parse_crs("gcj-02") == crs.GCJ02
    with pytest.raises(crs.CRSDetectionError):
        crs.parse_crs("EPSG:999999")


def test_area_of_empty_and_missing_geometry_is_zero():
    for area in (crs.plane_area_m2, crs.ellipsoid_area_m2):
        got = area(np.array([ZONE_BOX, shapely.Polygon(), None], dtype=object))
        assert got[0] > 0 and got[1] == 0 and got[2] == 0
