"""The plan's sample layers against the plan itself (seed text) and against their own geometry.

Expected values come from the seed plan (parsed here, independently of the module) or from
SPEC/DOMAIN; geometric relations are checked on the stored EPSG:4490 geometry, distances and
areas in metres through gis.crs, never in degrees.
"""

from __future__ import annotations

import re
from itertools import combinations

import numpy as np
import pytest
import shapely
from shapely.geometry import box

from gis.crs import SERVICE_AREA, plane_area_m2, to_measure
from parcels.sample.plan import PLAN_CITATION, build_plan_layers
from parcels.schema import LAYERS

from conftest import PLAN_TEXT
TABLE_2_TITLE = "表 2：南阳高新区地块报批计划"
EXPECTED_TYPES = {
    "reserve_parcels": {"MultiPolygon"},
    "park_zones": {"MultiPolygon"},
    "zone_boundary": {"MultiPolygon"},
    "roads": {"MultiLineString"},
    "landmarks": {"Point", "Polygon", "MultiPolygon"},
}
SIDE_WORDS = {"以南": "S", "南侧": "S", "以北": "N", "北侧": "N", "以东": "E", "东侧": "E", "以西": "W", "西侧": "W", "两侧": "both"}
CLAUSE = re.compile(r"^(?P<ref>.+?)(?P<side>以南|以北|以东|以西|南侧|北侧|东侧|西侧|两侧)")
MAX_DISTANCE_M = 500.0  # a parcel lies in the block its text names, not kilometres away


# --- fixtures -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def plan_text() -> str:
    text = PLAN_TEXT.read_text(encoding="utf-8")
    assert TABLE_2_TITLE in text, f"{PLAN_TEXT} does not contain {TABLE_2_TITLE!r}"
    return text


@pytest.fixture(scope="module")
def layers():
    return build_plan_layers()


@pytest.fixture(scope="module")
def refs(layers):
    """name or alias → (geometry, direction or None) over roads and landmarks."""
    out = {}
    for layer in ("roads", "landmarks"):
        gdf = layers[layer]
        for _, row in gdf.iterrows():
            direction = row["direction"] if layer == "roads" else None
            for key in (row["name"], row["alias"]):
                if isinstance(key, str) and key:
                    assert key not in out, f"reference name {key} is ambiguous"
                    out[key] = (row.geometry, direction)
    return out


def parse_table_2(text: str) -> list[tuple[int, str, str, str, str]]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if TABLE_2_TITLE in line)
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("#"):
            break
        if re.match(r"^\d+\t", line):
            seq, district, name, location, use = line.split("\t")
            rows.append((int(seq), district, name, location, use))
    return rows


def metres(geoms) -> np.ndarray:
    return to_measure(np.asarray(geoms, dtype=object))


def m2(geom) -> float:
    """Plane area in the survey CRS in m² (the product's area_m2); 0 for an empty result."""
    if geom is None or geom.is_empty:
        return 0.0
    return float(plane_area_m2(np.array([geom], dtype=object))[0])


# --- Table 2 --------------------------------------------------------------------------------
def test_reserve_parcels_equal_table_2_verbatim(layers, plan_text):
    expected = parse_table_2(plan_text)
    assert len(expected) == 9, "seed Table 2 should have 9 rows"
    rp = layers["reserve_parcels"].sort_values("seq")
    got = list(zip(rp["seq"].astype(int), rp["district"], rp["name"], rp["location"], rp["use"]))
    assert got == expected
    assert list(rp["id"]) == [f"RP-{s:02d}" for s in range(1, 10)]
    assert set(rp["status"]) == {"计划报批"}
    assert set(rp["status_date"]) == {"2021-04-01"}
    assert rp["supply_method"].isna().all()
    for f in ("sl_investment_intensity", "sl_floor_area_ratio", "sl_tax_per_mu", "sl_rules"):
        assert rp[f].isna().all(), f"{f} must stay empty (filled by the 标准地 module)"


def test_plan_citation_names_plan_issuer_and_date(plan_text):
    assert "南阳高新技术产业开发区管理委员会" in PLAN_CITATION and "南阳高新技术产业开发区管理委员会" in plan_text
    assert "“十四五”" in PLAN_CITATION and "2021" in PLAN_CITATION


