"""Notebook 06's checkers (normalization, a new head, freezing, fine-tuning learning rates) against right and wrong answers."""

import copy

import pytest
import torch
from torch import nn

from workshop_utils import transfer
from workshop_utils.checkers.transfer import (check_fine_tuning_optimizer, check_freeze_backbone,
                                              check_normalize_batch, check_replace_head,
                                              reference_fine_tuning_optimizer, reference_freeze_backbone,
                                              reference_normalize_batch, reference_replace_head)

# ResNet-18s on two busy cores: one thread is several times faster (see conftest.one_torch_thread).
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def stub(*args):
    raise NotImplementedError("Exercise: replace this line with your solution")


def fails_with(check, attempt, words, label):
    feedback = check(attempt)
    assert not feedback
    assert feedback.text().startswith(f"❌ {label}"), feedback.text()
    assert words in feedback.text(), feedback.text()


# -- 06.1 ImageNet normalization -------------------------------------------------------------------

NORMALIZE = "Exercise 06.1 (ImageNet normalization)"


def normalize_right(images, mean, std):
    x = images.float() / 255
    return (x - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]


def normalize_with_v2(images, mean, std):
    from torchvision.transforms import v2

    return v2.Normalize(mean, std)(images.float() / 255)


def normalize_channels_last(images, mean, std):
    return reference_normalize_batch(images, mean, std).permute(0, 2, 3, 1)


@pytest.mark.parametrize("answer", [normalize_right, reference_normalize_batch, normalize_with_v2,
                                    lambda x, m, s: reference_normalize_batch(x, m, s).double()])
def test_normalize_right_answers_pass(answer):
    feedback = check_normalize_batch(answer)
    assert feedback, feedback.text()


def column(values):
    return torch.tensor(values).view(1, 3, 1, 1)


@pytest.mark.parametrize("attempt, words", [
    (lambda x, m, s: (x.float() - column(m)) / column(s), "not scaled to [0, 1]"),
    (lambda x, m, s: (x.float() / 255 - torch.tensor(m)) / torch.tensor(s), "the last dimension"),
    (lambda x, m, s: (x.float() / 255 - column(s)) / column(m), "swapped"),
    (lambda x, m, s: (x.float() / 255 - column(m)) * column(s), "multiplied by the std"),
    (lambda x, m, s: x.float() / 255 - column(m), "did not divide by the std"),
    (lambda x, m, s: (x.float() - column(m)) / column(s) / 255, "divided by 255 after"),
    (lambda x, m, s: (x.float() / 255 - (x.float() / 255).mean((0, 2, 3), keepdim=True))
     / (x.float() / 255).std((0, 2, 3), keepdim=True), "the batch's own mean"),
    (lambda x, m, s: (x.float() / 255 - column([0.485, 0.456, 0.406])) / column([0.229, 0.224, 0.225]), "typed in"),
    (lambda x, m, s: ((x - column(m)) / column(s)).to(torch.uint8), "images.float() / 255"),
    (normalize_channels_last, "channels first"),
    (lambda x, m, s: x.float().div_(255).sub_(column(m)).div_(column(s)).numpy(), "NumPy"),
    (lambda x, m, s: x.float() / 255 - torch.tensor(m + [0.0]), "your code raised RuntimeError"),
    (stub, "not done yet"),
])
def test_normalize_wrong_answers(attempt, words):
    fails_with(check_normalize_batch, attempt, words, NORMALIZE)


def test_normalize_in_place_is_caught():
    def in_place(images, mean, std):
        result = reference_normalize_batch(images, mean, std)
        images.zero_()
        return result

    fails_with(check_normalize_batch, in_place, "in place", NORMALIZE)


# -- 06.2 a new head -------------------------------------------------------------------------------

HEAD = "Exercise 06.2 (a new head)"


def head_returns_nothing(model, num_classes):
    model.fc = nn.Linear(model.fc.in_features, num_classes)


@pytest.mark.parametrize("answer", [reference_replace_head,
                                    lambda m, k: setattr(m, "fc", nn.Linear(m.fc.in_features, k)) or m,
                                    lambda m, k: copy.deepcopy(reference_replace_head(m, k))])
def test_head_right_answers_pass(answer):
    feedback = check_replace_head(answer)
    assert feedback, feedback.text()


@pytest.mark.parametrize("attempt, words", [
    (head_returns_nothing, "returned None"),
    (lambda m, k: nn.Sequential(m, nn.Linear(1000, k)), "stacked a new layer"),
    (lambda m, k: transfer.backbone_spec("resnet18").build(num_classes=k), "built a new one"),
    (lambda m, k: setattr(m, "fc", nn.Sequential(nn.Linear(m.fc.in_features, k), nn.Softmax(dim=1))) or m, "softmax"),
    (lambda m, k: setattr(m, "fc", nn.Linear(m.fc.in_features, 4)) or m, "hard-coded"),
    (lambda m, k: setattr(m, "fc", nn.Linear(512, k)) or m, "512 is hard-coded"),
    (lambda m, k: setattr(m, "fc", nn.Linear(1000, k)) or m, "OLD head's output size"),
    (lambda m, k: setattr(m, "fc", nn.Linear(m.fc.in_features, 1000)) or m, "still has 1000 outputs"),
    (lambda m, k: setattr(m, "classifier", nn.Linear(512, k)) or m, "still has 1000 outputs"),
    (lambda m, k: m.fc.weight, "expected the model"),
    (lambda m, k: m.head, "your code raised AttributeError"),
    (stub, "not done yet"),
])
def test_head_wrong_answers(attempt, words):
    fails_with(check_replace_head, attempt, words, HEAD)


