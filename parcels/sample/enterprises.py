"""The calibrated synthetic enterprise set shipped as sample data (SPEC §3.4).

No real enterprise data of the zone is public, yet 亩均效益 scoring (§5), 低效用地 (§5.4) and the
expansion study (§7) need enterprises on industrial land to show anything. This module invents
them, openly: every row says it is synthetic, every id and name is visibly fake, and the totals
are tied to the figures the zone itself published for 2020 in 《南阳高新区“十四五”规划》, so the
zone-level aggregates an official sees are the real ones while no single row is.

How the numbers are made (an official can redo every step by hand; 万元 unless said):

1. Random numbers: one numpy Generator per step, all spawned from ``SeedSequence(seed)``
   (default seed 2020), so the same seed always gives identical tables, and drawing more
   below-scale rows changes no 规上 figure except R&D (step 9) and the land layout.
2. Industries (plan chapter 四: 防爆装备 主导, 数字光电 新兴, 中医药 特色, 生产性服务业 配套), with
   GB/T 4754-2017 divisions: 防爆装备 → 38 电气机械和器材制造业 (防爆电机, most rows), 34 通用设备,
   35 专用设备 (石油机械), 36 汽车制造业 (专用车); 数字光电 → 40 仪器仪表制造业 (光学镜头、镜片),
   39 计算机、通信和其他电子设备制造业 (模组、显示); 中医药 → 27 医药制造业; 生产性服务业 → 59
   装卸搬运和仓储业, 60 邮政业 (快递分拣). See ``INDUSTRIES``.
3. The 77 规上 (above-scale) industrial enterprises: 34 防爆装备 (the biggest group by count and
   by land: 防爆电气产业园 has "近 30 家电气装备配套企业"), 30 数字光电, 13 中医药. Their 工业总产值
   is split 52 % 数字光电 (the plan: "光电产业产值突破 100 亿元"), 40 % 防爆装备 (防爆 "总收入 50
   亿元" plus 专用车 and 石油装备), 8 % 中医药. 生产性服务业 firms are not industrial enterprises, so
   they cannot be part of 规上工业 totals; they appear among the 规下 rows as users of industrial
   land. 34 of the 77 are 高新技术企业 (with 7 of the 规下 rows, 41 in all = Table 1, 2020).
4. 工业总产值: each (industry, high-tech yes/no) cell gets a fixed part of 1 986 000 (198.6 亿元),
   chosen so that the high-tech cells hold 82.28 % of it; inside a cell every firm gets 2 300
   plus a log-normal share of the rest. Rounded to 0.01 so the 77 values sum to 1 986 000.00.
5. 工业增加值 = 总产值 × a ratio drawn in 10–15 %, then rescaled so that the high-tech firms sum to
   199 200 (19.92 亿元) and the others to 42 900: Σ = 242 100 (24.21 亿元), share 82.28 %.
6. 综合能耗 = 增加值 × an industry intensity (防爆 1.9, 光电 1.1, 中医药 0.9 吨标准煤/万元, ±35 %),
   rescaled to Σ = 1.41 × 242 100 = 341 361 吨标准煤, so Σ能耗 / Σ增加值 = 1.41 (Table 1).
7. Not calibrated (plausible only): 营业收入 = 总产值 × 0.93–1.04 (≥ 2 000, the 规上 threshold);
   实缴税收 = 营业收入 × 3–8 %; 利润 = 营业收入 × N(6.5 %, 3.5 %) (a few are losses); 用电量 =
   能耗 × 35–80 % / 1.229 吨标准煤/万千瓦时; 排放当量 = 增加值 / ~4 500; 职工 = 增加值 / ~25 万元/人.
8. ``n_below_scale`` 规下 rows (default 120), NOT calibrated to any plan total (the plan gives
   none): 营业收入 log-normal around 700, below 2 000; 生产性服务业 rows have no 工业总产值
   or 工业增加值 (left empty); a few rows have no 排放当量 (left empty on purpose, to exercise the
   scorer's missing-data rule).
9. R&D: 研发经费 = 营业收入 × 3–7 % (high-tech) or 0.5–2.5 % (others; half of the small non-high-
   tech firms spend nothing), then rescaled over ALL rows to 5.8 % × 1 142 100 (GDP 114.21 亿元)
   = 66 241.80: Table 1 gives R&D for the whole zone and the sample credits all of it to these
   firms.
10. Land: each firm needs 实缴税收 ÷ a drawn 亩均税收 (规上 medians 防爆 12, 光电 22, 中医药 15;
    规下 5 万元/亩) of land, clipped to 20–300 亩 (规上) or 3.5–30 亩 (规下). The two firms needing
    most land get two adjacent parcels (up to 560 亩 together; SPEC §5.1: areas summed). Some 规下 firms (and
    one 规上) share one parcel: in one group the shares are written in ``land_area_mu``, in the
    others it is left empty so the scorer splits equally. Six firms (one 规上) rent factory floor
    (``rented_floor_m2``) and have no parcel. Four parcels are idle (闲置) with no enterprise.
    Land is drawn, not calibrated: the plan gives no 工业用地 total for these firms.
11. Parcels are rectangles laid out biggest first, each in the free spot nearest the centre of
    a park whose leading industry matches (光电产业园 ← 数字光电, 防爆电气/机械装备产业园 ← 防爆装备,
    中医药 parks ← 中医药, 科技产业园/冷链物流 ← 生产性服务业; the park drawn in proportion to its free
    room; any park when those are full), so each park holds one compact estate, with 20 m roads
    between parcels; corners are then moved inward by up to 4 % (≤ 6 m). Areas are the plane
    (``gis.crs.plane_area_m2``, the registered plane area). 容积率 and 建筑系数 are drawn per industry, a few low on purpose
    (低效用地 candidates). Tenants stand on free ground at the edge of their park's estate. 辖区
    follows the park (a ``district`` column on the parks wins; else a keyword table, schematic).

Every row carries ``geometry_source = "schematic"`` and ``data_source = DATA_SOURCE``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.crs import MEASURE_EPSG, STORE_EPSG, ellipsoid_area_m2, m2_to_mu, plane_area_m2, reproject, to_measure
from parcels.schema import ENTERPRISES, INDUSTRIAL_PARCELS

__all__ = [
    "DATA_SOURCE",
    "INDUSTRIES",
    "METHOD_ZH",
    "SampleDataError",
    "generate_enterprises",
]

DATA_SOURCE = "合成样例数据（种子 2020），按《南阳高新区“十四五”规划》2020年指标校准；非真实企业"
GEOMETRY_SOURCE = "schematic"
YEAR = 2020

# --- the plan's 2020 figures (chapter 一 and Table 1); 万元 unless said ----------------------
N_ABOVE_SCALE = 77
OUTPUT_VALUE = 1_986_000.0  # 规上工业总产值 198.6 亿元
VALUE_ADDED = 242_100.0  # 规上工业增加值 24.21 亿元
HIGH_TECH_VALUE_ADDED = 199_200.0  # 高新技术产业增加值 19.92 亿元 (82.28 %)
ENERGY_PER_VALUE_ADDED = 1.41  # 规上工业企业单位增加值综合能耗, 吨标准煤/万元
GDP = 1_142_100.0  # 地区生产总值 114.21 亿元
RD_SHARE_OF_GDP = 0.058  # 社会研发经费投入占 GDP 比重 5.8 %
RD_EXPENSE = round(GDP * RD_SHARE_OF_GDP, 2)  # 66 241.80

HIGH_TECH_SHARE = HIGH_TECH_VALUE_ADDED / VALUE_ADDED
ABOVE_SCALE_MIN_REVENUE = 2000.0  # 规上工业: 主营业务收入 2000 万元及以上
TCE_PER_10K_KWH = 1.229  # 电力折标准煤系数 (当量值), 吨标准煤/万千瓦时
BELOW_SCALE_TAX_PER_MU = 5.0  # median 亩均税收 of 规下 firms, 万元/亩 (before the 3.5–30 亩 clip)
N_HIGH_TECH_BELOW = 7  # with 34 规上, 41 高新技术企业 (Table 1, 2020), at n_below_scale = 120

# Layout of the schematic parcels (EPSG:4546 metres).
CELL_M = 10.0  # placement grid
GAP_CELLS = 2  # 20 m of road/setback between parcels, ≥ 10 m to the park edge
M2_PER_MU = 10000.0 / 15.0

ID_PREFIX = "91411300SYN"  # 91 = 企业, 411300 = 南阳市; "SYN" cannot occur in a real code


class SampleDataError(ValueError):
    """The synthetic set cannot be made from the given input; the message says why in Chinese."""


@dataclass(frozen=True)
class Industry:
    """How one of the plan's industries is drawn. Why each number: see the module docstring."""

    name: str
    codes: tuple[tuple[str, float], ...]  # GB/T 4754-2017 division, probability
    above_count: int  # of the 77 规上
    output_share: float  # of 规上工业总产值
    above_high_tech: int  # 高新技术企业 among its 规上 rows
    non_high_tech_output: float  # share of the industry's output made by its non-high-tech firms
    below_share: float  # of the 规下 rows
    tax_per_mu: float  # median 亩均税收 of its 规上 firms, 万元/亩
    energy_per_va: float  # median 吨标准煤/万元 before the 1.41 rescale
    far: tuple[float, float]  # 容积率 range of its parcels
    keywords: tuple[str, ...] = field(default=())  # matched in a park's leading_industry / name
    manufacturing: bool = True


