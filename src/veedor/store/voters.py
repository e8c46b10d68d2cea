"""Where a voter votes: a voter-to-centre table kept as salted hashes of the ids.

The salt is random, made once per database (``settings``): the ids cannot be read back from the
table, nor matched against another copy of the same list. It does not make one id secret from
someone who holds the database and tries every possible id (a national id has few enough
digits): what protects the ids is that they are never stored, shown or logged, and that the
public lookup is rate-limited.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from veedor.store.schema import Setting, Voter

SALT = "voters_salt"
BATCH = 50_000


def salt(session: Session) -> bytes:
    """This database's salt, made the first time it is needed."""
    value = session.get(Setting, SALT)
    if value is None:
        value = Setting(name=SALT, value=secrets.token_bytes(32))
        session.add(value)
        session.flush()
    return value.value


def voter_key(salt: bytes, normal_id: str) -> bytes:
    return hashlib.blake2b(normal_id.encode(), key=salt, digest_size=16).digest()


def replace_voters(session: Session, election: str, rows: Iterable[tuple[str, str, int]]) -> int:
    """The election's voters become ``rows`` (normalised id, centre, mesa), in the caller's
    transaction: a failed import leaves the previous table whole. Returns how many."""
    key = salt(session)
    session.execute(delete(Voter).where(Voter.election == election))
    dialect = session.get_bind().dialect.name
    # The same id twice: the first row says where (the database keeps it, not a set of 20
    # million ids in memory).
    statement = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(
        Voter
    ).on_conflict_do_nothing()
    batch: list[dict[str, object]] = []
    for normal_id, centre, mesa in rows:
        batch.append({"key": voter_key(key, normal_id), "election": election, "centre": centre, "mesa": mesa})
        if len(batch) >= BATCH:
            session.execute(statement, batch)
            batch = []
    if batch:
        session.execute(statement, batch)
    return voters_count(session, election)


def find_voter(session: Session, election: str, normal_id: str) -> tuple[str, int] | None:
    """(centre, mesa) of a normalised id, or None. Nothing is written or kept of the question."""
    value = session.get(Setting, SALT)
    if value is None:
        return None
    row = session.execute(
        select(Voter.centre, Voter.mesa).where(
            Voter.key == voter_key(value.value, normal_id), Voter.election == election
        )
    ).first()
    return (row.centre, row.mesa) if row is not None else None


def voters_count(session: Session, election: str) -> int:
    return session.scalar(select(func.count()).select_from(Voter).where(Voter.election == election)) or 0
