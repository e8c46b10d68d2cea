"""Many copies of one acta in one database: are the mesas counted, and counted right?

Run:  PYTHONPATH=src python bench/bench_copies.py [--seed 2025] [--per-family 1] [--workers 2]
      PYTHONPATH=src python bench/bench_copies.py --throughput-only

A data room never gets one image per mesa. Every real acta's original scan, and every
degraded and forged variant that ``bench_reading.py`` makes of it (same families, same
seeds: ``--seed 2024`` is the reader's tuning set, any other seed is held back), go into
**one** database through ``veedor scan``, as a data room would take them in. Then, per mesa
(ground truth: the QR texts and, for the QR-less acta, the V1 table):

- counted with exactly the right numbers / mesas with at least one legible copy;
- counted WRONG (must be 0); in conflict (must be 0: no second genuine sheet exists here);
- mesas with a forged copy that carry the alert (must be all of them);

beside the per-file figures (ok exact, ok wrong, review per family), and the throughput of
``veedor scan`` on QR-only images with and without copies of the same mesas, in the same run
(re-combining a mesa reads only its own copies).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from multiprocessing import get_context
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2
import segno

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sqlalchemy import select

import bench_reading as br
from veedor.pipeline.scan import scan_paths
from veedor.store import open_store
from veedor.store.schema import ActaRecord

TUNING_SEED = 2024


def variant_path(folder: Path, job: br.Job) -> Path:
    return folder / job.family / f"{job.k}-{Path(job.rel).stem}.png"


def _write_variant(job: br.Job) -> tuple[br.Job, str | None, str | None]:
    """Write one variant (PNG, lossless) to the folder named by the job; (job, path, forged QR)."""
    try:
        img, forged = br._image(job)
    except ValueError as exc:  # tamper: no QR to paste over
        return job, None, str(exc)
    path = variant_path(_OUT, job)
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(".png", img)
    assert ok
    path.write_bytes(data.tobytes())
    return job, str(path), forged


_OUT = Path()


def _init(out: str) -> None:
    global _OUT
    cv2.setNumThreads(1)
    _OUT = Path(out)


def make_folder(jobs: list[br.Job], out: Path, workers: int, write: bool = True) -> dict[str, br.Job]:
    """Every variant as a file, plus every real acta's original scan, as bytes unchanged."""
    files: dict[str, br.Job] = {}
    if write:
        with get_context("fork").Pool(workers, initializer=_init, initargs=(str(out),)) as pool:
            for job, path, _forged in pool.imap_unordered(_write_variant, jobs, chunksize=4):
                if path is not None:
                    files[path] = job
    else:
        files = {str(variant_path(out, j)): j for j in jobs if variant_path(out, j).exists()}
    originals = out / "original"
    originals.mkdir(exist_ok=True)
    for rel in sorted({j.rel for j in jobs}):
        target = originals / Path(rel).name
        if write:
            target.write_bytes((br.ACTAS / rel).read_bytes())
        files[str(target)] = br.Job(rel, "original", 0, 0)
    return files


