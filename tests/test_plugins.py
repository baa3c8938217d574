"""Plugins: a model in one file used with --plugins FILE --model NAME, folders, VNN_PLUGINS, the
config file, installed entry points, and clear errors for clashes and broken files."""
from __future__ import annotations

import os
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, moving_frames, probe_video, write_clip, write_similar_pair

from vnn_cli.core import registry

from vnn_cli.core import plugins
from vnn_cli.core.errors import PluginError
from vnn_cli.video.images import read_image


def readme_plugin_example() -> str:
    """The plugin the README shows under "Writing a model plugin", exactly as written there: one
    file, a tiny model on the shared U-Net core, no weights needed."""
    section = (REPO / "README.md").read_text().split("## Writing a model plugin", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


MY_MODEL = readme_plugin_example()


# Each test starts from, and leaves, the registry as it found it (conftest.isolated_registry).
pytestmark = pytest.mark.usefixtures("isolated_registry")


@pytest.fixture(autouse=True)
def my_model_and_two_images(work: Path) -> None:
    """The user's working folder holds my_model.py and two images."""
    (work / "my_model.py").write_text(MY_MODEL)
    write_similar_pair(work, 23, 37)


def plugin(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body))
    return path


def simple_model(name: str) -> str:
    return f'''
        from vnn_cli import FrameInterpolator, register_model

        @register_model("{name}")
        class Model(FrameInterpolator):
            def forward(self, frame0, frame1, t):
                return frame1
        '''


def is_blend_of_inputs(folder: Path, out: Path) -> bool:
    a, b = read_image(folder / "a.png").astype(float), read_image(folder / "b.png").astype(float)
    return bool(np.abs(read_image(out) - (a + b) / 2).max() <= 1)


def test_model_plugin_in_one_file(vnn, work):
    result = vnn("interpolate", "a.png", "b.png", "-o", "mid.png", "--plugins", "my_model.py", "--model", "mynet")
    assert result.code == 0, result
    assert is_blend_of_inputs(work, work / "mid.png")
    entry = registry.get_model("mynet")
    assert entry.source == "file" and entry.origin == str(work / "my_model.py")


def test_model_plugin_on_a_video(vnn, work):
    clip = write_clip(work / "clip.mp4", moving_frames(6), 25)
    result = vnn("interpolate", clip, "-o", "smooth.mp4", "--plugins", "my_model.py", "--model", "mynet")
    assert result.code == 0, result
    assert probe_video(work / "smooth.mp4")["frames"] == 11


def test_without_the_plugin_the_name_is_unknown(vnn, work):
    result = vnn("interpolate", "a.png", "b.png", "-o", "mid.png", "--model", "mynet")
    assert result.code == 1
    assert "unknown model 'mynet'" in result.err
    assert not (work / "mid.png").exists()


def test_unknown_model_name_suggests_close_ones(vnn, work):
    result = vnn("interpolate", "a.png", "b.png", "-o", "mid.png", "--plugins", "my_model.py", "--model", "mynett")
    assert result.code == 1
    assert "unknown model 'mynett'; did you mean mynet" in result.err
    result = vnn("interpolate", "a.png", "b.png", "-o", "mid.png", "--model", "blnd")
    assert "did you mean blend?" in result.err


def test_folder_of_plugins(vnn, work):
    folder = work / "more"
    plugin(folder, "first.py", simple_model("neta"))
    plugin(folder, "nested/second.py", simple_model("netb"))
    plugin(folder, "_private.py", "raise RuntimeError('helpers starting with _ are not plugins')")
    plugin(folder, "losses.py", '''
        import torch
        from vnn_cli import register_loss

        @register_loss("myloss")
        def myloss():
            return lambda prediction, target: torch.mean(torch.abs(prediction - target) ** 3)
        ''')
    result = vnn("models", "--plugins", folder)
    assert result.code == 0, result
    assert "neta" in result.out and "netb" in result.out and "myloss" in result.out
    assert "failed" not in result.out
    result = vnn("interpolate", "a.png", "b.png", "-o", "mid.png", "--plugins", folder, "-m", "netb")
    assert result.code == 0, result
    assert np.array_equal(read_image(work / "mid.png"), read_image(work / "b.png"))
    assert registry.get_loss("myloss").source == "file"


def test_repeated_plugins_option(vnn, work):
    plugin(work, "other.py", simple_model("othernet"))
    result = vnn("models", "--plugins", "my_model.py", "--plugins", "other.py")
    assert result.code == 0, result
    assert "mynet" in result.out and "othernet" in result.out


