"""The 批供用补查 rules as data (parcels/rules/supply/land_supply.toml), loaded into one typed object.

Why data: the thresholds (one year, two years, 20 %, 1/3, 25 %) and their legal sources are what
an official checks and a bureau may have to adjust; code only applies them. Each section keeps
its `source` and `status` so every report item can cite the rule that put it there.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

RULES_FILE = Path(__file__).resolve().parent.parent / "rules" / "supply" / "land_supply.toml"


@dataclass(frozen=True)
class Cited:
    """A rule's legal basis as reports show it."""

    source: str
    status: str

    def to_dict(self) -> dict:
        return {"source": self.source, "status": self.status}


@dataclass(frozen=True)
class SupplyRules:
    not_started_years: int
    halted_years: int
    developed_share_below: float
    invested_share_below: float
    fee_years: int
    fee_share: float
    reclaim_years: int
    negotiate_causes: tuple[str, ...]
    over_years: int
    commercial_uses: tuple[str, ...]
    no_allocation_uses: tuple[str, ...]
    competitive_methods: tuple[str, ...]
    calendar: Cited
    idle: Cited
    fee: Cited
    reclaim: Cited
    negotiate: Cited
    approved_not_supplied: Cited
    supplied_not_started: Cited
    completion_overdue: Cited
    production_review: Cited
    allocation: Cited
    competitive: Cited
    raw: dict


@functools.lru_cache(maxsize=4)
def load_supply_rules(path: str | None = None) -> SupplyRules:
    """The bundled rules (or a bureau's own file of the same shape)."""
    data = tomllib.loads(Path(path or RULES_FILE).read_text(encoding="utf-8"))
    idle, st, ans, sm = data["idle"], data["stages"], data["approved_not_supplied"], data["supply_methods"]

    def cited(section: dict, key: str = "source") -> Cited:
        return Cited(section[key], section["status"])

    return SupplyRules(
        not_started_years=int(idle["not_started_years"]),
        halted_years=int(idle["halted_years"]),
        developed_share_below=float(idle["developed_share_below"]),
        invested_share_below=float(idle["invested_share_below"]),
        fee_years=int(st["fee_years"]),
        fee_share=float(st["fee_share"]),
        reclaim_years=int(st["reclaim_years"]),
        negotiate_causes=tuple(st["negotiate_causes"]),
        over_years=int(ans["over_years"]),
        commercial_uses=tuple(sm["commercial_uses"]),
        no_allocation_uses=tuple(sm["no_allocation_uses"]),
        competitive_methods=tuple(sm["competitive_methods"]),
        calendar=cited(data["calendar"]),
        idle=cited(idle),
        fee=cited(st, "source_fee"),
        reclaim=cited(st, "source_reclaim"),
        negotiate=cited(st, "source_negotiate"),
        approved_not_supplied=cited(ans),
        supplied_not_started=cited(data["supplied_not_started"]),
        completion_overdue=cited(data["completion_overdue"]),
        production_review=cited(data["production_review"]),
        allocation=cited(sm, "source_allocation"),
        competitive=cited(sm, "source_competitive"),
        raw=data,
    )
