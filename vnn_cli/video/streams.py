"""Everything in a video file besides the frames vnn redraws: its audio tracks, subtitle tracks,
data tracks, chapters, global metadata, timecode and each stream's start, read once from the same
`ffmpeg -i` text as the rest of `VideoInfo` (see `probe`), and the ffmpeg arguments that carry
them into an output (see `writer`).

An output keeps each stream's start relative to the others (a video that starts 0.25 s after its
audio still does; the earliest stream starts at 0, as ffmpeg re-bases every input), every audio
track (re-encoded, as the container needs), subtitle tracks (copied, or converted to the text
format the container holds), stream metadata (language, title, handler), global metadata,
chapters and the timecode. `slowmo` stretches all of it by its factor: starts, subtitle cues and
chapters; audio is slowed with its pitch kept (atempo); the timecode keeps its start. Whatever the
output container cannot hold is left out with one line naming it."""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # containers reads pixel formats through probe, which fills these descriptions
    from .containers import Container


@dataclass(frozen=True)
class Stream:
    index: int  # ffmpeg's number for it in the file: #0:N, what `-map 1:N` takes
    kind: str  # "video", "audio", "subtitle", "data", "attachment"
    codec: str  # aac, mov_text, subrip, ass...; "none" for a data track ffmpeg has no codec for
    tag: str = ""  # the container's name for it (tmcd for a timecode track)
    language: str = ""
    title: str = ""
    handler: str = ""
    start: float = 0.0  # seconds, on the file's clock
    attached_pic: bool = False  # cover art, not a moving picture

    def describe(self) -> str:
        """'subtitle #0:3 (ass, deu)', to name it in a message."""
        facts = [self.codec if self.codec != "none" else self.tag, self.language, self.title or self.handler]
        return f"{self.kind} #0:{self.index} ({', '.join(f for f in facts if f)})"


@dataclass(frozen=True)
class Chapter:
    start: float
    end: float
    metadata: tuple[tuple[str, str], ...] = ()  # title and the like


@dataclass(frozen=True)
class SourceStreams:
    """What of a file an output must carry besides the redrawn frames (see the module's text)."""

    path: Path
    start: float = 0.0  # the file's start: the earliest of its streams; ffmpeg counts from here
    streams: tuple[Stream, ...] = ()
    chapters: tuple[Chapter, ...] = ()
    metadata: tuple[tuple[str, str], ...] = ()  # global: title, creation_time, comment...
    timecode: str = ""  # the first frame's SMPTE timecode, "01:00:10:05" ("" none)

    def of_kind(self, kind: str) -> list[Stream]:
        return [s for s in self.streams if s.kind == kind]

    @property
    def video(self) -> Stream | None:
        """The video stream the reader decodes: the first that is not cover art."""
        return next((s for s in self.of_kind("video") if not s.attached_pic), None)

    @property
    def video_delay(self) -> float:
        """How long after the file's start the video starts (0.25 s after its audio, say)."""
        return max(0.0, self.video.start - self.start) if self.video else 0.0


# -- reading: `ffmpeg -i` text ----------------------------------------------------------------------

_STREAM = re.compile(r"^\s*Stream #0:(\d+)(?:\[\w+\])?(?:\((\w+)\))?: (\w+): (.*)$")
_CHAPTER = re.compile(r"^\s*Chapter #0:\d+: start (-?[\d.]+), end (-?[\d.]+)")
_FIELD = re.compile(r"^\s+([^:]*?)\s*: (.*)$")


