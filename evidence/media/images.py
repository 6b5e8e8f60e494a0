"""Photos and signatures through Pillow, under strict limits. Originals are only ever read.

Hostile files (decompression bombs, truncated data, absurd dimensions, garbage EXIF, not an image
at all) become flags, never exceptions: a worker that meets one goes on with the next job.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import PIL
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from evidence.media.exif import capture_from_exif
from evidence.media.limits import ImageLimits
from evidence.models import Flag

# What Pillow's decoders raise on broken input: its plugins use the whole zoo.
DECODE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    struct.error,
    TypeError,
    IndexError,
    KeyError,
    ZeroDivisionError,
    OverflowError,
    MemoryError,
    Image.DecompressionBombError,
)
_TRANSPOSE = {
    2: [Image.Transpose.FLIP_LEFT_RIGHT],
    3: [Image.Transpose.ROTATE_180],
    4: [Image.Transpose.FLIP_TOP_BOTTOM],
    5: [Image.Transpose.TRANSPOSE],
    6: [Image.Transpose.ROTATE_270],
    7: [Image.Transpose.TRANSVERSE],
    8: [Image.Transpose.ROTATE_90],
}


@dataclass
class ImageResult:
    """What decoding an image found, and the derived file it made (if any)."""

    media: dict[str, Any] = field(default_factory=dict)
    capture: dict[str, Any] = field(default_factory=dict)
    flags: list[Flag] = field(default_factory=list)
    derived: bytes | None = None
    recipe: dict[str, Any] = field(default_factory=dict)


def _flag_error(result: ImageResult, exc: BaseException) -> ImageResult:
    if isinstance(exc, Image.DecompressionBombError):
        result.flags.append(Flag("image_too_large", f"refused to decode: {exc}"))
    elif isinstance(exc, UnidentifiedImageError):
        result.flags.append(Flag("not_an_image", "Pillow recognises no image format in this file"))
    elif isinstance(exc, OSError) and "truncated" in str(exc):
        result.flags.append(Flag("image_truncated", f"the image data ends early: {exc}"))
    else:
        result.flags.append(Flag("image_unreadable", f"{type(exc).__name__}: {str(exc)[:200]}"))
    return result


def _exif_capture(im: Image.Image, result: ImageResult) -> int:
    """Fill the capture context from EXIF; return the orientation (1 when unknown)."""
    try:
        exif = im.getexif()
        main = dict(exif)
        exif_ifd = dict(exif.get_ifd(ExifTags.IFD.Exif)) if main else {}
        gps = dict(exif.get_ifd(ExifTags.IFD.GPSInfo)) if main else {}
    except DECODE_ERRORS as exc:
        result.flags.append(Flag("exif_unreadable", f"{type(exc).__name__}: {str(exc)[:200]}"))
        return 1
    capture, problems = capture_from_exif(main, exif_ifd, gps)
    result.capture.update(capture)
    if problems:
        result.flags.append(Flag("exif_doubtful", "; ".join(problems)[:300]))
    return int(capture.get("orientation", 1))


def _open_checked(path: Path, limits: ImageLimits, result: ImageResult) -> Image.Image | None:
    """Open (header only) and check the dimensions before anything is decoded."""
    im = Image.open(path)
    width, height = im.size
    result.media.update(format=im.format, width=width, height=height, mode=im.mode)
    if limits.too_large(width, height):
        im.close()
        result.flags.append(
            Flag("image_too_large", f"{width} x {height} pixels is beyond the {limits.max_pixels} pixel limit")
        )
        return None
    return im


def make_photo_thumbnail(path: Path, limits: ImageLimits) -> ImageResult:
    """Read a photo's capture data and make an orientation-corrected JPEG thumbnail (<= limits.thumbnail_side)."""
    result = ImageResult()
    try:
        im = _open_checked(path, limits, result)
        if im is None:
            return result
        with im:
            side = limits.thumbnail_side
            im.draft("RGB", (side, side))  # JPEG: let libjpeg decode at 1/2, 1/4 or 1/8 scale
            im.thumbnail((side, side), Image.Resampling.BICUBIC, reducing_gap=2.0)
            thumb = im.convert("RGB")
            orientation = _exif_capture(im, result)  # after decoding: a PNG's EXIF may follow its pixels
    except DECODE_ERRORS as exc:
        return _flag_error(result, exc)
    for step in _TRANSPOSE.get(orientation, []):
        thumb = thumb.transpose(step)
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=limits.thumbnail_quality, optimize=False)
    result.derived = out.getvalue()
    result.recipe = {
        "tool": f"Pillow {PIL.__version__}",
        "steps": ["draft RGB", f"thumbnail {side}px bicubic", f"exif orientation {orientation}", "JPEG"],
        "quality": limits.thumbnail_quality,
        "size": list(thumb.size),
    }
    return result


def normalise_signature(path: Path, limits: ImageLimits) -> ImageResult:
    """Decode a signature PNG and make a normalised copy: ink on white, trimmed, grayscale PNG."""
    result = ImageResult()
    try:
        im = _open_checked(path, limits, result)
        if im is None:
            return result
        with im:
            if im.format != "PNG":
                result.flags.append(Flag("signature_not_png", f"a signature must be a PNG, this is {im.format}"))
                return result
            rgba = im.convert("RGBA")
    except DECODE_ERRORS as exc:
        return _flag_error(result, exc)
    page = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    page.alpha_composite(rgba)
    gray = page.convert("L")
    box = ImageOps.invert(gray).getbbox()
    if box is None:
        result.flags.append(Flag("signature_blank", "the signature image holds no ink"))
        return result
    margin = 8
    box = (
        max(0, box[0] - margin),
        max(0, box[1] - margin),
        min(gray.width, box[2] + margin),
        min(gray.height, box[3] + margin),
    )
    trimmed = gray.crop(box)
    trimmed.thumbnail((limits.signature_side, limits.signature_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    trimmed.save(out, "PNG")
    result.derived = out.getvalue()
    result.recipe = {
        "tool": f"Pillow {PIL.__version__}",
        "steps": ["RGBA over white", "grayscale", f"trim to ink + {margin}px", f"fit {limits.signature_side}px", "PNG"],
        "size": list(trimmed.size),
    }
    return result
