"""The maps landgis offers by name (SPEC §9), each built from the store's layers.

Why a registry: the API (`GET /maps`, `GET /maps/{name}`) and the CLI (`landgis map NAME`) list
and build the same maps the same way. Builders take GeoDataFrames (maps/parcels.py, ...); this
module only reads the store and runs the analyses whose results a map shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from maps.assets import STATIC_PREFIX
from maps.base import LARGE_THRESHOLD, MapInputError, render_html


class MapUnavailable(MapInputError):
    """The store lacks the data a map needs (or an analysis is not installed): says what to do."""


@dataclass
class MapOptions:
    basemap: str = "none"
    tianditu_key: str | None = None
    mode: str = "saved"
    prefix: str = STATIC_PREFIX
    api_root: str = ""
    large_threshold: int = LARGE_THRESHOLD
    params: dict = field(default_factory=dict)  # map-specific, e.g. {"indicator": "tax_per_mu"}


@dataclass(frozen=True)
class MapSpec:
    name: str
    title: str
    description: str
    public: bool  # anonymous callers may open it (SPEC §8.4); else `analyst`
    build: Callable  # (store, MapOptions) -> (folium.Map, MapContext)


def _read(store, name: str, *, required: bool, hint: str = "请先运行 `landgis init` 载入样例数据或导入该图层。"):
    if not store.layer_exists(name):
        if required:
            raise MapUnavailable(f"存储中没有图层 {name}，无法生成该地图。{hint}")
        return None
    return store.read_layer(name)


def _kwargs(opts: MapOptions) -> dict:
    return {"basemap": opts.basemap, "tianditu_key": opts.tianditu_key, "mode": opts.mode, "prefix": opts.prefix, "api_root": opts.api_root, "large_threshold": opts.large_threshold}


def _tiled(store, name: str, opts: MapOptions) -> bool:
    """A served map draws this stored layer from vector tiles (so it need not read the layer)."""
    from maps.base import check_basemap

    if opts.mode != "served" or not store.layer_exists(name):
        return False
    try:
        gcj02 = check_basemap(opts.basemap, opts.tianditu_key).gcj02
    except MapInputError:
        return False  # new_map reports the bad basemap
    return not gcj02 and store.count(name) > opts.large_threshold


def _parcels(store, opts: MapOptions):
    from maps.parcels import RESERVE_VALUE_COLUMNS, build_parcels_map
    from maps.summary import summarize_layer

    reserve = summarize_layer(store, "reserve_parcels", RESERVE_VALUE_COLUMNS) if _tiled(store, "reserve_parcels", opts) else None
    if reserve is None or reserve.count <= opts.large_threshold:  # (or rows deleted in between)
        reserve = _read(store, "reserve_parcels", required=True)
    return build_parcels_map(reserve, _read(store, "park_zones", required=False), _read(store, "zone_boundary", required=False), **_kwargs(opts))


def _efficiency(store, opts: MapOptions):
    from maps.efficiency import build_efficiency_map
    from maps.sources import efficiency_results

    results, parcels = efficiency_results(store, _read(store, "enterprises", required=True), _read(store, "industrial_parcels", required=False), opts.params)
    return build_efficiency_map(
        results, parcels, _read(store, "park_zones", required=False), _read(store, "zone_boundary", required=False),
        indicator=opts.params.get("indicator"), policy_title=results.attrs.get("policy_title"), **_kwargs(opts),
    )


def _standard_land(store, opts: MapOptions):
    from maps.sources import standard_land_results
    from maps.standard_land import build_standard_land_map

    verdicts = standard_land_results(store, opts.params)
    return build_standard_land_map(verdicts, _read(store, "park_zones", required=False), _read(store, "zone_boundary", required=False), note=verdicts.attrs.get("note"), **_kwargs(opts))


def _expansion(store, opts: MapOptions):
    from maps.expansion import build_expansion_map
    from maps.sources import expansion_results

    study = expansion_results(store, opts.params)
    return build_expansion_map(
        study.get("suitability"), study.get("candidates"), _read(store, "zone_boundary", required=False), _read(store, "park_zones", required=False), suitability_bounds=study.get("suitability_bounds"), balance=study.get("balance"), **_kwargs(opts)
    )


MAPS: dict[str, MapSpec] = {
    s.name: s
    for s in (
        MapSpec("parcels", "储备地块、产业园区与范围", "表2 储备地块按用途和报批状态着色，叠加产业园区与高新区范围", True, _parcels),
        MapSpec("efficiency", "亩均效益评价", "企业亩均效益分类（A/B/C/D）与所选指标分级设色", False, _efficiency),
        MapSpec("standard-land", "标准地指标核查", "各地块标准地控制指标核查结论（达标/不达标/资料不全）", False, _standard_land),
        MapSpec("expansion", "扩区研究", "扩区适宜性评价、候选地块与用地供需平衡", False, _expansion),
    )
}


def get_spec(name: str) -> MapSpec:
    spec = MAPS.get(name)
    if spec is None:
        raise MapInputError(f"地图“{name}”不存在。可用地图：{'、'.join(f'{k}（{s.title}）' for k, s in MAPS.items())}。")
    return spec


def render_map(name: str, store, opts: MapOptions | None = None) -> str:
    """The HTML of map `name` from `store` (self-contained with mode="saved")."""
    opts = opts or MapOptions()
    m, ctx = get_spec(name).build(store, opts)
    return render_html(m, ctx)
