"""Plug-ins from other packages, found through entry points: readers, payload parsers, checks.

A package adds its own to veedor by declaring, in its ``pyproject.toml``::

    [project.entry-points."veedor.readers"]
    my-form = "my_package.reader:READER"          # a veedor.read.readers.SheetReader
    [project.entry-points."veedor.parsers"]
    my-payload = "my_package.payload:parse"       # (text, definition) -> ActaCounts
    [project.entry-points."veedor.checks"]
    my_check = "my_package.checks:check"          # (acta, definition, registry) -> CheckResult | None

The entry point's name is the name a definition uses. They are looked up once, the first time
a registry does not know a name (``import veedor`` stays fast); one that fails to load is left
out with a warning naming it, never a traceback for the run.
"""

from __future__ import annotations

import warnings
from functools import cache
from importlib.metadata import entry_points
from typing import Any

GROUPS = ("veedor.readers", "veedor.parsers", "veedor.checks")


@cache
def plugins(group: str) -> dict[str, Any]:
    """Name → loaded object of every entry point in ``group``."""
    found: dict[str, Any] = {}
    for point in entry_points(group=group):
        try:
            found[point.name] = point.load()
        except Exception as exc:  # a broken plug-in costs itself, not the run
            warnings.warn(
                f"plug-in {point.name!r} ({point.value}) in {group} no se pudo cargar / could not be "
                f"loaded: {type(exc).__name__}: {exc}",
                stacklevel=2,
            )
    return found
