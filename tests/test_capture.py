"""Capture: the evidence store keeps originals once and intact; metadata is read from bytes."""

from __future__ import annotations

import io
import stat

import cv2
import numpy as np
import pytest
from PIL import Image

from conftest import ACTAS
from veedor.capture.evidence import EvidenceStore, sha256_bytes
from veedor.capture.images import ImageRejected, load_image, sniff_format


def test_evidence_store_once_readonly_and_verified(tmp_path):
    store = EvidenceStore(tmp_path)
    data = b"\xff\xd8\xff acta bytes"
    sha, new = store.put(data)
    assert new and sha == sha256_bytes(data)
    assert store.put(data) == (sha, False)
    path = store.path_for(sha)
    assert path.read_bytes() == data
    assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert store.read(sha) == data
    path.chmod(0o644)
    path.write_bytes(b"altered")
    with pytest.raises(ValueError, match="altered"):
        store.read(sha)
    assert not list(tmp_path.rglob(".incoming-*"))


def photo_with_exif() -> bytes:
    page = np.full((200, 150), 200, np.uint8)
    page[50:60, 20:130] = 30  # a line of ink: a blank page is refused before its metadata matters
    img = Image.fromarray(page)
    exif = Image.Exif()
    exif[0x010F] = "Samsung"
    exif[0x0110] = "Galaxy A14"
    exif.get_ifd(0x8769)[0x9003] = "2024:07:28 19:42:10"
    exif.get_ifd(0x8825).update({1: "N", 2: (10.0, 30.0, 0.0), 3: "W", 4: (66.0, 55.0, 0.0)})
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def test_exif_is_captured():
    data = photo_with_exif()
    loaded = load_image(data, sha256_bytes(data))
    meta = loaded.facts.metadata
    assert meta["device_make"] == "Samsung" and meta["device_model"] == "Galaxy A14"
    assert meta["captured_at"] == "2024:07:28 19:42:10"
    assert meta["gps"]["GPSLatitudeRef"] == "N" and meta["gps"]["GPSLatitude"] == [10.0, 30.0, 0.0]
    assert (loaded.facts.format, loaded.facts.width, loaded.facts.height) == ("JPEG", 150, 200)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "empty"),
        (b"%PDF-1.7 ...", "page by page"),
        (b"GIF89a" + b"\x00" * 10, "corrupt"),
        (b"just text", "not an image"),
    ],
)
def test_rejections_say_why(data, fragment):
    with pytest.raises(ImageRejected, match=fragment):
        load_image(data, sha256_bytes(data))


def test_tiny_image_rejected():
    buffer = io.BytesIO()
    Image.new("L", (20, 20), 255).save(buffer, "PNG")
    with pytest.raises(ImageRejected, match="too small"):
        load_image(buffer.getvalue(), "x")
    assert sniff_format(buffer.getvalue()) == "PNG"


def test_files_people_really_have_are_read():
    """A motion photo (a video after the JPEG's end), and a 100 Mpx phone photo."""
    import numpy as np

    from veedor.capture.images import load_image

    real = next(ACTAS.glob("*/017911_018022_0093Acta0093.jpg")).read_bytes()
    motion = real + b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40
    loaded = load_image(motion, "x")
    assert loaded.facts.metadata["trailing_bytes"] == len(motion) - len(real)
    assert loaded.facts.size == len(motion)
    big = np.full((10_000, 10_000), 255, np.uint8)
    big[4000:4100, 1000:9000] = 0  # something on it: a blank page is refused as blank
    ok, data = cv2.imencode(".jpg", big)
    assert ok and load_image(data.tobytes(), "y").gray.shape == (10_000, 10_000)


def test_an_iphone_heic_photo_is_read():
    import io

    import numpy as np
    import pillow_heif
    import pytest
    from PIL import Image

    from conftest import ACTAS
    from veedor.capture.images import ImageRejected, load_image
    from veedor.definitions import load_definition
    from veedor.read.acta import read_qr

    pillow_heif.register_heif_opener()
    real = next(ACTAS.glob("*/017911_018022_0093Acta0093.jpg"))
    buffer = io.BytesIO()
    Image.open(real).convert("RGB").save(buffer, format="HEIF", quality=92)
    loaded = load_image(buffer.getvalue(), "h")
    assert loaded.facts.format == "HEIC" and loaded.gray.ndim == 2
    definition = load_definition("ve-2024-presidential")
    assert read_qr(np.ascontiguousarray(loaded.gray), definition).acta is not None
    with pytest.raises(ImageRejected):
        load_image(buffer.getvalue()[: len(buffer.getvalue()) // 3], "b")


def test_a_blank_page_is_refused_as_blank_and_a_faded_acta_is_not(definition):
    """The back of a double-sided scan is said to be blank, not sent to a person; the
    emptiest real acta in any degraded family is far from the bound."""
    from veedor.capture.images import is_blank
    from veedor.simulate.degrade import degrade

    noisy_paper = np.clip(np.random.default_rng(0).normal(236, 5, (1500, 1100)), 0, 255).astype(np.uint8)
    _ok, data = cv2.imencode(".png", noisy_paper)
    with pytest.raises(ImageRejected, match="blank page"):
        load_image(data.tobytes(), "b")
    real = cv2.imread(str(next(ACTAS.glob("*/qr-readable-mobile-1.jpg"))), cv2.IMREAD_GRAYSCALE)
    rng = np.random.default_rng(5)
    for family in ("faded", "phone_full", "dark", "blur"):
        assert not is_blank(degrade(real, family, rng)), family


def test_a_transparent_background_is_white_paper_not_black():
    ink = np.full((300, 300), 255, np.uint8)
    ink[100:200, 100:200] = 0
    rgba = np.zeros((300, 300, 4), np.uint8)  # black everywhere; only alpha says where ink is
    rgba[..., 3] = 255 - ink
    _ok, data = cv2.imencode(".png", rgba)
    gray = load_image(data.tobytes(), "a").gray
    assert gray[10, 10] == 255 and gray[150, 150] == 0
