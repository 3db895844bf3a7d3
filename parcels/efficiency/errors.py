"""Input errors of the 亩均效益 evaluation, in Chinese for the officials who fix the files.

They are ValueErrors (the CLI maps them to exit code 1, the API to a 4xx problem+json) and carry
`.errors`, one dict per bad cell or key, so a caller can list every problem at once instead of
making an official fix one cell per run. `row_errors()` converts them to `gis.errors.RowError`
for the lead's shared error rendering.
"""

from __future__ import annotations

from gis.errors import InputError, RowError


class EfficiencyInputError(InputError):
    """Base of every refusal in `parcels.efficiency`: a Chinese message plus structured errors.

    An `InputError`, so the CLI and the API treat it like every other bad input; its `.errors`
    are dicts (row, field, header, message) rather than `RowError`s.
    """

    status_code = 422

    def __init__(self, detail: str, errors: list[dict] | None = None, hint: str | None = None):
        self.detail = detail
        self.errors: list[dict] = list(errors or [])
        self.hint = hint
        ValueError.__init__(self, self.render())

    def render(self, limit: int = 20) -> str:
        lines = [self.detail]
        for e in self.errors[:limit]:
            where = []
            if e.get("row") is not None:
                where.append(f"第{e['row']}行")
            if e.get("field"):
                where.append(f"字段 {e['field']}")
            prefix = "，".join(where)
            lines.append(f"  - {prefix}：{e['message']}" if prefix else f"  - {e['message']}")
        if len(self.errors) > limit:
            lines.append(f"  - ……另有 {len(self.errors) - limit} 处错误")
        if self.hint:
            lines.append(f"修改建议：{self.hint}")
        return "\n".join(lines)

    def row_errors(self) -> list[RowError]:
        return [RowError(e.get("row"), e.get("field"), e["message"]) for e in self.errors]


class EnterpriseTableError(EfficiencyInputError):
    """The enterprise table (SPEC §5.1) has bad headers or cells."""


class PolicyError(EfficiencyInputError):
    """A policy TOML (SPEC §5.2) is malformed; the message names the key path."""


class AdjustmentError(EfficiencyInputError):
    """A 调档 record is malformed (unknown class, no reason, ...)."""


class InefficientInputError(EfficiencyInputError):
    """Bad input to the 低效用地 screen (unknown parcel in 达产复核 failures, ...)."""
