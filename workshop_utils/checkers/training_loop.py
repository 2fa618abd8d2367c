"""Checkers for notebook 03's training loop: ``train_one_epoch`` and ``evaluate`` over a DataLoader.

Each checker runs the attendee's function on a tiny synthetic problem (68 examples, 6 features,
3 classes, batches of 32, 32 and 4) next to a reference, and when the results differ it replays
the typical mistakes (no ``zero_grad``, an unweighted mean over batches, a count for an accuracy...)
to say which one it was. A spy layer inside the probe model records whether each forward pass ran
in training mode and with gradients on.

``reference_train_one_epoch`` and ``reference_evaluate`` are the reference the checkers compare
against; notebook 03 trains with them when the exercise is not finished yet, and says so.
"""

from __future__ import annotations

import copy
import math
from typing import Any, Callable

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from .core import AttemptError, Feedback, checker, failed, passed, run_attempt

EXERCISE_TRAIN = "Exercise 03.6 (one training epoch)"
EXERCISE_EVALUATE = "Exercise 03.7 (evaluation)"

PROBE_SIZE = 68
PROBE_BATCH = 32  # 68 examples: batches of 32, 32 and 4, so an unweighted mean over batches shows
PROBE_LR = 0.5


# --------------------------------------------------------------------------------------------------
# The reference loop
# --------------------------------------------------------------------------------------------------

def reference_train_one_epoch(model: nn.Module, loader, loss_fn: Callable, optimizer: torch.optim.Optimizer) -> float:
    """One pass over ``loader``, one optimizer step per mini-batch; returns the mean loss per example."""
    device = next(model.parameters()).device
    model.train()  # dropout (and batch norm) in training mode
    total_loss, total_examples = 0.0, 0
    for inputs, labels in loader:
        inputs, labels = inputs.to(device), labels.to(device)
        optimizer.zero_grad()  # gradients add up in .grad otherwise
        loss = loss_fn(model(inputs), labels)
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(labels)  # the batch's mean loss times its size
        total_examples += len(labels)
    return total_loss / total_examples


def reference_evaluate(model: nn.Module, loader, loss_fn: Callable) -> tuple[float, float]:
    """Mean loss per example and accuracy (a fraction) of ``model`` on ``loader``, without learning."""
    device = next(model.parameters()).device
    model.eval()  # dropout off: the model as it will be used
    total_loss, correct, total_examples = 0.0, 0, 0
    with torch.no_grad():  # no graph, no gradients: faster, and nothing can leak into training
        for inputs, labels in loader:
            inputs, labels = inputs.to(device), labels.to(device)
            outputs = model(inputs)
            total_loss += loss_fn(outputs, labels).item() * len(labels)
            correct += (outputs.argmax(dim=1) == labels).sum().item()
            total_examples += len(labels)
    return total_loss / total_examples, correct / total_examples


# --------------------------------------------------------------------------------------------------
# The probe problem
# --------------------------------------------------------------------------------------------------

