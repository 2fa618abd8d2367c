"""How much memory autograd keeps for the backward pass: what ``torch.no_grad()`` saves.

During a forward pass with gradient tracking on, autograd stores intermediate results that the backward
pass will need (each layer's output for tanh, its input for a matrix product...). Under ``no_grad`` it
stores nothing. :func:`bytes_saved_for_backward` measures that with PyTorch's saved-tensor hooks.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import torch


def bytes_saved_for_backward(forward: Callable[[], Any], already_stored: Iterable[torch.Tensor] = ()) -> int:
    """Bytes of the tensors autograd saves while ``forward()`` runs, each storage counted once.

    Tensors in ``already_stored`` (the inputs and weights, which exist anyway) are not counted.
    Called inside ``torch.no_grad()`` it returns 0: nothing is saved.
    """
    known = {tensor.untyped_storage().data_ptr() for tensor in already_stored}
    saved: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in known:
            saved[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        forward()
    return sum(saved.values())
