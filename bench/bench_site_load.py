"""Benchmark: the public site (``veedor serve``) under 100 clients at once, national data loaded.

Run:  PYTHONPATH=src:bench .venv/bin/python bench/bench_site_load.py [--seconds 15] [--keep]

Needs ``wrk`` and ``hey`` (``apt-get install wrk hey``). Everything listens on and talks to
127.0.0.1 only.

1. The national database of ``bench_desk_load`` (30,026 mesas, cached under bench/out/ and
   built there the first time), copied to a temp dir: the cache is never touched.
2. ``veedor serve`` itself in a subprocess (uvicorn, one process), its log in a file, run from
   a copy of src/ (an edit during the run cannot mix); the evidence folder is empty (no image
   is asked for).
3. Targets drawn from the database (a fixed seed): a few hundred mesas that have an acta, most
   counted (``ok``) and some not (review, conflict, unconfirmed), and the units above them
   (centres, parishes, municipalities, states: the first 9, 6, 4, 2 digits of the centre code).
4. Each path asked once (all must answer 200: the first, cold answer's time is shown), then a
   short warm-up, then ``wrk -t2 -c100`` for ``--seconds`` on each target, a Lua script rotating
   the paths and counting every answer that is not 200: the mesa API, mesa pages, the unit API
   (centres and parishes; then states and municipalities), the national API; and, in the same
   run, a baseline: a static file the size of a typical mesa page (a real mesa page's bytes),
   served by a second uvicorn (one process, a bare ``StaticFiles`` app, same Python).
5. Paced: 100 clients (``hey``) offering exactly the aimed rates (500 API lookups/s, 200 mesa
   pages/s), for the latency at that rate rather than at saturation; the static file likewise
   at 500/s, as that table's baseline.
6. Against the issue's aims: >= 500 API lookups/s and >= 200 mesa pages/s on 2 cores, p99 < 100 ms
   at 100 concurrent clients. Tracebacks in the server's log are counted.

The database does not change during a run (nothing writes), so whatever the site caches stays
valid throughout: the figures are for a site being read, not one being written to as well.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import select

from bench_desk_load import HOST, OUT, VERSION, build, free_port, hey_figures, stop_desk, wrk
from veedor.definitions import load_definition
from veedor.store import open_store
from veedor.store.schema import ActaRecord

ROOT = Path(__file__).resolve().parents[1]
DEFINITION = load_definition("ve-2024-presidential")
MESAS = 300
"""Mesas drawn for the mesa API and the mesa pages."""
NOT_COUNTED = 60
"""Of which not counted (review, conflict, unconfirmed): their pages show other parts."""
CONNECTIONS = 100
HEY_PROCESSES = 20
"""Paced runs: this many ``hey`` processes, each on its own path, CONNECTIONS in all."""
AIMS = {"api": 500.0, "page": 200.0, "p99": 100.0}
"""The issue's aims: API lookups/s, mesa pages/s (2 cores), p99 ms at 100 clients."""
WARMUP_S = 3


STATIC_APP = """\
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

app = FastAPI()
app.mount("/", StaticFiles(directory={directory!r}), name="static")
"""


# -- servers -----------------------------------------------------------------------------


def start_server(
    command: list[str], log: Path, port: int, env: dict[str, str], cwd: Path
) -> subprocess.Popen:
    """``command`` in a subprocess, its log to a file (never a pipe nobody reads), once it listens."""
    handle = log.open("w")
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(log.read_text()) from None
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{command[:4]} did not start in 60 s")


def start_site(db: Path, evidence: Path, port: int, log: Path, workers: int = 1) -> subprocess.Popen:
    """``veedor serve`` from a copy of src/ taken now: its templates are read lazily, so an edit
    to the tree during the run would otherwise meet the code loaded at the start."""
    src = db.parent / "src"
    shutil.copytree(ROOT / "src", src, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(src)}
    command = [sys.executable, "-m", "veedor", "serve", "--host", HOST, "--port", str(port)]
    # Every client here is 127.0.0.1: the per-address limit would measure itself, not the site.
    command += ["--db", str(db), "--evidence", str(evidence), "--rate-limit", "0", "--workers", str(workers)]
    return start_server(command, log, port, env, db.parent)


