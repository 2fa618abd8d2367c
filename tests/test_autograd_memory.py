"""What autograd keeps for backward, and that no_grad keeps nothing."""

import torch

from workshop_utils.autograd_memory import bytes_saved_for_backward


def test_tracking_keeps_each_layer_output_and_no_grad_keeps_nothing():
    weights = [torch.randn(64, 64, requires_grad=True) for _ in range(3)]
    batch = torch.randn(32, 64)

    def forward():
        h = batch
        for weight in weights:
            h = torch.tanh(h @ weight)
        return h

    tracked = bytes_saved_for_backward(forward, [batch, *weights])
    # tanh saves its output (32 x 64 float32) per layer; matmul saves its input, already counted once.
    assert tracked >= 3 * 32 * 64 * 4
    assert bytes_saved_for_backward(forward, [batch, *weights]) == tracked  # repeatable
    with torch.no_grad():
        assert bytes_saved_for_backward(forward, [batch, *weights]) == 0


def test_inputs_and_weights_are_not_counted():
    x = torch.randn(1000, requires_grad=True)
    # x * 2 saves nothing worth counting except possibly x itself, which exists anyway.
    assert bytes_saved_for_backward(lambda: x * 2, [x]) == 0
    assert bytes_saved_for_backward(lambda: x * x, []) == x.untyped_storage().nbytes()
