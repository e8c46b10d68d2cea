"""Transparency-log timings, each against a bare hashlib baseline measured in the same run.

1. Append N entries (default 1,000,000; ~100-byte canonical JSON each) to a ``MemoryHashes``
   store, against hashing the same entries' leaf hashes with plain hashlib.
2. Inclusion and consistency proofs at that size: size (hashes, bytes) and the median time to
   produce and to verify one, against plain hashlib doing as many SHA-256 calls as the check does.
3. Publishing every tile, and an auditor's ``root_from_tiles`` over all of them.
4. Signing and opening a checkpoint (when the cryptography package is installed).

Run:  PYTHONPATH=src python bench/bench_tlog.py [--entries 1000000] [--samples 2000]
Target (issue): a proof checks in under 1 ms.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import random
import statistics
import time
from collections.abc import Callable
from functools import partial

from veedor.tlog import (
    Checkpoint,
    MemoryHashes,
    consistency_proof,
    generate_key,
    inclusion_proof,
    leaf_hash,
    open_note,
    root_from_tiles,
    sign,
    tile_data,
    tile_paths_for,
    tree_hash,
    verify_consistency,
    verify_inclusion,
)


def median_us(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e6


def bare_hashes(count: int) -> float:
    """Median time of ``count`` plain SHA-256 calls on 65 bytes: what a proof check must hash."""
    block = bytes(65)

    def run() -> None:
        for _ in range(count):
            hashlib.sha256(block).digest()

    return median_us(run, 2000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=2000, help="proofs timed for each median")
    args = parser.parse_args()
    n = args.entries
    rng = random.Random(7)
    entries = [b'{"kind":"image","seq":%d,"sha256":"%064x"}' % (i, rng.getrandbits(256)) for i in range(n)]
    print(f"{n:,} entries of {sum(map(len, entries)) / n:.0f} bytes on average")

    t = time.perf_counter()
    for entry in entries:
        hashlib.sha256(b"\x00" + entry).digest()
    bare = time.perf_counter() - t
    store = MemoryHashes()
    t = time.perf_counter()
    for entry in entries:
        store.append(entry)
    append = time.perf_counter() - t
    print(f"append:        {n / append:,.0f} entries/s ({append:.2f} s; {len(store.hashes):,} stored hashes)")
    print(f"  baseline:    {n / bare:,.0f} leaf hashes/s with plain hashlib; ratio {append / bare:.1f}x")
    root = tree_hash(n, store)
    print(f"tree_hash:     {median_us(lambda: tree_hash(n, store), 200):.1f} µs at size {n:,}")

    sizes: list[int] = []
    make: list[float] = []
    check: list[float] = []
    for _ in range(args.samples):
        index = rng.randrange(n)
        proof = inclusion_proof(n, index, store)
        leaf = leaf_hash(entries[index])
        assert verify_inclusion(leaf, index, n, proof, root)
        sizes.append(len(proof))
        make.append(median_us(partial(inclusion_proof, n, index, store), 3))
        check.append(median_us(partial(verify_inclusion, leaf, index, n, proof, root), 3))
    base = bare_hashes(round(statistics.median(sizes)))
    print(
        f"inclusion:     {statistics.median(sizes):.0f} hashes ({32 * statistics.median(sizes):.0f} bytes, "
        f"max {max(sizes)}); make {statistics.median(make):.1f} µs, verify {statistics.median(check):.1f} µs"
    )
    print(
        f"  baseline:    {base:.1f} µs for as many bare SHA-256 calls; verify ratio {statistics.median(check) / base:.1f}x"
    )

    sizes, make, check = [], [], []
    for _ in range(args.samples):
        old = rng.randrange(1, n)
        old_root = tree_hash(old, store)
        proof = consistency_proof(old, n, store)
        assert verify_consistency(old, n, old_root, root, proof)
        sizes.append(len(proof))
        make.append(median_us(partial(consistency_proof, old, n, store), 3))
        check.append(median_us(partial(verify_consistency, old, n, old_root, root, proof), 3))
    base = bare_hashes(round(statistics.median(sizes)))
    print(
        f"consistency:   {statistics.median(sizes):.0f} hashes ({32 * statistics.median(sizes):.0f} bytes, "
        f"max {max(sizes)}); make {statistics.median(make):.1f} µs, verify {statistics.median(check):.1f} µs"
    )
    print(
        f"  baseline:    {base:.1f} µs for as many bare SHA-256 calls; verify ratio {statistics.median(check) / base:.1f}x"
    )

    t = time.perf_counter()
    files = {path: tile_data(level, index, width, store) for path, level, index, width in tile_paths_for(n)}
    publish = time.perf_counter() - t
    t = time.perf_counter()
    assert root_from_tiles(n, files.__getitem__) == root
    audit = time.perf_counter() - t
    print(
        f"tiles:         {len(files):,} tiles ({sum(map(len, files.values())) / 1e6:.1f} MB) built in {publish:.2f} s"
    )
    print(
        f"  audit:       root_from_tiles over all of them {audit:.2f} s; ratio to the bare leaf hashing {audit / bare:.1f}x"
    )

    if importlib.util.find_spec("cryptography") is None:
        print("checkpoint:    skipped (the cryptography package is not installed)")
        return
    skey, vkey = generate_key("veedor.example/log")
    text = Checkpoint("veedor.example/log", n, root).format()
    note = sign(text, skey)
    print(
        f"checkpoint:    sign {median_us(lambda: sign(text, skey), 500):.0f} µs, "
        f"open + parse {median_us(lambda: Checkpoint.parse(open_note(note, [vkey])[0]), 500):.0f} µs"
    )


if __name__ == "__main__":
    main()
