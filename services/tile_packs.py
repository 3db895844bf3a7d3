"""A layer packed as one PMTiles archive (SPEC §8.2, §12): vector tiles for intranets, field
laptops and CDNs, read with HTTP range requests and no tile server.

The tiles are the store's own (`Store.tile`: the same MVT bytes the API serves, the same access
rule on the columns), gzip-compressed as the PMTiles spec expects for MVT, written with the
`pmtiles` package's writer (tile data goes to a temporary file as it is made; memory holds only
the directory entries). Only tiles over the layer's extent are visited, and a tile whose buffered
box holds no feature prunes its children: a child's box lies inside its parent's, so it is empty too.

Access: a pack is a file that leaves the service, so the rule of parcels/access.py decides its
columns when it is written. `pack_role` names the role a pack needs: `analyst` when the layer is
not public or the pack keeps economic fields; the pack records it in its metadata
(`landgis:role`), and the API serves a pack only to callers with that role.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from gis.errors import InputError
from gis.store import Store

MAX_PACK_ZOOM = 18
MAX_TILES = 500_000
"""Above this many candidate tiles at one zoom the pack is refused (a lower --maxzoom is the fix):
the candidates of one zoom are the only list the writer holds besides the directory entries."""
ROLE_KEY = "landgis:role"
FIELD_TYPES = {"INTEGER": "Number", "REAL": "Number", "BOOLEAN": "Boolean"}


@dataclass
class PackReport:
    path: Path
    layer: str
    role: str
    tiles: int
    visited: int
    bytes: int
    columns: list[str]
    zooms: tuple[int, int]


def pack_role(layer: str, *, include_restricted: bool) -> str:
    """`analyst` if the pack would hold what only an analyst may see, else `anonymous`."""
    from parcels.schema import LAYERS

    spec = LAYERS.get(layer)
    public = bool(spec and spec.public)
    return "analyst" if (not public or include_restricted) else "anonymous"


def _check_zooms(minzoom: int, maxzoom: int) -> None:
    if not 0 <= minzoom <= maxzoom <= MAX_PACK_ZOOM:
        raise InputError(
            f"缩放级别 --minzoom {minzoom} / --maxzoom {maxzoom} 无效。",
            hint=f"应满足 0 ≤ minzoom ≤ maxzoom ≤ {MAX_PACK_ZOOM}，如 --minzoom 10 --maxzoom 16。",
        )


def _tile_range(bounds: tuple[float, float, float, float], z: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1), inclusive: the tiles of zoom `z` over the lon/lat box."""
    import morecantile

    tms = morecantile.tms.get("WebMercatorQuad")
    w, s, e, n = bounds
    top_left, bottom_right = tms.tile(w, n, z), tms.tile(e, s, z)
    return top_left.x, top_left.y, bottom_right.x, bottom_right.y


