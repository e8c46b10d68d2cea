"""The C2SP tlog-tiles layout (c2sp.org/tlog-tiles): a log published as static files.

Tile ``<L>/<N>`` holds the hashes of tree level ``8 * L`` numbered ``N * 256`` .. ``N * 256 + 255``
(level-0 tiles: the leaf hashes), 32 bytes each; the rightmost tile of a level may be partial
(``.p/<W>``, 1 to 255 hashes). Entry bundle ``entries/<N>`` holds the entries of level-0 tile
``<N>``, each as a big-endian uint16 length and its bytes. Publishing a tree means writing, for
each ``(path, level, index, width)`` of ``tile_paths_for(size)``, ``tile_data(...)`` at ``path``,
and for each level-0 one the entry bundle at ``entries_path(index, width)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from veedor.tlog.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    HashReader,
    leaf_hash,
    node_hash,
    read_hashes,
    stored_hash_index,
)

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # 256 hashes, 8,192 bytes in a full tile
MAX_ENTRY = 0xFFFF  # an entry's length must fit its uint16 prefix


def _index_path(n: int) -> str:
    # 1234067 -> "x001/x234/067": 3-digit groups, all but the last prefixed with x.
    digits = str(n).zfill(-(-len(str(n)) // 3) * 3)
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join(["x" + g for g in groups[:-1]] + groups[-1:])


def _check(level: int, index: int, width: int) -> None:
    if not (0 <= level <= 63 and index >= 0 and 1 <= width <= TILE_WIDTH):
        raise ValueError(f"no tile at level {level}, index {index}, width {width}")


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    _check(level, index, width)
    return f"tile/{level}/{_index_path(index)}" + (f".p/{width}" if width < TILE_WIDTH else "")


def entries_path(index: int, width: int = TILE_WIDTH) -> str:
    _check(0, index, width)
    return f"tile/entries/{_index_path(index)}" + (f".p/{width}" if width < TILE_WIDTH else "")


def tile_paths_for(size: int, old_size: int = 0) -> list[tuple[str, int, int, int]]:
    """(path, level, index, width) of every tile of a tree of ``size`` leaves, lowest level first.

    With ``old_size``, only the tiles that a tree of ``old_size`` did not already have (published
    tiles never change; a partial one is superseded by a wider or full one at a new path).
    """
    if not 0 <= old_size <= size:
        raise ValueError(f"cannot go from tree size {old_size} to {size}")
    out = []
    level = 0
    while size >> (TILE_HEIGHT * level):
        count, old = size >> (TILE_HEIGHT * level), old_size >> (TILE_HEIGHT * level)
        for index in range(old // TILE_WIDTH, -(-count // TILE_WIDTH)):
            width = min(TILE_WIDTH, count - index * TILE_WIDTH)
            if index * TILE_WIDTH + width != old:  # not the same tile as at old_size
                out.append((tile_path(level, index, width), level, index, width))
        level += 1
    return out


def tile_data(level: int, index: int, width: int, read: HashReader) -> bytes:
    """The bytes of tile ``level/index`` of ``width`` hashes, read from the stored hashes."""
    _check(level, index, width)
    first = index * TILE_WIDTH
    indexes = [stored_hash_index(TILE_HEIGHT * level, first + i) for i in range(width)]
    return b"".join(read_hashes(read, indexes))


def entry_bundle(entries: Iterable[bytes]) -> bytes:
    """The entry bundle of 1 to 256 entries (each at most 65,535 bytes)."""
    out = []
    for i, entry in enumerate(entries):
        if len(entry) > MAX_ENTRY or i >= TILE_WIDTH:
            raise ValueError(f"entry {i} is over {MAX_ENTRY} bytes, or a bundle holds over {TILE_WIDTH}")
        out.append(len(entry).to_bytes(2, "big") + entry)
    if not out:
        raise ValueError("an entry bundle holds at least one entry")
    return b"".join(out)


def parse_entry_bundle(data: bytes, width: int | None = None) -> list[bytes]:
    """The entries in an entry bundle (and exactly ``width`` of them, if given)."""
    entries: list[bytes] = []
    at = 0
    while at < len(data):
        if at + 2 > len(data) or len(entries) == TILE_WIDTH:
            raise ValueError(f"entry bundle: trailing bytes after {len(entries)} entries")
        end = at + 2 + int.from_bytes(data[at : at + 2], "big")
        if end > len(data):
            raise ValueError(f"entry bundle: entry {len(entries)} runs past the end")
        entries.append(bytes(data[at + 2 : end]))
        at = end
    if not entries or (width is not None and len(entries) != width):
        raise ValueError(f"entry bundle: {len(entries)} entries, expected {width or 'at least 1'}")
    return entries


def _fetch_level(level: int, count: int, fetch: Callable[[str], bytes]) -> list[bytes]:
    """The ``count`` hashes of tile level ``level``, from its tiles."""
    hashes: list[bytes] = []
    for index in range(-(-count // TILE_WIDTH)):
        width = min(TILE_WIDTH, count - index * TILE_WIDTH)
        path = tile_path(level, index, width)
        data = fetch(path)
        if len(data) != width * HASH_SIZE:
            raise ValueError(f"{path}: {len(data)} bytes, expected {width * HASH_SIZE}")
        hashes.extend(bytes(data[i : i + HASH_SIZE]) for i in range(0, len(data), HASH_SIZE))
    return hashes


def root_from_tiles(size: int, fetch: Callable[[str], bytes], check_entries: bool = False) -> bytes:
    """The root hash of a published tree of ``size``, recomputed from all its tiles: an audit.

    ``fetch(path)`` returns a published file's bytes (``path`` as in ``tile_path``). Every leaf hash
    is read from the level-0 tiles and hashed up to the root; each higher tile must equal the hashes
    computed below it, and with ``check_entries`` each entry bundle must hash to its level-0 tile.
    Compare the result with a verified checkpoint's root hash. A mismatch is a ValueError.
    """
    if size < 0:
        raise ValueError(f"tree size must be >= 0, not {size}")
    if size == 0:
        return EMPTY_ROOT
    level_hashes = _fetch_level(0, size, fetch)
    if check_entries:
        for index in range(-(-size // TILE_WIDTH)):
            width = min(TILE_WIDTH, size - index * TILE_WIDTH)
            path = entries_path(index, width)
            for i, entry in enumerate(parse_entry_bundle(fetch(path), width)):
                if leaf_hash(entry) != level_hashes[index * TILE_WIDTH + i]:
                    raise ValueError(f"{path}: entry {i} does not hash to its leaf hash in the level-0 tile")
    peaks = []  # the complete subtrees making up the tree, smallest first
    level = 0
    while level_hashes:
        if level and level % TILE_HEIGHT == 0:
            published = _fetch_level(level // TILE_HEIGHT, len(level_hashes), fetch)
            for i, (mine, theirs) in enumerate(zip(level_hashes, published, strict=True)):
                if mine != theirs:
                    where = tile_path(level // TILE_HEIGHT, i // TILE_WIDTH)
                    raise ValueError(f"tile {where} (hash {i % TILE_WIDTH}) differs from the tiles below it")
        if len(level_hashes) % 2:
            peaks.append(level_hashes[-1])
        level_hashes = [
            node_hash(level_hashes[i], level_hashes[i + 1]) for i in range(0, len(level_hashes) - 1, 2)
        ]
        level += 1
    root = peaks[0]
    for peak in peaks[1:]:
        root = node_hash(peak, root)
    return root
