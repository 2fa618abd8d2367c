import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from workshop_utils.data.loaders import ImageTensorDataset
from workshop_utils.evaluation import (Predictions, macro_f1, parameter_count, per_class_report, predict,
                                       worst_mistakes)


class FixedScores(nn.Module):
    """Returns the scores stored for each input's id (the input's first value), whatever the mode."""

    def __init__(self, scores: torch.Tensor):
        super().__init__()
        self.scores = scores
        self.unused = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return self.scores[x[:, 0].long()]


SCORES = torch.tensor([[4.0, 0.0, 0.0],    # id 0: predicts 0
                       [0.0, 5.0, 0.0],    # id 1: predicts 1
                       [9.0, 0.0, 0.0],    # id 2: predicts 0, very sure
                       [0.0, 0.0, 1.0],    # id 3: predicts 2
                       [0.0, 2.0, 0.0]])   # id 4: predicts 1
IDS = torch.arange(5).float().unsqueeze(1)
LABELS = torch.tensor([0, 1, 2, 2, 0])     # ids 2 and 4 are wrong; 2 is the more confident mistake


@pytest.mark.parametrize("data", [
    (IDS, LABELS),
    TensorDataset(IDS, LABELS),
    DataLoader(TensorDataset(IDS, LABELS), batch_size=2),
])
def test_predict_keeps_labels_predictions_probabilities_and_losses_in_order(data):
    model = FixedScores(SCORES)
    model.train()
    result = predict(model, data, batch_size=2)
    assert not model.training  # left in eval mode
    assert result.labels.tolist() == LABELS.tolist()
    assert result.predicted.tolist() == [0, 1, 0, 2, 1]
    assert result.accuracy == pytest.approx(3 / 5)
    assert torch.allclose(result.probabilities.sum(1), torch.ones(5))
    expected_losses = nn.functional.cross_entropy(SCORES, LABELS, reduction="none")
    assert torch.allclose(result.losses, expected_losses)
    assert torch.allclose(result.confidence, SCORES.softmax(1).max(1).values)
    assert len(result) == 5


def test_predict_applies_an_image_datasets_transform_item_by_item():
    images = torch.zeros(3, 1, 2, 2, dtype=torch.uint8)
    dataset = ImageTensorDataset(images, torch.tensor([0, 1, 2]), transform=lambda image: image + 1.0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    with torch.no_grad():
        model[1].weight.zero_()
        model[1].bias.copy_(torch.tensor([0.0, 0.0, 0.0]))
        model[1].weight[1] = 1.0  # class 1 wins only if the transform added 1 to every pixel
    assert predict(model, dataset).predicted.tolist() == [1, 1, 1]


def test_predict_explains_bad_outputs_and_empty_data():
    with pytest.raises(ValueError, match=r"\(batch, classes\)"):
        predict(nn.Flatten(0), (torch.zeros(2, 3), torch.zeros(2, dtype=torch.long)))
    with pytest.raises(ValueError, match="empty"):
        predict(nn.Linear(3, 2), (torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)))
    with pytest.raises(ValueError, match="3 inputs but 2 labels"):
        predict(nn.Linear(3, 2), (torch.zeros(3, 3), torch.zeros(2, dtype=torch.long)))


def test_worst_mistakes_lists_wrong_predictions_most_confident_first():
    result = predict(FixedScores(SCORES), (IDS, LABELS))
    assert worst_mistakes(result, 10).tolist() == [2, 4]
    assert worst_mistakes(result, 1).tolist() == [2]
    assert worst_mistakes(result, 0).tolist() == []
    with pytest.raises(ValueError):
        worst_mistakes(result, -1)


def test_worst_mistakes_is_empty_when_everything_is_right():
    perfect = Predictions(labels=torch.tensor([0, 1]), predicted=torch.tensor([0, 1]),
                          probabilities=torch.eye(2), losses=torch.zeros(2))
    assert worst_mistakes(perfect).tolist() == []


def test_per_class_report_gives_recall_as_per_class_accuracy():
    labels = np.array([0, 0, 0, 0, 1, 1, 2])
    predicted = np.array([0, 0, 0, 1, 1, 0, 0])
    report = per_class_report(labels, predicted, ["a", "b", "c"])
    assert report.index.tolist() == ["a", "b", "c"]
    assert report["support"].tolist() == [4, 2, 1]
    assert report["recall"].tolist() == pytest.approx([0.75, 0.5, 0.0])
    assert report["precision"].tolist() == pytest.approx([3 / 5, 1 / 2, 0.0])  # c is never predicted: 0, no warning
    assert report.loc["a", "f1"] == pytest.approx(2 * 0.6 * 0.75 / (0.6 + 0.75))


def test_macro_f1_weights_every_class_equally():
    labels = torch.tensor([0] * 9 + [1])
    all_majority = torch.zeros(10, dtype=torch.long)
    assert macro_f1(labels, all_majority) == pytest.approx((2 * 0.9 / 1.9 + 0.0) / 2)  # accuracy 0.9, macro-F1 0.47
    assert macro_f1(labels, labels) == pytest.approx(1.0)
    # A class absent from this split still counts when num_classes says it exists.
    assert macro_f1(labels, labels, num_classes=3) == pytest.approx(2 / 3)


def test_parameter_count_can_leave_out_frozen_parameters():
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    assert parameter_count(model) == 3 * 4 + 4 + 4 * 2 + 2
    model[0].requires_grad_(False)
    assert parameter_count(model, trainable_only=True) == 4 * 2 + 2
    assert parameter_count(model) == 26
