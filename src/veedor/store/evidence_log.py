"""The evidence log: every event that matters, appended as one entry of an RFC 6962 Merkle tree
(:mod:`veedor.tlog`) in the same transaction as the change it records: a crash leaves both or
neither, and no entry is ever changed or removed.

An entry is the canonical JSON (docs/evidence.md) of ``{"kind": ..., "at": ..., ...}``: an image
received (its SHA-256, size, time and channel, never a person or a path), a reading accepted, a
mesa's change of state, a person's entry or decision (pseudonym only), an imported table or
bulletin. Its leaf hash is SHA-256(0x00 || entry); the tree's hashes are stored once
(``log_hashes``, by :func:`veedor.tlog.stored_hash_index`), so proofs take O(log n) reads.
The first entry is the log's launch: a public value fixed before election day.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from veedor import tlog
from veedor.store.db import serialize_writes
from veedor.store.schema import LogCheckpoint, LogEntry, LogHash, Setting
from veedor.tlog.tiles import TILE_WIDTH

LAUNCH = "log_launch"
"""Setting: the launch value (``veedor log init --launch``), used as the first entry."""


def stamp(at: datetime | None = None) -> str:
    """A time as the log writes it: UTC, seconds, ``Z``."""
    return (at or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def log_size(session: Session) -> int:
    last = session.scalar(select(func.max(LogEntry.seq)))
    return 0 if last is None else last + 1


def reader(session: Session, pending: dict[int, bytes] | None = None) -> tlog.HashReader:
    """The stored hashes, from this transaction's own new ones first, else in one query."""

    def read(indexes: list[int], /) -> Sequence[bytes]:
        found = {i: pending[i] for i in indexes if pending and i in pending}
        wanted = [i for i in indexes if i not in found]
        if wanted:
            found.update(
                session.execute(select(LogHash.slot, LogHash.hash).where(LogHash.slot.in_(wanted))).all()
            )
        try:
            return [found[i] for i in indexes]
        except KeyError as missing:
            raise ValueError(f"the log has no stored hash {missing}") from None

    return read


def append(session: Session, kind: str, body: dict[str, Any], at: datetime | None = None) -> int:
    """Append one entry in the caller's transaction; returns its index."""
    return append_many(session, [(kind, body, at)])[0]


def append_many(
    session: Session, entries: Sequence[tuple[str, dict[str, Any], datetime | None]]
) -> list[int]:
    """Append entries in order, in the caller's transaction (one writer at a time)."""
    if not entries:
        return []
    serialize_writes(session)
    size = log_size(session)
    items = list(entries)
    if size == 0:
        items.insert(0, _launch(session))
    pending: dict[int, bytes] = {}
    read = reader(session, pending)
    rows, hashes, indexes = [], [], []
    first_hash = tlog.stored_hash_count(size)
    for kind, body, at in items:
        if "kind" in body or "at" in body:  # the entry's own fields: a body must not hide them
            raise ValueError(f"a {kind} entry's body may not hold 'kind' or 'at'")
        data = tlog.canonical({**body, "kind": kind, "at": stamp(at)})
        new = tlog.stored_hashes_for(size, tlog.leaf_hash(data), read)
        for offset, h in enumerate(new):
            pending[first_hash + offset] = h
            hashes.append({"slot": first_hash + offset, "hash": h})
        rows.append({"seq": size, "kind": kind, "entry": data})
        indexes.append(size)
        first_hash += len(new)
        size += 1
    session.execute(insert(LogEntry), rows)
    session.execute(insert(LogHash), hashes)
    return indexes[-len(entries) :]


def _launch(session: Session) -> tuple[str, dict[str, Any], None]:
    """The first entry: the launch value (``veedor log init``), or null where none was fixed
    (``veedor log check`` cannot then rule out a history prepared in advance)."""
    launch = session.get(Setting, LAUNCH)
    return "launch", {"value": launch.value.decode() if launch is not None else None}, None


def start(session: Session, launch: str) -> None:
    """Fix the launch value and write it as the log's first entry (the log must be empty)."""
    if log_size(session) or session.get(Setting, LAUNCH) is not None:
        raise ValueError("the log has already started")
    session.add(Setting(name=LAUNCH, value=launch.encode()))
    session.flush()
    serialize_writes(session)
    kind, body, _ = _launch(session)
    data = tlog.canonical({**body, "kind": kind, "at": stamp()})
    session.execute(insert(LogEntry), [{"seq": 0, "kind": kind, "entry": data}])
    session.execute(insert(LogHash), [{"slot": 0, "hash": tlog.leaf_hash(data)}])


@dataclass(frozen=True)
class Head:
    size: int
    root: bytes


def head(session: Session) -> Head:
    size = log_size(session)
    return Head(size, tlog.tree_hash(size, reader(session)) if size else tlog.EMPTY_ROOT)


def entry(session: Session, index: int) -> bytes | None:
    return session.scalar(select(LogEntry.entry).where(LogEntry.seq == index))


def inclusion(session: Session, index: int, size: int) -> list[bytes]:
    return tlog.inclusion_proof(size, index, reader(session))


def consistency(session: Session, old: int, new: int) -> list[bytes]:
    return tlog.consistency_proof(old, new, reader(session))


def add_checkpoint(session: Session, note: str, size: int, root: bytes) -> None:
    """Keep a signed checkpoint (append-only) so that the site and mirrors publish it."""
    session.add(LogCheckpoint(size=size, root=root, note=note, at=datetime.now(UTC)))


