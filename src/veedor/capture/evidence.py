"""Content-addressed evidence store: each input's bytes kept once, by SHA-256, never modified."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import time
from pathlib import Path

CHUNK = 1 << 20
READ_ONLY_FILE = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
READ_ONLY_DIR = READ_ONLY_FILE | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH
OPEN_DIR = READ_ONLY_DIR | stat.S_IWUSR
RETRIES = 8


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: str | Path) -> str:
    """A file's SHA-256, read a block at a time (a scanner's PDF can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


class EvidenceStore:
    """A folder ``root/ab/cd/<sha256>``; writes are atomic (temp file + rename) and read-only.

    Folders are read-only too (so a file cannot be replaced or deleted without first changing
    a folder's permissions): each is opened for its owner only while an entry is added to it.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def has(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def put(self, data: bytes, sha256: str | None = None) -> tuple[str, bool]:
        """Store ``data``; returns (sha256, newly_stored)."""
        digest = sha256 or sha256_bytes(data)
        target = self.path_for(digest)
        for attempt in range(RETRIES):
            if target.is_file():
                return digest, False
            try:
                self._write(target, data)
                return digest, True
            except PermissionError:
                # Another process (a worker beside this one) closed a folder between our
                # opening it and writing: open it again.
                if attempt == RETRIES - 1:
                    raise
                time.sleep(0.005 * 2**attempt)
        raise AssertionError("unreachable")

    def _write(self, target: Path, data: bytes) -> None:
        opened = self._open_folders(target.parent)
        try:
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.chmod(tmp, READ_ONLY_FILE)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        finally:
            for folder in reversed(opened):
                os.chmod(folder, READ_ONLY_DIR)

    def _open_folders(self, leaf: Path) -> list[Path]:
        """Create what is missing of root/ab/cd and open for writing each folder that gets a
        new entry: the leaf always, its parents only when a child is created in them."""
        self.root.parent.mkdir(parents=True, exist_ok=True)
        chain = [self.root, leaf.parent, leaf]
        opened: list[Path] = []
        for i, folder in enumerate(chain):
            if not folder.is_dir():
                if i > 0 and chain[i - 1] not in opened:
                    os.chmod(chain[i - 1], OPEN_DIR)
                    opened.append(chain[i - 1])
                folder.mkdir(exist_ok=True)
                os.chmod(folder, READ_ONLY_DIR)
        if leaf not in opened:
            os.chmod(leaf, OPEN_DIR)
            opened.append(leaf)
        return opened

    def read(self, sha256: str) -> bytes:
        data = self.path_for(sha256).read_bytes()
        if sha256_bytes(data) != sha256:
            raise ValueError(f"evidencia alterada / evidence file altered: {sha256}")
        return data


def remove_store(root: str | Path) -> None:
    """Delete a whole store on purpose (a demo's or a drill's): its folders opened first."""
    root = Path(root)
    if not root.exists():
        return
    for dirpath, dirs, _files in os.walk(root):
        for name in dirs:
            os.chmod(os.path.join(dirpath, name), OPEN_DIR)
    os.chmod(root, OPEN_DIR)
    shutil.rmtree(root, ignore_errors=True)
