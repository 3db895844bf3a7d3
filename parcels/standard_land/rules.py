"""标准地 control-indicator rules as data: TOML rule sets, validated, with provenance on every rule.

Why data and not code: the national tables change by edition, the Henan "3+N+1" values are the
zone's to fill, and DOMAIN.md requires any value not confirmed in a source to be configuration
marked `unverified` (or `sample` for demo values), never a constant. Every rule carries its
source and status, which every output repeats.

File format (see the bundled files in `parcels/rules/`)::

    id = "national_2008"                 # optional; default: the file's stem
    name = "工业项目建设用地控制指标（2008年版）"
    source = "国土资发〔2008〕24号"        # default source of the rules below
    status = "confirmed"                 # default status: confirmed | unverified | sample

    [[rule]]
    id = "national_2008.far.27"          # optional; default "<set id>.<n>"
    key = "floor_area_ratio"             # an indicator key of SPEC §6
    op = ">="                            # ">=" or "<=" ("operator" is accepted as a synonym)
    limit = 0.7
    unit = ""                            # must be the indicator's unit (万元/亩, %, …)
    scope = { industry_2002 = ["27"] }   # industry (2017 codes or ranges "13-43"),
                                         # industry_2002 (2002 codes, matched via the mapping),
                                         # use (工业/仓储/居住), park, district, parcel
    phase = ["出让", "竣工", "达产"]      # default: all three
    source = "…"                         # optional, overrides the set's
    status = "confirmed"                 # optional, overrides the set's
    citable = false                      # optional (set or rule; default true): the source is not one
                                         # an official can cite (an exam bank, a garbled repost):
                                         # every output shows NOT_CITABLE beside it
    note = "…"                           # optional
    slot = "3"                           # optional: Henan "3+N+1" slot ("3", "N", "1")

    [[slot]]                             # optional: slots of a scheme that have no value yet
    slot = "1"
    name = "…"
    note = "…"
"""

from __future__ import annotations

import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from gis.errors import InputError, RowError
from parcels.standard_land.indicators import INDICATORS, OPS, PHASES, STATUS_LABELS, STATUSES, USES, requirement_text
from parcels.standard_land.industry import RULES_DIR, MAPPING_FILE, expand_codes, load_mapping

SET_KEYS = {"id", "name", "source", "status", "citable", "edition", "industry_code_system", "note", "description", "rule", "slot"}
RULE_KEYS = {"id", "key", "op", "operator", "limit", "unit", "scope", "phase", "source", "status", "citable", "note", "slot"}

NOT_CITABLE = "不可作为正式依据引用"
"""Shown beside a source marked `citable = false`: officials must not put it into a document."""
SCOPE_KEYS = ("industry", "industry_2002", "use", "park", "district", "parcel")
SLOT_KEYS = {"slot", "name", "note", "status", "candidates"}

BUNDLED_ORDER = ("national_2008", "national_2023", "henan_3n1_sample", "warehouse_guideline")
"""Bundled sets in display order; files in `parcels/rules/` that are not rule sets are skipped."""


class RuleFileError(InputError):
    """A rules file that cannot be used; names the file, the rule and the key."""


@dataclass(frozen=True)
class Scope:
    """Where a rule binds. None on a dimension means “everywhere”."""

    industry: frozenset[str] | None = None  # GB/T 4754-2017 divisions (mapped from 2002 when given so)
    industry_2002: frozenset[str] | None = None  # as written in the source, when it uses 2002 codes
    use: frozenset[str] | None = None
    park: frozenset[str] | None = None
    district: frozenset[str] | None = None
    parcel: frozenset[str] | None = None

    def describe(self) -> str:
        """Chinese description for reports: “GB/T 4754-2002 代码 27（对照 2017 代码 27）；用途 工业”."""
        parts = []
        if self.industry_2002 is not None:
            parts.append(f"GB/T 4754-2002 行业 {_codes_text(self.industry_2002)}（对照 2017 行业 {_codes_text(self.industry or frozenset())}）")
        elif self.industry is not None:
            parts.append(f"GB/T 4754-2017 行业 {_codes_text(self.industry)}")
        for dim, label in (("use", "用途"), ("park", "园区"), ("district", "辖区"), ("parcel", "地块")):
            vals = getattr(self, dim)
            if vals is not None:
                parts.append(f"{label} {'、'.join(sorted(vals))}")
        return "；".join(parts) if parts else "全部"

    def to_dict(self) -> dict:
        return {dim: sorted(getattr(self, dim)) for dim in SCOPE_KEYS if getattr(self, dim) is not None}

    @property
    def industry_specific(self) -> bool:
        """True for per-industry rules (a short list of divisions), not for a whole sector range."""
        return self.industry is not None and len(self.industry) <= 3