def mesa_figures(db: Path, files: dict[str, br.Job], report: Path) -> None:
    truths = br._truths()
    by_key = {t.key: (rel, t) for rel, t in truths.items()}
    lines = [json.loads(x) for x in report.read_text().splitlines() if x.strip()]
    legible_copy: dict[tuple[str, int], bool] = defaultdict(bool)
    forged_mesas: set[tuple[str, int]] = set()
    per_family: dict[str, Counter[str]] = defaultdict(Counter)
    genuine: set[str] = set()  # SHA-256 of the copies nobody forged
    for line in lines:
        job = files[line["file"]]
        key = truths[job.rel].key
        fam = job.family
        tampered = fam in br.TAMPER
        if not tampered and line["sha256"]:
            genuine.add(line["sha256"])
        if tampered:
            forged_mesas.add(key)
        leg = (not tampered) and (fam == "original" or br.legible(fam, job.seed))
        legible_copy[key] |= leg
        c = per_family[fam]
        c["n"] += 1
        c[line["status"]] += 1
        c[f"grade:{line['grade']}"] += 1
        acta = line["acta"]
        right = acta is not None and _exact_line(acta, truths[job.rel])
        if line["status"] == "ok":
            c["ok_exact" if right and not tampered else "ok_wrong" if not right else "ok_true"] += 1
    store = open_store(f"sqlite:///{db}")
    counted = wrong = conflict = review = unconfirmed = alerted = false_alerts = 0
    findings = []
    with store.session() as session:
        records = {(r.centre, r.mesa): r for r in session.scalars(select(ActaRecord))}
    for key, (rel, truth) in sorted(by_key.items()):
        r = records.get(key)
        if r is None:
            findings.append(f"no mesa record for {key} ({Path(rel).name})")
            continue
        if r.status == "ok":
            ok = _exact_mesa(r, truth)
            counted += ok
            wrong += not ok
            if not ok:
                findings.append(f"COUNTED WRONG {key} {Path(rel).name}: {r.votes} {r.nulos}")
        else:
            conflict += r.status == "conflict"
            review += r.status == "review"
            unconfirmed += r.status == "unconfirmed"
            findings.append(f"not counted {key} {Path(rel).name}: {r.status} {r.reason}")
        for alert in r.alerts or []:
            if alert["sha256"] in genuine:
                false_alerts += 1
                findings.append(f"alert from a genuine copy on {key}: {alert['kind']} {alert['sha256'][:12]}")
        if key in forged_mesas:
            has = bool(r.alerts)
            alerted += has
            if not has:
                findings.append(f"no alert on forged mesa {key} {Path(rel).name}")
    extra_mesas = [k for k in records if k not in by_key]
    legible_mesas = sum(1 for k in by_key if legible_copy[k])
    print(f"\n{len(lines)} files, {len(by_key)} real mesas, {len(extra_mesas)} other mesa records")
    print("\n| mesas | figure |\n|---|---|")
    print(f"| counted with exactly the right numbers | {counted} of {legible_mesas} with a legible copy |")
    print(f"| counted WRONG (must be 0) | {wrong} |")
    print(f"| conflict (must be 0) | {conflict} |")
    print(f"| review / unconfirmed | {review} / {unconfirmed} |")
    print(f"| mesas with a forged copy that carry the alert | {alerted} of {len(forged_mesas)} |")
    print(f"| alerts raised by a genuine copy (false alarms) | {false_alerts} |")
    if extra_mesas:
        print(
            f"| records for mesas that do not exist here (a misread id) | {len(extra_mesas)}: {extra_mesas} |"
        )
    print(
        "\n| family | files | ok | ok exact | ok WRONG | review | rejected | grades |\n|---|---|---|---|---|---|---|---|"
    )
    for fam, c in sorted(per_family.items()):
        grades = ", ".join(f"{k[6:]} {v}" for k, v in sorted(c.items()) if k.startswith("grade:"))
        print(
            f"| {fam} | {c['n']} | {c['ok']} | {c['ok_exact']} | {c['ok_wrong']} | {c['review']} | "
            f"{c['rejected']} | {grades} |"
        )
    for f in findings:
        print("  " + f)


def _exact_line(acta: dict, truth: br.Truth) -> bool:
    if (acta["centro"], acta["mesa"]) != truth.key or acta["nulos"] != truth.nulos:
        return False
    if truth.votes is not None:
        return tuple(acta["votes"]) == truth.votes
    return acta["totals"] == truth.totals


def _exact_mesa(r: ActaRecord, truth: br.Truth) -> bool:
    if r.nulos != truth.nulos or r.votes is None:
        return False
    if truth.votes is not None:
        return tuple(r.votes) == truth.votes
    return br.DEFINITION.totals_by_candidate(r.votes) == truth.totals


# -- throughput: the same scan with and without copies -----------------------------------------


def _qr_png(text: str) -> bytes:
    buffer = io.BytesIO()
    segno.make_qr(text, error="q").save(buffer, kind="png", scale=6, border=4)
    return buffer.getvalue()


