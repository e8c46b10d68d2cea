"""``veedor verify`` against the scan itself, in the same run: the real actas and a drill.

Run:  PYTHONPATH=src python bench/bench_verify.py [--mesas 1000] [--workers 2] [--skip-drill]

Printed, for the 23 real actas (``samples/actas``) and for a drill of ``--mesas`` V1 mesas
(rendered, scanner profile, print cross-check on):
- the scan's wall time (``scan_paths``; for the drill, its scan stage alone, not the rendering);
- ``verify`` with the database (every image read again, every mesa and tally rebuilt, the log
  and an export compared) and its ratio to the scan;
- ``verify --published`` on the static site written from it (real actas only: the site of a
  1,000-mesa drill is the same work per image) and its ratio;
- the differences found (must be 0 on an untouched scan) and the notes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from veedor.definitions import load_definition
from veedor.pipeline.audit import Audit
from veedor.pipeline.audit_db import verify_database
from veedor.pipeline.audit_published import verify_published
from veedor.pipeline.scan import scan_paths
from veedor.publish.export import export
from veedor.store import Store, open_store

ROOT = Path(__file__).resolve().parents[1]
ACTAS = ROOT / "samples" / "actas"
V1 = ROOT / "samples" / "results" / "RESULTADOS_2024_CSV_V1.csv"
T = TypeVar("T")


def timed(work: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def summary(audit: Audit) -> dict[str, object]:
    return {
        "differences": len(audit.differences),
        "kinds": sorted({d.kind for d in audit.differences}),
        "notes": sorted({n.kind for n in audit.notes}),
        "checked": audit.checked,
    }


def checkpoint(store: Store) -> str:
    """Sign the log's head as ``veedor log checkpoint`` does; returns the verifier key."""
    from veedor.store import evidence_log as log
    from veedor.tlog import Checkpoint, generate_key, sign

    signer, verifier = generate_key("bench.veedor")
    with store.session() as session:
        head = log.head(session)
        note = sign(Checkpoint("bench.veedor", head.size, head.root).format(), signer)
        log.add_checkpoint(session, note, head.size, head.root)
        log.remember_setting_line(session, log.VKEYS, verifier)
        session.commit()
    return verifier


def real(workers: int, out: Path) -> dict[str, object]:
    definition = load_definition("ve-2024-presidential")
    store = open_store(str(out / "real.db"))
    evidence = out / "real-ev"
    images = sorted(ACTAS.glob("*/*.jpg"))
    _, scan_s = timed(lambda: scan_paths(images, store, evidence_root=evidence, workers=workers))
    with store.session() as session:
        folder = export(session, definition, out / "exports").folder
    audit, verify_s = timed(
        lambda: verify_database(store, definition, evidence, exports=[folder], workers=workers)
    )
    from veedor.web.static_site import write_static

    key = checkpoint(store)
    _, publish_s = timed(lambda: write_static(store, definition, evidence, out / "site", ["es"]))
    published, published_s = timed(
        lambda: verify_published(out / "site", definition, vkeys=[key], workers=workers)
    )
    return {
        "images": len(images),
        "scan_s": round(scan_s, 2),
        "verify_s": round(verify_s, 2),
        "verify_over_scan": round(verify_s / scan_s, 2),
        "publish_s": round(publish_s, 2),
        "verify_published_s": round(published_s, 2),
        "verify_published_over_scan": round(published_s / scan_s, 2),
        "database": summary(audit),
        "published": summary(published),
    }


def drill(mesas: int, workers: int, out: Path) -> dict[str, object]:
    from veedor.simulate.drill import run_drill
    from veedor.simulate.tables import read_table

    definition = load_definition("ve-2024-presidential")
    specs = itertools.islice(read_table(V1, definition, 0), mesas)
    report = run_drill(specs, out / "drill", workers=workers, keep_images=True, batch=max(mesas, 1))
    store = open_store(str(out / "drill" / "drill.db"))
    audit, verify_s = timed(
        lambda: verify_database(store, definition, out / "drill" / "evidence", workers=workers)
    )
    return {
        "mesas": report.mesas,
        "ok": report.by_status.get("ok", 0),
        "scan_s": round(report.scan_seconds, 1),
        "verify_s": round(verify_s, 1),
        "verify_over_scan": round(verify_s / report.scan_seconds, 2),
        "database": summary(audit),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mesas", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-drill", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as scratch:
        out = Path(scratch)
        result: dict[str, object] = {"workers": args.workers, "real_actas": real(args.workers, out)}
        print(json.dumps(result["real_actas"], indent=1), file=sys.stderr)
        if not args.skip_drill:
            result["drill"] = drill(args.mesas, args.workers, out)
        from veedor.capture.evidence import remove_store

        for store in ("real-ev", "drill/evidence"):
            remove_store(out / store)  # read-only folders: opened before the scratch goes
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
