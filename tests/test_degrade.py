"""The degradation generator, run on the real actas (no generated files are committed)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from tests.conftest import ACTAS

from veedor.definitions import ElectionDefinition
from veedor.definitions.parsers import parse_payload
from veedor.read.qr import attempts
from veedor.simulate.degrade import FAMILIES, PARTS, Part, degrade, move_votes, qr_quad, tamper
from veedor.simulate.profiles import PROFILES, parse_mix, pick_chain

REAL = [
    "andres-sommariva-vzla-elections-2024/784821_007643_0134Acta0133.jpg",
    "nicorodriguezx-Venezuela2024/637933_329296_0476Acta0120.jpg",
]
# Families after which a real acta's QR must still read on the plain full-image path:
# if one of these stops reading, the generator got harsher than intended, or the reader
# regressed; both deserve a look.
READABLE = [
    "clean",
    "scan",
    "phone_full",
    "phone_bottom",
    "perspective",
    "rotate",
    "upside_down",
    "faded",
    "crumpled",
    "crease",
    "stain",
    "dark",
]


@pytest.fixture(scope="module")
def real() -> list[tuple[np.ndarray, str]]:
    truth = json.loads((ACTAS / "_ground_truth" / "qr_text_by_image.json").read_text())
    return [(cv2.imread(str(ACTAS / name), cv2.IMREAD_GRAYSCALE), truth[name]) for name in REAL]


def first_text(gray: np.ndarray) -> str | None:
    for decoded in attempts(gray):
        if decoded.texts:
            return decoded.texts[0]
    return None


def test_families_are_declared_and_known() -> None:
    assert len(FAMILIES) >= 16 and len(set(FAMILIES)) == len(FAMILIES)
    for needed in (
        "phone_full",
        "phone_bottom",
        "perspective",
        "rotate",
        "upside_down",
        "blur",
        "motion_blur",
        "faded",
        "crumpled",
        "crease",
        "stain",
        "finger_qr",
        "qr_cut",
        "low_res",
        "jpeg",
    ):
        assert needed in FAMILIES
    with pytest.raises(ValueError, match="unknown family"):
        degrade(np.zeros((10, 10), np.uint8), "nope", np.random.default_rng(0))


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_gives_a_deterministic_gray_image(family: str, real) -> None:
    gray = real[0][0]
    a = degrade(gray, family, np.random.default_rng(5))
    b = degrade(gray, family, np.random.default_rng(5))
    assert a.dtype == np.uint8 and a.ndim == 2 and min(a.shape) > 100
    assert np.array_equal(a, b)
    if family != "clean":
        assert a.shape != gray.shape or not np.array_equal(a, gray)


@pytest.mark.parametrize("family", READABLE)
def test_readable_families_keep_the_exact_payload(family: str, real) -> None:
    for index, (gray, text) in enumerate(real):
        out = degrade(gray, family, np.random.default_rng(index))
        assert first_text(out) == text, (family, index)


def test_phone_photos_change_geometry(real) -> None:
    gray = real[0][0]
    full = degrade(gray, "phone_full", np.random.default_rng(1))
    bottom = degrade(gray, "phone_bottom", np.random.default_rng(1))
    # a phone frame is ~3:4, not a 1:11 receipt
    assert 0.6 < full.shape[1] / full.shape[0] < 0.9
    assert 0.6 < bottom.shape[1] / bottom.shape[0] < 0.9


def test_qr_cut_really_cuts_the_qr(real) -> None:
    gray, _ = real[0]
    quad, _, _ = qr_quad(gray) or pytest.fail("the sample's QR must be found")
    for seed in range(3):
        out = degrade(gray, "qr_cut", np.random.default_rng(seed))
        assert (
            out.shape[0] < quad[:, 1].max()
            or out.shape[1] < quad[:, 0].max()
            or out.shape[1] < gray.shape[1] - quad[:, 0].min()
        )


def test_upside_down_is_upside_down(real) -> None:
    gray, _ = real[0]
    out = degrade(gray, "upside_down", np.random.default_rng(0))
    quad, _, _ = qr_quad(out) or pytest.fail("QR lost")
    assert quad[:, 1].mean() < out.shape[0] / 2  # the QR is now at the top


def test_move_votes_keeps_the_sum(definition: ElectionDefinition, real) -> None:
    text = real[0][1]
    forged = move_votes(text, definition, np.random.default_rng(0))
    a, b = parse_payload(text, definition), parse_payload(forged, definition)
    assert a.acta_id == b.acta_id and a.nulos == b.nulos
    assert sum(a.votes) == sum(b.votes) and a.votes != b.votes
    assert definition.totals_by_candidate(a.votes) != definition.totals_by_candidate(b.votes)


def test_tamper_pastes_a_readable_forged_qr(definition: ElectionDefinition, real) -> None:
    for index, (gray, text) in enumerate(real):
        out, forged = tamper(gray, definition, np.random.default_rng(index))
        assert forged != text
        assert first_text(out) == forged  # what a reader sees is the forgery
        assert out.shape == gray.shape


def test_tamper_without_qr_raises(definition: ElectionDefinition) -> None:
    with pytest.raises(ValueError, match="QR"):
        tamper(np.full((500, 400), 240, np.uint8), definition, np.random.default_rng(0))


def test_profiles_pick_known_chains() -> None:
    rng = np.random.default_rng(0)
    seen = {pick_chain("mixed", rng)[0] for _ in range(200)}
    assert seen == {"scanner", "phone", "bad-phone", "damaged"}
    only = {pick_chain("mixed", rng, parse_mix("damaged=1"))[0] for _ in range(20)}
    assert only == {"damaged"}
    for options in PROFILES.values():
        for _, chain in options:
            assert set(chain.split("+")) <= set(FAMILIES)
    with pytest.raises(ValueError):
        parse_mix("scanner=1,unknown=2")


def test_works_on_colour_input() -> None:
    path = Path(ACTAS / "nicorodriguezx-Venezuela2024" / "408106_191008_0364Acta0351.jpg")
    colour = cv2.imread(str(path), cv2.IMREAD_COLOR)
    out = degrade(colour, "blur", np.random.default_rng(0))
    assert out.ndim == 2


def test_the_generators_parts_share_no_parameter_and_each_spans_the_range() -> None:
    """Issue 25's protocol: rules tuned on one part of the parameters, reported on the other.
    A value drawn in both parts would leak the report into the tuning."""
    drawn = {}
    for part in PARTS:
        rng = Part(np.random.default_rng(7), part)
        sigmas = np.array([rng.uniform(1.2, 4.0) for _ in range(400)])
        lengths = {int(rng.integers(5, 22)) for _ in range(400)}
        stripes = set(np.floor((sigmas - 1.2) / (2.8 / Part.STRIPES)).astype(int))
        drawn[part] = (stripes, lengths, sigmas)
        assert sigmas.min() < 1.2 + 0.7 and sigmas.max() > 4.0 - 0.7  # mild to harsh in each part
        assert rng.uniform(-1, 1, (4, 2)).shape == (4, 2)
    assert drawn["tune"][0] == {0, 2, 4, 6} and drawn["held"][0] == {1, 3, 5, 7}
    assert drawn["tune"][1].isdisjoint(drawn["held"][1])
    assert drawn["tune"][1] | drawn["held"][1] == set(range(5, 22))
    with pytest.raises(ValueError, match="part must be"):
        Part(np.random.default_rng(0), "everything")


def test_a_part_is_deterministic_and_no_part_is_the_whole_range(real) -> None:
    gray = real[0][0]
    a = degrade(gray, "blur", np.random.default_rng(5), "held")
    b = degrade(gray, "blur", np.random.default_rng(5), "held")
    assert np.array_equal(a, b)
    assert not np.array_equal(a, degrade(gray, "blur", np.random.default_rng(5), "tune"))
    # Without a part, the images the earlier rounds (and tests with pinned seeds) used.
    whole = cv2.GaussianBlur(gray, (0, 0), float(np.random.default_rng(5).uniform(1.2, 4.0)))
    assert np.array_equal(degrade(gray, "blur", np.random.default_rng(5)), whole)
