"""标准地 checks of proposed projects and indicator sheets of reserve parcels (SPEC §6)."""

from __future__ import annotations

from gis.errors import NotFoundError
from gis.store import Store
from services.parcel_edits import RESERVE


CHECK_DEFAULT_RULES = ["national_2008"]
"""Checks default to the confirmed national rules; unverified and sample sets are opt-in (--rules)."""
SHEET_DEFAULT_RULES = None
"""Sheets show every bundled set (sample and unverified rows visibly marked), for the official to choose."""


def _rules(names: str | list[str] | None, default):
    from parcels.standard_land import load_rules

    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    return load_rules(names or default)


def standard_land_check(store: Store, project: dict, *, rules: str | list[str] | None = None):
    """Check a proposed project (SPEC §6); a parcel_id binds the sheet issued on that parcel too."""
    from parcels.standard_land import check_project

    parcel = None
    if project.get("parcel_id"):
        parcel = store.get_feature(RESERVE, str(project["parcel_id"]))
        if parcel is None:
            raise NotFoundError(f"储备地块 {project['parcel_id']} 不存在。")
        parcel = {k: v for k, v in parcel.items() if k != "geometry"}
    return check_project(project, _rules(rules, CHECK_DEFAULT_RULES), parcel)


def parcel_indicator_sheet(store: Store, parcel_id: str, *, rules: str | list[str] | None = None, industry_code: str | None = None, issue: bool = False, user: str = "system"):
    """The 指标清单 of a reserve parcel; with issue=True its limits are stored on the parcel (with history)."""
    from parcels.standard_land import parcel_sheet, sheet_limits_for_parcel

    feature = store.get_feature(RESERVE, parcel_id)
    if feature is None:
        raise NotFoundError(f"储备地块 {parcel_id} 不存在。")
    parcel = {k: v for k, v in feature.items() if k != "geometry"}
    ruleset = _rules(rules, SHEET_DEFAULT_RULES)
    sheet = parcel_sheet(parcel, ruleset, industry_code=industry_code)
    if issue:
        limits = sheet_limits_for_parcel(parcel, ruleset, industry_code=industry_code)
        store.update_feature(RESERVE, parcel_id, limits, user=user, reason="发布标准地指标清单", action="sheet")
    return sheet
