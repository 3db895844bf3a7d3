"""The items query types every store understands: `ItemsQuery` in, `ItemsPage` out.

An `ItemsQuery` is plain data — a lon/lat bbox, `?field=value` equality filters, a CQL2-JSON tree,
extra bound `Clause`s, sort keys, columns, an output CRS as a `gis.crs.AxisCrs` — and each store
turns it into its own SQL (`Store.features`, `Store.count_matched`; the dialect's spelling in
`Store.dialect`). Nothing here writes SQL and nothing here knows OGC's CRS URIs.

Counting: `numberMatched` of an unfiltered request comes from the store's row count, kept in the
store's "counts" cache until the layer's revision changes (`Store.revision`: bumped by a trigger
on every committed write, whoever makes it), so it is never stale and never recounted for
nothing. A layer without a revision (a store made by an older landgis) falls back to
COUNT_TTL_S seconds. A filtered count stops at COUNT_CAP matches, beyond which numberMatched is
omitted (OGC allows leaving it out). A page shorter than `limit` at offset 0 is its own count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gis.crs import STORE_XY, AxisCrs
from gis.errors import InputError

COUNT_CAP = 100_000
"""Filtered counts stop here: beyond it numberMatched is left out rather than counted (OGC allows it)."""
COUNT_TTL_S = 5.0
"""Layers without a revision (older stores) cache their count this many seconds."""
EXTENT_TTL_S = 30.0
"""Layers without a revision cache their extent this many seconds."""
MAX_SORT_KEYS = 8


class FilterError(InputError):
    """A filter that cannot run (syntax, unknown property, type clash, unsupported operator): HTTP 400."""

    status_code = 400


@dataclass
class Clause:
    """A WHERE fragment in one store's dialect, every value a bound parameter."""

    sql: str
    params: list


@dataclass
class ItemsQuery:
    limit: int = 100
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None  # lon/lat (EPSG:4490)
    where: list[Clause] = field(default_factory=list)  # extra clauses, already in the store's dialect
    properties: list[str] | None = None  # None: every visible column
    sortby: list[tuple[str, bool]] = field(default_factory=list)  # (column, descending)
    crs: AxisCrs = STORE_XY  # output: EPSG code and axis order
    hidden: frozenset[str] = frozenset()  # columns the caller may not see (restricted fields)
    equals: list[tuple[str, object]] = field(default_factory=list)  # `?field=value`, values typed
    filter: dict | None = None  # a CQL2-JSON tree (gis.store.cql2.parse_cql2)
    filter_crs: AxisCrs = STORE_XY  # CRS of the filter's geometry literals
    after: int | None = None  # keyset: the fid of the previous page's last row (`cursor` in a `next` link)

    @property
    def keyset(self) -> bool:
        """Pages in fid order (no sortby): the only order a keyset cursor can continue."""
        return not self.sortby

    @property
    def unfiltered(self) -> bool:
        return self.bbox is None and not self.where and not self.equals and self.filter is None


@dataclass
class ItemsPage:
    features: list[str]  # each one GeoJSON Feature, serialised
    number_returned: int
    number_matched: int | None
    last_fid: int | None = None  # the page's last row, for the keyset cursor of its `next` link


# --- keyset cursors ------------------------------------------------------------------------
# A `next` link carries `cursor`, an opaque token for "rows after fid N": the next page is then
# `WHERE fid > N ORDER BY fid LIMIT n`, an index seek, instead of OFFSET, which walks every
# skipped row (415 ms at offset 500 000 of 1 000 000 on GeoPackage). `offset` stays in the link
# for numbering and for clients that page by offset themselves.

CURSOR_PREFIX = "k1."


def encode_cursor(fid: int) -> str:
    """The opaque `cursor` of the page after `fid` (versioned, so its form can change)."""
    import base64

    return CURSOR_PREFIX + base64.urlsafe_b64encode(str(int(fid)).encode()).decode().rstrip("=")


