"""W&B key discovery (never from the notebook) and the slider-plot widget, driven headless."""

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


def test_malformed_key_is_explained_not_raised(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("WANDB_API_KEY", "not-a-key")
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # wherever wandb would write its settings, not the real home
    monkeypatch.setenv("NETRC", str(tmp_path / ".netrc"))
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path))
    assert tracking.wandb_login(prompt=False) is False
    assert "login failed" in capsys.readouterr().out
