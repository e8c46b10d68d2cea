"""veedor.forensics: each statistic against hand-computed cases and known distributions, and on
the real V1/V2 tables (read straight from the CSV, not through the library)."""

from __future__ import annotations

import csv
import json
import math
import string
import zlib
from pathlib import Path

import numpy as np
import pytest

from veedor.forensics import (
    BENFORD_SECOND,
    BENFORD_SECOND_MEAN,
    Bulletin,
    Election,
    aggregate,
    all_msgids,
    benford_second_digit_probabilities,
    bulletin_arithmetic,
    bulletin_sequence,
    bulletin_vs_actas,
    ends_in_0_or_5,
    fingerprint_figure,
    fingerprint_histogram,
    fingerprint_png,
    fit_clean_model,
    holm,
    integer_percent,
    integer_percent_count,
    last_digit,
    last_digit_chi2,
    last_digit_test,
    lattice_distance,
    mc_p_value,
    messages,
    neighbour_scores,
    percent_ends_in_0_or_5,
    rank_outliers,
    resample_counts,
    rounding_probability,
    run_battery,
    second_digit,
    second_digit_mean,
    second_digit_test,
    simulate_election,
    stuff,
)
from veedor.forensics.fingerprint import Components, fit_fractions
from veedor.forensics.heaping import integer_percent_expected, rounded_percent
from veedor.forensics.neighbours import group_median, leave_one_out_median
from veedor.forensics.stats import chi2_sf, ks_uniform, normal_sf

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
RESULTS = DATA / "results"
CANDIDATES = ["EG", "NM", "LM", "JABE", "JOBR", "AE", "CF", "DC", "EM", "BERA"]


def _rows(name: str) -> list[dict[str, str]]:
    path = RESULTS / name
    if not path.exists():
        pytest.skip(f"{path} not available")
    encoding = "utf-8-sig" if name.endswith("V1.csv") else "latin-1"
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle))


def _synthetic(rng: np.random.Generator, mesas: int = 1500) -> Election:
    """A small clean election: 3 candidates, parishes with their own support, real-like sizes."""
    parish = rng.integers(0, 30, mesas)
    centre = parish * 100 + rng.integers(0, 20, mesas)
    electors = rng.integers(300, 900, mesas)
    turnout = np.clip(rng.normal(0.6, 0.08, mesas), 0.2, 0.95)
    lean = rng.uniform(0.3, 0.7, 30)[parish]
    share = np.clip(lean + rng.normal(0, 0.04, mesas), 0.05, 0.9)
    voters = rng.binomial(electors, turnout)
    first = rng.binomial(voters, share)
    third = rng.binomial(voters - first, 0.1)
    votes = np.stack([first, voters - first - third, third], axis=1)
    return Election.from_arrays(votes, ["A", "B", "C"], electors=electors, centre=centre, parish=parish)


# ---- digits ---------------------------------------------------------------------------------


def test_benford_second_digit_law_sums_to_one_and_matches_the_formula():
    p = benford_second_digit_probabilities()
    assert p.shape == (10,)
    assert math.isclose(float(p.sum()), 1.0, abs_tol=1e-12)
    for d in (0, 4, 9):  # Σ_{k=1..9} log10(1 + 1/(10k + d)), written out
        assert math.isclose(p[d], sum(math.log10(1 + 1 / (10 * k + d)) for k in range(1, 10)), rel_tol=1e-12)
    assert np.all(np.diff(p) < 0)  # decreasing from 0 to 9
    assert math.isclose(BENFORD_SECOND_MEAN, sum(d * p[d] for d in range(10)))
    assert 4.18 < BENFORD_SECOND_MEAN < 4.19  # Mebane's 4.187


