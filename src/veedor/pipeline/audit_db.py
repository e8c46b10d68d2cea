"""``veedor verify`` with the database: every stored image read again, every mesa decided
again, every tally summed again, and all of it compared with the database, the evidence log
and the exports. Read-only: the session is rolled back, the readers get a scratch store.

The reference for an image is what this veedor reads from it now, unless the recorded
reading came from another version of veedor or of its engine: then the stored reading is the
reference (and a note says so), since a better reader may well read more.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from veedor.capture.evidence import EvidenceStore, file_sha256
from veedor.definitions import ElectionDefinition
from veedor.model import FileOutcome
from veedor.pipeline.audit import (
    Audit,
    LogIndex,
    Mesa,
    Progress,
    logged_reading,
    other_version,
    reread,
    seen_from,
)
from veedor.pipeline.audit_mesas import check_mesas, check_tallies
from veedor.pipeline.audit_numbers import compare_lines, differ_if, export_against, tally_sums
from veedor.store import Store
from veedor.store import evidence_log as log
from veedor.store.consistency import check_consistency
from veedor.store.records import as_utc
from veedor.store.registry_view import registry_view
from veedor.store.schema import (
    ActaRecord,
    Decision,
    Evidence,
    Image,
    LogEntry,
    Reading,
)
from veedor.verify.mesa import SeenCopy


@dataclass
class Stored:
    """One image as the database has it now: its latest decision and accepted reading, and
    its machine copy (not one people attached), with the mesa it is evidence for."""

    sha: str
    size: int
    format: str | None
    status: str
    grade: str | None = None
    version: str | None = None
    accepted: dict[str, Any] | None = None
    qr_only: bool = False
    mesa: Mesa | None = None
    evidence: Evidence | None = None

    def form(self) -> dict[str, Any]:
        e = self.evidence
        return {
            "status": self.status,
            "grade": self.grade,
            "mesa": self.mesa,
            "votes": list(e.votes) if e else None,
            "nulos": e.nulos if e else None,
            "extra": dict(e.extra or {}) if e else None,
            "printed": list(e.printed) if e and e.printed is not None else None,
            "printed_nulos": e.printed_nulos if e else None,
        }


def fresh_form(outcome: FileOutcome, ballot: int) -> dict[str, Any]:
    """What the database would hold for a reading just made (a copy is stored only with an
    accepted reading and every ballot line)."""
    copy = outcome.copy
    stored = copy is not None and outcome.winning_reading is not None and len(copy.votes) == ballot
    return {
        "status": outcome.status.value,
        "grade": copy.grade.value if copy else None,
        "mesa": (copy.centre, copy.mesa) if stored and copy else None,
        "votes": list(copy.votes) if stored and copy else None,
        "nulos": copy.nulos if stored and copy else None,
        "extra": dict(copy.extra) if stored and copy else None,
        "printed": list(copy.printed) if stored and copy and copy.printed is not None else None,
        "printed_nulos": copy.printed_nulos if stored and copy else None,
    }


def verify_database(
    store: Store,
    definition: ElectionDefinition,
    evidence_root: str | Path,
    *,
    exports: Sequence[Path] = (),
    workers: int | None = None,
    progress: Progress | None = None,
) -> Audit:
    started = time.perf_counter()
    audit = Audit()
    say = progress or (lambda _line: None)
    with store.session() as session:
        try:
            say("base de datos y registro / database and log")
            _structure(session, audit)
            entries = session.execute(select(LogEntry.seq, LogEntry.entry).order_by(LogEntry.seq))
            index = LogIndex.of(entries, audit)
            images = _stored(session)
            say(f"almacén de evidencia / evidence store: {len(images):,} originales / originals")
            paths = _evidence(audit, EvidenceStore(evidence_root), images, _sources(session))
            fresh = reread(
                paths,
                definition,
                registry=registry_view(session, definition),
                qr_only=[sha for sha, s in images.items() if s.qr_only],
                workers=workers,
                progress=say,
            )
            copies = _images(audit, definition, images, fresh, index)
            say("mesas y totales / mesas and tallies")
            counted = check_mesas(session, audit, definition, copies, index)
            sums = tally_sums(definition, counted)
            check_tallies(session, audit, definition, sums)
            for folder in exports:
                export_against(audit, folder, definition, counted, sums)
        finally:
            session.rollback()  # nothing is written; a driver's implicit transaction ends here
    audit.seconds = time.perf_counter() - started
    return audit


def _structure(session: Session, audit: Audit) -> None:
    """Half records and orphans (``veedor check``), and the log hashing to its stored tree."""
    for problem in check_consistency(session, None).problems:
        if not problem.startswith("registro de evidencia"):  # said below, entry by entry
            audit.differ("database", "database", None, None, problem)
    problems = log.audit(session)
    named = [p for p in problems if re.match(r"entry \d+:", p)]
    # An edited entry also breaks every stored hash above it: those follow, and are only counted.
    above = [p for p in problems if p.startswith("stored hash ") and p.endswith("of its subtree")]
    for problem in problems:
        if named and problem in above:
            continue
        entry = re.match(r"entry (\d+):", problem)
        checkpoint = re.match(r"checkpoint (\d+) ", problem)
        more = f" (+{len(above)} hashes por encima / stored hashes above it)" if entry and above else ""
        where = (
            f"log:entry:{entry.group(1)}"
            if entry
            else f"log:checkpoint:{checkpoint.group(1)}"
            if checkpoint
            else "log"
        )
        audit.differ("log", where, None, None, problem + more)


def _stored(session: Session) -> dict[str, Stored]:
    images = {
        sha: Stored(sha, size, fmt, status)
        for sha, size, fmt, status in session.execute(
            select(Image.sha256, Image.size, Image.format, Image.status)
        )
    }
    stamps: dict[str, Any] = {}
    for sha, at, version, grade in session.execute(
        select(Decision.sha256, Decision.decided_at, Decision.version, Decision.grade).order_by(Decision.id)
    ):
        if sha in images:
            images[sha].version, images[sha].grade, stamps[sha] = version, grade, as_utc(at)
    # The latest decision's readings share its time stamp: the accepted one among them is current.
    printed: set[str] = set()
    for sha, source, engine, variant, text, at, accepted in session.execute(
        select(
            Reading.sha256, Reading.source, Reading.engine, Reading.variant, Reading.text,
            Reading.read_at, Reading.accepted,
        ).where(Reading.source != "people")
    ):  # fmt: skip
        if sha not in images or stamps.get(sha) != as_utc(at):
            continue
        printed.update([sha] if source == "print" else [])
        if accepted:
            images[sha].accepted = {"engine": engine, "variant": variant, "source": source, "text": text}
    for sha, image in images.items():
        image.qr_only = bool(image.accepted and image.accepted["source"] == "qr" and sha not in printed)
    rows = session.execute(
        select(Evidence, ActaRecord.centre, ActaRecord.mesa)
        .join(ActaRecord, ActaRecord.id == Evidence.acta_pk)
        .outerjoin(Reading, Reading.id == Evidence.reading_id)
        .where((Reading.source.is_(None)) | (Reading.source != "people"))
    )
    for evidence, centre, mesa in rows:
        if evidence.sha256 in images:
            images[evidence.sha256].evidence, images[evidence.sha256].mesa = evidence, (centre, mesa)
    return images


def _sources(session: Session) -> set[str]:
    """Whole files (a PDF, a multi-page TIFF) kept beside the pages read from them."""
    found = set()
    for meta in session.scalars(select(Image.metadata_json).where(Image.metadata_json.is_not(None))):
        source = (meta or {}).get("source_sha256")
        if isinstance(source, str):
            found.add(source)
    return found


def _evidence(
    audit: Audit, store: EvidenceStore, images: dict[str, Stored], sources: set[str]
) -> dict[str, str]:
    """Every original in the store with its SHA-256; returns the images to read again."""
    paths: dict[str, str] = {}
    for sha in sorted(set(images) | sources):
        path = store.path_for(sha)
        if not path.is_file():
            audit.differ(
                "evidence_missing", f"image:{sha}", sha, None, "original ausente / missing from the store"
            )
            continue
        actual = file_sha256(path)
        if actual != sha:
            audit.differ("evidence_altered", f"image:{sha}", sha, actual, "original alterado / altered")
        elif sha in images:
            paths[str(path)] = sha
    audit.count("originals", len(set(images) | sources))
    return paths


FIELDS = ("status", "grade", "mesa", "votes", "nulos", "extra", "printed", "printed_nulos")
LOGGED = ("status", "grade", "mesa", "votes", "nulos")


def _images(
    audit: Audit,
    definition: ElectionDefinition,
    images: dict[str, Stored],
    fresh: dict[str, FileOutcome],
    index: LogIndex,
) -> dict[int, SeenCopy]:
    """Each image read now against the database, and the reference against the log; returns
    the copies read now that stand for stored ones (same mesa, same versions)."""
    ballot = len(definition.ballot)
    copies: dict[int, SeenCopy] = {}  # by evidence row: a copy people attached elsewhere stays
    for sha, stored in sorted(images.items()):
        where = f"image:{sha}"
        logged, received = index.readings.get(sha), index.images.get(sha)
        if received is None:
            audit.differ(
                "log_missing", where, "entrada image / image entry", None, "imagen sin entrada / not logged"
            )
        else:
            differ_if(audit, "log_image", where, received.get("bytes"), stored.size, "bytes")
            differ_if(audit, "log_image", where, received.get("format"), stored.format, "formato / format")
        reference = stored.form()
        outcome = fresh.get(sha)
        if outcome is not None:
            audit.count("reread")
            now = fresh_form(outcome, ballot)
            engine = outcome.winning_reading.engine if outcome.winning_reading else None
            recorded = stored.accepted["engine"] if stored.accepted else None
            why = other_version(stored.version, recorded, engine)
            changed = [f for f in FIELDS if now[f] != reference[f]]
            if why:
                more = f"; difieren / differ: {', '.join(changed)}" if changed else ""
                audit.note("other_version", where, f"leída con / read with {why}{more}")
            else:
                _compare(audit, "reading", where, now, reference, FIELDS, definition)
                reference = now
                if outcome.copy is not None and stored.evidence is not None and now["mesa"] == stored.mesa:
                    copies[stored.evidence.id] = seen_from(sha, outcome.copy)
        if logged is None:
            audit.differ(
                "log_missing",
                where,
                "entrada reading / reading entry",
                None,
                "lectura sin entrada / not logged",
            )
            continue
        _compare(audit, "log_reading", where, reference, logged_reading(logged, ballot), LOGGED, definition)
        if logged.get("accepted") != stored.accepted:
            audit.differ(
                "log_reading",
                where,
                logged.get("accepted"),
                stored.accepted,
                "lectura aceptada / accepted reading",
            )
    for sha in sorted(set(index.images) - set(images)):
        audit.differ(
            "log_extra",
            f"image:{sha}",
            None,
            "entrada image / image entry",
            "en el registro, no en la base / logged only",
        )
    return copies


def _compare(
    audit: Audit,
    kind: str,
    where: str,
    expected: dict[str, Any],
    found: dict[str, Any],
    fields: Iterable[str],
    definition: ElectionDefinition,
) -> None:
    """Field by field; numbers line by line, and only once both name the same mesa."""
    same_mesa = expected["mesa"] == found["mesa"]
    for name in fields:
        if name in ("votes", "printed"):
            if same_mesa:
                compare_lines(audit, kind, where, expected[name], found[name], definition, f"{name}: ")
        elif name in ("mesa", "status", "grade") or same_mesa:
            differ_if(audit, kind, where, _shown(expected[name]), _shown(found[name]), name)


def _shown(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