def parse_streams(description: str, path: Path) -> SourceStreams:
    """The first input's streams, chapters, metadata and timecode in `ffmpeg -i` text."""
    start = 0.0
    streams: list[dict] = []
    chapters: list[dict] = []
    tags: dict[str, str] = {}
    owner: dict | None = None  # whose metadata the next `key : value` lines are
    in_metadata = False
    for line in description.splitlines():
        if line.startswith(("Output #", "Input #1")):
            break
        stream = _STREAM.match(line)
        chapter = _CHAPTER.match(line)
        if stream:
            index, language, kind, rest = stream.groups()
            codec = re.match(r"[\w-]+", rest)
            tag = re.search(r"\((\w+) / 0x", rest)
            begins = re.search(r", start (-?[\d.]+)", rest)
            owner = {"index": int(index), "kind": kind.lower(), "codec": codec[0] if codec else "",
                     "tag": tag[1] if tag else "", "language": "" if language in (None, "und") else language,
                     "start": float(begins[1]) if begins else 0.0, "attached_pic": "(attached pic)" in rest, "meta": {}}
            streams.append(owner)
            in_metadata = False
        elif chapter:
            owner = {"start": float(chapter[1]), "end": float(chapter[2]), "meta": {}}
            chapters.append(owner)
            in_metadata = False
        elif line.strip() == "Metadata:":
            in_metadata = True
            if line.startswith("  Metadata:"):  # two spaces: the file's own
                owner = {"meta": tags}
        elif line.startswith("  Duration:"):
            begins = re.search(r"start: (-?[\d.]+)", line)
            start = float(begins[1]) if begins else 0.0
            in_metadata = False
        elif line.lstrip().startswith(("Chapters:", "Side data:", "Stream group")):
            in_metadata = False
        elif in_metadata and owner is not None:
            field = _FIELD.match(line)
            if field and field[1]:
                owner["meta"][field[1]] = field[2]
            elif field and owner["meta"]:  # a value on several lines: the rest has no key
                last = list(owner["meta"])[-1]
                owner["meta"][last] += "\n" + field[2]
    found = tuple(Stream(index=s["index"], kind=s["kind"], codec=s["codec"], tag=s["tag"], language=s["language"],
                         title=s["meta"].get("title", ""), handler=s["meta"].get("handler_name", ""), start=s["start"],
                         attached_pic=s["attached_pic"]) for s in streams)
    # a QuickTime file keeps it on the video track and a tmcd track; MXF and Matroska as a global tag
    timecode = next((s["meta"][k] for s in streams for k in ("timecode", "TIMECODE") if k in s["meta"]), "") \
        or tags.get("timecode", tags.get("TIMECODE", ""))
    return SourceStreams(path=Path(path), start=start, streams=found,
                         chapters=tuple(Chapter(c["start"], c["end"], tuple(c["meta"].items())) for c in chapters),
                         metadata=tuple(tags.items()), timecode=timecode)


