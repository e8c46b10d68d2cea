"""Named checks on one acta's numbers, with messages a volunteer understands.

Each check returns a :class:`CheckResult`, or ``None`` when it cannot apply (for
example, the registry is not loaded). The definition lists which checks apply.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from veedor.model import ActaCounts, CheckResult

if TYPE_CHECKING:
    from veedor.definitions.schema import ElectionDefinition


@dataclass(frozen=True)
class RegistryView:
    """What is known about the geography, as plain lookups (a snapshot, picklable).

    Empty mappings mean "not known", never "does not exist".
    """

    centres: frozenset[str] = frozenset()
    mesas_per_centre: Mapping[str, int] = field(default_factory=dict)
    electors: Mapping[tuple[str, int], int] = field(default_factory=dict)
    mesas: frozenset[tuple[str, int]] = frozenset()
    """Every (centre, mesa) the registry lists, where it lists mesas one by one."""

    @property
    def loaded(self) -> bool:
        return bool(self.centres)


Check = Callable[[ActaCounts, "ElectionDefinition", RegistryView], CheckResult | None]
KNOWN_CHECKS: dict[str, Check] = {}


def _check(name: str) -> Callable[[Check], Check]:
    def decorate(func: Check) -> Check:
        KNOWN_CHECKS[name] = func
        return func

    return decorate


@_check("counts_non_negative")
def counts_non_negative(acta: ActaCounts, _d: ElectionDefinition, _r: RegistryView) -> CheckResult:
    bad = [i for i, v in enumerate(acta.votes) if v < 0]
    others = [k for k, v in {"nulos": acta.nulos, **acta.extra}.items() if v < 0]
    if bad or others:
        where = ", ".join([f"posición {i}" for i in bad] + others)
        return CheckResult("counts_non_negative", False, f"números negativos en {where} / negative counts")
    return CheckResult("counts_non_negative", True, "todos los números son ≥ 0 / all counts ≥ 0")


@_check("positions_count")
def positions_count(acta: ActaCounts, d: ElectionDefinition, _r: RegistryView) -> CheckResult:
    expected = len(d.ballot)
    got = len(acta.votes)
    return CheckResult(
        "positions_count",
        got == expected,
        f"{got} de {expected} posiciones de la boleta / {got} of {expected} ballot positions",
    )


@_check("blank_is_zero")
def blank_is_zero(acta: ActaCounts, _d: ElectionDefinition, _r: RegistryView) -> CheckResult | None:
    if "blank" not in acta.extra:
        return None
    value = acta.extra["blank"]
    return CheckResult(
        "blank_is_zero",
        value == 0,
        f"cuarto campo = {value} (siempre 0 en esta elección) / fourth field = {value}, expected 0",
    )


@_check("centre_in_registry")
def centre_in_registry(acta: ActaCounts, _d: ElectionDefinition, reg: RegistryView) -> CheckResult | None:
    if not reg.loaded:
        return None
    known = acta.centre in reg.centres
    return CheckResult(
        "centre_in_registry",
        known,
        f"centro {acta.centre} {'existe' if known else 'no existe'} en el registro / "
        f"centre {'found' if known else 'not found'} in the registry",
    )


@_check("mesa_in_centre")
def mesa_in_centre(acta: ActaCounts, _d: ElectionDefinition, reg: RegistryView) -> CheckResult | None:
    mesas = reg.mesas_per_centre.get(acta.centre)
    if mesas is None:
        return None
    ok = 1 <= acta.mesa <= mesas
    return CheckResult(
        "mesa_in_centre",
        ok,
        f"mesa {acta.mesa} de {mesas} del centro / table {acta.mesa} of {mesas} in the centre",
    )


@_check("mesa_in_registry")
def mesa_in_registry(acta: ActaCounts, _d: ElectionDefinition, reg: RegistryView) -> CheckResult | None:
    """The mesa itself is in the registry's list of mesas (where numbers run through a whole
    country, as Honduras' JRVs, a code naming a real JRV under another municipality fails here)."""
    if not reg.mesas:
        return None
    known = acta.key in reg.mesas
    return CheckResult(
        "mesa_in_registry",
        known,
        f"mesa {acta.centre}.{acta.mesa:02d} {'existe' if known else 'no existe'} en el registro / "
        f"mesa {'found' if known else 'not found'} in the registry",
    )


@_check("votes_within_electors")
def votes_within_electors(acta: ActaCounts, d: ElectionDefinition, reg: RegistryView) -> CheckResult | None:
    """No more votes than the mesa's electors; where they are unknown, than any mesa can have."""
    electors = reg.electors.get(acta.key)
    cast = sum(acta.votes) + acta.nulos
    if electors is None:
        if d.max_voters_per_mesa is None:
            return None
        bound = d.max_voters_per_mesa
        return CheckResult(
            "votes_within_electors",
            cast <= bound,
            f"{cast} votos (válidos + nulos); ninguna mesa tiene más de {bound} electores (definición) / "
            f"{cast} votes; no mesa has more than {bound} electors (definition)",
        )
    return CheckResult(
        "votes_within_electors",
        cast <= electors,
        f"{cast} votos (válidos + nulos) para {electors} electores / {cast} votes for {electors} electors",
    )


@_check("mesa_id_possible")
def mesa_id_possible(acta: ActaCounts, d: ElectionDefinition, _r: RegistryView) -> CheckResult:
    """A mesa number ≥ 1 and a centre code of the definition's ASCII digits, registry or not."""
    centre_ok = len(acta.centre) == d.centre_code_digits and acta.centre.isascii() and acta.centre.isdigit()
    ok = centre_ok and acta.mesa >= 1
    return CheckResult(
        "mesa_id_possible",
        ok,
        f"centro {acta.centre!r}, mesa {acta.mesa}"
        + ("" if ok else ": no existe tal mesa / no such mesa can exist"),
    )


def known_checks() -> dict[str, Check]:
    """veedor's checks and those other packages declare (entry point group ``veedor.checks``)."""
    from veedor.plugins import plugins

    for name, check in plugins("veedor.checks").items():
        KNOWN_CHECKS.setdefault(name, check)
    return KNOWN_CHECKS


def run_checks(acta: ActaCounts, definition: ElectionDefinition, registry: RegistryView) -> list[CheckResult]:
    results = []
    checks = known_checks()
    for name in definition.checks:
        result = checks[name](acta, definition, registry)
        if result is not None:
            results.append(result)
    return results


def failed(checks: list[CheckResult] | tuple[CheckResult, ...]) -> list[CheckResult]:
    return [c for c in checks if not c.passed]
