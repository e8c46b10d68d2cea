"""A definition's own demo, for an election whose actas people settle (``veedor demo
--definition hn-2025-presidential``): the authority's per-mesa table as registry and official
figures, the real actas scanned, each settled by two demo reviewers typing blind the values read
off the sheet, the tally, and the comparison with the authority mesa by mesa.

Everything it needs is named by the definition's ``demo`` section (a folder of the bundled
samples); the two reviewers stand for people at the review desk and type through the same
library the desk uses (:func:`veedor.store.review.enter`), so their entries are counted exactly
as people's are (source ``people``).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from veedor.definitions import ElectionDefinition
from veedor.ingest.official import OfficialImport, import_official
from veedor.ingest.registry import RegistrySummary, import_registry
from veedor.pipeline.scan import ScanSummary, scan_paths
from veedor.store import Store, open_store
from veedor.store.accounts import add_user
from veedor.store.review import enter
from veedor.tally.compare import compare

REVIEWERS = ("demo-revisor-1", "demo-revisor-2")


class DemoUnavailable(LookupError):
    """The definition brings no demo, or its data is not where it says."""


@dataclass
class MesaCheck:
    code: str
    acta_id: str | None
    status: str
    settled: bool
    official: dict[str, int | None] = field(default_factory=dict)
    verified: dict[str, int] = field(default_factory=dict)

    @property
    def differences(self) -> dict[str, tuple[int, int | None]]:
        """Candidate → (verified, official) where they differ or the authority gave nothing."""
        return {
            c: (v, self.official.get(c))
            for c, v in self.verified.items()
            if self.official.get(c) is None or self.official.get(c) != v
        }


@dataclass
class DeskDemo:
    db: Path
    report: Path
    registry: RegistrySummary
    official: OfficialImport
    scan: ScanSummary
    mesas: list[MesaCheck]


def demo_data(definition: ElectionDefinition, samples: Path) -> tuple[dict[str, Any], Path]:
    spec = definition.raw.get("demo")
    if not isinstance(spec, dict):
        raise DemoUnavailable(f"la definición {definition.id} no trae demo / brings no demo")
    folder = samples / spec["folder"]
    if not (folder / spec["actas"]).is_dir():
        raise DemoUnavailable(f"no se encuentran los datos de la demo en {folder} / demo data not found")
    return spec, folder


def run_desk_demo(
    out_dir: Path, definition: ElectionDefinition, samples: Path, workers: int | None = None
) -> DeskDemo:
    spec, folder = demo_data(definition, samples)
    db, report = out_dir / "veedor.db", out_dir / "scan-report.jsonl"
    store = open_store(str(db))
    official_file = folder / spec["official"]
    with store.session() as session:
        registry = import_registry(session, official_file, definition)
        official = import_official(session, official_file, definition, key=spec["official_key"])
        session.commit()
    with report.open("w", encoding="utf-8") as handle:
        scanned = scan_paths(
            [folder / spec["actas"]],
            store,
            definition_id=definition.id,
            evidence_root=out_dir / "evidence",
            workers=workers,
            report=handle,
        )
    lines = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    by_file = {Path(line["file"]).name: line for line in lines}
    checks = _settle(store, definition, folder / spec["entries"], spec, by_file)
    with store.session() as session:
        comparison = compare(session, definition, spec["official_key"], "scan", "mesa")
    official_of: dict[tuple[str, str], int | None] = {
        (r.code, r.candidate): r.official for r in comparison.rows
    }
    verified_of = {(r.code, r.candidate): r.verified for r in comparison.rows}
    for check in checks:
        for code in definition.candidate_codes:
            check.official[code] = official_of.get((check.code, code))
            check.verified[code] = verified_of.get((check.code, code), 0)
    store.engine.dispose()
    return DeskDemo(db, report, registry, official, scanned, checks)


def _settle(
    store: Store, definition: ElectionDefinition, entries: Path, spec: dict[str, Any], by_file: dict
) -> list[MesaCheck]:
    """Two demo reviewers each type every acta's values (``entries``: one JSON line per image)."""
    fields = spec.get("entry_fields", {})
    checks = []
    with store.session() as session:
        people = [add_user(session, name, "reviewer", secrets.token_urlsafe(16)) for name in REVIEWERS]
        for line in entries.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            scanned = by_file.get(row["file"])
            if scanned is None or scanned.get("mesa") is None:
                continue
            code = f"{scanned['mesa']['centro']}.{scanned['mesa']['mesa']:02d}"
            seen = row[spec.get("entry_values", "values")]
            values = {
                "votes": [seen[pos.acronym] for pos in definition.ballot],
                "nulos": seen[fields.get("nulos", "nulos")],
                "blank": seen[fields.get("blank", "blank")],
            }
            results = [enter(session, definition, person, code, values, channel="demo") for person in people]
            checks.append(MesaCheck(code, scanned.get("acta_id"), scanned["status"], results[-1].settled))
        session.commit()
    return checks
