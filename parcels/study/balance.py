"""Land balance of the expansion study (SPEC §7): industrial land demand in 亩 against supply.

The arithmetic is deliberately plain so that a planner can redo it with a calculator from the
table the package prints (every row says how it was computed):

    r0      = Σ enterprise revenue / L0                      baseline 亩均营业收入 (万元/亩)
    s       = Σ enterprise revenue / baseline 营业总收入      (or the scenario's share)
    rT      = r0 × (1 + g)^(T − B)                          亩均 after the assumed improvement
    R_ind   = target 营业总收入 × s                          revenue to be produced on industrial land
    L_eff   = L0 − L_ineff                                  existing land that keeps producing
    gap     = max(0, R_ind − L_eff × rT)
    D_rev   = gap / r_new                                   (r_new = rT unless the scenario says)
    D_ent   = max(0, N_target − N_base) × land per 规上 enterprise
    D_proj  = Σ land of the plan's named projects (专栏 3–8, parcels/study/data/named_projects.toml)
    D_inv   = Σ fixed-asset investment (表1, base → target, geometric) × industrial share ÷ 投资强度
    D       = max of the methods named in demand.decide_by (all four are reported side by side)
    reserve = Σ over counted reserve parcels (uses in scope, not supplied, outside 中关村) of the
              land not already existing industrial land (overlaps reported, counted once) × share
    zgc     = 中关村 可用用地 (专栏6, 21 600.3 亩) × industrial share (reserve parcels inside it included)
    supply  = reserve + zgc + L_ineff × recycle share
    need    = max(0, D − supply)                          net need, to come from the expansion
    gross   = need ÷ industrial share of expansion land   (roads, green and public land added)

低效用地 are counted as producing nothing useful at the target year (a conservative reading:
their output is what recycling is meant to replace); the report says so. Pure apart from
reading the bundled data it cites (the named-project list, the 标准地 rule set).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.errors import InputError, RowError
from parcels.study.demand import METHODS, DemandEstimate, Intensity, intensity_from_rules, investment_demand, load_named_projects, projects_demand
from parcels.study.scenario import Scenario

WAN_PER_YI = 10_000.0
"""1 亿元 = 10 000 万元."""
SUPPLIED_STATUSES = ("已供地", "已注销")
"""Reserve parcels in these states are no longer supply (already built on, or withdrawn)."""


STATUS_ZH = {"confirmed": "已核实（规划原文）", "computed": "计算值（表1与情景假设）", "sample": "示例值（sample，需确认）", "unverified": "未核实（unverified）"}


class BalanceInputError(InputError):
    """Data that cannot feed the land balance (missing column, no land, inconsistent share)."""


@dataclass(frozen=True)
class BalanceItem:
    key: str
    label: str
    value: float
    unit: str
    how: str


@dataclass
class LandBalance:
    items: list[BalanceItem]
    supply_by_use: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    demand: list[DemandEstimate] = field(default_factory=list)  # every method, side by side
    reserve: pd.DataFrame | None = None  # per reserve parcel: counted, overlap, inside 中关村

    @property
    def values(self) -> dict[str, float]:
        return {i.key: i.value for i in self.items}

    def __getitem__(self, key: str) -> float:
        return self.values[key]

    def table(self) -> pd.DataFrame:
        """The balance as a table with Chinese headers (the XLSX sheet and the report table)."""
        return pd.DataFrame(
            {
                "代码": [i.key for i in self.items],
                "项目": [i.label for i in self.items],
                "数值": [round(i.value, 4) for i in self.items],
                "单位": [i.unit for i in self.items],
                "计算方法与来源": [i.how for i in self.items],
            }
        )

    def to_dict(self) -> dict:
        return {
            "items": [i.__dict__ for i in self.items],
            "demand": [e.as_dict() for e in self.demand],
            "supply_by_use": self.supply_by_use.to_dict(orient="records"),
            "reserve_overlaps": [] if self.reserve is None else self.reserve[self.reserve["overlap_industrial_mu"] > 0][["id", "name", "overlap_industrial_mu"]].to_dict(orient="records"),
            "notes": list(self.notes),
        }

    def demand_table(self) -> pd.DataFrame:
        """The demand methods side by side (the XLSX sheet and the report table)."""
        return pd.DataFrame({
            "方法": [e.label for e in self.demand],
            "代码": [e.method for e in self.demand],
            "用地需求(亩)": [round(e.mu, 2) for e in self.demand],
            "决定净需求": ["是" if e.deciding else "否（对照）" for e in self.demand],
            "数据状态": [STATUS_ZH.get(e.status, e.status) for e in self.demand],
            "计算方法": [e.how for e in self.demand],
            "来源": [e.source for e in self.demand],
        })


def _numeric(frame: pd.DataFrame, col: str, layer: str, *, required: bool = True) -> np.ndarray:
    if col not in frame.columns:
        if required:
            raise BalanceInputError(f"{layer} 缺少字段 {col}，无法计算用地平衡。", hint=f"在 {layer} 图层中补上 {col} 后重试。")
        return np.full(len(frame), np.nan)
    values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan).copy()
    bad = np.isinf(values) | (values < 0)
    if bad.any():
        rows = [RowError(int(i) + 1, col, f"应为不小于 0 的数字，实际为 {frame[col].iloc[i]!r}") for i in np.flatnonzero(bad)]
        raise BalanceInputError(f"{layer} 的 {col} 有 {len(rows)} 个无效值。", rows)
    return values


def _area_mu(frame: pd.DataFrame, layer: str) -> np.ndarray:
    """area_mu where filled, else the plane (registered) area of the geometry in 亩; refuse rows with neither."""
    mu = _numeric(frame, "area_mu", layer, required=False)
    missing = np.isnan(mu)
    if missing.any() and "geometry" in frame.columns:
        from gis.crs import area_mu

        geoms = np.asarray(frame["geometry"].values, dtype=object)[missing]
        mu[missing] = area_mu(geoms)
        mu[missing & ~np.isfinite(mu)] = np.nan
    still = np.isnan(mu)
    if still.any():
        ids = frame["id"].astype(str).to_numpy() if "id" in frame.columns else [None] * len(frame)
        rows = [RowError(int(i) + 1, "area_mu", "缺少面积且无几何，无法计入用地平衡", feature_id=ids[i]) for i in np.flatnonzero(still)]
        raise BalanceInputError(f"{layer} 有 {len(rows)} 个地块没有面积。", rows, hint="补上 area_mu（亩）或几何。")
    return mu


def _bools(series: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.fillna(False).to_numpy(dtype=bool)
    return series.astype("str").str.strip().str.lower().isin({"true", "1", "是", "yes", "y", "t"}).to_numpy(dtype=bool)


def supply_by_use(reserve_parcels: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Table 2 reserve parcels grouped by use: count, area, and whether the scenario counts them."""
    if len(reserve_parcels) and "use" not in reserve_parcels.columns:
        raise BalanceInputError("reserve_parcels 缺少字段 use（用途），无法按用途汇总供给。")
    area = _area_mu(reserve_parcels, "reserve_parcels") if len(reserve_parcels) else np.zeros(0)
    status = reserve_parcels["status"].astype("str").to_numpy() if "status" in reserve_parcels.columns else np.full(len(reserve_parcels), "")
    available = ~np.isin(status, SUPPLIED_STATUSES)
    frame = pd.DataFrame(
        {
            "use": reserve_parcels["use"].astype("str").to_numpy() if len(reserve_parcels) else np.zeros(0, dtype=object),
            "area": area,
            "available": available,
            "avail_area": np.where(available, area, 0.0),
        }
    )
    g = frame.groupby("use", sort=True).agg(n=("area", "size"), area=("area", "sum"), n_avail=("available", "sum"), avail_area=("avail_area", "sum"))
    uses = set(scenario.assumptions.reserve_uses)
    return pd.DataFrame(
        {
            "用途": g.index.astype(str),
            "地块数": g["n"].to_numpy(dtype=int),
            "面积(亩)": g["area"].to_numpy(dtype=float),
            "未供地块数": g["n_avail"].to_numpy(dtype=int),
            "未供面积(亩)": g["avail_area"].to_numpy(dtype=float),
            "计入工业用地供给": np.where(g.index.isin(list(uses)), "是", "否"),
        }
    )


