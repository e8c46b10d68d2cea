"""One mesa's state from all its copies: a pure function of the set, so order never matters.

The rule (docs/copies.md has it as a table, with the reason for each row):

- copies that *claim* numbers are the confirmed ones and the QR-only ones; partial copies are
  evidence for a person and never block; a contradictory copy's QR is no claim, but its
  legible print is weighed against the claims, and it always raises an alert;
- two claims with different numbers: ``conflict`` (a real dispute, for a person);
- one set of claimed numbers with a confirmed copy among them: ``ok``, counted, unless the
  legible print of a contradictory copy says otherwise (then ``conflict``);
- QR-only claims alone: ``unconfirmed`` (only in the labelled preliminary figure);
- nothing claimed: ``review``;
- copies people judged forged or another mesa's (:mod:`veedor.verify.verdicts`) are left out
  before the rule runs; a forged one raises an alert;
- a copy that is the same picture as another mesa's image (``pipeline/reuse.py``) raises an
  alert, and a mesa the machine would count waits for a person instead (``review``): at
  least one of the two mesas is not what its image claims, and the machine cannot tell which.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from veedor.model import ActaState, Grade

Numbers = tuple[tuple[int, ...], int, tuple[tuple[str, int], ...]]
"""(votes, nulos, extra) of a claim, comparable and hashable. Claims are compared on votes and
nulos, and on the extra fields both carry (a print does not show the QR's blank field)."""

CLAIMS = (Grade.CONFIRMED, Grade.QR_ONLY)
ALERT_PASTED = "qr_print_mismatch"
ALERT_OTHER_QR = "qr_other_numbers"
ALERT_FORGED = "people_forged"
ALERT_REUSED = "reused_photo"


@dataclass(frozen=True)
class Reused:
    """This image is the same picture as ``other``, filed under another mesa."""

    other: str
    original: bool = False
    """The pixels say this one is the original (the other's QR looks pasted on): its count
    stands, with the alert. Otherwise the mesa waits for a person."""


@dataclass(frozen=True)
class SeenCopy:
    """A stored copy as the rule sees it (see :class:`veedor.model.Copy`)."""

    sha256: str
    grade: Grade
    votes: tuple[int | None, ...]
    nulos: int | None
    extra: tuple[tuple[str, int], ...] = ()
    source: str = "qr"
    printed: tuple[int | None, ...] | None = None
    printed_nulos: int | None = None
    reused: Reused | None = None
    """Set when this image was found to be the same picture as another mesa's."""

    @property
    def numbers(self) -> Numbers | None:
        if self.nulos is None or any(v is None for v in self.votes):
            return None
        return tuple(v for v in self.votes if v is not None), self.nulos, self.extra


@dataclass(frozen=True)
class Alert:
    kind: str
    sha256: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "sha256": self.sha256, "detail": self.detail}


@dataclass(frozen=True)
class MesaDecision:
    state: ActaState
    reason: str | None
    numbers: Numbers | None
    """The counted numbers (``ok``), the preliminary ones (``unconfirmed``), else None."""
    alerts: tuple[Alert, ...] = ()
    support: tuple[str, ...] = ()
    """Copies whose numbers agree with ``numbers`` (all they read)."""
    audit: tuple[str, ...] = field(default=())
    """Copies that disagree with ``numbers`` or with each other: for a person to look at."""
    source: str = "machine"
    """"machine": the numbers follow from the copies; "people": people settled them; "chosen":
    the machine's reading of the copies left once people set others aside as forged or as
    another mesa's."""

    @property
    def counted(self) -> bool:
        return self.state is ActaState.OK


def agrees(counts: tuple[int | None, ...], nulos: int | None, numbers: Numbers) -> bool:
    """Every count read (not None) equals the claim's."""
    votes, want_nulos, _ = numbers
    if len(counts) != len(votes) or (nulos is not None and nulos != want_nulos):
        return False
    return all(c is None or c == v for c, v in zip(counts, votes, strict=True))


def _short(sha: str) -> str:
    return sha[:12]


def _alert_pasted(copy: SeenCopy) -> Alert:
    return Alert(
        ALERT_PASTED,
        copy.sha256,
        f"se envió una copia con un QR que no coincide con su impresión (imagen {_short(copy.sha256)}) / "
        "a copy with a QR that does not match its print was submitted",
    )


def _alert_other_qr(copy: SeenCopy) -> Alert:
    return Alert(
        ALERT_OTHER_QR,
        copy.sha256,
        f"una copia tiene un QR con otros números y su impresión no se pudo leer (imagen "
        f"{_short(copy.sha256)}) / a copy's QR claims other numbers and its print was not legible",
    )


def _versions(claims: list[SeenCopy]) -> list[Numbers]:
    """The distinct claimed numbers; extra fields only count where two claims both have them,
    and the version kept carries every extra field any claim gave."""
    core = sorted({(n[0], n[1]) for c in claims if (n := c.numbers) is not None})
    extras: dict[str, set[int]] = {}
    for c in claims:
        for key, value in c.extra:
            extras.setdefault(key, set()).add(value)
    if len(core) != 1:
        return [(v, n, ()) for v, n in core]
    if any(len(values) > 1 for values in extras.values()):
        return [(*core[0], ((k, v),)) for k, vs in sorted(extras.items()) for v in sorted(vs)]
    return [(*core[0], tuple(sorted((k, next(iter(vs))) for k, vs in extras.items())))]


@dataclass(frozen=True)
class PeopleSettled:
    """Numbers people settled for the mesa (``verify/settle.py``), with the copies they had."""

    numbers: Numbers
    copies: frozenset[str]


