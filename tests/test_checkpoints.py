"""save_checkpoint / load_checkpoint: round trip, atomic writes, a safe load, and errors that say what to do."""

import numpy as np
import pytest
import torch
from torch import nn

from workshop_utils import checkpoints
from workshop_utils.checkpoints import CheckpointError, load_checkpoint, save_checkpoint, state_dict_mismatch


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see tests/conftest.py


def model_and_optimizer(seed=0, hidden=4):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    model(torch.randn(8, 3)).sum().backward()  # one step: Adam has state, batch norm has running stats
    optimizer.step()
    return model, optimizer


def files_in(folder):
    return sorted(path.name for path in folder.iterdir())


def test_round_trip_restores_weights_optimizer_state_and_extras(tmp_path):
    model, optimizer = model_and_optimizer(seed=0)
    path = save_checkpoint(tmp_path / "sub" / "best.pt", model, optimizer, epoch=7, val_loss=np.float32(0.25),
                           classes=["a", "b"], note=None)
    assert path == tmp_path / "sub" / "best.pt" and files_in(path.parent) == ["best.pt"]

    fresh, fresh_optimizer = model_and_optimizer(seed=1)
    info = load_checkpoint(path, fresh, fresh_optimizer)
    assert info == {"epoch": 7, "val_loss": 0.25, "classes": ["a", "b"], "note": None}
    assert isinstance(info["val_loss"], float)  # the NumPy scalar was stored as a Python number
    for key, value in model.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], value), key
    saved_state, loaded_state = optimizer.state_dict()["state"], fresh_optimizer.state_dict()["state"]
    assert saved_state.keys() == loaded_state.keys()
    assert all(torch.equal(saved_state[i]["exp_avg"], loaded_state[i]["exp_avg"]) for i in saved_state)


def test_loading_is_safe_weights_only(tmp_path, monkeypatch):
    model, _ = model_and_optimizer()
    save_checkpoint(tmp_path / "m.pt", model)
    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    load_checkpoint(tmp_path / "m.pt", model)
    assert calls == [{"map_location": "cpu", "weights_only": True}]


def test_saving_replaces_the_old_file_atomically_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    first, _ = model_and_optimizer(seed=0)
    path = save_checkpoint(tmp_path / "best.pt", first, epoch=1)
    second, _ = model_and_optimizer(seed=1)
    save_checkpoint(path, second, epoch=2)
    assert files_in(tmp_path) == ["best.pt"]
    assert load_checkpoint(path, model_and_optimizer(seed=2)[0]) == {"epoch": 2}

    def crash_halfway(obj, file, *args, **kwargs):
        file.write(b"PK\x03\x04 half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoints.torch, "save", crash_halfway)
    with pytest.raises(CheckpointError, match="Could not write the checkpoint .*disk full"):
        save_checkpoint(path, first, epoch=3)
    monkeypatch.undo()
    assert files_in(tmp_path) == ["best.pt"]  # no temporary file left behind
    assert load_checkpoint(path, model_and_optimizer(seed=2)[0]) == {"epoch": 2}  # the old checkpoint is intact


def test_extras_a_safe_load_could_not_read_are_refused_when_saving(tmp_path):
    model, _ = model_and_optimizer()
    with pytest.raises(TypeError, match=r"cannot store when=.*float\(\.\.\.\)"):
        save_checkpoint(tmp_path / "m.pt", model, when=object())
    assert files_in(tmp_path) == []


def test_a_missing_file_is_explained(tmp_path):
    model, _ = model_and_optimizer()
    with pytest.raises(CheckpointError, match=r"No checkpoint at .*does not exist.*checkpoint_path") as error:
        load_checkpoint(tmp_path / "nope.pt", model)
    assert error.value.reason == "missing" and isinstance(error.value, ValueError)
    with pytest.raises(CheckpointError, match="is a folder"):
        load_checkpoint(tmp_path, model)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_a_damaged_file_is_explained(tmp_path, damage):
    model, optimizer = model_and_optimizer()
    path = save_checkpoint(tmp_path / "best.pt", model, optimizer)
    data = path.read_bytes()
    path.write_bytes({"truncated": data[:len(data) // 2], "garbage": b"not a checkpoint at all", "empty": b""}[damage])
    with pytest.raises(CheckpointError, match="damaged.*Copy or download it again, or retrain") as error:
        load_checkpoint(path, model)
    assert error.value.reason == "corrupt"


def test_files_that_are_not_workshop_checkpoints_are_explained(tmp_path):
    model, _ = model_and_optimizer()
    torch.save(model, tmp_path / "whole_model.pt")  # a pickled object: a safe load refuses it
    with pytest.raises(CheckpointError, match=r"not a workshop checkpoint: it holds Python objects") as error:
        load_checkpoint(tmp_path / "whole_model.pt", model)
    assert error.value.reason == "not_a_checkpoint"

    torch.save(model.state_dict(), tmp_path / "state.pt")
    with pytest.raises(CheckpointError, match=r"plain state_dict.*model.load_state_dict"):
        load_checkpoint(tmp_path / "state.pt", model)

    torch.save({"accuracy": 0.9}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match=r"not a workshop checkpoint \(it holds a dict with keys \['accuracy'\]"):
        load_checkpoint(tmp_path / "other.pt", model)


def test_an_architecture_mismatch_lists_the_differences(tmp_path):
    model, _ = model_and_optimizer(hidden=4)
    path = save_checkpoint(tmp_path / "best.pt", model)
    wider, _ = model_and_optimizer(hidden=8)
    with pytest.raises(CheckpointError, match="does not fit this model") as error:
        load_checkpoint(path, wider)
    message = str(error.value)
    assert "different shapes: 0.weight: checkpoint (4, 3), model (8, 3)" in message
    assert "3.weight: checkpoint (2, 4), model (2, 8)" in message
    assert "Build the model exactly as it was built" in message and error.value.reason == "mismatch"
    assert len(message) < 1500  # a readable list, not PyTorch's wall of text

    deeper = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    with pytest.raises(CheckpointError) as error:
        load_checkpoint(path, deeper)
    message = str(error.value)
    assert "missing from the checkpoint: 2.weight, 2.bias" in message
    assert "in the checkpoint but not in the model: 1.weight, 1.bias, 1.running_mean" in message


def test_state_dict_mismatch_truncates_long_lists():
    saved = {f"layer{i}.weight": torch.zeros(1) for i in range(20)}
    problems = state_dict_mismatch(saved, {})
    assert problems == ["in the checkpoint but not in the model: " + ", ".join(list(saved)[:8]) + " (and 12 more)"]
    assert state_dict_mismatch(saved, dict(saved)) == []


def test_optimizer_problems_are_explained(tmp_path):
    model, optimizer = model_and_optimizer()
    path = save_checkpoint(tmp_path / "weights_only.pt", model)
    with pytest.raises(CheckpointError, match="holds no optimizer state") as error:
        load_checkpoint(path, model, optimizer)
    assert error.value.reason == "no_optimizer_state"

    path = save_checkpoint(tmp_path / "with_optimizer.pt", model, optimizer)
    other = torch.optim.Adam(list(model.parameters())[:2], lr=0.01)  # fewer parameters than when saved
    with pytest.raises(CheckpointError, match="does not fit this optimizer"):
        load_checkpoint(path, model, other)
