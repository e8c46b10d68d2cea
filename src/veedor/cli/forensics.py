"""``veedor forensics``: the tests election experts run, calibrated, over any source of actas and
the imported bulletins (library: :mod:`veedor.forensics`; report: ``publish/forensics_report``)."""

from __future__ import annotations

import json
from pathlib import Path

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
    settings,
)


def register(app: typer.Typer) -> None:
    app.command("forensics")(forensics)


def forensics(
    source: str = typer.Option("scan", "--source", "-s", help="Or 'table:<id|nombre>'."),
    level: str = typer.Option("mesa", "--level", help="mesa | centre | parish."),
    official: list[str] = typer.Option(
        [],
        "--official",
        help="An imported bulletin's key or a bulletins JSON file; default: every imported one.",
    ),
    report: Path | None = typer.Option(None, "--report", help="Report folder."),
    fmt: str = typer.Option("table", "--format", help="table | json."),
    reps: int = typer.Option(199, "--reps", min=19, max=9999, help="Simulations per test."),
    calibration: int = typer.Option(
        10,
        "--calibration",
        min=0,
        max=200,
        help="Calibration elections.",
    ),
    seed: int = typer.Option(0, "--seed", help="Seed: same result every run."),
    lang: str | None = typer.Option(
        None,
        "--lang",
        help="Language of the table and the report's messages: es or en (default: veedor --lang).",
    ),
    db: str | None = DB_OPTION,
    definition: str = DEFINITION_OPTION,
) -> None:
    """Run the forensic battery, calibrated.

    Run the forensic battery (second and last digits, round counts and percentages, the
    turnout-share fingerprint, mesas unlike their neighbours, the bulletins' arithmetic) with
    Monte Carlo nulls at this data's size, Holm's correction, and each test's power beside it.
    Exit 0 whether or not anything is flagged; 2 on bad usage or no data.
    """
    from veedor.forensics import Bulletin
    from veedor.i18n import gettext
    from veedor.publish.forensics_report import (
        LATEST,
        battery_for,
        render_report,
        report_json,
        stored_bulletins,
    )
    from veedor.store.schema import Setting
    from veedor.tally.sources import SourceError

    lang = lang or settings.lang
    if fmt not in ("table", "json") or lang not in ("es", "en") or level not in ("mesa", "centre", "parish"):
        fail("--format table|json, --lang es|en, --level mesa|centre|parish")
    defn = get_definition(definition)
    store = get_store(db)
    with store.session() as session:
        stored = stored_bulletins(session, defn)
        bulletins: list[Bulletin] = []
        for wanted in official or [b.id for b in stored]:
            path = Path(wanted)
            if path.is_file():
                try:
                    entries = json.loads(path.read_text(encoding="utf-8"))
                    bulletins += [Bulletin.from_json(e) for e in entries.get("bulletins", [entries])]
                except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                    fail(_("{name}: not a bulletins file ({error})", name=path.name, error=exc))
            else:
                match = [b for b in stored if b.id == wanted]
                if not match:
                    fail(_("unknown bulletin {key!r}", key=wanted), "veedor import-official")
                bulletins += match
        console.print(_("Running the battery…"), highlight=False)
        try:
            result = battery_for(
                session,
                defn,
                source,
                bulletins,
                level=level,
                reps=reps,
                calibration_sims=calibration,
                seed=seed,
            )
        except SourceError as exc:
            fail(said(exc))
        except ValueError as exc:
            fail(
                _("cannot analyse: {error}", error=said(exc)),
                _("any verified actas?"),
            )
        data = report_json(result, defn, source)
        setting = session.get(Setting, LATEST)
        encoded = json.dumps(data, ensure_ascii=False).encode()
        if setting is None:
            session.add(Setting(name=LATEST, value=encoded))
        else:
            setting.value = encoded
        session.commit()
    if report is not None:
        report.mkdir(parents=True, exist_ok=True)
        (report / "forensics.json").write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n")
        (report / "informe.html").write_text(render_report(data, defn, "es"))
        (report / "report.html").write_text(render_report(data, defn, "en"))
        console.print(f"[green]{escape(str(report))}[/]: informe.html, report.html, forensics.json")
    if fmt == "json":
        typer.echo(
            json.dumps({k: v for k, v in data.items() if k != "figures"}, ensure_ascii=False, indent=1)
        )
        return
    table = Table(title=f"veedor forensics · {escape(source)} · {level}")
    for column in ("test", "candidate", "n", "statistic", "expected", "p", "p (Holm)", "flag"):
        table.add_column(
            column, justify="right" if column in ("n", "statistic", "expected", "p", "p (Holm)") else "left"
        )
    for t in data["tests"]:
        table.add_row(
            t["test"],
            t["candidate"] or "—",
            f"{t['n']:,}",
            *(
                f"{t[k]:.4g}" if t[k] is not None else "—"
                for k in ("statistic", "expected", "p_value", "p_adjusted")
            ),
            "[bold red]FLAG[/]" if t["flag"] else "",
        )
    out.print(table)
    for b in data["bulletins"]:
        text = " ".join(gettext(m["msgid"], lang).format(**m["params"]) for m in b["messages"])
        console.print(f"[bold]{escape(b['bulletin'])}[/]: {escape(text)}")
