"""Tally: votes per candidate at any geography level, from scanned actas or an imported table."""

from veedor.tally.aggregate import TallyResult, TallyRow, resolve_source, tally

__all__ = ["TallyResult", "TallyRow", "resolve_source", "tally"]
