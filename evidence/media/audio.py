"""Recordings: recognise the container with mutagen (m4a/AAC, Ogg/Opus, WAV, MP3, ...) or the AMR
reader, and record the duration. Unknown or broken files are flagged, never raised."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mutagen

from evidence.media.amr import is_amr, read_amr
from evidence.models import Flag

# mutagen guesses partly from the file name; blobs have none, so the declared type lends one.
_EXTENSION_BY_TYPE = {
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/mp4": "m4a",
    "audio/m4a": "m4a",
    "audio/x-m4a": "m4a",
    "audio/aac": "m4a",
    "audio/ogg": "ogg",
    "audio/opus": "opus",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
}
_CONTAINERS = {
    "MP4": "mp4",
    "OggOpus": "ogg/opus",
    "OggVorbis": "ogg/vorbis",
    "WAVE": "wav",
    "MP3": "mp3",
    "FLAC": "flac",
}
PARSE_ERRORS: tuple[type[BaseException], ...] = (
    mutagen.MutagenError,
    OSError,
    ValueError,
    EOFError,
    struct.error,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    OverflowError,
)
AMR_READ_LIMIT = 64 * 1024 * 1024


@dataclass
class RecordingResult:
    """What inspecting a recording found."""

    media: dict[str, Any] = field(default_factory=dict)
    flags: list[Flag] = field(default_factory=list)


def inspect_recording(path: Path, content_type: str, consent: object) -> RecordingResult:
    """Container, codec, duration; flags for an unrecognised file or a recording without consent."""
    result = RecordingResult()
    if consent is not True:
        result.flags.append(Flag("recording_without_consent", "the recording does not carry the consent flag"))
    with path.open("rb") as reader:
        head = reader.read(16)
        if is_amr(head):
            reader.seek(0)
            return _amr(reader.read(AMR_READ_LIMIT), result)
        reader.seek(0)
        try:
            extension = _EXTENSION_BY_TYPE.get(content_type.split(";")[0].strip().lower(), "bin")
            found = mutagen.File(reader, filename=f"recording.{extension}")
        except PARSE_ERRORS as exc:
            result.flags.append(Flag("recording_unreadable", f"{type(exc).__name__}: {str(exc)[:200]}"))
            return result
    if found is None:
        result.flags.append(Flag("recording_unrecognised", "no supported audio container recognised"))
        return result
    info = found.info
    result.media = {
        "container": _CONTAINERS.get(type(found).__name__, type(found).__name__.lower()),
        "codec": str(getattr(info, "codec", "") or getattr(info, "codec_description", "") or ""),
        "duration_s": round(float(getattr(info, "length", 0.0) or 0.0), 3),
        "sample_rate": int(getattr(info, "sample_rate", 0) or 0),
        "channels": int(getattr(info, "channels", 0) or 0),
        "bitrate": int(getattr(info, "bitrate", 0) or 0),
    }
    if result.media["duration_s"] <= 0:
        result.flags.append(Flag("recording_empty", "the container holds no audio"))
    return result


def _amr(data: bytes, result: RecordingResult) -> RecordingResult:
    try:
        info = read_amr(data)
    except ValueError as exc:
        result.flags.append(Flag("recording_unreadable", str(exc)))
        return result
    result.media = {"container": "amr", "codec": info.codec, "duration_s": info.duration_s, "frames": info.frames}
    if info.truncated:
        result.flags.append(Flag("recording_truncated", "the last AMR frame is cut short"))
    return result
