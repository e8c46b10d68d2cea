"""One language at a time: Spanish by default, English by --lang or the locale, help texts
included; machine-readable output the same in both; the catalogs hold every message."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
import typer.main
from babel.messages.pofile import read_po
from typer.testing import CliRunner

from conftest import V1
from veedor import i18n
from veedor.cli import app, as_msgid

CLI = Path(__file__).resolve().parents[1] / "src" / "veedor" / "cli"
LOCALE_VARS = ("VEEDOR_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def run(*args: str, env: dict[str, str] | None = None):
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, " ".join(result.output.split())


@pytest.fixture
def no_locale(monkeypatch):
    for name in LOCALE_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def v1_db(tmp_path_factory) -> str:
    db = str(tmp_path_factory.mktemp("lang") / "v.db")
    assert CliRunner().invoke(app, ["import-results", str(V1), "--db", db]).exit_code == 0
    return db


def test_spanish_by_default_english_by_option_or_locale(no_locale, tmp_path):
    missing = str(tmp_path / "typo.db")
    code, said = run("tally", "--db", missing)
    assert code == 2 and "no hay base de datos" in said and "Qué hacer:" in said
    assert "no database" not in said  # one language: never the English beside it
    code, said = run("--lang", "en", "tally", "--db", missing)
    assert code == 2 and "no database at" in said and "What to do:" in said and "no hay" not in said
    assert "no database at" in run("tally", "--db", missing, env={"LANG": "en_US.UTF-8"})[1]
    assert "no hay base de datos" in run("tally", "--db", missing, env={"LANG": "C.UTF-8"})[1]
    # --lang wins over the locale
    assert "no hay base de datos" in run("--lang", "es", "tally", "--db", missing, env={"LANG": "en_GB"})[1]


def test_help_is_in_the_chosen_language(no_locale):
    _, spanish = run("--help")
    assert "Opciones" in spanish and "verifique una elección" in spanish and "Códigos de salida" in spanish
    _, english = run("--lang", "en", "scan", "--help")
    assert "Read actas from images" in english and "--all-files" in english and "Exit codes" in english
    assert "Lee actas" not in english
    _, spanish_scan = run("scan", "--help")
    assert "Lee actas de imágenes" in spanish_scan and "Read actas from images" not in spanish_scan


def test_importer_messages_read_as_sentences_in_one_language(no_locale, tmp_path):
    db = str(tmp_path / "v.db")
    code, said = run("--lang", "en", "import-results", str(V1), "--db", db)
    assert code == 0 and "24,532 actas imported as table 1" in said
    assert "veedor tally --source table:1" in said and "<nombre>" not in said and " / " not in said
    code, said = run("import-results", str(V1), "--db", db)
    assert code == 0 and "ya estaba importada como tabla 1" in said and "imported" not in said


def test_machine_readable_output_is_the_same_in_both_languages(no_locale, v1_db):
    def out(lang: str, *args: str) -> str:
        return CliRunner().invoke(app, ["--lang", lang, *args, "--db", v1_db]).stdout

    for args in (
        ("tally", "--source", "table:1", "--level", "state", "--format", "json"),
        ("tally", "--source", "table:1", "--format", "csv"),
    ):
        assert out("es", *args) == out("en", *args)
    data = json.loads(out("es", "tally", "--source", "table:1", "--format", "json"))
    assert {"level", "rows", "candidates", "coverage_notes"} <= set(data)


def test_library_messages_keep_their_data_in_english():
    said = i18n.one_language("EG: '[bold]x' no es un entero ≥ 0 / not a non-negative integer", "en")
    assert said.startswith("EG: not a non-negative integer") and "'[bold]x'" in said
    assert i18n.one_language("5 entradas / entries", "en") == "entries (5)"
    assert i18n.one_language("5 entradas / entries", "es") == "5 entradas"


def test_locale_detection():
    assert i18n.from_locale({"LANG": "en_US.UTF-8"}) == "en"
    assert i18n.from_locale({"LANG": "es_VE.UTF-8"}) == "es"
    assert i18n.from_locale({"LANG": "C.UTF-8"}) is None
    assert i18n.from_locale({"LC_ALL": "C", "LANG": "en_US"}) is None  # LC_ALL decides
    assert i18n.from_locale({"LANGUAGE": "fr:en", "LANG": "es_VE"}) == "en"
    assert i18n.from_locale({"VEEDOR_LANG": "en", "LANG": "es"}) == "en"


def _code_messages() -> dict[str, str]:
    """Every message the command line's code marks: _("..."), N_("...") and ngettext(...),
    f-strings' insides included (Babel's extractor skips those)."""
    found: dict[str, str] = {}
    for path in sorted(CLI.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id not in ("_", "N_", "ngettext"):
                continue
            args = [
                a.value for a in node.args[:1] if isinstance(a, ast.Constant) and isinstance(a.value, str)
            ]
            if args:
                found[args[0]] = f"{path.name}:{node.lineno}"
    return found


def _help_messages() -> dict[str, str]:
    found: dict[str, str] = {}

    def walk(cmd) -> None:
        for attr in ("help", "short_help", "epilog"):
            if getattr(cmd, attr, None):
                found[as_msgid(getattr(cmd, attr))] = f"help of {cmd.name}"
        for param in cmd.params:
            if getattr(param, "help", None):
                found[as_msgid(param.help)] = f"help of {cmd.name} {param.name}"
        for sub in getattr(cmd, "commands", {}).values():
            walk(sub)

    command = typer.main.get_command(app)
    CliRunner().invoke(app, ["--lang", "en", "--help"])  # help texts back to their English ids
    walk(command)
    return found


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_the_catalogs_hold_every_message_of_the_command_line(lang):
    with i18n.catalog_path(lang).open("rb") as handle:
        catalog = read_po(handle, locale=lang, domain=i18n.DOMAIN)
    missing = []
    for msgid, where in {**_code_messages(), **_help_messages()}.items():
        message = catalog.get(msgid)
        text = message.string if message is not None else None
        if isinstance(text, tuple):
            text = all(text) and text[0]
        if message is None or (lang == "es" and not text):
            missing.append(f"{where}: {msgid[:80]!r}")
    assert not missing, f"{len(missing)} messages missing from the {lang} catalog:\n" + "\n".join(missing)