def _codes_text(codes: frozenset[str]) -> str:
    """Compact code list: 13–43 for a run, else 27、39."""
    ints = sorted(int(c) for c in codes)
    if not ints:
        return "—"
    runs, start, prev = [], ints[0], ints[0]
    for c in ints[1:]:
        if c == prev + 1:
            prev = c
            continue
        runs.append((start, prev))
        start = prev = c
    runs.append((start, prev))
    return "、".join(f"{a:02d}" if a == b else f"{a:02d}–{b:02d}" for a, b in runs)


@dataclass(frozen=True)
class Rule:
    id: str
    key: str
    op: str
    limit: float
    unit: str
    scope: Scope
    phases: tuple[str, ...]
    source: str
    status: str
    rule_set: str
    rule_set_name: str
    note: str = ""
    slot: str | None = None
    citable: bool = True

    @property
    def name(self) -> str:
        return INDICATORS[self.key].name

    def requirement(self) -> str:
        return requirement_text(self.op, self.limit, self.unit)

    def strictness(self) -> float:
        """Larger is stricter: a higher floor or a lower ceiling."""
        return self.limit if self.op == ">=" else -self.limit

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "key": self.key,
            "op": self.op,
            "limit": self.limit,
            "unit": self.unit,
            "scope": self.scope.to_dict(),
            "phase": list(self.phases),
            "source": self.source,
            "status": self.status,
            "rule_set": self.rule_set,
            "note": self.note,
            "slot": self.slot,
            "citable": self.citable,
        }


@dataclass(frozen=True)
class RuleSetInfo:
    id: str
    name: str
    source: str
    status: str
    note: str = ""
    slots: tuple[dict, ...] = ()
    origin: str = ""
    citable: bool = True

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


@dataclass
class RuleSet:
    """The rules in force for a check: one or more rule sets, concatenated in load order.

    `confirmed_only`: this is the default selection (no rule set named, SPEC §6): only
    `confirmed` rules decide, rules bound to a parcel or a commitment included; `left_out` holds
    the bundled rules that were not used, so an output can say what an official may opt into."""

    rules: list[Rule]
    sets: list[RuleSetInfo] = field(default_factory=list)
    confirmed_only: bool = False
    left_out: list[Rule] = field(default_factory=list)

    def only_confirmed(self) -> RuleSet:
        """The confirmed rules of these sets; sets left with no rule are dropped."""
        kept = [r for r in self.rules if r.status == "confirmed"]
        used = {r.rule_set for r in kept}
        return RuleSet(kept, [s for s in self.sets if s.id in used], True, [r for r in self.rules if r.status != "confirmed"])

    def admits(self, bound: list) -> list:
        """Rules bound to a parcel/commitment ((row, Rule) pairs or Rules) that may decide under this selection."""
        if not self.confirmed_only:
            return list(bound)
        return [b for b in bound if (b[1] if isinstance(b, tuple) else b).status == "confirmed"]

    def selection_note(self) -> str | None:
        """Chinese note of the default selection: what decided, what was left out and how to opt in."""
        if not self.confirmed_only:
            return None
        left: dict[str, tuple[str, str, int]] = {}
        for r in self.left_out:
            name, status, n = left.get(r.rule_set, (r.rule_set_name, r.status, 0))
            left[r.rule_set] = (name, status, n + 1)
        text = "未指定规则集：仅采用已核实（confirmed）规则判定。"
        if left:
            text += "未采用：" + "；".join(f"{name}（{r_id}，{STATUS_LABELS.get(st, st)}，{n} 条）" for r_id, (name, st, n) in left.items())
            text += "。如需参考，请用 --rules 或 ?rules= 指定规则集，结果将逐项标注其状态。"
        return text

    def __len__(self) -> int:
        return len(self.rules)

    @property
    def names(self) -> list[str]:
        return [s.id for s in self.sets]

    def by_id(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}

    def info(self, set_id: str) -> RuleSetInfo | None:
        return next((s for s in self.sets if s.id == set_id), None)

    def to_dict(self) -> dict:
        return {
            "rule_sets": [
                {"id": s.id, "name": s.name, "source": s.source, "status": s.status, "note": s.note, "slots": list(s.slots)}
                for s in self.sets
            ],
            "rules": [r.to_dict() for r in self.rules],
        }


