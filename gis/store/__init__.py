"""Stores behind one interface: a GeoPackage file (embedded default) or PostGIS (production)."""

from __future__ import annotations

import os
from pathlib import Path

from gis.store.base import Store

DEFAULT_STORE = "data/landgis.gpkg"


def store_url(url: str | None = None) -> str:
    """The store the user asked for: --store, else $LANDGIS_STORE, else data/landgis.gpkg."""
    return url or os.environ.get("LANDGIS_STORE") or DEFAULT_STORE


def open_store(url: str | None = None, *, init: bool = True) -> Store:
    target = store_url(url)
    if target.startswith(("postgresql://", "postgres://")):
        from gis.store.postgis import PostGISStore

        store: Store = PostGISStore(target)
    else:
        from gis.store.geopackage import GeoPackageStore

        store = GeoPackageStore(Path(target))
    if init:
        store.init()
    return store


__all__ = ["Store", "open_store", "store_url", "DEFAULT_STORE"]
