"""What a served map needs to know of a layer it draws from vector tiles — without reading it.

(The summary is computed from the store by `services.maps.summarize_layer`; builders only read it.)

Why: a served map of 100 000 parcels draws them from `/collections/{id}/tiles/...`; the page
itself only needs the layer's size, extent, columns and the values of its style fields (for the
colours and the legend). Reading the whole layer for that (`store.read_layer`: every geometry
decoded) cost ~1.4 s of the ~2 s the server took to answer `GET /maps/parcels`, and that wait
came before anything else of the first view. A count, the R-tree/ST_Extent extent and one
GROUP BY per style field take a few tens of milliseconds on both stores.
"""

from __future__ import annotations

from dataclasses import dataclass, field

STORE_EPSG = 4490


@dataclass(frozen=True)
class LayerSummary:
    """A stored layer as a tiled map layer sees it (lon/lat EPSG:4490 bounds, like the store)."""

    name: str
    count: int
    bounds: tuple[float, float, float, float] | None
    columns: tuple[str, ...]
    values: dict[str, dict[str, int]] = field(default_factory=dict)
    """column → {value as text: number of features}, for the style and legend fields only (nulls left out)."""

    def __len__(self) -> int:
        return self.count

    def value_set(self, column: str) -> set[str]:
        return set(self.values.get(column, {}))

    def value_count(self, column: str, value: str) -> int:
        return int(self.values.get(column, {}).get(value, 0))