# --- parsing --------------------------------------------------------------------------------


def _as_list(value, where: str, key: str, errors: list[RowError], row: int | None) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
        return [str(v) for v in value]
    errors.append(RowError(row, key, f"{where}：应为字符串或字符串列表"))
    return None


def _parse_scope(raw, where: str, row: int, errors: list[RowError]) -> Scope:
    if raw is None:
        return Scope()
    if not isinstance(raw, dict):
        errors.append(RowError(row, "scope", f"{where}：scope 应为表，如 scope = {{ use = [\"工业\"] }}"))
        return Scope()
    unknown = sorted(set(raw) - set(SCOPE_KEYS))
    for k in unknown:
        errors.append(RowError(row, f"scope.{k}", f"{where}：未知的适用范围字段“{k}”（可用：{'、'.join(SCOPE_KEYS)}）"))
    values: dict[str, frozenset[str] | None] = {}
    mapping = load_mapping()
    for dim in SCOPE_KEYS:
        if dim not in raw:
            continue
        items = _as_list(raw[dim], where, f"scope.{dim}", errors, row)
        if items is None:
            continue
        if dim in ("industry", "industry_2002"):
            try:
                values[dim] = expand_codes(items, f"{where} scope.{dim}")
            except InputError as exc:
                errors.append(RowError(row, f"scope.{dim}", exc.detail))
                continue
        else:
            values[dim] = frozenset(s.strip() for s in items)
    if "use" in values and values["use"] is not None:
        for u in sorted(values["use"] - set(USES)):
            errors.append(RowError(row, "scope.use", f"{where}：用途“{u}”无效（应为 {'/'.join(USES)}）"))
    if "industry_2002" in values:
        codes02 = values["industry_2002"] or frozenset()
        missing = sorted(c for c in codes02 if c not in mapping.to_2017)
        if missing:
            errors.append(RowError(row, "scope.industry_2002", f"{where}：2002 年版行业代码 {'、'.join(missing)} 不在对照表 {MAPPING_FILE.name} 中，无法对应到 2017 年版代码"))
        mapped = frozenset(c17 for c in codes02 for c17 in mapping.to_2017.get(c, ()))
        if "industry" in values:
            errors.append(RowError(row, "scope", f"{where}：industry 与 industry_2002 只能二选一"))
        values["industry"] = mapped
    return Scope(**values)


