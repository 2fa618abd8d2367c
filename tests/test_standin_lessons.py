"""The road-sign stand-in must keep notebook 05's lessons true: a small CNN overfits it, and the
rare classes are the ones it gets wrong (class imbalance matters)."""

import torch
import torch.nn as nn

from workshop_utils.data import TensorBatchLoader, load_road_signs
from workshop_utils.seeding import seed_everything


def small_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 8 * 8, 64), nn.ReLU(), nn.Linear(64, 4),
    )


def accuracy(model, images, labels) -> float:
    with torch.no_grad():
        return (model(images).argmax(1) == labels).float().mean().item()


def test_a_small_cnn_overfits_the_road_sign_standin(monkeypatch, one_torch_thread):
    monkeypatch.delenv("WORKSHOP_SMOKE", raising=False)  # the full-size stand-in, as attendees get it
    monkeypatch.setenv("WORKSHOP_OFFLINE", "1")
    data = load_road_signs(image_size=32, progress=False)
    assert data.source == "stand-in"
    train_x, train_y = data.train.tensors
    val_x, val_y = data.val.tensors

    seed_everything(0)
    model = small_cnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    batches = TensorBatchLoader(train_x, train_y, batch_size=32, shuffle=True, seed=0)  # new order each epoch
    for _ in range(40):  # no dropout, no augmentation, no weight decay, no early stopping
        for images, labels in batches:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(images), labels).backward()
            optimizer.step()
    model.eval()
    train_accuracy, val_accuracy = accuracy(model, train_x, train_y), accuracy(model, val_x, val_y)
    assert train_accuracy >= 0.9, train_accuracy
    assert train_accuracy - val_accuracy >= 0.1, (train_accuracy, val_accuracy)

    with torch.no_grad():
        predictions = model(val_x).argmax(1)
    recall = {name: (predictions[val_y == index] == index).float().mean().item()
              for index, name in enumerate(data.classes)}
    rare = min(recall["stop"], recall["trafficlight"], recall["crosswalk"])
    assert recall["speedlimit"] - rare >= 0.3, recall  # the majority class hides the rare ones
