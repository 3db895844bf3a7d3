"""`POST /study/land-balance` and `GET /study/package` (SPEC §7, §8.3); `analyst` role (§8.4).

Both run the same code as `landgis study` (`api.commands.study.study_from_store`): the balance
endpoint answers "what if" questions quickly from a scenario plus JSON overrides, the package
endpoint returns the whole study as one zip.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Principal, require
from api.bodies import body_schema, json_body, requires
from api.dependencies import get_principal

router = APIRouter(tags=["扩区研究 / expansion study"])


def _scenario(name: str | None, text: str | None, overrides: dict | None):
    from parcels.study.scenario import ScenarioError, load_scenario, parse_scenario

    if overrides is not None and not isinstance(overrides, dict):
        raise ScenarioError("overrides 应为 JSON 对象，如 {\"assumptions\": {\"revenue_per_mu_growth\": 0.08}}。")
    if text:
        return parse_scenario(text, origin="请求中的情景", overrides=overrides)
    return load_scenario(name, overrides=overrides) if name else load_scenario(None, overrides=overrides)


def _bundled_name(name: str | None) -> str | None:
    """Only bundled scenarios by name over HTTP: a path would read the server's files."""
    from parcels.study.scenario import SCENARIO_DIR, ScenarioError

    if name is None:
        return None
    if not name.replace("_", "").replace("-", "").isalnum() or not (SCENARIO_DIR / f"{name}.toml").is_file():
        raise ScenarioError(f"没有名为“{name}”的内置情景。", hint="可用：" + "、".join(p.stem for p in SCENARIO_DIR.glob("*.toml")))
    return name


class LandBalanceRequest(BaseModel):
    """What-if inputs of the land balance (all optional)."""

    model_config = ConfigDict(extra="forbid")
    scenario: str | None = Field(None, description="内置情景名，如 default_2025 / bundled scenario name")
    scenario_toml: str | None = Field(None, max_length=64 * 1024, description="整个情景文件（TOML 文本）/ a whole scenario file")
    overrides: dict[str, Any] | None = Field(None, description="合并进情景的 JSON / merged into the scenario")
    with_candidates: bool = Field(False, description="同时做适宜性评价并计入候选地块（数秒）/ also run the suitability analysis")


@router.post("/study/land-balance", summary="工业用地供需平衡 / industrial land balance", openapi_extra=body_schema(LandBalanceRequest))
async def land_balance_endpoint(
    request: Request,
    principal: Principal = Depends(requires("analyst", "扩区研究")),
    body: LandBalanceRequest = Depends(json_body(LandBalanceRequest)),
) -> dict:
    """Body (all optional): `scenario` (bundled name), `scenario_toml` (a whole scenario file as
    text), `overrides` (JSON merged into the scenario), `with_candidates` (also run the
    suitability analysis so the balance includes the expansion candidates; a few seconds).
    The role is checked before a byte of the body is read (api/bodies.py)."""
    from gis.errors import InputError

    scenario = _scenario(_bundled_name(body.scenario), body.scenario_toml, body.overrides)
    store = request.app.state.store
    with_candidates = body.with_candidates

    def work() -> dict:
        from api.commands.study import STUDY_LAYERS, study_from_store
        from parcels.study.balance import land_balance
        from parcels.study.package import inefficient_from_layers

        if with_candidates:
            result = study_from_store(store, scenario)
            bal, notes = result.balance, result.notes
        else:
            layers = {}
            for name in STUDY_LAYERS:
                if not store.layer_exists(name):
                    raise InputError(f"存储中缺少图层 {name}，无法计算用地平衡。", hint="先运行 landgis init 或导入该图层。")
                layers[name] = store.read_layer(name)
            notes = []
            try:
                ineff = inefficient_from_layers(layers["industrial_parcels"], layers["enterprises"], scenario.assumptions.inefficient_policy)
            except Exception as exc:  # noqa: BLE001 - same rule as the CLI: go on without, say why
                ineff = None
                notes.append(f"低效用地筛查未能完成，低效用地按 0 计：{getattr(exc, 'detail', None) or exc}")
            bal = land_balance(scenario, industrial_parcels=layers["industrial_parcels"], enterprises=layers["enterprises"],
                               reserve_parcels=layers["reserve_parcels"], inefficient=ineff)
            notes += bal.notes
        out = bal.to_dict()
        out["notes"] = list(notes)
        out["scenario"] = {"name": scenario.name, "base_year": scenario.base_year, "target_year": scenario.target_year}
        out["values"] = bal.values
        return out

    return await run_in_threadpool(work)


@router.get("/study/package", summary="扩区研究成果包（zip）/ study package (zip)",
            response_class=Response, responses={200: {"content": {"application/zip": {}}}})
async def package_endpoint(
    request: Request,
    scenario: str | None = Query(None, description="内置情景名，默认 default_2025 / bundled scenario name"),
    principal: Principal = Depends(get_principal),
) -> Response:
    require(principal, "analyst", "扩区研究")
    sc = _scenario(_bundled_name(scenario), None, None)
    store = request.app.state.store

    def work() -> bytes:
        from api.commands.study import study_from_store
        from parcels.study.package import write_package, zip_package

        result = study_from_store(store, sc)
        with tempfile.TemporaryDirectory(prefix="landgis-study-") as tmp:
            return zip_package(write_package(Path(tmp), result))

    data = await run_in_threadpool(work)
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": "attachment; filename=\"study.zip\"; filename*=UTF-8''%E6%89%A9%E5%8C%BA%E7%A0%94%E7%A9%B6.zip"})
