"""A packed bulk load of a SQLite R-tree (the GeoPackage spatial index) from arrays of envelopes.

Why: SQLite's R-tree module inserts one entry at a time, choosing a leaf and splitting nodes as it
goes, ≈2 s per 100 000 parcels — most of a bulk import's time (GDAL's GeoPackage driver bulk
loads its R-trees for the same reason). Here the tree is built on whole arrays with the
Sort-Tile-Recursive packing (Leutenegger, Lopez & Edgington, "STR: a simple and efficient
algorithm for R-tree packing", ICDE 1997) and written straight into the virtual table's three
shadow tables, inside the caller's transaction:

- `<rtree>_node(nodeno, data)`: one blob per node, all of the table's node size (the root's
  length, 1228 bytes for 2-D trees); big-endian: depth of the tree (root only, else 0) as 2
  bytes, the cell count as 2 bytes, then per cell the 8-byte rowid (leaf) or child node number,
  and minx, maxx, miny, maxy as 4-byte floats. Node 1 is the root; leaves are at depth 0.
- `<rtree>_rowid(rowid, nodeno)`: the leaf that holds each entry.
- `<rtree>_parent(nodeno, parentnode)`: every node but the root.

Coordinates are stored as float32 rounded outwards (minima down, maxima up), as SQLite does, so a
box never shrinks. `SELECT rtreecheck('<rtree>')` (SQLite's own integrity check) validates the
result in the tests.
"""

from __future__ import annotations

import math

import numpy as np

CELL_BYTES = 24  # 8-byte id + 4 × float32, for a 2-D R-tree
CELL = np.dtype([("id", ">i8"), ("box", ">f4", 4)])


def float32_down(v: np.ndarray) -> np.ndarray:
    f = v.astype(np.float32)
    over = f.astype(np.float64) > v
    f[over] = np.nextafter(f[over], np.float32(-np.inf))
    return f


def float32_up(v: np.ndarray) -> np.ndarray:
    f = v.astype(np.float32)
    under = f.astype(np.float64) < v
    f[under] = np.nextafter(f[under], np.float32(np.inf))
    return f


def _f32(v, rounding) -> np.ndarray:
    """float32 as the R-tree stores it: given as float32 already (rounded by the caller), or
    float64 rounded outwards by `rounding`."""
    v = np.asarray(v)
    return v if v.dtype == np.float32 else rounding(v.astype(np.float64))


def str_groups(boxes: np.ndarray, capacity: int) -> list[np.ndarray]:
    """Sort-Tile-Recursive: index arrays of at most `capacity` boxes each ([minx, maxx, miny,
    maxy] rows), tiled so that each group is spatially compact."""
    n = len(boxes)
    if n <= capacity:
        return [np.arange(n)]
    pages = math.ceil(n / capacity)
    slices = math.ceil(math.sqrt(pages))
    per_slice = slices * capacity
    cx = (boxes[:, 0] + boxes[:, 1]) / 2
    cy = (boxes[:, 2] + boxes[:, 3]) / 2
    by_x = np.argsort(cx, kind="stable")
    groups: list[np.ndarray] = []
    for s in range(0, n, per_slice):
        part = by_x[s : s + per_slice]
        part = part[np.argsort(cy[part], kind="stable")]
        groups.extend(part[k : k + capacity] for k in range(0, len(part), capacity))
    return groups


