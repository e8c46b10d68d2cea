"""Code-reading engines behind one small interface, so that new ones plug in."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any, Protocol

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
        results = self._zxing.read_barcodes(gray, formats=self._zxing.BarcodeFormat.QRCode)  # type: ignore[arg-type]
        return [r.text for r in results if r.valid and r.text]


def _opencv_version() -> str:
    import cv2

    return str(cv2.__version__)


class OpenCvArucoEngine:
    """OpenCV's ``QRCodeDetectorAruco``: an independent detector and decoder.

    It finds finder patterns with the Aruco machinery, which tolerates blur and uneven
    light differently from zxing; used only on small, straightened crops, where it is
    fast (on a whole page it is slow and weaker than zxing).
    """

    def __init__(self) -> None:
        import cv2

        self._detector: Any = cv2.QRCodeDetectorAruco()
        self._error = cv2.error
        self.name = f"opencv-aruco {_opencv_version()}"

    def decode(self, gray: np.ndarray) -> list[str]:
        try:
            ok, texts, _points, _straight = self._detector.detectAndDecodeMulti(gray)
        except self._error:
            return []
        return [t for t in texts if t] if ok else []


class OpenCvEngine(OpenCvArucoEngine):
    """OpenCV's classic ``QRCodeDetector`` (what most 2024 volunteer scripts used)."""

    def __init__(self) -> None:
        import cv2

        self._detector = cv2.QRCodeDetector()
        self._error = cv2.error
        self.name = f"opencv {_opencv_version()}"
