"""Variants of quadratic-motion interpolation and DIS+RIFE blends, on the drop-frame protocol (21 frames).

Self-contained follow-up to `scripts/quadratic_experiment.py`. The expensive parts are cached per clip
under --cache: DIS flows between consecutive input (even) frames, at the reduced resolution
`vnn_cli.nn.candidates.quadratic` uses (DIS below 1024 px wide), and RIFE's estimate (flows from t,
mask logit, warped frames) for each pair. Every variant is then only arithmetic on those.

Notation (all at full resolution, pixels, N×2×H×W): F01, F10 the flows between the pair; F0b, Fb0
between frame 0 and the input frame before; F1a, Fa1 between frame 1 and the one after.
Acceleration seen from each frame of the pair (Xu et al. 2019): A0 = F01 + F0b, A1 = F10 + F1a.
With Super SloMo's reversal at t = 0.5, quadratic motion changes both flows from t by the same shift
D = (A0 + A1) / 16 (A0 or A1 taken as 0 where that neighbour is missing); DIS-quadratic is the linear
DIS candidate with F_t→0, F_t→1 moved by D, `rife_accel` is RIFE's flows moved by D.

    python scripts/quadratic_variants.py megamind.avi pedestrians.avi ball.mp4 --variants base,accel
    python scripts/quadratic_variants.py --all --variants final    # the reported table (~2 min cached)
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from vnn_cli.core import plugins
from vnn_cli.nn.candidates import dis_scale  # noqa: E402
from vnn_cli.nn.dis_flow import dis_flows  # noqa: E402
from vnn_cli.eval.metrics import psnr  # noqa: E402
from vnn_cli.eval.protocol import drop_frame_triplets, load_eval_frames  # noqa: E402
from vnn_cli.nn.warp import backward_warp, flows_to_time, inside_frame, resize_flow  # noqa: E402

ALL_CLIPS = ["megamind.avi", "pedestrians.avi", "ball.mp4", "bigbuckbunny.mp4", "bikes.mp4", "carphone.mp4",
             "coin.mov", "tree.avi"]
HELD_OUT = ("megamind.avi", "pedestrians.avi")


# ---------------------------------------------------------------- helpers
def pooled(frame: torch.Tensor, scale: int) -> torch.Tensor:
    return frame if scale == 1 else F.avg_pool2d(frame, scale, ceil_mode=True)


def to_tensor(frame: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(frame.copy()).permute(2, 0, 1)[None].float() / 255


def to_uint8(x: torch.Tensor) -> np.ndarray:
    return (x.clamp(0, 1)[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


# ---------------------------------------------------------------- cache
def build_cache(clip: str, videos: Path, cache: Path, rife_holder: dict) -> dict:
    target = cache / f"{clip}.pt"
    if target.exists():
        return torch.load(target, weights_only=False)
    start = time.time()
    frames = load_eval_frames(videos / clip, 21)
    evens, odds = frames[0::2], frames[1::2]
    n_pairs = len(drop_frame_triplets(frames))
    tensors = [to_tensor(f) for f in evens]
    scale = dis_scale(tensors[0].shape[-1])
    small = [pooled(t, scale) for t in tensors]
    pairs = [dis_flows(small[k], small[k + 1]) for k in range(len(evens) - 1)]
    if "rife" not in rife_holder:
        from vnn_cli.nn.weights import load_model
        rife_holder["rife"] = load_model("rife")
    rife = rife_holder["rife"]
    rife_est = [tuple(x.clone() for x in rife.estimate(tensors[k], tensors[k + 1])) for k in range(n_pairs)]
    data = {"evens": evens, "odds": odds[:n_pairs], "scale": scale, "pairs": pairs, "rife": rife_est}
    cache.mkdir(parents=True, exist_ok=True)
    torch.save(data, target)
    print(f"# cached {clip} in {time.time() - start:.0f}s", flush=True)
    return data


def build_tta_cache(clip: str, data: dict, cache: Path, rife_holder: dict) -> None:
    """RIFE's test-time augmentations per pair, as (flows t->0, t->1 (N×4), weight of frame 0):
    'flip': on the mirrored frames, mirrored back; 'rev': on the pair in reverse order."""
    target = cache / f"{clip}.tta.pt"
    if target.exists():
        data.update(torch.load(target, weights_only=False))
        return
    start = time.time()
    if "rife" not in rife_holder:
        from vnn_cli.nn.weights import load_model
        rife_holder["rife"] = load_model("rife")
    rife = rife_holder["rife"]
    flips, revs = [], []
    for k in range(len(data["rife"])):
        i0, i1 = to_tensor(data["evens"][k]), to_tensor(data["evens"][k + 1])
        flow, mask, _, _ = rife.estimate(i0.flip(-1), i1.flip(-1))
        flow = flow.flip(-1) * torch.tensor([-1.0, 1.0, -1.0, 1.0]).view(1, 4, 1, 1)
        flips.append((flow.clone(), torch.sigmoid(mask.flip(-1)).clone()))
        flow, mask, _, _ = rife.estimate(i1, i0)
        revs.append((torch.cat([flow[:, 2:4], flow[:, 0:2]], 1).clone(), (1 - torch.sigmoid(mask)).clone()))
    extra = {"flip": flips, "rev": revs}
    torch.save(extra, target)
    data.update(extra)
    print(f"# cached TTA for {clip} in {time.time() - start:.0f}s", flush=True)


# ---------------------------------------------------------------- per-triplet context (lazy, memoised)
def box_blur(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over a (2r+1)² window, borders replicated; O(1) per pixel via cumulative sums."""
    if radius <= 0:
        return x
    for dim in (-1, -2):
        size = x.shape[dim]
        pad = [0, 0, 0, 0]
        pad[0 if dim == -1 else 2] = radius + 1
        pad[1 if dim == -1 else 3] = radius
        c = F.pad(x, pad, mode="replicate").cumsum(dim)
        hi = c.narrow(dim, 2 * radius + 1, size)
        lo = c.narrow(dim, 0, size)
        x = (hi - lo) / (2 * radius + 1)
    return x


