"""workshop_utils.transfer: backbones, heads, freezing, cached features, and pretrained weights from the cache,
the loopback server or a cached stand-in pretraining."""

from __future__ import annotations

import dataclasses
import hashlib
import io

import pytest
import torch
from torch import nn

from http_fixtures import Reply, download_env, http_server  # noqa: F401 (fixtures)
from workshop_utils import transfer
from workshop_utils.data import DataUnavailable, ImageTensorDataset, manifest
from workshop_utils.evaluation import parameter_count

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def resnet_state() -> dict[str, torch.Tensor]:
    """A 1000-class ResNet-18 state dict, shaped like ImageNet's (random values)."""
    torch.manual_seed(1)
    return transfer.backbone_spec("resnet18").build().state_dict()


# --------------------------------------------------------------------------------------------------
# Backbones, normalization, heads
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, head_type, features", [("resnet18", nn.Linear, 512),
                                                       ("mobilenet_v3_small", nn.Linear, 1024)])
def test_backbones_know_their_head(name, head_type, features):
    model = transfer.backbone_spec(name).build()
    head = transfer.get_head(model, name)
    assert isinstance(head, head_type) and (head.in_features, head.out_features) == (features, 1000)
    assert model.state_dict()[transfer.head_prefix(name) + "weight"] is not None
    old = transfer.replace_head(model, name, nn.Linear(features, 3))
    assert old is head and transfer.get_head(model, name).out_features == 3
    with pytest.raises(ValueError, match="known: resnet18, mobilenet_v3_small"):
        transfer.backbone_spec("vgg16")


def test_imagenet_normalization_comes_from_the_weights_transforms():
    mean, std = transfer.imagenet_normalization("resnet18")
    assert mean == pytest.approx([0.485, 0.456, 0.406]) and std == pytest.approx([0.229, 0.224, 0.225])
    assert transfer.imagenet_normalization("mobilenet_v3_small") == (mean, std)
    images = torch.rand(2, 3, 4, 5)
    normalized = transfer.normalize_images(images, mean, std)
    assert torch.allclose(normalized[:, 1], (images[:, 1] - 0.456) / 0.224)
    with pytest.raises(ValueError, match="float N x C x H x W"):
        transfer.normalize_images(torch.zeros(3, 4, 5, dtype=torch.uint8), mean, std)


def test_build_backbone_keeps_pretrained_weights_and_adds_a_new_head(resnet_state):
    torch.manual_seed(0)
    model = transfer.build_backbone("resnet18", 4, resnet_state)
    state = model.state_dict()
    assert torch.equal(state["conv1.weight"], resnet_state["conv1.weight"])
    assert torch.equal(state["layer4.1.bn2.running_var"], resnet_state["layer4.1.bn2.running_var"])
    assert state["fc.weight"].shape == (4, 512)
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 4)
    from_scratch = transfer.build_backbone("resnet18", 4)
    assert not torch.equal(from_scratch.state_dict()["conv1.weight"], resnet_state["conv1.weight"])


def test_weights_of_another_architecture_are_refused(resnet_state):
    with pytest.raises(ValueError, match="do not fit a MobileNetV3-small backbone"):
        transfer.build_backbone("mobilenet_v3_small", 4, resnet_state)


def test_a_standin_state_with_a_4_class_head_loads_too():
    source = transfer.backbone_spec("mobilenet_v3_small").build(num_classes=4)
    model = transfer.build_backbone("mobilenet_v3_small", 7, source.state_dict())
    assert torch.equal(model.features[0][0].weight, source.features[0][0].weight)
    assert torch.equal(model.classifier[0].weight, source.classifier[0].weight)  # pretrained too: not the head
    assert model.classifier[3].out_features == 7


# --------------------------------------------------------------------------------------------------
# Freezing, optimizers, what changes
# --------------------------------------------------------------------------------------------------

def test_freezing_leaves_only_the_head_trainable(resnet_state):
    model = transfer.build_backbone("resnet18", 4, resnet_state)
    assert parameter_count(model, trainable_only=True) == parameter_count(model) == 11_178_564
    transfer.freeze_backbone(model, "resnet18")
    assert parameter_count(model, trainable_only=True) == 512 * 4 + 4
    assert all(p.requires_grad for p in transfer.head_parameters(model, "resnet18"))
    assert not any(p.requires_grad for p in transfer.backbone_parameters(model, "resnet18"))
    transfer.unfreeze(model)
    assert parameter_count(model, trainable_only=True) == parameter_count(model)