def decide_mesa(
    copies: Iterable[SeenCopy],
    settled: PeopleSettled | None = None,
    set_aside: Mapping[str, str] | None = None,
) -> MesaDecision:
    """The mesa's state from its copies and, when people settled it, from their numbers: they
    saw every copy then stored, so those no longer decide; a confirmed copy stored after them
    that says other numbers reopens it as a ``conflict``. Copies in ``set_aside`` (SHA-256 to
    "forged" or "other", as people judged them) are left out; a forged one raises an alert."""
    aside = set_aside or {}
    seen = [c for c in copies if c.sha256 not in aside]
    forged = tuple(_alert_forged(sha) for sha, verdict in sorted(aside.items()) if verdict == "forged")
    machine = _from_copies(seen)
    if aside:
        machine = replace(
            machine,
            alerts=machine.alerts + forged,
            source="chosen" if machine.numbers is not None else machine.source,
        )
    machine = _reused(machine, seen)
    if settled is None:
        return machine
    later = [
        c
        for c in seen
        if c.grade is Grade.CONFIRMED
        and c.sha256 not in settled.copies
        and (n := c.numbers) is not None
        and (n[0], n[1]) != (settled.numbers[0], settled.numbers[1])
    ]
    if later:
        return MesaDecision(
            ActaState.CONFLICT,
            f"una copia guardada después de que personas resolvieran esta mesa ({_short(later[0].sha256)}) "
            "dice otros números / a copy stored after people settled this mesa says other numbers",
            None,
            machine.alerts,
            audit=tuple(c.sha256 for c in later),
            source="people",
        )
    return MesaDecision(
        ActaState.OK, None, settled.numbers, machine.alerts, machine.support, machine.audit, "people"
    )


def _reused(decision: MesaDecision, copies: list[SeenCopy]) -> MesaDecision:
    reused = sorted((c.sha256, c.reused) for c in copies if c.reused)
    if not reused:
        return decision
    alerts = tuple(
        Alert(
            ALERT_REUSED,
            sha,
            f"la imagen {_short(sha)} es la misma foto que la imagen {_short(r.other)} de otra mesa"
            + (", cuyo QR parece pegado" if r.original else "")
            + f" / image {_short(sha)} is the same photo as another mesa's image {_short(r.other)}"
            + (", whose QR looks pasted on" if r.original else ""),
        )
        for sha, r in reused
    )
    held = any(not r.original for _, r in reused)
    if not held or decision.state not in (ActaState.OK, ActaState.UNCONFIRMED):
        return replace(decision, alerts=decision.alerts + alerts)
    return MesaDecision(
        ActaState.REVIEW,
        "una imagen de esta mesa es la misma foto que una de otra mesa; una persona debe comparar "
        "las dos / an image of this mesa is the same photo as another mesa's: a person must compare them",
        None,
        decision.alerts + alerts,
        audit=tuple(sorted({*decision.support, *decision.audit})),
        source=decision.source,
    )


def _alert_forged(sha: str) -> Alert:
    return Alert(
        ALERT_FORGED,
        sha,
        f"personas que revisaron la mesa juzgaron falsa una copia (imagen {_short(sha)}) / "
        "people who reviewed the mesa judged a copy forged",
    )


def _from_copies(copies: Iterable[SeenCopy]) -> MesaDecision:
    seen = sorted(copies, key=lambda c: (c.sha256, c.grade.value))
    claims = [c for c in seen if c.grade in CLAIMS and c.numbers is not None]
    pasted = [c for c in seen if c.grade is Grade.CONTRADICTORY]
    alerts = [_alert_pasted(c) for c in pasted]
    versions = _versions(claims)
    if len(versions) > 1:
        kinds = sorted({c.grade.value for c in claims})
        return MesaDecision(
            ActaState.CONFLICT,
            f"{len(versions)} versiones distintas de los números entre {len(claims)} copias que los "
            f"afirman ({', '.join(kinds)}); una persona debe comparar las imágenes / "
            f"{len(versions)} different sets of numbers among the copies that claim them",
            None,
            tuple(alerts),
            audit=tuple(c.sha256 for c in claims),
        )
    if not versions:
        why = (
            "ninguna copia confirma los números (todas parciales o contradictorias); una persona debe "
            "revisar / no copy confirms the numbers (all partial or contradictory)"
        )
        return MesaDecision(ActaState.REVIEW, why, None, tuple(alerts), audit=tuple(c.sha256 for c in seen))
    numbers = versions[0]
    against = [c for c in pasted if c.printed is not None and not agrees(c.printed, c.printed_nulos, numbers)]
    if against:
        return MesaDecision(
            ActaState.CONFLICT,
            f"la impresión legible de {len(against)} copia(s) con QR contradictorio ("
            + ", ".join(_short(c.sha256) for c in against)
            + ") dice otros números que las copias que los afirman / the legible print of a copy with a "
            "contradicting QR says other numbers than the claims",
            None,
            tuple(alerts),
            audit=tuple(c.sha256 for c in [*claims, *against]),
        )
    support, audit = [], []
    for c in seen:
        if c in claims or (c.grade is Grade.PARTIAL and agrees(c.votes, c.nulos, numbers)):
            support.append(c.sha256)
        elif c.grade is Grade.PARTIAL:
            audit.append(c.sha256)
            if c.source == "qr":  # a decoded QR is exact: its other numbers are a claim someone made
                alerts.append(_alert_other_qr(c))
    confirmed = any(c.grade is Grade.CONFIRMED for c in claims)
    if confirmed:
        state, reason = ActaState.OK, None
    else:
        state, reason = (
            ActaState.UNCONFIRMED,
            "solo hay QR sin impresión que los confirme; cuenta solo en la cifra preliminar / "
            "only QR codes with no print to confirm them: counted only in the preliminary figure",
        )
    return MesaDecision(state, reason, numbers, tuple(alerts), tuple(support), tuple(audit))
