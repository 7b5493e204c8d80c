"""A Merkle tree over the records of a trail, as RFC 6962 (and 9162) define it for
certificate transparency logs: a leaf is a record's chained hash, and an inclusion proof
that one record is among the first ``size`` records is ``log2(size)`` hashes long.

- leaf hash:  SHA-256(0x00 || record hash bytes)
- node hash:  SHA-256(0x01 || left || right)
- the tree over n leaves splits at the largest power of two smaller than n.

Everything here works on lists of hashes in memory; the caller reads them from the trail.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def leaf_hash(record_hash: str) -> bytes:
    """The Merkle leaf of a record, from its chained hash (hex)."""
    return hashlib.sha256(b"\x00" + bytes.fromhex(record_hash)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n >= 2)."""
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def tree_root(leaves: Sequence[bytes]) -> bytes:
    """The root of the tree over ``leaves`` (their leaf hashes), without recursion. The
    empty tree's root is SHA-256 of nothing, as RFC 6962 says."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    # Build level by level: a left-complete tree pairs neighbours and carries an odd last
    # node up unchanged, which gives the same root as the recursive split definition.
    level = list(leaves)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def inclusion_path(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path (RFC 6962 PATH(m, D[n])) proving that leaf ``index`` is in the tree
    over ``leaves``: the sibling subtree roots from the leaf up."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf {index} is not in a tree of {len(leaves)}")
    path: list[bytes] = []
    low, high = 0, len(leaves)
    # Walk down from the root, noting the root of the subtree not taken at each split;
    # the path lists them leaf-first.
    while high - low > 1:
        k = _split(high - low)
        if index < low + k:
            path.append(tree_root(leaves[low + k:high]))
            high = low + k
        else:
            path.append(tree_root(leaves[low:low + k]))
            low = low + k
    path.reverse()
    return path


def root_from_path(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes | None:
    """The root that leaf ``index`` of a tree of ``size`` leaves and its audit path give
    (RFC 9162, section 2.1.3.2); None when the path has the wrong length for them."""
    if not 0 <= index < size:
        return None
    fn, sn = index, size - 1
    result = leaf
    for sibling in path:
        if sn == 0:
            return None
        if fn % 2 == 1 or fn == sn:
            result = node_hash(sibling, result)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    return result if sn == 0 else None
