"""Undo a blur the image shows: a straight motion smear (the phone moved while the photo
was taken) or a focus blur (a soft photo or scan).

A streak of length L smears every glyph into L copies along one direction. Its spectrum
is a sinc whose zeros repeat every 1/L along that direction, and the cepstrum (the
spectrum of the log spectrum) turns that periodic pattern into one sharp dip at distance
L, in the streak's direction. Text has no such dip (measured on the reading bench: every
motion-blurred image 44 robust deviations deep or more, every other family, focus blur
included, 25 or less), so the dip both detects the streak and measures it. The streak
is then removed by Wiener deconvolution, which divides it out of the spectrum except
where it is too weak to recover (there the noise would be amplified instead).

A focus blur (a Gaussian) has no zeros to find. Its width is measured at the text's
edges instead: blurring again by a known amount lowers a soft edge's gradient less than
a sharp one's, and the ratio gives the blur (Zhuo and Sim's defocus estimate). Sharp
scans and photos measure under 0.95 px on the bench, blurred ones about 0.85 times their
true blur plus that floor.

Only light changes: the numbers read on a deblurred view face every check as any other.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

WINDOW = 768  # the centre of the image measured: enough glyphs, a small FFT
SHORTEST, LONGEST = 4.5, 26.0  # streak lengths in pixels: shorter ones are the text's own pitch
DEPTH = 30.0  # robust deviations below the cepstrum's typical value: a streak, not text
REBLUR = 1.0  # the known blur added to measure a focus blur, pixels
SHARP = 0.75  # what a sharp acta measures (the print's own edges and the scan's)
SOFT = 1.1  # measured past this, the image is soft (sharp ones measure 0.95 at most)
NOISE_TO_SIGNAL = 0.01  # Wiener's damping: lower sharpens more and rings more (0.003-0.01 read alike)


@dataclass(frozen=True)
class Focus:
    sigma: float  # the Gaussian blur's width, pixels

    @property
    def name(self) -> str:
        return f"deblurred:focus{self.sigma:.1f}px"

    def kernel(self) -> np.ndarray:
        size = int(6 * self.sigma) | 1
        line = cv2.getGaussianKernel(size, self.sigma)
        return (line @ line.T).astype(np.float32)


@dataclass(frozen=True)
class Streak:
    length: float  # pixels
    angle: float  # degrees counter-clockwise from the x axis, in [0, 180)
    depth: float  # the cepstral dip, in robust deviations

    @property
    def name(self) -> str:
        return f"deblurred:{self.length:.0f}px@{self.angle:.0f}"

    def kernel(self) -> np.ndarray:
        """A line of ``length`` pixels at ``angle``, anti-aliased, summing to one."""
        size = int(np.ceil(self.length)) + 3 | 1
        kernel = np.zeros((size, size), np.float32)
        c = size // 2
        cos, sin = np.cos(np.radians(self.angle)), np.sin(np.radians(self.angle))
        for t in np.linspace(-(self.length - 1) / 2, (self.length - 1) / 2, max(2, round(4 * self.length))):
            x, y = c + t * cos, c - t * sin
            x0, y0 = int(np.floor(x)), int(np.floor(y))
            fx, fy = x - x0, y - y0
            kernel[y0, x0] += (1 - fx) * (1 - fy)
            kernel[y0, x0 + 1] += fx * (1 - fy)
            kernel[y0 + 1, x0] += (1 - fx) * fy
            kernel[y0 + 1, x0 + 1] += fx * fy
        return kernel / kernel.sum()


def streak(gray: np.ndarray) -> Streak | None:
    """The motion streak of the image, or None when it shows none."""
    h, w = gray.shape[:2]
    # Sides a multiple of 64: a receipt 644 px wide (7 x 92) makes a slow FFT, 640 a fast one.
    ch, cw = min(h, WINDOW) // 64 * 64, min(w, WINDOW) // 64 * 64
    if ch < 4 * LONGEST or cw < 4 * LONGEST:
        return None
    y0, x0 = (h - ch) // 2, (w - cw) // 2
    crop = gray[y0 : y0 + ch, x0 : x0 + cw].astype(np.float32)
    crop -= crop.mean()
    crop *= np.outer(np.hanning(ch), np.hanning(cw)).astype(np.float32)
    spectrum = np.abs(np.fft.fft2(crop))
    cepstrum = np.fft.fftshift(np.real(np.fft.ifft2(np.log(1e-3 + spectrum))))
    yy, xx = np.mgrid[:ch, :cw]
    dy, dx = yy - ch // 2, xx - cw // 2
    radius = np.hypot(dy, dx)
    ring = (radius >= 3) & (radius <= LONGEST)
    values = cepstrum[ring]
    typical = float(np.median(values))
    spread = 1.4826 * float(np.median(np.abs(values - typical)))
    k = int(np.argmin(np.where(ring, cepstrum, np.inf)))
    depth = (typical - float(cepstrum.flat[k])) / max(spread, 1e-9)
    ky, kx = divmod(k, cw)
    # The dip lies between grid points: a parabola through each axis's neighbours finds it
    # (a 15 px smear at 65 degrees read 1.6 px long from the grid point alone).
    oy = _vertex(cepstrum[ky - 1, kx], cepstrum[ky, kx], cepstrum[ky + 1, kx])
    ox = _vertex(cepstrum[ky, kx - 1], cepstrum[ky, kx], cepstrum[ky, kx + 1])
    sy, sx = float(dy[ky, kx]) + oy, float(dx[ky, kx]) + ox
    length = float(np.hypot(sy, sx))
    if depth < DEPTH or length < SHORTEST:
        return None
    angle = float(np.degrees(np.arctan2(-sy, sx)) % 180.0)
    return Streak(length, angle, depth)


def _vertex(before: float, at: float, after: float) -> float:
    """Offset (-0.5 to 0.5) of the extreme of the parabola through three equally spaced values."""
    curve = before - 2 * at + after
    return 0.0 if abs(curve) < 1e-12 else float(np.clip(0.5 * (before - after) / curve, -0.5, 0.5))


def focus(gray: np.ndarray) -> Focus | None:
    """The image's focus blur, or None when its text edges are sharp."""
    h, w = gray.shape[:2]
    if min(h, w) < 64:
        return None
    # Past the header (logos, big title letters), where the table's small text begins.
    part = gray[h // 4 : h // 4 + 1024]
    soft = part.astype(np.float32)
    again = cv2.GaussianBlur(soft, (0, 0), REBLUR)
    gradient = cv2.magnitude(cv2.Sobel(soft, cv2.CV_32F, 1, 0), cv2.Sobel(soft, cv2.CV_32F, 0, 1))
    gradient_again = cv2.magnitude(cv2.Sobel(again, cv2.CV_32F, 1, 0), cv2.Sobel(again, cv2.CV_32F, 0, 1))
    edges = cv2.Canny(cv2.GaussianBlur(part, (0, 0), 1.0), 20, 60) > 0
    edges &= gradient > np.percentile(gradient, 90)
    ratio = gradient[edges] / np.maximum(gradient_again[edges], 1e-3)
    ratio = ratio[ratio > 1.0001]
    if ratio.size < 500:
        return None
    measured = float(np.median(REBLUR / np.sqrt(ratio**2 - 1)))
    if measured < SOFT:
        return None
    # Measured on the bench's blurs: the estimate is ~0.85 of the blur, over a sharp floor.
    return Focus(float(np.sqrt(measured**2 - SHARP**2)) / 0.85)


def smear(gray: np.ndarray) -> Focus | Streak | None:
    """The blur worth dividing out of the image, if any: a motion streak first (it also
    softens the edges the focus estimate measures), else a focus blur."""
    return streak(gray) or focus(gray)


def deblurred(
    gray: np.ndarray, found: Focus | Streak, noise_to_signal: float = NOISE_TO_SIGNAL
) -> np.ndarray:
    """The image with the blur divided out (Wiener deconvolution); a new array."""
    kernel = found.kernel()
    size = kernel.shape[0]
    h, w = gray.shape[:2]
    # Mirrored margins: the image's edges must not ring into the text.
    padded = cv2.copyMakeBorder(gray, size, size, size, size, cv2.BORDER_REFLECT).astype(np.float32)
    shape = (cv2.getOptimalDFTSize(padded.shape[0]), cv2.getOptimalDFTSize(padded.shape[1]))
    centred = np.zeros(shape, np.float32)
    centred[:size, :size] = kernel
    centred = np.roll(centred, (-(size // 2), -(size // 2)), axis=(0, 1))
    streak_f = np.fft.rfft2(centred)
    image_f = np.fft.rfft2(padded, s=shape)
    restored = np.fft.irfft2(image_f * np.conj(streak_f) / (np.abs(streak_f) ** 2 + noise_to_signal), s=shape)
    out = restored[size : size + h, size : size + w]
    return np.clip(out, 0, 255).astype(np.uint8)
