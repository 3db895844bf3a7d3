"""亩均效益 evaluation (SPEC §5) and the 低效用地 screen (§5.4).

Public API (wired by the lead into `landgis score` and `POST /scoring/efficiency`):
`load_policy`, `bundled_policies`, `DEFAULT_POLICY`, `normalize_enterprise_table`,
`score_enterprises` → `ScoringResult` (one year), `score_years` → `YearlyResult` (each year of a
table alone, with `consecutive_low` and the policy's `[[measures]]`), `find_inefficient_land`.

DEFAULT_POLICY is "henan_2019": the zone is a Henan 开发区 (formerly 产业集聚区), and Henan's
《产业集聚区企业分类综合评价办法》(2019) is the provincial scheme in force there (A/B/C,
A = 15 % re-sorted by 亩均税收 from the top half, C = 10 % re-sorted by 单位能耗 output from the
bottom half, 规下 firms from 5 亩; DOMAIN §1.4 [C]). Its indicator weights are not public, so
the bundled file marks them as assumptions; "zhejiang_huangyan_2022" reproduces a fully
published formula (黄岩区 2022, DOMAIN §1.2) for comparison and as a template.
"""

from parcels.efficiency.errors import (
    AdjustmentError,
    EfficiencyInputError,
    EnterpriseTableError,
    InefficientInputError,
    PolicyError,
)
from parcels.efficiency.columns import normalize_enterprise_table
from parcels.efficiency.policy import Policy, bundled_policies, load_policy, parse_policy_text, policy_from_dict
from parcels.efficiency.scoring import ScoringResult, score_enterprises
from parcels.efficiency.inefficient import find_inefficient_land
from parcels.efficiency.years import YearlyResult, score_years

DEFAULT_POLICY = "henan_2019"

__all__ = [
    "DEFAULT_POLICY",
    "AdjustmentError",
    "EfficiencyInputError",
    "EnterpriseTableError",
    "InefficientInputError",
    "Policy",
    "PolicyError",
    "ScoringResult",
    "YearlyResult",
    "bundled_policies",
    "find_inefficient_land",
    "load_policy",
    "normalize_enterprise_table",
    "parse_policy_text",
    "policy_from_dict",
    "score_enterprises",
    "score_years",
]
