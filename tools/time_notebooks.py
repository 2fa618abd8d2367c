#!/usr/bin/env python
"""Run the reference notebooks in fresh kernels and report how long each takes.

    python tools/time_notebooks.py                          # every solutions/NN_*.ipynb, smoke mode
    python tools/time_notebooks.py --mode both 03 04        # notebooks 03 and 04, smoke then full
    python tools/time_notebooks.py --mode full --output timings/timings.md

Each notebook runs top to bottom in a new kernel of this Python environment, with its own folder as
the working directory and WANDB_MODE=disabled. ``smoke`` sets WORKSHOP_SMOKE=1 (CI's quick run);
``full`` removes it (the lesson as taught). Prints a Markdown table; exits 1 if any notebook failed,
after printing the failing cell's error.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO_ROOT / "solutions"
MODES = ("smoke", "full")
CURRENT_ENV_KERNEL = "workshop-current-env"
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(eq=False)
class NotebookFailure(Exception):
    """A notebook stopped: which cell (counting from 1), why, and after how many seconds."""

    cell_number: int | None
    summary: str  # one line, e.g. "ValueError: boom" or "timed out after 600 s"
    details: str  # the traceback, without terminal colours
    seconds: float

    def __str__(self) -> str:
        where = f"cell {self.cell_number}" if self.cell_number else "before the first cell"
        return f"{where}: {self.summary}"


@dataclass
class Timing:
    """One row of the report."""

    notebook: str
    mode: str
    seconds: float
    slowest_cell: tuple[int, float] | None  # (cell number from 1, seconds)
    failure: NotebookFailure | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


def kernel_env(mode: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """The kernel's environment for ``mode``: a copy of ``base`` (default os.environ), W&B disabled."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    env = dict(os.environ if base is None else base)
    env["WANDB_MODE"] = "disabled"  # never log to, or ask for, a W&B account while timing
    if mode == "smoke":
        env["WORKSHOP_SMOKE"] = "1"
    else:
        env.pop("WORKSHOP_SMOKE", None)
    return env


