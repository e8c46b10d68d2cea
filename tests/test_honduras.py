"""Honduras 2025: a second country with no code of its own, only its definition
(``hn-2025-presidential``): the six real actas de cierre (handwritten in boxes, a QR with the id
only), the authority's per-JRV table, people settling each acta blind, the tally and the
comparison with the authority, JRV by JRV. The data: samples/honduras/README.md."""

from __future__ import annotations

import io
import itertools
import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from veedor.definitions import load_definition
from veedor.ingest.official import import_official
from veedor.ingest.registry import import_registry
from veedor.pipeline.scan import scan_paths
from veedor.read.form.reader import place
from veedor.read.readers import get_reader
from veedor.store.accounts import add_user
from veedor.tally import tally
from veedor.tally.compare import compare

HONDURAS = Path(__file__).resolve().parents[1] / "samples" / "honduras"
OFFICIAL = HONDURAS / "official" / "cne_per_jrv_party_votes_el_negrito.csv"
PARTIES = ("DC", "LIBRE", "PINU", "PLH", "PNH")


@pytest.fixture(scope="module")
def hn():
    return load_definition("hn-2025-presidential")


@pytest.fixture(scope="module")
def truth() -> dict[str, dict]:
    lines = (HONDURAS / "truth.jsonl").read_text(encoding="utf-8").splitlines()
    return {row["file"]: row for row in map(json.loads, lines)}


def typed(row: dict) -> dict:
    """What a reviewer types for an acta: the values read off the sheet by eye (truth.jsonl)."""
    t = row["truth"]
    return {"votes": [t[p] for p in PARTIES], "nulos": t["nulos"], "blank": t["blanco"]}


def test_definition_describes_the_form(hn):
    assert hn.candidate_codes == PARTIES and not hn.qr_counts
    assert get_reader(hn.reader["name"]).name == "boxed-form"
    assert hn.unit_names["18"] == "YORO" and hn.unit_names["1803"] == "EL NEGRITO"
    form = hn.form
    assert form is not None and form.digits == 3 and form.digit_words[7] == "siete"
    assert {f.entry_name for f in form.fields} >= {"v0", "v1", "v2", "v3", "v4", "nulos", "blank"}


def _balance(path: Path) -> dict[str, int]:
    """The per-field transcription of one acta (every shape it comes in), in the form's keys."""
    values: list[int] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            text = node.get("digitos") or node.get("numeros") or node.get("en_numeros")
            if isinstance(text, str):
                values.append(int(text))
                return
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(path.read_text(encoding="utf-8")))
    keys = ("ballots_received", "ballots_unused", "ballots_used", "voters_book", "voters_members")
    keys += ("voters_custodians", "voters_total", *PARTIES, "blank", "nulos", "total")
    assert len(values) == len(keys), path.name
    return dict(zip(keys, values, strict=True))


@pytest.mark.parametrize(("jrv", "holds"), [(18108, True), (18106, True), (18118, True), (18129, False)])
def test_form_sums(hn, jrv, holds):
    """The sums the definition says must hold do hold on the sheets transcribed right, and catch
    the automated transcription of 18129 (DC 6 and blank 62 for 0 and 2: 156 ≠ their sum)."""
    values = _balance(HONDURAS / "transcriptions" / f"{jrv}.json")
    failed = hn.form.failed_sums(values)
    assert (not failed) is holds, failed
    if not holds:
        assert failed == ["grand_total"]


def test_every_box_placed(hn, truth):
    """Straightened by its corner marks, every box of every sheet is placed on the image, in the
    form's order (section I above section II, each count's row below the previous one), and no
    count's crop reaches the officers' names and signatures below the results."""
    for name in truth:
        gray = cv2.imread(str(HONDURAS / "actas" / name), cv2.IMREAD_GRAYSCALE)
        placed = place(gray, hn.form)
        assert placed is not None, name
        marks, boxes = placed
        assert {"tl", "tr"} <= set(marks.centres)
        results = [boxes[k] for k in (*PARTIES, "blank", "nulos", "total")]
        assert all(a.y1 <= b.y0 + 2 for a, b in itertools.pairwise(results)), name
        assert boxes["voters_total"].y1 < boxes["DC"].y0
        h = gray.shape[0]
        assert boxes["total"].y1 < 0.72 * h  # the signatures start below the grand total
        _, entry = get_reader("boxed-form").boxes(gray, hn)
        assert set(entry) == {"v0", "v1", "v2", "v3", "v4", "nulos", "blank"}


@pytest.fixture(scope="module")
def flow(tmp_path_factory, hn):
    from veedor.store import open_store

    tmp = tmp_path_factory.mktemp("honduras")
    store = open_store(str(tmp / "hn.db"))
    with store.session() as session:
        registry = import_registry(session, OFFICIAL, hn)
        official = import_official(session, OFFICIAL, hn, key="cne-jrv")
        session.commit()
    report = io.StringIO()
    summary = scan_paths(
        sorted((HONDURAS / "actas").glob("*.png")),
        store,
        definition_id=hn.id,
        evidence_root=tmp / "evidence",
        workers=2,
        report=report,
    )
    lines = {Path(r["file"]).name: r for r in map(json.loads, report.getvalue().splitlines())}
    return store, registry, official, summary, lines, tmp / "evidence"


