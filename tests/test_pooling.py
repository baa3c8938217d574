"""`block_mean`, the reduction DIS's frames and the self-grading's checks go through: the same
numbers as torch's average pooling (and area resize) in either memory layout, at any size."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from vnn_cli.nn.pooling import block_mean


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("shape", [(1, 3, 736, 1280), (2, 3, 64, 96), (1, 1, 36, 64), (1, 3, 37, 65)])
@pytest.mark.parametrize("factor", [2, 3, 4, 8])
def test_block_mean_is_average_pooling(shape, channels_last, factor):
    x = torch.rand(*shape, generator=torch.Generator().manual_seed(factor))
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    out = block_mean(x, factor)
    expected = F.avg_pool2d(x, factor, ceil_mode=True)
    assert out.shape == expected.shape
    assert (out - expected).abs().max() < 1e-6
    if not shape[-2] % factor and not shape[-1] % factor:  # the self-grading's area resize
        assert (out - F.interpolate(x, scale_factor=1 / factor, mode="area")).abs().max() < 1e-6
    if channels_last:  # the layout is kept: what comes after expects channels_last on a CPU
        assert out.is_contiguous(memory_format=torch.channels_last)
