"""The acta's own recogniser against PP-OCR, field by field, on the same crops.

Both engines read every crop alone (one piece per run, one thread), decoded with the field's
alphabet; a digits crop is right when its text is the count, a words crop when its text is
the spelt count, spaces aside ("value": when :func:`from_words` gives the count, slips
within the reader's tolerance allowed). Crop sets:

* ``synth-tune``: synthetic crops (``training/recogniser/synth.py``, a pool the training never
  saw) degraded with strengths from the training bins; the only set looked at while tuning;
* ``synth-held``: the same kinds with strengths from the held-back bins;
* ``kind-<name>``: held-back strengths plus a degradation kind never used in training;
* ``real-held``: the ballot lines of the real actas (``samples/actas/``) whose QR is known,
  whose 40 table rows the layout finds, and that the training never saw (the held-back half
  of ``synth.real_split``), cut by the reader's own layout code;
* ``real-held-<family>``: the same actas degraded by :mod:`veedor.simulate.degrade` (another
  generator than the training's), cut by the layout code when it still finds the 40 rows;
* ``real-tune``, ``real-tune-<family>``: the same for the tuning half, whose clean crops the
  training may use (``train.py --real-share``): reported apart, never mixed with the above.

    PYTHONPATH=src .venv/bin/python bench/bench_recogniser.py [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import pickle
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "training" / "recogniser"))

import synth  # noqa: E402

from veedor.definitions import load_definition  # noqa: E402
from veedor.definitions.parsers import parse_payload  # noqa: E402
from veedor.read.print import ocr  # noqa: E402
from veedor.read.print.layout import upright_layout  # noqa: E402
from veedor.read.print.recognise import MODEL_PATH, ActaRecogniser  # noqa: E402
from veedor.read.print.rows import crop, digits_piece  # noqa: E402
from veedor.read.print.vocabulary import current  # noqa: E402
from veedor.read.print.words import from_words  # noqa: E402
from veedor.simulate.degrade import degrade  # noqa: E402

ACTAS = ROOT / "samples" / "actas"
FAMILIES = (
    "blur",
    "motion_blur",
    "faded",
    "jpeg",
    "low_res",
    "dark",
    "stain",
    "scan",
    "perspective",
    "crumpled",
    "phone_full",
)
QUICK_FAMILIES = ("blur", "jpeg", "phone_full")

Crop = tuple[np.ndarray, str, str]  # image, field, text


def synthetic_sets(quick: bool) -> dict[str, list[Crop]]:
    pool = synth.make_pool(9001, 6 if quick else 20, 300 if quick else 1000)
    n = 300 if quick else 1000
    sets: dict[str, list[Crop]] = {}
    for name, split, kind in [
        ("synth-clean", "train", None),
        ("synth-tune", "train", None),
        ("synth-held", "held", None),
        *((f"kind-{k}", "held", k) for k in synth.HELD_OUT_KINDS),
    ]:
        rng = np.random.default_rng(int(hashlib.sha256(name.encode()).hexdigest()[:8], 16))
        picks = [pool[int(i)] for i in rng.integers(0, len(pool), n if kind is None else n // 2)]
        sets[name] = [
            (synth.degrade(s, rng, split, kind, clean=name == "synth-clean"), s.field, s.text) for s in picks
        ]
    return sets


def real_crops(gray: np.ndarray, votes: list[int], ballot: int) -> list[Crop] | None:
    gray, layout = upright_layout(gray, ballot)
    if len(layout.table) != ballot + 2:
        return None
    words = synth.digit_words()
    out: list[Crop] = []
    for row, value in zip(layout.table[2:], votes, strict=True):
        out.append((digits_piece(gray, row, layout.scale).image, "digits", str(value)))
        if len(row.words) == 1:
            out.append(
                (crop(gray, row.words[0], layout.scale, pad_x=0.0), "words", synth.spell(value, words))
            )
    return out


def real_sets(quick: bool) -> dict[str, list[Crop]]:
    definition = load_definition("ve-2024-presidential")
    truth = json.loads((ACTAS / "_ground_truth" / "qr_text_by_image.json").read_text())
    by_name = {k.split("/")[-1]: v for k, v in truth.items()}
    sets: dict[str, list[Crop]] = collections.defaultdict(list)
    counted: dict[str, int] = collections.Counter()
    for path in sorted(ACTAS.glob("*/*.jpg")):
        text = by_name.get(path.name)
        if not text:
            continue
        half = synth.real_split(path.name)
        votes = list(parse_payload(text, definition).votes)
        gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        for family in ("clean", *(QUICK_FAMILIES if quick else FAMILIES)):
            seed = int(hashlib.sha256(f"{family}/{path.name}".encode()).hexdigest()[:8], 16)
            image = gray if family == "clean" else degrade(gray, family, np.random.default_rng(seed))
            crops = real_crops(image, votes, len(definition.ballot))
            name = f"real-{half}" if family == "clean" else f"real-{half}-{family}"
            counted[name] += 0
            if crops is not None:
                sets[name] += crops
                counted[name] += 1
    for name, n in counted.items():
        print(f"{name}: rows found on {n} actas", flush=True)
    return dict(sets)


def score(engine: ocr.Recogniser, crops: list[Crop]) -> dict[str, dict[str, float]]:
    """Per field: crops read right, read as the right count, read as ANOTHER well-formed
    count ("wrong": what could confirm a forged QR), and milliseconds per crop."""
    alphabets = {"digits": ocr.DIGITS, "words": current().word_chars}
    out: dict[str, dict[str, float]] = {}
    confusions: collections.Counter[str] = collections.Counter()
    for field in ("digits", "words"):
        items = [(im, text) for im, f, text in crops if f == field]
        if not items:
            continue
        right = value = wrong = 0
        start = time.perf_counter()
        for image, text in items:
            got = engine.read([[ocr.Piece(image, alphabets[field])]])[0][0].text
            right += got.replace(" ", "") == text.replace(" ", "")  # spacing is not read
            want = int(text) if field == "digits" else from_words(text)
            read = (
                (int(got) if got.isdigit() and len(got) <= 5 else None)
                if field == "digits"
                else from_words(got)
            )
            value += read is not None and read == want
            if read is not None and read != want:
                wrong += 1
                confusions[f"{field} {want}->{read}"] += 1
        ms = (time.perf_counter() - start) * 1000 / len(items)
        out[field] = {"n": len(items), "right": right, "value": value, "wrong": wrong, "ms": ms}
    out["_confusions"] = dict(confusions.most_common(20))  # type: ignore[assignment]
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sets, three degradation families")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--sets", default="", help="comma-separated prefixes of the sets to run")
    parser.add_argument("--cache", type=Path, help="keep the crops here (a pickle) and reuse them")
    parser.add_argument("--model", type=Path, default=MODEL_PATH, help="the acta model to measure")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    engines: dict[str, ocr.Recogniser] = {"ppocr": ocr._paddle(), "acta": ActaRecogniser(args.model)}
    print("engines:", {k: e.name for k, e in engines.items()}, flush=True)
    wanted = [p for p in args.sets.split(",") if p]
    sets: dict[str, list[Crop]] = {}
    if args.cache and args.cache.is_file():
        sets = pickle.loads(args.cache.read_bytes())  # crops cut by an earlier run (trusted: ours)
    else:
        if not wanted or any(p.startswith(("synth", "kind")) for p in wanted):
            sets.update(synthetic_sets(args.quick))
        if not wanted or any(p.startswith("real") for p in wanted):
            sets.update(real_sets(args.quick))
        if args.cache:
            args.cache.write_bytes(pickle.dumps(sets))
    results: dict[str, dict[str, object]] = {}
    print(
        f"\n{'set':22s} {'field':7s} {'n':>5s}  {'PP-OCR right':>13s} {'acta right':>11s}   "
        f"{'value PP/acta':>14s}  {'wrong PP/acta':>13s}   {'ms PP':>6s} {'ms acta':>7s} {'ratio':>6s}"
    )
    for name, crops in sets.items():
        if wanted and not any(name.startswith(p) for p in wanted):
            continue
        scores = {k: score(e, crops) for k, e in engines.items()}
        results[name] = scores
        for field in ("digits", "words"):
            if field not in scores["acta"]:
                continue
            p, a = scores["ppocr"][field], scores["acta"][field]
            print(
                f"{name:22s} {field:7s} {int(a['n']):5d}  {p['right'] / p['n']:13.1%} {a['right'] / a['n']:11.1%}   "
                f"{p['value'] / p['n']:6.1%}/{a['value'] / a['n']:6.1%}  {int(p['wrong']):6d}/{int(a['wrong']):<6d}   "
                f"{p['ms']:6.2f} {a['ms']:7.2f} {a['ms'] / p['ms']:5.2f}x",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
