"""The bundled sample data: the plan's layers (schematic geometry) and the calibrated synthetic enterprises.

Nothing here is surveyed: every feature says `geometry_source = "schematic"` and its
`data_source` cites the plan or the seeded generator. Real data replaces it through imports.
"""

from __future__ import annotations

import geopandas as gpd

SAMPLE_ORDER = ("zone_boundary", "park_zones", "roads", "landmarks", "reserve_parcels", "industrial_parcels", "enterprises", "land_supply", "land_survey")
CONSTRAINT_ORDER = ("permanent_farmland", "ecological_redline", "urban_boundary", "admin_units")
"""Schematic 三区三线 and 乡镇/村 for the expansion study (parcels/sample/constraints.py)."""


def sample_layers(seed: int = 2020) -> dict[str, gpd.GeoDataFrame]:
    """Every sample layer keyed by layer name, in EPSG:4490, in a load order that respects links."""
    from parcels.sample.enterprises import generate_enterprises
    from parcels.sample.plan import build_plan_layers

    layers = build_plan_layers()
    enterprises, industrial = generate_enterprises(layers["park_zones"], seed=seed)
    layers["industrial_parcels"] = industrial
    layers["enterprises"] = enterprises
    from parcels.sample.constraints import constraint_layers
    from parcels.sample.supply import build_supply_ledger

    # The synthetic ledger (SPEC §4.2): dates counted back from today, so every list shows.
    layers["land_supply"] = build_supply_ledger(industrial, enterprises, layers["park_zones"], layers["reserve_parcels"])
    from parcels.sample.survey import build_sample_survey  # the synthetic 土地利用状况调查 (SPEC §11)

    layers["land_survey"] = build_sample_survey(layers, seed=seed)
    layers.update(constraint_layers())
    return {name: layers[name] for name in SAMPLE_ORDER + CONSTRAINT_ORDER}
