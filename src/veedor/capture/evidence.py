"""Content-addressed evidence store: each input's bytes kept once, by SHA-256, never modified."""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path

CHUNK = 1 << 20


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class EvidenceStore:
    """A folder ``root/ab/cd/<sha256>``; writes are atomic (temp file + rename) and read-only."""

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
        if target.is_file():
            return digest, False
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest, True

    def read(self, sha256: str) -> bytes:
        data = self.path_for(sha256).read_bytes()
        if sha256_bytes(data) != sha256:
            raise ValueError(f"evidencia alterada / evidence file altered: {sha256}")
        return data
