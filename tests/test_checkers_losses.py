"""Exercise 03.5's checker (cross-entropy from scratch) against the right answers and typical mistakes."""

import pytest
import torch
import torch.nn.functional as F

from workshop_utils.checkers.losses import check_cross_entropy


def _log_probs(logits):
    largest = logits.max(dim=1, keepdim=True).values
    return logits - largest - torch.log(torch.exp(logits - largest).sum(dim=1, keepdim=True))


def right(logits, targets):
    return -_log_probs(logits)[torch.arange(len(targets)), targets.long()].mean()


def right_with_logsumexp(logits, targets):
    targets = targets.long()
    return (torch.logsumexp(logits, dim=1) - logits[torch.arange(len(targets)), targets]).mean()


def right_with_one_hot(logits, targets):
    one_hot = F.one_hot(targets.long(), num_classes=logits.shape[1])
    return -(one_hot * _log_probs(logits)).sum(dim=1).mean()


def no_mean(logits, targets):
    return -_log_probs(logits)[torch.arange(len(targets)), targets.long()]


def sum_not_mean(logits, targets):
    return -_log_probs(logits)[torch.arange(len(targets)), targets.long()].sum()


def softmax_without_log(logits, targets):
    probabilities = torch.exp(_log_probs(logits))
    return -probabilities[torch.arange(len(targets)), targets.long()].mean()


def naive_log_of_softmax(logits, targets):
    probabilities = torch.exp(logits) / torch.exp(logits).sum(dim=1, keepdim=True)
    return -torch.log(probabilities)[torch.arange(len(targets)), targets.long()].mean()


def log_of_stable_softmax(logits, targets):  # no overflow, but a probability of e^-2000 rounds to 0
    shifted = torch.exp(logits - logits.max(dim=1, keepdim=True).values)
    probabilities = shifted / shifted.sum(dim=1, keepdim=True)
    return -torch.log(probabilities)[torch.arange(len(targets)), targets.long()].mean()


def block_indexing(logits, targets):
    return -_log_probs(logits)[:, targets.long()].mean()


def one_hot_without_num_classes(logits, targets):
    return -(F.one_hot(targets.long()) * _log_probs(logits)).sum(dim=1).mean()


def one_hot_mean_over_everything(logits, targets):
    return -(F.one_hot(targets.long(), logits.shape[1]) * _log_probs(logits)).mean()


def int64_only(logits, targets):
    return -(F.one_hot(targets, logits.shape[1]) * _log_probs(logits)).sum(dim=1).mean()


def wrong_sign(logits, targets):
    return _log_probs(logits)[torch.arange(len(targets)), targets.long()].mean()


def over_the_batch(logits, targets):
    log_probs = _log_probs(logits.T).T  # normalized down each column
    return -log_probs[torch.arange(len(targets)), targets.long()].mean()


def library(logits, targets):
    return F.cross_entropy(logits, targets.long())


def python_float(logits, targets):
    return right(logits, targets).item()


def detached(logits, targets):
    return right(logits.detach(), targets)


def stub(logits, targets):
    raise NotImplementedError("Exercise: replace this line with your solution")


@pytest.mark.parametrize("attempt", [right, right_with_logsumexp, right_with_one_hot])
def test_right_answers_pass(attempt):
    feedback = check_cross_entropy(attempt)
    assert feedback, feedback.text()


@pytest.mark.parametrize("attempt, words", [
    (no_mean, "the mean is missing"),
    (sum_not_mean, "summed the losses"),
    (softmax_without_log, "not -log p"),
    (naive_log_of_softmax, "for large logits"),
    (log_of_stable_softmax, "never log(softmax)"),
    (block_indexing, "log_probs[torch.arange(N), targets]"),
    (one_hot_without_num_classes, "num_classes=logits.shape[1]"),
    (one_hot_mean_over_everything, "divided by the number of classes"),
    (int64_only, "targets.long()"),
    (wrong_sign, "sign is wrong"),
    (over_the_batch, "normalized over the batch"),
    (library, "called torch.nn.functional.cross_entropy"),
    (python_float, "cut it off from autograd"),
    (detached, "cut off from autograd"),
    (stub, "not done yet"),
])
def test_wrong_answers_fail_with_the_right_explanation(attempt, words):
    feedback = check_cross_entropy(attempt)
    assert not feedback
    assert words in feedback.text(), feedback.text()


