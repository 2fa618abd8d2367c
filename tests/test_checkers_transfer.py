"""Notebook 06's checkers (normalization, a new head, freezing, fine-tuning learning rates) against mistakes catalogues:
what attendees get wrong, hostile returns, and right answers in other styles (see checker_catalogue.py)."""

import copy

import pytest
import torch
from torch import nn

from workshop_utils import transfer
from workshop_utils.checkers.transfer import (_normalize_cases, check_fine_tuning_optimizer, check_freeze_backbone,
                                              check_normalize_batch, check_replace_head,
                                              reference_fine_tuning_optimizer, reference_freeze_backbone,
                                              reference_normalize_batch, reference_replace_head)

from checker_catalogue import NAN, assert_case, hostile, ids, mistake, raises, returns, right, stub

# ResNet-18s on two busy cores: one thread is several times faster (see conftest.one_torch_thread).
pytestmark = pytest.mark.usefixtures("one_torch_thread")


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


def column(values):
    return torch.tensor(values).view(1, 3, 1, 1)


def normalize_in_place(images, mean, std):
    result = reference_normalize_batch(images, mean, std)
    images.zero_()
    return result


def normalize_loop(images, mean, std):
    x = images.to(torch.float32).div(255)
    channels = [(x[:, c] - mean[c]) / std[c] for c in range(3)]
    return torch.stack(channels, dim=1)


NORMALIZE_CATALOGUE = [
    right("broadcast with [:, None, None]", normalize_right),
    right("the reference", reference_normalize_batch),
    right("torchvision v2.Normalize", normalize_with_v2),
    right("float64", lambda x, m, s: reference_normalize_batch(x, m, s).double()),
    right("a loop over channels", normalize_loop),
    mistake("not scaled to [0, 1]", lambda x, m, s: (x.float() - column(m)) / column(s), "not scaled to [0, 1]"),
    mistake("mean along the width", lambda x, m, s: (x.float() / 255 - torch.tensor(m)) / torch.tensor(s),
            "the last dimension"),
    mistake("mean and std swapped", lambda x, m, s: (x.float() / 255 - column(s)) / column(m), "swapped"),
    mistake("times the std", lambda x, m, s: (x.float() / 255 - column(m)) * column(s), "multiplied by the std"),
    mistake("no division by the std", lambda x, m, s: x.float() / 255 - column(m), "did not divide by the std"),
    mistake("255 at the end", lambda x, m, s: (x.float() - column(m)) / column(s) / 255, "divided by 255 after"),
    mistake("the batch's own statistics", lambda x, m, s: (x.float() / 255 - (x.float() / 255).mean((0, 2, 3), keepdim=True))
            / (x.float() / 255).std((0, 2, 3), keepdim=True), "the batch's own mean"),
    mistake("ImageNet's numbers typed in", lambda x, m, s: (x.float() / 255 - column([0.485, 0.456, 0.406]))
            / column([0.229, 0.224, 0.225]), "typed in"),
    mistake("still uint8", lambda x, m, s: ((x - column(m)) / column(s)).to(torch.uint8), "images.float() / 255"),
    mistake("channels last", normalize_channels_last, "channels first"),
    mistake("NumPy", lambda x, m, s: x.float().div_(255).sub_(column(m)).div_(column(s)).numpy(), "NumPy"),
    mistake("in place", normalize_in_place, "in place"),
    mistake("shape error", lambda x, m, s: x.float() / 255 - torch.tensor(m + [0.0]), "your code raised RuntimeError"),
    hostile("None", returns(None), "forget `return`"),
    hostile("stub", stub, "not done yet"),
    hostile("raises", raises, "raised ValueError"),
    hostile("a string", returns("normalized"), "expected a tensor"),
    hostile("NaN", lambda x, m, s: reference_normalize_batch(x, m, s) * NAN, "contains nan"),
    hostile("the first batch typed in", returns(reference_normalize_batch(*_normalize_cases()[0][1:])),
            "answer of an earlier example"),
]


@pytest.mark.parametrize("case", NORMALIZE_CATALOGUE, ids=ids(NORMALIZE_CATALOGUE))
def test_normalize_catalogue(case):
    assert_case(check_normalize_batch, case)


# -- 06.2 a new head -------------------------------------------------------------------------------

HEAD = "Exercise 06.2 (a new head)"


def head_returns_nothing(model, num_classes):
    model.fc = nn.Linear(model.fc.in_features, num_classes)


