"""MinHash signatures of many texts at once, bit for bit those of datasketch's ``MinHash``.

``MinHash.update_batch`` costs a Python call, a few small arrays and a MinHash object per text;
a worker taking over (its first tick indexes every text of the copied-text rule's history, some
57,000) paid ~1.3 ms a text. Here the shingles of a whole batch are hashed once (SHA-1, the same
32-bit hash as datasketch, cached: campaigns and templates repeat the same shingles), pre-mixed
with the MurmurHash3 finalizer and permuted as one (shingles × permutations) matrix, and each
text's minimum is taken with ``np.minimum.reduceat``: the same arithmetic as datasketch's
"affine32" scheme, so the signatures, the LSH buckets and the clusters are unchanged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from datasketch import MinHash

SCHEME = "affine32"
SHINGLES_PER_CHUNK = 16_384  # (shingles × permutations) uint32 per chunk: 4 MB at 64 permutations
MAX_CACHED_SHINGLES = 2_000_000  # the shingle-hash cache is cleared beyond this (bounded memory)
_M1, _M2 = np.uint32(0x85EBCA6B), np.uint32(0xC2B2AE35)
_S16, _S13 = np.uint32(16), np.uint32(13)


def fmix32(hv: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer (uint32 wrap-around), datasketch's pre-mix for affine32."""
    hv = hv ^ (hv >> _S16)
    hv = hv * _M1
    hv = hv ^ (hv >> _S13)
    hv = hv * _M2
    return hv ^ (hv >> _S16)


class SignatureMaker:
    """Signatures under one permutation set; keeps a bounded cache of shingle hashes."""

    def __init__(self, num_perm: int, seed: int = 1):
        from datasketch import MinHash  # not at import: see copied_text (scipy.integrate)

        template = MinHash(num_perm=num_perm, seed=seed, scheme=SCHEME)
        self.num_perm, self.seed = num_perm, seed
        self.permutations = template.permutations
        a, b = template.permutations
        self._a, self._b = a.astype(np.uint32)[None, :], b.astype(np.uint32)[None, :]
        self._empty = template.hashvalues.copy()
        self._hashes: dict[str, int] = {}

    def _hash(self, shingle: str) -> int:
        value = self._hashes.get(shingle)
        if value is None:
            digest = hashlib.sha1(shingle.encode("utf-8")).digest()
            value = self._hashes[shingle] = int.from_bytes(digest[:4], "little")
        return value

    def signatures(self, shingle_sets: Sequence[Iterable[str]]) -> np.ndarray:
        """One row of ``num_perm`` uint32 minima per shingle set (empty set: datasketch's empty)."""
        if len(self._hashes) > MAX_CACHED_SHINGLES:
            self._hashes.clear()
        out = np.tile(self._empty, (len(shingle_sets), 1))
        hashes: list[int] = []
        starts: list[int] = []
        rows: list[int] = []
        for row, shingle_set in enumerate(shingle_sets):
            before = len(hashes)
            hashes.extend(self._hash(s) for s in shingle_set)
            if len(hashes) > before:
                starts.append(before)
                rows.append(row)
            if len(hashes) >= SHINGLES_PER_CHUNK:
                self._reduce(hashes, starts, rows, out)
                hashes, starts, rows = [], [], []
        if hashes:
            self._reduce(hashes, starts, rows, out)
        return out

    def _reduce(self, hashes: list[int], starts: list[int], rows: list[int], out: np.ndarray):
        hv = fmix32(np.array(hashes, dtype=np.uint32))[:, None]
        permuted = hv * self._a + self._b  # uint32: the wrap-around is the modulo 2^32
        out[rows] = np.minimum(np.minimum.reduceat(permuted, starts, axis=0), self._empty)

    def minhash(self, signature: np.ndarray) -> MinHash:
        """A datasketch MinHash holding ``signature`` (what MinHashLSH takes)."""
        from datasketch import MinHash

        return MinHash(
            num_perm=self.num_perm,
            seed=self.seed,
            hashvalues=signature,
            permutations=self.permutations,
            scheme=SCHEME,
        )
