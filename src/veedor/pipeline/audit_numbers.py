"""``veedor verify``'s comparisons: numbers line by line, tallies summed again, the verified
actas and tally CSV files, manifests and exports; each disagreement one :class:`Difference`."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from veedor.capture.evidence import file_sha256
from veedor.definitions import ElectionDefinition
from veedor.pipeline.audit import Audit, Mesa, code


def compare_lines(
    audit: Audit,
    kind: str,
    where: str,
    expected: Sequence[int | None] | None,
    found: Sequence[int | None] | None,
    definition: ElectionDefinition,
    what: str = "",
) -> None:
    """One difference per ballot line whose number differs (named by line, party and
    candidate); the whole lists when one is missing or they are of different lengths."""
    expected_list = list(expected) if expected is not None else None
    found_list = list(found) if found is not None else None
    if expected_list is None or found_list is None or len(expected_list) != len(found_list):
        if expected_list != found_list:
            audit.differ(kind, where, expected_list, found_list, f"{what}votos / votes")
        return
    for i, (want, got) in enumerate(zip(expected_list, found_list, strict=True)):
        if want != got:
            pos = definition.ballot[i] if i < len(definition.ballot) else None
            name = f"{pos.acronym} → {pos.candidate}" if pos else "?"
            audit.differ(kind, where, want, got, f"{what}línea / line {i + 1} ({name})")


def differ_if(audit: Audit, kind: str, where: str, expected: Any, found: Any, detail: str) -> None:
    if expected != found:
        audit.differ(kind, where, expected, found, detail)


@dataclass
class Sum:
    votes: dict[str, int]
    nulos: int = 0
    actas: int = 0

    @property
    def valid(self) -> int:
        return sum(self.votes.values())


def level_digits(definition: ElectionDefinition) -> dict[str, int]:
    """Every tally level and its code's length (0: the nation, code "")."""
    return {"national": 0, **{lv.name: lv.code_digits for lv in definition.levels}}


def tally_sums(
    definition: ElectionDefinition, counted: Mapping[Mesa, tuple[Sequence[int], int]]
) -> dict[str, dict[str, Sum]]:
    """Each level's totals by unit code, summed again from the counted mesas' numbers."""
    out: dict[str, dict[str, Sum]] = {level: {} for level in level_digits(definition)}
    for (centre, _number), (votes, nulos) in sorted(counted.items()):
        totals = definition.totals_by_candidate(list(votes))
        for level, digits in level_digits(definition).items():
            unit = out[level].setdefault(centre[:digits], Sum(dict.fromkeys(definition.candidate_codes, 0)))
            for candidate, n in totals.items():
                unit.votes[candidate] += n
            unit.nulos += nulos
            unit.actas += 1
    return out


def compare_sum(audit: Audit, kind: str, where: str, expected: Sum | None, found: Sum | None) -> None:
    """A unit's totals: each candidate, nulos and the number of actas counted."""
    if expected is None or found is None:
        present = expected or found
        if present is not None and present.actas:
            audit.differ(kind, where, _sum_view(expected), _sum_view(found), "unidad / unit")
        return
    for candidate in sorted(set(expected.votes) | set(found.votes)):
        differ_if(audit, kind, where, expected.votes.get(candidate), found.votes.get(candidate), candidate)
    differ_if(audit, kind, where, expected.nulos, found.nulos, "nulos")
    differ_if(audit, kind, where, expected.actas, found.actas, "actas contadas / actas counted")


