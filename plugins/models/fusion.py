"""`fusion`: the default model. Classical DIS flow and RIFE's IFNet each propose an in-between
frame, and the two are blended per pixel, each with its own mask (DIS's border-aware one, RIFE's
learned one). DIS gets `dis_share` (0.7) of the blend where its forward and backward motion agree,
less where they do not (exp(-mismatch / 16 px)): RIFE wins where DIS is doubted, DIS where it is
sure, and elsewhere the blend hedges between two estimates that fail differently. RIFE's weights
are the shipped `rife-hdv3`, used as they are.

Where the video gives the frames before and after the pair (`neighbours`), motion is fitted
through them (quadratic motion: what speeds up or slows down lands where it really is at t), for
the DIS candidate and, moved by the same amount, for RIFE's; only where those flows are consistent
both ways. The flows out to the neighbours are the previous and next pairs' own, remembered, so
this costs little more than the warps.

Learned per-pixel choices between the candidates scored below this plain blend on the held-out
clips and were removed (docs/experiments/learned_fusion.md): the model has no learned layers of its
own and needs no weights of its own.

`rife: when_needed` (in no preset since issue 15) pays for RIFE only where the cheap judge finds
DIS unreliable (tiles with a share of pixels whose forward and backward motion disagree): RIFE and
the fusion run on the box around those tiles, with a margin of context; the rest keeps the
classical candidate, as the `fast` preset gives it, and a pair with no doubted tile never runs
RIFE. `rife: always` (the default) runs both on the whole frame. `ensemble` (the `best` preset:
`rife-4.25`) averages a second network's candidate into RIFE's: HDv3 and Practical-RIFE 4.25 make
different mistakes (+0.06 dB on the tuning clips, docs/experiments/ensemble.md).
t = 0.5 only (RIFE's weights know no other time); the pipeline bisects for other times.
"""
from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

from vnn_cli import FrameInterpolator, register_model
from vnn_cli.nn.candidates import Candidate, classical, rife_candidate
from vnn_cli.nn.dis_flow import RememberedFlows
from vnn_cli.nn.grading import Grader
from vnn_cli.core.frames import pad_to_multiple
from vnn_cli.core.model_api import ModelParams, Neighbours, as_time_tensor

DOUBT_PIXELS = 2.0  # forward-backward mismatch (pixels) beyond which DIS is doubted at a pixel
ENSEMBLE_NETWORKS = ("rife-4.0", "rife-4.25")  # models `ensemble` may average in: each uses its own weights as they are