def smooth(x: torch.Tensor, size: int) -> torch.Tensor:
    """Gaussian-like blur of about `size` px full width: three box passes."""
    r = max(int(round(size / 6)), 1)
    for _ in range(3):
        x = box_blur(x, r)
    return x


def norm_smooth(x: torch.Tensor, c: torch.Tensor, size: int) -> torch.Tensor:
    """Normalised convolution: confidence-weighted blur of x (c: N×1×H×W weights)."""
    return smooth(x * c, size) / smooth(c, size).clamp_min(1e-4)


class Ctx:
    def __init__(self, data: dict, k: int):
        self.k = k
        self.evens = data["evens"]
        self.middle = data["odds"][k]
        self.scale = data["scale"]
        pairs = data["pairs"]
        self.n_pairs = len(data["rife"])
        self.i0, self.i1 = to_tensor(self.evens[k]), to_tensor(self.evens[k + 1])
        self.h, self.w = self.i0.shape[-2:]
        self.small01, self.small10 = pairs[k]
        self.has_b, self.has_a = k > 0, k + 1 < self.n_pairs
        stacked = [pairs[k][0], pairs[k][1]]
        if self.has_b:  # pair (k-1, k): fwd = before→0, bwd = 0→before
            stacked += [pairs[k - 1][1], pairs[k - 1][0]]
        if self.has_a:  # pair (k+1, k+2): fwd = 1→after, bwd = after→1
            stacked += [pairs[k + 1][0], pairs[k + 1][1]]
        full = list(resize_flow(torch.cat(stacked, 1), (self.h, self.w)).split(2, 1))
        self.F01, self.F10 = full[0], full[1]
        self.F0b = self.Fb0 = self.F1a = self.Fa1 = None
        rest = full[2:]
        if self.has_b:
            self.F0b, self.Fb0 = rest[0], rest[1]
            rest = rest[2:]
        if self.has_a:
            self.F1a, self.Fa1 = rest[0], rest[1]
        zero = torch.zeros_like(self.F01)
        self.A0 = self.F01 + self.F0b if self.has_b else zero
        self.A1 = self.F10 + self.F1a if self.has_a else zero
        self.m0 = float(self.has_b)
        self.m1 = float(self.has_a)
        half = torch.full((1, 1, 1, 1), 0.5)
        self.lin_t0, self.lin_t1 = flows_to_time(self.F01, self.F10, half)
        rflow, rmask, rw0, rw1 = data["rife"][k]
        self.r_t0, self.r_t1 = rflow[:, 0:2], rflow[:, 2:4]
        self.r_weight0 = torch.sigmoid(rmask)
        self.r_w0, self.r_w1 = rw0, rw1
        self.tta = {key: data[key][k] for key in ("flip", "rev") if key in data}
        self.memo: dict = {}

    def get(self, key, fn):
        if key not in self.memo:
            self.memo[key] = fn()
        return self.memo[key]

    # forward-backward inconsistency (px) at each frame's own pixels
    def fb(self, fwd, bwd):
        return (fwd + backward_warp(bwd, fwd)).norm(dim=1, keepdim=True)

    @property
    def err01(self):
        return self.get("err01", lambda: self.fb(self.F01, self.F10))

    @property
    def err10(self):
        return self.get("err10", lambda: self.fb(self.F10, self.F01))

    @property
    def err0b(self):
        return self.get("err0b", lambda: self.fb(self.F0b, self.Fb0) if self.has_b else None)

    @property
    def err1a(self):
        return self.get("err1a", lambda: self.fb(self.F1a, self.Fa1) if self.has_a else None)

    # candidates
    def dis_weight0(self, t0, t1):
        seen0 = 0.5 * inside_frame(t0) + 1e-3
        seen1 = 0.5 * inside_frame(t1) + 1e-3
        return seen0 / (seen0 + seen1)

    def dis_candidate(self, shift_t0, shift_t1=None):
        """DIS linear flows from t moved by the shift(s): (warped0, warped1, weight0)."""
        shift_t1 = shift_t0 if shift_t1 is None else shift_t1
        t0 = self.lin_t0 + shift_t0
        t1 = self.lin_t1 + shift_t1
        return backward_warp(self.i0, t0), backward_warp(self.i1, t1), self.dis_weight0(t0, t1)

    def rife_candidate(self, shift_t0, shift_t1=None):
        shift_t1 = shift_t0 if shift_t1 is None else shift_t1
        return (backward_warp(self.i0, self.r_t0 + shift_t0), backward_warp(self.i1, self.r_t1 + shift_t1),
                self.r_weight0)


