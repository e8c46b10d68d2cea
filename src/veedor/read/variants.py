"""Image transforms that give a decoder a second chance on a degraded QR.

Each takes and returns an 8-bit grayscale array and never changes its input. They are
deliberately plain OpenCV operations: the point is to undo what phones, printers and
paper do to a QR (blur, low contrast, uneven light, JPEG blocks, tiny modules, a cut
quiet zone), not to invent pixels.
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

from veedor.read.deblur import deblurred, smear


def pad(gray: np.ndarray, frac: float = 0.12) -> np.ndarray:
    """A white margin: decoders need a quiet zone, and cropped photos often cut it."""
    border = max(8, int(frac * min(gray.shape[:2])))
    return cv2.copyMakeBorder(gray, border, border, border, border, cv2.BORDER_CONSTANT, value=255)


def scale(gray: np.ndarray, factor: float) -> np.ndarray:
    interp = cv2.INTER_CUBIC if factor > 1 else cv2.INTER_AREA
    return cv2.resize(gray, None, fx=factor, fy=factor, interpolation=interp)


def fit(gray: np.ndarray, long_side: int) -> np.ndarray:
    """Resize so that the longer side is ``long_side`` (bounded work for every crop)."""
    h, w = gray.shape[:2]
    return scale(gray, long_side / max(h, w))


def otsu(gray: np.ndarray) -> np.ndarray:
    _t, out = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return out


def adaptive(gray: np.ndarray, block_frac: float = 0.04) -> np.ndarray:
    """Local mean threshold: survives shadows and uneven light across the code."""
    block = max(11, int(block_frac * min(gray.shape[:2])) | 1)
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, block, 5)


def clahe(gray: np.ndarray) -> np.ndarray:
    """Local contrast stretch for faded thermal paper and dim photos."""
    return cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8)).apply(gray)


def stretch(gray: np.ndarray) -> np.ndarray:
    """Global contrast stretch between the 1st and 99th percentiles."""
    lo, hi = np.percentile(gray, (1, 99))
    if hi - lo < 1:
        return gray
    out = (gray.astype(np.float32) - lo) * (255.0 / (hi - lo))
    return np.clip(out, 0, 255).astype(np.uint8)


def sharpen(gray: np.ndarray, sigma: float = 2.0, amount: float = 1.5) -> np.ndarray:
    """Unsharp mask: restores module edges softened by focus blur."""
    soft = cv2.GaussianBlur(gray, (0, 0), sigma)
    return cv2.addWeighted(gray, 1 + amount, soft, -amount, 0)


def smooth(gray: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    """Gaussian smoothing: removes JPEG block edges and paper grain before thresholding."""
    return cv2.GaussianBlur(gray, (0, 0), sigma)


def median(gray: np.ndarray, k: int = 3) -> np.ndarray:
    return cv2.medianBlur(gray, k)


def close(gray: np.ndarray, k: int = 3) -> np.ndarray:
    """Grey closing: fills white specks inside dark modules (worn thermal print)."""
    return cv2.morphologyEx(gray, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))


def flatten(gray: np.ndarray) -> np.ndarray:
    """Divide by a heavy blur of the page: removes shading and gradients of light."""
    background = cv2.GaussianBlur(gray, (0, 0), max(8.0, min(gray.shape[:2]) / 12))
    out = gray.astype(np.float32) / np.maximum(background.astype(np.float32), 1.0) * 230.0
    return np.clip(out, 0, 255).astype(np.uint8)


def rotate(gray: np.ndarray, quarter_turns: int) -> np.ndarray:
    codes = {1: cv2.ROTATE_90_CLOCKWISE, 2: cv2.ROTATE_180, 3: cv2.ROTATE_90_COUNTERCLOCKWISE}
    turns = quarter_turns % 4
    return gray if turns == 0 else cv2.rotate(gray, codes[turns])


def deskew(gray: np.ndarray, angle: float, background: int = 255) -> np.ndarray:
    """Rotate by ``angle`` degrees (counter-clockwise) onto an enlarged canvas of ``background``."""
    h, w = gray.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(gray, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=background)


SMOOTHING = (3, 5, 7)  # Gaussian kernels tried on a grainy image: each fixed different dark photos
SHARPENING = (1.5, 3.0)  # unsharp-mask radii tried on a soft one: each fixed different blurs
GRAINY = 0.025  # pixel noise over ink-to-paper contrast: dark photos 3-15 %, scans under 2 %


def grainy(gray: np.ndarray) -> bool:
    """Whether the image's pixel noise is large next to its contrast (a dark photo)."""
    rows = gray[::7].astype(np.int16)
    noise = 1.4826 * float(np.median(np.abs(np.diff(rows, axis=1)))) / np.sqrt(2)
    lo, hi = np.percentile(gray[::7, ::3], (1, 99))
    return bool(noise > GRAINY * max(float(hi - lo), 1.0))


def smoothed(gray: np.ndarray, size: int) -> np.ndarray:
    """Gaussian smoothing, then stretched to the full range of grey (the model's ink on white)."""
    out = cv2.GaussianBlur(gray, (size, size), 0)
    lo, hi = float(out.min()), float(out.max())
    return cv2.convertScaleAbs(out, alpha=255.0 / max(hi - lo, 1.0), beta=-lo * 255.0 / max(hi - lo, 1.0))


def sharpened(gray: np.ndarray, radius: float) -> np.ndarray:
    """Unsharp mask: the image minus its blur at ``radius``, added back once."""
    soft = cv2.GaussianBlur(gray, (0, 0), radius)
    return cv2.addWeighted(gray, 2.0, soft, -1.0, 0)


def retouched_views(gray: np.ndarray) -> Iterator[tuple[str, np.ndarray]]:
    """Light-only variants worth another reading when the first does not hold: the
    blur divided out when it shows one, then smoothed when the image is grainy,
    sharpened otherwise; made one at a time, as asked for."""
    if (blur := smear(gray)) is not None:
        yield blur.name, deblurred(gray, blur)
    if grainy(gray):
        yield from ((f"smoothed:{size}", smoothed(gray, size)) for size in SMOOTHING)
        # Uneven light divided out first: each crop is then ink on one paper tone (it read
        # lines of dark photos no smoothing alone did; the views are combined).
        yield "flattened+smoothed:5", smoothed(flatten(gray), 5)
    else:
        yield from ((f"sharpened:{radius:g}", sharpened(gray, radius)) for radius in SHARPENING)
