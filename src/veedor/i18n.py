"""Messages in the reader's language: gettext catalogs (``locale/<lang>/LC_MESSAGES/veedor.po``).

Message ids are English; the Spanish catalog translates them, the English one may leave them
as they are. The ``.po`` files are the only source: each is compiled in memory, with Babel,
the first time its language is asked for (no ``.mo`` to fall out of step). The desk's pages
use them now; the command line will share them.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "veedor"
LANGUAGES = ("es", "en")
DEFAULT = "es"


def catalog_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(lang: str) -> Translations:
    """The compiled catalog of ``lang`` (one of :data:`LANGUAGES`; anything else: the default)."""
    lang = lang if lang in LANGUAGES else DEFAULT
    with catalog_path(lang).open("rb") as handle:
        catalog = read_po(handle, locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def gettext(message: str, lang: str = DEFAULT) -> str:
    return translations(lang).gettext(message)


def ngettext(singular: str, plural: str, n: int, lang: str = DEFAULT) -> str:
    return translations(lang).ngettext(singular, plural, n)


def negotiate(accept_language: str | None, requested: str | None = None) -> str:
    """The language to answer in: ``requested`` if known, else the browser's first known
    preference (``Accept-Language``, by its q weights), else Spanish."""
    if requested in LANGUAGES:
        return requested
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and weight > 0:
            ranked.append((-weight, i, primary))
    return min(ranked)[2] if ranked else DEFAULT


def one_language(message: str, lang: str) -> str:
    """A library message written "español / English": only the reader's half."""
    spanish, sep, english = message.partition(" / ")
    if not sep:
        return message
    return english.strip() if lang == "en" else spanish.strip()


@cache
def templates(folder: Path, lang: str) -> Environment:
    """Jinja2 templates of ``folder`` in ``lang`` only: one environment per folder and language,
    so no page or report mixes languages and no render changes another's. The catalog is looked
    up on each call (not bound once), so a test's replacement of :func:`gettext` is used."""
    env = Environment(
        loader=FileSystemLoader(folder),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: gettext(message, lang),
        lambda singular, plural, n: ngettext(singular, plural, n, lang),
        newstyle=True,
    )
    return env
