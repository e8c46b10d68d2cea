"""``veedor evidence``: one mesa's dispute pack (a folder and its zip that verify on their own),
and ``veedor evidence --check`` to verify one."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape

from veedor.cli.common import (
    DB_OPTION,
    DEFINITION_OPTION,
    N_,
    _,
    fail,
    get_definition,
    get_store,
    note,
    out,
    problem,
    said,
    warn,
    what_to_do,
)
from veedor.cli.scan import EVIDENCE_OPTION


def register(app: typer.Typer) -> None:
    app.command("evidence")(evidence)


def evidence(
    code: str | None = typer.Argument(None, metavar="MESA", help="E.g. 040202001.01"),
    out_dir: Path | None = typer.Option(None, "--out", "-o", help="Folder to write the pack in."),
    public: bool = typer.Option(
        False,
        "--public",
        help="Metadata-free copies instead of the originals (publishable; their SHA-256 is not the one in the log).",
    ),
    vkey: list[Path] | None = typer.Option(
        None,
        "--vkey",
        help="The log's verifier key file (repeatable).",
    ),
    check: Path | None = typer.Option(None, "--check", help="Verify a pack (folder or .zip)."),
    evidence_root: Path | None = EVIDENCE_OPTION,
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """A mesa's dispute pack, for a complaint.

    A mesa's dispute pack, for a complaint: its images, readings and checks, people's decisions
    (pseudonyms), the published figure and the difference, every log entry about it with its
    inclusion proof against the latest signed checkpoint, a one-page summary in Spanish and
    English, and check_pack.py to verify it anywhere. Exit 0: written (or verified); 1: problems;
    2: bad usage.
    """
    keys = _read_keys(vkey or [])
    if check is not None:
        if code is not None or out_dir is not None or public:
            fail(_("--check takes no MESA, --out or --public"))
        _check(check, keys)
        return
    if code is None or out_dir is None:
        fail(_("MESA and --out are needed"), "veedor evidence 040202001.01 --out expedientes")
    centre, _dot, number = code.rpartition(".")
    if not centre or not number.isdigit():
        fail(_("invalid mesa code {code!r}", code=code), _("use CENTRE.MESA, e.g. 040202001.01"))
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
            fail(
                _("invalid verifier key file {path}: {error}", path=path, error=said(error)),
                "veedor keys new",
            )
        if not found:
            fail(_("empty verifier key file {path}", path=path))
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
        fail(_("mesa {code} unknown", code=code), _("veedor mesas lists the mesas"))
    except LogMismatch as error:
        problem(said(error))
        what_to_do(_(EDITED))
        raise typer.Exit(1) from None
    except (DisputeError, OSError) as error:
        fail(said(error))
    report = check_report(folder)
    out.print(escape(_("Dispute pack: {folder}/ + {name}.zip", folder=folder, name=folder.name)))
    if public:
        note(_("metadata-free images: their SHA-256 is not the originals' in the log"))
    else:
        warn(
            _(
                "holds the ORIGINAL files, which may carry photo metadata (phone, place, time): do not "
                "publish it; --public makes one you can"
            )
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
        what_to_do(_("sign a checkpoint (veedor log checkpoint --key FILE), then make the pack again"))
    _report(
        [n for n in report.notes if n not in lacking],
        report.problems + lacking,
        N_(
            "restore a missing original from a backup; a proof that fails means the database's log was edited: veedor check says what"
        ),
    )


def _check(path: Path, keys: list[str]) -> None:
    from veedor.publish.dispute import check_report
    from veedor.publish.dispute_check import PackError

    try:
        report = check_report(path, keys)
    except (PackError, OSError) as error:
        fail(_("not a dispute pack: {error}", error=said(error)))
    _report(report.notes, report.problems)
    out.print(f"[green]{_('The pack verifies')}[/]")


TAMPERED = N_("a file named above is not the one made: get the pack again from its source")


EDITED = N_("the database's log was edited after it was signed: veedor check says what; restore the backup")


def _report(notes: list[str], problems: list[str], hint: str = TAMPERED) -> None:
    for line in notes:
        note(said(line))
    for line in problems:
        problem(said(line))
    if problems:
        what_to_do(_(hint))
        raise typer.Exit(1)
