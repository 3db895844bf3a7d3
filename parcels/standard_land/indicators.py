"""The 标准地 indicator keys of SPEC §6: names, units and how each is computed from a project.

One table, so that the rule loader can refuse a rule on an unknown key or in the wrong unit
(national tables give 投资强度 in 万元/公顷; mixing that with 万元/亩 is a fifteen-fold error) and
the check computes every indicator the same way. Names and units are not written here but read
from parcels/vocabulary.py, so a sheet, a check report and the 标准地 map label them alike and as
the 亩均效益 reports do (亩均税收 is one term everywhere).
"""

from __future__ import annotations

from dataclasses import dataclass

from parcels import vocabulary

PHASES = ("出让", "竣工", "达产")
"""Check phases: land supply (the project as proposed), completion inspection, production review."""

STATUSES = ("confirmed", "unverified", "sample")
"""Rule provenance marks of DOMAIN.md: confirmed in a cited source, recalled/inferred, demo value."""

STATUS_RANK = {"confirmed": 0, "unverified": 1, "sample": 2}
"""Lower is better sourced: on equal limits the better-sourced rule is the one shown as deciding."""

STATUS_LABELS = {
    "confirmed": "已核实",
    "unverified": "未核实",
    "sample": "示例值，需高新区确认",
}

OPS = (">=", "<=")
OP_SYMBOLS = {">=": "≥", "<=": "≤"}

USES = ("工业", "仓储", "居住")
STANDARD_LAND_USES = ("工业", "仓储")
"""标准地 applies to industrial land, and by the local guideline of DOMAIN §3.3 to warehousing."""


@dataclass(frozen=True)
class Indicator:
    """How a 标准地 indicator is computed and judged; its name and unit are the vocabulary's
    (parcels/vocabulary.py, 标准地 context), read when shown."""

    key: str
    inputs: tuple[str, ...]
    commit_op: str
    """Direction of a commitment given as a bare number (达产复核): a floor or a ceiling."""
    definition: str

    @property
    def name(self) -> str:
        return vocabulary.label(self.key, vocabulary.STANDARD_LAND)

    @property
    def unit(self) -> str:
        """The one unit a rule may state its limit in (the rule loader refuses any other)."""
        return vocabulary.unit(self.key)


INDICATORS: dict[str, Indicator] = {
    i.key: i
    for i in (
        Indicator("investment_intensity", ("fixed_asset_investment",), ">=",
                  "固定资产投资（含厂房、设备和地价款）÷ 用地面积(亩)"),
        Indicator("floor_area_ratio", ("total_floor_area_m2", "tall_floor_area_m2"), ">=",
                  "(总建筑面积 + 层高超过8米部分的建筑面积) ÷ 用地面积(m²)，层高超过8米的按两倍计"),
        Indicator("building_coverage", ("building_footprint_m2",), ">=",
                  "(建筑物 + 构筑物 + 堆场占地) ÷ 用地面积 × 100"),
        Indicator("office_living_share", ("office_living_land_m2",), "<=",
                  "行政办公及生活服务设施占地 ÷ 用地面积 × 100"),
        Indicator("green_ratio", ("green_area_m2",), "<=",
                  "绿地面积 ÷ 用地面积 × 100"),
        Indicator("tax_per_mu", ("expected_tax",), ">=",
                  "税收 ÷ 用地面积(亩)"),
        Indicator("revenue_per_mu", ("expected_revenue",), ">=",
                  "营业收入(产值) ÷ 用地面积(亩)"),
        Indicator("energy_per_va", ("expected_energy_tce", "expected_value_added"), "<=",
                  "综合能耗 ÷ 增加值"),
    )
}

INDICATOR_ORDER = {k: i for i, k in enumerate(INDICATORS)}


def unit_label(unit: str) -> str:
    """Unit as shown to officials; 容积率 has none."""
    return unit or "—"


def requirement_text(op: str, limit: float | None, unit: str) -> str:
    """“≥ 0.7”, “≤ 7 %”: the limit as an official reads it."""
    if limit is None:
        return "按行业确定"
    text = f"{OP_SYMBOLS.get(op, op)} {format_number(limit)}"
    return f"{text} {unit}" if unit else text


def format_number(v: float | None, digits: int = 4) -> str:
    """Numbers without float noise: 0.7, 30, 1.2346."""
    if v is None:
        return "—"
    out = f"{float(v):.{digits}f}".rstrip("0").rstrip(".")
    return "0" if out in ("-0", "") else out
