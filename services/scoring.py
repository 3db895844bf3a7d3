"""亩均效益 evaluation runs from the store (SPEC §5): enterprise tables, recorded 调档, stored runs.

`score_from_store` is the path every consumer of a score takes (CLI, HTTP, the efficiency map),
so each applies the recorded class adjustments (调档) the same way.
"""

from __future__ import annotations

from gis.store import Store


ADJUSTMENT_KIND = "class_adjustment"


def load_enterprise_source(store: Store, source: str, *, encoding: str | None = None):
    """An enterprise table from a file (CSV/XLSX/OGR) or, by name, the store's `enterprises` layer.

    Returns (frame, input bytes for hashing, label).
    """
    import io as _io
    from pathlib import Path

    import pandas as pd

    from gis.errors import InputError
    from gis.io import read_features

    path = Path(source)
    if path.exists():
        read = read_features(path, encoding=encoding)
        frame = pd.DataFrame(read.frame.drop(columns=read.frame.geometry.name)) if hasattr(read.frame, "geometry") and read.frame.geometry.name in read.frame else pd.DataFrame(read.frame)
        if hasattr(read.frame, "geometry") and "lon" not in frame.columns:
            pts = read.frame.geometry
            if len(pts) and (pts.geom_type == "Point").all():
                frame["lon"], frame["lat"] = pts.x.to_numpy(), pts.y.to_numpy()
        return frame, path.read_bytes(), path.name
    if store.layer_exists(source):
        gdf = store.read_layer(source)
        frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        buf = _io.StringIO()
        frame.to_csv(buf, index=False)
        return frame, buf.getvalue().encode("utf-8"), f"图层 {source}"
    raise InputError(f"找不到企业数据“{source}”：既不是文件，也不是存储中的图层。", hint="请给出 CSV/XLSX 文件路径，或使用图层名 enterprises。")


LEGACY_HINT = "请用 `landgis adjust 企业编号 等级 --reason 理由 --year 年度` 按年度重新登记（README：调档记录的年度）。"


def recorded_adjustments(store: Store):
    """Every recorded 调档: enterprise_id, class, reason, year, policy ("" = every policy), key.

    A record written before 调档 had a year (key = the enterprise id alone) comes back with
    year = None: it applies to no year until an official re-records it with its year. Carrying
    it into every year was the bug of issue 16 (an A→C for a 2023 accident also lowered 2024)."""
    import pandas as pd

    rows = []
    for k, v in store.get_records(ADJUSTMENT_KIND).items():
        year = v.get("year")
        rows.append({"enterprise_id": v.get("enterprise_id") or k.split("@", 1)[0], "class": v.get("class"),
                     "reason": v.get("reason"), "year": int(year) if year is not None else None,
                     "policy": v.get("policy") or "", "key": k})
    out = pd.DataFrame(rows, columns=["enterprise_id", "class", "reason", "year", "policy", "key"])
    out["year"] = pd.array(out["year"].tolist(), dtype="Int64")  # a missing year stays missing, never NaN
    return out


def legacy_adjustments(store: Store):
    """Records without a year (written before SPEC §5.5): listed, never applied."""
    rec = recorded_adjustments(store)
    return rec[rec["year"].isna()].reset_index(drop=True)


def adjustment_key(enterprise_id: str, year: int, policy: str | None) -> str:
    return f"{enterprise_id}@{int(year)}@{policy or '*'}"


def record_adjustment(store: Store, enterprise_id: str, new_class: str, *, reason: str, user: str,
                      year: int | None = None, policy: str | None = None) -> str:
    """Record a 调档 for one enterprise and year, under every policy or `policy` alone (SPEC §5.5).
    Returns the record key. A rerun of that year (any run after this) applies it."""
    from gis.errors import InputError

    enterprise_id = (enterprise_id or "").strip()
    if not enterprise_id:
        raise InputError("企业编号不能为空。", hint="请给出统一社会信用代码或企业编号。")
    if not reason or not reason.strip():
        raise InputError("调档必须填写原因。", hint="请用 --reason 说明调档依据。")
    if year is None:
        raise InputError("调档必须注明年度：调档只对该年度的评价有效。", hint="请用 --year 给出评价年度，如 --year 2024。")
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise InputError(f"年度“{year}”无效。", hint="年度应为四位整数，如 2024。") from None
    if not 1990 <= year <= 2100:
        raise InputError(f"年度 {year} 超出范围。", hint="年度应在 1990–2100 之间。")
    new_class = (new_class or "").strip().upper()
    allowed = ["A", "B", "C", "D"]
    if policy:
        from parcels.efficiency import bundled_policies, load_policy

        if policy not in bundled_policies():
            raise InputError(f"评价办法“{policy}”不存在。", hint=f"可用：{'、'.join(bundled_policies())}。")
        pol = load_policy(policy)
        allowed = list(dict.fromkeys(c for gp in pol.groups.values() for c in gp.class_names))
    if new_class not in allowed:
        raise InputError(f"等级“{new_class}”无效。", hint=f"等级只能是 {'、'.join(allowed)} 之一。")
    key = adjustment_key(enterprise_id, year, policy)
    store.put_record(ADJUSTMENT_KIND, key, {"enterprise_id": enterprise_id, "year": year, "policy": policy or "",
                                            "class": new_class, "reason": reason.strip()}, user=user)
    return key


