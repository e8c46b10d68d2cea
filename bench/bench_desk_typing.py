"""Benchmark: keystrokes to type a real acta on the desk's form, against a plain form.

Run:  PYTHONPATH=src .venv/bin/python bench/bench_desk_typing.py [--verify 22] [--keys-per-second 2]

For each real acta with a QR (samples/actas/_ground_truth/qr_text_by_image.json, parsed with
the election's definition: 22 of the 23 images; the 23rd has no readable QR, hence no
per-line truth) the keystrokes of:

- the desk's form (``veedor desk``, /mesa/{code}): the first line has the focus; for each of
  the 38 ballot lines, its digits only when it is not 0 (an empty field is 0), then Tab;
  then null votes (digits when not 0); blank votes likewise after one more Tab, only when
  not 0; Enter sends the form. Fields touched: the non-zero ones.
- a plain form of the same acta, where each of the 38 lines, null and blank votes must be
  typed (0 is one key), Tab between the 40 fields, Enter to send.

Then it checks the desk's count for real: ``veedor desk`` in a subprocess on 127.0.0.1, the
actas as tasks left for people (no numbers read, so the entry settles nothing), a reviewer
in headless Chromium (Debian's /usr/bin/chromium, Playwright with ``executable_path``) logs
in, takes the next acta and sends exactly that sequence with ``page.keyboard`` (no fill),
counting the keys it sent; the entry stored in the database must equal the truth.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from bench_desk_load import free_port, start_desk, stop_desk
from veedor.definitions import load_definition
from veedor.definitions.parsers import parse_payload
from veedor.model import Copy, FileOutcome, Grade, Reading, Status
from veedor.store import open_store
from veedor.store.accounts import add_user
from veedor.store.records import record_outcome
from veedor.store.schema import ActaRecord, ReviewEntry

ROOT = Path(__file__).resolve().parents[1]
TRUTH = ROOT / "samples" / "actas" / "_ground_truth" / "qr_text_by_image.json"
DEFINITION = load_definition("ve-2024-presidential")
CHROMIUM = Path("/usr/bin/chromium")
HOST = "127.0.0.1"
TARGET_S = 60.0


def actas() -> list[tuple[str, str, int, list[int], int, int]]:
    """(image, mesa code, mesa, votes, nulos, blank) of every real acta with a QR."""
    out = []
    for rel, text in sorted(json.loads(TRUTH.read_text()).items()):
        if text:
            a = parse_payload(text, DEFINITION)
            code = f"{a.centre}.{a.mesa:02d}"
            out.append((rel, code, a.mesa, list(a.votes), a.nulos, int(a.extra.get("blank", 0))))
    return out


def desk_keys(votes: list[int], nulos: int, blank: int) -> list[str]:
    """The desk's sequence, from the first line (focused on load) to Enter."""
    keys: list[str] = []
    for n in votes:
        if n:
            keys += list(str(n))
        keys.append("Tab")
    if nulos:
        keys += list(str(nulos))
    if blank:
        keys += ["Tab", *str(blank)]
    keys.append("Enter")
    return keys


def plain_keys(votes: list[int], nulos: int, blank: int) -> list[str]:
    keys: list[str] = []
    for i, n in enumerate([*votes, nulos, blank]):
        if i:
            keys.append("Tab")
        keys += list(str(n))
    keys.append("Enter")
    return keys


# -- checking it for real ----------------------------------------------------------------


def build(folder: Path, chosen: list[tuple[str, str, int, list[int], int, int]]) -> Path:
    """A database where each chosen acta is a mesa in review with one unread copy (no numbers
    the machine could settle with one entry), and one reviewer."""
    db = folder / "veedor.db"
    store = open_store(str(db))
    with store.session() as session:
        for rel, code, mesa, votes, _, _ in chosen:
            centre = code.rpartition(".")[0]
            unread = tuple([None] * len(votes))
            copy = Copy(Grade.PARTIAL, f"{code}.1.0001", centre, mesa, unread, None, {}, "print")
            sha = hashlib.sha256(f"typing/{rel}".encode()).hexdigest()
            reading = Reading("print", "bench", "full", "unread", 1.0)
            outcome = FileOutcome(rel, sha, Status.REVIEW, "unread", readings=(reading,), copy=copy)
            record_outcome(session, outcome, DEFINITION)
        add_user(session, "tecla", "reviewer", "secret-tecla")
        session.commit()
        states = {r.status for r in session.scalars(select(ActaRecord))}
        assert states == {"review"}, states
    store.engine.dispose()
    return db