INDUSTRIES: tuple[Industry, ...] = (
    Industry(
        "防爆装备", (("38", 0.6), ("34", 0.15), ("35", 0.15), ("36", 0.10)),
        above_count=34, output_share=0.40, above_high_tech=13, non_high_tech_output=0.25,
        below_share=0.42, tax_per_mu=12.0, energy_per_va=1.9, far=(0.7, 1.4),
        keywords=("防爆", "机械装备", "装备", "电机", "电驱", "机电", "欧洲工业园", "数控", "特种车"),
    ),
    Industry(
        "数字光电", (("40", 0.5), ("39", 0.5)),
        above_count=30, output_share=0.52, above_high_tech=16, non_high_tech_output=0.10,
        below_share=0.28, tax_per_mu=22.0, energy_per_va=1.1, far=(1.0, 2.2),
        keywords=("光电", "光学", "半导体", "显示", "镀膜", "镀邦", "电子信息", "机器视觉", "信创"),
    ),
    Industry(
        "中医药", (("27", 1.0),),
        above_count=13, output_share=0.08, above_high_tech=5, non_high_tech_output=0.35,
        below_share=0.15, tax_per_mu=15.0, energy_per_va=0.9, far=(0.8, 1.6),
        keywords=("中医药", "医药", "生物", "艾"),
    ),
    Industry(
        "生产性服务业", (("59", 0.75), ("60", 0.25)),
        above_count=0, output_share=0.0, above_high_tech=0, non_high_tech_output=1.0,
        below_share=0.15, tax_per_mu=6.0, energy_per_va=0.0, far=(0.8, 1.5),
        # not a bare "物流": 数控装备制造项目 makes 智能物流装备, which is manufacturing
        keywords=("智慧物流", "数字物流", "物流园", "物流产业园", "仓储", "冷链", "科技产业园", "生产性服务",
                  "电子商务", "数字产业"),
        manufacturing=False,
    ),
)

# 辖区 of a park when the parks carry no `district`: schematic, from the plan's Table 2 (防爆 and
# 中光学 land lies in 百里奚街道 on 信臣路; 中关村 is its own 辖区) and DOMAIN.md §C. First match wins.
DISTRICT_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("中关村", "中关村"), ("镀邦", "中关村"), ("冷链", "中关村"), ("科技产业园", "中关村"),
    ("中医药", "中关村"), ("半导体", "中关村"), ("光电", "百里奚街道"), ("防爆", "百里奚街道"),
    ("机械装备", "百里奚街道"), ("欧洲工业园", "百里奚街道"),
)
DEFAULT_DISTRICT = "张衡街道"

