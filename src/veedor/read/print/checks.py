"""The print's checks, in words a volunteer understands: against itself and against the QR.

Pure functions: no OCR, no I/O. ``print_checks`` judges one reading of the print (every count
is printed twice, the lines must add up); ``qr_print_check`` compares the QR's numbers with the
print's, line by line. They live with the print reader because a reading of the print is only
whole with its own checks; :mod:`veedor.verify` decides what they mean for the acta's status.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from veedor.model import ActaCounts, CheckResult
from veedor.read.print.rows import one_slip, slipped

if TYPE_CHECKING:
    from veedor.read.print.parse import Line, PrintReading

QR_PRINT = "qr_print_mismatch"


def _label(i: int, line: Line | None) -> str:
    return f"línea {i + 1}" + (f" ({line.label})" if line is not None else "")


def _digits_vs_words(named: Sequence[tuple[str, Line]]) -> CheckResult:
    bad = []
    unread = sum(1 for _, ln in named if not ln.words_read)
    named = [(name, ln) for name, ln in named if ln.words_read]
    for name, ln in named:
        if not ln.agrees:
            bad.append(f"{name}: cifras {ln.digits_text!r} vs letras {ln.words_text!r}")
    if bad:
        return CheckResult(
            "print_digits_words",
            False,
            "cifras y letras no coinciden / digits and words differ: " + "; ".join(bad),
        )
    detail = f"cifras y letras coinciden en {len(named)} filas / digits agree with words"
    if unread:
        detail += (
            f"; en {unread} filas solo se leyeron las cifras (iguales al QR) / "
            "digits only where they equal the QR"
        )
    return CheckResult("print_digits_words", True, detail)


def lines_placed(lines: Sequence[Line | None], codes: Sequence[int | None]) -> CheckResult:
    """Print only: every line with votes was read on the row whose printed party code is
    its position's (:func:`_code_places`). No sum can see rows out of place: votes moved
    from one line to another keep every total, so on a print-only acta the codes are what
    says whose votes they are. A line at zero needs no code: whatever row sits there, no
    vote is given to anyone."""
    unplaced = [
        f"{_label(i, ln)}: {ln.value} con código {ln.code_text!r}, no {code}"
        for i, (ln, code) in enumerate(zip(lines, codes, strict=True))
        if ln is not None and ln.value and not (code is not None and _code_places(ln.code_text, code))
    ]
    if unplaced:
        return CheckResult(
            "print_lines_placed",
            False,
            "filas con votos sin el código de su partido / rows with votes lack their party's code: "
            + "; ".join(unplaced),
        )
    return CheckResult(
        "print_lines_placed", True, "cada fila con votos lleva su código / each row with votes has its code"
    )


def _code_places(text: str, code: int) -> bool:
    """The code read is the position's, or one glyph off it; where the sheet's edge cut its
    first glyphs, its end ("92" of 1092, "50" for the "60" of 460), or its last glyph."""
    if slipped(text, code):
        return True
    raw, own = text.replace(" ", ""), str(code)
    return raw.isdigit() and (
        own.endswith(raw) or (1 < len(raw) < len(own) and one_slip(raw, own[-len(raw) :]))
    )


def print_checks(
    lines: Sequence[Line | None],
    summary: dict[str, Line],
    acta_id: str | None,
    centre: str | None,
    positions: int,
) -> list[CheckResult]:
    """The print's redundancy checks; each names what disagrees."""
    checks = []
    missing = [i for i, ln in enumerate(lines) if ln is None]
    checks.append(
        CheckResult(
            "print_lines_found",
            not missing and len(lines) == positions,
            f"{positions - len(missing)} de {positions} líneas leídas / ballot lines read"
            + (f"; faltan / missing: {', '.join(str(i + 1) for i in missing)}" if missing else ""),
        )
    )
    named = [(_label(i, ln), ln) for i, ln in enumerate(lines) if ln is not None]
    # Only the summary rows the sums use; the others are printed but not needed.
    named += [(f"resumen {k}", summary[k]) for k in ("votos", "validos", "nulos") if k in summary]
    checks.append(_digits_vs_words(named))
    votes = [ln.value for ln in lines if ln is not None]
    validos = summary["validos"].value if "validos" in summary else None
    nulos = summary["nulos"].value if "nulos" in summary else None
    votos = summary["votos"].value if "votos" in summary else None
    if missing or any(v is None for v in votes) or validos is None:
        checks.append(
            CheckResult(
                "print_lines_sum", False, "no se puede sumar: faltan números / cannot add up: numbers missing"
            )
        )
    else:
        total = sum(v for v in votes if v is not None)
        checks.append(
            CheckResult(
                "print_lines_sum",
                total == validos,
                f"suma de líneas {total} vs votos válidos {validos} / lines sum vs valid votes",
            )
        )
    if validos is None or nulos is None or votos is None:
        checks.append(
            CheckResult(
                "print_valid_plus_null",
                False,
                "resumen incompleto / summary incomplete (votos, válidos, nulos)",
            )
        )
    else:
        checks.append(
            CheckResult(
                "print_valid_plus_null",
                validos + nulos == votos,
                f"válidos {validos} + nulos {nulos} = {validos + nulos} vs votos {votos}",
            )
        )
    if acta_id is None or centre is None:
        checks.append(
            CheckResult(
                "print_header", False, "no se leyó el identificador o el centro / acta id or centre not read"
            )
        )
    else:
        checks.append(
            CheckResult(
                "print_header",
                acta_id.startswith(centre + "."),
                f"acta {acta_id} y centro impreso {centre} / acta id vs printed centre code",
            )
        )
    return checks