def test_plugins_from_environment(vnn, work, monkeypatch):
    plugin(work, "other.py", simple_model("othernet"))
    monkeypatch.setenv("VNN_PLUGINS", os.pathsep.join([str(work / "my_model.py"), "other.py"]))
    result = vnn("interpolate", "a.png", "b.png", "-o", "mid.png", "-m", "mynet")
    assert result.code == 0, result
    assert is_blend_of_inputs(work, work / "mid.png")
    assert "othernet" in registry.list_models()


def test_plugins_from_config_file(vnn, work):
    (work / "vnn.toml").write_text('plugins = ["my_model.py"]\n[interpolate]\nmodel = "mynet"\n')
    result = vnn("interpolate", "a.png", "b.png", "-o", "mid.png")
    assert result.code == 0, result
    assert is_blend_of_inputs(work, work / "mid.png")


def test_plugins_from_user_config_dir_resolve_beside_it(vnn, work, tmp_path, monkeypatch):
    user = tmp_path / "xdg"
    plugin(user / "vnn", "mine.py", simple_model("usernet"))
    (user / "vnn" / "vnn.toml").write_text('plugins = ["mine.py"]\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(user))
    result = vnn("interpolate", "a.png", "b.png", "-o", "mid.png", "-m", "usernet")
    assert result.code == 0, result


def test_two_plugins_with_one_name(vnn, work):
    first = plugin(work, "one.py", simple_model("twin"))
    second = plugin(work, "two.py", simple_model("twin"))
    result = vnn("interpolate", "a.png", "b.png", "-o", "mid.png", "--plugins", first, "--plugins", second, "-m", "blend")
    assert result.code == 1
    line = result.err.strip()
    assert "\n" not in line
    assert "two plugins register the model 'twin'" in line
    assert str(first) in line and str(second) in line
    assert not (work / "mid.png").exists()


def test_plugin_clashing_with_a_builtin(vnn, work):
    clash = plugin(work, "clash.py", simple_model("blend"))
    result = vnn("interpolate", "a.png", "b.png", "-o", "mid.png", "--plugins", clash, "-m", "blend")
    assert result.code == 1
    assert "'blend'" in result.err and str(clash) in result.err and "plugins/models/blend.py" in result.err


BAD = '''
    from vnn_cli import FrameInterpolator, register_model

    @register_model("halfnet")
    class Half(FrameInterpolator):
        pass

    raise RuntimeError("boom: this plugin is broken")
    '''


def test_plugin_that_fails_to_import(vnn, work):
    bad = plugin(work, "bad.py", BAD)
    result = vnn("interpolate", "a.png", "b.png", "-o", "mid.png", "--plugins", bad, "-m", "blend")
    assert result.code == 1
    assert result.err.strip() == f"vnn: error: plugin {bad} failed to load: RuntimeError: boom: this plugin is broken"


def test_models_lists_the_others_when_one_plugin_is_broken(vnn, work):
    plugin(work, "bad.py", BAD)
    plugin(work, "syntax.py", "def broken(:\n")
    result = vnn("models", "--plugins", "bad.py", "--plugins", "syntax.py", "--plugins", "my_model.py")
    assert result.code == 0, result
    assert "mynet" in result.out and "blend" in result.out and "charbonnier" in result.out
    assert "halfnet" not in result.out  # what a broken file registered before failing is dropped
    assert "failed to load" in result.out and "bad.py" in result.out and "boom" in result.out
    assert "syntax.py" in result.out and "SyntaxError" in result.out


def test_load_plugins_collects_failures_and_loads_the_rest(work):
    bad = plugin(work, "bad.py", BAD)
    failures = plugins.load_plugins([bad, work / "my_model.py", work / "missing.py"], strict=False)
    assert "mynet" in registry.list_models() and "halfnet" not in registry.list_models()
    assert [Path(f.origin).name for f in failures] == ["bad.py", "missing.py"]
    with pytest.raises(PluginError, match=r"bad\.py failed to load: RuntimeError: boom.*\(and 1 more\)"):
        plugins.load_plugins([bad, work / "missing.py"])


@pytest.fixture
def installed_package(tmp_path, monkeypatch):
    """A fake installed distribution: a module and a *.dist-info whose entry_points.txt names it in
    the vnn.plugins group, on sys.path, as pip would leave them."""
    site = tmp_path / "site"
    module = f"vnn_fake_plugin_{os.getpid()}_{abs(hash(str(tmp_path))) % 10**8}"
    plugin(site, f"{module}.py", '''
        from vnn_cli import FrameInterpolator, register_model, register_loss

        @register_model("epnet")
        class EntryPointNet(FrameInterpolator):
            def forward(self, frame0, frame1, t):
                return frame0

        @register_loss("eploss")
        def eploss():
            return lambda prediction, target: (prediction - target).abs().mean()
        ''')
    dist = site / "vnn_fake_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: vnn-fake-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[vnn.plugins]\nfake = {module}\n")
    monkeypatch.syspath_prepend(str(site))
    yield module
    import sys

    sys.modules.pop(module, None)


