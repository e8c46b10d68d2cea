#!/usr/bin/env python3
"""Check a veedor dispute pack: run ``python3 check_pack.py`` inside the pack's folder, or
``python3 check_pack.py PACK_FOLDER_OR_ZIP``. Python 3.8 or later; nothing to install.

What it checks, with the standard library alone (hashlib):

1. every file's SHA-256 against ``manifest.json``;
2. each log entry's leaf hash, SHA-256(0x00 || entry bytes), and its inclusion proof up to the
   root of the log's signed checkpoint (``log/checkpoint``), as RFC 9162 §2.1.3.2 says; entries
   newer than the checkpoint lead to the log's current head, itself proven to extend the
   checkpoint (§2.1.4.2);
3. that each original image is the one the log received (an ``image`` entry with its SHA-256),
   and that ``mesa.json`` says the state and numbers of the log's last entry for the mesa.

The checkpoint's Ed25519 signature needs the ``cryptography`` package: without it this script
says so and does everything else (``pip install cryptography`` and run it again, or use
``veedor evidence --check``). A signature is checked against the keys in ``log/keys/`` and any
``--vkey FILE`` given: compare them with the key the log publishes, since whoever made the pack
could have made their own. This file is veedor's ``veedor/publish/dispute_check.py``, copied
as is; a changed copy could lie, so compare it with veedor's source.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import os
import sys
import zipfile
from pathlib import Path
from typing import Any

FORMAT = "veedor-dispute-pack/1"
MANIFEST = "manifest.json"
CHECKPOINT = "log/checkpoint"
HEAD = "log/head.json"
CONSISTENCY = "log/consistency.json"
KEYS = "log/keys/"
MAX_BYTES = 2 << 30  # a mesa's pack is megabytes; this only stops a zip bomb from filling memory
MAX_FILES = 10_000
IGNORED = ("__pycache__/", ".DS_Store", "Thumbs.db", "desktop.ini")  # what opening a folder adds


class PackError(Exception):
    """The pack cannot be read at all (not a folder or zip, no manifest)."""


class Report:
    """What the check found: ``problems`` (the pack is not what it says) and ``notes``."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.notes: list[str] = []


def entry_path(index: int) -> str:
    return f"log/entries/{index}.json"


def proof_path(index: int) -> str:
    return f"log/proofs/{index}.json"


# -- RFC 6962 / 9162 hashes and verifiers (the same as veedor.tlog.merkle's) ----------------------


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> bool:
    """True if ``proof`` shows ``leaf`` at ``index`` in the tree of ``size`` leaves and ``root``."""
    if not 0 <= index < size or any(len(h) != 32 for h in [leaf, root, *proof]):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = _node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> bool:
    """True if ``proof`` shows the tree (``old_size``, ``old_root``) is a prefix of the new one."""
    if not 0 <= old_size <= new_size or any(len(h) != 32 for h in [old_root, new_root, *proof]):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == hashlib.sha256(b"").digest()
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # the old tree is one complete subtree: the proof omits it
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = _node(c, fr), _node(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = _node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


# -- Reading the pack -------------------------------------------------------------------------------


def load(path: str | Path) -> dict[str, bytes]:
    """Every file of the pack (a folder, or a zip holding one folder) by its path inside it."""
    path = Path(path)
    if path.is_dir():
        if not (path / MANIFEST).is_file():
            raise PackError(f"{path}: no {MANIFEST} here; give the pack's folder or its .zip")
        files: dict[str, bytes] = {}
        total = 0
        for folder, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(names):
                full = Path(folder) / name
                if full.is_symlink() or not full.is_file():
                    continue
                total += full.stat().st_size
                if total > MAX_BYTES or len(files) >= MAX_FILES:
                    raise PackError(f"{path}: too large to be a dispute pack")
                files[full.relative_to(path).as_posix()] = full.read_bytes()
        return files
    if not zipfile.is_zipfile(path):
        raise PackError(f"{path}: not a folder nor a zip file")
    with zipfile.ZipFile(path) as archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        tops = {m.filename.split("/", 1)[0] for m in members}
        if len(tops) != 1 or len(members) > MAX_FILES or sum(m.file_size for m in members) > MAX_BYTES:
            raise PackError(f"{path}: not one pack folder, or too large to be a dispute pack")
        top = tops.pop() + "/"
        # Read in memory, never extracted: a hostile name ('../x') can write nothing anywhere.
        return {m.filename[len(top) :]: archive.read(m) for m in members if m.filename.startswith(top)}


def _json(files: dict[str, bytes], name: str, report: Report) -> Any:
    try:
        return json.loads(files[name].decode("utf-8"))
    except KeyError:
        report.problems.append(f"{name}: missing")
    except ValueError as error:
        report.problems.append(f"{name}: not valid JSON ({error})")
    return None


def parse_verifier_key(key: str) -> tuple[str, bytes, bytes]:
    """(name, 4-byte id, 32-byte public key) of a signed-note verifier key; ValueError if bad."""
    name, key_id, material = key.strip().split("+", 2)
    try:
        raw = base64.b64decode(material, validate=True)
    except binascii.Error:
        raise ValueError("not base64") from None
    if not name or len(raw) != 33 or raw[0] != 1 or len(key_id) != 8:
        raise ValueError("not an Ed25519 verifier key")
    if hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4] != bytes.fromhex(key_id):
        raise ValueError("its id does not match the key")
    return name, bytes.fromhex(key_id), raw[1:]


