"""Database tables. Every number points back to the image (SHA-256) and reading it came from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class GeoUnit(Base):
    """A unit of the definition's geography (state, municipality, parish, centre...)."""

    __tablename__ = "geo_units"
    election: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    level: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    parent_code: Mapped[str | None] = mapped_column(String(32))
    mesas_total: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(200))


class Mesa(Base):
    """A polling table, with its registered electors when known."""

    __tablename__ = "mesas"
    election: Mapped[str] = mapped_column(String(64), primary_key=True)
    centre: Mapped[str] = mapped_column(String(32), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    electors: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(200))


class Image(Base):
    """One input file, stored once by content. ``metadata_json`` (EXIF: time, device, GPS) is private."""

    __tablename__ = "images"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    format: Mapped[str | None] = mapped_column(String(16))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    metadata_json: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ImageName(Base):
    """Every name under which the same bytes were found."""

    __tablename__ = "image_names"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("images.sha256"), index=True)
    path: Mapped[str] = mapped_column(Text)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (UniqueConstraint("sha256", "path"),)


class Reading(Base):
    """One engine attempt on one image (also the failed ones: they are evidence too)."""

    __tablename__ = "readings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("images.sha256"), index=True)
    election: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    engine: Mapped[str] = mapped_column(String(255))  # every engine of a reading, with versions
    variant: Mapped[str] = mapped_column(String(128))
    text: Mapped[str | None] = mapped_column(Text)
    ms: Mapped[float] = mapped_column(Float)
    read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted: Mapped[bool] = mapped_column(Boolean, default=False)


class ActaRecord(Base):
    """One mesa's acta after combining all its evidence. Only ``ok`` is counted."""

    __tablename__ = "actas"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    election: Mapped[str] = mapped_column(String(64))
    centre: Mapped[str] = mapped_column(String(32))
    mesa: Mapped[int] = mapped_column(Integer)
    acta_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    votes: Mapped[list | None] = mapped_column(JSON)
    nulos: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    alerts: Mapped[list | None] = mapped_column(JSON)
    """Alerts raised by its copies (a pasted QR...), recomputed with the state; see MesaEvent."""
    source: Mapped[str | None] = mapped_column(String(16))
    """"machine" (from its copies), "people" (numbers settled at the review desk) or "chosen"
    (the copies left once people set others aside); None before 0006."""
    __table_args__ = (UniqueConstraint("election", "centre", "mesa"),)


class Evidence(Base):
    """An image's current evidence for a mesa: its grade and what it says (null: not read).

    ``votes``/``nulos`` are its claim (the QR's when read, else the print's); ``printed`` and
    ``printed_nulos`` the print's legible counts beside a QR. A re-read moves the row it
    replaces to ``evidence_archive``.
    """

    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    acta_pk: Mapped[int] = mapped_column(ForeignKey("actas.id"), index=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("images.sha256"), index=True)
    reading_id: Mapped[int] = mapped_column(ForeignKey("readings.id"))
    status: Mapped[str] = mapped_column(String(16))
    votes: Mapped[list] = mapped_column(JSON)
    nulos: Mapped[int | None] = mapped_column(BigInteger)
    extra: Mapped[dict | None] = mapped_column(JSON)
    grade: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(16))
    printed: Mapped[list | None] = mapped_column(JSON)
    printed_nulos: Mapped[int | None] = mapped_column(BigInteger)
    __table_args__ = (UniqueConstraint("acta_pk", "sha256"),)


class PictureKey(Base):
    """Where an image's QR lies and the key of the sheet above it (``read.forensics``): what
    the reused-photo search compares (``pipeline/reuse.py``). One row per image, written with
    its first reading."""

    __tablename__ = "picture_keys"
    sha256: Mapped[str] = mapped_column(ForeignKey("images.sha256"), primary_key=True)
    sheet_key: Mapped[str] = mapped_column(String(48))
    qr_quad: Mapped[list] = mapped_column(JSON)


