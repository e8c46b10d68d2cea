"""Turn what was read and checked into a status and a reason people understand."""

from __future__ import annotations

from veedor.model import CheckResult, Status

NO_QR = (
    "no se encontró ningún código QR legible; una persona debe revisar el acta / "
    "no readable QR code found; a person must look at this acta"
)


def decide(
    has_acta: bool, checks: tuple[CheckResult, ...] | list[CheckResult], problems: tuple[str, ...] = ()
) -> tuple[Status, str | None]:
    """``ok`` only when an acta was read and every check that applies passed."""
    failures = [c for c in checks if not c.passed]
    if has_acta and not failures:
        return Status.OK, None
    parts = [f"{c.name}: {c.detail}" for c in failures]
    if not has_acta:
        parts = list(problems) or [NO_QR]
    return Status.REVIEW, "; ".join(dict.fromkeys(parts))
