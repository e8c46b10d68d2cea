"""``veedor evidence``: one mesa's dispute pack (a folder and its zip that verify on their own),
and ``veedor evidence --check`` to verify one."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape

from veedor.cli.common import DB_OPTION, DEFINITION_OPTION, console, fail, get_definition, get_store, out
from veedor.cli.scan import EVIDENCE_OPTION


def register(app: typer.Typer) -> None:
    app.command("evidence")(evidence)


def evidence(
    code: str | None = typer.Argument(None, metavar="MESA", help="CENTRO.MESA, p. ej. / e.g. 040202001.01"),
    out_dir: Path | None = typer.Option(
        None, "--out", "-o", help="Carpeta donde escribir el expediente / folder to write the pack in."
    ),
    public: bool = typer.Option(
        False,
        "--public",
        help="Copias sin metadatos en lugar de los originales (publicables; su SHA-256 no es el del "
        "registro) / metadata-free copies instead of the originals (publishable; their SHA-256 is "
        "not the one in the log).",
    ),
    vkey: list[Path] | None = typer.Option(
        None,
        "--vkey",
        help="Clave de verificación del registro (repetible) / the log's verifier key file (repeatable).",
    ),
    check: Path | None = typer.Option(
        None, "--check", help="Verificar un expediente (carpeta o .zip) / verify a pack (folder or .zip)."
    ),
    evidence_root: Path | None = EVIDENCE_OPTION,
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """Expediente de una mesa para una denuncia: imágenes, números, pruebas del registro, resumen.

    A mesa's dispute pack, for a complaint: its images, readings and checks, people's decisions
    (pseudonyms), the published figure and the difference, every log entry about it with its
    inclusion proof against the latest signed checkpoint, a one-page summary in Spanish and
    English, and check_pack.py to verify it anywhere. Exit 0: written (or verified); 1: problems;
    2: bad usage.
    """
    keys = _read_keys(vkey or [])
    if check is not None:
        if code is not None or out_dir is not None or public:
            fail("--check no va con MESA, --out ni --public / --check takes no MESA, --out or --public")
        _check(check, keys)
        return
    if code is None or out_dir is None:
        fail(
            "falta MESA o --out / MESA and --out are needed", "veedor evidence 040202001.01 --out expedientes"
        )
    centre, _, number = code.rpartition(".")
    if not centre or not number.isdigit():
        fail(f"código de mesa no válido / invalid mesa code {code!r}", "use CENTRO.MESA, p. ej. 040202001.01")
    _write(code, centre, int(number), out_dir, public, keys, evidence_root, db, definition)


def _read_keys(files: list[Path]) -> list[str]:
    from veedor.publish.dispute_check import parse_verifier_key

    keys = []
    for path in files:
        try:
            found = path.read_text(encoding="utf-8").split()
            for key in found:
                parse_verifier_key(key)
        except (OSError, UnicodeDecodeError, ValueError) as error:
            fail(f"clave no válida / invalid verifier key file {path}: {error}", "veedor keys new la escribe")
        if not found:
            fail(f"clave vacía / empty verifier key file {path}")
        keys += found
    return keys


def _write(
    code: str,
    centre: str,
    number: int,
    out_dir: Path,
    public: bool,
    keys: list[str],
    evidence_root: Path | None,
    db: str | None,
    definition: str,
) -> None:
    from veedor.pipeline.scan import default_evidence_root
    from veedor.publish.dispute import DisputeError, LogMismatch, check_report, write_pack
    from veedor.publish.dispute_check import MANIFEST
    from veedor.publish.views import NotFound

    defn = get_definition(definition)
    store = get_store(db)
    try:
        with store.session() as session:
            folder = write_pack(
                session,
                defn,
                evidence_root or default_evidence_root(store),
                centre,
                number,
                out_dir,
                public,
                keys,
            )
    except NotFound:
        fail(f"mesa {code} desconocida / unknown", "veedor mesas lista las mesas / lists the mesas")
    except LogMismatch as error:
        console.print(f"[bold red]Problema / problem:[/] {escape(str(error))}")
        console.print(f"[yellow]Qué hacer / what to do:[/] {escape(EDITED)}")
        raise typer.Exit(1) from None
    except (DisputeError, OSError) as error:
        fail(str(error))
    report = check_report(folder)
    out.print(f"Expediente / dispute pack: {escape(str(folder))}/ + {escape(folder.name)}.zip")
    if public:
        console.print(
            "[yellow]Nota / note:[/] imágenes sin metadatos; su SHA-256 no es el de los originales del "
            "registro / metadata-free images: their SHA-256 is not the originals' in the log"
        )
    else:
        console.print(
            "[bold yellow]Atención / warning:[/] contiene los ORIGINALES, que pueden llevar metadatos de la "
            "foto (teléfono, lugar, hora): no lo publique; --public hace uno publicable / holds the "
            "ORIGINAL files, which may carry photo metadata: do not publish it; --public makes one you can"
        )
    # An original missing from the evidence store leaves the pack incomplete: a problem here,
    # though the pack itself says so honestly (a note when it is checked later).
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    lacking = [
        f"image {i['sha256']}: not in the pack ({i['missing']})"
        for i in manifest["images"]
        if i.get("missing")
    ]
    if not manifest["signed"]:
        console.print(
            "[yellow]Qué hacer / what to do:[/] firme un punto de control (veedor log checkpoint --key "
            "ARCHIVO) y haga el expediente de nuevo / sign a checkpoint, then make the pack again"
        )
    _report(
        [n for n in report.notes if n not in lacking],
        report.problems + lacking,
        "un original que falta se restaura de su respaldo; una prueba que falla indica que el registro de "
        "la base de datos se editó: veedor check dice qué / restore a missing original from a backup; a "
        "proof that fails means the database's log was edited: veedor check says what",
    )


def _check(path: Path, keys: list[str]) -> None:
    from veedor.publish.dispute import check_report
    from veedor.publish.dispute_check import PackError

    try:
        report = check_report(path, keys)
    except (PackError, OSError) as error:
        fail(f"no es un expediente / not a dispute pack: {error}")
    _report(report.notes, report.problems)
    out.print("[green]El expediente se verifica / the pack verifies[/]")


TAMPERED = (
    "un archivo nombrado arriba no es el que se hizo; pida el expediente de nuevo a su fuente / a file "
    "named above is not the one made: get the pack again from its source"
)


EDITED = (
    "el registro de la base de datos se editó después de firmarse: veedor check dice qué; restaure el "
    "respaldo / the database's log was edited after it was signed: veedor check says what; restore "
    "the backup"
)


def _report(notes: list[str], problems: list[str], hint: str = TAMPERED) -> None:
    for note in notes:
        console.print(f"[yellow]Nota / note:[/] {escape(note)}")
    for problem in problems:
        console.print(f"[bold red]Problema / problem:[/] {escape(problem)}")
    if problems:
        console.print(f"[yellow]Qué hacer / what to do:[/] {escape(hint)}")
        raise typer.Exit(1)