# -- 06.3 freezing the backbone ----------------------------------------------------------------------

FREEZE = "Exercise 06.3 (freezing the backbone)"


def freeze_everything(model):
    for parameter in model.parameters():
        parameter.requires_grad = False


def freeze_attribute(model):
    model.requires_grad = False
    model.fc.requires_grad = True


def freeze_head_only(model):
    for parameter in model.fc.parameters():
        parameter.requires_grad = False


def freeze_convolutions_only(model):
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            module.weight.requires_grad = False


def freeze_under_no_grad(model):
    with torch.no_grad():
        model(torch.zeros(2, 3, 32, 32))


def freeze_head_weight_only(model):
    reference_freeze_backbone(model)
    model.fc.bias.requires_grad = False


def freeze_by_replacing(model):
    for module in model.modules():
        for name, parameter in list(module.named_parameters(recurse=False)):
            setattr(module, name, nn.Parameter(parameter.detach(), requires_grad=name == "fc"))


@pytest.mark.parametrize("answer", [reference_freeze_backbone,
                                    lambda m: transfer.freeze_backbone(m, "resnet18"),
                                    lambda m: (m.requires_grad_(False), m.fc.requires_grad_(True))])
def test_freeze_right_answers_pass(answer):
    feedback = check_freeze_backbone(answer)
    assert feedback, feedback.text()
    assert "11,176,512 backbone parameters frozen, the head's 2,052 trainable" in feedback.text()


@pytest.mark.parametrize("attempt, words", [
    (freeze_everything, "the head is frozen too"),
    (lambda m: None, "nothing is frozen"),
    (lambda m: m.eval(), "model.eval() does not freeze"),
    (freeze_attribute, "attribute called requires_grad"),
    (freeze_head_only, "the other way round"),
    (freeze_convolutions_only, "batch norm's weight and bias"),
    (freeze_under_no_grad, "torch.no_grad()"),
    (freeze_head_weight_only, "fc.bias is frozen"),
    (freeze_by_replacing, "replaced by other tensors"),
    (lambda m: m.backbone.requires_grad_(False), "your code raised AttributeError"),
    (stub, "not done yet"),
])
def test_freeze_wrong_answers(attempt, words):
    fails_with(check_freeze_backbone, attempt, words, FREEZE)


# -- 06.4 fine-tuning learning rates -------------------------------------------------------------------

OPTIMIZER = "Exercise 06.4 (fine-tuning learning rates)"


def backbone_of(model):
    return [p for name, p in model.named_parameters() if not name.startswith("fc.")]


@pytest.mark.parametrize("answer", [
    reference_fine_tuning_optimizer,
    lambda m, b, h: transfer.fine_tuning_optimizer(m, "resnet18", b, h),
    lambda m, b, h: torch.optim.SGD([{"params": m.fc.parameters(), "lr": h}, {"params": backbone_of(m)}], lr=b,
                                    momentum=0.9),
])
def test_optimizer_right_answers_pass(answer):
    feedback = check_fine_tuning_optimizer(answer)
    assert feedback, feedback.text()


@pytest.mark.parametrize("attempt, words", [
    (lambda m, b, h: torch.optim.Adam(m.parameters(), lr=h), "one learning rate for everything (the large one"),
    (lambda m, b, h: torch.optim.Adam(m.parameters(), lr=b), "one learning rate for everything (the small one"),
    (lambda m, b, h: torch.optim.Adam([{"params": backbone_of(m), "lr": h}, {"params": m.fc.parameters(), "lr": b}]),
     "swapped"),
    (lambda m, b, h: torch.optim.Adam([{"params": m.parameters(), "lr": b}, {"params": m.fc.parameters(), "lr": h}]),
     "in both groups"),
    (lambda m, b, h: torch.optim.Adam(m.fc.parameters(), lr=h), "the backbone is not in the optimizer"),
    (lambda m, b, h: torch.optim.Adam(backbone_of(m), lr=b), "the head is not in the optimizer"),
    (lambda m, b, h: torch.optim.Adam([{"params": backbone_of(m)[2:], "lr": b}, {"params": m.fc.parameters(), "lr": h}]),
     "some backbone parameters are missing"),
    (lambda m, b, h: torch.optim.Adam([{"params": backbone_of(m), "lr": 1e-4}, {"params": m.fc.parameters(), "lr": 1e-3}]),
     "numbers typed in"),
    (lambda m, b, h: [{"params": backbone_of(m), "lr": b}, {"params": m.fc.parameters(), "lr": h}],
     "expected an optimizer"),
    (lambda m, b, h: torch.optim.Adam([{"params": m.backbone.parameters()}]), "your code raised AttributeError"),
    (stub, "not done yet"),
])
def test_optimizer_wrong_answers(attempt, words):
    fails_with(check_fine_tuning_optimizer, attempt, words, OPTIMIZER)