def test_fine_tuning_optimizer_has_two_learning_rates():
    model = transfer.build_backbone("mobilenet_v3_small", 4)
    optimizer = transfer.fine_tuning_optimizer(model, "mobilenet_v3_small", 1e-4, 1e-3, weight_decay=1e-5)
    backbone, head = optimizer.param_groups
    assert (backbone["lr"], head["lr"], head["weight_decay"]) == (1e-4, 1e-3, 1e-5)
    assert head["params"] == [model.classifier[3].weight, model.classifier[3].bias]
    assert len(backbone["params"]) + 2 == len(list(model.parameters()))


def test_frozen_training_in_train_mode_changes_the_head_and_batch_norm_buffers_only(resnet_state):
    model = transfer.freeze_backbone(transfer.build_backbone("resnet18", 4, resnet_state), "resnet18")
    before = transfer.snapshot_state(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)  # frozen parameters get no gradient: untouched
    model.train()
    for _ in range(2):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(torch.randn(4, 3, 32, 32)), torch.tensor([0, 1, 2, 3])).backward()
        optimizer.step()
    changes = transfer.what_changed(before, model, "resnet18")
    assert changes.head == ["fc.weight", "fc.bias"] and changes.backbone_parameters == []
    assert "bn1.running_mean" in changes.backbone_buffers and "layer1.0.bn1.num_batches_tracked" in changes.backbone_buffers
    assert "conv1.weight" in changes.unchanged


def test_extract_features_is_what_reaches_the_head(resnet_state):
    model = transfer.build_backbone("resnet18", 4, resnet_state)
    images = torch.randn(5, 3, 32, 32)
    features = transfer.extract_features(model, "resnet18", images, batch_size=2)
    assert features.shape == (5, 512) and not features.requires_grad
    assert not model.training and isinstance(model.fc, nn.Linear)  # eval mode, head back in place
    with torch.no_grad():
        assert torch.allclose(model.fc(features), model(images), atol=1e-5)


def test_time_inference_measures_both_ways():
    model = transfer.build_backbone("mobilenet_v3_small", 4)
    images = torch.randn(2, 3, 32, 32)
    with_grad = transfer.time_inference(model, images, grad_enabled=True, repeat=2)
    without = transfer.time_inference(model, images, grad_enabled=False, repeat=2)
    assert with_grad > 0 and without > 0 and not model.training
    assert transfer.memory_kept_for_backward(model, images, grad_enabled=False) == 0
    assert transfer.memory_kept_for_backward(model, images, grad_enabled=True) > images.numel() * 4


def test_small_training_subset_keeps_the_class_mix():
    labels = torch.tensor([0] * 80 + [1] * 16 + [2] * 4)
    chosen = transfer.small_training_subset(labels, 25, seed=0)
    assert len(chosen) == 25 and torch.equal(chosen, chosen.sort().values)
    assert torch.bincount(labels[chosen]).tolist() == [20, 4, 1]
    assert not torch.equal(chosen, transfer.small_training_subset(labels, 25, seed=1))
    assert torch.equal(transfer.small_training_subset(labels, 500), torch.arange(100))


# --------------------------------------------------------------------------------------------------
# ImageNet weights through the data layer (torchvision's TORCH_HOME layout)
# --------------------------------------------------------------------------------------------------

def _weights_bytes(name: str) -> bytes:
    torch.manual_seed(2)
    buffer = io.BytesIO()
    torch.save(transfer.backbone_spec(name).build().state_dict(), buffer)
    return buffer.getvalue()


def _register_weights(monkeypatch, name: str, payload: bytes, url: str | None = None) -> str:
    """Make the manifest expect ``payload`` (a test state dict) under torchvision's real file name."""
    info = manifest.get_dataset_info(name)
    remote = dataclasses.replace(info.files[0], size=len(payload), url=url or info.files[0].url, mirrors=(),
                                 known_hash="sha256:" + hashlib.sha256(payload).hexdigest())
    monkeypatch.setitem(manifest.DATASETS, name, dataclasses.replace(info, files=(remote,)))
    return remote.name


