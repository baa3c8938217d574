"""The IFNets of Practical-RIFE 4.x (hzwer, github.com/hzwer/Practical-RIFE; the method: Huang et
al., "Real-Time Intermediate Flow Estimation for Video Frame Interpolation", ECCV 2022), in the
layouts of its 4.0 and 4.25 releases, written for vnn.

Unlike HDv3 (`ifnet`), these take the time t as one more input channel (a constant plane), so
one pass gives the frame at any t in (0, 1): flows from t to both frames (N×4: F_t→0, F_t→1) and
a fusion mask, refined block by block, coarse to fine. A block resizes what it sees to its working
scale, downsamples by 4 with two stride-2 3×3 convolutions, runs eight 3×3 convolutions and
upsamples the corrections with a transposed convolution; they are resized to the frame.

4.0 (`IFNet40`): four blocks, widths 192/128/96/64, at 1/8, 1/4, 1/2 and 1 of the frame (each
times `1 / scale`). The first sees both frames and t; each later one both frames warped by the
current flows, t, the current mask logit and the flows. PReLU activations, one skip connection
around the eight convolutions, a transposed convolution to 5 channels (flow 4, mask 1) at half
the working size. Flows and mask are summed over the blocks. Where the second block's correction
moves both flows by more than `LARGE_MOTION_PX`, the published network starts again with every
block at twice its scale (coarser): so does this one, pair by pair.

4.25 (`IFNet425`): five blocks, widths 192/128/96/64/32, at 1/16 ... 1. A small head (`encode`)
turns each frame into 4 feature channels at full size; the blocks see them beside the frames,
warped the same way. LeakyReLU(0.2); each of the eight convolutions is a residual step x + β·conv(x)
with a learned per-channel β; a transposed convolution to 4·13 channels and a pixel shuffle give
13 channels at the working size: flow 4, mask 1 and 8 feature channels that the next block also
sees. Flows are summed; each block replaces the mask.

The published inference zero-pads right and bottom to a multiple of 128 / scale (`PAD_MULTIPLE`);
the shapes need 32 / scale (4.0) and 64 / scale (4.25).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..core.model_api import as_time_tensor
from .ifnet import conv_prelu, resize_by
from .warp import backward_warp

PAD_MULTIPLE = 128  # what the published inference pads to (times 1 / scale), both versions
LARGE_MOTION_PX = 32  # 4.0: a second-block correction beyond this in both flows restarts coarser
BLOCK_SCALES_40 = (8, 4, 2, 1)
WIDTHS_40 = (192, 128, 96, 64)
BLOCK_SCALES_425 = (16, 8, 4, 2, 1)
WIDTHS_425 = (192, 128, 96, 64, 32)
FEATURES_425 = 4  # channels of the `encode` head, per frame
CARRIED_425 = 8  # feature channels a 4.25 block hands to the next


def time_plane(t: torch.Tensor | float, like: torch.Tensor) -> torch.Tensor:
    """t (a float, or N values) as an N×1×H×W plane beside `like` (N×C×H×W)."""
    n, _, height, width = like.shape
    return as_time_tensor(t, like).expand(n, 1, height, width)


def at_scale(pieces: list[torch.Tensor], factor: float) -> torch.Tensor:
    """The concatenation of `pieces` resized by `factor`, piece by piece: resizing works per
    channel, so this is the resized concatenation (to float rounding), without building it at full
    size first (28 channels for 4.25: about a tenth of its time at 720p)."""
    return torch.cat([resize_by(piece, factor) for piece in pieces], dim=1)


def _warp_both(frame0: torch.Tensor, frame1: torch.Tensor, flow: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return backward_warp(frame0, flow[:, 0:2]), backward_warp(frame1, flow[:, 2:4])


class Block40(nn.Module):
    """(inputs at the working size 1 / scale, flows or None at full size) -> flow and mask
    corrections at full size."""

    def __init__(self, in_channels: int, width: int):
        super().__init__()
        self.conv0 = nn.Sequential(conv_prelu(in_channels, width // 2, 2), conv_prelu(width // 2, width, 2))
        self.convblock = nn.Sequential(*(conv_prelu(width, width) for _ in range(8)))
        self.lastconv = nn.ConvTranspose2d(width, 4 + 1, 4, 2, 1)  # to half the working size

    def forward(self, x: torch.Tensor, flow: torch.Tensor | None, scale: float) -> tuple[torch.Tensor, torch.Tensor]:
        if flow is not None:
            x = torch.cat([x, resize_by(flow, 1.0 / scale) * (1.0 / scale)], dim=1)
        features = self.conv0(x)
        features = self.convblock(features) + features
        # Corrections leave in float32 whatever the convolutions ran in (see `ifnet.IFBlock`).
        out = resize_by(self.lastconv(features).float(), 2 * scale)
        return out[:, 0:4] * (2 * scale), out[:, 4:5]


class IFNet40(nn.Module):
    """Practical-RIFE 4.0: frames (N×3×H×W) and t -> flows, mask. H and W multiples of 64 / scale:
    the blocks need 32 / scale, the coarser restart twice that."""

    def __init__(self):
        super().__init__()
        self.block0 = Block40(3 + 3 + 1, WIDTHS_40[0])  # both frames, t
        # both warped frames, t, the mask logit; the flows join after the resize
        self.block1, self.block2, self.block3 = (Block40(3 + 3 + 1 + 1 + 4, w) for w in WIDTHS_40[1:])

    def estimate(self, frame0: torch.Tensor, frame1: torch.Tensor, t: torch.Tensor | float = 0.5,
                 scale: float = 1.0, warp_last: bool = True, restart: bool = True,
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """Flows from t to both frames (N×4: F_t→0 then F_t→1), the mask logit (frame 0's weight
        before the sigmoid) and both warped frames (None with `warp_last` off). `restart`: start
        again at half the scale where the motion is large, as the published network does (once)."""
        time = time_plane(t, frame0)
        scales = [s / scale for s in BLOCK_SCALES_40]
        flow, mask = self.block0(at_scale([frame0, frame1, time], 1 / scales[0]), None, scales[0])
        warped0, warped1 = _warp_both(frame0, frame1, flow)
        coarse, large = None, None
        for i, block in enumerate((self.block1, self.block2, self.block3), start=1):
            flow_delta, mask_delta = block(at_scale([warped0, warped1, time, mask], 1 / scales[i]), flow, scales[i])
            if i == 1 and restart:
                large = ((flow_delta[:, 0:2].abs().amax(dim=(1, 2, 3)) > LARGE_MOTION_PX)
                         & (flow_delta[:, 2:4].abs().amax(dim=(1, 2, 3)) > LARGE_MOTION_PX))
                if large.any():
                    coarse = self.estimate(frame0, frame1, t, scale / 2, warp_last, restart=False)
                    if large.all():
                        return coarse
            flow, mask = flow + flow_delta, mask + mask_delta
            if i < 3 or warp_last:
                warped0, warped1 = _warp_both(frame0, frame1, flow)
        fine = (flow, mask, warped0, warped1) if warp_last else (flow, mask, None, None)
        if coarse is None:
            return fine
        # Some pairs of the batch restarted, others not: each as the published network runs it alone.
        pick = large.view(-1, 1, 1, 1)
        return tuple(None if f is None else torch.where(pick, c, f) for c, f in zip(coarse, fine))

    def forward(self, frame0: torch.Tensor, frame1: torch.Tensor, t: torch.Tensor | float = 0.5,
                scale: float = 1.0) -> torch.Tensor:
        _, mask, warped0, warped1 = self.estimate(frame0, frame1, t, scale)
        return torch.lerp(warped1, warped0, torch.sigmoid(mask))


def _conv_leaky(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.LeakyReLU(0.2))


class ScaledResidual(nn.Module):
    """LeakyReLU(x + β·conv(x)), β learned per channel."""

    def __init__(self, width: int):
        super().__init__()
        self.conv = nn.Conv2d(width, width, 3, 1, 1)
        self.beta = nn.Parameter(torch.ones(1, width, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(self.conv(x) * self.beta + x, 0.2)


class FeatureHead(nn.Module):
    """A frame (N×3×H×W, H and W even) -> N×4×H×W features: three 3×3 convolutions (the first
    with stride 2) and a transposed one back to full size."""

    def __init__(self):
        super().__init__()
        self.cnn0 = nn.Conv2d(3, 16, 3, 2, 1)
        self.cnn1 = nn.Conv2d(16, 16, 3, 1, 1)
        self.cnn2 = nn.Conv2d(16, 16, 3, 1, 1)
        self.cnn3 = nn.ConvTranspose2d(16, FEATURES_425, 4, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in (self.cnn0, self.cnn1, self.cnn2):
            x = F.leaky_relu(conv(x), 0.2)
        return self.cnn3(x)


class Block425(nn.Module):
    """(inputs at the working size 1 / scale, flows or None at full size) -> flow correction,
    mask logit and carried features at full size."""

    def __init__(self, in_channels: int, width: int):
        super().__init__()
        self.conv0 = nn.Sequential(_conv_leaky(in_channels, width // 2, 2), _conv_leaky(width // 2, width, 2))
        self.convblock = nn.Sequential(*(ScaledResidual(width) for _ in range(8)))
        out = 4 + 1 + CARRIED_425
        self.lastconv = nn.Sequential(nn.ConvTranspose2d(width, 4 * out, 4, 2, 1), nn.PixelShuffle(2))

    def forward(self, x: torch.Tensor, flow: torch.Tensor | None,
                scale: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if flow is not None:
            x = torch.cat([x, resize_by(flow, 1.0 / scale) * (1.0 / scale)], dim=1)
        out = resize_by(self.lastconv(self.convblock(self.conv0(x))).float(), scale)
        return out[:, 0:4] * scale, out[:, 4:5], out[:, 5:]


class IFNet425(nn.Module):
    """Practical-RIFE 4.25: frames (N×3×H×W, H and W multiples of 64 / scale) and t -> flows, mask."""

    def __init__(self):
        super().__init__()
        self.block0 = Block425(3 + 3 + 2 * FEATURES_425 + 1, WIDTHS_425[0])  # frames, their features, t
        # warped frames and features, t, the mask logit, the carried features; then the flows
        later = 3 + 3 + 2 * FEATURES_425 + 1 + 1 + CARRIED_425 + 4
        self.block1, self.block2, self.block3, self.block4 = (Block425(later, w) for w in WIDTHS_425[1:])
        self.encode = FeatureHead()

    def estimate(self, frame0: torch.Tensor, frame1: torch.Tensor, t: torch.Tensor | float = 0.5,
                 scale: float = 1.0, warp_last: bool = True,
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """As `IFNet40.estimate`."""
        time = time_plane(t, frame0)
        scales = [s / scale for s in BLOCK_SCALES_425]
        # Each frame with its features, so one warp moves both.
        both0 = torch.cat([frame0, self.encode(frame0).float()], dim=1)
        both1 = torch.cat([frame1, self.encode(frame1).float()], dim=1)
        small0, small1 = resize_by(both0, 1 / scales[0]), resize_by(both1, 1 / scales[0])
        inputs = [small0[:, :3], small1[:, :3], small0[:, 3:], small1[:, 3:], resize_by(time, 1 / scales[0])]
        flow, mask, carried = self.block0(torch.cat(inputs, dim=1), None, scales[0])
        for block, block_scale in zip((self.block1, self.block2, self.block3, self.block4), scales[1:]):
            small0, small1 = (resize_by(x, 1 / block_scale) for x in _warp_both(both0, both1, flow))
            rest = at_scale([time, mask, carried], 1 / block_scale)
            inputs = [small0[:, :3], small1[:, :3], small0[:, 3:], small1[:, 3:], rest]
            flow_delta, mask, carried = block(torch.cat(inputs, dim=1), flow, block_scale)
            flow = flow + flow_delta
        if not warp_last:
            return flow, mask, None, None
        return flow, mask, *_warp_both(frame0, frame1, flow)

    def forward(self, frame0: torch.Tensor, frame1: torch.Tensor, t: torch.Tensor | float = 0.5,
                scale: float = 1.0) -> torch.Tensor:
        _, mask, warped0, warped1 = self.estimate(frame0, frame1, t, scale)
        return torch.lerp(warped1, warped0, torch.sigmoid(mask))


def published_key(version: str, key: str) -> str | None:
    """Our state-dict key for a key of a published Practical-RIFE `flownet.pkl` (`version` "4.0" or
    "4.25"), or None for what inference never uses: the teacher block (`block_tea`, `teacher`),
    the 4.0 refinement networks (`contextnet`, `unet`: its published inference skips them) and the
    4.25 time estimator (`caltime`). The layouts match ours key for key, less a DataParallel
    `module.` prefix."""
    key = key.removeprefix("module.")
    unused = {"4.0": ("block_tea.", "contextnet.", "unet."), "4.25": ("teacher.", "caltime.")}[version]
    return None if key.startswith(unused) else key