def test_entry_point_plugin(vnn, work, installed_package):
    result = vnn("interpolate", "a.png", "b.png", "-o", "mid.png", "-m", "epnet")
    assert result.code == 0, result
    assert np.array_equal(read_image(work / "mid.png"), read_image(work / "a.png"))
    entry = registry.get_model("epnet")
    assert entry.source == "entry point" and installed_package in entry.origin
    assert registry.get_loss("eploss").source == "entry point"
    listing = vnn("models")
    row = next(line for line in listing.out.splitlines() if "epnet" in line)
    assert "entry point" in row


def test_models_shows_source_path_weights_and_parameters(vnn, work, monkeypatch):
    from vnn_cli.cli import render

    monkeypatch.setattr(render.console, "width", 400)  # one line a row: nothing folds
    plugin(work, "weighted.py", '''
        from vnn_cli import FrameInterpolator, UNet, register_model

        @register_model("weightednet")
        class Weighted(FrameInterpolator):
            default_weights = "weightednet_v1"

            def __init__(self, **params):
                super().__init__(**params)
                self.net = UNet(6, 3, widths=(4, 8))
        ''')
    result = vnn("models", "--plugins", "my_model.py", "--plugins", "weighted.py")
    assert result.code == 0, result
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
            for line in result.out.splitlines() if line.startswith("│") and line.split("│")[1].strip()}
    from vnn_cli.nn.unet import UNet

    mynet_count = sum(p.numel() for p in UNet(7, 3, widths=(8, 16, 32)).parameters())
    assert rows["mynet"][0] == "file"
    assert rows["mynet"][1] == str(work / "my_model.py")
    assert rows["mynet"][3] == "not needed"
    assert rows["mynet"][5] == f"{mynet_count:,}"
    assert rows["weightednet"][3] == "missing (weightednet_v1.safetensors)"
    assert rows["weightednet"][5] == f"{sum(p.numel() for p in UNet(6, 3, widths=(4, 8)).parameters()):,}"
    assert rows["blend"][0] == "built-in" and rows["blend"][1].endswith(os.path.join("models", "blend.py"))
    assert rows["blend"][5] == "0"
    assert rows["unet"][2] == "0.5 only" and rows["mynet"][2] == "yes"
    assert rows["l1"][0] == "built-in"  # losses too, with their source


def test_plugin_api_from_python(work):
    """The library route: load_plugins() then the model by name, without the CLI."""
    import torch

    from vnn_cli.nn.weights import load_model

    plugins.load_plugins([work / "my_model.py"])
    model = load_model("mynet", params={"width": 4})
    frame0, frame1 = torch.zeros(1, 3, 8, 8), torch.ones(1, 3, 8, 8)
    out = model(frame0, frame1, torch.tensor([0.25]))
    assert torch.allclose(out, torch.full_like(out, 0.25))


# A plugin folder is one package: its model file imports the layers beside it relatively.
HELPERS = '''
    """Shared layers of a plugin folder (a helper: it registers nothing)."""
    import torch

    class Mix(torch.nn.Module):
        def forward(self, frame0, frame1, t):
            return (1 - t) * frame0 + t * frame1
    '''
FANCY_MODEL = '''
    from vnn_cli import FrameInterpolator, register_model
    from vnn_cli.core.model_api import as_time_tensor

    from ._scale import SCALE
    from .helpers import Mix

    @register_model("fancynet")
    class Fancy(FrameInterpolator):
        def __init__(self, **params):
            super().__init__(**params)
            self.mix = Mix()

        def forward(self, frame0, frame1, t):
            return self.mix(frame0, frame1, as_time_tensor(t, frame0)) * SCALE
    '''


