"""The published plugin API: every hook declared on FrameInterpolator with its default, a misspelt
hook refused when the class is defined, weights shipped beside a plugin's own file, and the names
`vnn_cli` exports."""
from __future__ import annotations

import textwrap

import numpy as np
import pytest
import torch

import vnn_cli
from vnn_cli.core import plugins, registry
from vnn_cli.core.errors import PluginError
from vnn_cli.core.model_api import HOOKS, FrameInterpolator
from vnn_cli.nn.weights import default_weights_path, load_model, save_weights

pytestmark = pytest.mark.usefixtures("isolated_registry")


def test_every_hook_has_a_default_and_a_docstring():
    for name in HOOKS:
        assert hasattr(FrameInterpolator, name), name
    source = textwrap.dedent(__import__("inspect").getsource(FrameInterpolator))
    for name in HOOKS:
        declared = f"    {name}:" in source or f"    def {name}(" in source
        assert declared, f"{name} is not declared on FrameInterpolator"


def test_a_misspelt_hook_is_reported_when_the_plugin_loads(tmp_path):
    path = tmp_path / "typo.py"
    path.write_text(textwrap.dedent('''
        from vnn_cli import FrameInterpolator, register_model

        @register_model("typo")
        class Typo(FrameInterpolator):
            any_times = False  # meant any_time

            def forward(self, frame0, frame1, t):
                return frame0
        '''))
    with pytest.raises(PluginError, match=r"typo\.py.*'any_times'.*did you mean 'any_time'"):
        plugins.load_plugins([path], entry_points=False)
    assert "typo" not in registry.list_models()


def test_pad_multiple_is_per_instance():
    class Wide(FrameInterpolator):
        pad_multiple = 8

        def __init__(self, **params):
            super().__init__(**params)
            self.pad_multiple = 16

    assert Wide().pad_multiple == 16 and Wide.pad_multiple == 8
    assert FrameInterpolator().pad_multiple == 1


def test_a_plugin_ships_its_weights_beside_its_file(tmp_path):
    folder = tmp_path / "mypkg"
    folder.mkdir()
    source = folder / "scaled.py"
    source.write_text(textwrap.dedent('''
        import torch
        from vnn_cli import FrameInterpolator, register_model

        @register_model("scaled")
        class Scaled(FrameInterpolator):
            default_weights = "weights/scaled.safetensors"  # beside this file

            def __init__(self, **params):
                super().__init__(**params)
                self.gain = torch.nn.Parameter(torch.ones(1))

            def forward(self, frame0, frame1, t):
                return (frame0 * self.gain).clamp(0, 1)
        '''))
    plugins.load_plugins([source], entry_points=False)
    cls = registry.get_model("scaled").factory
    assert default_weights_path(cls) == folder / "weights" / "scaled.safetensors"
    trained = cls()
    with torch.no_grad():
        trained.gain.fill_(0.5)
    save_weights(trained, "scaled", folder / "weights" / "scaled.safetensors")
    loaded = load_model("scaled")
    assert float(loaded.gain.detach()) == 0.5


def test_the_public_api_exports_what_plugins_and_scripts_need():
    for name in ("FrameInterpolator", "ModelParams", "Neighbours", "UNet", "VnnError", "SettingsError", "as_time_tensor",
                 "load_model", "list_models", "list_losses", "load_plugins", "register_model", "register_loss",
                 "Interpolator"):
        assert name in vnn_cli.__all__ and getattr(vnn_cli, name) is not None, name
    assert vnn_cli.as_time_tensor(0.25, torch.zeros(2, 3, 4, 4)).shape == (2, 1, 1, 1)
    with pytest.raises(AttributeError):
        vnn_cli.no_such_name  # noqa: B018


def test_list_models_names_the_built_ins():
    plugins.load_plugins(entry_points=False)
    assert {"fusion", "rife", "dis", "blend"} <= set(vnn_cli.list_models())
    model = vnn_cli.load_model("blend")
    frames = torch.from_numpy(np.zeros((1, 3, 4, 4), np.float32))
    assert model(frames, frames + 1, torch.tensor([0.5])).mean() == pytest.approx(0.5)
