"""The blind entry form: one field per ballot line, then nulos and blank. An empty field is 0
(most lines of an acta are), and an optional total checks the typing before anything is sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from veedor.definitions import ElectionDefinition
from veedor.i18n import gettext

MAX_DIGITS = 6


@dataclass(frozen=True)
class Line:
    field: str
    number: int
    """As printed on the ballot: 1, 2, ..."""
    acronym: str
    candidate: str


@dataclass
class Typed:
    raw: dict[str, str] = field(default_factory=dict)
    """What was typed, to show it back when something is refused."""
    values: dict[str, Any] | None = None
    """``{"votes": [...], "nulos": N, "blank": N}`` once every field is a count."""
    errors: list[str] = field(default_factory=list)
    lines_sum: int = 0
    total: int = 0


def ballot_lines(definition: ElectionDefinition) -> list[Line]:
    names = {c.code: c.name for c in definition.candidates}
    return [
        Line(f"v{i}", i + 1, pos.acronym, names.get(pos.candidate, pos.candidate))
        for i, pos in enumerate(definition.ballot)
    ]


def parse_entry(form: dict[str, Any], definition: ElectionDefinition, lang: str) -> Typed:
    typed = Typed()
    limit = definition.max_voters_per_mesa or 10**6
    counts: dict[str, int] = {}
    labels = {line.field: f"{line.number} · {line.acronym}" for line in ballot_lines(definition)}
    labels |= {"nulos": gettext("Null votes", lang), "blank": gettext("Blank votes", lang)}
    for name, label in labels.items():
        text = str(form.get(name, "")).strip()[:20]
        typed.raw[name] = text
        if not text:
            counts[name] = 0
        elif not text.isascii() or not text.isdigit() or len(text) > MAX_DIGITS:
            typed.errors.append(
                gettext("%(line)s: “%(text)s” is not a whole number.", lang) % {"line": label, "text": text}
            )
        elif int(text) > limit:
            typed.errors.append(
                gettext("%(line)s: %(count)s is more than a mesa can have (%(limit)s).", lang)
                % {"line": label, "count": int(text), "limit": limit}
            )
        else:
            counts[name] = int(text)
    votes = [counts.get(line, 0) for line in labels if line.startswith("v")]
    typed.lines_sum = sum(votes)
    typed.total = typed.lines_sum + counts.get("nulos", 0) + counts.get("blank", 0)
    check = str(form.get("check", "")).strip()[:20]
    typed.raw["check"] = check
    if check and not typed.errors:
        if not (check.isascii() and check.isdigit()):
            typed.errors.append(
                gettext("The printed total “%(text)s” is not a whole number.", lang) % {"text": check}
            )
        elif int(check) != typed.lines_sum:
            typed.errors.append(
                gettext(
                    "The lines add up to %(sum)s, but the acta's total of valid votes you typed is "
                    "%(check)s. Check the lines against the image.",
                    lang,
                )
                % {"sum": typed.lines_sum, "check": int(check)}
            )
    if not typed.errors:
        typed.values = {"votes": votes, "nulos": counts["nulos"], "blank": counts["blank"]}
    return typed


def doubtful_lines(copies: list[tuple[list[int | None], list[int | None] | None]]) -> set[int]:
    """Ballot lines (0-based) a person should look at closely: a copy could not read them, or
    the copies say different numbers there. Which lines, never what was read: the entry stays
    blind. ``copies``: each copy's claimed counts and its print's legible counts (None: not read)."""
    doubtful: set[int] = set()
    seen: dict[int, set[int]] = {}
    for claimed, printed in copies:
        for i, n in enumerate(claimed):
            if n is None and (printed is None or i >= len(printed) or printed[i] is None):
                doubtful.add(i)
            elif n is not None:
                seen.setdefault(i, set()).add(n)
    return doubtful | {i for i, values in seen.items() if len(values) > 1}
