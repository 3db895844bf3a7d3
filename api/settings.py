"""Service settings, from the environment (prefix LANDGIS_) or a .env file."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LANDGIS_", env_file=".env", extra="ignore")

    store: str = "data/landgis.gpkg"
    title: str = "南阳高新区土地与地块 GIS 服务 (landgis)"
    max_upload_mb: int = 50
    tianditu_key: str | None = None
    default_limit: int = 100
    max_limit: int = 10000
    map_large_threshold: int = 5000
    """Above this many features a served map draws the layer from vector tiles (LANDGIS_MAP_LARGE_THRESHOLD)."""
