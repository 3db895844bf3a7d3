"""Which supply method a land use allows (DOMAIN.md §10): one rule for the ledger and the reserve workflow.

划拨 only for what the 划拨用地目录 allows, never 工业/居住/商业 (《土地管理法》第五十四条);
经营性用地 (居住、商业) only by 出让 through 招标、拍卖、挂牌 (部令第39号). The texts officials type
vary (“挂牌”, “出让（挂牌）”, “挂牌出让”), so they are read into one canonical name first.
"""

from __future__ import annotations

from parcels.supply.rules import SupplyRules, load_supply_rules

CANONICAL_METHODS = ("招标出让", "拍卖出让", "挂牌出让", "协议出让", "出让", "划拨", "先租后让", "弹性年期出让", "长期租赁")
"""SPEC §4.2 供地方式: 出让 (招标/拍卖/挂牌/协议, or unspecified), 划拨, 先租后让, 弹性年期出让, 长期租赁."""


def canonical_method(text) -> str | None:
    """The canonical supply method of a typed text, None when empty; ValueError when unknown."""
    if text is None or (isinstance(text, float) and text != text):
        return None
    t = str(text).strip().replace("(", "（").replace(")", "）").replace(" ", "")
    if not t:
        return None
    if "划拨" in t:
        return "划拨"
    if "先租后让" in t:
        return "先租后让"
    if "弹性" in t:
        return "弹性年期出让"
    if "租赁" in t:
        return "长期租赁"
    for mode in ("招标", "拍卖", "挂牌", "协议"):
        if mode in t:
            return f"{mode}出让"
    if t in ("出让", "招拍挂", "招拍挂出让"):
        return "出让" if t == "出让" else None
    raise ValueError(f"“{text}”不是可识别的供地方式（可用：{'、'.join(CANONICAL_METHODS)}）")


def use_class(use, rules: SupplyRules | None = None) -> str:
    """"commercial" (居住/商业: 经营性用地), "industrial" (工业), or "other" for a land-use text."""
    rules = rules or load_supply_rules()
    t = "" if use is None or (isinstance(use, float) and use != use) else str(use)
    if any(w in t for w in rules.commercial_uses):
        return "commercial"
    if "工业" in t:
        return "industrial"
    return "other"


def method_error(use, method: str | None, rules: SupplyRules | None = None) -> str | None:
    """Why `method` may not supply land of `use` (Chinese, with the rule's source), or None when allowed."""
    rules = rules or load_supply_rules()
    if method is None:
        return None
    cls = use_class(use, rules)
    if method == "划拨" and cls != "other":
        return f"{use}用地不得以划拨方式供应（依据：{rules.allocation.source}）；请改为出让"
    if cls == "commercial" and method not in rules.competitive_methods:
        want = "、".join(rules.competitive_methods)
        extra = "（“出让”请注明招标、拍卖或挂牌）" if method == "出让" else ""
        return f"经营性用地（{use}）只能以招标、拍卖、挂牌方式出让，不能以“{method}”供应{extra}（依据：{rules.competitive.source}）；可用：{want}"
    return None