# --- schema, CRS, validity, determinism -------------------------------------------------------
@pytest.mark.parametrize("name", sorted(EXPECTED_TYPES))
def test_layer_schema_crs_and_geometry(layers, name):
    gdf = layers[name]
    assert gdf.crs is not None and gdf.crs.to_epsg() == 4490
    assert list(gdf.columns) == LAYERS[name].field_names + ["geometry"]
    assert len(gdf) > 0
    types = set(gdf.geom_type)
    assert types <= EXPECTED_TYPES[name], f"{name}: unexpected geometry types {types}"
    assert gdf.geometry.is_valid.all() and not gdf.geometry.is_empty.any()
    x0, y0, x1, y1 = gdf.total_bounds
    bx0, by0, bx1, by1 = SERVICE_AREA
    assert bx0 < x0 < x1 < bx1 and by0 < y0 < y1 < by1, "coordinates must be lon/lat near Nanyang"
    assert gdf["id"].is_unique


def test_build_is_deterministic(layers):
    again = build_plan_layers()
    for name, gdf in layers.items():
        other = again[name]
        assert gdf.drop(columns="geometry").equals(other.drop(columns="geometry")), name
        assert all(a.equals_exact(b, 0) for a, b in zip(gdf.geometry, other.geometry)), name


def test_every_feature_is_marked_schematic_with_a_source(layers):
    for name, gdf in layers.items():
        assert (gdf["geometry_source"] == "schematic").all(), name
        for sid, src in zip(gdf["id"], gdf["data_source"]):
            assert isinstance(src, str) and "规划" in src, f"{name} {sid}: data_source must cite the plan"
            assert "示意" in src and "非测绘" in src, f"{name} {sid}: data_source must say the geometry is schematic"


def test_ids_follow_the_layer_patterns(layers):
    patterns = {"reserve_parcels": r"RP-\d\d", "park_zones": r"PZ-\d\d", "roads": r"RD-\d\d", "landmarks": r"LM-\d\d"}
    for name, pat in patterns.items():
        assert all(re.fullmatch(pat, i) for i in layers[name]["id"]), name
    assert set(layers["zone_boundary"]["id"]) == {"ZB-current", "ZB-expansion"}


# --- areas ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["reserve_parcels", "park_zones", "zone_boundary"])
def test_area_fields_match_the_geometry(layers, name):
    gdf = layers[name]
    measured = plane_area_m2(gdf.geometry.values)
    np.testing.assert_allclose(gdf["area_m2"].to_numpy(float), measured, rtol=1e-9)
    np.testing.assert_allclose(gdf["area_mu"].to_numpy(float), gdf["area_m2"].to_numpy(float) * 15 / 10000, rtol=1e-12)


def test_reserve_parcel_sizes_are_plausible(layers):
    mu = layers["reserve_parcels"]["area_mu"]
    assert ((mu >= 80) & (mu <= 600)).all(), mu.tolist()


def planned_areas_from_plan(text: str) -> dict[str, float]:
    """Park areas as the plan states them, in 亩 (中关村: 控规 km² × 1500)."""
    flat = re.sub(r"\s+", " ", text)
    found = {
        "半导体产业园（二期）项目": re.search(r"半导体产业园（二期）项目。[^。]*?总面积\s*(\d+)\s*亩", flat),
        "数控装备制造项目": re.search(r"数控装备制造项目。\**\s*规划用地\s*(\d+)\s*亩", flat),
        "河南传美中医药数字物流产业园项目": re.search(r"河南传美中医药数字物流产业园项目。[^。]*?用地约\s*(\d+)\s*亩", flat),
        "华为应用技术产业园": re.search(r"华为应用技术产业园。[^#]*?二期启动产业园用地\s*(\d+)\s*亩", flat),
    }
    out = {name: float(m.group(1)) for name, m in found.items() if m}
    assert len(out) == len(found), f"could not find stated areas in the plan for {set(found) - set(out)}"
    zgc = re.search(r"控规规划区面积\s*([\d.]+)\s*k\s*m", flat)
    assert zgc, "中关村 控规 area not found in the plan"
    out["中关村科技产业园"] = float(zgc.group(1)) * 1500
    return out


def test_planned_areas_are_the_plans_and_geometry_matches(layers, plan_text):
    stated = planned_areas_from_plan(plan_text)
    pz = layers["park_zones"].set_index("name")
    for name, mu in stated.items():
        assert name in pz.index, f"park {name} (area stated in the plan) missing"
        assert pz.loc[name, "planned_area_mu"] == pytest.approx(mu, rel=1e-12)
        geom_mu = m2(pz.loc[name, "geometry"]) * 15 / 10000
        assert abs(geom_mu - mu) <= 0.005 * mu, f"{name}: geometry {geom_mu:.1f} 亩 vs planned {mu} 亩"
    others = pz.index.difference(list(stated))
    assert pz.loc[others, "planned_area_mu"].isna().all(), "planned_area_mu only where the plan states one"


