"""Render many actas to disk, streaming: image + ground-truth JSON each, one manifest.

Memory stays bounded whatever the count: rows are read lazily, at most a few actas per
worker are in flight, and each image is written and dropped as soon as it is made.
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from veedor.definitions.schema import load_definition
from veedor.simulate.degrade import degrade, tamper
from veedor.simulate.profiles import pick_chain
from veedor.simulate.render import ActaRenderer, ActaSpec
from veedor.simulate.spread import mesa_seed

MANIFEST_FIELDS = [
    "file",
    "truth",
    "acta_id",
    "centre",
    "mesa",
    "profile",
    "chain",
    "tampered",
    "valid",
    "nulos",
    "width",
    "height",
    "render_ms",
    "degrade_ms",
    "write_ms",
    "error",
]


@dataclass(frozen=True)
class SimOptions:
    out: str
    definition_id: str = "ve-2024-presidential"
    profile: str = "scanner"
    mix: dict[str, float] | None = None
    seed: int = 0
    image_format: str = "jpg"
    quality: int = 90
    tamper_rate: float = 0.0


@dataclass
class SimSummary:
    count: int = 0
    by_profile: dict[str, int] = field(default_factory=dict)
    tampered: int = 0
    errors: int = 0
    seconds: float = 0.0
    render_ms: float = 0.0
    degrade_ms: float = 0.0
    write_ms: float = 0.0

    def add(self, row: dict[str, Any]) -> None:
        self.count += 1
        self.by_profile[row["profile"]] = self.by_profile.get(row["profile"], 0) + 1
        self.tampered += int(bool(row["tampered"]))
        self.errors += int(bool(row["error"]))
        self.render_ms += float(row["render_ms"])
        self.degrade_ms += float(row["degrade_ms"])
        self.write_ms += float(row["write_ms"])


_RENDERER: ActaRenderer | None = None


def _renderer(definition_id: str) -> ActaRenderer:
    global _RENDERER
    if _RENDERER is None or _RENDERER.d.id != definition_id:
        _RENDERER = ActaRenderer(load_definition(definition_id))
    return _RENDERER


def make_one(spec: ActaSpec, index: int, opts: SimOptions) -> dict[str, Any]:
    """Render, degrade and write one acta; returns its manifest row (small)."""
    renderer = _renderer(opts.definition_id)
    rng = np.random.default_rng(mesa_seed("render", opts.seed, spec.centre, spec.mesa, index))
    t0 = time.perf_counter()
    rendered = renderer.render(spec, rng)
    t1 = time.perf_counter()
    profile, chain = pick_chain(opts.profile, rng, opts.mix)
    truth = dict(rendered.truth)
    error = ""
    gray = rendered.gray
    if opts.tamper_rate and rng.random() < opts.tamper_rate:
        try:
            gray, forged = tamper(gray, renderer.d, rng)
            truth["tampered_payload"] = forged
        except ValueError as exc:
            error = f"tamper: {exc}"
    try:
        gray = degrade(gray, chain, rng)
    except Exception as exc:  # a broken family must not stop a 30,000-acta run
        error = f"degrade {chain}: {exc}"
        chain = "clean"
    t2 = time.perf_counter()
    if chain != "clean":
        truth["qr_box"] = None  # geometry changed: the box no longer holds
    stem = f"{index:06d}_{spec.centre}_{spec.mesa:02d}"
    out = Path(opts.out)
    name = f"{stem}.{opts.image_format}"
    params = (
        [cv2.IMWRITE_JPEG_QUALITY, opts.quality]
        if opts.image_format == "jpg"
        else [cv2.IMWRITE_PNG_COMPRESSION, 1]
    )
    ok, buf = cv2.imencode(f".{opts.image_format}", gray, params)
    if not ok:
        raise OSError(f"no se pudo codificar / could not encode {name}")
    buf.tofile(str(out / name))
    truth.update(
        file=name,
        profile=profile,
        chain=chain,
        tampered="tampered_payload" in truth,
        final_size=[int(gray.shape[1]), int(gray.shape[0])],
        seed=opts.seed,
    )
    (out / f"{stem}.json").write_text(json.dumps(truth, ensure_ascii=False), encoding="utf-8")
    t3 = time.perf_counter()
    return {
        "file": name,
        "truth": f"{stem}.json",
        "acta_id": truth["acta_id"],
        "centre": spec.centre,
        "mesa": spec.mesa,
        "profile": profile,
        "chain": chain,
        "tampered": int(truth["tampered"]),
        "valid": truth["valid"],
        "nulos": spec.nulos,
        "width": gray.shape[1],
        "height": gray.shape[0],
        "render_ms": round((t1 - t0) * 1000, 1),
        "degrade_ms": round((t2 - t1) * 1000, 1),
        "write_ms": round((t3 - t2) * 1000, 1),
        "error": error,
    }


def _job(args: tuple[ActaSpec, int, SimOptions]) -> dict[str, Any]:
    return make_one(*args)


def _bounded(
    jobs: Iterable[tuple[ActaSpec, int, SimOptions]],
    workers: int,
) -> Iterator[dict[str, Any]]:
    """Like Pool.imap_unordered, but never pulls more than a few jobs ahead of the results."""
    if workers <= 1:
        yield from map(_job, jobs)
        return
    ahead = 4 * workers
    with ProcessPoolExecutor(workers) as pool:
        pending: set[Future[dict[str, Any]]] = set()
        for job in jobs:
            pending.add(pool.submit(_job, job))
            if len(pending) >= ahead:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield fut.result()
        for fut in pending:
            yield fut.result()


def simulate(
    specs: Iterable[ActaSpec],
    opts: SimOptions,
    workers: int | None = None,
    on_row: Callable[[dict[str, Any]], None] | None = None,
    source: str | None = None,
) -> SimSummary:
    """Write every acta of ``specs`` to ``opts.out`` with manifest.csv and manifest.json."""
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    workers = max(1, workers or os.cpu_count() or 1)
    summary = SimSummary()
    started = time.perf_counter()
    jobs = ((spec, i, opts) for i, spec in enumerate(specs))
    with (out / "manifest.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, MANIFEST_FIELDS)
        writer.writeheader()
        for row in _bounded(jobs, workers):
            writer.writerow(row)
            summary.add(row)
            if on_row:
                on_row(row)
    summary.seconds = time.perf_counter() - started
    meta = {
        "source": source,
        "options": asdict(opts),
        "workers": workers,
        "summary": asdict(summary),
        "images_per_second": summary.count / summary.seconds if summary.seconds else None,
    }
    (out / "manifest.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False), encoding="utf-8")
    return summary
