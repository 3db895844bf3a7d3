"""标准地 checks of proposed projects, indicator sheets of reserve parcels, 达产复核 (SPEC §6).

Which rules decide is decided here, once, for every path (CLI, HTTP, map, 达产复核, the supply
ledger's supervision): `default_rules()` when no rule set is named — the `confirmed` rules
only, so nothing decides on a sample or unverified value that nobody chose — and exactly the
named sets otherwise (`--rules`, `?rules=`), whose non-confirmed values every output marks.
"""

from __future__ import annotations

from gis.errors import NotFoundError
from gis.store import Store
from services.parcel_edits import RESERVE


def default_rules():
    """The rule sets that decide by default (SPEC §6): the confirmed rules of the bundled sets.

    Public: the 标准地 map, 达产复核 and the supply ledger's supervision call this, so one
    default holds everywhere. The returned RuleSet says so (`confirmed_only`) and names what it
    left out (`selection_note()`)."""
    from parcels.standard_land.rules import default_rules as confirmed_bundled

    return confirmed_bundled()


def select_rules(names: str | list[str] | None = None):
    """The named rule sets (comma-separated names or TOML paths), or `default_rules()` when none are named."""
    from parcels.standard_land import load_rules

    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    return load_rules(names) if names else default_rules()


def standard_land_check(store: Store, project: dict, *, rules: str | list[str] | None = None):
    """Check a proposed project (SPEC §6); a parcel_id binds the sheet issued on that parcel too."""
    from parcels.standard_land import check_project

    parcel = None
    if project.get("parcel_id"):
        parcel = store.get_feature(RESERVE, str(project["parcel_id"]))
        if parcel is None:
            raise NotFoundError(f"储备地块 {project['parcel_id']} 不存在。")
        parcel = {k: v for k, v in parcel.items() if k != "geometry"}
    return check_project(project, select_rules(rules), parcel)


def parcel_indicator_sheet(store: Store, parcel_id: str, *, rules: str | list[str] | None = None, industry_code: str | None = None, issue: bool = False, user: str = "system"):
    """The 指标清单 of a reserve parcel; with issue=True its limits are stored on the parcel (with history)."""
    from parcels.standard_land import parcel_sheet, sheet_limits_for_parcel

    feature = store.get_feature(RESERVE, parcel_id)
    if feature is None:
        raise NotFoundError(f"储备地块 {parcel_id} 不存在。")
    parcel = {k: v for k, v in feature.items() if k != "geometry"}
    ruleset = select_rules(rules)
    sheet = parcel_sheet(parcel, ruleset, industry_code=industry_code)
    if issue:
        limits = sheet_limits_for_parcel(parcel, ruleset, industry_code=industry_code)
        store.update_feature(RESERVE, parcel_id, limits, user=user, reason="发布标准地指标清单", action="sheet")
    return sheet


def production_review(actuals, commitments, *, rules: str | list[str] | None = None, detail: bool = True):
    """达产复核 (SPEC §6) of producing enterprises against their commitments, with the same rule
    selection as checks and sheets: confirmed rules only unless rule sets are named."""
    from parcels.standard_land import review_production

    return review_production(actuals, commitments, select_rules(rules), detail=detail)
