"""The OpenAPI document in the 3.0 dialect the OGC `oas30` conformance class names.

FastAPI writes OpenAPI 3.1; the differences that matter to 3.0 tools (GDAL, QGIS, OWSLib,
schemathesis in 3.0 mode) are nullable types written as `anyOf [X, {type: null}]`, `examples`
arrays inside schemas and `const`. They are rewritten here once and cached on the app.
"""

from __future__ import annotations

from fastapi import FastAPI

from api.ogc.crs import SUPPORTED_URIS


def _convert(node):
    if isinstance(node, dict):
        out = {k: _convert(v) for k, v in node.items()}
        for key in ("anyOf", "oneOf"):
            alts = out.get(key)
            if isinstance(alts, list) and any(a == {"type": "null"} for a in alts):
                rest = [a for a in alts if a != {"type": "null"}]
                out.pop(key)
                if len(rest) == 1:
                    out.update(rest[0])
                else:
                    out[key] = rest
                out["nullable"] = True
        if "examples" in out and isinstance(out["examples"], list) and "type" in out:
            ex = out.pop("examples")
            if ex:
                out["example"] = ex[0]
        if "const" in out:
            out["enum"] = [out.pop("const")]
        if out.get("type") == "null":
            out.pop("type")
            out["nullable"] = True
        return out
    if isinstance(node, list):
        return [_convert(v) for v in node]
    return node


def openapi30(app: FastAPI) -> dict:
    cached = getattr(app.state, "openapi30", None)
    if cached is None:
        doc = _convert(app.openapi())
        doc["openapi"] = "3.0.3"
        doc.setdefault("info", {})["x-landgis-note"] = "OGC API – Features Parts 1–3; 错误以 application/problem+json 返回。"
        app.state.openapi30 = doc
        cached = doc
    return cached


# --- parameter typing (both documents: /openapi.json and /api) -------------------------------

_ARRAY_FORM = {"style": "form", "explode": False}
"""OGC API – Features writes `bbox`, `properties` and `sortby` as comma-separated arrays."""


def _parameter_schemas(settings) -> dict[str, tuple[dict, dict]]:
    """name → (schema, extra parameter fields) for the OGC query parameters whose Python types
    cannot say everything: the configured limit bounds, the CRS URIs, the array forms."""
    crs = {"type": "string", "format": "uri", "enum": list(SUPPORTED_URIS)}
    return {
        "limit": ({"type": "integer", "minimum": 1, "maximum": int(settings.max_limit), "default": int(settings.default_limit)}, {}),
        "offset": ({"type": "integer", "minimum": 0, "default": 0}, {}),
        "filter-lang": ({"type": "string", "enum": ["cql2-text", "cql2-json"], "default": "cql2-text"}, {}),
        "crs": (crs, {}),
        "bbox-crs": (crs, {}),
        "filter-crs": (crs, {}),
        "bbox": ({"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}, _ARRAY_FORM),
        "properties": ({"type": "array", "items": {"type": "string"}}, _ARRAY_FORM),
        "sortby": ({"type": "array", "items": {"type": "string", "pattern": "^[+-]?[^,+-].*$"}}, _ARRAY_FORM),
    }


def _non_null(schema: dict) -> dict:
    """`anyOf [X, null]` of an optional query parameter → X: an absent parameter is how a client
    says "none"; a `null` in a query string is not a thing, and clients (GDAL, QGIS, generators)
    read a parameter typed `anyOf` as untyped."""
    alts = schema.get("anyOf")
    if isinstance(alts, list) and {"type": "null"} in alts:
        rest = [a for a in alts if a != {"type": "null"}]
        if len(rest) == 1:
            out = {k: v for k, v in schema.items() if k != "anyOf"}
            out.update(rest[0])
            if out.get("default", 0) is None:
                out.pop("default")
            return out
    return schema


def type_parameters(doc: dict, settings) -> dict:
    """Every query parameter typed: no `anyOf [X, null]`, the OGC ones as OGC writes them."""
    known = _parameter_schemas(settings)
    for path, ops in doc.get("paths", {}).items():
        ogc = path.startswith("/collections")  # the OGC parameters; a map's own `bbox` stays its own
        for op in ops.values():
            for param in op.get("parameters", []) if isinstance(op, dict) else []:
                if param.get("in") not in ("query", "header"):  # headers too (e.g. Prefer of a process execution)
                    continue
                schema = _non_null(param.get("schema", {}))
                if ogc and param["name"] in known:
                    typed, extra = known[param["name"]]
                    schema = {**{k: v for k, v in schema.items() if k in ("title", "description")}, **typed}
                    param.update(extra)
                param["schema"] = schema
    return doc


def install(app: FastAPI) -> None:
    """`app.openapi()` (served at /openapi.json, the source of /api) with typed parameters."""
    build = app.openapi

    def typed_openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = type_parameters(build(), app.state.settings)
        return app.openapi_schema

    app.openapi = typed_openapi
