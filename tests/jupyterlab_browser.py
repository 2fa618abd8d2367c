"""Drive JupyterLab 4 in headless Chromium, the way an attendee uses it: open a notebook, Run all, look.

Used by ``test_browser_notebooks.py``. The pieces:

- :class:`LabServer` starts ``jupyter lab`` on loopback over a *copy* of the notebooks (the browser's
  edits and outputs never reach the repository), with autosave off, every cell kept in the page
  (no virtual scrolling, so every output can be inspected) and ``window.jupyterapp`` exposed.
- :func:`launch_chromium` starts Debian's Chromium (``/usr/bin/chromium``) through Playwright, with
  the flags a closed network needs; no browser is downloaded.
- :func:`run_all_cells` runs a notebook through the JupyterLab command "Run All Cells" and waits until
  every code cell has run, or one has failed (Run All stops there, like for an attendee).
- :func:`notebook_outputs`, :func:`widget_views`, :func:`move_slider` read what the page shows.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = Path(os.environ.get("WORKSHOP_CHROMIUM", "/usr/bin/chromium"))
# Chromium on a machine with a closed network: no background connections, no sandbox (CI runs as root).
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update", "--disable-dev-shm-usage"]
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_MANAGER_PLUGIN = "@jupyter-widgets/jupyterlab-manager:plugin"
# An output area holding a drawn widget (the widget manager puts the view straight inside it).
WIDGET_OUTPUT = ".jp-OutputArea-output:has(> .jupyter-widgets)"

# JupyterLab settings for the test: autosave off (outputs never written back), every cell in the page.
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                          "checkForUpdates": False},
}


def missing_browser_tools() -> str | None:
    """Why the browser test cannot run here (what to install), or None when it can."""
    if not CHROMIUM.exists():
        return (f"Chromium not found at {CHROMIUM}: install Debian's browser with "
                "`sudo apt-get install chromium chromium-driver` (or set WORKSHOP_CHROMIUM to its path)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright's Python package is missing: `pip install -r requirements.txt`"
    return None


def require_browser_tools(what: str) -> None:
    """Skip the calling test when Chromium or Playwright is missing, with what to install; in CI
    (``CI=true``) fail instead, so that a green CI always means the browser checks ran."""
    import pytest

    why_not = missing_browser_tools()
    if why_not:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{what} must run in CI: {why_not}")
        pytest.skip(why_not)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LabServer:
    """``jupyter lab`` on loopback over ``root`` (a scratch folder); use as a context manager."""

    root: Path
    log_path: Path

    def __post_init__(self):
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}?token={self.token}"

    def get(self, path: str) -> tuple[int, bytes]:
        request = urllib.request.Request(self.url(path))
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()

    def get_json(self, path: str):
        return json.loads(self.get(path)[1])

    def _write_settings(self) -> Path:
        settings_dir = self.root.parent / "lab-user-settings"
        for name, values in LAB_SETTINGS.items():
            target = settings_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values))
        return settings_dir

    def __enter__(self) -> "LabServer":
        settings_dir = self._write_settings()
        workspaces_dir = self.root.parent / "lab-workspaces"
        workspaces_dir.mkdir(exist_ok=True)
        command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
                   f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
                   "--LabApp.expose_app_in_browser=True", f"--LabApp.user_settings_dir={settings_dir}",
                   f"--LabApp.workspaces_dir={workspaces_dir}"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")  # CI containers run as root; JupyterLab refuses that unless told
        # Runtime files (connection files, the cookie secret) in the scratch folder, not in the home folder.
        environment = {**os.environ, "JUPYTER_RUNTIME_DIR": str(self.root.parent / "jupyter-runtime")}
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, cwd=self.root,
                                        env=environment)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.process.returncode}; its log:\n"
                                   + self.log_path.read_text(errors="replace")[-3000:])
            try:
                if self.get("api/status")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.5)
        self.__exit__(None, None, None)
        raise TimeoutError(f"jupyter lab did not answer within 120 s; its log is {self.log_path}")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._log.close()


def copy_notebooks(repo_root: Path, target: Path) -> Path:
    """The notebooks an attendee opens and the solutions, copied to ``target``, the server's root."""
    for folder in ("notebooks", "solutions"):
        shutil.copytree(repo_root / folder, target / folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return target


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)


