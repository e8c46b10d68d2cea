"""``veedor users`` and ``veedor review``: the review desk from the command line.

The same library as the desk's pages (``veedor.store.review``): an entry typed here is
counted exactly like one typed on a page. Passwords are read from standard input only.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from veedor.cli.common import (
    DB_OPTION,
    DEFINITION_OPTION,
    _,
    console,
    fail,
    get_definition,
    get_store,
    out,
    said,
)
from veedor.cli.tally import Format

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from veedor.store.schema import User

T = TypeVar("T")

users_app = typer.Typer(help="Review desk accounts.", no_args_is_help=True)
review_app = typer.Typer(
    help="Mesas people must settle.",
    no_args_is_help=True,
)
PASSWORD_STDIN = typer.Option(False, "--password-stdin", help="Read the password from stdin.")


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
    app.add_typer(review_app, name="review")


def _password(from_stdin: bool) -> str:
    if not from_stdin:
        fail(
            _("the password is only read from stdin"),
            _("add --password-stdin, e.g.: printf '%s\\n' \"$CLAVE\" | veedor ..."),
        )
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        fail(_("no password on stdin"))
    return password


def _refused(exc: Exception) -> NoReturn:
    fail(said(exc), _("nothing was stored"))


def _as_person(db: str | None, name: str, password_stdin: bool, act: Callable[[Session, User], T]) -> T:
    """Do ``act`` as the account ``name`` (password from standard input), in one transaction:
    refused, with nothing stored, on a wrong password or anything the library refuses."""
    from veedor.store.accounts import ReviewError, authenticate
    from veedor.store.db import serialize_writes

    password = _password(password_stdin)
    with get_store(db).session() as session:
        try:
            person = authenticate(session, name, password)
            serialize_writes(session)  # a desk may be writing beside us: one writer at a time
            result = act(session, person)
        except ReviewError as exc:
            session.rollback()
            _refused(exc)
        session.commit()
    return result


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="Pseudonym (never a real name)."),
    role: str = typer.Option(..., "--role", help="reviewer | supervisor | admin"),
    password_stdin: bool = PASSWORD_STDIN,
    db: str | None = DB_OPTION,
) -> None:
    """Add an account (password hashed with Argon2)."""
    from veedor.store.accounts import ReviewError, add_user

    password = _password(password_stdin)
    with get_store(db, create=True).session() as session:  # accounts come before the first scan
        try:
            add_user(session, name, role, password)
        except ReviewError as exc:
            _refused(exc)
        session.commit()
    console.print(escape(_("account {name} ({role})", name=name, role=role)))


@users_app.command("list")
def users_list(db: str | None = DB_OPTION) -> None:
    """Accounts, role, state and score."""
    from sqlalchemy import select

    from veedor.store.accounts import is_flagged
    from veedor.store.review import reviewer_scores
    from veedor.store.schema import User

    with get_store(db).session() as session:
        scored = reviewer_scores(session)
        table = Table(_("pseudonym"), _("role"), _("state"), _("points"))
        for user in session.scalars(select(User).order_by(User.name)):
            state = _("disabled") if user.disabled_at else _("active")
            if is_flagged(session, user.id):
                state = f"[red]{_('flagged')}[/]"
            points = scored.get(user.name, {}).get("points", 0)
            table.add_row(escape(user.name), user.role, state, str(points))
    out.print(table)


@users_app.command("disable")
def users_disable(name: str = typer.Argument(...), db: str | None = DB_OPTION) -> None:
    """Disable an account (its history stays)."""
    from veedor.store.accounts import ReviewError, disable_user

    with get_store(db).session() as session:
        try:
            disable_user(session, name)
        except ReviewError as exc:
            _refused(exc)
        session.commit()
    console.print(escape(_("{name}: disabled", name=name)))


@users_app.command("reset")
def users_reset(
    name: str = typer.Argument(...), password_stdin: bool = PASSWORD_STDIN, db: str | None = DB_OPTION
) -> None:
    """Set a new password."""
    from veedor.store.accounts import ReviewError, reset_password

    password = _password(password_stdin)
    with get_store(db).session() as session:
        try:
            reset_password(session, name, password)
        except ReviewError as exc:
            _refused(exc)
        session.commit()
    console.print(escape(_("{name}: password reset", name=name)))


@review_app.command("list")
def review_list(
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table | json | csv"),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """Every mesa people must settle, with the reason, most electors first.

    Every mesa people must settle, with the reason in words, most registered electors first.
    """
    from veedor.store.identify import unidentified
    from veedor.store.review import tasks

    defn = get_definition(definition)
    with get_store(db).session() as session:
        rows = [t.as_dict(reviewer_view=False) for t in tasks(session, defn)]
        rows += [_sheet_task(sha) for sha in unidentified(session)]
    if fmt is Format.json:
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return
    if fmt is Format.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(["mesa", "state", "needs", "entries", "electors", "reason"])
        for r in rows:
            writer.writerow(
                [r["mesa"], r["state"], r["needs"], r["entries"], r["electors"] or "", r["reason"]]
            )
        return
    table = Table("mesa", _("state"), _("needs"), _("entries"), _("reason"))
    for r in rows:
        table.add_row(
            r["mesa"] or r["image"][:12], r["state"], r["needs"], str(r["entries"]), escape(said(r["reason"]))
        )
    out.print(table)
    console.print(_("{n:,} mesas to settle", n=len(rows)))


def _sheet_task(sha: str) -> dict[str, Any]:
    return {
        "mesa": None,
        "image": sha,
        "state": "review",
        "reason": _("which mesa this sheet belongs to could not be read: say which"),
        "needs": "identify",
        "entries": 0,
        "electors": None,
    }


@review_app.command("identify")
def review_identify(
    image: str = typer.Argument(..., help="The sheet's SHA-256."),
    mesa: str = typer.Argument(..., help="The mesa the sheet shows."),
    as_user: str = typer.Option(..., "--as", help="Who is identifying."),
    password_stdin: bool = PASSWORD_STDIN,
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """Say which mesa a sheet with no readable id belongs to.

    Say which mesa a sheet with no readable id belongs to. Two people who agree (or one
    supervisor) attach it to that mesa, whose numbers are then typed blind like any other.
    """
    from veedor.store.identify import identify

    defn = get_definition(definition)
    result = _as_person(
        db, as_user, password_stdin, lambda s, u: identify(s, defn, u, image.strip().lower(), mesa)
    )
    if result.settled:
        console.print(f"[green]{escape(_('sheet attached to mesa {code}', code=result.code))}[/]")
    else:
        console.print(_("stored; needs another that agrees"))


@review_app.command("pin")
def review_pin(
    code: str = typer.Argument(..., help="A unit's code."),
    as_user: str = typer.Option(..., "--as", help="The supervisor."),
    off: bool = typer.Option(False, "--off", help="Take it off again."),
    password_stdin: bool = PASSWORD_STDIN,
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """Put a unit's mesas first in the queue."""
    from veedor.store.review import pin

    defn = get_definition(definition)
    _as_person(db, as_user, password_stdin, lambda s, u: pin(s, defn, u, code, pinned=not off))
    console.print(f"{escape(code)}: {_('unpinned') if off else _('pinned first')}")


