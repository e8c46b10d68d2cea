"""The transparency-log library: published test vectors, properties, and hostile input.

Vectors (literal hex below) come from:

* RFC 6962's reference tests as kept by Certificate Transparency and Go (certificate-transparency's
  merkle_tree_test.cc, now github.com/transparency-dev/merkle ``testonly/constants.go`` and
  ``proof/verify_test.go``): the 8-leaf tree, its roots for sizes 0..8, every complete subtree's
  hash, and the inclusion and consistency paths of those tests.
* Go's ``golang.org/x/mod/sumdb/note`` tests and documentation (``note_test.go``): the PeterNeumann
  and EnochRoot keys and signatures. Ed25519 is deterministic, so our signature must match theirs
  byte for byte.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from veedor.tlog import (
    EMPTY_ROOT,
    Checkpoint,
    MemoryHashes,
    canonical,
    consistency_proof,
    cosign,
    entries_path,
    entry_bundle,
    generate_key,
    inclusion_proof,
    leaf_hash,
    node_hash,
    open_note,
    parse,
    parse_entry_bundle,
    root_from_tiles,
    sign,
    stored_hash_count,
    stored_hash_index,
    stored_hashes_for,
    tile_data,
    tile_path,
    tile_paths_for,
    tree_hash,
    verifier_key,
    verify_consistency,
    verify_inclusion,
)

needs_crypto = pytest.mark.skipif(
    importlib.util.find_spec("cryptography") is None, reason="the cryptography package is not installed"
)
SETTINGS = settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])

# -- RFC 6962 reference tree -------------------------------------------------------------------------

LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
ROOTS = [  # by tree size, 0..8
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
NODES = [  # NODES[level][n]: every complete subtree of the 8-leaf tree
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]
INCLUSION = [  # (leaf index, tree size, path); the Go file numbers leaves from 1
    (0, 1, []),
    (0, 8, ["96a296d2", "5f083f0a", "6b47aaf2"]),
    (5, 8, ["bc1a0643", "ca854ea1", "d37ee418"]),
    (2, 3, ["fac54203"]),
    (1, 5, ["6e340b9c", "5f083f0a", "bc1a0643"]),
]
CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (1, 8, ["96a296d2", "5f083f0a", "6b47aaf2"]),
    (6, 8, ["0ebc5d34", "ca854ea1", "d37ee418"]),
    (2, 5, ["5f083f0a", "bc1a0643"]),
    (6, 7, ["0ebc5d34", "b08693ec", "d37ee418"]),
]
ALL_NODES = {h[:8]: bytes.fromhex(h) for level in NODES for h in level}  # proofs above, by prefix


def full(prefixes: list[str]) -> list[bytes]:
    return [ALL_NODES[p] for p in prefixes]


def build(entries: list[bytes]) -> MemoryHashes:
    store = MemoryHashes()
    for entry in entries:
        store.append(entry)
    return store


REFERENCE = build(LEAVES)
BIG_ENTRIES = [b"evidence %d" % i for i in range(4096)]
BIG = build(BIG_ENTRIES)
BIG_LEAVES = [leaf_hash(e) for e in BIG_ENTRIES]


# -- naive RFC 6962 / 9162 definitions, straight from the text ----------------------------------------


def mth(hashes: list[bytes]) -> bytes:
    if not hashes:
        return EMPTY_ROOT
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return node_hash(mth(hashes[:k]), mth(hashes[k:]))


def naive_path(m: int, hashes: list[bytes]) -> list[bytes]:
    if len(hashes) <= 1:
        return []
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    if m < k:
        return [*naive_path(m, hashes[:k]), mth(hashes[k:])]
    return [*naive_path(m - k, hashes[k:]), mth(hashes[:k])]


def naive_subproof(m: int, hashes: list[bytes], whole: bool) -> list[bytes]:
    if m == len(hashes):
        return [] if whole else [mth(hashes)]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    if m <= k:
        return [*naive_subproof(m, hashes[:k], whole), mth(hashes[k:])]
    return [*naive_subproof(m - k, hashes[k:], False), mth(hashes[:k])]


# -- Merkle tree ----------------------------------------------------------------------------------------


def test_reference_roots_and_stored_hashes() -> None:
    assert EMPTY_ROOT.hex() == ROOTS[0]
    for size, root in enumerate(ROOTS):
        assert tree_hash(size, REFERENCE).hex() == root
    for level, hashes in enumerate(NODES):
        for n, h in enumerate(hashes):
            assert REFERENCE.hashes[stored_hash_index(level, n)].hex() == h
    assert len(REFERENCE.hashes) == stored_hash_count(8) == 15


def test_reference_inclusion_paths() -> None:
    root = {size: bytes.fromhex(r) for size, r in enumerate(ROOTS)}
    for index, size, path in INCLUSION:
        proof = inclusion_proof(size, index, REFERENCE)
        assert proof == full(path)
        leaf = leaf_hash(LEAVES[index])
        assert verify_inclusion(leaf, index, size, proof, root[size])
        # The corruptions of transparency-dev's verify_test.go: none may verify.
        some = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")
        bad = [
            (leaf, index - 1, size, proof, root[size]),
            (leaf, index + 1, size, proof, root[size]),
            (leaf, index ^ 2, size, proof, root[size]),
            (leaf, index, size * 2, proof, root[size]),
            (leaf, index, size // 2, proof, root[size]),
            (leaf_hash(b"WrongLeaf"), index, size, proof, root[size]),
            (leaf, index, size, proof, EMPTY_ROOT),
            (leaf, index, size, proof, some),
            (leaf, index, size, [*proof, b""], root[size]),
            (leaf, index, size, [*proof, root[size]], root[size]),
            (leaf, index, size, [root[size], *proof], root[size]),
            (leaf, index, size, proof[:-1], root[size]) if proof else (leaf, index, size, [some], root[size]),
        ]
        for i in range(len(proof)):
            flipped = list(proof)
            flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
            bad.append((leaf, index, size, flipped, root[size]))
        for args in bad:
            assert not verify_inclusion(*args), args


def test_reference_consistency_proofs() -> None:
    root = {size: bytes.fromhex(r) for size, r in enumerate(ROOTS)}
    for old, new, path in CONSISTENCY:
        proof = consistency_proof(old, new, REFERENCE)
        assert proof == full(path)
        assert verify_consistency(old, new, root[old], root[new], proof)
        if not proof:
            continue
        bad = [
            (old - 1, new, root[old], root[new], proof),
            (old + 1, new, root[old], root[new], proof),
            (old ^ 2, new, root[old], root[new], proof),
            (old, new * 2, root[old], root[new], proof),
            (old, new // 2, root[old], root[new], proof),
            (old, new, leaf_hash(b"WrongRoot"), root[new], proof),
            (old, new, root[old], leaf_hash(b"WrongRoot"), proof),
            (old, new, root[new], root[old], proof),
            (old, new, root[old], root[new], []),
            (old, new, root[old], root[new], [*proof, b""]),
            (old, new, root[old], root[new], [*proof, root[old]]),
            (old, new, root[old], root[new], [root[new], *proof]),
            (old, new, root[old], root[new], [proof[0], *proof]),
            (old, new, root[old], root[new], proof[:-1]),
        ]
        for i in range(len(proof)):
            flipped = list(proof)
            flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
            bad.append((old, new, root[old], root[new], flipped))
        for args in bad:
            assert not verify_consistency(*args), args


def test_verifier_edge_cases() -> None:
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 5, EMPTY_ROOT, a, [])
    assert not verify_consistency(0, 5, a, b, [])  # the empty tree has one root
    assert verify_consistency(3, 3, a, a, [])
    assert not verify_consistency(3, 3, a, b, [])
    assert not verify_consistency(3, 3, a, a, [EMPTY_ROOT])  # equal trees: nothing to prove
    assert not verify_consistency(2, 1, a, b, [])  # time travel
    assert not verify_consistency(1, 2, a, b, [])
    assert not verify_inclusion(a, 0, 0, [], a)
    assert not verify_inclusion(a, 1, 1, [], a)
    assert not verify_inclusion(a, -1, 1, [], a)
    assert verify_inclusion(a, 0, 1, [], a)
    assert not verify_inclusion(a, 0, 1, [], b"")
    assert not verify_inclusion(b"", 0, 1, [], b"")


def test_stored_hash_order() -> None:
    # Leaf 0; leaf 1, then the pair; leaf 2; leaf 3, its pair, then the four; leaf 4 ...
    order = [(0, 0), (0, 1), (1, 0), (0, 2), (0, 3), (1, 1), (2, 0), (0, 4), (0, 5), (1, 2), (0, 6)]
    assert [stored_hash_index(level, n) for level, n in order] == list(range(len(order)))
    assert [stored_hash_count(s) for s in range(9)] == [0, 1, 3, 4, 7, 8, 10, 11, 15]
    with pytest.raises(ValueError):
        stored_hash_index(-1, 0)


def test_every_stored_hash_is_its_subtree_mth() -> None:
    size = 300
    store = build(BIG_ENTRIES[:size])
    assert len(store.hashes) == stored_hash_count(size)
    for level in range(size.bit_length()):
        for n in range(size >> level):
            span = BIG_LEAVES[n << level : (n + 1) << level]
            assert store.hashes[stored_hash_index(level, n)] == mth(span)


def test_one_batched_read_per_root_or_proof() -> None:
    calls: list[int] = []

    def reader(indexes: list[int]) -> list[bytes]:
        calls.append(len(indexes))
        return BIG(indexes)

    tree_hash(4095, reader)
    inclusion_proof(4095, 1234, reader)
    consistency_proof(1000, 4095, reader)
    assert len(calls) == 3 and max(calls) <= 2 * 12
    with pytest.raises(ValueError, match="hash reader"):
        tree_hash(7, lambda indexes: [EMPTY_ROOT])
    with pytest.raises(ValueError):
        tree_hash(5000, BIG)  # beyond what the store holds
    with pytest.raises(ValueError):
        inclusion_proof(10, 10, BIG)
    with pytest.raises(ValueError):
        consistency_proof(11, 10, BIG)
    with pytest.raises(ValueError):
        stored_hashes_for(3, b"short", BIG)


def test_exhaustive_small_trees() -> None:
    for size in range(1, 70):
        root = tree_hash(size, BIG)
        assert root == mth(BIG_LEAVES[:size])
        for index in range(size):
            proof = inclusion_proof(size, index, BIG)
            assert proof == naive_path(index, BIG_LEAVES[:size])
            assert verify_inclusion(BIG_LEAVES[index], index, size, proof, root)
        for old in range(size + 1):
            proof = consistency_proof(old, size, BIG)
            if 0 < old < size:
                assert proof == naive_subproof(old, BIG_LEAVES[:size], True)
            assert verify_consistency(old, size, tree_hash(old, BIG), root, proof)


@SETTINGS
@given(size=st.integers(1, 4096), data=st.data())
def test_proofs_verify_and_are_short(size: int, data: st.DataObject) -> None:
    root = tree_hash(size, BIG)
    assert root == mth(BIG_LEAVES[:size])
    bound = math.ceil(math.log2(size))
    indexes = data.draw(st.lists(st.integers(0, size - 1), min_size=1, max_size=30))
    for index in [0, size - 1, *indexes]:
        proof = inclusion_proof(size, index, BIG)
        assert len(proof) <= bound
        assert verify_inclusion(BIG_LEAVES[index], index, size, proof, root)
        if size > 1:
            assert not verify_inclusion(BIG_LEAVES[index], index ^ 1, size, proof, root)
    assert inclusion_proof(size, indexes[0], BIG) == naive_path(indexes[0], BIG_LEAVES[:size])
    olds = data.draw(st.lists(st.integers(0, size), min_size=1, max_size=30))
    for old in [1, size - 1, *olds]:
        proof = consistency_proof(old, size, BIG)
        assert len(proof) <= bound + 1
        assert verify_consistency(old, size, tree_hash(old, BIG), root, proof)
        if 0 < old < size:
            assert not verify_consistency(old, size, tree_hash(old - 1, BIG), root, proof)
    if 0 < olds[0] < size:
        assert consistency_proof(olds[0], size, BIG) == naive_subproof(olds[0], BIG_LEAVES[:size], True)


@SETTINGS
@given(size=st.integers(2, 300), data=st.data())
def test_tampering_breaks_verification(size: int, data: st.DataObject) -> None:
    """A log that changed, dropped or reordered a past entry cannot prove itself to a checkpoint."""
    entries = BIG_ENTRIES[:size]
    root = tree_hash(size, BIG)
    i = data.draw(st.integers(0, size - 1), label="entry")
    kind = data.draw(st.sampled_from(["flip", "delete", "swap"]))
    tampered = list(entries)
    if kind == "flip":
        at = data.draw(st.integers(0, len(entries[i]) - 1))
        bit = data.draw(st.integers(0, 7))
        tampered[i] = entries[i][:at] + bytes([entries[i][at] ^ (1 << bit)]) + entries[i][at + 1 :]
    elif kind == "delete":
        del tampered[i]
    else:
        j = data.draw(st.integers(0, size - 1).filter(lambda j: j != i))
        tampered[i], tampered[j] = tampered[j], tampered[i]
    tampered += BIG_ENTRIES[size : size + data.draw(st.integers(1, 40))]  # the log goes on
    bad = build(tampered)
    new = bad.size
    assert tree_hash(size, bad) != root  # an auditor recomputing the tree sees it
    proof = inclusion_proof(new, i, bad)  # the entry now at i is not the one the checkpoint holds
    assert not verify_inclusion(leaf_hash(tampered[i]), i, size, inclusion_proof(size, i, bad), root)
    assert not verify_inclusion(leaf_hash(entries[i]), i, new, proof, tree_hash(new, bad))
    assert not verify_consistency(size, new, root, tree_hash(new, bad), consistency_proof(size, new, bad))


# -- canonical JSON ------------------------------------------------------------------------------------


def test_canonical_examples() -> None:
    assert canonical({"b": 1, "a": [True, None, "x"], "": -5}) == b'{"":-5,"a":[true,null,"x"],"b":1}'
    assert canonical('é\n\x00\x1f\x7f\u2028"\\') == '"é\\n\\u0000\\u001f\x7f\u2028\\"\\\\"'.encode()
    assert canonical((1, 2)) == b"[1,2]"
    assert canonical(2**53 - 1) == b"9007199254740991"
    # RFC 8785 §3.2.3 orders keys by UTF-16 code units: U+1F600 (D83D DE00) before U+E000.
    assert canonical({"\ue000": 1, "\U0001f600": 2, "a": 3}) == '{"a":3,"\U0001f600":2,"\ue000":1}'.encode()


@pytest.mark.parametrize(
    "value",
    [
        1.5,
        1.0,
        float("nan"),
        float("inf"),
        2**53,
        -(2**53),
        {1: "a"},
        {("a",): 1},
        {"a": {1, 2}},
        b"x",
        "\ud800",
    ],
)
def test_canonical_refuses(value: object) -> None:
    with pytest.raises(ValueError, match="canonical JSON"):
        canonical(value)


def test_canonical_refuses_deep_nesting() -> None:
    deep: object = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(ValueError, match="nested"):
        canonical(deep)
    with pytest.raises(ValueError, match="nested"):
        parse(b"[" * 100_000 + b"]" * 100_000)


@pytest.mark.parametrize(
    "data",
    [
        b'{"b":1,"a":2}',  # key order
        b'{"a": 1}',  # whitespace
        b" 1",
        b"1\n",
        b"1.0",
        b"1e2",
        b"-0",
        b"NaN",
        b"Infinity",
        b'"\\u0041"',  # needless escape
        b'"\\/"',
        b'"\\u000A"',  # upper-case hex
        b'{"a":1,"a":1}',  # duplicate key
        b"\xef\xbb\xbf1",  # BOM
        b'"\xff"',  # not UTF-8
        b'"\\ud800"',  # lone surrogate
        b"9007199254740992",
        b"01",
        b"",
        b"[1,]",
    ],
)
def test_parse_refuses_non_canonical(data: bytes) -> None:
    with pytest.raises(ValueError):
        parse(data)


JSON_KEYS = st.text(st.characters(max_codepoint=0xFFFF, exclude_categories=["Cs"]), max_size=8)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(JSON_KEYS, inner, max_size=5),
    max_leaves=25,
)


@SETTINGS
@given(value=JSON)
def test_canonical_round_trip(value: object) -> None:
    data = canonical(value)
    assert parse(data) == value
    assert json.loads(data) == value  # any JSON reader gets the same value back
    # With keys in the BMP, UTF-16 order is code-point order: Python's own sorted output agrees.
    assert data == json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@SETTINGS
@given(data=st.binary(max_size=64) | JSON.map(lambda v: json.dumps(v, indent=1).encode()))
def test_parse_hostile_input_is_a_value_error(data: bytes) -> None:
    with contextlib.suppress(ValueError):
        assert canonical(parse(data)) == data


# -- signed notes and checkpoints ---------------------------------------------------------------------

PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIG = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
ENOCH_SIG = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"


@needs_crypto
def test_go_note_interop() -> None:
    assert sign(TEXT, PETER_SKEY) == TEXT + "\n" + PETER_SIG  # byte for byte what Go writes
    assert verifier_key(PETER_SKEY) == PETER_VKEY
    assert open_note(TEXT + "\n" + PETER_SIG, [PETER_VKEY]) == (TEXT, ["PeterNeumann"])
    assert open_note(TEXT + "\n" + PETER_SIG, PETER_VKEY) == (TEXT, ["PeterNeumann"])  # one key
    both = TEXT + "\n" + PETER_SIG + ENOCH_SIG  # co-signed by Go
    assert open_note(both, [PETER_VKEY, ENOCH_VKEY]) == (TEXT, ["PeterNeumann", "EnochRoot"])
    assert open_note(both, [ENOCH_VKEY]) == (TEXT, ["EnochRoot"])  # the unknown one is ignored
    # Re-signing replaces the signer's earlier signature (as Go's Sign does).
    assert cosign(TEXT + "\n" + PETER_SIG + ENOCH_SIG, PETER_SKEY) == TEXT + "\n" + ENOCH_SIG + PETER_SIG


@needs_crypto
def test_generate_sign_cosign_open() -> None:
    log_skey, log_vkey = generate_key("veedor.example/log")
    witness_skey, witness_vkey = generate_key("witness.example/w1")
    assert log_vkey.startswith("veedor.example/log+") and verifier_key(log_skey) == log_vkey
    text = "line one\n\nafter a blank line\n"  # the text may hold blank lines
    note = sign(text, log_skey)
    assert open_note(note, [log_vkey]) == (text, ["veedor.example/log"])
    both = cosign(note, witness_skey)
    assert open_note(both, [log_vkey, witness_vkey]) == (text, ["veedor.example/log", "witness.example/w1"])
    assert open_note(both, [witness_vkey]) == (text, ["witness.example/w1"])
    with pytest.raises(ValueError, match="no signature by a known key"):
        open_note(note, [witness_vkey])  # unknown key only
    _, other_vkey = generate_key("veedor.example/log")  # same name, another key
    with pytest.raises(ValueError, match="no signature by a known key"):
        open_note(note, [other_vkey])
    with pytest.raises(ValueError, match="invalid signature"):
        open_note(note.replace("line one", "line 0ne"), [log_vkey])  # tampered text
    lines = note.split("\n")
    sig = base64.b64decode(lines[-2].split(" ")[2])
    forged = base64.b64encode(sig[:10] + bytes([sig[10] ^ 1]) + sig[11:]).decode()
    with pytest.raises(ValueError, match="invalid signature"):
        open_note(note.replace(lines[-2].split(" ")[2], forged), [log_vkey])  # tampered signature
    name, log_id, _ = log_vkey.split("+", 2)
    with pytest.raises(ValueError, match="does not match the key"):  # another key under this id
        open_note(note, [f"{name}+{log_id}+{other_vkey.split('+', 2)[2]}"])


@needs_crypto
@pytest.mark.parametrize(
    "note",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        TEXT.replace("\n", "\r\n") + "\n" + PETER_SIG,
        TEXT
        + "\n"
        + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        TEXT + "\n" + PETER_SIG.replace("—", "-"),
        TEXT + "\n" + PETER_SIG.replace("=\n", "\n"),  # padding missing
        TEXT + "\n" + "— PeterNeumann x08g\n",  # too short
        TEXT + "\n" + "— PeterNeumann\n",
        TEXT + "\n" + PETER_SIG * 101,
        TEXT[:-1] + "\ud800\n\n" + PETER_SIG,
        TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:],  # bad signature, right key
    ],
)
def test_malformed_notes_are_refused(note: str) -> None:
    with pytest.raises(ValueError):
        open_note(note, [PETER_VKEY])


@needs_crypto
@SETTINGS
@given(at=st.integers(0, len(TEXT) + len(PETER_SIG)), change=st.sampled_from(["delete", "insert", "replace"]))
def test_any_one_character_change_to_a_note_is_refused(at: int, change: str) -> None:
    note = TEXT + "\n" + PETER_SIG
    at = min(at, len(note) - 1)
    if change == "delete":
        changed = note[:at] + note[at + 1 :]
    elif change == "insert":
        changed = note[:at] + "A" + note[at:]
    else:
        changed = note[:at] + ("B" if note[at] != "B" else "C") + note[at + 1 :]
    with pytest.raises(ValueError):
        open_note(changed, [PETER_VKEY])


@SETTINGS
@given(text=st.text(max_size=200))
def test_hostile_notes_and_checkpoints_are_value_errors(text: str) -> None:
    for attempt in (lambda: open_note(text, []), lambda: Checkpoint.parse(text)):
        with contextlib.suppress(ValueError):
            attempt()


def test_verifier_key_manglings_are_refused() -> None:
    # Go's TestNewVerifier: every proper substring and every one-byte change of the key is refused.
    # (Parsing a verifier key needs no cryptography: open_note parses its keys before any signature.)
    for i in range(len(PETER_VKEY)):
        for j in range(i + 1, len(PETER_VKEY) + 1):
            if (i, j) != (0, len(PETER_VKEY)):
                with pytest.raises(ValueError):
                    open_note(TEXT + "\n" + PETER_SIG, [PETER_VKEY[i:j]])
    for i in range(len(PETER_VKEY)):
        mangled = PETER_VKEY[:i] + chr(ord(PETER_VKEY[i]) + 1) + PETER_VKEY[i + 1 :]
        with pytest.raises(ValueError):
            open_note(TEXT + "\n" + PETER_SIG, [mangled])
    for bad in [
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter Neumann+c74f20a3+AA==",
    ]:
        with pytest.raises(ValueError):
            open_note(TEXT + "\n" + PETER_SIG, [bad])


@needs_crypto
def test_signer_key_errors_do_not_leak_the_key() -> None:
    for bad in [PETER_SKEY[:-2] + "zz", PETER_SKEY.replace("c74f20a3", "c74f20a4"), PETER_SKEY[12:]]:
        with pytest.raises(ValueError) as caught:
            sign(TEXT, bad)
        assert "AYEKFALV" not in str(caught.value)
    with pytest.raises(ValueError, match="newline"):
        sign("no newline", PETER_SKEY)
    with pytest.raises(ValueError):
        generate_key("has+plus")
    with pytest.raises(ValueError):
        generate_key("has space")


ROOT8 = bytes.fromhex(ROOTS[8])


def test_checkpoint_format_and_parse() -> None:
    cp = Checkpoint("veedor.example/ve-2024", 8, ROOT8)
    text = cp.format()
    assert text == "veedor.example/ve-2024\n8\n" + base64.b64encode(ROOT8).decode() + "\n"
    assert Checkpoint.parse(text) == cp
    with_ext = Checkpoint("o", 0, EMPTY_ROOT, ("ext one", "ext two"))
    assert Checkpoint.parse(with_ext.format()) == with_ext
    assert with_ext.format().endswith("\next one\next two\n")


B64 = base64.b64encode(ROOT8).decode()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "o\n",
        "o\n8\n",
        f"o\n8\n{B64}",  # no final newline
        f"\n8\n{B64}\n",  # empty origin
        f"o\n08\n{B64}\n",
        f"o\n+8\n{B64}\n",
        f"o\n-1\n{B64}\n",
        f"o\n 8\n{B64}\n",
        f"o\n٨\n{B64}\n",  # an Arabic-Indic digit
        f"o\n{2**63}\n{B64}\n",
        "o\n8\n" + base64.b64encode(ROOT8[:31]).decode() + "\n",
        f"o\n8\n{B64[:-1]}\n",
        f"o\n8\n{B64}\n\n",  # empty extension line
        f"o\n8\n{B64}\next\n\nmore\n",
        f"o\x00\n8\n{B64}\n",
    ],
)
def test_malformed_checkpoints_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Checkpoint.parse(text)


def test_checkpoint_fields_are_checked() -> None:
    for args in [("", 1, ROOT8), ("o\nx", 1, ROOT8), ("o", -1, ROOT8), ("o", True, ROOT8), ("o", 1, b"x")]:
        with pytest.raises(ValueError):
            Checkpoint(*args)
    with pytest.raises(ValueError):
        Checkpoint("o", 1, ROOT8, ("",))


@needs_crypto
def test_end_to_end_checkpoint_and_proofs() -> None:
    """A log signs a checkpoint, a witness co-signs it; a reader checks an entry against it."""
    log_skey, log_vkey = generate_key("veedor.example/log")
    witness_skey, witness_vkey = generate_key("witness.example")
    store = MemoryHashes()
    entries = [canonical({"kind": "image", "sha256": f"{i:064x}", "seq": i}) for i in range(1000)]
    for entry in entries:
        store.append(entry)
    note = sign(Checkpoint("veedor.example/log", 1000, tree_hash(1000, store)).format(), log_skey)
    note = cosign(note, witness_skey)
    text, names = open_note(note, [log_vkey, witness_vkey])
    assert names == ["veedor.example/log", "witness.example"]
    cp = Checkpoint.parse(text)
    value = parse(entries[123])
    assert isinstance(value, dict) and value["seq"] == 123
    assert verify_inclusion(
        leaf_hash(entries[123]), 123, cp.size, inclusion_proof(cp.size, 123, store), cp.root_hash
    )
    old = tree_hash(600, store)
    assert verify_consistency(600, cp.size, old, cp.root_hash, consistency_proof(600, cp.size, store))


# -- tiles ---------------------------------------------------------------------------------------------


def test_tile_paths() -> None:
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"  # the spec's example
    assert tile_path(0, 1234067, 8) == "tile/0/x001/x234/067.p/8"
    assert entries_path(1234067) == "tile/entries/x001/x234/067"
    assert entries_path(0, 255) == "tile/entries/000.p/255"
    assert [tile_path(1, n) for n in (0, 5, 999, 1000)] == [
        "tile/1/000",
        "tile/1/005",
        "tile/1/999",
        "tile/1/x001/000",
    ]
    for bad in [(64, 0, 1), (0, -1, 1), (0, 0, 0), (0, 0, 257)]:
        with pytest.raises(ValueError):
            tile_path(*bad)


def test_tile_sets_of_the_spec_examples() -> None:
    tiles = tile_paths_for(70000)  # the spec: 273 full level-0 tiles, one of width 112, ...
    assert [(level, width) for _, level, _, width in tiles].count((0, 256)) == 273
    assert [t for t in tiles if t[3] < 256 or t[1] > 0] == [
        ("tile/0/273.p/112", 0, 273, 112),
        ("tile/1/000", 1, 0, 256),
        ("tile/1/001.p/17", 1, 1, 17),
        ("tile/2/000.p/1", 2, 0, 1),
    ]
    assert tile_paths_for(256) == [("tile/0/000", 0, 0, 256), ("tile/1/000.p/1", 1, 0, 1)]
    assert tile_paths_for(0) == []
    assert tile_paths_for(300, 300) == []
    with pytest.raises(ValueError):
        tile_paths_for(10, 11)


@SETTINGS
@given(new=st.integers(0, 200_000), data=st.data())
def test_incremental_tile_paths(new: int, data: st.DataObject) -> None:
    old = data.draw(st.integers(0, new))
    before = set(tile_paths_for(old))
    assert tile_paths_for(new, old) == [t for t in tile_paths_for(new) if t not in before]


@pytest.fixture(scope="module")
def tiled() -> tuple[list[bytes], MemoryHashes]:
    entries = [b"entry %d" % i for i in range(70_001)]
    return entries, build(entries)


def publish(entries: list[bytes], store: MemoryHashes, size: int) -> dict[str, bytes]:
    files = {}
    for path, level, index, width in tile_paths_for(size):
        files[path] = tile_data(level, index, width, store)
        if level == 0:
            files[entries_path(index, width)] = entry_bundle(entries[index * 256 : index * 256 + width])
    return files


def test_tile_data_holds_the_subtree_hashes(tiled: tuple[list[bytes], MemoryHashes]) -> None:
    entries, store = tiled
    level0 = tile_data(0, 1, 256, store)
    assert [level0[i : i + 32] for i in range(0, 8192, 32)] == [leaf_hash(e) for e in entries[256:512]]
    level1 = tile_data(1, 0, 3, store)
    assert level1[64:96] == mth([leaf_hash(e) for e in entries[512:768]])


@pytest.mark.parametrize("size", [1, 2, 3, 255, 256, 257, 511, 512, 513, 1000, 65535, 65536, 65537, 70_001])
def test_root_from_tiles(size: int, tiled: tuple[list[bytes], MemoryHashes]) -> None:
    entries, store = tiled
    files = publish(entries, store, size)
    assert root_from_tiles(size, files.__getitem__, check_entries=True) == tree_hash(size, store)


@SETTINGS
@given(size=st.integers(1, 4096))
def test_root_from_tiles_any_size(size: int) -> None:
    files = publish(BIG_ENTRIES, BIG, size)
    assert root_from_tiles(size, files.__getitem__) == tree_hash(size, BIG)


def test_root_from_tiles_catches_tampering(tiled: tuple[list[bytes], MemoryHashes]) -> None:
    entries, store = tiled
    size = 70_001
    root = tree_hash(size, store)
    files = publish(entries, store, size)
    assert root_from_tiles(0, files.__getitem__) == EMPTY_ROOT

    def changed(path: str, data: bytes) -> dict[str, bytes]:
        return {**files, path: data}

    tile = files["tile/0/100"]  # one leaf hash changed: the level-1 tile above disagrees
    with pytest.raises(ValueError, match="differs from the tiles below"):
        root_from_tiles(size, changed("tile/0/100", tile[:40] + b"\xff" + tile[41:]).__getitem__)
    partial = files["tile/0/273.p/113"]  # in the partial tile nothing sits above it: the root differs
    assert root_from_tiles(size, changed("tile/0/273.p/113", b"\0" * 32 + partial[32:]).__getitem__) != root
    with pytest.raises(ValueError, match="bytes, expected"):
        root_from_tiles(size, changed("tile/1/000", files["tile/1/000"][:-1]).__getitem__)
    bundle = parse_entry_bundle(files["tile/entries/005"])
    bundle[7] = b"entry 9999999"
    with pytest.raises(ValueError, match="does not hash"):
        root_from_tiles(
            size, changed("tile/entries/005", entry_bundle(bundle)).__getitem__, check_entries=True
        )


def test_entry_bundles() -> None:
    entries = [b"", b"a", b"x" * 65535]
    data = entry_bundle(entries)
    assert data[:5] == b"\x00\x00\x00\x01a"
    assert parse_entry_bundle(data) == entries
    assert parse_entry_bundle(data, 3) == entries
    for bad in [data[:-1], data + b"\x00", data + b"\x00\x05abc", b"", b"\x00"]:
        with pytest.raises(ValueError, match="entry bundle"):
            parse_entry_bundle(bad)
    with pytest.raises(ValueError):
        parse_entry_bundle(data, 4)
    with pytest.raises(ValueError):
        parse_entry_bundle(entry_bundle([b"e"] * 256) + b"\x00\x00")
    for bad_entries in [[b"x" * 65536], [b"e"] * 257, []]:
        with pytest.raises(ValueError):
            entry_bundle(bad_entries)
