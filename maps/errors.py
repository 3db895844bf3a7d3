"""The errors a map request can meet, each with a Chinese message that says what to do.

Why a module of their own: the builders (maps/base.py), the basemap rules (maps/basemaps.py)
and the print sheets (maps/sheet.py, services/map_print.py) raise them, and the API maps each
class to one HTTP status (api/routers/maps.py)."""

from __future__ import annotations


class MapInputError(ValueError):
    """A map request that cannot be honoured (unknown map/basemap, missing key): Chinese message."""


class MapUnavailable(MapInputError):
    """The store lacks the data a map needs (or an analysis is not installed): says what to do."""


class MapForbidden(MapInputError):
    """A map of economic data asked for by a role below `analyst` (the HTTP edge checks first)."""


class MapTooLarge(MapInputError):
    """A self-contained map would embed more features than allowed: use the served (tiled) map."""


class MapConfigError(MapInputError):
    """The server's own map settings are wrong (e.g. LANDGIS_BASEMAPS): the administrator's to fix (503)."""
