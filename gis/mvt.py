"""A vectorised Mapbox Vector Tile (MVT 2.1) encoder for one layer of shapely geometries.

Why our own: `mapbox_vector_tile` (the maintained Python encoder) builds one protobuf message
object per feature and one Python call per vertex — ≈130 ms for a z14 tile of 1 300 cadastral
parcels, five times what PostGIS's `ST_AsMVT` needs for the same tile. Here every step runs on
whole NumPy arrays: the ring/part structure comes from `shapely.to_ragged_array`, repeated points
are dropped, rings are oriented and degenerate rings removed with array arithmetic, and the
command/parameter integers are varint-encoded in one pass. Only the final concatenation of each
feature's byte slices is a Python loop (a few µs per feature). `tests/test_mvt.py` checks the
output against `mapbox_vector_tile`'s decoder and PostGIS-compatible semantics.

Protocol facts used (vector-tile-spec 2.1): Tile.layers = 3; Layer: name = 1, features = 2,
keys = 3, values = 4, extent = 5, version = 15; Feature: id = 1, tags = 2 (packed), type = 3,
geometry = 4 (packed); Value: string = 1, double = 3, uint = 5, sint = 6, bool = 7. Commands:
MoveTo 1, LineTo 2, ClosePath 7, `(id & 7) | (count << 3)`; parameters are zigzag deltas from
the previous cursor, which starts at (0, 0) for every feature. Exterior rings have positive
surveyor's-formula area in tile coordinates (y down), interior rings negative.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from gis.star_rings import mercator, star_turns

MOVE_TO, LINE_TO, CLOSE_PATH = 1, 2, 7
POINT, LINESTRING, POLYGON = 1, 2, 3


# --------------------------------------------------------------------------------------------
# varints


def varint_bytes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Protobuf varints of non-negative integers (< 2**64): (bytes, start offsets with a final end).

    One pass per byte the largest value needs (tile streams rarely need more than two)."""
    v = np.asarray(values, dtype=np.uint64)
    n = np.ones(len(v), dtype=np.int64)
    top = int(v.max()) if len(v) else 0
    k = 1
    while k < 10 and top >= (1 << (7 * k)):
        n += v >= np.uint64(1 << (7 * k))
        k += 1
    offsets = np.zeros(len(v) + 1, dtype=np.int64)
    np.cumsum(n, out=offsets[1:])
    if k == 1:  # every value fits one byte
        return v.astype(np.uint8), offsets
    out = np.empty(int(offsets[-1]), dtype=np.uint8)
    starts = offsets[:-1]
    for b in range(k):
        has = n > b if b else slice(None)
        byte = (v[has] >> np.uint64(7 * b)) & np.uint64(0x7F)
        more = (n[has] > b + 1).astype(np.uint64) << np.uint64(7)
        out[starts[has] + b] = (byte | more).astype(np.uint8)
    return out, offsets


def ragged_concat(pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray]], n: int) -> np.ndarray:
    """Byte messages assembled on whole arrays: message i is, in order, each piece's slice
    `buf[start[i]:end[i]]` (buf uint8; start/end int arrays of length n). One gather instead of
    a Python loop over features and their fields."""
    bufs = [b for b, _, _ in pieces]
    base = np.cumsum([0] + [len(b) for b in bufs[:-1]])
    src = np.concatenate(bufs) if bufs else np.empty(0, dtype=np.uint8)
    starts = np.stack([s + o for (_, s, _), o in zip(pieces, base)], axis=1).reshape(-1)  # message-major
    lens = np.stack([e - s for _, s, e in pieces], axis=1).reshape(-1)
    total = int(lens.sum())
    out_start = np.cumsum(lens) - lens
    idx = np.arange(total, dtype=np.int64) + np.repeat(starts - out_start, lens)
    return src[idx]


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def zigzag32(v: np.ndarray) -> np.ndarray:
    v = v.astype(np.int64)
    return ((v << 1) ^ (v >> 31)).astype(np.uint64) & np.uint64(0xFFFFFFFF)


