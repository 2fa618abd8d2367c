"""Notebook 03's training-loop checkers against the right loop and the usual mistakes."""

import pytest
import torch

from workshop_utils.checkers.training_loop import (
    check_evaluate, check_train_one_epoch, probe_dataset, reference_evaluate, reference_train_one_epoch)


# -- train_one_epoch: right and wrong ------------------------------------------------------------------

def train_right(model, loader, loss_fn, optimizer):
    return reference_train_one_epoch(model, loader, loss_fn, optimizer)


def train_zero_grad_at_the_end(model, loader, loss_fn, optimizer):  # equivalent: the first .grad is empty
    model.train()
    total, count = 0.0, 0
    for inputs, labels in loader:
        loss = loss_fn(model(inputs), labels)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        total += loss.item() * len(labels)
        count += len(labels)
    return total / count


def train_returns_tensor(model, loader, loss_fn, optimizer):
    model.train()
    total, count = 0.0, 0
    for inputs, labels in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), labels)
        loss.backward()
        optimizer.step()
        total = total + loss * len(labels)  # keeps the graphs: works, but wasteful
        count += len(labels)
    return total / count


def _train_with(model, loader, loss_fn, optimizer, *, zero_grad=True, train_mode=True, weighted=True,
                step=True, result="mean"):
    if train_mode:
        model.train()
    losses, sizes = [], []
    for inputs, labels in loader:
        if zero_grad:
            optimizer.zero_grad()
        loss = loss_fn(model(inputs), labels)
        loss.backward()
        if step:
            optimizer.step()
        losses.append(loss.item())
        sizes.append(len(labels))
    if result == "last":
        return losses[-1]
    if result == "sum":
        return sum(losses)
    if result == "tuple":
        return sum(losses) / len(losses), 0.5
    if not weighted:
        return sum(losses) / len(losses)
    return sum(loss * size for loss, size in zip(losses, sizes)) / sum(sizes)


def train_no_zero_grad(*args):
    return _train_with(*args, zero_grad=False)


def train_no_train_mode(*args):
    return _train_with(*args, train_mode=False)


def train_unweighted(*args):
    return _train_with(*args, weighted=False)


def train_no_step(*args):
    return _train_with(*args, step=False)


def train_last_loss(*args):
    return _train_with(*args, result="last")


def train_sum(*args):
    return _train_with(*args, result="sum")


def train_tuple(*args):
    return _train_with(*args, result="tuple")


def train_returns_nothing(*args):
    _train_with(*args)


def train_crashes(model, loader, loss_fn, optimizer):
    for inputs, labels in loader:
        loss_fn(model(inputs), labels.float())  # cross-entropy wants class indices as integers


def train_stub(model, loader, loss_fn, optimizer):
    for inputs, labels in loader:  # the student copy's skeleton: a loop, then the stub
        pass
    raise NotImplementedError("Exercise: write the loop body, then return the mean loss")


@pytest.mark.parametrize("attempt", [train_right, train_zero_grad_at_the_end])
def test_a_right_epoch_passes(attempt, capsys):
    feedback = check_train_one_epoch(attempt)
    assert feedback, feedback.text()
    assert "✅" in capsys.readouterr().out


def test_a_tensor_is_accepted_with_a_note():
    feedback = check_train_one_epoch(train_returns_tensor)
    assert feedback, feedback.text()
    assert "note:" in feedback.text() and ".item()" in feedback.text() and "graph" in feedback.text()


@pytest.mark.parametrize("attempt, words", [
    (train_no_zero_grad, "zero_grad() is missing"),
    (train_no_train_mode, "model.train()"),
    (train_unweighted, "plain mean of the batch losses"),
    (train_no_step, "did not change"),
    (train_last_loss, "last batch's loss"),
    (train_sum, "sum of the batch losses"),
    (train_tuple, "return one number"),
    (train_returns_nothing, "is None"),
    (train_crashes, "your code raised"),
    (train_stub, "not done yet"),
])
def test_wrong_epochs_fail_with_the_reason(attempt, words):
    feedback = check_train_one_epoch(attempt)
    assert not feedback, attempt.__name__
    assert words in feedback.text(), (attempt.__name__, feedback.text())


