"""The approval workflow of a reserve parcel (SPEC §4), and the rules an edit must satisfy.

报批 → 组卷上报 → 获批 → 供地 is a legal sequence: a parcel cannot be supplied before it is
approved, so status moves one step forward at a time. Going back (a rejected 组卷, a cancelled
supply) happens in real life, but only an admin may do it and only with a reason, which the
history keeps. Deletion is the status 已注销, never a removed row.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import shapely

from gis.crs import to_measure
from gis.errors import InputError, RowError
from parcels.schema import DELETED_STATUS, RESERVE_STATUSES

SUPPLY_METHODS = ("出让", "划拨")
MAX_OVERLAP_M2 = 1.0


def check_transition(current: str, new: str, *, role: str, reason: str | None, supply_method: str | None = None, use: str | None = None) -> str:
    """Return the history action ("status" | "revert" | "delete"), or refuse with the reason why.

    `use` is the parcel's 用途: 划拨 is refused for 工业/居住/商业 (SPEC §4.2, the ledger's rule,
    parcels/supply/methods.py), so the workflow cannot record what the ledger would refuse."""
    allowed = RESERVE_STATUSES + (DELETED_STATUS,)
    if new not in allowed:
        raise InputError(f"状态“{new}”无效。", hint=f"可用状态：{' → '.join(RESERVE_STATUSES)}，或 {DELETED_STATUS}（注销）。")
    if new == current:
        raise InputError(f"地块已处于“{current}”状态，无需变更。")
    if new == DELETED_STATUS:
        if role != "admin":
            raise InputError("只有管理员（admin）可以注销地块。")
        if not reason:
            raise InputError("注销地块必须填写原因。", hint="请用 --reason 说明注销原因。")
        return "delete"
    if current == DELETED_STATUS:
        if role != "admin" or not reason:
            raise InputError("已注销的地块只能由管理员填写原因后恢复。", hint="请用 --reason 说明恢复原因。")
        return "revert"
    i, j = RESERVE_STATUSES.index(current), RESERVE_STATUSES.index(new)
    if j < i:
        if role != "admin":
            raise InputError(f"状态只能向前推进（当前“{current}”），回退需管理员操作。")
        if not reason:
            raise InputError(f"将状态从“{current}”回退到“{new}”必须填写原因。", hint="请用 --reason 说明回退原因。")
        return "revert"
    if j > i + 1:
        skipped = "、".join(RESERVE_STATUSES[i + 1 : j])
        raise InputError(f"状态不能跳过“{skipped}”：当前“{current}”，下一步应为“{RESERVE_STATUSES[i + 1]}”。")
    if new == "已供地" and supply_method not in SUPPLY_METHODS:
        raise InputError("变更为“已供地”时须注明供地方式。", hint="请用 --supply-method 出让 或 --supply-method 划拨。")
    if new == "已供地" and supply_method == "划拨":
        from parcels.supply.methods import method_error

        why = method_error(use, "划拨")
        if why:
            raise InputError(f"不能以划拨方式供应该地块：{why}。", hint="工业、居住、商业用地请选择 --supply-method 出让。")
    return "status"


def status_changes(new: str, *, date: str | None = None, supply_method: str | None = None, previous_date: str | None = None, today: dt.date | None = None) -> dict:
    """The fields a status move writes. The date may be neither in the future (a status records
    what happened) nor before the date of the status it leaves (SPEC §4.2: the same date order
    as the supply ledger)."""
    today = today or dt.date.today()
    day = date or today.isoformat()
    try:
        when = dt.date.fromisoformat(day)
    except ValueError:
        raise InputError(f"日期“{day}”格式不对。", hint="请使用 YYYY-MM-DD，如 2026-11-24。")
    if when > today:
        raise InputError(f"状态日期 {day} 晚于今天（{today}）：状态记录已发生的事，日期不能在未来。", hint="请填写实际批复、上报或供地的日期。")
    before = _as_date(previous_date)
    if before is not None and when < before:
        raise InputError(f"状态日期 {day} 早于上一状态的日期 {before}：日期须按 报批 ≤ 上报 ≤ 获批 ≤ 供地 的顺序。", hint=f"请填写 {before} 当天或之后的日期。")
    changes = {"status": new, "status_date": day}
    if supply_method is not None:
        changes["supply_method"] = supply_method
    return changes


def _as_date(value) -> dt.date | None:
    """A stored status date (ISO text, date or datetime; empty → None)."""
    if value is None or (isinstance(value, float) and value != value) or str(value).strip() == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def check_parcel_geometry(geom, *, parcel_id: str, allowed_areas: list, others: dict[str, object]) -> None:
    """A valid, non-empty polygon inside the zone or the expansion, overlapping no other parcel by over 1 m²."""
    check_parcel_shape(geom, parcel_id=parcel_id)
    check_parcel_place(geom, parcel_id=parcel_id, allowed_areas=allowed_areas, others=others)


def check_parcel_shape(geom, *, parcel_id: str) -> None:
    """What the geometry is on its own (non-empty, a polygon, valid): checked before any lock."""
    if geom is None or shapely.is_empty(geom):
        raise InputError(f"地块 {parcel_id} 的新几何为空。")
    if shapely.get_type_id(geom) not in (3, 6):
        raise InputError(f"地块 {parcel_id} 的新几何不是面（{geom.geom_type}）。")
    if not shapely.is_valid(geom):
        raise InputError(f"地块 {parcel_id} 的新几何无效：{shapely.is_valid_reason(geom)}。", hint="请修复自相交等问题后重新提交。")


def check_parcel_place(geom, *, parcel_id: str, allowed_areas: list, others: dict[str, object]) -> None:
    """Where the geometry is against other rows (the zone, the other parcels).

    Depends on rows other writers may be changing at the same moment, so an edit must run it
    inside its write transaction with the layer locked (`Store.update_feature(check=…)`):
    checked before the transaction, two parcels could both move onto the same free land.
    """
    if allowed_areas:
        area_union = shapely.union_all(np.asarray(allowed_areas, dtype=object))
        outside = shapely.difference(to_measure(np.array([geom]))[0], to_measure(np.array([area_union]))[0])
        if outside.area > MAX_OVERLAP_M2:
            raise InputError(f"地块 {parcel_id} 有 {outside.area:.1f} 平方米位于高新区及扩区范围之外。", hint="请将地块限定在高新区或扩区范围内。")
    if others:
        ids = list(others)
        geoms = to_measure(np.asarray([others[k] for k in ids], dtype=object))
        mine = to_measure(np.array([geom]))[0]
        overlap = shapely.area(shapely.intersection(mine, geoms))
        bad = [(ids[k], overlap[k]) for k in np.nonzero(overlap > MAX_OVERLAP_M2)[0]]
        if bad:
            text = "、".join(f"{fid}（{a:.1f} 平方米）" for fid, a in bad)
            raise InputError(f"地块 {parcel_id} 与其他储备地块重叠：{text}。", hint="储备地块之间重叠不得超过 1 平方米。")


def reserve_overlap_errors(ids: list[str], geoms, others: dict[str, object]) -> list[RowError]:
    """Rows of an import that would make two live reserve parcels overlap (SPEC §4), 1-based.

    Checked among the imported parcels themselves and against `others` (the live parcels the
    import lands beside). Areas in metres (EPSG:4546), the same 1 m² tolerance as an edit, so a
    shared boundary never counts. Like `check_parcel_place` it depends on rows other writers may
    change, so the import runs it inside its write transaction (`Store.import_features(check=…)`)."""
    geoms = np.asarray(geoms, dtype=object)
    live = [i for i, g in enumerate(geoms) if g is not None and not shapely.is_empty(g)]
    if not live:
        return []
    mine = to_measure(geoms[live])
    other_ids = list(others)
    theirs = to_measure(np.asarray([others[k] for k in other_ids], dtype=object)) if other_ids else np.empty(0, dtype=object)
    pool = np.concatenate([mine, theirs])
    labels = [ids[i] for i in live] + other_ids
    tree = shapely.STRtree(pool)
    left, right = tree.query(mine, predicate="intersects")
    errors: list[RowError] = []
    for a, b in zip(left.tolist(), right.tolist()):
        if b < len(mine) and b <= a:  # each pair among the imported rows once, and never a row with itself
            continue
        area = float(shapely.area(shapely.intersection(mine[a], pool[b])))
        if area > MAX_OVERLAP_M2:
            where = f"本次导入第 {live[b] + 1} 行的 {labels[b]}" if b < len(mine) else f"已有储备地块 {labels[b]}"
            errors.append(RowError(live[a] + 1, "geometry", f"与{where}重叠 {area:.1f} 平方米", ids[live[a]]))
    return errors