def _field(tag: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return varint((tag << 3) | 2) + varint(len(payload)) + payload


# --------------------------------------------------------------------------------------------
# tile coordinates


def lonlat_to_tile_pixels(geoms: np.ndarray, bounds: tuple[float, float, float, float], extent: int) -> np.ndarray:
    """Lon/lat (EPSG:4490 or 4326 degrees) → unrounded tile pixels (y down) of the EPSG:3857 tile `bounds`.

    Spherical Mercator in closed form: the same numbers as PROJ's `+proj=merc +a=6378137` (what
    PostGIS's ST_Transform(…, 3857) does), without a PROJ call per tile."""
    return shapely.transform(geoms, lambda xy: lonlat_array_to_tile_pixels(xy, bounds, extent))


def lonlat_array_to_tile_pixels(xy: np.ndarray, bounds: tuple[float, float, float, float], extent: int) -> np.ndarray:
    """`lonlat_to_tile_pixels` on an (n, 2) coordinate array."""
    x0, y0, x1, y1 = bounds
    m = mercator(xy)
    return np.column_stack([(m[:, 0] - x0) * (extent / (x1 - x0)), (y1 - m[:, 1]) * (extent / (y1 - y0))])


@dataclass
class QuantisedRings:
    """`quantise_rings`' answer: single-ring polygons sorted by how they may be encoded, each group
    with its indices into the input rings."""

    star: tuple[np.ndarray, np.ndarray, np.ndarray]  # rounded closed rings, counts, turning (+1/−1): proven star-shaped
    star_idx: np.ndarray
    simple: tuple[np.ndarray, np.ndarray]  # rounded closed rings, counts: simple by GEOS
    simple_idx: np.ndarray
    rest: np.ndarray  # unrounded shapely polygons: to clip or repair
    rest_idx: np.ndarray


def quantise_rings(px: np.ndarray, counts: np.ndarray, extent: int, buffer: int) -> QuantisedRings:
    """Single-ring polygons as arrays (unrounded pixels, closed rings of `counts` points), rounded
    and sorted into: proven star-shaped (gis/star_rings.py: simple, no repeated points, turning
    known — `star_ring_streams` encodes them without further checks), simple by GEOS, and the rest.

    Kept as arrays: polygons wholly inside the buffered tile (nothing to clip) that are still
    valid after rounding — proven for star-shaped rings on arrays, else checked by GEOS on the
    rounded rings, as `clip_and_quantise` does, as ring simplicity (a polygon of one closed ring
    is valid exactly when the ring is simple, except for rings with under three distinct points,
    which are not simple either or — all points equal — vanish in both paths; ≈30 % cheaper than
    building polygons for `is_valid`). The rest (crossing the edge, or folded by rounding) take
    `clip_and_quantise`'s path, so the result is the same; most cadastral parcels of a z14+ tile
    never become shapely objects in pixel space, nor are transformed twice."""
    ring_off = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=ring_off[1:])
    starts = ring_off[:-1]
    lo, hi = -buffer, extent + buffer
    inside = (
        (np.minimum.reduceat(px[:, 0], starts) >= lo) & (np.minimum.reduceat(px[:, 1], starts) >= lo)
        & (np.maximum.reduceat(px[:, 0], starts) <= hi) & (np.maximum.reduceat(px[:, 1], starts) <= hi)
    ) if len(counts) else np.zeros(0, dtype=bool)
    rounded = np.round(px)
    point_owner = np.repeat(np.arange(len(counts)), counts)
    idx_in = np.nonzero(inside)[0]
    in_coords, in_counts = rounded[inside[point_owner]], counts[idx_in]
    star, turn = star_turns(in_coords, in_counts)  # most parcels: proven simple on arrays
    by_star = np.repeat(star, in_counts)
    simple = np.zeros(len(idx_in), dtype=bool)
    if not star.all():  # the others: GEOS decides
        other = ~star
        rings = shapely.linearrings(in_coords[~by_star], indices=np.repeat(np.arange(int(other.sum())), in_counts[other]))
        simple[other] = shapely.is_simple(rings)
    ok = np.zeros(len(counts), dtype=bool)
    ok[idx_in[star | simple]] = True
    idx_rest = np.nonzero(~ok)[0]
    rest = shapely.polygons(shapely.linearrings(px[~ok[point_owner]], indices=np.repeat(np.arange(len(idx_rest)), counts[idx_rest]))) if len(idx_rest) else np.empty(0, dtype=object)
    return QuantisedRings(
        star=(in_coords[by_star], in_counts[star], turn[star]),
        star_idx=idx_in[star],
        simple=(in_coords[np.repeat(simple, in_counts)], in_counts[simple]),
        simple_idx=idx_in[simple],
        rest=np.asarray(rest, dtype=object),
        rest_idx=idx_rest,
    )


