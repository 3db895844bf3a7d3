"""The basemaps a landgis map can switch between: built-in ones and the bureau's own tile services.

Why a switcher with rules instead of one basemap fixed by the URL: an official needs to look at
the parcels over a road map, then over imagery, then without anything (the offline default);
a bureau usually runs its own intranet tile service (XYZ or WMTS in Web Mercator) that landgis
cannot know in advance, so it is configured in `LANDGIS_BASEMAPS` (JSON, see `parse_bureau_basemaps`).

GCJ-02 (AMap and any bureau service declared `"crs": "GCJ02"`): the page's data must be shifted
to match those tiles, and a shifted page is wrong over every other basemap. So **GCJ-02
basemaps are offered only on pages built for them** (`?basemap=amap`: the data is shifted when
the page is built, and its switcher lists only GCJ-02 basemaps and "none"); a normal page lists
the CGCS2000/WGS 84 basemaps and a link that reloads it built for AMap. The data is never
shifted in the browser, so it is never half-shifted.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from maps.errors import MapConfigError, MapInputError


@dataclass(frozen=True)
class Basemap:
    key: str
    title: str
    url: str | None
    attribution: str = ""
    subdomains: str = "abc"
    max_zoom: int = 18
    overlay_url: str | None = None  # annotation layer (天地图 注记), drawn with the basemap
    overlay_title: str | None = None
    gcj02: bool = False  # tiles in GCJ-02 (AMap): the page's data is shifted to match
    offset_m: tuple[float, float] = (0.0, 0.0)  # (east, north) metres the tiles are drawn shifted by
    tianditu: bool = False  # needs LANDGIS_TIANDITU_KEY (its `{key}` placeholder)
    bureau: bool = False  # configured by the bureau (LANDGIS_BASEMAPS)
    layer: str = ""  # Tianditu layer names: "vec" / "img"
    overlay_layer: str = ""  # "cva" / "cia"

    def tile_url(self, tianditu_key: str | None) -> str | None:
        if self.url is None:
            return None
        return self.url.format(layer=self.layer, key=tianditu_key) if self.tianditu else self.url

    def overlay_tile_url(self, tianditu_key: str | None) -> str | None:
        if self.overlay_url is None:
            return None
        return self.overlay_url.format(layer=self.overlay_layer, key=tianditu_key) if self.tianditu else self.overlay_url

    def to_js(self, tianditu_key: str | None) -> dict:
        """What landgis.basemapLayer (maps/assets/landgis-maps.js) needs to draw it."""
        return {
            "key": self.key, "title": self.title, "url": self.tile_url(tianditu_key), "attribution": self.attribution,
            "subdomains": self.subdomains, "maxZoom": self.max_zoom, "overlayUrl": self.overlay_tile_url(tianditu_key),
            "offset": list(self.offset_m) if any(self.offset_m) else None, "gcj02": self.gcj02,
        }


_TDT = "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
_TDT_ATTR = "© 天地图（国家地理信息公共服务平台）"

BASEMAPS: dict[str, Basemap] = {
    b.key: b
    for b in (
        Basemap("none", "无底图（离线）", None),
        Basemap("osm", "OpenStreetMap", "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "© OpenStreetMap 贡献者", "", 19),
        Basemap("tianditu", "天地图矢量", _TDT, _TDT_ATTR, "01234567", 18, overlay_url=_TDT, overlay_title="天地图矢量注记", tianditu=True, layer="vec", overlay_layer="cva"),
        Basemap("amap", "高德地图（GCJ-02）", "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}", "© 高德地图", "1234", 18, gcj02=True),
    )
}
"""The basemaps `?basemap=` / `--basemap` name (the list `GET /maps` shows)."""

EXTRA_BUILTIN: dict[str, Basemap] = {
    "tianditu_img": Basemap("tianditu_img", "天地图影像", _TDT, _TDT_ATTR, "01234567", 18, overlay_url=_TDT, overlay_title="天地图影像注记", tianditu=True, layer="img", overlay_layer="cia"),
}
"""Offered in the switcher (and accepted by `?basemap=`) beside BASEMAPS."""

_KEY = re.compile(r"^[a-z0-9_-]{1,40}$")
_CRS = {"EPSG:3857": False, "EPSG:900913": False, "WEBMERCATOR": False, "GCJ02": True, "GCJ-02": True}


def parse_bureau_basemaps(text: str | None) -> tuple[Basemap, ...]:
    """The bureau's basemaps from `LANDGIS_BASEMAPS`: a JSON list of objects

    `{"name": "内网影像", "url": "http://10.1.2.3/tiles/{z}/{x}/{y}.png", "crs": "EPSG:3857",
    "attribution": "南阳市自然资源和规划局", "offset_m": [0, 0], "key": "intranet", "max_zoom": 20,
    "subdomains": "abc", "annotation_url": "..."}`

    `url` is an XYZ template or a WMTS GetTile URL (KVP or REST) of a Web Mercator
    (GoogleMapsCompatible) tile matrix set, with `{z}` `{x}` `{y}` (or `{-y}`) in place of the
    tile matrix, column and row. `crs`: `EPSG:3857` (default; CGCS2000/WGS 84 data drawn as is)
    or `GCJ02`; `offset_m` shifts the tiles east/north by that many metres when a service is
    known to be misregistered. Raises MapConfigError (Chinese, names the entry) when invalid."""
    if text is None or not str(text).strip():
        return ()
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise MapConfigError(f"底图配置 LANDGIS_BASEMAPS 不是有效的 JSON：{exc}。应为列表，如 [{{\"name\": \"内网影像\", \"url\": \"http://…/{{z}}/{{x}}/{{y}}.png\"}}]。") from exc
    if not isinstance(data, list):
        raise MapConfigError("底图配置 LANDGIS_BASEMAPS 应为 JSON 列表（[...]），每项一个底图。")
    out: list[Basemap] = []
    seen = set(BASEMAPS) | set(EXTRA_BUILTIN)
    for i, item in enumerate(data, start=1):
        where = f"LANDGIS_BASEMAPS 第 {i} 项"
        if not isinstance(item, dict):
            raise MapConfigError(f"{where} 应为对象（{{\"name\": …, \"url\": …}}）。")
        name, url = item.get("name"), item.get("url")
        if not isinstance(name, str) or not name.strip():
            raise MapConfigError(f"{where} 缺少名称 name。")
        if not isinstance(url, str) or not re.match(r"^https?://", url, re.I):
            raise MapConfigError(f"{where}（{name}）的 url 应为 http(s):// 开头的瓦片地址模板。")
        if "{z}" not in url or "{x}" not in url or not ("{y}" in url or "{-y}" in url):
            raise MapConfigError(f"{where}（{name}）的 url 须含 {{z}}、{{x}}、{{y}}（WMTS 的 TILEMATRIX/TILECOL/TILEROW 也用这三个占位符）。")
        crs = str(item.get("crs") or "EPSG:3857").strip().upper()
        if crs not in _CRS:
            raise MapConfigError(f"{where}（{name}）的 crs=“{item.get('crs')}”不支持：只能是 EPSG:3857（Web 墨卡托，CGCS2000/WGS84 经纬度）或 GCJ02。EPSG:4490 经纬度切片（如天地图 _c 系列）请改用 _w（球面墨卡托）服务。")
        key = str(item.get("key") or f"bureau{i}").strip().lower()
        if not _KEY.match(key) or key in seen:
            raise MapConfigError(f"{where}（{name}）的 key=“{key}”无效或重复：只能用小写字母、数字、_ 和 -，且不能与其他底图相同。")
        seen.add(key)
        offset = item.get("offset_m") or [0, 0]
        try:
            east, north = (float(v) for v in offset)
        except (TypeError, ValueError):
            raise MapConfigError(f"{where}（{name}）的 offset_m 应为 [东向米数, 北向米数]。") from None
        if max(abs(east), abs(north)) > 1000:
            raise MapConfigError(f"{where}（{name}）的 offset_m 超过 1000 米：偏移这么大的底图请先纠正坐标系。")
        ann = item.get("annotation_url")
        if ann is not None and (not isinstance(ann, str) or not re.match(r"^https?://", ann, re.I)):
            raise MapConfigError(f"{where}（{name}）的 annotation_url 应为 http(s):// 开头的瓦片地址模板。")
        try:
            max_zoom = int(item.get("max_zoom", 18))
        except (TypeError, ValueError):
            raise MapConfigError(f"{where}（{name}）的 max_zoom 应为整数。") from None
        out.append(Basemap(
            key, name.strip(), url, str(item.get("attribution") or name.strip()), str(item.get("subdomains") or "abc"), max(1, min(max_zoom, 22)),
            overlay_url=ann, overlay_title=f"{name.strip()}注记" if ann else None, gcj02=_CRS[crs], offset_m=(east, north), bureau=True,
        ))
    return tuple(out)


@dataclass(frozen=True)
class BasemapChoice:
    """The basemap a page opens with and what its switcher offers."""

    initial: Basemap
    offered: tuple[Basemap, ...] = field(default_factory=tuple)
    gcj02_alternative: Basemap | None = None  # a GCJ-02 basemap the page could be rebuilt for


def all_basemaps(bureau: tuple[Basemap, ...] = ()) -> dict[str, Basemap]:
    return {**BASEMAPS, **EXTRA_BUILTIN, **{b.key: b for b in bureau}}


def check_basemap(basemap: str | None, tianditu_key: str | None = None, bureau: tuple[Basemap, ...] = ()) -> Basemap:
    """The basemap `?basemap=` names, or a Chinese MapInputError that lists the choices."""
    key = (basemap or "none").strip().lower()
    known = all_basemaps(bureau)
    if key not in known:
        raise MapInputError(f"底图“{basemap}”不存在。可选：{'、'.join(f'{k}（{b.title}）' for k, b in known.items())}。")
    if known[key].tianditu and not tianditu_key:
        raise MapInputError("天地图底图需要密钥：请在环境变量 LANDGIS_TIANDITU_KEY（或 .env）中配置天地图 tk 后重试，或改用其他底图。")
    return known[key]


def choose_basemaps(basemap: str | None, tianditu_key: str | None = None, bureau: tuple[Basemap, ...] = (), *, internet: bool = True) -> BasemapChoice:
    """The initial basemap and the switcher's list: every basemap of the same coordinate family
    (GCJ-02 or not) that can work here (天地图 only with a key), "none" first.

    `internet=False` leaves out the internet services (OSM, 天地图, AMap) unless one is the
    initial basemap: a saved file exported with the offline default is the artefact that travels
    inside the intranet and holds no internet tile address at all (the bureau's own are kept)."""
    initial = check_basemap(basemap, tianditu_key, bureau)
    offered = tuple(
        b for b in all_basemaps(bureau).values()
        if (b.key == "none" or b.gcj02 == initial.gcj02) and (not b.tianditu or tianditu_key) and (internet or b.bureau or b.key in ("none", initial.key))
    )
    alternative = None if initial.gcj02 else BASEMAPS["amap"]
    return BasemapChoice(initial, offered, alternative)
