"""Dispute packs: one mesa's evidence in one folder (and its zip) that verifies on its own.

A pack holds the mesa's images (the originals by default, or metadata-free copies), what the
public site shows of it (``mesa.json``), each copy's checks, every log entry about the mesa and
its images with its inclusion proof against the latest signed checkpoint, a one-page summary in
Spanish and English, and ``check_pack.py`` (:mod:`veedor.publish.dispute_check`), which checks
it with the standard library alone. Layout and checks: docs/evidence.md, "Dispute packs".
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from veedor import __version__, i18n, tlog
from veedor.capture.evidence import EvidenceStore
from veedor.definitions import ElectionDefinition
from veedor.publish import dispute_check as checker
from veedor.publish.views import mesa_view
from veedor.store import evidence_log
from veedor.store.schema import (
    ActaRecord,
    Decision,
    Evidence,
    EvidenceArchive,
    LogEntry,
    ReviewCopyCall,
    ReviewIdentification,
    ReviewVerdict,
)

TEMPLATES = Path(__file__).parent / "templates"
SUMMARIES = {"es": "resumen.html", "en": "summary.html"}
THUMB_BOX = (320, 1400)  # a thermal receipt is ~10 times taller than wide: keep it legible on paper
EXTENSIONS = {
    "JPEG": "jpg",
    "PNG": "png",
    "TIFF": "tif",
    "BMP": "bmp",
    "GIF": "gif",
    "WEBP": "webp",
    "HEIC": "heic",
    "PDF": "pdf",
}
MAX_TRAIL = 10  # steps of the human trail the one-page summary lists; mesa.json has them all


class DisputeError(Exception):
    """The pack cannot be made (nothing scanned, a key that does not verify, ...)."""


class LogMismatch(DisputeError):
    """The database's log no longer gives its own signed checkpoint: evidence of an edit."""


def write_pack(
    session: Session,
    definition: ElectionDefinition,
    evidence_root: str | Path,
    centre: str,
    mesa: int,
    out: str | Path,
    public: bool = False,
    verifier_keys: Sequence[str] = (),
) -> Path:
    """Write ``out/<centre>.<mesa>/`` and ``out/<centre>.<mesa>.zip``; returns the folder.

    Raises :class:`veedor.publish.views.NotFound` for an unknown mesa, DisputeError when there
    is nothing to pack, LogMismatch when the log does not give its signed checkpoint. An
    original missing or altered in the evidence store does not stop the pack: the manifest says
    so (``missing``). On SQLite it reads in a snapshot of its own: end the session's transaction
    before writing with it.
    """
    _snapshot(session)
    view = mesa_view(session, definition, centre, mesa)
    if not view["scanned"]:
        raise DisputeError(f"no acta of mesa {view['code']} has been scanned: there is nothing to pack")
    code = view["code"]
    images = _known_images(session, definition, centre, mesa)
    head = evidence_log.head(session)
    tables = {p["table"] for p in view["published"]}
    entries = find_entries(session, centre, mesa, images, tables, head.size)
    files: dict[str, bytes] = {"mesa.json": _dump(view), "checks.json": _dump(_checks(session, images))}
    image_rows, thumbs = _add_images(EvidenceStore(evidence_root), sorted(images), public, files)
    log = _add_log(session, entries, head, files, verifier_keys)
    files["check_pack.py"] = Path(checker.__file__).read_bytes()
    made_at = evidence_log.stamp()
    context = {"v": view, "public": public, "thumbs": thumbs, "log": log, "made_at": made_at}
    context["claims"] = _claims(session, definition, centre, mesa, [t["sha"] for t in thumbs])
    for lang, name in SUMMARIES.items():
        files[name] = render_summary(definition, lang, context).encode()
    manifest = {
        "format": checker.FORMAT,
        "election": definition.id,
        "mesa": {"centre": centre, "mesa": mesa, "code": code},
        "veedor": __version__,
        "made_at": made_at,
        "copies": "public" if public else "original",
        "images": image_rows,
        "entries": sorted(entries),
        "signed": log["signed"],
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    }
    files[checker.MANIFEST] = _dump(manifest)
    return _write(Path(out), code, files)


def _snapshot(session: Session) -> None:
    """Read the mesa, its images and the log as of one moment, though scans go on meanwhile:
    SQLite (WAL) keeps one snapshot for a transaction begun by hand, and blocks no writer.
    Elsewhere the check run after writing shows a pack caught between two writes."""
    connection = session.connection()
    raw = connection.connection.dbapi_connection if connection.dialect.name == "sqlite" else None
    if raw is not None and not raw.in_transaction:
        connection.exec_driver_sql("BEGIN")