def test_second_and_last_digit_by_hand():
    assert second_digit([7, 10, 19, 100, 351, 999, 1000, 4096, 10**12 + 5 * 10**10]).tolist() == [
        -1,
        0,
        9,
        0,
        5,
        9,
        0,
        0,
        0,
    ]
    assert last_digit([120, 35, 7]).tolist() == [0, 5, 7]
    assert math.isclose(float(second_digit_mean([10, 25, 99, 3])), (0 + 5 + 9) / 3)
    # chi-square against uniform for 10 counts whose last digits are all 0: Σ (10 − 1)²/1 + 9·(0 − 1)²/1 = 90
    assert math.isclose(float(last_digit_chi2([100 + 10 * i for i in range(10)])), 90.0)
    test = second_digit_test([123, 45, 978, 1204])
    assert test.n == 4 and math.isclose(test.mean, (2 + 5 + 7 + 2) / 4)
    expected = 4 * BENFORD_SECOND
    observed = np.bincount([2, 5, 7, 2], minlength=10)
    assert math.isclose(test.chi2, float(((observed - expected) ** 2 / expected).sum()))


def test_digit_statistics_work_on_stacked_replicates():
    rng = np.random.default_rng(3)
    stack = rng.integers(10, 5000, size=(4, 300))
    means = second_digit_mean(stack)
    assert means.shape == (4,)
    for row, mean in zip(stack, means, strict=True):
        assert math.isclose(mean, float(second_digit_mean(row)))


def test_textbook_2bl_p_values_are_uniform_on_benford_data():
    # 10^U with U uniform over whole decades is Benford in every digit.
    rng = np.random.default_rng(11)
    p = [second_digit_test(np.floor(10 ** rng.uniform(2, 5, 800)).astype(int)).p_mean for _ in range(150)]
    assert ks_uniform(p)[1] > 0.01


def test_textbook_last_digit_p_values_are_uniform_on_uniform_digits():
    rng = np.random.default_rng(12)
    p = [last_digit_test(rng.integers(100, 1000, 600)).p_chi2 for _ in range(150)]
    assert ks_uniform(p)[1] > 0.01


# ---- small statistics -------------------------------------------------------------------------


def test_chi2_and_normal_tails_match_tables():
    assert math.isclose(float(chi2_sf(3.841459, 1)), 0.05, rel_tol=1e-4)
    assert math.isclose(float(chi2_sf(5.991465, 2)), 0.05, rel_tol=1e-4)
    assert math.isclose(float(chi2_sf(16.918978, 9)), 0.05, rel_tol=1e-4)
    assert math.isclose(float(chi2_sf(9.487729, 4)), 0.05, rel_tol=1e-4)
    assert math.isclose(float(normal_sf(1.959964)), 0.025, rel_tol=1e-4)


