"""A photo passed off as another mesa's: found while scanning, raised as an alert on both mesas.

The forgery the 2024 archive was accused of, and the one a forger can make in minutes: take a
real acta's photo, paste another mesa's QR on it (and perhaps retouch the numbers), submit it.
Its QR files it under the other mesa, so nothing about the mesa looks wrong. The sheet around
the QR is still the first photo's, pixel for pixel.

Each image whose plain picture shows its QR carries a key of the sheet above the QR
(:func:`veedor.read.forensics.sheet_key`, stored in ``picture_keys``). As each batch is stored,
its keys are compared with every key stored before (an in-memory array: microseconds per
image); the few pairs filed under *different* mesas whose keys are near are compared for real
with :func:`veedor.read.forensics.same_picture`, QR masked. A match is appended to
``picture_matches`` and to the evidence log, and both mesas are combined again: the rule
(:mod:`veedor.verify.mesa`) then raises a ``reused_photo`` alert on each and holds back any
count for a person. Numbers are never changed.

Keys stored by another scan running at the same time are seen by the next batch read after
they were committed; a pair stored in the same instant by two scans is found by neither
(``veedor check`` does not search again: a limit, written down in docs/image-forensics.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from veedor.capture.evidence import EvidenceStore
from veedor.capture.images import ImageRejected, load_image
from veedor.definitions import ElectionDefinition
from veedor.model import FileOutcome
from veedor.pipeline.worker import QR_PASTED
from veedor.read import forensics as fx
from veedor.store import evidence_log as log
from veedor.store.records import combine_mesa, now
from veedor.store.schema import ActaRecord, CheckRecord, Evidence, PictureKey, PictureMatch

Mesa = tuple[str, int]
_WORDS = 3  # 192 bits in three 64-bit words


def _words(key_hex: str) -> tuple[int, int, int]:
    value = int(key_hex, 16)
    return (value >> 128) & (2**64 - 1), (value >> 64) & (2**64 - 1), value & (2**64 - 1)


def _popcount(x: np.ndarray) -> np.ndarray:
    """Set bits of each uint64 (SWAR: numpy < 2 has no bitwise_count)."""
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return (x * np.uint64(0x0101010101010101)) >> np.uint64(56)


@dataclass
class _Index:
    """Every stored key with its image and mesa."""

    shas: list[str] = field(default_factory=list)
    mesas: list[Mesa] = field(default_factory=list)
    quads: list[list[list[float]]] = field(default_factory=list)
    keys: np.ndarray = field(default_factory=lambda: np.zeros((0, _WORDS), np.uint64))

    def add(self, rows: Iterable[tuple[str, Mesa, str, list[list[float]]]]) -> None:
        new = list(rows)
        if not new:
            return
        self.shas += [r[0] for r in new]
        self.mesas += [r[1] for r in new]
        self.quads += [r[3] for r in new]
        self.keys = np.vstack([self.keys, np.array([_words(r[2]) for r in new], np.uint64)])

    def near(self, key_hex: str, limit: int = fx.SHEET_KEY_NEAR, most: int = 3) -> list[int]:
        """The ``most`` nearest keys within ``limit`` bits: a bound on the verifications one
        image may cost, inside the batch's transaction."""
        if not self.shas:
            return []
        distance = _popcount(self.keys ^ np.array(_words(key_hex), np.uint64)).sum(axis=1)
        within = np.flatnonzero(distance <= limit)
        return [int(i) for i in within[np.argsort(distance[within], kind="stable")][:most]]


@dataclass(frozen=True)
class Found:
    sha256: str
    other: str
    score: float
    reason: str


