"""Transparency log: an append-only, publicly checkable record of what veedor saw and decided.

A pure library (no database, no files): RFC 6962 Merkle trees over a store of subtree hashes
(``merkle``), canonical JSON entries (``canonical``), signed notes and checkpoints in the C2SP
formats Go's sumdb and Sigstore use (``note``), and the C2SP tiled layout for publishing (``tiles``).
See docs/tlog.md.
"""

from veedor.tlog.canonical import canonical, parse
from veedor.tlog.merkle import (
    EMPTY_ROOT,
    HashReader,
    MemoryHashes,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    stored_hash_count,
    stored_hash_index,
    stored_hashes_for,
    tree_hash,
    verify_consistency,
    verify_inclusion,
)
from veedor.tlog.note import Checkpoint, cosign, generate_key, open_note, sign, verifier_key
from veedor.tlog.tiles import (
    entries_path,
    entry_bundle,
    parse_entry_bundle,
    root_from_tiles,
    tile_data,
    tile_path,
    tile_paths_for,
)

__all__ = [
    "EMPTY_ROOT",
    "Checkpoint",
    "HashReader",
    "MemoryHashes",
    "canonical",
    "consistency_proof",
    "cosign",
    "entries_path",
    "entry_bundle",
    "generate_key",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "open_note",
    "parse",
    "parse_entry_bundle",
    "root_from_tiles",
    "sign",
    "stored_hash_count",
    "stored_hash_index",
    "stored_hashes_for",
    "tile_data",
    "tile_path",
    "tile_paths_for",
    "tree_hash",
    "verifier_key",
    "verify_consistency",
    "verify_inclusion",
]
