"""Loss plugins: the common contract, a property of each anti-blur loss, the spec parser, and the
perceptual loss's VGG16 loading from a file written here (no pretrained weights anywhere)."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F


from vnn_cli.core import plugins
from vnn_cli.core.errors import SettingsError, UnknownNameError, WeightsError
from vnn_cli.train.losses import build_loss, parse_spec
from vnn_cli.nn.vgg import ENV_VAR, IMAGENET_MEAN, IMAGENET_STD, VGG16Features

LOSSES = ["mse", "l1", "charbonnier", "laplacian", "census", "ssim", "perceptual"]

# torchvision vgg16().features: (index, out channels, in channels) of its 13 convolutions.
VGG16_CONVS = [(0, 64, 3), (2, 64, 64), (5, 128, 64), (7, 128, 128), (10, 256, 128), (12, 256, 256), (14, 256, 256),
               (17, 512, 256), (19, 512, 512), (21, 512, 512), (24, 512, 512), (26, 512, 512), (28, 512, 512)]


@pytest.fixture(scope="module", autouse=True)
def loaded_plugins():
    plugins.load_plugins(strict=False)


def random_vgg16_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    """What `torchvision.models.vgg16().state_dict()` holds, with random values (He-scaled so the
    activations neither vanish nor explode) and a tiny stand-in for the classifier, which is ignored."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for index, cout, cin in VGG16_CONVS:
        state[f"features.{index}.weight"] = torch.randn(cout, cin, 3, 3, generator=g) * (2 / (9 * cin)) ** 0.5
        state[f"features.{index}.bias"] = torch.randn(cout, generator=g) * 0.01
    state["classifier.0.weight"] = torch.randn(4, 8, generator=g)
    state["classifier.0.bias"] = torch.zeros(4)
    return state


@pytest.fixture(scope="module")
def vgg_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("vgg") / "vgg16.pth"
    torch.save(random_vgg16_state_dict(), path)
    return path


def make_loss(name: str, vgg_file):
    return build_loss(name, vgg_weights=vgg_file)


def textured(n: int = 2, h: int = 48, w: int = 64, seed: int = 0) -> torch.Tensor:
    """Flat patches with edges between them, plus a little fine texture: like a video frame."""
    g = torch.Generator().manual_seed(seed)
    img = torch.full((n, 3, h, w), 0.5)
    for _ in range(14):
        y, x = torch.randint(0, h - 6, (2,), generator=g).tolist()
        size = int(torch.randint(6, 20, (1,), generator=g))
        img[..., y : y + size, x : x + size] = torch.rand(n, 3, 1, 1, generator=g)
    return (img + 0.03 * torch.rand(n, 3, h, w, generator=g)).clamp(0, 1)


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    r = int(3 * sigma)
    xs = torch.arange(-r, r + 1, dtype=x.dtype)
    g = torch.exp(-(xs**2) / (2 * sigma**2))
    g = g / g.sum()
    kernel = (g[:, None] * g[None, :]).expand(3, 1, 2 * r + 1, 2 * r + 1)
    return F.conv2d(F.pad(x, (r, r, r, r), mode="reflect"), kernel, groups=3)


# ---- the contract every loss keeps ---------------------------------------------------------------


@pytest.mark.parametrize("name", LOSSES)
def test_loss_is_a_scalar_zero_for_identical_frames_and_positive_otherwise(name, vgg_file):
    loss = make_loss(name, vgg_file)
    target = textured()
    same = loss(target.clone(), target)
    different = loss(textured(seed=1), target)
    assert same.ndim == 0 and different.ndim == 0
    floor = 1.001e-3 if name == "charbonnier" else 1e-6  # charbonnier's sqrt(0 + ε²) = ε
    assert float(same) <= floor
    assert float(different) > float(same) + 1e-3


@pytest.mark.parametrize("name", LOSSES)
def test_gradients_reach_the_prediction(name, vgg_file):
    loss = make_loss(name, vgg_file)
    target = textured()
    prediction = gaussian_blur(target, 1.0).requires_grad_(True)
    loss(prediction, target).backward()
    assert prediction.grad is not None
    assert torch.isfinite(prediction.grad).all()
    assert prediction.grad.abs().sum() > 0


