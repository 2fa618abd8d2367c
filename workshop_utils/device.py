"""Which device to train on, why, and what this machine is.

The rule is CUDA, then Apple MPS, then CPU; ``WORKSHOP_DEVICE`` overrides it. Every choice comes with
a sentence saying why, because "why is my notebook slow?" is the first question in every workshop.

:func:`outputs_agree` compares two computations of the same outputs with a tolerance that fits their dtype
and device: exact-looking comparisons that hold on a CPU fail on a GPU, where float32 runs in TF32.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import platform
import sys
from dataclasses import dataclass

import torch

from . import config


@dataclass(frozen=True)
class DeviceChoice:
    """A torch device plus the reason it was chosen."""

    device: torch.device
    reason: str

    def __str__(self) -> str:
        return f"{self.device} ({self.reason})"


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available() and mps.is_built())


def _cuda_name() -> str:
    return torch.cuda.get_device_name(0)


def pick_device(override: str | None = None) -> DeviceChoice:
    """Choose CUDA, then MPS, then CPU; ``override`` (or ``WORKSHOP_DEVICE``) forces one.

    Asking for a device that is not there raises a RuntimeError that says what is available, rather
    than silently training somewhere else.
    """
    wanted = (override or config.device_override() or "").lower() or None
    cuda, mps = torch.cuda.is_available(), _mps_available()
    if wanted is not None:
        available = {"cpu": True, "cuda": cuda, "mps": mps}
        if wanted not in available:
            raise ValueError(f"Unknown device {wanted!r}: use 'cpu', 'cuda' or 'mps' (WORKSHOP_DEVICE).")
        if not available[wanted]:
            have = ", ".join(name for name, ok in available.items() if ok)
            raise RuntimeError(
                f"Device {wanted!r} was asked for (WORKSHOP_DEVICE or argument) but is not available here; "
                f"available: {have}. Unset WORKSHOP_DEVICE to choose automatically."
            )
        return DeviceChoice(torch.device(wanted), "asked for explicitly")
    if cuda:
        return DeviceChoice(torch.device("cuda"), f"an NVIDIA GPU is available: {_cuda_name()}")
    if mps:
        return DeviceChoice(torch.device("mps"), "Apple-silicon GPU (Metal Performance Shaders) is available")
    if config.in_colab():
        reason = ("no GPU in this Colab runtime: Runtime > Change runtime type > T4 GPU makes training "
                  "several times faster (everything also runs on the CPU, just slower)")
    else:
        reason = "no CUDA or Apple MPS GPU found; every notebook also runs on the CPU, just slower"
    return DeviceChoice(torch.device("cpu"), reason)


def safe_num_workers(requested: int | None = None) -> tuple[int, str]:
    """A DataLoader worker count that will not hang or slow down a notebook, and why.

    Worker processes started with "spawn" (Windows, macOS) must import the Dataset from a module: a
    class defined in a notebook makes them hang or crash, so there we use 0. With preloaded tensors or
    two CPU cores, extra processes only add copying overhead (measured in notebook 07), so 0 again.
    """
    start_method = multiprocessing.get_start_method(allow_none=True) or default_start_method()
    cpus = os.cpu_count() or 1
    if requested is not None:
        if requested < 0:
            raise ValueError(f"num_workers must be >= 0, got {requested}")
        if requested > 0 and start_method != "fork" and _in_notebook():
            return 0, (f"asked for {requested}, but '{start_method}' worker processes cannot import classes "
                       "defined in a notebook, so 0 (load in the main process)")
        return requested, "as asked"
    if start_method != "fork" and _in_notebook():
        return 0, f"'{start_method}' start method in a notebook: workers would hang, so 0"
    if cpus <= 2:
        return 0, f"only {cpus} CPU core(s): worker processes would compete with training, so 0"
    workers = min(4, cpus // 2)
    return workers, f"{cpus} CPU cores: {workers} loader processes, leaving the rest for training"


def default_start_method(platform_name: str | None = None, version: tuple[int, int] | None = None) -> str:
    """The start method multiprocessing uses when none was set: "fork" on Linux before Python 3.14,
    "forkserver" on Linux from 3.14 on (which, like "spawn", cannot pickle notebook classes), else "spawn"."""
    platform_name = sys.platform if platform_name is None else platform_name
    version = tuple(sys.version_info[:2]) if version is None else version
    if not platform_name.startswith("linux"):
        return "spawn"
    return "fork" if version < (3, 14) else "forkserver"


def _in_notebook() -> bool:
    return "ipykernel" in sys.modules


def _version(module_name: str) -> str:
    try:
        module = __import__(module_name)
    except ImportError:
        return "not installed"
    return getattr(module, "__version__", "unknown")


def environment_report(choice: DeviceChoice | None = None) -> dict[str, str]:
    """Versions, device and data-cache facts as an ordered dict of strings (what attendees paste into a question)."""
    choice = choice or pick_device()
    report = {
        "Python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "torch": torch.__version__,
        "torchvision": _version("torchvision"),
        "ipywidgets": _version("ipywidgets"),
        "matplotlib": _version("matplotlib"),
        "running in": "Google Colab" if config.in_colab() else "local Python / JupyterLab",
        "CPU cores": str(os.cpu_count()),
        "device": str(choice.device),
        "why": choice.reason,
    }
    if choice.device.type == "cuda":
        props = torch.cuda.get_device_properties(choice.device)
        report["GPU"] = f"{props.name}, {props.total_memory / 2**30:.1f} GiB"
        report["CUDA (torch build)"] = str(torch.version.cuda)
    report["data cache"] = str(config.data_dir())
    report["mirror"] = config.mirror_url() or "none (public sources)"
    report["run mode"] = "smoke (CI-sized)" if config.smoke_mode() else "full"
    return report


def format_report(report: dict[str, str]) -> str:
    """The report as aligned ``key : value`` lines."""
    width = max(map(len, report))
    return "\n".join(f"{key:<{width}} : {value}" for key, value in report.items())


def print_environment_report() -> torch.device:
    """Print the environment report and return the chosen device (the usual first cell of a notebook)."""
    choice = pick_device()
    print(format_report(environment_report(choice)))
    return choice.device


# --------------------------------------------------------------------------------------------------
# Comparing outputs computed two ways: a tolerance that fits the dtype and the device
# --------------------------------------------------------------------------------------------------

#: Largest difference allowed between two computations of the same outputs, as a fraction of the largest
#: output, for float32 on the CPU, float32 on a GPU, float16 and bfloat16 (and float64). Why these:
#: - CPU float32: the same kernels up to summation order: differences near 1e-6 of the outputs.
#: - GPU float32: cuDNN computes float32 convolutions in TF32 by default on Ampere and newer GPUs (10 bits of
#:   mantissa, like float16), and picks kernels by batch size: through a ResNet-18, TF32 alone moves the
#:   outputs by about 1e-3 of their largest value (measured by rounding every layer's inputs and weights to
#:   10 bits, tests/test_device_and_seeding.py). Apple GPUs get the same allowance.
#: - float16 (10 bits) and bfloat16 (7 bits, about 1e-2 through a ResNet-18) are looser still.
#: A real mistake (batch norm in training mode, un-normalized inputs, another head) moves the outputs by a
#: good fraction of their size, far beyond all of these.
RELATIVE_TOLERANCES: dict[str, float] = {
    "float64": 1e-10,
    "float32 on cpu": 1e-4,
    "float32 on a GPU": 1e-2,
    "float16": 2e-2,
    "bfloat16": 5e-2,
}
_PRECISION_ORDER = (torch.float64, torch.float32, torch.float16, torch.bfloat16)


@dataclass(frozen=True)
class OutputComparison:
    """The result of :func:`compare_outputs`: whether they ``agree``, the largest ``difference`` as a fraction
    of the largest output, the ``tolerance`` it was held to, and ``why`` (which tolerance, or what went wrong)."""

    agree: bool
    difference: float
    tolerance: float
    why: str

    def __bool__(self) -> bool:
        return self.agree

    def __str__(self) -> str:
        return (f"largest difference {self.difference:.1e} of the largest output, tolerance {self.tolerance:.0e} "
                f"({self.why})")


def comparison_tolerance(dtype: torch.dtype, device_type: str) -> tuple[float, str]:
    """``(relative tolerance, which one)`` for outputs computed in ``dtype`` on a ``device_type`` device."""
    if dtype == torch.bfloat16:
        return RELATIVE_TOLERANCES["bfloat16"], "bfloat16"
    if dtype == torch.float16:
        return RELATIVE_TOLERANCES["float16"], "float16"
    if dtype == torch.float64:
        return RELATIVE_TOLERANCES["float64"], "float64"
    if device_type in ("cuda", "mps"):
        return RELATIVE_TOLERANCES["float32 on a GPU"], f"float32 on {device_type}: TF32 and kernel choice allowed"
    return RELATIVE_TOLERANCES["float32 on cpu"], f"float32 on {device_type}"


def _least_precise(*dtypes: torch.dtype) -> torch.dtype:
    floats = [dtype for dtype in dtypes if dtype in _PRECISION_ORDER]
    return max(floats, key=_PRECISION_ORDER.index) if floats else torch.float32


def compare_outputs(actual: torch.Tensor, expected: torch.Tensor, *, device: torch.device | str | None = None,
                    dtype: torch.dtype | None = None) -> OutputComparison:
    """Compare two computations of the same outputs with a tolerance that fits how they were computed.

    ``device``: where they were computed (default: a GPU if either tensor is on one, else the CPU); ``dtype``:
    the precision they were computed in, e.g. ``torch.bfloat16`` for float32 outputs of an autocast forward
    pass (default: the less precise of the two tensors' dtypes). The difference is measured against the
    largest output, not element by element, so that outputs near zero do not demand more digits than the
    arithmetic keeps. Different shapes, or a NaN or infinity anywhere, never agree.
    """
    if device is None:
        device_types = {actual.device.type, expected.device.type}
        device_type = next((kind for kind in ("cuda", "mps") if kind in device_types), "cpu")
    else:
        device_type = torch.device(device).type
    computed_in = dtype if dtype is not None else _least_precise(actual.dtype, expected.dtype)
    tolerance, why = comparison_tolerance(computed_in, device_type)
    if actual.shape != expected.shape:
        return OutputComparison(False, math.inf, tolerance,
                                f"different shapes: {tuple(actual.shape)} vs {tuple(expected.shape)}")
    first = actual.detach().to("cpu", torch.float64)
    second = expected.detach().to("cpu", torch.float64)
    if not (torch.isfinite(first).all() and torch.isfinite(second).all()):
        return OutputComparison(False, math.inf, tolerance, "NaN or infinity in the outputs")
    if first.numel() == 0:
        return OutputComparison(True, 0.0, tolerance, why)
    scale = max(first.abs().max().item(), second.abs().max().item())
    difference = 0.0 if scale == 0 else (first - second).abs().max().item() / scale
    return OutputComparison(difference <= tolerance, difference, tolerance, why)


def outputs_agree(actual: torch.Tensor, expected: torch.Tensor, *, device: torch.device | str | None = None,
                  dtype: torch.dtype | None = None) -> bool:
    """True when two computations of the same outputs agree within what their dtype and device allow.

    A plain ``torch.allclose(..., atol=1e-4)`` holds on a CPU but not on a GPU, where float32 convolutions
    run in TF32 and kernels differ by batch size; see :func:`compare_outputs` for the arguments and
    :data:`RELATIVE_TOLERANCES` for the tolerances.
    """
    return compare_outputs(actual, expected, device=device, dtype=dtype).agree