def test_the_probe_makes_the_mistakes_visible():
    """Weighted and unweighted means must differ clearly on the probe, or the checker could not tell them apart."""
    from workshop_utils.checkers.training_loop import _epoch_by_hand, probe_model

    losses, sizes, _ = _epoch_by_hand(probe_model(seed=0), probe_dataset())
    assert sizes == [32, 32, 4]
    weighted = sum(loss * size for loss, size in zip(losses, sizes)) / sum(sizes)
    assert abs(weighted - sum(losses) / len(losses)) > 0.01


def test_the_probe_tells_accuracy_mistakes_apart():
    from workshop_utils.checkers.training_loop import _loader, probe_model

    model = probe_model(seed=3, dropout=True).eval()
    corrects, sizes = [], []
    with torch.no_grad():
        for inputs, labels in _loader(probe_dataset()):
            corrects.append(int((model(inputs).argmax(1) == labels).sum()))
            sizes.append(len(labels))
    fraction = sum(corrects) / sum(sizes)
    candidates = [fraction, sum(corrects), 100 * fraction, sum(c / s for c, s in zip(corrects, sizes)) / len(sizes)]
    assert min(abs(a - b) for i, a in enumerate(candidates) for b in candidates[i + 1:]) > 0.005


# -- evaluate: right and wrong -------------------------------------------------------------------------

def evaluate_right(model, loader, loss_fn):
    return reference_evaluate(model, loader, loss_fn)


def evaluate_tensors(model, loader, loss_fn):
    loss, accuracy = reference_evaluate(model, loader, loss_fn)
    return torch.tensor(loss), torch.tensor(accuracy)


def _evaluate_with(model, loader, loss_fn, *, eval_mode=True, no_grad=True, weighted=True, accuracy="fraction",
                   swap=False):
    if eval_mode:
        model.eval()
    losses, corrects, sizes = [], [], []
    with torch.no_grad() if no_grad else torch.enable_grad():
        for inputs, labels in loader:
            outputs = model(inputs)
            losses.append(loss_fn(outputs, labels).item())
            corrects.append((outputs.argmax(1) == labels).sum().item())
            sizes.append(len(labels))
    total = sum(sizes)
    loss = sum(l * s for l, s in zip(losses, sizes)) / total if weighted else sum(losses) / len(losses)
    value = {"fraction": sum(corrects) / total, "count": sum(corrects), "percent": 100 * sum(corrects) / total,
             "batch mean": sum(c / s for c, s in zip(corrects, sizes)) / len(sizes)}[accuracy]
    return (value, loss) if swap else (loss, value)


def evaluate_no_eval_mode(*args):
    return _evaluate_with(*args, eval_mode=False)


def evaluate_no_no_grad(*args):
    return _evaluate_with(*args, no_grad=False)


def evaluate_unweighted(*args):
    return _evaluate_with(*args, weighted=False)


def evaluate_count(*args):
    return _evaluate_with(*args, accuracy="count")


def evaluate_percent(*args):
    return _evaluate_with(*args, accuracy="percent")


def evaluate_batch_mean_accuracy(*args):
    return _evaluate_with(*args, accuracy="batch mean")


def evaluate_swapped(*args):
    return _evaluate_with(*args, swap=True)


def evaluate_only_loss(model, loader, loss_fn):
    return _evaluate_with(model, loader, loss_fn)[0]


def evaluate_with_backward(model, loader, loss_fn):
    model.eval()
    for inputs, labels in loader:
        with torch.enable_grad():
            loss_fn(model(inputs), labels).backward()
    with torch.no_grad():
        return _evaluate_with(model, loader, loss_fn)


def evaluate_stub(model, loader, loss_fn):
    raise NotImplementedError("Exercise: replace this line with your solution")


@pytest.mark.parametrize("attempt", [evaluate_right])
def test_a_right_evaluation_passes(attempt):
    feedback = check_evaluate(attempt)
    assert feedback, feedback.text()


def test_tensors_are_accepted_with_a_note():
    feedback = check_evaluate(evaluate_tensors)
    assert feedback, feedback.text()
    assert "note:" in feedback.text()