def _candidates(bounds: tuple[float, float, float, float], z: int, parents: set[tuple[int, int]] | None) -> list[tuple[int, int, int]]:
    """The tiles of zoom `z` to visit: every tile over the extent at the first zoom, then only the
    children (inside the extent) of tiles that held features — never the whole range of a deep zoom."""
    x0, y0, x1, y1 = _tile_range(bounds, z)
    if parents is None:
        count = (x1 - x0 + 1) * (y1 - y0 + 1)
        if count > MAX_TILES:
            raise InputError(f"第 {z} 级覆盖图层范围需要 {count} 个瓦片，超过上限 {MAX_TILES}。", hint="请增大 --minzoom（起始级别过低时整个范围的瓦片都要检查）或缩小 --maxzoom。")
        return [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    if 4 * len(parents) > MAX_TILES:
        raise InputError(f"第 {z} 级需要检查 {4 * len(parents)} 个瓦片，超过上限 {MAX_TILES}。", hint=f"请把 --maxzoom 减到 {z - 1} 或更小。")
    return [
        (z, x, y)
        for px, py in parents
        for x in (2 * px, 2 * px + 1)
        for y in (2 * py, 2 * py + 1)
        if x0 <= x <= x1 and y0 <= y <= y1
    ]


def write_pack(
    store: Store,
    layer: str,
    out: str | Path,
    *,
    minzoom: int = 10,
    maxzoom: int = 16,
    role: str = "anonymous",
    on_zoom: Callable[[int, int], None] = lambda z, n: None,
    on_tile: Callable[[], None] = lambda: None,
) -> PackReport:
    """Write `layer` as a PMTiles archive at `out` with the columns `role` may see.

    Written to `out.part` and renamed when whole, so a failed pack leaves no broken archive."""
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer

    from gis.store.items import visible_columns
    from gis.tiles import tile_columns
    from parcels.access import hidden_for
    from parcels.schema import LAYERS

    _check_zooms(minzoom, maxzoom)
    if not store.layer_exists(layer):
        raise InputError(f"存储中没有图层 {layer}。", hint="可用图层：" + "、".join(store.layer_names()) + "。")
    spec = LAYERS.get(layer)
    if role == "anonymous" and not (spec and spec.public):
        raise InputError(f"图层 {layer} 不是公开图层，打包需要分析人员（analyst）权限。")
    bounds = store.extent(layer)
    if bounds is None:
        raise InputError(f"图层 {layer} 没有几何（或为空），无法打包瓦片。", hint="先导入带几何的要素。")
    kinds = visible_columns(store, layer, hidden_for(role))
    columns = tile_columns(list(kinds))

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")
    written = visited = 0
    try:
        with open(part, "wb") as f:
            writer = Writer(f)
            parents: set[tuple[int, int]] | None = None  # tiles with features at the zoom above
            for z in range(minzoom, maxzoom + 1):
                candidates = _candidates(bounds, z, parents)
                candidates.sort(key=lambda t: zxy_to_tileid(*t))  # clustered archive: tile ids ascending
                on_zoom(z, len(candidates))
                kept: set[tuple[int, int]] = set()
                for tz, tx, ty in candidates:
                    data = store.tile(layer, tz, tx, ty, columns, kinds)
                    visited += 1
                    on_tile()
                    if not data:
                        continue
                    writer.write_tile(zxy_to_tileid(tz, tx, ty), gzip.compress(data, mtime=0))
                    kept.add((tx, ty))
                    written += 1
                parents = kept
                if not kept:
                    break
            if not written:
                raise InputError(f"图层 {layer} 在 {minzoom}–{maxzoom} 级没有任何非空瓦片。", hint="请检查图层几何，或调整缩放级别。")
            w, s, e, n = bounds
            header = {
                "tile_type": TileType.MVT,
                "tile_compression": Compression.GZIP,
                "min_lon_e7": int(w * 1e7), "min_lat_e7": int(s * 1e7), "max_lon_e7": int(e * 1e7), "max_lat_e7": int(n * 1e7),
                "center_zoom": minzoom, "center_lon_e7": int((w + e) / 2 * 1e7), "center_lat_e7": int((s + n) / 2 * 1e7),
            }
            title = spec.title_zh if spec else layer
            restricted = role != "anonymous"
            metadata = {
                "name": title,
                "description": f"{title}（南阳高新区 landgis 瓦片包）" + ("；内部资料：含企业经济字段或非公开图层，仅限分析人员使用" if restricted else ""),
                "attribution": "南阳高新区 landgis" + ("；样例数据为示意/合成数据" if _is_sample(store, layer) else ""),
                "format": "pbf",
                "vector_layers": [{"id": layer, "fields": {c: FIELD_TYPES.get(kinds[c], "String") for c in columns}, "minzoom": minzoom, "maxzoom": maxzoom}],
                ROLE_KEY: role,
                "landgis:crs": "EPSG:4490 数据，瓦片为 WebMercatorQuad（EPSG:3857）",
            }
            writer.finalize(header, metadata)
        os.replace(part, out)
    finally:
        part.unlink(missing_ok=True)
    return PackReport(out, layer, role, written, visited, out.stat().st_size, columns, (minzoom, maxzoom))


def _is_sample(store: Store, layer: str) -> bool:
    """Whether the layer carries the sample's schematic/synthetic marks (so the pack says so)."""
    cols = store.columns(layer)
    if "geometry_source" not in cols:
        return False
    try:
        frame = store.read_layer(layer, columns=["geometry_source"])
    except Exception:  # noqa: BLE001 - the mark is a courtesy; a failure to read it is not a failed pack
        return False
    return bool((frame["geometry_source"] == "schematic").any())


def pack_role_of(path: str | Path) -> str:
    """The role a pack file needs (its `landgis:role` metadata; `analyst` if it cannot be read)."""
    from pmtiles.reader import MmapSource, Reader

    try:
        with open(path, "rb") as f:
            return str(Reader(MmapSource(f)).metadata().get(ROLE_KEY) or "analyst")
    except Exception:  # noqa: BLE001 - an unreadable pack is served to nobody below analyst
        return "analyst"