def verify(chosen, keys_of) -> dict[str, dict]:
    """Type each chosen acta in Chromium; code -> {"sent", "focused", "stored_ok"}."""
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="bench-desk-typing-"))
    db = build(work, chosen)
    port = free_port()
    url = f"http://{HOST}:{port}"
    desk = start_desk(db, work / "evidence", port)
    truth = {code: (votes, nulos, blank) for _, code, _, votes, nulos, blank in chosen}
    seen: dict[str, dict] = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
            page = browser.new_context(locale="es-VE").new_page()
            page.goto(f"{url}/login")
            page.focus("#name")
            page.keyboard.type("tecla")
            page.keyboard.press("Tab")
            page.keyboard.type("secret-tecla")
            page.keyboard.press("Enter")
            page.wait_for_url(f"{url}/")
            page.click("form[action='/take'] button")
            for _ in chosen:
                page.wait_for_url(f"{url}/mesa/*")
                page.wait_for_load_state("load")
                code = page.url.removeprefix(f"{url}/mesa/")
                focused = page.evaluate("document.activeElement && document.activeElement.id")
                sent = 0
                with page.expect_navigation():
                    for key in keys_of(*truth[code]):
                        page.keyboard.press(key)
                        sent += 1
                seen[code] = {"sent": sent, "focused": focused}
            browser.close()
    finally:
        stop_desk(desk)
    store = open_store(str(db), migrate=False)
    with store.session() as session:
        for record, entry in session.execute(
            select(ActaRecord, ReviewEntry).join(ReviewEntry, ReviewEntry.acta_pk == ActaRecord.id)
        ):
            code = f"{record.centre}.{record.mesa:02d}"
            if code in seen:
                stored = (list(entry.votes), entry.nulos, entry.blank)
                seen[code]["stored_ok"] = stored == truth[code]
    store.engine.dispose()
    shutil.rmtree(work, ignore_errors=True)
    return seen


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--verify", type=int, default=22, help="how many actas to type in Chromium (0: none)")
    ap.add_argument("--keys-per-second", type=float, default=2.0, help="a careful volunteer")
    args = ap.parse_args()
    speed = args.keys_per_second
    rows = actas()
    print(
        f"{len(rows)} real actas with a QR, {len(DEFINITION.ballot)} ballot lines + null + blank; "
        f"typing speed {speed:g} keys/s; target {TARGET_S:.0f} s of keyboard input"
    )
    checked: dict[str, dict] = {}
    if args.verify:
        if not CHROMIUM.exists():
            print("no /usr/bin/chromium: nothing checked in a browser (apt-get install chromium)")
        else:
            started = time.perf_counter()
            checked = verify(rows[: args.verify], desk_keys)
            print(f"typed {len(checked)} actas in Chromium in {time.perf_counter() - started:.1f} s")
    print(
        "\n| acta (image) | mesa | non-zero lines | desk: fields | desk: keys | plain: fields | plain: keys "
        f"| desk / plain | desk s at {speed:g}/s | plain s | Chromium: keys sent, stored = truth |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    figures = []
    for rel, code, _, votes, nulos, blank in rows:
        desk, plain = desk_keys(votes, nulos, blank), plain_keys(votes, nulos, blank)
        nonzero = sum(1 for n in votes if n)
        fields = nonzero + (nulos > 0) + (blank > 0)
        figures.append((len(desk), len(plain), fields))
        c = checked.get(code)
        if c is None:
            shown = "not typed"
        else:
            ok = c["sent"] == len(desk) and c.get("stored_ok") and c["focused"] == "v0"
            shown = f"{c['sent']}, {'yes' if c.get('stored_ok') else 'NO'}" + ("" if ok else " (MISMATCH)")
        print(
            f"| {Path(rel).name} | {code} | {nonzero} | {fields} | {len(desk)} | 40 | {len(plain)} "
            f"| {len(desk) / len(plain):.2f} | {len(desk) / speed:.0f} | {len(plain) / speed:.0f} | {shown} |"
        )
    d = statistics.median(f[0] for f in figures)
    p = statistics.median(f[1] for f in figures)
    fields = statistics.median(f[2] for f in figures)
    worst = max(f[0] for f in figures)
    print(
        f"\nmedian: desk {d:g} keys in {fields:g} fields, plain {p:g} keys in 40 fields; "
        f"desk / plain {d / p:.2f}; at {speed:g} keys/s: desk {d / speed:.0f} s, plain {p / speed:.0f} s "
        f"(target {TARGET_S:.0f} s: {'met' if d / speed < TARGET_S else 'NOT met'}); "
        f"worst acta: desk {worst} keys = {worst / speed:.0f} s"
    )
    good = [c for c in checked.values() if c.get("stored_ok") and c["focused"] == "v0"]
    exact = [
        c
        for code, c in checked.items()
        if c["sent"] == len(desk_keys(*next(r[3:] for r in rows if r[1] == code)))
    ]
    if checked:
        print(
            f"Chromium: {len(checked)} actas typed with page.keyboard only; focus on line 1 at load and "
            f"stored entry = truth: {len(good)}; keys sent = counted: {len(exact)}"
        )
    return 0 if len(good) == len(checked) else 1


if __name__ == "__main__":
    raise SystemExit(main())
