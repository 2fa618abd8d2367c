"""The optional room-wide board on Weights & Biases: opt-in, a no-op when disabled, runs ranked by a summary
metric (each attendee's latest run), and a sweep configuration. A fake api and run: never the network."""

from dataclasses import dataclass, field

import numpy as np
import pytest

from workshop_utils import leaderboard as lb
from workshop_utils import room_leaderboard as room
from workshop_utils import tracking


def an_entry(name="Ada", macro_f1=0.8, accuracy=0.9, **settings):
    return lb.Entry(name=name, macro_f1=macro_f1, accuracy=accuracy, parameters=1234, train_seconds=5.0,
                    settings=settings or {"lr": 0.003}, submitted_at="2026-01-01T00:00:00+00:00", submissions=1,
                    competition="toy")


class FakeRun:
    def __init__(self, project, **kwargs):
        self.project, self.kwargs, self.logged, self.finished = project, kwargs, [], False

    def log(self, values):
        self.logged.append(values)

    def finish(self):
        self.finished = True


def test_off_unless_enabled(monkeypatch, capsys):
    monkeypatch.delenv("WANDB_MODE", raising=False)
    started = []
    assert room.log_submission(an_entry(), "room", start_run=lambda *a, **k: started.append(a)) is False
    assert started == [] and "off (enabled=False)" in capsys.readouterr().out


def test_disabled_mode_sends_nothing(monkeypatch, capsys):
    monkeypatch.setenv("WANDB_MODE", "disabled")
    started = []
    assert room.log_submission(an_entry(), "room", enabled=True, start_run=lambda *a, **k: started.append(a)) is False
    assert started == [] and "WANDB_MODE=disabled" in capsys.readouterr().out
    assert room.room_leaderboard("room").empty  # no api call at all
    assert "disabled" in capsys.readouterr().out


def test_no_key_means_nothing_sent(monkeypatch, capsys):
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    assert room.log_submission(an_entry(), "room", enabled=True, prompt=False) is False
    assert "No W&B key found" in capsys.readouterr().out


def test_a_submission_becomes_one_finished_run(monkeypatch, capsys):
    monkeypatch.delenv("WANDB_MODE", raising=False)
    runs = []

    def start_run(project, **kwargs):
        runs.append(FakeRun(project, **kwargs))
        return runs[-1]

    submission = lb.Submission(an_entry(lr=0.003, widths=[16, 32]), None, 1, 1, "message")
    assert room.log_submission(submission, "room", entity="class-of-2026", enabled=True, start_run=start_run)
    (run,) = runs
    assert run.project == "room" and run.finished
    assert run.kwargs["config"] == {"lr": 0.003, "widths": [16, 32], "attendee": "Ada", "competition": "toy"}
    assert run.kwargs["name"] == "Ada" and run.kwargs["entity"] == "class-of-2026" and run.kwargs["enabled"]
    assert run.logged == [{"macro_f1": 0.8, "accuracy": 0.9, "parameters": 1234, "train_seconds": 5.0}]
    assert "class-of-2026/room" in capsys.readouterr().out
    def unreachable(project, **kwargs):
        raise ConnectionError("no network")

    assert room.log_submission(submission, "room", enabled=True, start_run=unreachable) is False
    assert "could not send to W&B (ConnectionError: no network)" in capsys.readouterr().out
    with pytest.raises(TypeError, match="what submit"):
        room.log_submission({"macro_f1": 0.8}, "room", enabled=True, start_run=start_run)


def test_start_run_stays_a_no_op_when_disabled(monkeypatch, tmp_path):
    monkeypatch.setenv("WANDB_MODE", "disabled")
    monkeypatch.chdir(tmp_path)
    run = tracking.start_run("room", config=room.run_config(an_entry()), enabled=True, name="Ada")
    run.log(room.run_summary(an_entry()))
    run.finish()
    assert not (tmp_path / "wandb").exists()


@dataclass
class ApiRun:
    name: str
    summary_metrics: dict
    created_at: str
    config: dict = field(default_factory=dict)
    id: str = "run"


class FakeApi:
    def __init__(self, runs):
        self.runs_given, self.paths = runs, []

    def runs(self, path):
        self.paths.append(path)
        return iter(self.runs_given)


