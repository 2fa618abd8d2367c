"""Device choice, environment report, worker counts and seeding."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from workshop_utils import device as device_mod
from workshop_utils.seeding import make_generator, seed_everything


def test_pick_device_on_this_machine_explains_itself(monkeypatch):
    monkeypatch.delenv("WORKSHOP_DEVICE", raising=False)
    choice = device_mod.pick_device()
    expected = "cuda" if torch.cuda.is_available() else ("mps" if device_mod._mps_available() else "cpu")
    assert choice.device.type == expected
    assert len(choice.reason) > 20


def test_override_to_cpu_and_unavailable_device(monkeypatch):
    monkeypatch.setenv("WORKSHOP_DEVICE", "CPU")
    assert device_mod.pick_device().device.type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="not available here; available: cpu"):
            device_mod.pick_device("cuda")
    with pytest.raises(ValueError, match="Unknown device 'tpu'"):
        device_mod.pick_device("tpu")


def test_environment_report_has_the_facts(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKSHOP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("WORKSHOP_DEVICE", raising=False)
    report = device_mod.environment_report()
    for key in ("Python", "torch", "torchvision", "ipywidgets", "device", "why", "data cache", "running in"):
        assert report[key], key
    assert report["data cache"] == str(tmp_path.resolve())
    text = device_mod.format_report(report)
    assert "torch" in text and torch.__version__ in text


def test_safe_num_workers():
    workers, reason = device_mod.safe_num_workers()
    assert workers >= 0 and reason
    assert device_mod.safe_num_workers(3)[0] == 3  # not in a notebook here: as asked
    with pytest.raises(ValueError):
        device_mod.safe_num_workers(-1)


@pytest.mark.parametrize("platform_name, version, method", [
    ("linux", (3, 13), "fork"),          # Colab: notebook classes reach fork workers
    ("linux", (3, 14), "forkserver"),    # Python 3.14 changed Linux's default: workers pickle like spawn
    ("darwin", (3, 12), "spawn"),
    ("win32", (3, 11), "spawn"),
])
def test_default_start_method_follows_the_python_version(platform_name, version, method):
    assert device_mod.default_start_method(platform_name, version) == method


def _draws(seed):
    generator = seed_everything(seed)
    import random
    return (random.random(), float(np.random.rand()), torch.rand(3).tolist(),
            torch.randperm(10, generator=generator).tolist())


def test_seed_everything_repeats_every_generator():
    assert _draws(7) == _draws(7)
    assert _draws(7) != _draws(8)


def test_make_generator_and_bad_seed():
    assert torch.equal(torch.randperm(20, generator=make_generator(3)),
                       torch.randperm(20, generator=make_generator(3)))
    with pytest.raises(ValueError):
        seed_everything(-1)


def test_same_numbers_in_two_fresh_processes():
    """What 'a notebook prints the same numbers twice' means: two separate interpreters agree."""
    code = ("from workshop_utils.seeding import seed_everything; import torch; seed_everything(0);"
            "m = torch.nn.Linear(4, 2); x = torch.randn(8, 4); print(m(x).sum().item())")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2)]
    assert runs[0] == runs[1] and runs[0].strip()


# --------------------------------------------------------------------------------------------------
# outputs_agree: a tolerance that fits the dtype and the device
# --------------------------------------------------------------------------------------------------

def round_mantissa(tensor, bits):
    """float32 rounded to ``bits`` bits of mantissa (to nearest): TF32 keeps 10, bfloat16 7."""
    as_int = tensor.float().contiguous().view(torch.int32)
    dropped = 23 - bits
    return ((as_int + (1 << (dropped - 1))) & ~((1 << dropped) - 1)).view(torch.float32)


def emulate_low_precision(model, bits):
    """Round every convolution's and linear layer's inputs and weights to ``bits`` bits, as TF32 (10) or
    bfloat16 (7) tensor cores do before they multiply (they add up in float32)."""
    for module in model.modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
            module.weight.data = round_mantissa(module.weight.data, bits)
            module.register_forward_pre_hook(lambda layer, inputs: (round_mantissa(inputs[0], bits),))
    return model


@pytest.fixture(scope="module")
def resnet_outputs():
    """A ResNet-18 in eval mode (as notebook 06 uses it), some inputs and its exact float32 outputs."""
    import copy

    import torchvision

    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=4).eval()
    inputs = torch.randn(8, 3, 32, 32)
    with torch.no_grad():
        exact = model(inputs)
        tf32 = emulate_low_precision(copy.deepcopy(model), 10)(inputs)
        bf16 = emulate_low_precision(copy.deepcopy(model), 7)(inputs)
        train_mode = copy.deepcopy(model).train()(inputs)  # batch statistics instead of the stored ones
        unnormalized = model(inputs * 0.229 + 0.45)  # images not normalized like the training images
    return {"exact": exact, "tf32": tf32, "bf16": bf16, "train mode": train_mode, "unnormalized": unnormalized}


def test_tf32_noise_agrees_on_a_gpu_but_not_on_the_cpu(resnet_outputs):
    exact, tf32 = resnet_outputs["exact"], resnet_outputs["tf32"]
    assert not torch.allclose(tf32, exact, atol=1e-4)  # what notebook 06 asserted, false on a GPU
    for device in ("cuda", "mps"):
        assert device_mod.outputs_agree(tf32, exact, device=device)
    comparison = device_mod.compare_outputs(tf32, exact, device="cpu")
    assert not comparison and comparison.tolerance == device_mod.RELATIVE_TOLERANCES["float32 on cpu"]
    assert "float32 on cpu" in str(comparison)
    assert device_mod.outputs_agree(exact.clone(), exact)  # same kernels: agree everywhere


def test_bfloat16_noise_needs_the_bfloat16_tolerance(resnet_outputs):
    exact, bf16 = resnet_outputs["exact"], resnet_outputs["bf16"]
    assert device_mod.outputs_agree(bf16, exact, device="cuda", dtype=torch.bfloat16)
    assert device_mod.outputs_agree(bf16.bfloat16(), exact, device="cuda")  # dtype read from the tensors
    assert not device_mod.outputs_agree(bf16, exact, device="cpu")


@pytest.mark.parametrize("mistake", ["train mode", "unnormalized"])
@pytest.mark.parametrize("device, dtype", [("cpu", None), ("cuda", None), ("cuda", torch.float16),
                                           ("cuda", torch.bfloat16), ("mps", None)])
def test_a_real_mistake_never_agrees(resnet_outputs, mistake, device, dtype):
    assert not device_mod.outputs_agree(resnet_outputs[mistake], resnet_outputs["exact"], device=device, dtype=dtype)


def test_outputs_agree_edge_cases():
    ones = torch.ones(3)
    assert not device_mod.outputs_agree(ones, torch.ones(4))
    assert "different shapes" in device_mod.compare_outputs(ones, torch.ones(1, 3)).why
    assert not device_mod.outputs_agree(torch.tensor([1.0, float("nan")]), torch.tensor([1.0, float("nan")]))
    assert device_mod.outputs_agree(torch.zeros(3), torch.zeros(3))
    assert device_mod.outputs_agree(torch.zeros(0), torch.zeros(0))
    near_zero = torch.tensor([1.0, 1e-7])  # measured against the largest output, not element by element
    assert device_mod.outputs_agree(near_zero, torch.tensor([1.0, 2e-7]))
    assert device_mod.outputs_agree(ones.double(), ones.double() + 1e-12)
    assert not device_mod.outputs_agree(ones.double(), ones.double() + 1e-6)
    tolerances = [device_mod.comparison_tolerance(dtype, kind)[0] for dtype, kind in
                  [(torch.float64, "cpu"), (torch.float32, "cpu"), (torch.float32, "cuda"), (torch.float16, "cuda"),
                   (torch.bfloat16, "cuda")]]
    assert tolerances == sorted(tolerances)  # less precise arithmetic, looser tolerance


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU: the real TF32 difference")
def test_on_cuda_the_cached_feature_path_agrees_with_the_full_forward_pass():
    import torchvision

    from workshop_utils import transfer

    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=4).eval().cuda()
    images = torch.randn(300, 3, 32, 32)
    features = transfer.extract_features(model, "resnet18", images, batch_size=256, device="cuda")
    with torch.no_grad():
        cached, full = model.fc(features.cuda()), model(images.cuda())
    assert device_mod.outputs_agree(cached, full), device_mod.compare_outputs(cached, full)
