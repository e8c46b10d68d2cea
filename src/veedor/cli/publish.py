"""``veedor publish --static DIR``: the public site written as plain files."""

from __future__ import annotations

from pathlib import Path

import typer

from veedor.cli.common import DB_OPTION, DEFINITION_OPTION, console, fail, get_definition, get_store


def register(app: typer.Typer) -> None:
    app.command("publish")(publish)


def publish(
    static: Path = typer.Option(
        ..., "--static", help="Carpeta del sitio estático / folder for the static site."
    ),
    lang: str = typer.Option("es,en", "--lang", help="Idiomas / languages, e.g. es or es,en."),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
    evidence: Path | None = typer.Option(None, "--evidence", help="Carpeta de evidencia / evidence folder."),
) -> None:
    """Escribe todo el sitio público como archivos (páginas, JSON, imágenes sin metadatos, manifiesto).

    Write the whole public site as files, with relative links: any static host, CDN, IPFS or a
    USB stick can serve it, and it opens from disk. Again: only what changed is rewritten.
    """
    from veedor.i18n import LANGUAGES
    from veedor.pipeline.scan import default_evidence_root
    from veedor.web.static_site import write_static

    langs = [code.strip() for code in lang.split(",") if code.strip()]
    unknown = [code for code in langs if code not in LANGUAGES]
    if unknown or not langs:
        fail(f"idioma desconocido / unknown language {unknown}", f"use {', '.join(LANGUAGES)}")
    defn = get_definition(definition)
    store = get_store(db)
    report = write_static(store, defn, evidence or default_evidence_root(store), static, langs)
    info = report.as_dict()
    console.print(
        f"[bold]{static}[/]: {info['files']} archivos / files ({info['bytes'] / 1e6:.1f} MB) en / in "
        f"{info['seconds']} s; escritos / written {info['written']}, sin cambios / unchanged {info['unchanged']}, "
        f"imágenes nuevas / new images {info['images']}"
    )
    if report.images_missing:
        console.print(
            f"[yellow]{len(report.images_missing)} imágenes no están en la evidencia / images not in the evidence store[/]"
        )
    console.print(f"Ábralo / open it: {static / 'index.html'}")