class ReuseSearch:
    """One scan's search: load the stored keys once, then look at each batch as it is stored."""

    def __init__(self, evidence_root: str | Path) -> None:
        self.evidence = EvidenceStore(evidence_root)
        self.index: _Index | None = None
        self._pending: list[tuple[str, Mesa, str, list[list[float]]]] = []

    def _load(self, session: Session) -> _Index:
        index = _Index()
        index.add(
            (sha, (centre, mesa), key, quad)
            for sha, key, quad, centre, mesa in session.execute(
                select(
                    PictureKey.sha256,
                    PictureKey.sheet_key,
                    PictureKey.qr_quad,
                    ActaRecord.centre,
                    ActaRecord.mesa,
                )
                .join(Evidence, Evidence.sha256 == PictureKey.sha256)
                .join(ActaRecord, ActaRecord.id == Evidence.acta_pk)
            )
        )
        return index

    def after_batch(
        self, session: Session, stored: list[FileOutcome], definition: ElectionDefinition
    ) -> list[Found]:
        """Search the batch just recorded (in the caller's transaction, before its commit)."""
        if self.index is None:
            self.index = self._load(session)
        self._pending = []
        found: list[Found] = []
        for outcome in stored:
            picture, copy = outcome.picture, outcome.copy
            if picture is None or copy is None or outcome.duplicate_of or outcome.sha256 is None:
                continue
            mesa = (copy.centre, copy.mesa)
            quad = [list(p) for p in picture.qr_quad]
            batch = _Index()
            batch.add(self._pending)
            candidates = [(self.index, i) for i in self.index.near(picture.sheet_key)]
            candidates += [(batch, i) for i in batch.near(picture.sheet_key)]
            for where, i in candidates:
                if where.mesas[i] == mesa or where.shas[i] == outcome.sha256:
                    continue
                match = self._compare(outcome.sha256, quad, where.shas[i], where.quads[i])
                if match is not None and match.same:
                    found.append(Found(outcome.sha256, where.shas[i], match.score, match.reason))
            self._pending.append((outcome.sha256, mesa, picture.sheet_key, quad))
        for f in found:
            _record(session, f, definition)
        return found

    def committed(self) -> None:
        """The batch's keys join the index once its transaction is committed."""
        if self.index is not None:
            self.index.add(self._pending)
        self._pending = []

    def _compare(
        self, sha: str, quad: list[list[float]], other: str, other_quad: list[list[float]]
    ) -> fx.Match | None:
        pictures = []
        for s, q in ((other, other_quad), (sha, quad)):
            try:
                gray = load_image(self.evidence.path_for(s).read_bytes(), s).gray
            except (OSError, ImageRejected):
                return None  # a stored image gone or unreadable: `veedor verify` says so
            pictures.append(fx.perceptual_hash(fx.without_qr(gray, np.asarray(q, np.float32))))
        return fx.same_picture(pictures[0], pictures[1])


def _original(session: Session, a: str, b: str) -> str | None:
    """The one whose QR belongs to its sheet when the other's looks pasted on, else None."""
    passed = dict(
        session.execute(
            select(CheckRecord.sha256, CheckRecord.passed).where(
                CheckRecord.name == QR_PASTED, CheckRecord.sha256.in_((a, b))
            )
        ).all()
    )
    if passed.get(a) is True and passed.get(b) is False:
        return a
    if passed.get(b) is True and passed.get(a) is False:
        return b
    return None


def _record(session: Session, found: Found, definition: ElectionDefinition) -> None:
    stamp = now()
    original = _original(session, found.sha256, found.other)
    session.execute(
        insert(PictureMatch),
        [
            {
                "sha256": found.sha256,
                "other_sha256": found.other,
                "score": found.score,
                "reason": found.reason,
                "original": original,
                "found_at": stamp,
            }
        ],
    )
    log.append(
        session,
        "picture",
        {
            "image": found.sha256,
            "same_as": found.other,
            "score": f"{found.score:.3f}",
            "original": original,
        },
        stamp,
    )
    mesas = session.scalars(
        select(ActaRecord)
        .join(Evidence, Evidence.acta_pk == ActaRecord.id)
        .where(Evidence.sha256.in_((found.sha256, found.other)), ActaRecord.election == definition.id)
    ).unique()
    for record in mesas:
        combine_mesa(session, record, definition, sha256=found.sha256, cause="reused_photo")
