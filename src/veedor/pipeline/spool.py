"""Processing centres offline: read into a local spool, push to the central store later.

A centre may be cut off for hours. ``veedor scan --spool DIR`` reads as any scan does, but
keeps what it read in ``DIR`` instead of a database: the evidence (content-addressed, as
everywhere) and a journal, one line per image with everything its reading produced. When the
link is back, ``veedor push DIR`` sends both to the central store, where each image is recorded
exactly as a scan there would have recorded it (its mesa combined with every other copy), and
``centre_images`` says which centre sent it, when it was read and when it arrived.

Idempotent both ways: a spool scan run again reads only what its journal lacks, and a push run
again (or after a cut) stores nothing twice, by SHA-256. The journal is appended a batch at a
time (one write, then fsync) and its report lines come after: a kill loses at most the batch
being written, whose half line is cut off when the spool is next opened.

What the centre could not know is checked again on arrival: its mesas were judged against the
registry it had (often none); the central store runs the registry's checks again, and a copy
one fails is sent to review, never counted (see :func:`recheck`).
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from veedor import __version__
from veedor.capture.evidence import EvidenceStore
from veedor.capture.files import InputProblem, iter_input_files, shown_name
from veedor.capture.images import looks_like_image
from veedor.definitions import DEFAULT_DEFINITION, ElectionDefinition, load_definition
from veedor.model import ActaCounts, CheckResult, Copy, FileOutcome, Grade, ImageFacts, Reading, Status
from veedor.pipeline.scan import (
    BATCH_FILES,
    BATCH_SECONDS,
    Runner,
    ScanSummary,
    _run,
    announce,
    default_evidence_root,
)
from veedor.pipeline.worker import WorkerContext
from veedor.store import Store
from veedor.store.db import commit_retrying
from veedor.store.records import now, record_outcome
from veedor.store.registry_view import registry_view
from veedor.store.schema import CentreImage, CentrePush, Image
from veedor.verify.checks import RegistryView, run_checks

META = "spool.json"
JOURNAL = "journal.jsonl"
EVIDENCE = "evidence"
FORMAT = 1
CENTRE_ENV = "VEEDOR_CENTRE"
PUSH_BATCH = 64
RETRIES = 6


class SpoolError(Exception):
    """A spool that cannot be used as it is: the message says why and what to do."""


# -- one outcome as a journal line, and back -------------------------------------------------


def outcome_to_dict(outcome: FileOutcome) -> dict[str, Any]:
    """Everything :func:`record_outcome` needs, as JSON (the report's ``mesa`` is the central
    store's to compute)."""
    data = asdict(outcome)
    data.pop("mesa", None)
    return data


def outcome_from_dict(data: dict[str, Any]) -> FileOutcome:
    """The outcome a journal line holds; ``KeyError``/``TypeError``/``ValueError`` when the line
    is not one (a damaged spool)."""

    def counts(d: dict[str, Any] | None) -> ActaCounts | None:
        if d is None:
            return None
        return ActaCounts(
            str(d["acta_id"]),
            str(d["centre"]),
            int(d["mesa"]),
            tuple(int(v) for v in d["votes"]),
            int(d["nulos"]),
            {str(k): int(v) for k, v in (d.get("extra") or {}).items()},
        )

    def copy(d: dict[str, Any] | None) -> Copy | None:
        if d is None:
            return None
        printed = d.get("printed")
        return Copy(
            Grade(d["grade"]),
            str(d["acta_id"]),
            str(d["centre"]),
            int(d["mesa"]),
            tuple(_int_or_none(v) for v in d["votes"]),
            _int_or_none(d.get("nulos")),
            {str(k): int(v) for k, v in (d.get("extra") or {}).items()},
            str(d.get("source") or "qr"),
            tuple(_int_or_none(v) for v in printed) if printed is not None else None,
            _int_or_none(d.get("printed_nulos")),
        )

    def facts(d: dict[str, Any] | None) -> ImageFacts | None:
        if d is None:
            return None
        metadata = d.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise TypeError("metadata")
        return ImageFacts(
            str(d["sha256"]),
            int(d["size"]),
            _str_or_none(d.get("format")),
            _int_or_none(d.get("width")),
            _int_or_none(d.get("height")),
            metadata,
        )

    readings = tuple(
        Reading(
            str(r["source"]), str(r["engine"]), str(r["variant"]), _str_or_none(r["text"]), float(r["ms"])
        )
        for r in data.get("readings") or ()
    )
    checks = tuple(
        CheckResult(str(c["name"]), bool(c["passed"]), str(c["detail"])) for c in data.get("checks") or ()
    )
    sha = _str_or_none(data["sha256"])
    if sha is not None and (len(sha) != 64 or any(ch not in "0123456789abcdef" for ch in sha)):
        raise ValueError("sha256")
    return FileOutcome(
        str(data["file"]),
        sha,
        Status(data["status"]),
        _str_or_none(data.get("reason")),
        counts(data.get("acta")),
        readings,
        checks,
        _str_or_none(data.get("duplicate_of")),
        float(data.get("ms") or 0.0),
        facts(data.get("facts")),
        _str_or_none(data.get("source")),
        copy(data.get("copy")),
    )


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


# -- the spool folder -------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One journal line: an image's outcome, and when the centre read it."""

    outcome: FileOutcome
    read_at: datetime | None


class Spool:
    """``DIR/spool.json`` (the centre, the election), ``DIR/journal.jsonl``, ``DIR/evidence/``."""

    def __init__(self, root: Path, centre: str, definition_id: str) -> None:
        self.root = root
        self.centre = centre
        self.definition_id = definition_id
        self.journal = root / JOURNAL
        self.evidence = root / EVIDENCE

    @classmethod
    def create_or_open(cls, root: str | Path, definition_id: str, centre: str | None = None) -> Spool:
        """The spool at ``root`` for a scan: made when missing (the centre named by ``centre``,
        else ``VEEDOR_CENTRE``, else this machine's name), its journal's half line cut off."""
        root = Path(root)
        if (root / META).exists():
            spool = cls.open(root)
            if spool.definition_id != definition_id:
                raise SpoolError(
                    f"la carpeta {root} guarda la elección {spool.definition_id}, no {definition_id}; use "
                    f"otra carpeta para otra elección / the spool {root} holds the election "
                    f"{spool.definition_id}, not {definition_id}; use another folder for another election"
                )
            spool._cut_half_line()
            return spool
        try:
            root.mkdir(parents=True, exist_ok=True)
            name = (centre or os.environ.get(CENTRE_ENV) or socket.gethostname())[:100]
            meta = {"format": FORMAT, "centre": name, "election": definition_id, "created_at": _iso(now())}
            tmp = root / f".{META}.tmp"
            tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
            os.replace(tmp, root / META)
        except OSError as exc:
            raise SpoolError(
                f"no se pudo crear la carpeta {root} ({exc.strerror}) / cannot create the spool {root}"
            ) from exc
        return cls(root, name, definition_id)

    @classmethod
    def open(cls, root: str | Path) -> Spool:
        """An existing spool (to push)."""
        root = Path(root)
        try:
            meta = json.loads((root / META).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise SpoolError(
                f"{root} no es una carpeta de veedor scan --spool (falta {META}) / {root} is not a spool "
                f"(no {META}): read into it with veedor scan --spool"
            ) from exc
        except (OSError, ValueError) as exc:
            raise SpoolError(
                f"no se puede leer {root}/{META} ({exc}); la carpeta está dañada / the spool's {META} "
                "cannot be read; the folder is damaged"
            ) from exc
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise SpoolError(
                f"{root}/{META} no es de una versión de veedor que esta conozca / {root}/{META} is not a "
                f"spool this veedor knows (format {FORMAT})"
            )
        return cls(
            root, str(meta.get("centre") or "?")[:100], str(meta.get("election") or DEFAULT_DEFINITION)
        )

    def _cut_half_line(self) -> None:
        """A scan killed while writing leaves half a line: cut it, so the next batch starts a
        line of its own (its image is not in the journal, so it is read again)."""
        try:
            with open(self.journal, "rb+") as handle:
                data = handle.read()
                if data and not data.endswith(b"\n"):
                    handle.truncate(data.rfind(b"\n") + 1)
        except FileNotFoundError:
            pass

    def entries(self, problems: list[str] | None = None) -> Iterator[Entry]:
        """The journal's lines in order. A line that is not an outcome is skipped and said in
        ``problems`` (a half last line, from a kill, is skipped silently: it was never reported)."""
        if not self.journal.is_file():
            return
        with open(self.journal, "rb") as handle:
            for number, raw in enumerate(handle, 1):
                if not raw.endswith(b"\n"):
                    break
                try:
                    line = json.loads(raw)
                    outcome = outcome_from_dict(line["outcome"])
                    read_at = datetime.fromisoformat(line["read_at"]) if line.get("read_at") else None
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    if problems is not None:
                        problems.append(
                            f"{self.journal.name} línea {number}: no es un resultado; se omite / line "
                            f"{number}: not an outcome, skipped ({exc!r:.80})"
                        )
                    continue
                yield Entry(outcome, read_at)

    def known(self) -> dict[str, tuple[Status, str | None]]:
        """Images the journal holds (read already: not read again): their status and reason."""
        return {
            e.outcome.sha256: (e.outcome.status, e.outcome.reason)
            for e in self.entries()
            if e.outcome.sha256 and not e.outcome.duplicate_of
        }

    def append(self, outcomes: list[FileOutcome]) -> None:
        """One batch, in one write, on disk before it returns."""
        stamp = _iso(now())
        text = "".join(
            json.dumps({"read_at": stamp, "outcome": outcome_to_dict(o)}, ensure_ascii=False) + "\n"
            for o in outcomes
            if o.sha256
        )
        if not text:
            return
        with open(self.journal, "a", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())


def _iso(value: datetime) -> str:
    return value.isoformat()


# -- reading into a spool ---------------------------------------------------------------------


def spool_scan(
    paths: Iterable[str | Path],
    spool_dir: str | Path,
    *,
    definition_id: str = DEFAULT_DEFINITION,
    registry_store: Store | None = None,
    workers: int | None = None,
    report: IO[str] | None = None,
    on_total: Callable[[int], None] | None = None,
    on_outcome: Callable[[FileOutcome], None] | None = None,
    cross_check: bool = True,
    on_retry: Callable[[str], None] | None = None,
    runner: Runner | None = None,
    centre: str | None = None,
    all_files: bool = True,
) -> ScanSummary:
    """Read ``paths`` into the spool ``spool_dir`` (no database is written). The registry
    to judge against comes from ``registry_store`` when given (a copy of the national one);
    without it the registry's checks wait for the central store (:func:`recheck`)."""
    definition = load_definition(definition_id)
    spool = Spool.create_or_open(spool_dir, definition_id, centre)
    started = time.perf_counter()
    inputs = list(iter_input_files(paths))
    skipped = 0
    if not all_files:  # as a scan: what is not an image is not an acta, nor evidence of one
        kept = [p for p in inputs if not isinstance(p, str) or looks_like_image(p)]
        skipped, inputs = len(inputs) - len(kept), kept
    if on_total:
        on_total(len(inputs))
    registry = RegistryView()
    if registry_store is not None:
        with registry_store.session() as session:
            registry = registry_view(session, definition)
    known = spool.known()
    ctx = WorkerContext(
        definition_id=definition_id,
        evidence_root=str(spool.evidence.resolve()),
        registry=registry,
        known=frozenset(known),
        cross_check=cross_check,
    )
    summary = ScanSummary(skipped=skipped)
    files = [p for p in inputs if isinstance(p, str)]
    problems = [
        FileOutcome(p.path, None, Status.REJECTED, p.reason) for p in inputs if isinstance(p, InputProblem)
    ]
    pending: list[FileOutcome] = []
    seen_this_run: set[str] = set()
    last_flush = time.perf_counter()

    def flush() -> None:
        nonlocal last_flush
        spool.append(pending)
        announce(pending, definition, summary, report, on_outcome)
        pending.clear()
        last_flush = time.perf_counter()

    run = runner or _run
    for outcome in itertools.chain(problems, run(files, ctx, workers, None, on_retry)):
        outcome = replace(outcome, file=shown_name(outcome.file))
        sha = outcome.sha256
        if sha and (sha in known or sha in seen_this_run) and not outcome.duplicate_of:
            outcome = replace(outcome, duplicate_of=sha)
        if sha and outcome.duplicate_of and sha in known:
            # Reported as the image was read the first time (as a scan's duplicates are).
            status, reason = known[sha]
            outcome = replace(outcome, status=status, reason=reason or DUPLICATE)
        if sha and not outcome.duplicate_of:
            seen_this_run.add(sha)
            known[sha] = (outcome.status, outcome.reason)
        pending.append(outcome)
        if len(pending) >= BATCH_FILES or time.perf_counter() - last_flush > BATCH_SECONDS:
            flush()
    flush()
    summary.seconds = time.perf_counter() - started
    return summary


# -- pushing a spool to the central store -----------------------------------------------------

DUPLICATE = "archivo idéntico a uno ya leído; no se cuenta dos veces / identical file already read"
CENTRAL_REGISTRY = (
    "el registro del almacén central no concuerda con esta acta (el centro la leyó sin él); una "
    "persona debe revisarla / the central store's registry disagrees with this acta (the centre "
    "read it without it): "
)


def recheck(outcome: FileOutcome, definition: ElectionDefinition, registry: RegistryView) -> FileOutcome:
    """The outcome as the central store judges it: the checks run again with its registry.
    A check that fails here and did not fail at the centre sends the image to review and its
    copy no higher than ``partial`` (what a scan here would have decided: see
    :func:`veedor.verify.grade.grade_copy`); its numbers are never changed."""
    if outcome.acta is None or not registry.loaded or outcome.duplicate_of:
        return outcome
    before = {c.name: c for c in outcome.checks}
    here = run_checks(outcome.acta, definition, registry)
    added = [c for c in here if c.name not in before]
    failed = [c for c in here if not c.passed and (c.name not in before or before[c.name].passed)]
    if not added and not failed:
        return outcome
    failed_names = {c.name for c in failed}
    checks = tuple(c for c in outcome.checks if c.name not in failed_names) + tuple(
        c for c in here if c.name not in before or c.name in failed_names
    )
    if not failed:
        return replace(outcome, checks=checks)
    copy = outcome.copy
    if copy is not None and copy.grade in (Grade.CONFIRMED, Grade.QR_ONLY):
        copy = replace(copy, grade=Grade.PARTIAL)
    why = "; ".join(f"{c.name}: {c.detail}" for c in failed)
    reason = CENTRAL_REGISTRY + why + (f" ({outcome.reason})" if outcome.reason else "")
    return replace(outcome, status=Status.REVIEW, reason=reason, checks=checks, copy=copy)


@dataclass
class PushSummary:
    centre: str
    images: int = 0
    """Images in the spool (each counted once)."""
    stored: int = 0
    """Stored by this push for the first time."""
    known: int = 0
    """Already in the central store (sent before, by this centre or another)."""
    rechecked: int = 0
    """ok at the centre, sent to review by the central registry."""
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


def push(
    spool_dir: str | Path,
    store: Store,
    *,
    evidence_root: str | Path | None = None,
    on_total: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_retry: Callable[[str], None] | None = None,
) -> PushSummary:
    """Send a spool's outcomes and evidence to ``store``: what it has already is not stored
    again; a push cut off is completed by the next."""
    started = time.perf_counter()
    spool = Spool.open(spool_dir)
    definition = load_definition(spool.definition_id)
    central = EvidenceStore(evidence_root or default_evidence_root(store))
    local = EvidenceStore(spool.evidence)
    summary = PushSummary(spool.centre)
    entries = list(spool.entries(summary.problems))
    if on_total:
        on_total(len(entries))
    with store.session() as session:
        registry = registry_view(session, definition)
        sent_before = set(
            session.scalars(select(CentreImage.sha256).where(CentreImage.centre == spool.centre))
        )
    push_id = _start_push(store, spool.centre)
    session = store.session()
    counted: set[str] = set()
    try:
        for chunk in _chunks(entries, PUSH_BATCH):
            batch: list[Entry] = []
            skipped = 0
            for entry in chunk:
                outcome = entry.outcome
                if outcome.sha256 is None:
                    continue
                if outcome.duplicate_of is None:
                    if outcome.sha256 in counted:
                        continue
                    counted.add(outcome.sha256)
                    summary.images += 1
                    if outcome.sha256 in sent_before:
                        skipped += 1
                        continue
                    problem = _copy_evidence(outcome, local, central)
                    if problem:
                        summary.problems.append(problem)
                        continue
                    rechecked = recheck(outcome, definition, registry)
                    summary.rechecked += rechecked.status != outcome.status
                    entry = replace(entry, outcome=rechecked)
                batch.append(entry)
            stored, known = _commit(session, batch, definition, spool.centre, push_id, skipped, on_retry)
            summary.stored += stored
            summary.known += known + skipped
            sent_before.update(e.outcome.sha256 for e in batch if e.outcome.sha256)
            if on_progress:
                on_progress(len(chunk))
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    _finish_push(store, push_id)
    summary.seconds = time.perf_counter() - started
    return summary


def _chunks(items: list[Entry], size: int) -> Iterator[list[Entry]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _copy_evidence(outcome: FileOutcome, local: EvidenceStore, central: EvidenceStore) -> str | None:
    """The image's bytes (and, for a page, its whole file's) into the central store, their
    hash checked on the way; a reason when the spool lacks them or they were altered."""
    assert outcome.sha256 is not None
    wanted = [outcome.sha256]
    source = (outcome.facts.metadata if outcome.facts else {}).get("source_sha256")
    if isinstance(source, str):
        wanted.append(source)
    for sha in wanted:
        if central.has(sha):
            continue
        try:
            central.put(local.read(sha), sha)
        except (OSError, ValueError) as exc:
            return (
                f"{outcome.file}: falta su evidencia {sha[:12]} en la carpeta, o fue alterada; no se envió: "
                "vuelva a escanear el archivo en ella / the spool's evidence is missing or altered "
                f"({exc!r:.80}); not pushed: scan the file into the spool again"
            )
    return None


def _commit(
    session: Session,
    batch: list[Entry],
    definition: ElectionDefinition,
    centre: str,
    push_id: int,
    skipped: int,
    on_retry: Callable[[str], None] | None,
) -> tuple[int, int]:
    """Record one batch and who sent it, whole or not at all: (new images, images the store
    had; ``skipped`` more it had from this centre are counted with these in the push's row).
    Run again when another writer got in the way (as a scan's batches are)."""

    def work() -> tuple[int, int]:
        stored = known = 0
        stamp = now()
        for entry in batch:
            outcome = entry.outcome
            sha = outcome.duplicate_of or outcome.sha256
            if outcome.duplicate_of and session.get(Image, sha) is None:
                continue  # a second name of an image that did not arrive (its problem is said)
            recorded = record_outcome(session, outcome, definition, cause="push")
            if outcome.duplicate_of:
                continue  # a second name: the image was counted where it was first seen
            if recorded.duplicate_of:
                known += 1
            else:
                stored += 1
            exists = session.get(CentreImage, (sha, centre))
            if exists is None:
                session.add(
                    CentreImage(
                        sha256=sha, centre=centre, push_id=push_id, read_at=entry.read_at, pushed_at=stamp
                    )
                )
        session.flush()
        session.execute(
            update(CentrePush)
            .where(CentrePush.id == push_id)
            .values(images=CentrePush.images + stored, known=CentrePush.known + known + skipped)
        )
        return stored, known

    return commit_retrying(session, work, on_retry, RETRIES)


def _start_push(store: Store, centre: str) -> int:
    with store.session() as session:
        push_id = session.execute(
            insert(CentrePush).returning(CentrePush.id),
            [
                {
                    "centre": centre,
                    "host": socket.gethostname()[:255],
                    "started_at": now(),
                    "version": __version__,
                    "images": 0,
                    "known": 0,
                }
            ],
        ).scalar_one()
        session.commit()
        return int(push_id)


def _finish_push(store: Store, push_id: int) -> None:
    with store.session() as session:
        session.execute(update(CentrePush).where(CentrePush.id == push_id).values(finished_at=now()))
        session.commit()


@dataclass(frozen=True)
class CentreRow:
    centre: str
    pushes: int
    images: int
    first_read: datetime | None
    last_push: datetime | None


def centres(session: Session) -> list[CentreRow]:
    """What each centre sent: its pushes, its images, when it read the first, when it last pushed."""
    from sqlalchemy import func

    pushes: dict[str, int] = {
        name: n
        for name, n in session.execute(select(CentrePush.centre, func.count()).group_by(CentrePush.centre))
    }
    rows = session.execute(
        select(
            CentreImage.centre,
            func.count(),
            func.min(CentreImage.read_at),
            func.max(CentreImage.pushed_at),
        ).group_by(CentreImage.centre)
    ).all()
    seen = {r[0]: r for r in rows}
    return [
        CentreRow(
            name,
            pushes.get(name, 0),
            seen[name][1] if name in seen else 0,
            seen[name][2] if name in seen else None,
            seen[name][3] if name in seen else None,
        )
        for name in sorted(set(pushes) | set(seen))
    ]
