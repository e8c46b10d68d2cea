"""Projection of the final result: the unverified mesas estimated from the verified ones.

THIS IS AN ESTIMATE, not a count. Each stratum (a geography unit, parish by default) predicts
its missing mesas with the ratio of its verified mesas (votes per registered elector when the
registry gives the electors of the missing mesas, else votes per mesa). A unit with too few
verified mesas borrows its parent's ratio, shifted by how units of its size differ from their
siblings, and its interval then also carries the spread between sibling units (see _Borrow).
Mesas that the registry places only at a coarser level (e.g. in a parish it does not list) are
estimated there, as borrowed.

The interval assumes the verified mesas of a stratum are like its unverified ones. Coverage is
not a random sample (it follows where witnesses were and which actas were photographed), so
stratification only removes the differences *between* strata; docs/estimate.md has the
simulation that measures how often the interval holds (mesas, states, parishes or centres
hidden: it is too narrow when whole centres of covered parishes are missing).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from veedor.definitions import ElectionDefinition
from veedor.tally.sources import code_prefix

Z95 = 1.959963984540054
MIN_DONORS = 2
"""Fewest verified mesas a unit needs to use its own ratio. Kept low: borrowing a parent's ratio
biases small units towards their larger neighbours (measured by simulation, docs/estimate.md)."""
MIN_UNITS_FOR_SIZE = 30
"""Fewest verified sibling comparisons a level needs before its size effect is fitted."""

ASSUMPTIONS = (
    "estimación, no conteo / an estimate, not a count",
    "las mesas verificadas de cada estrato se parecen a las no verificadas del mismo estrato / "
    "verified mesas of a stratum resemble its unverified mesas (coverage is NOT a random sample)",
    "el total de mesas por unidad del registro es correcto / the registry's mesas per unit are right",
    "intervalo al 95 % por estimador de razón con varianza de predicción / 95% interval from a ratio "
    "estimator with prediction variance (+ between-unit variance where a ratio is borrowed)",
    "el intervalo es demasiado estrecho si faltan centros enteros de parroquias cubiertas / the "
    "interval is too narrow when whole centres of covered parishes are missing (docs/estimate.md)",
)


@dataclass
class Measure:
    name: str
    verified: float
    estimated_missing: float
    se: float

    @property
    def total(self) -> float:
        return self.verified + self.estimated_missing

    @property
    def low(self) -> float:
        return self.total - Z95 * self.se

    @property
    def high(self) -> float:
        return self.total + Z95 * self.se


@dataclass
class Share:
    name: str
    value: float
    se: float

    @property
    def low(self) -> float:
        return self.value - Z95 * self.se

    @property
    def high(self) -> float:
        return self.value + Z95 * self.se


@dataclass
class Estimate:
    strata_level: str
    auxiliary: str
    mesas_verified: int
    mesas_missing: int
    mesas_borrowed: int
    """Missing mesas predicted with a parent unit's ratio (too few verified mesas of their own)."""
    totals: dict[str, Measure] = field(default_factory=dict)
    shares: dict[str, Share] = field(default_factory=dict)
    """% of valid votes per candidate, and ``margin:A-B`` (share of A − share of B)."""
    assumptions: tuple[str, ...] = ASSUMPTIONS
    notes: list[str] = field(default_factory=list)


def _levels(definition: ElectionDefinition, strata_level: str) -> list[tuple[str, int]]:
    strata_level = strata_of(definition, strata_level)
    chain = [("national", 0)]
    for lv in definition.levels:
        chain.append((lv.name, lv.code_digits))
        if lv.name == strata_level:
            return chain
    raise ValueError(f"nivel desconocido / unknown level {strata_level!r}")


def strata_of(definition: ElectionDefinition, strata_level: str | None = None) -> str:
    """The level whose units are the strata: the one given, else the next-to-finest level of the
    definition (the finest is one centre: too few mesas to stand for the missing ones)."""
    if strata_level is not None:
        return strata_level
    levels = definition.levels
    return levels[-2].name if len(levels) > 1 else levels[-1].name