def retimed_timecode(timecode: str, source_fps: Fraction, out_fps: Fraction) -> str:
    """The same first instant counted in the output's frames: 01:00:10:05 at 25 fps is 01:00:10:10
    at 50. Drop-frame counting (the ';') stays only where the output rate is an NTSC one."""
    match = re.fullmatch(r"(\d+):(\d+):(\d+)([:;.,])(\d+)", timecode.strip())
    if not match:
        return timecode
    hours, minutes, seconds, separator, frame = match.groups()
    source_base, out_base = max(1, round(source_fps)), max(1, round(out_fps))
    frame = min(out_base - 1, int(frame) * out_base // source_base)
    ntsc = out_fps.denominator == 1001
    separator = separator if ntsc or separator == ":" else ":"
    return f"{hours}:{minutes}:{seconds}{separator}{frame:02d}"


# -- writing: what each container holds, and the arguments -------------------------------------------

_TEXT_SUBTITLES = {"subrip", "srt", "ass", "ssa", "mov_text", "webvtt", "text", "microdvd", "subviewer", "jacosub"}
# The subtitle codec each container takes for text subtitles, and the codecs it copies as they are.
_SUBTITLES = {"MP4": ("mov_text", {"mov_text"}), "QuickTime": ("mov_text", {"mov_text"}),
              "Matroska": ("srt", {"subrip", "ass", "ssa", "webvtt", "hdmv_pgs_subtitle", "dvd_subtitle", "dvb_subtitle"}),
              "WebM": ("webvtt", {"webvtt"}), "MPEG-TS": (None, {"dvb_subtitle", "dvb_teletext"})}
_CHAPTERS = {"MP4", "QuickTime", "Matroska", "WebM"}
_TIMECODE = {"MP4", "QuickTime", "Matroska"}  # a tmcd track in MP4 and QuickTime, a tag in Matroska
_ONE_AUDIO_TRACK = {"FLV"}


def _ffmetadata_value(text: str) -> str:
    return re.sub(r"([=;#\\\n])", r"\\\1", text)


def chapters_file(chapters: tuple[Chapter, ...], shift: float, stretch: float) -> str:
    """An ffmetadata text with `chapters` moved to the output's clock: `shift` off, `stretch` times longer."""
    lines = [";FFMETADATA1"]
    for chapter in chapters:
        lines += ["[CHAPTER]", "TIMEBASE=1/1000000", f"START={max(0, round((chapter.start - shift) * stretch * 1e6))}",
                  f"END={max(0, round((chapter.end - shift) * stretch * 1e6))}"]
        lines += [f"{_ffmetadata_value(key)}={_ffmetadata_value(value)}" for key, value in chapter.metadata]
    return "\n".join(lines) + "\n"


@dataclass
class Muxing:
    """The ffmpeg arguments that carry a source's streams into an output beside the piped video
    (input 0): `video_input` goes before the pipe's `-i`, `inputs` after it (the source as input 1,
    a chapters file as input 2), `outputs` before the output's name. `left_out` says, one line
    each, what the container cannot hold."""

    video_input: list[str]
    inputs: list[str]
    outputs: list[str]
    chapters: str | None  # the ffmetadata text to write for input 2, when chapters are kept
    left_out: list[str]


def muxing(source: SourceStreams, container: Container, *, audio: bool, audio_filter: str | None,
           stretch: float, source_fps: Fraction | None, out_fps: Fraction, chapters_path: Path | None) -> Muxing:
    """How to carry `source`'s streams into `container`: every audio track when `audio` (through
    `audio_filter`), subtitles, metadata, chapters and timecode; times `stretch` times longer."""
    name = container.name
    video_input = ["-itsoffset", f"{source.video_delay * stretch:.6f}"] if source.video_delay > 0.0005 else []
    # -itsscale stretches the source's timestamps (audio starts, subtitle cues) as slowmo stretches the video
    inputs = (["-itsscale", f"{stretch:.6f}"] if stretch != 1 else []) + ["-i", str(source.path)]
    outputs = ["-map", "0:v:0"]
    left_out: list[str] = []

    tracks = source.of_kind("audio") if audio else []
    if tracks and container.audio is None:
        left_out += [f"{name} holds no sound: {s.describe()} is left out" for s in tracks]
        tracks = []
    if name in _ONE_AUDIO_TRACK and len(tracks) > 1:
        left_out += [f"{name} holds one audio track: {s.describe()} is left out" for s in tracks[1:]]
        tracks = tracks[:1]
    for track in tracks:
        outputs += ["-map", f"1:{track.index}"]
    if tracks:
        outputs += ["-c:a", container.audio, "-b:a", "192k"] + (["-filter:a", audio_filter] if audio_filter else [])

    convert_to, copies = _SUBTITLES.get(name, (None, set()))
    kept = 0
    for subtitle in source.of_kind("subtitle"):
        if subtitle.codec in copies:
            codec = "copy"
        elif subtitle.codec in _TEXT_SUBTITLES and convert_to:
            codec = convert_to
        else:
            why = f"cannot hold {subtitle.codec} subtitles" if name in _SUBTITLES else "holds no subtitles"
            left_out.append(f"{name} {why}: {subtitle.describe()} is left out")
            continue
        outputs += ["-map", f"1:{subtitle.index}", f"-c:s:{kept}", codec]
        if stretch != 1:  # -itsscale moved each cue's start; its length stretches here
            outputs += [f"-bsf:s:{kept}", f"setts=duration=DURATION*{stretch:.6f}"]
        kept += 1

    for stream in source.streams:
        # the decoded video, its timecode track (kept below) and QuickTime's chapter track (a text
        # data track ffmpeg reads the chapters from) are carried otherwise
        if stream.kind in ("audio", "subtitle") or stream == source.video or stream.tag in ("tmcd", "text"):
            continue
        left_out.append(f"{stream.describe()} is left out")

    outputs += ["-map_metadata", "1"]  # global metadata; each kept stream's comes with it
    chapters = None
    if source.chapters and name in _CHAPTERS and chapters_path is not None:
        chapters = chapters_file(source.chapters, source.start, stretch)
        inputs += ["-f", "ffmetadata", "-i", str(chapters_path)]
        outputs += ["-map_chapters", "2"]
    else:
        if source.chapters:
            left_out.append(f"{name} holds no chapters: {len(source.chapters)} chapters are left out")
        outputs += ["-map_chapters", "-1"]

    if source.timecode and name in _TIMECODE:
        outputs += ["-timecode", retimed_timecode(source.timecode, source_fps or out_fps, out_fps)]
    elif source.timecode:
        left_out.append(f"{name} holds no timecode: timecode {source.timecode} is left out")
    return Muxing(video_input, inputs, outputs, chapters, left_out)
