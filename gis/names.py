"""Column names as GIS files spell them.

A shapefile's DBF upper-cases names (`TAX`), desktop GIS and spreadsheets mix cases, so a rule
about a column — "tax is restricted" — must match its name case-folded. This is the matching
only; which names a rule lists is the domain's (parcels/access.py).
"""

from __future__ import annotations

from collections.abc import Collection


def name_in(name: str, names: Collection[str]) -> bool:
    """True when `name` is one of `names` exactly or once lower-cased (`TAX` ∈ {"tax"})."""
    return name in names or name.lower() in names