def cells_from_totals(
    verified: pl.DataFrame,
    totals: dict[str, dict[str, int | None]],
    definition: ElectionDefinition,
    strata_level: str | None = None,
) -> pl.DataFrame:
    """Missing mesas per cell from the registry's mesas per unit (``totals[level][code]``).

    Missing mesas go to the finest unit whose total is known; what its known children do not
    account for stays at the parent (flagged ``borrowed``: their own unit is unknown)."""
    strata_level = strata_of(definition, strata_level)
    chain = _levels(definition, strata_level)
    rows: list[dict] = []
    parent_missing: dict[str, int] = {"": max((totals["national"].get("") or 0) - verified.height, 0)}
    for depth, (level, digits) in enumerate(chain[1:], start=1):
        counts = dict(verified.group_by(code_prefix(digits).alias("c")).len().iter_rows())
        child_missing: dict[str, int] = {}
        for code, total in totals.get(level, {}).items():
            if total is not None:
                child_missing[code] = max(total - counts.get(code, 0), 0)
        parent_digits = chain[depth - 1][1]
        used: dict[str, int] = {}
        for code, m in child_missing.items():
            used[code[:parent_digits]] = used.get(code[:parent_digits], 0) + m
        for parent, m in parent_missing.items():
            residual = m - used.get(parent, 0)
            if residual > 0:
                rows.append(
                    {
                        "level": chain[depth - 1][0],
                        "digits": parent_digits,
                        "code": parent,
                        "m": residual,
                        "x": float(residual),
                        "child_level": level,
                        "residual": True,
                    }
                )
        parent_missing = child_missing
    for code, m in parent_missing.items():
        if m > 0:
            rows.append(
                {
                    "level": strata_level,
                    "digits": chain[-1][1],
                    "code": code,
                    "m": m,
                    "x": float(m),
                    "child_level": None,
                    "residual": False,
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "level": pl.Utf8,
            "digits": pl.Int64,
            "code": pl.Utf8,
            "m": pl.Int64,
            "x": pl.Float64,
            "child_level": pl.Utf8,
            "residual": pl.Boolean,
        },
    )


def cells_from_population(
    verified: pl.DataFrame,
    population: pl.DataFrame,
    definition: ElectionDefinition,
    strata_level: str | None = None,
    auxiliary: str = "electors",
) -> pl.DataFrame:
    """Missing mesas per stratum when the registry lists every mesa (``centre``, ``mesa``,
    ``electors``): x is their electors (``auxiliary="electors"``) or 1 per mesa."""
    strata_level = strata_of(definition, strata_level)
    digits = definition.level(strata_level).code_digits
    missing = population.join(verified.select("centre", "mesa"), on=["centre", "mesa"], how="anti")
    x = pl.col("electors").cast(pl.Float64).sum() if auxiliary == "electors" else pl.len().cast(pl.Float64)
    return (
        missing.group_by(code_prefix(digits).alias("code"))
        .agg(pl.len().cast(pl.Int64).alias("m"), x.alias("x"))
        .with_columns(
            pl.lit(strata_level).alias("level"),
            pl.lit(digits, dtype=pl.Int64).alias("digits"),
            pl.lit(None, dtype=pl.Utf8).alias("child_level"),
            pl.lit(False).alias("residual"),
        )
        .select("level", "digits", "code", "m", "x", "child_level", "residual")
    )


def _donor_stats(donors: pl.DataFrame, digits: int, measures: Sequence[str]) -> pl.DataFrame:
    """Per unit: n, Σx, Σx², and for each measure Σy, ratio R and residual variance s²."""
    g = donors.group_by(code_prefix(digits).alias("code")).agg(
        pl.len().alias("n"),
        pl.col("_x").sum().alias("sx"),
        (pl.col("_x") ** 2).sum().alias("sxx"),
        *(pl.col(j).sum().alias(f"sy_{j}") for j in measures),
        *((pl.col(j).cast(pl.Float64) ** 2).sum().alias(f"syy_{j}") for j in measures),
        *((pl.col(j) * pl.col("_x")).sum().alias(f"sxy_{j}") for j in measures),
    )
    exprs = []
    for j in measures:
        r = pl.col(f"sy_{j}") / pl.col("sx")
        ss = pl.col(f"syy_{j}") - 2 * r * pl.col(f"sxy_{j}") + r**2 * pl.col("sxx")
        exprs += [
            r.alias(f"R_{j}"),
            pl.when(pl.col("n") > 1).then(ss / (pl.col("n") - 1)).otherwise(None).clip(0).alias(f"s2_{j}"),
        ]
    return g.with_columns(exprs).with_columns((pl.col("sx") / pl.col("n")).alias("xbar"))


