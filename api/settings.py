"""Service settings, from the environment (prefix LANDGIS_) or a .env file."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LANDGIS_", env_file=".env", extra="ignore")

    store: str = "data/landgis.gpkg"
    sizhi_max_mu: float = 3000.0
    """Largest plausible parcel (亩) a 四至 text may pin (LANDGIS_SIZHI_MAX_MU; read from the environment
    by services/locations.py): a larger candidate area is never "resolved"."""
    survey_crs: str = "EPSG:4546"
    """The survey CRS whose plane area is `area_m2`, the registered 宗地面积 (LANDGIS_SURVEY_CRS; read
    from the environment by gis/crs.py, so the CLI and every worker agree). `ellipsoid_area_m2` is independent of it."""
    title: str = "南阳高新区土地与地块 GIS 服务 (landgis)"
    max_upload_mb: int = 50
    tianditu_key: str | None = None
    default_limit: int = 100
    max_limit: int = 10000
    cors_origins: str = "*"
    """Origins whose web pages may call landgis (LANDGIS_CORS_ORIGINS): `*` or a comma-separated
    list such as `https://yzt.example.gov.cn,http://10.1.2.3:8080`. Credentials mode is allowed
    for listed origins only, never with `*` (api/cors.py says why)."""
    map_large_threshold: int = 5000
    """Above this many features a served map draws the layer from vector tiles (LANDGIS_MAP_LARGE_THRESHOLD)."""
    map_download_max_features: int = 20000
    """A map page that would embed more features than this is refused with 413 before it is built
    (LANDGIS_MAP_DOWNLOAD_MAX_FEATURES): a 100 000-parcel self-contained page is 74 MB and takes
    gigabytes to build. Served maps draw large layers from vector tiles and stay under it."""
    tile_cache_mb: float = 128
    """Encoded vector tiles kept by data revision (LANDGIS_TILE_CACHE_MB; 0 turns the cache off)."""
    map_cache_mb: int = 64
    """Rendered map pages kept by data revision (LANDGIS_MAP_CACHE_MB; 0 turns the cache off)."""
    jobs_dir: str | None = None
    """Where a GeoPackage store keeps job results (LANDGIS_JOBS_DIR; default `<store>-jobs/` next to
    the .gpkg). PostGIS keeps them in the store, so every host sees them."""
    jobs_keep: int = 50
    """Finished jobs kept (with their results); older ones are pruned when a job starts."""
    jobs_threads: int = 1
    """Jobs one server process runs at once; more wait in its queue."""
    jobs_stale_s: float = 60.0
    """A queued/running job whose heartbeat (renewed every 5 s) is older than this is failed."""
    lock_timeout_s: float = 5.0
    """Longest wait of a write for a row or layer another session holds (LANDGIS_LOCK_TIMEOUT_S);
    past it the request answers 503 with Retry-After and nothing is written. The store reads the
    same variable, so the CLI honours it too."""
    basemaps: str | None = None
    """The bureau's own basemaps for the map switcher (LANDGIS_BASEMAPS): a JSON list of
    {"name", "url" (XYZ / Web Mercator WMTS template with {z} {x} {y}), "crs" (EPSG:3857 | GCJ02),
    "offset_m" [east, north], "attribution", "key", "max_zoom", "annotation_url"}; see maps/basemaps.py."""
    map_producer: str = "南阳高新技术产业开发区管理委员会"
    """制图单位 printed on every map sheet (LANDGIS_MAP_PRODUCER)."""
    chromium: str = "/usr/bin/chromium"
    """The headless Chromium that renders print sheets to PDF/PNG (LANDGIS_CHROMIUM; Debian's `chromium`)."""
    print_concurrency: int = 2
    """Map sheets rendered at once per process (LANDGIS_PRINT_CONCURRENCY); each is a Chromium (~150 MB)."""
    print_wait_s: float = 10.0
    """Longest wait for a free render slot before a print request answers 503 (LANDGIS_PRINT_WAIT_S)."""
    tile_packs: str | None = None
    """A folder of PMTiles packs (`landgis tiles`) served at /tile-packs with range requests (LANDGIS_TILE_PACKS)."""
