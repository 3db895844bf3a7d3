"""One vocabulary of the fields and indicators landgis shows: key, Chinese label, unit, precision.

Why: 亩均税收 and its unit 万元/亩 used to be written out in six modules (scoring, its XLSX
report, the 标准地 indicators, both maps, the schema), and one spelling drifting from another is
how an official ends up reading two names for one number. Reports, maps, sheets and schemas
look a term up here, at the moment they render, so changing a label here changes it everywhere
and a test can prove that nothing kept its own copy.

A term has one label. Where a context must deliberately say something else, the term carries a
named variant (`Term.variants`) instead of a second table elsewhere:

- `STANDARD_LAND`: on a 标准地 sheet `revenue_per_mu` is computed from 营业收入 *or* 产值 (the
  project input is “营业收入/产值”), so the sheet says 亩均产值/营业收入; the 亩均效益 evaluation
  divides 营业收入 only and says 亩均营业收入.
- `MAP`: the 亩均效益 map speaks of 类别 (its legend is “亩均效益类别”, A类 …), the XLSX report of
  等级 beside 初评等级/调档后等级.

Keys are the column / indicator keys the code already uses (policy and rule TOML `key`s,
enterprise table columns). `ALIASES` maps a few spellings an older map config used onto them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

STANDARD_LAND = "standard_land"
"""Context of the 标准地 check, sheet and map."""

MAP = "map"
"""Context of the 亩均效益 map's popups."""

CONTEXTS = (STANDARD_LAND, MAP)


@dataclass(frozen=True)
class Term:
    """A field or indicator as people read it.

    `label_zh` is the name without unit (亩均税收); `unit` is shown after it in headers
    (亩均税收(万元/亩)) and beside values in popups; `precision` is the number of decimals a
    popup shows (None = show as is, for text); `label_en` is a short English name for logs,
    the API's English summaries and developers. `variants` holds the context-specific labels
    explained in the module docstring, as (context, label) pairs so the term stays hashable.
    """

    key: str
    label_zh: str
    unit: str = ""
    precision: int | None = 2
    label_en: str = ""
    variants: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        for context, _ in self.variants:
            if context not in CONTEXTS:
                raise ValueError(f"{self.key}: unknown context {context!r}; known: {', '.join(CONTEXTS)}")

    def label_in(self, context: str | None = None) -> str:
        """The label in `context` (its variant if it has one, else `label_zh`)."""
        if context is not None and context not in CONTEXTS:
            raise ValueError(f"unknown context {context!r}; known: {', '.join(CONTEXTS)}")
        return dict(self.variants).get(context, self.label_zh) if context else self.label_zh

    def with_unit(self, context: str | None = None) -> str:
        """Header form, half-width parentheses as the enterprise tables use: 亩均税收(万元/亩)."""
        name = self.label_in(context)
        return f"{name}({self.unit})" if self.unit else name


_WAN_PER_MU = "万元/亩"