def _need(condition: bool) -> None:
    # Not ``assert``: ``python -O`` would skip the check.
    if not condition:
        raise ValueError("malformed")


def _hash(value: object) -> bytes:
    """A 32-byte hash in base64, spelt one way only (no stray bits in the last character)."""
    if not isinstance(value, str):
        raise ValueError("not a base64 string")
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ValueError("not base64") from None
    if len(raw) != 32 or base64.b64encode(raw).decode() != value:
        raise ValueError("not a canonical base64 SHA-256")
    return raw


# -- The checks -------------------------------------------------------------------------------------


def check(path: str | Path, verifier_keys: list[str] | tuple[str, ...] = ()) -> Report:
    """Check the pack at ``path`` (folder or zip). Raises PackError if it cannot be read."""
    return check_files(load(path), verifier_keys)


def check_files(files: dict[str, bytes], verifier_keys: list[str] | tuple[str, ...] = ()) -> Report:
    """Check a pack's files, by their paths inside it."""
    report = Report()
    manifest = _json(files, MANIFEST, report)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        if manifest is not None:
            report.problems.append(f"{MANIFEST}: not a {FORMAT} manifest")
        return report
    _check_hashes(files, manifest, report)
    roots = _check_trees(files, manifest, list(verifier_keys), report)
    entries = _check_entries(files, manifest, roots, report)
    _check_links(files, manifest, entries, report)
    return report


def _check_hashes(files: dict[str, bytes], manifest: dict, report: Report) -> None:
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        report.problems.append(f"{MANIFEST}: no list of files")
        return
    for name in sorted(listed):
        if name not in files:
            report.problems.append(f"{name}: missing from the pack")
        elif hashlib.sha256(files[name]).hexdigest() != listed[name]:
            report.problems.append(f"{name}: changed (its SHA-256 is not the one in {MANIFEST})")
    for name in sorted(set(files) - set(listed) - {MANIFEST}):
        if not any(name.startswith(i) or name.endswith(i) for i in IGNORED):
            report.notes.append(f"{name}: not part of the pack as made; not checked")


def _checkpoint(
    files: dict[str, bytes], report: Report
) -> tuple[str, int, bytes, list[tuple[str, bytes]]] | None:
    """(origin, size, root, [(signature line name, signature bytes)]) of the signed note."""
    try:
        note = files[CHECKPOINT].decode("utf-8")
        split = note.rfind("\n\n")
        text, block = note[: split + 1], note[split + 2 :]
        origin, size, root = text.split("\n")[:3]
        if split < 0 or not size.isdigit() or (size != "0" and size.startswith("0")):
            raise ValueError("not a checkpoint")
        signatures = []
        for line in block.splitlines():
            if not line.startswith("\u2014 "):
                raise ValueError(f"bad signature line {line[:40]!r}")
            name, _, encoded = line[2:].partition(" ")
            signatures.append((name, base64.b64decode(encoded, validate=True)))
        return origin, int(size), base64.b64decode(root, validate=True), signatures
    except (UnicodeDecodeError, ValueError, binascii.Error) as error:
        report.problems.append(f"{CHECKPOINT}: not a signed checkpoint note ({error})")
        return None


