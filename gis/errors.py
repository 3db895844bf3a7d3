"""Input errors that officials read: Chinese text, each bad row/field named, and how to fix it.

Every layer of landgis raises these for bad input; the CLI turns them into exit code 1 and the
API into RFC 9457 problem+json 4xx. A traceback is never the answer to a bad file.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RowError:
    row: int | None  # 1-based data row (header excluded); None for file-level problems
    field: str | None
    message: str
    feature_id: str | None = None

    def to_dict(self) -> dict:
        out = {"row": self.row, "field": self.field, "message": self.message}
        if self.feature_id is not None:
            out["feature_id"] = self.feature_id
        return out

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"第{self.row}行")
        if self.feature_id:
            where.append(f"要素 {self.feature_id}")
        if self.field:
            where.append(f"字段 {self.field}")
        prefix = "，".join(where)
        return f"{prefix}：{self.message}" if prefix else self.message


class InputError(ValueError):
    """Bad input from a user: refused as a whole, nothing changed."""

    status_code = 422

    def __init__(self, detail: str, errors: list[RowError] | None = None, hint: str | None = None):
        self.detail = detail
        self.errors = list(errors or [])
        self.hint = hint
        super().__init__(self.render())

    def error_dicts(self) -> list[dict]:
        """Each bad row/field as a JSON-ready dict (for problem+json `errors`)."""
        return [e.to_dict() if hasattr(e, "to_dict") else dict(e) for e in self.errors]

    def render(self, limit: int = 20) -> str:
        lines = [self.detail]
        for e in self.errors[:limit]:
            lines.append(f"  - {e}")
        if len(self.errors) > limit:
            lines.append(f"  - ……另有 {len(self.errors) - limit} 处错误")
        if self.hint:
            lines.append(f"修改建议：{self.hint}")
        return "\n".join(lines)


class NotFoundError(LookupError):
    status_code = 404

    def __init__(self, detail: str):
        self.detail = detail
        super().__init__(detail)


@dataclass
class ImportReport:
    layer: str
    mode: str
    inserted: int = 0
    replaced: int = 0
    crs: str = ""
    encoding: str | None = None
    warnings: list[str] = field(default_factory=list)
