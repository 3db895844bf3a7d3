"""The OpenAPI document in the 3.0 dialect the OGC `oas30` conformance class names.

FastAPI writes OpenAPI 3.1; the differences that matter to 3.0 tools (GDAL, QGIS, OWSLib,
schemathesis in 3.0 mode) are nullable types written as `anyOf [X, {type: null}]`, `examples`
arrays inside schemas and `const`. They are rewritten here once and cached on the app.
"""

from __future__ import annotations

from fastapi import FastAPI


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
