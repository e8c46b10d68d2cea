"""Code-reading engines behind one small interface, so that new ones plug in."""

from __future__ import annotations

from importlib.metadata import version
from typing import Protocol

import numpy as np


class CodeEngine(Protocol):
    """Finds 2-D codes in a grayscale image and returns the text of each."""

    name: str

    def decode(self, gray: np.ndarray) -> list[str]: ...


class ZxingEngine:
    """zxing-cpp, QR codes only (the fast path: it reads full-size scans directly)."""

    def __init__(self) -> None:
        import zxingcpp

        self._zxing = zxingcpp
        self.name = f"zxing-cpp {version('zxing-cpp')}"

    def decode(self, gray: np.ndarray) -> list[str]:
        results = self._zxing.read_barcodes(gray, formats=self._zxing.BarcodeFormat.QRCode)
        return [r.text for r in results if r.valid and r.text]