def qr_print_check(
    qr: ActaCounts, printed: PrintReading | ActaCounts, names: Sequence[str] | None = None
) -> CheckResult:
    """Compare the QR's numbers with the print's, line by line.

    Any difference (a count, nulos, the acta id) fails; the detail names every differing
    line with both readings, so a person can look at exactly those lines.
    """
    acta = printed.acta if hasattr(printed, "acta") else printed
    if acta is None:
        return CheckResult(QR_PRINT, False, "la impresión no se pudo leer / the print could not be read")
    diffs = []
    if qr.acta_id and acta.acta_id and qr.acta_id != acta.acta_id:
        diffs.append(f"acta QR {qr.acta_id} vs impresa {acta.acta_id}")
    elif not acta.acta_id and acta.centre and qr.centre != acta.centre:
        diffs.append(f"centro QR {qr.centre} vs impreso {acta.centre}")
    elif not acta.acta_id and not acta.centre:
        # Equal numbers alone do not say the QR belongs to this sheet (a real QR of
        # another mesa pasted on it): without the printed id or centre, a person looks.
        diffs.append("no se leyó el acta ni el centro impresos / printed acta id and centre not read")
    for i, (a, b) in enumerate(zip(qr.votes, acta.votes, strict=False)):
        if a != b:
            name = f" ({names[i]})" if names and i < len(names) else ""
            if b < 0:
                diffs.append(f"línea {i + 1}{name}: QR {a} vs impreso ilegible / unreadable")
            else:
                diffs.append(f"línea {i + 1}{name}: QR {a} vs impreso {b}")
    if len(qr.votes) != len(acta.votes):
        diffs.append(f"{len(qr.votes)} posiciones en el QR vs {len(acta.votes)} impresas")
    if qr.nulos != acta.nulos:
        shown = "ilegible / unreadable" if acta.nulos < 0 else str(acta.nulos)
        diffs.append(f"nulos: QR {qr.nulos} vs impreso {shown}")
    if diffs:
        return CheckResult(
            QR_PRINT, False, "QR e impresión difieren / QR and print differ: " + "; ".join(diffs)
        )
    return CheckResult(
        QR_PRINT, True, "QR e impresión coinciden en todas las líneas / QR and print agree on every line"
    )
