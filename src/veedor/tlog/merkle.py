"""RFC 6962 / RFC 9162 Merkle tree over an append-only store of subtree hashes, and its verifiers.

Storage follows the design of Go's ``sumdb/tlog`` (https://research.swtch.com/tlog): the hash of
every *complete* subtree (``2**level`` leaves starting at a multiple of ``2**level``) is stored once,
in the order it becomes complete, so the store only ever grows by appending. Subtree ``n`` at
``level`` covers leaves ``n << level`` .. ``((n + 1) << level) - 1``; its place in the store is
``stored_hash_index(level, n)``. A tree of ``size`` leaves keeps ``stored_hash_count(size)`` hashes
(about two per leaf), and every root and proof of any size up to it is a few of them, read at once.

The two verifiers at the end follow RFC 9162 §2.1.3.2 and §2.1.4.2 step by step and use nothing but
``hashlib``: someone checking veedor's log can read each in one screen.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # RFC 6962 §2.1: the hash of the empty tree


class HashReader(Protocol):
    """Returns the stored hashes at the given indexes, in that order (one batch: one query)."""

    def __call__(self, indexes: list[int], /) -> Sequence[bytes]: ...


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def stored_hash_count(size: int) -> int:
    """How many hashes a tree of ``size`` leaves stores: sum over levels of ``size >> level``."""
    if size < 0:
        raise ValueError(f"tree size must be >= 0, not {size}")
    return 2 * size - size.bit_count()


def stored_hash_index(level: int, n: int) -> int:
    """Where the hash of subtree ``n`` at ``level`` is stored (0 for the first leaf).

    The subtree is completed by its last leaf ``m = ((n + 1) << level) - 1``: it is stored after the
    ``stored_hash_count(m)`` hashes of the leaves before ``m``, then ``m``'s own leaf hash and the
    subtrees below it (``level`` of them). ``m`` ends in ``level`` one bits, so this sums to
    ``2m - popcount(n)``.
    """
    if level < 0 or n < 0:
        raise ValueError(f"no subtree at level {level}, index {n}")
    last = ((n + 1) << level) - 1
    return 2 * last - n.bit_count()


def read_hashes(read: HashReader, indexes: list[int]) -> list[bytes]:
    """``read(indexes)``, checked: one 32-byte hash per index (a short answer is a ValueError)."""
    if not indexes:
        return []
    hashes = list(read(indexes))
    if len(hashes) != len(indexes) or any(len(h) != HASH_SIZE for h in hashes):
        raise ValueError(
            f"hash reader returned {len(hashes)} values for {len(indexes)} indexes, or a bad hash"
        )
    return hashes


def stored_hashes_for(n: int, leaf: bytes, read: HashReader) -> list[bytes]:
    """The hashes to append to the store when leaf ``n`` (0-based, hash ``leaf``) is added.

    The store must then hold exactly the hashes of leaves ``0 .. n-1``. Leaf ``n`` completes one
    subtree per trailing one bit of ``n``: at each such level it joins its left sibling.
    """
    if n < 0 or len(leaf) != HASH_SIZE:
        raise ValueError(f"bad leaf {n} or leaf hash of {len(leaf)} bytes")
    levels = (n ^ (n + 1)).bit_length() - 1
    if not levels:  # an even leaf completes nothing: half of all appends read nothing
        return [leaf]
    siblings = read_hashes(read, [stored_hash_index(level, (n >> level) - 1) for level in range(levels)])
    hashes = [leaf]
    for left in siblings:
        hashes.append(node_hash(left, hashes[-1]))
    return hashes


def _subtrees(lo: int, hi: int) -> list[int]:
    """Stored indexes of the complete subtrees that make up leaves ``lo .. hi-1``, largest first.

    Only for the ranges RFC 6962's recursion produces: ``lo`` is a multiple of a power of two at
    least ``hi - lo``, so the subtrees follow the binary digits of ``hi - lo``.
    """
    out, length = [], hi - lo
    for level in range(length.bit_length() - 1, -1, -1):
        if length >> level & 1:
            out.append(stored_hash_index(level, lo >> level))
            lo += 1 << level
    return out


def _range_hashes(ranges: list[tuple[int, int]], read: HashReader) -> list[bytes]:
    """MTH of each range, with every stored hash they need read in one batch."""
    plans = [_subtrees(lo, hi) for lo, hi in ranges]
    hashes = iter(read_hashes(read, [i for plan in plans for i in plan]))
    out = []
    for plan in plans:
        parts = [next(hashes) for _ in plan]
        h = parts[-1]
        for left in reversed(parts[:-1]):  # RFC 6962 splits at the largest power of two: fold right
            h = node_hash(left, h)
        out.append(h)
    return out


def _split(lo: int, hi: int) -> int:
    """RFC 6962's k: the largest power of two smaller than ``hi - lo``, as an absolute position."""
    return lo + (1 << ((hi - lo - 1).bit_length() - 1))


