"""The scan report: one JSON object per input file (a contract other tools read; see docs/report.md)."""

from __future__ import annotations

import json
from typing import Any

from veedor.definitions import ElectionDefinition
from veedor.model import FileOutcome


def outcome_record(outcome: FileOutcome, definition: ElectionDefinition) -> dict[str, Any]:
    acta = outcome.acta
    acta_json = None
    if acta is not None:
        acta_json = {
            "acta_id": acta.acta_id,
            "centro": acta.centre,
            "mesa": acta.mesa,
            "votes": list(acta.votes),
            "nulos": acta.nulos,
            "totals": (
                definition.totals_by_candidate(acta.votes)
                if len(acta.votes) == len(definition.ballot)
                else None
            ),
        }
    winner = outcome.winning_reading
    return {
        "file": outcome.file,
        "sha256": outcome.sha256,
        "status": outcome.status.value,
        "reason": outcome.reason,
        "acta": acta_json,
        # The acta's id even where no numbers were read (a form whose QR only names it).
        "acta_id": acta.acta_id if acta is not None else (outcome.copy.acta_id if outcome.copy else None),
        "source": outcome.source,
        "engine": winner.engine if winner else None,
        "variant": winner.variant if winner else None,
        "checks": [c.as_dict() for c in outcome.checks],
        "duplicate_of": outcome.duplicate_of,
        "ms": outcome.ms,
        "grade": outcome.copy.grade.value if outcome.copy else None,
        "mesa": outcome.mesa,
    }


def outcome_json(outcome: FileOutcome, definition: ElectionDefinition) -> str:
    return json.dumps(outcome_record(outcome, definition), ensure_ascii=False)