def land_balance(
    scenario: Scenario,
    *,
    industrial_parcels: pd.DataFrame,
    enterprises: pd.DataFrame,
    reserve_parcels: pd.DataFrame,
    inefficient: pd.DataFrame | None = None,
    candidates: pd.DataFrame | None = None,
    park_zones: pd.DataFrame | None = None,
) -> LandBalance:
    """Demand vs supply of industrial land at the scenario's target year (see the module doc).

    `inefficient`: the 低效用地 frame (`parcel_id`, `area_mu`), e.g. from
    `parcels.efficiency.find_inefficient_land`; None or empty = none known. `candidates`: ranked
    blocks (`area_mu`, `selected`), None before the suitability step.
    """
    a = scenario.assumptions
    notes: list[str] = []
    items: list[BalanceItem] = []

    def add(key: str, label: str, value: float, unit: str, how: str) -> float:
        items.append(BalanceItem(key, label, float(value), unit, how))
        return float(value)

    # --- baseline -----------------------------------------------------------------------
    land = _area_mu(industrial_parcels, "industrial_parcels")
    L0 = add("existing_land_mu", "现状工业用地", land.sum(), "亩", f"industrial_parcels 图层 {len(land)} 宗地面积合计")
    if L0 <= 0:
        raise BalanceInputError("现状工业用地面积为 0，无法计算亩均营业收入。", hint="先导入 industrial_parcels（工业用地宗地）。")
    revenue = _numeric(enterprises, "revenue", "enterprises")
    if np.isnan(revenue).any():
        notes.append(f"{int(np.isnan(revenue).sum())} 家企业缺少营业收入，按 0 计入合计。")
    R_ent = add("enterprise_revenue_wan", "工业企业营业收入合计（基期）", np.nansum(revenue), "万元", f"enterprises 图层 {len(revenue)} 家企业 revenue 合计")
    r0 = add("base_revenue_per_mu", "基期亩均营业收入", R_ent / L0, "万元/亩", "企业营业收入合计 ÷ 现状工业用地")

    base_rev = scenario.baseline["revenue_total_yi"]
    add("base_revenue_total_yi", "营业总收入（基期）", base_rev, "亿元", f"表1 {scenario.base_year} 年")
    if a.industrial_revenue_share is None:
        share = R_ent / (base_rev * WAN_PER_YI)
        how = "企业营业收入合计 ÷ 基期营业总收入（auto）"
        if share > 1:
            raise BalanceInputError(
                f"企业营业收入合计（{R_ent / WAN_PER_YI:.2f} 亿元）超过表1基期营业总收入（{base_rev:g} 亿元），无法自动推算工业用地收入占比。",
                [RowError(None, "assumptions.industrial_revenue_share", "请在情景文件中直接给出 0–1 之间的比例")],
            )
    else:
        share, how = a.industrial_revenue_share, "情景文件 assumptions.industrial_revenue_share"
    s = add("industrial_revenue_share", "工业用地营业收入占营业总收入比重", share, "", how)

    # --- demand -------------------------------------------------------------------------
    n_years = scenario.years
    g = a.revenue_per_mu_growth
    rT = add("target_revenue_per_mu", "目标年现状用地亩均营业收入", r0 * (1 + g) ** n_years, "万元/亩",
             f"基期亩均 × (1 + {g:g})^{n_years}（{scenario.base_year}→{scenario.target_year}）")
    target_rev = add("target_revenue_total_yi", "营业总收入目标", scenario.targets["revenue_total_yi"], "亿元", f"表1 {scenario.target_year} 年")
    R_ind = add("target_industrial_revenue_wan", "目标年工业用地营业收入", target_rev * WAN_PER_YI * s, "万元", "营业总收入目标 × 工业用地收入占比")

    ineff = inefficient if inefficient is not None else pd.DataFrame({"parcel_id": [], "area_mu": []})
    if len(ineff):
        if "parcel_id" in ineff.columns:
            ineff = ineff.drop_duplicates("parcel_id")
        ineff_area = _area_mu(ineff, "低效用地")
    else:
        ineff_area = np.zeros(0)
    L_ineff = add("inefficient_land_mu", "低效用地", ineff_area.sum(), "亩", f"低效用地筛查（SPEC §5.4）{len(ineff_area)} 宗")
    if L_ineff > L0 + 1e-9:
        notes.append("低效用地面积超过现状工业用地面积，请检查两图层是否一致；有效用地按 0 计。")
    L_eff = add("effective_land_mu", "现状有效工业用地", max(0.0, L0 - L_ineff), "亩", "现状工业用地 − 低效用地（低效用地按零有效产出计）")
    gap = add("revenue_gap_wan", "需新增用地承载的营业收入", max(0.0, R_ind - L_eff * rT), "万元", "目标年工业用地营业收入 − 现状有效用地 × 目标年亩均")
    if a.new_land_revenue_per_mu is None:
        r_new, how = rT, "= 目标年现状用地亩均（auto）"
    else:
        r_new, how = a.new_land_revenue_per_mu, "情景文件 assumptions.new_land_revenue_per_mu"
    r_new = add("new_land_revenue_per_mu", "新供工业用地亩均营业收入", r_new, "万元/亩", how)
    D_rev = add("demand_by_revenue_mu", "用地需求（按营业收入目标）", gap / r_new, "亩", "需新增承载的营业收入 ÷ 新供用地亩均")

    n_base = scenario.baseline["above_scale_enterprises"]
    n_target = scenario.targets["above_scale_enterprises"]
    new_ent = add("new_above_scale_enterprises", "新增规上工业企业", max(0.0, n_target - n_base), "家", f"表1：{n_target:g} − {n_base:g}")
    if a.land_per_new_enterprise_mu is None:
        above = _bools(enterprises["above_scale"]) if "above_scale" in enterprises.columns else np.zeros(len(enterprises), dtype=bool)
        ent_land = _numeric(enterprises, "land_area_mu", "enterprises", required=False)
        ok = above & np.isfinite(ent_land) & (ent_land > 0)
        if not ok.any():
            raise BalanceInputError(
                "企业图层中没有带用地面积的规上企业，无法推算每家新增企业用地。",
                [RowError(None, "assumptions.land_per_new_enterprise_mu", "请在情景文件中给出每家新增规上企业用地（亩/家）")],
            )
        per, how = ent_land[ok].mean(), f"现状 {int(ok.sum())} 家有用地的规上企业平均用地（auto）"
    else:
        per, how = a.land_per_new_enterprise_mu, "情景文件 assumptions.land_per_new_enterprise_mu"
    per = add("land_per_new_enterprise_mu", "每家新增规上企业用地", per, "亩/家", how)
    D_ent = add("demand_by_enterprises_mu", "用地需求（按新增规上企业）", new_ent * per, "亩", "新增规上企业 × 每家用地")
    estimates = [
        DemandEstimate("revenue", METHODS["revenue"], D_rev, f"需新增承载的营业收入 {gap:,.0f} 万元 ÷ 新供用地亩均 {r_new:,.2f} 万元/亩（表1 营业总收入目标；亩均提升等为情景假设）", "computed", "表1；情景文件 assumptions"),
        projects_demand(*load_named_projects()),
        _investment_estimate(scenario, notes),
        DemandEstimate("enterprises", METHODS["enterprises"], D_ent, f"新增规上工业企业 {new_ent:g} 家 × 每家 {per:,.2f} 亩", "computed", "表1；企业图层"),
    ]
    estimates = [e for e in estimates if e is not None]
    deciding = [e for e in estimates if e.method in scenario.demand.decide_by]
    estimates = [DemandEstimate(**{**e.__dict__, "deciding": e.method in scenario.demand.decide_by}) for e in estimates]
    for e in estimates:
        if e.deciding and e.status in ("sample", "unverified"):
            notes.append(f"需求口径“{e.label}”使用{'示例值' if e.status == 'sample' else '未核实值'}（status = {e.status}），因情景文件 demand.decide_by 点名而参与决定净需求。")
    if not deciding:
        raise BalanceInputError("情景文件 demand.decide_by 所列方法均无法计算，无法确定用地需求。")
    top = max(deciding, key=lambda e: e.mu)
    D = add("demand_mu", "工业用地需求（决定口径）", top.mu, "亩",
            f"{'、'.join(e.label for e in deciding)} 中取较大者：{top.label}（其余方法见需求对照表）")

    # --- supply: each piece of land counted once ---------------------------------------------
    by_use = supply_by_use(reserve_parcels, scenario)
    counted_uses = set(a.reserve_uses)
    reserve_rows = _reserve_rows(reserve_parcels, industrial_parcels, park_zones, scenario)
    counted = reserve_rows[reserve_rows["counted"]]
    reserve_gross = float(counted["area_mu"].sum())
    overlap = float(counted["overlap_industrial_mu"].sum())
    in_zgc = float(counted.loc[counted["in_zhongguancun"], "net_mu"].sum())
    reserve_net = float(counted.loc[~counted["in_zhongguancun"], "net_mu"].sum())
    add("reserve_overlap_industrial_mu", "储备地块与现状工业用地重叠（只计一次）", overlap, "亩",
        f"用途为{'、'.join(counted_uses)}且未供的储备地块与 industrial_parcels 重叠的面积：已计入现状工业用地，不再计入供给")
    reserve = add("reserve_supply_mu", "表2储备地块供给（扣除重叠，中关村以外）", reserve_net * a.reserve_supply_share, "亩",
                  f"未供储备地块 {reserve_gross:,.2f} 亩 − 重叠 {overlap:,.2f} 亩 − 位于{scenario.supply.zhongguancun_park}内 {in_zgc:,.2f} 亩，× 可供比例 {a.reserve_supply_share:g}")
    sup = scenario.supply
    zgc_total = sup.zhongguancun_available_mu * sup.zhongguancun_industrial_share
    zgc = add("zhongguancun_supply_mu", "中关村可用用地中的工业用地供给", zgc_total, "亩",
              f"专栏6“全区域可用用地 {sup.zhongguancun_available_mu:g} 亩” × 情景工业用地比例 {sup.zhongguancun_industrial_share:g}"
              f"（其中含位于园区内的储备地块 {in_zgc:,.2f} 亩，不另计）")
    if in_zgc > zgc_total + 1e-9:
        notes.append(f"位于{sup.zhongguancun_park}内的储备地块（{in_zgc:,.0f} 亩）超过中关村工业用地供给（{zgc_total:,.0f} 亩）：按储备地块面积计。")
        zgc = in_zgc
        items[-1] = BalanceItem("zhongguancun_supply_mu", "中关村可用用地中的工业用地供给", zgc, "亩", items[-1].how + "；不足园区内储备地块，按储备地块计")
    recycled = add("recycled_supply_mu", "低效用地盘活供给", L_ineff * a.inefficient_recycle_share, "亩", f"低效用地 × 盘活比例 {a.inefficient_recycle_share:g}")
    planned = add("planned_supply_mu", "存量与储备供给合计", reserve + zgc + recycled, "亩", "储备地块 + 中关村工业用地 + 低效用地盘活（每块地只计一次）")
    need = add("expansion_need_mu", "需由扩区解决的工业用地（净需求）", max(0.0, D - planned), "亩", "工业用地需求 − 存量与储备供给（不足 0 计 0）")
    add("expansion_need_gross_mu", "需由扩区解决的用地（毛面积）", need / a.expansion_industrial_share, "亩",
        f"净需求 ÷ 扩区工业用地比例 {a.expansion_industrial_share:g}（其余为道路、绿地与公共设施用地）")
    plan_target = scenario.suitability.expansion_target_km2
    add("plan_expansion_target_mu", "规划扩区面积（专栏9）", plan_target * 1500.0, "亩", f"专栏9“规划扩展 {plan_target:g} 平方公里”× 1500 亩/平方公里（对照用，不作为推荐面积的依据）")

    if candidates is not None and len(candidates):
        c_area = _numeric(candidates, "area_mu", "候选地块")
        sel = _bools(candidates["selected"]) if "selected" in candidates.columns else np.ones(len(candidates), dtype=bool)
        add("candidate_area_mu", "扩区候选地块面积（全部）", c_area.sum(), "亩", f"适宜性分析得到的 {len(c_area)} 个候选地块")
        sel_area = add("selected_area_mu", "推荐扩区用地面积", c_area[sel].sum(), "亩", f"推荐的 {int(sel.sum())} 个候选单位中可建设、与辖区相连的用地")
        exp = add("expansion_supply_mu", "扩区工业用地供给", sel_area * a.expansion_industrial_share, "亩", f"推荐扩区用地 × 工业用地比例 {a.expansion_industrial_share:g}")
        add("balance_mu", "供需差额（供给 − 需求）", planned + exp - D, "亩", "存量与储备供给 + 扩区工业用地供给 − 工业用地需求；负数为缺口")
    else:
        add("balance_mu", "供需差额（供给 − 需求，未含扩区）", planned - D, "亩", "存量与储备供给 − 工业用地需求；负数为缺口")
    return LandBalance(items=items, supply_by_use=by_use, notes=notes, demand=estimates, reserve=reserve_rows)


