"""MapLibre styles of the maps by name (`GET /maps/{name}/style.json`): read the layers' summaries,
build the style (maps/maplibre.py).

Only maps whose content is stored layers can be a style over the vector tiles: `parcels`. The
others show analysis results (亩均 classes, 标准地 verdicts, the suitability raster) that no tile
carries; asking for their style is answered with what to use instead (`StyleUnavailable`).
"""

from __future__ import annotations

from maps.errors import MapInputError
from maps.maplibre import parcels_style
from maps.parcels import RESERVE_VALUE_COLUMNS
from services.maps import get_spec, summarize_layer

STYLED_MAPS = ("parcels",)


class StyleUnavailable(MapInputError):
    """The map exists but has no MapLibre style (its content is not in the vector tiles)."""


def map_style(name: str, store, base: str, *, labels: bool = True) -> dict:
    """The MapLibre style of map `name` with every URL under `base` (the service's own)."""
    spec = get_spec(name)  # MapInputError for an unknown map
    if name not in STYLED_MAPS:
        raise StyleUnavailable(
            f"地图“{spec.title}”显示的是分析结果（不在矢量瓦片中），暂无 MapLibre 样式。"
            f"请打开网页地图 /maps/{name}；有 MapLibre 样式的地图：{'、'.join(STYLED_MAPS)}。"
        )
    if not store.layer_exists("reserve_parcels"):
        raise StyleUnavailable("存储中没有图层 reserve_parcels，无法生成该地图的样式。请先运行 `landgis init` 载入样例数据或导入该图层。")

    def summary(layer: str, columns: list[str]):
        return summarize_layer(store, layer, columns) if store.layer_exists(layer) else None

    return parcels_style(
        base,
        summarize_layer(store, "reserve_parcels", RESERVE_VALUE_COLUMNS),
        summary("park_zones", ["geometry_source"]),
        summary("zone_boundary", ["kind", "geometry_source"]),
        summary("roads", ["geometry_source"]),
        labels=labels,
    )
