"""Official figures (the authority's bulletins, and per-mesa data when it publishes them).

Kept apart from the verified numbers: an official figure is a claim to compare with, never a count.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from veedor.store.schema import Base

NATIONAL = "national"
MESA = "mesa"


class OfficialSource(Base):
    """One bulletin or per-mesa publication of the authority, as imported."""

    __tablename__ = "official_sources"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    election: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(100))
    authority: Mapped[str | None] = mapped_column(String(200))
    announced_at: Mapped[str | None] = mapped_column(String(40))
    actas_pct: Mapped[float | None] = mapped_column(Float)
    """Share of actas the authority said it had counted (None: not said)."""
    registered_electors: Mapped[int | None] = mapped_column(BigInteger)
    sources: Mapped[list | None] = mapped_column(JSON)
    caveat: Mapped[str | None] = mapped_column(Text)
    path: Mapped[str] = mapped_column(Text)
    file_sha256: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(32))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (UniqueConstraint("election", "key"),)


class OfficialUnit(Base):
    """The official figures of one geography unit (level ``national``, a definition level, or ``mesa``)."""

    __tablename__ = "official_units"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("official_sources.id", ondelete="CASCADE"), index=True)
    level: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(32))
    mesa: Mapped[int] = mapped_column(Integer, default=0)
    """Mesa number at level ``mesa`` (code is then the centre); 0 otherwise."""
    electors: Mapped[int | None] = mapped_column(BigInteger)
    voters: Mapped[int | None] = mapped_column(BigInteger)
    valid: Mapped[int | None] = mapped_column(BigInteger)
    nulos: Mapped[int | None] = mapped_column(BigInteger)
    others: Mapped[int | None] = mapped_column(BigInteger)
    """Votes of candidates the publication lumps together as 'others' (not in official_votes)."""
    __table_args__ = (UniqueConstraint("source_id", "level", "code", "mesa"),)


class OfficialVotes(Base):
    __tablename__ = "official_votes"
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("official_units.id", ondelete="CASCADE"), primary_key=True
    )
    candidate: Mapped[str] = mapped_column(String(32), primary_key=True)
    votes: Mapped[int] = mapped_column(BigInteger)
