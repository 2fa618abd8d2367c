"""fit() and its parts: 03's loop, the history, early stopping with the best weights back, checkpoints,
schedules, AMP decisions, W&B logging, and clear errors."""

import copy
import inspect
import math

import pandas as pd
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from workshop_utils import training
from workshop_utils.checkers.training_loop import reference_evaluate, reference_train_one_epoch
from workshop_utils.checkpoints import load_checkpoint
from workshop_utils.data import TensorBatchLoader
from workshop_utils.training import (AmpChoice, EarlyStopping, FitResult, TrainingDiverged, choose_amp,
                                     evaluate_loss_accuracy, fit, resolve_device, train_epoch)

QUIET = {"live_plot": False, "progress": False}


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see tests/conftest.py


@pytest.fixture(autouse=True)
def train_on_the_cpu(monkeypatch):
    """fit() without device= picks the best device; these tests check exact numbers of float32 training, so
    they pin the CPU even on a GPU machine (where fit would train under autocast). CUDA has its own tests below."""
    monkeypatch.setenv("WORKSHOP_DEVICE", "cpu")


def blobs(n_per_class=40, seed=0):
    """Three well-separated 2-D clusters: an easy problem."""
    generator = torch.Generator().manual_seed(seed)
    centers = torch.tensor([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    labels = torch.arange(3).repeat(n_per_class)
    return centers[labels] + 0.5 * torch.randn(len(labels), 2, generator=generator), labels


def small_model(seed=0, dropout=0.0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, 3))


def loaders():
    inputs, labels = blobs()
    train = TensorBatchLoader(inputs, labels, batch_size=32, shuffle=True, seed=0)
    val = TensorBatchLoader(*blobs(10, seed=1), batch_size=64)
    contradicting = TensorBatchLoader(inputs, (labels + 1) % 3, batch_size=64)  # learning y makes this worse
    return train, val, contradicting


def weights(model):
    return {name: value.detach().clone() for name, value in model.state_dict().items()}


def same_weights(first, second):
    return first.keys() == second.keys() and all(torch.equal(first[key], second[key]) for key in first)


# --------------------------------------------------------------------------------------------------
# The loop of notebook 03
# --------------------------------------------------------------------------------------------------

def test_train_epoch_is_notebook_03s_loop_and_counts_accuracy():
    inputs, labels = blobs()
    loader = DataLoader(TensorDataset(inputs, labels), batch_size=50)  # 50, 50, 20: a weighted mean matters
    model = small_model()
    reference = copy.deepcopy(model)
    model.eval()  # as evaluation leaves it: train_epoch must switch training mode back on
    loss, accuracy = train_epoch(model, loader, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1))
    expected = reference_train_one_epoch(reference, loader, nn.CrossEntropyLoss(),
                                         torch.optim.SGD(reference.parameters(), lr=0.1))
    assert loss == pytest.approx(expected, rel=1e-6)
    assert same_weights(weights(model), weights(reference))
    assert model.training

    # accuracy: counted per batch with the weights of that moment, so replay the epoch by hand
    replay = small_model()
    optimizer = torch.optim.SGD(replay.parameters(), lr=0.1)
    correct = 0
    for batch_inputs, batch_labels in loader:
        optimizer.zero_grad()
        outputs = replay(batch_inputs)
        correct += (outputs.argmax(1) == batch_labels).sum().item()
        nn.functional.cross_entropy(outputs, batch_labels).backward()
        optimizer.step()
    assert accuracy == pytest.approx(correct / len(labels))


def test_evaluate_matches_notebook_03_and_changes_nothing():
    inputs, labels = blobs()
    loader = DataLoader(TensorDataset(inputs, labels), batch_size=50)
    model = small_model(dropout=0.5)
    model.train()
    before = weights(model)
    loss, accuracy = evaluate_loss_accuracy(model, loader, nn.CrossEntropyLoss())
    assert (loss, accuracy) == pytest.approx(reference_evaluate(copy.deepcopy(model), loader, nn.CrossEntropyLoss()))
    assert not model.training and same_weights(before, weights(model))
    assert evaluate_loss_accuracy(model, loader) == pytest.approx((loss, accuracy))  # default loss: cross-entropy


def test_accuracy_is_nan_when_outputs_are_not_class_scores():
    inputs = torch.randn(20, 2)
    targets = inputs.sum(dim=1, keepdim=True)
    model = nn.Linear(2, 1)
    loss, accuracy = evaluate_loss_accuracy(model, [(inputs, targets)], nn.MSELoss())
    assert loss > 0 and math.isnan(accuracy)


