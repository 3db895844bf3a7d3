"""The maps landgis offers by name (SPEC §9), each built from the store's layers.

Why a registry in the service layer: the API (`GET /maps`, `GET /maps/{name}`) and the CLI
(`landgis map NAME`) list and build the same maps the same way. The builders in `maps/` are pure
(GeoDataFrame + style → map); this module reads the store (applying the access rule of
parcels/access.py for the page's audience), runs the analyses a map shows (services/map_sources.py),
refuses pages too large to build, and keeps rendered pages by data revision.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

from maps.assets import STATIC_PREFIX
from maps.base import LARGE_THRESHOLD, PageOptions, render_html
from maps.errors import MapForbidden, MapInputError, MapTooLarge, MapUnavailable
from maps.summary import LayerSummary
from parcels.access import hidden_for, may_see_economic, redact_frame

__all__ = ["MAPS", "MapForbidden", "MapInputError", "MapOptions", "MapSpec", "MapTooLarge", "MapUnavailable", "render_page", "check_page_size", "get_spec", "render_map", "summarize_layer"]


@dataclass
class MapOptions:
    basemap: str = "none"
    tianditu_key: str | None = None
    mode: str = "saved"
    prefix: str = STATIC_PREFIX
    api_root: str = ""
    large_threshold: int = LARGE_THRESHOLD
    params: dict = field(default_factory=dict)  # map-specific, e.g. {"indicator": "tax_per_mu"}
    role: str = "anonymous"
    """Who the page is for (parcels.access): restricted fields are dropped from every layer the
    map reads for a role below `analyst`. Anonymous by default, so a forgotten argument leaks nothing."""
    basemaps: tuple = ()
    """The bureau's own basemaps (maps.basemaps.parse_bureau_basemaps of LANDGIS_BASEMAPS), offered in the switcher."""
    roads: bool = True
    """Draw the store's `roads` layer (public) under the map's subject, with its names."""

    def cache_key(self) -> tuple:
        return (self.basemap, self.tianditu_key, self.mode, self.prefix, self.api_root, self.large_threshold, tuple(sorted(self.params.items())), hidden_for(self.role), self.basemaps, self.roads)


@dataclass(frozen=True)
class MapSpec:
    name: str
    title: str
    description: str
    public: bool  # anonymous callers may open it (SPEC §8.4); else `analyst`
    build: Callable  # (store, MapOptions) -> (folium.Map, MapContext)
    layers: tuple[str, ...] = ()
    """The stored layers the page embeds in full when saved (for the size check and the cache key)."""
    tiled_layers: tuple[str, ...] = ()
    """Layers a served page may draw from vector tiles instead of embedding them (see `_tiled`)."""
    depends_on_layers_only: bool = False
    """True when the page is a function of `layers` alone (no runs, records or analyses), so it
    can be cached by their data revisions."""


def _read(store, name: str, opts: "MapOptions", *, required: bool, hint: str = "请先运行 `landgis init` 载入样例数据或导入该图层。"):
    """A stored layer as the map's audience may see it: restricted fields dropped below `analyst`."""
    if not store.layer_exists(name):
        if required:
            raise MapUnavailable(f"存储中没有图层 {name}，无法生成该地图。{hint}")
        return None
    return redact_frame(store.read_layer(name), hidden_for(opts.role))


def _kwargs(opts: MapOptions, store=None) -> dict:
    """The builders' common keyword: their `PageOptions`; with `store`, also the roads every map
    draws for orientation."""
    roads = None
    if store is not None and opts.roads:
        roads = _read(store, "roads", opts, required=False)
        if roads is not None and "_sizhi" in opts.params:
            # A parcel sheet: the roads its 四至 text names (services/map_print.py) are emphasised.
            roads = roads.assign(_sizhi=roads["name"].isin(opts.params["_sizhi"]) if "name" in roads.columns else False)
    return {"page": PageOptions(basemap=opts.basemap, tianditu_key=opts.tianditu_key, mode=opts.mode, prefix=opts.prefix, api_root=opts.api_root, large_threshold=opts.large_threshold, roads=roads, basemaps=opts.basemaps)}


def _tiled(store, name: str, opts: MapOptions) -> bool:
    """A served map draws this stored layer from vector tiles (so it need not read the layer)."""
    from maps.basemaps import check_basemap

    if opts.mode != "served" or not store.layer_exists(name):
        return False
    try:
        gcj02 = check_basemap(opts.basemap, opts.tianditu_key, opts.basemaps).gcj02
    except MapInputError:
        return False  # new_map reports the bad basemap
    return not gcj02 and store.cached_count(name) > opts.large_threshold


