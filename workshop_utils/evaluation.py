"""Looking at a trained classifier: its predictions, per-class scores and worst mistakes.

- :func:`predict` runs a model over a data set once (eval mode, no gradients) and keeps everything a
  lesson looks at afterwards: labels, predicted classes, probabilities and each example's loss;
- :func:`per_class_report` and :func:`macro_f1` turn predictions into scikit-learn's per-class
  recall (= per-class accuracy), precision and F1;
- :func:`worst_mistakes` lists the wrong predictions the model was most sure of: the first place to
  look for wrongly labelled images;
- :func:`parameter_count` counts a model's (trainable) parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn


@dataclass
class Predictions:
    """What a model said about every example of a data set, in the data set's order.

    ``labels`` and ``predicted`` are int64 tensors of N class indices, ``probabilities`` an N x C
    float tensor (softmax of the outputs), ``losses`` each example's cross-entropy.
    """

    labels: torch.Tensor
    predicted: torch.Tensor
    probabilities: torch.Tensor
    losses: torch.Tensor

    @property
    def accuracy(self) -> float:
        return (self.predicted == self.labels).float().mean().item() if len(self.labels) else float("nan")

    @property
    def confidence(self) -> torch.Tensor:
        """The probability the model gave to the class it predicted."""
        return self.probabilities.max(dim=1).values

    def __len__(self) -> int:
        return len(self.labels)


def _batches(data, batch_size: int) -> Iterable[tuple[torch.Tensor, torch.Tensor]]:
    """``(inputs, labels)`` batches, in order, from a loader, a data set or an ``(inputs, labels)`` pair."""
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data):
        inputs, labels = data
    elif hasattr(data, "tensors") and getattr(data, "transform", None) is None:
        inputs, labels = data.tensors[0], data.tensors[-1]
    elif hasattr(data, "__getitem__") and hasattr(data, "__len__") and not hasattr(data, "batch_size"):
        # A per-item Dataset (e.g. one with a transform): its items, batched in order.
        loader = torch.utils.data.DataLoader(data, batch_size=batch_size, shuffle=False)
        yield from loader
        return
    else:  # a DataLoader or TensorBatchLoader: used as it is (its batch size and order)
        yield from data
        return
    if len(inputs) != len(labels):
        raise ValueError(f"{len(inputs)} inputs but {len(labels)} labels.")
    for start in range(0, len(labels), batch_size):
        yield inputs[start:start + batch_size], labels[start:start + batch_size]


def _model_device(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def predict(model: nn.Module, data, *, batch_size: int = 512, device: torch.device | str | None = None) -> Predictions:
    """Run ``model`` over ``data`` once, in eval mode and without gradients, and keep its answers.

    ``data``: an ``(inputs, labels)`` pair of tensors, a TensorDataset / ImageTensorDataset, or a
    loader yielding ``(inputs, labels)`` (not shuffled, if you want to match examples to files).
    The model's outputs must be class scores (logits), N x C. The model is left in eval mode.
    """
    device = torch.device(device) if device is not None else _model_device(model)
    model.eval()
    labels, outputs = [], []
    with torch.no_grad():
        for inputs, batch_labels in _batches(data, batch_size):
            scores = model(inputs.to(device))
            if scores.dim() != 2:
                raise ValueError(f"The model returned outputs of shape {tuple(scores.shape)}; predict() needs "
                                 "class scores of shape (batch, classes).")
            outputs.append(scores.float().cpu())
            labels.append(batch_labels.cpu())
    if not outputs:
        raise ValueError("The data is empty: there is nothing to predict.")
    logits, labels = torch.cat(outputs), torch.cat(labels).long()
    return Predictions(labels=labels, predicted=logits.argmax(dim=1), probabilities=logits.softmax(dim=1),
                       losses=nn.functional.cross_entropy(logits, labels, reduction="none"))


def _as_numpy(values) -> np.ndarray:
    return values.cpu().numpy() if isinstance(values, torch.Tensor) else np.asarray(values)


def per_class_report(labels, predicted, classes: Sequence[str]) -> pd.DataFrame:
    """One row per class: ``support`` (how many examples), ``recall`` (the share of them predicted
    right: the per-class accuracy), ``precision`` and ``f1``, from scikit-learn.

    A class the model never predicts gets precision 0 (not a warning).
    """
    from sklearn.metrics import precision_recall_fscore_support

    precision, recall, f1, support = precision_recall_fscore_support(
        _as_numpy(labels), _as_numpy(predicted), labels=np.arange(len(classes)), zero_division=0)
    report = pd.DataFrame({"support": support, "recall": recall, "precision": precision, "f1": f1},
                          index=pd.Index(list(classes), name="class"))
    return report


def macro_f1(labels, predicted, num_classes: int | None = None) -> float:
    """The F1 score of every class, averaged with equal weight per class (scikit-learn's ``macro``).

    Unlike accuracy, a rare class counts as much as a frequent one. ``num_classes`` includes classes
    absent from this split (scoring 0), so that splits are compared over the same classes.
    """
    from sklearn.metrics import f1_score

    labels, predicted = _as_numpy(labels), _as_numpy(predicted)
    classes = np.arange(num_classes) if num_classes is not None else None
    return float(f1_score(labels, predicted, labels=classes, average="macro", zero_division=0))


def worst_mistakes(predictions: Predictions, k: int = 10) -> torch.Tensor:
    """Indices of up to ``k`` wrong predictions, the most confident first (highest loss first).

    A confident mistake is either a hard example or a wrong label; look at them before blaming the
    model. Ties keep the data set's order.
    """
    if k < 0:
        raise ValueError(f"k must be 0 or more, got {k}.")
    wrong = (predictions.predicted != predictions.labels).nonzero()[:, 0]
    order = torch.argsort(predictions.losses[wrong], descending=True, stable=True)
    return wrong[order][:k]


def parameter_count(model: nn.Module, trainable_only: bool = False) -> int:
    """How many numbers the model learns (``trainable_only``: only those with ``requires_grad``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
