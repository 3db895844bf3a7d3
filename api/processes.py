"""The processes of OGC API – Processes Part 1 (SPEC §8.3): one registry entry per process.

A process is data plus one function: an id, Chinese title and description, the role a caller
needs to run it and to see its jobs, a pydantic model of its `inputs` (the process description's
input schemas are generated from it, so description and validation cannot disagree), its single
output (id, media type, schema), how many steps it reports, and `run(store, inputs, user, step)`
returning `(bytes, media_type, filename)` — the same contract `api.jobs.JobManager` runs.

Adding a process (e.g. supervision, 集约利用) is one `register(Process(...))` call at the end of
this file; the router (`api/routers/processes.py`, a factory over the registry) and the job table
need no change. The `run` function calls a `services` function; no analysis is computed here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from gis.errors import InputError
from gis.store import Store

Step = Callable[[str], None]
Run = Callable[[Store, Any, str, Step], tuple[bytes, str, str]]

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/ogc-process-description",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/job-list",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/dismiss",
]
"""Declared only for what is implemented and tested (tests/test_processes.py). Not declared:
html, oas30 for Processes, callback (subscriber URLs are not called)."""

EXCEPTION = "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/"
"""Prefix of the OGC exception types (no-such-process, no-such-job, result-not-ready)."""


@dataclass(frozen=True)
class Output:
    id: str
    title: str
    media_type: str
    schema: dict


@dataclass(frozen=True)
class Process:
    id: str
    title: str
    description: str
    role: str
    inputs: type[BaseModel]
    output: Output
    steps: int
    run: Run
    version: str = "1.0.0"
    keywords: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> dict:
        """The process summary of `GET /processes`."""
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "version": self.version,
            "keywords": list(self.keywords),
            "jobControlOptions": ["sync-execute", "async-execute", "dismiss"],
            "outputTransmission": ["value"],
            "x-landgis-role": self.role,
            "links": [
                {"rel": "self", "href": f"/processes/{self.id}", "type": "application/json", "title": "处理过程说明"},
                {"rel": "http://www.opengis.net/def/rel/ogc/1.0/execute", "href": f"/processes/{self.id}/execution", "type": "application/json", "title": "执行"},
            ],
        }

    def description_document(self) -> dict:
        """The process description (`GET /processes/{id}`): summary plus input and output schemas."""
        schema = self.inputs.model_json_schema()
        required = set(schema.get("required", ()))
        defs = schema.get("$defs", {})
        inputs = {}
        for name, prop in schema.get("properties", {}).items():
            prop = _optional_plain(_inline(prop, defs))
            inputs[name] = {
                "title": prop.pop("title", name),
                "description": prop.pop("description", ""),
                "schema": prop,
                "minOccurs": 1 if name in required else 0,
                "maxOccurs": 1,
            }
        out = self.summary()
        out["inputs"] = inputs
        out["outputs"] = {self.output.id: {"title": self.output.title, "schema": self.output.schema}}
        return out

    def parse_inputs(self, raw: dict | None) -> BaseModel:
        """The execute request's `inputs` as the process's model, or a Chinese 400 naming each field."""
        from pydantic import ValidationError

        from api.errors import PYDANTIC_MESSAGES
        from gis.errors import RowError

        try:
            return self.inputs.model_validate(raw or {})
        except ValidationError as exc:
            rows = [
                RowError(None, "inputs." + ".".join(str(p) for p in e["loc"]) if e["loc"] else "inputs", e.get("ctx", {}).get("error") and str(e["ctx"]["error"]) or PYDANTIC_MESSAGES.get(e["type"], "取值无效"))
                for e in exc.errors()[:20]
            ]
            named = "；".join(f"{r.field}：{r.message}" for r in rows[:5])
            raise InvalidInputs(f"处理过程 {self.id} 的输入有误：{named}。", rows, hint="输入项见 GET /processes/" + self.id + "。") from None


class InvalidInputs(InputError):
    status_code = 400


def _inline(prop: dict, defs: dict) -> dict:
    """A property schema without `$ref` into `$defs` (the description shows each input whole)."""
    text = json.dumps(prop)
    for name, sub in defs.items():
        text = text.replace(json.dumps({"$ref": f"#/$defs/{name}"}), json.dumps(sub))
    return json.loads(text)


def _optional_plain(prop: dict) -> dict:
    """`anyOf: [X, null]` (pydantic's optional) as X: optionality is `minOccurs: 0` in a process
    description, and an enum belongs to X (null is not one of the scenario names)."""
    variants = prop.get("anyOf")
    if not variants or len(variants) != 2 or {"type": "null"} not in variants:
        return prop
    plain = dict(next(v for v in variants if v != {"type": "null"}))
    for key, value in prop.items():
        if key not in ("anyOf", "default") or (key == "default" and value is not None):
            plain[key] = value
    return plain


REGISTRY: dict[str, Process] = {}


def register(process: Process) -> Process:
    if process.id in REGISTRY:
        raise ValueError(f"process {process.id} registered twice")
    REGISTRY[process.id] = process
    return process


def lowest_role(registry: dict[str, Process] | None = None) -> str:
    """The least role any process of `registry` needs: the floor of the `/jobs` routes."""
    from api.auth import RANK

    return min((p.role for p in (REGISTRY if registry is None else registry).values()), key=RANK.__getitem__, default="analyst")


# --- the study package ----------------------------------------------------------------------------

def _scenario_names() -> list[str]:
    from parcels.study.scenario import SCENARIO_DIR

    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


class StudyInputs(BaseModel):
    """A bundled scenario by name (never a path: it would read the server's files) and overrides.
    The scenario is loaded while the request is validated, so a bad one is a 400 at once, not a
    failed job later."""

    model_config = ConfigDict(extra="forbid")
    scenario: str | None = Field(None, title="情景", description="内置情景名（默认 default_2025）/ bundled scenario name", json_schema_extra={"enum": _scenario_names()})
    overrides: dict[str, Any] | None = Field(None, title="情景覆盖项", description="合并进情景的 JSON，如 {\"assumptions\": {\"revenue_per_mu_growth\": 0.08}} / merged into the scenario")
    _scenario: Any = PrivateAttr(None)

    @model_validator(mode="after")
    def _load(self) -> StudyInputs:
        from services.study import bundled_scenario_name, scenario_from_request

        try:
            self._scenario = scenario_from_request(bundled_scenario_name(self.scenario), None, self.overrides)
        except InputError as exc:
            raise ValueError(exc.detail + (f"（{exc.hint}）" if exc.hint else "")) from None
        return self


def _run_study(store: Store, inputs: StudyInputs, user: str, step: Step) -> tuple[bytes, str, str]:
    from services.study import study_package_zip

    return study_package_zip(store, inputs._scenario, step=step), "application/zip", "study.zip"


STUDY = register(Process(
    id="study-package",
    title="扩区研究成果包",
    description="运行扩区研究（适宜性、候选地块、用地平衡），输出成果包 zip：GeoPackage、COG 栅格、XLSX、HTML 报告与数据字典。样例栅格为示意数据，成果中有标注。",
    role="analyst",
    inputs=StudyInputs,
    output=Output("package", "成果包（zip）", "application/zip", {"type": "string", "contentEncoding": "binary", "contentMediaType": "application/zip"}),
    steps=5,
    run=_run_study,
    keywords=("扩区", "study", "land balance"),
))


# --- 亩均 scoring -----------------------------------------------------------------------------------

MAX_SCORING_ROWS = 20000


def _policy_names() -> list[str]:
    from parcels.efficiency import bundled_policies

    return bundled_policies()


class ScoringInputs(BaseModel):
    """Either the enterprise rows themselves or a reference to the store's `enterprises` layer."""

    model_config = ConfigDict(extra="forbid")
    rows: list[dict[str, Any]] | None = Field(None, title="企业数据行", description="企业表的行（字段同 CSV 模板，如 enterprise_id、tax_wan…）/ enterprise rows", min_length=1, max_length=MAX_SCORING_ROWS)
    source: Literal["enterprises"] | None = Field(None, title="数据引用", description="存储中的企业图层名（与 rows 二选一）/ a store layer instead of rows")
    policy: str | None = Field(None, title="评价办法", description="内置评价办法名（默认 henan_2019）/ bundled policy name", json_schema_extra={"enum": _policy_names()})

    @model_validator(mode="after")
    def _one_source(self) -> ScoringInputs:
        if (self.rows is None) == (self.source is None):
            raise ValueError("rows 与 source 须且只能给出其一")
        if self.policy is not None and self.policy not in _policy_names():
            raise ValueError(f"评价办法“{self.policy}”不存在，可用：{'、'.join(_policy_names())}")
        return self


def _run_scoring(store: Store, inputs: ScoringInputs, user: str, step: Step) -> tuple[bytes, str, str]:
    import pandas as pd

    from services.scoring import run_scoring

    step("读取企业数据 / reading enterprise rows")
    if inputs.rows is not None:
        frame = pd.DataFrame(inputs.rows).astype(object)
        data, label = json.dumps(inputs.rows, ensure_ascii=False, sort_keys=True).encode("utf-8"), "处理过程输入 rows"
    else:
        if not store.layer_exists(inputs.source):
            raise InputError(f"存储中没有图层 {inputs.source}。", hint="先运行 landgis init 载入样例数据，或导入企业数据。")
        gdf = store.read_layer(inputs.source)
        frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        data, label = frame.to_csv(index=False).encode("utf-8"), f"图层 {inputs.source}"
    step("评价 / scoring")
    run_id, result = run_scoring(store, frame, data, policy=inputs.policy, user=user, label=label)
    from services.scoring import response_document

    body = response_document(run_id, result)  # the same SPEC §5.5 JSON as POST /scoring/efficiency
    body["links"] = {"self": f"/scoring/efficiency/{run_id}", "csv": f"/scoring/efficiency/{run_id}?f=csv", "xlsx": f"/scoring/efficiency/{run_id}?f=xlsx"}
    return json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json", f"{run_id}.json"


SCORING = register(Process(
    id="efficiency-scoring",
    title="亩均效益评价",
    description="按评价办法对企业打分分档（A/B/C/D），保存运行记录（输入哈希、办法、时间、用户），输出评价结果 JSON。",
    role="analyst",
    inputs=ScoringInputs,
    output=Output("run", "评价结果（JSON）", "application/json", {"type": "object", "contentMediaType": "application/json"}),
    steps=2,
    run=_run_scoring,
    keywords=("亩均", "scoring", "efficiency"),
))


# --- 批供用补查 supervision (SPEC §4.2) --------------------------------------------------------------


class SupervisionInputs(BaseModel):
    """The day the report is made as of (default today)."""

    model_config = ConfigDict(extra="forbid")
    as_of: str | None = Field(None, title="统计截止日期", description="YYYY-MM-DD，默认今天 / the day the report is made as of", pattern=r"^\d{4}-\d{2}-\d{2}$")


def _run_supervision(store: Store, inputs: SupervisionInputs, user: str, step: Step) -> tuple[bytes, str, str]:
    from services.supervision import supervision_report

    step("批供用补查 / supervision")
    doc = supervision_report(store, inputs.as_of)
    return json.dumps(doc, ensure_ascii=False, default=str).encode("utf-8"), "application/json", f"supervision-{doc.get('as_of', 'today')}.json"


SUPERVISION = register(Process(
    id="land-supervision",
    title="批供用补查（土地供应监管）",
    description="按统计截止日期列出批而未供、供而未用、闲置土地（阶段与闲置费）、逾期未竣工、达产复核到期与用地冲突，依据《闲置土地处置办法》（国土资源部令第53号）；输出与 GET /supervision 相同的 JSON。",
    role="analyst",
    inputs=SupervisionInputs,
    output=Output("report", "监管报告（JSON）", "application/json", {"type": "object", "contentMediaType": "application/json"}),
    steps=1,
    run=_run_supervision,
    keywords=("批供用补查", "闲置土地", "supervision"),
))


# --- 开发区土地集约利用评价 (SPEC §11) -------------------------------------------------------------------


def _weight_sets() -> list[str]:
    from parcels.intensity import weight_set_names

    return weight_set_names()


class IntensityInputs(BaseModel):
    """The evaluation year, the resident population and a 集约度 weight set (all optional)."""

    model_config = ConfigDict(extra="forbid")
    year: int | None = Field(None, title="评价年度", description="默认上一年 / evaluation year (default: last year)", ge=1990, le=2100)
    population: float | None = Field(None, title="常住人口", description="人，用于人口密度 / resident population", ge=0)
    weights: str | None = Field(None, title="集约度权重集", description="内置权重集名（sample 为示例，非规程数值）/ bundled weight set", json_schema_extra={"enum": _weight_sets()})

    @model_validator(mode="after")
    def _known_weights(self) -> IntensityInputs:
        if self.weights is not None and self.weights not in _weight_sets():
            raise ValueError(f"权重集“{self.weights}”不存在，可用：{'、'.join(_weight_sets())}")
        return self


def _run_intensity(store: Store, inputs: IntensityInputs, user: str, step: Step) -> tuple[bytes, str, str]:
    from services.intensity import intensity_report

    step("土地集约利用评价 / land-use intensity")
    doc = intensity_report(store, inputs.year, population=inputs.population, weights=inputs.weights)
    return json.dumps(doc, ensure_ascii=False, default=str).encode("utf-8"), "application/json", f"intensity-{doc['year']}.json"


INTENSITY = register(Process(
    id="land-intensity",
    title="开发区土地集约利用评价",
    description="按《开发区土地集约利用评价规程》计算土地供应率、建成率、工业用地率、综合容积率、建筑密度、投入强度、地均税收、闲置率与尚可供地年数，逐项对照全国国家级开发区数值；无调查图斑时由工业用地、供地台账与储备地块推导并注明。输出与 GET /intensity 相同的 JSON。",
    role="analyst",
    inputs=IntensityInputs,
    output=Output("report", "评价结果（JSON）", "application/json", {"type": "object", "contentMediaType": "application/json"}),
    steps=1,
    run=_run_intensity,
    keywords=("集约利用", "intensity", "开发区评价"),
))
