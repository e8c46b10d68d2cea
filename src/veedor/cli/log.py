"""``veedor keys`` and ``veedor log``: the evidence log's keys, signed checkpoints and proofs."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from veedor.cli.common import (
    DB_OPTION,
    _,
    console,
    fail,
    get_store,
    problem,
    said,
)

keys_app = typer.Typer(help="Keys that sign the evidence log.", no_args_is_help=True)
log_app = typer.Typer(
    help="The evidence log: signed checkpoints and proofs.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
    app.add_typer(log_app, name="log")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@keys_app.command("new")
def keys_new(
    name: str = typer.Option(..., "--name", help="Key name."),
    out_dir: Path = typer.Option(..., "--out", help="Folder."),
) -> None:
    """Make an Ed25519 key pair: NAME.key (private) and NAME.vkey (to verify).

    Make an Ed25519 key pair in the signed-note format: NAME.key (private, mode 0600, never put
    it in the database or the evidence store) and NAME.vkey (the verifier key to publish).
    """
    from veedor.tlog import generate_key

    try:
        signer, verifier = generate_key(name)
    except ValueError as exc:
        fail(_("invalid name: {error}", error=said(exc)), _("no spaces or '+'"))
    out_dir.mkdir(parents=True, exist_ok=True)
    private, public = out_dir / f"{name}.key", out_dir / f"{name}.vkey"
    if private.exists() or public.exists():
        fail(_("already exists: {path}", path=private), _("choose another name"))
    # Created with its mode: never readable by others, not even for an instant.
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(signer + "\n")
    public.write_text(verifier + "\n")
    console.print(
        f"[green]{escape(str(private))}[/] ({escape(_('private'))}) · [green]{escape(str(public))}[/]"
    )
    console.print(escape(_("Verifier: {key}", key=verifier)))


@log_app.command("init")
def log_init(
    launch: str = typer.Option(
        ...,
        "--launch",
        help="A public value fixed before election day.",
    ),
    db: str | None = DB_OPTION,
) -> None:
    """Fix the launch value, the log's first entry, before anything else.

    Fix the launch value, the log's first entry: a public value nobody could know before it
    was fixed, so that no alternative history can have been prepared in advance.
    """
    from veedor.store import evidence_log as log

    store = get_store(db, create=True)  # the log starts before anything is scanned
    with store.session() as session:
        try:
            log.start(session, launch)
        except ValueError:
            fail(_("the log has already started"), "un registro tiene un solo lanzamiento")
        session.commit()
        console.print(escape(_("Launch: {value} (entry 0)", value=launch)))


@log_app.command("checkpoint")
def log_checkpoint(
    key: Path = typer.Option(..., "--key", help="Private key file."),
    origin: str | None = typer.Option(None, "--origin", help="The log's identity (first time)."),
    db: str | None = DB_OPTION,
) -> None:
    """Sign the log's size and root and add it to what is published.

    Sign the log's size and root hash (a C2SP checkpoint, a signed note), keep it for the
    public site and print it.
    """
    from veedor.store import evidence_log as log
    from veedor.tlog import Checkpoint, sign, verifier_key

    try:
        signer = key.read_text().strip()
        vkey = verifier_key(signer)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        fail(_("{path}: not a private key ({error})", path=key, error=type(exc).__name__), "veedor keys new")
    store = get_store(db)
    with store.session() as session:
        known = log.setting_text(session, log.ORIGIN)
        if known is not None and origin is not None and origin != known:
            fail(_("the log is already named {name!r}", name=known))
        # The log's name is its key's unless given (C2SP: a checkpoint's origin names the log,
        # and verifiers look the key up by it).
        origin = known or origin or vkey.split("+", 1)[0]
        head = log.head(session)
        try:
            note = sign(Checkpoint(origin, head.size, head.root).format(), signer)
        except ValueError as exc:
            fail(said(exc))
        log.add_checkpoint(session, note, head.size, head.root)
        log.remember_setting_line(session, log.ORIGIN, origin)
        log.remember_setting_line(session, log.VKEYS, vkey)
        session.commit()
    typer.echo(note, nl=False)


@log_app.command("cosign")
def log_cosign(
    checkpoint: Path = typer.Argument(..., help="A signed checkpoint."),
    key: Path = typer.Option(..., "--key", help="Your private key file."),
    vkey: list[Path] = typer.Option([], "--vkey", help="Signers' verifier keys."),
    published: Path | None = typer.Option(None, "--published", help="A published log/."),
    db: str | None = DB_OPTION,
) -> None:
    """Co-sign a checkpoint after checking that its root is the log's.

    Co-sign a checkpoint (another party: an observer mission, a party, a newspaper), after
    recomputing its root from the log (--published: the site's log/ folder; else the database,
    where the co-signed note is then kept and published). Prints the co-signed note.
    """
    from veedor.store import evidence_log as log
    from veedor.tlog import cosign, root_from_tiles, verifier_key

    keys = _vkeys(vkey)
    head, _signers = _read_checkpoint(checkpoint, keys)
    try:
        signer = key.read_text().strip()
        verifier_key(signer)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        fail(_("{path}: not a private key ({error})", path=key, error=type(exc).__name__), "veedor keys new")
    if published is not None:
        try:
            root = root_from_tiles(head.size, lambda p: (published / p).read_bytes(), check_entries=True)
        except (OSError, ValueError) as exc:
            fail(_("cannot recompute the root: {error}", error=said(exc)))
    else:
        with get_store(db).session() as session:
            if head.size > log.log_size(session):
                fail(_("the log is shorter"))
            root = log.head_at(session, head.size)
    if root != head.root_hash:
        fail(_("the root is not the log's: do not sign"))
    note = cosign(checkpoint.read_text(), signer)
    if published is None:
        with get_store(db).session() as session:
            log.add_checkpoint(session, note, head.size, head.root_hash)
            log.remember_setting_line(session, log.VKEYS, verifier_key(signer))
            session.commit()
    typer.echo(note, nl=False)


def _proof(session: Any, seq: int, size: int) -> dict[str, Any]:
    from veedor.store import evidence_log as log
    from veedor.tlog import parse

    # The entry's bytes are its canonical JSON: canonical(entry) gives them back exactly.
    data = log.entry(session, seq)
    assert data is not None
    return {"index": seq, "entry": parse(data), "proof": [_b64(h) for h in log.inclusion(session, seq, size)]}


@log_app.command("prove")
def log_prove(
    image_or_sha: str = typer.Argument(..., help="Image file or its SHA-256."),
    db: str | None = DB_OPTION,
) -> None:
    """Inclusion proofs of an image and of its mesa's readings in the latest checkpoint.

    Print the inclusion proofs of an image's entries and of its mesa's entries against the
    latest signed checkpoint (or the current tree head if none), as JSON.
    """
    from veedor.capture.evidence import file_sha256
    from veedor.store import evidence_log as log

    path = Path(image_or_sha)
    sha = file_sha256(path) if path.is_file() else image_or_sha.lower()
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        fail(_("neither a file nor a SHA-256: {value}", value=image_or_sha))
    store = get_store(db)
    with store.session() as session:
        latest = log.latest_checkpoint(session)
        size = latest.size if latest is not None else log.log_size(session)
        found = log.entries_about(session, sha, size)
        if not found:
            fail(
                _("{sha}…: not in the log", sha=sha[:16]),
                _("scanned here?"),
            )
        result = {
            "image": sha,
            "tree_size": size,
            "checkpoint": latest.note if latest is not None else None,
            "root": _b64(latest.root if latest is not None else log.head(session).root),
            "entries": [_proof(session, seq, size) for seq in found],
        }
    typer.echo(json.dumps(result, ensure_ascii=False, indent=1))


def _read_checkpoint(path: Path, vkeys: list[str]) -> tuple[Any, list[str]]:
    from veedor.tlog import Checkpoint, open_note

    try:
        note = path.read_text()
        if vkeys:
            text, names = open_note(note, vkeys)
        else:
            text, names = note.split("\n\n", 1)[0] + "\n", []
        return Checkpoint.parse(text), names
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        fail(
            f"{path}: {exc}",
            _("a checkpoint signed by that key?"),
        )


VKEY_OPTION = typer.Option([], "--vkey", help="Verifier key file.")


def _vkeys(files: list[Path]) -> list[str]:
    try:
        return [line.strip() for f in files for line in f.read_text().splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        fail(_("cannot read the key: {error}", error=exc))


@log_app.command("consistency")
def log_consistency(
    old: Path = typer.Argument(..., help="Older checkpoint."),
    new: Path = typer.Argument(..., help="Newer checkpoint."),
    vkey: list[Path] = VKEY_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Prove, and check, that a checkpoint extends another: nothing removed or changed.

    Prove, and check, that the newer checkpoint's log extends the older one's: nothing
    removed or changed. Prints the proof as JSON; exit 1 if it does not hold.
    """
    from veedor.store import evidence_log as log
    from veedor.tlog import verify_consistency

    keys = _vkeys(vkey)
    before, _signers = _read_checkpoint(old, keys)
    after, _signers = _read_checkpoint(new, keys)
    if before.origin != after.origin or before.size > after.size:
        fail(_("not the same log, or the old one is larger"))
    store = get_store(db)
    with store.session() as session:
        if after.size > log.log_size(session):
            fail(_("this log has {n} entries, not {size}", n=log.log_size(session), size=after.size))
        proof = log.consistency(session, before.size, after.size)
    holds = verify_consistency(before.size, after.size, before.root_hash, after.root_hash, proof)
    typer.echo(
        json.dumps(
            {
                "old_size": before.size,
                "new_size": after.size,
                "proof": [_b64(h) for h in proof],
                "holds": holds,
            },
            indent=1,
        )
    )
    if not holds:
        console.print(f"[bold red]{escape(_('Does NOT extend:'))}[/] " + escape(_("the log was rewritten")))
        raise typer.Exit(1)


