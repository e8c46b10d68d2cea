"""The evidence log: every image, reading and change of state is an entry appended with the
change itself; signed checkpoints; proofs anyone can check; and any edit of the stored log,
or a rewritten history signed again, is named by ``veedor log check``."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

import testdb
from imaging import payload, qr_image, write
from veedor import tlog
from veedor.cli import app as cli
from veedor.pipeline.scan import scan_paths
from veedor.store import evidence_log as log
from veedor.store import open_store
from veedor.store.schema import Image, LogEntry, LogHash

runner = CliRunner()


def scanned(root: Path, mesas: range) -> Path:
    folder = root / f"volunteer-maria-{mesas.start}"
    folder.mkdir(parents=True)
    for mesa in mesas:
        write(folder / f"IMG_maria_{mesa}.png", qr_image(payload(mesa=mesa, votes=[mesa] + [1] * 37)))
    return folder


@pytest.fixture
def logged(tmp_path):
    db = testdb.db_url(tmp_path, "v.db")  # PostgreSQL with VEEDOR_TEST_DB_URL
    assert runner.invoke(cli, ["log", "init", "--launch", "block 850000", "--db", str(db)]).exit_code == 0
    store = open_store(str(db))
    scan_paths([scanned(tmp_path, range(1, 4))], store, evidence_root=tmp_path / "ev", workers=1)
    keys = tmp_path / "keys"
    assert runner.invoke(cli, ["keys", "new", "--name", "veedor.test", "--out", str(keys)]).exit_code == 0
    yield store, db, keys
    store.engine.dispose()


def entries(store) -> list[dict]:
    with store.session() as session:
        return [tlog.parse(e) for e in session.scalars(select(LogEntry.entry).order_by(LogEntry.seq))]


def test_every_image_reading_and_change_is_an_entry_and_no_path_or_name_is(logged, tmp_path):
    store, _db, _keys = logged
    body = entries(store)
    assert body[0]["kind"] == "launch" and body[0]["value"] == "block 850000"
    kinds = [e["kind"] for e in body]
    assert kinds.count("image") == 3 and kinds.count("reading") == 3 and kinds.count("mesa") == 3
    with store.session() as session:
        images = set(session.scalars(select(Image.sha256)))
    assert {e["sha256"] for e in body if e["kind"] == "image"} == images
    readings = {e["image"]: e for e in body if e["kind"] == "reading"}
    assert sorted(r["votes"][0] for r in readings.values()) == [1, 2, 3]
    raw = b"".join(tlog.canonical(e) for e in body)
    assert b"maria" not in raw and b"IMG_" not in raw and str(tmp_path).encode() not in raw
    with store.session() as session:
        assert log.audit(session) == []


def test_an_append_is_part_of_its_transaction(logged):
    store, _db, _keys = logged
    with store.session() as session:
        before = log.log_size(session)
        log.append(session, "test", {"n": 1})
        assert log.log_size(session) == before + 1
        session.rollback()
    with store.session() as session:
        assert log.log_size(session) == before and log.audit(session) == []


def checkpoint(db: Path, keys: Path) -> str:
    made = runner.invoke(cli, ["log", "checkpoint", "--key", str(keys / "veedor.test.key"), "--db", str(db)])
    assert made.exit_code == 0, made.output
    return made.output


def check(db: Path, keys: Path, note: Path | None, state: Path, *extra: str):
    args = ["log", "check", "--db", str(db), "--vkey", str(keys / "veedor.test.vkey"), "--state", str(state)]
    return runner.invoke(cli, [*args, *(["--checkpoint", str(note)] if note else []), *extra])


def test_keys_are_private_and_a_signed_checkpoint_is_accepted_then_extended(logged, tmp_path):
    store, db, keys = logged
    assert os.stat(keys / "veedor.test.key").st_mode & 0o777 == 0o600
    assert (keys / "veedor.test.vkey").read_text().startswith("veedor.test+")
    first = tmp_path / "cp1.txt"
    first.write_text(checkpoint(db, keys))
    text, names = tlog.open_note(first.read_text(), (keys / "veedor.test.vkey").read_text().strip())
    head = tlog.Checkpoint.parse(text)
    assert names == ["veedor.test"] and head.origin == "veedor.test"
    state = tmp_path / "state.txt"
    assert check(db, keys, first, state).exit_code == 0 and state.read_text() == first.read_text()
    scan_paths([scanned(tmp_path, range(4, 6))], store, evidence_root=tmp_path / "ev", workers=1)
    second = tmp_path / "cp2.txt"
    second.write_text(checkpoint(db, keys))
    assert check(db, keys, second, state).exit_code == 0
    observer = tmp_path / "observer"
    runner.invoke(cli, ["keys", "new", "--name", "observer.example", "--out", str(observer)])
    both = runner.invoke(
        cli, ["log", "cosign", str(second), "--key", str(observer / "observer.example.key"), "--db", str(db)]
    )
    assert both.exit_code == 0, both.output
    keys_both = [
        (keys / "veedor.test.vkey").read_text().strip(),
        (observer / "observer.example.vkey").read_text().strip(),
    ]
    assert sorted(tlog.open_note(both.output, keys_both)[1]) == ["observer.example", "veedor.test"]
    lie = tmp_path / "lie.txt"
    signer = (keys / "veedor.test.key").read_text().strip()
    lie.write_text(tlog.sign(tlog.Checkpoint("veedor.test", 3, b"\x07" * 32).format(), signer))
    refused = runner.invoke(
        cli, ["log", "cosign", str(lie), "--key", str(observer / "observer.example.key"), "--db", str(db)]
    )
    assert refused.exit_code == 2 and "do not sign" in " ".join(refused.output.split())
    proof = runner.invoke(cli, ["log", "consistency", str(first), str(second), "--db", str(db)])
    assert proof.exit_code == 0 and json.loads(proof.output)["holds"] is True
    assert runner.invoke(cli, ["log", "init", "--launch", "again", "--db", str(db)]).exit_code == 2


def test_a_proof_of_an_image_checks_against_the_signed_root(logged, tmp_path):
    store, db, keys = logged
    checkpoint(db, keys)
    with store.session() as session:
        sha = session.scalars(select(Image.sha256)).first()
    proved = runner.invoke(cli, ["log", "prove", sha, "--db", str(db)])
    assert proved.exit_code == 0, proved.output
    answer = json.loads(proved.output)
    root = base64.b64decode(answer["root"])
    kinds = {e["entry"]["kind"] for e in answer["entries"]}
    assert {"image", "reading", "mesa"} <= kinds
    for e in answer["entries"]:
        leaf = tlog.leaf_hash(tlog.canonical(e["entry"]))
        proof = [base64.b64decode(h) for h in e["proof"]]
        assert tlog.verify_inclusion(leaf, e["index"], answer["tree_size"], proof, root)
        changed = tlog.leaf_hash(tlog.canonical({**e["entry"], "at": "2024-07-28T18:00:00Z"}))
        assert not tlog.verify_inclusion(changed, e["index"], answer["tree_size"], proof, root)


def test_an_edited_or_deleted_entry_is_named(logged, tmp_path):
    store, db, keys = logged
    with store.session() as session:
        seq, data = session.execute(
            select(LogEntry.seq, LogEntry.entry).where(LogEntry.kind == "reading").limit(1)
        ).one()
        session.execute(
            update(LogEntry)
            .where(LogEntry.seq == seq)
            .values(entry=data.replace(b'"votes":[1', b'"votes":[7'))
        )
        session.commit()
    edited = check(db, keys, None, tmp_path / "s.txt")
    assert edited.exit_code == 1 and f"entry {seq}:" in edited.output
    with store.session() as session:
        session.execute(update(LogEntry).where(LogEntry.seq == seq).values(entry=data))
        session.execute(LogEntry.__table__.delete().where(LogEntry.seq == 2))
        session.commit()
    deleted = check(db, keys, None, tmp_path / "s.txt")
    assert deleted.exit_code == 1 and "entries 2..2 are missing" in deleted.output


def test_a_rewritten_history_signed_again_does_not_extend_what_a_client_saw(logged, tmp_path):
    """Someone with the database and the key changes a number and recomputes every hash: the
    new checkpoint is validly signed, and the client that kept the old one refuses it."""
    store, db, keys = logged
    first = tmp_path / "cp1.txt"
    first.write_text(checkpoint(db, keys))
    state = tmp_path / "state.txt"
    assert check(db, keys, first, state).exit_code == 0
    with store.session() as session:
        rows = session.execute(select(LogEntry.seq, LogEntry.entry).order_by(LogEntry.seq)).all()
        forged = [d.replace(b'"votes":[1,', b'"votes":[9,') for _s, d in rows]
        assert forged != [d for _s, d in rows]
        memory = tlog.MemoryHashes()
        for (seq, _d), data in zip(rows, forged, strict=True):
            session.execute(update(LogEntry).where(LogEntry.seq == seq).values(entry=data))
            memory.append(data)
        session.execute(LogHash.__table__.delete())
        session.execute(
            LogHash.__table__.insert(), [{"slot": i, "hash": h} for i, h in enumerate(memory.hashes)]
        )
        log.append(session, "test", {"more": True})
        session.commit()
    second = tmp_path / "cp2.txt"
    second.write_text(checkpoint(db, keys))
    refused = check(db, keys, second, state)
    assert refused.exit_code == 1 and "does not extend the last one seen" in refused.output
    assert state.read_text() == first.read_text()  # the last good one is kept


def test_the_published_log_is_checked_without_the_database_and_served_the_same(logged, tmp_path, definition):
    from veedor.web.site import create_site
    from veedor.web.static_site import write_static

    store, db, keys = logged
    note = checkpoint(db, keys)
    out = tmp_path / "public"
    write_static(store, definition, tmp_path / "ev", out)
    assert (out / "log" / "checkpoint").read_text() == note
    assert (out / "log" / "verifier-keys.txt").read_text().startswith("veedor.test+")
    state = tmp_path / "state.txt"
    vkey = ["--vkey", str(keys / "veedor.test.vkey")]
    ok = runner.invoke(cli, ["log", "check", "--published", str(out / "log"), *vkey, "--state", str(state)])
    assert ok.exit_code == 0, ok.output
    served = TestClient(create_site(store, definition, tmp_path / "ev"))
    assert served.get("/log/checkpoint").text == note
    tiles = sorted(p.relative_to(out / "log") for p in (out / "log" / "tile").rglob("*") if p.is_file())
    assert tiles and all(served.get(f"/log/{t}").content == (out / "log" / t).read_bytes() for t in tiles)
    tile = out / "log" / next(t for t in tiles if "entries" not in str(t))
    data = bytearray(tile.read_bytes())
    data[5] ^= 1
    tile.write_bytes(bytes(data))
    broken = runner.invoke(
        cli, ["log", "check", "--published", str(out / "log"), *vkey, "--state", str(state)]
    )
    assert broken.exit_code == 1 and "root" in broken.output
