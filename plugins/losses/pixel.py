"""Per-pixel losses: `mse` (the seed's, which learns a blurred average), `l1`, `charbonnier`."""
import torch

from vnn_cli import register_loss


@register_loss("mse")
def mse():
    return lambda prediction, target: torch.mean((prediction - target) ** 2)


@register_loss("l1")
def l1():
    return lambda prediction, target: torch.mean(torch.abs(prediction - target))


@register_loss("charbonnier")
def charbonnier(epsilon: float = 1e-3):
    """A smooth L1: sqrt(d² + ε²), robust to outliers like L1 but differentiable at zero."""
    return lambda prediction, target: torch.mean(torch.sqrt((prediction - target) ** 2 + epsilon**2))