@log_app.command("check")
def log_check(
    checkpoint: Path | None = typer.Option(None, "--checkpoint", help="Checkpoint."),
    vkey: list[Path] = VKEY_OPTION,
    state: Path = typer.Option(Path("veedor-last-checkpoint.txt"), "--state", help="Last one seen."),
    published: Path | None = typer.Option(
        None,
        "--published",
        help="A published log/ folder.",
    ),
    db: str | None = DB_OPTION,
) -> None:
    """Check the log, and that a checkpoint extends the last one seen (else refuse it).

    Check the log: every stored entry still gives its hash and every stored checkpoint its
    root; with --checkpoint, that it is signed (--vkey) and extends the last one this client
    saw (kept in --state), as Go's checksum database client does; refused otherwise.
    """
    from veedor.store import evidence_log as log
    from veedor.tlog import root_from_tiles, verify_consistency

    keys = _vkeys(vkey)
    problems: list[str] = []
    if published is None:
        with get_store(db).session() as session:
            problems += log.audit(session)
            size = log.log_size(session)
            console.print(_("Log: {n:,} entries", n=size))
    if checkpoint is not None or published is not None:
        source = checkpoint or (published / "checkpoint" if published else None)
        assert source is not None
        if not keys and published is not None and (published / "verifier-keys.txt").is_file():
            keys = _vkeys([published / "verifier-keys.txt"])
            console.print("[yellow]" + _("Keys from the site itself") + "[/] " + _("(--vkey is stronger)"))
        if not keys:
            fail(
                _("no verifier key"),
                _("the signer's .vkey"),
            )
        new, names = _read_checkpoint(source, keys)
        console.print(escape(_("Signed by: {names} · size {size:,}", names=", ".join(names), size=new.size)))

        def root_of(size: int) -> bytes:
            if published is not None:
                return root_from_tiles(size, lambda p: (published / p).read_bytes(), check_entries=True)
            with get_store(db).session() as session:
                return log.head_at(session, size)

        try:
            if root_of(new.size) != new.root_hash:
                problems.append(_("the signed root is not the log's"))
        except (OSError, ValueError) as exc:
            problems.append(_("cannot recompute the root: {error}", error=said(exc)))
        if state.is_file():
            old, _signers = _read_checkpoint(state, keys)
            if old.origin != new.origin:
                problems.append(_("another log: {old!r} vs {new!r}", old=old.origin, new=new.origin))
            elif old.size > new.size:
                problems.append(_("the log shrank: {old} → {new}", old=old.size, new=new.size))
            else:
                try:
                    extends = root_of(old.size) == old.root_hash
                    if extends and published is None:
                        with get_store(db).session() as session:
                            proof = log.consistency(session, old.size, new.size)
                        extends = verify_consistency(old.size, new.size, old.root_hash, new.root_hash, proof)
                except (OSError, ValueError):
                    extends = False
                if not extends:
                    problems.append(
                        _(
                            "does not extend the last one seen (size {size}): the log was rewritten",
                            size=old.size,
                        )
                    )
        if not problems:
            state.write_text(source.read_text())
    for line in problems:
        problem(said(line))
    if problems:
        raise typer.Exit(1)
    console.print(f"[green]{_('The log is whole')}[/]")
