"""W&B key discovery (never from the notebook) and the slider-plot widget, driven headless."""

import os
import sys
from pathlib import Path

import ipywidgets as widgets
import matplotlib
from matplotlib.figure import Figure
import pytest

matplotlib.use("Agg")

from workshop_utils import tracking
from workshop_utils.plots import plot_sine_wave
from workshop_utils.widgets import SliderPlot


def test_key_from_environment(monkeypatch):
    monkeypatch.setenv("WANDB_API_KEY", "  abc123  ")
    assert tracking.find_wandb_key() == ("abc123", "the WANDB_API_KEY environment variable")


def test_no_key_anywhere_and_no_prompt(monkeypatch, capsys):
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    assert tracking.find_wandb_key() == (None, "nowhere")  # not in Colab: no secret either
    assert tracking.wandb_login(prompt=False) is False
    assert "No W&B key found" in capsys.readouterr().out


@pytest.mark.filterwarnings("ignore::getpass.GetPassWarning")
def test_prompt_without_stdin_is_a_skip(monkeypatch, capsys):
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.setattr("sys.stdin", None)  # like a kernel that allows no input
    assert tracking.wandb_login(prompt=True) is False


def test_disabled_mode_gives_a_noop_run(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("WANDB_MODE", "disabled")
    monkeypatch.chdir(tmp_path)
    assert tracking.wandb_login() is False
    run = tracking.start_run("workshop-test", config={"lr": 0.1}, enabled=True)
    run.log({"loss": 1.0})
    run.finish()
    assert not (tmp_path / "wandb").exists()  # a disabled run writes nothing


def test_sine_wave_values():
    fig = Figure()
    t, y = plot_sine_wave(fig.add_subplot(), frequency=2, amplitude=0.5)
    assert y.max() == pytest.approx(0.5, abs=1e-3)
    assert abs(y[len(t) // 8]) == pytest.approx(0.5, abs=0.01)  # quarter period of a 2 Hz wave
    with pytest.raises(ValueError):
        plot_sine_wave(fig.add_subplot(), points=1)


def test_slider_redraws_when_moved():
    slider = widgets.FloatSlider(value=1.0, min=0.5, max=5, description="frequency")
    amplitude = widgets.FloatSlider(value=1.0, min=0.1, max=2, description="amplitude")
    view = SliderPlot(plot_sine_wave, {"frequency": slider, "amplitude": amplitude})
    assert isinstance(view.show(), widgets.VBox)
    first = view.last_result[1].copy()
    slider.value = 3.0
    assert view.redraw_count == 2
    assert not (view.last_result[1] == first).all()
    amplitude.value = 2.0
    assert view.last_result[1].max() == pytest.approx(2.0, abs=1e-2)


def text_a_front_end_without_widgets_shows(widget, monkeypatch) -> str:
    """The text/plain ipywidgets sends with ``widget``'s view: what RISE's slideshow or GitHub's viewer shows.
    ipywidgets 8 builds it in ``_repr_mimebundle_``; 7.7 (Colab) in ``_ipython_display_``."""
    if hasattr(widget, "_repr_mimebundle_"):
        return widget._repr_mimebundle_()["text/plain"]
    from ipywidgets.widgets import widget as widget_module

    sent = []
    monkeypatch.setattr(widget_module, "display", lambda data, raw=False: sent.append(data))
    widget._ipython_display_()
    return sent[0]["text/plain"]


def test_where_widgets_cannot_be_drawn_the_text_says_to_open_the_notebook(monkeypatch):
    from workshop_utils.widgets.slider_plot import UNDRAWN_WIDGET_TEXT

    view = SliderPlot(plot_sine_wave, {"frequency": widgets.FloatSlider(value=1.0, min=0.5, max=5)})
    panel = view.show()
    assert text_a_front_end_without_widgets_shows(panel, monkeypatch) == UNDRAWN_WIDGET_TEXT
    assert "VBox" not in UNDRAWN_WIDGET_TEXT and len(UNDRAWN_WIDGET_TEXT) <= 110  # ipywidgets cuts longer texts
    assert isinstance(panel, widgets.VBox) and len(panel.children) == 2  # still an ordinary VBox to draw
    plain = widgets.VBox([widgets.FloatSlider()])
    assert text_a_front_end_without_widgets_shows(plain, monkeypatch).startswith("VBox(")  # the probe is real


def test_malformed_key_is_explained_not_raised(monkeypatch, tmp_path, capsys):
    pytest.importorskip("wandb", reason="the real wandb.login's answer to a malformed key (wandb is optional)")
    monkeypatch.setenv("WANDB_API_KEY", "not-a-key")
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # wherever wandb would write its settings, not the real home
    monkeypatch.setenv("NETRC", str(tmp_path / ".netrc"))
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path))
    assert tracking.wandb_login(prompt=False) is False
    assert "login failed" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------------
# Optional packages: a disabled run, and every path that does not talk to W&B, needs no wandb
# --------------------------------------------------------------------------------------------------

def test_a_disabled_run_needs_no_wandb(monkeypatch):
    monkeypatch.setitem(sys.modules, "wandb", None)  # `import wandb` now raises ImportError
    monkeypatch.delenv("WANDB_MODE", raising=False)
    run = tracking.start_run("workshop-test", config={"notebook": "00_setup"}, enabled=False)
    run.log({"setup_check": 1}, step=1)
    run.finish()
    assert isinstance(run, tracking.DisabledRun) and run.config == {"notebook": "00_setup"}
    monkeypatch.setenv("WANDB_MODE", "disabled")  # enabled, but switched off for the whole machine
    assert isinstance(tracking.start_run("workshop-test", enabled=True), tracking.DisabledRun)


def test_an_enabled_run_without_wandb_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "wandb", None)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    with pytest.raises(ImportError, match="pip install wandb"):
        tracking.start_run("workshop-test", enabled=True)
    monkeypatch.setenv("WANDB_API_KEY", "0123456789abcdef")
    assert tracking.wandb_login(prompt=False) is False  # explained, not raised
    assert "pip install wandb" in capsys.readouterr().out


