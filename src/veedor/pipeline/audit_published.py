"""``veedor verify --published DIR``: what an outside auditor can check with a copy of the
static site alone (``veedor publish --static``), no database.

The signed checkpoint is opened with the verifier keys; the log's root is recomputed from its
entries and from its tiles; every public image is read again and compared with the log's
reading of it; each mesa's numbers are taken from its last ``mesa`` entry and compared with the
API's JSON and the open data; the tallies are summed again; every manifest is checked.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from veedor.capture.evidence import file_sha256
from veedor.definitions import ElectionDefinition
from veedor.pipeline.audit import Audit, LogIndex, Mesa, Progress, code, logged_reading, reread
from veedor.pipeline.audit_log import check_log
from veedor.pipeline.audit_numbers import (
    Sum,
    check_manifest,
    compare_actas_csv,
    compare_lines,
    compare_sum,
    compare_tally_csv,
    differ_if,
    export_against,
    level_digits,
    tally_sums,
)

SHA = re.compile(r"[0-9a-f]{64}")


def verify_published(
    folder: Path,
    definition: ElectionDefinition,
    *,
    vkeys: Sequence[str] = (),
    exports: Sequence[Path] = (),
    workers: int | None = None,
    progress: Progress | None = None,
) -> Audit:
    started = time.perf_counter()
    audit = Audit()
    say = progress or (lambda _line: None)
    say("manifiestos / manifests")
    _site_manifest(audit, folder)
    data = folder / "data"
    for source in sorted(p for p in data.iterdir() if p.is_dir()) if data.is_dir() else []:
        check_manifest(audit, "data", source)
    say("registro / log: punto de control, entradas, teselas / checkpoint, entries, tiles")
    entries = check_log(audit, folder / "log", vkeys)
    index = LogIndex.of(enumerate(entries), audit)
    _images(audit, folder, definition, index, workers, say)
    say("mesas y totales / mesas and tallies")
    counted = _mesas(audit, folder, definition, index)
    sums = tally_sums(definition, counted)
    _tallies(audit, folder, definition, sums)
    verified = data / "verified"
    if (verified / "actas.csv").is_file():
        compare_actas_csv(
            audit, "data", verified / "actas.csv", "data/verified/actas.csv", counted, definition
        )
    for level, expected in sums.items():
        path = verified / f"tally_{level}.csv"
        if path.is_file():
            compare_tally_csv(audit, "data", path, f"data/verified/{path.name}", expected, definition)
    for export in exports:  # the log's numbers are the reference without a database
        export_against(audit, export, definition, counted, sums)
    audit.seconds = time.perf_counter() - started
    return audit


def _site_manifest(audit: Audit, folder: Path) -> None:
    """Every file the site's ``manifest.json`` lists, with its SHA-256 (the manifest itself is
    not signed: it finds damage and careless edits; the signed log is the proof)."""
    try:
        files = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["files"]
        listed = {str(k): str(v) for k, v in files.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        audit.differ("site", "manifest.json", "manifiesto / manifest", None, str(exc)[:200])
        return
    for name, sha in sorted(listed.items()):
        path = folder / name
        if not path.is_file():
            audit.differ("site", name, sha, None, "archivo ausente / file missing")
        elif (actual := file_sha256(path)) != sha:
            audit.differ("site", name, sha, actual, "SHA-256 ≠ manifest.json")
    audit.count("site_files", len(listed))


# -- images, mesas, tallies ------------------------------------------------------------------


def _images(
    audit: Audit,
    folder: Path,
    definition: ElectionDefinition,
    index: LogIndex,
    workers: int | None,
    say: Progress,
) -> None:
    """Each public copy read again against the log's reading of its original. The copy is
    re-encoded without metadata, so it is named by the original's SHA-256, not its own."""
    paths = {str(p): p.stem for p in sorted((folder / "image").glob("*.jpg")) if SHA.fullmatch(p.stem)}
    say(f"imágenes públicas / public images: {len(paths):,}")
    fresh = reread(paths, definition, workers=workers, progress=say)
    ballot = len(definition.ballot)
    for sha in sorted(paths.values()):
        where = f"image:{sha}"
        entry, outcome = index.readings.get(sha), fresh.get(sha)
        audit.count("reread")
        if entry is None:
            audit.differ(
                "not_in_log",
                where,
                "entrada reading / reading entry",
                None,
                "imagen publicada fuera del registro / not logged",
            )
            continue
        logged = logged_reading(entry, ballot)
        copy = outcome.copy if outcome is not None else None
        if copy is None:
            if logged["mesa"] is not None:
                qr = (entry.get("accepted") or {}).get("source") == "qr"
                what = "la copia pública no se lee / the public copy reads nothing"
                if qr:  # a QR survives re-encoding: an unreadable one was replaced
                    audit.differ("public_image", where, None, code(logged["mesa"]), what)
                else:
                    audit.note("public_image", where, what + " (impresión / print)")
            continue
        if (copy.centre, copy.mesa) != logged["mesa"]:
            shown = code(logged["mesa"]) if logged["mesa"] else None
            audit.differ(
                "public_image", where, code((copy.centre, copy.mesa)), shown, "otra mesa / another mesa"
            )
            continue
        # A line the copy cannot show now is unknown, not different.
        read = [
            v if v is not None else w for v, w in zip(copy.votes, logged["votes"] or copy.votes, strict=False)
        ]
        compare_lines(audit, "public_image", where, read, logged["votes"], definition)
        if copy.nulos is not None:
            differ_if(audit, "public_image", where, copy.nulos, logged["nulos"], "nulos")