def clip_and_quantise(px: np.ndarray, extent: int, buffer: int) -> np.ndarray:
    """Clip to the buffered tile (only features that cross its edge), round to whole pixels and
    repair what rounding folded; None where nothing is left. MVT has no collections: a repaired
    collection keeps its highest-dimension parts."""
    px = np.asarray(px, dtype=object).copy()
    lo, hi = -buffer, extent + buffer
    b = shapely.bounds(px)
    crosses = ~((b[:, 0] >= lo) & (b[:, 1] >= lo) & (b[:, 2] <= hi) & (b[:, 3] <= hi))
    crosses &= ~np.isnan(b[:, 0])
    if crosses.any():
        px[crosses] = shapely.clip_by_rect(px[crosses], lo, lo, hi, hi)
    px = shapely.transform(px, np.round)
    types = shapely.get_type_id(px)
    areal = (types == 3) | (types == 6)
    if areal.any():
        idx = np.nonzero(areal)[0]
        bad = idx[~shapely.is_valid(px[idx])]
        if len(bad):
            px[bad] = shapely.make_valid(px[bad], method="structure", keep_collapsed=False)
    px = _no_collections(px)
    px[shapely.is_empty(px) | pd.isna(px)] = None
    return px


def _no_collections(geoms: np.ndarray) -> np.ndarray:
    ids = shapely.get_type_id(geoms)
    for i in np.nonzero(ids == 7)[0]:
        parts = shapely.get_parts(geoms[i])
        parts = parts[~shapely.is_empty(parts)]
        if len(parts) == 0:
            geoms[i] = None
            continue
        dims = shapely.get_dimensions(parts)
        keep = shapely.get_parts(parts[dims == dims.max()])
        kind = shapely.get_type_id(keep[0])
        geoms[i] = shapely.multipolygons(keep) if kind == 3 else shapely.multilinestrings(keep) if kind == 1 else shapely.multipoints(keep)
    return geoms


# --------------------------------------------------------------------------------------------
# geometry command streams


@dataclass
class GeometryStreams:
    """Per input feature: MVT geometry type (0 = nothing left) and its packed command bytes."""

    kind: np.ndarray  # int8 per feature
    data: np.ndarray  # uint8, all features' command varints back to back
    start: np.ndarray  # int64 per feature
    end: np.ndarray  # int64 per feature


def _dedupe(coords: np.ndarray, seg_of_point: np.ndarray) -> np.ndarray:
    """Mask keeping the first of consecutive equal points within each segment."""
    keep = np.ones(len(coords), dtype=bool)
    if len(coords) > 1:
        same = np.all(coords[1:] == coords[:-1], axis=1) & (seg_of_point[1:] == seg_of_point[:-1])
        keep[1:] = ~same
    return keep


