"""Everything in a source besides the frames survives a run: each stream's start relative to the
others, every audio track, subtitle tracks, global and stream metadata, chapters and the timecode,
re-timed by `slowmo` where time stretches (issue 18 items 3, 5, 6 and 10).

Every file is generated here with the bundled ffmpeg; outputs are read back as ffprobe would, from
`ffmpeg -i` text and `ffmpeg -f ffmetadata` (there is no ffprobe), with small parsers of their own
rather than the library's."""
from __future__ import annotations

import re
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest

from vnn_cli.video.ffmpeg import ffmpeg_exe
from vnn_cli.video.probe import probe

SRT = """1
00:00:00,100 --> 00:00:00,400
Hello

2
00:00:00,500 --> 00:00:00,900
World
"""

METADATA = """;FFMETADATA1
title=Kitchen sink
comment=made by vnn tests

[CHAPTER]
TIMEBASE=1/1000
START=0
END=500
title=One

[CHAPTER]
TIMEBASE=1/1000
START=500
END=1000
title=Two
"""


def ffmpeg(*args: str | Path) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-v", "error", "-y", *map(str, args)], check=True)


def described(path: Path) -> str:
    return subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr


def streams(path: Path) -> list[dict]:
    """Each stream of `ffmpeg -i`: kind, codec, language, start (0 when ffmpeg prints none) and
    metadata (handler_name, title, timecode...)."""
    found = []
    for line in described(path).splitlines():
        head = re.match(r"\s*Stream #0:\d+(?:\[\w+\])?(?:\((\w+)\))?: (\w+): (\w+)", line)
        if head:
            start = re.search(r", start (-?[\d.]+)", line)
            found.append({"kind": head[2].lower(), "codec": head[3], "language": head[1] or "",
                          "start": float(start[1]) if start else 0.0, "meta": {}})
        elif found and re.match(r"\s{6,}\w+\s*: ", line):
            key, value = line.strip().split(":", 1)
            found[-1]["meta"][key.strip()] = value.strip()
    return found


def of_kind(path: Path, kind: str) -> list[dict]:
    return [s for s in streams(path) if s["kind"] == kind]


def metadata(path: Path) -> tuple[dict, list[dict]]:
    """Global metadata and chapters (start, end in seconds, title), from `-f ffmetadata`."""
    text = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "ffmetadata", "-"],
                          capture_output=True, text=True, check=True).stdout
    head, *chapter_texts = text.split("[CHAPTER]")
    tags = dict(line.split("=", 1) for line in head.splitlines()[1:] if "=" in line)
    chapters = []
    for block in chapter_texts:
        fields = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        num, den = map(int, fields["TIMEBASE"].split("/"))
        chapters.append({"start": int(fields["START"]) * num / den, "end": int(fields["END"]) * num / den,
                         "title": fields.get("title", "")})
    return tags, chapters


def subtitle_times(path: Path, track: int = 0) -> list[tuple[float, float, str]]:
    """(start, end, text) of each cue of a subtitle track, converted to SRT to read."""
    text = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", f"0:s:{track}", "-f", "srt", "-"],
                          capture_output=True, text=True, check=True).stdout
    cues = []
    for times, words in re.findall(r"(\S+ --> \S+)\n(.*?)\n\n", text + "\n", re.S):
        first, last = [int(h) * 3600 + int(m) * 60 + int(sec) + int(ms) / 1000
                       for h, m, sec, ms in re.findall(r"(\d+):(\d+):(\d+),(\d+)", times)]
        cues.append((first, last, words.strip()))
    return cues


def video_lead(path: Path) -> float:
    """How long after the (first) audio the video starts."""
    return of_kind(path, "video")[0]["start"] - of_kind(path, "audio")[0]["start"]