def head_nan(model, num_classes):
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    with torch.no_grad():
        model.fc.weight.fill_(NAN)
    return model


HEAD_CATALOGUE = [
    right("the reference", reference_replace_head),
    right("setattr", lambda m, k: setattr(m, "fc", nn.Linear(m.fc.in_features, k)) or m),
    right("a copy", lambda m, k: copy.deepcopy(reference_replace_head(m, k))),
    right("in_features from the weight's shape", lambda m, k: setattr(m, "fc", nn.Linear(m.fc.weight.shape[1], k)) or m),
    mistake("returns nothing", head_returns_nothing, "returned None"),
    mistake("a layer stacked after", lambda m, k: nn.Sequential(m, nn.Linear(1000, k)), "stacked a new layer"),
    mistake("a new network", lambda m, k: transfer.backbone_spec("resnet18").build(num_classes=k), "built a new one"),
    mistake("softmax in the head", lambda m, k: setattr(m, "fc", nn.Sequential(nn.Linear(m.fc.in_features, k),
                                                                              nn.Softmax(dim=1))) or m, "softmax"),
    mistake("4 classes typed in", lambda m, k: setattr(m, "fc", nn.Linear(m.fc.in_features, 4)) or m, "hard-coded"),
    mistake("512 typed in", lambda m, k: setattr(m, "fc", nn.Linear(512, k)) or m, "512 is hard-coded"),
    mistake("1000 inputs", lambda m, k: setattr(m, "fc", nn.Linear(1000, k)) or m, "OLD head's output size"),
    mistake("1000 outputs", lambda m, k: setattr(m, "fc", nn.Linear(m.fc.in_features, 1000)) or m,
            "still has 1000 outputs"),
    mistake("MobileNet's classifier", lambda m, k: setattr(m, "classifier", nn.Linear(512, k)) or m,
            "still has 1000 outputs"),
    mistake("the head's weight", lambda m, k: m.fc.weight, "expected the model"),
    mistake("a wrong attribute", lambda m, k: m.head, "your code raised AttributeError"),
    hostile("None", returns(None), "returned None"),
    hostile("stub", stub, "not done yet"),
    hostile("raises", raises, "raised ValueError"),
    hostile("a string", returns("model"), "expected the model"),
    hostile("NaN weights", head_nan, "contain NaN"),
    hostile("the head instead of the model", lambda m, k: nn.Linear(m.fc.in_features, k), "built a new one"),
]


@pytest.mark.parametrize("case", HEAD_CATALOGUE, ids=ids(HEAD_CATALOGUE))
def test_head_catalogue(case):
    assert_case(check_replace_head, case)


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


def freeze_by_name(model):
    for name, parameter in model.named_parameters():
        parameter.requires_grad = name.startswith("fc.")


FREEZE_CATALOGUE = [
    right("the reference", reference_freeze_backbone),
    right("the library's", lambda m: transfer.freeze_backbone(m, "resnet18")),
    right("requires_grad_ on modules", lambda m: (m.requires_grad_(False), m.fc.requires_grad_(True))),
    right("by name, returning nothing", freeze_by_name),
    mistake("everything frozen", freeze_everything, "the head is frozen too"),
    mistake("model.eval()", lambda m: m.eval(), "model.eval() does not freeze"),
    mistake("an attribute on the model", freeze_attribute, "attribute called requires_grad"),
    mistake("the head frozen", freeze_head_only, "the other way round"),
    mistake("convolutions only", freeze_convolutions_only, "batch norm's weight and bias"),
    mistake("torch.no_grad()", freeze_under_no_grad, "torch.no_grad()"),
    mistake("the head's bias frozen", freeze_head_weight_only, "fc.bias is frozen"),
    mistake("parameters replaced", freeze_by_replacing, "replaced by other tensors"),
    mistake("a frozen copy", lambda m: reference_freeze_backbone(copy.deepcopy(m)), "you froze a copy"),
    mistake("a wrong attribute", lambda m: m.backbone.requires_grad_(False), "your code raised AttributeError"),
    hostile("None", returns(None), "nothing is frozen"),
    hostile("stub", stub, "not done yet"),
    hostile("raises", raises, "raised ValueError"),
    hostile("a string", returns("frozen"), "nothing is frozen"),
    hostile("NaN", returns(NAN), "nothing is frozen"),
    hostile("a new frozen model", lambda m: reference_freeze_backbone(transfer.build_backbone("resnet18", 4)),
            "you froze a copy"),
]