def _num(value: Any) -> float:
    return float(value) if value is not None else 0.0


def _sizes(donors: pl.DataFrame, cells: pl.DataFrame, digits: int) -> dict[str, float]:
    """Mesas of every unit of a level: verified plus missing (a hidden unit's size is known)."""
    verified = donors.group_by(code_prefix(digits).alias("code")).agg(pl.len().alias("n"))
    missing = (
        cells.filter(pl.col("digits") >= digits)
        .group_by(code_prefix(digits, "code").alias("code"))
        .agg(pl.col("m").sum().alias("n"))
    )
    both = pl.concat([verified.cast({"n": pl.Int64}), missing.cast({"n": pl.Int64})])
    return dict(both.group_by("code").agg(pl.col("n").sum()).iter_rows())


@dataclass
class _Borrow:
    """What borrowing a parent's ratio costs at one level: a unit's ratio = the ratio of its
    siblings + alpha + beta·z + a random effect of variance tau2, where z = log(unit size /
    mean size of its siblings). Fitted per measure on the verified units."""

    alpha: Any
    beta: Any
    tau2: Any
    z: dict[str, float]
    zbar: float = 0.0
    k: int = 0
    szz: float = 0.0

    def adjust(self, code: str | None) -> Any:
        return (
            self.alpha + self.beta * self.z.get(code, self.zbar)
            if code
            else self.alpha + self.beta * self.zbar
        )

    def inflation(self, code: str | None) -> float:
        """Prediction-variance factor: the fitted line is itself uncertain."""
        if self.k < 3 or self.szz <= 0:
            return 1.0 + 1.0 / max(self.k, 1)
        z = self.z.get(code, self.zbar) if code else self.zbar
        return 1.0 + 1.0 / self.k + (z - self.zbar) ** 2 / self.szz


def _borrow_model(
    child: pl.DataFrame,
    parent: pl.DataFrame,
    sizes: dict[str, float],
    parent_digits: int,
    measures: Sequence[str],
    min_n: int,
) -> _Borrow:
    """How far a unit's ratio strays from the ratio its siblings give.

    Each verified unit is compared with its parent *without it* (leave one out): that is the
    ratio it would borrow if it were hidden, so the spread also carries the error of the
    borrowed ratio (with the unit left in, a parent of two units shows half the difference).
    Units that go missing whole are not like their siblings at random: on V2 a parish's share
    follows its size relative to its siblings (r ≈ 0.46), so the size enters the prediction, and
    what the size does not explain is the random effect."""
    zero = np.zeros(len(measures))
    parents: dict[str, list[float]] = {}
    for code, size in sizes.items():
        parents.setdefault(code[:parent_digits], []).append(size)
    totals = {p: (sum(v), len(v)) for p, v in parents.items()}
    z: dict[str, float] = {}
    for code, size in sizes.items():
        total, count = totals[code[:parent_digits]]
        if count > 1 and size > 0 and total > size:
            z[code] = math.log(size * (count - 1) / (total - size))
    sums = ["n", "sx", *(f"sy_{j}" for j in measures)]
    ok = (
        child.filter(pl.col("n") >= min_n)
        .with_columns(code_prefix(parent_digits, "code").alias("_parent"))
        .join(
            parent.select("code", *(pl.col(c).alias(f"P{c}") for c in sums)),
            left_on="_parent",
            right_on="code",
            how="inner",
        )
        .filter(pl.col("Pn") - pl.col("n") >= min_n)
    )
    if ok.height < 2:
        return _Borrow(zero, zero, zero, z)
    dev = ok.select(
        pl.col(f"R_{j}") - (pl.col(f"Psy_{j}") - pl.col(f"sy_{j}")) / (pl.col("Psx") - pl.col("sx"))
        for j in measures
    ).to_numpy()
    noise = ok.select(
        (pl.col(f"s2_{j}").fill_null(0) / (pl.col("n") * pl.col("xbar") ** 2)).mean() for j in measures
    ).to_numpy()[0]
    zs = np.array([z.get(c, 0.0) for c in ok["code"].to_list()])
    k = len(zs)
    if k < MIN_UNITS_FOR_SIZE or float(np.var(zs)) == 0.0:
        # Too few units for a line: every unit weighs the same around zero.
        tau2 = np.clip((dev**2).mean(axis=0) - noise, 0, None)
        return _Borrow(zero, zero, tau2, z, 0.0, k, 0.0)
    design = np.column_stack([np.ones(k), zs])
    coef, *_ = np.linalg.lstsq(design, dev, rcond=None)
    resid = dev - design @ coef
    # Every unit weighs the same: small units stray most, and they are the ones that go missing.
    tau2 = np.clip((resid**2).sum(axis=0) / (k - 2) - noise, 0, None)
    zbar = float(zs.mean())
    return _Borrow(coef[0], coef[1], tau2, z, zbar, k, float(((zs - zbar) ** 2).sum()))


