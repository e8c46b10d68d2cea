"""Read a per-acta results table into :class:`ActaSpec` rows, one at a time.

Accepted: the resultadosconvzla tables (V1 UTF-8 with BOM, V2 latin-1), and any CSV with
centre/mesa columns plus either one column per candidate code (spread over the ballot
positions, see spread.py) or one column per position (``v0``..``vN``) or a ``votes``
column holding the comma-separated positions (veedor's own exports).
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from veedor.definitions.schema import ElectionDefinition
from veedor.simulate.render import ActaSpec, require_render
from veedor.simulate.spread import mesa_seed, spread_totals


class TableError(ValueError):
    """The table cannot be turned into actas; the message says which column is missing."""


def _encoding(path: Path) -> str:
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            try:
                chunk.decode("utf-8")
            except UnicodeDecodeError as exc:
                # a multi-byte character cut by the chunk boundary is not an error
                if exc.start < len(chunk) - 4:
                    return "latin-1"
    return "utf-8-sig"


def _pick(columns: dict[str, str], *names: str) -> str | None:
    for name in names:
        if name and name.lower() in columns:
            return columns[name.lower()]
    return None


def read_table(path: str | Path, definition: ElectionDefinition, seed: int = 0) -> Iterator[ActaSpec]:
    """Yield one ActaSpec per row, streaming (the file is never held in memory)."""
    require_render(definition)  # before reading a row of a table it could not draw
    path = Path(path)
    config = next(iter(definition.results_tables.values()), {})
    with path.open(encoding=_encoding(path), newline="") as fh:
        reader = csv.DictReader(fh)
        columns = {c.strip().lower(): c for c in reader.fieldnames or []}
        centre_col = _pick(columns, config.get("centre_column", ""), "centre", "centro")
        mesa_col = _pick(columns, config.get("mesa_column", ""), "mesa")
        if centre_col is None or mesa_col is None:
            raise TableError(
                f"{path.name}: faltan columnas de centro y mesa / missing centre and mesa "
                f"columns (found: {', '.join(columns.values())})"
            )
        null_col = _pick(columns, config.get("null_column", ""), "nulos", "votos_nulos")
        electors_col = _pick(columns, config.get("electors_column", ""), "electors", "electores")
        n = len(definition.ballot)
        position_cols = [_pick(columns, f"v{i}") for i in range(n)]
        votes_col = _pick(columns, "votes", "votos")
        candidate_cols = {c: _pick(columns, c) for c in definition.candidate_codes}
        per_position = all(position_cols) or votes_col is not None
        if not per_position and not all(candidate_cols.values()):
            missing = [c for c, col in candidate_cols.items() if col is None]
            raise TableError(f"{path.name}: faltan columnas / missing columns {missing}")
        level_cols = {
            level: _pick(columns, col, level, f"{level}_name")
            for level, col in config.get("level_name_columns", {}).items()
        }
        digits = definition.centre_code_digits
        for row in reader:
            centre = str(int(row[centre_col])).zfill(digits)
            mesa = int(row[mesa_col])
            if votes_col is not None:
                votes = tuple(int(v) for v in row[votes_col].split(","))
            elif per_position:
                votes = tuple(int(row[c]) for c in position_cols if c)
            else:
                totals = {c: int(row[col] or 0) for c, col in candidate_cols.items() if col}
                votes = spread_totals(totals, definition, f"{centre}.{mesa:02d}", seed)
            electors = row.get(electors_col or "") or None
            yield ActaSpec(
                centre=centre,
                mesa=mesa,
                votes=votes,
                nulos=int(row[null_col] or 0) if null_col else 0,
                electors=int(electors) if electors else None,
                places={lv: row[col] for lv, col in level_cols.items() if col and row.get(col)},
                spread=not per_position,
            )


def with_synthetic_remainder(
    specs: Iterable[ActaSpec], total: int, definition: ElectionDefinition, seed: int = 0
) -> Iterator[ActaSpec]:
    """All rows, then synthetic mesas up to ``total`` (a national drill when the table
    covers only part of the country).

    Synthetic mesas sit in real centres (numbered after the centre's last mesa) and copy
    a real mesa's size and leaning with fresh noise, so they look like the rest. Only the
    small keys and totals of the real rows are kept, not images.
    """
    centres: dict[str, tuple[int, ActaSpec]] = {}
    count = 0
    for spec in specs:
        count += 1
        last = centres.get(spec.centre, (0, spec))[0]
        centres[spec.centre] = (max(last, spec.mesa), spec)
        yield spec
    if count >= total or not centres:
        return
    order = list(centres)
    for i in itertools.count():
        if count >= total:
            return
        centre = order[i % len(order)]
        last, model = centres[centre]
        mesa = last + 1
        centres[centre] = (mesa, model)
        rng = np.random.default_rng(mesa_seed("synthetic", seed, centre, mesa))
        totals = definition.totals_by_candidate(model.votes)
        size = max(1, sum(totals.values()))
        new_size = int(size * rng.uniform(0.7, 1.3))
        shares = rng.dirichlet(np.asarray(list(totals.values()), float) + 0.5)
        drawn = rng.multinomial(new_size, shares)
        new_totals = dict(zip(totals, (int(x) for x in drawn), strict=True))
        votes = spread_totals(new_totals, definition, f"{centre}.{mesa:02d}", seed)
        electors = int((new_size + model.nulos) * rng.uniform(1.4, 1.9)) + 1
        yield ActaSpec(
            centre, mesa, votes, int(rng.poisson(0.05)), electors=electors, places=model.places, spread=True
        )
        count += 1
