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


class StoreBusy(InputError):
    """503: a row or table stayed locked (by another user, QGIS, psql, a long import) past the
    bounded wait. Nothing was written; the same request may simply be sent again later.

    Why 503 and not a wait: a request that waits on a lock for as long as the lock lasts holds a
    worker (and, before the hardening, the whole event loop); a bounded wait and a clear "try
    again" keep the service answering everyone else.
    """

    status_code = 503

    def __init__(self, detail: str, errors: list[RowError] | None = None, hint: str | None = None, *, retry_after: int = 5):
        self.retry_after = max(1, int(retry_after))
        super().__init__(detail, errors, hint)

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the answer should carry (RFC 9110 Retry-After, in seconds)."""
        return {"Retry-After": str(self.retry_after)}


class WriteConflict(InputError):
    """409: the row changed between the caller's read and its write (e.g. the status it expected
    is no longer there); nothing was written, and the caller should re-read before retrying."""

    status_code = 409


NUL = "\x00"
NUL_MESSAGE = "含有不可见的空字符（\\x00）"
NUL_HINT = "请在源文件（或提交的内容）中删除空字符（\\x00）后重新提交；它常见于从其他系统导出时截断的文本。"


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, (bytes, bytearray)):
        return False  # geometry blobs: binary by nature
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_nul(v) for v in value)
    return False


def nul_errors_in_values(values: dict, *, feature_id: str | None = None) -> list[RowError]:
    """Fields whose name or text value carries a NUL byte.

    Why refuse rather than strip: PostgreSQL cannot store U+0000 in text (psycopg raises
    DataError, which used to surface as a 500), SQLite would store it and truncate it in most
    readers, and silently dropping characters from an official record is worse than asking.
    """
    shown = None if feature_id is None else str(feature_id).replace(NUL, "\\x00")
    out = []
    for key, value in values.items():
        if _has_nul(key) or _has_nul(value):
            out.append(RowError(None, str(key).replace(NUL, "\\x00"), NUL_MESSAGE, shown))
    return out


def nul_errors_in_frame(frame, columns=None) -> list[RowError]:
    """(row, field) of every text cell or column name with a NUL byte; rows are 1-based data rows."""
    out: list[RowError] = []
    for col in list(frame.columns) if columns is None else columns:
        if _has_nul(col):
            out.append(RowError(None, str(col).replace(NUL, "\\x00"), f"字段名{NUL_MESSAGE}"))
            continue
        values = frame[col]
        if values.dtype != object and str(values.dtype) not in ("string", "str"):
            continue
        # one vectorised scan of the column's strings; a cell holding lists/dicts is rare
        # (GeoJSON nested properties) and takes the per-value path
        import pandas as pd

        texts = values.map(lambda v: v if isinstance(v, str) else None) if values.dtype == object else values
        hits = pd.Series(texts, dtype="string").str.contains(NUL, regex=False).fillna(False).to_numpy(dtype=bool)
        if values.dtype == object:
            nested = values.map(lambda v: isinstance(v, (dict, list, tuple))).to_numpy(dtype=bool)
            for i in nested.nonzero()[0]:
                hits[i] = _has_nul(values.iloc[i])
        for i in hits.nonzero()[0]:
            out.append(RowError(int(i) + 1, str(col), NUL_MESSAGE))
    return out


def refuse_nul(errors: list[RowError], *, what: str = "数据") -> None:
    """Raise one InputError naming the first bad row/field in its detail, all of them in `errors`."""
    if not errors:
        return
    first = errors[0]
    where = (f"第 {first.row} 行" if first.row is not None else "") + (f"要素 {first.feature_id} 的" if first.feature_id else "") + f"字段 {first.field} "
    more = f"（共 {len(errors)} 处）" if len(errors) > 1 else ""
    raise InputError(
        f"{what}被拒绝：{where}{NUL_MESSAGE}{more}，数据库未作任何修改。",
        errors,
        hint=NUL_HINT,
    )