def _predict(
    donors: pl.DataFrame,
    cells: pl.DataFrame,
    chain: list[tuple[str, int]],
    measures: Sequence[str],
    min_n: int,
) -> tuple[dict[str, float], dict[str, float], int]:
    """Predicted missing total and its variance per measure; and the mesas predicted by borrowing."""
    stats = {digits: _donor_stats(donors, digits, measures) for _, digits in chain}
    counts = {d: dict(s.select("code", "n").iter_rows()) for d, s in stats.items()}
    models = {
        name: _borrow_model(
            stats[d],
            stats[chain[i - 1][1]],
            _sizes(donors, cells, d),
            chain[i - 1][1],
            measures,
            min_n,
        )
        for i, (name, d) in enumerate(chain)
        if i > 0
    }
    parent_of = {chain[i][1]: chain[i - 1][1] for i in range(1, len(chain))}
    level_digits = {name: d for name, d in chain}
    # Each cell climbs to the first unit (itself or an ancestor) with enough verified mesas. The
    # levels it climbs over each shift its ratio by that level's size model and add their unit's
    # random effect, shared by all cells of that unit.
    assigned: list[dict] = []
    effects: dict[tuple[str, str], float] = {}
    shift = np.zeros(len(measures))
    borrowed_mesas = 0
    for cell in cells.iter_rows(named=True):
        d, code = cell["digits"], cell["code"]
        while d > 0 and counts[d].get(code[:d], 0) < min_n:
            d = parent_of[d]
        top = level_digits[cell["child_level"]] if cell["residual"] else cell["digits"]
        climbed = [(name, dd) for name, dd in chain if d < dd <= top]
        if climbed:
            borrowed_mesas += cell["m"]
        for name, dd in climbed:
            unknown = dd > len(code[:dd]) or cell["residual"]
            key = (name, code[:dd] + ("#" if unknown else ""))
            effects[key] = effects.get(key, 0.0) + cell["x"]
            shift += cell["x"] * models[name].adjust(None if unknown else code[:dd])
        assigned.append({"donor_digits": d, "donor": code[:d], "m": cell["m"], "x": cell["x"]})
    point = {j: float(shift[i]) for i, j in enumerate(measures)}
    var = dict.fromkeys(measures, 0.0)
    if not assigned:
        return point, var, 0
    for (name, unit), x in effects.items():
        model = models[name]
        factor = model.inflation(None if unit.endswith("#") else unit)
        for i, j in enumerate(measures):
            var[j] += float(model.tau2[i]) * factor * x * x
    cell_frame = pl.DataFrame(
        assigned,
        schema={"donor_digits": pl.Int64, "donor": pl.Utf8, "m": pl.Int64, "x": pl.Float64},
    )
    for d, group in cell_frame.group_by("donor_digits"):
        per_donor = (
            group.group_by("donor")
            .agg(pl.col("m").sum(), pl.col("x").sum())
            .join(stats[int(d[0])], left_on="donor", right_on="code", how="left")
        )
        for j in measures:
            r = per_donor[f"R_{j}"].fill_null(0.0)
            s2 = per_donor[f"s2_{j}"].fill_null(0.0)
            xbar = per_donor["xbar"].fill_null(1.0)
            n = per_donor["n"].fill_null(1).cast(pl.Float64)
            xs = per_donor["x"]
            point[j] += _num((r * xs).sum())
            # individual variation of the missing mesas + uncertainty of the ratio itself
            var[j] += _num((s2 * xs / xbar + (xs / xbar) ** 2 * s2 / n).sum())
    return point, var, borrowed_mesas


