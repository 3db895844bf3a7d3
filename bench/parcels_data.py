"""Synthetic cadastral parcels for the API benchmark (SPEC §10): 8–40 vertices, around Nanyang.

Seeded and vectorised: parcel i sits in cell i of a square grid of ~60 m cells centred on the
zone (112.53°E, 33.0°N); its outline is a star-shaped polygon with 8–40 vertices whose radii
vary by ±25 %, so rings are always simple (angles strictly increase). Loaded straight into the
layer tables (no history rows: this is benchmark data, not an import), for both stores, plus
the SRID-4326-labelled copy that pygeoapi needs (PEERS.md).
"""

from __future__ import annotations

import numpy as np
import shapely

CENTER = (112.53, 33.0)
CELL_DEG = 0.0006  # ≈ 56 m east-west, 67 m north-south
USES = np.array(["工业", "居住", "仓储", "商业", "公共设施"])
PARKS = np.array(["光电产业园", "机械装备产业园", "科技产业园", "镀邦产业园", "冷链物流产业园"])


def make_parcels(n: int, seed: int = 20210401) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(geometries as shapely MultiPolygons, attribute columns) for n parcels."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    i = np.arange(n)
    cx = CENTER[0] + (i % side - side / 2) * CELL_DEG
    cy = CENTER[1] + (i // side - side / 2) * CELL_DEG
    nv = rng.integers(8, 41, n)
    total = int(nv.sum())
    owner = np.repeat(i, nv)
    starts = np.concatenate([[0], np.cumsum(nv)[:-1]])
    k = np.arange(total) - np.repeat(starts, nv)
    ang = 2 * np.pi * (k + rng.uniform(-0.3, 0.3, total)) / np.repeat(nv, nv)
    rad = CELL_DEG * 0.42 * rng.uniform(0.75, 1.0, total)
    xs = np.repeat(cx, nv) + rad * np.cos(ang)
    ys = np.repeat(cy, nv) + rad * np.sin(ang) * 0.85
    coords = np.column_stack([xs, ys])
    # close each ring: append each ring's first vertex after its last
    close_idx = starts
    ring_coords = np.insert(coords, np.cumsum(nv), coords[close_idx], axis=0)
    ring_owner = np.insert(owner, np.cumsum(nv), i)
    rings = shapely.linearrings(ring_coords, indices=ring_owner)
    polys = shapely.polygons(rings)
    geoms = shapely.multipolygons(polys, indices=np.arange(n))
    from gis.crs import ellipsoid_area_m2, plane_area_m2

    a = plane_area_m2(geoms)
    attrs = {
        "id": np.array([f"P{j:07d}" for j in i], dtype=object),
        "name": np.array([f"宗地{j}" for j in i], dtype=object),
        "use": USES[rng.integers(0, len(USES), n)],
        "park": PARKS[rng.integers(0, len(PARKS), n)],
        "area_m2": np.round(a, 2),
        "ellipsoid_area_m2": np.round(ellipsoid_area_m2(geoms), 2),
        "area_mu": np.round(a * 15 / 10000, 4),
        "floor_area_ratio": np.round(rng.uniform(0.5, 3.0, n), 2),
        "idle": rng.random(n) < 0.05,
        "geometry_source": np.full(n, "schematic", dtype=object),
        "data_source": np.full(n, "基准测试合成数据", dtype=object),
    }
    return geoms, attrs


def load_geopackage(path: str, layer: str, geoms: np.ndarray, attrs: dict[str, np.ndarray]) -> None:
    from gis.store import open_store
    from gis.store.base import LAYERS, now_iso, quote
    from gis.store.geopackage import encode

    store = open_store(path)
    kinds = {"id": "TEXT", "name": "TEXT", "use": "TEXT", "park": "TEXT", "area_m2": "REAL", "ellipsoid_area_m2": "REAL", "area_mu": "REAL", "floor_area_ratio": "REAL", "idle": "BOOLEAN", "geometry_source": "TEXT", "data_source": "TEXT"}
    blobs = encode(geoms)
    cols = list(attrs)
    with store._transaction() as cur:
        store._create_layer_table(cur, layer, "MULTIPOLYGON", layer)
        cur.execute(f"INSERT INTO {LAYERS} (name, title, geometry_type, created_at) VALUES (?, ?, ?, ?)", (layer, "基准测试宗地", "MULTIPOLYGON", now_iso()))
        for c in cols:
            if c != "id":
                store._add_column(cur, layer, c, kinds[c])
        lists = [attrs[c].tolist() for c in cols]
        rows = [tuple(lst[r] for lst in lists) + (blobs[r],) for r in range(len(geoms))]
        names = ", ".join(quote(c) for c in cols) + ", geom"
        cur.executemany(f"INSERT INTO {quote(layer)} ({names}) VALUES ({', '.join('?' for _ in cols)}, ?)", rows)
        store._after_layer_write(cur, layer)
    store.close()


def load_postgis(url: str, layer: str, geoms: np.ndarray, attrs: dict[str, np.ndarray], *, copy_4326: str | None = None) -> None:
    """Into the store's schema as a landgis layer; optionally a SRID-4326-labelled copy for pygeoapi."""
    from gis.store import open_store
    from gis.star_rings import safe_zooms
    from gis.store.base import LAYERS, now_iso, quote
    from gis.store.postgis import TILE_Z

    store = open_store(url)
    kinds = {"id": "TEXT", "name": "TEXT", "use": "TEXT", "park": "TEXT", "area_m2": "REAL", "ellipsoid_area_m2": "REAL", "area_mu": "REAL", "floor_area_ratio": "REAL", "idle": "BOOLEAN", "geometry_source": "TEXT", "data_source": "TEXT"}
    cols = list(attrs)
    wkb = shapely.to_wkb(geoms, hex=True)
    with store._transaction() as cur:
        store._create_layer_table(cur, layer, "MULTIPOLYGON", layer)
        cur.execute(f"INSERT INTO {LAYERS} (name, title, geometry_type, created_at) VALUES (%s, %s, %s, %s)", (layer, "基准测试宗地", "MULTIPOLYGON", now_iso()))
        for c in cols:
            if c != "id":
                store._add_column(cur, layer, c, kinds[c])
        names = ", ".join(quote(c) for c in cols)
        lists = [attrs[c].tolist() for c in cols]
        # the tile column an import fills (gis/store/postgis.py TILE_Z), so tiles take the same path
        tile_z = [None if np.isnan(v) else int(v) for v in safe_zooms(geoms)]
        with cur.copy(f"COPY {quote(layer)} ({names}, geom, {TILE_Z}) FROM STDIN") as cp:
            for r in range(len(geoms)):
                cp.write_row([lst[r] for lst in lists] + [f"SRID=4490;{wkb[r]}", tile_z[r]])
        if copy_4326:
            cur.execute(f"CREATE TABLE {quote(copy_4326)} AS SELECT fid, id, {', '.join(quote(c) for c in cols if c != 'id')}, ST_SetSRID(geom, 4326)::geometry(MultiPolygon, 4326) AS geom FROM {quote(layer)}")
            cur.execute(f"ALTER TABLE {quote(copy_4326)} ADD PRIMARY KEY (fid)")
            cur.execute(f"CREATE INDEX ON {quote(copy_4326)} USING gist (geom)")
    with store._transaction() as cur:
        cur.execute(f"ANALYZE {quote(layer)}")
        if copy_4326:
            cur.execute(f"ANALYZE {quote(copy_4326)}")
    store.close()