def frame_of(c):
    w0, w1, weight0 = c
    return torch.lerp(w1, w0, weight0)


# ---------------------------------------------------------------- acceleration shifts D (N×2×H×W at t)
def gate(err: torch.Tensor, tau: float) -> torch.Tensor:
    return (err < tau).float()


def conf(ctx: Ctx, side: int, tau: float):
    """1 where both flows that make this side's acceleration are forward-backward consistent."""
    if side == 0:
        return gate(ctx.err01, tau) * gate(ctx.err0b, tau) if ctx.has_b else None
    return gate(ctx.err10, tau) * gate(ctx.err1a, tau) if ctx.has_a else None


def shift(ctx: Ctx, spec: str) -> torch.Tensor:
    """Build D from a spec of '+'-separated options:
    pix (default): A0, A1 at the t pixel; warpR / warpD: A0, A1 sampled along RIFE's / DIS's flows from t;
    one: with one neighbour missing, use the other side's acceleration for both;
    g<tau>: zero the acceleration where the FB error of its flows >= tau px (per side);
    gs<tau>: same gate but fill gated pixels by normalised convolution over the smoothing size;
    s<div>: blur A by width/div; aff: affine least-squares fit of A over the frame (weighted by the gate);
    med: per-frame median of A; q<px>: D = 0 where |DIS - RIFE flows from t| >= px;
    c<m>: clamp |D| to m px; x<f>: scale D by f."""
    return ctx.get(("shift", spec), lambda: _shift(ctx, spec))


def _shift(ctx: Ctx, spec: str) -> torch.Tensor:
    opts = [o for o in spec.split("+") if o]
    a = [ctx.A0, ctx.A1]
    have = [ctx.has_b, ctx.has_a]
    c = [torch.ones_like(ctx.A0[:, :1]) if h else torch.zeros_like(ctx.A0[:, :1]) for h in have]
    taus = [o for o in opts if o.startswith("g") and not o.startswith("gs")]
    gs = [o for o in opts if o.startswith("gs")]
    for o in taus + gs:
        tau = float(o[2:] if o.startswith("gs") else o[1:])
        for side in (0, 1):
            if have[side]:
                c[side] = conf(ctx, side, tau)
    fill = bool(gs)
    sizes = [int(o[1:]) for o in opts if o.startswith("s") and o[1:].isdigit()]
    for side in (0, 1):
        if not have[side]:
            continue
        if sizes:
            size = ctx.w / sizes[0]
            a[side] = norm_smooth(a[side], c[side], size) if (fill or taus) else smooth(a[side], size)
            if not fill:
                a[side] = a[side] * c[side] if taus else a[side]
        elif "aff" in opts or "med" in opts:
            a[side] = global_fit(a[side], c[side], "aff" if "aff" in opts else "med")
        else:
            a[side] = a[side] * c[side]
    if "warpR" in opts:
        a = [backward_warp(a[0], ctx.r_t0), backward_warp(a[1], ctx.r_t1)]
    elif "warpD" in opts:
        a = [backward_warp(a[0], ctx.lin_t0), backward_warp(a[1], ctx.lin_t1)]
    if "one" in opts and have[0] != have[1]:
        only = a[0] if have[0] else a[1]
        d = only / 8
    else:
        d = (a[0] + a[1]) / 16
    for o in opts:
        if o.startswith("q") and o[1:].replace(".", "").isdigit():  # no shift where DIS and RIFE flows disagree
            d = d * (flow_gap(ctx) < float(o[1:])).float()
        if o.startswith("c") and o[1:].replace(".", "").isdigit():
            m = float(o[1:])
            n = d.norm(dim=1, keepdim=True)
            d = d * (m / n.clamp_min(m))
        if o.startswith("x") and o[1:].replace(".", "").isdigit():
            d = d * float(o[1:])
    return d


