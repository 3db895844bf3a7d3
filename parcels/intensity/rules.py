"""The intensity evaluation's data (indicators.toml, zone.toml, weights_*.toml) as typed objects.

Why data: the indicator set, the national figures with their year and source, the zone-type rule
and any 集约度 weights are what an official checks and a bureau replaces when the 规程 text or a
new 通报 arrives; the code only applies them. Each item keeps its `source` and `status`.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
INDICATORS_FILE = HERE / "indicators.toml"
ZONE_FILE = HERE / "zone.toml"
STATUSES = ("confirmed", "unverified", "sample")


@dataclass(frozen=True)
class Indicator:
    key: str
    name: str
    formula: str
    unit: str
    status: str
    national: float | None = None
    national_year: int | None = None
    national_source: str = ""
    note: str = ""


@dataclass(frozen=True)
class IndicatorSet:
    id: str
    name: str
    definitions_source: str
    definitions_status: str
    national_title: str
    national_status: str
    indicators: tuple[Indicator, ...]

    def get(self, key: str) -> Indicator:
        return next(i for i in self.indicators if i.key == key)


@dataclass(frozen=True)
class ZoneFigures:
    name: str
    population: float | None
    population_source: str
    population_status: str
    residential_share_min: float
    zone_type_rule: str
    zone_type_source: str
    zone_type_status: str
    window_years: int
    potential_source: str
    potential_status: str


@dataclass(frozen=True)
class Weight:
    key: str
    weight: float
    ideal: float
    direction: str  # "+" | "-"
    worst: float | None = None


@dataclass(frozen=True)
class WeightSet:
    id: str
    name: str
    source: str
    status: str
    method: str
    method_status: str
    weights: tuple[Weight, ...]


def _status(value: str, where: str) -> str:
    if value not in STATUSES:
        raise ValueError(f"{where} 的 status “{value}” 不是 {'/'.join(STATUSES)} 之一")
    return value


@functools.lru_cache(maxsize=4)
def load_indicators(path: str | None = None) -> IndicatorSet:
    data = tomllib.loads(Path(path or INDICATORS_FILE).read_text(encoding="utf-8"))
    nat = data["national"]
    items = []
    for raw in data["indicators"]:
        src = raw.get("national_source", "")
        items.append(Indicator(
            key=raw["key"], name=raw["name"], formula=raw["formula"], unit=raw.get("unit", ""),
            status=_status(raw["status"], raw["key"]), national=raw.get("national"), national_year=raw.get("national_year"),
            national_source=nat.get(src, src), note=raw.get("note", ""),
        ))
    return IndicatorSet(data["id"], data["name"], data["definitions_source"], _status(data["definitions_status"], "definitions"),
                        nat["title"], _status(nat["status"], "national"), tuple(items))


@functools.lru_cache(maxsize=4)
def load_zone(path: str | None = None) -> ZoneFigures:
    data = tomllib.loads(Path(path or ZONE_FILE).read_text(encoding="utf-8"))
    zt, pot = data["zone_type"], data["potential"]
    population = float(data.get("population") or 0) or None
    return ZoneFigures(
        name=data.get("name", ""), population=population, population_source=data.get("population_source", ""),
        population_status=_status(data.get("population_status", "unverified"), "population"),
        residential_share_min=float(zt["residential_share_min"]), zone_type_rule=zt["rule"], zone_type_source=zt["source"],
        zone_type_status=_status(zt["status"], "zone_type"), window_years=int(pot["window_years"]),
        potential_source=pot["source"], potential_status=_status(pot["status"], "potential"),
    )


def weight_set_names() -> list[str]:
    return sorted(p.stem.removeprefix("weights_") for p in HERE.glob("weights_*.toml"))


@functools.lru_cache(maxsize=8)
def load_weights(name: str) -> WeightSet:
    """A bundled weight set by name (`sample`), never a path (HTTP callers name sets)."""
    from gis.errors import InputError

    if name not in weight_set_names():
        raise InputError(f"没有名为“{name}”的集约度权重集。", hint="可用：" + "、".join(weight_set_names()) + "（均非规程官方数值）。")
    data = tomllib.loads((HERE / f"weights_{name}.toml").read_text(encoding="utf-8"))
    weights = tuple(Weight(w["key"], float(w["weight"]), float(w["ideal"]), w.get("direction", "+"), w.get("worst")) for w in data["weights"])
    return WeightSet(data["id"], data["name"], data["source"], _status(data["status"], name), data["method"],
                     _status(data.get("method_status", "unverified"), "method"), weights)
