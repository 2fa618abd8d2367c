"""train_full_batch: one step per epoch on all the data, a tidy history, validation without gradients."""

import pandas as pd
import pytest
import torch
from torch import nn

from workshop_utils.full_batch_training import classification_accuracy, make_optimizer, train_full_batch


def _line_data():
    torch.manual_seed(0)
    X = torch.linspace(-1, 1, 40).unsqueeze(1)
    return X, 3 * X - 1


def test_a_linear_model_learns_a_line_and_the_history_says_so():
    X, y = _line_data()
    torch.manual_seed(0)
    model = nn.Linear(1, 1)
    history = train_full_batch(model, X, y, nn.MSELoss(), epochs=300, lr=0.1, X_val=X[::4], y_val=y[::4])
    assert isinstance(history, pd.DataFrame)
    assert list(history.columns) == ["epoch", "train_loss", "val_loss"]
    assert history["epoch"].tolist() == list(range(1, 301))
    assert history["train_loss"].iloc[-1] < 1e-3 < history["train_loss"].iloc[0]
    assert model.weight.item() == pytest.approx(3, abs=0.05) and model.bias.item() == pytest.approx(-1, abs=0.05)
    assert not model.training  # left in evaluation mode


def test_the_recorded_train_loss_is_the_loss_before_each_step():
    X, y = _line_data()
    torch.manual_seed(0)
    model = nn.Linear(1, 1)
    with torch.no_grad():
        before = nn.functional.mse_loss(model(X), y).item()
    history = train_full_batch(model, X, y, nn.MSELoss(), epochs=1, lr=0.1, optimizer="sgd")
    assert history["train_loss"].iloc[0] == pytest.approx(before)
    assert "val_loss" not in history.columns


def test_plain_sgd_takes_exactly_the_gradient_step():
    X, y = _line_data()
    model = nn.Linear(1, 1)
    with torch.no_grad():
        model.weight.fill_(0.0)
        model.bias.fill_(0.0)
    train_full_batch(model, X, y, nn.MSELoss(), epochs=1, lr=0.5, optimizer="sgd")
    gradient_of_bias = (2 * (0 - y)).mean().item()  # d/db of mean((w x + b - y)^2) at w = b = 0
    assert model.bias.item() == pytest.approx(-0.5 * gradient_of_bias, rel=1e-5)


def test_metrics_get_train_and_val_columns_and_validation_records_no_gradients():
    torch.manual_seed(0)
    X = torch.randn(60, 2)
    y = (X[:, 0] > 0).float().unsqueeze(1)
    model = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
    history = train_full_batch(model, X, y, nn.BCELoss(), epochs=200, lr=0.1, X_val=X[:20], y_val=y[:20],
                               metrics={"acc": classification_accuracy})
    assert list(history.columns) == ["epoch", "train_loss", "train_acc", "val_loss", "val_acc"]
    assert history["val_acc"].iloc[-1] >= 0.95
    assert all(parameter.grad is not None for parameter in model.parameters())  # from the last training step


def test_dropout_is_on_in_training_and_off_in_validation():
    X, y = _line_data()
    model = nn.Sequential(nn.Linear(1, 50), nn.Dropout(0.5), nn.Linear(50, 1))
    history = train_full_batch(model, X, y, nn.MSELoss(), epochs=1, lr=0.0, X_val=X, y_val=y, optimizer="sgd")
    with torch.no_grad():
        assert history["val_loss"].iloc[0] == pytest.approx(nn.functional.mse_loss(model.eval()(X), y).item())


def test_the_thread_count_is_restored():
    X, y = _line_data()
    threads = torch.get_num_threads()
    train_full_batch(nn.Linear(1, 1), X, y, nn.MSELoss(), epochs=2, threads=1)
    assert torch.get_num_threads() == threads


def test_classification_accuracy_reads_probabilities_and_scores():
    assert classification_accuracy(torch.tensor([[0.9], [0.2], [0.6]]), torch.tensor([1.0, 0.0, 0.0])) == pytest.approx(2 / 3)
    assert classification_accuracy(torch.tensor([[2.0, 1.0], [0.0, 3.0]]), torch.tensor([0, 1])) == 1.0
    with pytest.raises(ValueError):
        classification_accuracy(torch.zeros(3), torch.zeros(4))


def test_bad_arguments_are_explained():
    X, y = _line_data()
    model = nn.Linear(1, 1)
    with pytest.raises(ValueError, match="epochs"):
        train_full_batch(model, X, y, nn.MSELoss(), epochs=0)
    with pytest.raises(ValueError, match="examples"):
        train_full_batch(model, X, y[:5], nn.MSELoss(), epochs=1)
    with pytest.raises(ValueError, match="both X_val and y_val"):
        train_full_batch(model, X, y, nn.MSELoss(), epochs=1, X_val=X)
    with pytest.raises(ValueError, match="optimizer"):
        make_optimizer("adamw-ish", model.parameters(), 0.1)
    built = torch.optim.SGD(model.parameters(), lr=0.1)
    assert make_optimizer(built, model.parameters(), 0.5) is built
