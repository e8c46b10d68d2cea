"""``veedor forensics``' inputs and outputs: the per-mesa arrays of a source and the imported
bulletins, read from the store for :func:`veedor.forensics.run_battery`; and the report, one
self-contained HTML page per language (figures embedded) rendered from the battery's JSON, so
the command, the public site and the static site show the same report.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from veedor.definitions import ElectionDefinition
from veedor.forensics import BatteryResult, Bulletin, fingerprint_png, run_battery
from veedor.i18n import gettext, templates
from veedor.store.official import OfficialSource, OfficialUnit, OfficialVotes
from veedor.tally.coverage import verified_mesas

TEMPLATES = Path(__file__).parent / "templates"
LATEST = "forensics_latest"
"""Setting: the latest battery's JSON, which the public site shows."""


def election_arrays(session: Session, definition: ElectionDefinition, source: str) -> dict[str, Any]:
    """The keyword arguments of :func:`run_battery` for one source's verified mesas."""
    frame = verified_mesas(session, definition, source)
    codes = list(definition.candidate_codes)
    parish_digits = definition.levels[-2].code_digits if len(definition.levels) > 1 else None
    centres = frame["centre"].to_list()
    return {
        "votes": frame.select(codes).to_numpy().astype(np.int64)
        if frame.height
        else np.zeros((0, len(codes))),
        "candidates": codes,
        "electors": frame["electors"].cast(float).fill_null(float("nan")).to_numpy(),
        "nulls": frame["nulos"].fill_null(0).to_numpy(),
        "centre": np.array([int(c) for c in centres], dtype=np.int64),
        "parish": np.array([int(c[:parish_digits]) for c in centres], dtype=np.int64)
        if parish_digits
        else None,
        "ids": [f"{c}.{m:02d}" for c, m in zip(centres, frame["mesa"].to_list(), strict=True)],
    }


def stored_bulletins(session: Session, definition: ElectionDefinition) -> list[Bulletin]:
    """Each imported official source's national figure as a bulletin (its "others" block as a
    count of its own, as announced)."""
    out = []
    for source, unit in session.execute(
        select(OfficialSource, OfficialUnit)
        .join(OfficialUnit, OfficialUnit.source_id == OfficialSource.id)
        .where(OfficialSource.election == definition.id, OfficialUnit.level == "national")
        .order_by(OfficialSource.id)
    ):
        votes = dict(
            session.execute(
                select(OfficialVotes.candidate, OfficialVotes.votes).where(OfficialVotes.unit_id == unit.id)
            ).all()
        )
        if unit.others is not None:
            votes["others"] = unit.others
        out.append(
            Bulletin(
                id=source.key,
                votes=votes,
                valid=unit.valid,
                voters=unit.voters,
                null_votes=unit.nulos,
                actas_pct=source.actas_pct,
            )
        )
    return out


def battery_for(
    session: Session,
    definition: ElectionDefinition,
    source: str,
    bulletins: list[Bulletin],
    **options: Any,
) -> BatteryResult:
    registered = (definition.raw.get("geography", {}).get("registered_electors") or {}).get("value")
    return run_battery(
        **election_arrays(session, definition, source),
        bulletins=bulletins,
        registered=registered,
        national_mesas=definition.national_mesas,
        **options,
    )


def report_json(result: BatteryResult, definition: ElectionDefinition, source: str) -> dict[str, Any]:
    """The battery's JSON with what a report shows besides: the source, the election, and each
    candidate's fingerprint as a PNG (base64)."""
    data = result.to_dict()
    data["source"] = source
    data["election"] = definition.id
    data["figures"] = {
        candidate: base64.b64encode(fingerprint_png(hist)).decode()
        for candidate, hist in result.histograms.items()
    }
    return data


def render_report(data: dict[str, Any], definition: ElectionDefinition, lang: str) -> str:
    """The report in ``lang``: every sentence through the catalogs, figures inline."""
    names = {c.code: c.name for c in definition.candidates}

    def say(messages: list[dict[str, Any]]) -> str:
        return " ".join(gettext(m["msgid"], lang).format(**m["params"]) for m in messages)

    return (
        templates(TEMPLATES, lang)
        .get_template("forensics.html")
        .render(
            d=data,
            lang=lang,
            say=say,
            name=lambda code: names.get(code, code),
            election=definition.name_en if lang == "en" else definition.name_es,
        )
    )


def latest_forensics(store: Any) -> dict[str, Any] | None:
    """The latest battery's JSON (``veedor forensics`` keeps it), or None."""
    import json

    from veedor.store.schema import Setting

    with store.session() as session:
        setting = session.get(Setting, LATEST)
        return json.loads(setting.value) if setting is not None else None