def _parcels(store, opts: MapOptions):
    from maps.parcels import RESERVE_VALUE_COLUMNS, build_parcels_map

    reserve = summarize_layer(store, "reserve_parcels", RESERVE_VALUE_COLUMNS) if _tiled(store, "reserve_parcels", opts) else None
    if reserve is not None:
        from parcels.access import visible_names

        reserve = replace(reserve, columns=tuple(visible_names(reserve.columns, hidden_for(opts.role))))
    if reserve is None or reserve.count <= opts.large_threshold:  # (or rows deleted in between)
        reserve = _read(store, "reserve_parcels", opts, required=True)
    return build_parcels_map(reserve, _read(store, "park_zones", opts, required=False), _read(store, "zone_boundary", opts, required=False), **_kwargs(opts, store))


def _efficiency(store, opts: MapOptions):
    from maps.efficiency import build_efficiency_map
    from services.map_sources import efficiency_results

    results, parcels = efficiency_results(store, _read(store, "enterprises", opts, required=True), _read(store, "industrial_parcels", opts, required=False), opts.params)
    return build_efficiency_map(
        results, parcels, _read(store, "park_zones", opts, required=False), _read(store, "zone_boundary", opts, required=False),
        indicator=opts.params.get("indicator"), policy_title=results.attrs.get("policy_title"), run_note=results.attrs.get("run_note"), **_kwargs(opts, store),
    )


def _standard_land(store, opts: MapOptions):
    from services.map_sources import standard_land_results
    from maps.standard_land import build_standard_land_map

    verdicts = standard_land_results(store, opts.params)
    return build_standard_land_map(verdicts, _read(store, "park_zones", opts, required=False), _read(store, "zone_boundary", opts, required=False), note=verdicts.attrs.get("note"), **_kwargs(opts, store))


def _expansion(store, opts: MapOptions):
    from maps.expansion import build_expansion_map
    from services.map_sources import expansion_results

    study = expansion_results(store, opts.params)
    return build_expansion_map(
        study.get("suitability"), study.get("candidates"), _read(store, "zone_boundary", opts, required=False), _read(store, "park_zones", opts, required=False), suitability_bounds=study.get("suitability_bounds"), balance=study.get("balance"), overlays=study.get("overlays"), **_kwargs(opts, store)
    )


def _supervision(store, opts: MapOptions):
    """The ledger coloured by supervision list as of `?as_of=` (default today), conflicts outlined."""
    import geopandas as gpd

    from maps.supervision import build_supervision_map
    from services.supervision import supervision_frame, supervision_report

    if not store.layer_exists("land_supply"):
        raise MapUnavailable("存储中没有土地供应台账（land_supply），无法生成该地图。请先运行 `landgis init` 载入示例台账或导入台账。")
    as_of = opts.params.get("as_of")
    frame = redact_frame(supervision_frame(store, as_of), hidden_for(opts.role))
    report = supervision_report(store, as_of)
    conflicts = None
    if report["conflicts"]:
        shapes = {}
        for layer in sorted({c["layer"] for c in report["conflicts"]}):
            ids = [c["id"] for c in report["conflicts"] if c["layer"] == layer]
            got = store.read_layer(layer, ids=ids, columns=["id"])
            shapes.update({(layer, str(i)): g for i, g in zip(got["id"], got.geometry.values)})
        rows = [c for c in report["conflicts"] if (c["layer"], c["id"]) in shapes]
        conflicts = gpd.GeoDataFrame(
            {"id": [c["id"] for c in rows], "layer_zh": [c["layer_zh"] for c in rows], "overlap_mu": [c["overlap_mu"] for c in rows], "note": [c["note"] for c in rows]},
            geometry=[shapes[(c["layer"], c["id"])] for c in rows], crs=frame.crs,
        )
    return build_supervision_map(
        frame, _read(store, "park_zones", opts, required=False), _read(store, "zone_boundary", opts, required=False),
        as_of=report["as_of"], conflicts=conflicts, synthetic=report["synthetic"], **_kwargs(opts, store),
    )


def _intensity(store, opts: MapOptions):
    """The land survey (stored, else derived) by status and use, the indicators in the legend (SPEC §11)."""
    from gis.errors import InputError
    from maps.intensity import build_intensity_map
    from services.intensity import intensity_map_frame

    try:
        frame, doc = intensity_map_frame(store, opts.params.get("year"))
    except InputError as exc:
        raise MapUnavailable(exc.detail + (f"{exc.hint}" if exc.hint else "")) from None
    frame = redact_frame(frame, hidden_for(opts.role))
    return build_intensity_map(frame, doc, _read(store, "park_zones", opts, required=False), _read(store, "zone_boundary", opts, required=False), **_kwargs(opts, store))


