"""Notebook 04's checkers against mistakes catalogues: what attendees get wrong, hostile returns, and right answers
in other styles (see checker_catalogue.py)."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import conv2d as convolve  # aliases bound before any check runs, as in a notebook's first cell
from torch import nn
from torch.nn import BatchNorm2d as Normalization
from torch.nn import Conv2d as Convolution
from torch.nn import MaxPool2d as Pooling
from torch.nn.functional import batch_norm as normalize
from torch.nn.functional import conv2d as c2d
from torch.nn.functional import max_pool2d as pool

from workshop_utils.checkers.convolution import (MAX_CNN_PARAMETERS, check_batch_norm, check_compact_cnn, check_conv2d,
                                                 check_conv_output_size, check_conv_parameter_count, check_max_pool)

from checker_catalogue import NAN, assert_case, hostile, ids, mistake, raises, returns, right, stub

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny models: one thread is fastest on busy cores

def crashes(*args, **kwargs):
    return torch.zeros(2, 3) @ torch.zeros(2, 3)


# --------------------------------------------------------------------------------------------------
# 04.1 convolution by hand
# --------------------------------------------------------------------------------------------------

def conv_right(image, kernel, stride=1, padding=0):
    padded = F.pad(image, (padding, padding, padding, padding))
    k_h, k_w = kernel.shape
    out_h = (image.shape[0] + 2 * padding - k_h) // stride + 1
    out_w = (image.shape[1] + 2 * padding - k_w) // stride + 1
    out = torch.zeros(out_h, out_w)
    for i in range(out_h):
        for j in range(out_w):
            out[i, j] = (padded[i * stride:i * stride + k_h, j * stride:j * stride + k_w] * kernel).sum()
    return out


def conv_unfold(image, kernel, stride=1, padding=0):  # vectorized: also right
    patches = F.unfold(image[None, None], kernel.shape, padding=padding, stride=stride)
    out_h = (image.shape[0] + 2 * padding - kernel.shape[0]) // stride + 1
    return (kernel.flatten() @ patches[0]).reshape(out_h, -1)


def conv_flipped(image, kernel, stride=1, padding=0):
    return conv_right(image, kernel.flip(0, 1), stride, padding)


def conv_one_short(image, kernel, stride=1, padding=0):
    return conv_right(image, kernel, stride, padding)[:-1, :-1]


def conv_no_stride(image, kernel, stride=1, padding=0):
    return conv_right(image, kernel, 1, padding)


def conv_stride_one_step(image, kernel, stride=1, padding=0):  # right size, window moves by one
    size = conv_right(image, kernel, stride, padding).shape
    return conv_right(image, kernel, 1, padding)[:size[0], :size[1]]


def conv_no_padding(image, kernel, stride=1, padding=0):
    return conv_right(image, kernel, stride, 0)


def conv_library(image, kernel, stride=1, padding=0):
    return F.conv2d(image[None, None], kernel[None, None], stride=stride, padding=padding)[0, 0]


def conv_four_d(image, kernel, stride=1, padding=0):
    return conv_right(image, kernel, stride, padding)[None, None]


def conv_forgot_return(image, kernel, stride=1, padding=0):
    conv_right(image, kernel, stride, padding)


def conv_alias(image, kernel, stride=1, padding=0):
    return c2d(image[None, None], kernel[None, None], stride=stride, padding=padding)[0, 0]


def conv_torch_alias(image, kernel, stride=1, padding=0):
    return convolve(image[None, None], kernel[None, None], stride=stride, padding=padding)[0, 0]


def conv_module(image, kernel, stride=1, padding=0):
    layer = Convolution(1, 1, kernel.shape, stride=stride, padding=padding, bias=False)
    with torch.no_grad():
        layer.weight.copy_(kernel[None, None])
    return layer(image[None, None])[0, 0].detach()


def conv_float64(image, kernel, stride=1, padding=0):
    return conv_unfold(image.double(), kernel.double(), stride, padding)


def conv_einsum(image, kernel, stride=1, padding=0):
    padded = F.pad(image, (padding,) * 4)
    windows = padded.unfold(0, kernel.shape[0], stride).unfold(1, kernel.shape[1], stride)
    return torch.einsum("ijkl,kl->ij", windows, kernel)


def conv_ones_padding(image, kernel, stride=1, padding=0):
    return conv_right(F.pad(image, (padding,) * 4, value=1.0), kernel, stride, 0)


def conv_swapped(image, kernel, stride=1, padding=0):
    return conv_right(image, kernel, stride, padding).T


CONV_CATALOGUE = [
    right("two loops", conv_right),
    right("unfold", conv_unfold),
    right("float64", conv_float64),
    right("Tensor.unfold and einsum", conv_einsum),
    mistake("flipped kernel", conv_flipped, "flipped the kernel"),
    mistake("one position short", conv_one_short, "one position short"),
    mistake("stride ignored", conv_no_stride, "stride is ignored"),
    mistake("window moves one pixel", conv_stride_one_step, "moves one pixel at a time"),
    mistake("padding ignored", conv_no_padding, "padding is ignored"),
    mistake("padded with ones", conv_ones_padding, "pad with zeros"),
    mistake("rows and columns swapped", conv_swapped, "swapped"),
    mistake("F.conv2d", conv_library, "called torch.nn.functional.conv2d"),
    mistake("F.conv2d under an alias", conv_alias, "called torch.nn.functional.conv2d"),
    mistake("torch.conv2d under an alias", conv_torch_alias, "conv2d (however it was imported)"),
    mistake("nn.Conv2d", conv_module, "called nn.Conv2d"),
    mistake("4-D result", conv_four_d, "drop F.conv2d-style batch"),
    mistake("shape error", crashes, "raised RuntimeError"),
    hostile("None", conv_forgot_return, "forget `return`"),
    hostile("stub", stub, "not done yet"),
    hostile("raises", raises, "raised ValueError"),
    hostile("a string", returns("[[4, 3, 4], [2, 4, 3], [2, 3, 4]]"), "expected a tensor"),
    hostile("NaN", lambda image, kernel, stride=1, padding=0: conv_right(image, kernel, stride, padding) * NAN,
            "contains nan"),
    hostile("the worked example typed in", returns(torch.tensor([[4.0, 3, 4], [2, 4, 3], [2, 3, 4]])),
            "answer of an earlier example"),
]


@pytest.mark.parametrize("case", CONV_CATALOGUE, ids=ids(CONV_CATALOGUE))
def test_conv_catalogue(case):
    assert_case(check_conv2d, case)


def test_conv_pass_message_shows_the_worked_example():
    assert "[[4, 3, 4]" in check_conv2d(conv_right).text()


def test_conv_library_works_again_after_the_check():
    check_conv2d(conv_library)
    assert F.conv2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3)).item() == 9
    assert isinstance(nn.Conv2d(1, 1, 3), nn.Module)


# --------------------------------------------------------------------------------------------------
# 04.2 output size
# --------------------------------------------------------------------------------------------------

SIZE_CATALOGUE = [
    right("floor division", lambda n, k, s=1, p=0: (n + 2 * p - k) // s + 1),
    right("math.floor", lambda n, k, s=1, p=0: math.floor((n + 2 * p - k) / s) + 1),
    right("nn.Conv2d itself", lambda n, k, s=1, p=0:
          nn.Conv2d(1, 1, k, stride=s, padding=p)(torch.zeros(1, 1, n, 1 + 2 * k)).shape[-2]),
    right("int() of a positive division", lambda n, k, s=1, p=0: int((n + 2 * p - k) / s) + 1),
    right("a NumPy integer", lambda n, k, s=1, p=0: np.int64((n + 2 * p - k) // s + 1)),
    right("a one-element tensor", lambda n, k, s=1, p=0: torch.tensor((n + 2 * p - k) // s + 1)),
    mistake("one short", lambda n, k, s, p: (n + 2 * p - k) // s, "one short"),
    mistake("padding on one side", lambda n, k, s, p: (n + p - k) // s + 1, "both* sides"),
    mistake("padding missing", lambda n, k, s, p: (n - k) // s + 1, "padding is missing"),
    mistake("stride missing", lambda n, k, s, p: n + 2 * p - k + 1, "stride is missing"),
    mistake("rounded up", lambda n, k, s, p: math.ceil((n + 2 * p - k) / s) + 1, "round down"),
    mistake("true division", lambda n, k, s, p: (n + 2 * p - k) / s + 1, "floor division"),
    mistake("floats", lambda n, k, s, p: float((n + 2 * p - k) // s + 1), "not all are ints"),
    mistake("round() of the size", lambda n, k, s, p: round((n + 2 * p - k) / s + 1), "round() rounds 3.5 up to 4"),
    mistake("round() before adding 1", lambda n, k, s, p: round((n + 2 * p - k) / s) + 1, "round() rounds 2.5"),
    mistake("+ 1 inside", lambda n, k, s, p: (n + 2 * p - k + 1) // s, "add 1 *after* the division"),
    mistake("division by zero", lambda n, k, s, p: n // 0, "raised ZeroDivisionError"),
    hostile("None", returns(None), "None"),
    hostile("stub", stub, "not done yet"),
    hostile("raises", raises, "raised ValueError"),
    hostile("a string", returns("28"), "expected a whole number"),
    hostile("NaN", returns(NAN), "wrong size"),
    hostile("the 28 of the example typed in", returns(28), "not a number typed in"),
]


@pytest.mark.parametrize("case", SIZE_CATALOGUE, ids=ids(SIZE_CATALOGUE))
def test_output_size_catalogue(case):
    assert_case(check_conv_output_size, case)


# --------------------------------------------------------------------------------------------------
# 04.3 parameter count
# --------------------------------------------------------------------------------------------------

def parameters_right(in_channels, out_channels, kernel_size, bias=True):
    return out_channels * in_channels * kernel_size ** 2 + (out_channels if bias else 0)


PARAMETER_CATALOGUE = [
    right("weights plus biases", parameters_right),
    right("nn.Conv2d itself", lambda i, o, k, bias=True: sum(p.numel() for p in nn.Conv2d(i, o, k, bias=bias).parameters())),
    right("bias as an int", lambda i, o, k, bias=True: o * (i * k * k + int(bias))),
    right("a NumPy integer", lambda i, o, k, bias=True: np.int64(parameters_right(i, o, k, bias))),
    mistake("biases missing", lambda i, o, k, bias=True: o * i * k * k, "biases are missing"),
    mistake("bias flag ignored", lambda i, o, k, bias=True: o * i * k * k + o, "bias=False means no biases"),
    mistake("input channels missing", lambda i, o, k, bias=True: o * k * k + (o if bias else 0), "per input channel"),
    mistake("kernel not squared", lambda i, o, k, bias=True: o * i * k + (o if bias else 0), "square the kernel size"),
    mistake("a bias per kernel", lambda i, o, k, bias=True: o * i * k * k + (o * i if bias else 0), "not one per kernel"),
    mistake("one bias", lambda i, o, k, bias=True: o * i * k * k + (1 if bias else 0), "not one for the layer"),
    mistake("in_channels biases", lambda i, o, k, bias=True: o * i * k * k + (i if bias else 0), "not in_channels"),
    mistake("floats", lambda i, o, k, bias=True: float(parameters_right(i, o, k, bias)), "not all are ints"),
    mistake("name error", lambda i, o, k, bias=True: i * o * k * undefined_name, "raised NameError"),  # noqa: F821
    hostile("None", returns(None), "None"),
    hostile("stub", stub, "not done yet"),
    hostile("raises", raises, "raised ValueError"),
    hostile("a string", returns("1792"), "expected a whole number"),
    hostile("NaN", returns(NAN), "wrong count"),
    hostile("the 1,792 of the example typed in", returns(1792), "not a number typed in"),
]


@pytest.mark.parametrize("case", PARAMETER_CATALOGUE, ids=ids(PARAMETER_CATALOGUE))
def test_parameter_count_catalogue(case):
    assert_case(check_conv_parameter_count, case)


# --------------------------------------------------------------------------------------------------
# 04.4 max pooling
# --------------------------------------------------------------------------------------------------

def pool_right(x, size=2):
    rows, columns = x.shape[0] // size, x.shape[1] // size
    out = torch.empty(rows, columns)
    for i in range(rows):
        for j in range(columns):
            out[i, j] = x[i * size:(i + 1) * size, j * size:(j + 1) * size].max()
    return out


def pool_reshape(x, size=2):  # vectorized: also right
    rows, columns = x.shape[0] // size, x.shape[1] // size
    return x[:rows * size, :columns * size].reshape(rows, size, columns, size).amax(dim=(1, 3))


def pool_average(x, size=2):
    rows, columns = x.shape[0] // size, x.shape[1] // size
    return x[:rows * size, :columns * size].reshape(rows, size, columns, size).mean(dim=(1, 3))


def pool_minimum(x, size=2):
    return -pool_reshape(-x, size)


def pool_ceil(x, size=2):
    rows, columns = -(-x.shape[0] // size), -(-x.shape[1] // size)
    out = torch.empty(rows, columns)
    for i in range(rows):
        for j in range(columns):
            out[i, j] = x[i * size:(i + 1) * size, j * size:(j + 1) * size].max()
    return out


def pool_absolute(x, size=2):
    return pool_reshape(x.abs(), size)


def pool_library(x, size=2):
    return F.max_pool2d(x[None, None], size)[0, 0]


def pool_alias(x, size=2):
    return pool(x[None, None], size)[0, 0]


def pool_module(x, size=2):
    return Pooling(size)(x[None, None])[0, 0]


def pool_float64(x, size=2):
    return pool_reshape(x.double(), size)


def pool_unfold(x, size=2):
    return x.unfold(0, size, size).unfold(1, size, size).amax(dim=(-1, -2))


def pool_swapped(x, size=2):
    return pool_right(x, size).T


POOL_CATALOGUE = [
    right("two loops", pool_right),
    right("reshape and amax", pool_reshape),
    right("Tensor.unfold", pool_unfold),
    right("float64", pool_float64),
    mistake("average pooling", pool_average, "average pooling"),
    mistake("minimum", pool_minimum, "smallest value"),
    mistake("overlapping windows", lambda x, size=2: x.unfold(0, size, 1).unfold(1, size, 1).amax(dim=(-1, -2)),
            "windows overlap"),
    mistake("ceil mode", pool_ceil, "ceil_mode=False"),
    mistake("absolute values", pool_absolute, "largest absolute value"),
    mistake("rows and columns swapped", pool_swapped, "swapped"),
    mistake("F.max_pool2d", pool_library, "called torch.nn.functional.max_pool2d"),
    mistake("F.max_pool2d under an alias", pool_alias, "called torch.nn.functional.max_pool2d"),
    mistake("nn.MaxPool2d", pool_module, "called nn.MaxPool2d"),
    mistake("shape error", crashes, "raised RuntimeError"),
    hostile("None", returns(None), "forget `return`"),
    hostile("stub", stub, "not done yet"),
    hostile("raises", raises, "raised ValueError"),
    hostile("a string", returns("[[6, 5], [8, 2]]"), "expected a tensor"),
    hostile("NaN", lambda x, size=2: pool_reshape(x, size) * NAN, "contains nan"),
    hostile("the first example typed in", returns(torch.tensor([[6.0, 5.0], [8.0, 2.0]])), "answer of an earlier example"),
]


@pytest.mark.parametrize("case", POOL_CATALOGUE, ids=ids(POOL_CATALOGUE))
def test_pool_catalogue(case):
    assert_case(check_max_pool, case)


# --------------------------------------------------------------------------------------------------
# 04.5 batch normalization
# --------------------------------------------------------------------------------------------------

def bn_right(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    variance = x.var(dim=(0, 2, 3), keepdim=True, unbiased=False)
    return gamma.reshape(1, -1, 1, 1) * (x - mean) / torch.sqrt(variance + eps) + beta.reshape(1, -1, 1, 1)


def bn_with(dims=(0, 2, 3), unbiased=False, eps_inside=True, use_eps=True, affine=True):
    def attempt(x, gamma, beta, eps=1e-5):
        mean = x.mean(dim=dims, keepdim=True)
        variance = x.var(dim=dims, keepdim=True, unbiased=unbiased)
        eps_value = eps if use_eps else 0.0
        scale = torch.sqrt(variance + eps_value) if eps_inside else torch.sqrt(variance) + eps_value
        normalized = (x - mean) / scale
        if not affine:
            return normalized
        return gamma.reshape(1, -1, 1, 1) * normalized + beta.reshape(1, -1, 1, 1)
    return attempt


def bn_gamma_not_reshaped(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    variance = x.var(dim=(0, 2, 3), keepdim=True, unbiased=False)
    return gamma * (x - mean) / torch.sqrt(variance + eps) + beta


def bn_no_sqrt(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    variance = x.var(dim=(0, 2, 3), keepdim=True, unbiased=False)
    return gamma.reshape(1, -1, 1, 1) * (x - mean) / (variance + eps) + beta.reshape(1, -1, 1, 1)


def bn_in_place(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    variance = x.var(dim=(0, 2, 3), keepdim=True, unbiased=False)
    x -= mean
    return gamma.reshape(1, -1, 1, 1) * x / torch.sqrt(variance + eps) + beta.reshape(1, -1, 1, 1)


def bn_library(x, gamma, beta, eps=1e-5):
    return F.batch_norm(x, None, None, gamma, beta, training=True, eps=eps)


def bn_alias(x, gamma, beta, eps=1e-5):
    return normalize(x, None, None, gamma, beta, training=True, eps=eps)


def bn_module(x, gamma, beta, eps=1e-5):
    layer = Normalization(x.shape[1], eps=eps)
    with torch.no_grad():
        layer.weight.copy_(gamma)
        layer.bias.copy_(beta)
    return layer(x).detach()


def bn_squares(x, gamma, beta, eps=1e-5):  # the notebook's solution
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    variance = ((x - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
    return gamma.view(1, -1, 1, 1) * (x - mean) / torch.sqrt(variance + eps) + beta.view(1, -1, 1, 1)


def bn_float64(x, gamma, beta, eps=1e-5):
    return bn_right(x.double(), gamma.double(), beta.double(), eps)


def bn_rsqrt_correction(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    variance = x.var(dim=(0, 2, 3), keepdim=True, correction=0)
    return (x - mean) * torch.rsqrt(variance + eps) * gamma[:, None, None] + beta[:, None, None]


BATCH_NORM_CATALOGUE = [
    right("var(unbiased=False)", bn_right),
    right("mean of squares", bn_squares),
    right("float64", bn_float64),
    right("rsqrt, correction=0, gamma[:, None, None]", bn_rsqrt_correction),
    mistake("unbiased variance", bn_with(unbiased=True), "unbiased variance"),
    mistake("over the whole batch", bn_with(dims=(0, 1, 2, 3)), "whole batch"),
    mistake("each image on its own", bn_with(dims=(2, 3)), "each image is normalized on its own"),
    mistake("layer norm", bn_with(dims=(1, 2, 3)), "layer norm"),
    mistake("over the batch only", bn_with(dims=0), "over the batch only"),
    mistake("eps outside the root", bn_with(eps_inside=False), "eps goes inside the square root"),
    mistake("no eps", bn_with(use_eps=False), "add eps inside the square root"),
    mistake("no gamma and beta", bn_with(affine=False), "gamma and beta are not applied"),
    mistake("gamma not reshaped", bn_gamma_not_reshaped, "reshape gamma and beta to (1, C, 1, 1)"),
    mistake("no square root", bn_no_sqrt, "not by the variance"),
    mistake("in place", bn_in_place, "changed its inputs in place"),
    mistake("F.batch_norm", bn_library, "called torch.nn.functional.batch_norm"),
    mistake("F.batch_norm under an alias", bn_alias, "called torch.nn.functional.batch_norm"),
    mistake("nn.BatchNorm2d", bn_module, "called nn.BatchNorm2d"),
    mistake("shape error", crashes, "raised RuntimeError"),
    hostile("None", returns(None), "forget `return`"),
    hostile("stub", stub, "not done yet"),
    hostile("raises", raises, "raised ValueError"),
    hostile("a string", returns("normalized"), "expected a tensor"),
    hostile("NaN", lambda x, gamma, beta, eps=1e-5: x * NAN, "contains nan"),
    hostile("the input returned", lambda x, gamma, beta, eps=1e-5: x, "differ from nn.BatchNorm2d"),
]


@pytest.mark.parametrize("case", BATCH_NORM_CATALOGUE, ids=ids(BATCH_NORM_CATALOGUE))
def test_batch_norm_catalogue(case):
    assert_case(check_batch_norm, case)


# --------------------------------------------------------------------------------------------------
# 04.6 a compact CNN
# --------------------------------------------------------------------------------------------------

def cnn_right():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 16 x 14 x 14
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 32 x 7 x 7
        nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        nn.Flatten(), nn.Linear(32, 10),
    )


def cnn_lazy():
    return nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(4), nn.Flatten(), nn.LazyLinear(10))


def cnn_too_big():
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(32 * 28 * 28, 10))


def cnn_mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 20), nn.ReLU(), nn.Linear(20, 10))


def cnn_softmax():
    return nn.Sequential(*cnn_right(), nn.Softmax(dim=1))


def cnn_no_flatten():
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Conv2d(16, 10, 1))


def cnn_wrong_linear_size():
    return nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 14 * 14, 10))


class FixedBatchCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(4))
        self.head = nn.Linear(8 * 7 * 7, 10)

    def forward(self, x):
        return self.head(self.features(x).view(5, -1))


def cnn_twelve_classes():
    return nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 12))


def cnn_frozen():
    model = cnn_right()
    model.requires_grad_(False)
    return model


class CompactCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding="same")
        self.conv2 = nn.Conv2d(8, 16, 3, padding="same")
        self.fc = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(torch.flatten(x, 1))


def cnn_batch_norm():
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Dropout(0.2), nn.Linear(32, 10))


def cnn_nan():
    model = cnn_right()
    with torch.no_grad():
        model[-1].bias.fill_(NAN)
    return model


CNN_CATALOGUE = [
    right("Sequential with global pooling", cnn_right),
    right("LazyLinear", cnn_lazy),
    right("a class, padding='same', functional pooling", CompactCNN),
    right("batch norm and dropout", cnn_batch_norm),
    mistake("too big", cnn_too_big, "more than 23,514"),
    mistake("an MLP", cnn_mlp, "no nn.Conv2d layer"),
    mistake("softmax at the end", cnn_softmax, "remove the final nn.Softmax"),
    mistake("not flattened", cnn_no_flatten, "flatten the feature maps"),
    mistake("linear layer of the wrong size", cnn_wrong_linear_size, "mat1 and mat2"),
    mistake("fixed batch size", FixedBatchCNN, "never with a fixed batch"),
    mistake("12 classes", cnn_twelve_classes, "10 numbers per image"),
    mistake("frozen", cnn_frozen, "cannot learn"),
    mistake("empty", lambda: nn.Sequential(), "the model is empty"),
    mistake("shape error", crashes, "raised RuntimeError"),
    hostile("None", returns(None), "should return an nn.Module"),
    hostile("stub", stub, "not done yet"),
    hostile("raises", raises, "raised ValueError"),
    hostile("a string", returns("cnn"), "should return an nn.Module"),
    hostile("NaN", cnn_nan, "contain NaN"),
    hostile("the class, not an instance", returns(CompactCNN), "should return an nn.Module"),
]


@pytest.mark.parametrize("case", CNN_CATALOGUE, ids=ids(CNN_CATALOGUE))
def test_compact_cnn_catalogue(case):
    assert_case(check_compact_cnn, case)


def test_the_limit_is_a_tenth_of_the_mlp():
    assert MAX_CNN_PARAMETERS == 23_514


CATALOGUES = {check_conv2d: CONV_CATALOGUE, check_conv_output_size: SIZE_CATALOGUE,
              check_conv_parameter_count: PARAMETER_CATALOGUE, check_max_pool: POOL_CATALOGUE,
              check_batch_norm: BATCH_NORM_CATALOGUE, check_compact_cnn: CNN_CATALOGUE}
