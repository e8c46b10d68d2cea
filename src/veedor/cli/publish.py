"""``veedor publish --static DIR``: the public site written as plain files."""

from __future__ import annotations

from pathlib import Path

import typer

from veedor.cli.common import (
    DB_OPTION,
    DEFINITION_OPTION,
    _,
    console,
    fail,
    get_definition,
    get_store,
    warn,
)


def register(app: typer.Typer) -> None:
    app.command("publish")(publish)


def publish(
    static: Path = typer.Option(..., "--static", help="Folder for the static site."),
    lang: str = typer.Option("es,en", "--lang", help="Languages, e.g. es or es,en."),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
    evidence: Path | None = typer.Option(None, "--evidence", help="Evidence folder."),
) -> None:
    """Write the whole public site as files (pages, JSON, metadata-free images, manifest).

    Write the whole public site as files, with relative links: any static host, CDN, IPFS or a
    USB stick can serve it, and it opens from disk. Again: only what changed is rewritten.
    """
    from veedor.i18n import LANGUAGES
    from veedor.pipeline.scan import default_evidence_root
    from veedor.web.static_site import write_static

    langs = [code.strip() for code in lang.split(",") if code.strip()]
    unknown = [code for code in langs if code not in LANGUAGES]
    if unknown or not langs:
        fail(_("unknown language {langs}", langs=", ".join(unknown) or "—"), f"--lang {','.join(LANGUAGES)}")
    defn = get_definition(definition)
    store = get_store(db)
    report = write_static(store, defn, evidence or default_evidence_root(store), static, langs)
    info = report.as_dict()
    console.print(
        _(
            "{folder}: {files:,} files ({mb:.1f} MB) in {seconds} s; written {written:,}, unchanged "
            "{unchanged:,}, new images {images:,}",
            folder=static,
            files=info["files"],
            mb=info["bytes"] / 1e6,
            seconds=info["seconds"],
            written=info["written"],
            unchanged=info["unchanged"],
            images=info["images"],
        ),
        markup=False,
    )
    if report.images_missing:
        warn(_("{n:,} images are not in the evidence store", n=len(report.images_missing)))
    console.print(_("Open it: {path}", path=static / "index.html"), markup=False)
