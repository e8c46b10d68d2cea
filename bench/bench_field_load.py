"""Benchmark: election night's peak for one state at ``veedor field``: 1,000 witnesses, each with
its own invite code, uploading a bottom photo (the QR) and a whole-sheet photo of their acta
within 10 minutes, over loopback; some connections drop after the server stored the photo and
the phone sends it again.

Run:  PYTHONPATH=src .venv/bin/python bench/bench_field_load.py [--witnesses 1000] [--minutes 10]
                                                                [--readers 1] [--retry-share 0.05]

1. Photos: the 23 real actas (samples/actas) as the whole sheet, and the bottom of each (its
   QR) as a phone's close-up, re-encoded as a phone's JPEG (quality 90). Every witness's photos
   are their own bytes (a JPEG comment with the witness's number is added, so each has its own
   SHA-256 at a real photo's size); the app strips comments, which changes nothing here.
2. ``veedor field`` itself in a subprocess (uvicorn, one process, as shipped), with its reader
   (``--readers``, default 1: the photos are read while they arrive, on the same 2 cores, as on
   the night) on a fresh SQLite database; 1,000 invite codes issued first.
3. An asyncio httpx client: each witness arrives at a uniformly random moment of the window,
   sends the bottom photo, waits 5 to 60 s, sends the whole sheet. ``--retry-share`` of the
   uploads are sent twice (the answer "lost": the same bytes again at once).
4. Baseline, measured in the same run: the same uploads at the same pace for a tenth of the
   window to a bare uvicorn app that parses the multipart body and throws it away (what HTTP and
   multipart cost on this machine, without storing anything).
5. Reported: acceptance latency (p50, p95, p99, max) and its ratio to the baseline's; statuses;
   lost (answered 2xx but not stored, or its evidence file missing or altered) and doubled (two
   rows for one photo); photos read by the end of the window and after.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from PIL import Image
from sqlalchemy import func, select

from veedor.capture.evidence import remove_store
from veedor.store import open_store
from veedor.store.field import issue_invites
from veedor.store.schema import FieldUpload

ROOT = Path(__file__).resolve().parents[1]
ACTAS = ROOT / "samples" / "actas"
OUT = ROOT / "bench" / "out"
BARE_APP = """\
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

app = FastAPI()


@app.post("/api/field/v1/uploads")
async def upload(request: Request):
    form = await request.form()
    data = await form["file"].read()
    return JSONResponse({"bytes": len(data)}, status_code=201)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def phone_jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("L").save(out, "JPEG", quality=90)
    return out.getvalue()


def photos() -> list[tuple[bytes, bytes]]:
    """(bottom, whole) JPEG pairs from the real actas."""
    pairs = []
    for path in sorted(ACTAS.glob("*/*.jpg")):
        with Image.open(path) as image:
            gray = image.convert("L")
            bottom = gray.crop((0, gray.height - int(gray.width * 1.3), gray.width, gray.height))
            pairs.append((phone_jpeg(bottom), phone_jpeg(gray)))
    return pairs


def personal(data: bytes, witness: int, kind: str) -> bytes:
    """The photo as this witness's own bytes: a JPEG comment (COM) right after SOI."""
    text = f"witness {witness} {kind}".encode()
    return data[:2] + b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text + data[2:]


def wait_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if process.poll() is not None:
                raise SystemExit(log.read_text()) from None
            time.sleep(0.2)
    raise SystemExit("server did not start")


async def run_load(
    url: str, codes: list[str], pairs: list[tuple[bytes, bytes]], window: float, retry_share: float, seed: int
) -> tuple[list[dict[str, object]], float]:
    rng = random.Random(seed)
    results: list[dict[str, object]] = []
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=200)
    started = time.monotonic()

    async def send(client: httpx.AsyncClient, code: str, data: bytes, attempt: str) -> None:
        t0 = time.monotonic()
        try:
            answer = await client.post(
                f"{url}/api/field/v1/uploads",
                headers={"Authorization": f"Bearer {code}"},
                files={"file": ("photo.jpg", data, "image/jpeg")},
            )
            status, body = answer.status_code, answer.json() if answer.status_code < 500 else {}
        except httpx.HTTPError as exc:
            status, body = 0, {"error": type(exc).__name__}
        results.append(
            {
                "sha256": hashlib.sha256(data).hexdigest(),
                "status": status,
                "ms": (time.monotonic() - t0) * 1000,
                "attempt": attempt,
                "answered_sha": body.get("sha256") if isinstance(body, dict) else None,
                "bytes": len(data),
            }
        )

    async def witness(client: httpx.AsyncClient, number: int, code: str) -> None:
        bottom, whole = pairs[number % len(pairs)]
        await asyncio.sleep(rng.uniform(0, window))
        for kind, data in (
            ("bottom", personal(bottom, number, "bottom")),
            ("whole", personal(whole, number, "whole")),
        ):
            await send(client, code, data, "first")
            if rng.random() < retry_share:
                await send(client, code, data, "retry")
            if kind == "bottom":
                await asyncio.sleep(rng.uniform(5, 60) * window / 600)

    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        await asyncio.gather(*(witness(client, i, code) for i, code in enumerate(codes)))
    return results, time.monotonic() - started


