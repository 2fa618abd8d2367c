#!/usr/bin/env python
"""One command that checks the whole workshop on a GPU machine and writes a Markdown report.

    python tools/gpu_check.py                              # everything, full mode, on CUDA, within 8 minutes
    python tools/gpu_check.py --output docs/GPU_CHECK_REPORT.md
    python tools/gpu_check.py --device cpu --mode smoke 00 01 --skip-benchmarks    # a dry run anywhere

It runs, each step in its own process with its own time limit:

1. the two benchmarks, one after the other and alone on the machine (their numbers are the point):
   ``benchmarks/training_speed.py`` (notebook 07's table) and ``benchmarks/fashion_cnn_time_to_91.py``;
2. then, ``--jobs`` at a time: every solution notebook in full mode (``tools/time_notebooks.py``'s runner:
   a fresh kernel of this Python, ``WANDB_MODE=disabled``), and the unit tests (``pytest tests``, without
   the notebook runs and the browser test).

``WORKSHOP_DEVICE`` is set to ``--device`` for every step, so nothing silently trains on the CPU. A step that
fails or runs out of time is reported, never fatal; when the overall ``--budget`` (480 s) is spent, the
steps not started yet are reported as not run. The report gives the machine (GPU, compute capability,
versions), each notebook's time and slowest cell, each failure with its cell (counting from 1) and the first
line of its error, the unit tests' summary, and the benchmarks' tables. Exit status: 0 when every step
passed, 1 otherwise, 2 for bad arguments or a missing device. docs/GPU_CHECK.md says which wheels to bring to
a machine that has only torch, torchvision, matplotlib, pandas and scikit-learn.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import re
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

TOOLS = Path(__file__).resolve().parent
REPO_ROOT = TOOLS.parent
sys.path.insert(0, str(TOOLS))

import time_notebooks  # noqa: E402  (the notebook runner, reused)

DEFAULT_BUDGET = 480.0
DEFAULT_OUTPUT = REPO_ROOT / "build" / "gpu-check" / "report.md"
MARK_VARIABLE = "GPU_CHECK_STEP"  # in every step's environment, so its kernels can be found and stopped
#: Unit tests left out: they run every notebook again (the notebook steps do that) or drive a browser.
LEFT_OUT_TESTS = ("--ignore=tests/test_student_notebooks.py", "--ignore-glob=tests/test_*browser*.py")
STATUS_OK, STATUS_FAILED, STATUS_TIMED_OUT, STATUS_NOT_RUN = "ok", "failed", "timed out", "not run"


# --------------------------------------------------------------------------------------------------
# Steps and their results
# --------------------------------------------------------------------------------------------------

@dataclass
class StepResult:
    """How one step went. ``detail`` is one line (the first error line, the tests' summary); ``cell`` the
    notebook cell (from 1) that failed or was running when time ran out; ``output`` what the step printed
    that the report shows (a benchmark's table, the failing tests)."""

    name: str
    kind: str
    status: str
    seconds: float = 0.0
    detail: str = ""
    cell: int | None = None
    slowest_cell: tuple[int, float] | None = None
    output: str = ""

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK


@dataclass
class Step:
    """A command to run in its own process group, with a time limit, and how to read its result.

    ``interpret(step, returncode, log_text, seconds)`` turns a finished run into a StepResult; on a timeout,
    ``on_timeout(step, seconds)`` does. ``exclusive`` steps run alone, before the others.
    """

    name: str
    kind: str
    command: list[str]
    timeout: float
    interpret: Callable[["Step", int, str, float], StepResult]
    on_timeout: Callable[["Step", float], StepResult] | None = None
    exclusive: bool = False
    env: dict[str, str] = field(default_factory=dict)
    workdir: Path | None = None  # where its log and result files go
    mark: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{_slug(self.name)}.log"

    @property
    def result_path(self) -> Path:
        return self.workdir / f"{_slug(self.name)}.json"

    @property
    def progress_path(self) -> Path:
        return self.workdir / f"{_slug(self.name)}.progress.json"


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")


def first_line(text: str) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else ""


# --------------------------------------------------------------------------------------------------
# Running steps: a pool, per-step time limits, an overall budget
# --------------------------------------------------------------------------------------------------

def marked_processes(mark: str, proc_root: Path = Path("/proc")) -> list[int]:
    """PIDs of this user's processes whose environment holds ``GPU_CHECK_STEP=mark`` (Linux; [] elsewhere).

    Jupyter starts each kernel in a session of its own, so killing a step's process group does not reach
    it; the mark in its environment does."""
    needle = f"{MARK_VARIABLE}={mark}".encode()
    found = []
    if not proc_root.is_dir():
        return found
    for entry in proc_root.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environment = (entry / "environ").read_bytes()
        except OSError:  # gone, or another user's
            continue
        if needle in environment.split(b"\0"):
            found.append(int(entry.name))
    return found


def stop_step(process: subprocess.Popen, mark: str, grace: float = 5.0) -> None:
    """Stop a step that ran out of time: its process group, then any kernel it started (found by its mark)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        for pid in marked_processes(mark):
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            process.wait(timeout=grace)
            if not marked_processes(mark):
                return
        except subprocess.TimeoutExpired:
            continue


def run_steps(steps: list[Step], *, jobs: int, budget: float, clock: Callable[[], float] = time.monotonic,
              poll: float = 0.2, echo: Callable[[str], None] = lambda text: print(text, file=sys.stderr, flush=True)
              ) -> list[StepResult]:
    """Run ``steps`` (exclusive ones first, alone; then the rest ``jobs`` at a time) within ``budget`` seconds.

    Each step gets its own timeout, cut to what is left of the budget when it starts; a step that cannot
    start before the budget is spent is reported as not run. Results come back in the order of ``steps``.
    """
    started_all = clock()
    results: dict[int, StepResult] = {}
    order = [i for i, step in enumerate(steps) if step.exclusive] + [i for i, step in enumerate(steps)
                                                                     if not step.exclusive]
    waiting = list(order)
    running: dict[int, tuple[subprocess.Popen, float, float, object]] = {}

    def left() -> float:
        return budget - (clock() - started_all)

    while waiting or running:
        # start what may start
        while waiting and left() > 1 and (
                (not running and steps[waiting[0]].exclusive)
                or (not steps[waiting[0]].exclusive and len(running) < jobs
                    and not any(steps[i].exclusive for i in running))):
            index = waiting.pop(0)
            step = steps[index]
            step.workdir.mkdir(parents=True, exist_ok=True)
            for path in (step.result_path, step.progress_path):
                path.unlink(missing_ok=True)
            log = step.log_path.open("w", encoding="utf-8")
            # PYTHONPATH: kernels start in the notebook's folder and must import this checkout's workshop_utils,
            # whether or not it is installed
            env = {**os.environ, **step.env, MARK_VARIABLE: step.mark,
                   "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
            process = subprocess.Popen(step.command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
            limit = min(step.timeout, left())
            running[index] = (process, clock(), limit, log)
            echo(f"started {step.name} (limit {limit:.0f} s)")
        if not waiting and not running:
            break
        if waiting and not running and left() <= 1:
            break
        # collect what has finished or run out of time
        for index, (process, began, limit, log) in list(running.items()):
            step = steps[index]
            seconds = clock() - began
            if process.poll() is not None:
                log.close()
                results[index] = step.interpret(step, process.returncode, _read(step.log_path), seconds)
            elif seconds > limit:
                stop_step(process, step.mark)
                log.close()
                results[index] = (step.on_timeout(step, seconds) if step.on_timeout else
                                  StepResult(step.name, step.kind, STATUS_TIMED_OUT, seconds,
                                             f"stopped after {seconds:.0f} s (limit {limit:.0f} s)",
                                             output=_tail(_read(step.log_path))))
            else:
                continue
            del running[index]
            echo(f"{results[index].status}: {step.name} ({results[index].seconds:.0f} s)")
        time.sleep(poll)
    for index in waiting:
        steps_left = steps[index]
        results[index] = StepResult(steps_left.name, steps_left.kind, STATUS_NOT_RUN,
                                    detail=f"the {budget:.0f} s budget was spent before it could start")
    return [results[i] for i in range(len(steps))]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


# --------------------------------------------------------------------------------------------------
# The steps: notebooks, unit tests, benchmarks
# --------------------------------------------------------------------------------------------------

def notebook_step(path: Path, *, mode: str, device: str, timeout: float, workdir: Path) -> Step:
    """A solution notebook, run by this script's ``--run-notebook`` in a child process (:func:`run_one_notebook`)."""
    name = f"notebook {path.stem}"
    step = Step(name, "notebook", [], timeout, interpret_notebook, on_timeout=notebook_timed_out,
                env={"WORKSHOP_DEVICE": device}, workdir=workdir)
    step.command = [sys.executable, str(Path(__file__).resolve()), "--run-notebook", str(path), "--mode", mode,
                    # past the step's limit: the step is stopped first, and reported with the cell that was running
                    "--cell-timeout", str(int(timeout) + 60), "--result", str(step.result_path),
                    "--progress", str(step.progress_path)]
    return step


def run_one_notebook(path: Path, mode: str, cell_timeout: float, result_path: Path, progress_path: Path) -> int:
    """The child of a notebook step: time the notebook with time_notebooks, noting each cell as it starts."""
    real_client = time_notebooks.notebook_client

    def client_noting_progress(notebook, folder, **kwargs):
        on_start = kwargs.get("on_cell_start")

        def noting(cell, cell_index):
            progress_path.write_text(json.dumps({"cell": cell_index + 1}), encoding="utf-8")
            if on_start is not None:
                on_start(cell, cell_index)

        kwargs["on_cell_start"] = noting
        return real_client(notebook, folder, **kwargs)

    time_notebooks.notebook_client = client_noting_progress
    timing = time_notebooks.time_notebook(path, mode, cell_timeout=cell_timeout)
    failure = timing.failure
    result = {"seconds": timing.seconds, "slowest_cell": timing.slowest_cell,
              "failure": None if failure is None else {"cell": failure.cell_number, "summary": failure.summary,
                                                        "details": failure.details[-4000:]}}
    result_path.write_text(json.dumps(result), encoding="utf-8")
    return 0 if timing.ok else 1


def interpret_notebook(step: Step, returncode: int, log: str, seconds: float) -> StepResult:
    try:
        result = json.loads(step.result_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return StepResult(step.name, step.kind, STATUS_FAILED, seconds,
                          f"the runner stopped without a result (exit {returncode}): "
                          f"{first_line(_tail(log, 1)) or 'no output'}", output=_tail(log))
    failure = result.get("failure")
    slowest = tuple(result["slowest_cell"]) if result.get("slowest_cell") else None
    if failure is None:
        return StepResult(step.name, step.kind, STATUS_OK, result["seconds"], slowest_cell=slowest)
    return StepResult(step.name, step.kind, STATUS_FAILED, result["seconds"], first_line(failure["summary"]),
                      cell=failure.get("cell"), output=failure.get("details", ""))


def notebook_timed_out(step: Step, seconds: float) -> StepResult:
    try:
        cell = json.loads(step.progress_path.read_text(encoding="utf-8")).get("cell")
    except (OSError, ValueError):
        cell = None
    where = f" while cell {cell} was running" if cell else ""
    return StepResult(step.name, step.kind, STATUS_TIMED_OUT, seconds, f"stopped after {seconds:.0f} s{where}",
                      cell=cell)


def tests_step(*, device: str, timeout: float, workdir: Path, workers: int = 0,
               extra: list[str] | None = None) -> Step:
    """The unit tests (no notebook runs, no browser); ``workers`` > 0 uses pytest-xdist when it is installed."""
    command = [sys.executable, "-m", "pytest", "tests", "-q", "-p", "no:nbval", "-p", "no:cacheprovider", "-rfE"]
    command += list(LEFT_OUT_TESTS)
    if workers > 0 and importlib.util.find_spec("xdist") is not None:
        command += ["-n", str(workers)]
    command += extra or []
    return Step("unit tests", "tests", command, timeout, interpret_tests, env={"WORKSHOP_DEVICE": device},
                workdir=workdir)


_PYTEST_SUMMARY = re.compile(r"^=*\s*(\d+ (?:passed|failed|errors?|skipped|deselected|xfailed|xpassed|warnings?)"
                             r"\b.*?)\s*=*$")


def interpret_tests(step: Step, returncode: int, log: str, seconds: float) -> StepResult:
    summary = ""
    for line in reversed(log.splitlines()):
        match = _PYTEST_SUMMARY.match(line.strip())
        if match:
            summary = match.group(1)
            break
    failing = [line.strip() for line in log.splitlines() if line.startswith(("FAILED ", "ERROR "))]
    status = STATUS_OK if returncode == 0 else STATUS_FAILED
    return StepResult(step.name, step.kind, status, seconds,
                      summary or f"exit {returncode}: {first_line(_tail(log, 1)) or 'no output'}",
                      output="\n".join(failing) if failing else ("" if status == STATUS_OK else _tail(log)))


def benchmark_steps(*, device: str, mode: str, timeout: float, workdir: Path) -> list[Step]:
    """Both benchmarks, each alone on the machine. In smoke mode the speed table runs ``--smoke`` and the
    time-to-91% benchmark (a full training run on the real data) is left out."""
    speed = [sys.executable, str(REPO_ROOT / "benchmarks" / "training_speed.py"), "--device", device, "--markdown"]
    if mode == "smoke":
        speed.append("--smoke")
    steps = [Step("benchmark training_speed", "benchmark", speed, timeout, interpret_benchmark, exclusive=True,
                  env={"WORKSHOP_DEVICE": device}, workdir=workdir)]
    if mode == "full":
        steps.append(Step("benchmark fashion_cnn_time_to_91", "benchmark",
                          [sys.executable, str(REPO_ROOT / "benchmarks" / "fashion_cnn_time_to_91.py"),
                           "--device", device], timeout, interpret_benchmark, exclusive=True,
                          env={"WORKSHOP_DEVICE": device}, workdir=workdir))
    return steps


def measured_rows(table: list[str]) -> str:
    """"N of M rows measured" from the speed table's Markdown lines (a row without a number shows ``-``)."""
    if len(table) < 3:
        return "no table printed"
    columns = [cell.strip() for cell in table[0].strip("|").split("|")]
    if "images/s" not in columns:
        return "no images/s column"
    at = columns.index("images/s")
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table[2:]]
    measured = sum(1 for row in rows if len(row) > at and row[at] not in ("-", ""))
    return f"{measured} of {len(rows)} rows measured"


def interpret_benchmark(step: Step, returncode: int, log: str, seconds: float) -> StepResult:
    if step.name.endswith("training_speed"):
        table = [line for line in log.splitlines() if line.startswith("|")]
        header = next((line for line in log.splitlines() if line.startswith("torch ")), "")
        output = "\n".join([header, "", *table]) if table else _tail(log)
        detail = measured_rows(table)
    else:
        lines = log.rstrip().splitlines()
        output = "\n".join(lines[-25:])
        detail = first_line(lines[-1]) if lines else ""
    status = STATUS_OK if returncode == 0 else STATUS_FAILED
    if returncode != 0 and not detail:
        detail = f"exit {returncode}"
    return StepResult(step.name, step.kind, status, seconds, detail, output=output)


# --------------------------------------------------------------------------------------------------
# The machine, and the report
# --------------------------------------------------------------------------------------------------

def machine_facts(device: str) -> dict[str, str]:
    """Device and versions, as label -> text."""
    import torch

    facts = {"device": device}
    if device == "cuda" and torch.cuda.is_available():
        properties = torch.cuda.get_device_properties(0)
        major, minor = torch.cuda.get_device_capability(0)
        facts["GPU"] = (f"{properties.name}, {properties.total_memory / 2**30:.0f} GiB, "
                        f"compute capability {major}.{minor}")
        facts["mixed precision (fit, notebook 07)"] = ("bfloat16" if major >= 8 else
                                                       "float16 with a GradScaler (no fast bfloat16)")
        facts["CUDA (torch build)"] = str(torch.version.cuda)
        facts["cuDNN"] = str(torch.backends.cudnn.version())
    facts["CPU cores"] = str(os.cpu_count())
    facts["Python"] = platform.python_version()
    facts["torch"] = torch.__version__
    for package in ("torchvision", "matplotlib", "pandas", "scikit-learn", "numpy", "ipywidgets", "nbclient",
                    "ipykernel", "pytest"):
        facts[package] = _version(package)
    facts["platform"] = platform.platform(terse=True)
    return facts


def _version(distribution: str) -> str:
    """The installed version of ``distribution``, read from its metadata (nothing is imported)."""
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_report(results: list[StepResult], facts: dict[str, str], *, command: str, mode: str, jobs: int,
                    budget: float, seconds: float, stamp: str | None = None) -> str:
    """The report: machine, summary, notebooks, unit tests, benchmarks."""
    stamp = stamp or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# GPU check", "",
             f"`{command}`, {stamp}: {seconds:.0f} s in all (budget {budget:.0f} s). The benchmarks ran first, "
             f"alone; then the unit tests and the notebooks ({mode} mode), {jobs} at a time, each with "
             "OMP_NUM_THREADS = CPU cores / that number. Wall seconds include starting the kernel. Cells count "
             "from 1.", "", "## Machine", "", "| | |", "|---|---|"]
    lines += [f"| {_cell(key)} | {_cell(value)} |" for key, value in facts.items()]

    notebooks = [r for r in results if r.kind == "notebook"]
    tests = [r for r in results if r.kind == "tests"]
    benchmarks = [r for r in results if r.kind == "benchmark"]
    lines += ["", "## Summary", ""]
    for label, group in (("notebooks", notebooks), ("unit tests", tests), ("benchmarks", benchmarks)):
        if not group:
            lines.append(f"- {label}: not part of this run")
            continue
        passed = sum(r.ok for r in group)
        problems = [f"{r.name} {r.status}" + (f" (cell {r.cell})" if r.cell else "") for r in group if not r.ok]
        lines.append(f"- {label}: {passed} of {len(group)} ok" + (f"; {', '.join(problems)}" if problems else ""))
    lines.append(f"- overall: {'everything passed' if all(r.ok for r in results) else 'NOT everything passed'}")

    if notebooks:
        lines += ["", "## Notebooks", "", "| notebook | status | wall seconds | slowest cell | failure |",
                  "|---|---|---:|---|---|"]
        for r in notebooks:
            slowest = f"cell {r.slowest_cell[0]} ({r.slowest_cell[1]:.1f} s)" if r.slowest_cell else ""
            failure = "" if r.ok else (f"cell {r.cell}: " if r.cell and r.status == STATUS_FAILED else "") + r.detail
            seconds_text = f"{r.seconds:.1f}" if r.status != STATUS_NOT_RUN else ""
            lines.append(f"| {r.name.removeprefix('notebook ')} | {r.status} | {seconds_text} | {slowest} | "
                         f"{_cell(failure)} |")
        for r in notebooks:
            if r.status == STATUS_FAILED and r.output:
                lines += ["", f"### {r.name}: cell {r.cell}", "", "```text", _tail(r.output, 30), "```"]
    for r in tests:
        lines += ["", "## Unit tests", "", f"{r.status}, {r.seconds:.0f} s: {r.detail}"]
        if r.output:
            lines += ["", "```text", r.output, "```"]
    if benchmarks:
        lines += ["", "## Benchmarks"]
        for r in benchmarks:
            lines += ["", f"### {r.name.removeprefix('benchmark ')}", "",
                      f"{r.status}, {r.seconds:.0f} s" + (f": {r.detail}" if r.detail else "")]
            if r.output:
                is_table = r.output.lstrip().startswith("torch ") or r.output.lstrip().startswith("|")
                lines += [""] + ([r.output] if is_table else ["```text", r.output, "```"])
    return "\n".join(lines) + "\n"


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


# --------------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------------

def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="names like 05 or 05_regularization (default: all solutions)")
    parser.add_argument("--device", default="cuda", choices=("cuda", "mps", "cpu"),
                        help="the device every step must use (default: %(default)s)")
    parser.add_argument("--mode", default="full", choices=time_notebooks.MODES, help="default: %(default)s")
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET,
                        help="seconds for everything (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="steps side by side after the benchmarks (default: 5 with 8 or more CPU cores, else 1)")
    parser.add_argument("--notebook-timeout", type=float, default=300, help="seconds per notebook (default: 300)")
    parser.add_argument("--tests-timeout", type=float, default=300, help="seconds for the unit tests (default: 300)")
    parser.add_argument("--benchmark-timeout", type=float, default=120, help="seconds per benchmark (default: 120)")
    parser.add_argument("--skip-tests", action="store_true", help="leave the unit tests out")
    parser.add_argument("--skip-benchmarks", action="store_true", help="leave the benchmarks out")
    parser.add_argument("--skip-notebooks", action="store_true", help="leave the notebooks out")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="the report (default: %(default)s)")
    # the child process of one notebook step
    parser.add_argument("--run-notebook", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cell-timeout", type=float, default=600, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--progress", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def device_problem(device: str) -> str | None:
    """Why ``device`` cannot be checked here, or None."""
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        return ("no CUDA GPU here (torch.cuda.is_available() is False): run this on the GPU machine, or pass "
                "--device cpu for a dry run")
    if device == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        return "no Apple MPS GPU here: pass --device cpu for a dry run"
    return None


def longest_first(paths: list[Path]) -> list[Path]:
    """Notebooks in the order that ends soonest when run side by side: the long ones first (full-mode times
    on an H200 from issue 12: 05 108 s, 08 64 s, 03 48 s, 04 39 s, 00 30 s; 06 and 07 had failed early)."""
    hint = ("05", "07", "06", "08", "03", "04", "00", "02", "01")
    return sorted(paths, key=lambda path: hint.index(path.name[:2]) if path.name[:2] in hint else len(hint))


#: What each kind of step imports beyond torch, torchvision, matplotlib, pandas and scikit-learn.
NEEDED = {"notebooks": ("nbformat", "nbclient", "jupyter_client", "ipykernel", "ipywidgets", "tqdm", "vega_datasets"),
          "tests": ("pytest", "ipywidgets", "tqdm", "nbformat", "vega_datasets"),
          "benchmarks": ("tqdm",)}


def missing_packages(arguments: argparse.Namespace,
                     installed: Callable[[str], bool] = lambda name: importlib.util.find_spec(name) is not None
                     ) -> list[str]:
    """The packages the chosen steps need that this Python cannot import (see docs/GPU_CHECK.md)."""
    kinds = [kind for kind, skipped in (("notebooks", arguments.skip_notebooks), ("tests", arguments.skip_tests),
                                        ("benchmarks", arguments.skip_benchmarks)) if not skipped]
    wanted = dict.fromkeys(name for kind in kinds for name in NEEDED[kind])
    return [name for name in wanted if not installed(name)]


def build_steps(arguments: argparse.Namespace, workdir: Path, jobs: int) -> list[Step]:
    """Benchmarks (alone, first), then the unit tests and the notebooks side by side, long ones first. Steps
    that share the machine get ``OMP_NUM_THREADS`` = cores / jobs, so their CPU threads do not fight."""
    steps: list[Step] = []
    if not arguments.skip_benchmarks:
        steps += benchmark_steps(device=arguments.device, mode=arguments.mode, timeout=arguments.benchmark_timeout,
                                 workdir=workdir)
    shared: list[Step] = []
    if not arguments.skip_tests:
        shared.append(tests_step(device=arguments.device, timeout=arguments.tests_timeout, workdir=workdir,
                                 workers=4 if (os.cpu_count() or 1) >= 8 else 0))
    if not arguments.skip_notebooks:
        for path in longest_first(time_notebooks.resolve_notebooks(arguments.notebooks)):
            shared.append(notebook_step(path.resolve(), mode=arguments.mode, device=arguments.device,
                                        timeout=arguments.notebook_timeout, workdir=workdir))
    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    for step in shared:
        step.env.setdefault("OMP_NUM_THREADS", threads)
    return steps + shared


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    if arguments.run_notebook is not None:
        return run_one_notebook(arguments.run_notebook, arguments.mode, arguments.cell_timeout, arguments.result,
                                arguments.progress)
    problem = device_problem(arguments.device)
    if problem:
        print(f"gpu_check: {problem}", file=sys.stderr)
        return 2
    missing = missing_packages(arguments)
    if missing:
        print(f"gpu_check: missing packages: {', '.join(missing)}. Install them (offline: pip install --no-index "
              f"--find-links wheels/ {' '.join(missing)}; docs/GPU_CHECK.md says how to bring the wheels).",
              file=sys.stderr)
        return 2
    jobs = arguments.jobs or (5 if (os.cpu_count() or 1) >= 8 else 1)
    if jobs < 1 or arguments.budget <= 0:
        print("gpu_check: --jobs and --budget must be positive", file=sys.stderr)
        return 2
    workdir = arguments.output.resolve().parent / "gpu-check-logs"
    steps = build_steps(arguments, workdir, jobs)
    if not steps:
        print("gpu_check: nothing to run (every kind of step was skipped)", file=sys.stderr)
        return 2
    os.environ.setdefault("WORKSHOP_OFFLINE", "1")  # never the network: caches, Debian's data or stand-ins
    started = time.monotonic()
    results = run_steps(steps, jobs=jobs, budget=arguments.budget)
    command = " ".join(["python tools/gpu_check.py", *(sys.argv[1:] if argv is None else argv)])
    report = markdown_report(results, machine_facts(arguments.device), command=command, mode=arguments.mode,
                             jobs=jobs, budget=arguments.budget, seconds=time.monotonic() - started)
    write_atomically(arguments.output, report)
    print(report)
    print(f"wrote {arguments.output} (logs in {workdir})", file=sys.stderr)
    return 0 if all(result.ok for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
