"""Dispute packs (``veedor evidence``): a pack verifies on its own, with veedor and with the
standard-library script inside it; one byte changed in an image, a log entry or a proof is named;
no volunteer's path, file name or photo metadata is in it; its summary is one printable page in
each language; a real acta makes a pack that verifies."""

from __future__ import annotations

import ast
import base64
import hashlib
import io
import json
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import typer
from PIL import Image
from sqlalchemy import select
from typer.testing import CliRunner

from conftest import ACTAS, V1
from imaging import payload, qr_image, write
from veedor import i18n, tlog
from veedor.cli import evidence as evidence_cli
from veedor.ingest.tables import import_results_table
from veedor.pipeline.scan import scan_paths
from veedor.publish import dispute_check as checker
from veedor.publish.dispute import DisputeError, check_pack, write_pack
from veedor.simulate.render import ActaRenderer, ActaSpec
from veedor.store import evidence_log, open_store
from veedor.store.accounts import add_user, user_named
from veedor.store.review import enter
from veedor.store.schema import ActaRecord, ImageName, Mesa

CENTRE = "040202001"
VOTES_1 = [0, 2, 0, 0, 5, 1, *[0] * 20, 97, 3, *[0] * 10]
TRUE_3 = [3] + [1] * 37
ORIGIN = "veedor.test/log"
ARTIST = "Maria Gonzalez Fotografa"
REAL = Path("/work/shared/data/actas")


@pytest.fixture(scope="module")
def made(tmp_path_factory, definition):
    """Mesa 1: a rendered acta, a JPEG with its taker's name in EXIF, counted, with a published
    figure 5 votes off. Mesa 3: two QR copies that disagree, settled by two people after the
    checkpoint. Mesa 4: two copies that disagree, left so. A signed checkpoint of the log after
    the scan; an unsigned pack of mesa 4 made before it."""
    root = tmp_path_factory.mktemp("dispute")
    inbox = root / "voluntaria-maria-gonzalez"
    inbox.mkdir()
    acta = ActaRenderer(definition).render(
        ActaSpec(CENTRE, 1, tuple(VOTES_1), 2, electors=400), np.random.default_rng(1)
    )
    exif = Image.Exif()
    exif[0x013B] = ARTIST
    Image.fromarray(acta.gray).save(inbox / "foto-maria-gonzalez-mesa-uno.jpg", "JPEG", quality=92, exif=exif)
    write(inbox / "whatsapp-pedro-perez-tres-a.png", qr_image(payload(mesa=3, votes=TRUE_3)))
    write(inbox / "whatsapp-pedro-perez-tres-b.png", qr_image(payload(mesa=3, votes=[4] + [1] * 37)))
    write(inbox / "whatsapp-pedro-perez-cuatro-a.png", qr_image(payload(mesa=4, votes=[7] + [2] * 37)))
    write(inbox / "whatsapp-pedro-perez-cuatro-b.png", qr_image(payload(mesa=4, votes=[8] + [2] * 37)))
    store = open_store(str(root / "veedor.db"))
    scan_paths([inbox], store, evidence_root=root / "ev", workers=1)
    table = root / "tabla.csv"
    header = V1.read_text(encoding="utf-8-sig").splitlines()[0]
    totals = definition.totals_by_candidate(VOTES_1)
    totals["NM"] += 5
    cells = ["4", "EDO. ARAGUA", "2", "MP. X", "2", "PQ. Y", CENTRE.lstrip("0"), "1", "400"]
    cells += [str(sum(totals.values())), "2", *(str(totals[c.code]) for c in definition.candidates), "x.jpg"]
    table.write_text(header + "\n" + ",".join(cells) + "\n", encoding="utf-8")
    signer, vkey = tlog.generate_key(ORIGIN)
    (root / "log.vkey").write_text(vkey + "\n")
    with store.session() as session:
        import_results_table(session, table, definition)
        for name in ("ana", "beto"):
            add_user(session, name, "reviewer", "secret-" + name)
        session.commit()
        unsigned = write_pack(session, definition, root / "ev", CENTRE, 4, root / "unsigned")
        head = evidence_log.head(session)
        note = tlog.sign(tlog.Checkpoint(ORIGIN, head.size, head.root).format(), signer)
        evidence_log.add_checkpoint(session, note, head.size, head.root)
        evidence_log.remember_setting_line(
            session, evidence_log.VKEYS, vkey
        )  # as `veedor log checkpoint` does
        session.commit()
        for name in ("ana", "beto"):
            enter(session, definition, user_named(session, name), f"{CENTRE}.03", {"votes": TRUE_3})
        session.commit()
        states = {r.mesa: r.status for r in session.scalars(select(ActaRecord))}
        paths = list(session.scalars(select(ImageName.path)))
    assert states == {1: "ok", 3: "ok", 4: "conflict"}, states
    out = root / "packs"
    with store.session() as session:
        packs = {
            m: write_pack(session, definition, root / "ev", CENTRE, m, out, verifier_keys=[vkey])
            for m in (1, 3)
        }
        public = write_pack(session, definition, root / "ev", CENTRE, 1, root / "public", public=True)
    yield {
        "root": root,
        "store": store,
        "packs": packs,
        "public": public,
        "unsigned": unsigned,
        "vkey": vkey,
        "paths": paths,
    }
    store.engine.dispose()