def _investment_estimate(scenario: Scenario, notes: list[str]) -> DemandEstimate | None:
    d = scenario.demand
    base = scenario.baseline.get("fixed_asset_investment_yi")
    target = scenario.targets.get("fixed_asset_investment_yi")
    if base is None or target is None:
        notes.append("情景文件未给出基期与目标年固定资产投资，未按投资强度测算需求。")
        return None
    if d.intensity_wan_per_mu is not None:
        intensity = Intensity(d.intensity_wan_per_mu, d.intensity_status, d.intensity_source)
    else:
        intensity = intensity_from_rules(d.intensity_rules)
    return investment_demand(base, target, scenario.years, d.investment_industrial_share, intensity, scenario.base_year, scenario.target_year)


def _reserve_rows(reserve: pd.DataFrame, industrial: pd.DataFrame, parks: pd.DataFrame | None, scenario: Scenario) -> pd.DataFrame:
    """Each reserve parcel: counted or not, its overlap with existing industrial land, inside 中关村 or not.

    Overlaps are measured on the geometries (EPSG:4546) when both layers have them; a parcel
    overlapping existing industrial land contributes only the part outside it, so that no piece
    of land is both existing land and supply. Reserve parcels overlapping each other count once too.
    """
    n = len(reserve)
    area = _area_mu(reserve, "reserve_parcels") if n else np.zeros(0)
    status = reserve["status"].astype("str").to_numpy() if "status" in reserve.columns else np.full(n, "")
    uses = reserve["use"].astype("str").to_numpy() if "use" in reserve.columns else np.full(n, "")
    counted = ~np.isin(status, SUPPLIED_STATUSES) & np.isin(uses, list(scenario.assumptions.reserve_uses))
    overlap = np.zeros(n)
    net = area.copy()
    in_zgc = np.zeros(n, dtype=bool)
    geoms = _geoms(reserve)
    if geoms is not None and n:
        from gis.crs import area_mu as plane_mu

        ind = _geoms(industrial)
        taken = shapely.union_all(ind) if ind is not None and len(ind) else shapely.Polygon()
        for i in np.argsort(reserve["id"].astype(str).to_numpy()) if "id" in reserve.columns else range(n):
            if not counted[i] or geoms[i] is None:
                continue
            g = shapely.make_valid(geoms[i])
            full = float(plane_mu([g])[0])
            scale = area[i] / full if full > 0 else 1.0  # keep the layer's own area figures
            overlap[i] = float(plane_mu([shapely.intersection(g, taken)])[0]) * scale if not taken.is_empty else 0.0
            rest = shapely.difference(g, taken) if not taken.is_empty else g
            net[i] = float(plane_mu([rest])[0]) * scale
            taken = shapely.union(taken, g)  # a later parcel overlapping this one counts once too
        park_geom = _park(parks, scenario.supply.zhongguancun_park)
        if park_geom is not None:
            inside = np.array([float(plane_mu([shapely.intersection(shapely.make_valid(g), park_geom)])[0]) if g is not None else 0.0 for g in geoms])
            full = np.array([float(plane_mu([shapely.make_valid(g)])[0]) if g is not None else 0.0 for g in geoms])
            in_zgc = inside > 0.5 * np.maximum(full, 1e-9)
    frame = pd.DataFrame({
        "id": reserve["id"].astype(str).to_numpy() if "id" in reserve.columns else [str(i + 1) for i in range(n)],
        "name": reserve["name"].astype(str).to_numpy() if "name" in reserve.columns else [""] * n,
        "use": uses, "status": status, "area_mu": area, "counted": counted,
        "overlap_industrial_mu": np.where(counted, overlap, 0.0),
        "net_mu": np.where(counted, net, 0.0), "in_zhongguancun": in_zgc & counted,
    })
    return frame


def _geoms(frame: pd.DataFrame | None) -> np.ndarray | None:
    if frame is None or not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        return None
    return np.asarray(frame.geometry.values, dtype=object)


def _park(parks: pd.DataFrame | None, name: str):
    g = _geoms(parks)
    if g is None or "name" not in parks.columns:
        return None
    hit = parks["name"].astype(str).to_numpy() == name
    return shapely.union_all(g[hit]) if hit.any() else None
