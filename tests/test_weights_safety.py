"""Weights are data, never code: safetensors checked against their model card before use, legacy
pickles only when named and only as tensors; plugins only from where the user can see."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from vnn_cli.core import registry

from vnn_cli.core import plugins
from vnn_cli.core.errors import PluginError, UnknownNameError, WeightsError
from vnn_cli.nn.weights import card_path, load_model, save_weights, sha256_of

TINY = {"widths": [8, 16], "convs_per_level": 1, "bottleneck_convs": 1}


@pytest.fixture(scope="module", autouse=True)
def builtins_loaded():
    plugins.load_plugins(entry_points=False)


@pytest.fixture
def tiny_weights(tmp_path: Path) -> Path:
    """A real, valid weights file and card for a small `unet`."""
    cls = registry.get_model("unet").factory
    torch.manual_seed(0)
    path = tmp_path / "weights" / "tiny.safetensors"
    save_weights(cls(**TINY), "unet", path)
    return path


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


class _Payload:
    """Unpickling this runs code: it creates the file named in `marker`."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def _malicious_pickle(path: Path, marker: Path) -> Path:
    torch.save({"state_dict": _Payload(marker)}, path)  # torch's own format: a zip around a pickle
    return path


# --- the valid case, so every failure below is the check and not a broken fixture ---------------

def test_valid_weights_load_and_match_their_card(tiny_weights):
    model = load_model("unet", tiny_weights)
    card = json.loads(card_path(tiny_weights).read_text())
    assert card["model"] == "unet" and card["sha256"] == sha256_of(tiny_weights)
    assert list(model.params.widths) == TINY["widths"]


# --- every way a weights file can be wrong --------------------------------------------------------

def test_sha256_mismatch_is_refused_before_loading(tiny_weights):
    data = bytearray(tiny_weights.read_bytes())
    data[-1] ^= 0xFF  # one flipped bit inside a tensor: still parses, wrong numbers
    tiny_weights.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="do not match their model card"):
        load_model("unet", tiny_weights)


def _rewrite_card_sha(weights: Path) -> None:
    """Make the card agree with the file, so the check that fires is the parser's, not the hash's."""
    card = json.loads(card_path(weights).read_text())
    card["sha256"] = sha256_of(weights)
    card_path(weights).write_text(json.dumps(card))


def test_truncated_weights_are_reported_corrupt(tiny_weights):
    data = tiny_weights.read_bytes()
    tiny_weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsError, match="do not match"):
        load_model("unet", tiny_weights)
    _rewrite_card_sha(tiny_weights)
    with pytest.raises(WeightsError, match="corrupt"):
        load_model("unet", tiny_weights)


def test_garbage_weights_are_reported_corrupt(tiny_weights):
    tiny_weights.write_bytes(b"\x00\x01garbage, not safetensors" * 10)
    _rewrite_card_sha(tiny_weights)
    with pytest.raises(WeightsError, match="corrupt"):
        load_model("unet", tiny_weights)


def test_weights_for_another_model_are_refused_by_name(tiny_weights):
    with pytest.raises(WeightsError, match="are for model 'unet', not 'blend'"):
        load_model("blend", tiny_weights)


def test_weights_whose_tensors_fit_another_config_are_refused(tiny_weights, tmp_path):
    # A card that claims `unet` with the tiny config, over tensors of a different width.
    other = tmp_path / "other.safetensors"
    cls = registry.get_model("unet").factory
    save_weights(cls(widths=[4, 8], convs_per_level=1, bottleneck_convs=1), "unet", other)
    shutil.copy(other, tiny_weights)
    _rewrite_card_sha(tiny_weights)
    with pytest.raises(WeightsError, match="do not fit model 'unet'"):
        load_model("unet", tiny_weights)


def test_weights_without_a_card_are_refused(tiny_weights):
    card_path(tiny_weights).unlink()
    with pytest.raises(WeightsError, match="no model card"):
        load_model("unet", tiny_weights)


def test_invalid_card_is_refused(tiny_weights):
    card_path(tiny_weights).write_text('{"model": "unet", "surprise": 1}')
    with pytest.raises(WeightsError, match="model card .* is invalid"):
        load_model("unet", tiny_weights)


def test_missing_weights_name_the_path(tmp_path):
    with pytest.raises(WeightsError, match="no weights for model 'unet'"):
        load_model("unet", tmp_path / "nowhere.safetensors")


# --- no pickle from a weights file ever runs -------------------------------------------------------

def test_pickle_disguised_as_safetensors_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    weights = _malicious_pickle(tmp_path / "evil.safetensors", marker)
    card_path(weights).write_text(json.dumps({"model": "unet", "params": TINY, "vnn_version": "0", "sha256": sha256_of(weights),
                                              "created": "2026-01-01T00:00:00+00:00"}))
    with pytest.raises(WeightsError, match="corrupt"):
        load_model("unet", weights)
    assert not marker.exists()


def test_legacy_pickle_checkpoint_loads_tensors_only(tmp_path):
    marker = tmp_path / "pwned"
    weights = _malicious_pickle(tmp_path / "evil.pt", marker)
    with pytest.raises(WeightsError, match="cannot read checkpoint"):
        load_model("unet", weights, params=TINY)
    assert not marker.exists(), "torch.load ran code from a checkpoint"
    torch.load(weights, weights_only=False)  # the payload is live: an unsafe load would have run it
    assert marker.exists()


