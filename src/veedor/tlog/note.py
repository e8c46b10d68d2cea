"""Signed notes (c2sp.org/signed-note) with Ed25519 keys, and checkpoints (c2sp.org/tlog-checkpoint).

Keys and notes are written exactly as Go's ``golang.org/x/mod/sumdb/note`` writes them, so Go's
tools (and any C2SP witness) read ours and we read theirs:

* signer key   ``PRIVATE+KEY+<name>+<id>+base64(0x01 || 32-byte Ed25519 seed)`` (secret);
* verifier key ``<name>+<id>+base64(0x01 || 32-byte Ed25519 public key)``;
* ``<id>``: 8 hex digits, the first 4 bytes of SHA-256(name || "\\n" || 0x01 || public key);
* note: the text (ending in a newline), a blank line, then one line per signature:
  ``— <name> base64(id || 64-byte signature of the text)``.

Parsing is strict: anything malformed is a ValueError saying why. Ed25519 comes from the
``cryptography`` package, imported when a key is first used, so checkpoints parse without it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import NamedTuple

ALG_ED25519 = 0x01
MAX_SIGNATURES = 100  # the spec asks verifiers to accept at least 16; Go's limit
_DASH = "— "  # em dash U+2014, space
_HEX_ID = re.compile(r"[0-9a-f]{8}")
_SIZE = re.compile(r"0|[1-9][0-9]{0,18}")  # ASCII digits only (Python's \d takes any script's)


def _ed25519() -> ModuleType:
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError as error:
        raise ImportError("signing and verifying notes needs the 'cryptography' package") from error
    return ed25519


def _check_name(name: str) -> None:
    _check_text(name, "key name")
    if not name or any(c.isspace() or c == "+" for c in name):
        raise ValueError(f"key name {name!r} is empty or has a space or '+'")


def _check_text(text: str, what: str) -> None:
    """Valid UTF-8 (no lone surrogates), no control characters but newline (signed-note §Format)."""
    if not isinstance(text, str):
        raise ValueError(f"{what} must be a str, not {type(text).__name__}")
    bad = re.search(r"[\x00-\x09\x0b-\x1f]", text)
    if bad:
        raise ValueError(f"{what} has a control character {bad.group()!r} at {bad.start()}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} is not valid Unicode text (a lone surrogate)") from None


def _b64decode(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what} is not base64") from None
    if base64.b64encode(raw).decode("ascii") != text:  # one spelling per value (padding, stray bits)
        raise ValueError(f"{what} is not canonical base64")
    return raw


def key_id(name: str, public_key: bytes) -> int:
    return int.from_bytes(
        hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]
    )


class _Key(NamedTuple):
    name: str
    id: int
    public: bytes
    seed: bytes = b""


def _parse_key(key: str, private: bool) -> _Key:
    if not isinstance(key, str):
        raise ValueError(f"{'signer' if private else 'verifier'} key must be a str")
    if not private:
        return _parse_key_fields(key, "verifier key", private)
    try:
        if not key.startswith("PRIVATE+KEY+"):
            raise ValueError
        return _parse_key_fields(key.removeprefix("PRIVATE+KEY+"), "signer key", private)
    except ValueError:
        # A garbled secret key splits anywhere, so no part of it may appear in the message.
        raise ValueError(
            "signer key is malformed: expected PRIVATE+KEY+NAME+ID+base64(0x01 || 32-byte seed), ID matching"
        ) from None


def _parse_key_fields(key: str, what: str, private: bool) -> _Key:
    parts = key.split("+", 2)  # base64 may itself hold '+'
    if len(parts) != 3:
        raise ValueError(f"{what}: not NAME+ID+KEY")
    name, hex_id, material = parts
    try:
        _check_name(name)
    except ValueError:
        raise ValueError(f"{what}: name {name!r} is empty or has a space, '+' or control character") from None
    if not _HEX_ID.fullmatch(hex_id):
        raise ValueError(f"{what} for {name}: id {hex_id!r} is not 8 lowercase hex digits")
    raw = _b64decode(material, f"{what} for {name}")
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise ValueError(f"{what} for {name}: not an Ed25519 key (0x01 and 32 bytes)")
    if private:
        seed = raw[1:]
        public = _ed25519().Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    else:
        seed, public = b"", raw[1:]
    if key_id(name, public) != int(hex_id, 16):
        raise ValueError(f"{what} for {name}: id {hex_id} does not match the key")
    return _Key(name, int(hex_id, 16), public, seed)


def _verifier_text(name: str, public: bytes) -> str:
    return f"{name}+{key_id(name, public):08x}+" + base64.b64encode(bytes([ALG_ED25519]) + public).decode()


def generate_key(name: str) -> tuple[str, str]:
    """A new Ed25519 key pair for ``name``: (signer key, verifier key), both as text."""
    _check_name(name)
    private = _ed25519().Ed25519PrivateKey.generate()
    seed, public = private.private_bytes_raw(), private.public_key().public_bytes_raw()
    signer = f"PRIVATE+KEY+{name}+{key_id(name, public):08x}+" + base64.b64encode(b"\x01" + seed).decode()
    return signer, _verifier_text(name, public)


def verifier_key(signer_key: str) -> str:
    """The verifier key (public) that goes with a signer key."""
    key = _parse_key(signer_key, private=True)
    return _verifier_text(key.name, key.public)


def _signature_line(text: str, signer_key: str) -> tuple[_Key, str]:
    key = _parse_key(signer_key, private=True)
    signature = _ed25519().Ed25519PrivateKey.from_private_bytes(key.seed).sign(text.encode())
    return key, f"{_DASH}{key.name} " + base64.b64encode(key.id.to_bytes(4) + signature).decode() + "\n"


def _check_body(text: str) -> None:
    _check_text(text, "note text")
    if not text.endswith("\n"):
        raise ValueError("note text must end with a newline")


def sign(text: str, signer_key: str) -> str:
    """The signed note of ``text`` (which must end with a newline), signed by one key."""
    _check_body(text)
    return text + "\n" + _signature_line(text, signer_key)[1]


class _Signature(NamedTuple):
    name: str
    id: int
    signature: bytes
    line: str


def _split(note: str) -> tuple[str, list[_Signature]]:
    _check_text(note, "note")
    split = note.rfind("\n\n")  # the text may hold blank lines: the last one starts the signatures
    if split < 0:
        raise ValueError("malformed note: no blank line before the signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise ValueError("malformed note: no signatures, or the last line does not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise ValueError(f"malformed note: more than {MAX_SIGNATURES} signatures")
    signatures = []
    for line in lines:
        name, space, encoded = line.removeprefix(_DASH).partition(" ")
        if not line.startswith(_DASH) or not space:
            raise ValueError(f"malformed note: {line[:60]!r} is not a signature line ('— NAME SIGNATURE')")
        _check_name(name)
        raw = _b64decode(encoded, f"signature by {name}")
        if len(raw) < 5:
            raise ValueError(f"malformed note: the signature by {name} is too short")
        signatures.append(_Signature(name, int.from_bytes(raw[:4]), raw[4:], line + "\n"))
    return text, signatures


def cosign(note: str, signer_key: str) -> str:
    """``note`` with one more signature (a witness's, say); replaces an earlier one by the same key.

    The existing signatures are kept as they are, not verified: verify with ``open_note`` first.
    """
    text, signatures = _split(note)
    key, line = _signature_line(text, signer_key)
    kept = "".join(s.line for s in signatures if (s.name, s.id) != (key.name, key.id))
    return text + "\n" + kept + line


def open_note(note: str, verifier_keys: str | Iterable[str]) -> tuple[str, list[str]]:
    """Check ``note``'s signatures; returns (text, names of the known keys whose signatures verified).

    As the spec requires, signatures by unknown keys are ignored; a bad signature by a known key, or
    no valid signature by any known key, is a ValueError. For a checkpoint, also check that the
    log's own name is among the names returned (witnesses' are extra).
    """
    known: dict[tuple[str, int], bytes] = {}
    for text_key in [verifier_keys] if isinstance(verifier_keys, str) else verifier_keys:
        key = _parse_key(text_key, private=False)
        if known.setdefault((key.name, key.id), key.public) != key.public:
            raise ValueError(f"two different verifier keys are named {key.name}+{key.id:08x}")
    text, signatures = _split(note)
    names: list[str] = []
    for sig in signatures:
        public = known.get((sig.name, sig.id))
        if public is None:
            continue
        try:
            _ed25519().Ed25519PublicKey.from_public_bytes(public).verify(sig.signature, text.encode())
        except Exception:  # InvalidSignature, or a public key that is not a curve point
            raise ValueError(f"invalid signature by key {sig.name}+{sig.id:08x}") from None
        if sig.name not in names:
            names.append(sig.name)
    if not names:
        signed_by = ", ".join(f"{s.name}+{s.id:08x}" for s in signatures)
        raise ValueError(f"no signature by a known key (signed by: {signed_by})")
    return text, names


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head as a note text (c2sp.org/tlog-checkpoint): origin, size, root hash, extensions."""

    origin: str
    size: int
    root_hash: bytes
    extra_lines: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra_lines", tuple(self.extra_lines))
        for what, line in [("origin", self.origin), *(("extension line", x) for x in self.extra_lines)]:
            _check_text(line, f"checkpoint {what}")
            if not line or "\n" in line:
                raise ValueError(f"checkpoint {what} {line!r} is empty or has a newline")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or not 0 <= self.size < 2**63:
            raise ValueError(f"checkpoint size {self.size!r} is not an integer in 0 .. 2**63-1")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != 32:
            raise ValueError("checkpoint root hash must be 32 bytes")

    def format(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode(), *self.extra_lines]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """The checkpoint in a note text (as ``open_note`` returns it); ValueError if malformed."""
        _check_text(text, "checkpoint")
        if not text.endswith("\n"):
            raise ValueError("checkpoint must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise ValueError("checkpoint needs at least 3 lines: origin, size, root hash")
        origin, size, root, *extra = lines
        if not _SIZE.fullmatch(size) or int(size) >= 2**63:
            raise ValueError(f"checkpoint size {size[:30]!r} is not a decimal integer without leading zeros")
        root_hash = _b64decode(root, "checkpoint root hash")
        return cls(origin, int(size), root_hash, tuple(extra))
