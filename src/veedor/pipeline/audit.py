"""``veedor verify``: rebuild everything from the raw evidence and say exactly what differs.

The shared part: the :class:`Difference` records, reading images again read-only, the log's
entries indexed. :mod:`~veedor.pipeline.audit_numbers` compares numbers, tallies, CSV files
and manifests; :mod:`~veedor.pipeline.audit_db` (with :mod:`~veedor.pipeline.audit_mesas`)
audits a database with its evidence store; :mod:`~veedor.pipeline.audit_published` (with
:mod:`~veedor.pipeline.audit_log`) a copy of the published open data alone.

Every comparison says what follows from the evidence (``expected``) and what the checked
thing says (``found``); the ``kind`` names the rule (docs/verify.md lists them).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from veedor import tlog
from veedor.capture.evidence import remove_store
from veedor.definitions import ElectionDefinition
from veedor.model import Copy, FileOutcome
from veedor.verify.checks import RegistryView
from veedor.verify.mesa import SeenCopy

Progress = Callable[[str], None]
Mesa = tuple[str, int]


@dataclass(frozen=True)
class Difference:
    kind: str
    where: str
    expected: Any
    found: Any
    detail: str = ""


@dataclass(frozen=True)
class Note:
    """Something an auditor should know that is not a difference (an engine of another
    version, which keys were trusted, a public copy too degraded to read)."""

    kind: str
    where: str
    detail: str


@dataclass
class Audit:
    differences: list[Difference] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)
    """What was checked, counted: images re-read, mesas, log entries, files…"""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.differences

    def differ(self, kind: str, where: str, expected: Any, found: Any, detail: str = "") -> None:
        self.differences.append(Difference(kind, where, expected, found, detail))

    def note(self, kind: str, where: str, detail: str) -> None:
        self.notes.append(Note(kind, where, detail))

    def count(self, what: str, n: int = 1) -> None:
        self.checked[what] = self.checked.get(what, 0) + n

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "differences": [asdict(d) for d in self.differences],
            "notes": [asdict(n) for n in self.notes],
            "seconds": round(self.seconds, 2),
        }


def code(mesa: Mesa) -> str:
    return f"{mesa[0]}.{mesa[1]:02d}"


# -- reading again ---------------------------------------------------------------------------


def reread(
    paths: Mapping[str, str],
    definition: ElectionDefinition,
    *,
    registry: RegistryView | None = None,
    qr_only: Iterable[str] = (),
    workers: int | None = None,
    progress: Progress | None = None,
) -> dict[str, FileOutcome]:
    """Read each file (path → the SHA-256 it stands for) again with this veedor's engines, on
    all cores. The readers store what they read: they get a scratch store, deleted after, so
    nothing is written anywhere else. ``qr_only``: the SHA-256 of images first read without
    the print cross-check (``--qr-only``), read the same way again."""
    from veedor.pipeline.scan import _run
    from veedor.pipeline.worker import WorkerContext

    skip_print = set(qr_only)
    groups = {flag: [p for p, sha in paths.items() if (sha in skip_print) != flag] for flag in (True, False)}
    out: dict[str, FileOutcome] = {}
    scratch = Path(tempfile.mkdtemp(prefix="veedor-verify-"))
    step = max(1, len(paths) // 20)
    try:
        for cross_check, group in groups.items():
            if not group:
                continue
            ctx = WorkerContext(
                definition_id=definition.id,
                evidence_root=str(scratch / "ev"),
                registry=registry or RegistryView(),
                known=frozenset(),  # every image is read again
                cross_check=cross_check,
            )
            for outcome in _run(group, ctx, workers):
                path = outcome.file.split("#page=")[0]
                out.setdefault(paths.get(path, path), outcome)
                if progress and (len(out) % step == 0 or len(out) == len(paths)):
                    progress(f"releídas / re-read {len(out):,}/{len(paths):,} imágenes / images")
    finally:
        remove_store(scratch / "ev")
        remove_store(scratch)
    return out


def seen_from(sha: str, copy: Copy) -> SeenCopy:
    """A copy read just now, as the mesa rule sees it (as ``records.seen_copy`` a stored one)."""
    return SeenCopy(
        sha,
        copy.grade,
        tuple(copy.votes),
        copy.nulos,
        tuple(sorted(copy.extra.items())),
        copy.source,
        tuple(copy.printed) if copy.printed is not None else None,
        copy.printed_nulos,
    )


def other_version(recorded_veedor: str | None, recorded_engine: str | None, engine: str | None) -> str | None:
    """Why a reading is not comparable number for number: read by another veedor, or by the
    same engine in another version ("zxing-cpp 2.2.0" then, "zxing-cpp 3.1.1" now)."""
    from veedor import __version__

    if recorded_veedor and recorded_veedor != __version__:
        return f"veedor {recorded_veedor} → {__version__}"
    same_engine = recorded_engine and engine and recorded_engine.split(" ")[0] == engine.split(" ")[0]
    if same_engine and recorded_engine != engine:
        return f"{recorded_engine} → {engine}"
    return None


# -- the log ---------------------------------------------------------------------------------


@dataclass
class LogIndex:
    """The log's entries by what they are about: the first ``image`` entry and the last
    ``reading`` entry of each image, every reading naming a mesa, the last ``mesa`` and
    ``review_decision`` entry of each mesa."""

    size: int = 0
    images: dict[str, dict[str, Any]] = field(default_factory=dict)
    readings: dict[str, dict[str, Any]] = field(default_factory=dict)
    mesa_readings: dict[Mesa, list[dict[str, Any]]] = field(default_factory=dict)
    mesas: dict[Mesa, dict[str, Any]] = field(default_factory=dict)
    decisions: dict[Mesa, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, entries: Iterable[tuple[int, bytes]], audit: Audit) -> LogIndex:
        index = cls()
        for seq, data in entries:
            index.size += 1
            try:
                body = tlog.parse(data)
                if not isinstance(body, dict) or not isinstance(body.get("kind"), str):
                    raise ValueError("not an object with a kind")
                index._add(seq, body)
            except (ValueError, TypeError, KeyError) as exc:
                audit.differ("log_entry", f"log:entry:{seq}", "canonical JSON", None, str(exc)[:200])
        audit.count("log_entries", index.size)
        return index

    def _add(self, seq: int, body: dict[str, Any]) -> None:
        kind, body = body["kind"], {**body, "seq": seq}
        if kind == "image":
            self.images.setdefault(_text(body["sha256"]), body)
        elif kind == "reading":
            self.readings[_text(body["image"])] = body
            if isinstance(body.get("mesa"), dict):
                self.mesa_readings.setdefault(_mesa(body["mesa"]), []).append(body)
        elif kind == "mesa":
            self.mesas[_mesa(body)] = body
        elif kind == "review_decision":
            self.decisions[_mesa(body)] = body


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not text")
    return value


def _mesa(body: Mapping[str, Any]) -> Mesa:
    centre, mesa = body.get("centre"), body.get("mesa")
    if not isinstance(centre, str) or isinstance(mesa, bool) or not isinstance(mesa, int):
        raise ValueError("an entry about a mesa without its centre and number")
    return centre, mesa


def logged_reading(entry: dict[str, Any], ballot: int) -> dict[str, Any]:
    """A ``reading`` entry as the database would hold it (a copy only with an accepted
    reading and every ballot line)."""
    mesa, votes = entry.get("mesa"), entry.get("votes")
    stored = entry.get("accepted") is not None and isinstance(votes, list) and len(votes) == ballot
    return {
        "status": entry.get("status"),
        "grade": entry.get("grade"),
        "mesa": (mesa.get("centre"), mesa.get("mesa")) if stored and isinstance(mesa, dict) else None,
        "votes": votes if stored else None,
        "nulos": entry.get("nulos") if stored else None,
    }
