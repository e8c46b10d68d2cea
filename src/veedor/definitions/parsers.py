"""Payload parsers: turn the text a code carries into :class:`ActaCounts`.

A definition names its parser; parsers are registered here by name so that a new
country adds a small function, not a change to the pipeline.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from veedor.model import ActaCounts

if TYPE_CHECKING:
    from veedor.definitions.schema import ElectionDefinition

PayloadParser = Callable[[str, "ElectionDefinition"], ActaCounts]
_PARSERS: dict[str, PayloadParser] = {}
_INTEGER = re.compile(r"^-?[0-9]{1,9}$")


class PayloadError(ValueError):
    """The text does not fit the definition's payload grammar; the message says why."""


def register_parser(name: str) -> Callable[[PayloadParser], PayloadParser]:
    def decorate(func: PayloadParser) -> PayloadParser:
        _PARSERS[name] = func
        return func

    return decorate


def get_parser(name: str) -> PayloadParser:
    if name not in _PARSERS:
        from veedor.plugins import plugins

        for plugin, parser in plugins("veedor.parsers").items():
            _PARSERS.setdefault(plugin, parser)
    try:
        return _PARSERS[name]
    except KeyError:
        raise KeyError(f"unknown payload parser {name!r}; registered: {sorted(_PARSERS)}") from None


def parse_payload(text: str, definition: ElectionDefinition) -> ActaCounts:
    return get_parser(definition.payload["parser"])(text, definition)


def _integer(token: str, what: str) -> int:
    token = token.strip()
    if not _INTEGER.match(token):
        shown = token if len(token) <= 12 else token[:12] + "…"
        raise PayloadError(f"{what} es {shown!r}, no un número entero / is not an integer")
    return int(token)


@register_parser("separated-fields")
def parse_separated_fields(text: str, definition: ElectionDefinition) -> ActaCounts:
    """``ACTA_ID <sep> V0,V1,... <sep> NULOS <sep> ...`` as the definition describes it.

    Structure is enforced here; judgments on the numbers (how many positions, signs)
    are left to the named checks so that the report can say exactly what is wrong.
    """
    spec: dict[str, Any] = definition.payload
    if len(text) > int(spec.get("max_length", 4096)):
        raise PayloadError(f"texto demasiado largo / payload too long ({len(text)} characters)")
    if text.lower().startswith(("http://", "https://", "www.")):
        raise PayloadError("el código contiene una dirección web, no un acta / the code is a URL")
    fields: list[str] = spec["fields"]
    parts = text.strip().split(spec["separator"])
    if len(parts) != len(fields):
        raise PayloadError(
            f"se esperaban {len(fields)} campos separados por {spec['separator']!r}, hay "
            f"{len(parts)} / expected {len(fields)} fields, found {len(parts)}"
        )
    values = dict(zip(fields, parts, strict=True))
    match = re.match(spec["acta_id_pattern"], values["acta_id"].strip())
    if not match:
        raise PayloadError(
            f"identificador de acta {values['acta_id'][:40]!r} no tiene el formato esperado / "
            "acta id does not fit the expected pattern"
        )
    counts = values["votes"].split(spec["count_separator"])
    votes = tuple(_integer(tok, f"posición {i} / position {i}") for i, tok in enumerate(counts))
    extra = {
        name: _integer(values[name], name) for name in fields if name not in {"acta_id", "votes", "nulos"}
    }
    return ActaCounts(
        acta_id=values["acta_id"].strip(),
        centre=match["centre"],
        mesa=int(match["mesa"]),
        votes=votes,
        nulos=_integer(values["nulos"], "nulos"),
        extra=extra,
    )


@register_parser("id-only")
def parse_id_only(text: str, definition: ElectionDefinition) -> ActaCounts:
    """A code that names the acta and carries no counts (``payload.counts`` false): the id, its
    centre and mesa, and no votes. The counts come from the sheet or from people; an id-only
    reading is never a claim about numbers (see ``ElectionDefinition.qr_counts``)."""
    spec: dict[str, Any] = definition.payload
    text = text.strip()
    if len(text) > int(spec.get("max_length", 256)):
        raise PayloadError(f"texto demasiado largo / payload too long ({len(text)} characters)")
    match = re.match(spec["acta_id_pattern"], text)
    if not match:
        raise PayloadError(
            f"identificador de acta {text[:40]!r} no tiene el formato esperado / "
            "acta id does not fit the expected pattern"
        )
    return ActaCounts(acta_id=text, centre=match["centre"], mesa=int(match["mesa"]), votes=(), nulos=0)