def global_fit(a: torch.Tensor, c: torch.Tensor, kind: str) -> torch.Tensor:
    _, _, h, w = a.shape
    weight = c[0, 0].reshape(-1)
    if weight.sum() < 100:
        return torch.zeros_like(a)
    vals = a[0].reshape(2, -1)
    if kind == "med":
        sel = weight > 0
        med = vals[:, sel].median(dim=1).values
        return med.view(1, 2, 1, 1).expand_as(a).clone()
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
    basis = torch.stack([torch.ones_like(xs), xs, ys], 0).reshape(3, -1)  # 3×P
    wts = weight.clone()
    coef = None
    for _ in range(4):  # IRLS (Cauchy-ish) for robustness
        bw = basis * wts
        lhs = bw @ basis.T + 1e-6 * torch.eye(3)
        rhs = bw @ vals.T  # 3×2
        coef = torch.linalg.solve(lhs, rhs)
        resid = (vals - coef.T @ basis).norm(dim=0)
        scale = resid[weight > 0].median().clamp_min(0.25)
        wts = weight / (1 + (resid / (2 * scale)) ** 2)
    return (coef.T @ basis).reshape(1, 2, h, w)


# ---------------------------------------------------------------- blends
def disagreement(c, size: int | None) -> torch.Tensor:
    w0, w1, _ = c
    e = (w0 - w1).abs().mean(1, keepdim=True)
    return smooth(e, size) if size else e


def blend(ctx: Ctx, dc, rc, spec: str, ds: str = "", rs: str = "") -> torch.Tensor:
    """DIS-side candidate dc and RIFE-side candidate rc combined.
    'w<x>': fixed DIS share x; 'e<k>s<div>': per-pixel softmax of -k·(own warp disagreement blurred by
    width/div); 'E<k>': the same on per-frame mean disagreement; 'fb<k>': DIS share exp(-k·FB error at t)·0.5."""
    fd, fr = frame_of(dc), frame_of(rc)
    if spec.startswith("w"):
        x = float(spec[1:])
        return x * fd + (1 - x) * fr
    if spec.startswith("e"):
        k, div = spec[1:].split("s")
        k = float(k)
        size = ctx.w / float(div) if float(div) > 0 else None
        ed, er = disagreement(dc, size), disagreement(rc, size)
        wd = torch.sigmoid(k * (er - ed))
        return wd * fd + (1 - wd) * fr
    if spec.startswith("E"):
        k = float(spec[1:])
        ed, er = disagreement(dc, None).mean(), disagreement(rc, None).mean()
        wd = torch.sigmoid(k * (er - ed))
        return wd * fd + (1 - wd) * fr
    m = re.fullmatch(r"f([\d.]+)w([\d.]+)(?:s(\d+))?", spec)
    if m:  # DIS share x·exp(-err/tau), err = DIS forward-backward error of the pair carried to t
        tau, x = float(m.group(1)), float(m.group(2))
        err = dis_doubt_at_t(ctx)
        if m.group(3):
            err = smooth(err, ctx.w / float(m.group(3)))
        wd = x * torch.exp(-err / tau)
        return wd * fd + (1 - wd) * fr
    m = re.fullmatch(r"m([\d.]+)w([\d.]+)", spec)
    if m:  # as f, but err = min(DIS FB error at t, |DIS flows from t - RIFE flows from t|)
        tau, x = float(m.group(1)), float(m.group(2))
        err = torch.minimum(dis_doubt_at_t(ctx), flow_gap(ctx))
        wd = x * torch.exp(-err / tau)
        return wd * fd + (1 - wd) * fr
    if spec.startswith("X"):
        return xblend(ctx, dc, rc, spec[1:], ds, rs)
    raise ValueError(spec)


def cand_flows(ctx: Ctx, spec: str, rife: bool):
    sspec = spec.partition("@")[0]
    d = torch.zeros_like(ctx.F01) if sspec == "lin" else shift(ctx, sspec)
    return (ctx.r_t0 + d, ctx.r_t1 + d) if rife else (ctx.lin_t0 + d, ctx.lin_t1 + d)


