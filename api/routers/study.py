"""`POST /study/land-balance` and `GET /study/package` (SPEC §7, §8.3); `analyst` role (§8.4).

Both run the same code as `landgis study` (`services.study`): the balance endpoint answers
"what if" questions quickly from a scenario plus JSON overrides, the package endpoint returns the
whole study as one zip. The router only parses and answers.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Principal
from api.bodies import body_schema, json_body
from api.dependencies import get_store, requires
from gis.store import Store
from services.study import land_balance_from_store, scenario_from_request, study_package_zip

router = APIRouter(tags=["扩区研究 / expansion study"])

class LandBalanceRequest(BaseModel):
    """What-if inputs of the land balance (all optional)."""

    model_config = ConfigDict(extra="forbid")
    scenario: str | None = Field(None, description="内置情景名，如 default_2025 / bundled scenario name")
    scenario_toml: str | None = Field(None, max_length=64 * 1024, description="整个情景文件（TOML 文本）/ a whole scenario file")
    overrides: dict[str, Any] | None = Field(None, description="合并进情景的 JSON / merged into the scenario")
    with_candidates: bool = Field(False, description="同时做适宜性评价并计入候选地块（数秒）/ also run the suitability analysis")


@router.post("/study/land-balance", summary="工业用地供需平衡 / industrial land balance", openapi_extra=body_schema(LandBalanceRequest))
async def land_balance_endpoint(
    store: Store = Depends(get_store),
    principal: Principal = Depends(requires("analyst", "扩区研究")),
    body: LandBalanceRequest = Depends(json_body(LandBalanceRequest)),
) -> dict:
    """Body (all optional): `scenario` (bundled name), `scenario_toml` (a whole scenario file as
    text), `overrides` (JSON merged into the scenario), `with_candidates` (also run the
    suitability analysis so the balance includes the expansion candidates; a few seconds).
    The role is checked before a byte of the body is read (api/bodies.py)."""
    scenario = scenario_from_request(body.scenario, body.scenario_toml, body.overrides)
    return await run_in_threadpool(land_balance_from_store, store, scenario, with_candidates=body.with_candidates)


@router.get("/study/package", summary="扩区研究成果包（zip）/ study package (zip)",
            response_class=Response, responses={200: {"content": {"application/zip": {}}}})
async def package_endpoint(
    store: Store = Depends(get_store),
    scenario: str | None = Query(None, description="内置情景名，默认 default_2025 / bundled scenario name"),
    principal: Principal = Depends(requires("analyst", "扩区研究")),
) -> Response:
    sc = scenario_from_request(scenario)
    data = await run_in_threadpool(study_package_zip, store, sc)
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": "attachment; filename=\"study.zip\"; filename*=UTF-8''%E6%89%A9%E5%8C%BA%E7%A0%94%E7%A9%B6.zip"})
