"""Measure what a recogniser's digits make of each printed glyph, as the reader reads them.

The decision rule of :mod:`veedor.read.print.risk` needs, per engine, how often a printed
glyph is read as another one, by how sure the recogniser was. This script measures it on
the **tuning half** of the real actas (:func:`synth.real_split`) only, clean and degraded by
every family of :mod:`veedor.simulate.degrade` (``SEEDS`` draws each, seeds of their own),
through the reader's own first pass: the first view the reader reads
(:func:`veedor.read.print.views.first_view`), its layout, and its digits read five rows
to a line image, squeezed (:func:`veedor.read.print.rows.read_digits`).

A row counts only when it is placed: every party code of the table is read and
:func:`veedor.read.print.align.assign_rows` puts the row on a ballot line whose printed
code it reads, exactly or one glyph off (when that is not another party's code). A row placed one line off shows the *neighbour's* count, read
correctly; that is row placement's failure (the codes), not the recogniser's, and it
would be counted as a confusion ("1"→"0") otherwise.

Each placed row adds its count's glyphs to the confidence bin of its reading: glyphs seen,
glyphs read as another glyph (same length), a glyph lost or added, other and unreadable
readings. Written to ``src/veedor/read/models/<engine>.confusions.json``:

    PYTHONPATH=src .venv/bin/python training/recogniser/confusions.py [--engine ppocr|acta]
        [--seeds 3] [--part tune|full]

The ppocr table (3 draws) was measured before the generator was split, on its whole ranges;
the acta-rec table on the tuning part only (``--part tune``, the default since).
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synth

from veedor.definitions import load_definition
from veedor.read.print import ocr
from veedor.read.print.align import assign_rows
from veedor.read.print.layout import upright_layout
from veedor.read.print.recognise import acta_recogniser
from veedor.read.print.risk import BINS, TABLE_DIR, bin_of, engine_key
from veedor.read.print.rows import one_slip, read_codes, read_digits
from veedor.read.print.views import first_view
from veedor.read.print.vocabulary import using
from veedor.simulate.degrade import FAMILIES, degrade

SEEDS = 3  # draws per family and acta
SKIPPED = ("phone_bottom",)  # no printed table in the frame


def _holds_code(read: str, own: int, codes: list[int]) -> bool:
    """Whether a row's printed party code says it is on its line: read exactly, or one
    glyph off (squeezed codes slip too: "1060" for 1050) and not another party's code."""
    text = read.replace(" ", "")
    others = {str(c) for c in codes if c != own}
    return text == str(own) or (one_slip(text, str(own)) and text not in others)


class Tally:
    """One confidence bin's counts."""

    def __init__(self) -> None:
        self.counts = self.lost = self.added = self.other = self.unreadable = 0
        self.glyphs: collections.Counter[str] = collections.Counter()
        self.read_as: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)

    def add(self, truth: str, got: str) -> None:
        self.counts += 1
        self.glyphs.update(truth)
        if not got.isdigit():
            self.unreadable += 1
        elif len(got) == len(truth):
            for a, b in zip(truth, got, strict=True):
                if a != b:
                    self.read_as[a][b] += 1
        elif len(got) == len(truth) - 1 and any(truth[:i] + truth[i + 1 :] == got for i in range(len(truth))):
            self.lost += 1
        elif len(got) == len(truth) + 1 and any(got[:i] + got[i + 1 :] == truth for i in range(len(got))):
            self.added += 1
        else:
            self.other += 1

    def as_dict(self) -> dict[str, object]:
        return {
            "counts": self.counts,
            "glyphs": dict(sorted(self.glyphs.items())),
            "read_as": {a: dict(sorted(c.items())) for a, c in sorted(self.read_as.items())},
            "lost": self.lost,
            "added": self.added,
            "other": self.other,
            "unreadable": self.unreadable,
        }


def measure(engine: str, seeds: int = SEEDS, part: str | None = "tune") -> dict[str, object]:
    definition = load_definition(synth.DEFINITION)
    rec = ocr.recogniser("ppocr" if engine == "ppocr" else "digits=acta")
    codes = [b.party_code for b in definition.ballot]
    tallies = {name: Tally() for name, _ in BINS}
    images = placed = off = 0
    for path, counts in synth._real_counts("tune"):
        original = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        for family in ("clean", *(f for f in FAMILIES if f not in SKIPPED)):
            for draw in range(1 if family == "clean" else seeds):
                seed = int(
                    hashlib.sha256(f"confusions/{family}/{draw}/{path.name}".encode()).hexdigest()[:8], 16
                )
                gray = (
                    original
                    if family == "clean"
                    else degrade(original, family, np.random.default_rng(seed), part=part)
                )
                images += 1
                with using(definition):
                    view = first_view(gray)
                    view, layout = upright_layout(view, len(definition.ballot))
                    if not layout.found:
                        continue
                    reads = read_digits(view, layout.table, layout.scale, rec)
                    read_codes(view, layout.table, layout.scale, rec, reads)
                    _lines, _votantes, _notes, used = assign_rows(layout.table, reads, definition)
                for p, k in used:
                    if p >= len(counts.votes):
                        continue
                    if not _holds_code(reads[k].code_text, codes[p], codes):
                        off += 1
                        continue
                    placed += 1
                    look = reads[k].digit_looks[0]
                    tallies[bin_of(look.confidence)].add(str(counts.votes[p]), look.text.replace(" ", ""))
        print(f"{path.name}: {images} images, {placed} rows placed, {off} not", flush=True)
    return {
        "engine": (acta_recogniser() if engine == "acta" else rec).name,
        "measured_on": "tuning half of samples/actas (training/recogniser/synth.py real_split), "
        f"clean and every simulate.degrade family but {', '.join(SKIPPED)}, {seeds} draws each"
        + (f" from the generator's {part} part" if part else " from its whole ranges"),
        "images": images,
        "rows_placed": placed,
        "rows_not_placed": off,
        "bins": {name: tallies[name].as_dict() for name, _ in BINS},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=("ppocr", "acta"), default="ppocr")
    parser.add_argument("--out", type=Path, default=TABLE_DIR)
    parser.add_argument("--seeds", type=int, default=SEEDS, help="draws per family and acta")
    parser.add_argument(
        "--part",
        choices=("tune", "full"),
        default="tune",
        help="the generator's parameters: its tuning part (simulate.degrade.Part), or the whole ranges",
    )
    args = parser.parse_args()
    cv2.setNumThreads(1)
    started = time.perf_counter()
    table = measure(args.engine, args.seeds, None if args.part == "full" else args.part)
    path = args.out / f"{engine_key(args.engine)}.confusions.json"
    path.write_text(json.dumps(table, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {path} in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