def estimate(
    verified: pl.DataFrame,
    cells: pl.DataFrame,
    definition: ElectionDefinition,
    *,
    strata_level: str | None = None,
    auxiliary: str = "mesas",
    min_n: int = MIN_DONORS,
    margins: Sequence[tuple[str, str]] = (),
) -> Estimate:
    """Project totals and shares. ``verified``: one row per verified mesa (centre, electors,
    candidate columns, valid, nulos); ``cells``: from :func:`cells_from_totals` or
    :func:`cells_from_population` (whose ``auxiliary`` must match)."""
    strata_level = strata_of(definition, strata_level)
    chain = _levels(definition, strata_level)
    cands = list(definition.candidate_codes)
    measures = [*cands, "valid", "nulos"]
    x = pl.col("electors").cast(pl.Float64) if auxiliary == "electors" else pl.lit(1.0)
    donors = verified.with_columns(x.alias("_x"), pl.col("nulos").fill_null(0))
    if auxiliary == "electors" and donors["_x"].null_count():
        raise ValueError("faltan electores de mesas verificadas / verified mesas lack electors")
    point, var, borrowed = _predict(donors, cells, chain, measures, min_n)
    observed = donors.select(pl.col(j).sum() for j in measures).row(0, named=True)
    est = Estimate(strata_level, auxiliary, verified.height, int(cells["m"].sum() or 0), borrowed)
    for j in measures:
        est.totals[j] = Measure(j, float(observed[j]), point[j], math.sqrt(max(var[j], 0.0)))
    valid = est.totals["valid"].total
    if valid <= 0:
        return est
    # Shares by linearization: the share p of c has the error of the total of y_c − p·y_valid.
    shares = {c: est.totals[c].total / valid for c in cands}
    lin: dict[str, pl.Expr] = {f"_p_{c}": pl.col(c) - shares[c] * pl.col("valid") for c in cands}
    for a, b in margins:
        lin[f"_m_{a}-{b}"] = pl.col(a) - pl.col(b) - (shares[a] - shares[b]) * pl.col("valid")
    donors = donors.with_columns(e.alias(name) for name, e in lin.items())
    _, lin_var, _ = _predict(donors, cells, chain, list(lin), min_n)
    for c in cands:
        est.shares[c] = Share(c, 100 * shares[c], 100 * math.sqrt(lin_var[f"_p_{c}"]) / valid)
    for a, b in margins:
        est.shares[f"margin:{a}-{b}"] = Share(
            f"{a}-{b}",
            100 * (shares[a] - shares[b]),
            100 * math.sqrt(lin_var[f"_m_{a}-{b}"]) / valid,
        )
    return est


def hide_modes(definition: ElectionDefinition) -> tuple[str, ...]:
    """How :func:`hide` may hide mesas: at random, or by whole units of any level."""
    return ("random", *(level.name for level in definition.levels))


def hide(
    population: pl.DataFrame,
    definition: ElectionDefinition,
    mode: str,
    frac: float,
    rng: Sequence[float] | None = None,
    seed: int = 0,
) -> pl.DataFrame:
    """The verified part of ``population`` after hiding ``frac`` of its mesas: at random, or by
    whole units of a level (``mode``, a level's name) taken in random order until ``frac`` is
    reached."""
    if mode == "random":
        return population.sample(fraction=1 - frac, seed=seed, shuffle=False)
    digits = definition.level(mode).code_digits
    units = (
        population.group_by(code_prefix(digits).alias("u"))
        .len()
        .sort("u")
        .sample(fraction=1.0, shuffle=True, seed=seed)
    )
    cumulative = units["len"].cum_sum()
    target = frac * population.height
    # Hide units until the target is reached (the last one may overshoot).
    k = int((cumulative < target).sum()) + 1
    hidden = set(units["u"].head(k).to_list())
    return population.filter(~code_prefix(digits).is_in(list(hidden)))


@dataclass
class Validation:
    mode: str
    auxiliary: str
    strata_level: str
    reps: int
    hits: dict[str, int] = field(default_factory=dict)
    """How many intervals contained the truth, per measure."""
    width: dict[str, float] = field(default_factory=dict)
    """Mean interval width (votes for totals, percentage points for shares)."""
    abs_error: dict[str, float] = field(default_factory=dict)

    def rate(self, name: str) -> float:
        return self.hits[name] / self.reps if self.reps else math.nan