def test_the_loop_runs_under_autocast_and_with_a_grad_scaler():
    # the CUDA path's code, run on the CPU: autocast (bfloat16) and the GradScaler branch with clipping
    inputs, labels = blobs()
    model = small_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    amp = AmpChoice(True, torch.bfloat16, True, "test")
    scaler = torch.amp.GradScaler("cpu")
    losses = [train_epoch(model, [(inputs, labels)] * 5, nn.CrossEntropyLoss(), optimizer, amp=amp,
                          scaler=scaler, grad_clip=1.0)[0] for _ in range(4)]
    assert losses[-1] < losses[0]
    loss, accuracy = evaluate_loss_accuracy(model, [(inputs, labels)], amp=amp)
    assert math.isfinite(loss) and accuracy > 0.5


# --------------------------------------------------------------------------------------------------
# fit: training, history, reporting
# --------------------------------------------------------------------------------------------------

def test_fit_learns_an_easy_problem_and_the_history_says_so():
    train, val, _ = loaders()
    result = fit(small_model(), train, val, epochs=6, lr=0.02, **QUIET)
    history = result.history
    assert isinstance(result, FitResult) and isinstance(history, pd.DataFrame)
    assert list(history.columns) == ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds"]
    assert history["epoch"].tolist() == list(range(1, 7))
    assert history["train_loss"].iloc[-1] < 0.5 * history["train_loss"].iloc[0]
    assert history["val_acc"].iloc[-1] >= 0.95
    assert history["lr"].tolist() == [0.02] * 6
    assert history["seconds"].is_monotonic_increasing  # cumulative wall time
    assert 0.5 * result.seconds <= history["seconds"].iloc[-1] <= result.seconds
    # the returned model is the best epoch's, in eval mode, and its val numbers are the history's
    assert result.best_epoch == int(history["val_loss"].idxmin()) + 1 and not result.model.training
    assert evaluate_loss_accuracy(result.model, val) == pytest.approx(
        tuple(history.loc[result.best_epoch - 1, ["val_loss", "val_acc"]]), rel=1e-5)
    assert "best val_loss" in repr(result) and len(repr(result)) < 200


def test_without_validation_the_history_has_only_training_columns():
    train, _, _ = loaders()
    result = fit(small_model(), train, epochs=2, **QUIET)
    assert list(result.history.columns) == ["epoch", "train_loss", "train_acc", "lr", "seconds"]
    assert result.best_epoch is None and not result.stopped_early


def test_train_eval_loader_gives_eval_mode_numbers():
    inputs, labels = blobs()
    clean = TensorBatchLoader(inputs, labels, batch_size=64)
    train = TensorBatchLoader(inputs, labels, batch_size=32, shuffle=True, seed=0)
    result = fit(small_model(dropout=0.5), train, epochs=1, train_eval_loader=clean, **QUIET)
    expected = evaluate_loss_accuracy(result.model, clean)
    assert tuple(result.history.loc[0, ["train_loss", "train_acc"]]) == pytest.approx(expected, rel=1e-6)

    running = fit(small_model(dropout=0.5), TensorBatchLoader(inputs, labels, batch_size=32, shuffle=True, seed=0),
                  epochs=1, **QUIET)  # the same training, numbers averaged during the epoch with dropout on
    assert running.history.loc[0, "train_loss"] != pytest.approx(expected[0], rel=1e-3)


def test_fit_works_with_a_dataloader_and_moves_the_model_to_the_device():
    inputs, labels = blobs()
    loader = DataLoader(TensorDataset(inputs, labels), batch_size=32, shuffle=True)
    result = fit(small_model(), loader, loader, epochs=3, lr=0.02, device="cpu", seed=0, **QUIET)
    assert result.device == torch.device("cpu") and len(result.history) == 3
    assert result.history["train_loss"].iloc[-1] < result.history["train_loss"].iloc[0]


def test_the_same_seed_gives_the_same_run():
    def run(used_before):
        inputs, labels = blobs()
        loader = TensorBatchLoader(inputs, labels, batch_size=32, shuffle=True)  # shuffles with the global RNG
        model = small_model(dropout=0.3)
        torch.rand(used_before)  # the global RNG in another state each time: only the seed makes runs repeat
        return fit(model, loader, epochs=3, seed=5, restore_best=False, **QUIET)

    first, second = run(1), run(7)
    columns = ["train_loss", "train_acc", "lr"]
    pd.testing.assert_frame_equal(first.history[columns], second.history[columns])
    assert same_weights(weights(first.model), weights(second.model))


