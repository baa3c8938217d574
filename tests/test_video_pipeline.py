"""End to end through the CLI on real (generated) video with sound."""
from fractions import Fraction

from conftest import moving_frames, probe_video, write_clip


def test_interpolate_doubles_rate_keeps_duration_and_audio(vnn, clip, tmp_path):
    out = tmp_path / "out.mp4"
    result = vnn("interpolate", clip, "-m", "blend", "-o", out)
    assert result.code == 0, result
    source, made = probe_video(clip), probe_video(out)
    assert made["fps"] == 2 * source["fps"]
    assert made["frames"] == 2 * source["frames"] - 1
    assert abs(made["duration"] - source["duration"]) <= 1 / float(source["fps"])
    assert made["audio"]
    assert made["size"] == source["size"]


def test_interpolate_to_folder_numbers_frames(vnn, clip, tmp_path):
    from vnn_cli.video.images import read_image
    from vnn_cli.video.reader import VideoReader

    folder = tmp_path / "frames"
    result = vnn("interpolate", clip, "-m", "blend", "-o", f"{folder}/")
    assert result.code == 0, result
    files = sorted(folder.iterdir())
    source = list(VideoReader(clip))
    assert len(files) == 2 * len(source) - 1
    assert [f.name for f in files[:3]] == ["000000.png", "000001.png", "000002.png"]
    # Output frame 2k is input frame k, unchanged.
    assert (read_image(files[4]) == source[2]).all()


def test_slowmo_gives_2n_minus_1_frames_at_source_rate(vnn, clip, tmp_path):
    out = tmp_path / "slow.mp4"
    result = vnn("slowmo", clip, "--factor", "2", "-m", "blend", "-o", out)
    assert result.code == 0, result
    source, made = probe_video(clip), probe_video(out)
    assert made["fps"] == source["fps"]
    assert made["frames"] == 2 * source["frames"] - 1
    assert made["audio"]
    assert made["duration"] > 1.8 * source["duration"]


def test_slowmo_default_output_beside_input(vnn, clip):
    result = vnn("slowmo", clip, "-m", "blend", "--audio", "drop")
    assert result.code == 0, result
    made = probe_video(clip.with_name("clip_slowmo2x.mp4"))
    assert not made["audio"]


def test_exact_rate_from_ntsc_source(vnn, tmp_path):
    clip = write_clip(tmp_path / "ntsc.mp4", moving_frames(10), Fraction(24000, 1001))
    out = tmp_path / "out.mp4"
    result = vnn("interpolate", clip, "-m", "blend", "--fps", "60000/1001", "-o", out)
    assert result.code == 0, result
    assert probe_video(out)["fps"] == Fraction(60000, 1001)
