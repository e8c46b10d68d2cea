"""Fuzz the payload parser and the importers: nothing but a clear refusal, ever.

Run:  PYTHONPATH=src python bench/fuzz_parsers.py [--minutes 10]

Hypothesis generates QR payloads (random text, and valid payloads mutated), results tables
(V1's header with random cells, quotes and line endings) and bulletin JSON (random nested
documents). Each input must either parse, or be refused with the parser's own error
(``PayloadError``, ``TableError``, a row in ``errors``): any other exception is a crash, and is
printed with the input that caused it. Prints the inputs tried per target and the crashes.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from veedor.definitions import load_definition
from veedor.definitions.parsers import PayloadError, parse_payload
from veedor.ingest.official import import_official
from veedor.ingest.tables import TableError, import_results_table
from veedor.store import open_store

ROOT = Path(__file__).resolve().parents[1]
V1 = ROOT / "samples" / "results" / "RESULTADOS_2024_CSV_V1.csv"
DEFINITION = load_definition("ve-2024-presidential")
GOOD = "040202001.01.1.0001!" + ",".join(["1"] * len(DEFINITION.ballot)) + "!1!0"
HEADER, *V1_ROWS = V1.read_text(encoding="utf-8-sig").splitlines()[:50]

settings.register_profile(
    "fuzz", max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), database=None
)
settings.load_profile("fuzz")
counts: dict[str, int] = {}
_TMP = tempfile.mkdtemp(prefix="veedor-fuzz-")
STORE = open_store(f"sqlite:///{_TMP}/f.db")  # one database; every import is rolled back
crashes: list[str] = []


def _crash(target: str, value: object) -> None:
    crashes.append(f"{target}: {value!r:.300}\n{traceback.format_exc(limit=4)}")


def _mutate(draw: st.DrawFn, text: str) -> str:
    chars = list(text)
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, max(0, len(chars) - 1)))
        op = draw(st.sampled_from(["replace", "insert", "delete"]))
        c = draw(st.characters())
        if op == "replace" and chars:
            chars[i] = c
        elif op == "insert":
            chars.insert(i, c)
        elif chars:
            del chars[i]
    return "".join(chars)


payloads = st.one_of(st.text(max_size=400), st.composite(lambda draw: _mutate(draw, GOOD))())


@given(payloads)
def fuzz_payload(text: str) -> None:
    counts["payload"] = counts.get("payload", 0) + 1
    try:
        parse_payload(text, DEFINITION)
    except PayloadError:
        pass
    except Exception:
        _crash("payload", text)


cells = st.one_of(st.text(max_size=30), st.integers(-(2**70), 2**70).map(str), st.just('"'), st.just(""))


@st.composite
def tables(draw: st.DrawFn) -> str:
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        base = draw(st.sampled_from(V1_ROWS)).split(",")
        for _ in range(draw(st.integers(0, 4))):
            base[draw(st.integers(0, len(base) - 1))] = draw(cells)
        if draw(st.booleans()):
            base = base[: draw(st.integers(0, len(base)))]
        rows.append(",".join(base))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return end.join([HEADER, *rows]) + end


@given(tables())
def fuzz_table(text: str) -> None:
    counts["table"] = counts.get("table", 0) + 1
    path = Path(_TMP) / "t.csv"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        with STORE.session() as session:
            import_results_table(session, path, DEFINITION)
            session.rollback()
    except TableError:
        pass
    except Exception:
        _crash("table", text)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
bulletin = st.fixed_dictionaries(
    {"id": st.text(max_size=5), "votes": json_values},
    optional={"units": json_values, "registered_electors": json_values, "actas_pct": json_values},
)


@given(st.one_of(json_values, st.fixed_dictionaries({"bulletins": st.lists(bulletin, max_size=4)})))
def fuzz_bulletins(doc: object) -> None:
    counts["bulletins"] = counts.get("bulletins", 0) + 1
    path = Path(_TMP) / "b.json"
    path.write_text(json.dumps(doc))
    try:
        with STORE.session() as session:
            import_official(session, path, DEFINITION)
            session.rollback()
    except TableError:
        pass
    except Exception:
        _crash("bulletins", doc)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10.0)
    args = ap.parse_args()
    deadline = time.monotonic() + args.minutes * 60
    targets = [fuzz_payload, fuzz_table, fuzz_bulletins]
    rounds = 0
    while time.monotonic() < deadline:
        target = targets[rounds % len(targets)]
        target()
        rounds += 1
    total = sum(counts.values())
    print(f"{args.minutes:g} min, {total:,} inputs: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    print(f"crashes: {len(crashes)}")
    for c in crashes[:10]:
        print(c)
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