def _b64(digest: bytes) -> str:
    # Base64, as the checkpoint writes its root and `veedor log prove` its proofs.
    return base64.b64encode(digest).decode()


def _dump(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True, default=str) + "\n").encode()


def _known_images(session: Session, definition: ElectionDefinition, centre: str, mesa: int) -> set[str]:
    """The mesa's images as the database knows them: its copies, archived readings, sheets
    people identified as it, and copies people judged."""
    pk = session.scalar(
        select(ActaRecord.id).where(
            ActaRecord.election == definition.id, ActaRecord.centre == centre, ActaRecord.mesa == mesa
        )
    )
    found = set(
        session.scalars(
            select(ReviewIdentification.sha256).where(
                ReviewIdentification.centre == centre, ReviewIdentification.mesa == mesa
            )
        )
    )
    for table in (Evidence, EvidenceArchive, ReviewVerdict, ReviewCopyCall):
        found |= set(session.scalars(select(table.sha256).where(table.acta_pk == pk)))
    return found


def _claims(
    session: Session, definition: ElectionDefinition, centre: str, mesa: int, shas: list[str]
) -> list[dict[str, Any] | None]:
    """What each copy (in ``shas`` order) says, by candidate: beside a mesa with no numbers of
    its own (copies that disagree), what each one claims is the point of the dispute."""
    said: dict[str, dict[str, Any]] = {}
    for e in session.scalars(
        select(Evidence)
        .join(ActaRecord, ActaRecord.id == Evidence.acta_pk)
        .where(ActaRecord.election == definition.id, ActaRecord.centre == centre, ActaRecord.mesa == mesa)
    ):
        if e.votes and None not in e.votes and len(e.votes) == len(definition.ballot):
            votes = definition.totals_by_candidate(e.votes)
            said[e.sha256] = {"votes": votes, "valid": sum(votes.values()), "nulos": e.nulos}
    return [said.get(sha) for sha in shas]


def _named_images(entry: dict[str, Any]) -> set[str]:
    named = {entry.get("sha256"), entry.get("image")}
    for key in ("images", "copies"):
        if isinstance(entry.get(key), list):
            named |= set(entry[key])
    return {n for n in named if isinstance(n, str)}


def find_entries(
    session: Session, centre: str, mesa: int, images: set[str], tables: set[str], size: int
) -> dict[int, bytes]:
    """Every log entry (below ``size``) about the mesa or one of its images, by index; adds to
    ``images`` those the mesa's own entries name.

    A linear scan of ``log_entries`` (the log has no index by mesa): one streamed read of every
    entry, a substring test on its bytes, and JSON parsing only of those that mention the centre,
    an image or a table. A further scan runs only if the mesa's entries name an image the
    database did not link to it. Cost: docs/evidence.md.
    """
    code = f"{centre}.{mesa:02d}"
    found: dict[int, bytes] = {}
    wanted = set(images)
    needles = [centre.encode(), *(h.encode() for h in wanted)]
    needles += [tlog.canonical(name)[1:-1] for name in tables]  # as the entry spells it
    while needles:
        query = select(LogEntry.seq, LogEntry.entry).where(LogEntry.seq < size).order_by(LogEntry.seq)
        for index, data in session.execute(query.execution_options(yield_per=2000)):
            if index in found or not any(n in data for n in needles):
                continue
            try:
                entry = json.loads(data)
            except ValueError:
                entry = None
            if not isinstance(entry, dict):
                # An edited entry that names this mesa or an image of it goes in, and its proof
                # shows the edit: leaving it out would hide it.
                found[index] = data
                continue
            if entry.get("centre") == centre and entry.get("mesa") == mesa:
                wanted |= _named_images(entry)
            elif not (
                entry.get("mesa") == {"centre": centre, "mesa": mesa}
                or entry.get("other") == code
                or (entry.get("kind") == "results_table" and entry.get("name") in tables)
                or _named_images(entry) & wanted
            ):
                continue
            found[index] = data
        needles = [h.encode() for h in wanted - images]
        images |= wanted
    return found


def _checks(session: Session, images: Iterable[str]) -> dict[str, Any]:
    """Each image's latest decision: its status, reason and checks in words, and veedor's version."""
    out: dict[str, Any] = {}
    for d in session.scalars(
        select(Decision).where(Decision.sha256.in_(list(images))).order_by(Decision.decided_at, Decision.id)
    ):
        out[d.sha256] = {
            "decided_at": d.decided_at.isoformat(),
            "veedor": d.version,
            "status": d.status,
            "grade": d.grade,
            "reason": d.reason,
            "checks": d.checks,
        }
    return out