def duration(path: Path) -> float:
    hours, minutes, seconds = re.search(r"Duration: (\d+):(\d+):([\d.]+)", described(path)).groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    """1 s of 64x48 video at 25 fps with a tone."""
    path = tmp_path / "source.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x48:r=25:d=1", "-f", "lavfi", "-i", "sine=d=1",
           "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", path)
    return path


def run(vnn, command: str, source: Path, out: Path, *extra: str):
    result = vnn(command, source, "-m", "blend", "--factor", "2", "-o", out, *extra)
    assert result.code == 0, result
    return result


# -- item 3: each stream's start, relative to the others --------------------------------------------

def test_video_that_starts_after_the_audio_keeps_its_offset(vnn, plain, tmp_path):
    """The issue's reproduction: the 0.25 s lead came out 0 in interpolate, -0.04 in slowmo."""
    late = tmp_path / "late.mp4"
    ffmpeg("-itsoffset", "0.25", "-i", plain, "-i", plain, "-map", "0:v", "-map", "1:a", "-c", "copy", late)
    lead = video_lead(late)
    assert lead == pytest.approx(0.25, abs=0.03)
    run(vnn, "interpolate", late, tmp_path / "i.mp4")
    assert video_lead(tmp_path / "i.mp4") == pytest.approx(lead, abs=0.03)
    run(vnn, "slowmo", late, tmp_path / "s.mp4")
    assert video_lead(tmp_path / "s.mp4") == pytest.approx(2 * lead, abs=0.05)


def test_a_source_that_starts_at_ten_seconds_keeps_its_streams_apart(vnn, plain, tmp_path):
    """Video from 10.25 s, audio from 10 s: the output may start at 0, the 0.25 s between them stays."""
    late = tmp_path / "ten.mp4"
    ffmpeg("-itsoffset", "10.25", "-i", plain, "-itsoffset", "10", "-i", plain, "-map", "0:v", "-map", "1:a", "-c", "copy", late)
    assert of_kind(late, "audio")[0]["start"] > 9.9
    run(vnn, "interpolate", late, tmp_path / "i.mp4")
    assert video_lead(tmp_path / "i.mp4") == pytest.approx(video_lead(late), abs=0.03)


# -- item 5: every track, subtitles, metadata ---------------------------------------------------------

@pytest.fixture
def tracks(tmp_path: Path) -> Path:
    """1 s of video, two audio tracks (eng "Main", fra "Commentary"), SRT and ASS subtitles,
    global metadata, in Matroska."""
    (tmp_path / "subs.srt").write_text(SRT)
    ffmpeg("-i", tmp_path / "subs.srt", tmp_path / "subs.ass")
    (tmp_path / "meta.txt").write_text(METADATA)
    path = tmp_path / "tracks.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x48:r=25:d=1", "-f", "lavfi", "-i", "sine=f=440:d=1", "-f", "lavfi", "-i", "sine=f=880:d=1",
           "-i", tmp_path / "subs.srt", "-i", tmp_path / "subs.ass", "-i", tmp_path / "meta.txt",
           "-map", "0:v", "-map", "1:a", "-map", "2:a", "-map", "3:s", "-map", "4:s", "-map_metadata", "5", "-map_chapters", "-1",
           "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-c:s", "copy",
           "-metadata:s:a:0", "language=eng", "-metadata:s:a:0", "title=Main",
           "-metadata:s:a:1", "language=fra", "-metadata:s:a:1", "title=Commentary",
           "-metadata:s:s:0", "language=eng", "-metadata:s:s:1", "language=deu", path)
    return path


def test_every_audio_track_is_kept_and_each_stretched_by_slowmo(vnn, tracks, tmp_path):
    run(vnn, "interpolate", tracks, tmp_path / "i.mkv")
    audio = of_kind(tmp_path / "i.mkv", "audio")
    assert [(a["language"], a["meta"].get("title")) for a in audio] == [("eng", "Main"), ("fra", "Commentary")]
    run(vnn, "slowmo", tracks, tmp_path / "s.mkv")
    assert len(of_kind(tmp_path / "s.mkv", "audio")) == 2
    for track in (0, 1):  # each track as long as the slowed video, not cut short or left at 1 s
        only = tmp_path / f"a{track}.mka"
        ffmpeg("-i", tmp_path / "s.mkv", "-map", f"0:a:{track}", "-c", "copy", only)
        assert duration(only) == pytest.approx(2.0, abs=0.1)