def test_registry_and_official_from_the_authoritys_table(flow):
    _, registry, official, _, _, _ = flow
    assert (registry.kind, registry.rows, registry.errors) == ("mesas", 97, [])
    # 12 rows of the slice are all zeros: "not published yet", no figure at all.
    assert (official.units, official.unpublished, official.errors) == (85, 12, [])


def test_scan_files_each_acta_under_its_jrv(flow, truth):
    """Each real acta is filed under the JRV its QR names, with its acta id; none is counted
    without people, none rejected."""
    _, _, _, _, lines, _ = flow
    assert set(lines) == set(truth)
    for name, row in truth.items():
        line = lines[name]
        assert line["status"] == "review" and line["grade"] == "partial", line
        assert line["acta_id"] == row["qr_text"]
        assert (line["mesa"]["centro"], line["mesa"]["mesa"]) == ("1803", row["jrv"])
        assert "handwritten" in line["reason"]


def _desk_client(app):
    from fastapi.testclient import TestClient

    return TestClient(app, base_url="http://testserver", follow_redirects=False)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:300]
    return found.group(1)


def _settle_at_the_desk(app, name: str, by_jrv: dict[int, dict]) -> None:
    """One reviewer takes every acta in turn, sees each count's crop beside its field, and types
    the numbers read off the sheet, blind."""
    browser = _desk_client(app)
    token = _csrf(browser.get("/login").text)
    done = browser.post("/login", data={"name": name, "password": "secret-" + name, "csrf": token})
    assert done.status_code == 303, done.text
    token = _csrf(browser.get("/").text)
    done = browser.post("/take", data={"csrf": token})
    for _ in by_jrv:
        assert done.status_code == 303 and done.headers["location"].startswith("/mesa/1803."), done.headers
        code = done.headers["location"].removeprefix("/mesa/")
        page = browser.get(f"/mesa/{code}").text
        (sha,) = set(re.findall(r'src="/image/([0-9a-f]{64})"', page))
        # Every count's box, cut from the sheet (no count was read: every line is to look at).
        for crop in [f"/crop/{sha}/{n}" for n in range(1, 6)] + [
            f"/crop/{sha}/count/{k}" for k in ("nulos", "blank")
        ]:
            assert crop in page, crop
            served = browser.get(crop)
            assert served.headers["content-type"] == "image/jpeg", crop
        row = by_jrv[int(code.split(".")[1])]
        values = typed(row)
        fields = {f"v{i}": str(n) for i, n in enumerate(values["votes"])}
        done = browser.post(
            f"/mesa/{code}",
            data={**fields, "nulos": str(values["nulos"]), "blank": str(values["blank"]), "csrf": token},
        )
    assert done.headers["location"] == "/"  # nothing left for this reviewer


def test_people_settle_tally_and_compare(flow, hn, truth):
    """Two reviewers settle each acta at the review desk, blind, each count's crop beside its
    field; the agreed numbers are counted, the tally is their sum, and the comparison with the
    authority lists every difference with its evidence."""
    from veedor.web import create_app

    store = flow[0]
    with store.session() as session:
        for name in ("ana", "ben"):
            add_user(session, name, "reviewer", "secret-" + name)
        session.commit()
    app = create_app(store, hn, flow[5], "test-secret-" + "x" * 32)
    by_jrv = {row["jrv"]: row for row in truth.values()}
    _settle_at_the_desk(app, "ana", by_jrv)
    with store.session() as session:
        assert tally(session, hn, "municipality").rows == []  # one entry each: nothing settled yet
    _settle_at_the_desk(app, "ben", by_jrv)
    with store.session() as session:
        result = tally(session, hn, "municipality")
        (unit,) = result.rows
        assert (unit.code, unit.name, unit.actas) == ("1803", "EL NEGRITO", 6)
        assert unit.votes == {p: sum(r["truth"][p] for r in truth.values()) for p in PARTIES}
        assert unit.nulos == sum(r["truth"]["nulos"] for r in truth.values())
        comparison = compare(session, hn, "cne-jrv", "scan", "mesa")
    # Per JRV and party: the evidence lists every figure where the verified count and the
    # authority's differ or one of them is missing.
    rows = {
        (r["mesa"], r["candidate"]): r
        for r in comparison.evidence.iter_rows(named=True)
        if r["candidate"] in PARTIES and r["mesa"] in {t["jrv"] for t in truth.values()}
    }
    for row in truth.values():
        published = row["cne_digital_party_votes"]
        for party in PARTIES:
            listed = rows.get((row["jrv"], party))
            if published is None:  # 18108: not yet published when the table was scraped
                assert listed is not None and listed["official"] is None
                assert listed["verified"] == row["truth"][party]
                assert listed["evidence"]  # the image behind the verified figure
            else:  # the five published JRVs agree with the authority, party by party
                assert published[party] == row["truth"][party]
                assert listed is None or listed["difference"] == 0, listed


