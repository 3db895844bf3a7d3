"""`GET /intensity` (analyst): 开发区土地集约利用评价 as JSON, XLSX or HTML (SPEC §11).

Analyst: the survey's tax and investment figures are enterprises' own, and the indicators are
built from them. The store read and the evaluation block, so they run in the thread pool after
the role check (a refused caller costs no read).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.auth import Principal
from api.dependencies import get_store, requires
from api.reports import report_format, report_response
from gis.store import Store
from services import intensity

router = APIRouter(tags=["土地集约利用评价 / land-use intensity"])


@router.get("/intensity", summary="开发区土地集约利用评价 / land-use intensity of the zone")
async def intensity_report(
    year: int | None = None,
    population: float | None = None,
    weights: str | None = None,
    f: str = "json",
    store: Store = Depends(get_store),
    principal: Principal = Depends(requires("analyst", "查看开发区土地集约利用评价")),
) -> Response:
    """Every SPEC §11 indicator `{key, name, value, unit, formula, national, source, status}` beside the
    national figure, the potential (尚可供地年数), the zone type, the 集约度 score when `weights` names a
    bundled set (`sample` is an example, not the 规程's), and what was evaluated (`survey`: a
    stored survey or a derivation). `f=xlsx` the workbook, `f=html` the report."""
    from parcels.intensity.report import intensity_html, intensity_workbook

    f = report_format(f)
    y = intensity.parse_year(year)
    doc = await run_in_threadpool(intensity.intensity_report, store, y, population=population, weights=weights)
    return await report_response(doc, f, intensity_workbook, intensity_html, f"intensity-{y}")
