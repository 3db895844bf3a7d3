"""Whole-column COPY for the PostGIS store: an import's batch as one CSV buffer built by Arrow.

Why: psycopg's `Copy.write_row` formats every value in Python — at 10^6 parcels that was ≈4 s,
the largest part of the PostGIS import's overhead over `ogr2ogr` (issue 19). Arrow's CSV writer
formats whole columns in C++, and the geometries
become hex EWKB on whole arrays (one `to_wkb`, one `hexlify`, the offsets by numpy), which is the
text PostGIS parses in `COPY … (FORMAT csv)`, the same form `ogr2ogr` sends.

CSV as PostgreSQL reads it: an unquoted empty field is NULL, a quoted one (`""`) an empty
string — and Arrow writes nulls unquoted and every string quoted, so text survives as it was
(commas, quotes, newlines, backslashes). NUL never reaches here (imports refuse it first). A
column Arrow cannot type (an integer beyond int64, mixed Python types) makes `columns_csv`
return None and the caller falls back to `write_row`, so no value is ever coerced.
"""

from __future__ import annotations

import binascii

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import shapely

_NO_HEADER = pacsv.WriteOptions(include_header=False, batch_size=16384)


def hex_ewkb_column(geoms: np.ndarray, srid: int) -> pa.Array:
    """Hex EWKB (with SRID) of each geometry as an Arrow string array; null where missing.

    GEOS writes plain little-endian WKB; the SRID goes in on the whole buffer — 4 bytes after
    each geometry's type, whose SRID flag (0x20000000) is set — instead of `shapely.set_srid`,
    which copies every geometry (≈1.5 s per 10^6 parcels). Only the outer geometry carries it,
    as PostGIS's own EWKB does."""
    arr = np.asarray(geoms, dtype=object)
    present = ~shapely.is_missing(arr)
    n = len(arr)
    if not present.any():
        return pa.nulls(n, pa.large_string())
    blobs = shapely.to_wkb(arr[present], output_dimension=2, byte_order=1)
    lens = np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs))
    starts = np.cumsum(lens) - lens
    buf = np.frombuffer(b"".join(blobs.tolist()), dtype=np.uint8)
    buf = np.insert(buf, np.repeat(starts + 5, 4), np.tile(np.frombuffer(np.uint32(srid).astype("<u4").tobytes(), dtype=np.uint8), len(blobs)))
    buf[starts + 4 * np.arange(len(blobs)) + 4] |= 0x20  # the type's high byte (little-endian): SRID present
    sizes = np.zeros(n, dtype=np.int64)
    sizes[present] = lens + 4
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(sizes * 2, out=offsets[1:])
    data = binascii.hexlify(buf.tobytes())
    validity = None if present.all() else pa.array(present).buffers()[1]
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data), validity)


def arrow_values(series, kind: str) -> pa.Array | None:
    """The column as an Arrow array holding exactly what `db_values(series, kind)` would, for
    the clean dtypes an OGR read gives (Arrow-backed text, float64, int64, bool) without making
    a Python object per value; None for anything else (the caller then uses `db_values`)."""
    import pandas as pd

    dtype = series.dtype
    if kind == "TEXT" and isinstance(dtype, pd.StringDtype):
        return pa.array(series, from_pandas=True)
    if not isinstance(dtype, np.dtype):
        return None
    if kind == "REAL" and dtype.kind in "fiu":
        a = series.to_numpy(dtype=np.float64)
        return pa.array(a, mask=~np.isfinite(a))  # NaN and ±inf are stored as NULL, as db_values does
    if (kind == "INTEGER" and dtype.kind in "iu") or (kind == "BOOLEAN" and dtype.kind == "b"):
        return pa.array(series.to_numpy())
    return None


def columns_csv(columns: list, extra: list[pa.Array] = ()) -> memoryview | None:
    """The rows of `columns` (equal-length lists or arrays of database values) plus `extra`
    Arrow columns as headerless CSV (a view of Arrow's buffer: no second copy of ≈50 MB per
    batch), or None when a column does not convert to one Arrow type."""
    try:
        arrays = [c if isinstance(c, pa.Array) else pa.array(c, from_pandas=False) for c in columns] + list(extra)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        return None
    if not arrays:
        return memoryview(b"")
    table = pa.table({f"c{i}": a for i, a in enumerate(arrays)})
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, _NO_HEADER)
    return memoryview(sink.getvalue())