def test_plugin_folder_imports_its_own_helpers(vnn, work):
    folder = work / "my_plugins"
    plugin(folder, "helpers.py", HELPERS)
    plugin(folder, "_scale.py", "SCALE = 1.0\n")  # a private helper: importable, never loaded as a plugin
    plugin(folder, "fancy_model.py", FANCY_MODEL)
    plugin(folder, "nested/deeper.py", '''
        from vnn_cli import register_model
        from ..fancy_model import Fancy  # a sibling plugin, from a subfolder

        @register_model("deepernet")
        class Deeper(Fancy):
            pass
        ''')
    listing = vnn("models", "--plugins", folder)
    assert listing.code == 0, listing
    assert "fancynet" in listing.out and "deepernet" in listing.out and "failed" not in listing.out
    assert registry.get_model("fancynet").origin == str(folder / "fancy_model.py")
    assert registry.get_model("deepernet").origin == str(folder / "nested" / "deeper.py")

    clip = write_clip(work / "clip.mp4", moving_frames(8), 25)
    result = vnn("interpolate", clip, "-o", "smooth.mp4", "--plugins", folder, "--model", "fancynet")
    assert result.code == 0, result
    assert probe_video(work / "smooth.mp4")["frames"] == 15
    pair = vnn("interpolate", "a.png", "b.png", "-o", "mid.png", "--plugins", folder, "--model", "fancynet")
    assert pair.code == 0, pair
    assert is_blend_of_inputs(work, work / "mid.png")  # the helper's Mix ran, not some other module's


def test_a_plugin_named_alone_imports_the_files_beside_it(work):
    folder = work / "alone"
    plugin(folder, "helpers.py", HELPERS)
    plugin(folder, "_scale.py", "SCALE = 1.0\n")
    model = plugin(folder, "fancy_model.py", FANCY_MODEL)
    assert plugins.load_plugins([model]) == []
    assert registry.get_model("fancynet").origin == str(model)


def test_two_folders_with_same_named_helpers_do_not_collide(vnn, work):
    for letter, value in (("a", 0.25), ("b", 0.75)):
        folder = work / f"team_{letter}"
        plugin(folder, "helpers.py", f"VALUE = {value}\n")
        plugin(folder, "model.py", f'''
            import torch
            from vnn_cli import FrameInterpolator, register_model
            from .helpers import VALUE

            @register_model("net{letter}")
            class Net(FrameInterpolator):
                def forward(self, frame0, frame1, t):
                    return torch.full_like(frame0, VALUE)
            ''')
    result = vnn("models", "--plugins", work / "team_a", "--plugins", work / "team_b")
    assert result.code == 0, result
    assert "neta" in result.out and "netb" in result.out and "failed" not in result.out
    for letter, level in (("a", 64), ("b", 191)):
        out = f"mid_{letter}.png"
        run = vnn("interpolate", "a.png", "b.png", "-o", out, "--plugins", work / "team_a", "--plugins",
                  work / "team_b", "-m", f"net{letter}")
        assert run.code == 0, run
        assert np.abs(read_image(work / out).astype(int) - level).max() <= 1, letter  # each saw its own helpers


def test_broken_plugin_in_a_folder_leaves_nothing_and_the_sibling_it_imported_stays(work):
    folder = work / "mixed"
    plugin(folder, "zbase.py", simple_model("basenet"))
    plugin(folder, "abroken.py", '''
        from vnn_cli import register_model
        from .zbase import Model

        @register_model("brokennet")
        class Broken(Model):
            pass

        raise RuntimeError("boom")
        ''')
    failures = plugins.load_plugins([folder], strict=False)
    assert [(Path(f.origin).name, f.message) for f in failures] == [("abroken.py", "RuntimeError: boom")]
    assert "brokennet" not in registry.list_models()
    # zbase ran first as abroken's import: it stays registered, under its own file, and loads once
    assert registry.get_model("basenet").origin == str(folder / "zbase.py")
    assert plugins.load_plugins([folder / "zbase.py", folder], strict=False)[0].message == "RuntimeError: boom"


def test_plain_import_of_a_sibling_says_how_to_import_it(vnn, work):
    folder = work / "plain"
    plugin(folder, "helpers.py", HELPERS)
    plugin(folder, "model.py", "from helpers import Mix\n")
    result = vnn("interpolate", "a.png", "b.png", "-o", "mid.png", "--plugins", folder, "-m", "blend")
    assert result.code == 1
    assert result.err.strip() == (f"vnn: error: plugin {folder / 'model.py'} failed to load: No module named 'helpers': "
                                  "a plugin imports the files beside it relatively, from .helpers import ...")
    assert not (work / "mid.png").exists()
