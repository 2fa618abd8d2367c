"""TensorBatchLoader, and the lesson the Fashion-MNIST stand-in must keep: a small CNN beats a big MLP."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from workshop_utils.data.loaders import ImageTensorDataset
from workshop_utils.data.standins import fashion_mnist_standin_arrays
from workshop_utils.data.tensor_loader import TensorBatchLoader


def _epoch_indices(loader: TensorBatchLoader) -> list[int]:
    return [int(i) for (batch, _) in loader for i in batch]


def test_every_index_exactly_once_per_epoch():
    index = torch.arange(103)
    loader = TensorBatchLoader(index, index * 2, batch_size=10, shuffle=True, seed=0)
    for _ in range(2):
        seen = []
        for batch, doubled in loader:
            assert torch.equal(doubled, batch * 2)  # rows stay together
            seen += batch.tolist()
        assert sorted(seen) == list(range(103))
        assert seen != list(range(103))


def test_without_shuffle_batches_come_in_order():
    index = torch.arange(25)
    loader = TensorBatchLoader(index, batch_size=10)
    assert [batch.tolist() for (batch,) in loader] == [list(range(10)), list(range(10, 20)), list(range(20, 25))]


def test_seeded_shuffle_is_reproducible_and_epochs_differ():
    index = torch.arange(50)
    first = TensorBatchLoader(index, index, batch_size=8, shuffle=True, seed=7)
    second = TensorBatchLoader(index, index, batch_size=8, shuffle=True, seed=7)
    epochs_first = [_epoch_indices(first) for _ in range(2)]
    assert epochs_first == [_epoch_indices(second) for _ in range(2)]
    assert epochs_first[0] != epochs_first[1]
    assert _epoch_indices(TensorBatchLoader(index, index, batch_size=8, shuffle=True, seed=8)) != epochs_first[0]


def test_unseeded_shuffle_follows_torch_manual_seed():
    index = torch.arange(40)
    loader = TensorBatchLoader(index, index, batch_size=8, shuffle=True)
    torch.manual_seed(1)
    first = _epoch_indices(loader)
    torch.manual_seed(1)
    assert _epoch_indices(loader) == first
    generator = torch.Generator().manual_seed(1)
    assert sorted(_epoch_indices(TensorBatchLoader(index, index, batch_size=8, shuffle=True,
                                                   generator=generator))) == list(range(40))
    with pytest.raises(ValueError, match="seed or generator"):
        TensorBatchLoader(index, batch_size=8, seed=1, generator=generator)


@pytest.mark.parametrize("drop_last, sizes", [(False, [3, 3, 3, 1]), (True, [3, 3, 3])])
@pytest.mark.parametrize("shuffle", [False, True])
def test_len_and_drop_last(drop_last, sizes, shuffle):
    loader = TensorBatchLoader(torch.arange(10), batch_size=3, shuffle=shuffle, drop_last=drop_last, seed=0)
    assert len(loader) == len(sizes)
    assert [len(batch) for (batch,) in loader] == sizes
    assert len(loader.dataset) == 10 and loader.batch_size == 3


def test_accepts_datasets_and_refuses_per_item_transforms():
    images = torch.zeros(6, 3, 4, 4, dtype=torch.uint8)
    labels = torch.arange(6)
    loader = TensorBatchLoader(TensorDataset(images.float(), labels), batch_size=4)
    assert len(loader) == 2 and isinstance(loader.dataset, TensorDataset)
    plain = TensorBatchLoader(ImageTensorDataset(images, labels), batch_size=4)
    x, y = next(iter(plain))
    assert x.dtype == torch.float32 and x.shape == (4, 3, 4, 4)
    with pytest.raises(ValueError, match="per-item transform"):
        TensorBatchLoader(ImageTensorDataset(images, labels, transform=lambda image: image), batch_size=4)


@pytest.mark.parametrize("args, kwargs, error", [
    ((torch.zeros(3), torch.zeros(4)), {"batch_size": 2}, "same number of examples"),
    ((torch.zeros(3),), {"batch_size": 0}, "positive integer"),
    ((torch.zeros(3),), {"batch_size": True}, "positive integer"),
    ((torch.tensor(1.0),), {"batch_size": 2}, "first"),
    ((), {"batch_size": 2}, "at least one tensor"),
])
def test_bad_arguments(args, kwargs, error):
    with pytest.raises(ValueError, match=error):
        TensorBatchLoader(*args, **kwargs)
    with pytest.raises(TypeError):
        TensorBatchLoader(torch.zeros(3), [1, 2, 3], batch_size=2)


def test_tensors_move_to_the_device_once():
    device = "cuda" if torch.cuda.is_available() else "cpu"
    loader = TensorBatchLoader(torch.arange(8), torch.ones(8), batch_size=4, shuffle=True, device=device, seed=0)
    assert all(t.device.type == device for t in loader.tensors)
    assert all(t.device.type == device for batch in loader for t in batch)
    assert "batches=2" in repr(loader)


# ------------------------------------------------------------------------------------------------
# The lesson of notebook 04 on the stand-in: a CNN with a tenth of the parameters beats the MLP
# ------------------------------------------------------------------------------------------------

def _train_and_score(model: nn.Module, train: TensorBatchLoader, test_images, test_labels, epochs: int) -> float:
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    for _ in range(epochs):
        model.train()
        for images, labels in train:  # written as for a DataLoader
            loss = nn.functional.cross_entropy(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        return (model(test_images).argmax(1) == test_labels).float().mean().item()


def test_a_small_cnn_beats_a_ten_times_larger_mlp_on_the_fashion_standin():
    torch.manual_seed(0)
    train_images, train_labels, test_images, test_labels = fashion_mnist_standin_arrays(8000, 2000, seed=0)
    as_tensors = lambda images, labels: (torch.from_numpy(images).unsqueeze(1).float() / 255,  # noqa: E731
                                         torch.from_numpy(labels).long())
    train_x, train_y = as_tensors(train_images, train_labels)
    test_x, test_y = as_tensors(test_images, test_labels)
    loader = TensorBatchLoader(train_x, train_y, batch_size=64, shuffle=True, seed=0)

    mlp = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                        nn.Linear(128, 10))
    cnn = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(16 * 7 * 7, 10))
    count = lambda model: sum(p.numel() for p in model.parameters())  # noqa: E731
    assert count(cnn) * 10 < count(mlp)

    mlp_accuracy = _train_and_score(mlp, loader, test_x, test_y, epochs=4)
    cnn_accuracy = _train_and_score(cnn, loader, test_x, test_y, epochs=4)
    assert mlp_accuracy > 0.3  # the MLP learns something...
    assert cnn_accuracy > mlp_accuracy + 0.08, (cnn_accuracy, mlp_accuracy)  # ...the CNN clearly more
