"""Benchmark: the QR read on the phone (zxing-cpp compiled to WebAssembly, the field app's
``zxing-wasm``, in headless Chromium) against the server's (zxing-cpp's Python binding, one pass
and the whole ladder of ``veedor.read.qr``), on the same bytes: the 23 real actas and
phone-like degraded copies of them.

Run:  PYTHONPATH=src .venv/bin/python bench/bench_field_qr.py [--families phone_full,phone_bottom,dark,blur]

1. Images: each real acta (samples/actas) as it is, and one copy per ``--families`` entry from
   ``veedor.simulate.degrade`` (seeded: the same copies every run), JPEG-encoded as a phone does.
2. Truth: the acta's QR text in samples/actas/_ground_truth/qr_text_by_image.json (a decode that
   returns another text is counted wrong, not read).
3. Phone: ``veedor field``'s own page in Chromium (the vendored reader, the app's options:
   QR only, ``tryHarder``, up to 4 symbols), each image's bytes decoded as a Blob, timed in the
   page with ``performance.now()``; the median of 3 runs per image.
4. Server, baseline measured in the same run: ``zxingcpp.read_barcodes`` once on the decoded
   grayscale (the same library the wasm is built from, natively) and ``read_qr`` (the ladder
   the pipeline runs: crops, filters, a second engine), each timed.
5. Reported per family and overall: read rate of each, the phone's time and its ratio to the
   native single pass; and how many the phone reads that the server's ladder does not (none is
   expected: the server reads every photo again anyway).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import uvicorn
from PIL import Image

from veedor.definitions import load_definition
from veedor.read.acta import read_qr
from veedor.simulate.degrade import degrade
from veedor.store import open_store
from veedor.web.field import create_field_app

ROOT = Path(__file__).resolve().parents[1]
ACTAS = ROOT / "samples" / "actas"
TRUTH = json.loads((ACTAS / "_ground_truth" / "qr_text_by_image.json").read_text())
CHROMIUM = "/usr/bin/chromium"
DECODE = """async ([b64, runs]) => {
  if (!window.__zx) {
    ZXingWASM.prepareZXingModule({ overrides: { locateFile: (p, prefix) =>
      p.endsWith('.wasm') ? '/static/field/vendor/zxing-wasm/' + p : prefix + p } });
    window.__zx = true;
  }
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const blob = new Blob([bytes], { type: 'image/jpeg' });
  const times = []; let texts = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const found = await ZXingWASM.readBarcodes(blob, { formats: ['QRCode'], tryHarder: true, maxNumberOfSymbols: 4 });
    times.push(performance.now() - t0);
    texts = found.filter((r) => r.isValid && r.text).map((r) => r.text);
  }
  return { texts, times };
}"""


def jpeg(gray: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(gray).save(out, "JPEG", quality=90)
    return out.getvalue()


def images(families: list[str]) -> list[tuple[str, str, bytes, str | None]]:
    """(family, name, JPEG bytes, true QR text)."""
    out = []
    for i, path in enumerate(sorted(ACTAS.glob("*/*.jpg"))):
        key = f"{path.parent.name}/{path.name}"
        truth = TRUTH.get(key)
        out.append(("real", path.name, path.read_bytes(), truth))
        gray = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_GRAYSCALE)
        for j, family in enumerate(families):
            copy = degrade(gray, family, np.random.default_rng(1000 * i + j))
            out.append((family, path.name, jpeg(copy), truth))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    from importlib.metadata import version

    import zxingcpp
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--families", default="phone_full,phone_bottom,dark,blur")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    definition = load_definition("ve-2024-presidential")
    corpus = images([f for f in args.families.split(",") if f])
    work = Path(tempfile.mkdtemp(prefix="veedor-field-qr-"))
    store = open_store(str(work / "veedor.db"))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_field_app(store, definition, work / "ev"), port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(viewport={"width": 412, "height": 915}, is_mobile=True)
        page.goto(f"http://127.0.0.1:{port}/")
        page.evaluate(DECODE, [base64.b64encode(corpus[0][2]).decode(), 1])  # the wasm compiled once
        for family, name, data, truth in corpus:
            phone = page.evaluate(DECODE, [base64.b64encode(data).decode(), args.runs])
            gray = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
            t0 = time.perf_counter()
            native = [
                r.text
                for r in zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)  # type: ignore[arg-type]
                if r.valid and r.text
            ]
            native_ms = (time.perf_counter() - t0) * 1000
            t0 = time.perf_counter()
            ladder = read_qr(gray, definition)
            ladder_ms = (time.perf_counter() - t0) * 1000
            ladder_texts = {r.text for r in ladder.readings if r.text}
            rows.append(
                {
                    "family": family,
                    "image": name,
                    "truth": truth is not None,
                    "phone": truth in phone["texts"] if truth else bool(phone["texts"]),
                    "phone_wrong": bool(phone["texts"]) and truth not in phone["texts"],
                    "phone_ms": statistics.median(phone["times"]),
                    "native": truth in native if truth else bool(native),
                    "native_ms": native_ms,
                    "ladder": ladder.acta is not None and truth in ladder_texts
                    if truth
                    else ladder.acta is not None,
                    "ladder_ms": ladder_ms,
                    "pixels": int(gray.size),
                }
            )
        browser.close()
    server.should_exit = True
    store.engine.dispose()
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "field-qr.json").write_text(json.dumps(rows, indent=1))
    print(
        f"Chromium {CHROMIUM} headless, zxing-wasm 3.1.8 (vendored); zxing-cpp {version('zxing-cpp')} (Python)"
    )
    print(
        "| images | n | phone reads | native single pass | server ladder | phone ms (median) | native ms | phone/native | ladder ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for family in ["real", *[f for f in args.families.split(",") if f], "all"]:
        group = [r for r in rows if family in ("all", r["family"]) and r["truth"]]
        if not group:
            continue
        n = len(group)
        p_ms = statistics.median(r["phone_ms"] for r in group)
        n_ms = statistics.median(r["native_ms"] for r in group)
        l_ms = statistics.median(r["ladder_ms"] for r in group)
        print(
            f"| {family} | {n} | {sum(r['phone'] for r in group)} | {sum(r['native'] for r in group)} | "
            f"{sum(r['ladder'] for r in group)} | {p_ms:.0f} | {n_ms:.0f} | {p_ms / n_ms:.1f} | {l_ms:.0f} |"
        )
    with_truth = [r for r in rows if r["truth"]]
    print(
        f"wrong texts on the phone: {sum(r['phone_wrong'] for r in rows)}; read on the phone but not by the "
        f"server's ladder: {sum(r['phone'] and not r['ladder'] for r in with_truth)}; images without a QR "
        f"anyone reads (no truth): {sum(1 for r in rows if not r['truth'])}"
    )


if __name__ == "__main__":
    main()
