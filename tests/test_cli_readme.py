"""The README's commands, run top to bottom as a new user would in a fresh clone, and the demo's
"try next" suggestions, each as printed: no surprise (exit 0; an importer may exit 1 for rows it
refused by line), nothing printed twice in two languages."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from veedor.cli import app

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def blocks(text: str) -> list[list[str]]:
    """The ```bash blocks of the README's usage section, as lists of commands."""
    section = text[text.index("## Uso / usage") :]
    section = section[: section.index("\n## ", 3)]
    found = []
    for block in re.findall(r"```bash\n(.*?)```", section, re.S):
        joined = block.replace("\\\n", " ")
        found.append(
            [line.strip() for line in joined.splitlines() if line.strip().startswith(("veedor", "printf"))]
        )
    return found


def command(line: str) -> list[str]:
    return shlex.split(line, comments=True)[1:]  # without "veedor", without the comment


def invoke(args: list[str]):
    result = CliRunner().invoke(app, args)
    return result.exit_code, " ".join(result.output.split())


def test_the_readme_runs_top_to_bottom_in_a_fresh_clone(tmp_path, monkeypatch):
    first, rest = blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    (tmp_path / "samples").symlink_to(ROOT / "samples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VEEDOR_DB", raising=False)
    for line in first:
        args = command(line)
        code, said = invoke(args)
        allowed = (0, 1) if args[0].startswith("import-") else (0,)
        assert code in allowed, f"{line}\n{said[-2000:]}"
        assert "Traceback" not in said and "<nombre>" not in said, line
    # The others need a person, a server or a file that is not bundled: each is at least a
    # command this veedor has, with options it knows.
    for line in rest:
        words = command(line.split("|")[-1].strip()) if line.startswith("printf") else command(line)
        name = [w for w in words[:2] if not w.startswith("-")][: 2 if words[0] in SUBCOMMANDS else 1]
        code, said = invoke([*name, "--help"])
        assert code == 0, f"{line}: {said[-500:]}"
        options = {w.split("=")[0] for w in words if w.startswith("--")} - {"--help"}
        assert all(option in said for option in options), (line, options)


SUBCOMMANDS = ("users", "review", "log", "keys", "field")


def test_the_demo_and_each_suggestion_it_prints(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, said = invoke(["demo", "--out", "demo", "--workers", "2"])
    assert code == 0, said[-2000:]
    tries = said[said.index("Try next:") :]
    from veedor.cli.demo import samples_dir, try_next

    lines = try_next(Path("demo") / "veedor.db", Path("demo"), samples_dir(), "table:1")
    for line in lines:
        assert " ".join(line.split()[:3]) in tries, line  # printed (the panel may wrap the rest)
        args = command(line)
        if args[0] == "serve" or args == ["--help"]:
            continue  # a server runs until stopped; --help is tried above
        code, out = invoke(args)
        assert code == 0, f"{line}\n{out[-1500:]}"
