"""The FastAPI application factory: one store, one settings object, routers mounted once."""

from __future__ import annotations

from fastapi import FastAPI

from api import errors
from api.routers import health
from api.settings import Settings
from gis.store import Store, open_store


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title=settings.title,
        version="0.1.0",
        description="南阳高新区土地与地块 GIS 服务：储备地块、产业园区、亩均效益评价、标准地与扩区研究。",
    )
    app.state.settings = settings
    app.state.store = store or open_store(settings.store)
    errors.install(app)
    app.include_router(health.router)
    return app
