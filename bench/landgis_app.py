"""uvicorn factory for the benchmark: `uvicorn --factory bench.landgis_app:make` (store from $LANDGIS_STORE)."""

from api.app import create_app
from api.settings import Settings


def make():
    return create_app(Settings())
