"""The activation-function table of notebook 03: each function, its closed-form derivative and formula.

Every entry is an :class:`Activation`: a PyTorch implementation, the derivative written out by hand
(what the slide decks' table gives), both formulas as LaTeX text, the PyTorch layer to use, and the
parameter alpha where the function has one. The notebook checks every closed form against autograd.

>>> relu = get_activation("ReLU")
>>> relu.f(torch.tensor([-2.0, 3.0])), relu.df(torch.tensor([-2.0, 3.0]))
(tensor([0., 3.]), tensor([0., 1.]))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

# Randomized leaky ReLU: the negative slope is drawn from U(lower, upper) in training (PyTorch's defaults).
RRELU_LOWER = 1 / 8
RRELU_UPPER = 1 / 3
RRELU_EVAL_SLOPE = (RRELU_LOWER + RRELU_UPPER) / 2


@dataclass(frozen=True)
class Activation:
    """One row of the table.

    ``function(x, alpha)`` and ``derivative(x, alpha)`` are element-wise; functions without a parameter
    ignore ``alpha``. ``kinks`` are the inputs where the derivative jumps or is undefined: there the
    closed form and autograd may legitimately disagree (each picks one side).
    """

    name: str
    function: Callable[[Tensor, float], Tensor]
    derivative: Callable[[Tensor, float], Tensor]
    formula: str
    derivative_formula: str
    torch_layer: str
    alpha: float | None = None
    kinks: tuple[float, ...] = ()
    note: str = ""

    def parameter(self, alpha: float | None = None) -> float:
        """``alpha`` if given, else the default one (0.0 for functions without a parameter)."""
        if alpha is not None:
            return float(alpha)
        return 0.0 if self.alpha is None else self.alpha

    def f(self, x: Tensor, alpha: float | None = None) -> Tensor:
        """The activation at ``x`` (the default alpha unless one is given)."""
        return self.function(x, self.parameter(alpha))

    def df(self, x: Tensor, alpha: float | None = None) -> Tensor:
        """The closed-form derivative at ``x``."""
        return self.derivative(x, self.parameter(alpha))


def _binary_step(x: Tensor, alpha: float) -> Tensor:
    # A comparison: autograd cannot see through it, so f(x) does not depend on x for autograd at all.
    return (x >= 0).to(x.dtype)


def _binary_step_derivative(x: Tensor, alpha: float) -> Tensor:
    return torch.where(x == 0, torch.full_like(x, math.nan), torch.zeros_like(x))


def _ones_where_non_negative(x: Tensor, negative_slope: float) -> Tensor:
    return torch.where(x >= 0, torch.ones_like(x), torch.full_like(x, negative_slope))


ACTIVATIONS: dict[str, Activation] = {a.name: a for a in [
    Activation(
        "Identity", lambda x, a: x, lambda x, a: torch.ones_like(x),
        r"x", r"1", "nn.Identity()"),
    Activation(
        "Binary step", _binary_step, _binary_step_derivative,
        r"\begin{cases} 0 & x < 0 \\ 1 & x \ge 0 \end{cases}",
        r"\begin{cases} 0 & x \ne 0 \\ \text{undefined} & x = 0 \end{cases}",
        "(x >= 0).float()", kinks=(0.0,),
        note="no gradient anywhere: nothing for gradient descent to follow"),
    Activation(
        "Logistic (sigmoid)", lambda x, a: torch.sigmoid(x),
        lambda x, a: torch.sigmoid(x) * (1 - torch.sigmoid(x)),
        r"\sigma(x) = \frac{1}{1 + e^{-x}}", r"f(x)\,(1 - f(x))", "nn.Sigmoid()",
        note="saturates: f'(x) <= 0.25, and near 0 for large |x|"),
    Activation(
        "Tanh", lambda x, a: torch.tanh(x), lambda x, a: 1 - torch.tanh(x) ** 2,
        r"\tanh(x) = \frac{2}{1 + e^{-2x}} - 1", r"1 - f(x)^2", "nn.Tanh()",
        note="zero-centred, but saturates like the sigmoid"),
    Activation(
        "ArcTan", lambda x, a: torch.atan(x), lambda x, a: 1 / (1 + x ** 2),
        r"\tan^{-1}(x)", r"\frac{1}{1 + x^2}", "torch.atan (no layer)"),
    Activation(
        "ReLU", lambda x, a: F.relu(x), lambda x, a: _ones_where_non_negative(x, 0.0),
        r"\max(0, x)", r"\begin{cases} 0 & x < 0 \\ 1 & x \ge 0 \end{cases}", "nn.ReLU()", kinks=(0.0,),
        note="the default; a unit whose input stays negative gets no gradient ('dying ReLU')"),
    Activation(
        "PReLU", lambda x, a: torch.where(x >= 0, x, a * x), _ones_where_non_negative,
        r"\begin{cases} \alpha x & x < 0 \\ x & x \ge 0 \end{cases}",
        r"\begin{cases} \alpha & x < 0 \\ 1 & x \ge 0 \end{cases}", "nn.PReLU()", alpha=0.25, kinks=(0.0,),
        note="alpha is learned with the weights (nn.PReLU starts it at 0.25)"),
    Activation(
        "ELU", lambda x, a: F.elu(x, alpha=a),
        lambda x, a: torch.where(x >= 0, torch.ones_like(x), F.elu(x, alpha=a) + a),
        r"\begin{cases} \alpha (e^{x} - 1) & x < 0 \\ x & x \ge 0 \end{cases}",
        r"\begin{cases} f(x) + \alpha & x < 0 \\ 1 & x \ge 0 \end{cases}", "nn.ELU(alpha=1.0)",
        alpha=1.0, kinks=(0.0,), note="smooth for alpha = 1; negative outputs push the mean towards 0"),
    Activation(
        "SoftPlus", lambda x, a: F.softplus(x), lambda x, a: torch.sigmoid(x),
        r"\ln(1 + e^{x})", r"\frac{1}{1 + e^{-x}}", "nn.Softplus()",
        note="a smooth ReLU; its derivative is the sigmoid"),
    Activation(
        "Leaky ReLU", lambda x, a: F.leaky_relu(x, negative_slope=a), _ones_where_non_negative,
        r"\begin{cases} \alpha x & x < 0 \\ x & x \ge 0 \end{cases}",
        r"\begin{cases} \alpha & x < 0 \\ 1 & x \ge 0 \end{cases}", "nn.LeakyReLU(0.01)",
        alpha=0.01, kinks=(0.0,), note="a fixed small slope keeps negative units alive"),
    Activation(
        "RReLU", lambda x, a: F.rrelu(x, RRELU_LOWER, RRELU_UPPER, training=False),
        lambda x, a: _ones_where_non_negative(x, RRELU_EVAL_SLOPE),
        r"\begin{cases} a x & x < 0 \\ x & x \ge 0 \end{cases}",
        r"\begin{cases} a & x < 0 \\ 1 & x \ge 0 \end{cases}", "nn.RReLU(1/8, 1/3)", kinks=(0.0,),
        note="training: a ~ U(1/8, 1/3), new for every element and step; evaluation: a = mean = 11/48"),
]}


def activation_names() -> list[str]:
    """The table's names, in the order of the slide deck."""
    return list(ACTIVATIONS)


