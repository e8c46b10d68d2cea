"""``veedor doctor``: is this installation ready to read an election, and what to fix if not."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path

import typer
from rich.markup import escape

from veedor.cli.common import DB_OPTION, DEFINITION_OPTION, _, console, missing_database, out, said

MIN_FREE_BYTES = 2 * 2**30
"""Free disk the evidence store should have: ~10,000 acta photos of 200 KB (one original each)."""


class Format(StrEnum):
    table = "table"
    json = "json"


@dataclass
class Check:
    name: str
    state: str  # "ok" | "warn" | "fail"
    detail: str
    fix: str = ""


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)


def doctor(
    evidence: Path | None = typer.Option(
        None, "--evidence", help="Evidence folder (default: beside the database)."
    ),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table | json"),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """Check the installation and say what to fix.

    The QR decoders and the OCR (their versions, the model file), the election definition,
    the message catalogs, the database (reachable, at the latest migration) and the free disk
    for the evidence store. Exit 0: ready; 1: something to fix (each one says what).
    """
    checks = [
        _python(),
        *_decoders(),
        _ocr(),
        _definition(definition),
        _catalogs(),
        _database(db),
        _disk(db, evidence),
    ]
    if fmt is Format.json:
        json.dump([asdict(c) for c in checks], sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        _print(checks)
    if any(c.state == "fail" for c in checks):
        raise typer.Exit(1)


def _print(checks: list[Check]) -> None:
    from rich.table import Table

    table = Table(title="veedor doctor")
    for header in (_("check"), _("state"), _("detail"), _("what to do")):
        table.add_column(header, overflow="fold")
    colour = {"ok": "green", "warn": "yellow", "fail": "bold red"}
    for c in checks:
        table.add_row(
            _(c.name),
            f"[{colour[c.state]}]{escape(_(c.state))}[/]",
            escape(c.detail),
            escape(c.fix),
        )
    out.print(table)
    failed = sum(c.state == "fail" for c in checks)
    if failed:
        console.print(f"[bold red]{escape(_('{n} to fix before reading an election', n=failed))}[/]")
    else:
        console.print(f"[green]{escape(_('Ready'))}[/]")


def _version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _python() -> Check:
    from veedor import __version__

    ok = sys.version_info >= (3, 11)
    return Check(
        "python",
        "ok" if ok else "fail",
        f"veedor {__version__}, Python {sys.version.split()[0]}",
        "" if ok else _("install Python 3.11 or newer"),
    )


def _decoders() -> list[Check]:
    checks = []
    try:
        import zxingcpp  # noqa: F401

        checks.append(Check("QR decoder (zxing-cpp)", "ok", _version("zxing-cpp") or "?"))
    except Exception as exc:  # a missing or broken wheel
        checks.append(
            Check(
                "QR decoder (zxing-cpp)",
                "fail",
                f"{type(exc).__name__}: {exc}"[:200],
                _("reinstall veedor: pip install -e ."),
            )
        )
    try:
        import cv2

        second = hasattr(cv2, "QRCodeDetectorAruco")
        checks.append(
            Check(
                "OpenCV",
                "ok" if second else "warn",
                cv2.__version__ + ("" if second else " (no QRCodeDetectorAruco)"),
                "" if second else _("the second QR engine for bad photos is missing: reinstall veedor"),
            )
        )
    except Exception as exc:
        checks.append(
            Check(
                "OpenCV",
                "fail",
                f"{type(exc).__name__}: {exc}"[:200],
                _("reinstall veedor: pip install -e ."),
            )
        )
    return checks


def _ocr() -> Check:
    from veedor.read.print.ocr import EngineUnavailable, model_path

    try:
        path = model_path()
        import onnxruntime

        detail = f"rapidocr {_version('rapidocr')}, {path.name} ({path.stat().st_size / 2**20:.1f} MiB), onnxruntime {onnxruntime.__version__}"
        return Check("OCR", "ok", detail)
    except (EngineUnavailable, ImportError, OSError) as exc:
        return Check(
            "OCR",
            "fail",
            said(exc),
            _(
                "without the OCR no print is read and no QR is cross-checked: pip install -e . (rapidocr, onnxruntime)"
            ),
        )


def _definition(name: str) -> Check:
    from veedor.definitions import DefinitionError, load_definition

    try:
        defn = load_definition(name)
    except DefinitionError as exc:
        return Check("definition", "fail", said(exc), _("check --definition (a bundled id or a JSON file)"))
    return Check(
        "definition", "ok", f"{defn.id}: {len(defn.candidates)} candidates, {len(defn.levels)} levels"
    )


def _catalogs() -> Check:
    from veedor import i18n

    try:
        sizes = {lang: len(i18n.translations(lang)._catalog) for lang in i18n.LANGUAGES}
    except Exception as exc:  # a damaged .po file
        return Check(
            "messages", "fail", f"{type(exc).__name__}: {exc}"[:200], _("reinstall veedor: pip install -e .")
        )
    return Check("messages", "ok", ", ".join(f"{lang} {n:,}" for lang, n in sizes.items()))


def _database(db: str | None) -> Check:
    absent = missing_database(db)
    if absent is not None:
        return Check(
            "database",
            "warn",
            _("no database at {path} yet", path=absent),
            _("veedor scan or veedor import-registry makes it; check --db if you meant another"),
        )
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from veedor.store.db import _alembic_config, as_url, open_store

    try:
        store = open_store(db, migrate=False)
        with store.engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
        head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
        store.engine.dispose()
    except Exception as exc:  # a driver's refusal, a server down, a file that is not a database
        return Check(
            "database", "fail", f"{type(exc).__name__}: {said(exc)}"[:300], _("check the --db path or URL")
        )
    url = as_url(db)
    shown = url.split("@")[-1] if "@" in url else url  # never a password
    if current == head:
        return Check("database", "ok", _("{url}: at the latest migration ({head})", url=shown, head=head))
    return Check(
        "database",
        "warn",
        _(
            "{url}: at migration {current}, this veedor's latest is {head}",
            url=shown,
            current=current,
            head=head,
        ),
        _("any veedor command that writes (e.g. veedor check) upgrades it; back it up first"),
    )


def _disk(db: str | None, evidence: Path | None) -> Check:
    from veedor.store.db import as_url

    if evidence is None:
        url = as_url(db)
        if url.startswith("sqlite:///") and ":memory:" not in url:
            path = Path(url.removeprefix("sqlite:///")).expanduser()
            evidence = path.with_name(path.stem + "-evidence")
        else:
            evidence = Path("veedor-evidence")
    place = evidence.resolve()
    while not place.exists() and place != place.parent:
        place = place.parent
    free = shutil.disk_usage(place).free
    detail = _("{free:.1f} GiB free for {path}", free=free / 2**30, path=evidence)
    if free < MIN_FREE_BYTES:
        return Check(
            "evidence disk",
            "fail" if free < MIN_FREE_BYTES / 10 else "warn",
            detail,
            _("free some space or choose another folder with --evidence: every original is kept"),
        )
    return Check("evidence disk", "ok", detail)
