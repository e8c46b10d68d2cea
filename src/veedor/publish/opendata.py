"""The open data the public site offers: one export (see :mod:`veedor.publish.export`) per
source, the verified actas and each imported results table, under stable names, with an index.

``data/<source>/`` holds that source's files and their ``manifest.json``; ``data/index.json``
lists every source and file (name, format, rows, bytes, SHA-256, what it holds). The names do
not change between publications, so a mirror or a script can fetch the same URL again.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from veedor.definitions import ElectionDefinition
from veedor.publish.export import FORMATS, export
from veedor.store.schema import MesaEvent, ResultTable
from veedor.tally.sources import SCAN

INDEX = "index.json"


def sources(session: Session, definition: ElectionDefinition) -> list[tuple[str, str, str]]:
    """(folder, source spec, label) of every source: the verified actas, then each table."""
    tables = session.execute(
        select(ResultTable.id, ResultTable.name)
        .where(ResultTable.election == definition.id)
        .order_by(ResultTable.id)
    ).all()
    return [("verified", SCAN, "verified actas"), *((f"table-{i}", f"table:{i}", name) for i, name in tables)]


def data_as_of(session: Session) -> datetime:
    """The time of the last change the open data shows (a mesa's state, a table imported)."""
    times = [
        session.scalar(select(func.max(MesaEvent.at))),
        session.scalar(select(func.max(ResultTable.imported_at))),
    ]
    known = [t if t.tzinfo else t.replace(tzinfo=UTC) for t in times if t is not None]
    return max(known, default=datetime(1970, 1, 1, tzinfo=UTC))


def write_open_data(
    session: Session, definition: ElectionDefinition, out: str | Path, formats: tuple[str, ...] = FORMATS
) -> dict[str, Any]:
    """Write ``out/<source>/`` for every source and ``out/index.json``; returns the index.

    Each source is exported beside ``out`` first and then put in place by one rename, so a
    reader never sees a folder half written. Its time (``created_at``) is that of the data, the
    last change it shows: the same data gives the same bytes, and a mirror fetches only what
    changed."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    index: dict[str, Any] = {"election": definition.id, "sources": []}
    as_of = data_as_of(session)
    for folder, spec, label in sources(session, definition):
        with tempfile.TemporaryDirectory(dir=out, prefix=".new-") as scratch:
            manifest = export(session, definition, scratch, source=spec, formats=formats, now=as_of)
            old = out / f".old-{folder}"
            target = out / folder
            if target.exists():
                os.replace(target, old)
            os.replace(manifest.folder, target)
            shutil.rmtree(old, ignore_errors=True)
        index["sources"].append(
            {
                "folder": folder,
                "source": spec,
                "label": label,
                "created_at": manifest.data["created_at"],
                "files": [
                    {**f, "bytes": (target / f["path"]).stat().st_size}
                    for f in manifest.files
                    if (target / f["path"]).is_file()
                ],
            }
        )
    (out / INDEX).write_text(json.dumps(index, ensure_ascii=False, indent=1) + "\n")
    return index