def _streams(feature_of_seg: np.ndarray, seg_len: np.ndarray, pts: np.ndarray, n_features: int, close: bool, single_moveto: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Command integers for segments (rings or lines), segments ordered by feature.

    Returns (uint8 bytes, per-feature start, per-feature end) over the varint stream."""
    nseg = len(seg_len)
    if single_moveto:  # points: one MoveTo(count) per feature, then all its points
        counts = np.bincount(feature_of_seg, weights=seg_len, minlength=n_features).astype(np.int64)
        ints_per_feat = np.where(counts > 0, 1 + 2 * counts, 0)
    else:
        ints_per_seg = 2 * seg_len + (3 if close else 2)  # MoveTo + 2, LineTo + 2(n-1), [ClosePath]
        ints_per_feat = np.bincount(feature_of_seg, weights=ints_per_seg, minlength=n_features).astype(np.int64)
    total = int(ints_per_feat.sum())
    stream = np.empty(total, dtype=np.uint64)
    feat_int_start = np.zeros(n_features + 1, dtype=np.int64)
    np.cumsum(ints_per_feat, out=feat_int_start[1:])

    # zigzag deltas, cursor reset at each feature's first point
    pt_feat = np.repeat(feature_of_seg, seg_len)
    prev = np.zeros_like(pts)
    if len(pts):
        prev[1:] = pts[:-1]
        first_of_feat = np.ones(len(pts), dtype=bool)
        first_of_feat[1:] = pt_feat[1:] != pt_feat[:-1]
        prev[first_of_feat] = 0
    d = zigzag32(pts - prev)  # (n, 2)

    if single_moveto:
        has = ints_per_feat > 0
        stream[feat_int_start[:-1][has]] = (MOVE_TO | (counts[has] << 3)).astype(np.uint64)
        # point k of feature f sits at start_f + 1 + 2*rank
        pt_start = np.zeros(n_features + 1, dtype=np.int64)
        np.cumsum(counts, out=pt_start[1:])
        rank = np.arange(len(pts)) - pt_start[pt_feat]
        pos = feat_int_start[pt_feat] + 1 + 2 * rank
        stream[pos] = d[:, 0]
        stream[pos + 1] = d[:, 1]
    else:
        ints_per_seg = 2 * seg_len + (3 if close else 2)
        seg_int_start = np.empty(nseg, dtype=np.int64)
        # segments are grouped by feature, in order: start = feature start + ints of earlier segments of it
        csum = np.cumsum(ints_per_seg) - ints_per_seg
        feat_first_seg = np.searchsorted(feature_of_seg, np.arange(n_features))
        seg_int_start[:] = feat_int_start[feature_of_seg] + csum - csum[feat_first_seg[feature_of_seg]]
        stream[seg_int_start] = MOVE_TO | (1 << 3)
        stream[seg_int_start + 3] = (LINE_TO | ((seg_len - 1) << 3)).astype(np.uint64)
        if close:
            stream[seg_int_start + ints_per_seg - 1] = CLOSE_PATH | (1 << 3)
        seg_pt_start = np.zeros(nseg + 1, dtype=np.int64)
        np.cumsum(seg_len, out=seg_pt_start[1:])
        pt_seg = np.repeat(np.arange(nseg), seg_len)
        rank = np.arange(len(pts)) - seg_pt_start[pt_seg]
        # first point after MoveTo (offset 1); the others after LineTo (offset 4 + 2(rank-1))
        pos = seg_int_start[pt_seg] + np.where(rank == 0, 1, 2 * rank + 2)
        stream[pos] = d[:, 0]
        stream[pos + 1] = d[:, 1]
    data, off = varint_bytes(stream)
    return data, off[feat_int_start[:-1]], off[feat_int_start[1:]]


def encode_geometries(geoms: np.ndarray) -> GeometryStreams:
    """MVT command streams for integer-pixel geometries (None/empty → kind 0)."""
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    kind = np.zeros(n, dtype=np.int8)
    pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    types = shapely.get_type_id(geoms)  # -1 for None
    for group, ids in ((POLYGON, (3, 6)), (LINESTRING, (1, 5)), (POINT, (0, 4))):
        idx = np.nonzero(np.isin(types, ids))[0]
        if not len(idx):
            continue
        if group == POLYGON:
            res = _polygon_streams(geoms[idx])
        elif group == LINESTRING:
            res = _line_streams(geoms[idx])
        else:
            res = _point_streams(geoms[idx])
        data, start, end, ok = res
        kind[idx[ok]] = group
        pieces.append((idx, data, start, end))
    # one buffer, per-feature slices into it
    start = np.zeros(n, dtype=np.int64)
    end = np.zeros(n, dtype=np.int64)
    bufs = []
    base = 0
    for idx, data, s, e in pieces:
        start[idx] = s + base
        end[idx] = e + base
        bufs.append(data)
        base += len(data)
    data = np.concatenate(bufs) if bufs else np.empty(0, dtype=np.uint8)
    end[kind == 0] = start[kind == 0]
    return GeometryStreams(kind, data, start, end)


def _polygon_arrays(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(coordinates, ring offsets, polygon→ring offsets, feature→polygon offsets).

    Cadastral parcels rarely have holes: then a polygon's coordinates are its one ring's, and no
    ring objects need to be made (`to_ragged_array` builds one per ring, ~40 % of its time)."""
    parts = shapely.get_parts(geoms)
    per_feature = shapely.get_num_geometries(geoms)
    per_feature = np.where(shapely.get_type_id(geoms) == 3, 1, per_feature)
    geom_off = np.zeros(len(geoms) + 1, dtype=np.int64)
    np.cumsum(per_feature, out=geom_off[1:])
    if shapely.get_num_interior_rings(parts).any():
        gtype, coords, offsets = shapely.to_ragged_array(geoms)
        if gtype == shapely.GeometryType.POLYGON:  # not promoted: one polygon per feature
            (ring_off, poly_off), geom_off = offsets, np.arange(len(geoms) + 1)
        else:
            ring_off, poly_off, geom_off = offsets
        return coords, ring_off, poly_off, geom_off
    coords = shapely.get_coordinates(parts)
    ring_off = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum(shapely.get_num_coordinates(parts), out=ring_off[1:])
    return coords, ring_off, np.arange(len(parts) + 1), geom_off


def _polygon_streams(geoms: np.ndarray):
    coords, ring_off, poly_off, geom_off = _polygon_arrays(geoms)
    return _polygon_streams_arrays(coords.astype(np.int64), ring_off, poly_off, geom_off, len(geoms))


def _polygon_streams_arrays(coords: np.ndarray, ring_off: np.ndarray, poly_off: np.ndarray, geom_off: np.ndarray, n_features: int):
    """Polygon command streams from integer ring coordinates (rings closed) and the ragged
    offsets of `shapely.to_ragged_array` (ring → point, polygon → ring, feature → polygon)."""
    nring = len(ring_off) - 1
    ring_len = np.diff(ring_off)
    ring_of_pt = np.repeat(np.arange(nring), ring_len)
    keep = _dedupe(coords, ring_of_pt)
    # drop each ring's closing point (the ring's last kept point when it equals the first)
    last = ring_off[1:] - 1
    nonempty = ring_len > 0
    keep[last[nonempty]] = False
    kept_len = np.bincount(ring_of_pt[keep], minlength=nring)
    # closing duplicates: after dropping the closing point the last kept point may equal the first
    pts = coords[keep]
    kept_off = np.zeros(nring + 1, dtype=np.int64)
    np.cumsum(kept_len, out=kept_off[1:])
    has = kept_len > 1
    tail_eq = np.zeros(nring, dtype=bool)
    tail_eq[has] = np.all(pts[kept_off[1:][has] - 1] == pts[kept_off[:-1][has]], axis=1)
    if tail_eq.any():
        drop = np.zeros(len(pts), dtype=bool)
        drop[kept_off[1:][tail_eq] - 1] = True
        pts = pts[~drop]
        kept_len = kept_len - tail_eq
        kept_off = np.zeros(nring + 1, dtype=np.int64)
        np.cumsum(kept_len, out=kept_off[1:])
    # signed area (shoelace, y down → exterior positive)
    ring_of_kept = np.repeat(np.arange(nring), kept_len)
    nxt = np.arange(len(pts)) + 1
    ends = kept_off[1:] - 1
    if len(pts):
        nxt[ends[kept_len > 0]] = kept_off[:-1][kept_len > 0]
        cross = pts[:, 0] * pts[nxt, 1] - pts[nxt, 0] * pts[:, 1]
        area2 = np.bincount(ring_of_kept, weights=cross, minlength=nring)
    else:
        area2 = np.zeros(nring)
    ring_ok = (kept_len >= 3) & (area2 != 0)
    poly_of_ring = np.repeat(np.arange(len(poly_off) - 1), np.diff(poly_off))
    exterior = np.zeros(nring, dtype=bool)
    exterior[poly_off[:-1][np.diff(poly_off) > 0]] = True
    # a polygon whose exterior collapsed loses its holes too
    poly_ok = np.zeros(len(poly_off) - 1, dtype=bool)
    poly_ok[poly_of_ring[exterior & ring_ok]] = True
    ring_ok &= poly_ok[poly_of_ring]
    # orient: exterior positive, interior negative (reverse the point order otherwise)
    reverse = ring_ok & np.where(exterior, area2 < 0, area2 > 0)
    if reverse.any():
        pos = np.arange(len(pts))
        r = reverse[ring_of_kept]
        s = kept_off[:-1][ring_of_kept]
        e = kept_off[1:][ring_of_kept]
        pos[r] = (s + e - 1 - pos)[r]
        pts = pts[pos]
    feature_of_poly = np.repeat(np.arange(n_features), np.diff(geom_off))
    feature_of_ring = feature_of_poly[poly_of_ring]
    sel = ring_ok
    pts = pts[sel[ring_of_kept]]
    data, start, end = _streams(feature_of_ring[sel], kept_len[sel], pts, n_features, close=True)
    ok = np.bincount(feature_of_ring[sel], minlength=n_features) > 0
    return data, start, end, ok


def _line_streams(geoms: np.ndarray):
    parts, owner = shapely.get_parts(geoms, return_index=True)
    coords, pt_part = shapely.get_coordinates(parts, return_index=True)
    coords = np.round(coords).astype(np.int64)
    npart = len(parts)
    keep = _dedupe(coords, pt_part)
    kept_len = np.bincount(pt_part[keep], minlength=npart)
    ok_part = kept_len >= 2
    pts = coords[keep][ok_part[pt_part[keep]]]
    data, start, end = _streams(owner[ok_part], kept_len[ok_part], pts, len(geoms), close=False)
    ok = np.bincount(owner[ok_part], minlength=len(geoms)) > 0
    return data, start, end, ok


def _point_streams(geoms: np.ndarray):
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    coords = np.round(coords).astype(np.int64)
    ones = np.ones(len(coords), dtype=np.int64)
    data, start, end = _streams(owner, ones, coords, len(geoms), close=False, single_moveto=True)
    ok = np.bincount(owner, minlength=len(geoms)) > 0
    return data, start, end, ok


# --------------------------------------------------------------------------------------------
# attributes


def _value_message(v) -> bytes:
    """One Value message (the slow path, for columns of mixed or unusual types)."""
    if isinstance(v, (bool, np.bool_)):
        return b"\x38" + (b"\x01" if v else b"\x00")
    if isinstance(v, (int, np.integer)):
        v = int(v)
        if v >= 0:
            return b"\x28" + varint(v)
        return b"\x30" + varint(((v << 1) ^ (v >> 63)) & 0xFFFFFFFFFFFFFFFF)
    if isinstance(v, (float, np.floating)):
        return b"\x19" + struct.pack("<d", float(v))
    raw = (v if isinstance(v, str) else str(v)).encode("utf-8")
    return b"\x0a" + varint(len(raw)) + raw


def _column_kind(values: list) -> str:
    """'floating', 'integer', 'boolean', 'string' or 'mixed' for one column (None/NaN skipped)."""
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    kind = pd.api.types.infer_dtype(arr, skipna=True)
    if kind in ("floating", "mixed-integer-float"):
        return "floating"
    if kind in ("integer", "boolean", "string"):
        return kind
    return "empty" if kind == "empty" else "mixed"


def _float_fields(bits: np.ndarray) -> bytes:
    """Value fields (tag 4, double) of float64 bit patterns, back to back, built on one array."""
    out = np.empty((len(bits), 11), dtype=np.uint8)
    out[:, :3] = (0x22, 0x09, 0x19)
    out[:, 3:] = bits.astype("<i8").view(np.uint8).reshape(-1, 8)
    return out.tobytes()


def _string_fields(uniques: np.ndarray) -> bytes:
    """Value fields (tag 4, string) of distinct strings, back to back: UTF-8 by Arrow in C, the
    field headers on arrays. A tile of 1 300 parcels has ~2 600 distinct strings (ids, names),
    and one Python encode + concatenation each was a tenth of a cold tile."""
    arr = pa.array(uniques, type=pa.large_string())
    off = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset:arr.offset + len(arr) + 1]
    raw = np.frombuffer(arr.buffers()[2], dtype=np.uint8) if arr.buffers()[2] is not None else np.empty(0, dtype=np.uint8)
    lens = np.diff(off)
    if len(lens) and lens.max() >= 126:  # a longer string needs multi-byte lengths: rare, per value
        return b"".join(_field(4, b"\x0a" + varint(len(r)) + r) for r in (u.encode("utf-8") for u in uniques))
    head = np.empty((len(lens), 4), dtype=np.uint8)
    head[:, 0] = 0x22
    head[:, 1] = lens + 2
    head[:, 2] = 0x0A
    head[:, 3] = lens
    k = np.arange(len(lens))
    return ragged_concat([(head.reshape(-1), 4 * k, 4 * k + 4), (raw, off[:-1], off[1:])], len(lens)).tobytes()


