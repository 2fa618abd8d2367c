"""benchmarks/fashion_cnn_time_to_91.py without timing anything: its arguments, its recipes, its refusal of
missing or stand-in data, and both recipes' training code on a tiny made-up data set (the GPU recipe's bf16
autocast and channels_last run on the CPU here)."""

import importlib.util
import sys
import types
from pathlib import Path

import pytest
import torch
from torch.utils.data import TensorDataset

from workshop_utils.architectures import COMPACT_CNN_RECIPE

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "fashion_cnn_time_to_91.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("fashion_cnn_time_to_91", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module   # its dataclass looks its module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


@pytest.fixture
def keep_environment(monkeypatch):
    """main() sets WORKSHOP_SMOKE and WORKSHOP_REAL_DATA_ONLY: registering them here restores them afterwards."""
    monkeypatch.setenv("WORKSHOP_SMOKE", "1")
    monkeypatch.setenv("WORKSHOP_REAL_DATA_ONLY", "1")


def test_arguments_defaults_and_overrides(bench):
    arguments = bench.parse_arguments([])
    assert (arguments.recipe, arguments.repeats, arguments.target, arguments.compile) == ("auto", 1, 0.91, False)
    arguments = bench.parse_arguments(["--device", "cpu", "--threads", "2", "--repeats", "3", "--recipe", "gpu",
                                       "--batch-size", "64", "--channels-last", "no", "--autocast", "none"])
    recipe = bench.choose_recipe(arguments.recipe, "cpu", arguments)
    assert (recipe["name"], recipe["batch_size"], recipe["channels_last"], recipe["autocast"]) == ("gpu", 64, False,
                                                                                                  "none")
    assert recipe["epochs"] == bench.GPU_RECIPE["epochs"]


@pytest.mark.parametrize("bad", [["--repeats", "0"], ["--threads", "0"], ["--epochs", "0"], ["--target", "91"],
                                 ["--recipe", "fast"], ["--autocast", "int8"]])
def test_bad_arguments_stop_with_a_message(bench, bad, capsys):
    with pytest.raises(SystemExit) as stopped:
        bench.parse_arguments(bad)
    assert stopped.value.code == 2
    assert bad[0] in capsys.readouterr().err


def test_auto_recipe_follows_the_device(bench):
    assert bench.choose_recipe("auto", "cuda")["name"] == "gpu"
    assert bench.choose_recipe("auto", "cpu")["name"] == "cpu"
    assert bench.choose_recipe("auto", "mps")["name"] == "cpu"
    cpu = bench.choose_recipe("cpu", "cuda")
    assert {k: cpu[k] for k in COMPACT_CNN_RECIPE} == COMPACT_CNN_RECIPE
    with pytest.raises(ValueError, match="Unknown recipe"):
        bench.choose_recipe("fast", "cpu")


def test_without_the_real_data_it_prints_no_time(bench, keep_environment, monkeypatch, capsys):
    import workshop_utils.data as data

    def unavailable(**_):
        raise data.DataUnavailable("The real Fashion-MNIST data set is not available.")

    monkeypatch.setattr(data, "load_fashion_mnist", unavailable)
    assert bench.main(["--device", "cpu"]) == 2
    output = capsys.readouterr()
    assert "time to" not in output.out and "Fashion-MNIST" in output.err


def test_it_refuses_the_stand_in(bench, keep_environment, monkeypatch, capsys):
    import workshop_utils.data as data

    monkeypatch.setattr(data, "load_fashion_mnist", lambda **_: types.SimpleNamespace(is_standin=True))
    assert bench.main(["--device", "cpu"]) == 2
    output = capsys.readouterr()
    assert "time to" not in output.out and "stand-in" in output.err


def tiny_fashion(count=48, seed=0):
    """Made-up 28 x 28 images whose class is the brightness of their top rows: learnable in a few steps."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(count) % 2
    images = torch.rand(count, 1, 28, 28, generator=generator) * 0.2
    images[:, :, :8] += labels.view(-1, 1, 1, 1) * 0.8
    return images, labels


def test_auto_autocast_uses_bfloat16_only_where_it_is_native(bench, monkeypatch):
    monkeypatch.setattr(bench, "native_cpu_bfloat16", lambda: False)
    assert bench.autocast_dtype("auto", "cpu") is None
    assert bench.autocast_dtype("auto", "mps") is None
    monkeypatch.setattr(bench, "native_cpu_bfloat16", lambda: True)
    assert bench.autocast_dtype("auto", "cpu") is torch.bfloat16
    assert bench.autocast_dtype("none", "cuda") is None and bench.autocast_dtype("float16") is torch.float16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)   # a T4: float16
    assert bench.autocast_dtype("auto", "cuda") is torch.float16


@pytest.mark.parametrize("recipe_name, autocast", [("cpu", "none"), ("cpu", "bfloat16"), ("gpu", "bfloat16"),
                                                   ("gpu", "float16")])
def test_each_recipe_trains_and_tests_on_the_cpu(bench, recipe_name, autocast):
    torch.set_num_threads(1)
    images, labels = tiny_fashion()
    recipe = {**bench.choose_recipe(recipe_name, "cpu"), "epochs": 2, "batch_size": 16, "autocast": autocast}
    lines = []
    run = bench.train_and_test(TensorDataset(images, labels), images[:20], labels[:20], recipe=recipe,
                               device=torch.device("cpu"), seed=0, log=lines.append)
    assert len(run.accuracies) == len(run.seconds) == len(run.cpu_seconds) == 2
    assert all(0 <= accuracy <= 1 for accuracy in run.accuracies)
    assert run.seconds == sorted(run.seconds) and len(lines) == 3   # header and one row per epoch
    assert run.reached(2.0) is None and run.reached(0.0) == 0


def test_it_stops_at_the_target_and_reports_the_first_epoch(bench):
    run = bench.Run(seed=0, accuracies=[0.85, 0.912, 0.905, 0.93], seconds=[1, 2, 3, 4], cpu_seconds=[1, 2, 3, 4])
    assert run.reached(0.91) == 1
    assert run.reached(0.95) is None


def test_test_accuracy_counts_correct_answers(bench):
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
    with torch.no_grad():
        model[1].weight.copy_(torch.tensor([[1.0, 0, 0, 0], [0, 1.0, 0, 0]]))
        model[1].bias.zero_()
    images = torch.tensor([[1.0, 0, 0, 0], [0, 1.0, 0, 0], [1.0, 0, 0, 0], [0, 2.0, 0, 0]]).view(4, 1, 2, 2)
    labels = torch.tensor([0, 1, 1, 1])
    recipe = {"autocast": "none"}
    assert bench.measure_test_accuracy(model, images, labels, recipe=recipe, batch_size=3) == pytest.approx(0.75)
