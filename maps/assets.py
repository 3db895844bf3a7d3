"""Where the maps' JavaScript/CSS live, how the API serves them and how a saved map inlines them.

Why: the bureau's intranet has no internet (SPEC §9), so nothing a map needs may come from a
CDN. Leaflet and every plugin are unpacked from the npm registry at install time by
`scripts/fetch-map-assets.sh` into `maps/assets/vendor/` (gitignored); landgis' own small
CSS/JS sit beside it in `maps/assets/`. A served map links them under a static prefix
(`/static/maps/...`, one download, cached); a saved map (`landgis map NAME --out F.html`) has
them inlined, images and fonts as `data:` URIs, so the one file works anywhere.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ASSET_DIR = Path(__file__).resolve().parent / "assets"
VENDOR_DIR = ASSET_DIR / "vendor"
STATIC_PREFIX = "/static/maps"
"""URL prefix under which api/routers/maps.py serves ASSET_DIR."""

FETCH_HINT = "请在项目目录运行 `bash scripts/fetch-map-assets.sh`（从 npm 仓库安装 Leaflet 及插件，仅需一次）。"


class MapAssetsMissing(RuntimeError):
    """The vendored front-end files are not installed: a set-up problem, not bad user input."""


@dataclass(frozen=True)
class Asset:
    key: str
    kind: str  # "js" | "css"
    path: str  # relative to ASSET_DIR


# Pinned with scripts/fetch-map-assets.sh. Order matters: Leaflet before its plugins.
ASSETS: dict[str, Asset] = {
    a.key: a
    for a in (
        Asset("leaflet", "js", "vendor/leaflet/dist/leaflet.js"),
        Asset("leaflet_css", "css", "vendor/leaflet/dist/leaflet.css"),
        Asset("fullscreen", "js", "vendor/leaflet.fullscreen/Control.FullScreen.js"),
        Asset("fullscreen_css", "css", "vendor/leaflet.fullscreen/Control.FullScreen.css"),
        Asset("measure", "js", "vendor/leaflet-measure/dist/leaflet-measure.min.js"),
        Asset("measure_css", "css", "vendor/leaflet-measure/dist/leaflet-measure.css"),
        Asset("search", "js", "vendor/leaflet-search/dist/leaflet-search.min.js"),
        Asset("search_css", "css", "vendor/leaflet-search/dist/leaflet-search.min.css"),
        Asset("vectorgrid", "js", "vendor/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js"),
        Asset("landgis", "js", "landgis-maps.js"),
        Asset("landgis_css", "css", "landgis-maps.css"),
    )
}


def check_assets(keys: list[str] | None = None) -> None:
    """Raise MapAssetsMissing (Chinese message with the fix) if any wanted file is absent."""
    missing = [a.path for k, a in ASSETS.items() if (keys is None or k in keys) and not (ASSET_DIR / a.path).is_file()]
    if missing:
        raise MapAssetsMissing(f"地图前端资源缺失：{', '.join(missing)}。{FETCH_HINT}")


def asset_url(key: str, prefix: str = STATIC_PREFIX) -> str:
    return f"{prefix.rstrip('/')}/{ASSETS[key].path}"


def resolve_static(path: str) -> Path | None:
    """The file under ASSET_DIR that `path` names, or None (also for any traversal attempt)."""
    if not path or "\x00" in path or "\\" in path:
        return None
    root = ASSET_DIR.resolve()
    target = (root / path).resolve()
    if root not in target.parents or not target.is_file():
        return None
    return target


# --- inlining -----------------------------------------------------------------------------

_CSS_URL = re.compile(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)")


def _data_uri(file: Path) -> str:
    mime = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    if file.suffix == ".svg":
        mime = "image/svg+xml"
    return f"data:{mime};base64,{base64.b64encode(file.read_bytes()).decode('ascii')}"


@lru_cache(maxsize=32)
def inline_css(rel_path: str) -> str:
    """A stylesheet's text with every relative url(...) (images, fonts) turned into a data: URI."""
    file = ASSET_DIR / rel_path

    def repl(m: re.Match) -> str:
        ref = m.group(2).strip()
        if ref.startswith(("data:", "#", "http:", "https:", "//")):
            return m.group(0)
        target = (file.parent / ref.split("?")[0].split("#")[0]).resolve()
        if not target.is_file():
            return m.group(0)
        return f'url("{_data_uri(target)}")'

    return _CSS_URL.sub(repl, file.read_text(encoding="utf-8"))


@lru_cache(maxsize=32)
def inline_js(rel_path: str) -> str:
    # A literal "</script" inside the code would close the inline <script> element early.
    return (ASSET_DIR / rel_path).read_text(encoding="utf-8").replace("</script", "<\\/script")


def inline_assets(html: str, prefix: str = STATIC_PREFIX) -> str:
    """Replace every <script src>/<link href> under `prefix` by the file's inlined content."""
    p = re.escape(prefix.rstrip("/"))
    script = re.compile(rf'<script\s+src="{p}/([^"]+)"\s*>\s*</script>')
    link = re.compile(rf'<link\s+rel="stylesheet"\s+href="{p}/([^"]+)"\s*/?>')

    def js(m: re.Match) -> str:
        return f"<script>/* {m.group(1)} */\n{inline_js(m.group(1))}\n</script>"

    def css(m: re.Match) -> str:
        return f"<style>/* {m.group(1)} */\n{inline_css(m.group(1))}\n</style>"

    # Function replacements: the inlined code must not be read as a regex template.
    return link.sub(css, script.sub(js, html))