def zip_of(folder: Path) -> Path:
    return folder.parent / f"{folder.name}.zip"


def standalone(pack: Path, *args: str, site: bool = True) -> subprocess.CompletedProcess[str]:
    """check_pack.py run by a bare Python (-I: no veedor on the path; -S: no site-packages)."""
    flags = ["-I"] if site else ["-I", "-S"]
    return subprocess.run(
        [sys.executable, *flags, "check_pack.py", *args], cwd=pack, capture_output=True, text=True, timeout=60
    )


def test_a_pack_verifies_on_its_own_with_both_checkers(made):
    folder = made["packs"][1]
    assert check_pack(folder) == [] and check_pack(zip_of(folder)) == []
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["signed"] and manifest["copies"] == "original"
    assert (folder / "log" / "checkpoint").read_text().startswith(ORIGIN + "\n")
    # Entries are the log's bytes, their proofs lead to the signed root: recomputed here too.
    for index in manifest["entries"]:
        proof = json.loads((folder / checker.proof_path(index)).read_text())
        leaf = tlog.leaf_hash((folder / checker.entry_path(index)).read_bytes())
        hashes = [base64.b64decode(h) for h in proof["proof"]]
        assert tlog.verify_inclusion(leaf, index, proof["tree_size"], hashes, base64.b64decode(proof["root"]))
    kinds = [json.loads((folder / checker.entry_path(i)).read_text())["kind"] for i in manifest["entries"]]
    assert {"image", "reading", "mesa", "results_table"} <= set(kinds)
    ran = standalone(folder, "--vkey", str(made["root"] / "log.vkey"))
    assert ran.returncode == 0 and "OK: the pack verifies" in ran.stdout, ran.stdout + ran.stderr
    assert f"signed by {ORIGIN}" in ran.stdout
    # Without the cryptography package it checks everything else, and says how to check the rest.
    bare = standalone(folder, str(zip_of(folder)), site=False)
    assert bare.returncode == 0 and "pip install cryptography" in bare.stdout, bare.stdout + bare.stderr


