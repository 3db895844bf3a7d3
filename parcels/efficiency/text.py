"""Joining many short Chinese messages per key without a Python call per group.

`groupby(...).agg(";".join)` costs a Python call per group, seconds for 100 000 enterprises;
here the j-th message of every key is appended in one vectorized object-array operation, so
the cost is (max messages per key) passes instead of (number of keys) calls.
"""

from __future__ import annotations

import numpy as np


def join_by_key(keys: np.ndarray, messages: np.ndarray, sep: str = ";") -> tuple[np.ndarray, np.ndarray]:
    """(unique keys ascending, joined messages) keeping each key's messages in input order."""
    keys = np.asarray(keys)
    messages = np.asarray(messages, dtype=object)
    if keys.size == 0:
        return keys, messages
    order = np.argsort(keys, kind="stable")
    k, m = keys[order], messages[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    sizes = np.diff(np.r_[starts, k.size])
    group = np.repeat(np.arange(starts.size), sizes)
    pos = np.arange(k.size) - starts[group]
    out = m[starts].copy()
    for j in range(1, int(sizes.max())):
        sel = pos == j
        g = group[sel]
        out[g] = out[g] + sep + m[sel]
    return k[starts], out