METHOD_ZH: tuple[str, ...] = (
    "本样例企业数据为合成数据，非真实企业；名称、编号均为示例。",
    "随机数：以种子（默认 2020）生成，同一种子结果完全相同。",
    "规上工业企业 77 家：防爆装备 34 家、数字光电 30 家、中医药 13 家；其中高新技术企业 34 家。",
    "行业代码（GB/T 4754-2017）：防爆装备 38/34/35/36，数字光电 40/39，中医药 27，生产性服务业 59/60。",
    "规上工业总产值合计 198.6 亿元（数字光电 52%、防爆装备 40%、中医药 8%），高新技术企业占 82.28%。",
    "规上工业增加值合计 24.21 亿元，其中高新技术企业 19.92 亿元（82.28%）。",
    "综合能耗按单位增加值综合能耗 1.41 吨标准煤/万元校准：合计 341 361 吨标准煤。",
    "研发经费合计 = 地区生产总值 114.21 亿元 × 5.8% = 6.62418 亿元，按全部样例企业校准。",
    "规下企业（默认 120 家）未按规划总量校准；生产性服务业企业无工业总产值、工业增加值；少数企业排放当量空缺。",
    "营业收入、税收、利润、用电量、排放当量、职工人数仅按常见比例生成，不对应规划数据。",
    "用地：按税收 ÷ 亩均税收估算用地面积，在主导产业相符的园区内示意布设宗地（地块间留 20 米道路），几何为示意。",
)


# --- small numeric helpers --------------------------------------------------------------------


def _round_to_total(values: np.ndarray, total: float, decimals: int = 2) -> np.ndarray:
    """Round to `decimals` so that the rounded values sum to `total` exactly (largest remainder).

    Plain rounding of 77 values drifts by a few cents from the target; the calibration promises
    the plan's figure to 0.01 万元, so the leftover cents go to the values that lost most.
    """
    values = np.asarray(values, dtype=float)
    scale = 10**decimals
    target = int(round(total * scale))
    raw = values * scale
    base = np.floor(raw).astype(np.int64)
    diff = int(target - base.sum())
    if diff >= 0:
        order = np.argsort(-(raw - base), kind="stable")
        base[np.resize(order, diff)] += 1  # diff < len(values) unless values were far off
    else:
        order = np.argsort(raw - base, kind="stable")
        order = order[base[order] > 0]
        base[np.resize(order, -diff)] -= 1
    return base / scale


def _split_total(rng: np.random.Generator, total: float, n: int, floor: float, sigma: float) -> np.ndarray:
    """n positive sizes summing to `total`, each ≥ `floor`, skewed like real firm sizes."""
    if n == 0:
        return np.zeros(0)
    w = rng.lognormal(0.0, sigma, n)
    return floor + (total - n * floor) * w / w.sum()


def _counts_by_share(shares: np.ndarray, n: int) -> np.ndarray:
    """Integer counts summing to n in the given proportions (largest remainder)."""
    raw = np.asarray(shares, dtype=float) / np.sum(shares) * n
    counts = np.floor(raw).astype(int)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts


def _pick_codes(rng: np.random.Generator, ind: Industry, n: int) -> np.ndarray:
    codes = np.array([c for c, _ in ind.codes], dtype=object)
    p = np.array([w for _, w in ind.codes], dtype=float)
    return rng.choice(codes, size=n, p=p / p.sum()) if n else np.zeros(0, dtype=object)


# --- economic figures -------------------------------------------------------------------------


def _above_scale(rng: np.random.Generator) -> pd.DataFrame:
    """The 77 规上 rows with output, value added and energy calibrated to the plan (steps 3–7)."""
    inds = [i for i in INDUSTRIES if i.above_count]
    totals = np.array([OUTPUT_VALUE * i.output_share for i in inds])
    # Non-high-tech output per industry, scaled by one common factor so that high-tech firms
    # make exactly HIGH_TECH_SHARE of the output (then their value added share is ≈ the same).
    base_non_ht = totals * np.array([i.non_high_tech_output for i in inds])
    non_ht = base_non_ht * ((1 - HIGH_TECH_SHARE) * OUTPUT_VALUE / base_non_ht.sum())
    frames = []
    for ind, total, nht in zip(inds, totals, non_ht, strict=True):
        n_ht = ind.above_high_tech
        n_other = ind.above_count - n_ht
        out = np.concatenate([
            _split_total(rng, total - nht, n_ht, 2300.0, 1.0),
            _split_total(rng, nht, n_other, 2300.0, 0.7),
        ])
        frames.append(pd.DataFrame({
            "industry": ind.name,
            "industry_code": _pick_codes(rng, ind, ind.above_count),
            "high_tech": np.r_[np.ones(n_ht, bool), np.zeros(n_other, bool)],
            "output_raw": out,
            "energy_median": ind.energy_per_va,
            "tax_per_mu_median": ind.tax_per_mu,
        }))
    df = pd.concat(frames, ignore_index=True)
    n = len(df)
    ht = df["high_tech"].to_numpy()

    output = _round_to_total(df["output_raw"].to_numpy(), OUTPUT_VALUE)
    va_raw = output * rng.uniform(0.10, 0.15, n)
    va = np.empty(n)
    va[ht] = _round_to_total(va_raw[ht] * HIGH_TECH_VALUE_ADDED / va_raw[ht].sum(), HIGH_TECH_VALUE_ADDED)
    other_va = VALUE_ADDED - HIGH_TECH_VALUE_ADDED
    va[~ht] = _round_to_total(va_raw[~ht] * other_va / va_raw[~ht].sum(), other_va)
    energy_total = round(ENERGY_PER_VALUE_ADDED * VALUE_ADDED, 2)
    e_raw = va * df["energy_median"].to_numpy() * rng.lognormal(0.0, 0.35, n)
    energy = _round_to_total(e_raw * energy_total / e_raw.sum(), energy_total)

    revenue = np.maximum(np.round(output * rng.uniform(0.93, 1.04, n), 2), ABOVE_SCALE_MIN_REVENUE)
    tax = np.round(revenue * rng.uniform(0.03, 0.08, n), 2)
    rd_rate = np.where(ht, rng.uniform(0.03, 0.07, n), rng.uniform(0.005, 0.025, n))
    return pd.DataFrame({
        "above_scale": True,
        "industry": df["industry"],
        "industry_code": df["industry_code"].astype(str),
        "manufacturing": True,
        "high_tech": ht,
        "output_value": output,
        "revenue": revenue,
        "value_added": va,
        "energy_tce": energy,
        "tax": tax,
        "profit": np.round(revenue * rng.normal(0.065, 0.035, n), 2),
        "electricity": np.round(energy * rng.uniform(0.35, 0.80, n) / TCE_PER_10K_KWH, 2),
        "emission_eq": np.round(va * rng.lognormal(np.log(1 / 4500), 0.6, n), 3),
        "employees": np.maximum(20, np.round(va / rng.lognormal(np.log(25.0), 0.35, n))).astype(np.int64),
        "rd_raw": revenue * rd_rate,
        # up to 560 亩: the largest firms get two parcels (see _assign_roles); single parcels ≤ 300
        "land_need_mu": np.clip(tax / (df["tax_per_mu_median"].to_numpy() * rng.lognormal(0, 0.35, n)), 20, 560),
    })