def tree_hash(size: int, read: HashReader) -> bytes:
    """The root hash (RFC 6962 MTH) of the first ``size`` leaves."""
    if size < 0:
        raise ValueError(f"tree size must be >= 0, not {size}")
    return _range_hashes([(0, size)], read)[0] if size else EMPTY_ROOT


def _inclusion_ranges(index: int, lo: int, hi: int) -> list[tuple[int, int]]:
    # RFC 9162 §2.1.3.1 PATH(m, D[lo:hi]), bottom-up: the sibling ranges along the way to the leaf.
    if hi - lo <= 1:
        return []
    k = _split(lo, hi)
    if index < k:
        return [*_inclusion_ranges(index, lo, k), (k, hi)]
    return [*_inclusion_ranges(index, k, hi), (lo, k)]


def inclusion_proof(size: int, index: int, read: HashReader) -> list[bytes]:
    """The audit path proving that leaf ``index`` is in the tree of ``size`` leaves."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    return _range_hashes(_inclusion_ranges(index, 0, size), read)


def _consistency_ranges(old: int, lo: int, hi: int, whole: bool) -> list[tuple[int, int]]:
    # RFC 9162 §2.1.4.1 SUBPROOF(m, D[lo:hi], b); ``whole`` is b: the old tree is this subtree.
    if old == hi:
        return [] if whole else [(lo, hi)]
    k = _split(lo, hi)
    if old <= k:
        return [*_consistency_ranges(old, lo, k, whole), (k, hi)]
    return [*_consistency_ranges(old, k, hi, False), (lo, k)]


def consistency_proof(old_size: int, new_size: int, read: HashReader) -> list[bytes]:
    """The proof that the tree of ``old_size`` leaves is a prefix of the tree of ``new_size``."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size in (0, new_size):
        return []
    return _range_hashes(_consistency_ranges(old_size, 0, new_size, True), read)


class MemoryHashes:
    """The stored hashes in a list: the whole tree in memory, for tests and small logs."""

    def __init__(self) -> None:
        self.hashes: list[bytes] = []
        self.size = 0  # leaves

    def __call__(self, indexes: list[int], /) -> list[bytes]:
        try:
            return [self.hashes[i] for i in indexes]  # never negative: stored_hash_index checks
        except IndexError:
            raise ValueError(f"a stored hash beyond the {len(self.hashes)} held was asked for") from None

    def append(self, data: bytes) -> int:
        """Add one entry; returns its leaf index."""
        return self.append_leaf_hash(leaf_hash(data))

    def append_leaf_hash(self, leaf: bytes) -> int:
        n = self.size
        self.hashes.extend(stored_hashes_for(n, leaf, self))
        self.size = n + 1
        return n


# -- Verifiers: RFC 9162 §2.1.3.2 and §2.1.4.2, self-contained on purpose. --------------------------


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """True if ``proof`` shows the leaf with ``leaf_hash`` at ``index`` in the tree (``size``, ``root``)."""
    if not 0 <= index < size or any(len(h) != 32 for h in (leaf_hash, root, *proof)):
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return False  # the proof is longer than the path to the root
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            while not fn & 1 and fn != 0:  # a right edge: no sibling at these levels
                fn, sn = fn >> 1, sn >> 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True if ``proof`` shows the tree (``old_size``, ``old_root``) is a prefix of (``new_size``, ``new_root``)."""
    if not 0 <= old_size <= new_size or any(len(h) != 32 for h in (old_root, new_root, *proof)):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == hashlib.sha256(b"").digest()
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # the old tree is one complete subtree: the proof omits it
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = hashlib.sha256(b"\x01" + c + fr).digest()
            sr = hashlib.sha256(b"\x01" + c + sr).digest()
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = hashlib.sha256(b"\x01" + sr + c).digest()
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root
