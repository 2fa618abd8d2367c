"""workshop_utils.convolution: the by-hand versions agree with PyTorch; counts, sizes and fields follow the formulas."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from workshop_utils.convolution import (DECK_FIRST_OUTPUT, DECK_IMAGE, DECK_KERNEL, DECK_OUTPUT, PRESET_KERNELS,
                                        as_kernel, batch_norm_reference, conv2d_reference, conv_output_size,
                                        conv_parameter_count, convolution_matrix, display_image, filter_image,
                                        human_bytes, linear_parameter_count, max_pool2d_reference,
                                        measured_receptive_field, receptive_field, shift, shift_sensitivity,
                                        total_variation, trace_shapes)
from workshop_utils.data.photos import load_sample_photo


def test_the_decks_example():
    assert (DECK_IMAGE[:3, :3] * DECK_KERNEL).sum() == DECK_FIRST_OUTPUT == 4
    assert torch.equal(conv2d_reference(DECK_IMAGE, DECK_KERNEL), DECK_OUTPUT)
    assert torch.equal(F.conv2d(DECK_IMAGE[None, None], DECK_KERNEL[None, None])[0, 0], DECK_OUTPUT)


@pytest.mark.parametrize("shape, kernel_shape, stride, padding", [
    ((5, 5), (3, 3), 1, 0), ((7, 6), (3, 3), 2, 1), ((8, 9), (2, 3), 3, 2), ((6, 6), (5, 5), 1, 2),
])
def test_reference_convolution_and_its_matrix_match_conv2d(shape, kernel_shape, stride, padding):
    generator = torch.Generator().manual_seed(0)
    image, kernel = torch.randn(shape, generator=generator), torch.randn(kernel_shape, generator=generator)
    expected = F.conv2d(image[None, None], kernel[None, None], stride=stride, padding=padding)[0, 0]
    assert torch.allclose(conv2d_reference(image, kernel, stride, padding), expected, atol=1e-5)
    matrix = convolution_matrix(kernel, shape, stride, padding)
    assert matrix.shape == (expected.numel(), image.numel())
    assert torch.allclose((matrix @ image.flatten()).reshape(expected.shape), expected, atol=1e-5)
    for n, k, size in zip(shape, kernel_shape, expected.shape):
        assert conv_output_size(n, k, stride, padding) == size


def test_reference_convolution_rejects_batches():
    with pytest.raises(ValueError, match="2-D"):
        conv2d_reference(torch.zeros(1, 1, 5, 5), DECK_KERNEL)


def test_convolution_matrix_shares_one_kernel_across_rows():
    kernel = torch.arange(1.0, 10.0).reshape(3, 3)
    matrix = convolution_matrix(kernel, (5, 5))
    for row in matrix:
        assert sorted(row[row != 0].tolist()) == list(range(1, 10))  # each row: the 9 weights, once
    assert (matrix != 0).sum() == 81


def test_output_size_with_dilation_matches_a_layer():
    layer = nn.Conv2d(1, 1, 3, stride=2, padding=2, dilation=2)
    assert layer(torch.zeros(1, 1, 11, 11)).shape[-1] == conv_output_size(11, 3, 2, 2, dilation=2)


def test_max_pool_reference():
    x = torch.randn(7, 9)
    for size in (2, 3):
        assert torch.equal(max_pool2d_reference(x, size), F.max_pool2d(x[None, None], size)[0, 0])
    assert torch.equal(max_pool2d_reference(x, 3, stride=1), F.max_pool2d(x[None, None], 3, stride=1)[0, 0])


def test_parameter_counts_match_the_layers():
    for args in [(1, 8, 3), (3, 64, 3), (16, 32, 5)]:
        assert conv_parameter_count(*args) == sum(p.numel() for p in nn.Conv2d(*args).parameters())
    assert conv_parameter_count(3, 64, (3, 5), bias=False) == nn.Conv2d(3, 64, (3, 5), bias=False).weight.numel()
    assert linear_parameter_count(784, 256) == sum(p.numel() for p in nn.Linear(784, 256).parameters())
    assert linear_parameter_count(1920 * 1080 * 3, 1000) == 6_220_801_000
    assert human_bytes(6_220_801_000 * 4) == "24.9 GB" and human_bytes(512) == "512 bytes"


def test_receptive_fields():
    assert receptive_field([3]) == 3 and receptive_field([3, 3]) == 5 and receptive_field([3, 3, 3]) == 7
    assert receptive_field([3, 2, 3], strides=[1, 2, 1]) == 8  # a pooling in between doubles the later steps
    two_small = nn.Sequential(nn.Conv2d(1, 1, 3), nn.ReLU(), nn.Conv2d(1, 1, 3))
    assert measured_receptive_field(two_small) == 5 == measured_receptive_field(nn.Conv2d(1, 1, 5))
    with_pooling = nn.Sequential(nn.Conv2d(1, 2, 3), nn.AvgPool2d(2), nn.Conv2d(2, 1, 3))
    assert measured_receptive_field(with_pooling, input_size=24) == receptive_field([3, 2, 3], [1, 2, 1])
    with pytest.raises(ValueError):
        receptive_field([3, 3], strides=[1])


def test_presets_and_filtering():
    assert set(PRESET_KERNELS) >= {"identity", "blur (box)", "sharpen", "edges: Sobel x (vertical edges)"}
    for name, kernel in PRESET_KERNELS.items():
        assert kernel.shape == (3, 3), name
    step = torch.zeros(1, 12, 12)
    step[:, :, 6:] = 1.0  # a vertical edge
    vertical = filter_image(step, PRESET_KERNELS["edges: Sobel x (vertical edges)"])
    horizontal = filter_image(step, PRESET_KERNELS["edges: Sobel y (horizontal edges)"])
    assert vertical.shape == (12, 12) and vertical.abs().max() == 4 and horizontal.abs().max() == 0
    assert vertical[:, :4].abs().max() == 0  # flat regions give nothing; the border does not light up
    assert torch.allclose(filter_image(step, PRESET_KERNELS["identity"]), step[0])
    assert torch.equal(as_kernel(range(9)), torch.arange(9.0).reshape(3, 3))
    with pytest.raises(ValueError):
        as_kernel([1, 2, 3])


def test_blur_smooths_and_sharpen_sharpens_a_photo():
    photo = load_sample_photo(size=64)
    blurred = filter_image(photo, PRESET_KERNELS["blur (box)"])
    sharpened = filter_image(photo, PRESET_KERNELS["sharpen"])
    assert total_variation(blurred) < total_variation(photo) < total_variation(sharpened)


def test_display_image_scales_to_zero_one():
    filtered = torch.tensor([[-2.0, 0.0], [1.0, 4.0]])
    shown, note = display_image(filtered, PRESET_KERNELS["edges: outline (Laplacian)"])  # sums to 0
    assert shown[1, 1] == 1 and shown[0, 1] == 0 and shown[0, 0] == 2 * shown[1, 0] and "|response|" in note
    edges = torch.linspace(-1, 1, 1001)
    shown, _ = display_image(edges.reshape(7, 143), PRESET_KERNELS["edges: outline (Laplacian)"])
    assert (shown == 1).float().mean() < 0.05  # only the strongest answers saturate
    shown, note = display_image(filtered, torch.ones(3, 3))  # sums to 9
    assert shown.max() <= 1 and shown.min() == 0 and "9" in note
    shown, _ = display_image(filtered, -torch.ones(3, 3))
    assert shown.min() == 0 and shown.max() == 1


def test_shift_and_pooling_invariance():
    image = torch.arange(16.0).reshape(4, 4)
    assert torch.equal(shift(image, 1, 0)[1:], image[:-1]) and shift(image, 1, 0)[0].abs().sum() == 0
    assert torch.equal(shift(shift(image, 0, -1), 0, 1)[:, 1:], image[:, 1:])  # left then right: column 0 lost
    dot = torch.zeros(1, 8, 8)
    dot[0, 2, 2] = 1.0
    moved = shift(dot, 0, 1)  # still inside the same 2 x 2 window
    assert torch.equal(F.max_pool2d(dot, 2), F.max_pool2d(moved, 2))
    edges = filter_image(load_sample_photo(size=64), PRESET_KERNELS["edges: outline (Laplacian)"]).abs()[None]
    raw = shift_sensitivity(edges)
    pooled = shift_sensitivity(edges, nn.MaxPool2d(2))
    pooled_more = shift_sensitivity(edges, nn.MaxPool2d(4))
    assert pooled_more < pooled < raw


def test_batch_norm_reference_matches_the_layer_in_training_mode():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(6, 3, 4, 5, generator=generator) * 3 + 2
    gamma, beta = torch.rand(3, generator=generator), torch.randn(3, generator=generator)
    layer = nn.BatchNorm2d(3).train()
    with torch.no_grad():
        layer.weight.copy_(gamma)
        layer.bias.copy_(beta)
        assert torch.allclose(layer(x), batch_norm_reference(x, gamma, beta), atol=1e-5)
    normalized = batch_norm_reference(x)
    assert torch.allclose(normalized.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5)
    assert torch.allclose(normalized.var(dim=(0, 2, 3), unbiased=False), torch.ones(3), atol=1e-3)


def test_trace_shapes_lists_every_layer():
    model = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(6 * 14 * 14, 10))
    model.train()
    table = trace_shapes(model, (1, 28, 28))
    assert table["output shape"].tolist() == [(1, 28, 28), (6, 28, 28), (6, 28, 28), (6, 14, 14), (1176,), (10,)]
    assert table["parameters"].sum() == sum(p.numel() for p in model.parameters())
    assert table["type"].iloc[1] == "Conv2d(1, 6, k=5, s=1, p=2)" and table["type"].iloc[3] == "MaxPool2d(2)"
    assert model.training  # put back in its mode


def test_load_sample_photo():
    photo = load_sample_photo()
    assert photo.shape == (1, 427, 640) and photo.dtype == torch.float32
    assert 0 <= photo.min() and photo.max() <= 1 and photo.std() > 0.1
    assert load_sample_photo(grey=False, size=(30, 40)).shape == (3, 30, 40)
    assert load_sample_photo(size=100).shape == (1, 100, 150)  # the shorter side, aspect kept
    assert load_sample_photo(name="flower.jpg", size=20).shape[-2:] == (20, 30)
    with pytest.raises(ValueError):
        load_sample_photo(name="cat.jpg")
    with pytest.raises(ValueError):
        load_sample_photo(size=(10,))
