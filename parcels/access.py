"""The one access rule for economic fields (SPEC §8.4): every path out asks this module.

Enterprise economic fields (tax, revenue, energy, …: `Field.restricted` in parcels/schema.py)
never leave the service for a caller below `analyst`. Which layer a field sits on does not
matter: an admin PATCH or an import can plant `tax` on a public layer, and the rule must still
hold there. So the rule is by field *name*, applied to whatever leaves — an items page, a tile,
a served or downloaded map, a history record, an export, an error message.

Pure functions on plain values and frames, so `gis`, `maps` and `api` can all use them without
the domain importing the edges. The caller's role is a string ("anonymous" | "analyst" |
"admin") rather than api.auth.Principal, for the same reason.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from gis.names import name_in
from parcels.schema import LAYERS

RESTRICTED_FIELDS: frozenset[str] = frozenset(f for layer in LAYERS.values() for f in layer.restricted_fields)
"""Every field any layer marks restricted; the rule applies to the name on any layer."""

ROLE_RANK = {"anonymous": 0, "analyst": 1, "admin": 2}


def may_see_economic(role: str) -> bool:
    """True for `analyst` and `admin`."""
    return ROLE_RANK.get(role, 0) >= ROLE_RANK["analyst"]


def hidden_for(role: str) -> frozenset[str]:
    """The field names a caller of `role` must not receive (empty for analyst and above)."""
    return frozenset() if may_see_economic(role) else RESTRICTED_FIELDS


def is_hidden(name: str, hidden: frozenset[str]) -> bool:
    """A column is hidden by its exact name or by its lower-cased name (`TAX` from a shapefile)."""
    return name_in(name, hidden)


def visible_names(names: Iterable[str], hidden: frozenset[str]) -> list[str]:
    return [n for n in names if not is_hidden(n, hidden)]


def redact_mapping(values: Mapping[str, Any] | None, hidden: frozenset[str]) -> dict | None:
    """A copy of a property dict without hidden keys (None stays None)."""
    if values is None:
        return None
    if not hidden:
        return dict(values)
    return {k: v for k, v in values.items() if not is_hidden(k, hidden)}


def redact_frame(frame, hidden: frozenset[str]):
    """The frame without hidden columns (the geometry column is never hidden)."""
    if not hidden:
        return frame
    drop = [c for c in frame.columns if isinstance(c, str) and is_hidden(c, hidden)]
    return frame.drop(columns=drop) if drop else frame
