"""tools/gpu_check.py, everything but the GPU: the step runner (time limits, the budget, stray kernels), the
readers of each step's output, the Markdown report, and a dry run on the CPU with made-up notebooks."""

from __future__ import annotations

import importlib.util
import re
import sys
import time
from pathlib import Path

import nbformat
import pytest
import torch

TOOL = Path(__file__).resolve().parents[1] / "tools" / "gpu_check.py"


@pytest.fixture(scope="module")
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def python_step(gpu_check, name, code, tmp_path, timeout=30.0, exclusive=False):
    def interpret(step, returncode, log, seconds):
        status = gpu_check.STATUS_OK if returncode == 0 else gpu_check.STATUS_FAILED
        return gpu_check.StepResult(step.name, "test", status, seconds, gpu_check.first_line(log))

    return gpu_check.Step(name, "test", [sys.executable, "-c", code], timeout, interpret, exclusive=exclusive,
                          workdir=tmp_path)


def write_notebook(path: Path, *cells: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(notebook, path)
    return path


# -- the runner ------------------------------------------------------------------------------------

def test_steps_run_exclusive_ones_first_and_report_in_order(gpu_check, tmp_path):
    stamp = "import time, pathlib; pathlib.Path({!r}).write_text(str(time.time())); print('done {}')"
    steps = [python_step(gpu_check, "shared", stamp.format(str(tmp_path / "shared"), "shared"), tmp_path),
             python_step(gpu_check, "alone", stamp.format(str(tmp_path / "alone"), "alone") + "; time.sleep(0.3)",
                         tmp_path, exclusive=True),
             python_step(gpu_check, "broken", "raise SystemExit('broken on purpose')", tmp_path)]
    results = gpu_check.run_steps(steps, jobs=2, budget=60, echo=lambda text: None)
    assert [r.name for r in results] == ["shared", "alone", "broken"]
    assert [r.status for r in results] == ["ok", "ok", "failed"]
    assert results[0].detail == "done shared" and results[2].detail == "broken on purpose"
    assert float((tmp_path / "alone").read_text()) < float((tmp_path / "shared").read_text())


def test_a_step_past_its_limit_is_stopped_with_what_it_started(gpu_check, tmp_path):
    # a child in a session of its own, as Jupyter starts kernels: only the step's mark finds it
    code = ("import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], "
            "start_new_session=True); print('started', flush=True); time.sleep(60)")
    step = python_step(gpu_check, "slow", code, tmp_path, timeout=2)
    started = time.monotonic()
    [result] = gpu_check.run_steps([step], jobs=1, budget=60, echo=lambda text: None)
    assert result.status == gpu_check.STATUS_TIMED_OUT and "stopped after" in result.detail
    assert "started" in result.output
    assert time.monotonic() - started < 20
    assert gpu_check.marked_processes(step.mark) == []


def test_steps_the_budget_leaves_no_time_for_are_reported_not_run(gpu_check, tmp_path):
    steps = [python_step(gpu_check, "long", "import time; time.sleep(30)", tmp_path, exclusive=True),
             python_step(gpu_check, "never", "print('hi')", tmp_path)]
    results = gpu_check.run_steps(steps, jobs=2, budget=2.5, echo=lambda text: None)
    assert results[0].status == gpu_check.STATUS_TIMED_OUT and results[0].seconds < 10
    assert results[1].status == gpu_check.STATUS_NOT_RUN and "2 s budget" in results[1].detail


# -- reading what the steps printed ---------------------------------------------------------------

def test_the_unit_tests_summary_and_failures_are_read(gpu_check, tmp_path):
    step = gpu_check.tests_step(device="cuda", timeout=10, workdir=tmp_path)
    assert "--ignore-glob=tests/test_*browser*.py" in step.command and step.env["WORKSHOP_DEVICE"] == "cuda"
    log = ("....F.s\nFAILED tests/test_training.py::test_fit - AssertionError: 0.91 < 0.95\n"
           "========= 1 failed, 5 passed, 1 skipped in 12.34s =========\n")
    result = gpu_check.interpret_tests(step, 1, log, 12.3)
    assert result.status == "failed" and result.detail == "1 failed, 5 passed, 1 skipped in 12.34s"
    assert result.output == "FAILED tests/test_training.py::test_fit - AssertionError: 0.91 < 0.95"
    ok = gpu_check.interpret_tests(step, 0, "....\n4 passed in 1.00s\n", 1.0)
    assert ok.ok and ok.detail == "4 passed in 1.00s" and ok.output == ""
    crashed = gpu_check.interpret_tests(step, 4, "ERROR: file or directory not found: tests\n", 0.5)
    assert crashed.status == "failed" and crashed.detail.startswith("exit 4: ERROR: file or directory not found")


def test_the_speed_benchmark_table_is_kept_and_its_rows_counted(gpu_check, tmp_path):
    [speed, fashion] = gpu_check.benchmark_steps(device="cuda", mode="full", timeout=10, workdir=tmp_path)
    assert speed.exclusive and fashion.exclusive and "--markdown" in speed.command
    log = ("torch 2.11; notebook 05's road-sign CNN on cuda\n  [ 1.0 s] cpu: 900 images/s\n\n"
           "| key | group | row | images/s | speedup | note |\n|---|---|---|---|---|---|\n"
           "| cpu | GPU vs CPU | CPU | 900 | 1.00x |  |\n| gpu | GPU vs CPU | GPU (H200) | 52,000 | 57.78x |  |\n"
           "| amp-bf16 | compute | AMP bfloat16 | - | - | failed: x \\| y |\n")
    result = gpu_check.interpret_benchmark(speed, 0, log, 80.0)
    assert result.ok and result.detail == "2 of 3 rows measured"
    assert result.output.startswith("torch 2.11") and "| gpu | GPU vs CPU | GPU (H200) | 52,000 |" in result.output
    missed = gpu_check.interpret_benchmark(fashion, 1, "epoch ...\nDid not reach 91% in 6 epochs (30.0 s).\n", 31)
    assert missed.status == "failed" and missed.detail == "Did not reach 91% in 6 epochs (30.0 s)."
    assert [step.name for step in gpu_check.benchmark_steps(device="cpu", mode="smoke", timeout=1,
                                                            workdir=tmp_path)] == ["benchmark training_speed"]


# -- the report -----------------------------------------------------------------------------------

def test_the_report_names_the_machine_every_notebook_and_each_failure(gpu_check):
    R = gpu_check.StepResult
    results = [
        R("benchmark training_speed", "benchmark", "ok", 75.0, "17 of 18 rows measured",
          output="torch 2.11\n\n| key | images/s |\n|---|---|\n| gpu | 52,000 |"),
        R("benchmark fashion_cnn_time_to_91", "benchmark", "timed out", 120.0, "stopped after 120 s (limit 120 s)"),
        R("unit tests", "tests", "failed", 95.0, "1 failed, 800 passed in 95.00s",
          output="FAILED tests/test_x.py::test_y - AssertionError"),
        R("notebook 05_regularization", "notebook", "ok", 108.2, slowest_cell=(31, 40.5)),
        R("notebook 06_transfer_learning", "notebook", "failed", 60.0, "AssertionError: the stored features | differ",
          cell=45, output="Traceback...\nAssertionError: the stored features differ"),
        R("notebook 07_performance", "notebook", "timed out", 300.0, "stopped after 300 s while cell 33 was running",
          cell=33),
        R("notebook 01_tensors_autograd", "notebook", "not run", detail="the 480 s budget was spent"),
    ]
    facts = {"device": "cuda", "GPU": "NVIDIA H200, 140 GiB, compute capability 9.0", "torch": "2.11.0"}
    report = gpu_check.markdown_report(results, facts, command="python tools/gpu_check.py", mode="full", jobs=5,
                                       budget=480, seconds=471, stamp="2026-12-04 21:00 UTC")
    assert report.startswith("# GPU check\n\n`python tools/gpu_check.py`, 2026-12-04 21:00 UTC: 471 s in all")
    assert "| GPU | NVIDIA H200, 140 GiB, compute capability 9.0 |" in report
    assert "| 05_regularization | ok | 108.2 | cell 31 (40.5 s) |  |" in report
    assert ("| 06_transfer_learning | failed | 60.0 |  | cell 45: AssertionError: the stored features \\| differ |"
            in report)
    assert "| 07_performance | timed out | 300.0 |  | stopped after 300 s while cell 33 was running |" in report
    assert "| 01_tensors_autograd | not run |  |  | the 480 s budget was spent |" in report
    assert ("- notebooks: 1 of 4 ok; notebook 06_transfer_learning failed (cell 45), notebook 07_performance timed "
            "out (cell 33), notebook 01_tensors_autograd not run") in report
    assert "- overall: NOT everything passed" in report
    assert "### notebook 06_transfer_learning: cell 45" in report
    assert "AssertionError: the stored features differ" in report
    assert "failed, 95 s: 1 failed, 800 passed in 95.00s" in report and "FAILED tests/test_x.py::test_y" in report
    assert "| gpu | 52,000 |" in report and "timed out, 120 s: stopped after 120 s" in report


def test_the_machine_facts_and_a_missing_gpu(gpu_check, monkeypatch):
    facts = gpu_check.machine_facts("cpu")
    assert facts["device"] == "cpu" and facts["torch"] == torch.__version__ and "nbclient" in facts
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert "--device cpu" in gpu_check.device_problem("cuda")
    assert gpu_check.main(["--device", "cuda"]) == 2


def test_missing_packages_are_named_before_anything_runs(gpu_check, monkeypatch, tmp_path, capsys):
    arguments = gpu_check.parse_arguments(["--skip-tests"])
    assert gpu_check.missing_packages(arguments, installed=lambda name: name not in {"nbclient", "pytest"}) == \
        ["nbclient"]  # pytest is only for the unit tests, left out here
    assert gpu_check.missing_packages(gpu_check.parse_arguments([]), installed=lambda name: True) == []
    monkeypatch.setattr(gpu_check, "missing_packages", lambda arguments: ["nbclient", "ipykernel"])
    output = tmp_path / "report.md"
    assert gpu_check.main(["--device", "cpu", "--output", str(output)]) == 2
    assert "pip install --no-index --find-links wheels/ nbclient ipykernel" in capsys.readouterr().err
    assert not output.exists()


def test_notebooks_go_longest_first(gpu_check):
    names = [Path(f"{n}_x.ipynb") for n in ("00", "01", "05", "07", "99")]
    assert [p.name[:2] for p in gpu_check.longest_first(names)] == ["05", "07", "00", "01", "99"]


# -- a dry run on the CPU, with made-up notebooks ---------------------------------------------------

def test_a_dry_run_reports_a_passing_and_a_failing_notebook_with_its_cell(gpu_check, tmp_path):
    good = write_notebook(tmp_path / "90_good.ipynb", "import os\nassert os.environ['WORKSHOP_DEVICE'] == 'cpu'",
                          "import workshop_utils  # found through PYTHONPATH, from the notebook's own folder")
    bad = write_notebook(tmp_path / "91_bad.ipynb", "y = 1", "raise ValueError('boom: the second cell')\n# more")
    output = tmp_path / "report.md"
    code = gpu_check.main(["--device", "cpu", "--mode", "smoke", "--skip-benchmarks", "--skip-tests", "--jobs", "2",
                           "--notebook-timeout", "200", "--output", str(output), str(good), str(bad)])
    assert code == 1
    report = output.read_text()
    assert "| device | cpu |" in report and "in smoke mode" not in report
    assert re.search(r"\| 90_good \| ok \| [0-9.]+ \| cell [12] \([0-9.]+ s\) \|  \|", report), report
    assert "| 91_bad | failed |" in report and "| cell 2: ValueError: boom: the second cell |" in report
    assert "- notebooks: 1 of 2 ok" in report and "- unit tests: not part of this run" in report
    assert stray_step_processes(gpu_check) == []


def test_a_notebook_stopped_at_its_limit_is_reported_with_the_running_cell(gpu_check, tmp_path):
    # the runner's side of a notebook step, without a kernel: it notes cell 3 as running, then hangs
    step = gpu_check.notebook_step(tmp_path / "93_slow.ipynb", mode="full", device="cuda", timeout=1.5,
                                   workdir=tmp_path)
    assert "--cell-timeout" in step.command and int(step.command[step.command.index("--cell-timeout") + 1]) > 1.5
    step.command = [sys.executable, "-c", f"import json, time, pathlib; pathlib.Path({str(step.progress_path)!r})"
                    ".write_text(json.dumps({'cell': 3})); time.sleep(60)"]
    [result] = gpu_check.run_steps([step], jobs=1, budget=60, echo=lambda text: None)
    assert (result.status, result.cell) == ("timed out", 3)
    assert result.detail.startswith("stopped after") and result.detail.endswith("while cell 3 was running")


def stray_step_processes(gpu_check) -> list[int]:
    """Processes still carrying a step's mark in their environment (Linux)."""
    stray = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if f"{gpu_check.MARK_VARIABLE}=".encode() in entry.joinpath("environ").read_bytes():
                stray.append(int(entry.name))
        except OSError:
            continue
    return stray