@pytest.mark.parametrize("name", LOSSES)
def test_loss_runs_under_cpu_autocast(name, vgg_file):
    loss = make_loss(name, vgg_file)
    target = textured(n=1)
    prediction = gaussian_blur(target, 1.0).requires_grad_(True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        value = loss(prediction, target)
    value.backward()
    reference = float(loss(prediction.detach(), target))
    assert torch.isfinite(value)
    assert float(value.detach()) == pytest.approx(reference, rel=0.1)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("name", LOSSES)
def test_loss_runs_on_cuda_in_float16_autocast(name, vgg_file):
    loss = make_loss(name, vgg_file).cuda()
    target = textured(n=1).cuda()
    prediction = gaussian_blur(target.cpu(), 1.0).cuda().requires_grad_(True)
    with torch.autocast("cuda", dtype=torch.float16):
        value = loss(prediction, target)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(prediction.grad).all()


# ---- what each anti-blur loss is for -------------------------------------------------------------


def test_census_ignores_a_brightness_offset_but_not_a_blur(vgg_file):
    census = make_loss("census", vgg_file)
    target = textured() * 0.8
    assert float(census(target + 0.15, target)) < 1e-5
    assert float(census(gaussian_blur(target, 1.5), target)) > 0.05
    assert float(make_loss("mse", vgg_file)(target + 0.15, target)) > 0.02  # a pixel loss does see the offset


def test_laplacian_weighs_blur_against_noise_more_than_its_pixel_counterpart(vgg_file):
    """At equal MSE, L1-type losses all punish dense noise more than blur; the pyramid counts a
    blur's wide error again at each coarser scale, so its blur/noise ratio is clearly above L1's."""
    target = textured(seed=3)
    blurred = gaussian_blur(target, 2.0)
    error = torch.sqrt(((blurred - target) ** 2).mean())
    noise = torch.randn(target.shape, generator=torch.Generator().manual_seed(0))
    noisy = target + noise / noise.pow(2).mean().sqrt() * error
    ratio = {name: float(make_loss(name, vgg_file)(blurred, target) / make_loss(name, vgg_file)(noisy, target))
             for name in ("mse", "l1", "laplacian")}
    assert ratio["mse"] == pytest.approx(1.0, abs=1e-4)
    assert ratio["laplacian"] > 1.05 * ratio["l1"]


@pytest.mark.parametrize("name", ["l1", "charbonnier", "laplacian", "census"])
def test_only_mse_prefers_the_grey_average_of_two_possible_frames(name, vgg_file):
    """The seed's failure in miniature: the middle frame is one of two shifted versions. MSE's
    expected loss is twice as high for a sharp guess as for their blurred average, so it learns
    the average; the anti-blur losses do not prefer the average."""
    wide = textured(n=1, w=72, seed=5)
    first, second = wide[..., :64], wide[..., 8:72]
    average = (first + second) / 2

    def expected(loss, guess):
        return float(loss(guess, first) + loss(guess, second)) / 2

    mse, other = make_loss("mse", vgg_file), make_loss(name, vgg_file)
    assert expected(mse, first) / expected(mse, average) == pytest.approx(2.0, rel=1e-3)
    assert expected(other, first) / expected(other, average) <= 1.01


def test_ssim_loss_agrees_with_the_ssim_metric(vgg_file):
    from vnn_cli.eval.metrics import ssim

    target = textured(n=1, seed=2)
    prediction = gaussian_blur(target, 1.2)
    as_uint8 = [(x[0].permute(1, 2, 0).numpy() * 255).round().astype("uint8") for x in (prediction, target)]
    loss = float(make_loss("ssim", vgg_file)(prediction, target))
    assert 1 - loss == pytest.approx(ssim(*as_uint8), abs=0.01)


# ---- the spec parser -----------------------------------------------------------------------------


def test_spec_combines_weighted_terms(vgg_file):
    assert parse_spec("charbonnier+0.1*census") == [(1.0, "charbonnier"), (0.1, "census")]
    target, prediction = textured(), textured(seed=1)
    combined = build_loss("charbonnier+0.1*census")
    expected = float(make_loss("charbonnier", vgg_file)(prediction, target)) + 0.1 * float(make_loss("census", vgg_file)(prediction, target))
    assert float(combined(prediction, target)) == pytest.approx(expected, rel=1e-5)
    assert set(combined.last_terms) == {"charbonnier", "census"}


@pytest.mark.parametrize("spec", ["", "charbonnier+", "0.1*", "2*mse*3", "mse l1", "*census"])
def test_bad_spec_is_a_settings_error(spec):
    with pytest.raises(SettingsError):
        build_loss(spec)


def test_unknown_loss_suggests_the_close_name():
    with pytest.raises(UnknownNameError, match="did you mean census"):
        build_loss("charbonnier+0.1*censsus")


# ---- perceptual: VGG16 weights from a local file -------------------------------------------------


def test_vgg_features_match_a_manual_relu1_2(vgg_file):
    vgg = VGG16Features.from_file(vgg_file, layers=("relu1_2", "relu2_2", "relu3_3", "relu4_3"))
    state = random_vgg16_state_dict()
    x = textured(n=1, h=32, w=32)
    out = vgg(x)
    normalised = (x - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    manual = F.relu(F.conv2d(normalised, state["features.0.weight"], state["features.0.bias"], padding=1))
    manual = F.relu(F.conv2d(manual, state["features.2.weight"], state["features.2.bias"], padding=1))
    torch.testing.assert_close(out["relu1_2"], manual, rtol=1e-4, atol=1e-5)
    assert out["relu2_2"].shape == (1, 128, 16, 16)
    assert out["relu3_3"].shape == (1, 256, 8, 8)
    assert out["relu4_3"].shape == (1, 512, 4, 4)
    assert not any(p.requires_grad for p in vgg.parameters())


def test_vgg_loads_safetensors_and_a_bare_features_state_dict(tmp_path):
    from safetensors.torch import save_file

    state = random_vgg16_state_dict(seed=1)
    bare = {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")}
    save_file(bare, tmp_path / "features.safetensors")
    vgg = VGG16Features.from_file(tmp_path / "features.safetensors")
    torch.testing.assert_close(vgg.features[0].weight, state["features.0.weight"])


def test_perceptual_reads_the_weights_from_the_environment(vgg_file, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(vgg_file))
    loss = build_loss("perceptual")
    target = textured(n=1)
    assert float(loss(gaussian_blur(target, 1.0), target)) > 0


def test_perceptual_without_weights_says_how_to_give_them(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(SettingsError) as error:
        build_loss("charbonnier+0.1*perceptual")
    message = str(error.value)
    assert "VGG16" in message and "torchvision" in message
    assert ENV_VAR in message and "vgg_weights" in message
    assert "nothing is downloaded" in message


def test_perceptual_rejects_a_file_with_the_wrong_keys(tmp_path):
    path = tmp_path / "not_vgg.pth"
    torch.save({"encoder.0.weight": torch.zeros(8, 3, 3, 3), "encoder.0.bias": torch.zeros(8)}, path)
    with pytest.raises(WeightsError, match=r"not a torchvision vgg16 state_dict: missing features\.0\.weight"):
        build_loss("perceptual", vgg_weights=path)


def test_perceptual_rejects_wrong_shapes_a_missing_file_and_garbage(tmp_path):
    state = random_vgg16_state_dict()
    state["features.2.weight"] = torch.zeros(32, 64, 3, 3)
    torch.save(state, tmp_path / "wrong_shape.pth")
    with pytest.raises(WeightsError, match=r"features\.2\.weight has shape \(32, 64, 3, 3\)"):
        build_loss("perceptual", vgg_weights=tmp_path / "wrong_shape.pth")
    with pytest.raises(WeightsError, match="does not exist"):
        build_loss("perceptual", vgg_weights=tmp_path / "absent.pth")
    (tmp_path / "garbage.pth").write_bytes(b"not a pickle at all")
    with pytest.raises(WeightsError, match="cannot read VGG16 weights"):
        build_loss("perceptual", vgg_weights=tmp_path / "garbage.pth")