def _current_env_kernel_manager_class():
    """A kernel manager that starts ipykernel with this very interpreter, whatever kernelspecs exist."""
    import ipykernel.kernelspec
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class CurrentEnvSpecs(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            if kernel_name == CURRENT_ENV_KERNEL:
                return self.kernel_spec_class(resource_dir=ipykernel.kernelspec.RESOURCES,
                                              **ipykernel.kernelspec.get_kernel_dict())
            return super().get_kernel_spec(kernel_name)

    class CurrentEnvKernelManager(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _default_specs(self):
            return CurrentEnvSpecs(data_dir=self.data_dir)

    return CurrentEnvKernelManager


POLL_SLICE_SECONDS = 1.0


def _sliced(get_msg, slice_seconds: float = POLL_SLICE_SECONDS):
    """``get_msg`` that waits in short slices instead of one long wait, to the same overall timeout.

    nbclient waits for a cell's reply with a single ``get_msg(timeout=cell_timeout)``. With widget
    messages in flight that wait sometimes misses the reply already queued on the socket and sleeps
    for the whole timeout (jupyter/nbclient#312): the run hangs with an idle kernel. We saw it here
    about once in ten runs of a notebook with widgets. A new short wait sees the queued reply at once.
    """
    from queue import Empty

    async def sliced_get_msg(timeout: float | None = None, **kwargs):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = slice_seconds if deadline is None else min(slice_seconds, max(0.0, deadline - time.monotonic()))
            try:
                return await get_msg(timeout=wait, **kwargs)
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    return sliced_get_msg


def notebook_client(notebook, folder: Path, *, cell_timeout: float | None = 600, allow_errors: bool = False,
                    kernel_name: str = CURRENT_ENV_KERNEL, **hooks):
    """An nbclient ``NotebookClient`` for ``notebook``: a kernel of this interpreter, started in ``folder``,
    whose waits for replies and outputs are sliced (see :func:`_sliced`)."""
    from nbclient import NotebookClient

    class SlicedPollClient(NotebookClient):
        async def async_start_new_kernel_client(self):
            client = await super().async_start_new_kernel_client()
            for channel in (self.kc.shell_channel, self.kc.iopub_channel):
                channel.get_msg = _sliced(channel.get_msg)
            return client

    return SlicedPollClient(notebook, timeout=cell_timeout, kernel_name=kernel_name, allow_errors=allow_errors,
                            kernel_manager_class=_current_env_kernel_manager_class(),
                            resources={"metadata": {"path": str(folder)}}, **hooks)


def execute_notebook(path: Path, env: dict[str, str], *, cell_timeout: float | None = 600,
                     kernel_name: str = CURRENT_ENV_KERNEL) -> tuple[float, list[float]]:
    """Run ``path`` in a fresh kernel (cwd = its folder); return (wall seconds, seconds per cell).

    Wall seconds include starting the kernel. Raises NotebookFailure naming the failing cell. The
    notebook file is not modified.
    """
    import nbformat
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    path = Path(path).resolve()
    notebook = nbformat.read(path, as_version=4)
    cell_seconds = [0.0] * len(notebook.cells)
    current = {"index": None, "started": 0.0}

    def on_start(cell, cell_index):
        current.update(index=cell_index, started=time.perf_counter())

    def on_executed(cell, cell_index, execute_reply):
        cell_seconds[cell_index] = time.perf_counter() - current["started"]

    client = notebook_client(notebook, path.parent, cell_timeout=cell_timeout, kernel_name=kernel_name,
                             on_cell_start=on_start, on_cell_executed=on_executed)
    started = time.perf_counter()
    try:
        client.execute(env=env)
    except Exception as error:  # any failure becomes a report line; the caller goes on with the next
        seconds = time.perf_counter() - started
        index = current["index"]
        if isinstance(error, CellTimeoutError):
            summary = f"timed out after {cell_timeout} s (raise --timeout)"
        elif isinstance(error, DeadKernelError):
            summary = "the kernel died (out of memory?)"
        else:
            summary = _error_summary(notebook.cells[index]) if index is not None else type(error).__name__
        raise NotebookFailure(None if index is None else index + 1, summary,
                              _ANSI_ESCAPE.sub("", str(error)), seconds) from error
    return time.perf_counter() - started, cell_seconds


def _error_summary(cell) -> str:
    """``ErrorName: message`` from the cell's error output."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            message = _ANSI_ESCAPE.sub("", str(output.get("evalue", ""))).strip().splitlines()
            return f"{output.get('ename')}: {message[0] if message else ''}".rstrip(": ")
    return "failed"


def time_notebook(path: Path, mode: str, *, cell_timeout: float | None = 600,
                  base_env: dict[str, str] | None = None) -> Timing:
    """Run one notebook in one mode and return its report row (failures included, never raised)."""
    name = Path(path).stem
    try:
        seconds, cells = execute_notebook(path, kernel_env(mode, base_env), cell_timeout=cell_timeout)
    except NotebookFailure as failure:
        return Timing(name, mode, failure.seconds, None, failure)
    slowest = max(range(len(cells)), key=cells.__getitem__) if cells else None
    return Timing(name, mode, seconds, None if slowest is None else (slowest + 1, cells[slowest]))


def markdown_table(timings: list[Timing]) -> str:
    """The report as a Markdown table."""
    rows = ["| notebook | mode | wall seconds | slowest cell | status |", "|---|---|---:|---|---|"]
    for timing in timings:
        slowest = f"cell {timing.slowest_cell[0]} ({timing.slowest_cell[1]:.1f} s)" if timing.slowest_cell else ""
        status = "ok" if timing.ok else f"FAILED: {timing.failure}"
        status = status.replace("|", "\\|")
        if len(status) > 120:
            status = status[:117] + "..."
        rows.append(f"| {timing.notebook} | {timing.mode} | {timing.seconds:.1f} | {slowest} | {status} |")
    return "\n".join(rows) + "\n"


def machine_description() -> str:
    """Where the timings were taken: they mean little without it."""
    accelerator = "no GPU"
    try:
        import torch
        if torch.cuda.is_available():
            accelerator = f"GPU {torch.cuda.get_device_name(0)}"
        elif getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            accelerator = "Apple MPS"
        accelerator += f", torch {torch.__version__}"
    except ImportError:
        pass
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores, {accelerator}, "
            f"Python {platform.python_version()}")


def resolve_notebooks(names: list[str], folder: Path = SOLUTIONS) -> list[Path]:
    """Paths for the given names: a file path, ``03``, ``03_mlp`` or ``03_mlp.ipynb``; all if none."""
    lessons = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if not names:
        if not lessons:
            raise SystemExit(f"No notebooks in {folder}.")
        return lessons
    chosen = []
    for name in names:
        if Path(name).is_file():
            chosen.append(Path(name))
            continue
        matches = [path for path in lessons if path.name == name or path.stem == name
                   or path.name.startswith(f"{name}_")]
        if len(matches) != 1:
            known = ", ".join(path.stem for path in lessons) or "none"
            raise SystemExit(f"{name!r} names {len(matches)} notebooks in {folder}; known: {known}.")
        chosen.append(matches[0])
    return chosen


def main(argv: list[str] | None = None) -> int:
    """Time the notebooks; returns the exit status (1 if any failed)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="paths or names like 03 / 03_mlp (default: all solutions)")
    parser.add_argument("--mode", choices=(*MODES, "both"), default="smoke", help="default: %(default)s")
    parser.add_argument("--timeout", type=float, default=600,
                        help="seconds allowed per cell, 0 for no limit (default: %(default)s)")
    parser.add_argument("--output", type=Path, help="also write the table here, e.g. timings/timings.md")
    args = parser.parse_args(argv)

    paths = resolve_notebooks(args.notebooks)
    modes = MODES if args.mode == "both" else (args.mode,)
    timeout = args.timeout if args.timeout > 0 else None
    timings = []
    for mode in modes:  # all smoke runs first: a broken notebook shows up before the long runs
        for path in paths:
            print(f"running {path.name} ({mode})...", file=sys.stderr, flush=True)
            timing = time_notebook(path, mode, cell_timeout=timeout)
            print(f"  {timing.seconds:.1f} s, {'ok' if timing.ok else 'FAILED'}", file=sys.stderr, flush=True)
            timings.append(timing)

    table = markdown_table(timings)
    print(table)
    if args.output:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        header = (f"# Notebook timings\n\nMeasured {stamp} on {machine_description()}.\n"
                  "Wall seconds include starting the kernel.\n\n")
        args.output.parent.mkdir(parents=True, exist_ok=True)
        temporary = args.output.with_name(f".{args.output.name}.tmp")
        temporary.write_text(header + table, encoding="utf-8")
        temporary.replace(args.output)
        print(f"wrote {args.output}", file=sys.stderr)

    failures = [timing for timing in timings if not timing.ok]
    for timing in failures:
        print(f"\n=== {timing.notebook} ({timing.mode}) failed in {timing.failure} ===\n{timing.failure.details}",
              file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