def parse_rule_set(data: dict, origin: str, default_id: str) -> tuple[RuleSetInfo, list[Rule]]:
    """Validate one parsed TOML rule set; raise RuleFileError listing every problem found."""
    errors: list[RowError] = []
    for k in sorted(set(data) - SET_KEYS):
        errors.append(RowError(None, k, f"规则文件 {origin}：未知的顶层字段“{k}”"))
    set_id = str(data.get("id") or default_id)
    set_name = str(data.get("name") or set_id)
    set_source = str(data.get("source") or "")
    set_status = data.get("status", "unverified")
    set_citable = data.get("citable", True)
    if not isinstance(set_citable, bool):
        errors.append(RowError(None, "citable", f"规则文件 {origin}：citable 应为 true 或 false"))
        set_citable = True
    if set_status not in STATUSES:
        errors.append(RowError(None, "status", f"规则文件 {origin}：status“{set_status}”无效（应为 {'/'.join(STATUSES)}）"))
    raw_rules = data.get("rule", [])
    if not isinstance(raw_rules, list) or not raw_rules:
        errors.append(RowError(None, "rule", f"规则文件 {origin}：没有 [[rule]] 规则"))
        raw_rules = []
    rules: list[Rule] = []
    for i, raw in enumerate(raw_rules, start=1):
        rid = str(raw.get("id") or f"{set_id}.{i}") if isinstance(raw, dict) else f"{set_id}.{i}"
        where = f"规则文件 {origin} 第{i}条规则（{rid}）"
        if not isinstance(raw, dict):
            errors.append(RowError(i, None, f"{where}：应为表"))
            continue
        n_before = len(errors)
        for k in sorted(set(raw) - RULE_KEYS):
            errors.append(RowError(i, k, f"{where}：未知字段“{k}”（可用：{'、'.join(sorted(RULE_KEYS))}）"))
        key = raw.get("key")
        if key not in INDICATORS:
            errors.append(RowError(i, "key", f"{where}：指标“{key}”未定义（可用：{'、'.join(INDICATORS)}）"))
        if "op" in raw and "operator" in raw and raw["op"] != raw["operator"]:
            errors.append(RowError(i, "op", f"{where}：op 与 operator 不一致"))
        op = raw.get("op", raw.get("operator"))
        if op not in OPS:
            errors.append(RowError(i, "op", f"{where}：运算符“{op}”无效（应为 >= 或 <=）"))
        limit = raw.get("limit")
        if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not math.isfinite(float(limit)):
            errors.append(RowError(i, "limit", f"{where}：限值“{limit}”应为有限数值"))
        elif float(limit) < 0:
            errors.append(RowError(i, "limit", f"{where}：限值 {limit} 不能为负"))
        unit = raw.get("unit", INDICATORS[key].unit if key in INDICATORS else "")
        if key in INDICATORS and unit != INDICATORS[key].unit:
            hint = "；国家表中的万元/公顷需 ÷15 换算为万元/亩" if "公顷" in str(unit) else ""
            errors.append(RowError(i, "unit", f"{where}：单位“{unit}”与指标 {key} 的单位“{INDICATORS[key].unit or '（无量纲）'}”不符{hint}"))
        phase_raw = raw.get("phase", list(PHASES))
        phases = _as_list(phase_raw, where, "phase", errors, i) or []
        for p in phases:
            if p not in PHASES:
                errors.append(RowError(i, "phase", f"{where}：阶段“{p}”无效（应为 {'/'.join(PHASES)}）"))
        status = raw.get("status", set_status)
        if status not in STATUSES:
            errors.append(RowError(i, "status", f"{where}：status“{status}”无效（应为 {'/'.join(STATUSES)}）"))
        source = str(raw.get("source") or set_source).strip()
        if not source:
            errors.append(RowError(i, "source", f"{where}：缺少来源 source（每条规则都必须注明出处）"))
        citable = raw.get("citable", set_citable)
        if not isinstance(citable, bool):
            errors.append(RowError(i, "citable", f"{where}：citable 应为 true 或 false"))
            citable = True
        if not citable and NOT_CITABLE not in source:
            source = f"{source}（{NOT_CITABLE}）"
        scope = _parse_scope(raw.get("scope"), where, i, errors)
        if len(errors) > n_before:
            continue
        rules.append(
            Rule(
                id=rid, key=key, op=op, limit=float(limit), unit=unit, scope=scope,
                phases=tuple(p for p in PHASES if p in phases), source=source, status=status,
                rule_set=set_id, rule_set_name=set_name, note=str(raw.get("note", "")),
                slot=str(raw["slot"]) if raw.get("slot") is not None else None, citable=citable,
            )
        )
    slots = []
    for j, s in enumerate(data.get("slot", []), start=1):
        if not isinstance(s, dict) or set(s) - SLOT_KEYS or "slot" not in s:
            errors.append(RowError(j, "slot", f"规则文件 {origin} 第{j}个 [[slot]]：应含 slot，可含 {'、'.join(sorted(SLOT_KEYS))}"))
            continue
        slots.append({k: s[k] for k in s})
    seen: set[str] = set()
    for r in rules:
        if r.id in seen:
            errors.append(RowError(None, "id", f"规则文件 {origin}：规则编号“{r.id}”重复"))
        seen.add(r.id)
    if errors:
        raise RuleFileError(f"规则文件 {origin} 有 {len(errors)} 处错误，未加载。", errors, hint="请按提示修改规则文件（格式见 parcels/standard_land/rules.py 的说明）。")
    if not set_citable and set_source and NOT_CITABLE not in set_source:
        set_source = f"{set_source}（{NOT_CITABLE}）"
    info = RuleSetInfo(set_id, set_name, set_source, set_status if set_status in STATUSES else "unverified",
                       str(data.get("note", "")), tuple(slots), origin, set_citable)
    return info, rules