def test_room_board_ranks_each_attendees_latest_run():
    runs = [
        ApiRun("Ada", {"macro_f1": 0.70, "accuracy": 0.8}, "2026-01-01T10:00:00", {"attendee": "Ada"}, "a1"),
        ApiRun("Bob", {"macro_f1": 0.75, "accuracy": 0.85}, "2026-01-01T10:05:00", {"attendee": "Bob"}, "b1"),
        ApiRun("ada", {"macro_f1": 0.65, "accuracy": 0.7}, "2026-01-01T10:10:00", {"attendee": "ada"}, "a2"),
        ApiRun("crashed", {}, "2026-01-01T10:11:00", {"attendee": "Cy"}, "c1"),
        ApiRun("nan", {"macro_f1": float("nan")}, "2026-01-01T10:12:00", {"attendee": "Dee"}, "d1"),
        ApiRun("Eve", {"macro_f1": 0.75, "accuracy": 0.9}, "2026-01-01T10:13:00", {}, "e1"),
    ]
    api = FakeApi(runs)
    board = room.room_leaderboard("room", "class-of-2026", api=api)
    assert api.paths == ["class-of-2026/room"]
    assert list(board["name"]) == ["Eve", "Bob", "ada"]  # Ada's latest run counts; ties: accuracy
    assert list(board.index) == [1, 2, 3] and board.loc[3, "run"] == "a2"
    every_run = room.room_leaderboard("room", api=FakeApi(runs), latest_only=False)
    assert len(every_run) == 4
    by_accuracy = room.room_leaderboard("room", api=FakeApi(runs), metric="accuracy")
    assert list(by_accuracy["name"]) == ["Eve", "Bob", "ada"]


def test_room_board_counts_names_that_read_the_same_as_one_attendee():
    runs = [
        ApiRun("carol", {"macro_f1": 0.70}, "2026-01-01T10:00:00", {"attendee": "carol"}, "c1"),
        ApiRun("carol", {"macro_f1": 0.60}, "2026-01-01T10:05:00", {"attendee": "carol\u200b"}, "c2"),
        ApiRun("émile", {"macro_f1": 0.50}, "2026-01-01T10:06:00", {"attendee": "émile"}, "e1"),
        ApiRun("ÉMILE", {"macro_f1": 0.40}, "2026-01-01T10:07:00", {"attendee": "ÉMILE"}, "e2"),
    ]
    board = room.room_leaderboard("room", api=FakeApi(runs))
    assert list(board["run"]) == ["c2", "e2"]  # each attendee's latest run


def test_room_board_filters_by_competition_and_plots():
    from matplotlib.figure import Figure

    from workshop_utils.plots.leaderboard import plot_leaderboard

    runs = [ApiRun("Ada", {"macro_f1": 0.7}, "1", {"attendee": "Ada", "competition": "toy"}),
            ApiRun("Bob", {"macro_f1": 0.9}, "2", {"attendee": "Bob", "competition": "other"})]
    board = room.room_leaderboard("room", api=FakeApi(runs), competition="toy")
    assert list(board["name"]) == ["Ada"]
    assert plot_leaderboard(Figure().add_subplot(), board, highlight="ada")["highlighted"] == 1


def test_an_unreadable_project_is_explained(capsys):
    class BrokenApi:
        def runs(self, path):
            raise ValueError(f"Could not find project {path}")

    assert room.room_leaderboard("no-such-project", api=BrokenApi()).empty
    assert "cannot read the W&B project 'no-such-project'" in capsys.readouterr().out
    assert room.room_leaderboard("room", api=FakeApi([])).empty


def test_sweep_config_from_a_settings_space():
    space = {"lr": [0.001, 0.003], "widths": [(16, 32, 64), (32, 64, 128)], "batch_norm": [True, False],
             "dropout": np.array([0.0, 0.3]).tolist()}
    config = room.sweep_config(space, name="road signs")
    assert config == {"method": "random", "metric": {"name": "val_macro_f1", "goal": "maximize"}, "name": "road signs",
                      "parameters": {"lr": {"values": [0.001, 0.003]},
                                     "widths": {"values": [[16, 32, 64], [32, 64, 128]]},
                                     "batch_norm": {"values": [True, False]}, "dropout": {"values": [0.0, 0.3]}}}
    assert room.sweep_config(space, method="grid")["method"] == "grid"
    with pytest.raises(ValueError, match="method"):
        room.sweep_config(space, method="exhaustive")
    with pytest.raises(ValueError, match="validation score"):
        room.sweep_config(space, metric="test_macro_f1")
    with pytest.raises(ValueError, match="non-empty list"):
        room.sweep_config({"lr": []})
    with pytest.raises(ValueError, match="non-empty list"):
        room.sweep_config({"optimizer": "adam"})