def test_progress_bar_and_live_curves_and_the_final_message(capsys):
    train, _, contradicting = loaders()
    result = fit(small_model(), train, contradicting, epochs=3, lr=0.05, early_stopping_patience=2,
                 live_plot=True, progress=True, title="blobs")
    assert result.curves.redraw_count == 3
    assert result.curves.history["val_loss"].tolist() == pytest.approx(result.history["val_loss"].tolist())
    output = capsys.readouterr()
    assert "blobs" in output.err  # tqdm writes the bar to stderr
    assert "stopped because val_loss did not improve for 2 epochs" in output.out
    assert "holds the weights of epoch 1, the best" in output.out


def test_a_fake_wandb_run_gets_every_epoch_and_training_never_imports_wandb():
    class FakeRun:
        def __init__(self):
            self.logged = []

        def log(self, data, step=None):
            self.logged.append((step, dict(data)))

    run = FakeRun()
    train, val, _ = loaders()
    result = fit(small_model(), train, val, epochs=3, wandb_run=run, **QUIET)
    assert [step for step, _ in run.logged] == [1, 2, 3]
    assert run.logged[-1][1]["val_loss"] == pytest.approx(result.history["val_loss"].iloc[-1])
    assert {"train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds"} <= set(run.logged[0][1])
    assert "import wandb" not in inspect.getsource(training)


# --------------------------------------------------------------------------------------------------
# Early stopping, best weights, checkpoints
# --------------------------------------------------------------------------------------------------

def test_early_stopping_tracker():
    stopper = EarlyStopping("val_loss", patience=2)
    assert [stopper.update(epoch, value) for epoch, value in enumerate([1.0, 0.8, 0.8, 0.9], start=1)] == \
        [True, True, False, False]  # equal is no improvement
    assert (stopper.best_epoch, stopper.best_value, stopper.should_stop) == (2, 0.8, True)

    loss = EarlyStopping("val_loss", patience=2, min_delta=0.01)
    assert [loss.update(epoch, value) for epoch, value in enumerate([1.0, 0.995, 0.98], start=1)] == \
        [True, False, True]

    accuracy = EarlyStopping("val_acc", patience=2, min_delta=0.01)
    assert [accuracy.update(epoch, value) for epoch, value in enumerate([0.5, 0.6, 0.605, 0.608], start=1)] == \
        [True, True, False, False]  # higher is better, by more than min_delta
    assert (accuracy.best_epoch, accuracy.should_stop) == (2, True)
    assert not accuracy.update(5, float("nan")) and accuracy.epochs_without_improvement == 3

    never = EarlyStopping("val_loss", patience=None)
    for epoch in range(1, 20):
        never.update(epoch, float(epoch))
    assert never.best_epoch == 1 and not never.should_stop
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=0)


def _weights_after_one_epoch():
    train, _, _ = loaders()
    return weights(fit(small_model(), train, epochs=1, lr=0.05, restore_best=False, seed=0, **QUIET).model)


def test_early_stopping_stops_and_restores_the_best_epochs_weights():
    train, _, contradicting = loaders()
    result = fit(small_model(), train, contradicting, epochs=10, lr=0.05, early_stopping_patience=2, seed=0, **QUIET)
    assert result.stopped_early and len(result.history) == 3
    assert result.history["val_loss"].is_monotonic_increasing  # the val labels contradict training
    assert result.best_epoch == 1 and result.best_value == pytest.approx(result.history["val_loss"].iloc[0])
    assert same_weights(weights(result.model), _weights_after_one_epoch())


def test_the_best_weights_come_back_without_early_stopping_but_not_with_restore_best_false():
    train, _, contradicting = loaders()
    restored = fit(small_model(), train, contradicting, epochs=3, lr=0.05, seed=0, **QUIET)
    assert not restored.stopped_early and restored.best_epoch == 1
    assert same_weights(weights(restored.model), _weights_after_one_epoch())

    train, _, contradicting = loaders()
    last = fit(small_model(), train, contradicting, epochs=3, lr=0.05, seed=0, restore_best=False, **QUIET)
    assert not same_weights(weights(last.model), _weights_after_one_epoch())


