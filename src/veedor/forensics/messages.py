"""Every sentence the forensics report shows, as an English gettext msgid with ``{named}``
placeholders. The library returns the English text *and* the msgid with its parameters, so a
caller translates with ``veedor.i18n.gettext(msgid, lang).format(**params)``.

Example: ``Message(RESULT, {...}).english()``; ``[m.to_dict() for m in result.messages]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Message:
    """A msgid and the values of its placeholders (already formatted as text)."""

    msgid: str
    params: dict[str, str] = field(default_factory=dict)

    def english(self) -> str:
        return self.msgid.format(**self.params)

    def translated(self, gettext: Any, lang: str) -> str:
        """Through a gettext(msgid, lang) function, e.g. ``veedor.i18n.gettext``."""
        return str(gettext(self.msgid, lang)).format(**self.params)

    def to_dict(self) -> dict[str, Any]:
        return {"msgid": self.msgid, "params": dict(self.params)}


def join(messages: list[Message]) -> str:
    """The English text of several messages, as one paragraph."""
    return " ".join(m.english() for m in messages)


# ---- what each test is, and what it cannot show --------------------------------------------

WHAT = {
    "second_digit": "Second-digit Benford test (2BL, Mebane): the mean second digit of {candidate}'s counts of 10 votes or more.",
    "last_digit": "Last-digit test (Beber & Scacco): Pearson's chi-square of the last digits of {candidate}'s counts of 100 votes or more against equal frequencies.",
    "counts_0_5": "Round counts (EFToolkit C05s): how many of {candidate}'s counts of 100 votes or more end in 0 or 5.",
    "percent_0_5": "Round percentages (EFToolkit P05s): how many mesas give {candidate} a percentage of the valid votes that, rounded, ends in 0 or 5.",
    "integer_share": "Integer percentages (Kobak, Shpilkin & Pshenichnikov): how many mesas give {candidate} exactly the count that makes a whole-number percentage of the valid votes.",
    "integer_turnout": "Integer turnout (Kobak, Shpilkin & Pshenichnikov): how many mesas report exactly the number of voters that makes a whole-number percentage of the registered electors.",
    "fingerprint_incremental": "Election fingerprint (Klimek et al.): the estimated fraction of mesas with incremental ballot stuffing for {candidate}, from the turnout-versus-share histogram weighted by voters.",
    "fingerprint_extreme": "Election fingerprint (Klimek et al.): the estimated fraction of mesas with extreme ballot stuffing for {candidate} (turnout and share both near 100 %).",
    "neighbours": "Neighbours: how many mesas give {candidate} a share more than {threshold} robust standard deviations away from the other mesas of the same centre (or parish).",
}

LIMITS = {
    "second_digit": "Real counts of this size do not follow Benford's law exactly, so the textbook p-value ({reference_p}) flags clean elections; the Monte Carlo p-value compares with clean simulated elections instead, and still reacts to any difference between the data and that model, fraud or not.",
    "last_digit": "Invented numbers tend to favour some digits; honest counts of 100 or more have nearly equal last digits. It cannot see stuffing that adds votes without choosing digits.",
    "counts_0_5": "People who invent numbers favour endings in 0 and 5. It cannot see stuffing that adds votes without choosing round numbers.",
    "percent_0_5": "A count made up to hit a round percentage shows here. It cannot see stuffing that does not aim at round percentages.",
    "integer_share": "An excess means someone wrote numbers to hit round percentages; an honest count hits them only by chance (about 100 / valid votes per mesa). It cannot see stuffing that does not aim at round percentages.",
    "integer_turnout": "An excess means someone wrote turnouts to hit round percentages. It cannot see stuffing that does not aim at round percentages, and it needs the registered electors of each mesa.",
    "fingerprint_incremental": "It compares the data with a model of clean voting plus stuffing; regional differences the model does not capture can look like stuffing, and moderate stuffing spread evenly is partly absorbed by the model.",
    "fingerprint_extreme": "Mesas with turnout and share both near 100 % are what extreme stuffing leaves; a few such mesas can also be genuine (small, very united communities).",
    "neighbours": "A mesa unlike its neighbours may be a typing error, a different population (a barracks, a hospital) or tampering: it is a list to check against the actas, not a finding.",
}

RESULT = (
    "Statistic {statistic} (expected {expected} in clean simulated elections of this size); "
    "Monte Carlo p = {p_value}, {p_adjusted} after Holm's correction over the {tests} tests of the battery."
)
RESULT_NORMAL_TAIL = "Fewer than 10 of the {reps} simulations reached the statistic, so the p-value extrapolates their normal approximation."
FLAGGED = "Flagged: unlikely in a clean count of this size."
FINGERPRINT_TINY = (
    "The p-value is small but the estimate is tiny ({estimate} of the mesas, about {mesas} mesas): a handful of "
    "genuine mesas with turnout and share near 100 % is enough, so this is not flagged (a flag needs 0.1 %)."
)
NOT_FLAGGED = "Not flagged."
CALIBRATION = (
    "Calibration at this size: it flagged {fpr} of {clean} clean simulated elections, and {power} of those "
    "with stuffing for this candidate in 20 % of the mesas ({power5} at 5 %), and {rounded} of those where 5 % of the "
    "mesas were made up to give this candidate a whole-number percentage."
)
CANNOT_TELL = "At this size this test cannot tell clean from stuffed results: its p-value is no evidence of stuffing either way."
CAN_TELL = "At this size this test does tell clean from stuffed results."
SKIPPED = "{test} for {candidate} was not run: only {n} mesas qualify, fewer than {minimum}."
SKIPPED_MINOR = (
    "Digit tests were not run for {candidates}: fewer than half of their mesas have counts large enough "
    "(10 votes for the second digit, 100 for the last), so the digits would describe that selection, not the count."
)

# ---- the fingerprint estimate ----------------------------------------------------------------

KLIMEK_ESTIMATED = (
    "Klimek et al.'s model fitted to {candidate}'s fingerprint: incremental stuffing in {f_incremental} of the mesas "
    "(90 % interval {incremental_low}–{incremental_high}), extreme stuffing in {f_extreme} "
    "({extreme_low}–{extreme_high}); the fit leaves {ratio} times the residual that chance alone would."
)
KLIMEK_POOR_FIT = (
    "The model fits poorly (residual {ratio} times chance): the data differ from clean voting plus stuffing in some "
    "other way too (regional patterns, heavy tails), so read these fractions as indicative only. The model also "
    "absorbs part of any stuffing spread evenly: in simulations, incremental stuffing in 20 % of the mesas was "
    "estimated at about 5 %."
)
KLIMEK_NO_ELECTORS = (
    "The stuffing fractions for {candidate} cannot be estimated: turnout needs the registered electors, known for "
    "only {mesas} mesas."
)

# ---- bulletins ------------------------------------------------------------------------------

BULLETIN_EXACT = (
    "Every count of {bulletin} is exactly the total ({total}) times a round tenth of a percent: {details}. "
    "In an honest count this happens with probability about {probability} (1 in {one_in})."
)
BULLETIN_NOT_EXACT = (
    "The counts of {bulletin} are not all the total times a round tenth of a percent ({details}); the probability "
    "of counts at least this close to round tenths in an honest count is {probability}; a product of many such "
    "probabilities is small even by chance, and combined by Fisher's method they give p = {fisher}."
)
BULLETIN_DERIVATION = (
    "Derivation: a share that is a whole number of tenths of a percent, k/1000, of a total T is the count "
    "round(k·T/1000); these counts are T/1000 = {spacing} votes apart. In an honest count the number of votes a "
    "candidate gets is uncertain by far more than that spacing (it depends on millions of voters' choices), so "
    "where it falls between two such counts is uniform, and it lands within d votes of one with probability "
    "(2d + 1)/(T/1000), 1/(T/1000) for an exact hit. The counts sum to the total, so only {free} of the {counts} are free: "
    "the probability is the product over all counts but the most unusual one (which is conservative), {product}."
)
BULLETIN_SEQUENCE_OK = (
    "{later} keeps or raises every count of {earlier}, as a later bulletin with more actas must."
)
BULLETIN_SEQUENCE_BAD = "{later} gives fewer votes than {earlier} to {names}: a later bulletin with more actas cannot lower a count."
BULLETIN_SUMS_OK = "The parts of {bulletin} add up: {details}."
BULLETIN_SUMS_BAD = "The parts of {bulletin} do not add up: {details}."
BULLETIN_ELECTORS = (
    "{bulletin} announces {voters} voters and a turnout of {turnout} %, which means {implied} registered electors; "
    "the registry given is {registered} ({difference} apart)."
)
BULLETIN_ACTAS_OK = (
    "{bulletin} is compatible with the {mesas} verified actas, even in the worst case where the {left_out} mesas it "
    "had not counted are verified ones."
)
BULLETIN_ACTAS_BAD = (
    "{bulletin} cannot be right if the {mesas} verified actas are, even in the worst case where the {left_out} "
    "mesas it had not counted are the verified ones that help it most:"
)
BULLETIN_ACTAS_BELOW = "{name} has {bulletin_votes} votes in the bulletin, but at least {acta_votes} in the actas it must include."
BULLETIN_ACTAS_ABOVE = "The bulletin leaves {left} valid votes to everyone but {name}, who have at least {needed} in the actas it must include."


def all_msgids() -> list[str]:
    """Every msgid of the module (for the catalogs). Example: ``len(all_msgids())``."""
    ids: list[str] = [*WHAT.values(), *LIMITS.values()]
    ids += [value for name, value in globals().items() if name.isupper() and isinstance(value, str)]
    return list(dict.fromkeys(ids))
