"""``veedor mesas`` and ``veedor mesa``: each mesa's state from all its copies, and why."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import typer

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
    from rich.table import Table

    from veedor.store.mesas import MesaDetail, MesaRow

STATES = ("ok", "unconfirmed", "review", "conflict")


def register(app: typer.Typer) -> None:
    app.command("mesas")(mesas_cmd)
    app.command("mesa")(mesa_cmd)


def mesas_cmd(
    state: str | None = typer.Option(
        None,
        "--state",
        help="Only mesas in this state: ok, unconfirmed, review, conflict.",
    ),
    alerts: bool = typer.Option(False, "--alerts", help="Only mesas with alerts."),
    under: str = typer.Option("", "--under", help="Geography code (centre prefix)."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table | csv | json"),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """List the scanned mesas with their state, copies and alerts.

    List scanned mesas with their state (counted or not, and why), copies per grade and alerts.
    States: ok (counted), unconfirmed (QR codes only: preliminary figure only), review, conflict.
    """
    from veedor.store.mesas import list_mesas

    if state is not None and state not in STATES:
        fail(_("unknown state {state!r}", state=state), _("use one of: {states}", states=", ".join(STATES)))
    defn = get_definition(definition)
    with get_store(db).session() as session:
        rows = list_mesas(session, defn, state=state, with_alerts=alerts, centre_prefix=under)
    if fmt is Format.json:
        json.dump([r.as_dict() for r in rows], sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    elif fmt is Format.csv:
        import csv

        writer = csv.writer(sys.stdout)
        writer.writerow(["code", "state", "counted", "copies", "alerts", "reason"])
        for r in rows:
            writer.writerow([r.code, r.state, r.state == "ok", _copies(r), len(r.alerts), r.reason or ""])
    else:
        out.print(_table(rows))
        if not rows:
            console.print(_("No mesa matches; veedor scan adds them."), markup=False)


def _copies(row: MesaRow) -> str:
    return " ".join(f"{grade}:{n}" for grade, n in sorted(row.copies.items()))


def _table(rows: list[MesaRow]) -> Table:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"{len(rows):,} mesas")
    for header in ("mesa", _("state"), _("copies"), _("alerts"), _("why")):
        table.add_column(header)
    for r in rows[:500]:
        color = {"ok": "green", "conflict": "red", "unconfirmed": "yellow"}.get(r.state, "")
        table.add_row(
            r.code,
            f"[{color}]{r.state}[/]" if color else r.state,
            _copies(r),
            str(len(r.alerts)) if r.alerts else "",
            escape(said(r.reason or "")),
        )
    if len(rows) > 500:
        table.caption = _("showing 500 of {n:,}; use --format csv or json for all", n=len(rows))
    return table


def mesa_cmd(
    code: str = typer.Argument(..., help="E.g. 040202001.01"),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table | json"),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """One mesa: its state, every copy side by side and its history.

    One mesa: its state, every copy side by side (image SHA-256, grade, numbers) and every
    change of its state with the copy that caused it.
    """
    from veedor.store.mesas import mesa_detail

    if fmt is Format.csv:
        fail(_("one mesa is not a CSV table"), _("use --format table or json"))
    centre, _dot, number = code.rpartition(".")
    if not centre or not number.isdigit():
        fail(_("invalid mesa code {code!r}", code=code), _("use CENTRE.MESA, e.g. 040202001.01"))
    defn = get_definition(definition)
    with get_store(db).session() as session:
        detail = mesa_detail(session, defn, centre, int(number))
    if detail is None:
        fail(_("mesa {code} not scanned", code=code), _("veedor mesas lists the mesas"))
    if fmt is Format.json:
        json.dump(detail.as_dict(), sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return
    _print_detail(detail, defn.ballot)


def _print_detail(detail: MesaDetail, ballot: tuple) -> None:
    from rich.markup import escape
    from rich.table import Table

    row = detail.row
    out.print(
        f"[bold]mesa {row.code}[/]: {row.state} — {escape(said(row.reason) if row.reason else _('counted'))}"
    )
    for alert in row.alerts:
        out.print(f"[bold red]{escape(_('alert'))}[/] {escape(said(alert['detail']))}")
    # Copies that say the same are one column: a mesa can have dozens of copies.
    groups: dict[tuple, list[dict]] = {}
    for copy in detail.copies:
        printed = tuple(copy["printed"] or ()) if copy["grade"] == "contradictory" else ()
        key = (copy["grade"], tuple(copy["votes"]), copy["nulos"], printed)
        groups.setdefault(key, []).append(copy)
    table = Table(title=escape(_("what the copies say (— = not read)")))
    table.add_column(_("line"))
    if row.votes is not None:
        table.add_column(f"mesa\n({row.state})", justify="right")
    for (grade, *_rest), members in groups.items():
        table.add_column(f"{grade} ×{len(members)}\n{members[0]['sha256'][:8]}", justify="right")

    def cell(value: int | None) -> str:
        return "—" if value is None else str(value)

    labels = [p.acronym for p in ballot] + ["nulos"]
    for i, label in enumerate(labels):
        cells = []
        if row.votes is not None:
            cells.append(cell(row.nulos if label == "nulos" else row.votes[i]))
        for members in groups.values():
            copy = members[0]
            value = copy["nulos"] if label == "nulos" else copy["votes"][i]
            shown = (
                copy["printed_nulos"] if label == "nulos" else (copy["printed"] or [None] * len(ballot))[i]
            )
            text = cell(value)
            if row.votes is not None and value is not None:
                want = row.nulos if label == "nulos" else row.votes[i]
                text = text if value == want else f"[bold red]{text}[/]"
            if copy["grade"] == "contradictory" and shown is not None and shown != value:
                text += f"\n[red]{escape(_('printed {n}', n=shown))}[/]"
            cells.append(text)
        table.add_row(label, *cells)
    out.print(table)
    images = Table(title=_("copies"))
    for header in (_("image (SHA-256)"), _("grade"), _("file"), _("source")):
        images.add_column(header)
    for copy in detail.copies:
        images.add_row(copy["sha256"], copy["grade"], copy["file_status"], copy["source"] or "")
    out.print(images)
    history = Table(title=_("history"))
    for header in (_("when"), _("state"), _("before"), _("cause"), _("copy")):
        history.add_column(header)
    for event in detail.history:
        history.add_row(
            event["at"][:19],
            event["state"],
            event["previous"] or "",
            event["cause"],
            (event["sha256"] or "")[:12],
        )
    out.print(history)
