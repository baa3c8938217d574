"""IFNet, the flow estimator of RIFE (Huang et al., "Real-Time Intermediate Flow Estimation for
Video Frame Interpolation", ECCV 2022), in the layout of its "HDv3" release, written for vnn.

Three blocks refine the flows from time 0.5 to both frames (4 channels: F_t→0, F_t→1) and a fusion
mask, coarse to fine: the first works at 1/4 of the frame, the next at 1/2, the last at full size
(each times `1 / scale`). A block sees both frames warped by the current flows and the current
mask, downsamples by 4 with two stride-2 convolutions, runs four residual pairs of 3×3
convolutions, and upsamples a flow and mask correction with transposed convolutions.

Every block runs twice, on the frames in order and swapped (flows swapped, mask negated), and the
two answers are averaged: the estimate is symmetric in time by construction. `swap` can skip the
swapped pass (`SWAP_SETTINGS`): on the full-size block only (`coarse`: 0.75-0.8x the time of a
720p pair) or on every block (`none`: 0.55x); each block then adds its in-order answer alone, at a
cost (-0.49 and -1.48 dB on the tuning clips: docs/experiments/rife_swapped_pass.md). The result is the two warped frames blended by the sigmoid of the mask.

Only t = 0.5: other times come from recursive bisection in the pipeline.

Also what every IFNet plugin does around its network (HDv3 here, the Practical-RIFE 4.x networks
in `ifnet_v4`): the motion scale for a frame size, the zero padding the blocks need, bf16 on a CPU
that computes it natively, and the final warps moved by quadratic motion.
"""
from __future__ import annotations

from contextlib import nullcontext
from typing import ContextManager

import torch
import torch.nn.functional as F
from torch import nn

from ..core.device import cpu_bf16_is_native
from .quadratic import shift_along
from .warp import backward_warp, resized

BLOCK_SCALES = (4, 2, 1)  # each block's working scale, coarse to fine, before `scale`
WIDTH = 90
PAD_MULTIPLE = 32  # the coarsest block works at 1/4 and downsamples 4 more: 1/16, with margin
AUTO_HALF_SCALE_ABOVE = 1920 * 1088  # pixels: `scale: auto` estimates motion at 1/2 above this
SWAP_SETTINGS = ("all", "coarse", "none")  # which blocks also run on the swapped frames
# A block's input channels: frame 0 and frame 1 warped (3 each), the mask, the flows F_t→0, F_t→1.
BLOCK_INPUTS = 3 + 3 + 1 + 4
MASK_INPUT = 6
SWAPPED_INPUTS = (3, 4, 5, 0, 1, 2, 6, 9, 10, 7, 8)  # the swapped pass's channel i is channel SWAPPED_INPUTS[i]
COMPUTE_MULTIPLE = 32  # channel counts bf16 runs fastest at on AMX (its tiles hold 32 bf16 a row)


def conv_prelu(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.PReLU(cout))