def neighbour_error(ctx: Ctx, frame: torch.Tensor, t0, t1) -> torch.Tensor:
    """Mean colour error (0-1) between a candidate and the neighbour frames (before / after the pair)
    sampled where the candidate's trajectory continues: x + F_t0 + F_0b(x + F_t0), and the same to after."""
    errs = []
    if ctx.has_b:
        ib = to_tensor(ctx.evens[ctx.k - 1])
        errs.append((backward_warp(ib, t0 + backward_warp(ctx.F0b, t0)) - frame).abs().mean(1, keepdim=True))
    if ctx.has_a:
        ia = to_tensor(ctx.evens[ctx.k + 2])
        errs.append((backward_warp(ia, t1 + backward_warp(ctx.F1a, t1)) - frame).abs().mean(1, keepdim=True))
    if not errs:
        return torch.zeros_like(frame[:, :1])
    return sum(errs) / len(errs) if len(errs) > 1 else errs[0]


def xblend(ctx: Ctx, dc, rc, spec: str, ds: str, rs: str) -> torch.Tensor:
    """':'-separated terms on the logit of DIS's share. First term f<tau>w<x>[s<div>] (the shipped share,
    err optionally blurred by width/div); then
    e<k>s<div>: + k·(RIFE warp disagreement - DIS's), colour units, blurred by width/div (0: none);
    n<k>s<div>: + k·(RIFE neighbour error - DIS's), see neighbour_error;
    nm<k>s<div>: same with min over the two neighbours instead of mean;
    g<k>s<div>: + k·(|RIFE frame - DIS frame| blurred) (i.e. where they disagree, more DIS when k>0)."""
    fd, fr = frame_of(dc), frame_of(rc)
    terms = spec.split(":")
    m = re.fullmatch(r"f([\d.]+)w([\d.]+)(?:s(\d+))?", terms[0])
    tau, x = float(m.group(1)), float(m.group(2))
    err = dis_doubt_at_t(ctx)
    if m.group(3):
        err = smooth(err, ctx.w / float(m.group(3)))
    logit = _logit(x * torch.exp(-err / tau))

    def blur(e, div):
        return smooth(e, ctx.w / div) if div > 0 else e

    for term in terms[1:]:
        mm = re.fullmatch(r"([a-z]+)(-?[\d.]+)s([\d.]+)", term)
        if not mm:
            continue
        kind, k, div = mm.group(1), float(mm.group(2)), float(mm.group(3))
        if kind == "e":
            logit = logit + k * (blur(disagreement(rc, None), div) - blur(disagreement(dc, None), div))
        elif kind == "n":
            nd = ctx.get(("nerr", ds, "d"), lambda: neighbour_error(ctx, fd, *cand_flows(ctx, ds, False)))
            nr = ctx.get(("nerr", rs, "r"), lambda: neighbour_error(ctx, fr, *cand_flows(ctx, rs, True)))
            logit = logit + k * (blur(nr, div) - blur(nd, div))
        elif kind == "g":
            logit = logit + k * blur((fd - fr).abs().mean(1, keepdim=True), div)
        else:
            raise ValueError(term)
    wd = torch.sigmoid(logit)
    out = wd * fd + (1 - wd) * fr
    for term in terms[1:]:
        mm = re.fullmatch(r"([A-Z])([\d.]+)c([\d.]+)(?:g([\d.]+))?", term)
        if mm:  # temporal support from the neighbours along the trajectory (DIS 'D' / RIFE 'R' flows)
            lam, sig = float(mm.group(2)), float(mm.group(3))
            tau = float(mm.group(4)) if mm.group(4) else 1e9
            out = neighbour_support(ctx, out, cand_flows(ctx, ds if mm.group(1) == "D" else rs, mm.group(1) == "R"),
                                    lam, sig, tau)
    return out


def neighbour_support(ctx: Ctx, out, flows, lam: float, sig: float, tau: float) -> torch.Tensor:
    """Average in the neighbour frames sampled along the trajectory through the pair's frames, each with
    weight lam·exp(-(colour gap to the blend / sig)²) (0-255 colour units), and only where the flow to the
    neighbour is forward-backward consistent (< tau px at the source pixel)."""
    t0, t1 = flows
    num, den = out.clone(), torch.ones_like(out[:, :1])
    for has, fl, err, frame_idx, tt in ((ctx.has_b, ctx.F0b, lambda: ctx.err0b, ctx.k - 1, t0),
                                         (ctx.has_a, ctx.F1a, lambda: ctx.err1a, ctx.k + 2, t1)):
        if not has:
            continue
        img = to_tensor(ctx.evens[frame_idx])
        warped = backward_warp(img, tt + backward_warp(fl, tt))
        gap = (warped - out).abs().mean(1, keepdim=True) * 255
        w = lam * torch.exp(-(gap / sig) ** 2)
        if tau < 1e9:
            w = w * (backward_warp(err(), tt) < tau).float()
        num = num + w * warped
        den = den + w
    return num / den


