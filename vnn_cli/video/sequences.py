"""What an image sequence does not say by itself: its frame rate and its missing frames.

An image has no timestamp, so a sequence plays at the rate given (`--input-fps`), else at the rate
its first frame records, else at 24 fps, said in a note. vnn records the rate in every PNG or JPEG
frame it writes (a PNG text chunk, a JPEG comment: `vnn-fps`), so a round trip keeps it; inside
the frames, not in a file beside them, it travels with them and adds nothing to their folder.

The frame numbers are the timing: a gap in the numbering (frame_0004 then frame_0009) is frames
missing, not a cut in time, so the frames after it keep their times and the missing ones are
filled in like any other in-between."""
from __future__ import annotations

import math
import re
import struct
import zlib
from fractions import Fraction
from pathlib import Path

from PIL import Image

from ..core.timing import parse_rate
from .timestamps import FrameTimes

DEFAULT_FPS = Fraction(24)
_KEY = "vnn-fps"


def tag_rate(data: bytes, suffix: str, fps: Fraction) -> bytes:
    """An encoded PNG or JPEG with its frame rate recorded; other formats as they are."""
    text = f"{fps.numerator}/{fps.denominator}".encode()
    if suffix.lower() == ".png":  # a tEXt chunk right after IHDR (8-byte signature + 25-byte chunk)
        body = b"tEXt" + _KEY.encode() + b"\0" + text
        return data[:33] + struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body)) + data[33:]
    if suffix.lower() in (".jpg", ".jpeg"):  # a comment segment right after the start-of-image marker
        comment = _KEY.encode() + b"=" + text
        return data[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + data[2:]
    return data


def recorded_rate(path: Path) -> Fraction | None:
    """The frame rate vnn recorded in an image, read from its header; None when there is none."""
    try:
        with Image.open(path) as image:
            text = image.info.get(_KEY)
            comment = image.info.get("comment", b"")
    except Exception:  # not an image Pillow knows: it records nothing it can read
        return None
    if text is None and isinstance(comment, bytes) and comment.startswith(_KEY.encode() + b"="):
        text = comment[len(_KEY) + 1:].decode(errors="replace")
    try:
        return parse_rate(text) if text else None
    except ValueError:
        return None  # damaged or foreign: the rate is then given or the default, as for any image


def sequence_rate(first: Path, given: Fraction | None) -> tuple[Fraction, str]:
    """The rate to play a sequence at and where it comes from: "given", "recorded" (in its first
    frame `first`) or "default"."""
    if given is not None:
        return Fraction(given), "given"
    recorded = recorded_rate(first)
    return (recorded, "recorded") if recorded is not None else (DEFAULT_FPS, "default")


def frame_numbers(names: list[str]) -> list[int] | None:
    """The frame number of each name when all share one prefix and suffix around their last digits
    (frame_0001.png, frame_0002.png ...), in the order given; None otherwise."""
    parts = [re.fullmatch(r"(.*?)(\d+)(\D*)", name) for name in names]
    if not parts or not all(parts) or len({(m[1], m[3]) for m in parts}) != 1:
        return None
    return [int(m[2]) for m in parts]


MAX_MISSING_PER_FRAME = 10  # more missing frames than this per frame present: not a gap, a numbering


def numbering_times(numbers: list[int] | None, fps: Fraction) -> tuple[FrameTimes | None, str]:
    """The frames' times when their numbering has gaps (None when it has none) and a note saying
    which frames are missing. The usual step between numbers (its greatest common divisor: 10 for
    0, 10, 20 ...) is one frame. Gaps that would add more than `MAX_MISSING_PER_FRAME` missing
    frames per frame present (1, 2, 1000000; numbers that are timestamps) are not followed: the
    frames are taken as consecutive, with a note."""
    if not numbers or len(numbers) < 2:
        return None, ""
    steps = [b - a for a, b in zip(numbers, numbers[1:])]
    if any(step <= 0 for step in steps):
        return None, ""  # not in numeric order (two spellings of one number): no timing to follow
    unit = math.gcd(*steps)
    if all(step == unit for step in steps):
        return None, ""
    times = [Fraction(n - numbers[0], unit) / fps for n in numbers]
    gaps = [(a + unit, b - unit) for a, b in zip(numbers, numbers[1:]) if b - a > unit]
    missing = sum((b - a) // unit + 1 for a, b in gaps)
    if missing > MAX_MISSING_PER_FRAME * len(numbers):
        return None, (f"numbering gaps would mean {missing} missing frames beside {len(numbers)} present "
                      f"({numbers[0]} … {numbers[-1]}): taken as consecutive frames instead (renumber them "
                      f"to follow the gaps)")
    shown = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in gaps[:3]) + (", ..." if len(gaps) > 3 else "")
    note = (f"numbering gaps: {missing} frame{'s' * (missing > 1)} missing ({shown}); the frames after keep "
            f"their times and the missing ones are filled in")
    return FrameTimes(times, times[-1] + 1 / fps), note
