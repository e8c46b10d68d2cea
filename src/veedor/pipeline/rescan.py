"""``veedor rescan``: read stored evidence again with this veedor, and recombine its mesas.

Readers improve; the images do not change. Each stored image is read again from the
evidence store (by SHA-256, its hash checked), its new readings and decision are appended,
its evidence row is replaced (the old one moved to ``evidence_archive``), and every mesa it
touched is recombined, so nothing is counted twice and the earlier readings stay in the
history. ``combine_only`` re-applies the mesa rule to the stored evidence without reading.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from veedor.capture.evidence import EvidenceStore, sha256_bytes
from veedor.definitions import DEFAULT_DEFINITION, ElectionDefinition, load_definition
from veedor.model import FileOutcome, Status
from veedor.pipeline.report import outcome_json
from veedor.pipeline.scan import BATCH_FILES, _run, default_evidence_root
from veedor.pipeline.worker import WorkerContext
from veedor.store import Store
from veedor.store.records import combine_mesa, now, store_reading
from veedor.store.registry_view import registry_view
from veedor.store.schema import ActaRecord, Evidence, EvidenceArchive, Image, ImageName


@dataclass
class RescanSummary:
    images: int = 0
    missing: int = 0
    """Images whose evidence file is gone or altered: reported, nothing changed."""
    mesas_changed: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def rescan(
    store: Store,
    *,
    definition_id: str = DEFAULT_DEFINITION,
    evidence_root: str | Path | None = None,
    workers: int | None = None,
    shas: Iterable[str] | None = None,
    combine_only: bool = False,
    report: IO[str] | None = None,
    on_total: Callable[[int], None] | None = None,
    on_outcome: Callable[[FileOutcome], None] | None = None,
) -> RescanSummary:
    definition = load_definition(definition_id)
    started = time.perf_counter()
    summary = RescanSummary()
    root = Path(evidence_root or default_evidence_root(store))
    with store.session() as session:
        if combine_only:
            _recombine_all(session, definition, summary)
        else:
            _reread(session, definition, root, workers, shas, report, on_total, on_outcome, summary)
        session.commit()
        for state, n in _states(session, definition):
            summary.by_state[state] = n
    summary.seconds = time.perf_counter() - started
    return summary


def _states(session: Session, definition: ElectionDefinition) -> list[tuple[str, int]]:
    from sqlalchemy import func

    rows = session.execute(
        select(ActaRecord.status, func.count())
        .where(ActaRecord.election == definition.id)
        .group_by(ActaRecord.status)
    )
    return [(s, int(n)) for s, n in rows]


def _recombine_all(session: Session, definition: ElectionDefinition, summary: RescanSummary) -> None:
    records = session.scalars(select(ActaRecord).where(ActaRecord.election == definition.id))
    for record in list(records):
        before = record.status
        combine_mesa(session, record, definition, cause="combine")
        summary.mesas_changed += record.status != before


def _reread(
    session: Session,
    definition: ElectionDefinition,
    root: Path,
    workers: int | None,
    shas: Iterable[str] | None,
    report: IO[str] | None,
    on_total: Callable[[int], None] | None,
    on_outcome: Callable[[FileOutcome], None] | None,
    summary: RescanSummary,
) -> None:
    in_db = set(session.scalars(select(Image.sha256)))
    wanted = sorted(set(shas) if shas is not None else in_db)
    evidence = EvidenceStore(root)
    paths: list[str] = []
    for sha in wanted:
        if sha not in in_db:
            summary.missing += 1
            reason = (
                "ninguna imagen con ese SHA-256 en la base de datos; nada que releer / "
                "no image with that SHA-256 in the database: nothing to re-read"
            )
            _emit(FileOutcome(sha, sha, Status.REJECTED, reason), definition, report, on_outcome)
            continue
        path = evidence.path_for(sha)
        try:
            intact = sha256_bytes(path.read_bytes()) == sha
        except OSError:
            intact = False
        if intact:
            paths.append(str(path))
            continue
        summary.missing += 1
        line = FileOutcome(
            str(path),
            sha,
            Status.REJECTED,
            "el archivo de evidencia falta o fue alterado; no se cambió nada / "
            "the evidence file is missing or altered; nothing was changed",
        )
        _emit(line, definition, report, on_outcome)
    if on_total:
        on_total(len(paths))
    ctx = WorkerContext(
        definition_id=definition.id,
        evidence_root=str(root),
        registry=registry_view(session, definition),
        known=frozenset(),  # every image is read again
    )
    for done, outcome in enumerate(_run(paths, ctx, workers), 1):
        stored = record_reread(session, outcome, definition)
        summary.images += 1
        summary.mesas_changed += bool(stored.mesa and stored.mesa.get("changed_from"))
        _emit(stored, definition, report, on_outcome)
        if done % BATCH_FILES == 0:
            session.commit()


def _emit(
    outcome: FileOutcome,
    definition: ElectionDefinition,
    report: IO[str] | None,
    on_outcome: Callable[[FileOutcome], None] | None,
) -> None:
    if report is not None:
        report.write(outcome_json(outcome, definition) + "\n")
        report.flush()
    if on_outcome:
        on_outcome(outcome)


def record_reread(session: Session, outcome: FileOutcome, definition: ElectionDefinition) -> FileOutcome:
    """Append a new reading of a stored image and put its evidence in place of the old."""
    sha = outcome.sha256
    assert sha is not None
    image = session.get(Image, sha)
    if image is None:
        return outcome
    name = session.scalar(select(ImageName.path).where(ImageName.sha256 == sha).order_by(ImageName.id))
    outcome = replace(outcome, file=name or outcome.file)
    image.status, image.reason = outcome.status.value, outcome.reason
    stamp = now()
    touched: list[ActaRecord] = []
    for old in list(session.scalars(select(Evidence).where(Evidence.sha256 == sha))):
        session.add(
            EvidenceArchive(
                acta_pk=old.acta_pk,
                sha256=old.sha256,
                reading_id=old.reading_id,
                status=old.status,
                grade=old.grade,
                votes=old.votes,
                nulos=old.nulos,
                extra=old.extra,
                printed=old.printed,
                printed_nulos=old.printed_nulos,
                archived_at=stamp,
            )
        )
        record = session.get(ActaRecord, old.acta_pk)
        if record is not None:
            touched.append(record)
    session.execute(delete(Evidence).where(Evidence.sha256 == sha))
    session.flush()
    stored = store_reading(session, outcome, definition, stamp, "rescan")
    new_pk = session.scalar(select(Evidence.acta_pk).where(Evidence.sha256 == sha))
    for record in touched:
        if record.id != new_pk:  # the copy now reads as another mesa: its old mesa loses it
            combine_mesa(session, record, definition, sha256=sha, cause="rescan")
    return stored