def _add_images(
    store: EvidenceStore, shas: list[str], public: bool, files: dict[str, bytes]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Each image into ``images/`` (original, or metadata-free copy); rows for the manifest and
    small metadata-free thumbnails for the summary."""
    from veedor.capture.images import plain_jpeg, sniff_format

    rows: list[dict[str, Any]] = []
    thumbs: list[dict[str, Any]] = []
    for sha in shas:
        row: dict[str, Any] = {"sha256": sha, "copy": "public" if public else "original"}
        rows.append(row)
        try:
            data = store.read(sha)  # checks the original's SHA-256 against its name
        except (OSError, ValueError) as error:
            row["missing"] = "altered in the evidence store" if isinstance(error, ValueError) else "missing"
            continue
        plain = plain_jpeg(store.path_for(sha))
        if public:
            if plain is None:
                row["missing"] = "no metadata-free copy could be made of it"
                continue
            row["file"] = f"images/{sha}.public.jpg"
            files[row["file"]] = plain
        else:
            fmt = sniff_format(data)
            row["format"] = fmt
            row["file"] = f"images/{sha}.{EXTENSIONS.get(fmt or '', 'bin')}"
            files[row["file"]] = data
        thumbs.append({"sha": sha, "src": _thumbnail(plain)})
    return rows, thumbs


def _thumbnail(plain: bytes | None) -> str | None:
    """A small JPEG as a data: URI, so the summary shows the acta even when sent alone."""
    if plain is None:
        return None
    with Image.open(io.BytesIO(plain)) as img:
        img.thumbnail(THUMB_BOX)
        buffer = io.BytesIO()
        img.save(buffer, format="JPEG", quality=70)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def _add_log(
    session: Session,
    entries: dict[int, bytes],
    head: evidence_log.Head,
    files: dict[str, bytes],
    verifier_keys: Sequence[str],
) -> dict[str, Any]:
    """Entries and their proofs: against the latest signed checkpoint where it covers them,
    else against the current head, itself proven to extend the checkpoint."""
    row = evidence_log.latest_checkpoint(session)
    checkpoint = None
    if row is not None:
        checkpoint = tlog.Checkpoint.parse(row.note[: row.note.rfind("\n\n") + 1])
        if checkpoint.size > head.size:
            raise LogMismatch("the log is shorter than its signed checkpoint: veedor check says what changed")
        if tlog.tree_hash(checkpoint.size, evidence_log.reader(session)) != checkpoint.root_hash:
            raise LogMismatch("the log does not match its signed checkpoint: veedor check says what changed")
        files[checker.CHECKPOINT] = row.note.encode()
    _check_keys(row.note if row is not None else None, verifier_keys)
    # The keys that signed this log's checkpoints (public; veedor remembers them) travel with
    # it too, so a pack checks with no key at hand; whoever doubts them brings their own.
    remembered = (evidence_log.setting_text(session, evidence_log.VKEYS) or "").split()
    for key in dict.fromkeys([*remembered, *(k.strip() for k in verifier_keys)]):
        try:
            name, key_id, _ = checker.parse_verifier_key(key)
        except ValueError:
            continue  # a garbled stored key is left out (given ones were checked above)
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)  # a log's name is often a URL path: a/b
        files[f"{checker.KEYS}{safe}.{key_id.hex()}.vkey"] = (key.strip() + "\n").encode()
    newer = 0
    for index, data in entries.items():
        files[checker.entry_path(index)] = data
        signed = checkpoint is not None and index < checkpoint.size
        size, root = (
            (checkpoint.size, checkpoint.root_hash) if checkpoint and signed else (head.size, head.root)
        )
        newer += not signed
        proof = evidence_log.inclusion(session, index, size)
        files[checker.proof_path(index)] = _dump(
            {
                "index": index,
                "tree_size": size,
                "root": _b64(root),
                "proof": [_b64(h) for h in proof],
                "against": "checkpoint" if signed else "head",
            }
        )
    if newer or checkpoint is None:
        files[checker.HEAD] = _dump({"tree_size": head.size, "root": _b64(head.root)})
    if newer and checkpoint is not None:
        proof = evidence_log.consistency(session, checkpoint.size, head.size)
        files[checker.CONSISTENCY] = _dump(
            {"old_size": checkpoint.size, "new_size": head.size, "proof": [_b64(h) for h in proof]}
        )
    return {
        "count": len(entries),
        "newer": newer if checkpoint else 0,
        "signed": checkpoint is not None,
        "origin": checkpoint.origin if checkpoint else None,
        "size": checkpoint.size if checkpoint else head.size,
        "root": _b64(checkpoint.root_hash if checkpoint else head.root),
        "head_size": head.size,
        "at": row.at.strftime("%Y-%m-%d %H:%M") if row is not None else None,
    }


def _check_keys(note: str | None, keys: Sequence[str]) -> None:
    """Keys given to the pack must verify its checkpoint: a pack that names a key that did not
    sign it would mislead whoever checks it."""
    for key in keys:
        try:
            checker.parse_verifier_key(key)
        except ValueError as error:
            raise DisputeError(f"not a verifier key ({error}): {key[:40]!r}") from None
    if keys and note is not None:
        try:
            tlog.open_note(note, list(keys))
        except ValueError as error:
            raise DisputeError(f"the verifier keys given do not verify the checkpoint: {error}") from None


def render_summary(definition: ElectionDefinition, lang: str, context: dict[str, Any]) -> str:
    """The one-page summary in ``lang``: the acta small, its numbers beside every published
    figure, whether they are counted and why, people's steps, and how to check the pack."""
    view = context["v"]
    labels = {lv.name: lv.label_es if lang == "es" else lv.label_en for lv in definition.levels}
    tables = view["published"]
    # Each copy's claim is shown only where the mesa has no numbers of its own.
    claims = [] if view["votes"] else [(i, c) for i, c in enumerate(context["claims"], 1) if c]
    votes = view["votes"]
    mine = {"votes": votes or {}, "valid": sum(votes.values()) if votes else None, "nulos": view["nulos"]}

    def row(name: str, pick: Any) -> tuple[str, Any, list[Any], list[Any]]:
        return name, pick(mine), [pick(c) for _, c in claims], [pick(t) for t in tables]

    rows = [row(c["name"], lambda x, code=c["code"]: x["votes"].get(code)) for c in view["candidates"]]
    rows.append(row(i18n.gettext("Valid votes", lang), lambda x: x["valid"]))
    rows.append(row(i18n.gettext("Null votes", lang), lambda x: x["nulos"]))
    trail = view["people"]
    return (
        i18n.templates(TEMPLATES, lang)
        .get_template("summary.html")
        .render(
            lang=lang,
            other={"es": ("English", SUMMARIES["en"]), "en": ("Español", SUMMARIES["es"])}[lang],
            election=definition.name_es if lang == "es" else definition.name_en,
            places=[(labels.get(p["level"], p["level"]), p["code"], p["name"]) for p in view["parents"]],
            reason=i18n.one_language(view["reason"], lang) if view["reason"] else None,
            rows=rows,
            tables=[t["table"] for t in tables],
            copies=[i for i, _ in claims],
            trail=trail[-MAX_TRAIL:],
            more=max(0, len(trail) - MAX_TRAIL),
            version=__version__,
            **context,
        )
    )


def _write(out: Path, code: str, files: dict[str, bytes]) -> Path:
    """Write the folder and its zip beside it, each whole or not at all; a previous pack of the
    same mesa is replaced, anything else in the way is left alone."""
    folder, archive = out / code, out / f"{code}.zip"
    if folder.exists() and not (folder / checker.MANIFEST).is_file():
        raise DisputeError(f"{folder} exists and is not a dispute pack: choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{code}.", dir=out))
    partial.chmod(0o755)  # mkdtemp's is 0700: the pack is made to be handed on
    try:
        for name, data in files.items():
            (partial / name).parent.mkdir(parents=True, exist_ok=True)
            (partial / name).write_bytes(data)
        zipped = out / f"{partial.name}.zip"
        with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as z:
            for name in sorted(files):
                z.writestr(zipfile.ZipInfo(f"{code}/{name}", (1980, 1, 1, 0, 0, 0)), files[name])
        if folder.exists():
            shutil.rmtree(folder)
        partial.rename(folder)
        os.replace(zipped, archive)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
        (out / f"{partial.name}.zip").unlink(missing_ok=True)
    return folder


def check_pack(path: str | Path, verifier_keys: Sequence[str] = ()) -> list[str]:
    """The problems of the pack at ``path`` (folder or zip); empty: it verifies."""
    return check_report(path, verifier_keys).problems


def check_report(path: str | Path, verifier_keys: Sequence[str] = ()) -> checker.Report:
    """``check_pack.py``'s checks, and veedor's stricter parsing of the checkpoint and entries
    (one value, one spelling: a re-encoded entry is refused even before its hash is).
    Raises :class:`veedor.publish.dispute_check.PackError` when ``path`` is no pack at all."""
    files = checker.load(path)
    report = checker.check_files(files, tuple(verifier_keys))
    note = files.get(checker.CHECKPOINT, b"").decode("utf-8", "replace")
    if note:
        try:
            tlog.Checkpoint.parse(note[: note.rfind("\n\n") + 1])
        except ValueError as error:
            report.problems.append(f"{checker.CHECKPOINT}: {error}")
    for name, data in files.items():
        if name.startswith("log/entries/"):
            try:
                tlog.parse(data)
            except ValueError as error:
                report.problems.append(f"{name}: not canonical JSON ({error})")
    return report
