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