def _json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _mesas(
    audit: Audit, folder: Path, definition: ElectionDefinition, index: LogIndex
) -> dict[Mesa, tuple[list[int], int]]:
    """Each mesa's JSON against its last ``mesa`` entry; returns the counted mesas (the log's)."""
    pages: set[Mesa] = set()
    for path in sorted((folder / "api" / "v1" / "mesas").glob("*/*.json")):
        view = _json(path)
        if view is None or not path.stem.isdigit():
            audit.differ("api_mesa", str(path.relative_to(folder)), "JSON", None, "ilegible / unreadable")
            continue
        mesa = (path.parent.name, int(path.stem))
        pages.add(mesa)
        _mesa_page(audit, folder, definition, mesa, view, index.mesas.get(mesa))
    counted: dict[Mesa, tuple[list[int], int]] = {}
    for mesa, entry in sorted(index.mesas.items()):
        if mesa not in pages:
            audit.differ(
                "api_mesa",
                f"mesa:{code(mesa)}",
                "JSON",
                None,
                "mesa del registro sin publicar / not published",
            )
        numbers = _numbers(entry.get("votes"), entry.get("nulos"), len(definition.ballot))
        if entry.get("state") == "ok" and numbers is not None:
            counted[mesa] = numbers
            _supported(audit, mesa, *numbers, index)
    audit.count("mesas", len(index.mesas))
    return counted


def _numbers(votes: Any, nulos: Any, ballot: int) -> tuple[list[int], int] | None:
    """Numbers from an entry, when they are whole (every ballot line, integers)."""
    whole = isinstance(votes, list) and len(votes) == ballot and all(isinstance(v, int) for v in votes)
    return (votes, nulos) if whole and isinstance(nulos, int) else None


def _mesa_page(
    audit: Audit,
    folder: Path,
    definition: ElectionDefinition,
    mesa: Mesa,
    view: dict[str, Any],
    entry: dict[str, Any] | None,
) -> None:
    where = f"mesa:{code(mesa)}"
    for copy in view.get("copies") or []:
        image = str(copy.get("image"))
        if not (folder / "image" / f"{image}.jpg").is_file():
            audit.differ(
                "public_image", f"image:{image}", "copia pública / public copy", None, f"ausente ({where})"
            )
    if not view.get("scanned"):
        if entry is not None:
            audit.differ(
                "api_mesa", where, entry.get("state"), "no escaneada / not scanned", "estado / state"
            )
        return
    if entry is None:
        audit.differ(
            "not_in_log",
            where,
            "entrada mesa / mesa entry",
            view.get("state"),
            "mesa publicada fuera del registro / not logged",
        )
        return
    votes = entry.get("votes")
    differ_if(audit, "api_mesa", where, entry.get("state"), view.get("state"), "estado / state")
    lines = [line.get("votes") for line in view.get("lines") or []] or None
    compare_lines(audit, "api_mesa", where, votes, lines, definition)
    differ_if(audit, "api_mesa", where, entry.get("nulos"), view.get("nulos"), "nulos")
    numbers = _numbers(votes, 0, len(definition.ballot))
    if numbers is not None:
        for candidate, n in definition.totals_by_candidate(numbers[0]).items():
            differ_if(audit, "api_mesa", where, n, (view.get("votes") or {}).get(candidate), candidate)


def _supported(audit: Audit, mesa: Mesa, votes: list[int], nulos: int, index: LogIndex) -> None:
    """A counted mesa's numbers are a logged reading's claim, or people's logged decision."""
    claims = [
        (r.get("votes"), r.get("nulos"))
        for r in index.mesa_readings.get(mesa, [])
        if r.get("grade") in ("confirmed", "qr_only")
    ]
    decision = index.decisions.get(mesa) or {}
    if decision.get("decision") == "settled":
        claims.append((decision.get("votes"), decision.get("nulos")))
    if (votes, nulos) not in claims:
        audit.differ(
            "log_mesa",
            f"mesa:{code(mesa)}",
            "una lectura o decisión registrada / a logged reading or decision",
            votes,
            "números contados que nada en el registro da / counted numbers nothing logged gives",
        )


def _unit_sum(view: dict[str, Any] | None) -> Sum | None:
    result = (view or {}).get("result")
    if not isinstance(result, dict):
        return None
    votes = result.get("votes")
    return Sum(
        dict(votes) if isinstance(votes, dict) else {}, result.get("nulos") or 0, result.get("actas") or 0
    )


def _tallies(
    audit: Audit, folder: Path, definition: ElectionDefinition, sums: dict[str, dict[str, Sum]]
) -> None:
    """The national and each unit's JSON against the log's counted mesas summed again."""
    api = folder / "api" / "v1"
    by_digits = {digits: level for level, digits in level_digits(definition).items() if digits}
    national = _json(api / "national.json")
    if national is None:
        audit.differ(
            "api_tally", "api/v1/national.json", "JSON", None, "ausente o ilegible / missing or unreadable"
        )
    else:
        found = _unit_sum(national)
        compare_sum(audit, "api_tally", "api/v1/national.json", sums["national"].get(""), found)
        if found is not None:
            differ_if(
                audit,
                "api_tally",
                "api/v1/national.json",
                found.valid,
                national["result"].get("valid"),
                "valid",
            )
    seen: set[str] = set()
    for path in sorted((api / "units").glob("*.json")):
        unit, level = path.stem, by_digits.get(len(path.stem))
        if level is None:
            continue
        seen.add(unit)
        compare_sum(
            audit, "api_tally", f"api/v1/units/{unit}.json", sums[level].get(unit), _unit_sum(_json(path))
        )
    for level, units in sums.items():
        for unit in sorted(set(units) - seen - {""}):
            audit.differ(
                "api_tally",
                f"api/v1/units/{unit}.json",
                "JSON",
                None,
                f"unidad contada sin publicar ({level}) / not published",
            )
    audit.count("tally_units", sum(len(u) for u in sums.values()))
