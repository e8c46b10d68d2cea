"""``veedor verify``: a clean scan verifies, and each tampering is named exactly (which image,
which mesa, which number, expected vs found), with the database and from the published open
data alone."""

from __future__ import annotations

import csv
import json
import os
import shutil
import stat
from pathlib import Path

import numpy as np
import pytest
import typer
from sqlalchemy import select, text
from typer.testing import CliRunner

from imaging import payload, qr_image, write
from veedor import tlog
from veedor.capture.evidence import EvidenceStore, file_sha256
from veedor.cli import verify as verify_cli
from veedor.pipeline import audit, audit_db, audit_published
from veedor.pipeline.audit_db import verify_database
from veedor.pipeline.audit_published import verify_published
from veedor.pipeline.scan import scan_paths
from veedor.publish.export import export
from veedor.simulate.render import ActaRenderer, ActaSpec
from veedor.store import evidence_log, open_store
from veedor.store.accounts import add_user
from veedor.store.review import enter
from veedor.store.schema import ActaRecord, Evidence, LogEntry
from veedor.web.static_site import write_static

CENTRE = "040202001"
COUNTED = {
    1: [0, 2, 0, 0, 5, 1, *[0] * 20, 97, 3, *[0] * 10],
    2: [1, 0, 0, 3, *[0] * 22, 120, 0, 4, *[0] * 9],
}
SETTLED = [3] + [1] * 37


@pytest.fixture(scope="module")
def built(tmp_path_factory, definition):
    """Two rendered actas read whole (counted), a mesa whose two QR copies disagree settled by
    two people's entries, a file that is no image; an export, a signed checkpoint, the static
    site. Tests work on copies of it."""
    root = tmp_path_factory.mktemp("verify")
    folder = root / "in"
    folder.mkdir()
    renderer = ActaRenderer(definition)
    for mesa, votes in COUNTED.items():
        rendered = renderer.render(
            ActaSpec(CENTRE, mesa, tuple(votes), 2, electors=400), np.random.default_rng(mesa)
        )
        write(folder / f"{mesa}.jpg", rendered.gray, ".jpg")
    write(folder / "3-a.png", qr_image(payload(mesa=3, votes=SETTLED)))
    write(folder / "3-b.png", qr_image(payload(mesa=3, votes=[4] + [1] * 37)))
    (folder / "junk.jpg").write_bytes(b"not an image")
    store = open_store(str(root / "v.db"))
    scan_paths([folder], store, evidence_root=root / "ev", workers=1)
    with store.session() as session:
        for name in ("ana", "beto"):
            person = add_user(session, name, "reviewer", "secret-" + name)
            enter(session, definition, person, f"{CENTRE}.03", {"votes": SETTLED, "nulos": 0, "blank": 0})
        session.commit()
        states = {r.mesa: r.status for r in session.scalars(select(ActaRecord))}
        export(session, definition, root / "exports")
    assert states == {1: "ok", 2: "ok", 3: "ok"}, states
    signer, verifier = tlog.generate_key("verify.test")
    with store.session() as session:
        head = evidence_log.head(session)
        note = tlog.sign(tlog.Checkpoint("verify.test", head.size, head.root).format(), signer)
        evidence_log.add_checkpoint(session, note, head.size, head.root)
        evidence_log.remember_setting_line(session, evidence_log.VKEYS, verifier)
        session.commit()
    write_static(store, definition, root / "ev", root / "site", ["es"])
    (root / "verify.vkey").write_text(verifier + "\n")
    store.engine.dispose()
    shutil.rmtree(folder)
    return root


READ: dict[tuple[str, str], object] = {}


@pytest.fixture
def reread_once(monkeypatch):
    """Images whose bytes were read before in this module are not read again (the clean runs
    read them all): a tampering test then reads only what it changed, in a second, not ten."""
    real = audit.reread

    def cached(paths, definition, **options):
        known = {p: (sha, file_sha256(p)) for p, sha in paths.items()}
        todo = {p: sha for p, sha in paths.items() if known[p] not in READ}
        for sha, outcome in real(todo, definition, **options).items():
            READ[next(k for p, k in known.items() if p in todo and k[0] == sha)] = outcome
        return {sha: READ[known[p]] for p, sha in paths.items() if known[p] in READ}

    monkeypatch.setattr(audit_db, "reread", cached)
    monkeypatch.setattr(audit_published, "reread", cached)


@pytest.fixture
def copy(built, tmp_path):
    """A writable copy of the scan, its store, export and site."""
    target = tmp_path / "c"
    shutil.copytree(built, target)
    for dirpath, dirs, files in os.walk(target):
        for name in [*dirs, *files]:
            path = os.path.join(dirpath, name)
            os.chmod(path, os.stat(path).st_mode | stat.S_IWUSR)
    return target


def db_audit(root: Path, definition, exports=()):
    store = open_store(str(root / "v.db"), migrate=False)
    try:
        return verify_database(store, definition, root / "ev", exports=list(exports), workers=1)
    finally:
        store.engine.dispose()