class PictureMatch(Base):
    """Two images found to be the same picture filed under different mesas (append-only): an
    alert on both mesas, which then wait for a person; their numbers are never changed."""

    __tablename__ = "picture_matches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    other_sha256: Mapped[str] = mapped_column(String(64), index=True)
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    original: Mapped[str | None] = mapped_column(String(64))
    """The one of the two whose QR belongs to its sheet when the other's looks pasted on (its
    count stands, with the alert); None when the pixels cannot tell (both mesas wait)."""
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EvidenceArchive(Base):
    """Evidence a re-read replaced, kept as it was (append-only)."""

    __tablename__ = "evidence_archive"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    acta_pk: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    reading_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    grade: Mapped[str | None] = mapped_column(String(16))
    votes: Mapped[list | None] = mapped_column(JSON)
    nulos: Mapped[int | None] = mapped_column(BigInteger)
    extra: Mapped[dict | None] = mapped_column(JSON)
    printed: Mapped[list | None] = mapped_column(JSON)
    printed_nulos: Mapped[int | None] = mapped_column(BigInteger)
    archived_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MesaEvent(Base):
    """A change of a mesa's state, with the copy that caused it (append-only)."""

    __tablename__ = "mesa_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    acta_pk: Mapped[int] = mapped_column(ForeignKey("actas.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(16))
    previous: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))
    cause: Mapped[str] = mapped_column(String(16))
    """"scan", "rescan" or "combine" (the rule re-applied to stored evidence)."""
    votes: Mapped[list | None] = mapped_column(JSON)
    nulos: Mapped[int | None] = mapped_column(BigInteger)
    alerts: Mapped[list | None] = mapped_column(JSON)


class Decision(Base):
    """Every decision taken on a file, first scan and re-reads alike (append-only);
    ``images.status`` is the latest."""

    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("images.sha256"), index=True)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[str] = mapped_column(String(32))
    cause: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    grade: Mapped[str | None] = mapped_column(String(16))
    checks: Mapped[list | None] = mapped_column(JSON)


class CheckRecord(Base):
    __tablename__ = "checks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("images.sha256"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    passed: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(Text)


class ActaVotes(Base):
    """Per-candidate totals of each acta, kept in long form so tallies are one SQL group-by."""

    __tablename__ = "acta_votes"
    acta_pk: Mapped[int] = mapped_column(ForeignKey("actas.id"), primary_key=True)
    candidate: Mapped[str] = mapped_column(String(32), primary_key=True)
    votes: Mapped[int] = mapped_column(BigInteger)


class CacheChecksum(Base):
    """SHA-256 of each columnar snapshot written beside the database: a file on disk that does
    not match (edited, forged, half-written) is rebuilt, never trusted."""

    __tablename__ = "cache_checksums"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))


class ResultTable(Base):
    """A results table someone published (e.g. resultadosconvzla V1), imported as is."""

    __tablename__ = "result_tables"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    election: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(64))
    encoding: Mapped[str] = mapped_column(String(32))
    rows: Mapped[int] = mapped_column(BigInteger)
    errors: Mapped[list | None] = mapped_column(JSON)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (UniqueConstraint("election", "sha256"),)


class ResultRow(Base):
    __tablename__ = "result_rows"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("result_tables.id"), index=True)
    line: Mapped[int] = mapped_column(Integer)
    centre: Mapped[str] = mapped_column(String(32))
    mesa: Mapped[int] = mapped_column(Integer)
    electors: Mapped[int | None] = mapped_column(BigInteger)
    valid: Mapped[int] = mapped_column(BigInteger)
    nulos: Mapped[int] = mapped_column(BigInteger)
    image_ref: Mapped[str | None] = mapped_column(Text)


class ResultVotes(Base):
    __tablename__ = "result_votes"
    row_id: Mapped[int] = mapped_column(ForeignKey("result_rows.id"), primary_key=True)
    candidate: Mapped[str] = mapped_column(String(32), primary_key=True)
    votes: Mapped[int] = mapped_column(BigInteger)


Index("ix_result_rows_centre", ResultRow.table_id, ResultRow.centre)
Index("ix_actas_centre", ActaRecord.election, ActaRecord.centre)


class ScanRun(Base):
    """One ``veedor scan``: who (host, process) and until when it was alive (its heartbeat).
    Kept after it ends: the record of when each scan ran."""

    __tablename__ = "scan_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(String(32))


