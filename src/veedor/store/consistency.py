"""Is the database whole, and does the evidence store still hold what it points to?

After a kill, a power cut, two scans at once or a hand edit, this says in numbers what is
there (images, names, readings, mesas, evidence, files) and lists every problem: a half
record (an image with no decision, a mesa with no copy), an orphan row (pointing to nothing),
a mesa whose state or counted numbers do not follow from its copies, an original missing or
altered in the store. Harmless leftovers (a file stored by a scan killed before its commit,
adopted by the next scan) are counted as notes, not problems.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from veedor.capture.evidence import EvidenceStore, file_sha256
from veedor.definitions import ElectionDefinition, load_definition
from veedor.store.evidence_log import audit, log_size
from veedor.store.records import people_settled, reused_among, seen_copy, set_aside_among, set_aside_of
from veedor.store.schema import (
    ActaRecord,
    ActaVotes,
    CheckRecord,
    Decision,
    Evidence,
    Image,
    ImageName,
    MesaEvent,
    Reading,
    ResultRow,
    ResultTable,
    ResultVotes,
    ReviewCopyCall,
    ReviewDecision,
)
from veedor.verify.mesa import decide_mesa


@dataclass
class Consistency:
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    """Each a sentence naming what is wrong and where; empty when the database is whole."""
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_consistency(
    session: Session, evidence_root: str | Path | None = None, *, hash_files: bool = True
) -> Consistency:
    """Count and check everything; ``hash_files=False`` only checks that each original exists."""
    report = Consistency()
    _count_rows(session, report)
    _orphans(session, report)
    _half_records(session, report)
    _mesas_follow_from_copies(session, report)
    _tables(session, report)
    report.counts["log_entries"] = log_size(session)
    report.problems += [f"registro de evidencia / evidence log: {p}" for p in audit(session)]
    if evidence_root is not None:
        _evidence_files(session, EvidenceStore(evidence_root), report, hash_files)
    return report


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _count_rows(session: Session, report: Consistency) -> None:
    for name, model in (
        ("images", Image),
        ("names", ImageName),
        ("readings", Reading),
        ("decisions", Decision),
        ("evidence", Evidence),
        ("mesas", ActaRecord),
        ("result_tables", ResultTable),
        ("result_rows", ResultRow),
    ):
        report.counts[name] = _count(session, model)
    # Names beyond an image's first: the same bytes found again (never counted twice).
    report.counts["duplicates"] = report.counts["names"] - (
        session.scalar(select(func.count(func.distinct(ImageName.sha256)))) or 0
    )
    report.counts["counted_mesas"] = (
        session.scalar(select(func.count()).select_from(ActaRecord).where(ActaRecord.status == "ok")) or 0
    )


def _orphans(session: Session, report: Consistency) -> None:
    """Rows pointing to a parent that is not there (SQLite enforces no key it was not asked to)."""
    images = select(Image.sha256)
    for table, column in (
        ("image_names", ImageName.sha256),
        ("readings", Reading.sha256),
        ("decisions", Decision.sha256),
        ("checks", CheckRecord.sha256),
        ("evidence", Evidence.sha256),
    ):
        n = session.scalar(select(func.count()).where(column.not_in(images)))
        if n:
            report.problems.append(f"{n} filas de {table} sin imagen / rows without their image")
    actas = select(ActaRecord.id)
    for table, acta_column in (
        ("evidence", Evidence.acta_pk),
        ("acta_votes", ActaVotes.acta_pk),
        ("mesa_events", MesaEvent.acta_pk),
    ):
        n = session.scalar(select(func.count()).where(acta_column.not_in(actas)))
        if n:
            report.problems.append(f"{n} filas de {table} sin mesa / rows without their mesa")
    n = session.scalar(
        select(func.count()).select_from(Evidence).where(Evidence.reading_id.not_in(select(Reading.id)))
    )
    if n:
        report.problems.append(f"{n} evidencias sin su lectura / evidence rows without their reading")
    n = session.scalar(
        select(func.count())
        .select_from(Evidence)
        .join(Reading, Reading.id == Evidence.reading_id)
        .where(Reading.sha256 != Evidence.sha256)
    )
    if n:
        report.problems.append(
            f"{n} evidencias con la lectura de otra imagen / evidence read from another image"
        )
    n = session.scalar(
        select(func.count()).select_from(ResultRow).where(ResultRow.table_id.not_in(select(ResultTable.id)))
    )
    if n:
        report.problems.append(f"{n} filas de resultados sin tabla / result rows without their table")
    n = session.scalar(
        select(func.count()).select_from(ResultVotes).where(ResultVotes.row_id.not_in(select(ResultRow.id)))
    )
    if n:
        report.problems.append(f"{n} votos de resultados sin fila / result votes without their row")


def _half_records(session: Session, report: Consistency) -> None:
    """What a write cut in half would leave: each stored image has its name and its decision;
    each mesa has a copy and a history; one image is evidence for one mesa only."""
    for what, image_column in (("nombre / name", ImageName.sha256), ("decisión / decision", Decision.sha256)):
        n = session.scalar(select(func.count()).where(Image.sha256.not_in(select(image_column))))
        if n:
            report.problems.append(f"{n} imágenes sin {what} / images half recorded")
    for what, acta_column in (
        ("copias / copies", Evidence.acta_pk),
        ("historia / history", MesaEvent.acta_pk),
    ):
        n = session.scalar(select(func.count()).where(ActaRecord.id.not_in(select(acta_column))))
        if n:
            report.problems.append(f"{n} mesas sin {what} / mesas half recorded")
    # A copy people said is another mesa's stays where it was read (set aside) and is attached
    # there too: that pair is the only one allowed.
    moved = {
        (pk, sha)
        for pk, calls in set_aside_among(session, select(ReviewCopyCall.acta_pk)).items()
        for sha, verdict in calls.items()
        if verdict == "other"
    }
    where = session.execute(select(Evidence.sha256, Evidence.acta_pk)).all()
    holders: dict[str, set[int]] = {}
    for sha, pk in where:
        if (pk, sha) not in moved:
            holders.setdefault(sha, set()).add(pk)
    twice = sorted(sha for sha, pks in holders.items() if len(pks) > 1)
    if twice:
        report.problems.append(
            f"{len(twice)} imágenes son evidencia de varias mesas / images evidence for several mesas: "
            + ", ".join(s[:12] for s in twice[:5])
        )
    n = session.scalar(
        select(func.count())
        .select_from(Evidence)
        .where(
            ~select(Reading.id).where(Reading.sha256 == Evidence.sha256, Reading.accepted.is_(True)).exists()
        )
    )
    if n:
        report.problems.append(f"{n} evidencias sin lectura aceptada / evidence without an accepted reading")


@cache
def _definition(election: str) -> ElectionDefinition | None:
    try:
        return load_definition(election)
    except Exception:  # a database from a definition this veedor does not ship
        return None


def _mesas_follow_from_copies(session: Session, report: Consistency) -> None:
    """Each mesa's state and numbers are what the rule makes of its copies, and its counted
    totals are its numbers: a hand edit of either is found here."""
    copies: dict[int, list[Evidence]] = {}
    for evidence in session.scalars(select(Evidence)):
        copies.setdefault(evidence.acta_pk, []).append(evidence)
    totals: dict[int, dict[str, int]] = {}
    for row in session.execute(select(ActaVotes.acta_pk, ActaVotes.candidate, ActaVotes.votes)):
        totals.setdefault(row.acta_pk, {})[row.candidate] = row.votes
    last_event = {
        acta_pk: state
        for acta_pk, state in session.execute(
            select(MesaEvent.acta_pk, MesaEvent.state).where(
                MesaEvent.id.in_(select(func.max(MesaEvent.id)).group_by(MesaEvent.acta_pk))
            )
        )
    }
    settled = {
        pk: people_settled(session, pk) for pk in session.scalars(select(ReviewDecision.acta_pk).distinct())
    }
    aside = {
        pk: set_aside_of(session, pk) for pk in session.scalars(select(ReviewCopyCall.acta_pk).distinct())
    }
    reused = reused_among(session)
    wrong: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for record in session.scalars(select(ActaRecord)):
        code = f"{record.centre}.{record.mesa:02d}"
        decision = decide_mesa(
            [seen_copy(e, reused) for e in copies.get(record.id, [])],
            settled.get(record.id),
            aside.get(record.id),
        )
        numbers = (list(decision.numbers[0]), decision.numbers[1]) if decision.numbers else (None, None)
        if decision.state.value != record.status or numbers != (record.votes, record.nulos):
            wrong["rule"] += 1
            examples.setdefault("rule", code)
        if record.id in last_event and last_event[record.id] != record.status:
            wrong["history"] += 1
            examples.setdefault("history", code)
        definition = _definition(record.election)
        expected = (
            definition.totals_by_candidate(record.votes)
            if definition is not None
            and record.votes is not None
            and len(record.votes) == len(definition.ballot)
            else {}
        )
        if definition is not None and totals.get(record.id, {}) != expected:
            wrong["totals"] += 1
            examples.setdefault("totals", code)
    sentences = {
        "rule": "mesas cuyo estado o números no siguen de sus copias / mesas whose state or numbers "
        "do not follow from their copies",
        "history": "mesas cuyo estado no es el último de su historia / mesas whose state is not "
        "the last in their history",
        "totals": "mesas cuyos totales contados no son sus números / mesas whose counted totals "
        "are not their numbers",
    }
    for key, n in wrong.items():
        report.problems.append(f"{n} {sentences[key]} (p. ej. / e.g. {examples[key]})")


def _tables(session: Session, report: Consistency) -> None:
    """Each imported table holds the rows it says, and each row's valid votes are its sum."""
    rows = {
        table_id: n
        for table_id, n in session.execute(
            select(ResultRow.table_id, func.count()).group_by(ResultRow.table_id)
        )
    }
    for table in session.scalars(select(ResultTable)):
        if rows.get(table.id, 0) != table.rows:
            report.problems.append(
                f"la tabla {table.name} dice {table.rows} filas y tiene {rows.get(table.id, 0)} / "
                "table holds other rows than it says"
            )
    sums = (
        select(ResultRow.id, ResultRow.valid, func.coalesce(func.sum(ResultVotes.votes), 0).label("total"))
        .join(ResultVotes, ResultVotes.row_id == ResultRow.id, isouter=True)
        .group_by(ResultRow.id, ResultRow.valid)
        .subquery()
    )
    n = session.scalar(select(func.count()).select_from(sums).where(sums.c.valid != sums.c.total))
    if n:
        report.problems.append(
            f"{n} filas de resultados cuyo total no es su suma / result rows not adding up"
        )