def test_weights_placed_in_torch_home_load_with_no_network(download_env, tmp_path, monkeypatch):  # noqa: F811 (fixtures)
    monkeypatch.setenv("WORKSHOP_OFFLINE", "1")
    payload = _weights_bytes("mobilenet_v3_small")
    filename = _register_weights(monkeypatch, "mobilenet_v3_small", payload)
    assert filename == "mobilenet_v3_small-047dcff4.pth"
    checkpoints = tmp_path / "torch-home" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / filename).write_bytes(payload)

    weights = transfer.pretrained_weights("mobilenet_v3_small", progress=False)

    assert weights.available and not weights.is_standin and weights.path == checkpoints / filename
    assert "ImageNet-1k" in weights.source
    expected = torch.load(io.BytesIO(payload), weights_only=True)
    assert all(torch.equal(weights.state[key], value) for key, value in expected.items())
    import torchvision

    torchvision_model = torchvision.models.mobilenet_v3_small(weights="IMAGENET1K_V1")  # the same file, no network
    assert torch.equal(torchvision_model.features[0][0].weight, expected["features.0.0.weight"])


def test_weights_are_downloaded_into_torch_home(download_env, http_server, tmp_path, monkeypatch):  # noqa: F811 (fixtures)
    payload = _weights_bytes("mobilenet_v3_small")
    filename = _register_weights(monkeypatch, "mobilenet_v3_small", payload,
                                 url=http_server.url("/models/mobilenet_v3_small-047dcff4.pth"))
    http_server.script(f"/models/{filename}", Reply(503, b"busy"), Reply(body=payload))

    weights = transfer.load_imagenet_weights("mobilenet_v3_small")

    assert weights.available and weights.path == tmp_path / "torch-home" / "hub" / "checkpoints" / filename
    assert http_server.requests == [f"/models/{filename}"] * 2


def test_corrupt_weights_in_the_cache_are_not_used_offline(download_env, tmp_path, monkeypatch):  # noqa: F811 (fixtures)
    monkeypatch.setenv("WORKSHOP_OFFLINE", "1")
    filename = _register_weights(monkeypatch, "mobilenet_v3_small", _weights_bytes("mobilenet_v3_small"))
    checkpoints = tmp_path / "torch-home" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / filename).write_bytes(b"half a file")

    weights = transfer.load_imagenet_weights("mobilenet_v3_small")

    assert not weights.available and "WORKSHOP_OFFLINE=1" in weights.reason
    assert not (checkpoints / filename).exists()  # deleted by the verification, as for every cached file


def test_real_data_only_refuses_the_standin(download_env, monkeypatch):  # noqa: F811 (fixtures)
    monkeypatch.setenv("WORKSHOP_OFFLINE", "1")
    monkeypatch.setenv("WORKSHOP_REAL_DATA_ONLY", "1")
    with pytest.raises(DataUnavailable) as caught:
        transfer.pretrained_weights("resnet18", progress=False)
    message = str(caught.value)
    assert "WORKSHOP_REAL_DATA_ONLY=1 forbids the stand-in" in message
    assert "python data_download.py download resnet18 mobilenet_v3_small" in message
    assert "hub/checkpoints" in message


# --------------------------------------------------------------------------------------------------
# The stand-in pretraining: zoomed-out crops, trained once, cached atomically
# --------------------------------------------------------------------------------------------------

def test_zoom_out_puts_a_smaller_copy_of_each_image_on_another_background():
    images = torch.rand(6, 3, 16, 16)
    assert torch.allclose(transfer.zoom_out(images, 1.0, torch.Generator().manual_seed(0)), images, atol=1e-6)
    zoomed = transfer.zoom_out(images, 0.5, torch.Generator().manual_seed(0))
    again = transfer.zoom_out(images, 0.5, torch.Generator().manual_seed(0))
    assert zoomed.shape == images.shape and torch.equal(zoomed, again)
    assert not torch.allclose(zoomed, images) and torch.equal(images, images.clone())


def test_zoom_out_batches_changes_the_inputs_only():
    from workshop_utils.data import TensorBatchLoader

    images, labels = torch.rand(10, 3, 8, 8), torch.arange(10)
    batches = transfer.ZoomOutBatches(TensorBatchLoader(images, labels, batch_size=4), min_scale=0.5, seed=0)
    assert len(batches) == 3
    drawn = list(batches)
    assert [tuple(x.shape) for x, _ in drawn] == [(4, 3, 8, 8), (4, 3, 8, 8), (2, 3, 8, 8)]
    assert torch.equal(torch.cat([y for _, y in drawn]), labels)
    assert not torch.equal(drawn[0][0], list(batches)[0][0])  # a new draw every epoch


