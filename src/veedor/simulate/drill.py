"""An election-night rehearsal: render actas from a results table, scan, tally, compare.

The drill works in batches (render a batch, scan it, delete its images unless asked to
keep them) so that disk and memory stay bounded for a national run of 30,000 actas. Every
file the scanner marks ``ok`` is compared with the ground truth it was rendered from: a
single difference there is the worst possible bug, and the report says so.
"""

from __future__ import annotations

import itertools
import json
import os
import resource
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from veedor.capture.evidence import remove_store
from veedor.definitions.schema import load_definition
from veedor.model import FileOutcome, Grade
from veedor.simulate.generate import SimOptions, simulate
from veedor.simulate.render import ActaSpec


@dataclass
class DrillReport:
    mesas: int = 0
    rendered: int = 0
    render_seconds: float = 0.0
    scan_seconds: float = 0.0
    by_status: dict[str, int] = field(default_factory=lambda: {"ok": 0, "review": 0, "rejected": 0})
    by_profile_status: dict[str, dict[str, int]] = field(default_factory=dict)
    tampered: int = 0
    tampered_ok: int = 0
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    throughput: list[tuple[float, int]] = field(default_factory=list)
    expected_ok_totals: dict[str, int] = field(default_factory=dict)
    expected_ok_nulos: int = 0
    tally_totals: dict[str, int] = field(default_factory=dict)
    tally_nulos: int = 0
    tally_actas: int = 0
    peak_rss_mb: float = 0.0
    peak_parent_mb: float = 0.0
    peak_worker_mb: float = 0.0
    workers: int = 1

    @property
    def tally_equal(self) -> bool:
        return self.tally_totals == self.expected_ok_totals and self.tally_nulos == self.expected_ok_nulos

    @property
    def passed(self) -> bool:
        return not self.mismatches and self.tally_equal

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "mismatches"}
        data["mismatches"] = self.mismatches[:50]
        data["mismatch_count"] = len(self.mismatches)
        data["tally_equal"] = self.tally_equal
        data["passed"] = self.passed
        return data