def _evidence_files(session: Session, store: EvidenceStore, report: Consistency, hash_files: bool) -> None:
    """Every stored image's original is in the store, unaltered; a PDF's or TIFF's whole file too."""
    expected = set(session.scalars(select(Image.sha256)))
    for meta in session.scalars(select(Image.metadata_json).where(Image.metadata_json.is_not(None))):
        source = (meta or {}).get("source_sha256")
        if isinstance(source, str):
            expected.add(source)
    missing, altered = [], []
    for sha in sorted(expected):
        path = store.path_for(sha)
        if not path.is_file():
            missing.append(sha)
        elif hash_files and file_sha256(path) != sha:
            altered.append(sha)
    on_disk = dict(_stored_files(store.root))
    report.counts["evidence_files"] = len(on_disk)
    if missing:
        report.problems.append(
            f"{len(missing)} originales faltan en el almacén de evidencia / originals missing from the "
            "evidence store: " + ", ".join(s[:12] for s in missing[:5])
        )
    if altered:
        report.problems.append(
            f"{len(altered)} originales alterados (su SHA-256 ya no coincide) / originals altered: "
            + ", ".join(s[:12] for s in altered[:5])
        )
    unreferenced = set(on_disk) - expected
    if unreferenced:
        report.notes.append(
            f"{len(unreferenced)} archivos guardados por un escaneo que no llegó a registrarlos; el "
            "próximo escaneo los adopta / files stored by a scan stopped before recording them"
        )
    writable = [sha for sha, mode in on_disk.items() if mode & 0o222]
    if writable:
        report.problems.append(
            f"{len(writable)} originales se pueden modificar (permisos de escritura) / originals writable"
        )


def _stored_files(root: Path) -> Iterator[tuple[str, int]]:
    """(sha256, mode) of each file in the store's ``ab/cd/<sha256>`` layout."""
    if not root.is_dir():
        return
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            if len(name) == 64 and not name.startswith("."):
                yield name, os.stat(os.path.join(dirpath, name)).st_mode
