"""Whatever an attendee's function returns, the checkers of notebooks 04-08 answer with a failing Feedback that
does not come from their safety net ("the checker could not judge this answer"): no traceback, no false pass.

The mistakes catalogues (test_checkers_<module>.py) hold what attendees get wrong; these are the odd values
that slip through a checker's type checks (a 0-d tensor, complex numbers, a NumPy scalar, a pair of tensors...).
"""

import math

import numpy as np
import pytest
import torch
from torch import nn

from workshop_utils.checkers import (check_batch_norm, check_build_model, check_class_weights, check_compact_cnn,
                                     check_conv2d, check_conv_output_size, check_conv_parameter_count,
                                     check_decoded_cache, check_early_stopping, check_fine_tuning_optimizer,
                                     check_freeze_all_but_last, check_freeze_backbone, check_inverted_dropout,
                                     check_max_pool, check_normalize_batch, check_predict_classes,
                                     check_random_search, check_replace_head, check_rgba_to_rgb, check_throughput,
                                     check_timed_training, check_worst_mistakes)
from workshop_utils.checkers.core import UNJUDGED

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ODD_RETURNS = {
    "None": None, "a float": 1.5, "NaN": math.nan, "infinity": math.inf, "a string": "abc", "a bool": True,
    "a pair of ints": (1, 2), "a pair of tensors": (torch.ones(2), torch.ones(2)), "a dict": {"a": 1},
    "a 0-d tensor": torch.tensor(1), "an empty tensor": torch.zeros(0), "a bool tensor": torch.zeros(2, 3, dtype=torch.bool),
    "a complex tensor": torch.zeros(2, dtype=torch.complex64), "a float16 image": torch.zeros(3, 2, 3, dtype=torch.float16),
    "a NumPy array": np.zeros((2, 2)), "a NumPy integer": np.int64(4), "a NumPy bool": np.bool_(True),
    "a layer": nn.Linear(2, 2), "an object": object(), "Ellipsis": ..., "a function": len,
    "a tensor needing gradients": torch.ones(3, requires_grad=True), "a ragged list": [[1, 2], [3]],
}
CHEAP = [check_conv2d, check_conv_output_size, check_conv_parameter_count, check_max_pool, check_batch_norm,
         check_compact_cnn, check_rgba_to_rgb, check_inverted_dropout, check_early_stopping, check_class_weights,
         check_worst_mistakes, check_normalize_batch, check_timed_training, check_decoded_cache,
         check_freeze_all_but_last, check_build_model, check_predict_classes, check_random_search]
RESNETS = [check_replace_head, check_freeze_backbone, check_fine_tuning_optimizer]  # a ResNet-18 per call: fewer values
FEW = ["None", "a string", "a 0-d tensor", "a layer", "a NumPy array"]


def judged(feedback):
    return not feedback.passed and UNJUDGED not in feedback.text()


@pytest.mark.parametrize("check", CHEAP, ids=lambda check: check.__name__)
def test_odd_returns_get_feedback(check):
    for name, value in ODD_RETURNS.items():
        feedback = check(lambda *args, _value=value, **kwargs: _value)
        assert judged(feedback), f"{name}: {feedback.text()}"


@pytest.mark.parametrize("check", RESNETS, ids=lambda check: check.__name__)
def test_odd_returns_get_feedback_resnets(check):
    for name in FEW:
        feedback = check(lambda *args, _value=ODD_RETURNS[name], **kwargs: _value)
        assert judged(feedback), f"{name}: {feedback.text()}"


@pytest.mark.parametrize("which", ["images per second", "speed-up"])
def test_odd_returns_get_feedback_throughput(which):
    for name, value in ODD_RETURNS.items():
        odd = lambda *args, _value=value, **kwargs: _value  # noqa: E731
        if which == "images per second":
            feedback = check_throughput(odd, lambda new, base: new / base)
        else:
            feedback = check_throughput(lambda s, b, w: sum(b[w:]) / sum(s[w:]), odd)
        assert judged(feedback), f"{name}: {feedback.text()}"