class ModeSpy(nn.Module):
    """Passes its input through unchanged and records, per forward pass, (gradients on?, training mode?)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[bool, bool]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append((torch.is_grad_enabled(), self.training))
        return x


def probe_dataset() -> TensorDataset:
    """68 examples, 6 features, 3 classes from a random linear teacher; the last 4 labels are wrong,
    so the small last batch has a loss and accuracy unlike the others."""
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn(PROBE_SIZE, 6, generator=generator)
    labels = (inputs @ torch.randn(6, 3, generator=generator)).argmax(dim=1)
    labels[-4:] = (labels[-4:] + 1) % 3
    return TensorDataset(inputs, labels)


def probe_model(seed: int, dropout: bool = False) -> nn.Sequential:
    """A small MLP with a :class:`ModeSpy` after the hidden layer (and dropout when asked)."""
    torch.manual_seed(seed)
    layers: list[nn.Module] = [nn.Linear(6, 16), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(0.5))
    layers += [ModeSpy(), nn.Linear(16, 3)]
    return nn.Sequential(*layers)


def _spy(model: nn.Module) -> ModeSpy:
    return next(module for module in model.modules() if isinstance(module, ModeSpy))


def _loader(dataset: TensorDataset, shuffle: bool = False, seed: int = 0) -> DataLoader:
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(dataset, batch_size=PROBE_BATCH, shuffle=shuffle, generator=generator)


def _parameters(model: nn.Module) -> list[torch.Tensor]:
    return [parameter.detach().clone() for parameter in model.parameters()]


def _same(first: list[torch.Tensor], second: list[torch.Tensor]) -> bool:
    return all(torch.allclose(a, b, rtol=1e-5, atol=1e-6) for a, b in zip(first, second))


def _close(value: float, target: float) -> bool:
    return math.isclose(value, target, rel_tol=1e-5, abs_tol=1e-6)


def _epoch_by_hand(model: nn.Module, dataset: TensorDataset, zero_grad: bool = True, softmax_first: bool = False
                   ) -> tuple[list[float], list[int], list[torch.Tensor]]:
    """Replay one epoch (SGD, no shuffling): batch losses, batch sizes and the final parameters; optionally
    with one of the classic bugs (no zero_grad, a softmax before the cross-entropy)."""
    optimizer = torch.optim.SGD(model.parameters(), lr=PROBE_LR)
    model.train()
    losses, sizes = [], []
    for inputs, labels in _loader(dataset):
        if zero_grad:
            optimizer.zero_grad()
        outputs = model(inputs)
        loss = nn.functional.cross_entropy(torch.softmax(outputs, dim=1) if softmax_first else outputs, labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        sizes.append(len(labels))
    return losses, sizes, _parameters(model)


def _as_number(exercise: str, value: Any, what: str, tried: str) -> tuple[float, list[str]] | Feedback:
    """``value`` as a float plus notes on how it came back (a tensor...), or a Feedback when it is no number."""
    notes: list[str] = []
    if value is None:
        return failed(exercise, f"{what} is None.", tried=tried, hint="end the function with a return statement.")
    if type(value).__module__ == "numpy" and hasattr(value, "shape"):  # a NumPy array or scalar
        if value.size != 1:
            return failed(exercise, f"{what} is a NumPy array of {value.size} numbers; it should be one number.",
                          tried=tried, got=f"shape {tuple(value.shape)}",
                          hint="add up loss.item() * len(labels) over the batches and divide by the number of "
                               "examples: one Python number, not the list of batch losses.")
        value = value.reshape(-1)[0].item()
    if isinstance(value, (list, tuple, dict, set)):
        return failed(exercise, f"{what} is a {type(value).__name__}; it should be one number.", tried=tried,
                      hint="return one number: the total over the batches divided by the number of examples.")
    if isinstance(value, torch.Tensor):
        if value.numel() != 1 or value.is_complex():
            return failed(exercise, f"{what} is a tensor of {value.numel()} numbers; it should be one number.",
                          tried=tried, got=f"shape {tuple(value.shape)}",
                          hint="add up batch losses with loss.item(), then divide by the number of examples.")
        notes.append(f"{what} came back as a tensor; .item() turns it into a plain Python number"
                     + (" (and this one still holds its graph: summing loss tensors keeps every batch's graph "
                        "in memory)" if value.requires_grad else "") + ".")
        value = value.detach().item()
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        return failed(exercise, f"{what} should be a number.", tried=tried, got=f"a {type(value).__name__}")
    try:
        value = float(value)
    except (TypeError, ValueError, OverflowError):
        return failed(exercise, f"{what} should be a number.", tried=tried, got=f"a {type(value).__name__}")
    if not math.isfinite(value):
        return failed(exercise, f"{what} is {value}.", tried=tried,
                      hint="a NaN or infinite loss: check the division (by the number of examples, not 0).")
    return value, notes


# --------------------------------------------------------------------------------------------------
# Exercise 03.7: train_one_epoch
# --------------------------------------------------------------------------------------------------

@checker(EXERCISE_TRAIN)
def check_train_one_epoch(train_one_epoch: Callable[..., float]) -> Feedback:
    """``train_one_epoch(model, loader, loss_fn, optimizer)`` must take one optimizer step per batch (gradients
    zeroed each time), in training mode, and return the mean loss per example as a number."""
    dataset = probe_dataset()
    tried = ("train_one_epoch(model, loader, nn.CrossEntropyLoss(), SGD(lr=0.5)) on 68 examples "
             "in batches of 32, 32 and 4")

    model = probe_model(seed=0)
    start = _parameters(model)
    losses, sizes, after = _epoch_by_hand(copy.deepcopy(model), dataset)
    _, _, after_without_zero_grad = _epoch_by_hand(copy.deepcopy(model), dataset, zero_grad=False)
    _, _, after_softmax_without_zero_grad = _epoch_by_hand(copy.deepcopy(model), dataset, zero_grad=False,
                                                           softmax_first=True)
    _, _, after_softmax = _epoch_by_hand(copy.deepcopy(model), dataset, softmax_first=True)
    model.eval()  # as evaluate() leaves it: train_one_epoch must switch it back
    optimizer = torch.optim.SGD(model.parameters(), lr=PROBE_LR)
    result = run_attempt(EXERCISE_TRAIN, train_one_epoch, model, _loader(dataset), nn.CrossEntropyLoss(), optimizer,
                         tried=tried)
    if isinstance(result, (tuple, list)):
        return failed(EXERCISE_TRAIN, f"train_one_epoch returned a {type(result).__name__}; return one number, "
                                       "the mean loss.", tried=tried, got=repr(result))
    number = _as_number(EXERCISE_TRAIN, result, "the returned mean loss", tried)
    if isinstance(number, Feedback):
        return number
    value, notes = number

    student_after = _parameters(model)
    calls = _spy(model).calls
    if len(calls) == 0:
        return failed(EXERCISE_TRAIN, "the model was never called.", tried=tried,
                      hint="loop over the loader: for inputs, labels in loader: ... outputs = model(inputs) ...")
    if not all(training for _, training in calls):
        return failed(EXERCISE_TRAIN, "the model trained in evaluation mode: dropout and batch norm would "
                                      "behave as at test time.",
                      tried=tried + ", the model left in eval mode (as evaluate() leaves it)",
                      hint="call model.train() at the start of train_one_epoch.")
    if _same(student_after, start):
        return failed(EXERCISE_TRAIN, "the model's parameters did not change.", tried=tried,
                      hint="per batch, in this order: optimizer.zero_grad(), forward, loss, loss.backward(), "
                           "optimizer.step(). (zero_grad between backward and step wipes the gradients.)")
    if not _same(student_after, after):
        if _same(student_after, after_without_zero_grad) or _same(student_after, after_softmax_without_zero_grad):
            return failed(EXERCISE_TRAIN, "gradients pile up from batch to batch: optimizer.zero_grad() is missing.",
                          tried=tried, expected="each step uses its own batch's gradient",
                          got="the parameters of a loop without zero_grad()",
                          hint="loss.backward() adds to .grad; call optimizer.zero_grad() before it, every batch.")
        if _same(student_after, after_softmax):
            return failed(EXERCISE_TRAIN, "the loss was computed on probabilities: a softmax before the "
                                          "cross-entropy.", tried=tried,
                          hint="nn.CrossEntropyLoss takes the raw scores (logits) and applies the (log-)softmax "
                               "itself: loss_fn(outputs, labels), without torch.softmax.")
        if len(calls) != len(sizes):
            return failed(EXERCISE_TRAIN, f"the model ran {len(calls)} forward passes for {len(sizes)} batches.",
                          tried=tried, hint="one forward pass, one backward pass and one optimizer step per batch.")
        return failed(EXERCISE_TRAIN, "after one epoch the parameters differ from a reference epoch.", tried=tried,
                      hint="per batch: optimizer.zero_grad(), outputs = model(inputs), loss = loss_fn(outputs, "
                           "labels), loss.backward(), optimizer.step().")

    weighted = sum(loss * size for loss, size in zip(losses, sizes)) / sum(sizes)
    expected = f"{weighted:.5f} (the mean loss per example)"
    mistakes = {
        "the plain mean of the batch losses: the last batch has only 4 examples but counts as much as a batch "
        "of 32. Add loss.item() * len(labels) and divide by the number of examples.": sum(losses) / len(losses),
        "the sum of the batch losses: divide by the number of examples.": sum(losses),
        "the total loss over all examples: divide it by the number of examples.": weighted * sum(sizes),
        "the last batch's loss only: add up every batch's loss (times its size).": losses[-1],
    }
    if not _close(value, weighted):
        for mistake, candidate in mistakes.items():
            if _close(value, candidate):
                return failed(EXERCISE_TRAIN, "the training is right; the returned loss is not.", tried=tried,
                              expected=expected, got=f"{value:.5f}", hint=f"you returned {mistake}")
        return failed(EXERCISE_TRAIN, "the training is right; the returned loss is not.", tried=tried,
                      expected=expected, got=f"{value:.5f}",
                      hint="total_loss += loss.item() * len(labels) per batch; return total_loss / number of examples.")

    dropout_model = probe_model(seed=1, dropout=True)
    dropout_model.eval()  # as evaluate() leaves it: train_one_epoch must switch it back
    run_attempt(EXERCISE_TRAIN, train_one_epoch, dropout_model, _loader(dataset), nn.CrossEntropyLoss(),
                torch.optim.SGD(dropout_model.parameters(), lr=PROBE_LR), tried="a model with dropout, in eval mode")
    if not all(training for _, training in _spy(dropout_model).calls):
        return failed(EXERCISE_TRAIN, "the model trained in evaluation mode: dropout was switched off.",
                      tried="a model with dropout, left in eval mode (as evaluate() leaves it)",
                      hint="call model.train() at the start of train_one_epoch.")

    progress_model = probe_model(seed=2)
    progress_optimizer = torch.optim.SGD(progress_model.parameters(), lr=PROBE_LR)
    shuffled = _loader(dataset, shuffle=True)  # a new order every epoch, as in the notebook
    epoch_losses = []
    for _ in range(5):
        number = _as_number(EXERCISE_TRAIN, run_attempt(EXERCISE_TRAIN, train_one_epoch, progress_model, shuffled,
                                                        nn.CrossEntropyLoss(), progress_optimizer,
                                                        tried="5 epochs in a row"), "the mean loss", "5 epochs")
        if isinstance(number, Feedback):
            return number
        epoch_losses.append(number[0])
    if not epoch_losses[-1] < epoch_losses[0]:
        return failed(EXERCISE_TRAIN, "the loss did not go down over 5 epochs.", tried="5 epochs in a row",
                      got=[round(loss, 4) for loss in epoch_losses])
    message = (f"one step per batch, training mode, mean loss {value:.4f} per example; over 5 epochs the loss "
               f"fell from {epoch_losses[0]:.3f} to {epoch_losses[-1]:.3f}.")
    return passed(EXERCISE_TRAIN, message + "".join(f"\n   note: {note}" for note in notes))


# --------------------------------------------------------------------------------------------------
# Exercise 03.8: evaluate
# --------------------------------------------------------------------------------------------------

@checker(EXERCISE_EVALUATE)
def check_evaluate(evaluate: Callable[..., tuple[float, float]]) -> Feedback:
    """``evaluate(model, loader, loss_fn)`` must return ``(mean loss per example, accuracy as a fraction)``,
    in evaluation mode, without gradients, and leave the model's parameters alone."""
    dataset = probe_dataset()
    tried = "evaluate(model, loader, nn.CrossEntropyLoss()) with a model with dropout, in training mode"
    model = probe_model(seed=3, dropout=True)
    model.train()  # as train_one_epoch leaves it: evaluate must switch to eval mode itself
    reference_copy = copy.deepcopy(model)
    start = _parameters(model)
    try:
        result = run_attempt(EXERCISE_EVALUATE, evaluate, model, _loader(dataset), nn.CrossEntropyLoss(), tried=tried)
    except AttemptError as error:
        if "must match the size" in error.feedback.message:
            error.feedback.hint = ("outputs has shape (batch, classes): the predicted class of each example is "
                                   "outputs.argmax(dim=1), one per example, to compare with labels (dim=0 would "
                                   "give one index per class).")
        raise
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        return failed(EXERCISE_EVALUATE, "evaluate must return a pair: (mean loss, accuracy).", tried=tried,
                      got=repr(result) if not isinstance(result, torch.Tensor) else f"a tensor {tuple(result.shape)}",
                      hint="return total_loss / total_examples, correct / total_examples")
    numbers = [_as_number(EXERCISE_EVALUATE, value, what, tried) for value, what in zip(result, ("the loss", "the accuracy"))]
    for number in numbers:
        if isinstance(number, Feedback):
            return number
    (loss, loss_notes), (accuracy, accuracy_notes) = numbers

    calls = _spy(model).calls
    if not calls:
        return failed(EXERCISE_EVALUATE, "the model was never called.", tried=tried,
                      hint="loop over the loader and run model(inputs) on each batch.")
    if any(training for _, training in calls):
        return failed(EXERCISE_EVALUATE, "the model ran in training mode: dropout was switching neurons off at "
                                         "random, so the result changes from call to call.",
                      tried=tried, hint="call model.eval() at the start of evaluate.")
    if any(parameter.grad is not None for parameter in model.parameters()) or not _same(_parameters(model), start):
        return failed(EXERCISE_EVALUATE, "evaluate changed the model (backward() or an optimizer step).", tried=tried,
                      hint="evaluation only measures: no loss.backward(), no optimizer.")
    if any(gradients for gradients, _ in calls):
        return failed(EXERCISE_EVALUATE, "gradients were being recorded during evaluation.", tried=tried,
                      hint="wrap the loop in `with torch.no_grad():` (no graph: faster, less memory).")

    reference_copy.eval()
    losses, corrects, sizes = [], [], []
    with torch.no_grad():
        for inputs, labels in _loader(dataset):
            outputs = reference_copy(inputs)
            losses.append(nn.functional.cross_entropy(outputs, labels).item())
            corrects.append(int((outputs.argmax(dim=1) == labels).sum()))
            sizes.append(len(labels))
    total = sum(sizes)
    expected_loss = sum(value * size for value, size in zip(losses, sizes)) / total
    expected_accuracy = sum(corrects) / total
    expected = f"({expected_loss:.5f}, {expected_accuracy:.4g})"
    got = f"({loss:.5f}, {accuracy:.4g})"

    if _close(loss, expected_accuracy) and _close(accuracy, expected_loss):
        return failed(EXERCISE_EVALUATE, "loss and accuracy are swapped.", tried=tried, expected=expected, got=got,
                      hint="return mean_loss, accuracy (in that order).")
    if not _close(loss, expected_loss):
        mistakes = {
            "the plain mean of the batch losses: the last batch has 4 examples but counts as much as one of "
            "32. Add loss.item() * len(labels), then divide by the number of examples.": sum(losses) / len(losses),
            "the sum of the batch losses: divide by the number of examples.": sum(losses),
            "the total loss over all examples: divide it by the number of examples.": expected_loss * total,
            "the last batch's loss only: add up every batch's loss (times its size) inside the loop.": losses[-1],
        }
        hint = next((f"you returned {mistake}" for mistake, value in mistakes.items() if _close(loss, value)),
                    "add loss.item() * len(labels) per batch and divide by the number of examples.")
        return failed(EXERCISE_EVALUATE, "the mean loss is wrong.", tried=tried, expected=expected, got=got, hint=hint)
    if not _close(accuracy, expected_accuracy):
        mistakes = {
            "the number of correct predictions: divide it by the number of examples to get a fraction.": sum(corrects),
            "a percentage: return a fraction between 0 and 1.": 100 * expected_accuracy,
            "the plain mean of the batch accuracies: the batch of 4 counts as much as one of 32. Count the "
            "correct predictions over all batches, then divide by the number of examples.":
                sum(c / s for c, s in zip(corrects, sizes)) / len(sizes),
            "the accuracy of the last batch only: count over all batches.": corrects[-1] / sizes[-1],
        }
        hint = next((f"you returned {mistake}" for mistake, value in mistakes.items() if _close(accuracy, value)),
                    "accuracy = (number of outputs.argmax(dim=1) == labels) / number of examples.")
        return failed(EXERCISE_EVALUATE, "the accuracy is wrong.", tried=tried, expected=expected, got=got, hint=hint)

    message = (f"eval mode, no gradients, mean loss {loss:.4f} and accuracy {accuracy:.0%}, both weighted by "
               "example, not by batch.")
    return passed(EXERCISE_EVALUATE, message + "".join(f"\n   note: {note}" for note in loss_notes + accuracy_notes))