def decode_cursor(text: str) -> int:
    """The fid a `cursor` points after; a token that is not one of ours is a 400, never a 500."""
    import base64
    import binascii

    bad = FilterError(f"cursor 参数“{_shown(text, 40)}”无效。", hint="请使用上一页响应中 rel=next 链接的原样地址，或改用 offset 分页。")
    if not text.startswith(CURSOR_PREFIX) or len(text) > 40:
        raise bad
    body = text[len(CURSOR_PREFIX):]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise bad from None
    if not raw.isdigit() or len(raw) > 18:
        raise bad
    return int(raw)


# --- counts and extents, through the store's caches -----------------------------------------

def cached_count(store, layer: str) -> int:
    """Row count of a whole layer, cached in the store until the layer's revision changes.

    Single flight: when the revision moved, one thread counts and the others wait for its
    answer (they never get the pre-write count), so a 10^6-row COUNT(*) never runs on every
    waiting request at once. A layer without a revision keeps the TTL behaviour: one thread
    refreshes an expired entry while the others answer with the previous value.
    """
    revision = store.revision(layer)  # before counting: the count can only be newer than its key
    return store.caches("counts").get_or_compute(revision, layer, lambda: int(store.count(layer)), ttl=COUNT_TTL_S)


def layer_extent(store, layer: str, ttl: float = EXTENT_TTL_S) -> tuple[float, float, float, float] | None:
    """The lon/lat extent of a layer (`Store.extent`), cached until the layer's revision changes."""
    return store.extent(layer, ttl=ttl)


def fetch_items(store, layer: str, q: ItemsQuery, *, with_count: bool = True) -> ItemsPage:
    """One page of a layer as serialised GeoJSON features (`Store.features`)."""
    return store.features(layer, q, with_count=with_count)


def fetch_item(store, layer: str, feature_id: str, **kw) -> str | None:
    """One feature as serialised GeoJSON, or None (`Store.feature`)."""
    return store.feature(layer, feature_id, **kw)


# --- columns, properties, sort keys ----------------------------------------------------------

def visible_columns(store, layer: str, hidden: frozenset[str] | set[str] = frozenset()) -> dict[str, str]:
    """The layer's columns a caller may see; `hidden` comes from the access rule (parcels/access.py)."""
    from gis.names import name_in

    return {c: k for c, k in store.columns(layer).items() if not name_in(c, hidden)}


def _shown(text: str, limit: int = 60) -> str:
    """A name from the request as echoed in an error: shortened (a 20 000-character "field
    name" must not come back whole) and with NUL made visible."""
    text = text.replace("\x00", "\\0")
    return text if len(text) <= limit else text[:limit] + "…"


def check_properties(names: list[str], columns: dict[str, str]) -> list[str]:
    bad = [n for n in names if n not in columns]
    if bad:
        raise FilterError(f"properties 中的字段不存在或不可见：{_shown(', '.join(bad), 200)}。", hint="可用字段：" + ", ".join(columns) + "。")
    return names


def sortby_keys(text: str | None) -> list[tuple[str, bool]]:
    """`sortby=name,-area_mu` (also `+name`) → [(column, descending)], syntax only."""
    if not text:
        return []
    out = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        out.append((part.lstrip("+-").strip(), part.startswith("-")))
    return out


def check_sortby(keys: list[tuple[str, bool]], columns: dict[str, str]) -> list[tuple[str, bool]]:
    """Unknown (or hidden) sort fields are refused, then more than MAX_SORT_KEYS."""
    for name, _ in keys:
        if name not in columns:
            raise FilterError(f"sortby 中的字段“{_shown(name)}”不存在或不可排序。", hint="可排序字段：" + ", ".join(columns) + "。")
    if len(keys) > MAX_SORT_KEYS:
        raise FilterError(f"sortby 字段过多（最多 {MAX_SORT_KEYS} 个）。")
    return keys


def parse_sortby(text: str | None, columns: dict[str, str]) -> list[tuple[str, bool]]:
    """`sortby=name,-area_mu` (also `+name`) → [(column, descending)]; unknown fields are refused."""
    return check_sortby(sortby_keys(text), columns)
