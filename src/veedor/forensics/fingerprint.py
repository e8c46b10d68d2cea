"""The election fingerprint (Klimek, Yegorov, Hanel & Thurner 2012, PNAS): the 2-D histogram of
turnout against a candidate's share per mesa, weighted by voters, and their ballot-stuffing model.

The model: a fraction f_i of the mesas has incremental stuffing and f_e extreme stuffing (see
:mod:`veedor.forensics.stuffing`), the rest is clean. The expected histogram is linear in
(f_i, f_e), so they are fitted by a weighted, bounded least squares of the observed histogram on
three simulated ones (clean, all incremental, all extreme). One departure from the paper: its
clean part is one normal distribution of turnout and one of share for the whole country; here it
is the parish-level clean model of :mod:`veedor.forensics.nulls`, because a country with strong
regional differences (Venezuela) is far from one normal, and the fit would call geography fraud.

Example: ``hist = fingerprint_histogram(election.turnout, share, election.voters)``.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from veedor.forensics.nulls import CleanModel, simulate_turnout_and_votes
from veedor.forensics.stuffing import EXTREME_X, INCREMENTAL_X, stuff_counts

FIT_BINS = 25
"""Cells per axis for the fit (4 points wide); the picture uses 100 (1 point, as in the paper)."""
COMPONENT_SIMULATIONS = 8
POOR_FIT = 2.0
"""Residual more than twice what chance leaves under the fitted model: the estimates are then the
model's best description, not a measurement (clean simulations of the model give 1.0–1.2)."""


def _cells(turnout: NDArray[np.float64], share: NDArray[np.float64], bins: int) -> NDArray[np.int64]:
    row = np.clip((np.nan_to_num(turnout) * bins).astype(np.int64), 0, bins - 1)
    column = np.clip((np.nan_to_num(share) * bins).astype(np.int64), 0, bins - 1)
    return row * bins + column


