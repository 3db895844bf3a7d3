"""达产复核 failures flow into the 低效用地 list (SPEC §6 → §5.4): the wire between the two modules."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from parcels.efficiency import find_inefficient_land, load_policy
from parcels.standard_land import load_rules, review_failures_as_inefficient, review_production


def test_review_failure_becomes_inefficient_land():
    parcels = gpd.GeoDataFrame(
        {"id": ["P1", "P2"], "area_mu": [30.0, 20.0], "floor_area_ratio": [1.2, 1.2], "idle": [False, False], "park": ["光电产业园"] * 2, "district": ["百里奚街道"] * 2},
        geometry=[shapely.box(112.55, 33.03, 112.552, 33.032), shapely.box(112.56, 33.03, 112.562, 33.032)],
        crs=4490,
    )
    actuals = pd.DataFrame([
        # P1: tax 200 on 30 亩 = 6.67 万元/亩 against a committed 10 → fails 达产复核
        {"enterprise_id": "E1", "parcel_id": "P1", "industry_code": "27", "land_area_mu": 30, "total_floor_area_m2": 30000, "tall_floor_area_m2": 0,
         "building_footprint_m2": 8000, "office_living_land_m2": 500, "green_area_m2": 500, "tax": 200},
        # P2: meets everything it committed to
        {"enterprise_id": "E2", "parcel_id": "P2", "industry_code": "27", "land_area_mu": 20, "total_floor_area_m2": 20000, "tall_floor_area_m2": 0,
         "building_footprint_m2": 6000, "office_living_land_m2": 300, "green_area_m2": 300, "tax": 400},
    ])
    review = review_production(actuals, {"P1": {"tax_per_mu": 10}, "P2": {"tax_per_mu": 10}}, load_rules(["national_2008"]))
    failures = review_failures_as_inefficient(review)
    out = find_inefficient_land(parcels, None, load_policy("henan_2019"), extra_failures=failures.loc[failures["parcel_id"].notna(), ["parcel_id", "reason"]])
    assert list(out["parcel_id"]) == ["P1"]
    assert "亩均税收" in out.iloc[0]["reason"] and out.iloc[0]["area_mu"] == 30.0
