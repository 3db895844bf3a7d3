"""标准地 control indicators (SPEC §6): rules as data, project checks, parcel sheets, 达产复核.

Public API (the CLI and HTTP API call these):

- `load_rules(paths_or_names=None) -> RuleSet`, `bundled_rule_sets() -> list[str]`
- `check_project(project, rules, parcel=None) -> CheckResult` (`.to_dict()`, `.to_html()`,
  `.to_workbook()`), `parse_project_text(text, fmt)` for TOML/JSON project files
- `parcel_sheet(parcel, rules, industry_code=None) -> IndicatorSheet`,
  `sheet_limits_for_parcel(parcel, rules, industry_code=None) -> dict`
- `review_production(actuals, commitments, rules) -> DataFrame`,
  `review_failures_as_inefficient(review_df) -> DataFrame`
- errors: `ProjectInputError`, `RuleFileError` (both `gis.errors.InputError`, a ValueError)
"""

from parcels.standard_land.check import CheckResult, check_project
from parcels.standard_land.indicators import INDICATORS, PHASES, STATUS_LABELS, STATUSES
from parcels.standard_land.inputs import PROJECT_KEYS, ProjectInputError, parse_project_text
from parcels.standard_land.review import review_failures_as_inefficient, review_production
from parcels.standard_land.rules import Rule, RuleFileError, RuleSet, bundled_rule_sets, load_rules, parse_rule_text
from parcels.standard_land.sheet import IndicatorSheet, parcel_sheet, sheet_limits_for_parcel

__all__ = [
    "CheckResult", "IndicatorSheet", "INDICATORS", "PHASES", "PROJECT_KEYS", "ProjectInputError", "Rule",
    "RuleFileError", "RuleSet", "STATUSES", "STATUS_LABELS", "bundled_rule_sets", "check_project", "load_rules",
    "parcel_sheet", "parse_project_text", "parse_rule_text", "review_failures_as_inefficient", "review_production",
    "sheet_limits_for_parcel",
]