# --- parks ------------------------------------------------------------------------------------
REQUIRED_PARKS = ["光电产业园", "机械装备产业园", "防爆电气产业园", "欧洲工业园", "科技产业园", "中关村科技产业园", "镀邦产业园", "冷链物流产业园"]
PROJECTS = ["半导体产业园（二期）项目", "数控装备制造项目", "河南传美中医药数字物流产业园项目", "华为应用技术产业园", "中基恒光（南阳）现代中医药产业园"]


def test_park_names_are_verbatim_from_the_plan(layers, plan_text):
    names = list(layers["park_zones"]["name"])
    for required in REQUIRED_PARKS + PROJECTS:
        assert required in names, f"park {required} missing"
    for name in names:
        assert name in plan_text, f"park name {name} is not verbatim from the plan"
    assert layers["park_zones"]["name"].is_unique
    assert layers["park_zones"]["leading_industry"].notna().all()


def test_park_hierarchy_and_containment(layers, plan_text):
    assert "机械装备产业园**。包括防爆电气产业园和欧洲工业园" in plan_text
    pz = layers["park_zones"].set_index("name")
    assert pz.loc["防爆电气产业园", "parent"] == "机械装备产业园"
    assert pz.loc["欧洲工业园", "parent"] == "机械装备产业园"
    assert pz.loc["中关村科技产业园", "parent"] == "科技产业园"
    for name, parent in pz["parent"].dropna().items():
        assert parent in pz.index, f"{name}: parent {parent} is not a park"
        outside = shapely.difference(pz.loc[name, "geometry"], pz.loc[parent, "geometry"])
        assert m2(outside) < 1.0, f"{name} sticks out of its parent {parent}"


def test_projects_and_parcels_do_not_overlap(layers):
    pz = layers["park_zones"].set_index("name")
    rp = layers["reserve_parcels"]
    feats = [(f"RP {i}", g) for i, g in zip(rp["id"], rp.geometry)] + [(n, pz.loc[n, "geometry"]) for n in PROJECTS]
    for (a, ga), (b, gb) in combinations(feats, 2):
        assert m2(shapely.intersection(ga, gb)) < 1.0, f"{a} overlaps {b}"


# --- location texts -------------------------------------------------------------------------
def parse_location(text: str, refs: dict) -> list[tuple[str, str]]:
    """`信臣路以南、热电厂以西` → [(信臣路, S), (热电厂, W)]; the ref is the longest known name
    the clause's head ends with (so “南阳中关村科技园经十路以西” → 经十路)."""
    out = []
    for clause in re.split(r"[、，,]", text.strip()):
        m = CLAUSE.match(clause.strip())
        assert m, f"cannot parse clause {clause!r} of {text!r}"
        head = m.group("ref")
        names = [n for n in refs if head.endswith(n)]
        assert names, f"reference of {clause!r} not found among roads/landmarks"
        out.append((max(names, key=len), SIDE_WORDS[m.group("side")]))
    return out


def check_relation(geom, ref_name: str, side: str, refs: dict) -> None:
    ref, direction = refs[ref_name]
    gx0, gy0, gx1, gy1 = geom.bounds
    if direction is not None:  # a road: it must run alongside the whole feature
        if side in ("N", "S"):
            assert direction == "东西", f"{ref_name} must run east–west to have a {side} side"
        elif side in ("E", "W"):
            assert direction == "南北", f"{ref_name} must run north–south to have a {side} side"
        if direction == "东西":
            strip = shapely.intersection(ref, box(gx0, -90, gx1, 90))
            rx0, ry0, rx1, ry1 = strip.bounds
            assert not strip.is_empty and rx0 <= gx0 + 1e-12 and rx1 >= gx1 - 1e-12, f"{ref_name} does not run along the feature"
        else:
            strip = shapely.intersection(ref, box(-180, gy0, 180, gy1))
            rx0, ry0, rx1, ry1 = strip.bounds
            assert not strip.is_empty and ry0 <= gy0 + 1e-12 and ry1 >= gy1 - 1e-12, f"{ref_name} does not run along the feature"
    else:  # a landmark: the feature must lie beside it
        rx0, ry0, rx1, ry1 = ref.bounds
        if side in ("E", "W"):
            assert gy0 < ry1 and ry0 < gy1, f"feature is not beside {ref_name} (latitudes do not overlap)"
        else:
            assert gx0 < rx1 and rx0 < gx1, f"feature is not beside {ref_name} (longitudes do not overlap)"
    if side == "S":
        assert gy1 < ry0, f"not wholly south of {ref_name}"
    elif side == "N":
        assert gy0 > ry1, f"not wholly north of {ref_name}"
    elif side == "W":
        assert gx1 < rx0, f"not wholly west of {ref_name}"
    elif side == "E":
        assert gx0 > rx1, f"not wholly east of {ref_name}"
    else:  # both sides: the road crosses the feature
        if direction == "南北":
            assert gx0 < rx0 and gx1 > rx1, f"not on both sides of {ref_name}"
        else:
            assert gy0 < ry0 and gy1 > ry1, f"not on both sides of {ref_name}"
    g_m, r_m = metres([geom, ref])
    assert shapely.distance(g_m, r_m) <= MAX_DISTANCE_M, f"too far from {ref_name}"


