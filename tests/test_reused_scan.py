"""A scan looks for photos passed off as another mesa's: a real acta's photo carrying another
acta's QR (pasted on) is found to be the same picture as the real acta it was made from, in
the same batch or a later scan; both mesas carry a ``reused_photo`` alert, the copy whose QR
looks pasted waits for a person and the original keeps its count; the search, its record and
the mesas' states agree with ``veedor check`` and ``veedor verify``'s rule. Different real
actas are never matched."""

from __future__ import annotations

import io
import itertools

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from conftest import ACTAS
from veedor.model import ActaState, Grade
from veedor.pipeline.scan import scan_paths
from veedor.read import forensics as fx
from veedor.simulate import tamper
from veedor.store.consistency import check_consistency
from veedor.store.schema import ActaRecord, LogEntry, PictureKey, PictureMatch
from veedor.verify.mesa import ALERT_REUSED, Reused, SeenCopy, decide_mesa

TARGET, DONOR = "784821_489421_0129Acta0128.jpg", "408106_191008_0364Acta0351.jpg"


def load(name: str) -> np.ndarray:
    return np.asarray(cv2.imread(str(next(ACTAS.glob(f"*/{name}"))), cv2.IMREAD_GRAYSCALE))


def forged(definition, *, detectable: bool) -> np.ndarray:
    """TARGET's photo with DONOR's QR pasted on: one the pasted-QR check sees, or one it misses
    (among those whose sheet key the search retrieves: docs/image-forensics.md measures how
    many it does not)."""
    target, donor = tamper.sheet(load(TARGET)), tamper.sheet(load(DONOR))
    assert target is not None and donor is not None
    key = fx.sheet_key(target.gray, target.quad)
    for split, seed in itertools.product((tamper.TUNING, tamper.HELD_BACK), range(20)):
        image, _kind = tamper.paste_qr(target, donor, split, np.random.default_rng([11, seed]), definition)
        located = tamper.sheet(image)
        if (
            located is not None
            and located.text == donor.text
            and fx.pasted_qr(located.gray, located.quad).suspicious == detectable
            and fx.hamming(key, fx.sheet_key(located.gray, located.quad)) <= fx.SHEET_KEY_NEAR
        ):
            return image
    pytest.skip("no such paste among the seeds tried")


def alerts(store) -> dict[tuple[str, int], tuple[str, list[str]]]:
    with store.session() as session:
        return {
            (r.centre, r.mesa): (r.status, sorted(a["kind"] for a in r.alerts or []))
            for r in session.scalars(select(ActaRecord))
        }


def test_a_reused_photo_with_a_pasted_qr_is_found_and_the_original_keeps_its_count(
    store, definition, tmp_path
):
    folder = tmp_path / "in"
    folder.mkdir()
    cv2.imwrite(str(folder / "genuine.png"), load(TARGET))
    scan_paths([folder], store, evidence_root=tmp_path / "ev", workers=1, report=io.StringIO())
    before = alerts(store)
    assert [state for state, _ in before.values()] == ["ok"]
    later = tmp_path / "later"
    later.mkdir()
    cv2.imwrite(str(later / "forged.jpg"), forged(definition, detectable=True))
    report = io.StringIO()
    scan_paths([later], store, evidence_root=tmp_path / "ev", workers=1, report=report)
    after = alerts(store)
    (original,) = before
    (other,) = set(after) - {original}
    assert after[original] == ("ok", [ALERT_REUSED])  # counted still, with the alert
    assert after[other][0] != "ok" and ALERT_REUSED in after[other][1]
    assert '"reused_photo"' in report.getvalue()  # the report's mesa shows it
    with store.session() as session:
        (match,) = session.scalars(select(PictureMatch))
        assert match.score >= fx.SAME_THRESHOLD and match.original == match.other_sha256
        assert session.scalar(select(LogEntry).where(LogEntry.kind == "picture")) is not None
        assert len(session.scalars(select(PictureKey)).all()) == 2
        consistency = check_consistency(session, tmp_path / "ev")
        assert consistency.ok, consistency.problems


def test_an_undetected_paste_holds_both_mesas_for_a_person_in_one_batch(store, definition, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    cv2.imwrite(str(folder / "genuine.png"), load(TARGET))
    cv2.imwrite(str(folder / "forged.jpg"), forged(definition, detectable=False))
    scan_paths([folder], store, evidence_root=tmp_path / "ev", workers=1, report=io.StringIO())
    found = alerts(store)
    assert len(found) == 2
    # Neither is counted: the pixels cannot tell which QR is the sheet's own (the forged copy's
    # print also contradicts its QR: a second alert on its mesa).
    assert all(state == "review" and ALERT_REUSED in kinds for state, kinds in found.values()), found


def test_different_real_actas_are_never_matched(store, tmp_path):
    names = sorted(p.name for p in ACTAS.glob("*/*.jpg"))[:8]
    folder = tmp_path / "in"
    folder.mkdir()
    for name in names:
        cv2.imwrite(str(folder / name), load(name))
    scan_paths([folder], store, evidence_root=tmp_path / "ev", workers=1, report=io.StringIO())
    with store.session() as session:
        assert session.scalars(select(PictureKey)).all()
        assert session.scalars(select(PictureMatch)).all() == []
    assert not any(ALERT_REUSED in kinds for _, kinds in alerts(store).values())


def copy(sha: str, reused: Reused | None = None) -> SeenCopy:
    return SeenCopy(sha, Grade.CONFIRMED, (10, 20), 1, reused=reused)


def test_the_rule_holds_a_reused_copy_and_never_changes_numbers():
    assert decide_mesa([copy("a")]).state is ActaState.OK
    held = decide_mesa([copy("a", Reused("b"))])
    assert held.state is ActaState.REVIEW and held.numbers is None
    assert [a.kind for a in held.alerts] == [ALERT_REUSED] and held.audit == ("a",)
    kept = decide_mesa([copy("a", Reused("b", original=True))])
    assert kept.state is ActaState.OK and kept.numbers == ((10, 20), 1, ())
    assert [a.kind for a in kept.alerts] == [ALERT_REUSED]
