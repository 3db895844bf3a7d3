"""Popups and tooltips: which fields a feature shows, under which Chinese names.

Why here: the labels come from parcels/schema.py for a stored layer and from
parcels/vocabulary.py for analysis results (`term_field`), so a popup, an XLSX header and the
API's queryables call a field the same thing. The browser builds the popup
table from this small config (maps/assets/landgis-maps.js), so a layer's HTML carries each
value once, not a rendered table per feature.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from parcels import vocabulary
from parcels.schema import LAYERS, Layer

# Fields that say nothing to an official in a popup (machine-readable JSON, provenance codes).
HIDDEN_BY_DEFAULT = frozenset({"sl_rules"})

GEOMETRY_SOURCE_ZH = {"surveyed": "实测", "digitized": "数字化", "schematic": "示意位置（非实测）"}


@dataclass(frozen=True)
class PopupField:
    name: str
    label: str
    unit: str = ""
    digits: int | None = 2
    values: tuple[tuple[str, str], ...] | None = None
    """Display text of coded values (e.g. schematic → 示意位置（非实测）), applied in the browser:
    a tiled layer's popup shows the record fetched from the API, which carries the raw code."""


@dataclass(frozen=True)
class PopupConfig:
    fields: tuple[PopupField, ...]
    title: str = ""
    title_field: str | None = None

    def to_js(self) -> dict:
        fields = []
        for f in self.fields:
            d = asdict(f)
            if f.values is None:
                del d["values"]
            else:
                d["values"] = dict(f.values)
            fields.append(d)
        return {"fields": fields, "title": self.title, "titleField": self.title_field}

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]


def term_field(key: str, *, column: str | None = None, context: str | None = None) -> PopupField:
    """A popup row for a vocabulary term: its label (in `context`), unit and display precision.

    `column` is the frame's column when it is not the term's key (the 标准地 map shows a
    parcel's `id` as 地块编号)."""
    t = vocabulary.term(key)
    return PopupField(column or key, t.label_in(context), t.unit, t.precision)


def _digits(dtype: str) -> int | None:
    return {"float": 2, "int": 0}.get(dtype)


def popup_for_layer(
    layer: str | Layer,
    columns: list[str] | None = None,
    *,
    extra_labels: dict[str, str] | None = None,
    exclude: set[str] | frozenset[str] = HIDDEN_BY_DEFAULT,
    title_field: str | None = "name",
) -> PopupConfig:
    """Popup of a schema layer: its fields (those present in `columns`) with Chinese labels.

    Extra columns (from a real import, or an analysis) are shown too when `extra_labels` names
    them; unnamed extra columns are shown under their own name rather than silently hidden.
    """
    spec = LAYERS[layer] if isinstance(layer, str) else layer
    present = None if columns is None else set(columns)
    fields: list[PopupField] = []
    for f in spec.fields:
        if f.name in exclude or (present is not None and f.name not in present):
            continue
        label = (extra_labels or {}).get(f.name, f.label_zh)
        values = tuple(GEOMETRY_SOURCE_ZH.items()) if f.name == "geometry_source" else None
        fields.append(PopupField(f.name, label, "" if "(" in label else f.unit, _digits(f.dtype), values))
    known = {f.name for f in spec.fields}
    for name in columns or []:
        if name in known or name in exclude or name == "geometry" or name.startswith("_"):
            continue
        fields.append(PopupField(name, (extra_labels or {}).get(name, name)))
    return PopupConfig(tuple(fields), title=spec.title_zh, title_field=title_field if present is None or title_field in present else None)


def popup_from_labels(labels: dict[str, str], *, title: str, title_field: str | None = "name", units: dict[str, str] | None = None, digits: dict[str, int | None] | None = None) -> PopupConfig:
    """Popup of an analysis frame whose fields are not a schema layer's (labels in display order)."""
    fields = tuple(PopupField(k, v, (units or {}).get(k, ""), (digits or {}).get(k, 2)) for k, v in labels.items())
    return PopupConfig(fields, title=title, title_field=title_field)


def json_safe_frame(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The columns a map needs, as plain JSON values: NaN/NA/inf → null, dates → ISO text.

    Why: a NaN in GeoJSON is invalid JSON and breaks the whole layer in the browser.
    """
    out = {}
    for c in columns:
        if c not in frame.columns:
            continue
        s = frame[c]
        if pd.api.types.is_bool_dtype(s.dtype):
            out[c] = s.astype(object).where(s.notna(), None)
        elif pd.api.types.is_numeric_dtype(s.dtype):
            v = s.to_numpy(dtype=float, na_value=np.nan)
            # Four decimals is beyond any figure an official reads, and halves the text of a layer.
            v = np.round(np.where(np.isfinite(v), v, np.nan), 4)
            obj = pd.Series(v, index=s.index, dtype=object)
            if pd.api.types.is_integer_dtype(s.dtype):
                obj = pd.Series([None if np.isnan(x) else int(x) for x in v], index=s.index, dtype=object)
            out[c] = obj.where(pd.notna(obj), None)
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            out[c] = s.dt.strftime("%Y-%m-%d").astype(object).where(s.notna(), None)
        else:
            obj = s.astype(object)
            out[c] = pd.Series([None if x is None or x is pd.NA or (isinstance(x, float) and not np.isfinite(x)) else x if isinstance(x, (str, bool, int, float)) else str(x) for x in obj], index=s.index, dtype=object)
    # dtype=object: pandas 3 would otherwise re-infer `str` and turn None back into NaN.
    return pd.DataFrame(out, index=frame.index, dtype=object)


def translate_geometry_source(frame: pd.DataFrame) -> pd.DataFrame:
    """Show 'schematic' as 示意位置（非实测）: an official must see that the outline is not surveyed."""
    if "geometry_source" not in frame.columns:
        return frame
    out = frame.copy()
    out["geometry_source"] = out["geometry_source"].map(lambda v: GEOMETRY_SOURCE_ZH.get(v, v) if isinstance(v, str) else v)
    return out
