"""The public site as plain files (``veedor publish --static DIR``): the same pages and JSON as
``veedor serve``, with relative links, so any static host, CDN, IPFS gateway or USB stick can
serve it, and it works opened from disk.

Spanish at the root, English under ``en/``; the API's JSON under ``api/v1/``; images, re-encoded
without metadata, under ``image/`` by SHA-256; the open data (one export per source) under
``data/``; the evidence log (C2SP tlog-tiles: ``checkpoint``, tiles, entry bundles) under ``log/``; ``manifest.json`` lists every file with its
SHA-256. Publishing again rewrites only the files whose bytes changed (and never re-encodes an
image already there: its name is its content's hash).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from veedor.capture.evidence import EvidenceStore
from veedor.definitions import ElectionDefinition
from veedor.i18n import DEFAULT, LANGUAGES
from veedor.publish.forensics_report import latest_forensics, render_report
from veedor.publish.opendata import write_open_data
from veedor.publish.views import Snapshot, all_mesa_views
from veedor.store import Store, evidence_log
from veedor.web.images import public_jpeg
from veedor.web.opendata import data_groups
from veedor.web.site import STATIC, render_page, unit_page

MANIFEST = "manifest.json"


@dataclass
class Published:
    written: int = 0
    unchanged: int = 0
    images: int = 0
    images_missing: list[str] = field(default_factory=list)
    bytes: int = 0
    seconds: float = 0.0
    files: dict[str, str] = field(default_factory=dict)
    """Every file of the site (relative path) and its SHA-256."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": len(self.files),
            "written": self.written,
            "unchanged": self.unchanged,
            "images": self.images,
            "images_missing": len(self.images_missing),
            "bytes": self.bytes,
            "seconds": round(self.seconds, 1),
        }


def lang_dir(lang: str) -> str:
    return "" if lang == DEFAULT else f"{lang}/"


def page_path(lang: str, kind: str, *parts: Any) -> str:
    """Where a page lives in the static site, relative to its root."""
    base = lang_dir(lang)
    if kind == "home":
        return base + "index.html"
    if kind == "verify":
        return base + "verify.html"
    if kind == "data":
        return base + "data.html"
    if kind == "search":
        return base + "search.html"
    if kind == "forensics":
        return base + "forensics.html"
    if kind == "u":
        return base + f"u/{parts[0]}.html"
    return base + f"m/{parts[0]}/{parts[1]}.html"


def static_url(here: str, lang: str, page: tuple[Any, ...]) -> Any:
    """The ``url(kind, *parts)`` of a page written at ``here``: every link relative to it."""
    up = "../" * here.count("/")

    def url(kind: str, *parts: Any) -> str:
        if kind == "lang":
            return up + page_path(parts[0], *page)
        if kind in ("home", "u", "m", "verify", "data", "search", "forensics"):
            return up + page_path(lang, kind, *parts)
        if kind == "data_file":
            return up + f"data/{parts[0]}/{parts[1]}"
        if kind == "manifest":
            return up + MANIFEST
        if kind == "image":
            return up + f"image/{parts[0]}.jpg"
        if kind == "static":
            return up + f"static/{parts[0]}"
        if kind == "api_unit":
            return up + (f"api/v1/units/{parts[0]}.json" if parts[0] else "api/v1/national.json")
        return up + f"api/v1/mesas/{parts[0]}/{parts[1]}.json"

    return url


class _Writer:
    def __init__(self, out: Path, report: Published) -> None:
        self.out, self.report = out, report

    def put(self, relative: str, data: bytes) -> None:
        digest = hashlib.sha256(data).hexdigest()
        self.report.files[relative] = digest
        self.report.bytes += len(data)
        target = self.out / relative
        try:
            if (
                target.stat().st_size == len(data)
                and hashlib.sha256(target.read_bytes()).hexdigest() == digest
            ):
                self.report.unchanged += 1
                return
        except OSError:
            target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        partial.write_bytes(data)
        os.replace(partial, target)  # a reader never sees half a file
        self.report.written += 1


