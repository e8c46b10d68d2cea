"""Spread per-candidate totals over the candidate's ballot positions.

Results tables often publish only one total per candidate, but the QR and the printed
acta carry one count per ballot position (party). The spread must be deterministic per
mesa (a drill re-run renders the same actas) and plausible: each candidate's votes are
drawn multinomially with the definition's mean position weights, jittered per mesa.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np

from veedor.definitions.schema import ElectionDefinition


def mesa_seed(*parts: object) -> int:
    """A stable 64-bit seed from any key (hash() is salted per process, so not usable)."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def position_weights(definition: ElectionDefinition) -> np.ndarray:
    raw = definition.raw.get("acta_render", {}).get("position_weights")
    if raw is None or len(raw) != len(definition.ballot):
        return np.ones(len(definition.ballot))
    return np.asarray(raw, dtype=float) + 1e-6


def spread_totals(
    totals: Mapping[str, int], definition: ElectionDefinition, key: str, seed: int = 0
) -> tuple[int, ...]:
    """Per-position votes whose per-candidate sums equal ``totals`` exactly."""
    rng = np.random.default_rng(mesa_seed("spread", seed, key))
    base = position_weights(definition)
    votes = np.zeros(len(definition.ballot), dtype=np.int64)
    for code in definition.candidate_codes:
        total = int(totals.get(code, 0))
        if total < 0:
            raise ValueError(f"total negativo / negative total for {code}: {total}")
        idx = [p.position for p in definition.ballot if p.candidate == code]
        if total == 0 or not idx:
            continue
        # Dirichlet around the mean weights: mesas differ, the big party stays big.
        weights = rng.dirichlet(base[idx] / base[idx].sum() * 30.0 + 0.05)
        votes[idx] = rng.multinomial(total, weights)
    result = tuple(int(v) for v in votes)
    assert definition.totals_by_candidate(result) == {
        c: int(totals.get(c, 0)) for c in definition.candidate_codes
    }
    return result