# --------------------------------------------------------------------------------------------------
# The stand-in source task: a tiny one, for speed
# --------------------------------------------------------------------------------------------------

class TinySource:
    """A RoadSignData-shaped source task of 24 images of 16 px (instead of GTSRB's thousands)."""

    classes = ["crosswalk", "speedlimit", "stop", "trafficlight"]
    source = "stand-in"

    def __init__(self):
        generator = torch.Generator().manual_seed(3)
        images = torch.randint(0, 256, (24, 3, 16, 16), dtype=torch.uint8, generator=generator)
        labels = torch.arange(24) % 4
        self.train = ImageTensorDataset(images[:16], labels[:16])
        self.val = ImageTensorDataset(images[16:], labels[16:])


@pytest.fixture
def tiny_source(monkeypatch, download_env):  # noqa: F811 (fixtures)
    import workshop_utils.data

    calls = []

    def load_gtsrb_subset(image_size, seed, progress):
        calls.append(image_size)
        return TinySource()

    monkeypatch.setattr(workshop_utils.data, "load_gtsrb_subset", load_gtsrb_subset)
    monkeypatch.setenv("WORKSHOP_OFFLINE", "1")
    return calls


def test_missing_weights_are_announced_and_replaced_by_a_cached_standin(tiny_source, capsys):
    first = transfer.pretrained_weights("mobilenet_v3_small", standin_image_size=16, standin_epochs=1,
                                        device="cpu", progress=False)
    banner = " ".join(line.strip("# ") for line in capsys.readouterr().out.splitlines())  # unwrapped
    assert "STAND-IN WEIGHTS: no ImageNet weights for MobileNetV3-small" in banner
    assert "python data_download.py download resnet18 mobilenet_v3_small" in banner and "WORKSHOP_OFFLINE=1" in banner
    assert first.is_standin and first.available and not first.details["cached"]
    assert first.path.name == (f"mobilenet_v3_small-gtsrb-standin-16px-1ep-zoom{transfer.ZOOM_MIN_SCALE:g}-seed0-smoke"
                               f"-v{transfer.STANDIN_RECIPE_VERSION}.pt")
    assert sorted(p.name for p in first.path.parent.iterdir()) == [first.path.name]  # no temporary file left
    assert "pretrained here on GTSRB's 4 sign classes (stand-in, 16 crops of 16 px zoomed out, 1 epochs)" in first.source

    second = transfer.pretrained_weights("mobilenet_v3_small", standin_image_size=16, standin_epochs=1,
                                         device="cpu", progress=False)
    assert second.details["cached"] and tiny_source == [16]  # loaded, not trained again
    assert second.details["source_val_acc"] == first.details["source_val_acc"]
    assert all(torch.equal(second.state[key], value) for key, value in first.state.items())
    model = transfer.build_backbone("mobilenet_v3_small", 4, second.state)
    assert torch.equal(model.features[0][0].weight, first.state["features.0.0.weight"])


def test_a_damaged_standin_cache_is_trained_again(tiny_source, capsys):
    path = transfer.standin_checkpoint_path("mobilenet_v3_small", 16, 1, 0, smoke=True, real_source=False)
    path.write_bytes(b"cut off")
    weights = transfer.standin_pretrained_weights("mobilenet_v3_small", image_size=16, epochs=1, device="cpu",
                                                  progress=False)
    assert "cannot be used" in capsys.readouterr().out
    assert not weights.details["cached"] and tiny_source == [16]
    assert transfer.standin_pretrained_weights("mobilenet_v3_small", image_size=16, epochs=1, device="cpu",
                                               progress=False).details["cached"]


def test_the_standin_cache_key_separates_what_matters(download_env):  # noqa: F811 (fixtures)
    paths = {transfer.standin_checkpoint_path("resnet18", size, epochs, seed, smoke=smoke, real_source=real,
                                              zoom_min_scale=zoom)
             for size in (32, 64) for epochs in (1, 6) for seed in (0, 1) for smoke in (False, True)
             for real in (False, True) for zoom in (0.4, 1.0)}
    assert len(paths) == 64 and all(path.parent.name == transfer.STANDIN_CACHE_FOLDER for path in paths)