def validate(
    population: pl.DataFrame,
    definition: ElectionDefinition,
    *,
    mode: str = "random",
    frac: float = 0.2,
    reps: int = 20,
    seed: int = 0,
    strata_level: str | None = None,
    auxiliary: str = "mesas",
    candidates: tuple[str, str] | None = None,
) -> Validation:
    """Hide part of a fully known ``population`` (one row per mesa), estimate, and count how
    often the 95 % interval contains the true total / share / margin of two candidates (by
    default the definition's first two)."""
    a, b = candidates if candidates is not None else definition.candidate_codes[:2]
    strata_level = strata_of(definition, strata_level)
    truth_tot = population.select(pl.col(c).sum() for c in (a, b, "valid")).row(0, named=True)
    truth = {
        a: truth_tot[a],
        b: truth_tot[b],
        f"{a}%": 100 * truth_tot[a] / truth_tot["valid"],
        f"{b}%": 100 * truth_tot[b] / truth_tot["valid"],
        f"{a}-{b}": 100 * (truth_tot[a] - truth_tot[b]) / truth_tot["valid"],
    }
    result = Validation(
        mode,
        auxiliary,
        strata_level,
        reps,
        dict.fromkeys(truth, 0),
        dict.fromkeys(truth, 0.0),
        dict.fromkeys(truth, 0.0),
    )
    for rep in range(reps):
        verified = hide(population, definition, mode, frac, seed=seed + rep)
        cells = cells_from_population(verified, population, definition, strata_level, auxiliary)
        est = estimate(
            verified,
            cells,
            definition,
            strata_level=strata_level,
            auxiliary=auxiliary,
            margins=[(a, b)],
        )
        got: dict[str, Measure | Share] = {
            a: est.totals[a],
            b: est.totals[b],
            f"{a}%": est.shares[a],
            f"{b}%": est.shares[b],
            f"{a}-{b}": est.shares[f"margin:{a}-{b}"],
        }
        for name, value in got.items():
            centre = value.total if isinstance(value, Measure) else value.value
            result.hits[name] += int(value.low <= truth[name] <= value.high)
            result.width[name] += (value.high - value.low) / reps
            result.abs_error[name] += abs(centre - truth[name]) / reps
    return result


def load_population(
    v2_csv: str, v1_csv: str | None = None, definition: ElectionDefinition | None = None
) -> pl.DataFrame:
    """A fully known 'population' for :func:`validate`: the per-mesa table ``v2_csv`` (latin-1 or
    UTF-8), with registered electors from ``v1_csv`` (mesas without them are dropped). Both in the
    definition's first results-table format (the default definition's when none is given): its
    centre, mesa, null and electors columns, one column per candidate."""
    from pathlib import Path

    from veedor.definitions import DEFAULT_DEFINITION, load_definition
    from veedor.ingest.tables import decode_text

    definition = definition or load_definition(DEFAULT_DEFINITION)
    spec = next(iter(definition.results_tables.values()))
    digits = definition.centre_code_digits

    def read(path: str) -> pl.DataFrame:
        text, _ = decode_text(Path(path).read_bytes())
        return pl.read_csv(text.encode(), infer_schema_length=0)

    def place(frame: pl.DataFrame) -> list[pl.Expr]:
        return [
            pl.col(spec["centre_column"]).str.zfill(digits).alias("centre"),
            pl.col(spec["mesa_column"]).cast(pl.Int64).alias("mesa"),
        ]

    frame = read(v2_csv)
    cands = [c for c in frame.columns if c in definition.candidate_codes]
    frame = frame.select(
        *place(frame),
        pl.col(spec["null_column"]).cast(pl.Int64).alias("nulos"),
        *(pl.col(c).cast(pl.Int64) for c in cands),
    )
    if v1_csv:
        v1 = read(v1_csv)
        electors = v1.select(*place(v1), pl.col(spec["electors_column"]).cast(pl.Int64).alias("electors"))
        frame = frame.join(electors, on=["centre", "mesa"], how="inner")
    else:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Int64).alias("electors"))
    return frame.with_columns(pl.sum_horizontal(*cands).alias("valid"))