@pytest.mark.parametrize("case", FREEZE_CATALOGUE, ids=ids(FREEZE_CATALOGUE))
def test_freeze_catalogue(case):
    assert_case(check_freeze_backbone, case)


def test_freeze_pass_message_counts_the_parameters():
    feedback = check_freeze_backbone(reference_freeze_backbone)
    assert "11,176,512 backbone parameters frozen, the head's 2,052 trainable" in feedback.text()


OPTIMIZER = "Exercise 06.4 (fine-tuning learning rates)"


def backbone_of(model):
    return [p for name, p in model.named_parameters() if not name.startswith("fc.")]


def optimizer_by_identity(model, backbone_lr, head_lr):
    head = set(map(id, model.fc.parameters()))
    return torch.optim.AdamW([{"params": [p for p in model.parameters() if id(p) not in head], "lr": backbone_lr},
                              {"params": list(model.fc.parameters()), "lr": head_lr}], weight_decay=0.01)


OPTIMIZER_CATALOGUE = [
    right("the reference", reference_fine_tuning_optimizer),
    right("the library's", lambda m, b, h: transfer.fine_tuning_optimizer(m, "resnet18", b, h)),
    right("SGD with a default lr", lambda m, b, h: torch.optim.SGD([{"params": m.fc.parameters(), "lr": h},
                                                                  {"params": backbone_of(m)}], lr=b, momentum=0.9)),
    right("AdamW by identity", optimizer_by_identity),
    mistake("one large rate", lambda m, b, h: torch.optim.Adam(m.parameters(), lr=h),
            "one learning rate for everything (the large one"),
    mistake("one small rate", lambda m, b, h: torch.optim.Adam(m.parameters(), lr=b),
            "one learning rate for everything (the small one"),
    mistake("rates swapped", lambda m, b, h: torch.optim.Adam([{"params": backbone_of(m), "lr": h},
                                                              {"params": m.fc.parameters(), "lr": b}]), "swapped"),
    mistake("head in both groups", lambda m, b, h: torch.optim.Adam([{"params": m.parameters(), "lr": b},
                                                                     {"params": m.fc.parameters(), "lr": h}]),
            "in both groups"),
    mistake("no backbone", lambda m, b, h: torch.optim.Adam(m.fc.parameters(), lr=h), "the backbone is not in the optimizer"),
    mistake("no head", lambda m, b, h: torch.optim.Adam(backbone_of(m), lr=b), "the head is not in the optimizer"),
    mistake("part of the backbone", lambda m, b, h: torch.optim.Adam([{"params": backbone_of(m)[2:], "lr": b},
                                                                     {"params": m.fc.parameters(), "lr": h}]),
            "some backbone parameters are missing"),
    mistake("rates typed in", lambda m, b, h: torch.optim.Adam([{"params": backbone_of(m), "lr": 1e-4},
                                                               {"params": m.fc.parameters(), "lr": 1e-3}]),
            "numbers typed in"),
    mistake("groups without an optimizer", lambda m, b, h: [{"params": backbone_of(m), "lr": b},
                                                            {"params": m.fc.parameters(), "lr": h}],
            "expected an optimizer"),
    mistake("a wrong attribute", lambda m, b, h: torch.optim.Adam([{"params": m.backbone.parameters()}]),
            "your code raised AttributeError"),
    hostile("None", returns(None), "expected an optimizer"),
    hostile("stub", stub, "not done yet"),
    hostile("raises", raises, "raised ValueError"),
    hostile("a string", returns("adam"), "expected an optimizer"),
    hostile("NaN rate", lambda m, b, h: torch.optim.Adam(m.parameters(), lr=NAN), "Invalid learning rate"),
    hostile("the model itself", lambda m, b, h: m, "expected an optimizer"),
]


@pytest.mark.parametrize("case", OPTIMIZER_CATALOGUE, ids=ids(OPTIMIZER_CATALOGUE))
def test_optimizer_catalogue(case):
    assert_case(check_fine_tuning_optimizer, case)


CATALOGUES = {check_normalize_batch: NORMALIZE_CATALOGUE, check_replace_head: HEAD_CATALOGUE,
              check_freeze_backbone: FREEZE_CATALOGUE, check_fine_tuning_optimizer: OPTIMIZER_CATALOGUE}