def flow_gap(ctx: Ctx) -> torch.Tensor:
    """max over both flows from t of |DIS linear flow - RIFE flow| (px)."""
    return ctx.get("gap", lambda: torch.maximum((ctx.lin_t0 - ctx.r_t0).norm(dim=1, keepdim=True),
                                                (ctx.lin_t1 - ctx.r_t1).norm(dim=1, keepdim=True)))


def dis_doubt_at_t(ctx: Ctx) -> torch.Tensor:
    """max over both frames of the DIS pair's forward-backward error (px), sampled along the linear
    DIS flows from t."""
    return ctx.get("doubt_t", lambda: torch.maximum(backward_warp(ctx.err01, ctx.lin_t0),
                                                  backward_warp(ctx.err10, ctx.lin_t1)))


# ---------------------------------------------------------------- masks inside a candidate
def _logit(p: torch.Tensor) -> torch.Tensor:
    p = p.clamp(1e-4, 1 - 1e-4)
    return torch.log(p) - torch.log1p(-p)


def occ_doubts(ctx: Ctx, t0: torch.Tensor, t1: torch.Tensor, blur: float = 0.0):
    """d0 = FB error of F01 at the frame-0 pixel t reads from (high: that content is hidden in frame 1),
    d1 = the same for frame 1 (px)."""
    e01, e10 = ctx.err01, ctx.err10
    if blur:
        e01, e10 = smooth(e01, ctx.w / blur), smooth(e10, ctx.w / blur)
    return backward_warp(e01, t0), backward_warp(e10, t1)


def cand_mask(ctx: Ctx, key, spec: str, t0, t1, seen_w0, rife_w0, cand, own=None) -> torch.Tensor:
    """Frame 0's share inside a candidate whose flows from t are t0, t1. '+'-separated ops applied in
    order on a logit that starts at the candidate's own mask (own; DIS: the border-aware seen mask):
    D: start from the border-aware mask; R: start from RIFE's mask; M<x>: start from x·seen + (1-x)·RIFE;
    G: start from logit(seen) + logit(RIFE) (product of odds);
    o<a>: + a·(min(d0,cap) - min(d1,cap)) (d: FB errors at the source pixels, px); c<cap>: the cap
    (default 1e9; set before o); l<a>: + a·log((1+d0)/(1+d1)); b<div>: blur the FB errors by width/div first."""
    base = own if own is not None else seen_w0
    logit = _logit(base)
    cap, blur = 1e9, 0.0
    for o in [o for o in spec.split("+") if o]:
        if o == "D":
            logit = _logit(seen_w0)
        elif o == "R":
            logit = _logit(rife_w0)
        elif o == "G":
            logit = _logit(seen_w0) + _logit(rife_w0)
        elif o.startswith("M"):
            x = float(o[1:])
            logit = _logit(x * seen_w0 + (1 - x) * rife_w0)
        elif o.startswith("c"):
            cap = float(o[1:])
        elif o.startswith("b"):
            blur = float(o[1:])
        elif o.startswith("o") or o.startswith("l"):
            a = float(o[1:])
            d0, d1 = ctx.get(("occd", key, blur), lambda: occ_doubts(ctx, t0, t1, blur))
            if o[0] == "o":
                logit = logit + a * (d0.clamp(max=cap) - d1.clamp(max=cap))
            else:
                logit = logit + a * (torch.log1p(d0) - torch.log1p(d1))
        else:
            raise ValueError(o)
    # keep the border-aware part: where only one frame's source is inside, that one wins
    return torch.sigmoid(logit)


def rife_tta(ctx: Ctx, tta: str, spec: str, zero):
    """RIFE candidate averaged with its augmentations. tta: letters f (flip), r (reversed pair);
    prefix 'V' averages the flows (one warp each side) instead of the warped frames."""
    d = zero if spec == "lin" else shift(ctx, spec)
    avg_flows = tta.startswith("V")
    ests = [(torch.cat([ctx.r_t0, ctx.r_t1], 1), ctx.r_weight0)]
    if "f" in tta:
        ests.append(ctx.tta["flip"])
    if "r" in tta:
        ests.append(ctx.tta["rev"])
    weight0 = sum(e[1] for e in ests) / len(ests)
    if avg_flows:
        flow = sum(e[0] for e in ests) / len(ests)
        return backward_warp(ctx.i0, flow[:, 0:2] + d), backward_warp(ctx.i1, flow[:, 2:4] + d), weight0
    w0 = sum(backward_warp(ctx.i0, e[0][:, 0:2] + d) for e in ests) / len(ests)
    w1 = sum(backward_warp(ctx.i1, e[0][:, 2:4] + d) for e in ests) / len(ests)
    return w0, w1, weight0