def test_monitoring_val_acc_stops_when_accuracy_stalls():
    train, val, _ = loaders()
    result = fit(small_model(), train, val, epochs=30, lr=0.05, monitor="val_acc", early_stopping_patience=2,
                 **QUIET)
    accuracies = result.history["val_acc"]
    assert result.stopped_early and len(result.history) < 30
    assert result.best_value == accuracies.max() == accuracies.iloc[result.best_epoch - 1]
    assert result.best_epoch == accuracies.idxmax() + 1  # the first epoch that reached it
    assert len(result.history) == result.best_epoch + 2  # then two epochs without improvement


def test_a_checkpoint_is_written_only_when_the_monitored_value_improves(tmp_path, monkeypatch):
    saved_epochs = []
    real_save = training.save_checkpoint

    def spy(path, model, optimizer=None, **extra):
        saved_epochs.append(extra["epoch"])
        return real_save(path, model, optimizer, **extra)

    monkeypatch.setattr(training, "save_checkpoint", spy)
    train, val, contradicting = loaders()
    path = tmp_path / "runs" / "best.pt"
    result = fit(small_model(), train, contradicting, epochs=3, lr=0.05, checkpoint_path=path, **QUIET)
    assert saved_epochs == [1] and result.checkpoint_path == path
    assert sorted(p.name for p in path.parent.iterdir()) == ["best.pt"]  # no temporary files left

    fresh = small_model(seed=9)
    info = load_checkpoint(path, fresh)
    assert info == {"epoch": 1, "monitor": "val_loss", "value": pytest.approx(result.best_value)}
    assert same_weights(weights(fresh), weights(result.model))

    saved_epochs.clear()
    history = fit(small_model(), train, val, epochs=5, lr=0.02, checkpoint_path=path, **QUIET).history
    improved, best = [], math.inf
    for epoch, loss in zip(history["epoch"], history["val_loss"]):
        if loss < best:
            improved.append(epoch)
            best = loss
    assert saved_epochs == improved and len(improved) >= 2


# --------------------------------------------------------------------------------------------------
# Learning-rate schedules
# --------------------------------------------------------------------------------------------------

def test_step_lr_is_stepped_once_per_epoch():
    train, _, _ = loaders()
    result = fit(small_model(), train, epochs=5, lr=0.1, **QUIET,
                 scheduler=lambda optimizer: torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5))
    assert result.history["lr"].tolist() == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])


def test_reduce_lr_on_plateau_gets_the_monitored_value():
    train, _, contradicting = loaders()  # val loss rises from epoch 2: a plateau every epoch after the first
    result = fit(small_model(), train, contradicting, epochs=4, lr=0.1, **QUIET,
                 scheduler=lambda optimizer: torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5,
                                                                                       patience=0))
    assert result.history["lr"].tolist() == pytest.approx([0.1, 0.1, 0.05, 0.025])

    train, val, _ = loaders()  # here the val loss keeps improving: the rate stays
    result = fit(small_model(), train, val, epochs=4, lr=0.01, **QUIET,
                 scheduler=lambda optimizer: torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5,
                                                                                       patience=0))
    assert result.history["val_loss"].is_monotonic_decreasing
    assert result.history["lr"].tolist() == pytest.approx([0.01] * 4)


def test_one_cycle_is_stepped_per_batch():
    train, _, _ = loaders()
    epochs, batches = 3, len(train)

    def one_cycle(optimizer):
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=epochs * batches)

    result = fit(small_model(), train, epochs=epochs, scheduler=one_cycle, scheduler_per_batch=True, **QUIET)
    dummy = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    schedule, expected = one_cycle(dummy), []
    for _ in range(epochs):
        expected.append(dummy.param_groups[0]["lr"])
        for _ in range(batches):
            dummy.step()
            schedule.step()
    assert result.history["lr"].tolist() == pytest.approx(expected)
    assert len(set(expected)) == epochs  # the lr really changes within training