MAPS: dict[str, MapSpec] = {
    s.name: s
    for s in (
        MapSpec(
            "parcels", "储备地块、产业园区与范围", "表2 储备地块按用途和报批状态着色，叠加产业园区与高新区范围", True, _parcels,
            layers=("reserve_parcels", "park_zones", "zone_boundary", "roads"), tiled_layers=("reserve_parcels", "roads"), depends_on_layers_only=True,
        ),
        MapSpec("efficiency", "亩均效益评价", "企业亩均效益分类（A/B/C/D）与所选指标分级设色", False, _efficiency, layers=("enterprises", "industrial_parcels", "park_zones", "zone_boundary", "roads")),
        MapSpec("standard-land", "标准地指标核查", "各地块标准地控制指标核查结论（达标/不达标/资料不全）", False, _standard_land, layers=("industrial_parcels", "park_zones", "zone_boundary", "roads")),
        MapSpec("expansion", "扩区研究", "扩区适宜性评价、候选地块与用地供需平衡", False, _expansion, layers=("zone_boundary", "park_zones", "roads")),
        MapSpec("supervision", "土地供应监管（批供用补查）", "供地台账宗地按批而未供、供而未用、闲置、逾期竣工、达产复核到期着色，叠加用地冲突", False, _supervision, layers=("land_supply", "park_zones", "zone_boundary", "roads")),
        MapSpec("intensity", "开发区土地集约利用评价", "土地利用状况调查图斑按状况与用途着色，图例列出各项指标与全国国家级开发区数值", False, _intensity, layers=("land_survey", "park_zones", "zone_boundary", "roads")),
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
    spec = get_spec(name)
    if not spec.public and not may_see_economic(opts.role):
        raise MapForbidden(f"地图“{spec.title}”含企业经济数据，需分析人员（analyst）权限。")
    m, ctx = spec.build(store, opts)
    return render_html(m, ctx)


def embedded_features(name: str, store, opts: MapOptions) -> int:
    """How many stored features the page would embed (counts kept by revision, so an anonymous
    request costs no COUNT(*); tiled layers are not embedded)."""
    spec = get_spec(name)
    return sum(
        int(store.cached_count(layer))
        for layer in spec.layers
        if store.layer_exists(layer) and not (layer in spec.tiled_layers and _tiled(store, layer, opts))
    )


def check_page_size(name: str, store, opts: MapOptions, max_features: int) -> None:
    """Refuse a page that would embed more than `max_features` features, before any of it is built.

    Why before: a saved map of 100 000 parcels is a 74 MB page that takes seconds and gigabytes
    to build; three anonymous downloads at once took 3.5 GB. Counting is milliseconds. A served
    page embeds a large layer too when it cannot be tiled (a GCJ-02 basemap), so both modes ask."""
    n = embedded_features(name, store, opts)
    if n > max_features:
        raise MapTooLarge(
            f"该地图含 {n} 个要素，超过单文件下载上限 {max_features} 个，已拒绝生成。"
            f"请直接在浏览器中打开在线地图 /maps/{name}（大图层以矢量瓦片显示），或按园区/范围筛选后导出。"
        )


def render_page(name: str, store, opts: MapOptions) -> str:
    """The page of map `name`, kept by the data revisions of the layers it embeds.

    A page of a map that depends on stored layers only is a pure function of (map, options,
    audience, those layers' revisions): the revisions change on every write by any writer, so a
    kept page is never stale, and a burst of identical requests builds it once. Maps that run
    analyses (runs, adjustments) are built every time."""
    spec = get_spec(name)
    if not spec.depends_on_layers_only:
        return render_map(name, store, opts)
    return store.cached("map_pages", spec.layers, (name, opts.cache_key()), lambda: render_map(name, store, opts))


# --- layer summaries of tiled layers (what a served page reads instead of the layer) ------------

def summarize_layer(store, layer: str, value_columns: list[str]) -> LayerSummary:
    """Count, extent, columns and the value counts of `value_columns` (those the layer has).

    Kept per data revision (a write gives a new revision, so a summary is never stale); a layer
    whose revision the store cannot vouch for is summarised on every call (~0.2 s for 100 000
    parcels on GeoPackage)."""
    return store.cached("layer_summaries", layer, tuple(value_columns), lambda: _summarize(store, layer, value_columns))


def _summarize(store, layer: str, value_columns: list[str]) -> LayerSummary:
    columns = tuple(c for c in store.columns(layer) if c != "geometry")
    wanted = list(dict.fromkeys(c for c in value_columns if c in columns))
    values: dict[str, dict[str, int]] = {c: {} for c in wanted}
    if wanted:
        # One scan for every style field (their combinations are few) and the count with it.
        rows = store.value_counts(layer, wanted)
        count = 0
        for row in rows:
            n = int(row[-1])
            count += n
            for col, v in zip(wanted, row[:-1]):
                if v is not None:
                    values[col][str(v)] = values[col].get(str(v), 0) + n
    else:
        count = int(store.count(layer))
    bounds = store.extent(layer, ttl=0.0)
    return LayerSummary(layer, count, bounds, columns, values)