def latest_checkpoint(session: Session) -> LogCheckpoint | None:
    return session.scalar(select(LogCheckpoint).order_by(LogCheckpoint.id.desc()).limit(1))


def audit(session: Session) -> list[str]:
    """What does not hold in the stored log, each in words: an entry whose bytes no longer
    give its stored leaf hash, a stored hash that its children do not give, a gap, a stored
    checkpoint whose root is not the tree's at its size. Empty: the log is whole."""
    problems: list[str] = []
    size = log_size(session)
    memory = tlog.MemoryHashes()
    rows = session.execute(select(LogEntry.seq, LogEntry.entry).order_by(LogEntry.seq))
    for expected, (index, data) in enumerate(rows):
        if index != expected:
            problems.append(f"entries {expected}..{index - 1} are missing")
            break
        memory.append(data)
    stored = dict(session.execute(select(LogHash.slot, LogHash.hash)).all())
    for i, h in enumerate(memory.hashes):
        if stored.get(i) != h:
            problems.append(_which_hash(i, size, memory, stored))
    if len(stored) > len(memory.hashes):
        problems.append(f"{len(stored) - len(memory.hashes)} stored hashes beyond the entries")
    for checkpoint in session.scalars(select(LogCheckpoint).order_by(LogCheckpoint.id)):
        if checkpoint.size > memory.size:
            problems.append(
                f"checkpoint {checkpoint.id} is of size {checkpoint.size}, the log has {memory.size}"
            )
        elif tlog.tree_hash(checkpoint.size, memory) != checkpoint.root:
            problems.append(f"checkpoint {checkpoint.id} (size {checkpoint.size}) does not match the entries")
    return problems


def _which_hash(i: int, size: int, memory: tlog.MemoryHashes, stored: dict[int, bytes]) -> str:
    """Name the entry a stored hash belongs to when it is a leaf's (the usual edit)."""
    for n in range(size):
        if tlog.stored_hash_index(0, n) == i:
            return f"entry {n}: its bytes do not give its stored leaf hash (entry or hash changed)"
        if tlog.stored_hash_index(0, n) > i:
            break
    return f"stored hash {i} is not the hash of its subtree"


VKEYS = "log_verifier_keys"
"""Setting: the verifier keys of every key that signed a checkpoint, one per line."""
ORIGIN = "log_origin"
"""Setting: the log's origin line, fixed by its first checkpoint."""


def remember_setting_line(session: Session, name: str, line: str) -> None:
    setting = session.get(Setting, name)
    lines = setting.value.decode().splitlines() if setting is not None else []
    if line not in lines:
        value = "\n".join([*lines, line]).encode()
        if setting is None:
            session.add(Setting(name=name, value=value))
        else:
            setting.value = value


def setting_text(session: Session, name: str) -> str | None:
    setting = session.get(Setting, name)
    return setting.value.decode() if setting is not None else None


def published_files(session: Session) -> Iterator[tuple[str, bytes]]:
    """The log as static files in the C2SP tlog-tiles layout, relative to the log's folder:
    ``checkpoint`` (the latest signed one), the hash tiles and entry bundles of the tree it
    signs (or of the whole log before any checkpoint), ``verifier-keys.txt``."""
    latest = latest_checkpoint(session)
    size = latest.size if latest is not None else log_size(session)
    if latest is not None:
        yield "checkpoint", latest.note.encode()
    keys = setting_text(session, VKEYS)
    if keys:
        yield "verifier-keys.txt", (keys + "\n").encode()
    read = reader(session)
    for path, level, index, width in tlog.tile_paths_for(size):
        yield path, tlog.tile_data(level, index, width, read)
        if level == 0:
            first = index * TILE_WIDTH
            entries = session.scalars(
                select(LogEntry.entry)
                .where(LogEntry.seq >= first, LogEntry.seq < first + width)
                .order_by(LogEntry.seq)
            ).all()
            yield tlog.entries_path(index, width), tlog.entry_bundle(entries)


def head_at(session: Session, size: int) -> bytes:
    """The root of the log's first ``size`` entries."""
    return tlog.tree_hash(size, reader(session)) if size else tlog.EMPTY_ROOT


def entries_about(session: Session, sha256: str, size: int) -> list[int]:
    """The entries (of the first ``size``) about one image, and about the mesas its readings
    name: a scan of the log (linear: seconds for a million entries)."""
    about: list[int] = []
    mesas: set[tuple[str, int]] = set()
    rows = session.execute(
        select(LogEntry.seq, LogEntry.entry).where(LogEntry.seq < size).order_by(LogEntry.seq)
    )
    bodies = [(seq, tlog.parse(data)) for seq, data in rows]
    for seq, body in bodies:
        if not isinstance(body, dict):
            continue
        if sha256 in (body.get("sha256"), body.get("image")) or sha256 in (body.get("images") or ()):
            about.append(seq)
            where = body.get("mesa")
            if isinstance(where, dict):
                mesas.add((where["centre"], where["mesa"]))
            elif body.get("centre") is not None and isinstance(where, int):
                mesas.add((body["centre"], where))
    for seq, body in bodies:
        if not isinstance(body, dict) or seq in about or not isinstance(body.get("mesa"), int):
            continue
        if (body.get("centre"), body["mesa"]) in mesas:
            about.append(seq)
    return sorted(about)