def test_scheduler_mistakes_are_explained():
    train, val, _ = loaders()
    model = small_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    other = torch.optim.lr_scheduler.StepLR(torch.optim.SGD(small_model().parameters(), lr=0.1), 2)
    with pytest.raises(TypeError, match="lambda opt"):
        fit(model, train, epochs=1, scheduler=other, **QUIET)
    mine = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)  # built on fit's optimizer: fine
    assert fit(model, train, epochs=2, optimizer=optimizer, scheduler=mine, **QUIET).history["lr"].tolist() == \
        pytest.approx([0.1, 0.05])
    with pytest.raises(ValueError, match="mode='max'"):
        fit(small_model(), train, val, epochs=1, monitor="val_acc", **QUIET,
            scheduler=lambda opt: torch.optim.lr_scheduler.ReduceLROnPlateau(opt))
    with pytest.raises(ValueError, match="val_loader"):
        fit(small_model(), train, epochs=1, **QUIET,
            scheduler=lambda opt: torch.optim.lr_scheduler.ReduceLROnPlateau(opt))


# --------------------------------------------------------------------------------------------------
# Mixed precision and devices
# --------------------------------------------------------------------------------------------------

def test_amp_decisions():
    for device_type in ("cpu", "mps"):
        off = choose_amp("auto", device_type, bf16_supported=True)
        assert (off.enabled, off.dtype, off.use_scaler) == (False, None, False) and "CUDA" in off.reason
    bf16 = choose_amp("auto", "cuda", bf16_supported=True)
    assert (bf16.enabled, bf16.dtype, bf16.use_scaler) == (True, torch.bfloat16, False)
    fp16 = choose_amp(True, "cuda", bf16_supported=False)
    assert (fp16.enabled, fp16.dtype, fp16.use_scaler) == (True, torch.float16, True)
    assert not choose_amp(False, "cuda", bf16_supported=True).enabled
    for device_type in ("cpu", "mps"):
        with pytest.raises(ValueError, match="CUDA"):
            choose_amp(True, device_type)
    with pytest.raises(ValueError, match="'auto', True or False"):
        choose_amp("yes", "cuda")
    with pytest.raises(ValueError, match="CUDA"):
        fit(small_model(), loaders()[0], epochs=1, device="cpu", amp=True, **QUIET)


@pytest.mark.parametrize("capability, fast", [((7, 5), False), ((8, 0), True), ((9, 0), True)])
def test_bfloat16_counts_only_in_hardware(monkeypatch, capability, fast):
    # a T4 (7.5) emulates bfloat16, slowly, though torch.cuda.is_bf16_supported() says True there
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    assert training.has_fast_bf16(torch.device("cuda")) is fast


@pytest.mark.parametrize("gpu, capability, expected", [
    ("T4", (7, 5), (True, torch.float16, True)),       # float16 tensor cores, bfloat16 only emulated
    ("V100", (7, 0), (True, torch.float16, True)),
    ("A100", (8, 0), (True, torch.bfloat16, False)),   # bfloat16 in hardware: no loss scaling needed
    ("H100", (9, 0), (True, torch.bfloat16, False)),
])
def test_fit_picks_float16_with_a_scaler_on_a_t4_and_bfloat16_from_ampere_on(monkeypatch, gpu, capability, expected):
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)  # what a T4 answers too
    choice = training.amp_for_device("auto", torch.device("cuda"))
    assert (choice.enabled, choice.dtype, choice.use_scaler) == expected, gpu
    assert training.amp_for_device(False, "cuda").enabled is False


def test_cpu_and_mps_never_get_autocast_or_a_grad_scaler(monkeypatch):
    def no_cuda_here(*args, **kwargs):
        raise AssertionError("a CUDA-only query or option was used off CUDA")

    monkeypatch.setattr(torch.cuda, "get_device_capability", no_cuda_here)
    monkeypatch.setattr(training, "make_grad_scaler", no_cuda_here)
    for device in ("cpu", "mps"):
        choice = training.amp_for_device("auto", device)
        assert (choice.enabled, choice.use_scaler) == (False, False) and "CUDA" in choice.reason
        with pytest.raises(ValueError, match="only uses on CUDA"):
            training.amp_for_device(True, device)
    result = fit(small_model(), loaders()[0], epochs=1, device="cpu", **QUIET)  # "auto": no scaler made
    assert not result.amp.enabled


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU: the real capability query")
def test_on_this_gpu_bfloat16_only_with_compute_capability_8_or_newer():
    choice = training.amp_for_device("auto", "cuda")
    major, _ = torch.cuda.get_device_capability()
    assert choice.dtype == (torch.bfloat16 if major >= 8 else torch.float16) and choice.use_scaler == (major < 8)