def _union(boxes: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    out = np.empty((len(groups), 4), dtype=boxes.dtype)
    for k, g in enumerate(groups):
        b = boxes[g]
        out[k] = (b[:, 0].min(), b[:, 1].max(), b[:, 2].min(), b[:, 3].max())
    return out


def packed_nodes(ids: np.ndarray, boxes: np.ndarray, node_bytes: int):
    """(node blobs by node number, (rowids, their leaf nodenos), (nodenos, their parents)) — the
    pairs as two int64 arrays each: a list of 10^6 tuples was ≈150 MB, the peak of a 10^6-parcel
    GeoPackage import.

    `boxes` are float32 [minx, maxx, miny, maxy] rows (already rounded outwards)."""
    capacity = (node_bytes - 4) // CELL_BYTES
    if capacity < 2:
        raise ValueError(f"R-tree node of {node_bytes} bytes holds fewer than two cells")
    ids = np.asarray(ids, dtype=np.int64)
    levels: list[tuple[np.ndarray, np.ndarray, list[np.ndarray]]] = []  # (child ids, child boxes, groups)
    child_ids, child_boxes = ids, boxes
    while True:
        groups = str_groups(child_boxes, capacity)
        levels.append((child_ids, child_boxes, groups))
        if len(groups) == 1:
            break
        child_boxes = _union(child_boxes, groups)
        child_ids = np.arange(len(groups), dtype=np.int64)  # placeholders: numbered below
    depth = len(levels) - 1
    # number the nodes top down: the root is 1
    numbers: list[np.ndarray] = [np.empty(0, dtype=np.int64)] * len(levels)
    next_no = 1
    for lvl in range(depth, -1, -1):
        count = len(levels[lvl][2])
        numbers[lvl] = np.arange(next_no, next_no + count, dtype=np.int64)
        next_no += count
    blobs: dict[int, bytes] = {}
    pairs: list[tuple[list[np.ndarray], list[np.ndarray]]] = [([], []), ([], [])]  # (rowid, leaf), (node, parent)
    for lvl in range(depth + 1):
        cids, cboxes, groups = levels[lvl]
        if lvl > 0:
            cids = numbers[lvl - 1]  # children of this level are the nodes one level down
        for k, g in enumerate(groups):
            nodeno = int(numbers[lvl][k])
            cells = np.empty(len(g), dtype=CELL)
            cells["id"] = cids[g]
            cells["box"] = cboxes[g]
            head = (depth if nodeno == 1 else 0).to_bytes(2, "big") + len(g).to_bytes(2, "big")
            body = head + cells.tobytes()
            blobs[nodeno] = body + bytes(node_bytes - len(body))
            children, owners = pairs[0 if lvl == 0 else 1]
            children.append(cids[g])
            owners.append(np.full(len(g), nodeno, dtype=np.int64))

    def joined(p: tuple[list[np.ndarray], list[np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
        return (np.concatenate(p[0]), np.concatenate(p[1])) if p[0] else (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))

    return blobs, joined(pairs[0]), joined(pairs[1])


def _rows(a: np.ndarray, b: np.ndarray, chunk: int = 50_000):
    """(a[i], b[i]) as Python ints, made a chunk at a time (executemany reads them lazily)."""
    for i in range(0, len(a), chunk):
        yield from zip(a[i:i + chunk].tolist(), b[i:i + chunk].tolist())


def bulk_load(cur, rtree: str, ids: np.ndarray, minx, maxx, miny, maxy) -> None:
    """Replace the whole content of the R-tree virtual table `rtree` with these entries, written
    as a packed tree into its shadow tables (the caller's transaction holds the write lock)."""
    from gis.store.base import quote

    cur.execute(f"SELECT length(data) FROM {quote(rtree + '_node')} WHERE nodeno = 1")
    row = cur.fetchone()
    node_bytes = int(row[0]) if row and row[0] else 4 + 51 * CELL_BYTES
    boxes = np.column_stack([_f32(minx, float32_down), _f32(maxx, float32_up), _f32(miny, float32_down), _f32(maxy, float32_up)])
    for shadow in ("_node", "_rowid", "_parent"):
        cur.execute(f"DELETE FROM {quote(rtree + shadow)}")
    if len(ids) == 0:
        cur.execute(f"INSERT INTO {quote(rtree + '_node')} VALUES (1, ?)", (bytes(node_bytes),))
        return
    blobs, rowids, parents = packed_nodes(np.asarray(ids), boxes, node_bytes)
    cur.executemany(f"INSERT INTO {quote(rtree + '_node')} VALUES (?, ?)", blobs.items())
    cur.executemany(f"INSERT INTO {quote(rtree + '_rowid')} VALUES (?, ?)", _rows(*rowids))
    if len(parents[0]):
        cur.executemany(f"INSERT INTO {quote(rtree + '_parent')} VALUES (?, ?)", _rows(*parents))
