"""`veedor --help` and `--version` must start fast: no command loads its heavy libraries until
it runs (OpenCV, Polars, SQLAlchemy... cost ~2 s together on a small machine)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
HEAVY = ("cv2", "numpy", "polars", "pandas", "pyarrow", "sqlalchemy", "alembic", "zxingcpp", "duckdb")

PROBE = """
import sys, typer.main
from veedor.cli import app
typer.main.get_command(app)  # every command, option and help text, as `veedor --help` builds them
print(",".join(m for m in {heavy!r} if m in sys.modules))
"""


def _run(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.strip()


def test_help_loads_no_heavy_library() -> None:
    assert _run(PROBE.format(heavy=HEAVY)) == ""


def test_version_runs() -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-m", "veedor", "--version"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.startswith("veedor ")


def test_names_spelled_out_for_start_up_match_their_source() -> None:
    """Help texts list names that live in heavy modules; the CLI spells them out instead."""
    from veedor.cli import export as export_cli
    from veedor.cli import simulate as simulate_cli
    from veedor.publish.export import FORMATS
    from veedor.simulate.profiles import PROFILE_NAMES
    from veedor.tally.aggregate import COVERAGE_COLUMNS
    from veedor.tally.coverage import Coverage

    assert simulate_cli.PROFILE_NAMES == PROFILE_NAMES
    assert export_cli.FORMATS == FORMATS
    # TallyResult frames rebuild Coverage positionally from these columns.
    assert tuple(Coverage.__dataclass_fields__)[1:] == COVERAGE_COLUMNS
