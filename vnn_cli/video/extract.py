"""Take videos apart: frames as an image sequence, or the audio track as a file. Frames stream
from the decoder; every output is written atomically. (The training set of frame triplets is
`train.triplets`.)"""
from __future__ import annotations

import time
from pathlib import Path

from ..core.atomic import atomic_file
from ..core.errors import InputError, OutputError, SettingsError
from ..core.progress import Progress, no_progress
from ..core.result import JobResult
from .ffmpeg import quote_path, run_ffmpeg
from .images import is_image
from .media import image_sink, is_video
from .output_guard import check_output, numbered
from .probe import probe
from .reader import VideoReader


# The encoder each audio file extension gets: the muxer follows from the extension itself.
AUDIO_CODECS = {
    ".wav": ["-c:a", "pcm_s16le"],
    ".mp3": ["-c:a", "libmp3lame", "-q:a", "2"],
    ".aac": ["-c:a", "aac", "-b:a", "192k"],
    ".m4a": ["-c:a", "aac", "-b:a", "192k"],
    ".flac": ["-c:a", "flac"],
    ".ogg": ["-c:a", "libvorbis", "-q:a", "5"],
    ".opus": ["-c:a", "libopus", "-b:a", "128k"],
}


def check_span(start: float | None, end: float | None) -> None:
    if start is not None and end is not None and end <= start:
        raise SettingsError(f"invalid setting extract.end = {end}: it must be after --start ({start} s)")


def open_span(video: Path, start: float | None, end: float | None, size: tuple[int, int] | None) -> VideoReader:
    check_span(start, end)
    reader = VideoReader(Path(video), start=start, end=end, size=size)
    duration = reader.info.duration
    if start and duration and start >= duration:
        raise InputError(f"{video}: --start {start:g} s is past the end of the video ({duration:.2f} s)")
    return reader


def expected_frames(reader: VideoReader, start: float | None, end: float | None) -> int | None:
    """Frames the decoder should hand over, for the progress bar (an estimate when cut by time)."""
    total = reader.n_frames
    if not total:
        return None
    if start is None and end is None:
        return total
    seconds = (end if end is not None else reader.info.duration) - (start or 0)
    return max(0, min(total, round(seconds * float(reader.fps))))


def _folder_ready(folder: Path, video: Path, image_format: str, overwrite: bool) -> None:
    """A frames folder may exist empty (the user made it); with files in it, only with --overwrite."""
    if folder.is_file() or (not folder.is_dir() and (is_video(folder) or is_image(folder))):
        raise OutputError(f"output {folder} is a file name: frames go into a folder")
    check_output(folder, overwrite, (video,), owned=numbered("%06d", "." + image_format.lower().lstrip(".")))


def extract_frames(video: Path, output: Path, *, every: int = 1, start: float | None = None, end: float | None = None,
                   size: tuple[int, int] | None = None, image_format: str = "png", overwrite: bool = False,
                   progress: Progress = no_progress) -> JobResult:
    """Every `every`-th frame between `start` and `end` seconds, as OUTPUT/000000.png, 000001.png..."""
    if every < 1:
        raise SettingsError(f"invalid setting extract.every = {every}: it must be at least 1")
    started = time.perf_counter()
    output = Path(output)
    reader = open_span(video, start, end, size)
    _folder_ready(output, Path(video), image_format, overwrite)
    result = JobResult(Path(video), output, fps_out=reader.fps / every)
    total = expected_frames(reader, start, end)
    with image_sink(output, image_format, fps=reader.fps / every) as write:
        for index, frame in enumerate(reader):
            result.frames_in = index + 1
            if index % every == 0:
                write(frame)
                result.frames_out += 1
            progress(result.frames_in, total)
    result.seconds = time.perf_counter() - started
    return result


def extract_audio(video: Path, output: Path, *, start: float | None = None, end: float | None = None,
                  overwrite: bool = False) -> JobResult:
    """The first audio track to `output`, encoded by its extension (.wav, .mp3, .aac, .m4a, .flac...)."""
    started = time.perf_counter()
    video, output = Path(video), Path(output)
    suffix = output.suffix.lower()
    if suffix not in AUDIO_CODECS:
        raise OutputError(f"audio output {output.name}: use one of {', '.join(AUDIO_CODECS)} as its extension")
    check_span(start, end)
    info = probe(video)
    if not info.has_audio:
        raise InputError(f"{video} has no audio track")
    check_output(output, overwrite, (video,))
    args = ["-v", "error", "-y"]
    if start:
        args += ["-ss", f"{start:.6f}"]
    args += ["-i", quote_path(video)]
    if end is not None:
        args += ["-t", f"{end - (start or 0):.6f}"]
    args += ["-map", "0:a:0", "-vn", "-sn", *AUDIO_CODECS[suffix]]
    with atomic_file(output) as temp:
        run_ffmpeg([*args, quote_path(temp)], OutputError, f"extracting the audio of {video.name}")
    return JobResult(video, output, seconds=time.perf_counter() - started, notes=["audio"])


def frames_output(output: Path, video: Path, batch: bool) -> Path:
    """Where a video's frames go: OUTPUT itself, or OUTPUT/<stem>/ in a batch."""
    return Path(output) / Path(video).stem if batch else Path(output)


def audio_output(audio: Path, output: Path | None, video: Path, batch: bool) -> Path:
    """A single video: the file named. A batch: OUTPUT/<stem> with the named file's extension."""
    if not batch:
        return Path(audio)
    if output is None:
        raise OutputError("several videos: name the output folder with -o for their audio files")
    name = Path(audio).name
    suffix = name if name.startswith(".") and "." not in name[1:] else Path(audio).suffix  # '--audio .wav' too
    return Path(output) / f"{Path(video).stem}{suffix}"
