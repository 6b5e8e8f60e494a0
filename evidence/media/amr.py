"""AMR (3GPP adaptive multi-rate speech, the format of many Android call recorders): recognise
the file and count its frames for the duration. mutagen reads every other container we accept
but not AMR, whose storage format (RFC 4867 section 5) is simple enough to walk frame by frame."""

from __future__ import annotations

from dataclasses import dataclass

NB_MAGIC = b"#!AMR\n"
WB_MAGIC = b"#!AMR-WB\n"
FRAME_SECONDS = 0.02
# Speech bytes per frame type (the one-byte frame header excluded); None: a reserved type.
_NB_SIZES: tuple[int | None, ...] = (12, 13, 15, 17, 19, 20, 26, 31, 5, None, None, None, None, None, None, 0)
_WB_SIZES: tuple[int | None, ...] = (17, 23, 32, 36, 40, 46, 50, 58, 60, 5, None, None, None, None, 0, 0)


@dataclass(frozen=True)
class AmrInfo:
    """What walking the frames found."""

    codec: str  # "AMR-NB" or "AMR-WB"
    frames: int
    duration_s: float
    truncated: bool


def is_amr(head: bytes) -> bool:
    """True when ``head`` starts like an AMR file."""
    return head.startswith(NB_MAGIC) or head.startswith(WB_MAGIC)


def read_amr(data: bytes) -> AmrInfo:
    """Walk the frames (ValueError if this is not AMR or a frame type is reserved)."""
    if data.startswith(WB_MAGIC):
        codec, sizes, position = "AMR-WB", _WB_SIZES, len(WB_MAGIC)
    elif data.startswith(NB_MAGIC):
        codec, sizes, position = "AMR-NB", _NB_SIZES, len(NB_MAGIC)
    else:
        raise ValueError("not an AMR file")
    frames = 0
    while position < len(data):
        size = sizes[(data[position] >> 3) & 0x0F]
        if size is None:
            raise ValueError(f"reserved AMR frame type at byte {position}")
        if position + 1 + size > len(data):
            return AmrInfo(codec, frames, round(frames * FRAME_SECONDS, 3), truncated=True)
        position += 1 + size
        frames += 1
    return AmrInfo(codec, frames, round(frames * FRAME_SECONDS, 3), truncated=False)