def start_static(folder: Path, work: Path, port: int, log: Path) -> subprocess.Popen:
    """A bare uvicorn serving ``folder``: the same uvicorn options as ``veedor serve``."""
    (work / "static_site.py").write_text(STATIC_APP.format(directory=str(folder)))
    env = {**os.environ, "PYTHONPATH": str(work)}
    command = [sys.executable, "-m", "uvicorn", "static_site:app", "--host", HOST, "--port", str(port)]
    command += ["--log-level", "warning", "--no-server-header"]
    return start_server(command, log, port, env, work)


def log_faults(log: Path) -> tuple[int, dict[str, int], dict[str, int], str]:
    """Tracebacks, the exceptions they name, the warnings in a server's log, and the end of
    its first traceback."""
    text = log.read_text(errors="replace")
    errors = Counter(re.findall(r"^(\w+(?:\.\w+)*(?:Error|Exception|Timeout)):", text, re.M))
    warnings = Counter(re.findall(r"\b(\w*Warning):", text))
    first = ""
    if "Traceback" in text:
        block = text[text.index("Traceback") :].split("\nTraceback", 1)[0]
        first = "\n".join(block.rstrip().splitlines()[-6:])
    return text.count("Traceback"), dict(errors), dict(warnings), first


# -- targets -----------------------------------------------------------------------------


def targets(db: Path) -> tuple[dict[str, list[str]], str]:
    """Paths per kind, drawn from the mesas that have an acta (a fixed seed), and their units in words."""
    store = open_store(str(db), migrate=False)
    with store.session() as session:
        rows = session.execute(
            select(ActaRecord.centre, ActaRecord.mesa, ActaRecord.status).where(
                ActaRecord.election == DEFINITION.id
            )
        ).all()
    store.engine.dispose()
    rng = random.Random(19)
    counted = sorted((c, m) for c, m, s in rows if s == "ok")
    other = sorted((c, m) for c, m, s in rows if s != "ok")
    mesas = rng.sample(counted, MESAS - NOT_COUNTED) + rng.sample(other, NOT_COUNTED)
    rng.shuffle(mesas)
    digits = {lv.name: lv.code_digits for lv in DEFINITION.levels}
    units = {name: sorted({c[:n] for c, _ in mesas}) for name, n in digits.items()}
    paths = {
        "api": [f"/api/v1/mesas/{c}/{m}" for c, m in mesas],
        "page": [f"/m/{c}/{m}" for c, m in mesas],
        "units": [f"/api/v1/units/{u}" for u in units["centre"] + units["parish"]],
        "upper": [f"/api/v1/units/{u}" for u in units["state"] + units["municipality"]],
        "national": ["/api/v1/national"],
    }
    return paths, ", ".join(f"{k} {len(v)}" for k, v in units.items())


def first_answers(url: str, paths: list[str], budget: float) -> tuple[list[float], list[int], list[str]]:
    """Each path once, one at a time, until ``budget`` seconds are spent: seconds, body sizes,
    and 'path status' for any not 200."""
    seconds: list[float] = []
    sizes: list[int] = []
    bad: list[str] = []
    deadline = time.monotonic() + budget
    with httpx.Client(base_url=url, timeout=120) as client:
        for path in paths:
            if time.monotonic() > deadline:
                break
            started = time.perf_counter()
            answer = client.get(path)
            seconds.append(time.perf_counter() - started)
            sizes.append(len(answer.content))
            if answer.status_code != 200:
                bad.append(f"{path} {answer.status_code}")
    return seconds, sizes, bad


# -- load --------------------------------------------------------------------------------


def wrk_paths(url: str, paths: list[str], seconds: int, work: Path) -> dict:
    """``wrk -t2 -c100`` rotating over ``paths`` (bench_desk_load's, with no cookie)."""
    return wrk(url, [(path, "") for path in paths], seconds, CONNECTIONS, work)


def paced_paths(url: str, paths: list[str], rate: float, seconds: int, work: Path) -> dict:
    """``rate`` requests/s offered by CONNECTIONS clients: HEY_PROCESSES ``hey``, each on its own
    path with CONNECTIONS / HEY_PROCESSES workers, each worker at rate / CONNECTIONS a second.
    hey's CSV holds only the answers: failed requests (timeouts...) show as a rate below the offer."""
    per_process = CONNECTIONS // HEY_PROCESSES
    processes = []
    for i, path in enumerate(paths[:HEY_PROCESSES]):
        out = work / f"hey-{i:02d}.csv"
        command = ["hey", "-z", f"{seconds}s", "-c", str(per_process), "-q", f"{rate / CONNECTIONS:g}"]
        command += ["-t", "10", "-disable-compression", "-o", "csv", url + path]
        processes.append((subprocess.Popen(command, stdout=out.open("w"), stderr=subprocess.DEVNULL), out))
    return {**hey_figures(processes, seconds), "socket_errors": None}