def test_holm_and_monte_carlo_p_values_by_hand():
    assert np.allclose(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    assert np.allclose(holm([0.5, 0.001]), [0.5, 0.002])
    assert mc_p_value(5.0, [1, 2, 3]) == 0.25  # (1 + 0) / (3 + 1)
    assert mc_p_value(2.0, [1, 2, 3]) == 0.75  # (1 + 2) / 4
    assert mc_p_value(2.0, [1, 2, 3], "two-sided") == 1.0


# ---- heaping ----------------------------------------------------------------------------------


def test_heaping_by_hand():
    assert rounded_percent([1, 1, 1], [8, 3, 200]).tolist() == [13, 33, 1]  # 12.5 → 13, 0.5 → 1 (half up)
    assert integer_percent([150, 151, 363, 364], [300, 300, 726, 726]).tolist() == [True, False, True, False]
    assert integer_percent([0, 726], [726, 726]).tolist() == [False, False]  # 0 % and 100 % left out
    assert integer_percent([50], [99]).tolist() == [False]  # denominators under 100 left out
    assert [int(x) for x in integer_percent_count([50, 51, 0], [100, 200, 300])] == [2, 1]
    assert math.isclose(integer_percent_expected([200, 400], [50, 100]), 0.5 + 0.25)
    assert [int(x) for x in ends_in_0_or_5([100, 105, 107, 9, 55])] == [3, 2]
    assert [int(x) for x in percent_ends_in_0_or_5([45, 33, 0], [100, 100, 100])] == [2, 1]


def test_integer_percentages_by_chance_are_about_100_over_n():
    rng = np.random.default_rng(5)
    n = rng.integers(200, 1000, 20000)
    v = rng.binomial(n, 0.4)
    _, hits = integer_percent_count(v, n)
    expected = integer_percent_expected(n, v)
    assert abs(int(hits) - expected) < 4 * math.sqrt(expected)


def test_local_null_p_values_are_uniform_on_clean_data():
    """Kobak's local null: integer-percentage counts of clean data are not flagged."""
    rng = np.random.default_rng(21)
    p = []
    for _ in range(60):
        n = rng.integers(200, 900, 2000)
        v = rng.binomial(n, rng.uniform(0.2, 0.7, n.size))
        observed = int(integer_percent_count(v, n)[1])
        null = integer_percent_count(resample_counts(v, n, 99, rng), n)[1]
        p.append(mc_p_value(observed, null) - rng.uniform(0, 1 / 100))  # randomised: MC p-values are discrete
    assert ks_uniform(np.clip(p, 0, 1))[1] > 0.001


# ---- bulletins ----------------------------------------------------------------------------------


def test_bulletin_1_is_exact_and_its_probability_follows_the_derivation():
    path = DATA / "official" / "cne_bulletins_2024.json"
    if not path.exists():
        pytest.skip(f"{path} not available")
    entry = json.loads(path.read_text())["bulletins"][0]
    bulletin = Bulletin.from_json(entry)
    total = sum(bulletin.votes.values())
    for name, count in bulletin.votes.items():  # each is round(total × a tenth of a percent)
        assert count == round(total * round(1000 * count / total) / 1000), name
    finding = bulletin_arithmetic(bulletin)
    assert not finding.consistent
    spacing = total / 1000  # one exact hit in every T/1000 votes; 3 counts, 2 free
    assert math.isclose(finding.probability, (1 / spacing) ** 2, rel_tol=1e-9)
    assert "Derivation" in finding.explanation


def test_an_honest_looking_bulletin_is_not_exact():
    bulletin = Bulletin("x", {"A": 5_123_457, "B": 4_400_001, "C": 535_316})
    finding = bulletin_arithmetic(bulletin)
    assert finding.consistent
    probability, fisher, each = rounding_probability(list(bulletin.votes.values()), bulletin.total)
    assert finding.probability == probability and 0 < fisher <= 1 and len(each) == 3
    distance, k = lattice_distance(5_123_457, bulletin.total)
    assert k == round(5_123_457 / (bulletin.total / 1000))
    assert math.isclose(distance, abs(5_123_457 - k * bulletin.total / 1000))


def test_bulletin_sequence_and_actas_by_hand():
    early = Bulletin("b1", {"A": 100, "B": 80})
    late = Bulletin("b2", {"A": 150, "B": 70})
    assert not bulletin_sequence(early, late).consistent
    assert bulletin_sequence(early, Bulletin("b3", {"A": 100, "B": 81})).consistent
    # actas: A has 60 + 50 + 40 = 150; a bulletin at 2/3 of 3 mesas may leave out 1 (worst: A's 60)
    acta = {"A": np.array([60, 50, 40]), "B": np.array([10, 10, 10])}
    valid = np.array([70, 60, 50])
    ok = Bulletin("ok", {"A": 90, "B": 20}, actas_pct=200 / 3)
    bad = Bulletin("bad", {"A": 89, "B": 20}, actas_pct=200 / 3)
    assert bulletin_vs_actas(ok, acta, valid, national_mesas=3).consistent
    assert not bulletin_vs_actas(bad, acta, valid, national_mesas=3).consistent


# ---- neighbours ---------------------------------------------------------------------------------


def test_leave_one_out_and_group_medians_by_hand():
    assert leave_one_out_median([0.1, 0.2, 0.9, 0.4], [0, 0, 0, 0]).tolist() == pytest.approx(
        [0.4, 0.4, 0.2, 0.2]
    )
    assert leave_one_out_median([0.1, 0.2, 0.9], [0, 0, 1]).tolist()[:2] == pytest.approx([0.2, 0.1])
    assert math.isnan(leave_one_out_median([0.1, 0.2, 0.9], [0, 0, 1])[2])
    assert group_median([0.1, 0.2, 0.9], [0, 0, 1]).tolist() == pytest.approx([0.15, 0.15, 0.9])


def test_the_mesa_unlike_its_centre_ranks_first():
    votes = np.array([150, 155, 148, 152, 290, 151])
    valid = np.full(6, 300)
    z = neighbour_scores(votes, valid, centre=[1] * 6, parish=[1] * 6)
    assert int(np.nanargmax(np.abs(z))) == 4 and z[4] > 5
    ranked = rank_outliers(votes, valid, [1] * 6, [1] * 6, "A", ids=tuple("abcdef"))
    assert ranked[0].acta == "e" and ranked[0].rank == 1 and ranked[0].reference == pytest.approx(151 / 300)


# ---- fingerprint, stuffing, nulls ----------------------------------------------------------------


def test_fingerprint_histogram_by_hand():
    h = fingerprint_histogram([0.61, 0.61, 1.0, np.nan], [0.72, 0.75, 1.0, 0.5], [300, 100, 50, 999], bins=10)
    assert h.shape == (10, 10) and h[6, 7] == 400 and h[9, 9] == 50 and h.sum() == 450
    png = fingerprint_png(h, scale=2)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (20, 20)
    assert zlib.crc32(png[12:29]) == int.from_bytes(png[29:33], "big")  # IHDR: type + 13 bytes, then CRC


def test_fitting_recovers_a_known_mixture_exactly():
    rng = np.random.default_rng(2)
    clean, inc, ext = rng.uniform(0, 10, (3, 50))
    parts = Components(clean, inc, ext, np.ones(50))
    observed = 0.85 * clean + 0.1 * inc + 0.05 * ext
    f_i, f_e, ssr = fit_fractions(observed, parts)
    assert (
        float(f_i) == pytest.approx(0.1)
        and float(f_e) == pytest.approx(0.05)
        and float(ssr) == pytest.approx(0, abs=1e-9)
    )
    f_i, f_e, _ = fit_fractions(clean - (inc - clean), parts)  # a "negative" stuffing is held at 0
    assert float(f_i) == 0.0


def test_stuffing_adds_only_for_the_favoured_and_stays_within_the_electors():
    rng = np.random.default_rng(4)
    election = _synthetic(rng)
    for kind in ("incremental", "extreme"):
        stuffed, where = stuff(election, 1, kind, 0.2, rng)
        assert where.mesas.size == round(0.2 * election.size)
        changed = np.flatnonzero(np.any(stuffed.votes != election.votes, axis=1))
        assert set(changed) <= set(where.mesas)
        assert np.all(stuffed.votes[:, 1] >= election.votes[:, 1])
        assert np.all(stuffed.voters <= election.electors)
        if kind == "incremental":
            assert np.array_equal(np.delete(stuffed.votes, 1, axis=1), np.delete(election.votes, 1, axis=1))


def test_clean_model_reproduces_sizes_and_dispersion():
    rng = np.random.default_rng(6)
    election = _synthetic(rng, 3000)
    model = fit_clean_model(election)
    sims = [simulate_election(model, rng) for _ in range(5)]
    assert all(np.array_equal(s.electors, election.electors) for s in sims)
    spread = np.nanstd(election.votes[:, 0] / election.valid)
    simulated = np.mean([np.nanstd(s.votes[:, 0] / s.valid) for s in sims])
    assert abs(simulated - spread) < 0.2 * spread
    refit = fit_clean_model(sims[0])  # the dispersion estimator is consistent on its own model
    assert refit.share_icc == pytest.approx(model.share_icc, rel=0.35)


def test_aggregate_to_centres_sums_votes_and_electors():
    election = Election.from_arrays(
        [[1, 2], [3, 4], [5, 6]], ["A", "B"], electors=[10, 20, np.nan], centre=[7, 7, 8], parish=[1, 1, 1]
    )
    centres = aggregate(election, "centre")
    assert centres.votes.tolist() == [[4, 6], [5, 6]]
    assert centres.electors[0] == 30 and math.isnan(centres.electors[1])


# ---- the battery -------------------------------------------------------------------------------


def test_battery_json_has_the_issue_fields_and_is_reproducible():
    election = _synthetic(np.random.default_rng(8))
    kwargs = dict(
        electors=election.electors,
        centre=election.centre,
        parish=election.parish,
        reps=49,
        calibration_sims=1,
        seed=3,
    )
    first = run_battery(election.votes, election.candidates, **kwargs).to_dict()
    second = run_battery(election.votes, election.candidates, **kwargs).to_dict()
    fields = {"test", "candidate", "level", "n", "statistic", "expected", "p_value", "flag", "explanation"}
    assert first["tests"] and all(fields <= set(row) for row in first["tests"])
    assert first["correction"] == "holm"
    json.dumps(first)
    strip = [{k: v for k, v in row.items() if k != "explanation"} for row in first["tests"]]
    assert strip == [{k: v for k, v in row.items() if k != "explanation"} for row in second["tests"]]
    adjusted = holm([row["p_value"] for row in first["tests"]])
    assert [row["p_adjusted"] for row in first["tests"]] == pytest.approx(adjusted.tolist())
    for row in first["tests"]:  # a fingerprint flag also needs an estimate of at least 0.1 % of the mesas
        tiny = row["test"].startswith("fingerprint") and row["statistic"] < 0.001
        assert row["flag"] == (row["p_adjusted"] < 0.05 and not tiny)


def test_battery_flags_extreme_stuffing_and_not_the_clean_election():
    rng = np.random.default_rng(9)
    clean = _synthetic(rng, 2000)
    stuffed, _ = stuff(clean, 0, "extreme", 0.2, rng)
    kwargs = dict(reps=49, calibration_sims=0, seed=5)
    ran = {}
    for name, election in (("clean", clean), ("stuffed", stuffed)):
        result = run_battery(
            election.votes,
            election.candidates,
            electors=election.electors,
            centre=election.centre,
            parish=election.parish,
            **kwargs,
        )
        ran[name] = {(t.test, t.candidate): t for t in result.tests}
    assert ran["stuffed"][("fingerprint_extreme", "A")].flag
    assert not ran["clean"][("fingerprint_extreme", "A")].flag


# ---- messages ------------------------------------------------------------------------------------


def test_messages_go_through_the_project_gettext():
    from veedor.i18n import gettext

    message = messages.Message(messages.FLAGGED)
    assert message.translated(gettext, "en") == message.english()
    assert isinstance(message.translated(gettext, "es"), str)  # the Spanish catalog may not have it yet


def test_fingerprint_figure_when_matplotlib_is_installed():
    pytest.importorskip("matplotlib")
    figure = fingerprint_figure(np.ones((10, 10)), "test")
    assert figure.axes


def test_every_msgid_formats_with_named_placeholders_only():
    ids = all_msgids()
    assert len(ids) > 20 and len(set(ids)) == len(ids)
    for msgid in ids:
        fields = [f for _, f, _, _ in string.Formatter().parse(msgid) if f is not None]
        assert all(f and f.isidentifier() for f in fields), msgid
    assert set(messages.WHAT) == set(messages.LIMITS)


# ---- the real tables -----------------------------------------------------------------------------


def _direct_second_digit_mean(rows: list[dict[str, str]], column: str) -> float:
    digits = [int(r[column].strip()[1]) for r in rows if int(r[column]) >= 10]
    return sum(digits) / len(digits)


@pytest.mark.parametrize("name", ["RESULTADOS_2024_CSV_V1.csv", "RESULTADOS_2024_CSV_V2.csv"])
def test_2bl_of_each_candidate_equals_a_direct_computation_from_the_csv(name):
    rows = _rows(name)
    for column in CANDIDATES:
        counts = np.array([int(r[column]) for r in rows])
        if np.count_nonzero(counts >= 10) == 0:
            continue
        assert float(second_digit_mean(counts)) == pytest.approx(
            _direct_second_digit_mean(rows, column), abs=1e-12
        )


@pytest.mark.slow
def test_the_battery_2bl_on_v2_equals_the_direct_computation():
    rows = _rows("RESULTADOS_2024_CSV_V2.csv")
    votes = np.array([[int(r[c]) for c in CANDIDATES] for r in rows])
    centre = np.array([int(r["CENTRO"]) for r in rows])
    result = run_battery(votes, CANDIDATES, centre=centre, parish=centre // 1000, reps=19, calibration_sims=0)
    seen = [t for t in result.tests if t.test == "second_digit"]
    assert {t.candidate for t in seen} >= {"EG", "NM"}
    for t in seen:
        assert t.statistic == pytest.approx(_direct_second_digit_mean(rows, t.candidate), abs=1e-12)