def test_subtitles_are_kept_converted_for_mp4_and_retimed_by_slowmo(vnn, tracks, tmp_path):
    run(vnn, "interpolate", tracks, tmp_path / "i.mkv")
    subtitles = of_kind(tmp_path / "i.mkv", "subtitle")
    assert [(s["codec"], s["language"]) for s in subtitles] == [("subrip", "eng"), ("ass", "deu")]
    assert subtitle_times(tmp_path / "i.mkv") == [(0.1, 0.4, "Hello"), (0.5, 0.9, "World")]
    run(vnn, "slowmo", tracks, tmp_path / "s.mp4")  # MP4 holds text subtitles as mov_text only
    subtitles = of_kind(tmp_path / "s.mp4", "subtitle")
    assert [(s["codec"], s["language"]) for s in subtitles] == [("mov_text", "eng"), ("mov_text", "deu")]
    assert subtitle_times(tmp_path / "s.mp4") == [(0.2, 0.8, "Hello"), (1.0, 1.8, "World")]
    assert subtitle_times(tmp_path / "s.mp4", 1) == [(0.2, 0.8, "Hello"), (1.0, 1.8, "World")]


def test_global_metadata_is_kept(vnn, tracks, tmp_path):
    run(vnn, "interpolate", tracks, tmp_path / "i.mp4")
    tags, _ = metadata(tmp_path / "i.mp4")
    assert tags["title"] == "Kitchen sink" and tags["comment"] == "made by vnn tests"


def test_a_container_without_subtitles_says_which_stream_is_left_out(vnn, tracks, tmp_path):
    result = run(vnn, "interpolate", tracks, tmp_path / "i.avi")
    lines = [line for line in result.err.splitlines() if "subtitle" in line]
    assert len(lines) == 2 and all(line.startswith("vnn: warning:") and "left out" in line for line in lines), result.err
    assert "subrip" in lines[0] and "eng" in lines[0] and "ass" in lines[1] and "deu" in lines[1]
    assert len(of_kind(tmp_path / "i.avi", "audio")) == 2  # AVI holds both tracks
    assert not of_kind(tmp_path / "i.avi", "subtitle")


# -- item 6: chapters -------------------------------------------------------------------------------

def test_chapters_are_kept_and_retimed_by_slowmo(vnn, plain, tmp_path):
    (tmp_path / "meta.txt").write_text(METADATA)
    source = tmp_path / "chapters.mp4"
    ffmpeg("-i", plain, "-i", tmp_path / "meta.txt", "-map", "0", "-map_chapters", "1", "-c", "copy", source)
    run(vnn, "interpolate", source, tmp_path / "i.mp4")
    _, chapters = metadata(tmp_path / "i.mp4")
    assert [(c["start"], c["end"], c["title"]) for c in chapters] == [(0, 0.5, "One"), (0.5, 1.0, "Two")]
    run(vnn, "slowmo", source, tmp_path / "s.mp4")
    _, chapters = metadata(tmp_path / "s.mp4")
    assert [(c["start"], c["end"], c["title"]) for c in chapters] == [(0, 1.0, "One"), (1.0, 2.0, "Two")]


# -- item 10: timecode ------------------------------------------------------------------------------