@review_app.command("enter")
def review_enter(
    mesa: str = typer.Argument(..., help="E.g. 040202001.01"),
    as_user: str = typer.Option(..., "--as", help="Who is typing."),
    values: str = typer.Option(
        ...,
        "--values",
        help='One per ballot line], "nulos": N, "blank": N}',
    ),
    password_stdin: bool = PASSWORD_STDIN,
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """Type a mesa's numbers blind, as on the review desk's page.

    Type a mesa's numbers blind, exactly as on the desk's page: refused, with nothing stored,
    on a wrong password or numbers that do not fit the ballot.
    """
    from veedor.store.review import enter

    try:
        parsed: Any = json.loads(values)
    except json.JSONDecodeError as exc:
        fail(_("--values is not valid JSON: {error}", error=exc))
    defn = get_definition(definition)
    result = _as_person(
        db, as_user, password_stdin, lambda s, u: enter(s, defn, u, mesa, parsed, channel="cli")
    )
    if result.settled:
        console.print(
            escape(
                _("mesa {mesa} settled ({needs}): {state}", mesa=mesa, needs=result.needs, state=result.state)
            )
        )
    else:
        console.print(escape(_("mesa {mesa}: entry stored; needs: {needs}", mesa=mesa, needs=result.needs)))
    for name in result.flagged:
        console.print(
            f"[bold red]{escape(name)}[/]: "
            + escape(_("flagged by their score; their mesas go back to the queue"))
        )


@review_app.command("judge")
def review_judge(
    mesa: str = typer.Argument(..., help="E.g. 040202001.01"),
    as_user: str = typer.Option(..., "--as", help="Who is judging."),
    copies: str = typer.Option(
        ...,
        "--copies",
        help='Of the copy>": "genuine" | "forged" | "CENTRO.MESA de otra mesa"}',
    ),
    password_stdin: bool = PASSWORD_STDIN,
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """Say which copy of a mesa in conflict is its acta, which is forged or another mesa's.

    Say which copy of a mesa in conflict is its acta, which is forged, which is another
    mesa's (name that mesa). Two reviewers who agree, or one supervisor, settle each copy; the
    copies set aside no longer count, and the mesa is decided from those left.
    """
    from veedor.store.review import judge_copies

    try:
        parsed: Any = json.loads(copies)
    except json.JSONDecodeError as exc:
        fail(_("--copies is not valid JSON: {error}", error=exc))
    defn = get_definition(definition)
    result = _as_person(db, as_user, password_stdin, lambda s, u: judge_copies(s, defn, u, mesa, parsed))
    for sha, call in result.calls.items():
        said = (
            call.verdict + (f" {call.other}" if call.other else "") if call.verdict else f"— ({call.basis})"
        )
        console.print(f"  {sha[:12]}: {escape(said)}")
    console.print(
        escape(_("mesa {mesa}: {state}; needs: {needs}", mesa=mesa, state=result.state, needs=result.needs))
    )


@review_app.command("show")
def review_show(
    mesa: str = typer.Argument(...),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """A mesa's history on the review desk: every entry and decision, in order (JSON)."""
    from veedor.store.accounts import ReviewError
    from veedor.store.review import record_for, settlement_of, trail

    defn = get_definition(definition)
    with get_store(db).session() as session:
        try:
            record = record_for(session, defn, mesa)
        except ReviewError as exc:
            fail(said(exc))
        data = {
            "mesa": mesa,
            "state": record.status,
            "source": record.source,
            "votes": record.votes,
            "nulos": record.nulos,
            "needs": settlement_of(session, record, defn).basis,
            "trail": trail(session, record),
        }
    json.dump(data, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


@review_app.command("export")
def review_export(db: str | None = DB_OPTION, definition: str = DEFINITION_OPTION) -> None:
    """JSON lines."""
    defn = get_definition(definition)
    with get_store(db).session() as session:
        for line in _export(session, defn.id):
            sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")


def _export(session: Session, election: str) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from veedor.store.review import trail
    from veedor.store.schema import ActaRecord, ReviewEntry, ReviewVerdict

    touched = select(ReviewEntry.acta_pk).union(select(ReviewVerdict.acta_pk))
    records = session.scalars(
        select(ActaRecord)
        .where(ActaRecord.id.in_(touched), ActaRecord.election == election)
        .order_by(ActaRecord.centre, ActaRecord.mesa)
    )
    return [
        {
            "mesa": f"{r.centre}.{r.mesa:02d}",
            "state": r.status,
            "source": r.source,
            "trail": trail(session, r),
        }
        for r in records
    ]


@review_app.command("scores")
def review_scores(db: str | None = DB_OPTION) -> None:
    """Each reviewer's score."""
    from veedor.store.review import reviewer_scores

    with get_store(db).session() as session:
        json.dump(reviewer_scores(session), sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