def site_audit(root: Path, definition, keys=None):
    vkeys = [(root / "verify.vkey").read_text().strip()] if keys is None else keys
    return verify_published(root / "site", definition, vkeys=vkeys, workers=1)


def sql(root: Path, statement: str) -> None:
    store = open_store(str(root / "v.db"), migrate=False)
    with store.engine.begin() as conn:
        conn.execute(text(statement))
    store.engine.dispose()


def sha_of(root: Path, mesa: int) -> str:
    store = open_store(str(root / "v.db"), migrate=False)
    with store.session() as session:
        found = session.scalar(
            select(Evidence.sha256)
            .join(ActaRecord, ActaRecord.id == Evidence.acta_pk)
            .where(ActaRecord.mesa == mesa)
        )
    store.engine.dispose()
    assert found is not None
    return found


def the(differences, kind):
    return [(d.where, d.expected, d.found, d.detail) for d in differences if d.kind == kind]


def export_folder(root: Path) -> Path:
    return next((root / "exports").iterdir())


# -- with the database -----------------------------------------------------------------------


def test_a_clean_scan_verifies_and_writes_nothing(built, definition, reread_once):
    before = file_sha256(built / "v.db")
    result = db_audit(built, definition, [export_folder(built)])
    assert result.differences == [], result.differences
    assert result.checked["reread"] == 5 and result.checked["mesas"] == 3 and result.checked["exports"] == 1
    assert file_sha256(built / "v.db") == before  # read-only: the database is byte for byte the same
    # Each image read again was read by this veedor's engines: nothing to note.
    assert [n for n in result.notes if n.kind == "other_version"] == []


def test_one_byte_of_a_stored_original_is_named(copy, definition, reread_once):
    sha = sha_of(copy, 1)
    path = EvidenceStore(copy / "ev").path_for(sha)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    result = db_audit(copy, definition)
    assert [(d.kind, d.where) for d in result.differences] == [("evidence_altered", f"image:{sha}")]
    assert result.differences[0].expected == sha and result.differences[0].found == file_sha256(path)


def test_a_counted_total_edited_in_acta_votes_is_named_with_every_tally_it_moves(
    copy, definition, reread_once
):
    sql(copy, "UPDATE acta_votes SET votes = votes + 7 WHERE candidate = 'NM' AND acta_pk = "
        "(SELECT id FROM actas WHERE mesa = 1)")  # fmt: skip
    result = db_audit(copy, definition)
    nm = definition.totals_by_candidate(COUNTED[1])["NM"]
    assert the(result.differences, "mesa_totals") == [(f"mesa:{CENTRE}.01", nm, nm + 7, "acta_votes NM")]
    national = sum(definition.totals_by_candidate(v)["NM"] for v in [*COUNTED.values(), SETTLED])
    tally = the(result.differences, "tally")
    assert ("tally:national", national, national + 7, "NM") in tally
    assert {where for where, *_ in tally} == {
        "tally:national",
        "tally:state:04",
        "tally:municipality:0402",
        "tally:parish:040202",
        f"tally:centre:{CENTRE}",
    }


def test_a_number_edited_in_a_mesa_is_named_by_line(copy, definition, reread_once):
    sql(copy, "UPDATE actas SET votes = json_set(votes, '$[4]', 55) WHERE mesa = 1")
    result = db_audit(copy, definition)
    assert the(result.differences, "mesa") == [(f"mesa:{CENTRE}.01", 5, 55, "línea / line 5 (MSV → NM)")]
    assert the(result.differences, "log_mesa") == []  # the log still says what the copies say


def test_a_copy_whose_numbers_do_not_follow_from_its_image(copy, definition, reread_once):
    sha = sha_of(copy, 2)
    sql(copy, f"UPDATE evidence SET votes = json_set(votes, '$[0]', 9) WHERE sha256 = '{sha}'")
    result = db_audit(copy, definition)
    assert (f"image:{sha}", 1, 9, "votes: línea / line 1 (PSUV → NM)") in the(result.differences, "reading")


def test_a_log_entry_edited_is_named_with_what_it_now_says(copy, definition, reread_once):
    store = open_store(str(copy / "v.db"), migrate=False)
    with store.session() as session:
        seq, entry = next(
            (s, e)
            for s, e in session.execute(select(LogEntry.seq, LogEntry.entry))
            if b'"kind":"mesa"' in e and b'"mesa":2,' in e and b'"state":"ok"' in e
        )
    store.engine.dispose()
    edited = entry.replace(b'"nulos":2', b'"nulos":3')
    sql(copy, f"UPDATE log_entries SET entry = X'{edited.hex()}' WHERE seq = {seq}")
    result = db_audit(copy, definition)
    log = the(result.differences, "log")
    # The entry, and the signed checkpoint its old bytes gave.
    assert [where for where, *_ in log] == [f"log:entry:{seq}", "log:checkpoint:1"]
    assert "stored leaf hash" in log[0][3] and "does not match the entries" in log[1][3]
    assert the(result.differences, "log_mesa") == [(f"mesa:{CENTRE}.02", 2, 3, "nulos")]