HEAD = (
    "| target | paths | requests | req/s | p50 | p90 | p99 | max | 200 | not 200 | socket errors "
    "| req/s ÷ static | p99 ÷ static |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def row(label: str, paths: int, f: dict, base: dict | None, speed_ratio: bool = True) -> str:
    """bench_desk_load's row, with both ratios to the static baseline and the socket errors
    (no req/s ratio for a paced run: its rate is the one offered)."""
    speed = (f"{f['rps'] / base['rps']:.2f}" if speed_ratio else "-") if base else "1"
    slow = f"{f['p99'] / base['p99']:.1f}" if base else "1"
    errors = "n/a" if f["socket_errors"] is None else f["socket_errors"]
    return (
        f"| {label} | {paths} | {f['requests']} | {f['rps']:.0f} | {f['p50']:.1f} | {f['p90']:.1f} "
        f"| {f['p99']:.1f} | {f['max']:.0f} | {f['ok']} | {f['other']} | {errors} | {speed} | {slow} |"
    )


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


# -- main --------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=15, help="seconds per wrk (and paced) run")
    ap.add_argument("--keep", action="store_true", help="keep the run's temp dir (database copy, logs)")
    ap.add_argument("--workers", type=int, default=1, help="`veedor serve --workers`")
    args = ap.parse_args()
    for tool in ("wrk", "hey"):
        if shutil.which(tool) is None:
            print(f"needs {tool}: apt-get install wrk hey", file=sys.stderr)
            return 2
    began, load = time.perf_counter(), os.getloadavg()[0]
    cache = OUT / VERSION
    facts = build(cache)
    print(f"national database {VERSION}: {json.dumps(facts)}")
    work = Path(tempfile.mkdtemp(prefix="bench-site-load-"))
    db = work / "veedor.db"
    shutil.copy(cache / "veedor.db", db)
    (work / "evidence").mkdir()
    paths, units = targets(db)
    site_log, static_log = work / "site.log", work / "static.log"
    site_port = static_port = free_port()
    while static_port == site_port:
        static_port = free_port()
    url, static_url = f"http://{HOST}:{site_port}", f"http://{HOST}:{static_port}"
    servers: list[subprocess.Popen] = []
    not_200 = 0
    try:
        servers.append(start_site(db, work / "evidence", site_port, site_log, args.workers))
        print(
            f"\nsite: `veedor serve --workers {args.workers}` (uvicorn) on {url}; {os.cpu_count()} CPU cores here, "
            f"shared with wrk/hey and the static baseline's server; load average before the run "
            f"{load:.2f}"
        )
        print(
            f"targets: {MESAS} mesas with an acta ({MESAS - NOT_COUNTED} counted, {NOT_COUNTED} not), {units}"
        )

        print(f"\nfirst answer of each path, one at a time (cold), at most {args.seconds} s per target; ms")
        print("| target | paths | asked | median | max | not 200 | median size (bytes) |")
        print("|---|---|---|---|---|---|---|")
        kinds = {
            "api": "a. mesa API /api/v1/mesas/{centre}/{mesa}",
            "page": "b. mesa page /m/{centre}/{mesa}",
            "units": "c. unit API, centres and parishes",
            "upper": "c'. unit API, states and municipalities",
            "national": "d. national API /api/v1/national",
        }
        page_sizes: list[int] = []
        for kind, label in kinds.items():
            seconds, sizes, bad = first_answers(url, paths[kind], args.seconds)
            not_200 += len(bad)
            if kind == "page":
                page_sizes = sizes
            median, slowest = statistics.median(seconds) * 1000, max(seconds) * 1000
            print(
                f"| {label} | {len(paths[kind])} | {len(seconds)} | {median:.1f} | {slowest:.0f} | {len(bad)} "
                f"| {statistics.median(sizes):.0f} |",
                flush=True,
            )
            for line in bad[:5]:
                print(f"  not 200: {line}")

        # The baseline: a real mesa page of the median size, as a static file.
        typical = paths["page"][page_sizes.index(sorted(page_sizes)[len(page_sizes) // 2])]
        body = httpx.get(url + typical, timeout=60).content
        static = work / "static"
        static.mkdir()
        (static / "mesa.html").write_bytes(body)
        servers.append(start_static(static, work, static_port, static_log))
        print(
            f"\nbaseline: uvicorn + StaticFiles (one process) on {static_url}, "
            f"/mesa.html = {typical} ({len(body)} bytes)"
        )

        for kind in kinds:  # warm-up, not measured
            wrk_paths(url, paths[kind], WARMUP_S, work)
        wrk_paths(static_url, ["/mesa.html"], WARMUP_S, work)

        print(
            f"\nsaturated: wrk, 2 threads, {CONNECTIONS} connections (closed loop), {args.seconds} s a run, "
            "paths rotated; latency ms"
        )
        print(HEAD)
        base = wrk_paths(static_url, ["/mesa.html"], args.seconds, work)
        print(row("e. baseline: static file /mesa.html", 1, base, None), flush=True)
        measured = {}
        for kind, label in kinds.items():
            measured[kind] = wrk_paths(url, paths[kind], args.seconds, work)
            not_200 += measured[kind]["other"]
            print(row(label, len(paths[kind]), measured[kind], base), flush=True)

        print(
            f"\npaced: {CONNECTIONS} clients (`hey`: {HEY_PROCESSES} processes, each on one path, "
            f"{CONNECTIONS // HEY_PROCESSES} workers each) offering the aimed rate, {args.seconds} s; latency ms"
        )
        print(HEAD)
        rate = AIMS["api"]
        paced_base = paced_paths(static_url, ["/mesa.html"] * HEY_PROCESSES, rate, args.seconds, work)
        print(
            row(f"e. baseline: static file /mesa.html at {rate:.0f}/s offered", 1, paced_base, None),
            flush=True,
        )
        paced = {}
        for kind, rate in (("api", AIMS["api"]), ("page", AIMS["page"])):
            paced[kind] = paced_paths(url, paths[kind], rate, args.seconds, work)
            not_200 += paced[kind]["other"]
            label = f"{kinds[kind]} at {rate:.0f}/s offered"
            print(row(label, HEY_PROCESSES, paced[kind], paced_base, speed_ratio=False), flush=True)

        api, page = measured["api"], measured["page"]
        print(f"\naims (issue): on 2 cores ({os.cpu_count()} here, wrk and hey on the same cores)")
        print("| aim | measured | verdict |\n|---|---|---|")
        for label, f, aim in (("API lookups/s", api, AIMS["api"]), ("mesa pages/s", page, AIMS["page"])):
            print(f"| >= {aim:.0f} {label}, saturated | {f['rps']:.0f} /s | {verdict(f['rps'] >= aim)} |")
        for label, f in (
            ("API lookups, saturated (100 connections)", api),
            ("mesa pages, saturated (100 connections)", page),
            (f"API lookups, paced at {AIMS['api']:.0f}/s (100 clients)", paced["api"]),
            (f"mesa pages, paced at {AIMS['page']:.0f}/s (100 clients)", paced["page"]),
            ("unit API, centres and parishes, saturated", measured["units"]),
            ("national API, saturated", measured["national"]),
        ):
            ok = f["p99"] < AIMS["p99"] and not f["socket_errors"]
            errors = f" ({f['socket_errors']} socket errors)" if f["socket_errors"] else ""
            print(f"| p99 < {AIMS['p99']:.0f} ms: {label} | {f['p99']:.1f} ms{errors} | {verdict(ok)} |")
        for label, f in (("saturated", base), (f"paced at {AIMS['api']:.0f}/s", paced_base)):
            if f["p99"] >= AIMS["p99"]:
                print(
                    f"note: the static baseline's own p99, {label}, is {f['p99']:.0f} ms: on this machine, "
                    "now, even a static file misses the p99 aim"
                )
        print(f"\nanswers not 200 (first answers, wrk and hey): {not_200} (target 0)")
    finally:
        for server in servers:
            stop_desk(server)  # terminate, then kill: nothing desk-specific
        faults = 0
        for name, log in (("site", site_log), ("static baseline", static_log)):
            if log.exists():
                tracebacks, errors, warnings, first = log_faults(log)
                faults += tracebacks
                print(f"{name} log: {tracebacks} tracebacks {errors}; warnings {warnings}")
                if first:
                    print("  the first ends:\n    " + first.replace("\n", "\n    "))
        print(f"run took {time.perf_counter() - began:.0f} s")
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if not_200 == 0 and faults == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
