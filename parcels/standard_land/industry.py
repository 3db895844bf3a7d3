"""GB/T 4754 industry codes: normalising what users type, and the 2002 → 2017 correspondence.

The 2008 national tables name industries by GB/T 4754-2002 codes; landgis takes 2017 codes.
The correspondence is data (`parcels/rules/gbt4754_2002_to_2017.toml`), marked `unverified`
because DOMAIN.md §3.3 records it from memory; every match made through it says so in the
output. Codes of the two editions are never compared directly.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from gis.errors import InputError, RowError

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"
MAPPING_FILE = RULES_DIR / "gbt4754_2002_to_2017.toml"

_CODE = re.compile(r"^[A-Za-z]?\s*(\d{2})(\d{0,2})$")


@dataclass(frozen=True)
class IndustryMapping:
    """The 2002 → 2017 division correspondence and the 2017 division names."""

    to_2017: dict[str, tuple[str, ...]]
    to_2002: dict[str, tuple[str, ...]]
    names_2017: dict[str, str]
    names_2002: dict[str, str]
    notes_2002: dict[str, str]
    uses_2017: dict[str, frozenset[str]]
    status: str
    source: str

    def name_2017(self, code: str | None) -> str:
        return self.names_2017.get(code or "", "")

    def use_of(self, code_2017: str | None) -> str | None:
        """Land use implied by a 2017 division (工业 for manufacturing, 仓储 for 59), else None."""
        for use, codes in self.uses_2017.items():
            if code_2017 in codes:
                return use
        return None


def expand_codes(items: list[str] | str, where: str) -> frozenset[str]:
    """["13-43", "59"] → {"13", …, "43", "59"}: ranges keep rule files short and readable."""
    if isinstance(items, str):
        items = [items]
    out: set[str] = set()
    for raw in items:
        text = str(raw).strip()
        m = re.fullmatch(r"(\d{2})\s*[-–~～]\s*(\d{2})", text)
        if m:
            lo, hi = int(m.group(1)), int(m.group(2))
            if lo > hi:
                raise InputError(f"{where}：行业代码范围“{text}”起止颠倒。", [RowError(None, where, "范围应写作 小-大，如 13-43")])
            out.update(f"{c:02d}" for c in range(lo, hi + 1))
        elif re.fullmatch(r"\d{2}", text):
            out.add(text)
        else:
            raise InputError(
                f"{where}：行业代码“{text}”格式有误。",
                [RowError(None, where, "应为两位数字的行业大类代码（如 27）或范围（如 13-43）")],
            )
    return frozenset(out)


@lru_cache(maxsize=1)
def load_mapping(path: str | None = None) -> IndustryMapping:
    """Read the bundled correspondence table (cached: it is static package data)."""
    file = Path(path) if path else MAPPING_FILE
    data = tomllib.loads(file.read_text(encoding="utf-8"))
    to_2017: dict[str, tuple[str, ...]] = {}
    names_2002: dict[str, str] = {}
    notes: dict[str, str] = {}
    for i, row in enumerate(data.get("map", []), start=1):
        code = str(row["code_2002"])
        to_2017[code] = tuple(sorted(expand_codes(row["code_2017"], f"{file.name} 第{i}条对照")))
        names_2002[code] = str(row.get("name_2002", ""))
        if row.get("note"):
            notes[code] = str(row["note"])
    to_2002: dict[str, list[str]] = {}
    for c02, c17s in to_2017.items():
        for c17 in c17s:
            to_2002.setdefault(c17, []).append(c02)
    uses = {use: expand_codes(codes, f"{file.name} uses_2017.{use}") for use, codes in data.get("uses_2017", {}).items()}
    return IndustryMapping(
        to_2017=to_2017,
        to_2002={k: tuple(sorted(v)) for k, v in to_2002.items()},
        names_2017={str(k): str(v) for k, v in data.get("divisions_2017", {}).items()},
        names_2002=names_2002,
        notes_2002=notes,
        uses_2017=uses,
        status=str(data.get("status", "unverified")),
        source=str(data.get("source", "")),
    )


def normalize_code(value: object) -> str | None:
    """A user's industry code → its two-digit division, or None when blank.

    Accepts "27", 27, "C27", "2710" (class codes are cut to their division). Raises ValueError
    (message in Chinese) for anything else, so the caller can name the row and field.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"“{value}”不是行业代码")
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        if not value.is_integer():
            raise ValueError(f"“{value}”不是行业代码")
        value = int(value)
    if isinstance(value, int):
        value = f"{value:02d}"
    text = str(value).strip()
    if text == "":
        return None
    m = _CODE.match(text)
    if not m:
        raise ValueError(f"“{text}”不是 GB/T 4754 行业代码（应为两位数字的大类代码，如 27；也可写小类代码如 2710）")
    return m.group(1)