def test_an_export_file_edited_is_named_by_file_and_number(copy, definition, reread_once):
    folder = export_folder(copy)
    path = folder / "actas.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if row["mesa"] == "2":
            row["NM"] = str(int(row["NM"]) + 1)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = db_audit(copy, definition, [folder])
    nm = definition.totals_by_candidate(COUNTED[2])["NM"]
    listed = {f["path"]: f["sha256"] for f in json.loads((folder / "manifest.json").read_text())["files"]}
    assert the(result.differences, "export") == [
        (
            f"{folder.name}/actas.csv",
            listed["actas.csv"],
            file_sha256(path),
            "SHA-256 ≠ manifiesto / manifest",
        ),
        (f"{folder.name}/actas.csv:{CENTRE}.02", nm, nm + 1, "NM"),
    ]


# -- from the published data alone -----------------------------------------------------------


def test_the_published_data_alone_verifies(built, definition, reread_once):
    result = site_audit(built, definition)
    assert result.differences == [], result.differences
    assert result.checked["reread"] == 4 and result.checked["mesas"] == 3
    assert any(n.kind == "signed" and "verify.test" in n.detail for n in result.notes)


def test_without_a_key_the_sites_own_is_used_and_said(copy, definition, reread_once):
    result = site_audit(copy, definition, keys=[])
    assert result.differences == [] and [n.kind for n in result.notes][:1] == ["keys"]


def test_a_public_image_replaced_by_another_actas(copy, definition, reread_once):
    one, two = sha_of(copy, 1), sha_of(copy, 2)
    shutil.copyfile(copy / "site" / "image" / f"{one}.jpg", copy / "site" / "image" / f"{two}.jpg")
    result = site_audit(copy, definition)
    assert the(result.differences, "public_image") == [
        (f"image:{two}", f"{CENTRE}.01", f"{CENTRE}.02", "otra mesa / another mesa")
    ]
    assert [w for w, *_ in the(result.differences, "site")] == [f"image/{two}.jpg"]


def test_a_number_edited_in_the_national_json(copy, definition, reread_once):
    path = copy / "site" / "api" / "v1" / "national.json"
    view = json.loads(path.read_text())
    view["result"]["votes"]["EG"] += 1000
    path.write_text(json.dumps(view))
    result = site_audit(copy, definition)
    eg = sum(definition.totals_by_candidate(v)["EG"] for v in [*COUNTED.values(), SETTLED])
    assert ("api/v1/national.json", eg, eg + 1000, "EG") in the(result.differences, "api_tally")


def test_a_tile_byte_flipped_is_named_by_tile_and_hash(copy, definition, reread_once):
    tiles = sorted((copy / "site" / "log" / "tile" / "0").rglob("*"))
    tile = next(p for p in tiles if p.is_file())
    data = bytearray(tile.read_bytes())
    data[32 * 3 + 5] ^= 0x80
    tile.write_bytes(bytes(data))
    result = site_audit(copy, definition)
    relative = tile.relative_to(copy / "site").as_posix()
    assert [(w, d) for w, _e, _f, d in the(result.differences, "log_tile")] == [(relative, "hash 3")]
    assert the(result.differences, "log_root") == [] and the(result.differences, "log_entry") == []


def test_a_checkpoint_signed_by_another_key_is_refused(copy, definition, reread_once):
    _signer, stranger = tlog.generate_key("verify.test")
    result = site_audit(copy, definition, keys=[stranger])
    assert [w for w, *_ in the(result.differences, "checkpoint")] == ["log/checkpoint"]


# -- the command -----------------------------------------------------------------------------


def cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """veedor"""

    verify_cli.register(app)
    return app


def run(*args: str):
    result = CliRunner().invoke(cli(), ["verify", *args])
    return result.exit_code, " ".join(result.output.split())


def test_the_command_exits_0_on_a_match_and_1_naming_each_difference(copy, definition, reread_once):
    code, output = run(
        "--db", str(copy / "v.db"), "--evidence", str(copy / "ev"), "--workers", "1", "--format", "json"
    )
    assert code == 0, output
    sql(copy, "UPDATE actas SET nulos = 9 WHERE mesa = 2")
    code, output = run("--db", str(copy / "v.db"), "--evidence", str(copy / "ev"), "--workers", "1")
    assert code == 1 and f"mesa:{CENTRE}.02" in output and "differences" in output
    code, output = run(
        "--published",
        str(copy / "site"),
        "--vkey",
        str(copy / "verify.vkey"),
        "--workers",
        "1",
        "--format",
        "json",
    )
    assert code == 0, output


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--db", "{tmp}/missing.db"), "no such database"),
        (("--format", "xml"), "unknown format"),
        (("--published", "{tmp}/missing"), "not a folder"),
        (("--published", "{tmp}", "--vkey", "{tmp}/bad.vkey"), "not a verifier key"),
        (("--published", "{tmp}", "--export", "{tmp}"), "no export in"),
    ],
)
def test_bad_usage_exits_2_with_a_reason(args, said, tmp_path):
    (tmp_path / "bad.vkey").write_text("not a key\n")
    code, output = run(*(a.format(tmp=tmp_path) for a in args))
    assert code == 2 and said in output, output
