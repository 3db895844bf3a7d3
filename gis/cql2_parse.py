"""The CQL2 parser worker's handler: text from anyone → the CQL2-JSON tree, in a child process.

Kept apart from gis/store/cql2.py so that the worker imports only the `cql2` library (a fresh
worker after a crash starts in ≈0.1 s, not the seconds the store's imports take). A syntax error
is an answer (`{"error": …}`), not a failure; a stack overflow kills only this process
(gis/workers.py replaces it).
"""

from __future__ import annotations


def parse_handler():
    import cql2

    def handle(request: dict) -> dict:
        try:
            expr = cql2.parse_json(request["text"]) if request["lang"] == "cql2-json" else cql2.parse_text(request["text"])
        except Exception as exc:  # noqa: BLE001 — the library's syntax errors, reported as such
            return {"error": str(exc)}
        tree = expr.to_json()
        del expr
        return {"tree": tree}

    return handle