def test_notebook_00s_cell_runs_without_wandb(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "wandb", None)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    USE_WANDB = False
    logged_in = tracking.wandb_login() if USE_WANDB else False
    run = tracking.start_run("dl-workshop-setup", config={"notebook": "00_setup"}, enabled=logged_in)
    run.log({"setup_check": 1})
    run.finish()


def test_the_auto_mpg_loader_without_vega_datasets_says_how_to_install_it(monkeypatch):
    from workshop_utils.data import loaders

    monkeypatch.setitem(sys.modules, "vega_datasets", None)
    with pytest.raises(ImportError, match="pip install vega_datasets"):
        loaders.load_auto_mpg()


def test_the_room_board_without_wandb_is_explained(monkeypatch, capsys):
    from workshop_utils import room_leaderboard

    monkeypatch.setitem(sys.modules, "wandb", None)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    assert room_leaderboard.room_leaderboard("some-project").empty
    assert "pip install wandb" in capsys.readouterr().out


def test_without_kagglehub_downloads_use_the_other_sources(monkeypatch):
    from workshop_utils.data import download, manifest

    monkeypatch.setitem(sys.modules, "kagglehub", None)
    monkeypatch.delenv("WORKSHOP_OFFLINE", raising=False)
    monkeypatch.delenv("WORKSHOP_MIRROR", raising=False)
    monkeypatch.setattr(download, "USE_KAGGLEHUB", True)
    info = manifest.get_dataset_info("road-signs")
    assert info.kaggle_handle and download._kagglehub_usable(info) is False


def test_no_module_imports_an_optional_package_when_it_is_imported():
    """wandb, kagglehub and vega_datasets may be imported only inside the functions that need them."""
    import ast

    optional = {"wandb", "kagglehub", "vega_datasets"}
    package = Path(__file__).resolve().parents[1] / "workshop_utils"
    at_import_time = []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:  # module-level statements only (and the bodies of module-level if/try blocks)
            for inner in ast.walk(node) if isinstance(node, (ast.If, ast.Try)) else [node]:
                if isinstance(inner, ast.Import):
                    names = [alias.name.split(".")[0] for alias in inner.names]
                elif isinstance(inner, ast.ImportFrom) and inner.module and not inner.level:
                    names = [inner.module.split(".")[0]]
                else:
                    continue
                at_import_time += [f"{path.relative_to(package)}: {name}" for name in names if name in optional]
    assert at_import_time == []


# --------------------------------------------------------------------------------------------------
# Where the key goes: the environment, never a file, unless asked
# --------------------------------------------------------------------------------------------------

class FakeWandb:
    def __init__(self):
        self.calls = []

    def login(self, key=None, relogin=None):
        self.calls.append({"key": key, "env": os.environ.get("WANDB_API_KEY")})
        return True


@pytest.fixture
def fake_wandb(monkeypatch, tmp_path):
    fake = FakeWandb()
    monkeypatch.setitem(sys.modules, "wandb", fake)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    return fake


def test_a_key_from_the_environment_is_never_passed_to_wandb_login(fake_wandb, monkeypatch, tmp_path):
    monkeypatch.setenv("WANDB_API_KEY", "env-key")
    assert tracking.wandb_login(prompt=False) is True
    assert fake_wandb.calls == [{"key": None, "env": "env-key"}]  # wandb reads it itself: no ~/.netrc
    assert not (tmp_path / ".netrc").exists()


def test_a_pasted_key_stays_in_this_kernel_and_the_prompt_says_why(fake_wandb, monkeypatch, capsys):
    monkeypatch.setattr(tracking.getpass, "getpass", lambda prompt: " pasted-key ")
    assert tracking.wandb_login() is True
    assert fake_wandb.calls == [{"key": None, "env": "pasted-key"}]
    out = capsys.readouterr().out
    assert "nothing is written to disk" in out and "WANDB_API_KEY" in out and "pasted-key" not in out


def test_save_key_writes_netrc_and_the_prompt_warns_first(fake_wandb, monkeypatch, capsys):
    monkeypatch.setattr(tracking.getpass, "getpass", lambda prompt: "pasted-key")
    assert tracking.wandb_login(save_key=True) is True
    assert fake_wandb.calls == [{"key": "pasted-key", "env": None}]  # wandb.login(key=...) writes ~/.netrc
    out = capsys.readouterr().out
    assert "IN PLAIN TEXT in ~/.netrc" in out and "WANDB_API_KEY" in out


def test_secrets_files_are_ignored_by_git():
    ignored = (Path(__file__).resolve().parents[1] / ".gitignore").read_text().splitlines()
    assert {".netrc", "kaggle.json", ".env"} <= {line.strip() for line in ignored}