_TERMS: tuple[Term, ...] = (
    # --- identity and land of an enterprise / parcel ---------------------------------------
    Term("enterprise_id", "统一社会信用代码/企业编号", precision=None, label_en="Enterprise ID"),
    Term("name", "企业名称", precision=None, label_en="Enterprise name"),
    Term("above_scale", "是否规上", precision=None, label_en="Above designated size"),
    Term("parcel_id", "地块编号", precision=None, label_en="Parcel ID"),
    Term("park", "所在园区", precision=None, label_en="Park"),
    Term("district", "辖区", precision=None, label_en="District"),
    Term("industry", "产业", precision=None, label_en="Industry"),
    Term("industry_code", "行业代码", precision=None, label_en="Industry code (GB/T 4754)"),
    Term("high_tech", "是否高新技术企业", precision=None, label_en="High-tech enterprise"),
    Term("year", "年度", "", 0, "Year"),
    Term("land_area_mu", "用地面积", "亩", 2, "Land area"),
    Term("area_mu", "面积", "亩", 2, "Area"),
    Term("area_m2", "平面面积", "平方米", 2, "Plane area in the survey CRS (registered 宗地面积)"),
    Term("ellipsoid_area_m2", "椭球面积", "平方米", 2, "Ellipsoidal area (as 三调 reports)"),
    Term("rented_floor_m2", "租用厂房面积", "平方米", 2, "Rented floor area"),
    # --- economic data of an enterprise (SPEC §5.1) -----------------------------------------
    Term("tax", "实缴税收", "万元", 2, "Tax paid"),
    Term("revenue", "营业收入", "万元", 2, "Revenue"),
    Term("value_added", "工业增加值", "万元", 2, "Industrial value added"),
    Term("energy_tce", "综合能耗", "吨标准煤", 2, "Energy use"),
    Term("emission_eq", "主要污染物排放当量", "吨", 2, "Pollutant emissions"),
    Term("rd_expense", "研发经费支出", "万元", 2, "R&D expense"),
    Term("output_value", "工业总产值", "万元", 2, "Gross industrial output"),
    Term("profit", "利润总额", "万元", 2, "Total profit"),
    Term("electricity", "用电量", "万千瓦时", 2, "Electricity use"),
    Term("employees", "年平均职工人数", "", 0, "Employees"),
    # --- 亩均效益 indicators (SPEC §5.2; keys of parcels/policies/*.toml) ----------------------
    Term("tax_per_mu", "亩均税收", _WAN_PER_MU, 2, "Tax per mu"),
    Term("va_per_mu", "亩均增加值", _WAN_PER_MU, 2, "Value added per mu"),
    Term("revenue_per_mu", "亩均营业收入", _WAN_PER_MU, 2, "Revenue per mu",
         variants=((STANDARD_LAND, "亩均产值/营业收入"),)),
    Term("profit_per_mu", "亩均利润", _WAN_PER_MU, 2, "Profit per mu"),
    Term("output_per_mu", "亩均产值", _WAN_PER_MU, 2, "Output per mu"),
    Term("va_per_energy", "单位能耗增加值", "万元/吨标准煤", 2, "Value added per tce"),
    Term("revenue_per_energy", "单位能耗营业收入", "万元/吨标准煤", 2, "Revenue per tce"),
    Term("output_per_energy", "单位能耗总产值", "万元/吨标准煤", 2, "Gross output per tce"),
    Term("va_per_emission", "单位排放增加值", "万元/吨", 2, "Value added per t emission"),
    Term("labor_productivity", "全员劳动生产率", "万元/人", 2, "Labour productivity"),
    Term("rd_intensity", "研发经费投入强度", "%", 2, "R&D intensity"),
    Term("tax_per_electricity", "单位用电税收", "万元/万千瓦时", 2, "Tax per 10⁴ kWh"),
    # --- 标准地 control indicators (SPEC §6; keys of parcels/rules/*.toml) ----------------------
    Term("investment_intensity", "投资强度", _WAN_PER_MU, 2, "Investment intensity"),
    Term("floor_area_ratio", "容积率", "", 2, "Floor area ratio"),
    Term("building_coverage", "建筑系数", "%", 1, "Building coverage"),
    Term("office_living_share", "行政办公及生活服务设施用地所占比重", "%", 1, "Office and living land share"),
    Term("green_ratio", "绿地率", "%", 1, "Green ratio"),
    # Three decimals: limits such as 0.4 吨标准煤/万元 are met or missed in the third place.
    Term("energy_per_va", "单位增加值能耗", "吨标准煤/万元", 3, "Energy per value added"),
    # --- results of an evaluation -------------------------------------------------------------
    Term("total_score", "综合得分", "", 2, "Total score"),
    Term("rank", "排名", "", 0, "Rank"),
    Term("initial_class", "初评等级", precision=None, label_en="Initial class", variants=((MAP, "初评类别"),)),
    Term("class", "调档后等级", precision=None, label_en="Class", variants=((MAP, "评价类别"),)),
    Term("consecutive_low", "连续末档年数", "年", 0, "Consecutive years in the lowest class"),
    Term("measures", "差别化措施", precision=None, label_en="Differentiated measures"),
)

TERMS: dict[str, Term] = {t.key: t for t in _TERMS}
"""key → Term. Read at call time by every user, so one edit (or a test's monkeypatch) reaches all."""

ALIASES: Mapping[str, str] = MappingProxyType({
    # maps/efficiency.py once named these two differently from the policies that produce them.
    "value_added_per_mu": "va_per_mu",
    "emission_per_va": "va_per_emission",
})


def term(key: str) -> Term:
    """The term of `key` (or of its alias); KeyError naming the known keys otherwise."""
    t = TERMS.get(ALIASES.get(key, key))
    if t is None:
        raise KeyError(f"{key!r} is not in parcels.vocabulary; known: {', '.join(TERMS)}")
    return t


def known(key: str) -> bool:
    return ALIASES.get(key, key) in TERMS


def label(key: str, context: str | None = None) -> str:
    """亩均税收"""
    return term(key).label_in(context)


def unit(key: str) -> str:
    """万元/亩 ("" for a dimensionless term such as 容积率)."""
    return term(key).unit


def precision(key: str) -> int | None:
    return term(key).precision


def label_with_unit(key: str, context: str | None = None) -> str:
    """亩均税收(万元/亩); the bare label when the term has no unit."""
    return term(key).with_unit(context)


class Labels(Mapping[str, str]):
    """A read-only key → label table whose every lookup asks the vocabulary.

    For modules that hand a dict of labels to code they do not own (`.get(c, c)`, `rename`):
    a dict built at import would be a copy that can drift; this view cannot.
    """

    def __init__(self, keys: Iterable[str], *, with_unit: bool = False, context: str | None = None):
        self._keys = tuple(keys)
        for k in self._keys:
            term(k)  # an unknown key fails at import, not in front of an official
        self._with_unit = with_unit
        self._context = context

    def __getitem__(self, key: str) -> str:
        if key not in self._keys:
            raise KeyError(key)
        return label_with_unit(key, self._context) if self._with_unit else label(key, self._context)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"Labels({dict(self)!r})"