def test_a_timecode_track_is_read_and_kept(vnn, tmp_path):
    """The issue's reproduction: `vnn: error: t.mov: timecode : 01:00:10:05`."""
    source = tmp_path / "t.mov"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x48:r=25:d=1", "-c:v", "libx264", "-preset", "ultrafast", "-timecode", "01:00:10:05", source)
    assert probe(source).n_frames == 25
    run(vnn, "interpolate", source, tmp_path / "i.mov")
    # the same instant at 50 fps: frame 5 of 25 is frame 10 of 50
    assert of_kind(tmp_path / "i.mov", "video")[0]["meta"]["timecode"] == "01:00:10:10"
    assert of_kind(tmp_path / "i.mov", "data")[0]["codec"] == "none"  # the tmcd track
    run(vnn, "slowmo", source, tmp_path / "s.mov")
    assert of_kind(tmp_path / "s.mov", "video")[0]["meta"]["timecode"] == "01:00:10:05"


# -- issue 18's "done when": all of it at once ------------------------------------------------------

def test_kitchen_sink_round_trip(vnn, tmp_path):
    """Two audio tracks, subtitles, chapters, metadata, BT.709 tags, SAR 4:3, a timecode track and a
    0.25 s video start offset, through interpolate and slowmo."""
    (tmp_path / "subs.srt").write_text(SRT)
    (tmp_path / "meta.txt").write_text(METADATA)
    base = tmp_path / "base.mov"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x48:r=25:d=1", "-f", "lavfi", "-i", "sine=f=440:d=1.25", "-f", "lavfi", "-i", "sine=f=880:d=1.25",
           "-i", tmp_path / "subs.srt", "-i", tmp_path / "meta.txt",
           "-map", "0:v", "-map", "1:a", "-map", "2:a", "-map", "3:s", "-map_metadata", "4", "-map_chapters", "4",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-vf", "setsar=4/3",
           "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709", "-c:a", "aac", "-c:s", "mov_text",
           "-metadata:s:a:0", "language=eng", "-metadata:s:a:0", "handler_name=Main",
           "-metadata:s:a:1", "language=fra", "-metadata:s:a:1", "handler_name=Commentary", "-metadata:s:s:0", "language=eng",
           "-timecode", "01:00:10:05", base)
    sink = tmp_path / "sink.mov"  # the video 0.25 s after the audio, as the issue makes it
    ffmpeg("-itsoffset", "0.25", "-i", base, "-i", base, "-map", "0:v", "-map", "1:a", "-map", "1:s",
           "-map_metadata", "1", "-map_chapters", "1", "-c", "copy", "-timecode", "01:00:10:05", sink)
    lead = video_lead(sink)
    assert lead == pytest.approx(0.25, abs=0.03)
    assert probe(sink).colour.matrix == "bt709"
    assert probe(sink).picture.sar == Fraction(4, 3)

    for command, stretch, timecode in (("interpolate", 1, "01:00:10:10"), ("slowmo", 2, "01:00:10:05")):
        out = tmp_path / f"{command}.mov"
        run(vnn, command, sink, out)
        assert video_lead(out) == pytest.approx(stretch * lead, abs=0.05), command
        video = of_kind(out, "video")[0]
        assert probe(out).colour == probe(sink).colour, command
        assert probe(out).picture.sar == Fraction(4, 3), command
        assert video["meta"]["timecode"] == timecode, command
        audio = of_kind(out, "audio")
        assert [(a["language"], a["meta"].get("handler_name")) for a in audio] == [("eng", "Main"), ("fra", "Commentary")], command
        assert [(s["codec"], s["language"]) for s in of_kind(out, "subtitle")] == [("mov_text", "eng")], command
        cues = subtitle_times(out)
        assert [text for *_, text in cues] == ["Hello", "World"], command
        assert cues[0][:2] == pytest.approx((0.1 * stretch, 0.4 * stretch), abs=0.01), command
        tags, chapters = metadata(out)
        assert tags["title"] == "Kitchen sink" and tags["comment"] == "made by vnn tests", command
        assert [(c["start"], c["end"], c["title"]) for c in chapters] == [
            (0, 0.5 * stretch, "One"), (0.5 * stretch, 1.0 * stretch, "Two")], command
