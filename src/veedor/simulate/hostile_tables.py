"""A battery of hostile inputs for the importers: results tables, bulletins and the registry.

Each kind is data: how to write its file (from a small slice of the real samples, so that
good rows remain beside the bad one), and what an import must make of it: the whole file
refused, with a fragment of the reason; or some lines refused, each with its line and a
fragment of its reason, and the rest imported, exactly. The tests import every kind on its
own and all of them in one CLI run (:mod:`tests.test_battery_imports`). Scans are in
:mod:`veedor.simulate.hostile`.

A table kind names the rows of the slice that must be imported (``kept``), so that a test can
add up their real numbers and hold the stored votes to them: nothing lost, nothing wrong
counted. Lines are physical line numbers of the file: the header is line 1, the slice's row
``i`` is line ``i + 2``, rows a kind appends come after line 31.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
V1 = SAMPLES / "results" / "RESULTADOS_2024_CSV_V1.csv"
BULLETINS = SAMPLES / "official" / "cne_bulletins_2024.json"
CENTRES = SAMPLES / "registry" / "centros_resultadosconvzla_site_2024-08-01.csv"
UNITS = SAMPLES / "registry" / "admin_units_resultadosconvzla_site_2024-08-01.csv"
MESAS = SAMPLES / "registry" / "mesas_resultadosconvzla_site_2024-08-01.csv"
SLICE = 30
"""Rows of each sample a kind starts from."""

FAMILIES = ("table", "bulletin", "registry")


@dataclass(frozen=True)
class Refusal:
    """A line the import must refuse: its number (tables, registry; ``"bulletins[2]"`` or
    ``"id x"`` for bulletins), and a fragment of its reason."""

    line: int | str
    reason: str


@dataclass(frozen=True)
class ImportKind:
    name: str
    family: str
    """"table" (``import-results``), "bulletin" (``import-official``), "registry" (``import-registry``)."""
    what: str
    make: Callable[[Path], Path]
    """Writes the file into a folder; returns its path."""
    whole: str | None = None
    """A fragment of the reason the whole file is refused (None: it imports)."""
    refused: tuple[Refusal, ...] = ()
    """Exactly the lines refused (each line once; a line's reasons must all contain the fragment)."""
    kept: tuple[int, ...] = ()
    """Tables: the slice's rows imported, with their real numbers."""
    imported: int = 0
    """Rows imported (tables: len(kept); registry: the summary's rows; bulletins: bulletins)."""
    keys: tuple[str, ...] = ()
    """Bulletins: the ids imported."""
    names: tuple[tuple[str, str], ...] = ()
    """(geography code, name) stored after the import: text the decoding must keep."""
    before: Callable[[Path], Path] | None = None
    """A good file to import first (unit totals match the units a centres file gave)."""

    def __post_init__(self) -> None:
        if self.family == "table":
            object.__setattr__(self, "imported", len(self.kept))


# --- the slices ------------------------------------------------------------------------------


@functools.cache
def v1_slice() -> tuple[list[str], tuple[tuple[str, ...], ...]]:
    """V1's header and its first rows, as cells."""
    with V1.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = tuple(tuple(next(reader)) for _ in range(SLICE))
    return header, rows


@functools.cache
def _registry_slice(path: Path) -> tuple[list[str], tuple[tuple[str, ...], ...]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, tuple(tuple(row) for row in reader if row)


def candidate_sums(rows: tuple[int, ...], candidates: tuple[str, ...]) -> dict[str, int]:
    """The real votes of the slice's rows ``rows``, per candidate: what an import must store."""
    header, slice_rows = v1_slice()
    at = {h: i for i, h in enumerate(header)}
    return {c: sum(int(slice_rows[i][at[c]]) for i in rows) for c in candidates}


def _csv_text(header: list[str], rows: list[list[str]], end: str = "\n") -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator=end).writerows([header, *rows])
    return out.getvalue()


def _row(i: int, **cells: object) -> list[str]:
    """The slice's row ``i`` with some cells replaced (by value, or by a function of the row)."""
    header, rows = v1_slice()
    row = list(rows[i])
    at = {h: n for n, h in enumerate(header)}
    for name, value in cells.items():
        row[at[name]] = str(value(dict(zip(header, rows[i], strict=True))) if callable(value) else value)
    return row


def _rows(*changed: tuple[int, list[str]], extra: tuple[list[str], ...] = ()) -> list[list[str]]:
    """The slice with some rows replaced, and rows appended."""
    _, rows = v1_slice()
    out = [list(r) for r in rows]
    for i, row in changed:
        out[i] = row
    return [*out, *extra]


ALL = tuple(range(SLICE))


def _but(*rows: int) -> tuple[int, ...]:
    return tuple(i for i in ALL if i not in rows)


def _line(i: int) -> int:
    """The file line of the slice's row ``i``."""
    return i + 2


# --- tables ----------------------------------------------------------------------------------


def _write(folder: Path, name: str, data: str | bytes, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path


def _table(
    name: str,
    rows: Callable[[], list[list[str]]] | None = None,
    *,
    end: str = "\n",
    encoding: str = "utf-8",
    header: Callable[[list[str]], list[str]] | None = None,
    edit: Callable[[str], str] | None = None,
    file_name: str | None = None,
) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        base = v1_slice()[0]
        text = _csv_text(header(list(base)) if header else base, rows() if rows else _rows(), end)
        if edit:
            text = edit(text)
        return _write(folder, file_name or f"{name}.csv", text, encoding)

    return make


def _swap_valid(delta: int) -> Callable[[dict[str, str]], int]:
    return lambda r: int(r["VOTOS_VALIDOS"]) + delta


def _one_bad(name: str, what: str, i: int, reason: str, **cells: object) -> ImportKind:
    """Row ``i`` of the slice changed so that it must be refused; the other 29 import."""
    return ImportKind(
        name,
        "table",
        what,
        _table(name, lambda: _rows((i, _row(i, **cells)))),
        refused=(Refusal(_line(i), reason),),
        kept=_but(i),
    )


def _same(name: str, what: str, i: int, **cells: object) -> ImportKind:
    """Row ``i`` written differently with the same numbers: all 30 import, as they are."""
    return ImportKind(name, "table", what, _table(name, lambda: _rows((i, _row(i, **cells)))), kept=ALL)


def _arabic(text: str) -> str:
    return "".join(chr(0x0660 + int(c)) for c in text)


def _fullwidth(text: str) -> str:
    return "".join(chr(0xFF10 + int(c)) for c in text)


def _past_any_mesa(r: dict[str, str]) -> dict[str, object]:
    others = int(r["VOTOS_VALIDOS"]) - int(r["EG"])
    return {"EG": 1990 - others, "VOTOS_VALIDOS": 1990, "VOTOS_NULOS": 50, "RE": 2000}


def _past_any_mesa_row(i: int) -> list[str]:
    _, rows = v1_slice()
    header = v1_slice()[0]
    return _row(i, **_past_any_mesa(dict(zip(header, rows[i], strict=True))))


def _unclosed_quote(text: str, blank_lines: int = 0) -> str:
    lines = text.split("\n")
    lines[4] = '"' + lines[4]  # the slice's row 3, line 5
    return "\n".join([*lines[:5], *([""] * blank_lines), *lines[5:]])


def _name_with_a_line_break(text: str) -> str:
    lines = text.split("\n")
    cells = lines[3].split(",")  # row 2, line 4
    cells[5] = '"PQ. EL\nRECREO"'
    lines[3] = ",".join(cells)
    return "\n".join(lines)


def _bom_and_a_stray_byte(text: str) -> bytes:
    return b"\xef\xbb\xbf" + text.replace("DTTO. CAPITAL", "DTTO. CAPITAL\x00", 1).encode().replace(
        b"\x00", b"\xd1"
    )


def _with_accents(rows: list[list[str]]) -> list[list[str]]:
    header = v1_slice()[0]
    at = header.index("EDO")
    for row in rows:
        if row[at] == "DTTO. CAPITAL":
            row[at] = "DISTRITO CAPITAL, AÑO ÚNICO"
    return rows


ACCENTED = (("01", "DISTRITO CAPITAL, AÑO ÚNICO"),)


def _xlsx(folder: Path) -> Path:
    import zipfile

    path = folder / "table_xlsx_renamed.csv"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    return path


def _png_bytes() -> bytes:
    """A real 1×1 PNG."""
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    header = (1).to_bytes(4, "big") * 2 + b"\x08\x02\x00\x00\x00"
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _table_kinds() -> list[ImportKind]:
    return [
        ImportKind(
            "table_good", "table", "the slice as published: the control", _table("table_good"), kept=ALL
        ),
        _one_bad(
            "table_valid_not_sum",
            "stated valid votes one more than the candidates' sum",
            4,
            "suma de los candidatos",
            VOTOS_VALIDOS=_swap_valid(1),
        ),
        _one_bad("table_votes_over_electors", "more votes than electors (RE 10)", 5, "electores", RE=10),
        ImportKind(
            "table_votes_past_any_mesa",
            "table",
            "1,990 valid + 50 null: past any mesa (2,000), each cell within it",
            _table("table_votes_past_any_mesa", lambda: _rows((3, _past_any_mesa_row(3)))),
            refused=(Refusal(_line(3), "ninguna mesa tiene más de 2000"),),
            kept=_but(3),
        ),
        _one_bad(
            "table_count_past_any_mesa",
            "EG 5,232 (and valid to match)",
            6,
            "supera el máximo posible",
            EG=lambda r: int(r["EG"]) + 5000,
            VOTOS_VALIDOS=_swap_valid(5000),
        ),
        _one_bad(
            "table_number_over_2_63",
            "EG = 2^63 + 5 (and valid to match)",
            7,
            "supera el máximo posible",
            EG=lambda r: int(r["EG"]) + 2**63 + 5,
            VOTOS_VALIDOS=_swap_valid(2**63 + 5),
        ),
        _one_bad("table_fifty_digits", "a 50-digit count", 8, "no es un entero", NM="9" * 50),
        _one_bad("table_negative", "NM -5", 9, "no es un entero", NM="-5"),
        _one_bad("table_float", "EG written 232.0", 0, "no es un entero", EG=lambda r: f"{r['EG']}.0"),
        _one_bad(
            "table_superscript",
            "a superscript ² (a digit to isdigit, not a decimal)",
            10,
            "no es un entero",
            LM="²",
        ),
        _one_bad("table_empty_cell", "VOTOS_NULOS empty", 11, "no es un entero", VOTOS_NULOS=""),
        _same(
            "table_arabic_indic_digits",
            "EG and CENTRO in Arabic-Indic digits: imported as ASCII",
            12,
            EG=lambda r: _arabic(r["EG"]),
            CENTRO=lambda r: _arabic(r["CENTRO"]),
        ),
        _same(
            "table_fullwidth_digits",
            "MESA, RE and NM in full-width digits: imported as ASCII",
            13,
            MESA=lambda r: _fullwidth(r["MESA"]),
            RE=lambda r: _fullwidth(r["RE"]),
            NM=lambda r: _fullwidth(r["NM"]),
        ),
        _same("table_padded_numbers", "counts with spaces around them", 14, EG=lambda r: f"  {r['EG']} "),
        ImportKind(
            "table_missing_last_cell",
            "table",
            "a row without its last cell (URL)",
            _table("table_missing_last_cell", lambda: _rows((15, _row(15)[:-1]))),
            refused=(Refusal(_line(15), "faltan celdas"),),
            kept=_but(15),
        ),
        ImportKind(
            "table_extra_cell",
            "table",
            "a cell too many after MESA: every number shifted one column (its sum still fails)",
            _table("table_extra_cell", lambda: _rows((16, [*_row(16)[:8], "9", *_row(16)[8:]]))),
            refused=(Refusal(_line(16), "celdas y el encabezado 22"),),
            kept=_but(16),
        ),
        ImportKind(
            "table_trailing_comma",
            "table",
            "every row ending in a comma (an empty cell past the header): imported",
            _table("table_trailing_comma", lambda: [[*r, ""] for r in _rows()]),
            kept=ALL,
        ),
        _one_bad("table_megabyte_cell", "a 1 MB cell", 1, "ilegible", EDO="x" * 1_000_000),
        ImportKind(
            "table_unclosed_quote",
            "table",
            "a quote opened on line 5 and never closed: only line 5 is lost",
            _table("table_unclosed_quote", edit=_unclosed_quote),
            refused=(Refusal(5, "ilegible"),),
            kept=_but(3),
        ),
        ImportKind(
            "table_unclosed_quote_past_the_field_limit",
            "table",
            "an unclosed quote followed by 200,000 blank lines: past the reader's 128 KiB cell",
            _table("table_unclosed_quote_past_the_field_limit", edit=lambda t: _unclosed_quote(t, 200_000)),
            refused=(Refusal(5, "ilegible"),),
            kept=_but(3),
        ),
        ImportKind(
            "table_name_with_a_line_break",
            "table",
            "a quoted name spanning two lines (legal CSV), then a bad row: its physical line is named",
            _table(
                "table_name_with_a_line_break",
                lambda: _rows((6, _row(6, VOTOS_VALIDOS=_swap_valid(1)))),
                edit=_name_with_a_line_break,
            ),
            refused=(Refusal(_line(6) + 1, "suma"),),
            kept=_but(6),
        ),
        _same("table_markup_in_a_name", "Rich markup [/red] as a state name", 17, EDO="[/red]"),
        _one_bad(
            "table_markup_in_a_number", "Rich markup [bold] in a count", 18, "no es un entero", NM="[bold]x"
        ),
        _one_bad(
            "table_formula_in_a_number",
            "a spreadsheet formula as a count",
            19,
            "no es un entero",
            EG="=cmd|' /C calc'!A0",
        ),
        _same(
            "table_formula_in_a_name", "a spreadsheet formula as a parish name", 20, PAR="=cmd|' /C calc'!A0"
        ),
        _one_bad(
            "table_terminal_escape",
            "a terminal escape in a count",
            21,
            "no es un entero",
            EG="\x1b[2J\x1b[31m7",
        ),
        _one_bad(
            "table_nul_byte",
            "a NUL byte in a count",
            22,
            "no es un entero",
            MESA=lambda r: f"{r['MESA']}\x00",
        ),
        ImportKind(
            "table_mesa_twice_same_numbers",
            "table",
            "row 0 again at the end, same numbers: counted once",
            _table("table_mesa_twice_same_numbers", lambda: _rows(extra=(_row(0),))),
            refused=(Refusal(32, "mismos números"),),
            kept=ALL,
        ),
        ImportKind(
            "table_mesa_twice_written_differently",
            "table",
            "row 0 again with MESA 01 and a 9-digit CENTRO: the same mesa, counted once",
            _table(
                "table_mesa_twice_written_differently",
                lambda: _rows(extra=(_row(0, MESA="01", CENTRO=lambda r: r["CENTRO"].zfill(9)),)),
            ),
            refused=(Refusal(32, "mismos números"),),
            kept=ALL,
        ),
        ImportKind(
            "table_mesa_twice_different_numbers",
            "table",
            "row 0 again with one more NM vote: neither counted; the message names both lines",
            _table(
                "table_mesa_twice_different_numbers",
                lambda: _rows(extra=(_row(0, NM=lambda r: int(r["NM"]) + 1, VOTOS_VALIDOS=_swap_valid(1)),)),
            ),
            refused=(Refusal(2, "líneas 2, 32"),),
            kept=_but(0),
        ),
        ImportKind(
            "table_mesa_three_times",
            "table",
            "row 0 three times, all different: none counted",
            _table(
                "table_mesa_three_times",
                lambda: _rows(
                    extra=(
                        _row(0, NM=lambda r: int(r["NM"]) + 1, VOTOS_VALIDOS=_swap_valid(1)),
                        _row(0, NM=lambda r: int(r["NM"]) + 2, VOTOS_VALIDOS=_swap_valid(2)),
                    )
                ),
            ),
            refused=(Refusal(2, "distintos"), Refusal(33, "otra vez")),
            kept=_but(0),
        ),
        _one_bad(
            "table_centre_too_long", "a 10-digit centre code", 23, "código inválido", CENTRO="1011304299"
        ),
        _one_bad(
            "table_centre_letters", "a centre code with a letter", 24, "código inválido", CENTRO="1011304A"
        ),
        _one_bad("table_mesa_zero", "mesa 0", 25, "mesa 0", MESA=0),
        ImportKind(
            "table_blank_lines",
            "table",
            "blank lines between rows: skipped, not errors",
            _table("table_blank_lines", edit=lambda t: t.replace("\n", "\n\n", 10)),
            kept=ALL,
        ),
        ImportKind(
            "table_empty",
            "table",
            "an empty file",
            lambda folder: _write(folder, "table_empty.csv", b""),
            whole="vacío",
        ),
        ImportKind(
            "table_header_only",
            "table",
            "the header and nothing else: a table of 0 rows",
            lambda folder: _write(folder, "table_header_only.csv", ",".join(v1_slice()[0]) + "\n"),
        ),
        ImportKind(
            "table_wrong_header",
            "table",
            "the header in lower case",
            _table("table_wrong_header", header=lambda h: [c.lower() for c in h]),
            whole="faltan columnas",
        ),
        ImportKind(
            "table_column_twice",
            "table",
            "EG twice in the header, the second in place of URL (which one is EG's?)",
            _table("table_column_twice", header=lambda h: [("EG" if c == "URL" else c) for c in h]),
            whole="columnas repetidas",
        ),
        ImportKind(
            "table_utf16",
            "table",
            "UTF-16 with BOM (Excel's 'Unicode text'), accented names",
            _table("table_utf16", lambda: _with_accents(_rows()), encoding="utf-16"),
            kept=ALL,
            names=ACCENTED,
        ),
        ImportKind(
            "table_utf16le_without_bom",
            "table",
            "UTF-16-LE without a BOM",
            _table("table_utf16le_without_bom", lambda: _with_accents(_rows()), encoding="utf-16-le"),
            kept=ALL,
            names=ACCENTED,
        ),
        ImportKind(
            "table_cp1252",
            "table",
            "Windows-1252 with accented names",
            _table("table_cp1252", lambda: _with_accents(_rows()), encoding="cp1252"),
            kept=ALL,
            names=ACCENTED,
        ),
        ImportKind(
            "table_bom_and_a_stray_byte",
            "table",
            "a UTF-8 BOM and one byte that is not UTF-8 (it ended in a UnicodeDecodeError)",
            lambda folder: _write(
                folder,
                "table_bom_and_a_stray_byte.csv",
                _bom_and_a_stray_byte(_csv_text(v1_slice()[0], _rows())),
            ),
            kept=ALL,
        ),
        ImportKind(
            "table_utf8_bom",
            "table",
            "UTF-8 with BOM and accented names",
            _table("table_utf8_bom", lambda: _with_accents(_rows()), encoding="utf-8-sig"),
            kept=ALL,
            names=ACCENTED,
        ),
        ImportKind(
            "table_cr_only", "table", "old Mac line endings (CR)", _table("table_cr_only", end="\r"), kept=ALL
        ),
        ImportKind(
            "table_crlf", "table", "Windows line endings (CRLF)", _table("table_crlf", end="\r\n"), kept=ALL
        ),
        ImportKind(
            "table_png_renamed",
            "table",
            "a PNG image named .csv",
            lambda folder: _write(folder, "table_png_renamed.csv", _png_bytes()),
            whole="PNG",
        ),
        ImportKind("table_xlsx_renamed", "table", "an Excel workbook named .csv", _xlsx, whole="Excel"),
        ImportKind(
            "table_markup_in_the_file_name",
            "table",
            "a file named with Rich markup (its rows in reverse order: other bytes than the control)",
            _table("table_markup_in_the_file_name", lambda: _rows()[::-1], file_name="[red]t[bold].csv"),
            kept=ALL,
        ),
    ]


# --- bulletins -------------------------------------------------------------------------------


@functools.cache
def _sample_bulletins() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(BULLETINS.read_text(encoding="utf-8"))
    return doc


def _good(kind: str) -> list[dict[str, Any]]:
    """The two CNE bulletins of the sample, their ids made the kind's own."""
    out = []
    for n, b in enumerate(_sample_bulletins()["bulletins"], start=1):
        out.append({**b, "id": f"{kind}-{n}"})
    return out


def _bulletins(name: str, *bad: object, raw: str | None = None) -> Callable[[Path], Path]:
    """The two good bulletins, then ``bad`` (each a JSON value, or raw JSON text)."""

    def make(folder: Path) -> Path:
        good = [json.dumps(b, ensure_ascii=False) for b in _good(name)]
        items = [*good, *(json.dumps(b) for b in bad), *([raw] if raw else [])]
        text = '{"authority": "CNE", "bulletins": [' + ",\n".join(items) + "]}"
        return _write(folder, f"{name}.json", text)

    return make


def _bad_bulletin(name: str, what: str, bulletin: object, reason: str, raw: str | None = None) -> ImportKind:
    """Two good bulletins and one bad one (the file's third): only it is refused."""
    return ImportKind(
        name,
        "bulletin",
        what,
        _bulletins(name, *([] if raw else [bulletin]), raw=raw),
        refused=(Refusal("bulletins[2]", reason),),
        keys=(f"{name}-1", f"{name}-2"),
        imported=2,
    )


def _deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def _bulletin_kinds() -> list[ImportKind]:
    def keys(name: str, *more: str) -> tuple[str, ...]:
        return (f"{name}-1", f"{name}-2", *more)

    return [
        ImportKind(
            "bulletin_good",
            "bulletin",
            "the sample's two bulletins: the control",
            _bulletins("bulletin_good"),
            keys=keys("bulletin_good"),
            imported=2,
        ),
        _bad_bulletin(
            "bulletin_votes_a_list",
            "a list where the votes object belongs",
            {"id": "x", "votes": ["NM", 5]},
            "'votes' debe ser un objeto",
        ),
        _bad_bulletin(
            "bulletin_huge_int", "10^30 votes", {"id": "x", "votes": {"NM": 10**30}}, "supera el máximo"
        ),
        _bad_bulletin(
            "bulletin_5000_digits",
            "a count of 5,000 digits (past Python's int-from-text limit: a ValueError out of json)",
            None,
            "no es un entero",
            raw='{"id": "x", "votes": {"NM": ' + "9" * 5000 + "}}",
        ),
        _bad_bulletin("bulletin_negative", "-5 votes", {"id": "x", "votes": {"NM": -5}}, "negativo"),
        _bad_bulletin("bulletin_float", "5.0 votes", {"id": "x", "votes": {"NM": 5.0}}, "no es un entero"),
        _bad_bulletin(
            "bulletin_boolean", "true as a count", {"id": "x", "votes": {"NM": True}}, "no es un entero"
        ),
        _bad_bulletin(
            "bulletin_word_as_number",
            "'doce' as a count",
            {"id": "x", "votes": {"NM": "doce"}},
            "no es un entero",
        ),
        ImportKind(
            "bulletin_digits_as_strings",
            "bulletin",
            "counts as strings, one in Arabic-Indic digits: imported as numbers",
            _bulletins(
                "bulletin_digits_as_strings",
                {"id": "bulletin_digits_as_strings-3", "votes": {"NM": "12", "EG": "١٢"}},
            ),
            keys=keys("bulletin_digits_as_strings", "bulletin_digits_as_strings-3"),
            imported=3,
        ),
        _bad_bulletin(
            "bulletin_nan", "NaN votes", None, "no es un entero", raw='{"id": "x", "votes": {"NM": NaN}}'
        ),
        _bad_bulletin(
            "bulletin_infinity",
            "Infinity votes",
            None,
            "no es un entero",
            raw='{"id": "x", "votes": {"EG": Infinity}}',
        ),
        _bad_bulletin(
            "bulletin_unknown_candidate",
            "a candidate the definition does not have",
            {"id": "x", "votes": {"XX": 1}},
            "desconocidos",
        ),
        _bad_bulletin(
            "bulletin_candidate_twice",
            "NM given twice in one object (json keeps the last)",
            None,
            "claves repetidas",
            raw='{"id": "x", "votes": {"NM": 1, "NM": 5000000}}',
        ),
        _bad_bulletin(
            "bulletin_pct_past_100",
            "150 % of actas",
            {"id": "x", "votes": {"NM": 1}, "actas_transmitted_pct": 150},
            "porcentaje",
        ),
        _bad_bulletin(
            "bulletin_pct_infinite",
            "1e400 % of actas",
            None,
            "porcentaje",
            raw='{"id": "x", "votes": {"NM": 1}, "actas_pct": 1e400}',
        ),
        _bad_bulletin("bulletin_id_null", "an id of null", {"id": None, "votes": {"NM": 1}}, "'id'"),
        _bad_bulletin(
            "bulletin_id_an_object", "an id that is an object", {"id": {"a": 1}, "votes": {"NM": 1}}, "'id'"
        ),
        _bad_bulletin(
            "bulletin_announced_at_an_object",
            "announced_at an object (it ended in a database error)",
            {"id": "x", "votes": {"NM": 1}, "announced_at": {"day": 1}},
            "announced_at",
        ),
        _bad_bulletin(
            "bulletin_sources_a_string",
            "sources a string, not a list",
            {"id": "x", "votes": {"NM": 1}, "sources": 7},
            "sources",
        ),
        _bad_bulletin(
            "bulletin_units_an_object",
            "units an object, not a list",
            {"id": "x", "votes": {"NM": 1}, "units": {"a": 1}},
            "'units'",
        ),
        _bad_bulletin(
            "bulletin_unit_a_number",
            "a unit that is a number",
            {"id": "x", "votes": {"NM": 1}, "units": [3]},
            "objeto",
        ),
        _bad_bulletin("bulletin_a_number", "a bulletin that is a number", 7, "objeto"),
        _bad_bulletin(
            "bulletin_state_code_too_long",
            "a state (2 digits) coded 123456",
            {
                "id": "x",
                "votes": {"NM": 1},
                "units": [{"level": "state", "code": "123456", "votes": {"NM": 1}}],
            },
            "código inválido",
        ),
        ImportKind(
            "bulletin_state_code_arabic",
            "bulletin",
            "a state coded in Arabic-Indic digits: stored as 01",
            _bulletins(
                "bulletin_state_code_arabic",
                {
                    "id": "bulletin_state_code_arabic-3",
                    "votes": {"NM": 2},
                    "units": [{"level": "state", "code": "٠١", "votes": {"NM": 1}}],
                },
            ),
            keys=keys("bulletin_state_code_arabic", "bulletin_state_code_arabic-3"),
            imported=3,
        ),
        _bad_bulletin(
            "bulletin_mesa_without_number",
            "a mesa unit without its number",
            {
                "id": "x",
                "votes": {"NM": 1},
                "units": [{"level": "mesa", "code": "010101001", "votes": {"NM": 1}}],
            },
            "número de mesa",
        ),
        ImportKind(
            "bulletin_unit_twice",
            "bulletin",
            "a bulletin giving one state twice",
            _bulletins(
                "bulletin_unit_twice",
                {
                    "id": "x",
                    "votes": {"NM": 2},
                    "units": [
                        {"level": "state", "code": "1", "votes": {"NM": 1}},
                        {"level": "state", "code": "01", "votes": {"NM": 2}},
                    ],
                },
            ),
            refused=(Refusal("id x", "dos veces"),),
            keys=keys("bulletin_unit_twice"),
            imported=2,
        ),
        ImportKind(
            "bulletin_id_twice",
            "bulletin",
            "two bulletins with one id: neither",
            _bulletins("bulletin_id_twice", {"id": "x", "votes": {"NM": 1}}, {"id": "x", "votes": {"NM": 2}}),
            refused=(Refusal("id x", "repetido"),),
            keys=keys("bulletin_id_twice"),
            imported=2,
        ),
        ImportKind(
            "bulletin_caveat_nested_500",
            "bulletin",
            "a caveat nested 500 lists deep (parses; not text)",
            _bulletins(
                "bulletin_caveat_nested_500",
                raw='{"id": "x", "votes": {"NM": 1}, "caveat": ' + _deep(500) + "}",
            ),
            refused=(Refusal("bulletins[2]", "caveat"),),
            keys=keys("bulletin_caveat_nested_500"),
            imported=2,
        ),
        ImportKind(
            "bulletin_nested_10000",
            "bulletin",
            "lists nested 10,000 deep",
            lambda folder: _write(
                folder, "bulletin_nested_10000.json", '{"bulletins": ' + _deep(10_000) + "}"
            ),
            whole="anidado",
        ),
        ImportKind(
            "bulletin_not_json",
            "bulletin",
            "text that is not JSON",
            lambda folder: _write(
                folder, "bulletin_not_json.json", '{"bulletins": [{"id": "a", "votes": {NM: 1}}]}'
            ),
            whole="JSON inválido",
        ),
        ImportKind(
            "bulletin_empty",
            "bulletin",
            "an empty file",
            lambda folder: _write(folder, "bulletin_empty.json", ""),
            whole="vacío",
        ),
        ImportKind(
            "bulletin_bulletins_an_object",
            "bulletin",
            "'bulletins' an object, not a list",
            lambda folder: _write(
                folder, "bulletin_bulletins_an_object.json", '{"bulletins": {"id": "a", "votes": {"NM": 1}}}'
            ),
            whole="'bulletins'",
        ),
        ImportKind(
            "bulletin_bulletins_twice",
            "bulletin",
            "'bulletins' given twice in the document",
            lambda folder: _write(
                folder,
                "bulletin_bulletins_twice.json",
                '{"bulletins": [{"id": "bulletin_bulletins_twice-1", "votes": {"NM": 1}}], "bulletins": []}',
            ),
            whole="repetido",
        ),
        ImportKind(
            "bulletin_a_bare_list",
            "bulletin",
            "a list of bulletins without the wrapping object: accepted",
            lambda folder: _write(
                folder, "bulletin_a_bare_list.json", json.dumps(_good("bulletin_a_bare_list"))
            ),
            keys=keys("bulletin_a_bare_list"),
            imported=2,
        ),
        ImportKind(
            "bulletin_utf16",
            "bulletin",
            "the sample in UTF-16",
            lambda folder: _write(
                folder,
                "bulletin_utf16.json",
                json.dumps({"bulletins": _good("bulletin_utf16")}, ensure_ascii=False),
                "utf-16",
            ),
            keys=keys("bulletin_utf16"),
            imported=2,
        ),
        ImportKind(
            "bulletin_png_renamed",
            "bulletin",
            "a PNG image named .json",
            lambda folder: _write(folder, "bulletin_png_renamed.json", _png_bytes()),
            whole="PNG",
        ),
        ImportKind(
            "bulletin_csv_empty_cells",
            "bulletin",
            "a CSV bulletin leaving some candidates empty: not given, not 0; a row with a cell too many",
            lambda folder: _write(
                folder,
                "bulletin_csv_empty_cells.csv",
                "bulletin,level,code,actas_pct,EG,NM,LM,valid,nulos\n"
                "bulletin_csv_empty_cells-1,national,,80,4445978,5150092,,,\n"
                "bulletin_csv_empty_cells-1,state,1,80,10,20,,,\n"
                "bulletin_csv_empty_cells-1,state,2,80,10,20,,,,5\n",
            ),
            refused=(Refusal(4, "celdas"),),
            keys=("bulletin_csv_empty_cells-1",),
            imported=1,
        ),
        ImportKind(
            "bulletin_csv_bad_pct",
            "bulletin",
            "a CSV bulletin with 'abc' % of actas on one row",
            lambda folder: _write(
                folder,
                "bulletin_csv_bad_pct.csv",
                "bulletin,level,code,actas_pct,EG,NM\n"
                "bulletin_csv_bad_pct-1,national,,abc,1,2\n"
                "bulletin_csv_bad_pct-2,national,,50,1,2\n",
            ),
            refused=(Refusal(2, "porcentaje"),),
            keys=("bulletin_csv_bad_pct-2",),
            imported=1,
        ),
    ]


# --- registry --------------------------------------------------------------------------------


def _registry(
    name: str,
    source: Path,
    edit: Callable[[list[list[str]]], list[list[str]]] | None = None,
    encoding: str = "utf-8",
    text_edit: Callable[[str], str] | None = None,
) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        header, rows = _registry_slice(source)
        chosen = [list(r) for r in rows[:SLICE]]
        text = _csv_text(header, edit(chosen) if edit else chosen)
        return _write(folder, f"{name}.csv", text_edit(text) if text_edit else text, encoding)

    return make


def _electors(
    name: str, edit: Callable[[list[list[str]]], list[list[str]]] | None = None
) -> Callable[[Path], Path]:
    """CENTRO, MESA, RE of the V1 slice."""

    def make(folder: Path) -> Path:
        header, rows = v1_slice()
        at = [header.index(c) for c in ("CENTRO", "MESA", "RE")]
        chosen = [[r[i] for i in at] for r in rows]
        return _write(
            folder, f"{name}.csv", _csv_text(["CENTRO", "MESA", "RE"], edit(chosen) if edit else chosen)
        )

    return make


def _unit_totals(name: str, extra: tuple[list[str], ...] = ()) -> Callable[[Path], Path]:
    """The admin-units rows of the centres slice's state, municipality and parishes."""

    def make(folder: Path) -> Path:
        _, centres = _registry_slice(CENTRES)
        wanted = {
            *((c[2], "") for c in centres[:SLICE]),
            *((c[3], c[2]) for c in centres[:SLICE]),
            *((c[4], c[3]) for c in centres[:SLICE]),
        }
        header, units = _registry_slice(UNITS)
        rows = [list(u) for u in units if (u[2], u[4]) in wanted]
        return _write(folder, f"{name}.csv", _csv_text(header, [*rows, *extra]))

    return make


def _set(row: int, col: int, value: str) -> Callable[[list[list[str]]], list[list[str]]]:
    def edit(rows: list[list[str]]) -> list[list[str]]:
        rows[row][col] = value
        return rows

    return edit


def _shift_line_5(text: str) -> str:
    lines = text.split("\n")
    code, name, rest = lines[4].split(",", 2)
    lines[4] = ",".join([code, name, " SEDE 2", rest])  # a comma in the name, unquoted
    return "\n".join(lines)


def _registry_kinds() -> list[ImportKind]:
    centres_first = _registry("registry_centres_first", CENTRES)
    return [
        ImportKind(
            "registry_centres_good",
            "registry",
            "30 centres: the control",
            _registry("registry_centres_good", CENTRES),
            imported=30,
        ),
        ImportKind(
            "registry_centres_twice_different",
            "registry",
            "a centre again with another name: neither taken",
            _registry(
                "registry_centres_twice_different",
                CENTRES,
                lambda r: [*r, [r[0][0], "OTRO NOMBRE", *r[0][2:]]],
            ),
            refused=(Refusal(2, "datos distintos"), Refusal(32, "datos distintos")),
            imported=29,
        ),
        ImportKind(
            "registry_centres_twice_same",
            "registry",
            "a centre again, the same: taken once",
            _registry("registry_centres_twice_same", CENTRES, lambda r: [*r, list(r[0])]),
            refused=(Refusal(32, "mismos datos"),),
            imported=30,
        ),
        ImportKind(
            "registry_centres_bad_codes",
            "registry",
            "centre codes of 10 digits and with a letter",
            _registry(
                "registry_centres_bad_codes",
                CENTRES,
                lambda r: _set(2, 0, "01010A003")(_set(1, 0, "0101010020")(r)),
            ),
            refused=(Refusal(3, "código inválido"), Refusal(4, "código inválido")),
            imported=28,
        ),
        ImportKind(
            "registry_centres_bad_mesas",
            "registry",
            "mesas_totales -1, 3.0 and 99,999",
            _registry(
                "registry_centres_bad_mesas",
                CENTRES,
                lambda r: _set(2, 9, "99999")(_set(1, 9, "3.0")(_set(0, 9, "-1")(r))),
            ),
            refused=(Refusal(2, "no es un entero"), Refusal(3, "no es un entero"), Refusal(4, "supera")),
            imported=27,
        ),
        ImportKind(
            "registry_centres_arabic_code",
            "registry",
            "a centre code in Arabic-Indic digits: stored as ASCII",
            _registry("registry_centres_arabic_code", CENTRES, lambda r: _set(0, 0, _arabic(r[0][0]))(r)),
            imported=30,
        ),
        ImportKind(
            "registry_centres_shifted_row",
            "registry",
            "a name with an unquoted comma: its row shifted",
            _registry("registry_centres_shifted_row", CENTRES, text_edit=_shift_line_5),
            refused=(Refusal(5, "celdas"),),
            imported=29,
        ),
        ImportKind(
            "registry_centres_utf16",
            "registry",
            "the centres in UTF-16",
            _registry("registry_centres_utf16", CENTRES, encoding="utf-16"),
            imported=30,
        ),
        ImportKind(
            "registry_mesas_list",
            "registry",
            "the site's per-mesa list (centro_code, no names): it blanked the names a centres file gave",
            _registry("registry_mesas_list", MESAS),
            whole="no se reconoce",
            before=centres_first,
        ),
        ImportKind(
            "registry_unknown_columns",
            "registry",
            "columns of no registry",
            lambda folder: _write(folder, "registry_unknown_columns.csv", "a,b\n1,2\n"),
            whole="no se reconoce",
        ),
        ImportKind(
            "registry_empty",
            "registry",
            "an empty file",
            lambda folder: _write(folder, "registry_empty.csv", "\n\n"),
            whole="vacío",
        ),
        ImportKind(
            "registry_electors_good",
            "registry",
            "electors of the V1 slice",
            _electors("registry_electors_good"),
            imported=30,
        ),
        ImportKind(
            "registry_electors_bad_numbers",
            "registry",
            "electors -4, 2,500, 600.0 and empty",
            _electors(
                "registry_electors_bad_numbers",
                lambda r: _set(3, 2, "")(_set(2, 2, "600.0")(_set(1, 2, "2500")(_set(0, 2, "-4")(r)))),
            ),
            refused=(
                Refusal(2, "no es un entero"),
                Refusal(3, "supera"),
                Refusal(4, "no es un entero"),
                Refusal(5, "no es un entero"),
            ),
            imported=26,
        ),
        ImportKind(
            "registry_electors_fullwidth",
            "registry",
            "a centre, mesa and electors in full-width digits: stored as ASCII",
            _electors("registry_electors_fullwidth", lambda r: [[_fullwidth(c) for c in r[0]], *r[1:]]),
            imported=30,
        ),
        ImportKind(
            "registry_electors_mesa_twice_different",
            "registry",
            "a mesa again with other electors (it ended in an IntegrityError)",
            _electors("registry_electors_mesa_twice_different", lambda r: [*r, [r[0][0], r[0][1], "700"]]),
            refused=(Refusal(2, "datos distintos"), Refusal(32, "datos distintos")),
            imported=29,
        ),
        ImportKind(
            "registry_electors_mesa_twice_same",
            "registry",
            "a mesa again with the same electors",
            _electors("registry_electors_mesa_twice_same", lambda r: [*r, list(r[0])]),
            refused=(Refusal(32, "mismos datos"),),
            imported=30,
        ),
        ImportKind(
            "registry_electors_mesa_zero",
            "registry",
            "mesa 0",
            _electors("registry_electors_mesa_zero", _set(4, 1, "0")),
            refused=(Refusal(6, "mesa 0"),),
            imported=29,
        ),
        ImportKind(
            "registry_unit_totals",
            "registry",
            "mesas per state, municipality and parish of the centres slice, and a parish of no centre",
            _unit_totals(
                "registry_unit_totals",
                extra=(
                    [
                        "parroquia",
                        "278",
                        "PQ. CANDELARIA",
                        "municipio/79",
                        "MP. VALENCIA",
                        "29",
                        "",
                        "",
                        "",
                        "",
                        "",
                    ],
                ),
            ),
            refused=(Refusal(6, "no encontrada"),),
            imported=4,
            before=centres_first,
        ),
        ImportKind(
            "registry_unit_totals_twice_different",
            "registry",
            "a parish's total given twice, differently",
            _unit_totals(
                "registry_unit_totals_twice_different",
                extra=(
                    [
                        "parroquia",
                        "1",
                        "PQ. ALTAGRACIA",
                        "municipio/1",
                        "MP. BLVNO LIBERTADOR",
                        "53",
                        "",
                        "",
                        "",
                        "",
                        "",
                    ],
                ),
            ),
            refused=(Refusal(4, "datos distintos"), Refusal(6, "datos distintos")),
            imported=3,
            before=centres_first,
        ),
    ]


@functools.cache
def kinds() -> tuple[ImportKind, ...]:
    """Every kind, tables first, then bulletins, then the registry (nothing is read until a
    kind writes its file)."""
    out = (*_table_kinds(), *_bulletin_kinds(), *_registry_kinds())
    names = [k.name for k in out]
    assert len(names) == len(set(names)), "kind names are unique"
    return out


KINDS = kinds()


def by_family(family: str) -> list[ImportKind]:
    return [k for k in kinds() if k.family == family]


def write_all(folder: Path, family: str) -> list[Path]:
    """Every kind of ``family`` written into ``folder`` (files a kind needs first come first)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for kind in by_family(family):
        if kind.before is not None:
            first = kind.before(folder)
            if first not in paths:
                paths.insert(0, first)
        paths.append(kind.make(folder))
    return paths
