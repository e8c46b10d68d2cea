"""Score a doubtful number word against the ten words it can be.

When the greedy reading of a word is not close to any number word ("aro" under a stamp
stroke), the recogniser's per-step probabilities still say how well each of "Cero" …
"Nueve" explains that stretch of the image (the CTC forward probability). A word is
taken only when one candidate beats every other by a wide margin; otherwise it stays
unknown and the line goes to review.
"""

from __future__ import annotations

import math

import numpy as np

from veedor.read.print.ocr import Text
from veedor.read.print.words import digit_words, word_digit, words_per_count

MARGIN = math.log(1000.0)  # the winner must be a thousand times likelier than the next
EXPLAINS = math.log(20.0)  # a text "explains" an image within a factor 20 of the best reading
_SEPARATORS = ",; "


def _ctc_log_likelihood(logp: np.ndarray, labels: list[int]) -> float:
    """log P(labels | steps) under CTC, blank = column 0 (the forward pass, one step of every
    state at a time: a missing predecessor is -inf, which log-add leaves out exactly)."""
    ext = np.zeros(2 * len(labels) + 1, dtype=np.intp)
    ext[1::2] = labels
    n = len(ext)
    emit = logp[:, ext]
    # A state may be reached from two back when it is a label unlike the one two back.
    skip = np.zeros(n, dtype=bool)
    skip[2:] = (ext[2:] != 0) & (ext[2:] != ext[:-2])
    alpha = np.full(n, -np.inf)
    alpha[0] = emit[0, 0]
    if n > 1:
        alpha[1] = emit[0, 1]
    one_back = np.full(n, -np.inf)
    two_back = np.full(n, -np.inf)
    for t in range(1, logp.shape[0]):
        one_back[1:] = alpha[:-1]
        two_back[2:] = np.where(skip[2:], alpha[:-2], -np.inf)
        alpha = np.logaddexp(np.logaddexp(alpha, one_back), two_back) + emit[t]
    return float(np.logaddexp(alpha[-1], alpha[-2]) if n > 1 else alpha[-1])


def _segments(text: Text) -> list[tuple[int, int]] | None:
    """Step ranges of the words, cut where the greedy path emits a separator."""
    assert text.probs is not None
    best = text.probs.argmax(axis=1)
    seps = {i + 1 for i, c in enumerate(text.alphabet) if c in _SEPARATORS}
    cuts, start, inside = [], 0, False
    for t, k in enumerate(best):
        if k in seps:
            if inside:
                cuts.append((start, t))
            inside = False
        elif k != 0 and not inside:
            start, inside = t, True
    if inside:
        cuts.append((start, len(best)))
    # Pad each word with the blank steps around it: letters may start a step early.
    return [(max(0, a - 1), min(len(best), b + 1)) for a, b in cuts]


def word_digits(text: Text, width: int | None = None, margin: float = MARGIN) -> list[int | None]:
    """Each word's digit: by spelling when it is clear, else by likelihood (the winner
    ``margin`` likelier than the next), else None."""
    import re

    width = words_per_count() if width is None else width
    spelled = re.findall(r"[A-ZÁÉÍÓÚ][a-záéíóúñ]*|[a-záéíóúñ]+", text.text)
    if text.probs is None or not text.alphabet:
        return [word_digit(w) for w in spelled] if len(spelled) == width else [None] * width
    segments = _segments(text)
    if segments is None or len(segments) != width:
        return [word_digit(w) for w in spelled] if len(spelled) == width else [None] * width
    probs = text.probs.copy()
    # Separators inside a segment count as blanks: the word is all that is scored.
    for i, c in enumerate(text.alphabet):
        if c in _SEPARATORS:
            probs[:, 0] += probs[:, i + 1]
            probs[:, i + 1] = 0.0
    logp = np.log(np.clip(probs / probs.sum(axis=1, keepdims=True), 1e-12, None))
    index = {c: i + 1 for i, c in enumerate(text.alphabet)}
    out: list[int | None] = []
    for k, (a, b) in enumerate(segments):
        clear = word_digit(spelled[k]) if len(spelled) == width else None
        if clear is not None:
            out.append(clear)
            continue
        scores = sorted(
            (
                (_ctc_log_likelihood(logp[a:b], [index[c] for c in w if c in index]), d)
                for d, w in enumerate(digit_words())
            ),
            reverse=True,
        )
        top, second = scores[0], scores[1]
        out.append(top[1] if top[0] - second[0] >= margin and np.isfinite(top[0]) else None)
    return out


def words_value(texts: list[Text], width: int | None = None) -> int | None:
    """The count the words spell, or None when any word is unknown."""
    if not texts:
        return None
    if len(texts) > 1:  # words wrapped onto a second line: join their step ranges
        joined = Text(
            ", ".join(t.text for t in texts),
            min(t.confidence for t in texts),
            None,
            texts[0].alphabet,
        )
        digits = word_digits(joined, width)
    else:
        digits = word_digits(texts[0], width)
    if any(d is None for d in digits):
        return None
    return int("".join(str(d) for d in digits))


def _greedy_labels(probs: np.ndarray) -> list[int]:
    best = probs.argmax(axis=1)
    labels, previous = [], 0
    for k in best:
        if k != previous and k != 0:
            labels.append(int(k))
        previous = int(k)
    return labels


def explains(text: Text, candidate: str) -> bool:
    """Whether ``candidate`` is about as likely, for this piece, as the greedy reading.

    Used only to confirm a number the words already spell: a digit half hidden by a
    stroke still leaves its likelihood close to the best; a different printed number
    does not.
    """
    if text.probs is None or not text.alphabet or not candidate:
        return False
    index = {c: i + 1 for i, c in enumerate(text.alphabet)}
    if any(c not in index for c in candidate):
        return False
    logp = np.log(np.clip(text.probs / text.probs.sum(axis=1, keepdims=True), 1e-12, None))
    wanted = _ctc_log_likelihood(logp, [index[c] for c in candidate])
    best = _ctc_log_likelihood(logp, _greedy_labels(text.probs))
    return bool(np.isfinite(wanted) and wanted >= best - EXPLAINS)
