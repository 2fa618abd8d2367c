"""Notebook 04's checkers against the right answers, the stub, code that raises, and typical mistakes."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from workshop_utils.checkers.convolution import (MAX_CNN_PARAMETERS, check_batch_norm, check_compact_cnn, check_conv2d,
                                                 check_conv_output_size, check_conv_parameter_count, check_max_pool)


def stub(*args, **kwargs):
    raise NotImplementedError("Exercise: replace this line with your solution")


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


def test_conv_right_answers_pass():
    for attempt in (conv_right, conv_unfold):
        feedback = check_conv2d(attempt)
        assert feedback, feedback.text()
    assert "[[4, 3, 4]" in check_conv2d(conv_right).text()


@pytest.mark.parametrize("attempt, words", [
    (stub, "not done yet"),
    (crashes, "raised RuntimeError"),
    (conv_flipped, "flipped the kernel"),
    (conv_one_short, "one position short"),
    (conv_no_stride, "stride is ignored"),
    (conv_stride_one_step, "moves one pixel at a time"),
    (conv_no_padding, "padding is ignored"),
    (conv_library, "you called torch.nn.functional.conv2d"),
    (conv_four_d, "drop F.conv2d-style batch"),
    (conv_forgot_return, "forget `return`"),
])
def test_conv_mistakes_are_explained(attempt, words):
    feedback = check_conv2d(attempt)
    assert not feedback
    assert words in feedback.text(), feedback.text()


def test_conv_library_works_again_after_the_check():
    check_conv2d(conv_library)
    assert F.conv2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3)).item() == 9
    assert isinstance(nn.Conv2d(1, 1, 3), nn.Module)


# --------------------------------------------------------------------------------------------------
# 04.2 output size
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("attempt", [
    lambda n, k, s=1, p=0: (n + 2 * p - k) // s + 1,
    lambda n, k, s=1, p=0: math.floor((n + 2 * p - k) / s) + 1,
    lambda n, k, s=1, p=0: nn.Conv2d(1, 1, k, stride=s, padding=p)(torch.zeros(1, 1, n, 1 + 2 * k)).shape[-2],
])
def test_output_size_right_answers_pass(attempt):
    feedback = check_conv_output_size(attempt)
    assert feedback, feedback.text()


@pytest.mark.parametrize("attempt, words", [
    (stub, "not done yet"),
    (lambda n, k, s, p: n // 0, "raised ZeroDivisionError"),
    (lambda n, k, s, p: (n + 2 * p - k) // s, "one short"),
    (lambda n, k, s, p: (n + p - k) // s + 1, "both* sides"),
    (lambda n, k, s, p: (n - k) // s + 1, "padding is missing"),
    (lambda n, k, s, p: n + 2 * p - k + 1, "stride is missing"),
    (lambda n, k, s, p: math.ceil((n + 2 * p - k) / s) + 1, "round down"),
    (lambda n, k, s, p: (n + 2 * p - k) / s + 1, "floor division"),
    (lambda n, k, s, p: float((n + 2 * p - k) // s + 1), "not all are ints"),
    (lambda n, k, s, p: None, "None"),
])
def test_output_size_mistakes_are_explained(attempt, words):
    feedback = check_conv_output_size(attempt)
    assert not feedback
    assert words in feedback.text(), feedback.text()


# --------------------------------------------------------------------------------------------------
# 04.3 parameter count
# --------------------------------------------------------------------------------------------------

def parameters_right(in_channels, out_channels, kernel_size, bias=True):
    return out_channels * in_channels * kernel_size ** 2 + (out_channels if bias else 0)


def test_parameter_count_right_answer_passes():
    feedback = check_conv_parameter_count(parameters_right)
    assert feedback, feedback.text()
    assert "1,792" in feedback.text()


@pytest.mark.parametrize("attempt, words", [
    (stub, "not done yet"),
    (lambda i, o, k, bias=True: i * o * k * undefined_name, "raised NameError"),  # noqa: F821
    (lambda i, o, k, bias=True: o * i * k * k, "biases are missing"),
    (lambda i, o, k, bias=True: o * i * k * k + o, "bias=False means no biases"),
    (lambda i, o, k, bias=True: o * k * k + (o if bias else 0), "per input channel"),
    (lambda i, o, k, bias=True: o * i * k + (o if bias else 0), "square the kernel size"),
    (lambda i, o, k, bias=True: o * i * k * k + (o * i if bias else 0), "not one per kernel"),
    (lambda i, o, k, bias=True: o * i * k * k + (1 if bias else 0), "not one for the layer"),
    (lambda i, o, k, bias=True: o * i * k * k + (i if bias else 0), "not in_channels"),
])
def test_parameter_count_mistakes_are_explained(attempt, words):
    feedback = check_conv_parameter_count(attempt)
    assert not feedback
    assert words in feedback.text(), feedback.text()


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


def test_pool_right_answers_pass():
    for attempt in (pool_right, pool_reshape):
        feedback = check_max_pool(attempt)
        assert feedback, feedback.text()


@pytest.mark.parametrize("attempt, words", [
    (stub, "not done yet"),
    (crashes, "raised RuntimeError"),
    (pool_average, "average pooling"),
    (pool_minimum, "smallest value"),
    (lambda x, size=2: x.unfold(0, size, 1).unfold(1, size, 1).amax(dim=(-1, -2)), "windows overlap"),
    (pool_ceil, "ceil_mode=False"),
    (pool_absolute, "largest absolute value"),
    (pool_library, "you called torch.nn.functional.max_pool2d"),
])
def test_pool_mistakes_are_explained(attempt, words):
    feedback = check_max_pool(attempt)
    assert not feedback
    assert words in feedback.text(), feedback.text()


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


def test_batch_norm_right_answer_passes():
    feedback = check_batch_norm(bn_right)
    assert feedback, feedback.text()


@pytest.mark.parametrize("attempt, words", [
    (stub, "not done yet"),
    (crashes, "raised RuntimeError"),
    (bn_with(unbiased=True), "unbiased variance"),
    (bn_with(dims=(0, 1, 2, 3)), "whole batch"),
    (bn_with(dims=(2, 3)), "each image is normalized on its own"),
    (bn_with(dims=(1, 2, 3)), "layer norm"),
    (bn_with(dims=0), "over the batch only"),
    (bn_with(eps_inside=False), "eps goes inside the square root"),
    (bn_with(use_eps=False), "add eps inside the square root"),
    (bn_with(affine=False), "gamma and beta are not applied"),
    (bn_gamma_not_reshaped, "reshape gamma and beta to (1, C, 1, 1)"),
    (bn_no_sqrt, "not by the variance"),
    (bn_in_place, "changed its inputs in place"),
    (bn_library, "you called torch.nn.functional.batch_norm"),
])
def test_batch_norm_mistakes_are_explained(attempt, words):
    feedback = check_batch_norm(attempt)
    assert not feedback
    assert words in feedback.text(), feedback.text()


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


def test_compact_cnn_right_answers_pass():
    for attempt in (cnn_right, cnn_lazy):
        feedback = check_compact_cnn(attempt)
        assert feedback, feedback.text()
    assert MAX_CNN_PARAMETERS == 23_514


@pytest.mark.parametrize("attempt, words", [
    (stub, "not done yet"),
    (crashes, "raised RuntimeError"),
    (lambda: None, "should return an nn.Module"),
    (lambda: nn.Sequential(), "the model is empty"),
    (cnn_too_big, "more than 23,514"),
    (cnn_mlp, "no nn.Conv2d layer"),
    (cnn_softmax, "remove the final nn.Softmax"),
    (cnn_no_flatten, "flatten the feature maps"),
    (cnn_wrong_linear_size, "mat1 and mat2"),
    (FixedBatchCNN, "never with a fixed batch"),
    (cnn_twelve_classes, "10 numbers per image"),
    (cnn_frozen, "cannot learn"),
])
def test_compact_cnn_mistakes_are_explained(attempt, words):
    feedback = check_compact_cnn(attempt)
    assert not feedback
    assert words.lower() in feedback.text().lower(), feedback.text()
