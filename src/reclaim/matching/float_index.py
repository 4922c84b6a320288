"""A FAISS index of unit vectors (SSCD embeddings, face embeddings) by cosine, with add and remove by id.

Chosen by size: exact inner-product search (flat) up to `FLAT_MAX` vectors, where a batch of queries is one
matrix product; beyond that an inverted-file index storing vectors as 16-bit floats (IVF-fp16: half the memory
of flat), probing `nprobe` of 4 * sqrt(n) lists, trained on a sample when the index is built or grows past the
limit. Measured with bench/matching_scale.py (1M clustered 512-d vectors, top 32 at cosine >= 0.35, shared
2-core machine): the earlier IVF-SQ8 over sqrt(n) lists found 96.3 % of the exact neighbours at 374 lookups/s
batched in 0.67 GB; 8-bit codes lose borderline neighbours whatever the probing (98.96 % over 4 * sqrt(n) lists
even at nprobe 128) and IVF-flat takes 2 GB; IVF-fp16 over 4 * sqrt(n) lists at nprobe 32 finds 99.98-100 % at
1,400-1,800 lookups/s batched in 1.0-1.3 GB, but builds in 35-75 s instead of ~22 s (k-means over 4x the lists).
HNSW was not tried further: building a graph over 1M vectors on two cores takes far longer still.

Hits carry distance = 1 - cosine, so thresholds read like every other signal's (smaller is closer).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from reclaim.matching.index import Hit

FLAT_MAX = 200_000
DEFAULT_NPROBE = 32
LISTS_PER_SQRT_N = 4
TRAIN_SAMPLE = 100_000


def _as_matrix(vectors: np.ndarray | Sequence[Sequence[float]], dim: int) -> np.ndarray:
    x = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
    if x.ndim != 2 or x.shape[1] != dim:
        raise ValueError(f"expected vectors of dimension {dim}, got shape {x.shape}")
    return x


class FloatIndex:
    """Cosine search over unit vectors with caller-chosen int64 ids; exact below FLAT_MAX, IVF-fp16 above."""

    def __init__(self, dim: int, flat_max: int = FLAT_MAX, nprobe: int = DEFAULT_NPROBE) -> None:
        self.dim = dim
        self.flat_max = flat_max
        self.nprobe = nprobe
        self._index: Any = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    @property
    def kind(self) -> str:
        return "flat" if isinstance(self._index, faiss.IndexIDMap2) else "ivf-fp16"

    def add(self, ids: Sequence[int] | np.ndarray, vectors: np.ndarray | Sequence[Sequence[float]]) -> None:
        x = _as_matrix(vectors, self.dim)
        ids_arr = np.asarray(ids, dtype=np.int64)
        if len(ids_arr) != len(x):
            raise ValueError("ids and vectors differ in length")
        if len(x) == 0:
            return
        if self.kind == "flat" and self._index.ntotal + len(x) > self.flat_max:
            self._to_ivf(ids_arr, x)
            return
        self._index.add_with_ids(x, ids_arr)

    def _to_ivf(self, new_ids: np.ndarray, new_x: np.ndarray) -> None:
        """Re-index everything (existing + new) into IVF-fp16, trained on a sample."""
        old_ids, old_x = self._flat_contents()
        ids = np.concatenate([old_ids, new_ids])
        x = np.concatenate([old_x, new_x]) if len(old_x) else new_x
        nlist = max(64, int(LISTS_PER_SQRT_N * np.sqrt(len(x))))
        quantizer = faiss.IndexFlatIP(self.dim)
        ivf = faiss.IndexIVFScalarQuantizer(
            quantizer, self.dim, nlist, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
        )
        rng = np.random.default_rng(0)
        sample = x[rng.choice(len(x), min(len(x), max(TRAIN_SAMPLE, 40 * nlist)), replace=False)]
        ivf.train(sample)
        ivf.nprobe = self.nprobe
        ivf.add_with_ids(x, ids)
        self._quantizer = quantizer  # FAISS does not own it from Python: keep it alive with the index
        self._index = ivf

    def _flat_contents(self) -> tuple[np.ndarray, np.ndarray]:
        index = self._index
        n = index.ntotal
        if n == 0:
            return np.zeros(0, np.int64), np.zeros((0, self.dim), np.float32)
        ids = faiss.vector_to_array(index.id_map).astype(np.int64)
        flat: Any = faiss.downcast_index(index.index)
        x = faiss.rev_swig_ptr(flat.get_xb(), n * self.dim).reshape(n, self.dim).copy()
        return ids, x

    def remove(self, ids: Sequence[int] | np.ndarray) -> int:
        ids_arr = np.asarray(ids, dtype=np.int64)
        if len(ids_arr) == 0:
            return 0
        return int(self._index.remove_ids(faiss.IDSelectorBatch(ids_arr)))

    def search(self, vectors: np.ndarray, k: int, max_distance: float) -> list[list[Hit]]:
        """Up to `k` nearest per query with distance (1 - cosine) <= max_distance, nearest first."""
        x = _as_matrix(vectors, self.dim)
        if len(x) == 0 or self._index.ntotal == 0:
            return [[] for _ in range(len(x))]
        sims, ids = self._index.search(x, min(k, int(self._index.ntotal)))
        out: list[list[Hit]] = []
        for srow, irow in zip(sims, ids, strict=True):
            hits = [
                Hit(max(0.0, 1.0 - float(s)), int(i))
                for s, i in zip(srow, irow, strict=True)
                if i >= 0 and 1.0 - float(s) <= max_distance
            ]
            out.append(hits)
        return out

    def __len__(self) -> int:
        return int(self._index.ntotal)

    # --- persistence: FAISS's own file format, no pickle ----------------------------------------------

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, dim: int, flat_max: int = FLAT_MAX, nprobe: int = DEFAULT_NPROBE) -> FloatIndex:
        index = cls(dim, flat_max, nprobe)
        loaded = faiss.read_index(str(path))
        if loaded.d != dim:
            raise ValueError(f"the index at {path} has dimension {loaded.d}, expected {dim}")
        if isinstance(loaded, faiss.IndexIVF):
            loaded.nprobe = nprobe
        index._index = loaded
        return index