def _below_scale(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """The 规下 rows: plausible, not calibrated (step 8)."""
    counts = _counts_by_share(np.array([i.below_share for i in INDUSTRIES]), n)
    ind_of = np.repeat(np.arange(len(INDUSTRIES)), counts)
    industry = np.array([INDUSTRIES[k].name for k in ind_of], dtype=object)
    codes = np.empty(n, dtype=object)
    for k, ind in enumerate(INDUSTRIES):
        codes[ind_of == k] = _pick_codes(rng, ind, int(counts[k]))
    manuf = np.array([INDUSTRIES[k].manufacturing for k in ind_of], dtype=bool)
    e_med = np.array([INDUSTRIES[k].energy_per_va for k in ind_of])

    revenue = rng.lognormal(np.log(700.0), 0.7, n)
    # below the 2 000 万元 规上 threshold by definition; redraw the tail instead of piling it up
    revenue = np.round(np.where(revenue < 1990.0, np.maximum(revenue, 50.0), rng.uniform(1200.0, 1990.0, n)), 2)
    output = np.where(manuf, np.round(revenue / rng.uniform(0.95, 1.05, n), 2), np.nan)
    va = np.where(manuf, np.round(output * rng.uniform(0.15, 0.25, n), 2), np.nan)
    energy = np.where(
        manuf,
        np.nan_to_num(va) * e_med * 1.2 * rng.lognormal(0, 0.4, n),
        revenue * rng.uniform(0.01, 0.04, n),  # warehouses and cold stores: mostly electricity
    )
    energy = np.round(energy, 2)
    tax = np.round(revenue * rng.uniform(0.02, 0.06, n), 2)
    high_tech = np.zeros(n, dtype=bool)
    k_ht = min(int(round(N_HIGH_TECH_BELOW * n / 120)), int(manuf.sum()))
    if k_ht:
        high_tech[rng.choice(np.flatnonzero(manuf), size=k_ht, replace=False)] = True
    rd_rate = np.where(
        high_tech,
        rng.uniform(0.04, 0.08, n),
        np.where(rng.random(n) < 0.5, 0.0, rng.uniform(0.002, 0.02, n)),
    )
    emission_base = np.where(manuf, np.nan_to_num(va), revenue * 0.2)
    return pd.DataFrame({
        "above_scale": False,
        "industry": pd.array(industry, dtype="str"),
        "industry_code": pd.array(codes.astype(str), dtype="str"),
        "manufacturing": manuf,
        "high_tech": high_tech,
        "output_value": output,
        "revenue": revenue,
        "value_added": va,
        "energy_tce": energy,
        "tax": tax,
        "profit": np.round(revenue * rng.normal(0.05, 0.04, n), 2),
        "electricity": np.round(energy * rng.uniform(0.5, 0.9, n) / TCE_PER_10K_KWH, 2),
        "emission_eq": np.round(emission_base * rng.lognormal(np.log(1 / 3000), 0.6, n), 3),
        "employees": np.maximum(3, np.round(revenue / rng.uniform(40, 120, n))).astype(np.int64),
        "rd_raw": revenue * rd_rate,
        # 3.5 not 3: the corner jitter of the parcels takes up to ~12 % off the drawn area
        "land_need_mu": np.clip(tax / (BELOW_SCALE_TAX_PER_MU * rng.lognormal(0, 0.5, n)), 3.5, 30),
    })


# --- roles: who has which kind of land (step 10) -----------------------------------------------


@dataclass
class _Request:
    """One piece of land to lay out: one parcel, or two adjacent ones for a two-parcel firm."""

    members: list[int]  # enterprise row positions; empty for an idle parcel
    area_mu: float
    industry: str
    split: float | None = None  # two parcels: share of the first one
    shares: list[float] | None = None  # shared parcel with written shares
    idle: bool = False


def _assign_roles(
    rng: np.random.Generator, ent: pd.DataFrame
) -> tuple[list[_Request], np.ndarray, np.ndarray]:
    """Decide tenants, shared parcels, two-parcel firms and idle parcels.

    Returns the land requests, the tenant mask and the mask of rows whose 排放当量 is blanked.
    """
    n = len(ent)
    above = ent["above_scale"].to_numpy()
    need = ent["land_need_mu"].to_numpy()
    used = np.zeros(n, dtype=bool)
    requests: list[_Request] = []

    above_idx = np.flatnonzero(above)
    below_idx = np.flatnonzero(~above)

    # Two-parcel firms: the two 规上 firms needing most land; up to 560 亩 over two parcels,
    # where a single parcel stops at 300 亩.
    two = above_idx[np.argsort(-need[above_idx], kind="stable")[:2]]
    for i in two:
        area = float(np.clip(need[i], 60.0, 560.0))
        requests.append(_Request([int(i)], area, ent["industry"].iat[i], split=float(rng.uniform(0.45, 0.65))))
        used[i] = True

    # Small 规上 firms: one becomes a tenant of rented factory floor, one shares a parcel.
    small_above = [i for i in above_idx[np.argsort(need[above_idx], kind="stable")] if not used[i]][:10]
    pick = rng.choice(len(small_above), size=2, replace=False)
    tenant_above, shared_above = int(small_above[pick[0]]), int(small_above[pick[1]])
    tenants = np.zeros(n, dtype=bool)
    tenants[tenant_above] = True
    used[tenant_above] = True

    free_below = list(rng.permutation(below_idx))
    k_tenants = min(5, len(below_idx) // 20)
    for _ in range(k_tenants):
        i = int(free_below.pop())
        tenants[i] = True
        used[i] = True

    # Shared parcels (small firms of one industry in one 标准厂房 compound): group 0 (one 规上 +
    # two 规下) writes its shares; groups 1 and 2 leave land_area_mu empty so that the scorer
    # splits the parcel equally (SPEC §5.1).
    industry = ent["industry"].to_numpy()
    for g, size in enumerate((2, 2, 3)):
        ind = industry[shared_above] if g == 0 else (industry[free_below[-1]] if free_below else None)
        same = [i for i in reversed(free_below) if industry[i] == ind][:size]
        if len(same) < size or len(free_below) - size < 5:
            break
        for i in same:
            free_below.remove(i)
        members = ([shared_above] if g == 0 else []) + [int(i) for i in same]
        used[members] = True
        total = float(np.clip(need[members].sum(), 8.0, 80.0))
        shares = list(need[members] / need[members].sum()) if g == 0 else None
        requests.append(_Request(members, total, str(ind), shares=shares))

    for i in range(n):
        if not used[i]:
            requests.append(_Request([i], float(min(need[i], 300.0)), ent["industry"].iat[i]))

    for _ in range(4):  # idle parcels (闲置): supplied, not built on, no enterprise
        ind = INDUSTRIES[int(rng.integers(0, 3))].name
        requests.append(_Request([], float(rng.uniform(10.0, 60.0)), ind, idle=True))

    candidates = np.flatnonzero(~above & ~tenants)
    k_missing = min(6, len(below_idx) // 20, len(candidates))
    no_emission = np.zeros(n, dtype=bool)
    if k_missing:
        no_emission[rng.choice(candidates, size=k_missing, replace=False)] = True
    return requests, tenants, no_emission


# --- parks -----------------------------------------------------------------------------------


def _prepare_parks(park_zones: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Check the parks and bring them to EPSG:4490 with `name`, `leading_industry`, `district`."""
    if not isinstance(park_zones, gpd.GeoDataFrame):
        raise SampleDataError("园区图层（park_zones）必须是带几何的 GeoDataFrame。")
    if len(park_zones) == 0:
        raise SampleDataError("园区图层（park_zones）为空：至少需要一个园区范围才能布设合成宗地。")
    if "name" not in park_zones.columns:
        raise SampleDataError("园区图层缺少“name”（园区名称）字段：请补充后重试。")
    if park_zones.crs is None:
        raise SampleDataError("园区图层没有坐标系：请设置为 EPSG:4490（CGCS2000 经纬度）。")
    parks = park_zones.to_crs(STORE_EPSG) if park_zones.crs.to_epsg() != STORE_EPSG else park_zones
    geoms = np.asarray(parks.geometry.values, dtype=object)
    bad = ~np.isin(shapely.get_type_id(geoms), (3, 6)) | shapely.is_empty(geoms) | shapely.is_missing(geoms)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise SampleDataError(
            f"园区图层第 {k + 1} 行（{parks['name'].iat[k]}）的几何不是有效的面：请检查该园区范围。"
        )
    geoms = shapely.make_valid(geoms)
    names = parks["name"].astype("str").to_numpy()
    if "leading_industry" in parks.columns:
        leading = parks["leading_industry"].astype("str").fillna("").to_numpy()
    else:
        leading = np.full(len(parks), "", dtype=object)
    district = np.array([_district_for(str(nm)) for nm in names], dtype=object)
    if "district" in parks.columns:
        given = parks["district"].astype("str")
        district = np.where(given.notna() & (given.str.len() > 0), given.fillna(""), district)
    return gpd.GeoDataFrame(
        {"name": names, "leading_industry": leading, "district": district},
        geometry=geoms, crs=STORE_EPSG,
    )


def _district_for(park_name: str) -> str:
    for key, district in DISTRICT_KEYWORDS:
        if key in park_name:
            return district
    return DEFAULT_DISTRICT


def _matching_parks(parks: gpd.GeoDataFrame) -> dict[str, list[int]]:
    """Parks per industry: leading-industry matches first, then name matches."""
    out: dict[str, list[int]] = {}
    for ind in INDUSTRIES:
        lead = [k for k, text in enumerate(parks["leading_industry"]) if any(w in str(text) for w in ind.keywords)]
        by_name = [k for k, text in enumerate(parks["name"]) if k not in lead and any(w in str(text) for w in ind.keywords)]
        out[ind.name] = lead + by_name
    return out


class _Grid:
    """A 10 m occupancy grid over all parks (EPSG:4546), shared so overlapping parks share space.

    Parks can overlap (机械装备产业园 contains 防爆电气产业园), so a parcel laid out for one park must
    block the same ground for the others. A cell is usable for park p when its centre lies inside
    park p shrunk by one cell (so the whole cell is inside the park) and no parcel window holds it.
    """

    def __init__(self, parks_m: np.ndarray):
        b = shapely.bounds(parks_m)
        self.x0 = math.floor(b[:, 0].min()) - CELL_M
        self.y1 = math.ceil(b[:, 3].max()) + CELL_M
        ncols = int(math.ceil((b[:, 2].max() + CELL_M - self.x0) / CELL_M))
        nrows = int(math.ceil((self.y1 - b[:, 1].min() + CELL_M) / CELL_M))
        self.occupied = np.zeros((nrows, ncols), dtype=bool)
        self.windows: list[tuple[int, int, int, int]] = []
        self.inside: list[np.ndarray] = []
        self.centres: list[tuple[float, float]] = []  # park centre, in cells of its window
        for k, poly in enumerate(parks_m):
            j0 = int((b[k, 0] - self.x0) // CELL_M)
            j1 = int(math.ceil((b[k, 2] - self.x0) / CELL_M))
            i0 = int((self.y1 - b[k, 3]) // CELL_M)
            i1 = int(math.ceil((self.y1 - b[k, 1]) / CELL_M))
            jj, ii = np.meshgrid(np.arange(j0, j1), np.arange(i0, i1))
            xs = self.x0 + (jj + 0.5) * CELL_M
            ys = self.y1 - (ii + 0.5) * CELL_M
            shrunk = shapely.buffer(poly, -CELL_M)
            self.windows.append((i0, i1, j0, j1))
            self.inside.append(shapely.contains_xy(shrunk, xs, ys))
            centre = shapely.point_on_surface(poly)
            self.centres.append(((self.y1 - centre.y) / CELL_M - i0, (centre.x - self.x0) / CELL_M - j0))

    def free_cells(self, k: int) -> int:
        i0, i1, j0, j1 = self.windows[k]
        return int((self.inside[k] & ~self.occupied[i0:i1, j0:j1]).sum())

    def find(self, k: int, rows: int, cols: int) -> tuple[int, int] | None:
        """Top-left (global row, col) of a free rows×cols window in park k, or None."""
        i0, i1, j0, j1 = self.windows[k]
        blocked = ~self.inside[k] | self.occupied[i0:i1, j0:j1]
        r, c = blocked.shape
        if rows > r or cols > c:
            return None
        sat = np.zeros((r + 1, c + 1), dtype=np.int32)
        sat[1:, 1:] = blocked.cumsum(0).cumsum(1)
        win = sat[rows:, cols:] - sat[:-rows, cols:] - sat[rows:, :-cols] + sat[:-rows, :-cols]
        di, dj = np.nonzero(win == 0)
        if di.size == 0:
            return None
        # The free window whose centre is nearest the park's centre cell (first one on ties), so
        # that parcels grow as one compact cluster, like a real estate, not a strip along an edge.
        ci, cj = self.centres[k]
        best = int(np.argmin((di + rows / 2 - ci) ** 2 + (dj + cols / 2 - cj) ** 2))
        return i0 + int(di[best]), j0 + int(dj[best])

    def take(self, i: int, j: int, rows: int, cols: int) -> None:
        self.occupied[i : i + rows, j : j + cols] = True

    def cell_of(self, pt: tuple[float, float]) -> tuple[int, int]:
        """Global (row, col) of the cell holding a point in metres."""
        return int((self.y1 - pt[1]) // CELL_M), int((pt[0] - self.x0) // CELL_M)

    def free_point(self, rng: np.random.Generator, k: int) -> tuple[float, float] | None:
        """A point in park k on no parcel (a tenant's rented factory), near the park's estate.

        Drawn among the 200 free cells nearest the park centre, so that tenants sit at the edge
        of the built cluster (a 标准厂房 block) rather than alone in empty land.
        """
        i0, i1, j0, j1 = self.windows[k]
        fi, fj = np.nonzero(self.inside[k] & ~self.occupied[i0:i1, j0:j1])
        if fi.size == 0:
            return None
        ci, cj = self.centres[k]
        near = np.argsort((fi + 0.5 - ci) ** 2 + (fj + 0.5 - cj) ** 2, kind="stable")[:200]
        pick = int(rng.choice(near))
        di, dj = int(fi[pick]), int(fj[pick])
        x = self.x0 + (j0 + dj + 0.5 + rng.uniform(-0.4, 0.4)) * CELL_M
        y = self.y1 - (i0 + di + 0.5 + rng.uniform(-0.4, 0.4)) * CELL_M
        return x, y


def _layout(
    rng: np.random.Generator, requests: list[_Request], parks: gpd.GeoDataFrame, grid: _Grid
) -> list[tuple[int, list[tuple[float, float, float, float]]]]:
    """Place every request: its park and one or two rectangles (xmin, ymin, xmax, ymax), metres.

    Biggest first, so the large plots find room; each goes to a park matching its industry
    (drawn in proportion to the free room left), else to any park with room.
    """
    matching = _matching_parks(parks)
    n_parks = len(parks)
    order = sorted(range(len(requests)), key=lambda r: -requests[r].area_mu)
    placed: list[tuple[int, list[tuple[float, float, float, float]]] | None] = [None] * len(requests)
    g = GAP_CELLS
    for r in order:
        req = requests[r]
        area = req.area_mu * M2_PER_MU
        aspect = rng.uniform(0.6, 1.7) * (2.0 if req.split is not None else 1.0)
        w = math.sqrt(area * aspect) + (g * CELL_M if req.split is not None else 0.0)
        h = area / (w - (g * CELL_M if req.split is not None else 0.0))
        free = np.array([grid.free_cells(k) for k in range(n_parks)], dtype=float)
        first = [k for k in matching[req.industry] if free[k] > 0]
        if first:
            p = free[first] / free[first].sum()
            lead = int(rng.choice(first, p=p))
            tries = [lead] + sorted((k for k in first if k != lead), key=lambda k: -free[k])
        else:
            tries = []
        tries += sorted((k for k in range(n_parks) if k not in tries), key=lambda k: -free[k])
        spot = None
        for k in tries:
            for ww, hh in ((w, h), (h, w)) if req.split is None else ((w, h),):
                cols = int(math.ceil(ww / CELL_M)) + g
                rows = int(math.ceil(hh / CELL_M)) + g
                found = grid.find(k, rows, cols)
                if found is not None:
                    spot = (k, found, rows, cols, ww, hh)
                    break
            if spot:
                break
        if spot is None:
            raise SampleDataError(
                f"园区面积不足：无法在任何园区内再布设约 {req.area_mu:.1f} 亩的合成宗地"
                f"（已布设 {sum(p is not None for p in placed)} 宗）。"
                "请提供更大的园区范围，或减少规下企业数量（n_below_scale）。"
            )
        k, (i, j), rows, cols, ww, hh = spot
        grid.take(i, j, rows, cols)
        xmin = grid.x0 + (j + g / 2) * CELL_M
        ymax = grid.y1 - (i + g / 2) * CELL_M
        if req.split is None:
            rects = [(xmin, ymax - hh, xmin + ww, ymax)]
        else:
            usable = ww - g * CELL_M
            cut = xmin + usable * req.split
            rects = [(xmin, ymax - hh, cut, ymax), (cut + g * CELL_M, ymax - hh, xmin + ww, ymax)]
        placed[r] = (k, rects)
    return placed  # type: ignore[return-value]


def _jittered(rng: np.random.Generator, rects: np.ndarray) -> np.ndarray:
    """Quadrilaterals inside the rectangles: each corner pulled inward by up to 4 % / 6 m.

    Inward only, so parcels keep their road gaps and enterprise points placed at least 1/6 of
    the way into the rectangle stay on their parcel.
    """
    n = len(rects)
    w = rects[:, 2] - rects[:, 0]
    h = rects[:, 3] - rects[:, 1]
    j = np.minimum(6.0, 0.04 * np.minimum(w, h))[:, None]
    dx = rng.uniform(0, 1, (n, 4)) * j
    dy = rng.uniform(0, 1, (n, 4)) * j
    xs = np.stack([rects[:, 0] + dx[:, 0], rects[:, 2] - dx[:, 1], rects[:, 2] - dx[:, 2], rects[:, 0] + dx[:, 3]], 1)
    ys = np.stack([rects[:, 1] + dy[:, 0], rects[:, 1] + dy[:, 1], rects[:, 3] - dy[:, 2], rects[:, 3] - dy[:, 3]], 1)
    ring = np.stack([xs, ys], axis=2)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)
    return shapely.polygons(ring)


# --- the public function ----------------------------------------------------------------------


def generate_enterprises(
    park_zones: gpd.GeoDataFrame, seed: int = 2020, n_below_scale: int = 120
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Make the synthetic ``(enterprises, industrial_parcels)`` layers, both EPSG:4490.

    Columns are exactly the fields of ``ENTERPRISES`` / ``INDUSTRIAL_PARCELS`` plus geometry.
    The 77 规上 rows reproduce the plan's 2020 totals to 0.01 万元 (module docstring, steps 1–10);
    the same ``seed`` always gives identical frames.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SampleDataError(f"随机种子 seed 必须是非负整数，收到：{seed!r}。")
    if isinstance(n_below_scale, bool) or not isinstance(n_below_scale, (int, np.integer)) or not (
        0 <= n_below_scale <= 5000
    ):
        raise SampleDataError(f"规下企业数量 n_below_scale 必须是 0 到 5000 之间的整数，收到：{n_below_scale!r}。")
    parks = _prepare_parks(park_zones)
    r_above, r_below, r_roles, r_layout, r_shape, r_site = (
        np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(6)
    )

    ent = pd.concat([_above_scale(r_above), _below_scale(r_below, int(n_below_scale))], ignore_index=True)
    ind_rank = {ind.name: k for k, ind in enumerate(INDUSTRIES)}
    ent["_rank"] = ent["industry"].map(ind_rank)
    ent = ent.sort_values(["above_scale", "_rank", "revenue"], ascending=[False, True, False], kind="stable")
    ent = ent.reset_index(drop=True)
    rd_raw = ent["rd_raw"].to_numpy()
    ent["rd_expense"] = _round_to_total(rd_raw * RD_EXPENSE / rd_raw.sum(), RD_EXPENSE)

    requests, tenants, no_emission = _assign_roles(r_roles, ent)
    ent.loc[no_emission, "emission_eq"] = np.nan

    parks_m = to_measure(np.asarray(parks.geometry.values, dtype=object))
    grid = _Grid(parks_m)
    placed = _layout(r_layout, requests, parks, grid)

    # Parcels, numbered in layout order (biggest first) so that a firm's two parcels are
    # consecutive ids.
    order = sorted(range(len(requests)), key=lambda r: -requests[r].area_mu)
    rects, parcel_park, parcel_req = [], [], []
    for r in order:
        k, rs = placed[r]
        for rect in rs:
            rects.append(rect)
            parcel_park.append(k)
            parcel_req.append(r)
    rects_a = np.array(rects, dtype=float)
    polys_m = _jittered(r_shape, rects_a)
    polys = reproject(polys_m, MEASURE_EPSG, STORE_EPSG)
    n_par = len(polys)
    parcel_ids = np.array([f"IP-{k + 1:04d}" for k in range(n_par)], dtype=object)
    a_m2 = plane_area_m2(polys)
    a_mu = m2_to_mu(a_m2)
    req_parcels: dict[int, list[int]] = {}
    for p, r in enumerate(parcel_req):
        req_parcels.setdefault(r, []).append(p)

    idle = np.array([requests[r].idle for r in parcel_req], dtype=bool)
    far_of = {ind.name: ind.far for ind in INDUSTRIES}
    far_lo, far_hi = np.array([far_of[requests[r].industry] for r in parcel_req], dtype=float).T
    low = r_shape.random(n_par) < 0.08  # under-built on purpose: 低效用地 candidates (§5.4)
    far = np.where(idle, r_shape.uniform(0.0, 0.2, n_par),
                   np.where(low, r_shape.uniform(0.25, 0.5, n_par), r_shape.uniform(far_lo, far_hi)))
    coverage = np.where(idle, r_shape.uniform(0.0, 10.0, n_par),
                        np.where(low, r_shape.uniform(18.0, 30.0, n_par), r_shape.uniform(32.0, 60.0, n_par)))
    pk = np.array(parcel_park, dtype=int)
    parcels = gpd.GeoDataFrame(
        {
            "id": pd.array(parcel_ids, dtype="str"),
            "geometry_source": GEOMETRY_SOURCE,
            "data_source": DATA_SOURCE,
            "park": pd.array(parks["name"].to_numpy()[pk], dtype="str"),
            "district": pd.array(parks["district"].to_numpy()[pk], dtype="str"),
            "land_use": "工业",
            "floor_area_ratio": np.round(far, 2),
            "building_coverage": np.round(coverage, 1),
            "idle": idle,
            "area_m2": a_m2,
            "ellipsoid_area_m2": ellipsoid_area_m2(polys),
            "area_mu": a_mu,
        },
        geometry=shapely.multipolygons(polys, indices=np.arange(n_par)),
        crs=STORE_EPSG,
    )

    # Enterprises: parcel links, land area and a point on their land.
    n = len(ent)
    parcel_id = np.full(n, None, dtype=object)
    land = np.full(n, np.nan)
    park_of = np.full(n, -1, dtype=int)
    px = np.full(n, np.nan)
    py = np.full(n, np.nan)
    for r, req in enumerate(requests):
        if req.idle:
            continue
        ps = req_parcels[r]
        m = len(req.members)
        x0, y0, x1, y1 = rects_a[ps[0]]
        for slot, e in enumerate(req.members):
            parcel_id[e] = ";".join(parcel_ids[ps])
            park_of[e] = parcel_park[ps[0]]
            frac = (slot + 0.5) / m if m > 1 else r_site.uniform(0.3, 0.7)
            px[e] = x0 + frac * (x1 - x0)
            py[e] = (y0 + y1) / 2 + r_site.uniform(-0.2, 0.2) * (y1 - y0)
        total_mu = float(a_mu[ps].sum())
        if m == 1:
            land[req.members[0]] = round(total_mu, 2)
        elif req.shares is not None:
            land[req.members] = _round_to_total(np.array(req.shares) * round(total_mu, 2), round(total_mu, 2))
        # else: shared with no written split → left empty, the scorer splits equally
    matching = _matching_parks(parks)
    rented = np.full(n, np.nan)
    for e in np.flatnonzero(tenants):
        # A tenant rents in a park of its industry (drawn), else in any park with room.
        cands = [k for k in matching[ent["industry"].iat[e]] if grid.free_cells(k) > 0]
        if not cands:
            cands = [k for k in range(len(parks)) if grid.free_cells(k) > 0]
        if not cands:
            raise SampleDataError("园区面积不足：没有空余位置放置租用厂房的企业。请提供更大的园区范围。")
        k = int(r_site.choice(cands))
        pt = grid.free_point(r_site, k)
        assert pt is not None  # free_cells(k) > 0
        px[e], py[e] = pt
        park_of[e] = k
        grid.take(*grid.cell_of(pt), 1, 1)  # two tenants never stand on one spot
        big = bool(ent["above_scale"].iat[e])
        rented[e] = round(float(r_site.uniform(3000.0, 9000.0) if big else r_site.uniform(800.0, 5000.0)), 1)
    points = reproject(shapely.points(px, py), MEASURE_EPSG, STORE_EPSG)

    serial = {name: 0 for name in ind_rank}
    names = []
    for ind in ent["industry"]:
        serial[ind] += 1
        names.append(f"示例{ind}企业{serial[ind]:03d}")
    enterprises = gpd.GeoDataFrame(
        {
            "id": pd.array([f"ENT-{k + 1:04d}" for k in range(n)], dtype="str"),
            "geometry_source": GEOMETRY_SOURCE,
            "data_source": DATA_SOURCE,
            "enterprise_id": pd.array([f"{ID_PREFIX}{k + 1:07d}" for k in range(n)], dtype="str"),
            "name": pd.array(names, dtype="str"),
            "parcel_id": pd.array(parcel_id, dtype="str"),
            "park": pd.array(parks["name"].to_numpy()[park_of], dtype="str"),
            "district": pd.array(parks["district"].to_numpy()[park_of], dtype="str"),
            "land_area_mu": land,
            "above_scale": ent["above_scale"].to_numpy(dtype=bool),
            "industry": pd.array(ent["industry"].to_numpy(), dtype="str"),
            "industry_code": pd.array(ent["industry_code"].to_numpy(), dtype="str"),
            "high_tech": ent["high_tech"].to_numpy(dtype=bool),
            "rented_floor_m2": rented,
            "year": np.full(n, YEAR, dtype=np.int64),
            "tax": ent["tax"].to_numpy(float),
            "revenue": ent["revenue"].to_numpy(float),
            "value_added": ent["value_added"].to_numpy(float),
            "energy_tce": ent["energy_tce"].to_numpy(float),
            "emission_eq": ent["emission_eq"].to_numpy(float),
            "rd_expense": ent["rd_expense"].to_numpy(float),
            "output_value": ent["output_value"].to_numpy(float),
            "profit": ent["profit"].to_numpy(float),
            "electricity": ent["electricity"].to_numpy(float),
            "employees": ent["employees"].to_numpy(np.int64),
        },
        geometry=points,
        crs=STORE_EPSG,
    )
    enterprises = enterprises[[*ENTERPRISES.field_names, "geometry"]]
    parcels = parcels[[*INDUSTRIAL_PARCELS.field_names, "geometry"]]
    return enterprises, parcels