class ScanClaim(Base):
    """A file (by SHA-256) a running scan is reading: another scan skips it and records it
    as a duplicate once stored, or reads it itself if the claimer died."""

    __tablename__ = "scan_claims"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("scan_runs.id"), index=True)
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CentrePush(Base):
    """One ``veedor push``: a processing centre sending what it read offline (its spool) to
    this store. Kept: the record of which centre sent what, and when."""

    __tablename__ = "centre_pushes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    centre: Mapped[str] = mapped_column(String(100), index=True)
    host: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[str] = mapped_column(String(32))
    images: Mapped[int] = mapped_column(Integer, default=0)
    """Images this push stored for the first time."""
    known: Mapped[int] = mapped_column(Integer, default=0)
    """Images it sent that the store already had (from this centre before, or another)."""


class CentreImage(Base):
    """An image a centre sent: when the centre read it, and when it reached this store (one
    row per centre that sent it; the image itself is stored once)."""

    __tablename__ = "centre_images"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    centre: Mapped[str] = mapped_column(String(100), primary_key=True)
    push_id: Mapped[int] = mapped_column(ForeignKey("centre_pushes.id"), index=True)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pushed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class User(Base):
    """A person of the review desk, known everywhere by a pseudonym (``name``), never by a real name."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    """"reviewer", "supervisor" or "admin"."""
    password_hash: Mapped[str] = mapped_column(String(255))
    """Argon2id; a reset replaces it, and the reset is in ``user_events``."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserEvent(Base):
    """What happened to an account (added, disabled, reset, flagged by its score), append-only."""

    __tablename__ = "user_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)


class ReviewEntry(Base):
    """Numbers one person typed for one mesa, blind (append-only)."""

    __tablename__ = "review_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    acta_pk: Mapped[int] = mapped_column(ForeignKey("actas.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    votes: Mapped[list] = mapped_column(JSON)
    nulos: Mapped[int] = mapped_column(BigInteger)
    blank: Mapped[int] = mapped_column(BigInteger)
    images: Mapped[list] = mapped_column(JSON)
    """SHA-256 of the images the person had in front of them."""
    channel: Mapped[str] = mapped_column(String(8))
    """"cli" or "web"."""


class ReviewDecision(Base):
    """A mesa settled by people, or a settlement withdrawn (append-only; the latest applies)."""

    __tablename__ = "review_decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    acta_pk: Mapped[int] = mapped_column(ForeignKey("actas.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(16))
    """"settled" or "withdrawn"."""
    basis: Mapped[str] = mapped_column(String(16))
    """"agreement", "machine", "supervisor"; for a withdrawal, why ("flagged")."""
    votes: Mapped[list | None] = mapped_column(JSON)
    nulos: Mapped[int | None] = mapped_column(BigInteger)
    blank: Mapped[int | None] = mapped_column(BigInteger)
    entries: Mapped[list] = mapped_column(JSON)
    """The review_entries ids that settled it."""
    copies: Mapped[list] = mapped_column(JSON)
    """SHA-256 of the copies stored when it was settled: a later copy that disagrees reopens it."""


