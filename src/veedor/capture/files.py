"""Walk the inputs: files and folders (recursively), surviving loops and unreadable places."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class InputProblem:
    """A path that cannot be processed at all (reported, never silently skipped)."""

    path: str
    reason: str


def iter_input_files(paths: Iterable[str | Path]) -> Iterator[str | InputProblem]:
    """Yield each regular file once (by real path), or an :class:`InputProblem`."""
    seen_files: set[str] = set()
    seen_dirs: set[str] = set()
    for raw in paths:
        yield from _walk(str(raw), seen_files, seen_dirs)


def _walk(path: str, seen_files: set[str], seen_dirs: set[str]) -> Iterator[str | InputProblem]:
    try:
        real = os.path.realpath(path, strict=True)
    except OSError as exc:
        if os.path.islink(path):
            yield InputProblem(path, "enlace simbólico roto o en bucle / broken or looping symlink")
        else:
            yield InputProblem(path, f"no se puede abrir / cannot open: {exc.strerror or exc}")
        return
    if os.path.isdir(real):
        if real in seen_dirs:
            if os.path.islink(path):
                yield InputProblem(path, "enlace simbólico en bucle, ignorado / symlink loop, skipped")
            return
        seen_dirs.add(real)
        try:
            entries = sorted(os.scandir(path), key=lambda e: e.name)
        except OSError as exc:
            yield InputProblem(
                path,
                f"no se puede leer la carpeta ({exc.strerror}); revise los permisos / "
                "cannot read folder, check its permissions",
            )
            return
        for entry in entries:
            yield from _walk(entry.path, seen_files, seen_dirs)
        return
    if not os.path.isfile(real):
        yield InputProblem(path, "no es un archivo normal / not a regular file")
        return
    if real in seen_files:
        return
    seen_files.add(real)
    yield path


def shown_name(path: str) -> str:
    """A path as text any database or report can hold: a name that is not valid UTF-8 (common
    in zip files from Windows) keeps its readable part, with U+FFFD where bytes were not text.
    The path itself, as the file system gave it, is still the one that is opened."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def is_hidden_junk(path: str) -> bool:
    return Path(path).name in {".DS_Store", "Thumbs.db", "desktop.ini"}