def fixed_point_flows(ctx: Ctx, spec: str):
    """DIS flows from t = 0.5 by fixed-point inversion, starting from Super SloMo's approximation.
    A<n>: per side, F_t0 <- -0.5·F01(x + F_t0), F_t1 <- -0.5·F10(x + F_t1), n iterations;
    S<n>: symmetric, F_t0 <- 0.25·(-F01(x + F_t0) + F10(x - F_t0)), F_t1 = -F_t0;
    suffix r: start from RIFE's flows instead."""
    def run():
        kind, rest = spec[0], spec[1:]
        start_rife = rest.endswith("r")
        n = int(rest.rstrip("r"))
        t0, t1 = (ctx.r_t0, ctx.r_t1) if start_rife else (ctx.lin_t0, ctx.lin_t1)
        for _ in range(n):
            if kind == "A":
                t0, t1 = -0.5 * backward_warp(ctx.F01, t0), -0.5 * backward_warp(ctx.F10, t1)
            elif kind == "S":
                t0 = 0.25 * (-backward_warp(ctx.F01, t0) + backward_warp(ctx.F10, -t0))
                t1 = -t0
            else:
                raise ValueError(spec)
        return t0, t1
    return ctx.get(("fp", spec), run)


# ---------------------------------------------------------------- variants
def make_variants(ctx: Ctx, names: list[str]) -> dict[str, torch.Tensor]:
    """Variant names:
    dis | rife | dq[<shift spec>] | ra[<shift spec>] | bl[<dis shift>|<rife shift>|<blend spec>]."""
    zero = torch.zeros_like(ctx.F01)
    out = {}

    def dcand(spec):
        full = spec
        spec, _, mspec = spec.partition("@")
        fp = None
        if "/" in spec:  # '<fixed-point spec>/<shift spec>': DIS flows from t by fixed-point inversion
            fp, spec = spec.split("/")
        d = zero if spec == "lin" else shift(ctx, spec)
        b0, b1 = (ctx.lin_t0, ctx.lin_t1) if fp is None else fixed_point_flows(ctx, fp)
        t0, t1 = b0 + d, b1 + d
        base = ctx.get(("dc", full.partition("@")[0]), lambda: (backward_warp(ctx.i0, t0), backward_warp(ctx.i1, t1),
                                                                ctx.dis_weight0(t0, t1)))
        if not mspec:
            return base
        return ctx.get(("dcm", full), lambda: (base[0], base[1], cand_mask(
            ctx, ("d", full.partition("@")[0]), mspec, t0, t1, base[2], ctx.r_weight0, base)))

    def rcand(spec):
        if "/" in spec.partition("@")[0]:  # '<tta>/<shift spec>': RIFE with test-time augmentation
            tta, rest = spec.split("/", 1)
            return ctx.get(("rtta", spec), lambda: rife_tta(ctx, tta, rest, zero))
        spec, _, mspec = spec.partition("@")
        if spec == "lin":
            base = (ctx.r_w0, ctx.r_w1, ctx.r_weight0)
            d = zero
        else:
            base = ctx.get(("rc", spec), lambda: ctx.rife_candidate(shift(ctx, spec)))
            d = shift(ctx, spec)
        if not mspec:
            return base
        t0, t1 = ctx.r_t0 + d, ctx.r_t1 + d
        return ctx.get(("rcm", spec, mspec), lambda: (base[0], base[1], cand_mask(
            ctx, ("r", spec), mspec, t0, t1, ctx.dis_weight0(t0, t1), base[2], base, own=base[2])))

    for name in names:
        if name == "dis":
            out[name] = frame_of(dcand("lin"))
        elif name == "rife":
            out[name] = frame_of(rcand("lin"))
        elif name.startswith("dq["):
            out[name] = frame_of(dcand(name[3:-1] or "pix"))
        elif name.startswith("ra["):
            out[name] = frame_of(rcand(name[3:-1] or "pix"))
        elif name.startswith("bl["):
            ds, rs, bs = name[3:-1].split("|")
            out[name] = blend(ctx, dcand(ds or "pix"), rcand(rs or "pix"), bs, ds or "pix", rs or "pix")
        else:
            raise ValueError(name)
    return out


