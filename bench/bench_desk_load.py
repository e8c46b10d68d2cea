"""Benchmark: the review desk under 50 reviewers at once, with the national data loaded.

Run:  PYTHONPATH=src .venv/bin/python bench/bench_desk_load.py [--rounds 3] [--seconds 20]

Needs ``wrk`` and ``hey`` (``apt-get install wrk hey``). Everything listens on and talks to
127.0.0.1 only.

1. A national database (cached under bench/out/, keyed by VERSION): the registry's centres
   and units and V1's electors per mesa; 30,026 mesas (V1's 24,532 with V1's numbers, the
   rest with synthetic ones, up to the country's 30,026), written through the
   library's own writer (``record_outcome``), most counted and a few thousand left for
   people (review, conflict, unconfirmed); V1 imported as a published table; 50 reviewers.
2. ``veedor desk`` itself in a subprocess (uvicorn, one worker, one process), every reviewer
   logged in over HTTP (session cookie and CSRF token from the pages).
3. Phase A, correctness under load: in each round all 50 reviewers POST "take the next acta"
   at the same moment (a barrier), then all 50 POST their blind entry at the same moment
   (which hands each the next task). After each wave: the mesa each reviewer was sent to
   (the redirect) must be one nobody else in that wave got, and in the database no mesa may
   be the task in hand (``held_by``) of two reviewers. Double assignments: target 0.
4. Phase B, latency: ``wrk`` with 50 connections, each request with one reviewer's own
   cookie and the task page of the mesa that reviewer holds (a Lua script rotates them and
   counts the status codes: anything but 200 is reported). In the same run, the same load
   on a bare baseline (the static CSS, and the login page), so a ratio is printed. Then a
   paced load (one ``hey`` per reviewer, its own cookie, a fixed rate) for the latency a
   reviewer sees when the desk is not saturated.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
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
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import func, select

from veedor.definitions import load_definition
from veedor.ingest.registry import import_registry
from veedor.ingest.tables import import_results_table
from veedor.model import Copy, FileOutcome, Grade, Reading, Status
from veedor.store import open_store
from veedor.store.accounts import add_user
from veedor.store.records import record_outcome
from veedor.store.schema import ActaRecord, Mesa, User
from veedor.web.desk import held_by

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
VERSION = "desk-load-2"
"""Change it when the database's recipe changes: the cache is rebuilt."""
DEFINITION = load_definition("ve-2024-presidential")
SAMPLES = ROOT / "samples"
V1 = SAMPLES / "results" / "RESULTADOS_2024_CSV_V1.csv"
CENTRES = SAMPLES / "registry" / "centros_resultadosconvzla_site_2024-08-01.csv"
UNITS = SAMPLES / "registry" / "admin_units_resultadosconvzla_site_2024-08-01.csv"
REVIEWERS = 50
PASSWORD = "clave-del-banco-"
SECRET = "bench-desk-load-secret-0123456789"
OPEN = {"review": 1500, "conflict": 1000, "unconfirmed": 500}
"""The mesas left for people (about 10% of the country), by the state the machine left them in."""
HOST = "127.0.0.1"
NATIONAL_MESAS = 30026
"""The mesas of 2024 (the registry's state-level ``mesas_totales``)."""


# -- the national database ---------------------------------------------------------------