def test_the_public_never_sees_the_officers_names(hn, truth, tmp_path):
    """What the public site (and its static copy) shows of a sheet: everything from the top of
    the officers' block down is painted white; a sheet whose marks cannot place that block is not
    shown at all."""
    from veedor.web.images import public_jpeg

    for name in truth:
        path = HONDURAS / "actas" / name
        shown = cv2.imdecode(np.frombuffer(public_jpeg(path, hn) or b"", np.uint8), cv2.IMREAD_GRAYSCALE)
        gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        _, boxes = place(gray, hn.form)
        below = shown[boxes["total"].y1 + 40 :]
        assert below.size and below.min() >= 235, name  # white, give or take JPEG ringing
        assert shown[: boxes["total"].y1].min() < 100  # the results themselves are shown
    cut = cv2.imread(str(HONDURAS / "actas" / "EjemploActa4.png"))[80:]  # its top marks cut off
    cv2.imwrite(str(tmp_path / "cut.png"), cut)
    assert public_jpeg(tmp_path / "cut.png", hn) is None


def test_a_form_without_its_qr_names_no_mesa(hn):
    """Without the QR (torn off, unreadable) the form is still placed, but names no mesa: its copy
    goes to people as a sheet to identify, never under a guessed JRV. Noise is no form at all."""
    from veedor.verify.checks import RegistryView
    from veedor.verify.decide import judge
    from veedor.verify.grade import grade_copy

    reader = get_reader("boxed-form")
    gray = cv2.imread(str(HONDURAS / "actas" / "EjemploActa4.png"), cv2.IMREAD_GRAYSCALE)
    printed, reading = reader.read(gray, hn, None, None, True)
    assert printed is not None and printed.acta is None and not printed.agrees
    assert {c.name: c.passed for c in printed.checks} == {
        "form_found": True,
        "print_header": False,
        "handwritten_counts": False,
    }
    verdict = judge(None, (), printed, hn, RegistryView())
    assert verdict.status.value == "review" and grade_copy(verdict, printed) is None
    assert reading is not None and '"boxes"' in (reading.text or "")
    noise = np.random.default_rng(0).integers(0, 256, gray.shape, dtype=np.uint8)
    assert reader.read(noise, hn, None, None, True)[0] is None


def test_the_qrs_jrv_is_checked_against_the_registry(hn):
    """A code naming a JRV the registry does not list under that municipality is said so in the
    reason people see; the JRVs of the registry pass."""
    from veedor.definitions.parsers import parse_payload
    from veedor.verify.checks import RegistryView
    from veedor.verify.decide import judge

    registry = RegistryView(centres=frozenset({"1803"}), mesas=frozenset({("1803", 18108)}))
    gray = cv2.imread(str(HONDURAS / "actas" / "EjemploActa1.png"), cv2.IMREAD_GRAYSCALE)
    for text, known in (("1803181080041000", True), ("1803000010041000", False)):
        identity = parse_payload(text, hn)
        printed, _ = get_reader("boxed-form").read(gray, hn, None, identity, True)
        verdict = judge(None, (), printed, hn, registry, identity=identity)
        checks = {c.name: c.passed for c in verdict.checks}
        assert checks["mesa_in_registry"] is known and checks["centre_in_registry"]
        assert verdict.status.value == "review"
        assert ("not found in the registry" in (verdict.reason or "")) is not known


def test_a_qr_from_another_acta_files_nothing(hn, truth):
    """The form prints its JRV in type: read, it must be the QR's. Every real sheet agrees; the
    QR of another acta on a sheet is said so, and the copy is filed under no JRV (people identify
    it) rather than under the pasted code's."""
    from veedor.definitions.parsers import parse_payload
    from veedor.verify.checks import RegistryView
    from veedor.verify.decide import judge
    from veedor.verify.grade import grade_copy

    reader = get_reader("boxed-form")
    for row in truth.values():
        gray = cv2.imread(str(HONDURAS / "actas" / row["file"]), cv2.IMREAD_GRAYSCALE)
        own = parse_payload(row["qr_text"], hn)
        printed, _ = reader.read(gray, hn, None, own, True)
        header = next(c for c in printed.checks if c.name == "print_header")
        assert header.passed and str(row["jrv"]) in header.detail, header
    other = parse_payload("1803181290041000", hn)  # 18129's QR on 18108's sheet
    gray = cv2.imread(str(HONDURAS / "actas" / "EjemploActa1.png"), cv2.IMREAD_GRAYSCALE)
    printed, _ = reader.read(gray, hn, None, other, True)
    header = next(c for c in printed.checks if c.name == "print_header")
    assert not header.passed and "18108" in header.detail and "18129" in header.detail
    verdict = judge(None, (), printed, hn, RegistryView(), identity=other)
    assert grade_copy(verdict, printed) is None
