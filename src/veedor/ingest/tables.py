"""Import a published per-acta results table, in a format its definition describes
(``results_tables``: which columns hold the mesa, its place, the counts).

Bytes are taken as found: encoding and BOM detected, any line ending. A row that does not
parse is reported with its line number and the rest still imports.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from veedor.definitions import ElectionDefinition
from veedor.ingest.locate import MesaLocator
from veedor.ingest.numbers import COUNT_MAX, count
from veedor.store import evidence_log as log
from veedor.store.records import now
from veedor.store.schema import GeoUnit, ResultRow, ResultTable, ResultVotes


class TableError(ValueError):
    """The whole file cannot be imported; the message says why and what to do."""


MAX_TABLE_BYTES = 512 * 1024 * 1024
"""Four copies of V1 are ~20 MB; a national table of a million mesas ~100 MB."""


@dataclass(frozen=True)
class CsvProblem:
    """A line the CSV reader itself could not take (a cell past the size limit, a quote never
    closed): reported with its line number, and reading goes on."""

    reason: str


UNREADABLE = (
    "fila ilegible ({}); si una comilla no se cerró, las líneas siguientes se leen por separado / "
    "unreadable row (a cell too large, or a quote never closed); the lines after it are read on their own"
)


def csv_records(text: str) -> Iterator[tuple[int, list[str] | CsvProblem]]:
    """(physical line number, record) for each record of ``text``; the first is the header.

    A record may span lines (a quoted cell with a line break). One that spans lines and does
    not have the header's number of cells, or that the reader cannot take, is a quote opened
    and never closed: its first line is a :class:`CsvProblem`, and the lines it swallowed are
    read again on their own. (The csv module alone puts the rest of the file, or the next
    128 KiB of it, in one cell: those rows were lost, and later line numbers were wrong.)
    """
    source = io.StringIO(text, newline="")
    again: list[tuple[int, str]] = []  # lines to read again, last first
    read = 0
    width: int | None = None

    def next_line() -> tuple[int, str] | None:
        nonlocal read
        if again:
            return again.pop()
        line = source.readline()
        if not line:
            return None
        read += 1
        return read, line

    while (first := next_line()) is not None:
        taken = [first]

        def lines(first: str = first[1], taken: list[tuple[int, str]] = taken) -> Iterator[str]:
            yield first
            while (more := next_line()) is not None:
                taken.append(more)
                yield more[1]

        try:
            record: list[str] | CsvProblem = next(csv.reader(lines()), [])
        except csv.Error as exc:
            record = CsvProblem(UNREADABLE.format(exc))
        if isinstance(record, list) and len(taken) > 1 and width is not None and len(record) != width:
            record = CsvProblem(UNREADABLE.format(f"{len(taken)} líneas en una fila / lines in one row"))
        if isinstance(record, CsvProblem):
            again.extend(reversed(taken[1:]))
        elif width is None:
            width = len(record)
        yield first[0], record


def readable(
    records: Iterator[tuple[int, list[str] | CsvProblem]], errors: list[dict[str, object]]
) -> Iterator[tuple[int, list[str]]]:
    """(line number, record) for each record read; each line the reader could not take is
    added to ``errors`` with its number instead."""
    for line_no, record in records:
        if isinstance(record, CsvProblem):
            errors.append({"line": line_no, "error": record.reason})
        else:
            yield line_no, record


def read_table(
    text: str, errors: list[dict[str, object]]
) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """(header with its cells stripped, the other records by line) of a CSV text."""
    records = csv_records(text)
    first = next(records, None)
    header = [h.strip() for h in first[1]] if first and isinstance(first[1], list) else []
    return header, readable(records, errors)


def shown(cells: list[str], limit: int = 300) -> str:
    """Cells for a message: printable, and short (a binary file's 'header' can be megabytes)."""
    text = ", ".join(c if c.isprintable() else repr(c) for c in cells[:40])
    return text if len(text) <= limit and len(cells) <= 40 else text[:limit] + " …"


@dataclass
class ImportSummary:
    table_id: int
    name: str
    rows: int
    encoding: str
    errors: list[dict[str, object]] = field(default_factory=list)
    already_imported: bool = False


_NOT_TEXT = {
    b"\x89PNG": "una imagen PNG / a PNG image",
    b"\xff\xd8\xff": "una imagen JPEG / a JPEG image",
    b"GIF8": "una imagen GIF / a GIF image",
    b"%PDF": "un PDF / a PDF",
    b"PK\x03\x04": "un ZIP o un libro de Excel (.xlsx) / a ZIP or an Excel workbook (.xlsx)",
    b"\xd0\xcf\x11\xe0": "un libro de Excel antiguo (.xls) / an old Excel workbook (.xls)",
    b"\x1f\x8b": "un archivo comprimido (gzip) / a compressed file (gzip)",
}


def read_input(path: Path) -> bytes:
    """The bytes of an input table, or a :class:`TableError` people can act on."""
    try:
        size = path.stat().st_size
        if size > MAX_TABLE_BYTES:
            raise TableError(
                f"{path.name}: {size // 2**20} MiB, más de lo que puede ser una tabla de resultados "
                f"({MAX_TABLE_BYTES // 2**20} MiB) / larger than any results table; divídala / split it"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise TableError(f"no se puede leer {path}: {exc.strerror} / cannot read file") from None
    if not data or data.isspace():  # (no copy of a large file, as strip() would make)
        raise TableError(f"{path.name}: archivo vacío / empty file")
    for magic, kind in _NOT_TEXT.items():
        if data.startswith(magic):
            raise TableError(
                f"{path.name}: es {kind}, no un texto CSV o JSON / is not CSV or JSON text; "
                "expórtelo como CSV / export it as CSV"
            )
    return data


def decode_text(data: bytes) -> tuple[str, str]:
    """Return (text, encoding): UTF-16 by its BOM (or its zero bytes), UTF-8 (with or without
    BOM), then Windows/Latin-1. (UTF-16, Excel's 'Unicode text', was read as cp1252 and
    refused for a header of 'C\x00E\x00N\x00...'.)"""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    utf16 = _utf16(data)
    if utf16 is not None:
        return data.decode(utf16, errors="replace"), utf16
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _utf16(data: bytes) -> str | None:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    head = data[:400]
    half = len(head) // 2
    if half < 2:
        return None
    # ASCII text in UTF-16 without a BOM: one byte of each pair is zero, the other never is.
    for name, zeros, chars in (("utf-16-le", head[1::2], head[0::2]), ("utf-16-be", head[0::2], head[1::2])):
        if zeros.count(0) >= 0.9 * half and chars[:half].count(0) == 0:
            return name
    return None


def import_results_table(
    session: Session,
    path: str | Path,
    definition: ElectionDefinition,
    *,
    format_name: str | None = None,
    name: str | None = None,
) -> ImportSummary:
    """``format_name``: one of the definition's ``results_tables`` (its first by default)."""
    path = Path(path)
    data = read_input(path)
    sha = hashlib.sha256(data).hexdigest()
    existing = session.scalar(
        select(ResultTable).where(ResultTable.election == definition.id, ResultTable.sha256 == sha)
    )
    if existing is not None:
        return ImportSummary(
            existing.id,
            existing.name,
            existing.rows,
            existing.encoding,
            list(existing.errors or []),
            already_imported=True,
        )
    format_name = format_name or next(iter(definition.results_tables), None)
    spec = definition.results_tables.get(format_name or "")
    if spec is None:
        known = ", ".join(definition.results_tables) or "—"
        raise TableError(f"formato desconocido / unknown table format {format_name!r} (known: {known})")
    if not spec.get("null_column"):
        # A table without null votes cannot be a row of counts here (every row keeps its nulos);
        # the authority's figures of such a table are official claims to compare with.
        raise TableError(
            f"el formato {format_name} no tiene votos nulos: impórtelo con veedor import-official / "
            f"format {format_name} has no null votes: import it as official figures (import-official)"
        )
    locator = MesaLocator(spec, definition)
    text, encoding = decode_text(data)
    errors: list[dict[str, object]] = []
    header, records = read_table(text, errors)
    required = [
        *locator.columns,
        *([spec["valid_column"]] if spec.get("valid_column") else []),
        spec["null_column"],
        *definition.candidate_codes,
    ]
    missing = [c for c in required if c not in header]
    if missing:
        raise TableError(
            f"{path.name}: faltan columnas / missing columns: {', '.join(missing)}. "
            f"Columnas encontradas / found: {shown(header) or '(ninguna / none)'}"
        )
    wanted = {*required, spec.get("electors_column"), spec.get("image_column")}
    twice = sorted({h for h in header if h in wanted and header.count(h) > 1})
    if twice:
        # Which of two 'EG' columns holds EG's votes cannot be told (it read the last one).
        raise TableError(
            f"{path.name}: columnas repetidas en el encabezado / columns given twice: {shown(twice)}"
        )
    col = {h: i for i, h in enumerate(header)}
    table = ResultTable(
        election=definition.id,
        name=name or path.name,
        sha256=sha,
        path=str(path),
        format=format_name,
        encoding=encoding,
        rows=0,
        errors=[],
        imported_at=now(),
    )
    session.add(table)
    session.flush()
    first_id = (session.scalar(select(func.max(ResultRow.id))) or 0) + 1
    width = len(header)
    while width and not header[width - 1]:
        width -= 1  # a header ending in a comma: its rows may or may not end in one
    names: dict[str, tuple[str, str]] = {}
    count = _import_rows(
        session, records, col, spec, locator, definition, table.id, first_id, width, names, errors
    )
    table.rows = count
    table.errors = errors
    log.append(
        session,
        "results_table",
        {
            "table": table.id,
            "name": table.name,
            "sha256": sha,
            "format": format_name,
            "rows": count,
            "refused": len(errors),
        },
    )
    _remember_names(session, definition, names)
    session.flush()
    return ImportSummary(table.id, table.name, count, encoding, errors)


CHUNK_ROWS = 5000
"""Rows inserted at a time: memory holds one chunk, not the table (four V1s are 100,000 rows)."""


def _import_rows(
    session: Session,
    records: Iterator[tuple[int, list[str]]],
    col: dict[str, int],
    spec: dict,
    locator: MesaLocator,
    definition: ElectionDefinition,
    table_id: int,
    first_id: int,
    width: int,
    names: dict[str, tuple[str, str]],
    errors: list[dict[str, object]],
) -> int:
    """Insert the table's rows chunk by chunk; returns the rows kept. Refused lines go to
    ``errors``, and the geography names of kept rows to ``names``."""
    electors_col = col.get(spec.get("electors_column", ""))
    image_col = col.get(spec.get("image_column", ""))
    name_cols = [
        (level.code_digits, level.name, col[column])
        for level in definition.levels
        if (column := spec.get("level_name_columns", {}).get(level.name)) in col
    ]
    # Per mesa: its first line, its numbers, and its row id (None once withdrawn).
    seen: dict[tuple[str, int], tuple[int, bytes, int | None]] = {}
    withdrawn: list[int] = []
    rows: list[dict] = []
    votes: list[dict] = []
    # Row ids are assigned here (one writer) so that votes can be bulk-inserted in the same pass.
    next_id = first_id

    def flush() -> None:
        if rows:
            session.execute(insert(ResultRow), rows)
            session.execute(insert(ResultVotes), votes)
        rows.clear()
        votes.clear()

    for line_no, record in records:
        if not any(cell.strip() for cell in record):
            continue
        try:
            if len(record) < width:
                raise IndexError
            if any(cell.strip() for cell in record[width:]):
                # Cells past the header's: a comma in a name shifted the row, and which cell is
                # which cannot be told (a shifted row of numbers can still add up).
                raise ValueError(
                    f"la fila tiene {len(record)} celdas y el encabezado {width} / "
                    "row has more cells than the header"
                )
            row, per_candidate = _row(record, col, spec, locator, definition, electors_col, image_col)
        except (ValueError, IndexError) as exc:
            errors.append(
                {
                    "line": line_no,
                    "error": str(exc)
                    if isinstance(exc, ValueError)
                    else f"faltan celdas en la fila ({len(record)} de {width}) / row has too few cells",
                }
            )
            continue
        key = (row["centre"], row["mesa"])
        # A digest, not the numbers: memory per mesa stays small (four V1s are 100,000 mesas).
        numbers = hashlib.blake2b(
            repr((row["valid"], row["nulos"], row["electors"], sorted(per_candidate.items()))).encode(),
            digest_size=16,
        ).digest()
        if key in seen:
            first_line, first_numbers, first_row = seen[key]
            where = f"mesa {key[0]}.{key[1]:02d}"
            if first_row is None:
                error = (
                    f"{where} repetida otra vez (líneas {first_line}, {line_no}); no se importa ninguna "
                    "/ duplicate mesa again: none imported"
                )
            elif numbers == first_numbers:
                error = (
                    f"{where} repetida con los mismos números (líneas {first_line}, {line_no}); se cuenta "
                    "una vez / duplicate mesa with the same numbers: counted once"
                )
            else:
                # Which one is true cannot be told from the table: none is counted.
                withdrawn.append(first_row)
                seen[key] = (first_line, first_numbers, None)
                error = (
                    f"{where} repetida con números distintos (líneas {first_line}, {line_no}); no se "
                    "importa ninguna / duplicate mesa with different numbers: neither imported"
                )
                line_no = first_line  # the line that was counted, now withdrawn
            errors.append({"line": line_no, "error": error})
            continue
        seen[key] = (line_no, numbers, next_id)
        for digits, level_name, at in name_cols:
            if value := record[at].strip():
                names.setdefault(row["centre"][:digits], (level_name, value[:200]))
        rows.append({"id": next_id, "table_id": table_id, "line": line_no, **row})
        votes.extend({"row_id": next_id, "candidate": c, "votes": v} for c, v in per_candidate.items())
        next_id += 1
        if len(rows) >= CHUNK_ROWS:
            flush()
    flush()
    for i in range(0, len(withdrawn), CHUNK_ROWS):
        ids = withdrawn[i : i + CHUNK_ROWS]
        session.execute(delete(ResultVotes).where(ResultVotes.row_id.in_(ids)))
        session.execute(delete(ResultRow).where(ResultRow.id.in_(ids)))
    errors.sort(key=lambda e: int(str(e["line"])))
    return next_id - first_id - len(withdrawn)


def _row(
    record: list[str],
    col: dict[str, int],
    spec: dict,
    locator: MesaLocator,
    definition: ElectionDefinition,
    electors_col: int | None,
    image_col: int | None,
) -> tuple[dict, dict[str, int]]:
    """One table row's numbers, checked against each other and the definition's bounds."""
    bound = definition.max_voters_per_mesa or COUNT_MAX

    def cell(name: str) -> str:
        return record[col[name]]

    centre, mesa = locator.locate({name: cell(name) for name in locator.columns})
    nulos = count(cell(spec["null_column"]), "nulos", bound)
    per_candidate = {c: count(cell(c), c, bound) for c in definition.candidate_codes}
    # A format without a stated total of valid votes: its total is the candidates' sum.
    valid = count(cell(spec["valid_column"]), "válidos", bound) if spec.get("valid_column") else None
    valid = sum(per_candidate.values()) if valid is None else valid
    electors = count(record[electors_col], "electores", bound) if electors_col is not None else None
    computed = sum(per_candidate.values())
    if computed != valid:
        # Mexico's PREP keeps both (TOTAL_VOTOS_ASENTADO and _CALCULADO); a row whose stated
        # total is not its sum is not a row anyone can count.
        raise ValueError(
            f"válidos declarados {valid} ≠ suma de los candidatos {computed} / stated valid votes "
            "differ from the candidates' sum"
        )
    if valid + nulos > bound:
        raise ValueError(
            f"{valid + nulos} votos: ninguna mesa tiene más de {bound} electores / votes above any mesa"
        )
    if electors is not None and valid + nulos > electors:
        raise ValueError(f"{valid + nulos} votos para {electors} electores / more votes than electors")
    image = record[image_col].strip()[:2000] if image_col is not None else None
    row = {
        "centre": centre,
        "mesa": mesa,
        "electors": electors,
        "valid": valid,
        "nulos": nulos,
        "image_ref": image,
    }
    return row, per_candidate


def _remember_names(
    session: Session, definition: ElectionDefinition, names: dict[str, tuple[str, str]]
) -> None:
    """Keep geography names the table's kept rows carry, where no registry has given them yet."""
    if not names:
        return
    known = set(session.scalars(select(GeoUnit.code).where(GeoUnit.election == definition.id)))
    new = [
        {
            "election": definition.id,
            "code": code,
            "level": level,
            "name": name,
            "parent_code": None,
            "mesas_total": None,
            "source": "results-table",
        }
        for code, (level, name) in names.items()
        if code not in known
    ]
    if new:
        session.execute(insert(GeoUnit), new)