def _check_trees(
    files: dict[str, bytes], manifest: dict, keys: list[str], report: Report
) -> dict[str, tuple[int, bytes]]:
    """The trees proofs may lead to: the signed checkpoint and/or the unsigned head."""
    roots: dict[str, tuple[int, bytes]] = {}
    if CHECKPOINT in files:
        found = _checkpoint(files, report)
        if found is not None:
            origin, size, root, signatures = found
            roots["checkpoint"] = (size, root)
            note = files[CHECKPOINT].decode("utf-8")
            _check_signatures(note[: note.rfind("\n\n") + 1], origin, signatures, files, keys, report)
    elif manifest.get("signed"):
        report.problems.append(f"{CHECKPOINT}: missing, yet {MANIFEST} says the pack is signed")
    else:
        report.notes.append("unsigned pack: no signed checkpoint existed when it was made")
    if HEAD in files:
        head = _json(files, HEAD, report)
        try:
            _need(isinstance(head, dict))
            _need(isinstance(head["tree_size"], int))
            roots["head"] = (head["tree_size"], _hash(head["root"]))
        except (KeyError, TypeError, ValueError):
            report.problems.append(f"{HEAD}: not a tree head (tree_size, root)")
    if "checkpoint" in roots and "head" in roots:
        proof = _json(files, CONSISTENCY, report)
        (old, old_root), (new, new_root) = roots["checkpoint"], roots["head"]
        try:
            _need(isinstance(proof, dict))
            _need(proof["old_size"] == old and proof["new_size"] == new)
            hashes = [_hash(h) for h in proof["proof"]]
            ok = verify_consistency(old, new, old_root, new_root, hashes)
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            report.problems.append(f"{CONSISTENCY}: the head does not extend the signed checkpoint")
            del roots["head"]
    return roots


def _check_signatures(
    text: str,
    origin: str,
    signatures: list[tuple[str, bytes]],
    files: dict[str, bytes],
    given: list[str],
    report: Report,
) -> None:
    keys = [k for n, d in files.items() if n.startswith(KEYS) for k in d.decode("utf-8", "replace").split()]
    keys += given
    known: dict[tuple[str, bytes], bytes] = {}
    for key in keys:
        try:
            name, key_id, public = parse_verifier_key(key)
            known[(name, key_id)] = public
        except ValueError:
            report.problems.append(f"verifier key {key[:40]!r}: not NAME+ID+base64(0x01 || Ed25519 key)")
    usable = [(n, s, known[(n, s[:4])]) for n, s in signatures if (n, s[:4]) in known]
    if not usable:
        report.notes.append(
            f"{CHECKPOINT}: signature not checked, no verifier key for it; run again with --vkey FILE "
            "(the log's published key)"
        )
        return
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:
        report.notes.append(
            f"{CHECKPOINT}: the Ed25519 signature was not checked: that needs the 'cryptography' "
            "package (pip install cryptography, then run this again; or: veedor evidence --check PACK)"
        )
        return
    for name, signature, public in usable:
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(signature[4:], text.encode())
        except (InvalidSignature, ValueError):
            report.problems.append(f"{CHECKPOINT}: the signature by {name} is not valid")
            continue
        whose = "the log's own key" if name == origin else "a co-signer's key"
        report.notes.append(
            f"{CHECKPOINT}: signed by {name} ({whose}); compare the key with the published one"
        )