def known_enterprise(store: Store, enterprise_id: str) -> bool:
    """Whether the `enterprises` layer holds this id (a 调档 for an unknown id is kept, but said)."""
    if not store.layer_exists("enterprises"):
        return False
    ents = store.read_layer("enterprises")
    return bool((ents["enterprise_id"].astype(str) == enterprise_id.strip()).any()) if "enterprise_id" in ents.columns else False


def efficiency_runs(store: Store, policy=None) -> list[dict]:
    """Stored 亩均 runs, oldest first, each as its meta (run_id, created_at, policy, year, …),
    optionally of one policy (a Policy: matched by id or name)."""
    runs = store.list_runs("efficiency")
    out = []
    for run_id in runs["run_id"].tolist():
        meta = run_meta(store, run_id)
        if policy is None or meta.get("policy_id") == policy.id or meta.get("policy") == policy.name:
            out.append(meta)
    # created_at has whole seconds: runs of one second are ordered by the nanoseconds kept in meta
    return sorted(out, key=lambda m: (m.get("created_at") or "", m.get("saved_ns") or 0))


def run_meta(store: Store, run_id: str) -> dict:
    meta, table = store.get_run(run_id)
    if meta.get("year") is None and "year" in table.columns and table["year"].notna().any():
        meta["year"] = int(table["year"].dropna().iloc[0])
    return meta


def stored_history(store: Store, policy, skip_years=()):
    """(enterprise_id, year, consecutive_low) of the latest stored run of each earlier year under
    `policy`, so a one-year table continues the count of the years already evaluated."""
    import pandas as pd

    latest: dict = {}
    for meta in efficiency_runs(store, policy):
        y = meta.get("year")
        if y is not None and y not in skip_years:
            latest[int(y)] = meta["run_id"]
    frames = []
    for y, run_id in latest.items():
        _, t = store.get_run(run_id)
        if "consecutive_low" in t.columns:
            frames.append(pd.DataFrame({"enterprise_id": t["enterprise_id"].astype(str), "year": y,
                                        "consecutive_low": pd.to_numeric(t["consecutive_low"], errors="coerce").fillna(0)}))
    if not frames:
        return None
    return pd.concat(frames, ignore_index=True)


def run_scoring(store: Store, frame, data: bytes, *, policy: str | None, user: str, label: str):
    """Score an enterprise table of one or several years and store one run per year (input
    hash, policy, year, benchmarks, time, user). Returns (run_id of the latest year, YearlyResult
    with `run_ids` year → run_id). Plain arguments, so a job or an OGC process can call it."""
    import time

    from gis.store.base import input_hash
    from parcels.efficiency import DEFAULT_POLICY, load_policy, normalize_enterprise_table
    from parcels.efficiency.years import score_years

    pol = load_policy(policy or DEFAULT_POLICY)
    table = normalize_enterprise_table(frame)
    parcels = store.read_layer("industrial_parcels") if store.layer_exists("industrial_parcels") else None
    years = set(int(y) for y in table["year"].dropna().unique()) if "year" in table.columns else set()
    result = score_years(table, pol, parcels=parcels, adjustments=recorded_adjustments(store),
                         history=stored_history(store, pol, skip_years=years))
    result.input_hash = input_hash(data)
    legacy = legacy_adjustments(store)
    extra = [f"有 {len(legacy)} 条调档记录未注明年度（旧版记录：{'、'.join(legacy['enterprise_id'].astype(str).tolist()[:10])}），"
             f"未应用于任何年度。{LEGACY_HINT}"] if len(legacy) else []
    run_id = None
    for y, res in result.by_year.items():
        run_id = store.save_run(
            "efficiency",
            res.results,
            user=user,
            input_hash=result.input_hash,
            policy=pol.name,
            meta={"source": label, "rows": int(len(res.results)), "warnings": list(res.warnings) + extra,
                  "year": y, "policy_id": pol.id, "benchmarks": benchmark_records(res.benchmarks), "saved_ns": time.time_ns()},
        )
        result.run_ids[y] = run_id
    result.extra_warnings = extra
    return run_id, result