def figures(results: list[dict[str, object]]) -> dict[str, float]:
    ms = sorted(float(r["ms"]) for r in results)  # type: ignore[arg-type]
    if not ms:
        return {}
    q = statistics.quantiles(ms, n=100) if len(ms) > 1 else [ms[0]] * 99
    return {"n": len(ms), "p50": q[49], "p95": q[94], "p99": q[98], "max": ms[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--witnesses", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--readers", type=int, default=1)
    parser.add_argument("--retry-share", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=26)
    args = parser.parse_args()
    window = args.minutes * 60
    pairs = photos()
    sizes = [len(b) for b, _w in pairs], [len(w) for _b, w in pairs]
    print(
        f"photos: {len(pairs)} real actas; bottom {statistics.median(sizes[0]) / 1024:.0f} KB, "
        f"whole {statistics.median(sizes[1]) / 1024:.0f} KB (medians)"
    )
    work = Path(tempfile.mkdtemp(prefix="veedor-field-load-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    try:
        # Baseline: a bare multipart endpoint, same pace, a tenth of the window.
        (work / "bare.py").write_text(BARE_APP)
        port = free_port()
        log = work / "bare.log"
        bare = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bare:app", "--port", str(port), "--log-level", "warning"],
            cwd=work,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        wait_port(port, bare, log)
        share = max(1, args.witnesses // 10)
        base, _elapsed = asyncio.run(
            run_load(f"http://127.0.0.1:{port}", ["x"] * share, pairs, window / 10, 0.0, args.seed)
        )
        bare.terminate()
        bare.wait(timeout=30)
        baseline = figures(base)

        store = open_store(str(work / "veedor.db"))
        with store.session() as session:
            codes = [i.code for i in issue_invites(session, ["0"], args.witnesses, limit=10)]
        port = free_port()
        log = work / "field.log"
        command = [
            sys.executable,
            "-m",
            "veedor",
            "field",
            "--port",
            str(port),
            "--db",
            str(work / "veedor.db"),
        ]
        server = subprocess.Popen(
            [*command, "--evidence", str(work / "ev"), "--readers", str(args.readers)],
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        wait_port(port, server, log)
        print(
            f"load: {args.witnesses} witnesses x 2 photos in {args.minutes:g} min "
            f"(retry share {args.retry_share:.0%}), reader processes {args.readers}"
        )
        results, elapsed = asyncio.run(
            run_load(f"http://127.0.0.1:{port}", codes, pairs, window, args.retry_share, args.seed)
        )
        with store.session() as session:
            read_at_end = session.scalar(select(func.count()).where(FieldUpload.read_at.is_not(None))) or 0
        # Let the reader go on a little, to say how far behind it is.
        time.sleep(30)
        server.terminate()
        server.wait(timeout=120)
        field = figures(results)
        with store.session() as session:
            rows = session.execute(select(FieldUpload.sha256, FieldUpload.read_at)).all()
        stored = {sha for sha, _ in rows}
        accepted = {str(r["sha256"]) for r in results if r["status"] in (200, 201)}
        sent = {str(r["sha256"]) for r in results}
        lost = [sha for sha in accepted if sha not in stored]
        evidence_bad = [
            sha
            for sha in stored
            if hashlib.sha256((work / "ev" / sha[:2] / sha[2:4] / sha).read_bytes()).hexdigest() != sha
        ]
        doubled = len(rows) - len(stored)
        wrong_answer = [r for r in results if r["status"] in (200, 201) and r["answered_sha"] != r["sha256"]]
        statuses: dict[str, int] = {}
        for r in results:
            statuses[str(r["status"])] = statuses.get(str(r["status"]), 0) + 1
        retries = [r for r in results if r["attempt"] == "retry"]
        tracebacks = log.read_text().count("Traceback")
        read_after = sum(1 for _sha, at in rows if at is not None)
        print(
            f"baseline (bare multipart endpoint, {baseline['n']} uploads): p50 {baseline['p50']:.0f} ms, "
            f"p95 {baseline['p95']:.0f} ms, p99 {baseline['p99']:.0f} ms, max {baseline['max']:.0f} ms"
        )
        print(
            f"veedor field ({field['n']} uploads in {elapsed:.0f} s): p50 {field['p50']:.0f} ms, "
            f"p95 {field['p95']:.0f} ms, p99 {field['p99']:.0f} ms, max {field['max']:.0f} ms"
        )
        print(
            f"ratio to baseline: p50 {field['p50'] / baseline['p50']:.2f}, p99 {field['p99'] / baseline['p99']:.2f}"
        )
        print(
            f"statuses: {statuses}; retries {len(retries)} (answered 200: "
            f"{sum(1 for r in retries if r['status'] == 200)})"
        )
        print(
            f"photos sent {len(sent)}, accepted {len(accepted)}, stored {len(stored)}; lost {len(lost)}, "
            f"doubled {doubled}, evidence altered or missing {len(evidence_bad)}, wrong answers {len(wrong_answer)}"
        )
        print(
            f"read by the reader: {read_at_end} at the end of the window, {read_after} 30 s later "
            f"(of {len(stored)}); tracebacks in the server's log: {tracebacks}"
        )
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "field-load.json").write_text(
            json.dumps(
                {
                    "args": vars(args),
                    "baseline": baseline,
                    "field": field,
                    "statuses": statuses,
                    "sent": len(sent),
                    "stored": len(stored),
                    "lost": len(lost),
                    "doubled": doubled,
                    "evidence_bad": len(evidence_bad),
                    "read_at_end": read_at_end,
                    "read_after_30s": read_after,
                },
                indent=1,
            )
        )
        store.engine.dispose()
    finally:
        remove_store(work / "ev")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