@register_model("fusion")
class Fusion(FrameInterpolator):
    any_time = False
    uses_neighbours = True
    pad_multiple = 32
    supports_scale = True
    default_weights = None  # it learns nothing itself
    # Weights it uses as they are (their cards hold the licenses): HDv3's and every ensemble network's
    # (whose weights carry the model's name).
    borrowed_weights = ("rife-hdv3", *ENSEMBLE_NETWORKS)

    class Params(ModelParams):
        dis_preset: Literal["ultrafast", "fast", "medium"] = "medium"
        dis_max_width: int = 1024
        rife: Literal["always", "when_needed"] = "always"
        flip: bool = False  # test-time augmentation: RIFE also on the mirrored frames (twice its cost)
        # A second network whose candidate is averaged with HDv3's (an ensemble; about 1.2x HDv3's cost at 720p)
        ensemble: Literal[("none", *ENSEMBLE_NETWORKS)] = "none"
        judge_share: float = 0.05  # share of doubted pixels above which a tile is worth RIFE (0.02: +0.04 dB, 1.3x the time)
        judge_tile: int = 256  # when_needed: the judge looks at tiles this big; RIFE runs on the box around doubted ones ...
        judge_margin: int = 64  # ... seen with this much context around it
        neighbours: bool = True  # quadratic motion through the frames around the pair, where given
        grade: bool = True  # the frames around the pair grade the blend, DIS and RIFE (vnn_cli/nn/grading.py); rife=always only
        # The blend: DIS's share is dis_share·exp(-mismatch / dis_doubt_px), RIFE has the rest.
        dis_share: float = 0.7
        dis_doubt_px: float = 16.0

    def __init__(self, **params):
        super().__init__(**params)
        self.rife = _load_rife()
        self.flows = RememberedFlows()  # a video's consecutive pairs share flows (see `neighbours`)
        self.grader = Grader(self._options)
        # `ensemble`'s network, a submodule: moved and laid out with the model.
        self.others = torch.nn.ModuleList([] if self.params.ensemble == "none" else [_load_rife(self.params.ensemble)])
        for p in [*self.rife.parameters(), *self.others.parameters()]:
            p.requires_grad_(False)
        # The networks' weights live in their own files: none of this model's state.
        self._register_state_dict_hook(_drop_borrowed_keys)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        missing, unexpected = super().load_state_dict(state_dict, strict=False, assign=assign)
        missing = [k for k in missing if not k.startswith(BORROWED_PREFIXES)]
        if strict and (missing or unexpected):
            raise RuntimeError(f"fusion state mismatch: missing {missing[:3]}, unexpected {unexpected[:3]}")
        return torch.nn.modules.module._IncompatibleKeys(missing, unexpected)

    def classical(self, frame0: torch.Tensor, frame1: torch.Tensor, neighbours: Neighbours | None) -> Candidate:
        return classical(frame0, frame1, as_time_tensor(0.5, frame0), self.params.dis_preset,
                         self.params.dis_max_width, neighbours if self.params.neighbours else None, self.flows)

    def doubted_region(self, dis: Candidate) -> tuple[int, int, int, int] | None:
        """(y0, y1, x0, x1): the box around the tiles where DIS is doubted on more than
        `judge_share` of the pixels (None: none is). One box, so RIFE runs once, without seams
        between neighbouring tiles."""
        doubted = (dis.unreliable > torch.log1p(torch.tensor(DOUBT_PIXELS))).float().amax(dim=0)[0]
        height, width = doubted.shape
        size = self.params.judge_tile
        shares = F.adaptive_avg_pool2d(F.pad(doubted, (0, (-width) % size, 0, (-height) % size))[None, None],
                                       (-(-height // size), -(-width // size)))[0, 0]
        rows, cols = torch.nonzero(shares > self.params.judge_share, as_tuple=True)
        if rows.numel() == 0:
            return None
        return (int(rows.min()) * size, min(height, (int(rows.max()) + 1) * size),
                int(cols.min()) * size, min(width, (int(cols.max()) + 1) * size))

    def _fuse_region(self, frame0, frame1, dis: Candidate, box, scale) -> torch.Tensor:
        """The fusion on one region, seen with a margin of context (cropped back)."""
        y0, y1, x0, x1 = box
        height, width = frame0.shape[-2:]
        m = self.params.judge_margin
        top, bottom, left, right = max(0, y0 - m), min(height, y1 + m), max(0, x0 - m), min(width, x1 + m)
        region = (..., slice(top, bottom), slice(left, right))
        a, b = pad_to_multiple(frame0[region], 32)[0], pad_to_multiple(frame1[region], 32)[0]
        crop_dis = Candidate(*(None if x is None else pad_to_multiple(x[region], 32)[0]
                               for x in (dis.warped0, dis.warped1, dis.weight0, dis.unreliable, dis.acceleration)))
        rife = rife_candidate(self.rife, a, b, scale, self.params.flip, crop_dis.acceleration, also=self.others)
        out = self.fuse(crop_dis, rife)
        return out[..., y0 - top:y1 - top, x0 - left:x1 - left]

    def fuse(self, dis: Candidate, rife: Candidate, reduced: float = 1.0) -> torch.Tensor:
        """DIS's candidate gets `dis_share` where its motion is consistent, less where it is doubted;
        RIFE's the rest. `reduced`: the frames' size against the video's (the doubt scale is in the
        video's pixels)."""
        doubt = torch.expm1(dis.unreliable) / reduced  # forward-backward mismatch at t, pixels
        share = self.params.dis_share * torch.exp(-doubt / self.params.dis_doubt_px)
        return torch.lerp(rife.frame, dis.frame, share)

    def _options(self, frame0: torch.Tensor, frame1: torch.Tensor) -> dict[str, torch.Tensor]:
        """The grader's options on reduced frames: the blend, DIS's candidate and RIFE's (no
        neighbours: the check's own are further away than quadratic motion reaches)."""
        height, width = frame0.shape[-2:]
        dis = classical(frame0, frame1, as_time_tensor(0.5, frame0), self.params.dis_preset, self.params.dis_max_width)
        a, b = pad_to_multiple(frame0, 32)[0], pad_to_multiple(frame1, 32)[0]
        rife = rife_candidate(self.rife, a, b, None, False, also=self.others)
        rife = Candidate(*(x[..., :height, :width] for x in (rife.warped0, rife.warped1, rife.weight0, rife.unreliable)))
        return {"blend": self.fuse(dis, rife, self.grader.scale), "dis": dis.frame, "rife": rife.frame}

    def work_notes(self) -> list[str]:
        return self.grader.summary() + self.rife.work_notes() + [n for net in self.others for n in net.work_notes()]

    def forward(self, frame0: torch.Tensor, frame1: torch.Tensor, t: torch.Tensor | float = 0.5,
                scale: float | None = None, neighbours: Neighbours | None = None) -> torch.Tensor:
        if torch.equal(frame0, frame1):  # nothing moved: nothing to synthesize
            return frame0.clone()
        with torch.no_grad():
            # Grading runs RIFE on every check: under `when_needed` that would undo what the mode saves.
            grading = self.params.grade and self.params.rife == "always"
            choice = self.grader.choose(frame0, frame1, neighbours) if grading else "blend"
            dis = self.classical(frame0, frame1, neighbours)
            if choice == "dis":
                out = dis.frame
            elif choice == "rife" or self.params.rife == "always":
                rife = rife_candidate(self.rife, frame0, frame1, scale, self.params.flip, dis.acceleration, also=self.others)
                out = rife.frame if choice == "rife" else self.fuse(dis, rife)
            else:
                out = dis.frame
                region = self.doubted_region(dis)
                if region is not None:
                    y0, y1, x0, x1 = region
                    out[..., y0:y1, x0:x1] = self._fuse_region(frame0, frame1, dis, region, scale)
        return out.clamp(0, 1)


BORROWED_PREFIXES = ("rife.", "others.")


def _drop_borrowed_keys(module, state_dict, prefix, local_metadata):
    for key in [k for k in state_dict if k.startswith(tuple(prefix + p for p in BORROWED_PREFIXES))]:
        del state_dict[key]
    return state_dict


def _load_rife(name: str = "rife"):
    from vnn_cli.nn.weights import load_model  # at call time: the registry is loading this file

    return load_model(name)
