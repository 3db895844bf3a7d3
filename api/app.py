"""The FastAPI application factory: one store, one settings object, routers mounted once.

`create_app(settings, store=None)` is the only way an app is built (CLI `serve`, tests, bench),
so every instance gets the same error handlers, access rules and routers on either store.
"""

from __future__ import annotations

from fastapi import FastAPI

from api import errors
from api.cors import wrap_outermost
from api.ogc import openapi
from api.limits import BodyLimit
from api.routers import analysis, edits, features, health, imports, jobs, keys, maps, study, supervision, tiles
from api.routers import enterprises, processes, styles, tile_packs
from api.settings import Settings
from gis.store import Store, open_store


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title=settings.title,
        version="0.1.0",
        description="南阳高新区土地与地块 GIS 服务：储备地块、产业园区、亩均效益评价、标准地与扩区研究。OGC API – Features（第1–3部分）与矢量瓦片。",
    )
    app.state.settings = settings
    app.state.store = store or open_store(settings.store)
    from services.areas import upgrade_areas_on_open  # a store made before ellipsoid_area_m2 (SPEC §3.1)

    upgrade_areas_on_open(app.state.store)
    if settings.lock_timeout_s > 0:  # bounded lock waits of every write (gis.store.base.Store._writing)
        app.state.store.lock_timeout_s = float(settings.lock_timeout_s)
    app.state.store.caches.set_budget("map_pages", int(settings.map_cache_mb) * 1024 * 1024)
    app.state.store.caches.set_budget("tiles", int(settings.tile_cache_mb * 1024 * 1024))
    errors.install(app)
    app.add_middleware(BodyLimit, cap_mb=int(settings.max_upload_mb))
    wrap_outermost(app, settings.cors_origins)  # CORS + HEAD on every answer, 500s included (api/cors.py)
    openapi.install(app)  # every query parameter typed (api/ogc/openapi.py)

    app.include_router(health.router)
    app.include_router(features.router)
    app.include_router(tiles.router)
    app.include_router(keys.router)
    app.include_router(edits.router)
    app.include_router(analysis.router)
    app.include_router(enterprises.router)
    app.include_router(study.router)
    app.include_router(maps.router)
    app.include_router(styles.router)
    app.include_router(jobs.router)
    app.include_router(processes.router)  # OGC API – Processes: /processes, /jobs (api/processes.py registry)
    app.include_router(tile_packs.router)  # PMTiles packs of `landgis tiles` (LANDGIS_TILE_PACKS)
    app.include_router(imports.router)
    app.include_router(supervision.router)
    from api.routers import intensity  # GET /intensity (issue 15, SPEC §11)

    app.include_router(intensity.router)
    return app
