"""Turn what was read and checked into a status and a reason people understand.

The rule: ``ok`` only when the numbers were read and every check that applies passed,
including the comparison of the QR with the printed table. An acta read from the print
alone is ``ok`` only when every redundancy check of the print agrees.
"""

from __future__ import annotations

from dataclasses import dataclass

from veedor.definitions import ElectionDefinition
from veedor.model import ActaCounts, CheckResult, Status
from veedor.read.print import PrintReading
from veedor.read.print.checks import qr_print_check
from veedor.verify.checks import RegistryView, run_checks
from veedor.verify.crosscheck import explain

NO_QR = "no se encontró ningún código QR legible / no readable QR code found"
NO_PRINT = "print_found"
IDENTITY_CHECKS = ("centre_in_registry", "mesa_in_centre", "mesa_in_registry", "mesa_id_possible")
"""The checks on an acta's id alone (no counts): run on a code that names the acta only."""
QR_ONLY_MODE = (
    "QR leído sin compararlo con la impresión (--qr-only): nada en la imagen lo confirma; su mesa "
    "cuenta solo en la cifra preliminar hasta que una copia confirmada o veedor rescan la confirme / "
    "QR read without the print cross-check (--qr-only): counted only in the preliminary figure"
)


@dataclass(frozen=True)
class Verdict:
    acta: ActaCounts | None
    source: str | None
    checks: tuple[CheckResult, ...]
    status: Status
    reason: str | None


def _status(checks: list[CheckResult]) -> Status:
    return Status.OK if all(c.passed for c in checks) else Status.REVIEW


def judge(
    qr_acta: ActaCounts | None,
    qr_problems: tuple[str, ...],
    printed: PrintReading | None,
    definition: ElectionDefinition,
    registry: RegistryView,
    *,
    cross_check: bool = True,
    identity: ActaCounts | None = None,
) -> Verdict:
    """``identity``: the acta a code names when it carries no counts (``payload.counts`` false):
    the sheet and people give the numbers, so it is judged as a sheet without a QR claim."""
    if qr_acta is not None:
        checks = run_checks(qr_acta, definition, registry)
        if cross_check:
            if printed is None:
                checks.append(
                    CheckResult(
                        NO_PRINT,
                        False,
                        "QR leído, pero no se encontró la tabla impresa para compararlo / "
                        "QR read, but no printed table was found to cross-check it",
                    )
                )
            else:
                names = [b.acronym for b in definition.ballot]
                checks.append(qr_print_check(qr_acta, printed, names))
                checks += [c for c in printed.checks if c.name == "print_single_acta"]
        status = _status(checks)
        reason = (
            None if status is Status.OK else explain(None, printed, checks) if printed else _failed(checks)
        )
        if not cross_check and status is Status.OK:
            # ok means "may be counted with nobody looking"; a QR nobody compared is not that.
            status, reason = Status.REVIEW, QR_ONLY_MODE
        return Verdict(qr_acta, "qr", tuple(checks), status, reason)
    qr_words = "; ".join(dict.fromkeys(qr_problems)) or NO_QR
    identity_checks: list[CheckResult] = []
    if identity is not None:
        # The acta the code names is checked against the registry like any other: a JRV that
        # does not exist there is said so, for the people who will type it.
        identity_checks = [c for c in run_checks(identity, definition, registry) if c.name in IDENTITY_CHECKS]
        qr_words = (
            f"el código QR identifica el acta {identity.acta_id} y no lleva los números / "
            f"the QR names acta {identity.acta_id} and carries no counts"
        )
    if printed is None:
        reason = (
            qr_words + "; no se encontró la tabla impresa; una persona debe revisar el acta / "
            "printed table not found; a person must look at this acta"
        )
        return Verdict(None, None, (), Status.REVIEW, reason)
    acta = printed.acta
    # An incomplete print reading is evidence for a person, never numbers for the mesa.
    if acta is not None and (min(acta.votes, default=-1) < 0 or acta.nulos < 0):
        acta = None
    checks = list(printed.checks) + identity_checks
    if acta is not None:
        checks += run_checks(acta, definition, registry)
    ok = acta is not None and printed.agrees and all(c.passed for c in checks)
    status = Status.OK if ok else Status.REVIEW
    reason = None if ok else explain(qr_words, printed, checks)
    return Verdict(acta, "print" if acta is not None else None, tuple(checks), status, reason)


def _failed(checks: list[CheckResult]) -> str:
    return "; ".join(f"{c.name}: {c.detail}" for c in checks if not c.passed)
