"""Rendered actas: exact numbers in the QR, faithful spread, streaming output, drills."""

from __future__ import annotations

import csv
import itertools
import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from tests.conftest import V1, V2
from typer.testing import CliRunner

from veedor.definitions import ElectionDefinition
from veedor.definitions.parsers import parse_payload
from veedor.read.qr import attempts
from veedor.simulate.generate import SimOptions, simulate
from veedor.simulate.render import ActaRenderer, ActaSpec
from veedor.simulate.spread import spread_totals
from veedor.simulate.tables import read_table, with_synthetic_remainder


def read_qr_text(gray: np.ndarray) -> str | None:
    for decoded in attempts(gray):
        if decoded.texts:
            return decoded.texts[0]
    return None


@pytest.fixture(scope="module")
def renderer(definition: ElectionDefinition) -> ActaRenderer:
    return ActaRenderer(definition)


@pytest.fixture(scope="module")
def v1_specs(
    definition: ElectionDefinition,
    tmp_path_factory: pytest.TempPathFactory,
) -> list[ActaSpec]:
    # every 700th row: all states, big and small mesas, some with nulos
    with V1.open(encoding="utf-8-sig", newline="") as fh:
        lines = fh.read().splitlines()
    path = tmp_path_factory.mktemp("v1") / "sample.csv"
    path.write_text("\n".join([lines[0], *lines[1::700]]), encoding="utf-8")
    return list(read_table(path, definition))


def test_spread_keeps_every_candidate_total(definition: ElectionDefinition) -> None:
    totals = {
        "EG": 357,
        "NM": 114,
        "LM": 2,
        "JABE": 1,
        "JOBR": 0,
        "AE": 2,
        "CF": 2,
        "DC": 0,
        "EM": 0,
        "BERA": 3,
    }
    votes = spread_totals(totals, definition, "040202001.01")
    assert len(votes) == len(definition.ballot)
    assert definition.totals_by_candidate(votes) == totals
    assert all(v >= 0 for v in votes)
    assert votes == spread_totals(totals, definition, "040202001.01")  # deterministic
    assert votes != spread_totals(totals, definition, "040202001.02")  # per mesa


def test_spread_is_plausible_big_party_stays_big(definition: ElectionDefinition) -> None:
    # the definition's weights make PSUV carry most of NM's votes, as on real actas
    votes = spread_totals({"NM": 1000}, definition, "x")
    nm = [p.position for p in definition.ballot if p.candidate == "NM"]
    assert votes[nm[0]] == max(votes[i] for i in nm) and votes[nm[0]] > 400


def test_v1_rows_become_specs(definition: ElectionDefinition, v1_rows) -> None:
    first = next(read_table(V1, definition))
    row = v1_rows[(first.centre, first.mesa)]
    assert first.centre == row["CENTRO"].zfill(9) and len(first.centre) == 9
    assert sum(first.votes) == int(row["VOTOS_VALIDOS"])
    assert first.nulos == int(row["VOTOS_NULOS"]) and first.electors == int(row["RE"])
    assert first.places["state"] == row["EDO"] and first.spread


def test_v2_latin1_table_reads(definition: ElectionDefinition) -> None:
    specs = list(itertools.islice(read_table(V2, definition), 3))
    assert len(specs) == 3 and all(s.electors is None for s in specs)


def test_own_export_with_positions_is_not_spread(definition: ElectionDefinition, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    votes = list(range(38))
    path.write_text(f'centre,mesa,nulos,votes\n040202001,3,2,"{",".join(map(str, votes))}"\n')
    (spec,) = read_table(path, definition)
    assert spec.votes == tuple(votes) and not spec.spread and spec.mesa == 3 and spec.nulos == 2


def test_synthetic_remainder_fills_with_new_keys(definition: ElectionDefinition) -> None:
    real = list(itertools.islice(read_table(V1, definition), 30))
    filled = list(with_synthetic_remainder(iter(real), 45, definition))
    assert len(filled) == 45
    keys = [(s.centre, s.mesa) for s in filled]
    assert len(set(keys)) == 45
    assert {s.centre for s in filled[30:]} <= {s.centre for s in real}


def test_payload_follows_the_definition_grammar(
    renderer: ActaRenderer, v1_specs: list[ActaSpec], definition: ElectionDefinition
) -> None:
    spec = v1_specs[0]
    payload = renderer.payload(spec)
    acta_id, votes, nulos, blank = payload.split("!")
    assert re.match(definition.payload["acta_id_pattern"], acta_id)
    assert acta_id == f"{spec.centre}.{spec.mesa:02d}.1.0001"
    assert [int(v) for v in votes.split(",")] == list(spec.votes)
    assert (int(nulos), blank) == (spec.nulos, "0")


def test_rendered_actas_read_back_with_exact_numbers(
    renderer: ActaRenderer, v1_specs: list[ActaSpec], definition: ElectionDefinition
) -> None:
    assert len(v1_specs) >= 25
    for i, spec in enumerate(v1_specs):
        rendered = renderer.render(spec, np.random.default_rng(i))
        gray = rendered.gray
        assert gray.dtype == np.uint8 and gray.ndim == 2
        assert 620 <= gray.shape[1] <= 660 and 6000 <= gray.shape[0] <= 7600
        _, y, w, _ = rendered.qr_box
        assert 420 <= w <= 470 and y > gray.shape[0] - 900  # at the bottom, ~450 px
        text = read_qr_text(gray)
        assert text == rendered.payload, spec
        acta = parse_payload(text, definition)
        assert (acta.centre, acta.mesa) == (spec.centre, spec.mesa)
        assert acta.votes == spec.votes and acta.nulos == spec.nulos


def test_qr_is_level_q(renderer: ActaRenderer, v1_specs: list[ActaSpec]) -> None:
    import zxingcpp

    gray = renderer.render(v1_specs[1], np.random.default_rng(0)).gray
    (result,) = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)
    assert result.ec_level == "Q"