def throughput(n: int, copies: int, workers: int) -> None:
    """``n`` QR-only images of ``n`` mesas, against ``n`` images of ``n / copies`` mesas."""
    rows = []
    with br.V1.open(encoding="utf-8-sig") as fh:
        import csv

        for row in csv.DictReader(fh):
            rows.append(row)
            if len(rows) >= n:
                break

    def payload(row: dict, variant: int) -> str:
        # The same numbers for every copy of a mesa; the serial at the end of the acta id
        # keeps the copies' bytes (SHA-256) apart, as two photos of one sheet would be.
        votes = [0] * len(br.DEFINITION.ballot)
        votes[0], votes[1] = int(row["EG"]), int(row["NM"])
        return (
            f"{row['CENTRO'].zfill(9)}.{int(row['MESA']):02d}.1.{variant + 1:04d}!"
            + ",".join(map(str, votes))
            + f"!{row['VOTOS_NULOS']}!0"
        )

    results = {}
    for label, mesas, per in (("no copies", n, 1), (f"{copies} copies per mesa", n // copies, copies)):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "in"
            folder.mkdir()
            for i, row in enumerate(rows[:mesas]):
                for v in range(per):
                    (folder / f"{i}-{v}.png").write_bytes(_qr_png(payload(row, v)))
            store = open_store(f"sqlite:///{tmp}/t.db")
            start = time.perf_counter()
            summary = scan_paths([folder], store, workers=workers, evidence_root=f"{tmp}/ev")
            wall = time.perf_counter() - start
            results[label] = summary.files / wall
            print(f"  {label}: {summary.files} files in {wall:.1f} s = {summary.files / wall:.1f} files/s")
    a, b = results.values()
    print(f"  ratio with copies / without: {b / a:.2f}")


def store_throughput(n: int, copies: int) -> None:
    """The writer alone (no reading): ``n`` outcomes of ``n`` mesas against ``n`` outcomes of
    ``n / copies`` mesas, each recorded and its mesa recombined as ``veedor scan`` does."""
    import hashlib

    from veedor.model import Copy, FileOutcome, Grade, Reading, Status
    from veedor.store.records import record_outcome

    positions = len(br.DEFINITION.ballot)
    rates = []
    for label, per in (("no copies", 1), (f"{copies} copies per mesa", copies)):
        with tempfile.TemporaryDirectory() as tmp:
            store = open_store(f"sqlite:///{tmp}/s.db")
            outcomes = []
            for i in range(n):
                mesa = i // per
                grade = Grade.CONFIRMED if i % per == 0 else (Grade.QR_ONLY, Grade.PARTIAL)[i % 2]
                copy = Copy(grade, f"{mesa:09d}.01.1.0001", f"{mesa:09d}", 1, (1,) * positions, 0)
                sha = hashlib.sha256(f"{label}{i}".encode()).hexdigest()
                reading = Reading("qr", "bench", "full", "x", 1.0)
                outcomes.append(FileOutcome(f"{i}.png", sha, Status.OK, None, readings=(reading,), copy=copy))
            start = time.perf_counter()
            with store.session() as session:
                for k, o in enumerate(outcomes, 1):
                    record_outcome(session, o, br.DEFINITION)
                    if k % 32 == 0:
                        session.commit()
                session.commit()
            wall = time.perf_counter() - start
            rates.append(n / wall)
            print(f"  {label}: {n} outcomes in {wall:.2f} s = {n / wall:.0f}/s")
    print(f"  ratio with copies / without: {rates[1] / rates[0]:.2f}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--seed", type=int, default=TUNING_SEED + 1, help=f"{TUNING_SEED}: tuning; else held back"
    )
    ap.add_argument("--per-family", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keep", default="", help="keep the files and the database in this folder")
    ap.add_argument("--families", default="", help="comma-separated subset")
    ap.add_argument("--throughput-only", action="store_true")
    ap.add_argument(
        "--evaluate-only",
        action="store_true",
        help="re-apply the mesa rule to the --keep folder's database (no reading) and report",
    )
    ap.add_argument("--throughput-files", type=int, default=400)
    args = ap.parse_args()

    if not args.throughput_only:
        truths = br._truths()
        families: tuple[str, ...] = (*br.deg.FAMILIES, *br.TAMPER)
        if args.families:
            families = tuple(f for f in families if f in args.families.split(","))
        jobs = [
            br.Job(rel, fam, k, br.seed_of(rel, fam, k, args.seed))
            for fam in families
            for rel in sorted(truths)
            for k in range(args.per_family)
            if not (fam in br.TAMPER and rel.endswith(br.QRLESS))
        ]
        work = Path(args.keep or tempfile.mkdtemp(prefix="bench-copies-"))
        work.mkdir(parents=True, exist_ok=True)
        split = "tuning" if args.seed == TUNING_SEED else "held back"
        print(f"seed {args.seed} ({split}): {len(jobs)} variants of {len(truths)} real actas + originals")
        start = time.perf_counter()
        files = make_folder(jobs, work / "in", args.workers, write=not args.evaluate_only)
        print(f"  written in {time.perf_counter() - start:.0f} s")
        db = work / "copies.db"
        report = work / "report.jsonl"
        if args.evaluate_only:
            from veedor.pipeline.rescan import rescan

            done = rescan(open_store(f"sqlite:///{db}"), combine_only=True)
            print(f"  mesa rule re-applied: {done.mesas_changed} mesas changed")
            mesa_figures(db, files, report)
            return 0
        for stale in work.glob("copies*"):
            stale.unlink() if stale.is_file() else None
        store = open_store(f"sqlite:///{db}")
        start = time.perf_counter()
        done = [0]

        def progress(_o: object) -> None:
            done[0] += 1
            if done[0] % 50 == 0:
                print(f"  {done[0]}/{len(files)} scanned", file=sys.stderr, flush=True)

        with report.open("w") as fh:
            summary = scan_paths(
                [work / "in"],
                store,
                workers=args.workers,
                report=fh,
                evidence_root=work / "evidence",
                on_outcome=progress,
            )
        wall = time.perf_counter() - start
        print(f"  scanned {summary.files} files in {wall:.0f} s ({summary.files / wall:.2f} files/s)")
        mesa_figures(db, files, report)
    print("\nthroughput, veedor scan on QR-only images, same run:")
    throughput(args.throughput_files, 5, args.workers)
    print("\nthroughput, the writer alone (record and recombine), same run:")
    store_throughput(4000, 20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