def _check_entries(
    files: dict[str, bytes], manifest: dict, roots: dict[str, tuple[int, bytes]], report: Report
) -> dict[int, dict]:
    """Each listed entry's proof; returns the parsed entries, by index."""
    out: dict[int, dict] = {}
    indexes = manifest.get("entries")
    if not isinstance(indexes, list) or not all(isinstance(i, int) for i in indexes):
        report.problems.append(f"{MANIFEST}: no list of log entries")
        return out
    if not indexes:
        report.notes.append("the pack holds no log entry: nothing in it is proven by the log")
    for index in indexes:
        name, proof_name = entry_path(index), proof_path(index)
        if name not in files:
            report.problems.append(f"{name}: missing from the pack")
            continue
        proof = _json(files, proof_name, report)
        try:
            _need(isinstance(proof, dict) and proof["index"] == index)
            size, root = roots[proof["against"]]
            _need(proof["tree_size"] == size and _hash(proof["root"]) == root)
            hashes = [_hash(h) for h in proof["proof"]]
            ok = verify_inclusion(leaf_hash(files[name]), index, size, hashes, root)
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok and proof is not None:
            report.problems.append(
                f"{proof_name}: does not prove {name} in the log (the entry or its proof was changed)"
            )
        try:
            value = json.loads(files[name].decode("utf-8"))
            if isinstance(value, dict):
                out[index] = value
        except ValueError:
            report.problems.append(f"{name}: not valid JSON")
    return out


def _check_links(files: dict[str, bytes], manifest: dict, entries: dict[int, dict], report: Report) -> None:
    """The images are the ones the log received; mesa.json says what the log last said."""
    received = {e.get("sha256") for e in entries.values() if e.get("kind") == "image"}
    in_pack = set()
    for image in manifest.get("images") or []:
        sha, name = image.get("sha256"), image.get("file")
        in_pack.add(sha)
        if image.get("missing"):
            report.notes.append(f"image {sha}: not in the pack ({image['missing']})")
        elif image.get("copy") == "public":
            report.notes.append(
                f"{name}: a copy without photo metadata; its SHA-256 differs from the original's "
                f"({sha}), which the log holds"
            )
        elif name in files and hashlib.sha256(files[name]).hexdigest() != sha:
            report.problems.append(f"{name}: is not the image {sha}")
        if sha not in received and not image.get("missing"):
            report.notes.append(
                f"image {sha}: no log entry of its receipt in the pack (received before the log?)"
            )
    view = _json(files, "mesa.json", report)
    if not isinstance(view, dict):
        return
    for copy in view.get("copies") or []:
        if copy.get("image") not in in_pack:
            report.problems.append(f"mesa.json: names image {copy.get('image')}, which the pack lacks")
    mesa = manifest.get("mesa") or {}
    said = [
        e
        for i, e in sorted(entries.items())
        if e.get("kind") == "mesa"
        and (e.get("centre"), e.get("mesa")) == (mesa.get("centre"), mesa.get("mesa"))
    ]
    if not said:
        if view.get("scanned"):
            report.notes.append("mesa.json: no log entry of the mesa's state to compare it with")
        return
    last = said[-1]
    lines = [line.get("votes") for line in view.get("lines") or []] or None
    if (last.get("state"), last.get("votes"), last.get("nulos")) != (
        view.get("state"),
        lines,
        view.get("nulos"),
    ):
        report.problems.append(
            "mesa.json: its state or numbers are not those of the log's last entry for the mesa"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check a veedor dispute pack (folder or zip).")
    parser.add_argument("pack", nargs="?", default=str(Path(__file__).resolve().parent))
    parser.add_argument("--vkey", action="append", default=[], help="a verifier key file (repeatable)")
    args = parser.parse_args(argv)
    try:
        keys = [k for f in args.vkey for k in Path(f).read_text(encoding="utf-8").split()]
        report = check(args.pack, keys)
    except (OSError, PackError) as error:
        print(f"cannot check: {error}", file=sys.stderr)
        return 2
    for note in report.notes:
        print(f"note: {note}")
    for problem in report.problems:
        print(f"PROBLEM: {problem}")
    print("FAILED: the pack is not what it says" if report.problems else "OK: the pack verifies")
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
