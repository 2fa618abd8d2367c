"""The networks the lessons train, in one place so that notebooks, tests and benchmarks agree.

==========================  ===========================================================================
builder                     what it is
==========================  ===========================================================================
``fashion_mlp()``           notebook 03's MLP: 784 -> 256 -> 128 -> 10, 235,146 parameters
``compact_fashion_cnn()``   notebook 04's CNN: three 3x3 conv blocks, 17,018 parameters (1/13 of the MLP)
``lenet5()``                LeCun's LeNet-5 layout (5x5 convs, average pooling, 3 dense layers)
``vgg_block()``             VGG's unit: n 3x3 convs with ReLU, then 2x2 max pooling
``road_sign_cnn()``         notebook 05's baseline, with optional dropout and batch norm
==========================  ===========================================================================

Every builder returns a fresh ``nn.Sequential``, so ``print(model)`` shows every layer.
"""

from __future__ import annotations

from torch import nn

#: How notebook 04 and ``benchmarks/fashion_cnn_time_to_91.py`` train ``compact_fashion_cnn``: Adam with a
#: one-cycle learning rate (warm up to ``max_lr``, then anneal), stepped after every batch. For speed (measured
#: in docs/SPEED.md): the model and the images in ``channels_last`` memory format (about 2x cheaper on a CPU),
#: and ``autocast`` "auto": bfloat16 where the hardware runs it natively (CUDA from compute capability 8.0,
#: CPUs with AVX-512 BF16 or AMX: about 2x cheaper again), float32 elsewhere. 6 epochs at batch 128 in
#: float32 took 53 s on 2 CPU cores.
COMPACT_CNN_RECIPE = {"epochs": 4, "batch_size": 256, "max_lr": 0.01, "channels_last": True, "autocast": "auto"}


def fashion_mlp(hidden: tuple[int, ...] = (256, 128), num_classes: int = 10) -> nn.Sequential:
    """Notebook 03's multilayer perceptron for 1 x 28 x 28 images (235,146 parameters by default)."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = 28 * 28
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)


def conv_bn_relu(in_channels: int, out_channels: int, kernel_size: int = 3) -> list[nn.Module]:
    """A "same"-size convolution, batch norm and ReLU. The conv has no bias: batch norm's shift
    (beta) would cancel it anyway."""
    return [nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU()]


def compact_fashion_cnn(num_classes: int = 10, *, pool_first: bool = False) -> nn.Sequential:
    """Notebook 04's CNN for 1 x 28 x 28 images: 17,018 parameters.

    Three blocks of (3x3 conv, batch norm, ReLU, 2x2 max pool) with 16, 32 and 32 channels shrink
    28 -> 14 -> 7 -> 3 pixels; the 32 x 3 x 3 = 288 features go to one linear layer. Trained with
    :data:`COMPACT_CNN_RECIPE` it reaches about 91% test accuracy on Fashion-MNIST, where the 14 times
    larger MLP reaches about 88%.

    ``pool_first=True`` pools right after each convolution (conv, max pool, batch norm, ReLU): the same
    parameters, but batch norm and ReLU work on a quarter of the values, which makes an epoch cheaper on
    a CPU (docs/SPEED.md). Not exactly the same function: max pooling commutes with ReLU but not with a
    batch norm whose scale is negative.
    """
    def block(in_channels: int, out_channels: int) -> list[nn.Module]:
        conv, norm, relu = conv_bn_relu(in_channels, out_channels)
        return [conv, nn.MaxPool2d(2), norm, relu] if pool_first else [conv, norm, relu, nn.MaxPool2d(2)]

    return nn.Sequential(
        *block(1, 16),    # 16 x 14 x 14
        *block(16, 32),   # 32 x 7 x 7
        *block(32, 32),   # 32 x 3 x 3
        nn.Flatten(),
        nn.Linear(32 * 3 * 3, num_classes),
    )


def lenet5(num_classes: int = 10) -> nn.Sequential:
    """LeNet-5 (LeCun et al., 1998) for 1 x 28 x 28 images: 61,706 parameters.

    5x5 convolutions (6, then 16 channels), 2x2 average pooling, then 120 -> 84 -> classes dense layers;
    ReLU instead of the original's scaled tanh, and padding 2 on the first conv because the original
    took 32 x 32 inputs.
    """
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.AvgPool2d(2),   # 6 x 14 x 14
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.AvgPool2d(2),             # 16 x 5 x 5
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, num_classes),
    )


def vgg_block(in_channels: int, out_channels: int, convs: int = 2) -> nn.Sequential:
    """VGG's building block: ``convs`` 3x3 convolutions (padding 1, ReLU), then 2x2 max pooling.

    Two stacked 3x3 convs see a 5x5 patch with 2 x 9 = 18 weights per channel pair instead of 25.
    """
    if convs < 1:
        raise ValueError(f"A VGG block needs at least one convolution, got convs={convs}.")
    layers: list[nn.Module] = []
    for index in range(convs):
        layers += [nn.Conv2d(in_channels if index == 0 else out_channels, out_channels, 3, padding=1), nn.ReLU()]
    layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


def road_sign_cnn(num_classes: int = 4, *, image_size: int = 64, dropout: float = 0.0,
                  batch_norm: bool = False, global_pool: bool = True) -> nn.Sequential:
    """Notebook 05's CNN for 3 x ``image_size`` x ``image_size`` images.

    Three (3x3 conv, [batch norm], ReLU, 2x2 max pool) blocks with 16, 32 and 64 channels, then global
    max pooling (each channel's strongest response anywhere in the picture: a sign is found wherever it
    is), a 128-unit dense layer and the class scores. Without regularization it still has far more
    parameters than the few hundred training images can pin down (on purpose: it overfits).
    ``global_pool=False`` flattens the 64 x (size/8) x (size/8) maps instead: many more parameters, and
    on the road signs it memorizes the training images without learning to find the signs. ``dropout``
    (a probability) is applied before each dense layer; ``batch_norm`` adds batch norm after every
    convolution.
    """
    if image_size % 8 != 0 or image_size < 8:
        raise ValueError(f"image_size must be a multiple of 8 (three 2x2 poolings), got {image_size}.")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout is a probability in [0, 1), got {dropout}.")
    layers: list[nn.Module] = []
    for in_channels, out_channels in [(3, 16), (16, 32), (32, 64)]:
        layers.append(nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=not batch_norm))
        if batch_norm:
            layers.append(nn.BatchNorm2d(out_channels))
        layers += [nn.ReLU(), nn.MaxPool2d(2)]
    if global_pool:
        layers.append(nn.AdaptiveMaxPool2d(1))  # 64 x 1 x 1, whatever the image size
    layers.append(nn.Flatten())
    features = 64 if global_pool else 64 * (image_size // 8) ** 2
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers += [nn.Linear(features, 128), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(128, num_classes))
    return nn.Sequential(*layers)