def _mesas() -> list[tuple[str, int, list[int], int]]:
    """(centre, mesa, votes per ballot line, nulos) for every mesa of the country: V1's
    numbers (each candidate's votes on its first ballot line, so most lines are 0), then
    the mesas V1 lacks (``mesas_totales`` of the registry) with numbers drawn alike."""
    first_line: dict[str, int] = {}
    for i, pos in enumerate(DEFINITION.ballot):
        first_line.setdefault(pos.candidate, i)
    out: dict[tuple[str, int], tuple[list[int], int]] = {}
    with V1.open(encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            votes = [0] * len(DEFINITION.ballot)
            for cand, line in first_line.items():
                votes[line] = int(row.get(cand) or 0)
            out[(f"{int(row['CENTRO']):09d}", int(row["MESA"]))] = (votes, int(row["VOTOS_NULOS"] or 0))
    rng = random.Random(2024)
    samples = list(out.values())
    with CENTRES.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            centre, total = row["centro_code"], int(row["mesas_totales"] or 0)
            for number in range(1, total + 1):
                if (centre, number) not in out:
                    votes, nulos = rng.choice(samples)
                    out[(centre, number)] = (list(votes), nulos)
    # The registry lists only centres with a published acta: the country's other mesas go to
    # centres drawn at random, after their last mesa, up to the national count.
    centres = sorted({c for c, _ in out})
    last = Counter({c: 0 for c in centres})
    for c, m in out:
        last[c] = max(last[c], m)
    while len(out) < NATIONAL_MESAS:
        centre = rng.choice(centres)
        last[centre] += 1
        votes, nulos = rng.choice(samples)
        out[(centre, last[centre])] = (list(votes), nulos)
    return [(c, m, v, n) for (c, m), (v, n) in sorted(out.items())]


def _outcome(tag: str, grade: Grade, centre: str, mesa: int, votes: list, nulos: int | None) -> FileOutcome:
    sha = hashlib.sha256(f"{VERSION}/{tag}/{centre}.{mesa}".encode()).hexdigest()
    status = Status.OK if grade is Grade.CONFIRMED else Status.REVIEW
    source = "print" if grade is Grade.PARTIAL else "qr"
    copy = Copy(grade, f"{centre}.{mesa:02d}.1.0001", centre, mesa, tuple(votes), nulos, {}, source)
    reading = Reading(source, "bench", "full", "synthetic", 1.0)
    return FileOutcome(
        f"{tag}/{centre}.{mesa:02d}.jpg",
        sha,
        status,
        None if status is Status.OK else "synthetic",
        readings=(reading,),
        copy=copy,
    )


def _outcomes(mesa: tuple[str, int, list[int], int], kind: str) -> list[FileOutcome]:
    centre, number, votes, nulos = mesa
    if kind == "ok":
        return [_outcome("a", Grade.CONFIRMED, centre, number, votes, nulos)]
    if kind == "unconfirmed":
        return [_outcome("a", Grade.QR_ONLY, centre, number, votes, nulos)]
    if kind == "review":
        unread = [None if i % 3 == 0 else n for i, n in enumerate(votes)]
        return [_outcome("a", Grade.PARTIAL, centre, number, unread, None)]
    forged = list(votes)
    top = max(range(len(forged)), key=lambda i: forged[i])
    forged[top] += 50
    return [
        _outcome("a", Grade.CONFIRMED, centre, number, votes, nulos),
        _outcome("b", Grade.CONFIRMED, centre, number, forged, nulos),
    ]


def build(folder: Path) -> dict[str, object]:
    """The national database in ``folder`` (once per VERSION); returns what it holds."""
    marker = folder / "built.json"
    if marker.exists():
        return dict(json.loads(marker.read_text()))
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    started = time.perf_counter()
    store = open_store(str(folder / "veedor.db"))
    with store.session() as session:
        for path in (CENTRES, UNITS, V1):
            import_registry(session, path, DEFINITION)
        session.commit()
        mesas = _mesas()
        rng = random.Random(18)
        kinds = ["ok"] * len(mesas)
        picked = rng.sample(range(len(mesas)), sum(OPEN.values()))
        start = 0
        for kind, n in OPEN.items():
            for i in picked[start : start + n]:
                kinds[i] = kind
            start += n
        truths = {}
        for k, (mesa, kind) in enumerate(zip(mesas, kinds, strict=True), 1):
            for outcome in _outcomes(mesa, kind):
                record_outcome(session, outcome, DEFINITION)
            if kind != "ok":
                truths[f"{mesa[0]}.{mesa[1]:02d}"] = [mesa[2], mesa[3]]
            if k % 1000 == 0:
                session.commit()
        session.commit()
        import_results_table(session, V1, DEFINITION)
        session.commit()
        for i in range(REVIEWERS):
            add_user(session, f"rev{i:02d}", "reviewer", PASSWORD + f"{i:02d}")
        session.commit()
        states = dict(
            session.execute(select(ActaRecord.status, func.count()).group_by(ActaRecord.status)).all()
        )
        electors = session.scalar(select(func.count()).select_from(Mesa).where(Mesa.electors.is_not(None)))
    store.engine.dispose()
    (folder / "truths.json").write_text(json.dumps(truths))
    facts = {
        "version": VERSION,
        "mesas": len(mesas),
        "states": states,
        "mesas_with_electors": electors,
        "build_s": round(time.perf_counter() - started, 1),
    }
    marker.write_text(json.dumps(facts))
    return facts


# -- the desk and its reviewers ----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def start_desk(db: Path, evidence: Path, port: int, workers: int = 1) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "VEEDOR_DESK_SECRET": SECRET}
    command = [sys.executable, "-m", "veedor", "desk", "--host", HOST, "--port", str(port)]
    command += ["--workers", str(workers)]
    command += ["--db", str(db), "--evidence", str(evidence)]
    # Its log to a file, never a pipe nobody reads: a full pipe blocks the server's logging.
    log = (db.parent / "desk.log").open("w")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError((db.parent / "desk.log").read_text()) from None
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the desk did not start in 60 s")


def stop_desk(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Reviewer:
    def __init__(self, url: str, index: int) -> None:
        self.name = f"rev{index:02d}"
        self.password = PASSWORD + f"{index:02d}"
        self.client = httpx.Client(base_url=url, follow_redirects=False, timeout=150)
        self.csrf = ""
        self.mesa: str | None = None

    def login(self) -> None:
        page = self.client.get("/login")
        token = CSRF.search(page.text)
        assert token, page.text[:300]
        done = self.client.post(
            "/login", data={"name": self.name, "password": self.password, "csrf": token.group(1)}
        )
        assert done.status_code == 303 and done.headers["location"] == "/", (
            done.status_code,
            done.text[:300],
        )
        queue = self.client.get("/")
        found = CSRF.search(queue.text)
        assert queue.status_code == 200 and found, queue.status_code
        self.csrf = found.group(1)

    @property
    def cookie(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.client.cookies.items())

    def _went(self, answer: httpx.Response) -> str | None:
        assert answer.status_code == 303, (self.name, answer.status_code, answer.text[:300])
        where = answer.headers["location"]
        self.mesa = where.removeprefix("/mesa/") if where.startswith("/mesa/") else None
        return self.mesa

    def take(self) -> str | None:
        return self._went(self.client.post("/take", data={"csrf": self.csrf}))

    def enter(self, truth: list) -> str | None:
        votes, nulos = truth
        form = {f"v{i}": str(n) if n else "" for i, n in enumerate(votes)}
        form |= {"nulos": str(nulos) if nulos else "", "blank": "", "csrf": self.csrf}
        return self._went(self.client.post(f"/mesa/{self.mesa}", data=form))


def at_once(reviewers: list[Reviewer], act) -> tuple[list[object], list[float]]:
    """``act(reviewer)`` for every reviewer in its own thread, released together."""
    barrier = threading.Barrier(len(reviewers))
    results: list[object] = [None] * len(reviewers)
    seconds: list[float] = [0.0] * len(reviewers)

    def run(i: int) -> None:
        barrier.wait()
        start = time.perf_counter()
        try:
            results[i] = act(reviewers[i])
        except BaseException as exc:  # reported, and the wave counts it
            results[i] = exc
        seconds[i] = time.perf_counter() - start

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(reviewers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, seconds


def held_in_db(db: Path) -> dict[str, list[str]]:
    """Mesa code -> the reviewers for whom it is the task in hand, read from the database."""
    store = open_store(str(db), migrate=False)
    out: dict[str, list[str]] = {}
    with store.session() as session:
        for user in session.scalars(select(User).where(User.role == "reviewer")):
            code = held_by(session, user)
            if code is not None:
                out.setdefault(code, []).append(user.name)
    store.engine.dispose()
    return out


def check_wave(label: str, reviewers: list[Reviewer], results: list[object], seconds: list[float], db: Path):
    errors = [r for r in results if isinstance(r, BaseException)]
    sent = Counter(r for r in results if isinstance(r, str))
    twice_http = sum(n - 1 for n in sent.values() if n > 1)
    held = held_in_db(db)
    twice_db = sum(len(names) - 1 for names in held.values() if len(names) > 1)
    mismatched = sum(1 for r in reviewers if r.mesa is not None and r.name not in held.get(r.mesa, []))
    row = {
        "wave": label,
        "handed": sum(sent.values()),
        "distinct": len(sent),
        "double_http": twice_http,
        "double_db": twice_db,
        "not_theirs_in_db": mismatched,
        "errors": len(errors),
        "p50_s": statistics.median(seconds),
        "max_s": max(seconds),
    }
    if errors:
        row["first_error"] = repr(errors[0])[:200]
    return row


# -- load tools --------------------------------------------------------------------------

LUA = r"""
local targets = {}
%(targets)s
local counter = 0
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
function init(args)
  ok, other, offset = 0, 0, 0
end
function request()
  counter = counter + 1
  local t = targets[(counter %% #targets) + 1]
  if t[2] == "" then return wrk.format("GET", t[1]) end
  return wrk.format("GET", t[1], {["Cookie"] = t[2]})
end
function response(status, headers, body)
  if status == 200 then ok = ok + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local good, bad = 0, 0
  for _, thread in ipairs(threads) do
    good = good + thread:get("ok")
    bad = bad + thread:get("other")
  end
  io.write(string.format(
    "WRKJSON {\"requests\": %%d, \"seconds\": %%.3f, \"p50\": %%.3f, \"p90\": %%.3f, \"p99\": %%.3f, "
    .. "\"max\": %%.3f, \"ok\": %%d, \"other\": %%d, \"socket_errors\": %%d}\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(90) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3, good, bad,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def wrk(url: str, targets: list[tuple[str, str]], seconds: int, connections: int, work: Path) -> dict:
    lines = "\n".join(
        f"targets[{i + 1}] = {{{json.dumps(p)}, {json.dumps(c)}}}" for i, (p, c) in enumerate(targets)
    )
    script = work / "targets.lua"
    script.write_text(LUA % {"targets": lines})
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s"]
    done = subprocess.run(
        [*command, "-s", str(script), url], capture_output=True, text=True, timeout=seconds + 60, check=True
    )
    found = re.search(r"WRKJSON (\{.*\})", done.stdout)
    assert found, done.stdout + done.stderr
    figures = dict(json.loads(found.group(1)))
    figures["rps"] = figures["requests"] / figures["seconds"]
    return figures


def paced(url: str, reviewers: list[Reviewer], rate: float, seconds: int, work: Path) -> dict:
    """One ``hey`` per reviewer, one connection each, ``rate`` requests a second each."""
    n = max(1, int(rate * seconds))
    processes = []
    for r in reviewers:
        out = work / f"hey-{r.name}.csv"
        command = ["hey", "-n", str(n), "-c", "1", "-q", str(rate), "-t", "10", "-o", "csv"]
        command += ["-H", f"Cookie: {r.cookie}", f"{url}/mesa/{r.mesa}"]
        processes.append((subprocess.Popen(command, stdout=out.open("w"), stderr=subprocess.DEVNULL), out))
    return hey_figures(processes, seconds)


def hey_figures(processes: list[tuple[subprocess.Popen, Path]], seconds: int) -> dict:
    """Wait for ``hey`` runs and merge their CSVs (answers only: a failed request shows as a
    rate below the one offered) into one set of figures."""
    started = time.perf_counter()
    latencies, statuses = [], Counter()
    for process, out in processes:
        process.wait(timeout=seconds + 120)
        with out.open() as handle:
            for line in csv.DictReader(handle):
                latencies.append(float(line["response-time"]) * 1000)
                statuses[line["status-code"]] += 1
    wall = time.perf_counter() - started
    latencies = sorted(latencies) or [float("nan")]
    answered = sum(statuses.values())
    return {
        "requests": answered,
        "seconds": wall,
        "rps": answered / wall,
        "p50": pct(latencies, 50),
        "p90": pct(latencies, 90),
        "p99": pct(latencies, 99),
        "max": latencies[-1],
        "ok": statuses.get("200", 0),
        "other": answered - statuses.get("200", 0),
    }


def pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def row(label: str, f: dict, base: dict | None = None) -> str:
    ratio = f"{f['p99'] / base['p99']:.1f}" if base else "1"
    return (
        f"| {label} | {f['requests']} | {f['rps']:.0f} | {f['p50']:.1f} | {f['p90']:.1f} | {f['p99']:.1f} "
        f"| {f['max']:.0f} | {ratio} | {f['ok']} | {f['other']} |"
    )


# -- main --------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3, help="Phase A rounds (take, then enter)")
    ap.add_argument("--seconds", type=int, default=20, help="Phase B: seconds per wrk run")
    ap.add_argument("--rate", type=float, default=1.0, help="Phase B paced: requests/s per reviewer")
    ap.add_argument("--keep", action="store_true", help="keep the run's copy of the database")
    ap.add_argument("--workers", type=int, default=1, help="`veedor desk --workers`: processes serving pages")
    args = ap.parse_args()
    for tool in ("wrk", "hey"):
        if shutil.which(tool) is None:
            print(f"needs {tool}: apt-get install wrk hey", file=sys.stderr)
            return 2
    cache = OUT / VERSION
    facts = build(cache)
    print(f"national database {VERSION}: {json.dumps(facts)}")
    work = Path(tempfile.mkdtemp(prefix="bench-desk-load-"))
    db = work / "veedor.db"
    shutil.copy(cache / "veedor.db", db)
    truths = json.loads((cache / "truths.json").read_text())
    port = free_port()
    url = f"http://{HOST}:{port}"
    desk = start_desk(db, work / "evidence", port, args.workers)
    try:
        reviewers = [Reviewer(url, i) for i in range(REVIEWERS)]
        started = time.perf_counter()
        results, login_s = at_once(reviewers, Reviewer.login)
        failed = [r for r, x in zip(reviewers, results, strict=True) if isinstance(x, BaseException)]
        if failed:
            first = next(x for x in results if isinstance(x, BaseException))
            print(f"logins at once: {len(failed)} of {REVIEWERS} failed, first: {first!r}"[:300])
            for r in failed:  # again, one at a time, so that Phase A has every reviewer
                r.client.cookies.clear()
                r.login()
        print(
            f"\ndesk: `veedor desk --workers {args.workers}` (uvicorn) on {url}; {REVIEWERS} reviewers "
            f"logged in over HTTP in {time.perf_counter() - started:.1f} s (argon2; slowest {max(login_s):.1f} s)"
        )
        print(
            f"\nPhase A: {args.rounds} rounds; in each, all {REVIEWERS} take at once, then all enter at once"
        )
        print(
            "| wave | mesas handed | distinct | double (redirects) | double (held in db) | held by another in db | errors | median s | max s |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        doubles = 0
        for r in range(1, args.rounds + 1):
            for label, act in (
                ("take", Reviewer.take),
                # One who got no task (an error above) takes one instead.
                ("enter+next", lambda rv: rv.enter(truths[rv.mesa]) if rv.mesa else rv.take()),
            ):
                results, seconds = at_once(reviewers, act)
                w = check_wave(f"{r} {label}", reviewers, results, seconds, db)
                doubles += w["double_http"] + w["double_db"] + w["not_theirs_in_db"]
                print(
                    f"| {w['wave']} | {w['handed']} | {w['distinct']} | {w['double_http']} | {w['double_db']} "
                    f"| {w['not_theirs_in_db']} | {w['errors']} | {w['p50_s']:.2f} | {w['max_s']:.2f} |",
                    flush=True,
                )
                if "first_error" in w:
                    print(f"  first error: {w['first_error']}")
        print(f"double assignments in all waves: {doubles} (target 0)")

        for r in reviewers:  # one at a time: whoever holds no task after Phase A takes one
            if not r.mesa:
                try:
                    r.take()
                except Exception as exc:  # reported; Phase B goes on without them
                    print(f"  {r.name}: no task for Phase B: {exc!r}"[:200])
        holding = [r for r in reviewers if r.mesa]
        if not holding:
            print("nobody holds a task: no Phase B")
            return 1
        targets = [(f"/mesa/{r.mesa}", r.cookie) for r in holding]
        check = holding[0].client.get(f"/mesa/{holding[0].mesa}")
        assert check.status_code == 200 and "v37" in check.text, check.status_code
        print(
            f"\nPhase B: wrk, 2 threads, {len(targets)} connections, {args.seconds} s a run; "
            f"{len(holding)} reviewers, each request with its reviewer's cookie and task page; latency ms"
        )
        print("| target | requests | req/s | p50 | p90 | p99 | max | p99 / static p99 | 200 | other |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        static = wrk(url, [("/static/desk.css", "")], args.seconds, len(targets), work)
        print(row("baseline: /static/desk.css", static), flush=True)
        login = wrk(url, [("/login", "")], args.seconds, len(targets), work)
        print(row("baseline: /login (template)", login, static), flush=True)
        task = wrk(url, targets, args.seconds, len(targets), work)
        print(row("task page /mesa/{code}", task, static), flush=True)
        print(
            f"\npaced: one `hey` per reviewer ({len(holding)}), 1 connection each, {args.rate:g} req/s each "
            f"({args.rate * len(holding):.0f} req/s offered), {args.seconds} s"
        )
        print("| target | requests | req/s | p50 | p90 | p99 | max | p99 / static p99 | 200 | other |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        paced_task = paced(url, holding, args.rate, args.seconds, work)
        print(row("task page /mesa/{code}, paced", paced_task, static))
        verdict = "met" if task["p99"] < 200 else "NOT met"
        verdict_paced = "met" if paced_task["p99"] < 200 else "NOT met"
        print(
            f"\ntarget p99 < 200 ms: saturated (50 connections, closed loop) {task['p99']:.0f} ms: {verdict}; "
            f"paced ({args.rate * len(holding):.0f} req/s) {paced_task['p99']:.0f} ms: {verdict_paced}"
        )
    finally:
        stop_desk(desk)
        logged = (db.parent / "desk.log").read_text(errors="replace")
        kinds = Counter(re.findall(r"^(\w+(?:\.\w+)*(?:Error|Exception|Timeout)):", logged, re.M))
        print(f"\ndesk log: {logged.count('Traceback')} tracebacks {dict(kinds)}")
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if doubles == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
