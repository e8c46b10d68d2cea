"""The served site's open data: exported on first demand into a private working folder, again
after the data changed (at most once a minute: an export of a national table takes seconds),
by one thread while the others keep serving the last one."""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from veedor.definitions import ElectionDefinition
from veedor.publish.opendata import write_open_data
from veedor.store import Store

REFRESH = 60.0
NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,80}")


class OpenData:
    def __init__(self, store: Store, definition: ElectionDefinition, version: Callable[[], Any]) -> None:
        self.store, self.definition, self.version = store, definition, version
        self.root = Path(tempfile.mkdtemp(prefix="veedor-open-data-"))
        self._lock = threading.Lock()
        self._current: tuple[Any, float, Path, dict[str, Any]] | None = None
        self._generation = 0

    def index(self) -> tuple[Path, dict[str, Any]]:
        """The folder of the current export and its index (see :mod:`veedor.publish.opendata`)."""
        version = self.version()
        current = self._current
        if current is not None and (current[0] == version or time.monotonic() - current[1] < REFRESH):
            return current[2], current[3]
        with self._lock:
            current = self._current
            if current is not None and (current[0] == version or time.monotonic() - current[1] < REFRESH):
                return current[2], current[3]
            self._generation += 1
            folder = self.root / str(self._generation)
            with self.store.session() as session:
                index = write_open_data(session, self.definition, folder)
            self._current = (version, time.monotonic(), folder, index)
            if current is not None:
                # Kept a while for downloads already under way, then removed.
                stale = current[2]
                timer = threading.Timer(REFRESH, shutil.rmtree, (stale, True))
                timer.daemon = True
                timer.start()
        return folder, index

    def file(self, source: str, name: str) -> tuple[Path, dict[str, Any]] | None:
        """One file the index lists (``manifest.json`` included), or None: nothing else of the
        folder can be asked for, whatever the path says."""
        if not (NAME.fullmatch(source) and NAME.fullmatch(name)):
            return None
        folder, index = self.index()
        for entry in index["sources"]:
            if entry["folder"] != source:
                continue
            if name == "manifest.json":
                return folder / source / name, {"path": name}
            for listed in entry["files"]:
                if listed["path"] == name:
                    return folder / source / name, listed
        return None

    def groups(self) -> list[dict[str, Any]]:
        """The index for a page: per source, one row per content with its formats."""
        _folder, index = self.index()
        return data_groups(index)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def data_groups(index: dict[str, Any]) -> list[dict[str, Any]]:
    """Per source of ``index``: one row per content (``tally_state``...) with each format's
    file, rows, bytes and SHA-256."""
    out = []
    for source in index["sources"]:
        stems: dict[str, dict[str, Any]] = {}
        for f in source["files"]:
            stem = f["path"].rsplit(".", 1)[0]
            stems.setdefault(stem, {"stem": stem, "rows": f["rows"], "formats": []})["formats"].append(f)
        out.append({**source, "contents": list(stems.values())})
    return out