@pytest.mark.parametrize("attempt, words", [
    (evaluate_no_eval_mode, "model.eval()"),
    (evaluate_no_no_grad, "torch.no_grad()"),
    (evaluate_unweighted, "plain mean of the batch losses"),
    (evaluate_count, "number of correct predictions"),
    (evaluate_percent, "a percentage"),
    (evaluate_batch_mean_accuracy, "plain mean of the batch accuracies"),
    (evaluate_swapped, "swapped"),
    (evaluate_only_loss, "must return a pair"),
    (evaluate_with_backward, "changed the model"),
    (evaluate_stub, "not done yet"),
])
def test_wrong_evaluations_fail_with_the_reason(attempt, words):
    feedback = check_evaluate(attempt)
    assert not feedback, attempt.__name__
    assert words in feedback.text(), (attempt.__name__, feedback.text())


def test_reference_loop_learns_the_probe():
    from workshop_utils.checkers.training_loop import _loader, probe_model

    model = probe_model(seed=0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    loader = _loader(probe_dataset(), shuffle=True)
    losses = [reference_train_one_epoch(model, loader, torch.nn.CrossEntropyLoss(), optimizer) for _ in range(10)]
    assert losses[-1] < 0.6 * losses[0]
    loss, accuracy = reference_evaluate(model, loader, torch.nn.CrossEntropyLoss())
    assert 0.8 <= accuracy <= 1.0 and model.training is False


# ------------------------------------------------------------------ the mistakes catalogues

import math  # noqa: E402

import numpy as np  # noqa: E402

from checker_catalogue import assert_case, hostile, ids, mistake, right  # noqa: E402


def _epoch(model, loader, loss_fn, optimizer, *, softmax_first=False, zero_grad_before_step=False,
           two_steps=False, result="mean"):
    model.train()
    losses, sizes = [], []
    for inputs, labels in loader:
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = loss_fn(torch.softmax(outputs, dim=1) if softmax_first else outputs, labels)
        loss.backward()
        if zero_grad_before_step:
            optimizer.zero_grad()
        optimizer.step()
        if two_steps:
            optimizer.step()
        losses.append(loss.item())
        sizes.append(len(labels))
    mean = sum(loss * size for loss, size in zip(losses, sizes)) / sum(sizes)
    if result == "array":
        return np.array(losses)
    if result == "list":
        return losses
    if result == "numpy mean":
        return np.float64(mean)
    if result == "total":
        return mean * sum(sizes)
    return mean


def the_given_buggy_loop(model, loader, loss_fn, optimizer):
    """The exercise's starting point, its four bugs included."""
    model.eval()
    total_loss = 0.0
    for inputs, labels in loader:
        outputs = model(inputs)
        loss = loss_fn(torch.softmax(outputs, dim=1), labels)
        loss.backward()
        optimizer.step()
        total_loss += loss.item()
    return total_loss / len(loader)


def train_batch_unpacking(model, loader, loss_fn, optimizer):
    model.train()
    total, count = 0.0, 0
    for batch in loader:
        inputs, labels = batch
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(inputs), labels)
        loss.backward()
        optimizer.step()
        total += float(loss.detach()) * labels.size(0)
        count += labels.size(0)
    return total / count


TRAIN_CATALOGUE = [
    mistake("eval mode", train_no_train_mode, "model.train()"),
    mistake("no zero_grad", train_no_zero_grad, "zero_grad() is missing"),
    mistake("softmax before the loss", lambda *a: _epoch(*a, softmax_first=True), "softmax"),
    mistake("unweighted mean of batch losses", train_unweighted, "plain mean of the batch losses"),
    mistake("no optimizer.step", train_no_step, "did not change"),
    mistake("zero_grad between backward and step", lambda *a: _epoch(*a, zero_grad_before_step=True),
            "did not change"),
    mistake("two steps per batch", lambda *a: _epoch(*a, two_steps=True), "differ from a reference"),
    mistake("last batch's loss", train_last_loss, "last batch's loss"),
    mistake("sum of batch losses", train_sum, "sum of the batch losses"),
    mistake("total not divided", lambda *a: _epoch(*a, result="total"), "total loss over all examples"),
    mistake("a tuple", train_tuple, "return one number"),
    mistake("np.array of the batch losses", lambda *a: _epoch(*a, result="array"), "3 numbers"),
    mistake("the list of batch losses", lambda *a: _epoch(*a, result="list"), "return one number"),
    mistake("the given loop, unfixed", the_given_buggy_loop, "evaluation mode"),
    hostile("None", train_returns_nothing, "is None"),
    hostile("the stub", train_stub, "not done yet"),
    hostile("a crash", train_crashes, "your code raised"),
    hostile("a string", lambda *a: (_epoch(*a), "0.5")[1], "should be a number"),
    hostile("NaN", lambda *a: (_epoch(*a), math.nan)[1], "is nan"),
    hostile("a typed-in loss", lambda *a: (_epoch(*a), 1.0986)[1], "returned loss is not"),
    right("the reference", train_right),
    right("zero_grad after the step", train_zero_grad_at_the_end),
    right("a batch unpacked, set_to_none, float()", train_batch_unpacking),
    right("a NumPy float", lambda *a: _epoch(*a, result="numpy mean")),
]