def test_legacy_checkpoint_loads_when_named(tmp_path):
    cls = registry.get_model("unet").factory
    torch.manual_seed(1)
    source = cls(**TINY)
    path = tmp_path / "legacy.pth"
    torch.save({"model": source.state_dict(), "step": 7}, path)
    loaded = load_model("unet", path, params=TINY)
    for name, tensor in source.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor)


def test_shipped_default_weights_are_never_a_pickle():
    from vnn_cli.nn.weights import default_weights_path

    for entry in registry.list_models().values():
        path = default_weights_path(entry.factory)
        assert path is None or path.suffix == ".safetensors", entry.name


# --- the same through the CLI: one line, non-zero, nothing written ----------------------------------

def test_cli_reports_bad_weights_in_one_line(vnn, tiny_weights, tmp_path):
    from conftest import moving_frames, write_clip

    clip = write_clip(tmp_path / "clip.mp4", moving_frames(4), 25)
    tiny_weights.write_bytes(tiny_weights.read_bytes()[:-7])
    before = _files(tmp_path)
    result = vnn("interpolate", clip, "-m", "unet", "--weights", tiny_weights, "-o", tmp_path / "out.mp4")
    assert result.code == 1, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vnn: error: weights") and "model card" in lines[0], result
    assert _files(tmp_path) == before


def test_cli_unknown_model_suggests_names(vnn, tmp_path):
    from conftest import moving_frames, write_clip

    clip = write_clip(tmp_path / "clip.mp4", moving_frames(4), 25)
    result = vnn("interpolate", clip, "-m", "blned", "-o", tmp_path / "out.mp4")
    assert result.code == 1, result
    assert result.err.strip().splitlines() == ["vnn: error: unknown model 'blned'; did you mean blend?"]
    assert not (tmp_path / "out.mp4").exists()


def test_unknown_loss_name_is_a_clear_error():
    from vnn_cli.train.losses import build_loss

    with pytest.raises(UnknownNameError, match="unknown loss 'charbonier'; did you mean charbonnier"):
        build_loss("charbonier+0.1*census")


# --- plugins: only built-ins, entry points and paths the user named ---------------------------------

def _plugin(path: Path, name: str, marker: Path | None = None, raises: bool = False) -> Path:
    body = ["from pathlib import Path", "from vnn_cli import FrameInterpolator, register_model"]
    if marker is not None:
        body.append(f"Path({str(marker)!r}).touch()")
    body += [f"@register_model({name!r})", "class Plugin(FrameInterpolator):",
             "    def forward(self, frame0, frame1, t):", "        return frame0"]
    if raises:
        body.append("raise RuntimeError('this plugin is broken on purpose')")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(body) + "\n")
    return path


def test_plugin_that_raises_on_import_is_one_line_naming_its_file(vnn, tmp_path):
    from conftest import moving_frames, write_clip

    clip = write_clip(tmp_path / "clip.mp4", moving_frames(4), 25)
    bad = _plugin(tmp_path / "broken plugin.py", "broken-on-import", raises=True)
    result = vnn("interpolate", clip, "-m", "blend", "--plugins", bad, "-o", tmp_path / "out.mp4")
    assert result.code == 1, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result
    assert str(bad) in lines[0] and "RuntimeError: this plugin is broken on purpose" in lines[0]
    assert not (tmp_path / "out.mp4").exists()
    assert "broken-on-import" not in registry.list_models()  # nothing half-registered
    with pytest.raises(PluginError):
        plugins.load_plugins([bad], entry_points=False)


def test_plugins_in_the_working_folder_are_not_loaded_unless_named(vnn, tmp_path, monkeypatch):
    marker = tmp_path / "imported"
    for place in ("plugins/models/sneaky.py", "vnn_plugins/sneaky.py", "sneaky.py"):
        _plugin(tmp_path / place, "sneaky", marker)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VNN_PLUGINS", raising=False)
    result = vnn("models")
    assert result.code == 0, result
    assert not marker.exists() and "sneaky" not in result.out


def test_models_lists_each_plugins_source_path(vnn, tmp_path, monkeypatch):
    from vnn_cli.cli import render

    monkeypatch.setattr(render.console, "width", 400)  # one line a row: nothing folds (the console reads COLUMNS once)
    mine = _plugin(tmp_path / "mine.py", "mine-visible")
    result = vnn("models", "--plugins", mine)
    assert result.code == 0, result
    row = next(line for line in result.out.splitlines() if "mine-visible" in line)
    assert str(mine.resolve()) in row
    blend = next(line for line in result.out.splitlines() if line.strip("│ ").startswith("blend"))
    assert "built-in" in blend and str(plugins.builtin_plugin_dir()) in blend


def test_saved_weights_are_readable_like_their_card(tiny_weights):
    import os

    umask = os.umask(0)
    os.umask(umask)
    assert tiny_weights.stat().st_mode & 0o777 == 0o666 & ~umask
    assert tiny_weights.stat().st_mode & 0o777 == card_path(tiny_weights).stat().st_mode & 0o777


def test_weights_written_to_a_full_disk_leave_nothing(tmp_path):
    from vnn_cli.core.atomic import temp_name
    from vnn_cli.core.errors import OutputError

    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    cls = registry.get_model("unet").factory
    path = tmp_path / "full.safetensors"
    temp_name(path).symlink_to("/dev/full")  # every write to the temporary file fails with ENOSPC
    with pytest.raises(OutputError, match="no space left on the device"):
        save_weights(cls(**TINY), "unet", path)
    assert list(tmp_path.iterdir()) == []
