"""``veedor export``: the verified actas and every tally level as CSV, Parquet and JSON.

One folder per export, never overwritten, with ``manifest.json``: SHA-256 and row count of every
file, the sources behind the numbers, creation time, veedor version and the election definition.
A per-mesa CSV in the column layout of a definition's results table (e.g. resultadosconvzla)
keeps existing analyses working.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from veedor import __version__
from veedor.capture.evidence import file_sha256
from veedor.definitions import ElectionDefinition
from veedor.model import ActaState
from veedor.store.official import OfficialSource
from veedor.store.schema import ActaRecord, GeoUnit, ResultTable
from veedor.tally import tally
from veedor.tally.coverage import verified_mesas
from veedor.tally.sources import SCAN, resolve_source

FORMATS = ("csv", "parquet", "json")


class ExportError(ValueError):
    pass


@dataclass
class Manifest:
    folder: Path
    files: list[dict[str, Any]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_NOTE = (
    "CSV: un texto que empieza por = + - @ (o tabulador) lleva un apóstrofo delante para que ninguna "
    "hoja de cálculo lo ejecute (regla de OWASP); Parquet y JSON lo guardan tal cual / CSV text "
    "cells starting with = + - @ (or a tab) are prefixed with an apostrophe so that no spreadsheet "
    "runs them as formulas (the OWASP rule); Parquet and JSON keep them as they are"
)


def formula_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells a spreadsheet would run as a formula, defused (numbers are left alone)."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.Utf8]
    if not text:
        return frame
    return frame.with_columns(
        pl.when(pl.col(c).str.slice(0, 1).is_in(FORMULA_LEADS))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )


def _write(
    frame: pl.DataFrame,
    folder: Path,
    stem: str,
    formats: tuple[str, ...],
    manifest: Manifest,
    what: str,
) -> None:
    for fmt in formats:
        path = folder / f"{stem}.{fmt}"
        if fmt == "csv":
            formula_safe(frame).write_csv(path)
        elif fmt == "parquet":
            frame.write_parquet(path)
        elif fmt == "json":
            frame.write_json(path)
        else:
            raise ExportError(f"formato desconocido / unknown format {fmt!r}; use {', '.join(FORMATS)}")
        manifest.files.append(
            {
                "path": path.name,
                "format": fmt,
                "rows": frame.height,
                "columns": frame.columns,
                "sha256": file_sha256(path),
                "content": what,
            }
        )


def _names(session: Session, definition: ElectionDefinition) -> dict[str, str | None]:
    return dict(
        session.execute(select(GeoUnit.code, GeoUnit.name).where(GeoUnit.election == definition.id)).all()
    )


def _with_geography(
    frame: pl.DataFrame, definition: ElectionDefinition, names: dict[str, str | None]
) -> pl.DataFrame:
    cols = []
    for lv in definition.levels[:-1]:
        code = pl.col("centre").str.slice(0, lv.code_digits)
        cols += [
            code.alias(f"{lv.name}_code"),
            code.replace_strict(names, default=None, return_dtype=pl.Utf8).alias(f"{lv.name}_name"),
        ]
    cols.append(
        pl.col("centre").replace_strict(names, default=None, return_dtype=pl.Utf8).alias("centre_name")
    )
    return frame.with_columns(cols)


def tally_frame(session: Session, definition: ElectionDefinition, level: str, source: str) -> pl.DataFrame:
    """One tally level with its coverage columns, every registry unit included (0 % covered too)."""
    result = tally(session, definition, level, source)
    records: dict[str, dict[str, Any]] = {}
    for row in result.rows:
        rec: dict[str, Any] = {
            "level": level,
            "code": row.code,
            "name": row.name,
            **row.votes,
            "valid": row.valid,
            "nulos": row.nulos,
            "actas_ok": row.actas,
            "electors_counted": row.electors,
        }
        if row.coverage is not None:
            rec.update(row.coverage.as_dict())
        records[row.code] = rec
    empty = dict.fromkeys(definition.candidate_codes, 0)
    for code, cov in result.coverage_units.items():
        if code not in records:
            records[code] = {
                "level": level,
                "code": code,
                "name": None,
                **empty,
                "valid": 0,
                "nulos": 0,
                "actas_ok": 0,
                "electors_counted": 0,
                **cov.as_dict(),
            }
    schema_hint = {
        "mesas_total": pl.Int64,
        "electors_total": pl.Int64,
        "coverage_pct": pl.Float64,
        "electors_pct": pl.Float64,
        "missing": pl.Int64,
        "name": pl.Utf8,
    }
    frame = pl.DataFrame([records[k] for k in sorted(records)], infer_schema_length=None)
    return frame.with_columns(pl.col(c).cast(t) for c, t in schema_hint.items() if c in frame.columns)


def table_layout(
    verified: pl.DataFrame,
    definition: ElectionDefinition,
    names: dict[str, str | None],
    format_name: str,
) -> pl.DataFrame:
    """The per-mesa table in a results-table layout of the definition (its ``columns``)."""
    spec = definition.results_tables.get(format_name) or {}
    columns = spec.get("columns")
    if not columns:
        raise ExportError(
            f"la definición no da las columnas del formato {format_name!r} / "
            "the definition gives no column list for this table format"
        )
    as_int = bool(spec.get("codes_as_integers"))
    exprs: dict[str, pl.Expr] = {}
    prev = 0
    for lv in definition.levels[:-1]:
        digits = pl.col("centre").str.slice(0, lv.code_digits)
        part = pl.col("centre").str.slice(prev, lv.code_digits - prev)
        prev = lv.code_digits
        if lv.name in spec.get("level_code_columns", {}):
            exprs[spec["level_code_columns"][lv.name]] = part.cast(pl.Int64) if as_int else part
        if lv.name in spec.get("level_name_columns", {}):
            exprs[spec["level_name_columns"][lv.name]] = digits.replace_strict(
                names, default=None, return_dtype=pl.Utf8
            )
    exprs[spec["centre_column"]] = pl.col("centre").cast(pl.Int64) if as_int else pl.col("centre")
    exprs[spec["mesa_column"]] = pl.col("mesa")
    exprs[spec["valid_column"]] = pl.col("valid")
    exprs[spec["null_column"]] = pl.col("nulos")
    if spec.get("electors_column"):
        exprs[spec["electors_column"]] = pl.col("electors")
    if spec.get("image_column"):
        exprs[spec["image_column"]] = pl.col("evidence")
    for c in definition.candidate_codes:
        exprs[c] = pl.col(c)
    unknown = [c for c in columns if c not in exprs]
    if unknown:
        raise ExportError(f"columnas sin origen / columns with no source: {', '.join(unknown)}")
    return verified.select(exprs[c].alias(c) for c in columns)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:60]


ALERTS_ABOUT = (
    "alerts raised by a mesa's copies (e.g. a QR that does not match its print), with the image's "
    "SHA-256; see docs/copies.md"
)


def alerts_frame(session: Session, definition: ElectionDefinition) -> pl.DataFrame:
    """One row per alert on a scanned mesa: which copy (by image hash) raised what."""
    rows = [
        (r.centre, r.mesa, r.status, a["kind"], a["sha256"], a["detail"])
        for r in session.scalars(
            select(ActaRecord).where(ActaRecord.election == definition.id, ActaRecord.alerts.is_not(None))
        )
        for a in r.alerts or []
    ]
    schema = {n: pl.Utf8 for n in ("centre", "mesa", "state", "kind", "sha256", "detail")} | {
        "mesa": pl.Int64
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def export(
    session: Session,
    definition: ElectionDefinition,
    out_dir: str | Path,
    *,
    source: str = SCAN,
    formats: tuple[str, ...] = FORMATS,
    levels: tuple[str, ...] | None = None,
    now: datetime | None = None,
) -> Manifest:
    created = now or datetime.now(UTC)
    kind, table_id, label = resolve_source(session, definition, source)
    folder = Path(out_dir) / f"{definition.id}_{_slug(source)}_{created.strftime('%Y%m%dT%H%M%SZ')}"
    if folder.exists():
        raise ExportError(f"ya existe / already exists: {folder}")
    folder.mkdir(parents=True)
    manifest = Manifest(folder)
    names = _names(session, definition)
    verified = verified_mesas(session, definition, source)
    actas = _with_geography(verified, definition, names).with_columns(pl.lit(source).alias("source"))
    _write(
        actas,
        folder,
        "actas",
        formats,
        manifest,
        "verified actas, one row per mesa / actas verificadas",
    )
    for fmt_name, spec in definition.results_tables.items():
        if spec.get("columns"):
            layout = table_layout(verified, definition, names, fmt_name)
            _write(
                layout,
                folder,
                f"mesas_{fmt_name}",
                ("csv",),
                manifest,
                f"per-mesa table in the {fmt_name} column layout",
            )
    if kind == SCAN:
        pending = pl.DataFrame(
            session.execute(
                select(
                    ActaRecord.centre,
                    ActaRecord.mesa,
                    ActaRecord.acta_id,
                    ActaRecord.status,
                    ActaRecord.reason,
                ).where(ActaRecord.election == definition.id, ActaRecord.status != ActaState.OK.value)
            ).all(),
            schema={
                "centre": pl.Utf8,
                "mesa": pl.Int64,
                "acta_id": pl.Utf8,
                "status": pl.Utf8,
                "reason": pl.Utf8,
            },
            orient="row",
        )
        _write(
            pending, folder, "pending", formats, manifest, "actas not counted (review, conflict, unconfirmed)"
        )
        _write(alerts_frame(session, definition), folder, "alerts", formats, manifest, ALERTS_ABOUT)
    for level in levels or ("national", *(lv.name for lv in definition.levels)):
        _write(
            tally_frame(session, definition, level, source),
            folder,
            f"tally_{level}",
            formats,
            manifest,
            f"tally by {level} with coverage",
        )
    manifest.data = {
        "created_at": created.isoformat(),
        "veedor_version": __version__,
        "definition": {
            "id": definition.id,
            "name": {"es": definition.name_es, "en": definition.name_en},
            "sha256": hashlib.sha256(
                json.dumps(definition.raw, sort_keys=True, ensure_ascii=False).encode()
            ).hexdigest(),
            "candidates": {c.code: c.name for c in definition.candidates},
        },
        "source": {"spec": source, "label": label, **_table_info(session, table_id)},
        "registry_sources": sorted(
            set(session.scalars(select(GeoUnit.source).where(GeoUnit.election == definition.id)))
        ),
        "official_sources": [
            {
                "key": s.key,
                "file_sha256": s.file_sha256,
                "file": Path(s.path).name,  # a name, never a path (a volunteer's folders)
                "announced_at": s.announced_at,
            }
            for s in session.scalars(select(OfficialSource).where(OfficialSource.election == definition.id))
        ],
        "files": manifest.files,
        "notes": [
            "solo actas verificadas (ok) / only verified (ok) actas",
            FORMULA_NOTE,
            "cobertura: ver columnas coverage_pct, mesas_total / coverage: see coverage columns",
        ],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest.data, ensure_ascii=False, indent=1) + "\n")
    return manifest


def _table_info(session: Session, table_id: int | None) -> dict[str, Any]:
    if table_id is None:
        return {}
    table = session.get(ResultTable, table_id)
    if table is None:
        return {}
    return {
        "table": {
            "name": table.name,
            "sha256": table.sha256,
            "file": Path(table.path).name,
            "rows": table.rows,
        }
    }


def verify_manifest(folder: str | Path) -> list[str]:
    """Files whose SHA-256 no longer matches the manifest (empty: all intact)."""
    folder = Path(folder)
    data = json.loads((folder / "manifest.json").read_text())
    return [f["path"] for f in data["files"] if file_sha256(folder / f["path"]) != f["sha256"]]