def test_large_logits_show_the_expected_value():
    text = check_cross_entropy(naive_log_of_softmax).text()
    assert "1000.6566" in text and "nan" in text


# ------------------------------------------------------------------ the mistakes catalogue

from checker_catalogue import assert_case, hostile, ids, mistake, right as right_answer  # noqa: E402


def detached_copy_that_requires_grad(logits, targets):
    """A copy that requires grad again: the loss has a graph, but not back to the logits given."""
    return right(logits.detach().clone().requires_grad_(True), targets)


def aliased_library(logits, targets):
    from torch.nn.functional import cross_entropy as ce
    return ce(logits, targets.long())


def nll_of_log_softmax(logits, targets):
    return F.nll_loss(torch.log_softmax(logits, dim=1), targets.long())


def module_loss(logits, targets):
    return torch.nn.CrossEntropyLoss()(logits, targets.long())


def numpy_loss(logits, targets):
    return right(logits, targets).detach().numpy()


CROSS_ENTROPY_CATALOGUE = [
    mistake("no mean", no_mean, "the mean is missing"),
    mistake("sum, not mean", sum_not_mean, "summed the losses"),
    mistake("-p, not -log p", softmax_without_log, "not -log p"),
    mistake("log of naive softmax", naive_log_of_softmax, "for large logits"),
    mistake("log of stable softmax", log_of_stable_softmax, "never log(softmax)"),
    mistake("block indexing", block_indexing, "log_probs[torch.arange(N), targets]"),
    mistake("one_hot without num_classes", one_hot_without_num_classes, "num_classes=logits.shape[1]"),
    mistake("mean over classes too", one_hot_mean_over_everything, "divided by the number of classes"),
    mistake("int64 targets only", int64_only, "targets.long()"),
    mistake("wrong sign", wrong_sign, "sign is wrong"),
    mistake("softmax over the batch", over_the_batch, "normalized over the batch"),
    mistake("a Python float", python_float, "cut it off from autograd"),
    mistake("detached logits", detached, "cut off from autograd"),
    mistake("a detached copy that requires grad", detached_copy_that_requires_grad, "does not lead back to the logits"),
    mistake("F.cross_entropy", library, "called torch.nn.functional.cross_entropy"),
    mistake("F.cross_entropy under another name", aliased_library, "called torch.nn.functional.cross_entropy"),
    mistake("nll_loss of log_softmax", nll_of_log_softmax, "torch.log_softmax"),
    mistake("nn.CrossEntropyLoss", module_loss, "nn.CrossEntropyLoss"),
    hostile("None", lambda logits, targets: None, "got None"),
    hostile("the stub", stub, "not done yet"),
    hostile("a NumPy value", numpy_loss, "NumPy"),
    hostile("NaN", lambda logits, targets: torch.tensor(float("nan"), requires_grad=True), "the loss is nan"),
    hostile("a constant", lambda logits, targets: torch.tensor(1.2345, requires_grad=True), "wrong value"),
    right_answer("max trick", right),
    right_answer("logsumexp", right_with_logsumexp),
    right_answer("one-hot", right_with_one_hot),
    right_answer("float64 inside", lambda logits, targets: right(logits.double(), targets)),
]


@pytest.mark.parametrize("case", CROSS_ENTROPY_CATALOGUE, ids=ids(CROSS_ENTROPY_CATALOGUE))
def test_cross_entropy_catalogue(case):
    assert_case(check_cross_entropy, case)


CATALOGUES = {check_cross_entropy: CROSS_ENTROPY_CATALOGUE}