def encode_tags(columns: list[str], values: list[list], n: int) -> tuple[list[bytes], list[bytes], np.ndarray, np.ndarray, np.ndarray]:
    """(key fields, value fields (whole fields, several per blob), tag bytes, per-feature start,
    per-feature end).

    None/NaN → no tag. Values are shared across columns (deduplicated by type and value, as
    ST_AsMVT does). Columns of one type are pooled and factorised together in C (pandas' hash
    tables; floats by their bit pattern, so only identical encodings merge), so a value's
    Python work is one encode for strings and nothing for numbers — the per-unique dictionary of
    the first version was a third of a cold tile's time."""
    if not columns:
        z = np.zeros(n, dtype=np.int64)
        return [], [], np.empty(0, dtype=np.uint8), z, z
    val_codes = np.full((n, len(columns)), -1, dtype=np.int64)
    groups: dict[str, list[int]] = {}
    for k in range(len(columns)):
        groups.setdefault(_column_kind(values[k]), []).append(k)
    value_fields: list[bytes] = []  # blobs of whole fields
    n_values = 0
    for kind, ks in groups.items():
        if kind == "empty":
            continue
        if kind == "floating":
            f = np.array([values[k] for k in ks], dtype=np.float64).T  # (n, len(ks)); None → NaN
            present = ~np.isnan(f)
            bits = np.where(present, f, 0.0).view(np.int64)
            codes, uniques = pd.factorize(bits[present])
            fields = [_float_fields(uniques)]
        elif kind == "string":
            obj = np.empty((n, len(ks)), dtype=object)
            for j, k in enumerate(ks):
                obj[:, j] = values[k]
            present = pd.notna(obj)
            codes, uniques = pd.factorize(obj[present])
            fields = [_string_fields(uniques)]
        elif kind in ("integer", "boolean"):
            obj = np.empty((n, len(ks)), dtype=object)
            for j, k in enumerate(ks):
                obj[:, j] = values[k]
            present = pd.notna(obj)
            codes, uniques = pd.factorize(obj[present].astype(np.int64 if kind == "integer" else bool))
            fields = [_field(4, _value_message(u)) for u in uniques]
        else:  # mixed: per value, deduplicated by encoding
            obj = np.empty((n, len(ks)), dtype=object)
            for j, k in enumerate(ks):
                obj[:, j] = values[k]
            present = pd.notna(obj)
            msgs = [_field(4, _value_message(v)) for v in obj[present]]
            codes, uniques = pd.factorize(np.array(msgs, dtype=object))
            fields = list(uniques)
        sub = np.full(present.shape, -1, dtype=np.int64)
        sub[present] = codes + n_values
        val_codes[:, ks] = sub
        value_fields.extend(fields)
        n_values += len(uniques)
    present = val_codes >= 0
    key_codes = np.broadcast_to(np.arange(len(columns)), (n, len(columns)))
    ints = np.column_stack([key_codes[present], val_codes[present]]).reshape(-1)  # features, columns in order
    per_feature = present.sum(axis=1) * 2
    data, off = varint_bytes(ints)
    fstart = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(per_feature, out=fstart[1:])
    key_fields = [_field(3, c.encode("utf-8")) for c in columns]
    return key_fields, value_fields, data, off[fstart[:-1]], off[fstart[1:]]


