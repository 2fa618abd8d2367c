"""Make runs repeatable: the same notebook prints the same numbers twice on the CPU.

GPUs are only repeatable with ``deterministic=True`` (slower kernels, and a few operations refuse to
run); on the CPU, seeding Python, NumPy and torch is enough.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def seed_everything(seed: int = 0, deterministic: bool = False) -> torch.Generator:
    """Seed ``random``, NumPy, torch (CPU, CUDA and MPS) and return a seeded torch.Generator.

    Pass the generator to ``DataLoader(generator=...)`` (and ``worker_init_fn=seed_worker``) so that
    shuffling is repeatable too. ``deterministic=True`` also asks cuDNN and torch for deterministic
    kernels (``warn_only`` so an operation without one warns instead of stopping the lesson).
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # seeds CUDA and MPS generators too
    os.environ["PYTHONHASHSEED"] = str(seed)  # for subprocesses (workers); this process's hash seed is fixed
    if deterministic:
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
    return make_generator(seed)


def make_generator(seed: int) -> torch.Generator:
    """A CPU torch.Generator seeded with ``seed`` (for DataLoader shuffling and random splits)."""
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def seed_worker(worker_id: int) -> None:
    """``worker_init_fn`` for DataLoader: derive NumPy's and ``random``'s seeds from torch's per-worker seed.

    torch seeds each worker differently, but NumPy and ``random`` would otherwise start identical in every
    worker, so random augmentations would repeat across workers.
    """
    worker_seed = torch.initial_seed() % 2**32
    np.random.seed(worker_seed)
    random.seed(worker_seed)
