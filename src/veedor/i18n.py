"""Messages in the reader's language: gettext catalogs (``locale/<lang>/LC_MESSAGES/veedor.po``).

Message ids are English; the Spanish catalog translates them, the English one may leave them
as they are. The ``.po`` files are the only source: each is compiled in memory, with Babel,
the first time its language is asked for (no ``.mo`` to fall out of step). The desk's pages,
the public site and the command line share them.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Mapping
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


LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
"""Where a POSIX system says its language, in gettext's order of precedence."""


def from_locale(environ: Mapping[str, str] | None = None) -> str | None:
    """The first known language the environment asks for (``VEEDOR_LANG``, then the locale
    variables: ``en_US.UTF-8`` → ``en``), or None: ``C``/``POSIX`` or nothing set ask for none."""
    env = os.environ if environ is None else environ
    for name in ("VEEDOR_LANG", *LOCALE_VARIABLES):
        value = env.get(name, "").strip()
        if not value:
            continue
        for tag in value.split(":"):  # LANGUAGE may list several, best first: "en:es"
            primary = tag.strip().split(".")[0].split("@")[0].split("_")[0].split("-")[0].lower()
            if primary in LANGUAGES:
                return primary
        if name != "LANGUAGE":  # the first locale variable set decides, as in POSIX
            return None
    return None


_DATA = re.compile(
    r"'[^']*'|\"[^\"]*\"|«[^»]*»|“[^”]*”"  # quoted: a cell, a name, a value
    r"|[^\s,;()]*\d[^\s,;()]*"  # anything with a digit: a count, a code, a date, a file name
)
_LEAD = re.compile(r"^([^\s:]+): ")  # "EG: ", "actas.csv: ": what the message is about


def one_language(message: str, lang: str) -> str:
    """A library message written "español / English": only the reader's half.

    Library messages often carry their data in the Spanish half only ("EG: 'x' no es un entero
    ≥ 0 / not a non-negative integer"): the English half then gets that data back, its leading
    subject before it and the rest in brackets after it, so that no reader loses a number."""
    spanish, sep, english = message.partition(" / ")
    if not sep:
        return message
    spanish, english = spanish.strip(), english.strip()
    if lang != "en":
        return spanish
    lead = _LEAD.match(spanish)
    if lead and not english.startswith(lead.group(1)):
        english = f"{lead.group(1)}: {english}"
    missing = [
        t for t in _DATA.findall(spanish) if t and t not in english and t.strip("'\"«»“”") not in english
    ]
    if missing:
        english = f"{english} ({', '.join(dict.fromkeys(missing))})"
    return english


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