def test_resolve_device_keeps_a_gpu_model_where_it_is_and_otherwise_picks(monkeypatch):
    monkeypatch.setattr(training, "pick_device", lambda: type("Choice", (), {"device": torch.device("cpu")})())
    assert resolve_device(small_model()) == torch.device("cpu")
    assert resolve_device(small_model(), "cpu") == torch.device("cpu")
    meta = nn.Linear(2, 2, device="meta")  # stands in for a model on a GPU
    assert resolve_device(meta) == torch.device("meta")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_fit_on_cuda_uses_mixed_precision(monkeypatch):
    inputs, labels = blobs()
    train = TensorBatchLoader(inputs, labels, batch_size=32, shuffle=True, seed=0, device="cuda")
    val = DataLoader(TensorDataset(*blobs(10, seed=1)), batch_size=64)  # CPU batches, moved by fit
    result = fit(small_model(), train, val, epochs=5, lr=0.02, device="cuda", **QUIET)
    assert result.amp.enabled and result.amp.dtype in (torch.bfloat16, torch.float16)
    assert next(result.model.parameters()).device.type == "cuda"
    assert result.history["val_acc"].iloc[-1] >= 0.9
    monkeypatch.setattr(training, "has_fast_bf16", lambda device: False)  # as on a T4: float16 + GradScaler
    fp16 = fit(small_model(), train, val, epochs=5, lr=0.02, device="cuda", amp=True, grad_clip=1.0, **QUIET)
    assert (fp16.amp.dtype, fp16.amp.use_scaler) == (torch.float16, True)
    assert fp16.history["val_acc"].iloc[-1] >= 0.9


# --------------------------------------------------------------------------------------------------
# Clear errors
# --------------------------------------------------------------------------------------------------

def test_bad_arguments_are_explained():
    train, _, _ = loaders()
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        fit(small_model(), train, epochs=0, **QUIET)
    with pytest.raises(ValueError, match="monitor must be one of"):
        fit(small_model(), train, train, epochs=1, monitor="val_accuracy", **QUIET)
    with pytest.raises(ValueError, match=r"early stopping watch monitor='val_loss'.*pass val_loader"):
        fit(small_model(), train, epochs=1, early_stopping_patience=2, **QUIET)
    with pytest.raises(ValueError, match=r"checkpoints watch .*val_loader"):
        fit(small_model(), train, epochs=1, checkpoint_path="never.pt", **QUIET)
    with pytest.raises(TypeError, match="DataLoader"):
        fit(small_model(), TensorDataset(*blobs()), epochs=1, **QUIET)


def test_an_empty_loader_is_explained():
    empty = TensorBatchLoader(torch.zeros(0, 2), torch.zeros(0, dtype=torch.long), batch_size=8)
    with pytest.raises(ValueError, match="train_loader has no batches"):
        fit(small_model(), empty, epochs=1, **QUIET)
    with pytest.raises(ValueError, match="val_loader has no batches"):
        fit(small_model(), loaders()[0], empty, epochs=1, **QUIET)
    with pytest.raises(ValueError, match="yielded no batches"):
        fit(small_model(), (batch for batch in []), epochs=1, **QUIET)  # no len(): found at the end of the epoch


def test_float_labels_for_cross_entropy_are_explained():
    inputs, labels = blobs()
    with pytest.raises(TypeError, match="labels must be int64 class indices"):
        fit(small_model(), TensorBatchLoader(inputs, labels.float(), batch_size=32), epochs=1, **QUIET)
    with pytest.raises(TypeError, match="int64"):
        evaluate_loss_accuracy(small_model(), [(inputs, labels.int())])
    probabilities = nn.functional.one_hot(labels, 3).float()  # class probabilities are fine as floats
    assert fit(small_model(), TensorBatchLoader(inputs, probabilities, batch_size=32), epochs=1, **QUIET)


def test_a_nan_loss_stops_training_and_says_to_lower_the_learning_rate():
    train, _, _ = loaders()
    model = small_model()
    with pytest.raises(TrainingDiverged, match=r"Lower the learning rate \(it was 1e\+06"):
        fit(model, train, epochs=5, optimizer=torch.optim.SGD(model.parameters(), lr=1e6), **QUIET)

    inputs, labels = blobs()
    inputs[5, 0] = math.nan
    with pytest.raises(FloatingPointError, match="epoch 1.*NaN"):
        fit(small_model(), TensorBatchLoader(inputs, labels, batch_size=32), epochs=3, **QUIET)
