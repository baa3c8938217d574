"""`vnn join`: the parts of range runs (`--frames A-B`, see `ranges`) put together into the whole
run's output, after checking them as a set: one source, one set of settings, every input frame in
exactly one part (no gap, no overlap), from the first frame to the clip's end.

Video parts are concatenated without re-encoding (ffmpeg's concat demuxer, stream copy), and the
source's audio, subtitles, metadata, chapters and timecode are added as a whole run's writer adds
them (video/streams.py), stretched for slowmo. Folder parts (numbered frames) are copied into one
folder: their names are already the whole run's numbers.
"""
from __future__ import annotations

import re
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Sequence

from ..core.atomic import atomic_file, atomic_folder, final_name
from ..core.errors import InputError, OutputError, VnnWarning
from ..video.containers import container_for
from ..video.ffmpeg import quote_path, run_ffmpeg
from ..video.media import is_video
from ..video.output_guard import check_output
from ..video.probe import probe
from ..video.streams import muxing
from .parts import FOLDER_RECORD, PartRecord, part_files, read_record, same_file_content

__all__ = ["JoinResult", "check_parts", "join_parts"]


@dataclass
class JoinResult:
    output: Path
    parts: list[Path]  # in order
    frames: int  # output frames
    source: Path | None  # whose audio and metadata were added (None: an image-sequence source)


def _first_difference(a: dict, b: dict) -> tuple[str, int] | None:
    differ = sorted(key for key in a.keys() | b.keys() if a.get(key) != b.get(key))
    return (differ[0], len(differ)) if differ else None


def check_parts(parts: Sequence[Path]) -> list[tuple[Path, PartRecord]]:
    """The parts with their records, in order; a set that does not make one whole run is refused
    in one line: a file that is no part, parts of another source, mixed settings, a gap, an overlap."""
    files = part_files(list(parts))
    if not files:
        raise InputError("no parts to join")
    records = [(path, read_record(path)) for path in files]
    first_path, first = records[0]
    for path, record in records[1:]:
        if record.same_source != first.same_source:
            raise InputError(f"{path.name} is a part of another source ({record.source.get('name')}) than "
                             f"{first_path.name} ({first.source.get('name')})")
    for path, record in records[1:]:
        found = _first_difference(first.settings, record.settings)
        if found:
            key, count = found
            more = f" (and {count - 1} more settings)" if count > 1 else ""
            raise InputError(f"{path.name} was made with other settings than {first_path.name}: {key} "
                             f"{record.settings.get(key)} against {first.settings.get(key)}{more}")
    records.sort(key=lambda item: item[1].frames)
    expected, previous, previous_record = 0, None, None
    for path, record in records:
        first_frame, last_frame = record.frames
        if first_frame > expected:
            raise InputError(f"gap: input frames {expected}-{first_frame - 1} are in no part "
                             f"(the next part, {path.name}, starts at frame {first_frame})")
        if first_frame < expected:
            raise InputError(f"overlap: {previous.name} and {path.name} both hold input frames "
                             f"{first_frame}-{min(last_frame, expected - 1)}")
        if previous is not None and record.outputs[0] != previous_record.outputs[1]:
            raise InputError(f"{previous.name} and {path.name} disagree on the output frames' numbers "
                             f"({previous_record.outputs[1]} against {record.outputs[0]})")
        expected, previous, previous_record = last_frame + 1, path, record
    if not records[-1][1].final:
        raise InputError(f"gap: input frames from {expected} to the clip's end are in no part "
                         f"(the last part, {previous.name}, ends at frame {expected - 1})")
    return records


def _source_for(record: PartRecord, source: Path | None) -> Path:
    """The source the parts were made of: `source`, or where the record says it was; its content
    must be the parts' (size and hashes)."""
    path = Path(source) if source is not None else Path(record.source["path"])
    if not path.exists():
        raise InputError(f"the parts' source {path} is not here: name it with --source")
    if not same_file_content(path, record.source):
        raise InputError(f"{path} is not the parts' source ({record.source.get('name')}): its content differs")
    return path


def join_parts(parts: Sequence[Path], output: Path, *, source: Path | None = None, overwrite: bool = False) -> JoinResult:
    """Put the parts of one run together into `output` (see the module's text): a video from video
    parts (their codec must fit its container), a folder from folder parts. `source`: where the
    source is now, when not where the parts recorded it (another machine's mount)."""
    records = check_parts(parts)
    files = [path for path, _ in records]
    record = records[0][1]
    settings = record.settings
    output = Path(output)
    folder_parts = settings.get("container") == "folder"
    frames = records[-1][1].outputs[1] - records[0][1].outputs[0]
    if folder_parts:
        if is_video(output):
            raise OutputError(f"these parts are folders of frames: join them into a folder, not {output.name}")
        check_output(output, overwrite, files)
        with atomic_folder(output, replace=overwrite) as temp:
            for path in files:
                for frame in sorted(path.iterdir()):
                    if frame.is_file() and frame.name != FOLDER_RECORD:
                        shutil.copyfile(frame, temp / frame.name)
        return JoinResult(output, files, frames, None)

    source_path = _source_for(record, source)
    check_output(output, overwrite, [*files, source_path])
    container = container_for(output)
    codec = settings.get("codec", "")
    if container.holds and not re.search(container.holds, codec):
        raise OutputError(f"cannot join into {output.name} without re-encoding: {container.name} holds "
                          f"{container.holds_text}, not the parts' {codec}; join into {Path(files[0]).suffix} "
                          f"(as the parts)")
    info = probe(source_path) if source_path.is_file() else None
    streams = info.streams if info is not None else None
    with tempfile.TemporaryDirectory(prefix="vnn-join-") as work, atomic_file(output) as temp:
        listing = Path(work) / "parts.ffconcat"
        lines = ["ffconcat version 1.0"] + ["file '" + str(p.resolve()).replace("'", "'\\''") + "'" for p in files]
        listing.write_text("\n".join(lines) + "\n")
        before, after = [], ["-map", "0:v:0"]
        if streams is not None:
            chapters = Path(work) / "chapters.ffmeta"
            mux = muxing(streams, container, audio=settings.get("audio") == "True",
                         audio_filter=None if settings.get("audio_filter") in (None, "None") else settings["audio_filter"],
                         stretch=float(settings.get("stretch", 1)), source_fps=info.fps,
                         out_fps=Fraction(settings["fps"]), chapters_path=chapters)
            if mux.chapters is not None:
                chapters.write_text(mux.chapters)
            for line in mux.left_out:
                warnings.warn(VnnWarning(f"{output.name}: {line}"))
            before, after = mux.video_input, mux.inputs + mux.outputs
        flags = ["-movflags", "+faststart"] if output.suffix.lower() in (".mp4", ".mov", ".m4v") else []
        run_ffmpeg(["-v", "error", "-y", *before, "-f", "concat", "-safe", "0", "-i", str(listing), *after,
                    "-c:v", "copy", *flags, quote_path(temp)], OutputError, f"joining the parts into {final_name(temp).name}")
    return JoinResult(output, files, frames, source_path)