# --- the page: JupyterLab's own objects through window.jupyterapp ----------------------------------------

_CURRENT_NOTEBOOK = "window.jupyterapp.shell.currentWidget"

_KERNEL_READY = f"""() => {{
  const panel = {_CURRENT_NOTEBOOK};
  if (!panel || !panel.sessionContext || !panel.content) return false;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return !!kernel && kernel.status === 'idle' && panel.context.isReady;
}}"""

# Progress of Run All: how many code cells have run, how many there are, and whether one failed.
_RUN_PROGRESS = f"""() => {{
  const panel = {_CURRENT_NOTEBOOK};
  const cells = panel.content.widgets.filter(cell => cell.model.type === 'code');
  const kernel = panel.sessionContext.session.kernel;
  let done = 0, failed = null;
  cells.forEach((cell, index) => {{
    if (cell.model.executionCount !== null) done += 1;
    for (const output of cell.model.outputs.toJSON()) {{
      if (output.output_type === 'error' && failed === null) failed = index;
    }}
  }});
  return {{done, total: cells.length, failed, kernel: kernel ? kernel.status : 'none'}};
}}"""

_OUTPUTS = f"""() => {{
  const panel = {_CURRENT_NOTEBOOK};
  return panel.content.widgets.filter(cell => cell.model.type === 'code').map(cell => ({{
    source: cell.model.sharedModel.getSource(),
    outputs: cell.model.outputs.toJSON(),
  }}));
}}"""


def open_notebook(page, server: LabServer, path: str, timeout_s: float = 120) -> None:
    """Open ``path`` (relative to the server's root) in JupyterLab and wait for an idle kernel."""
    page.goto(server.url(f"lab/tree/{path}"))
    page.wait_for_function("() => !!window.jupyterapp", timeout=timeout_s * 1000)
    page.wait_for_function(f"() => {{ const p = {_CURRENT_NOTEBOOK}; return p && p.context && p.context.path === {json.dumps(path)}; }}",
                           timeout=timeout_s * 1000)
    page.wait_for_function(_KERNEL_READY, timeout=timeout_s * 1000)


def run_all_cells(page, timeout_s: float) -> dict:
    """Run All Cells and wait until every code cell has run or one has failed; returns the progress."""
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    deadline = time.monotonic() + timeout_s
    progress = page.evaluate(_RUN_PROGRESS)
    while time.monotonic() < deadline:
        progress = page.evaluate(_RUN_PROGRESS)
        finished = progress["done"] == progress["total"] and progress["kernel"] == "idle"
        if finished or progress["failed"] is not None:
            page.wait_for_function(_KERNEL_READY, timeout=120_000)
            return page.evaluate(_RUN_PROGRESS)
        time.sleep(1)
    raise TimeoutError(f"Run All did not finish in {timeout_s:.0f} s: {progress}")


def notebook_outputs(page) -> list[dict]:
    """Every code cell's source and outputs (nbformat JSON), in order."""
    return page.evaluate(_OUTPUTS)


def error_outputs(cells: list[dict]) -> list[str]:
    """One line per error output: the cell's number among code cells, the error and its message."""
    return [f"code cell {number}: {output.get('ename')}: {output.get('evalue', '')[:300]}"
            for number, cell in enumerate(cells, start=1)
            for output in cell["outputs"] if output.get("output_type") == "error"]


def widget_output_count(cells: list[dict]) -> int:
    """How many outputs the kernel sent as widget views (what the page must render as widgets)."""
    return sum(WIDGET_VIEW_MIME in output.get("data", {}) for cell in cells for output in cell["outputs"])


