"""Media inspection with plain files: hostile input becomes flags, good input gives capture data."""

from __future__ import annotations

import io
import struct
import wave
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from evidence.media.amr import NB_MAGIC, read_amr
from evidence.media.audio import inspect_recording
from evidence.media.exif import capture_from_exif
from evidence.media.images import make_photo_thumbnail, normalise_signature
from evidence.media.limits import ImageLimits
from tests.evidence import hostile

pytestmark = pytest.mark.embedded
LIMITS = ImageLimits()


def _file(tmp_path: Path, data: bytes, name: str = "blob") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _codes(result) -> set[str]:
    return {f.code for f in result.flags}


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (hostile.decompression_bomb(), "image_too_large"),
        (hostile.png_claiming(100_000, 100_000), "image_too_large"),
        (hostile.truncated_jpeg(), "image_truncated"),
        (b"\x00\x01garbage" * 100, "not_an_image"),
        (hostile.png_claiming(10, 10, b"not zlib"), "image_unreadable"),
    ],
    ids=["decompression-bomb", "png-100000x100000", "truncated-jpeg", "not-an-image", "broken-png-data"],
)
def test_hostile_images_are_flagged_not_raised(tmp_path, data, code):
    result = make_photo_thumbnail(_file(tmp_path, data), LIMITS)
    assert code in _codes(result)
    assert result.derived is None


def test_garbage_exif_is_flagged_and_the_thumbnail_still_made(tmp_path):
    result = make_photo_thumbnail(_file(tmp_path, hostile.jpeg_with_garbage_exif()), LIMITS)
    assert result.derived is not None
    nonsense = make_photo_thumbnail(_file(tmp_path, hostile.jpeg_with_nonsense_exif_values(), "n"), LIMITS)
    assert "exif_doubtful" in _codes(nonsense)
    assert nonsense.derived is not None
    assert "gps" not in nonsense.capture


def test_capture_context_and_orientation_come_from_exif(tmp_path):
    result = make_photo_thumbnail(_file(tmp_path, hostile.jpeg_with_capture_exif(orientation=6)), LIMITS)
    assert result.flags == []
    assert result.capture["taken_at"] == "2026-11-20T14:31:07+08:00"
    assert result.capture["camera"] == {"make": "Xiaomi", "model": "Redmi Note 12"}
    assert result.capture["gps"]["lat"] == pytest.approx(31.2304, abs=1e-4)
    assert result.capture["gps"]["lon"] == pytest.approx(121.4737, abs=1e-4)
    assert Image.open(io.BytesIO(result.derived or b"")).size == (48, 64)  # rotated upright


def test_large_photo_thumbnail_fits_512(tmp_path):
    result = make_photo_thumbnail(_file(tmp_path, hostile.noisy_jpeg(4000, 3000)), LIMITS)
    assert max(Image.open(io.BytesIO(result.derived or b"")).size) == 512
    assert result.media["width"] == 4000


@given(
    main=st.dictionaries(
        st.integers(0, 70000), st.one_of(st.none(), st.integers(), st.text(), st.binary(), st.floats())
    ),
    exif=st.dictionaries(st.sampled_from([36867, 36881, 1, 2]), st.one_of(st.text(), st.binary(), st.integers())),
    gps=st.dictionaries(
        st.integers(0, 31),
        st.one_of(st.text(), st.tuples(st.floats(), st.floats(), st.floats()), st.lists(st.integers()), st.integers()),
    ),
)
def test_capture_from_any_exif_never_raises(main, exif, gps):
    found, problems = capture_from_exif(main, exif, gps)
    assert isinstance(found, dict)
    assert all(isinstance(p, str) for p in problems)


def test_signature_png_is_trimmed_to_its_ink(tmp_path):
    im = Image.new("RGBA", (400, 200), (0, 0, 0, 0))
    for x in range(100, 300):
        im.putpixel((x, 100), (0, 0, 0, 255))
    out = io.BytesIO()
    im.save(out, "PNG")
    result = normalise_signature(_file(tmp_path, out.getvalue()), LIMITS)
    assert result.flags == []
    normalised = Image.open(io.BytesIO(result.derived or b""))
    assert normalised.mode == "L"
    assert normalised.size == (216, 17)


def test_signature_that_is_not_a_png_is_flagged(tmp_path):
    result = normalise_signature(_file(tmp_path, hostile.noisy_jpeg(50, 50)), LIMITS)
    assert _codes(result) == {"signature_not_png"}


def _wav(seconds: float) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(8000)
        writer.writeframes(b"\x00\x00" * int(8000 * seconds))
    return out.getvalue()


def test_wav_duration_and_missing_consent_flag(tmp_path):
    result = inspect_recording(_file(tmp_path, _wav(1.5)), "audio/wav", consent=None)
    assert result.media["container"] == "wav"
    assert result.media["duration_s"] == pytest.approx(1.5)
    assert _codes(result) == {"recording_without_consent"}


def test_amr_is_recognised_and_timed(tmp_path):
    frame = bytes([7 << 3 | 0x04]) + b"\x00" * 31  # 12.2 kbit/s frames of 20 ms
    data = NB_MAGIC + frame * 150
    result = inspect_recording(_file(tmp_path, data), "audio/amr", consent=True)
    assert result.media == {"container": "amr", "codec": "AMR-NB", "duration_s": 3.0, "frames": 150}
    assert result.flags == []
    assert read_amr(data[:-5]).truncated


def test_unknown_audio_is_flagged(tmp_path):
    result = inspect_recording(_file(tmp_path, struct.pack(">I", 7) * 100), "audio/mpeg", consent=True)
    assert _codes(result) & {"recording_unrecognised", "recording_unreadable"}
