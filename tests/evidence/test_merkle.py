"""RFC 9162 Merkle code against published test vectors, tampered proofs, and a naive reference by property tests.

The vectors are the ones published with Certificate Transparency's reference code and reused by Go's
transparency-dev/merkle and Trillian (`merkle_tree_test.cc`, `testdata`): eight leaf inputs, the roots of their
prefixes, inclusion proofs and consistency proofs. They are written out here as data.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reclaim.evidence.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    ProofError,
    leaf_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (0-based leaf index, tree size, audit path)
INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        4,
        8,
        [
            "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        6,
        8,
        [
            "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        7,
        8,
        [
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
# (first size, second size, consistency proof)
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

TREE = MerkleTree([leaf_hash(x) for x in LEAVES])


def h(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


def root(n: int) -> bytes:
    return bytes.fromhex(ROOTS[n])


def flip(b: bytes, bit: int = 0) -> bytes:
    return bytes([b[0] ^ (1 << bit)]) + b[1:]


# --- known answers ---------------------------------------------------------------------------------------------


def test_leaf_and_node_hashing_use_the_rfc_prefixes() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert EMPTY_ROOT.hex() == ROOTS[0]
    assert TREE.root(0) == EMPTY_ROOT


@pytest.mark.parametrize("n", range(9))
def test_roots_of_every_prefix(n: int) -> None:
    assert TREE.root(n).hex() == ROOTS[n]
    assert root_of([leaf_hash(x) for x in LEAVES[:n]]).hex() == ROOTS[n]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_proofs(index: int, size: int, proof: list[str]) -> None:
    assert TREE.inclusion_proof(index, size) == h(proof)
    verify_inclusion(leaf_hash(LEAVES[index]), index, size, h(proof), root(size))


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY)
def test_consistency_proofs(first: int, second: int, proof: list[str]) -> None:
    assert TREE.consistency_proof(first, second) == h(proof)
    verify_consistency(first, second, h(proof), root(first), root(second))


# --- tampered proofs must fail -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("index", "size", "proof"), [v for v in INCLUSION if v[2]])
def test_tampered_inclusion_proofs_fail(index: int, size: int, proof: list[str]) -> None:
    leaf, good = leaf_hash(LEAVES[index]), h(proof)
    bad_cases = []
    for i in range(len(good)):  # every element, one bit flipped
        bad_cases.append((leaf, index, size, [*good[:i], flip(good[i]), *good[i + 1 :]], root(size)))
    bad_cases += [
        (flip(leaf), index, size, good, root(size)),  # another leaf
        (leaf, index ^ 1, size, good, root(size)),  # another position
        (leaf, index, size + 1, good, root(size + 1) if size < 8 else root(size)),  # another tree size
        (leaf, index, size, good[:-1], root(size)),  # truncated
        (leaf, index, size, [*good, good[-1]], root(size)),  # extended
        (leaf, index, size, good, flip(root(size))),  # another root
        (leaf, size, size, good, root(size)),  # index outside the tree
    ]
    if len(good) > 1:
        bad_cases.append((leaf, index, size, list(reversed(good)), root(size)))  # reordered
    for case in bad_cases:
        with pytest.raises(ProofError):
            verify_inclusion(*case)


@pytest.mark.parametrize(("first", "second", "proof"), [v for v in CONSISTENCY if v[2]])
def test_tampered_consistency_proofs_fail(first: int, second: int, proof: list[str]) -> None:
    good = h(proof)
    bad_cases = []
    for i in range(len(good)):
        bad_cases.append((first, second, [*good[:i], flip(good[i]), *good[i + 1 :]], root(first), root(second)))
    bad_cases += [
        (first, second, good, flip(root(first)), root(second)),
        (first, second, good, root(first), flip(root(second))),
        (first, second, good[:-1], root(first), root(second)),
        (first, second, [*good, good[-1]], root(first), root(second)),
        (first, second, [], root(first), root(second)),
        (first + 1, second, good, root(first + 1), root(second)),  # proof for another size
        (first, second - 1, good, root(first), root(second - 1)),
        (second, first, good, root(second), root(first)),
    ]
    for case in bad_cases:
        with pytest.raises(ProofError):
            verify_consistency(*case)


def test_equal_sizes_need_an_empty_proof_and_equal_roots() -> None:
    verify_consistency(5, 5, [], root(5), root(5))
    with pytest.raises(ProofError):
        verify_consistency(5, 5, [], root(5), root(4))
    with pytest.raises(ProofError):
        verify_consistency(5, 5, [root(1)], root(5), root(5))


# --- an independent, straightforward reference implementation of RFC 9162 §2.1 -------------------------------


def ref_mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = 1
    while k * 2 < len(d):
        k *= 2
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = 1
    while k * 2 < len(d):
        k *= 2
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def test_reference_agrees_with_the_published_vectors() -> None:
    assert [ref_mth(LEAVES[:n]).hex() for n in range(9)] == ROOTS
    assert all(ref_path(i, LEAVES[:n]) == h(p) for i, n, p in INCLUSION)
    assert all(ref_subproof(m, LEAVES[:n], True) == h(p) for m, n, p in CONSISTENCY if m < n)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=70), st.data())
def test_inclusion_matches_reference_for_any_size(n: int, data: st.DataObject) -> None:
    raw = [i.to_bytes(4, "big") for i in range(n)]
    tree = MerkleTree([leaf_hash(x) for x in raw])
    size = data.draw(st.integers(min_value=1, max_value=n))
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    assert tree.root(size) == ref_mth(raw[:size])
    proof = tree.inclusion_proof(index, size)
    assert proof == ref_path(index, raw[:size])
    verify_inclusion(leaf_hash(raw[index]), index, size, proof, tree.root(size))
    if size > 1:
        with pytest.raises(ProofError):
            verify_inclusion(leaf_hash(raw[index]), index, size, proof, tree.root(size - 1))


@settings(max_examples=80, deadline=None)
@given(st.integers(min_value=1, max_value=70), st.data())
def test_consistency_between_any_two_sizes(n: int, data: st.DataObject) -> None:
    raw = [i.to_bytes(4, "big") for i in range(n)]
    tree = MerkleTree([leaf_hash(x) for x in raw])
    second = data.draw(st.integers(min_value=0, max_value=n))
    first = data.draw(st.integers(min_value=0, max_value=second))
    proof = tree.consistency_proof(first, second)
    if 0 < first < second:
        assert proof == ref_subproof(first, raw[:second], True)
    verify_consistency(first, second, proof, tree.root(first), tree.root(second))
    if 0 < first < second:
        # A different history of the first `first` leaves must not be accepted as a prefix.
        forged = [leaf_hash(b"forged"), *(leaf_hash(x) for x in raw[1:first])]
        with pytest.raises(ProofError):
            verify_consistency(first, second, proof, root_of(forged), tree.root(second))
        if proof:
            with pytest.raises(ProofError):
                verify_consistency(first, second, [flip(proof[0]), *proof[1:]], tree.root(first), tree.root(second))
