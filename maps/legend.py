"""The Chinese legend of a map: sections of swatches, plus notes (data provenance, palette source).

Written once for every map. A legend is data (sections and items), rendered to escaped HTML
and added as a Leaflet control by maps/assets/landgis-maps.js, so it prints and saves with the
map and needs no network.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field

from branca.element import MacroElement
from folium.template import Template


@dataclass(frozen=True)
class LegendItem:
    label: str
    fill: str | None = None  # fill colour; None = outline only
    stroke: str | None = None
    dash: str | None = None  # SVG dash array, e.g. "6 4"
    line: bool = False  # a line feature (boundary, road) instead of an area
    weight: int = 2


@dataclass
class LegendSection:
    title: str
    items: list[LegendItem] = field(default_factory=list)


@dataclass
class LegendTable:
    """A small figures table in the legend (e.g. the expansion study's land balance)."""

    title: str
    header: list[str]
    rows: list[list[str]]


@dataclass
class LegendSpec:
    title: str
    sections: list[LegendSection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tables: list[LegendTable] = field(default_factory=list)


def _swatch(item: LegendItem) -> str:
    style = []
    border = "dashed" if item.dash else "solid"
    if item.line:
        style.append(f"border-top: {max(item.weight, 2)}px {border} {item.stroke or item.fill or '#333'}")
        cls = "landgis-swatch landgis-swatch-line"
    else:
        style.append(f"background: {item.fill}" if item.fill else "background: transparent")
        style.append(f"border: {max(item.weight, 1)}px {border} {item.stroke or '#555'}")
        cls = "landgis-swatch"
    return f'<span class="{cls}" style="{html.escape("; ".join(style))}"></span>'


def legend_html(spec: LegendSpec) -> str:
    """The legend's HTML (every text escaped)."""
    parts = [f'<div class="landgis-legend-title" title="点击折叠/展开">{html.escape(spec.title)}</div>', '<div class="landgis-legend-body">']
    for sec in spec.sections:
        parts.append('<div class="landgis-legend-section">')
        parts.append(f'<div class="landgis-legend-section-title">{html.escape(sec.title)}</div>')
        for item in sec.items:
            parts.append(f'<div class="landgis-legend-item">{_swatch(item)}<span>{html.escape(item.label)}</span></div>')
        parts.append("</div>")
    for t in spec.tables:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in t.header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in t.rows)
        parts.append(f'<div class="landgis-legend-section"><div class="landgis-legend-section-title">{html.escape(t.title)}</div>'
                     f'<table class="landgis-legend-table"><tr>{head}</tr>{body}</table></div>')
    for note in spec.notes:
        parts.append(f'<div class="landgis-legend-note">{html.escape(note)}</div>')
    parts.append("</div>")
    return "".join(parts)


class Legend(MacroElement):
    """Folium element that adds the legend control to its map."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            landgis.legend({{ this._parent.get_name() }}, {{ this.html_json }}, {{ this.position_json }});
        {% endmacro %}
        """
    )

    def __init__(self, spec: LegendSpec, position: str = "bottomright"):
        super().__init__()
        self._name = "Legend"
        self.spec = spec
        self.html_json = json.dumps(legend_html(spec), ensure_ascii=False).replace("</", "<\\/")
        self.position_json = json.dumps(position)