def test_reserve_parcels_honour_their_location_texts(layers, refs):
    for _, row in layers["reserve_parcels"].iterrows():
        constraints = parse_location(row["location"], refs)
        assert len(constraints) == 2
        for ref_name, side in constraints:
            try:
                check_relation(row.geometry, ref_name, side, refs)
            except AssertionError as exc:
                raise AssertionError(f"{row['id']} “{row['location']}”: {exc}") from None


def test_park_projects_honour_the_plans_location_texts(layers, refs, plan_text):
    flat = re.sub(r"\s+", "", plan_text)
    pz = layers["park_zones"].set_index("name")
    checked = 0
    for name in ("半导体产业园（二期）项目", "河南传美中医药数字物流产业园项目", "中基恒光（南阳）现代中医药产业园"):
        m = re.search(re.escape(name) + r"。\**[^。]*?位于([^，。]+)", flat)
        assert m, f"location of {name} not found in the plan"
        for ref_name, side in parse_location(m.group(1), refs):
            try:
                check_relation(pz.loc[name, "geometry"], ref_name, side, refs)
            except AssertionError as exc:
                raise AssertionError(f"{name} “{m.group(1)}”: {exc}") from None
            checked += 1
    assert checked == 5


def test_location_parser_rejects_a_wrong_side(layers, refs):
    """The relation check must be able to fail: row 1 is not north of 信臣路."""
    geom = layers["reserve_parcels"].set_index("seq").loc[1, "geometry"]
    with pytest.raises(AssertionError):
        check_relation(geom, "信臣路", "N", refs)
    with pytest.raises(AssertionError):
        check_relation(geom, "热电厂", "E", refs)


def test_domain_relations_leave_room_for_the_named_blocks(refs):
    """魏营, 梁庄 and 书香铭筑 (DOMAIN §C, plan 专栏14) must fit between the sketched roads."""
    blocks = {
        "魏营": "仲景大道以东、关帝庙路以西、信臣路以北、京宛大道以南",
        "梁庄": "仲景路以东、张衡路以南",
        "书香铭筑": "信臣路以南、仲景路以东",
        "张衡路加油站": "建设西路以南、新野路以东",
    }
    for label, text in blocks.items():
        x0, y0, x1, y1 = -180.0, -90.0, 180.0, 90.0
        for ref_name, side in parse_location(text, refs):
            rx0, ry0, rx1, ry1 = refs[ref_name][0].bounds
            if side == "E":
                x0 = max(x0, rx1)
            elif side == "W":
                x1 = min(x1, rx0)
            elif side == "N":
                y0 = max(y0, ry1)
            elif side == "S":
                y1 = min(y1, ry0)
        assert x0 < x1 and y0 < y1, f"{label} “{text}”: the sketched roads leave no room"


def test_same_text_parcels_sit_side_by_side(layers):
    rp = layers["reserve_parcels"].set_index("seq")
    for a, b in ((6, 7), (8, 9)):
        assert rp.loc[a, "location"] == rp.loc[b, "location"]
        ga, gb = metres([rp.loc[a, "geometry"], rp.loc[b, "geometry"]])
        assert shapely.distance(ga, gb) < 100, f"rows {a}/{b} should share a block"


def test_reserve_parcels_do_not_overlap(layers):
    rp = layers["reserve_parcels"]
    for (ia, ga), (ib, gb) in combinations(zip(rp["id"], rp.geometry), 2):
        assert m2(shapely.intersection(ga, gb)) < 1.0, f"{ia} overlaps {ib}"