def test_simulate_streams_images_truth_and_manifest(v1_specs: list[ActaSpec], tmp_path: Path) -> None:
    opts = SimOptions(out=str(tmp_path / "a"), profile="mixed", seed=3, tamper_rate=0.5)
    summary = simulate(v1_specs[:6], opts, workers=1)
    assert summary.count == 6 and summary.errors == 0
    with (tmp_path / "a" / "manifest.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 6
    for row in rows:
        truth = json.loads((tmp_path / "a" / row["truth"]).read_text())
        assert (tmp_path / "a" / row["file"]).stat().st_size > 10_000
        assert truth["acta_id"] == row["acta_id"] and len(truth["votes"]) == 38
        if truth["tampered"]:
            assert truth["tampered_payload"] != truth["payload"]
    meta = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert meta["summary"]["count"] == 6
    # same seed, same images: a drill can be re-run
    simulate(
        v1_specs[:1], SimOptions(out=str(tmp_path / "b"), profile="mixed", seed=3, tamper_rate=0.5), workers=1
    )
    name = f"000000_{v1_specs[0].centre}_{v1_specs[0].mesa:02d}.jpg"
    assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_simulate_cli(tmp_path: Path) -> None:
    from veedor.cli import app

    result = CliRunner().invoke(
        app, ["simulate", "--results", str(V1), "--count", "2", "--out", str(tmp_path), "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    images = sorted(tmp_path.glob("*.jpg"))
    assert len(images) == 2
    gray = cv2.imread(str(images[0]), cv2.IMREAD_GRAYSCALE)
    truth = json.loads(images[0].with_suffix(".json").read_text())
    assert read_qr_text(gray) == truth["payload"]


def test_drill_tally_equals_source(definition: ElectionDefinition, tmp_path: Path) -> None:
    from veedor.simulate.drill import run_drill

    specs = list(itertools.islice(read_table(V1, definition), 8))
    report = run_drill(specs, tmp_path, workers=1, batch=5)
    assert report.mesas == 8 and report.by_status["ok"] == 8
    assert report.mismatches == [] and report.tally_equal and report.passed
    expected = dict.fromkeys(definition.candidate_codes, 0)
    for spec in specs:
        for code, value in definition.totals_by_candidate(spec.votes).items():
            expected[code] += value
    assert report.tally_totals == expected
    assert not list((tmp_path / "images").glob("*/*.jpg"))  # images deleted per batch


def test_print_reader_reads_rendered_actas(
    renderer: ActaRenderer, v1_specs: list[ActaSpec], definition: ElectionDefinition
) -> None:
    """The printed numbers (digits and words) are readable too: the renderer is a fair
    stand-in for real actas for the print reader, not only for the QR."""
    print_reader = pytest.importorskip("veedor.read.print")
    from veedor.simulate.degrade import degrade

    for i, spec in enumerate(v1_specs[3:4]):
        gray = renderer.render(spec, np.random.default_rng(i)).gray
        gray = degrade(gray, "scan", np.random.default_rng(i))
        reading = print_reader.read_print(gray, definition)
        assert reading is not None and reading.acta is not None
        assert reading.acta.votes == spec.votes and reading.acta.nulos == spec.nulos
        assert reading.electors == spec.electors


def test_drill_cli_reports_and_exits_zero(tmp_path: Path) -> None:
    from veedor.cli import app

    result = CliRunner().invoke(
        app, ["drill", "--results", str(V1), "--mesas", "3", "--out", str(tmp_path), "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "drill-report.json").read_text())
    assert report["passed"] and report["by_status"]["ok"] == 3 and report["mismatch_count"] == 0


def _hold_memory(megabytes: int) -> int:
    block = np.ones(megabytes * 1024 * 1024 // 8)
    return int(block.size)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_the_drill_sees_the_memory_of_readers_that_are_not_its_children() -> None:
    """The scan's readers are children of a forkserver: getrusage reported 0 MB for them."""
    import multiprocessing
    import time
    from concurrent.futures import ProcessPoolExecutor

    from veedor.simulate.drill import DescendantsPeak

    with DescendantsPeak(every=0.05) as peak:
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            pool.submit(_hold_memory, 300).result()
            pool.submit(time.sleep, 0.3).result()  # the watcher looks meanwhile
    assert peak.mb >= 300