# --------------------------------------------------------------------------------------------
# the tile


def encode_layer(name: str, geoms_px: np.ndarray, columns: list[str], values: list[list], *, ids: np.ndarray | None = None, extent: int = 4096) -> bytes:
    """One-layer MVT tile from integer-pixel geometries and their attribute columns.

    `values[k]` holds column k's value per feature (None/NaN = absent). `ids` (non-negative
    integers) become feature ids. Features whose geometry vanished are left out; an empty
    layer gives b"" (the API answers 204)."""
    return encode_layer_streams(name, encode_geometries(geoms_px), columns, values, ids=ids, extent=extent)


def merge_streams(n: int, parts: list[tuple[np.ndarray, GeometryStreams]]) -> GeometryStreams:
    """One GeometryStreams for n features from streams of disjoint subsets (feature indices, streams)."""
    kind = np.zeros(n, dtype=np.int8)
    start = np.zeros(n, dtype=np.int64)
    end = np.zeros(n, dtype=np.int64)
    bufs, base = [], 0
    for idx, g in parts:
        kind[idx] = g.kind
        start[idx] = g.start + base
        end[idx] = g.end + base
        bufs.append(g.data)
        base += len(g.data)
    data = np.concatenate(bufs) if bufs else np.empty(0, dtype=np.uint8)
    end[kind == 0] = start[kind == 0]
    return GeometryStreams(kind, data, start, end)


