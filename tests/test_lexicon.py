"""The CTC likelihood that scores a doubtful number word against "Cero" … "Nueve", checked
against its definition: the sum over every path of steps that collapses to the word."""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from veedor.read.print.lexicon import _ctc_log_likelihood


def _by_definition(logp: np.ndarray, labels: list[int]) -> float:
    """Every path of one symbol per step (blank = 0); a path spells what is left after
    merging repeats and dropping blanks."""
    total = -math.inf
    steps, symbols = logp.shape
    for path in itertools.product(range(symbols), repeat=steps):
        merged = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
        if [k for k in merged if k != 0] == labels:
            total = float(np.logaddexp(total, sum(logp[t, k] for t, k in enumerate(path))))
    return total


@settings(max_examples=150, deadline=None)
@given(
    steps=st.integers(1, 5),
    symbols=st.integers(2, 4),
    labels=st.lists(st.integers(1, 3), max_size=3),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_forward_pass_sums_every_path_that_spells_the_word(steps, symbols, labels, seed) -> None:
    labels = [k for k in labels if k < symbols]
    logits = np.random.default_rng(seed).normal(0, 2, (steps, symbols))
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected = _by_definition(logp, labels)
    got = _ctc_log_likelihood(logp, labels)
    if math.isinf(expected):  # too few steps for the word (a repeat needs a blank between)
        assert got == -math.inf
    else:
        assert math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-9)
