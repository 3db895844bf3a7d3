"""The ids an import has already seen, and the row each was first seen at, in ≈30 bytes an id.

Why: an import refuses a repeated id naming both rows, across all its batches, so it must remember
every id until it ends. A dict of str → int costs ≈130 bytes an id (the string object, the int,
the slot): 130 MB for a cadastre of 10^6 parcels, the largest thing that grew with the file's
size. Here the ids live in sorted runs of whole arrays — 64-bit hashes (pandas' `hash_array`),
row numbers, and the ids themselves as Arrow text, so a matching hash is confirmed on the text
and a hash collision can never refuse an import. Runs merge like a binary counter (a run of 2k
ids when two of k meet), so a batch is looked up in at most log2(ids / batch) + 1 runs, each by
binary search.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa


def _hashes(ids: list[str]) -> np.ndarray:
    return pd.util.hash_array(np.asarray(ids, dtype=object), categorize=False)


@dataclass
class _Run:
    hashes: np.ndarray  # uint64, sorted
    rows: np.ndarray  # int64, the row each id was first seen at
    ids: pa.Array  # large_string, in the order of `hashes`

    def find(self, hashes: np.ndarray, ids: list[str]) -> dict[str, int]:
        """{id: first row} for those of `ids` (with their `hashes`) held in this run."""
        pos = np.searchsorted(self.hashes, hashes)
        inside = pos < len(self.hashes)
        hit = np.zeros(len(ids), dtype=bool)
        hit[inside] = self.hashes[pos[inside]] == hashes[inside]
        found: dict[str, int] = {}
        for k in np.nonzero(hit)[0].tolist():  # a repeated id, or (rarely) another id's hash
            j = int(pos[k])
            while j < len(self.hashes) and self.hashes[j] == hashes[k]:
                if self.ids[j].as_py() == ids[k]:
                    found[ids[k]] = int(self.rows[j])
                    break
                j += 1
        return found


class IdRegistry:
    """Every id an import has seen, with the 1-based row it was first seen at."""

    def __init__(self) -> None:
        self._runs: list[_Run] = []

    def __len__(self) -> int:
        return sum(len(r.hashes) for r in self._runs)

    def earlier(self, ids: list[str]) -> dict[str, int]:
        """{id: first row} for those of `ids` seen in earlier batches."""
        if not ids or not self._runs:
            return {}
        hashes = _hashes(ids)
        found: dict[str, int] = {}
        for run in self._runs:
            found.update(run.find(hashes, ids))
        return found

    def add(self, ids: list[str], rows: list[int]) -> None:
        """Remember new ids (none seen before, none repeated) and the rows they are at."""
        if not ids:
            return
        hashes = _hashes(ids)
        order = np.argsort(hashes, kind="stable")
        self._runs.append(_Run(hashes[order], np.asarray(rows, dtype=np.int64)[order], pa.array(ids, pa.large_string()).take(pa.array(order))))
        while len(self._runs) > 1 and len(self._runs[-1].hashes) >= len(self._runs[-2].hashes):
            b, a = self._runs.pop(), self._runs.pop()
            hashes = np.concatenate([a.hashes, b.hashes])
            order = np.argsort(hashes, kind="stable")  # two sorted runs: timsort merges them in one pass
            self._runs.append(_Run(hashes[order], np.concatenate([a.rows, b.rows])[order], pa.concat_arrays([a.ids, b.ids]).take(pa.array(order))))
