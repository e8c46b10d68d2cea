"""The public Python API (``import veedor``) and plug-ins registered through entry points."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

import veedor
from veedor import plugins
from veedor.definitions import parsers
from veedor.definitions.schema import BUNDLED_DIR, parse_definition
from veedor.model import ActaCounts, CheckResult
from veedor.read import readers
from veedor.verify import checks

ROOT = Path(__file__).resolve().parents[1]
ACTAS = Path("/work/shared/data/actas")


def test_import_veedor_loads_nothing_else() -> None:
    code = "import sys, veedor; print(sorted(m for m in sys.modules if m.startswith(('veedor.', 'cv2', 'polars', 'sqlalchemy'))))"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_every_public_name_resolves_to_the_library_function() -> None:
    from veedor.pipeline.scan import scan_paths
    from veedor.publish.export import export
    from veedor.tally import tally
    from veedor.verify.decide import judge

    for name in veedor.__all__:
        assert getattr(veedor, name) is not None, name
    assert veedor.scan is scan_paths and veedor.tally_votes is tally
    assert veedor.judge is judge and veedor.export is export
    assert veedor.load_definition("ve-2024-presidential").id == "ve-2024-presidential"
    with pytest.raises(AttributeError):
        _ = veedor.no_such_thing  # type: ignore[attr-defined]


def test_read_acta_then_judge_one_real_acta(definition) -> None:
    image = next(iter(sorted(ACTAS.rglob("*.jpg"))), None)
    if image is None:
        pytest.skip("no real acta image here")
    reading = veedor.read_acta(image, definition, cross_check=False)
    verdict = veedor.judge(
        reading.claim,
        reading.qr.problems,
        reading.printed,
        definition,
        veedor.RegistryView(),
        cross_check=False,
    )
    assert reading.qr.readings  # every attempt kept
    assert verdict.status.value in ("ok", "review", "rejected")
    if reading.claim is not None:
        assert verdict.acta == reading.claim


def test_read_acta_refuses_what_is_not_an_image(definition) -> None:
    from veedor.capture.images import ImageRejected

    with pytest.raises(ImageRejected):
        veedor.read_acta(b"not an image at all", definition)


PLUGIN = """
from veedor.model import ActaCounts, CheckResult
from veedor.read.readers import SheetReader


def parse(text, definition):
    centre, mesa = text.split("/")
    return ActaCounts(acta_id=text, centre=centre, mesa=int(mesa), votes=(), nulos=0)


def check(acta, definition, registry):
    return CheckResult("plugin_says_hello", True, "hola / hello")


READER = SheetReader("plugin-sheet", lambda *a: (None, None), lambda *a: {})
"""


@pytest.fixture
def fake_plugins(tmp_path, monkeypatch):
    """A package declaring one reader, one parser and one check (and one broken entry point)."""
    (tmp_path / "veedor_fake_plugin.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    points = {
        "veedor.parsers": [EntryPoint("slash-payload", "veedor_fake_plugin:parse", "veedor.parsers")],
        "veedor.checks": [
            EntryPoint("plugin_says_hello", "veedor_fake_plugin:check", "veedor.checks"),
            EntryPoint("broken", "veedor_fake_plugin:no_such_name", "veedor.checks"),
        ],
        "veedor.readers": [EntryPoint("plugin-sheet", "veedor_fake_plugin:READER", "veedor.readers")],
    }
    monkeypatch.setattr(plugins, "entry_points", lambda group: points.get(group, []))
    monkeypatch.setattr(parsers, "_PARSERS", dict(parsers._PARSERS))
    monkeypatch.setattr(checks, "KNOWN_CHECKS", dict(checks.KNOWN_CHECKS))
    monkeypatch.setattr(readers, "_REGISTERED", dict(readers._REGISTERED))
    plugins.plugins.cache_clear()
    yield
    plugins.plugins.cache_clear()


def test_entry_points_add_a_reader_a_parser_and_a_check(fake_plugins) -> None:
    parser = parsers.get_parser("slash-payload")
    assert parser("123/4", None).mesa == 4  # type: ignore[arg-type]
    assert "plugin-sheet" in readers.known_readers()
    assert readers.get_reader("plugin-sheet").name == "plugin-sheet"
    raw = json.loads((BUNDLED_DIR / "ve-2024-presidential.json").read_text(encoding="utf-8"))
    raw["checks"] = [*raw["checks"], "plugin_says_hello"]
    with pytest.warns(UserWarning, match="broken"):  # a broken plug-in costs itself only
        definition = parse_definition(raw)  # a definition may name the plug-in's check
    acta = ActaCounts(
        acta_id="010101001.01", centre="010101001", mesa=1, votes=(0,) * len(definition.ballot), nulos=0
    )
    results = checks.run_checks(acta, definition, checks.RegistryView())
    assert CheckResult("plugin_says_hello", True, "hola / hello") in results


def test_without_the_plugin_its_names_stay_unknown(monkeypatch) -> None:
    monkeypatch.setattr(plugins, "entry_points", lambda group: [])
    plugins.plugins.cache_clear()
    try:
        with pytest.raises(KeyError, match="slash-payload"):
            parsers.get_parser("slash-payload")
        assert "plugin-sheet" not in readers.known_readers()
    finally:
        plugins.plugins.cache_clear()
