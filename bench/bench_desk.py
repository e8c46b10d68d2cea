"""Benchmark: simulated people settle what the machine left, with a saboteur among them.

Run:  PYTHONPATH=src:bench python bench/bench_desk.py [--seed 2025] [--families dark,blur,...]

Degraded variants of the real actas (the reading benchmark's generator, a held-back seed by
default) are scanned, one family per database so that each mesa has one copy. Every mesa
the machine did not count (review, conflict, unconfirmed) is then put before simulated
reviewers through the review desk's library (``veedor.store.review``): honest ones type the
ground truth; a saboteur types it too on some actas (to look honest) and moves 50 votes from
one line to another on the rest; a supervisor types the truth where reviewers disagree.

Prints per family: mesas left by the machine, settled by people, wrong numbers counted (the
target is 0), entries typed, whether the saboteur was flagged and how many settlements were
withdrawn and settled again without them.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

import bench_reading as br
from bench_copies import make_folder
from veedor.pipeline.scan import scan_paths
from veedor.store import open_store
from veedor.store.accounts import ReviewError, add_user, is_flagged
from veedor.store.review import enter, take, tasks
from veedor.store.schema import ActaRecord, ReviewDecision, User

HARD = "dark,blur,motion_blur,phone_full,low_res,qr_cut,finger_qr,crumpled,tamper,tamper1+blur"
HONEST = ("ana", "beto", "caro", "dani", "eva")


def values(votes: tuple[int, ...], nulos: int) -> dict:
    return {"votes": list(votes), "nulos": nulos, "blank": 0}


def sabotaged(votes: tuple[int, ...]) -> tuple[int, ...]:
    moved = list(votes)
    take_from = max(range(len(moved)), key=lambda i: moved[i])
    moved[take_from] -= min(50, moved[take_from])
    moved[(take_from + 1) % len(moved)] += 50
    return tuple(moved)


def desk(db: Path, truths: dict[tuple[str, int], br.Truth]) -> dict[str, float]:
    store = open_store(str(db))
    definition = br.DEFINITION
    with store.session() as session:
        for name in (*HONEST, "sab"):
            add_user(session, name, "reviewer", "secret-" + name)
        add_user(session, "sup", "supervisor", "secret-sup")
        session.commit()
        left = tasks(session, definition)
        users = {u.name: u for u in session.scalars(select(User))}
        entries, sab_turns, started = 0, 0, time.perf_counter()
        order = ["sab", *HONEST]
        while True:
            progress = False
            for name in order:
                task = take(session, definition, users[name])
                if task is None:
                    continue
                centre, _, number = task.code.rpartition(".")
                truth = truths[(centre, int(number))]
                assert truth.votes is not None
                typed = truth.votes
                if name == "sab":
                    sab_turns += 1
                    typed = truth.votes if sab_turns % 3 == 1 else sabotaged(truth.votes)
                try:
                    enter(session, definition, users[name], task.code, values(typed, truth.nulos))
                    entries += 1
                    progress = True
                except ReviewError:  # flagged meanwhile: their turn is over
                    order.remove(name)
                session.commit()
            if not progress:
                break
        for task in tasks(session, definition):  # what reviewers could not settle
            centre, _, number = task.code.rpartition(".")
            truth = truths[(centre, int(number))]
            assert truth.votes is not None
            enter(session, definition, users["sup"], task.code, values(truth.votes, truth.nulos))
            entries += 1
        session.commit()
        seconds = time.perf_counter() - started
        wrong = 0
        for record in session.scalars(select(ActaRecord).where(ActaRecord.status == "ok")):
            truth = truths[(record.centre, record.mesa)]
            wrong += (tuple(record.votes or ()), record.nulos) != (truth.votes, truth.nulos)
        withdrawn = session.scalar(
            select(func.count()).select_from(ReviewDecision).where(ReviewDecision.kind == "withdrawn")
        )
        open_after = len(tasks(session, definition))
        flagged = is_flagged(session, users["sab"].id)  # also when flagged by their last entry
    return {
        "left": len(left),
        "settled": len(left) - open_after,
        "wrong": wrong,
        "entries": entries,
        "flagged": flagged,
        "withdrawn": withdrawn or 0,
        "ms_per_entry": 1000 * seconds / max(1, entries),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=2025, help="2024: tuning; else held back")
    ap.add_argument("--families", default=HARD)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    truths_by_rel = br._truths()
    truths = {t.key: t for t in truths_by_rel.values() if t.votes is not None}
    work = Path(tempfile.mkdtemp(prefix="bench-desk-"))
    print(f"seed {args.seed}; work in {work}")
    print(
        "| family | images | left by the machine | settled by people | wrong counted | entries | saboteur flagged | withdrawn | ms/entry |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    totals = {"left": 0, "settled": 0, "wrong": 0}
    for family in args.families.split(","):
        jobs = [
            br.Job(rel, family, 0, br.seed_of(rel, family, 0, args.seed))
            for rel, truth in sorted(truths_by_rel.items())
            if truth.votes is not None
        ]
        folder = work / family
        files = make_folder(jobs, folder / "in", args.workers)
        images = [p for p in files if "/original/" not in p]
        db = folder / "desk.db"
        scan_paths(
            images,
            open_store(str(db)),
            evidence_root=folder / "ev",
            workers=args.workers,
            report=io.StringIO(),
        )
        row = desk(db, truths)
        for key in totals:
            totals[key] += int(row[key])
        print(
            f"| {family} | {len(images)} | {row['left']} | {row['settled']} | {row['wrong']} | {row['entries']} "
            f"| {'yes' if row['flagged'] else 'no'} | {row['withdrawn']} | {row['ms_per_entry']:.0f} |",
            flush=True,
        )
    print(
        f"\nall families: {totals['settled']} of {totals['left']} settled by people; wrong numbers counted: {totals['wrong']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