def get_activation(name: str) -> Activation:
    """The table entry called ``name`` (case-insensitive); a KeyError lists the valid names."""
    for key, activation in ACTIVATIONS.items():
        if key.lower() == name.strip().lower():
            return activation
    raise KeyError(f"no activation called {name!r}; choose one of {activation_names()}")


def autograd_derivative(function: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """f'(x) for an element-wise ``function``, computed by autograd.

    Because f acts on each element alone, d/dx_i of sum_j f(x_j) is f'(x_i): one backward pass gives
    the derivative at every point. A function autograd cannot see through (a comparison such as the
    binary step) does not depend on x as far as autograd knows: its derivative is 0.
    """
    x = x.detach().clone().requires_grad_(True)
    y = function(x)
    if not y.requires_grad:
        return torch.zeros_like(x)
    (grad,) = torch.autograd.grad(y.sum(), x)
    return grad


def away_from_kinks(x: Tensor, kinks: tuple[float, ...], gap: float = 1e-6) -> Tensor:
    """The points of ``x`` farther than ``gap`` from every kink (where one-sided slopes differ)."""
    keep = torch.ones_like(x, dtype=torch.bool)
    for kink in kinks:
        keep &= (x - kink).abs() > gap
    return x[keep]


def activation_table():
    """The table as a pandas DataFrame: name, formula, derivative (LaTeX in $...$), alpha, PyTorch, note."""
    import pandas as pd  # lazy: only the notebook's table needs pandas

    rows = [{
        "activation": a.name,
        "f(x)": f"${a.formula}$",
        "f'(x)": f"${a.derivative_formula}$",
        "alpha (default)": "" if a.alpha is None else f"{a.alpha:g}",
        "PyTorch": a.torch_layer,
        "note": a.note,
    } for a in ACTIVATIONS.values()]
    return pd.DataFrame(rows)


def activation_table_markdown() -> str:
    """The same table as Markdown, so that Jupyter and Colab typeset the formulas."""
    table = activation_table()
    header = "| " + " | ".join(table.columns) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    body = ["| " + " | ".join(str(value) for value in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([header, rule, *body])
