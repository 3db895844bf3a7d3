"""A small hand-made zone for the intensity tests: rectangles in EPSG:4546 with known plane areas.

Not a test module. The survey's figures are chosen so each SPEC §11 indicator can be worked out
by hand in the test from the formulas' text (tests/test_intensity.py)."""

from __future__ import annotations

import geopandas as gpd
from shapely.geometry import box

X0, Y0 = 640000.0, 3650000.0  # EPSG:4546 metres, near 112.5°E / 33°N (the zone's place)


def rect(x: float, y: float, w: float, h: float):
    return box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


ZONE = rect(0, 0, 2000, 2000)
EXPANSION = rect(0, -1000, 2000, 1000)  # shares the zone's south edge

SURVEY_ROWS = [
    # id, status, supplied, idle, land_use, high_tech, floor, footprint, fixed assets, tax, geometry (w × h m)
    ("S1", "built", True, False, "工矿仓储", True, 36000.0, 18000.0, 30000.0, 2400.0, rect(100, 100, 200, 150)),  # 3 ha
    ("S2", "已建成城镇建设用地", True, False, "工业", False, 8000.0, 5000.0, 9000.0, 500.0, rect(400, 100, 100, 100)),  # 1 ha, Chinese status, alias use
    ("S3", "built", True, False, "住宅", False, 50000.0, 6000.0, None, 100.0, rect(600, 100, 200, 100)),  # 2 ha
    ("S4", "built", False, False, "商服", False, 6000.0, 2000.0, None, 300.0, rect(900, 100, 100, 50)),  # 0.5 ha
    ("S5", "ready", True, True, "工矿仓储", False, None, None, None, None, rect(100, 400, 100, 100)),  # 1 ha, supplied and idle
    ("S6", "ready", False, False, None, False, None, None, None, None, rect(300, 400, 150, 100)),  # 1.5 ha, still to supply
    ("S7", "not_ready", False, False, None, False, None, None, None, None, rect(500, 400, 100, 100)),  # 1 ha
    ("S8", "unavailable", False, False, None, False, None, None, None, None, rect(700, 400, 50, 50)),  # 0.25 ha
]
COLUMNS = ["id", "status", "supplied", "idle", "land_use", "high_tech", "floor_area_m2", "footprint_m2", "fixed_assets_wan", "tax_wan"]

LEDGER_ROWS = [
    # id, approval, supply date, geometry: supplied areas 1 ha (2023), 0.5 ha (2024), 1.5 ha (2025), 2 ha (2022)
    ("L1", "2022-11-01", "2023-05-01", rect(1200, 1200, 100, 100)),
    ("L2", "2023-10-01", "2024-03-01", rect(1400, 1200, 100, 50)),
    ("L3", "2024-12-01", "2025-07-01", rect(1200, 1400, 150, 100)),
    ("L4", "2021-06-01", "2022-02-01", rect(1500, 1500, 200, 100)),
]


def write_gpkg(path, rows, columns, layer: str) -> str:
    frame = gpd.GeoDataFrame([dict(zip(columns, r[:-1])) for r in rows], geometry=[r[-1] for r in rows], crs="EPSG:4546")
    frame.to_file(path, layer=layer, driver="GPKG")
    return str(path)


def load_zone(store, tmp_path, *, expansion: bool = True) -> None:
    from services.imports import import_file

    rows = [("ZB-current", "高新区（测试）", "current", ZONE)] + ([("ZB-expansion", "扩区（测试）", "expansion", EXPANSION)] if expansion else [])
    import_file(store, "zone_boundary", write_gpkg(tmp_path / "zone.gpkg", rows, ["id", "name", "kind"], "zone"), user="test")


def load_ledger(store, tmp_path) -> None:
    from services.imports import import_file

    rows = [(i, a, s, "工业", "挂牌出让", g) for i, a, s, g in LEDGER_ROWS]
    import_file(store, "land_supply", write_gpkg(tmp_path / "ledger.gpkg", rows, ["id", "approval_date", "supply_date", "land_use", "supply_method"], "ledger"), user="test")


def survey_file(tmp_path, rows=None, name: str = "survey.gpkg") -> str:
    return write_gpkg(tmp_path / name, rows or SURVEY_ROWS, COLUMNS, "survey")