class ReviewLease(Base):
    """A task given to one person until it expires (transient: not evidence)."""

    __tablename__ = "review_leases"
    acta_pk: Mapped[int] = mapped_column(ForeignKey("actas.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReviewIdentification(Base):
    """Which mesa a sheet with no readable id belongs to, as one person typed it (append-only)."""

    __tablename__ = "review_identifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("images.sha256"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    centre: Mapped[str] = mapped_column(String(32))
    mesa: Mapped[int] = mapped_column(Integer)


class ReviewVerdict(Base):
    """What one person said of one copy of a mesa in conflict (append-only): "genuine",
    "forged" or "other" (another mesa's, named by ``other``)."""

    __tablename__ = "review_verdicts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    acta_pk: Mapped[int] = mapped_column(ForeignKey("actas.id"), index=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("images.sha256"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    verdict: Mapped[str] = mapped_column(String(16))
    other: Mapped[str | None] = mapped_column(String(48))


class ReviewCopyCall(Base):
    """A copy's verdict settled by people, or a call withdrawn (``verdict`` None), append-only:
    the latest row for (mesa, copy) applies."""

    __tablename__ = "review_copy_calls"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    acta_pk: Mapped[int] = mapped_column(ForeignKey("actas.id"), index=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("images.sha256"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    verdict: Mapped[str | None] = mapped_column(String(16))
    other: Mapped[str | None] = mapped_column(String(48))
    basis: Mapped[str] = mapped_column(String(16))
    """"agreement" or "supervisor"; for a withdrawal, why ("flagged")."""
    verdicts: Mapped[list] = mapped_column(JSON)
    """The verdicts (ids) that settled it."""


class ReviewSheetLease(Base):
    """A sheet with no readable id given to one person to identify, until it expires."""

    __tablename__ = "review_sheet_leases"
    sha256: Mapped[str] = mapped_column(ForeignKey("images.sha256"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginFailure(Base):
    """A wrong password at the desk's login (transient: the rate limit, shared by its worker
    processes). ``key`` is a hash of the pseudonym and the address: neither is kept."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReviewPin(Base):
    """A supervisor putting a geography unit (a code prefix) first in the queue, or taking it
    off again (append-only: the latest row for a code says whether it is pinned)."""

    __tablename__ = "review_pins"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32))
    pinned: Mapped[bool] = mapped_column(Boolean)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Voter(Base):
    """Where one voter votes, from a voter-to-centre table someone imported (none is bundled).
    ``key`` is a salted hash of the voter's id (:mod:`veedor.store.voters`): the id itself is
    never stored, shown or logged."""

    __tablename__ = "voters"
    key: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    election: Mapped[str] = mapped_column(String(64))
    centre: Mapped[str] = mapped_column(String(16))
    mesa: Mapped[int] = mapped_column(Integer)


class Setting(Base):
    """A value the database keeps for itself (e.g. the voters' hash salt)."""

    __tablename__ = "settings"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)


class LogEntry(Base):
    """One entry of the evidence log (:mod:`veedor.store.evidence_log`): its canonical bytes,
    never changed. ``seq`` is its leaf index in the Merkle tree."""

    __tablename__ = "log_entries"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(32))
    entry: Mapped[bytes] = mapped_column(LargeBinary)


class LogHash(Base):
    """The hash of one complete subtree of the log, at its stored-hash index (``slot``)."""

    __tablename__ = "log_hashes"
    slot: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogCheckpoint(Base):
    """A signed checkpoint of the log (C2SP signed note), as published."""

    __tablename__ = "log_checkpoints"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FieldInvite(Base):
    """A witness's invite code (``veedor field invite``): the server keeps a SHA-256 of the code
    (a random 100-bit token; the phone keeps the code itself), a pseudonym and the geography
    codes (centres, or units that contain them) it was issued for. Never a name or a number."""

    __tablename__ = "field_invites"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pseudonym: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[list] = mapped_column(JSON)
    upload_limit: Mapped[int] = mapped_column(Integer)
    """How many photos and incident reports the code may send, together."""
    send_location: Mapped[bool] = mapped_column(Boolean, default=False)
    """The coordinator's policy: the app sends the phone's position with each photo."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class FieldUpload(Base):
    """One photo a witness sent (one row per image, whoever sent it again): private, as is
    everything here; what the photo says goes through the scan's pipeline like any file."""

    __tablename__ = "field_uploads"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    invite_id: Mapped[int] = mapped_column(ForeignKey("field_invites.id"), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    claimed_centre: Mapped[str | None] = mapped_column(String(32))
    """What the phone read in the QR, if anything: a hint, never evidence."""
    claimed_mesa: Mapped[int | None] = mapped_column(Integer)
    taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the phone says the photo was taken."""
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    location: Mapped[dict | None] = mapped_column(JSON)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    status: Mapped[str | None] = mapped_column(String(16))
    """The file's decision once read (ok, review, rejected); None while queued."""
    centre: Mapped[str | None] = mapped_column(String(32))
    """The centre the reading found (None: none found)."""
    in_scope: Mapped[bool | None] = mapped_column(Boolean)


class FieldIncident(Base):
    """An incident a witness reported at a centre (private; public only as counts)."""

    __tablename__ = "field_incidents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    invite_id: Mapped[int] = mapped_column(ForeignKey("field_invites.id"), index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    """The phone's random id for the report: a report sent twice is stored once."""
    election: Mapped[str] = mapped_column(String(64))
    centre: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(48))
    text: Mapped[str | None] = mapped_column(Text)
    photo_sha256: Mapped[str | None] = mapped_column(String(64))
    observed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    in_scope: Mapped[bool] = mapped_column(Boolean)
    __table_args__ = (UniqueConstraint("invite_id", "client_id"),)
