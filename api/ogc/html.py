"""Chinese HTML pages of the OGC API (the HTML conformance class), from one Jinja2 template."""

from __future__ import annotations

from pathlib import Path

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"]))


def page(
    request,
    title: str,
    *,
    description: str = "",
    facts: list[tuple[str, object]] | None = None,
    links: list[dict] | None = None,
    headers: list[str] | None = None,
    rows: list[list] | None = None,
    rows_title: str = "",
    row_links: bool = False,
    pager: list[dict] | None = None,
    breadcrumbs: list[dict] | None = None,
    note: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    base = str(request.base_url).rstrip("/")
    html = _env.get_template("page.html").render(
        base=base,
        title=title,
        description=description,
        facts=facts or [],
        links=links or [],
        headers=headers or [],
        rows=rows,
        rows_title=rows_title,
        row_links=row_links,
        pager=pager or [],
        breadcrumbs=breadcrumbs or [],
        note=note,
    )
    return HTMLResponse(html, status_code=status_code)