def fingerprint_histogram(
    turnout: ArrayLike, share: ArrayLike, weights: ArrayLike, bins: int = 100
) -> NDArray[np.float64]:
    """Voter-weighted 2-D histogram, shape (bins, bins): rows are turnout, columns the share,
    both from 0 to 1 (values above 1 go in the last cell; NaN rows are left out).

    Works along the last axis too: inputs of shape (reps, mesas) give (reps, bins, bins).
    Example: ``fingerprint_histogram([0.6], [0.7], [300], bins=10)[6, 7]`` → 300.0.
    """
    t = np.asarray(turnout, dtype=np.float64)
    s = np.asarray(share, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    t, s, w = np.broadcast_arrays(t, s, w)
    keep = np.isfinite(t) & np.isfinite(s) & np.isfinite(w)
    flat = t.reshape(-1, t.shape[-1])
    rows = flat.shape[0]
    cells = _cells(t, s, bins).reshape(rows, -1) + (np.arange(rows) * bins * bins)[:, None]
    hist = np.bincount(
        cells[keep.reshape(rows, -1)],
        weights=w.reshape(rows, -1)[keep.reshape(rows, -1)],
        minlength=rows * bins * bins,
    )
    return np.asarray(hist.reshape((*t.shape[:-1], bins, bins)), dtype=np.float64)


@dataclass(frozen=True)
class Components:
    """Expected fit histograms (flattened) of the clean model, all-incremental and all-extreme."""

    clean: NDArray[np.float64]
    incremental: NDArray[np.float64]
    extreme: NDArray[np.float64]
    weights: NDArray[np.float64]


def _stuffed_histograms(
    voters: NDArray[np.int64],
    valid: NDArray[np.int64],
    votes: NDArray[np.int64],
    electors: NDArray[np.float64],
    kind: str,
    x: NDArray[np.float64],
) -> NDArray[np.float64]:
    new_voters, favoured, _ = stuff_counts(voters, electors, votes, valid - votes, kind, x)
    new_valid = valid + (new_voters - voters)
    with np.errstate(invalid="ignore", divide="ignore"):
        return fingerprint_histogram(new_voters / electors, favoured / new_valid, new_voters, FIT_BINS)


def components(model: CleanModel, column: int, rng: np.random.Generator) -> Components:
    """Simulate the three expected histograms for candidate ``column`` (common random numbers).
    Example: ``components(fit_clean_model(election), 0, rng).clean.sum()``."""
    electors = model.source.electors
    voters, valid, votes = simulate_turnout_and_votes(model, column, COMPONENT_SIMULATIONS, rng)
    with np.errstate(invalid="ignore", divide="ignore"):
        clean = fingerprint_histogram(voters / electors, votes / valid, voters, FIT_BINS)
    u = rng.uniform(size=voters.shape)
    incremental = _stuffed_histograms(
        voters,
        valid,
        votes,
        electors,
        "incremental",
        INCREMENTAL_X[0] + u * (INCREMENTAL_X[1] - INCREMENTAL_X[0]),
    )
    extreme = _stuffed_histograms(
        voters, valid, votes, electors, "extreme", EXTREME_X[0] + u * (EXTREME_X[1] - EXTREME_X[0])
    )
    mean = [h.reshape(COMPONENT_SIMULATIONS, -1).mean(axis=0) for h in (clean, incremental, extreme)]
    positive = mean[0][mean[0] > 0]
    # Poisson-like weights: a cell's noise grows with what it holds; the floor keeps empty cells in.
    floor = float(positive.mean()) if positive.size else 1.0
    return Components(mean[0], mean[1], mean[2], 1.0 / (mean[0] + floor))


def fit_fractions(
    observed: NDArray[np.float64], parts: Components
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """(f_i, f_e, weighted residual sum of squares) minimising ‖H − ((1−f_i−f_e)C + f_i I + f_e E)‖²
    with f_i, f_e ≥ 0 and f_i + f_e ≤ 1, for each flattened histogram in ``observed`` (…, cells).
    Example: ``fit_fractions(parts.clean, parts)`` → (0, 0, 0)."""
    h = np.asarray(observed, dtype=np.float64)
    h2 = h.reshape(-1, h.shape[-1])
    w = parts.weights
    a = np.stack([parts.incremental - parts.clean, parts.extreme - parts.clean], axis=1)  # (cells, 2)
    d = h2 - parts.clean
    g = a.T @ (a * w[:, None])  # 2×2
    b = (d * w) @ a  # (rows, 2)
    c = (d * d * w).sum(axis=1)

    def objective(f: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(c - 2 * (f * b).sum(axis=1) + np.einsum("ri,ij,rj->r", f, g, f))

    rows = h2.shape[0]
    candidates: list[NDArray[np.float64]] = []
    det = g[0, 0] * g[1, 1] - g[0, 1] * g[1, 0]
    if abs(det) > 1e-12 * max(abs(g[0, 0] * g[1, 1]), 1e-300):
        candidates.append(np.asarray(np.linalg.solve(g, b.T).T, dtype=np.float64))
    for axis in (0, 1):
        f = np.zeros((rows, 2))
        f[:, axis] = np.clip(b[:, axis] / g[axis, axis], 0, 1) if g[axis, axis] > 0 else 0.0
        candidates.append(f)
    direction = np.array([1.0, -1.0])
    e2 = np.array([0.0, 1.0])
    curvature = direction @ g @ direction
    u = np.clip((b @ direction - direction @ g @ e2) / curvature, 0, 1) if curvature > 0 else np.zeros(rows)
    candidates.append(e2[None, :] + u[:, None] * direction[None, :])
    best = np.full(rows, np.inf)
    chosen = np.zeros((rows, 2))
    for f in candidates:
        feasible = (f[:, 0] >= -1e-12) & (f[:, 1] >= -1e-12) & (f.sum(axis=1) <= 1 + 1e-12)
        value = np.where(feasible, objective(f), np.inf)
        better = value < best
        best = np.where(better, value, best)
        chosen[better] = f[better]
    shape = h.shape[:-1]
    return (
        np.clip(chosen[:, 0], 0, 1).reshape(shape),
        np.clip(chosen[:, 1], 0, 1).reshape(shape),
        np.maximum(best, 0).reshape(shape),
    )


@dataclass(frozen=True)
class KlimekEstimate:
    """The fitted stuffing fractions, their 90 % parametric-bootstrap intervals, and how well the
    model describes the data: ``residual_ratio`` is the fit's weighted residual over the median
    residual of data simulated from the fitted model itself (≈ 1 when the model is right)."""

    candidate: str
    estimable: bool
    reason: str  # "estimated", "poor_fit" (estimated, but residual_ratio > POOR_FIT) or "no_electors"
    f_incremental: float
    f_extreme: float
    interval_incremental: tuple[float, float]
    interval_extreme: tuple[float, float]
    goodness_of_fit_p: float
    residual_ratio: float
    mesas: int


def observed_histogram(model: CleanModel, column: int, bins: int = FIT_BINS) -> NDArray[np.float64]:
    """The data's voter-weighted fingerprint for candidate ``column``."""
    election = model.source
    with np.errstate(invalid="ignore", divide="ignore"):
        share = election.votes[:, column] / election.valid
    return fingerprint_histogram(election.turnout, share, election.voters, bins)


def estimate_stuffing(
    model: CleanModel,
    column: int,
    rng: np.random.Generator,
    parts: Components | None = None,
    bootstrap: int = 40,
) -> KlimekEstimate:
    """Fit f_i and f_e for candidate ``column``, or say why not (fewer than 100 mesas with known
    electors), and say when the model fits poorly (``residual_ratio`` > :data:`POOR_FIT`).

    A goodness-of-fit p-value is kept for reference, but with 25,000 mesas it rejects any model
    (the real tables, and even simulated stuffing refitted by this model, sit beyond all 40
    bootstrap residuals), so the verdict uses the size of the misfit instead.
    Example: ``estimate_stuffing(model, 1, rng).f_extreme``."""
    election = model.source
    name = election.candidates[column]
    known = int(np.count_nonzero(np.isfinite(election.electors)))
    if known < 100:
        return KlimekEstimate(
            name, False, "no_electors", np.nan, np.nan, (np.nan,) * 2, (np.nan,) * 2, np.nan, np.nan, known
        )
    parts = parts or components(model, column, rng)
    f_i, f_e, ssr = fit_fractions(observed_histogram(model, column).ravel(), parts)
    voters, valid, votes = simulate_turnout_and_votes(model, column, bootstrap, rng)
    electors = election.electors
    kind = rng.uniform(size=voters.shape)
    u = rng.uniform(size=voters.shape)
    x_inc = INCREMENTAL_X[0] + u * (INCREMENTAL_X[1] - INCREMENTAL_X[0])
    x_ext = EXTREME_X[0] + u * (EXTREME_X[1] - EXTREME_X[0])
    inc = kind < f_i
    ext = (kind >= f_i) & (kind < f_i + f_e)
    v1, fav1, _ = stuff_counts(
        voters, electors, votes, valid - votes, "incremental", np.where(inc, x_inc, 0.0)
    )
    v2, fav2, _ = stuff_counts(voters, electors, votes, valid - votes, "extreme", np.where(ext, x_ext, 0.0))
    new_voters = np.where(ext, v2, v1)
    favoured = np.where(ext, fav2, fav1)
    new_valid = valid + (new_voters - voters)
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = fingerprint_histogram(new_voters / electors, favoured / new_valid, new_voters, FIT_BINS)
    bf_i, bf_e, bssr = fit_fractions(boot.reshape(bootstrap, -1), parts)
    fit_p = float((1 + np.count_nonzero(bssr >= ssr)) / (bootstrap + 1))
    ratio = float(ssr / max(float(np.median(bssr)), 1e-300))
    return KlimekEstimate(
        candidate=name,
        estimable=True,
        reason="estimated" if ratio <= POOR_FIT else "poor_fit",
        f_incremental=float(f_i),
        f_extreme=float(f_e),
        interval_incremental=(float(np.quantile(bf_i, 0.05)), float(np.quantile(bf_i, 0.95))),
        interval_extreme=(float(np.quantile(bf_e, 0.05)), float(np.quantile(bf_e, 0.95))),
        goodness_of_fit_p=fit_p,
        residual_ratio=ratio,
        mesas=known,
    )


# ---- pictures ---------------------------------------------------------------------------

_STOPS = np.array(  # white → yellow → orange → red → dark purple: empty cells stay white on paper
    [[255, 255, 255], [254, 224, 139], [244, 109, 67], [165, 0, 38], [45, 0, 75]], dtype=np.float64
)


def _colour(hist: NDArray[np.float64]) -> NDArray[np.uint8]:
    """Log-scaled colours, shape (bins, bins, 3), turnout along x and share along y (up)."""
    values = np.log1p(np.asarray(hist, dtype=np.float64))
    top = values.max() if values.size and values.max() > 0 else 1.0
    level = values / top * (len(_STOPS) - 1)
    low = np.clip(np.floor(level).astype(np.int64), 0, len(_STOPS) - 2)
    frac = (level - low)[..., None]
    rgb = _STOPS[low] * (1 - frac) + _STOPS[low + 1] * frac
    return np.asarray(np.transpose(rgb, (1, 0, 2))[::-1].round(), dtype=np.uint8)


def fingerprint_png(hist: ArrayLike, scale: int = 4) -> bytes:
    """The histogram as a PNG (no matplotlib needed): turnout left→right, share bottom→top,
    darker = more voters (log scale). Example: ``Path("fp.png").write_bytes(fingerprint_png(h))``."""
    pixels = np.repeat(np.repeat(_colour(np.asarray(hist)), scale, axis=0), scale, axis=1)
    height, width = pixels.shape[:2]
    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def fingerprint_figure(
    hist: ArrayLike, title: str = "", xlabel: str = "turnout", ylabel: str = "vote share"
) -> Any:
    """A matplotlib Figure of the fingerprint (Agg canvas, no pyplot state; matplotlib is
    imported only here). Example: ``fingerprint_figure(h, "V1 · EG").savefig("fp.png")``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import LogNorm
    from matplotlib.figure import Figure

    values = np.asarray(hist, dtype=np.float64)
    figure = Figure(figsize=(5, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    positive = values[values > 0]
    image = axes.imshow(
        np.ma.masked_less_equal(values.T, 0),
        origin="lower",
        extent=(0, 100, 0, 100),
        aspect="auto",
        cmap="magma_r",
        norm=LogNorm(
            vmin=float(positive.min()) if positive.size else 1,
            vmax=float(positive.max()) if positive.size else 10,
        ),
    )
    figure.colorbar(image, ax=axes, label="voters")
    axes.set_xlabel(f"{xlabel} (%)")
    axes.set_ylabel(f"{ylabel} (%)")
    axes.set_title(title)
    return figure
