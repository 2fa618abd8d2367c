"""Convolutions, pooling and batch normalization written out, for notebook 04.

Plain functions that compute, slowly and visibly, what ``torch.nn.functional`` does fast, so the
notebook (and the checkers) can compare the two:

- the slide deck's worked example (:data:`DECK_IMAGE`, :data:`DECK_KERNEL`, first output 4) and a
  single-channel convolution with stride and padding written as two loops (:func:`conv2d_reference`);
- output sizes, parameter counts and receptive fields (:func:`conv_output_size`,
  :func:`conv_parameter_count`, :func:`linear_parameter_count`, :func:`receptive_field`);
- preset 3 x 3 kernels (edges, blur, sharpen, identity) and :func:`filter_image` to apply one to a photo;
- a convolution as a matrix with shared weights (:func:`convolution_matrix`);
- how much a one-pixel shift changes feature maps, before and after pooling (:func:`shift_sensitivity`);
- batch normalization in training mode (:func:`batch_norm_reference`);
- the output shape of every layer of a network (:func:`trace_shapes`).

Like every deep-learning library, PyTorch's "convolution" is a *cross-correlation*: the kernel is not
flipped. The functions here do the same, so they match ``F.conv2d``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# The slide deck's example: a 5 x 5 binary image and a 3 x 3 kernel ("x1 x0 x1 / x0 x1 x0 / x1 x0 x1").
DECK_IMAGE = torch.tensor([[1, 1, 1, 0, 0],
                           [0, 1, 1, 1, 0],
                           [0, 0, 1, 1, 1],
                           [0, 0, 1, 1, 0],
                           [0, 1, 1, 0, 0]], dtype=torch.float32)
DECK_KERNEL = torch.tensor([[1, 0, 1],
                            [0, 1, 0],
                            [1, 0, 1]], dtype=torch.float32)
DECK_FIRST_OUTPUT = 4.0  # the top-left window: 1 + 1 + 1 + 1 (the slide's "Convolved Feature")
DECK_OUTPUT = torch.tensor([[4, 3, 4],
                            [2, 4, 3],
                            [2, 3, 4]], dtype=torch.float32)

# 3 x 3 kernels to try on a photo. Edge kernels sum to 0 (flat regions give 0); blur, sharpen and
# identity sum to 1 (flat regions keep their brightness).
PRESET_KERNELS: dict[str, Tensor] = {
    "identity": torch.tensor([[0., 0., 0.], [0., 1., 0.], [0., 0., 0.]]),
    "edges: Sobel x (vertical edges)": torch.tensor([[-1., 0., 1.], [-2., 0., 2.], [-1., 0., 1.]]),
    "edges: Sobel y (horizontal edges)": torch.tensor([[-1., -2., -1.], [0., 0., 0.], [1., 2., 1.]]),
    "edges: outline (Laplacian)": torch.tensor([[-1., -1., -1.], [-1., 8., -1.], [-1., -1., -1.]]),
    "blur (box)": torch.full((3, 3), 1 / 9),
    "blur (Gaussian)": torch.tensor([[1., 2., 1.], [2., 4., 2.], [1., 2., 1.]]) / 16,
    "sharpen": torch.tensor([[0., -1., 0.], [-1., 5., -1.], [0., -1., 0.]]),
    "the deck's kernel": DECK_KERNEL.clone(),
}


# --------------------------------------------------------------------------------------------------
# Convolution by hand
# --------------------------------------------------------------------------------------------------

def conv2d_reference(image: Tensor, kernel: Tensor, stride: int = 1, padding: int = 0) -> Tensor:
    """Single-channel 2-D convolution (cross-correlation, as in PyTorch), written as two loops.

    ``image`` is H x W, ``kernel`` kH x kW. The image gets ``padding`` zeros on every side; the kernel
    then slides ``stride`` pixels at a time, and each output is the sum of the window times the kernel.
    Equals ``F.conv2d(image[None, None], kernel[None, None], stride=stride, padding=padding)[0, 0]``.
    """
    if image.dim() != 2 or kernel.dim() != 2:
        raise ValueError(f"image and kernel must be 2-D, got shapes {tuple(image.shape)} and {tuple(kernel.shape)}")
    padded = F.pad(image, (padding, padding, padding, padding))  # zeros left, right, top, bottom
    kernel_height, kernel_width = kernel.shape
    out_height = conv_output_size(image.shape[0], kernel_height, stride, padding)
    out_width = conv_output_size(image.shape[1], kernel_width, stride, padding)
    output = torch.zeros(out_height, out_width, dtype=torch.promote_types(image.dtype, kernel.dtype))
    for i in range(out_height):
        for j in range(out_width):
            top, left = i * stride, j * stride
            window = padded[top:top + kernel_height, left:left + kernel_width]
            output[i, j] = (window * kernel).sum()
    return output


def conv_output_size(input_size: int, kernel_size: int, stride: int = 1, padding: int = 0,
                     dilation: int = 1) -> int:
    """Output length along one dimension: ``floor((n + 2p - d(k - 1) - 1) / s) + 1``.

    With ``dilation=1`` this is the familiar ``floor((n + 2p - k) / s) + 1``: the number of positions
    where a window of size k fits in the padded input, taking every s-th.
    """
    return (input_size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def max_pool2d_reference(x: Tensor, size: int = 2, stride: int | None = None) -> Tensor:
    """Max pooling of an H x W map over ``size`` x ``size`` windows (stride = size by default), by loops."""
    stride = size if stride is None else stride
    out_height = conv_output_size(x.shape[-2], size, stride)
    out_width = conv_output_size(x.shape[-1], size, stride)
    output = torch.empty(out_height, out_width, dtype=x.dtype)
    for i in range(out_height):
        for j in range(out_width):
            output[i, j] = x[i * stride:i * stride + size, j * stride:j * stride + size].max()
    return output


# --------------------------------------------------------------------------------------------------
# Parameters and receptive fields
# --------------------------------------------------------------------------------------------------

def _pair(value: int | Sequence[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def conv_parameter_count(in_channels: int, out_channels: int, kernel_size: int | Sequence[int],
                         bias: bool = True) -> int:
    """Weights and biases of ``nn.Conv2d(in_channels, out_channels, kernel_size, bias=bias)``.

    Each of the ``out_channels`` filters has one kH x kW kernel per input channel, plus one bias per
    filter. The image size does not appear: the same weights are used at every position.
    """
    kernel_height, kernel_width = _pair(kernel_size)
    return out_channels * in_channels * kernel_height * kernel_width + (out_channels if bias else 0)


def linear_parameter_count(in_features: int, out_features: int, bias: bool = True) -> int:
    """Weights and biases of ``nn.Linear(in_features, out_features, bias=bias)``: one weight per input per neuron."""
    return in_features * out_features + (out_features if bias else 0)


def receptive_field(kernel_sizes: Sequence[int], strides: Sequence[int] | None = None) -> int:
    """How many input pixels (along one side) one output of a stack of convolutions/poolings sees.

    ``r = 1 + sum_i (k_i - 1) * (product of the strides before layer i)``. Two stacked 3 x 3
    convolutions see 5 x 5, three see 7 x 7.
    """
    strides = [1] * len(kernel_sizes) if strides is None else list(strides)
    if len(strides) != len(kernel_sizes):
        raise ValueError("give one stride per kernel size")
    field, jump = 1, 1
    for kernel, stride in zip(kernel_sizes, strides):
        field += (kernel - 1) * jump
        jump *= stride
    return field


def measured_receptive_field(layers: nn.Module, input_size: int = 21, in_channels: int = 1) -> int:
    """The receptive field of ``layers``, measured: the side of the input square that influences the
    centre output (the non-zero region of its gradient with respect to the input).

    The weights are set to positive values first (on a copy), so that no input's influence cancels out.
    Measure convolutions and average pooling this way: max pooling passes the gradient to one pixel
    per window only, so the measure comes out smaller than :func:`receptive_field`.
    """
    import copy

    probe = copy.deepcopy(layers).eval()
    with torch.no_grad():
        for parameter in probe.parameters():
            parameter.copy_(torch.rand_like(parameter) + 0.1)
    image = torch.ones(1, in_channels, input_size, input_size, requires_grad=True)
    output = probe(image)
    centre = output[0, 0, output.shape[-2] // 2, output.shape[-1] // 2]
    (gradient,) = torch.autograd.grad(centre, image)
    touched = gradient[0].abs().sum(dim=0) > 0
    rows, columns = touched.any(dim=1).nonzero(), touched.any(dim=0).nonzero()
    return int(max(rows.max() - rows.min() + 1, columns.max() - columns.min() + 1))


# --------------------------------------------------------------------------------------------------
# A convolution is a linear map with shared weights
# --------------------------------------------------------------------------------------------------

def convolution_matrix(kernel: Tensor, input_shape: tuple[int, int], stride: int = 1, padding: int = 0) -> Tensor:
    """The matrix M with ``M @ image.flatten() == conv2d(image, kernel).flatten()`` (a Toeplitz-like matrix).

    One row per output position, one column per input pixel. Every row holds the same kernel weights,
    shifted: the convolution is a linear layer whose weights are *shared* and mostly zero. Padding
    pixels are zeros, so they contribute nothing and have no column.
    """
    height, width = input_shape
    kernel_height, kernel_width = kernel.shape
    out_height = conv_output_size(height, kernel_height, stride, padding)
    out_width = conv_output_size(width, kernel_width, stride, padding)
    matrix = torch.zeros(out_height * out_width, height * width, dtype=kernel.dtype)
    for i in range(out_height):
        for j in range(out_width):
            for a in range(kernel_height):
                for b in range(kernel_width):
                    row, column = i * stride + a - padding, j * stride + b - padding
                    if 0 <= row < height and 0 <= column < width:
                        matrix[i * out_width + j, row * width + column] = kernel[a, b]
    return matrix


# --------------------------------------------------------------------------------------------------
# Kernels on a photo
# --------------------------------------------------------------------------------------------------

def as_kernel(values: Sequence[float] | Tensor) -> Tensor:
    """A 3 x 3 float kernel from a tensor, nested lists or 9 numbers row by row."""
    kernel = torch.as_tensor(values, dtype=torch.float32)
    if kernel.numel() != 9:
        raise ValueError(f"a 3 x 3 kernel needs 9 values, got {kernel.numel()}")
    return kernel.reshape(3, 3)


def filter_image(image: Tensor, kernel: Tensor | Sequence[float]) -> Tensor:
    """Apply a 3 x 3 ``kernel`` to a grey image (H x W or 1 x H x W); returns H x W, the same size.

    The border pixels are repeated once around the image (``replicate`` padding) rather than padded
    with zeros, so the photo's frame does not light up as an edge. The raw response is returned: edge
    kernels give negative values too; :func:`display_image` turns it into something to show.
    """
    kernel = as_kernel(kernel)
    grey = image.reshape(image.shape[-2], image.shape[-1]).float()
    padded = F.pad(grey[None, None], (1, 1, 1, 1), mode="replicate")
    return F.conv2d(padded, kernel[None, None])[0, 0]


def display_image(filtered: Tensor, kernel: Tensor | Sequence[float]) -> tuple[Tensor, str]:
    """A filtered image ready to show in [0, 1], and a few words on how it was scaled.

    Kernels that sum to 0 (edge detectors) answer with positive and negative values around 0: we show
    the strength of the response, ``|response|``, scaled so that the strongest 1% is white (scaling to
    the single largest value would leave most edges too dark to see). Kernels with a positive sum keep a
    flat region's brightness times that sum: we divide by the sum and clip to [0, 1]. Anything else:
    min-max scaled.
    """
    total = float(as_kernel(kernel).sum())
    if abs(total) < 1e-6:
        magnitude = filtered.abs()
        bright = torch.quantile(magnitude.flatten().float(), 0.99).clamp_min(1e-12)
        return (magnitude / bright).clamp(0, 1), "|response|, strongest 1% white"
    if total > 0:
        note = "clipped to [0, 1]" if abs(total - 1) < 1e-6 else f"divided by the kernel's sum ({total:g}), clipped"
        return (filtered / total).clamp(0, 1), note
    low, high = filtered.min(), filtered.max()
    return (filtered - low) / (high - low).clamp_min(1e-12), "min-max scaled"


def total_variation(image: Tensor) -> float:
    """Mean absolute difference between neighbouring pixels: small for smooth images, large for sharp ones."""
    image = image.reshape(image.shape[-2], image.shape[-1])
    return float(((image[1:] - image[:-1]).abs().mean() + (image[:, 1:] - image[:, :-1]).abs().mean()) / 2)


# --------------------------------------------------------------------------------------------------
# Pooling and shifts
# --------------------------------------------------------------------------------------------------

def shift(images: Tensor, down: int = 0, right: int = 0) -> Tensor:
    """Move the content of ``... x H x W`` images ``down`` and ``right`` pixels, filling with zeros."""
    shifted = torch.zeros_like(images)
    height, width = images.shape[-2:]
    shifted[..., max(down, 0):height + min(down, 0), max(right, 0):width + min(right, 0)] = \
        images[..., max(-down, 0):height - max(down, 0), max(-right, 0):width - max(right, 0)]
    return shifted


def shift_sensitivity(maps: Tensor, transform: Callable[[Tensor], Tensor] | None = None,
                      shifts: Sequence[tuple[int, int]] = ((0, 1), (1, 0), (1, 1))) -> float:
    """How much a one-pixel shift of ``maps`` (``... x H x W``) changes ``transform(maps)``, on average.

    For each shift: ``||transform(shifted) - transform(maps)|| / ||transform(maps)||``. With no
    transform this measures the maps themselves; with a pooling layer, what the next layer sees. A
    smaller number means more invariance to small shifts.
    """
    transform = transform or (lambda x: x)
    reference = transform(maps)
    changes = [(transform(shift(maps, down, right)) - reference).norm() / reference.norm().clamp_min(1e-12)
               for down, right in shifts]
    return float(torch.stack(changes).mean())


# --------------------------------------------------------------------------------------------------
# Batch normalization
# --------------------------------------------------------------------------------------------------

def batch_norm_reference(x: Tensor, gamma: Tensor | None = None, beta: Tensor | None = None,
                         eps: float = 1e-5) -> Tensor:
    """Batch normalization of an N x C x H x W batch in training mode, as ``nn.BatchNorm2d`` computes it.

    Per channel, over the batch and every position (N, H, W): subtract the mean, divide by
    ``sqrt(variance + eps)`` with the *biased* variance (divide by m, not m - 1), then scale by
    ``gamma`` and shift by ``beta`` (one of each per channel; default 1 and 0).
    """
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    variance = ((x - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
    normalized = (x - mean) / torch.sqrt(variance + eps)
    channels = x.shape[1]
    gamma = torch.ones(channels, dtype=x.dtype) if gamma is None else gamma
    beta = torch.zeros(channels, dtype=x.dtype) if beta is None else beta
    return gamma.reshape(1, -1, 1, 1) * normalized + beta.reshape(1, -1, 1, 1)


# --------------------------------------------------------------------------------------------------
# Shapes through a network
# --------------------------------------------------------------------------------------------------

def trace_shapes(model: nn.Module, input_shape: Sequence[int]):
    """A table (pandas DataFrame) with one row per leaf layer of ``model``: its name, what it is, the
    shape of its output for one input of ``input_shape`` (C x H x W, no batch dimension) and its
    parameter count. The first row is the input.
    """
    import pandas as pd

    rows = [{"layer": "input", "type": "", "output shape": tuple(input_shape), "parameters": 0}]
    hooks = []

    def record(name: str) -> Callable:
        def hook(module, inputs, output):
            rows.append({"layer": name, "type": _layer_description(module), "output shape": tuple(output.shape[1:]),
                         "parameters": sum(p.numel() for p in module.parameters(recurse=False))})
        return hook

    for name, module in model.named_modules():
        if not list(module.children()):
            hooks.append(module.register_forward_hook(record(name)))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            device = next(model.parameters(), torch.empty(0)).device
            model(torch.zeros(1, *input_shape, device=device))
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    return pd.DataFrame(rows)


def _layer_description(module: nn.Module) -> str:
    """'Conv2d(1, 8, k=3, s=1, p=1)', 'MaxPool2d(2)', 'Linear(784, 10)'... short enough for a table row."""
    if isinstance(module, nn.Conv2d):
        return (f"Conv2d({module.in_channels}, {module.out_channels}, k={_single(module.kernel_size)}, "
                f"s={_single(module.stride)}, p={_single(module.padding)})")
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        return f"{type(module).__name__}({_single(module.kernel_size)})"
    if isinstance(module, nn.Linear):
        return f"Linear({module.in_features}, {module.out_features})"
    if isinstance(module, nn.BatchNorm2d):
        return f"BatchNorm2d({module.num_features})"
    return type(module).__name__


def _single(value) -> int | tuple | str:
    if isinstance(value, tuple) and len(set(value)) == 1:
        return value[0]
    return value


def human_bytes(count: float) -> str:
    """'24.9 GB' for a number of bytes (powers of 1000)."""
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if abs(count) < 1000 or unit == "TB":
            return f"{count:.3g} {unit}" if unit != "bytes" else f"{int(count)} bytes"
        count /= 1000
    return f"{count:.3g} TB"  # pragma: no cover


__all__ = [
    "DECK_FIRST_OUTPUT",
    "DECK_IMAGE",
    "DECK_KERNEL",
    "DECK_OUTPUT",
    "PRESET_KERNELS",
    "as_kernel",
    "batch_norm_reference",
    "conv2d_reference",
    "conv_output_size",
    "conv_parameter_count",
    "convolution_matrix",
    "display_image",
    "filter_image",
    "human_bytes",
    "linear_parameter_count",
    "max_pool2d_reference",
    "measured_receptive_field",
    "receptive_field",
    "shift",
    "shift_sensitivity",
    "total_variation",
    "trace_shapes",
]