def peak_rss_mb() -> float:
    """Peak resident memory of this process and of its finished children (Linux: KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024


class DescendantsPeak:
    """The largest peak resident memory (VmHWM) of any process below this one, looked at
    every ``every`` seconds while it runs. The scan's readers are children of a forkserver,
    not of this process, so getrusage's RUSAGE_CHILDREN never sees them; a reader's peak
    reached less than ``every`` seconds before it exits can be missed. Linux only (/proc):
    elsewhere it stays 0."""

    def __init__(self, every: float = 0.5) -> None:
        self.every = every
        self.mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> DescendantsPeak:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while True:
            self.mb = max([self.mb, *(_hwm_mb(pid) for pid in _descendants(os.getpid()))])
            if self._stop.wait(self.every):
                return


def _descendants(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            # "pid (name) state ppid …": the name may hold spaces and parentheses
            ppid = int(entry.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        parents.setdefault(ppid, []).append(int(entry.parent.name))
    found, todo = [], [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def _batches(specs: Iterable[ActaSpec], size: int) -> Iterator[list[ActaSpec]]:
    it = iter(specs)
    while batch := list(itertools.islice(it, size)):
        yield batch


def run_drill(
    specs: Iterable[ActaSpec],
    out: str | Path,
    *,
    definition_id: str = "ve-2024-presidential",
    profile: str = "scanner",
    mix: dict[str, float] | None = None,
    seed: int = 0,
    tamper_rate: float = 0.0,
    workers: int | None = None,
    batch: int = 500,
    keep_images: bool = False,
    db: str | None = None,
    on_progress: Callable[[str, int], None] | None = None,
    cross_check: bool = True,
) -> DrillReport:
    """Render, scan and tally ``specs``; ``on_progress(stage, n)`` is called per acta."""
    from veedor.pipeline.scan import scan_paths
    from veedor.store import open_store
    from veedor.tally import PRELIMINARY, tally

    definition = load_definition(definition_id)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    store = open_store(db or str(out / "drill.db"))
    evidence = out / "evidence"
    report = DrillReport(workers=workers or 1)
    report.expected_ok_totals = dict.fromkeys(definition.candidate_codes, 0)
    started = time.perf_counter()
    scanned = 0

    def on_outcome(outcome: FileOutcome) -> None:
        nonlocal scanned
        scanned += 1
        status = outcome.status.value
        report.by_status[status] = report.by_status.get(status, 0) + 1
        truth = json.loads(Path(outcome.file).with_suffix(".json").read_text(encoding="utf-8"))
        per = report.by_profile_status.setdefault(truth["profile"], {})
        per[status] = per.get(status, 0) + 1
        report.tampered += int(truth["tampered"])
        # With --qr-only nothing is ok: the drill then checks the preliminary figure, the QR
        # claims (an election night's fast count).
        preliminary = not cross_check and outcome.copy is not None and outcome.copy.grade is Grade.QR_ONLY
        if status == "ok" or preliminary:
            _compare(outcome, truth, report, definition.totals_by_candidate)
        if on_progress:
            on_progress("scan", 1)
        if scanned % 50 == 0:
            report.throughput.append((round(time.perf_counter() - started, 2), scanned))

    with DescendantsPeak() as readers:  # the scan's readers are not this process's children
        for number, chunk in enumerate(_batches(specs, batch)):
            folder = out / "images" / f"batch{number:04d}"
            opts = SimOptions(
                out=str(folder),
                definition_id=definition_id,
                profile=profile,
                mix=mix,
                seed=seed,
                tamper_rate=tamper_rate,
            )
            t0 = time.perf_counter()
            sim = simulate(
                chunk, opts, workers, on_row=(lambda _row: on_progress("render", 1)) if on_progress else None
            )
            report.render_seconds += time.perf_counter() - t0
            report.rendered += sim.count
            report.mesas += len(chunk)
            t1 = time.perf_counter()
            images = sorted(str(p) for p in folder.glob(f"*.{opts.image_format}"))
            scan_paths(
                images,
                store,
                definition_id=definition_id,
                evidence_root=evidence,
                workers=workers,
                on_outcome=on_outcome,
                cross_check=cross_check,
            )
            report.scan_seconds += time.perf_counter() - t1
            if not keep_images:
                shutil.rmtree(folder, ignore_errors=True)
                remove_store(evidence)
    report.throughput.append((round(time.perf_counter() - started, 2), scanned))
    with store.session() as session:
        result = tally(session, definition, "national", "scan" if cross_check else PRELIMINARY)
    if result.rows:
        row = result.rows[0]
        report.tally_totals = dict(row.votes)
        report.tally_nulos = row.nulos
        report.tally_actas = row.actas
    else:
        report.tally_totals = dict.fromkeys(definition.candidate_codes, 0)
    report.peak_rss_mb = max(peak_rss_mb(), readers.mb)
    report.peak_parent_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report.peak_worker_mb = max(readers.mb, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    (out / "drill-report.json").write_text(
        json.dumps(report.as_dict(), indent=1, ensure_ascii=False), encoding="utf-8"
    )
    return report


def _compare(
    outcome: FileOutcome,
    truth: dict[str, Any],
    report: DrillReport,
    totals: Callable[[tuple[int, ...]], dict[str, int]],
) -> None:
    acta = outcome.acta
    expected = tuple(truth["votes"])
    if truth["tampered"]:
        report.tampered_ok += 1
    if (
        acta is None
        or acta.votes != expected
        or acta.nulos != truth["nulos"]
        or (acta.centre, acta.mesa) != (truth["centre"], truth["mesa"])
    ):
        report.mismatches.append(
            {
                "file": Path(outcome.file).name,
                "acta_id": truth["acta_id"],
                "tampered": truth["tampered"],
                "chain": truth["chain"],
                "read": list(acta.votes) if acta else None,
                "expected": list(expected),
            }
        )
        return
    for code, value in totals(expected).items():
        report.expected_ok_totals[code] = report.expected_ok_totals.get(code, 0) + value
    report.expected_ok_nulos += int(truth["nulos"])