def test_the_checker_in_the_pack_uses_the_standard_library_alone(made):
    source = (made["packs"][1] / "check_pack.py").read_text()
    assert source == Path(checker.__file__).read_text()
    tree = ast.parse(source)
    top = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert top - {"__future__"} <= sys.stdlib_module_names, top
    deeper = {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node not in tree.body
    }
    assert deeper <= {"cryptography"}  # optional, for the signature only


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def _rehash(folder: Path) -> None:
    """Make the manifest agree with a change, as a forger would."""
    manifest = json.loads((folder / "manifest.json").read_text())
    for name in manifest["files"]:
        manifest["files"][name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("what", ["image", "entry", "proof"])
def test_one_byte_changed_is_named_by_both_checkers(made, tmp_path, what):
    folder = tmp_path / "pack"
    shutil.copytree(made["packs"][1], folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    index = manifest["entries"][-1]
    name = {
        "image": manifest["images"][0]["file"],
        "entry": checker.entry_path(index),
        "proof": checker.proof_path(index),
    }[what]
    data = (folder / name).read_bytes()
    # In a proof, one hex digit of a hash (the file stays valid JSON); elsewhere, the middle byte.
    at = data.index(b'"proof": [\n  "') + 15 if what == "proof" else len(data) // 2
    (folder / name).write_bytes(_flip(data, at))
    for problems in (check_pack(folder), checker.check(folder).problems):
        assert any(p.startswith(name) for p in problems), problems
    ran = standalone(folder)
    assert ran.returncode == 1 and name in ran.stdout
    # A forger who also rewrites the manifest is still caught, by the proofs or the log.
    _rehash(folder)
    problems = check_pack(folder)
    assert problems and all(name in p for p in problems), problems
    # Inside the zip, the same.
    archive = tmp_path / "pack.zip"
    with zipfile.ZipFile(zip_of(made["packs"][1])) as src, zipfile.ZipFile(archive, "w") as dst:
        for member in src.infolist():
            body = src.read(member)
            dst.writestr(member, _flip(body, at) if member.filename.endswith("/" + name) else body)
    assert any(name in p for p in check_pack(archive))


def test_the_mesa_numbers_are_bound_to_the_log(made, tmp_path):
    folder = tmp_path / "pack"
    shutil.copytree(made["packs"][1], folder)
    view = json.loads((folder / "mesa.json").read_text())
    view["lines"][26]["votes"] += 100
    (folder / "mesa.json").write_text(json.dumps(view))
    _rehash(folder)
    problems = check_pack(folder)
    assert len(problems) == 1 and problems[0].startswith("mesa.json"), problems


def test_no_path_file_name_or_photo_metadata_leaves_in_a_pack(made):
    secrets = set()
    for path in made["paths"]:
        secrets |= {path, Path(path).name, Path(path).stem, Path(path).parent.name}
    assert len(made["paths"]) == 5
    public_text = []
    for folder in (*made["packs"].values(), made["public"], made["unsigned"]):
        with zipfile.ZipFile(zip_of(folder)) as z:
            members = {n.split("/", 1)[1]: z.read(n) for n in z.namelist()}
        assert members == {
            p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
        }
        for name, data in members.items():
            for secret in secrets:
                assert secret not in name and secret.encode() not in data, (folder.name, name, secret)
            # The summaries' thumbnails are metadata-free even in a pack of originals.
            if name.endswith(".html"):
                for uri in re.findall(r'src="data:image/jpeg;base64,([^"]+)"', data.decode()):
                    thumb = base64.b64decode(uri)
                    assert ARTIST.encode() not in thumb and not Image.open(io.BytesIO(thumb)).getexif()
        if folder == made["public"]:
            public_text = list(members.values())
    # The public pack's image has no EXIF; the original pack's keeps it (hence the warning).
    assert public_text and not any(ARTIST.encode() in data for data in public_text)
    original = next((made["packs"][1] / "images").iterdir()).read_bytes()
    assert ARTIST.encode() in original


def test_a_public_pack_says_its_hashes_differ_and_still_verifies(made):
    folder = made["public"]
    report = checker.check(folder)
    assert report.problems == [] and any("SHA-256 differs" in n for n in report.notes)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["copies"] == "public" and manifest["signed"] is True
    image = manifest["images"][0]
    assert image["file"].endswith(".public.jpg")
    # No key was given: the log's own (remembered when it signed) came along, and checks it.
    assert [p.name for p in (folder / "log" / "keys").iterdir()] == [
        f"veedor.test_log.{made['vkey'].split('+')[1]}.vkey"
    ]
    assert any(f"signed by {ORIGIN}" in n for n in report.notes)
    assert hashlib.sha256((folder / image["file"]).read_bytes()).hexdigest() != image["sha256"]


def test_entries_newer_than_the_checkpoint_are_proven_through_the_head(made):
    folder = made["packs"][3]
    assert check_pack(folder) == []
    head = json.loads((folder / "log" / "head.json").read_text())
    checkpoint = tlog.Checkpoint.parse((folder / "log" / "checkpoint").read_text().split("\n\n")[0] + "\n")
    assert head["tree_size"] > checkpoint.size and (folder / "log" / "consistency.json").is_file()
    entries = [json.loads(p.read_bytes()) for p in sorted((folder / "log" / "entries").iterdir())]
    typed = [e for e in entries if e["kind"] == "review_entry"]
    assert sorted(e["by"] for e in typed) == ["ana", "beto"]  # pseudonyms, as the log holds them
    assert not any(e.get("mesa") in (1, 4) for e in entries)  # other mesas' entries stay out
    view = json.loads((folder / "mesa.json").read_text())
    assert view["source"] == "people" and {s.get("by") for s in view["people"]} >= {"ana", "beto"}
    # A consistency proof that does not hold is named.
    broken = json.loads((folder / "log" / "consistency.json").read_text())
    broken["proof"][0] = base64.b64encode(bytes(32)).decode()
    files = checker.load(folder) | {"log/consistency.json": json.dumps(broken).encode()}
    assert any(p.startswith("log/consistency.json") for p in checker.check_files(files).problems)


def test_an_unsigned_pack_says_so(made):
    folder = made["unsigned"]
    report = checker.check(folder)
    assert report.problems == [] and any("unsigned pack" in n for n in report.notes)
    assert json.loads((folder / "manifest.json").read_text())["signed"] is False
    assert not (folder / "log" / "checkpoint").exists() and (folder / "log" / "head.json").is_file()
    assert "Unsigned pack" in (folder / "summary.html").read_text()


def test_the_summary_is_one_printable_page_per_language(made, definition, tmp_path, monkeypatch):
    real = i18n.gettext
    # The catalogs may not hold the new messages yet: mark what Spanish asks for, to see it asked.
    monkeypatch.setattr(
        i18n, "gettext", lambda m, lang="es": f"«{real(m, lang)}»" if lang == "es" else real(m, lang)
    )
    with made["store"].session() as session:
        folders = {
            m: write_pack(session, definition, made["root"] / "ev", CENTRE, m, tmp_path) for m in (1, 4)
        }
    for mesa, folder in folders.items():
        es, en = (folder / "resumen.html").read_text(), (folder / "summary.html").read_text()
        for html, lang in ((es, "es"), (en, "en")):
            assert f'<html lang="{lang}">' in html and "<script" not in html.lower() and "<style>" in html
            assert not re.search(
                r'(src|href)="https?:|<link|@import', html
            )  # opened from disk: fetches nothing
            assert html.count("data:image/jpeg;base64,") == (1 if mesa == 1 else 2)
            assert html.count("<tr>") == len(definition.candidates) + 3  # header, candidates, valid, nulos
        assert f"«{real('Votes per candidate', 'es')}»" in es and "«" not in en
        assert 'href="summary.html"' in es and 'href="resumen.html"' in en
    one = (folders[1] / "summary.html").read_text()
    assert (
        f"«{real('Counted: its numbers were verified.', 'es')}»" in (folders[1] / "resumen.html").read_text()
    )
    assert "Counted: its numbers were verified." in one
    assert "Published by tabla.csv" in one and '<td class="num diff">+5</td>' in one
    four = (folders[4] / "summary.html").read_text()
    assert "Not counted: copies of this acta say different numbers" in four
    assert "Copy by copy" in four and ">Copy 2</th>" in four  # what each copy says, side by side


def test_the_standalone_verifiers_agree_with_tlog():
    rng = random.Random(6962)
    for size in range(1, 70):
        tree = tlog.MemoryHashes()
        for i in range(size):
            tree.append(f"entry {i}".encode())
        root = tlog.tree_hash(size, tree)
        index = rng.randrange(size)
        proof = tlog.inclusion_proof(size, index, tree)
        leaf = tlog.leaf_hash(f"entry {index}".encode())
        assert checker.verify_inclusion(leaf, index, size, proof, root)
        assert not checker.verify_inclusion(tlog.leaf_hash(b"other"), index, size, proof, root)
        old = rng.randrange(size + 1)
        steps = tlog.consistency_proof(old, size, tree)
        old_root = tlog.tree_hash(old, tree)
        assert checker.verify_consistency(old, size, old_root, root, steps)
        if steps:
            assert not checker.verify_consistency(old, size, old_root, root, [*steps[:-1], bytes(32)])


def cli(*args: str) -> tuple[int, str]:
    app = typer.Typer()
    app.callback()(lambda: None)
    evidence_cli.register(app)
    result = CliRunner().invoke(app, ["evidence", *args])
    return result.exit_code, " ".join(result.output.split())


def test_the_command_line(made, tmp_path):
    db, ev, vkey = str(made["root"] / "veedor.db"), str(made["root"] / "ev"), str(made["root"] / "log.vkey")
    code, said = cli(f"{CENTRE}.01", "--out", str(tmp_path), "--db", db, "--evidence", ev, "--vkey", vkey)
    assert code == 0 and "ORIGINAL" in said, said
    folder = tmp_path / f"{CENTRE}.01"
    assert cli("--check", str(folder), "--vkey", vkey)[0] == 0
    # Made again: the previous pack is replaced; a folder that is not a pack is left alone.
    assert cli(f"{CENTRE}.1", "--out", str(tmp_path), "--db", db, "--evidence", ev, "--public")[0] == 0
    assert json.loads((folder / "manifest.json").read_text())["copies"] == "public"
    (tmp_path / "other" / f"{CENTRE}.01").mkdir(parents=True)
    code, said = cli(f"{CENTRE}.01", "--out", str(tmp_path / "other"), "--db", db, "--evidence", ev)
    assert code == 2 and "not a dispute pack" in said
    # Originals missing from the evidence store: the pack says so, and the command fails.
    code, said = cli(
        f"{CENTRE}.01", "--out", str(tmp_path / "lacking"), "--db", db, "--evidence", str(tmp_path / "x")
    )
    assert code == 1 and "not in the pack (missing)" in said, said
    assert checker.check(tmp_path / "lacking" / f"{CENTRE}.01").problems == []
    (folder / "mesa.json").write_bytes(b"{}")
    code, said = cli("--check", str(folder))
    assert code == 1 and "mesa.json" in said
    for args in (
        ["040202001", "--out", str(tmp_path)],
        [f"{CENTRE}.09", "--out", str(tmp_path)],
        [f"{CENTRE}.01"],
        ["--check", str(tmp_path / "nothing")],
        ["--check", str(folder), f"{CENTRE}.01"],
        [f"{CENTRE}.01", "--out", str(tmp_path), "--vkey", str(tmp_path / "missing.vkey")],
    ):
        code, said = cli(*args, "--db", db, "--evidence", ev)
        assert code == 2 and "Error" in said and "Traceback" not in said, (args, said)


def test_a_log_edited_in_the_database_makes_no_pack_that_verifies(made, tmp_path):
    """An entry edited after it was signed: the pack is written, and its own check names the proof
    that no longer holds (exit 1). A stored hash edited: the log no longer gives its signed root,
    and no pack is made (exit 1)."""
    db = tmp_path / "edited.db"
    with sqlite3.connect(made["root"] / "veedor.db") as src, sqlite3.connect(db) as dst:
        src.backup(dst)
    ev = str(made["root"] / "ev")
    with sqlite3.connect(db) as edit:
        seq, entry = edit.execute(
            "SELECT seq, entry FROM log_entries WHERE kind = 'mesa' ORDER BY seq"
        ).fetchone()
        edit.execute(
            "UPDATE log_entries SET entry = ? WHERE seq = ?", (entry.replace(b'"nulos":2', b'"nulos":0'), seq)
        )
    code, said = cli(f"{CENTRE}.01", "--out", str(tmp_path / "a"), "--db", str(db), "--evidence", ev)
    assert code == 1 and f"log/proofs/{seq}.json" in said, said
    with sqlite3.connect(db) as edit:
        (size,) = edit.execute("SELECT size FROM log_checkpoints").fetchone()
        top = tlog.stored_hash_index(size.bit_length() - 1, 0)  # the largest subtree the root reads
        edit.execute("UPDATE log_hashes SET hash = zeroblob(32) WHERE slot = ?", (top,))
    code, said = cli(f"{CENTRE}.01", "--out", str(tmp_path / "b"), "--db", str(db), "--evidence", ev)
    assert code == 1 and "does not match its signed checkpoint" in said, said
    assert not (tmp_path / "b" / f"{CENTRE}.01").exists()


def test_a_mesa_never_scanned_makes_no_pack(made, definition, tmp_path):
    with made["store"].session() as session:
        session.add(Mesa(election=definition.id, centre=CENTRE, number=7, electors=300, source="test"))
        session.flush()
        with pytest.raises(DisputeError, match="nothing to pack"):
            write_pack(session, definition, made["root"] / "ev", CENTRE, 7, tmp_path)
        session.rollback()


def test_a_real_acta_makes_a_pack_that_verifies(tmp_path, definition):
    base = REAL if REAL.is_dir() else ACTAS
    image = base / "andres-sommariva-vzla-elections-2024" / "784821_007643_0134Acta0133.jpg"
    if not image.is_file():
        pytest.skip("the real actas are not here")
    inbox = tmp_path / "in"
    inbox.mkdir()
    shutil.copy(image, inbox / image.name)
    lines = V1.read_text(encoding="utf-8-sig").splitlines()
    (tmp_path / "v1.csv").write_text(lines[0] + "\n" + next(x for x in lines if image.name in x) + "\n")
    store = open_store(str(tmp_path / "veedor.db"))
    scan_paths([inbox], store, evidence_root=tmp_path / "ev", workers=1)
    signer, vkey = tlog.generate_key(ORIGIN)
    with store.session() as session:
        import_results_table(session, tmp_path / "v1.csv", definition)
        head = evidence_log.head(session)
        note = tlog.sign(tlog.Checkpoint(ORIGIN, head.size, head.root).format(), signer)
        evidence_log.add_checkpoint(session, note, head.size, head.root)
        session.commit()
        record = session.scalar(select(ActaRecord))
        assert record is not None and record.status == "ok"
        folder = write_pack(
            session,
            definition,
            tmp_path / "ev",
            record.centre,
            record.mesa,
            tmp_path / "out",
            verifier_keys=[vkey],
        )
    store.engine.dispose()
    assert check_pack(folder, [vkey]) == [] and check_pack(zip_of(folder)) == []
    ran = standalone(folder)
    assert ran.returncode == 0, ran.stdout
    assert (
        folder / "images" / f"{hashlib.sha256(image.read_bytes()).hexdigest()}.jpg"
    ).read_bytes() == image.read_bytes()
    summary = (folder / "summary.html").read_text()
    assert "Counted: its numbers were verified." in summary and '<td class="num diff">' not in summary
    assert image.name not in "".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())