def run_classes(meta: dict, table) -> set[str]:
    """The classes of a stored run's policy: from the bundled policy it names, else those its rows
    hold (a class nobody was placed in is then unknown, and a 调档 to it is not shown)."""
    from parcels.efficiency import bundled_policies, load_policy

    if meta.get("policy_id") in bundled_policies():
        pol = load_policy(meta["policy_id"])
        return {c for gp in pol.groups.values() for c in gp.class_names}
    seen = set()
    for col in ("initial_class", "class"):
        if col in table.columns:
            seen |= set(table[col].dropna().astype(str))
    return seen


def benchmark_records(benchmarks) -> list[dict]:
    """The run's benchmarks as JSON records (group, indicator, label, unit, method, value, weight)."""
    import json

    if benchmarks is None or not len(benchmarks):
        return []
    cols = [c for c in ("group", "indicator", "label_zh", "unit", "method", "benchmark", "weight", "cap", "floor",
                        "n_scored", "status") if c in benchmarks.columns]
    return json.loads(benchmarks[cols].to_json(orient="records", force_ascii=False))


def response_document(run_id: str, result) -> dict:
    """The answer to a scoring request (HTTP, an OGC process): the newest year's run as SPEC §5.5
    JSON (run_id, policy, year, benchmarks, rows) with the class counts, and every year's run."""
    import json

    latest = result.latest
    return {
        "run_id": run_id,
        "policy": result.policy_name,
        "policy_id": result.policy.id,
        "year": result.years[-1],
        "input_hash": result.input_hash,
        "warnings": list(result.warnings),
        "benchmarks": benchmark_records(latest.benchmarks),
        "class_counts": json.loads(result.class_counts("park").reset_index().to_json(orient="records", force_ascii=False)),
        "rows": json.loads(latest.results.to_json(orient="records", force_ascii=False)),
        "runs": [{"run_id": rid, "year": y, "links": {"self": f"/scoring/efficiency/{rid}"}} for y, rid in result.run_ids.items()],
        "links": {"self": f"/scoring/efficiency/{run_id}", "csv": f"/scoring/efficiency/{run_id}?f=csv",
                  "xlsx": f"/scoring/efficiency/{run_id}?f=xlsx", "public": f"/scoring/efficiency/{run_id}?f=public"},
    }


def run_document(store: Store, run_id: str) -> dict:
    """A stored run as JSON (SPEC §5.5): run_id, policy, year, benchmarks beside the rows."""
    import json

    import pandas as pd

    meta, table = store.get_run(run_id)
    if meta.get("kind") != "efficiency":
        from gis.errors import InputError

        raise InputError(f"{run_id} 不是亩均评价的运行记录。")
    if meta.get("year") is None and "year" in table.columns and table["year"].notna().any():
        meta["year"] = int(table["year"].dropna().iloc[0])
    for col in ("rank", "year", "consecutive_low"):  # counts read back from JSON as floats: 3, not 3.0
        if col in table.columns:
            table[col] = pd.to_numeric(table[col], errors="coerce").astype("Int64")
    return {"run_id": meta["run_id"], "policy": meta.get("policy"), "policy_id": meta.get("policy_id"),
            "year": meta.get("year"), "benchmarks": meta.get("benchmarks", []), "created_at": meta.get("created_at"),
            "user": meta.get("user"), "input_hash": meta.get("input_hash"), "source": meta.get("source"),
            "warnings": meta.get("warnings", []), "rows": json.loads(table.to_json(orient="records", force_ascii=False))}


def latest_run_id(store: Store, year: int | None = None) -> str | None:
    """The newest efficiency run (of `year` when given), or None when none is stored."""
    if year is None:  # the map asks on every page: read the metas of the newest second only
        runs = store.list_runs("efficiency")
        if not len(runs):
            return None
        newest = runs[runs["created_at"] == runs["created_at"].max()]["run_id"].tolist()
        metas = [run_meta(store, r) for r in newest]
        return max(metas, key=lambda m: m.get("saved_ns") or 0)["run_id"]
    for meta in reversed(efficiency_runs(store)):
        if meta.get("year") == year:
            return meta["run_id"]
    return None


def efficiency_features(store: Store, result):
    """The results joined to land: each enterprise's parcels (dissolved), else its point."""
    import geopandas as gpd
    import shapely

    rows = result.csv_frame()
    geoms = {}
    if store.layer_exists("industrial_parcels"):
        parcels = store.read_layer("industrial_parcels").set_index("id")
        links = result.links
        for eid, group in links.groupby("enterprise_id"):
            ids = [p for p in group["parcel_id"] if p in parcels.index]
            if ids:
                geoms[eid] = shapely.union_all(parcels.loc[ids].geometry.values)
    if store.layer_exists("enterprises"):
        ents = store.read_layer("enterprises")
        for r in ents.itertuples():
            if r.enterprise_id not in geoms and r.geometry is not None:
                geoms[r.enterprise_id] = r.geometry
    return gpd.GeoDataFrame(rows, geometry=[geoms.get(e) for e in rows["enterprise_id"]], crs=4490)