def ring_polygon_streams(coords: np.ndarray, counts: np.ndarray) -> GeometryStreams:
    """Streams of single-ring polygons given as integer coordinates (each ring closed, `counts`
    points per feature) — no shapely objects involved."""
    ring_off = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=ring_off[1:])
    ident = np.arange(len(counts) + 1)
    data, start, end, ok = _polygon_streams_arrays(coords.astype(np.int64), ring_off, ident, ident, len(counts))
    kind = np.where(ok, POLYGON, 0).astype(np.int8)
    end = np.where(ok, end, start)
    return GeometryStreams(kind, data, start, end)


def star_ring_streams(coords: np.ndarray, counts: np.ndarray, turn: np.ndarray) -> GeometryStreams:
    """Streams of single-ring polygons proven star-shaped by `star_turns` (integer coordinates,
    rings closed, `counts` points each, `turn` their turning in these coordinates): such a ring
    is simple, has no repeated points and at least three vertices, so the only work left is to
    drop the closing point and wind it as MVT wants (positive area, y down)."""
    n = len(counts)
    if not n:
        return GeometryStreams(np.zeros(0, dtype=np.int8), np.empty(0, dtype=np.uint8), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    ring_start = np.zeros(n, dtype=np.int64)
    np.cumsum(counts[:-1], out=ring_start[1:])
    m = counts - 1
    owner = np.repeat(np.arange(n), m)
    first = np.zeros(n, dtype=np.int64)
    np.cumsum(m[:-1], out=first[1:])
    rank = np.arange(int(m.sum())) - first[owner]
    rank = np.where(turn[owner] < 0, m[owner] - 1 - rank, rank)  # negative turning: read backwards
    pts = coords[ring_start[owner] + rank].astype(np.int64)
    data, start, end = _streams(np.arange(n), m, pts, n, close=True)
    return GeometryStreams(np.full(n, POLYGON, dtype=np.int8), data, start, end)


def encode_layer_streams(name: str, geo: GeometryStreams, columns: list[str], values: list[list], *, ids: np.ndarray | None = None, extent: int = 4096) -> bytes:
    """`encode_layer` from ready geometry command streams."""
    n = len(geo.kind)
    alive = np.nonzero(geo.kind > 0)[0]
    if not len(alive):
        return b""
    cols_alive = [[values[k][i] for i in alive] for k in range(len(columns))] if len(alive) < n else values
    keys, value_msgs, tag_data, tstart, tend = encode_tags(columns, cols_alive, len(alive))

    gstart, gend, gkind = geo.start[alive], geo.end[alive], geo.kind[alive]
    glen = gend - gstart
    tlen = tend - tstart
    glen_v, glen_off = varint_bytes(glen)
    tlen_v, tlen_off = varint_bytes(tlen)
    if ids is not None:
        id_v, id_off = varint_bytes(np.asarray(ids)[alive].astype(np.uint64))
    # feature body = [08 id] [12 tlen tags] 18 type 22 glen geom
    body_len = 3 + (glen_off[1:] - glen_off[:-1]) + glen  # 18 type 22, then the length and the commands
    body_len = body_len + np.where(tlen > 0, 1 + (tlen_off[1:] - tlen_off[:-1]) + tlen, 0)
    if ids is not None:
        body_len = body_len + 1 + (id_off[1:] - id_off[:-1])
    blen_v, blen_off = varint_bytes(body_len)

    # feature = 12 blen [08 id] [12 tlen tags] 18 type 22 glen geom, gathered in one pass
    m = len(alive)
    consts = np.array([0x12, 0x08, 0x18, 0x01, 0x22, 0x18, 0x02, 0x22, 0x18, 0x03, 0x22], dtype=np.uint8)
    zero = np.zeros(m, dtype=np.int64)
    one = zero + 1
    type_at = np.array([0, 2, 5, 8], dtype=np.int64)[gkind.astype(np.int64)]  # "18 t 22" for POINT/LINESTRING/POLYGON
    has_tags = tlen > 0
    pieces = [
        (consts, zero, one),  # 12
        (blen_v, blen_off[:-1], blen_off[1:]),
    ]
    if ids is not None:
        pieces += [(consts, one, one + 1), (id_v, id_off[:-1], id_off[1:])]  # 08 id
    pieces += [
        (consts, zero, np.where(has_tags, 1, 0)),  # 12 when tagged
        (tlen_v, tlen_off[:-1], np.where(has_tags, tlen_off[1:], tlen_off[:-1])),
        (tag_data, tstart, tend),
        (consts, type_at, type_at + 3),
        (glen_v, glen_off[:-1], glen_off[1:]),
        (geo.data, gstart, gend),
    ]
    features = ragged_concat(pieces, m).tobytes()
    layer = bytearray(b"\x78\x02")  # version = 2
    layer += _field(1, name.encode("utf-8"))
    layer += features
    layer += b"".join(keys)
    layer += b"".join(value_msgs)
    layer += b"\x28" + varint(extent)
    return _field(3, bytes(layer))
