"""``veedor verify --published``: the published log (C2SP tlog-tiles under ``log/``) checked as
an outside auditor would. The checkpoint's signature is opened with the verifier keys; the
root is recomputed from the entries and compared with the signed one; when the entries give
it, every hash tile is compared with the one they give (a tile that differs is named, hash by
hash); when they do not, each entry whose leaf hash is not its level-0 tile's is named.
``tlog.root_from_tiles(..., check_entries=True)``, the documented audit, runs too.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from pathlib import Path

from veedor import tlog
from veedor.pipeline.audit import Audit
from veedor.tlog.tiles import TILE_WIDTH

KEYS_FILE = "verifier-keys.txt"


def check_log(audit: Audit, log: Path, vkeys: Sequence[str]) -> list[bytes]:
    """The log's entries, once its checkpoint's signature and root are checked."""
    checkpoint = _checkpoint(audit, log, vkeys)
    size = checkpoint.size if checkpoint is not None else _inferred_size(log)
    audit.count("log_size", size)

    def fetch(path: str) -> bytes:
        return (log / path).read_bytes()

    entries: list[bytes] = []
    for i in range(-(-size // TILE_WIDTH)):
        width = min(TILE_WIDTH, size - i * TILE_WIDTH)
        path = tlog.entries_path(i, width)
        try:
            entries += tlog.parse_entry_bundle(fetch(path), width)
        except (OSError, ValueError) as exc:
            audit.differ("log_tiles", f"log/{path}", f"{width} entradas / entries", None, str(exc)[:200])
            return entries
    if checkpoint is None:
        return entries
    before = len(audit.differences)
    memory = tlog.MemoryHashes()
    for entry in entries:
        memory.append(entry)
    if tlog.tree_hash(size, memory) == checkpoint.root_hash:
        _tiles(audit, size, memory, fetch)  # the entries are the signed ones: a tile that differs is wrong
    else:
        _entries_against_tiles(audit, entries, fetch)
    try:
        root = tlog.root_from_tiles(size, fetch, check_entries=True)
        problem = (
            None
            if root == checkpoint.root_hash
            else "las teselas no dan la raíz firmada / tiles give another root"
        )
    except (OSError, ValueError) as exc:
        problem = str(exc)[:200]
    if problem and len(audit.differences) == before:  # not yet named more exactly above
        audit.differ("log_root", "log/checkpoint", _b64(checkpoint.root_hash), None, problem)
    return entries


def _checkpoint(audit: Audit, log: Path, vkeys: Sequence[str]) -> tlog.Checkpoint | None:
    """The latest checkpoint, its signatures verified by the given keys (else the site's own)."""
    try:
        note = (log / "checkpoint").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        audit.differ(
            "checkpoint",
            "log/checkpoint",
            "punto de control firmado / signed checkpoint",
            None,
            "ausente / missing",
        )
        return None
    keys = list(vkeys)
    if not keys:
        try:
            keys = [k.strip() for k in (log / KEYS_FILE).read_text().splitlines() if k.strip()]
        except (OSError, UnicodeDecodeError):
            keys = []
        audit.note(
            "keys",
            f"log/{KEYS_FILE}",
            "claves tomadas del propio sitio: prueban que el registro no cambió desde la firma, no quién "
            "firmó; use --vkey con la clave obtenida por otro canal / keys taken from the site itself: "
            "they prove the log is unchanged since it was signed, not who signed it; pass --vkey",
        )
    try:
        text, names = tlog.open_note(note, keys)
        checkpoint = tlog.Checkpoint.parse(text)
    except ValueError as exc:
        audit.differ("checkpoint", "log/checkpoint", "firma válida / valid signature", None, str(exc)[:200])
        try:  # go on with what it claims, so that everything else is still checked
            return tlog.Checkpoint.parse(note[: note.rfind("\n\n") + 1])
        except ValueError:
            return None
    audit.note(
        "signed",
        "log/checkpoint",
        f"firmado por / signed by {', '.join(names)}; {checkpoint.size:,} entradas / entries",
    )
    if checkpoint.origin not in names:
        audit.note(
            "origin",
            "log/checkpoint",
            f"ninguna firma lleva el nombre del registro / no signature by {checkpoint.origin!r}",
        )
    return checkpoint


def _tiles(audit: Audit, size: int, memory: tlog.MemoryHashes, fetch: Callable[[str], bytes]) -> None:
    """Each published hash tile against the one the signed entries give."""
    for path, level, index, width in tlog.tile_paths_for(size):
        want = tlog.tile_data(level, index, width, memory)
        try:
            got = fetch(path)
        except OSError:
            audit.differ(
                "log_tile", f"log/{path}", _b64(want)[:16] + "…", None, "tesela ausente / tile missing"
            )
            continue
        if got == want:
            continue
        if len(got) != len(want):
            audit.differ("log_tile", f"log/{path}", len(want), len(got), "bytes")
            continue
        for k in range(0, len(want), 32):
            if want[k : k + 32] != got[k : k + 32]:
                audit.differ(
                    "log_tile",
                    f"log/{path}",
                    want[k : k + 32].hex(),
                    got[k : k + 32].hex(),
                    f"hash {k // 32}",
                )
    audit.count("log_tiles", len(tlog.tile_paths_for(size)))


def _entries_against_tiles(audit: Audit, entries: list[bytes], fetch: Callable[[str], bytes]) -> None:
    """The entries do not give the signed root: name those whose leaf hash is not the one in
    their level-0 tile (an entry edited after it was published)."""
    for i in range(-(-len(entries) // TILE_WIDTH)):
        width = min(TILE_WIDTH, len(entries) - i * TILE_WIDTH)
        try:
            tile = fetch(tlog.tile_path(0, i, width))
        except OSError:
            continue
        for j in range(width):
            n = i * TILE_WIDTH + j
            leaf = tlog.leaf_hash(entries[n])
            if tile[32 * j : 32 * j + 32] != leaf:
                audit.differ(
                    "log_entry",
                    f"log:entry:{n}",
                    tile[32 * j : 32 * j + 32].hex(),
                    leaf.hex(),
                    "sus bytes no dan el hash de su hoja / its bytes do not give its leaf hash",
                )


def _inferred_size(log: Path) -> int:
    """With no checkpoint, the size the entry bundles on disk add up to."""
    size = 0
    root = log / "tile" / "entries"
    for path in root.rglob("*") if root.is_dir() else []:
        if not path.is_file():
            continue
        parts = list(path.relative_to(root).parts)
        width = TILE_WIDTH
        if len(parts) > 1 and parts[-2].endswith(".p"):
            width, parts = int(parts[-1]), [*parts[:-2], parts[-2].removesuffix(".p")]
        digits = "".join(p.removeprefix("x") for p in parts)
        if digits.isdigit():
            size = max(size, int(digits) * TILE_WIDTH + width)
    return size


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