_WIDGET_OUTPUT_STATES = f"""() => {{
  const panel = {_CURRENT_NOTEBOOK};
  const states = [];
  panel.content.widgets.filter(cell => cell.model.type === 'code').forEach((cell, index) => {{
    const outputs = cell.model.outputs.toJSON();
    const children = cell.node.querySelectorAll('.jp-OutputArea-child');
    outputs.forEach((output, k) => {{
      if (!output.data || !output.data['{WIDGET_VIEW_MIME}']) return;
      const node = children[k] && children[k].querySelector('.jp-OutputArea-output');
      const text = node ? node.innerText.trim().slice(0, 200) : '';
      let state = 'text';
      if (node && node.querySelector(':scope > .jupyter-widgets')) state = 'drawn';
      else if (node && text === '' && node.children.length === 0) state = 'closed';
      const progress_bar = !!node && !!node.querySelector('.widget-hprogress, .widget-vprogress');
      states.push({{cell: index + 1, state, text, progress_bar, plain: output.data['text/plain'] || ''}});
    }});
  }});
  return states;
}}"""


def widget_output_states(page) -> list[dict]:
    """For each widget output the kernel sent: its ``state``, 'drawn' (a widget view), 'closed' (the kernel
    closed it, like a finished tqdm bar with ``leave=False``) or 'text' (what a missing widget extension
    shows); whether a ``progress_bar`` is drawn in it; and the kernel's ``plain`` text for it."""
    return page.evaluate(_WIDGET_OUTPUT_STATES)


def widget_views(page):
    """The page's widget outputs: one locator per output area that holds a widget view."""
    return page.locator(WIDGET_OUTPUT)


def rendered_widget_report(page) -> list[dict]:
    """For each drawn widget in the page: how many sliders it has and the start of its text."""
    return page.evaluate("""selector => Array.from(document.querySelectorAll(selector)).map(node => ({
          sliders: node.querySelectorAll('.widget-slider').length,
          text: node.innerText.slice(0, 200),
        }))""", WIDGET_OUTPUT)


def output_image(widget) -> str:
    """The ``src`` of the (first) image a widget's Output area shows, or '' when it shows none."""
    images = widget.locator(".widget-output img")
    return images.first.get_attribute("src") if images.count() else ""


def slider_readout(widget, index: int = 0) -> str:
    """The value slider ``index`` of ``widget`` shows beside it."""
    return widget.locator(".widget-slider .widget-readout").nth(index).inner_text().strip()


def move_slider(page, widget, index: int = 0) -> None:
    """Drag slider ``index`` of ``widget`` with the mouse, far enough to change its value: to the middle
    of its track, or to 80% of it when the handle already sits in the middle."""
    handle = widget.locator(".widget-slider .noUi-handle").nth(index)
    handle.scroll_into_view_if_needed()
    track = widget.locator(".widget-slider .noUi-target").nth(index).bounding_box()
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    target = track["x"] + track["width"] / 2
    if abs(target - x) < track["width"] / 8:
        target = track["x"] + 0.8 * track["width"]
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move((x + target) / 2, y, steps=5)
    page.mouse.move(target, y, steps=5)
    page.mouse.up()


def close_notebook_and_kernel(page) -> None:
    """Shut the notebook's kernel down (frees its memory for the next notebook) without saving anything."""
    page.evaluate(f"""async () => {{
        const panel = {_CURRENT_NOTEBOOK};
        if (panel && panel.sessionContext && panel.sessionContext.session) await panel.sessionContext.shutdown();
    }}""")


def kernel_execute(page, code: str) -> None:
    """Run ``code`` in the open notebook's kernel outside any cell (no output shown, nothing numbered);
    raises when it fails."""
    page.evaluate(f"""async code => {{
        const kernel = {_CURRENT_NOTEBOOK}.sessionContext.session.kernel;
        const future = kernel.requestExecute({{code, silent: false, store_history: false}});
        let failure = null;
        future.onIOPub = message => {{
          if (message.header.msg_type === 'error') failure = message.content.ename + ': ' + message.content.evalue;
        }};
        await future.done;
        if (failure) throw new Error(failure);
    }}""", code)