def _upsampler(width: int, cout: int) -> nn.Sequential:
    """×4 in two transposed convolutions, the first followed by PReLU."""
    return nn.Sequential(nn.ConvTranspose2d(width, width // 2, 4, 2, 1), nn.PReLU(width // 2),
                         nn.ConvTranspose2d(width // 2, cout, 4, 2, 1))


def resize_by(x: torch.Tensor, factor: float) -> torch.Tensor:
    """Bilinear resize by `factor` (sizes that the blocks' padding keeps whole)."""
    if factor == 1:
        return x
    return F.interpolate(x, scale_factor=factor, mode="bilinear", align_corners=False, recompute_scale_factor=False)


def _corrections_to_frame(x: torch.Tensor, scale: float) -> torch.Tensor:
    """A block's corrections (a few channels) brought to the frame's size, `scale` times theirs
    (whole sizes: the blocks' padding sees to it), by the resize for few-channel maps."""
    return resized(x, (round(x.shape[-2] * scale), round(x.shape[-1] * scale)))


class PairedPReLU(nn.PReLU):
    """PReLU that runs a channels_last tensor of `channels` channels as one of twice as many, two
    neighbouring pixels side by side, the weights repeated (the same values, laid out the same in
    memory). torch's bf16 PReLU kernel is about 4× slower per element on 48 channels than on 96
    (23 against 6 ms at 48×368×640): the first convolution of each widened block has 48."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        if w % 2 or not x.is_contiguous(memory_format=torch.channels_last) or x.is_contiguous():
            return super().forward(x)
        pixels = x.permute(0, 2, 3, 1).view(n, h, w // 2, 2 * c).permute(0, 3, 1, 2)
        out = F.prelu(pixels, self.weight.repeat(2).to(x.dtype))
        return out.permute(0, 2, 3, 1).view(n, h, w, c).permute(0, 3, 1, 2)


class IFBlock(nn.Module):
    """One refinement step: (frames, mask, flows) at full size -> flow and mask corrections."""

    def __init__(self, in_channels: int, width: int = WIDTH, residual_pairs: int = 4):
        super().__init__()
        self.conv0 = nn.Sequential(conv_prelu(in_channels, width // 2, 2), conv_prelu(width // 2, width, 2))
        # Named convblock0..3 (not a ModuleList) so the state dict reads like the published layout.
        for i in range(residual_pairs):
            self.add_module(f"convblock{i}", nn.Sequential(conv_prelu(width, width), conv_prelu(width, width)))
        self.residual_pairs = residual_pairs
        self.conv1 = _upsampler(width, 4)  # flow correction
        self.conv2 = _upsampler(width, 1)  # mask correction
        # Both corrections from one upsampler (`bf16_form`'s copy: the same function, faster), or None.
        self.head: nn.Sequential | None = None

    def forward(self, inputs: torch.Tensor, scale: float, swapped: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Flow and mask corrections at full size from `inputs` (`block_inputs`: at the working
        size). `swapped`: as the published block run on the frames swapped (the warped frames and
        flows exchanged, the mask negated), with the first convolution's input channels exchanged
        instead of the input's: one input serves both passes."""
        first, activation = self.conv0[0]
        weight = _swapped_channels(first.weight) if swapped else first.weight
        features = activation(F.conv2d(inputs, weight, first.bias, first.stride, first.padding))
        features = self.conv0[1](features)
        for i in range(self.residual_pairs):
            features = getattr(self, f"convblock{i}")(features) + features
        # Corrections leave in float32 whatever the convolutions ran in (bf16 under autocast):
        # flows are pixel positions, which bf16's 8-bit mantissa cannot hold across a frame.
        if self.head is not None:
            both = _corrections_to_frame(self.head(features).float(), scale)
            return (both[:, 0:4] * scale if scale != 1 else both[:, 0:4]), both[:, 4:5]
        flow_delta = _corrections_to_frame(self.conv1(features).float(), scale) * scale
        mask_delta = _corrections_to_frame(self.conv2(features).float(), scale)
        return flow_delta, mask_delta


def block_inputs(warped0: torch.Tensor, warped1: torch.Tensor, mask: torch.Tensor, flow: torch.Tensor,
                 scale: float) -> torch.Tensor:
    """What a block sees (`BLOCK_INPUTS`), at its working size (1 / `scale`), the flows in that
    size's pixels; in the dtype the convolutions compute in (bf16 under a CPU's autocast), cast
    once for both passes."""
    inputs = resize_by(torch.cat([warped0, warped1, mask, flow], dim=1), 1.0 / scale)
    if scale != 1:
        inputs = inputs * inputs.new_tensor([1.0] * 7 + [1.0 / scale] * 4).view(1, BLOCK_INPUTS, 1, 1)
    device = inputs.device.type
    return inputs.to(torch.get_autocast_dtype(device)) if torch.is_autocast_enabled(device) else inputs


def _swapped_channels(weight: torch.Tensor) -> torch.Tensor:
    """A first convolution's weights reading the block's inputs as if swapped: each channel takes
    the weights of its counterpart in the other frame (`SWAPPED_INPUTS`, an exchange of pairs, so
    its own inverse), the mask's weights negated."""
    sign = weight.new_ones(BLOCK_INPUTS)
    sign[MASK_INPUT] = -1
    swapped = (weight * sign.view(1, -1, 1, 1))[:, list(SWAPPED_INPUTS)]
    if weight.is_contiguous(memory_format=torch.channels_last):  # as the weights it stands for: else
        swapped = swapped.contiguous(memory_format=torch.channels_last)  # oneDNN converts the features
    return swapped


def _swap_flows(flow: torch.Tensor) -> torch.Tensor:
    return torch.cat([flow[:, 2:4], flow[:, 0:2]], dim=1)


class IFNet(nn.Module):
    """frames (N×3×H×W each, H and W multiples of `PAD_MULTIPLE / scale`) -> flows, mask logit."""

    def __init__(self, width: int = WIDTH):
        super().__init__()
        self.width = width
        self.block0 = IFBlock(BLOCK_INPUTS, width)
        self.block1 = IFBlock(BLOCK_INPUTS, width)
        self.block2 = IFBlock(BLOCK_INPUTS, width)

    @property
    def blocks(self) -> tuple[IFBlock, IFBlock, IFBlock]:
        return self.block0, self.block1, self.block2

    def estimate(self, frame0: torch.Tensor, frame1: torch.Tensor, scale: float = 1.0,
                 flow: torch.Tensor | None = None, mask: torch.Tensor | None = None,
                 warp_last: bool = True, swap: str = "all",
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """Flows from t=0.5 to both frames (N×4: F_t→0 then F_t→1), the mask logit (frame 0's
        weight before the sigmoid) and both warped frames (None with `warp_last` off, for a
        caller that warps with flows of its own making). `flow`/`mask` start the refinement from
        another estimate (zero by default). `swap`: which blocks also run on the swapped frames,
        `all` (the published network), `coarse` (all but the full-size block) or `none`."""
        if swap not in SWAP_SETTINGS:
            raise ValueError(f"swap must be one of {SWAP_SETTINGS}, not {swap!r}")
        n, _, height, width = frame0.shape
        if flow is None:
            flow = frame0.new_zeros(n, 4, height, width)
        if mask is None:
            mask = frame0.new_zeros(n, 1, height, width)
        warped0, warped1 = frame0, frame1
        if flow.abs().amax() > 0:
            warped0, warped1 = backward_warp(frame0, flow[:, 0:2]), backward_warp(frame1, flow[:, 2:4])
        for block, block_scale in zip(self.blocks, BLOCK_SCALES):
            s = block_scale / scale
            inputs = block_inputs(warped0, warped1, mask, flow, s)
            flow_a, mask_a = block(inputs, s)
            if swap == "all" or (swap == "coarse" and block is not self.block2):
                flow_b, mask_b = block(inputs, s, swapped=True)
                flow_a, mask_a = (flow_a + _swap_flows(flow_b)) / 2, (mask_a - mask_b) / 2
            flow, mask = flow + flow_a, mask + mask_a
            if block is self.block2 and not warp_last:
                return flow, mask, None, None
            warped0, warped1 = backward_warp(frame0, flow[:, 0:2]), backward_warp(frame1, flow[:, 2:4])
        return flow, mask, warped0, warped1

    def forward(self, frame0: torch.Tensor, frame1: torch.Tensor, scale: float = 1.0, swap: str = "all") -> torch.Tensor:
        _, mask, warped0, warped1 = self.estimate(frame0, frame1, scale, swap=swap)
        return torch.lerp(warped1, warped0, torch.sigmoid(mask))


def published_key(key: str) -> str | None:
    """Our state-dict key for a key of the published RIFE HDv3 `flownet.pkl` (None: not ours, i.e.
    the training-only teacher block). The published keys carry a `module.` prefix (DataParallel)."""
    key = key.removeprefix("module.")
    if key.startswith("block_tea."):
        return None
    return key


def motion_scale(setting: str | float, height: int, width: int) -> float:
    """The scale motion is estimated at: the `scale` setting, where `auto` is 0.5 above
    `AUTO_HALF_SCALE_ABOVE` pixels and 1.0 below."""
    if setting == "auto":
        return 0.5 if height * width > AUTO_HALF_SCALE_ABOVE else 1.0
    return float(setting)


def pad_for_scale(x: torch.Tensor, scale: float, multiple: int = PAD_MULTIPLE) -> torch.Tensor:
    """Zero-pad right and bottom to a multiple of `multiple / scale`, what the blocks need at this
    scale (each network's published padding: it keeps the border's motion estimates as the
    published code gives them)."""
    step = int(multiple / scale)
    height, width = x.shape[-2:]
    return F.pad(x, (0, (-width) % step, 0, (-height) % step))


def _cpu_inference(frames: torch.Tensor, training: bool) -> bool:
    """Float32 frames on a CPU, not training: where `precision` chooses anything."""
    return not training and frames.device.type == "cpu" and frames.dtype == torch.float32


def cpu_bf16(setting: str, frames: torch.Tensor, training: bool = False) -> bool:
    """Whether an IFNet's convolutions run in bf16 on a CPU: for `bfloat16`, and for `auto` where the
    CPU computes bf16 natively (AMX or AVX512-BF16); float32 elsewhere, in training, and on other
    devices (`--half` is theirs)."""
    if not _cpu_inference(frames, training):
        return False
    return setting == "bfloat16" or (setting == "auto" and cpu_bf16_is_native())


def cpu_precision(setting: str, frames: torch.Tensor, training: bool = False) -> ContextManager:
    """The context an IFNet runs in: bf16 autocast of the convolutions where `cpu_bf16` says so."""
    return torch.autocast("cpu", dtype=torch.bfloat16) if cpu_bf16(setting, frames, training) else nullcontext()


def bf16_form(net: IFNet, multiple: int = COMPUTE_MULTIPLE) -> IFNet:
    """The same network laid out for the bf16 path's kernels on a CPU (docs/speed.md):
    - channel counts rounded up to `multiple` (90 -> 96, 45 -> 48), the added channels' weights
      and biases zero, so they carry zeros through: oneDNN's bf16 kernels on AMX run it
      1.22-1.27× faster at 720p, though it does more multiply-adds;
    - each block's two correction upsamplers (flow: 4 channels, mask: 1) as one: their first
      transposed convolutions and PReLUs side by side (48 + 48 channels), the last one a single
      transposed convolution to 5 channels that reads each half for its own outputs (the other
      half's weights zero): one kernel at 96 channels runs faster than two at 48, and the last
      ones write 4 and 1 channels at full size, where oneDNN is slow;
    - the 48-channel PReLUs as `PairedPReLU`.
    It computes the same function as `net`, to float rounding. Not for training: the zero weights
    would learn."""
    width = -(-net.width // multiple) * multiple
    reference = net.block0.conv0[0][0].weight
    form = IFNet(width).to(device=reference.device, dtype=reference.dtype).eval()
    source = net.state_dict()
    with torch.no_grad():
        for key, target in form.state_dict().items():
            target.zero_()
            target[tuple(slice(0, n) for n in source[key].shape)] = source[key]
        for block in form.blocks:
            block.head = _merged_head(block.conv1, block.conv2)
            first = block.conv0[0]
            paired = PairedPReLU(first[1].num_parameters).to(device=reference.device, dtype=reference.dtype)
            paired.weight.copy_(first[1].weight)
            first[1] = paired
    if reference.is_contiguous(memory_format=torch.channels_last) and not reference.is_contiguous():
        form = form.to(memory_format=torch.channels_last)
    return form


def _merged_head(flow_head: nn.Sequential, mask_head: nn.Sequential) -> nn.Sequential:
    """One upsampler computing both `_upsampler`s' outputs, flow channels first (see `bf16_form`)."""
    up_flow, act_flow, out_flow = flow_head
    up_mask, act_mask, out_mask = mask_head
    half = up_flow.out_channels
    like = up_flow.weight
    head = nn.Sequential(nn.ConvTranspose2d(up_flow.in_channels, 2 * half, 4, 2, 1), nn.PReLU(2 * half),
                         nn.ConvTranspose2d(2 * half, 5, 4, 2, 1)).to(device=like.device, dtype=like.dtype)
    up, act, out = head
    up.weight.copy_(torch.cat([up_flow.weight, up_mask.weight], dim=1))  # ConvTranspose2d: in × out × k × k
    up.bias.copy_(torch.cat([up_flow.bias, up_mask.bias]))
    act.weight.copy_(torch.cat([act_flow.weight, act_mask.weight]))
    out.weight.zero_()
    out.weight[:half, 0:4] = out_flow.weight
    out.weight[half:, 4:5] = out_mask.weight
    out.bias.copy_(torch.cat([out_flow.bias, out_mask.bias]))
    return head


FLOAT32_NOTE = ("{name} ran in float32: this CPU computes no bf16 itself (AMX or AVX512-BF16), so the network "
                "runs at about half the speed it has on one that does")


class CpuPrecision:
    """What every IFNet plugin does about precision on a CPU (mixed in before `FrameInterpolator`;
    it reads the plugin's `params.precision`): `precision` is the context the network runs in, and
    `work_notes` says once a job when `auto` fell back to float32 for want of native bf16."""

    network_name = "RIFE"  # as the note names it
    fell_back_to_float32 = False

    def precision(self, frames: torch.Tensor) -> ContextManager:
        """bf16 autocast where it pays (`cpu_bf16`), else float32."""
        setting = self.params.precision
        if setting == "auto" and _cpu_inference(frames, self.training) and not cpu_bf16_is_native():
            self.fell_back_to_float32 = True
        return cpu_precision(setting, frames, self.training)

    def work_notes(self) -> list[str]:
        notes = [FLOAT32_NOTE.format(name=self.network_name)] if self.fell_back_to_float32 else []
        self.fell_back_to_float32 = False
        return notes


def accelerated_warps(frame0: torch.Tensor, frame1: torch.Tensor, flow: torch.Tensor,
                      acceleration: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Both frames warped by a network's flows from t (N×4) moved by quadratic motion
    (`acceleration`, N×4, `vnn_cli.nn.quadratic.acceleration_fields`), read along those flows. The
    moved flows may point past the frame's edge: the frames themselves are warped (their border
    repeated), not the zero-padded ones the network saw."""
    moved = flow + shift_along(acceleration, flow[:, 0:2], flow[:, 2:4]).repeat(1, 2, 1, 1)
    return backward_warp(frame0, moved[:, 0:2]), backward_warp(frame1, moved[:, 2:4])