@pytest.mark.parametrize("case", TRAIN_CATALOGUE, ids=ids(TRAIN_CATALOGUE))
def test_train_one_epoch_catalogue(case):
    assert_case(check_train_one_epoch, case)


def _evaluation(model, loader, loss_fn, *, argmax_dim=1, result="pair", grad_mode="no_grad"):
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    context = torch.inference_mode() if grad_mode == "inference" else torch.no_grad()
    with context:
        for inputs, labels in loader:
            outputs = model(inputs)
            total_loss += loss_fn(outputs, labels).item() * len(labels)
            correct += (outputs.argmax(dim=argmax_dim) == labels).sum().item()
            count += len(labels)
    if result == "arrays":
        return np.array(total_loss / count), np.array(correct / count)
    if result == "dict":
        return {"loss": total_loss / count, "accuracy": correct / count}
    return total_loss / count, correct / count


def evaluate_argmax_without_dim(model, loader, loss_fn):
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for inputs, labels in loader:
            outputs = model(inputs)
            total_loss += loss_fn(outputs, labels).item() * len(labels)
            correct += (outputs.argmax() == labels).sum().item()  # one index into the flattened batch
            count += len(labels)
    return total_loss / count, correct / count


def evaluate_last_batch_only(model, loader, loss_fn):
    model.eval()
    with torch.no_grad():
        for inputs, labels in loader:
            outputs = model(inputs)
            loss = loss_fn(outputs, labels).item()
            accuracy = (outputs.argmax(dim=1) == labels).float().mean().item()
    return loss, accuracy  # the loop variables of the last batch only


EVALUATE_CATALOGUE = [
    mistake("no eval mode", evaluate_no_eval_mode, "model.eval()"),
    mistake("no no_grad", evaluate_no_no_grad, "torch.no_grad()"),
    mistake("unweighted mean loss", evaluate_unweighted, "plain mean of the batch losses"),
    mistake("a count", evaluate_count, "number of correct predictions"),
    mistake("a percentage", evaluate_percent, "a percentage"),
    mistake("mean of batch accuracies", evaluate_batch_mean_accuracy, "plain mean of the batch accuracies"),
    mistake("swapped", evaluate_swapped, "swapped"),
    mistake("only the loss", evaluate_only_loss, "must return a pair"),
    mistake("backward inside", evaluate_with_backward, "changed the model"),
    mistake("argmax over the batch (dim=0)", lambda *a: _evaluation(*a, argmax_dim=0), "argmax(dim=1)"),
    mistake("argmax without dim", evaluate_argmax_without_dim, "argmax(dim=1)"),
    mistake("last batch only", evaluate_last_batch_only, "last batch"),
    mistake("a dict", lambda *a: _evaluation(*a, result="dict"), "must return a pair"),
    hostile("None", lambda *a: None, "must return a pair"),
    hostile("the stub", evaluate_stub, "not done yet"),
    hostile("strings", lambda *a: ("0.5", "0.9"), "should be a number"),
    hostile("NaN", lambda *a: (math.nan, math.nan), "is nan"),
    hostile("typed-in numbers", lambda *a: (1.0, 0.5), "model was never called"),
    right("the reference", evaluate_right),
    right("tensors", evaluate_tensors),
    right("inference_mode", lambda *a: _evaluation(*a, grad_mode="inference")),
    right("0-d NumPy arrays", lambda *a: _evaluation(*a, result="arrays")),
]


@pytest.mark.parametrize("case", EVALUATE_CATALOGUE, ids=ids(EVALUATE_CATALOGUE))
def test_evaluate_catalogue(case):
    assert_case(check_evaluate, case)


CATALOGUES = {check_train_one_epoch: TRAIN_CATALOGUE, check_evaluate: EVALUATE_CATALOGUE}