def _sum_view(value: Sum | None) -> dict[str, Any] | None:
    return None if value is None else {"votes": value.votes, "nulos": value.nulos, "actas": value.actas}


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def compare_actas_csv(
    audit: Audit,
    kind: str,
    path: Path,
    label: str,
    counted: Mapping[Mesa, tuple[Sequence[int], int]],
    definition: ElectionDefinition,
) -> None:
    """The verified actas file (one row per counted mesa) against the mesas counted now."""
    rows = read_csv(path)
    audit.count("csv_rows", len(rows))
    seen: set[Mesa] = set()
    for row in rows:
        mesa = (row.get("centre", ""), _int(row.get("mesa")) or 0)
        seen.add(mesa)
        where = f"{label}:{code(mesa)}"
        if mesa not in counted:
            audit.differ(kind, where, None, "fila / row", "mesa no contada / a mesa not counted")
            continue
        votes, nulos = counted[mesa]
        for candidate, n in definition.totals_by_candidate(list(votes)).items():
            differ_if(audit, kind, where, n, _int(row.get(candidate)), candidate)
        differ_if(audit, kind, where, nulos, _int(row.get("nulos")), "nulos")
        differ_if(audit, kind, where, sum(v for v in votes), _int(row.get("valid")), "valid")
    for mesa in sorted(set(counted) - seen):
        audit.differ(kind, f"{label}:{code(mesa)}", "fila / row", None, "mesa contada ausente / missing")


def compare_tally_csv(
    audit: Audit,
    kind: str,
    path: Path,
    label: str,
    expected: Mapping[str, Sum],
    definition: ElectionDefinition,
) -> None:
    """One ``tally_<level>.csv`` against the level summed again (units with no acta skipped)."""
    found: dict[str, Sum] = {}
    for row in read_csv(path):
        actas = _int(row.get("actas_ok")) or 0
        if actas:
            votes = {c: _int(row.get(c)) or 0 for c in definition.candidate_codes}
            found[row.get("code", "")] = Sum(votes, _int(row.get("nulos")) or 0, actas)
    for unit in sorted(set(expected) | set(found)):
        compare_sum(audit, kind, f"{label}:{unit or 'national'}", expected.get(unit), found.get(unit))


def check_manifest(audit: Audit, kind: str, folder: Path) -> dict[str, Any] | None:
    """An export's files against its ``manifest.json`` (SHA-256 of each); returns the manifest."""

    from veedor.publish.export import verify_manifest

    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        files = {f["path"]: f["sha256"] for f in manifest["files"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        audit.differ(kind, f"{folder.name}/manifest.json", "manifiesto / manifest", None, str(exc)[:200])
        return None
    audit.count("manifest_files", len(files))
    missing = [name for name in files if not (folder / name).is_file()]
    for name in missing:
        audit.differ(kind, f"{folder.name}/{name}", files[name], None, "archivo ausente / file missing")
    if missing:
        altered = [n for n in files if n not in missing and file_sha256(folder / n) != files[n]]
    else:
        altered = verify_manifest(folder)
    for name in altered:
        audit.differ(
            kind,
            f"{folder.name}/{name}",
            files[name],
            file_sha256(folder / name),
            "SHA-256 ≠ manifiesto / manifest",
        )
    return manifest


def export_folders(folder: Path) -> list[Path]:
    """An export folder, or a folder of them (``veedor export``'s ``--out``, a site's ``data/``)."""
    if (folder / "manifest.json").is_file():
        return [folder]
    return sorted(p for p in folder.iterdir() if (p / "manifest.json").is_file()) if folder.is_dir() else []


def export_against(
    audit: Audit,
    folder: Path,
    definition: ElectionDefinition,
    counted: dict[Mesa, tuple[list[int], int]],
    sums: dict[str, dict[str, Sum]],
) -> None:
    """An export matches its manifest, and its verified actas and tallies are the ones
    counted now (``counted``, ``sums``)."""
    manifest = check_manifest(audit, "export", folder)
    if manifest is None:
        return
    audit.count("exports")
    if (manifest.get("source") or {}).get("spec") != "scan":
        audit.note(
            "export",
            folder.name,
            "tabla importada: solo su manifiesto / an imported table: its manifest only",
        )
        return
    if (folder / "actas.csv").is_file():
        compare_actas_csv(
            audit, "export", folder / "actas.csv", f"{folder.name}/actas.csv", counted, definition
        )
    for level, expected in sums.items():
        path = folder / f"tally_{level}.csv"
        if path.is_file():
            compare_tally_csv(audit, "export", path, f"{folder.name}/{path.name}", expected, definition)
