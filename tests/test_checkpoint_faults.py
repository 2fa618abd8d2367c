"""Checkpoints under faults (issue 15): unwritable paths, a full disk, killed saves, another optimizer, hand-made dicts.

A full disk is the kernel's own ENOSPC: the save's temporary file descriptor is swapped for one on
``/dev/full`` (Linux), so ``torch.save`` meets a real "No space left on device" from the OS.
An unwritable folder is a path below a regular file, which even root cannot create.
"""

import os
import tempfile
import time
import warnings
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from workshop_utils import checkpoints
from workshop_utils.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from workshop_utils.training import fit

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see tests/conftest.py

QUIET = {"progress": False, "live_plot": False, "device": "cpu"}


def tiny_model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2))


def tiny_loaders():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(32, 2, generator=generator)
    y = (x[:, 0] > 0).long()
    data = TensorDataset(x, y)
    return DataLoader(data, batch_size=16), DataLoader(data, batch_size=16)


@pytest.fixture
def full_disk(monkeypatch):
    """Every checkpoint temporary file is written to /dev/full: the OS answers ENOSPC to each write."""
    if not Path("/dev/full").exists():
        pytest.skip("needs Linux's /dev/full")
    real_mkstemp = tempfile.mkstemp

    def mkstemp_on_full_disk(*args, **kwargs):
        handle, name = real_mkstemp(*args, **kwargs)  # the real (empty) temporary file, cleaned up by the code
        os.close(handle)
        return os.open("/dev/full", os.O_WRONLY), name

    monkeypatch.setattr(checkpoints.tempfile, "mkstemp", mkstemp_on_full_disk)


def test_fit_with_an_unwritable_checkpoint_path_fails_before_the_first_epoch(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    epochs_run = []
    monkeypatch.setattr("workshop_utils.training.train_epoch",
                        lambda *args, **kwargs: epochs_run.append(1) or (0.0, 0.0))
    train, val = tiny_loaders()

    with pytest.raises(CheckpointError, match="Cannot save a checkpoint in .*a-file.*checkpoint_path") as caught:
        fit(tiny_model(), train, val, epochs=2, checkpoint_path=blocker / "runs" / "best.pt", **QUIET)
    assert caught.value.reason == "unwritable"
    assert epochs_run == []  # no training time was spent


def test_a_folder_as_checkpoint_path_is_explained(tmp_path):
    with pytest.raises(CheckpointError, match="it is a folder. Pass a file name"):
        save_checkpoint(tmp_path, tiny_model())


def test_disk_full_during_a_save_is_a_readable_message_and_leaves_nothing(tmp_path, full_disk):
    path = tmp_path / "best.pt"
    with pytest.raises(CheckpointError, match=r"Could not write the checkpoint .*best.pt \(the disk is probably "
                                              r"full; [\d,]+ MB free there\)") as caught:
        save_checkpoint(path, tiny_model())
    assert caught.value.reason == "unwritable"
    assert "enforce" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []  # no temporary file, no half checkpoint


def test_disk_full_during_fit_warns_and_keeps_training_and_the_history(tmp_path, full_disk):
    train, val = tiny_loaders()
    with pytest.warns(UserWarning, match="disk is probably full.*Training goes on without saving checkpoints"):
        result = fit(tiny_model(), train, val, epochs=3, lr=0.05, checkpoint_path=tmp_path / "best.pt", **QUIET)
    assert len(result.history) == 3
    assert not (tmp_path / "best.pt").exists() and list(tmp_path.iterdir()) == []


def test_temporaries_of_killed_saves_are_removed_by_the_next_save(tmp_path):
    path = tmp_path / "best.pt"
    stale = tmp_path / ".best.pt.abc123.tmp"  # what a save killed mid-write leaves (mkstemp's naming)
    stale.write_bytes(b"\0" * 1000)
    old = time.time() - checkpoints.STALE_TEMPORARY_SECONDS - 60
    os.utime(stale, (old, old))
    fresh = tmp_path / ".best.pt.def456.tmp"  # maybe another kernel's save in progress: kept
    fresh.write_bytes(b"\0")
    unrelated = tmp_path / ".other.pt.xyz.tmp"
    unrelated.write_bytes(b"\0")
    os.utime(unrelated, (old, old))

    save_checkpoint(path, tiny_model())

    assert sorted(p.name for p in tmp_path.iterdir()) == [".best.pt.def456.tmp", ".other.pt.xyz.tmp", "best.pt"]


def test_an_sgd_checkpoint_is_refused_by_adam_naming_both(tmp_path):
    model = tiny_model()
    sgd = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(4, 2)).sum().backward()
    sgd.step()
    save_checkpoint(tmp_path / "sgd.pt", model, sgd)

    fresh = tiny_model(seed=1)
    adam = torch.optim.Adam(fresh.parameters())
    with pytest.raises(CheckpointError, match="saved by SGD, but you passed a Adam") as caught:
        load_checkpoint(tmp_path / "sgd.pt", fresh, adam)
    assert caught.value.reason == "mismatch"


def test_an_older_checkpoint_without_the_optimizer_name_is_checked_by_its_settings(tmp_path):
    model = tiny_model()
    sgd = torch.optim.SGD(model.parameters(), lr=0.1)
    payload = {"format": checkpoints.FORMAT, "version": 1, "model_state": model.state_dict(),
               "optimizer_state": sgd.state_dict(), "extra": {}}
    torch.save(payload, tmp_path / "old.pt")

    adam = torch.optim.Adam(tiny_model().parameters())
    with pytest.raises(CheckpointError, match="another optimizer \\(its settings lack .*betas"):
        load_checkpoint(tmp_path / "old.pt", tiny_model(), adam)
    load_checkpoint(tmp_path / "old.pt", tiny_model(), torch.optim.SGD(tiny_model().parameters(), lr=0.1))


@pytest.mark.parametrize("payload, named", [
    ({}, "no 'model_state'"),
    ({"model_state": [1, 2]}, "'model_state' is a list"),
    ({"model_state": {}, "optimizer_state": "adam"}, "'optimizer_state' is a str"),
    ({"model_state": {}, "extra": 7}, "'extra' is a int"),
], ids=["no-weights", "weights-a-list", "optimizer-a-string", "extra-a-number"])
def test_hand_made_checkpoints_with_missing_parts_are_explained(tmp_path, payload, named):
    torch.save({"format": checkpoints.FORMAT, "version": 1, **payload}, tmp_path / "hand.pt")
    with pytest.raises(CheckpointError, match="incomplete: .*" + named.replace("(", "\\(")) as caught:
        load_checkpoint(tmp_path / "hand.pt", tiny_model(), torch.optim.SGD(tiny_model().parameters(), lr=0.1))
    assert caught.value.reason == "not_a_checkpoint" and "save_checkpoint(path, model, optimizer)" in str(caught.value)


def test_a_hand_made_checkpoint_with_only_weights_loads(tmp_path):
    model = tiny_model()
    torch.save({"format": checkpoints.FORMAT, "model_state": model.state_dict()}, tmp_path / "weights.pt")
    fresh = tiny_model(seed=3)
    assert load_checkpoint(tmp_path / "weights.pt", fresh) == {}
    assert all(torch.equal(a, b) for a, b in zip(fresh.state_dict().values(), model.state_dict().values()))