def _json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def write_static(
    store: Store,
    definition: ElectionDefinition,
    evidence_root: str | Path,
    out: str | Path,
    langs: Iterable[str] = LANGUAGES,
) -> Published:
    """Write (or bring up to date) the whole public site under ``out``."""
    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report = Published()
    writer = _Writer(out, report)
    langs = [lang for lang in LANGUAGES if lang in set(langs)] or [DEFAULT]
    evidence = EvidenceStore(evidence_root)
    for name in ("desk.css", "favicon.svg", "search.js"):
        writer.put(f"static/{name}", (STATIC / name).read_bytes())

    def pages(template: str, shown: dict[str, Any], page: tuple[Any, ...]) -> None:
        for lang in langs:
            here = page_path(lang, *page)
            html = render_page(
                definition,
                template,
                lang,
                static_url(here, lang, page),
                {"forensics": forensics_data is not None, **shown},
                served=False,
            )
            writer.put(here, html.encode())

    forensics_data = latest_forensics(store)
    if forensics_data is not None:
        for lang in langs:
            writer.put(page_path(lang, "forensics"), render_report(forensics_data, definition, lang).encode())
    with store.session() as session:
        snapshot = Snapshot(session, definition)
        pages("site/verify.html", {}, ("verify",))
        with tempfile.TemporaryDirectory() as scratch:
            index = write_open_data(session, definition, scratch)
            for source in index["sources"]:
                for name in ["manifest.json", *(f["path"] for f in source["files"])]:
                    relative = f"{source['folder']}/{name}"
                    writer.put(f"data/{relative}", (Path(scratch) / relative).read_bytes())
            writer.put("api/v1/data.json", _json(index))
        pages("site/data.html", {"sources": data_groups(index)}, ("data",))
        national = snapshot.unit()
        writer.put("api/v1/national.json", _json(national))
        pages("site/static_search.html", {"v": national}, ("search",))
        units = [[code, snapshot.names.get(code)] for code in snapshot.codes()]
        # A script, not JSON: a page opened from disk may load a script but not fetch a file.
        names_js = json.dumps(units, ensure_ascii=True, separators=(",", ":")).replace("</", "<\\/")
        writer.put("static/search-index.js", f"window.VEEDOR_UNITS={names_js};\n".encode())
        pages("site/unit.html", unit_page(definition, national), ("home",))
        for code in snapshot.codes():
            unit = snapshot.unit(code)
            writer.put(f"api/v1/units/{code}.json", _json(unit))
            pages("site/unit.html", unit_page(definition, unit), ("u", code))
        images: set[str] = set()
        for mesa in all_mesa_views(session, definition):
            centre, number = mesa["centre"]["code"], mesa["mesa"]
            writer.put(f"api/v1/mesas/{centre}/{number}.json", _json(mesa))
            pages("site/mesa.html", {"v": mesa}, ("m", centre, number))
            images.update(c["image"] for c in mesa.get("copies", []))
    with store.session() as session:
        for name, content in evidence_log.published_files(session):
            writer.put(f"log/{name}", content)
    for sha in sorted(images):
        relative = f"image/{sha}.jpg"
        target = out / relative
        if target.exists():  # named by the original's hash: the same re-encoding as before
            report.files[relative] = hashlib.sha256(target.read_bytes()).hexdigest()
            report.unchanged += 1
            continue
        data = public_jpeg(evidence.path_for(sha), definition)
        if data is None:
            report.images_missing.append(sha)
            continue
        writer.put(relative, data)
        report.images += 1
    report.seconds = time.perf_counter() - started
    manifest = {
        "election": definition.id,
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "files": dict(sorted(report.files.items())),
    }
    (out / MANIFEST).write_bytes(json.dumps(manifest, indent=1).encode())
    return report