def parse_rule_text(text: str, origin: str = "<文本>", default_id: str = "custom") -> tuple[RuleSetInfo, list[Rule]]:
    """Parse TOML text of a rule set (for the API's uploaded rules)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleFileError(f"规则文件 {origin} 不是有效的 TOML：{exc}", [RowError(None, None, str(exc))]) from exc
    return parse_rule_set(data, origin, default_id)


def _bundled_files() -> dict[str, Path]:
    files = {p.stem: p for p in sorted(RULES_DIR.glob("*.toml")) if p != MAPPING_FILE}
    order = [n for n in BUNDLED_ORDER if n in files] + sorted(n for n in files if n not in BUNDLED_ORDER)
    return {n: files[n] for n in order}


def bundled_rule_sets() -> list[str]:
    """Names of the rule sets shipped in `parcels/rules/` (national 2008, 2023, Henan sample, …)."""
    return list(_bundled_files())


def default_rules() -> RuleSet:
    """The rules that decide when nobody names a rule set (SPEC §6): the `confirmed` rules of the
    bundled sets, nothing else. Sample and unverified sets are opt-in by name (`load_rules`)."""
    return load_rules(None).only_confirmed()


def load_rules(paths_or_names: list[str] | str | None = None) -> RuleSet:
    """Load rule sets by bundled name (e.g. "national_2008") or file path; default: all bundled.

    Items may also be comma-separated ("national_2008,henan_3n1_sample"), as a CLI passes them.
    Rule ids must be unique across the loaded sets.
    """
    bundled = _bundled_files()
    if paths_or_names is None:
        items = list(bundled)
    else:
        if isinstance(paths_or_names, str):
            paths_or_names = [paths_or_names]
        items = [p.strip() for item in paths_or_names for p in str(item).split(",") if p.strip()]
        if not items:
            items = list(bundled)
    infos: list[RuleSetInfo] = []
    rules: list[Rule] = []
    for item in items:
        stem = item[:-5] if item.endswith(".toml") else item
        if stem in bundled and not Path(item).is_file():
            path = bundled[stem]
        else:
            path = Path(item)
            if not path.is_file():
                raise RuleFileError(
                    f"找不到规则集“{item}”。",
                    [RowError(None, "rules", f"既不是内置规则集（{'、'.join(bundled)}），也不是存在的 TOML 文件")],
                    hint="请使用内置规则集名称或规则文件路径。",
                )
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise RuleFileError(f"规则文件 {path.name} 不是 UTF-8 编码。", [RowError(None, None, str(exc))]) from exc
        info, set_rules = parse_rule_text(text, path.name, path.stem)
        if any(s.id == info.id for s in infos):
            raise RuleFileError(f"规则集“{info.id}”被重复加载。", [RowError(None, "id", "每个规则集只能加载一次")])
        infos.append(info)
        rules.extend(set_rules)
    dup = sorted({r.id for r in rules if sum(1 for q in rules if q.id == r.id) > 1})
    if dup:
        raise RuleFileError("不同规则文件中的规则编号重复。", [RowError(None, "id", f"规则编号“{d}”重复") for d in dup])
    return RuleSet(rules, infos)


# --- rules stored on a parcel or committed by an enterprise -----------------------------------

SL_FIELDS = {
    "sl_investment_intensity": "investment_intensity",
    "sl_floor_area_ratio": "floor_area_ratio",
    "sl_tax_per_mu": "tax_per_mu",
}


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))


def bound_rules_from_json(payload, *, owner: str, set_id: str, set_name: str, source_prefix: str, where: str) -> list[Rule]:
    """Rules stored as JSON (`sl_rules` of a parcel, a commitment record): the decisive rules of a sheet.

    Accepts the object `sheet_limits_for_parcel` writes ({"rules": [...]}) or a bare list.
    Each keeps its own status; its source is prefixed so reports say where the limit was set.
    """
    if payload is None or (isinstance(payload, float) and payload != payload) or payload == "":
        return []
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except json.JSONDecodeError as exc:
            raise RuleFileError(f"{where} 的 sl_rules 不是有效的 JSON。", [RowError(None, "sl_rules", str(exc))]) from exc
    items = payload.get("rules", []) if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        raise RuleFileError(f"{where} 的 sl_rules 格式有误。", [RowError(None, "sl_rules", "应为对象 {\"rules\": [...]} 或规则列表")])
    out: list[Rule] = []
    errors: list[RowError] = []
    for i, r in enumerate(items, start=1):
        if not isinstance(r, dict):
            errors.append(RowError(i, "sl_rules", "每条规则应为对象"))
            continue
        key, op, limit = r.get("key"), r.get("op"), r.get("limit")
        status = r.get("status", "unverified")
        if key not in INDICATORS or op not in OPS or not _is_number(limit) or status not in STATUSES:
            errors.append(RowError(i, "sl_rules", f"第{i}条规则的 key/op/limit/status 无效：{json.dumps(r, ensure_ascii=False)[:120]}"))
            continue
        phases = tuple(p for p in PHASES if p in (r.get("phase") or PHASES))
        out.append(
            Rule(
                id=f"{set_id}:{r.get('id') or i}", key=key, op=op, limit=float(limit), unit=INDICATORS[key].unit,
                scope=Scope(parcel=frozenset([owner])), phases=phases or PHASES,
                source=f"{source_prefix}{r.get('source') or '（未注明来源）'}", status=status,
                rule_set=set_id, rule_set_name=set_name, note=str(r.get("note", "")),
            )
        )
    if errors:
        raise RuleFileError(f"{where} 登记的标准地指标有误。", errors)
    return out


def bound_rules_from_parcel(parcel: dict) -> list[Rule]:
    """The limits stored on a reserve parcel (its issued sheet), as rules bound to that parcel.

    `sl_rules` (written by `sheet_limits_for_parcel`) keeps each limit's source and status. Bare
    `sl_*` numbers without it were typed in by hand: their origin is unknown, so they are marked
    `unverified` and say so.
    """
    pid = str(parcel.get("id") or "")
    set_id = f"parcel:{pid}"
    set_name = f"地块 {pid} 指标清单"
    rules = bound_rules_from_json(
        parcel.get("sl_rules"), owner=pid, set_id=set_id, set_name=set_name,
        source_prefix=f"地块 {pid} 已登记指标清单：", where=f"地块 {pid}",
    )
    if rules:
        return rules
    for fname, key in SL_FIELDS.items():
        v = parcel.get(fname)
        if _is_number(v):
            rules.append(
                Rule(
                    id=f"{set_id}:{fname}", key=key, op=">=", limit=float(v), unit=INDICATORS[key].unit,
                    scope=Scope(parcel=frozenset([pid])), phases=PHASES,
                    source=f"地块 {pid} 登记的标准地指标（字段 {fname}，人工录入）", status="unverified",
                    rule_set=set_id, rule_set_name=set_name, note="登记值未附来源，按未核实处理",
                )
            )
    return rules


def drop_loaded_copies(bound: list[Rule], rules: RuleSet) -> list[Rule]:
    """Bound rules minus exact copies of rules already loaded (a stored sheet repeats them)."""
    loaded = {(r.id, r.op, r.limit) for r in rules.rules}
    return [r for r in bound if (r.id[len(r.rule_set) + 1:], r.op, r.limit) not in loaded]
