"""Notebook 07's speed table, measured on this machine: how much faster each trick trains.

    python benchmarks/training_speed.py                     # full sizes, best device (a GPU if there is one)
    python benchmarks/training_speed.py --smoke             # a few batches per row, in seconds
    python benchmarks/training_speed.py --device cpu --threads 2
    python benchmarks/training_speed.py --rows compute decoded-cache --markdown

It runs ``workshop_utils.performance.run_speed_suite``, the measurements of notebook 07: notebook 05's
road-sign CNN trained on the road-sign images (the real data set when it is in the cache, else the
announced stand-in), one row per trick: GPU vs CPU, host -> GPU copies from pageable and pinned memory,
decoding PNG files every epoch with 0 / 2 / 4 DataLoader workers vs a cache of decoded tensors,
``pin_memory`` with ``non_blocking`` copies, batches sliced from tensors on the device, AMP (bfloat16,
float16), ``channels_last``, ``cudnn.benchmark``, ``torch.compile`` (compile time apart) and frozen layers.
Each row gives images per second and its speed-up over its group's baseline, or the reason it has no
number (a CUDA-only trick on a machine without CUDA). Run it on a GPU machine (e.g. a Colab GPU runtime)
to compare with the CPU table of the notebook. It never uses the network and exits 0.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cuda, mps or cpu (default: the best available)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--smoke", action="store_true", help="a few batches per row, no torch.compile (seconds)")
    size.add_argument("--full", action="store_true", help="enough batches for stable numbers (the default)")
    parser.add_argument("--rows", nargs="+", default=None, metavar="ROW",
                        help="only these rows: keys (e.g. decoded-cache amp-fp16) or groups (e.g. compute)")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads for torch (default: 1 on a machine with 2 cores or fewer, else torch's)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--list", action="store_true", help="list the rows and groups, measure nothing")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    arguments = parse_arguments(argv)
    os.environ["WORKSHOP_OFFLINE"] = "1"  # never the network: the cache, or the stand-in
    os.environ["WORKSHOP_SMOKE"] = "1" if arguments.smoke else "0"

    import dataclasses

    import torch

    from workshop_utils import performance
    from workshop_utils.device import pick_device

    if arguments.list:
        for spec in performance.SPEED_ROWS:
            print(f"{spec.key:<22} {spec.group:<24} {spec.name}{'  (baseline)' if spec.baseline else ''}")
        return 0
    try:
        keys = performance.select_rows(arguments.rows)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    try:
        device = pick_device(arguments.device).device
    except (RuntimeError, ValueError) as error:  # a device that is not there, or a misspelt one
        print(error, file=sys.stderr)
        return 2
    config = performance.SuiteConfig.for_mode(arguments.smoke, device)
    if arguments.threads:
        config = dataclasses.replace(config, threads=arguments.threads)
    data = performance.load_speed_data(config)
    print(f"torch {torch.__version__}; {performance.describe_config(config, device, data)}", flush=True)

    started = time.perf_counter()

    def report(row: performance.SpeedRow) -> None:
        value = f"{row.images_per_second:,.0f} images/s" if row.measured else f"no number: {row.reason}"
        print(f"  [{time.perf_counter() - started:6.1f} s] {row.key}: {value}", flush=True)

    rows = performance.run_speed_suite(device, smoke=arguments.smoke, rows=keys, config=config, data=data,
                                       progress=report)
    table = performance.speed_table(rows)
    print()
    if arguments.markdown:
        print(performance.markdown_speed_table(table))
    else:
        print(performance.format_speed_table(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
