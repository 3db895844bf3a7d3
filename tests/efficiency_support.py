"""A small enterprise table shared by the 亩均 report and vocabulary tests (not a test module).

Twelve firms in two parks, 8 above designated size, values chosen so every class and indicator
appears; the report tests use it without value_added/output_value, as the SPEC §5.3 example has.
"""

from __future__ import annotations

import pandas as pd


def small_enterprise_table() -> pd.DataFrame:
    return pd.DataFrame({
        "enterprise_id": [f"E{i:02d}" for i in range(12)],
        "name": [f"企业{i}" for i in range(12)],
        "above_scale": [True] * 8 + [False] * 4,
        "land_area_mu": [10, 20, 15, 30, 8, 12, 40, 25, 6, 4, 9, 7],
        "tax": [100, 150, 90, 120, 30, 60, 500, 80, 30, 10, 18, 14],
        "revenue": [2000, 3000, 1800, 2500, 600, 900, 7000, 1500, 300, 80, 200, 150],
        "value_added": [600, 900, 500, 700, 150, 250, 2000, 400, 80, 20, 50, 40],
        "output_value": [2200, 3300, 2000, 2700, 650, 950, 7500, 1600, 320, 90, 210, 160],
        "profit": [100, 200, 90, 80, 10, 30, 600, 40, 10, 2, 5, 3],
        "energy_tce": [200, 400, 150, 500, 60, 100, 600, 300, 30, 8, 20, 15],
        "rd_expense": [60, 90, 40, 30, 5, 20, 350, 15, 0, 0, 0, 0],
        "employees": [100, 150, 80, 120, 30, 50, 300, 90, 12, 8, 10, 9],
        "park": ["光电产业园"] * 6 + ["机械装备产业园"] * 6,
        "district": ["卧龙区"] * 12,
    })