# --- zone boundary ------------------------------------------------------------------------
def stated_zone_areas(text: str) -> tuple[float, float]:
    flat = re.sub(r"\s+", " ", text)
    current = re.search(r"高新区面积仅为\s*([\d.]+)\s*平方公里", flat)
    expansion = re.search(r"规划扩展\s*([\d.]+)\s*平方公里", flat)
    assert current and expansion, "zone areas not found in the plan"
    return float(current.group(1)), float(expansion.group(1))


def test_zone_boundary_areas_and_adjacency(layers, plan_text):
    current_km2, expansion_km2 = stated_zone_areas(plan_text)
    zb = layers["zone_boundary"].set_index("kind")
    assert set(zb.index) == {"current", "expansion"}
    assert zb.loc["current", "name"] == "南阳高新区"
    assert zb.loc["current", "planned_area_km2"] == pytest.approx(current_km2)
    assert zb.loc["expansion", "planned_area_km2"] == pytest.approx(expansion_km2)
    cur, exp = zb.loc["current", "geometry"], zb.loc["expansion", "geometry"]
    assert abs(m2(cur) / 1e6 - current_km2) <= 0.001 * current_km2
    assert abs(m2(exp) / 1e6 - expansion_km2) <= 0.001 * expansion_km2
    # touching along a shared edge, no overlap
    assert m2(shapely.intersection(cur, exp)) < 1.0
    shared = shapely.intersection(cur.boundary, exp.boundary)
    cur_m, shared_m = metres([cur, shared])
    assert shapely.length(shared_m) > 1000, "expansion must share an edge with the zone"
    # along the zone's south part: the shared edge is the zone's southern edge, the expansion south of it
    assert shared.bounds[3] <= cur.bounds[1] + 1e-9
    assert exp.bounds[3] <= cur.bounds[1] + 1e-9


def test_parcels_and_parks_lie_in_the_zone_or_the_expansion(layers):
    zb = layers["zone_boundary"].set_index("kind")
    cur, exp = zb.loc["current", "geometry"], zb.loc["expansion", "geometry"]
    for _, row in layers["reserve_parcels"].iterrows():
        assert m2(shapely.difference(row.geometry, cur)) < 1.0, f"{row['id']} outside the current zone"
    for _, row in layers["park_zones"].iterrows():
        out_cur = m2(shapely.difference(row.geometry, cur))
        out_exp = m2(shapely.difference(row.geometry, exp))
        assert min(out_cur, out_exp) < 1.0, f"{row['name']} lies in neither the zone nor the expansion"


# --- roads and landmarks --------------------------------------------------------------------
REQUIRED_ROADS = {
    "信臣路": "东西", "麒麟路": "东西", "原西环路": "南北", "枣庄路": "东西", "经十路": "南北", "经十一路": "南北",
    "经十二路": "南北", "经十三路": "南北", "纬七路": "东西", "纬八路": "东西", "纬九路": "东西", "纬十路": "东西",
    "纬十一路": "东西", "城南大道": "南北", "溧源路": "南北", "仲景大道": "南北", "关帝庙路": "南北", "京宛大道": "东西",
    "张衡路": "东西", "雪枫路": "东西", "独山大道": "南北", "建设西路": "东西", "新野路": "南北",
}


def test_roads_named_by_the_plan_are_present(layers, plan_text):
    roads = layers["roads"].set_index("name")
    assert roads.index.is_unique
    for name, direction in REQUIRED_ROADS.items():
        assert name in roads.index, f"road {name} missing"
        assert roads.loc[name, "direction"] == direction, name
    assert roads.loc["原西环路", "alias"] == "西环路"
    assert roads.loc["独山大道", "alias"] == "东环路"
    assert roads.loc["仲景大道", "alias"] == "仲景路"
    for name, row in roads.iterrows():
        if name in plan_text or (isinstance(row["alias"], str) and row["alias"] in plan_text):
            continue
        assert "推定" in row["data_source"], f"road {name} is not in the plan and not marked as inferred"
    lengths = shapely.length(metres(roads.geometry.values))
    assert (lengths >= 2000).all(), "roads must be long enough to bound blocks"


def test_directions_match_the_drawn_geometry(layers):
    for _, row in layers["roads"].iterrows():
        x0, y0, x1, y1 = metres([row.geometry])[0].bounds
        if row["direction"] == "东西":
            assert x1 - x0 > 5 * (y1 - y0), row["name"]
        else:
            assert y1 - y0 > 5 * (x1 - x0), row["name"]


def test_landmarks_named_by_table_2(layers):
    lm = layers["landmarks"].set_index("name")
    for name in ("热电厂", "中光学"):
        assert name in lm.index
        assert lm.loc[name, "geometry"].geom_type in ("Point", "Polygon", "MultiPolygon")
