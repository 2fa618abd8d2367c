"""Random probes for checkers: new inputs on every call, so that no printed answer can be typed in.

A checker tries its fixed examples (those the notebook shows) and then one or more probes drawn from
``probe_generator(seed)``. The seed is new on every call and is named in the feedback ("a random probe
(seed 1234)"), so the probe can be rebuilt to debug, but its expected value cannot be copied into the
function: the next call draws another one.
"""

from __future__ import annotations

import random
from typing import Any

import torch

from .core import probe_seed


def fresh_seed() -> int:
    """A seed for this call's probes (the checkers' shared :func:`.core.probe_seed`): drawn from the operating
    system, not from the (probably seeded) torch RNG, so seeding in the notebook does not fix the probe."""
    return probe_seed()


def probe_generator(seed: int) -> torch.Generator:
    """A torch generator for the probe with this seed (tensors drawn with it never touch the global RNG)."""
    return torch.Generator().manual_seed(seed)


def probe_random(seed: int) -> random.Random:
    """A Python RNG for the probe with this seed (sizes, counts, strides...)."""
    return random.Random(seed)


def probe_label(seed: int) -> str:
    return f"a random probe (seed {seed})"


def as_float_tensor(value: Any) -> torch.Tensor | None:
    """``value`` as a detached float64 CPU tensor when it is a tensor or NumPy array of real numbers, else None.

    Comparing in float64 on the CPU means a right answer computed in float64, float16 or on a GPU never
    crashes the comparison (``Double did not match Float``, ``Expected all tensors on the same device``).
    """
    if torch.is_tensor(value):
        if value.is_complex():
            return None
        return value.detach().to("cpu", torch.float64)
    if type(value).__module__ == "numpy" and hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "biuf":
        return torch.as_tensor(value.astype("float64"))
    return None


def same_values(got: Any, expected: Any, *, atol: float = 1e-5, rtol: float = 1e-5) -> bool:
    """True when ``got`` (any real tensor or array, any dtype or device) has ``expected``'s shape and values."""
    got_values, expected_values = as_float_tensor(got), as_float_tensor(expected)
    if got_values is None or expected_values is None or got_values.shape != expected_values.shape:
        return False
    return bool(torch.allclose(got_values, expected_values, atol=atol, rtol=rtol, equal_nan=False))


TYPED_IN = ("this is the answer of an earlier example ({shown}), not of this input: the function must compute its "
            "result from its arguments, not return numbers typed in.")


def typed_in_message(got: Any, earlier: list[tuple[str, Any]]) -> str | None:
    """The message for an answer equal to an earlier example's answer (a copied, typed-in result), or None.

    The tolerance is that of printed numbers (4 decimals), which is what gets copied."""
    for shown, answer in earlier:
        if same_values(got, answer, atol=1e-4, rtol=1e-3):
            return TYPED_IN.format(shown=shown)
    return None