PRESET_LISTS = {
    "base": ["dis", "rife", "dq[pix]", "ra[pix]", "bl[pix|lin|w0.5]", "bl[pix|pix|w0.5]"],
    # The reported table: baselines of quadratic_experiment.py, then each change alone and together.
    "final": ["dis", "rife", "dq[pix]", "ra[pix]", "bl[pix|lin|w0.5]", "bl[pix|pix|w0.5]",
              "dq[warpR]", "dq[g4]", "dq[warpR+g4]", "ra[warpR]", "ra[g4]", "ra[warpR+g4]",
              "bl[warpR+g4|warpR+g4|w0.5]", "bl[warpR+g4|warpR+g4|w0.3]", "bl[pix|pix|f16w0.7]",
              "bl[warpR+g4|warpR+g4|f12w0.7]", "bl[warpR+g4|warpR+g4|f16w0.6]", "bl[warpR+g4|warpR+g4|f16w0.7]",
              "bl[warpD+g4|warpR+g4|f16w0.7]"],
    # Follow-up (needs --tta): occlusion-aware / RIFE masks inside DIS, neighbour cues in the share,
    # temporal support, fixed-point flows from t, RIFE flip test-time augmentation.
    "followup": ["dis", "rife", "bl[warpR+g4|warpR+g4|f16w0.7]",
                 "bl[warpR+g4@o0.1|warpR+g4|f16w0.7]", "bl[warpR+g4@o-0.05|warpR+g4|f16w0.7]",
                 "bl[warpR+g4@l1|warpR+g4|f16w0.7]", "bl[warpR+g4@R|warpR+g4|f16w0.7]",
                 "bl[warpR+g4@M0.5|warpR+g4|f16w0.7]", "bl[warpR+g4@G|warpR+g4|f16w0.7]",
                 "bl[warpR+g4|warpR+g4|Xf16w0.7:e10s0]", "bl[warpR+g4|warpR+g4|Xf16w0.7:n30s16]",
                 "bl[warpR+g4|warpR+g4|Xf16w0.7:D0.5c4]", "bl[S1/warpR+g4|warpR+g4|f16w0.7]",
                 "bl[warpR+g4|f/warpR+g4|f16w0.7]", "bl[warpR+g4|f/warpR+g4|f24w0.7]",
                 "bl[warpR+g4|f/warpR+g4|f32w0.7]", "bl[S1/warpR+g4|f/warpR+g4|f24w0.7]",
                 "bl[S1/warpR+g4|f/warpR+g4|f32w0.7]"],
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*")
    parser.add_argument("--all", action="store_true", help="all 8 clips")
    parser.add_argument("--videos", default="/work/shared/data/videos")
    parser.add_argument("--cache", default="/tmp/vnn_quadvar_cache")
    parser.add_argument("--variants", default="base", help="comma-separated names or preset lists; ';' also splits")
    parser.add_argument("--cache-only", action="store_true")
    parser.add_argument("--tta", action="store_true", help="also cache/load RIFE's flip and reversed-pair estimates")
    args = parser.parse_args()
    torch.set_num_threads(1)
    plugins.load_plugins(entry_points=False)
    clips = ALL_CLIPS if args.all else args.clips
    names: list[str] = []
    for item in args.variants.replace(";", ",").split(","):
        item = item.strip()
        if item:
            names.extend(PRESET_LISTS.get(item, [item]))
    holder: dict = {}
    results: dict[str, dict[str, float]] = {}
    with torch.no_grad():
        for clip in clips:
            data = build_cache(clip, Path(args.videos), Path(args.cache), holder)
            if args.tta:
                build_tta_cache(clip, data, Path(args.cache), holder)
            if args.cache_only:
                continue
            scores: dict[str, list[float]] = {}
            for k in range(len(data["rife"])):
                ctx = Ctx(data, k)
                for key, frame in make_variants(ctx, names).items():
                    scores.setdefault(key, []).append(psnr(to_uint8(frame), ctx.middle))
            results[clip] = {key: float(np.mean(v)) for key, v in scores.items()}
            print(f"# {clip} done", flush=True)
    if args.cache_only:
        return
    report(results, clips, names)


def report(results, clips, names):
    short = {c: c.split(".")[0][:6] for c in clips}
    held = [c for c in HELD_OUT if c in clips]
    head = f"{'variant':<34}" + "".join(f"{short[c]:>8}" for c in clips)
    head += f"{'held':>8}" if held else ""
    tune = [c for c in clips if c not in HELD_OUT]
    head += f"{'tune':>8}" if tune and held else ""
    head += f"{'mean':>8}{'margin':>8}"
    print(head)
    for name in names:
        row = [results[c][name] for c in clips]
        line = f"{name:<34}" + "".join(f"{v:8.3f}" for v in row)
        if held:
            line += f"{np.mean([results[c][name] for c in held]):8.3f}"
            if tune:
                line += f"{np.mean([results[c][name] for c in tune]):8.3f}"
        margin = ""
        if all("dis" in results[c] and "rife" in results[c] for c in clips):
            margin = f"{min(results[c][name] - max(results[c]['dis'], results[c]['rife']) for c in clips):8.3f}"
        print(line + f"{np.mean(row):8.3f}" + margin, flush=True)


if __name__ == "__main__":
    main()
