"""The competition's leaderboard: scoring, replacing, rejecting bad submissions, 20 concurrent submitters,
the road-sign data without test labels, and the bar chart.

Module-level imports stay light (no torch): the concurrency test starts 20 fresh interpreters that import
this module.
"""

import json
import multiprocessing
import sqlite3

import numpy as np
import pytest

from workshop_utils import leaderboard as lb

CLASSES = ("crosswalk", "speedlimit", "stop", "trafficlight")
LABELS = np.tile(np.arange(4), 10)  # 40 test examples, 10 of each class


def toy_held_out(competition="toy competition", images=None):
    return lb.HeldOut(competition, LABELS.copy(), CLASSES, images=images)


def predictions_with_mistakes(count):
    """The true labels with the first ``count`` of them wrong: accuracy (40 - count) / 40."""
    predicted = LABELS.copy()
    predicted[:count] = (predicted[:count] + 1) % 4
    return predicted


def submit(path, name, predictions, settings=None, **kwargs):
    kwargs.setdefault("held_out", toy_held_out())
    return lb.submit(name, predictions, settings or {}, path=path, verbose=False, **kwargs)


def table(path, competition="toy competition"):
    return lb.leaderboard_table(path, competition=competition)


# -- scores -----------------------------------------------------------------------------------------

def test_macro_f1_is_scikit_learns():
    from sklearn.metrics import accuracy_score, f1_score

    generator = np.random.default_rng(0)
    for _ in range(30):
        labels = generator.integers(0, 4, size=25)
        predicted = generator.integers(0, 3, size=25)  # class 3 never predicted: its F1 is 0, not a warning
        expected = f1_score(labels, predicted, labels=range(4), average="macro", zero_division=0)
        assert lb.macro_f1_score(labels, predicted, 4) == pytest.approx(expected)
        assert lb.accuracy_score(labels, predicted) == pytest.approx(accuracy_score(labels, predicted))


# -- submitting, ranking, replacing -----------------------------------------------------------------

def test_submit_records_scores_settings_and_ranks(tmp_path):
    path = tmp_path / "board.sqlite3"
    first = submit(path, "Ada", predictions_with_mistakes(4), {"lr": np.float32(0.5), "widths": (16, 32)},
                   train_seconds=12.5, parameters=1234)
    assert first.entry.accuracy == pytest.approx(36 / 40)
    assert first.entry.macro_f1 == pytest.approx(lb.macro_f1_score(LABELS, predictions_with_mistakes(4), 4))
    assert first.entry.settings == {"lr": 0.5, "widths": [16, 32]}  # plain JSON values
    assert (first.rank, first.entries, first.replaced) == (1, 1, False)
    assert "replaces this entry" in first.message and "rank 1 of 1" in first.message
    second = submit(path, "Bob", predictions_with_mistakes(0), {"lr": 0.1})
    assert (second.rank, second.entries) == (1, 2)
    third = submit(path, "Cy", predictions_with_mistakes(20))
    assert (third.rank, third.entries) == (3, 3)

    board = table(path)
    assert list(board["name"]) == ["Bob", "Ada", "Cy"] and list(board.index) == [1, 2, 3]
    assert board.loc[2, "parameters"] == 1234 and board.loc[2, "train_seconds"] == 12.5
    assert board.loc[2, "settings"] == {"lr": 0.5, "widths": [16, 32]}
    assert board["macro_f1"].is_monotonic_decreasing


def test_ties_rank_by_accuracy_then_who_was_first(tmp_path):
    path = tmp_path / "board.sqlite3"
    submit(path, "early", predictions_with_mistakes(2))
    submit(path, "late", predictions_with_mistakes(2))
    assert list(table(path)["name"]) == ["early", "late"]


def test_resubmitting_replaces_the_entry_and_says_so(tmp_path):
    path = tmp_path / "board.sqlite3"
    submit(path, "Ada", predictions_with_mistakes(10), {"try": 1})
    better = submit(path, "  ada ", predictions_with_mistakes(2), {"try": 2})  # case and spacing ignored
    assert better.replaced and better.previous.settings == {"try": 1}
    assert f"{better.previous.macro_f1:.3f} -> {better.entry.macro_f1:.3f}" in better.message
    assert "replaced your earlier entry" in better.message and "(better)" in better.message
    worse = submit(path, "ADA", predictions_with_mistakes(30), {"try": 3})
    assert "the latest submission counts, not the best" in worse.message
    board = table(path)
    assert len(board) == 1 and board.loc[1, "settings"] == {"try": 3} and board.loc[1, "submissions"] == 3
    assert board.loc[1, "name"] == "ADA"  # shown as last spelled
    assert lb.leaderboard_entry("Ada", path, competition="toy competition").settings == {"try": 3}
    assert lb.leaderboard_entry("nobody", path, competition="toy competition") is None


def test_competitions_do_not_mix(tmp_path):
    path = tmp_path / "board.sqlite3"
    submit(path, "Ada", predictions_with_mistakes(0))
    submit(path, "Ada", predictions_with_mistakes(5), held_out=toy_held_out("another split"))
    assert len(table(path)) == 1 and len(table(path, "another split")) == 1
    everything = lb.leaderboard_table(path, all_competitions=True)
    assert sorted(everything["competition"]) == ["another split", "toy competition"]
    assert list(everything.index) == [1, 1]  # ranked within each competition


def test_reading_a_missing_board_creates_nothing(tmp_path):
    path = tmp_path / "nothing" / "board.sqlite3"
    assert table(path).empty and lb.read_entries(path) == []
    assert not path.exists()


def test_class_names_scores_and_whole_floats_are_accepted(tmp_path):
    path = tmp_path / "board.sqlite3"
    names = [CLASSES[k] for k in LABELS]
    assert submit(path, "names", names).entry.accuracy == 1.0
    scores = np.eye(4)[LABELS] * 0.7 + 0.1  # probabilities: the argmax of each row
    assert submit(path, "scores", scores).entry.accuracy == 1.0
    assert submit(path, "floats", LABELS.astype(float).tolist()).entry.accuracy == 1.0
    assert submit(path, "column", LABELS.reshape(-1, 1)).entry.accuracy == 1.0
    import pandas as pd

    assert submit(path, "pandas", pd.Series(LABELS.tolist(), dtype=object)).entry.accuracy == 1.0


# -- bad submissions: a clear message, and nothing written --------------------------------------------

class NotADataLoader:
    batch_size = 32

    def __iter__(self):
        return iter([])


@pytest.mark.parametrize("submission, words", [
    (predictions_with_mistakes(0)[:-1], "wrong length: there are 40 test images, the submission has 39"),
    (np.concatenate([LABELS, LABELS]), "has 80 predictions"),
    ([CLASSES[k] for k in LABELS[:-1]] + ["stop sign"], "unknown class name(s) ['stop sign']"),
    (np.where(LABELS == 3, 4, LABELS), "class index 4 is out of range"),
    (LABELS - 1, "class index -1 is out of range"),
    (np.full(40, np.nan), "NaN"),
    (np.where(np.eye(4)[LABELS] == 1, np.inf, 0.0), "infinite"),
    (LABELS + 0.5, "fractions, not class indices"),
    (np.eye(3)[LABELS % 3], "one column per class (4"),
    (LABELS == 1, "True/False"),
    ({"road1.png": 0}, "wrong type: a dict"),
    ("stop", "wrong type: a single str"),
    (3, "a single number"),
    (None, "forget to `return`"),
    ({1, 2}, "a set has no order"),
    (NotADataLoader(), "a way to read data in batches"),
    ([LABELS[:20], LABELS[20:]], "one per batch"),
    ([1, "stop"] * 20, "mix types"),
    (object(), "wrong type: builtins.object"),
    (np.zeros((40, 4, 2)), "shape (40, 4, 2)"),
])
def test_bad_submissions_are_rejected_and_write_nothing(tmp_path, submission, words):
    path = tmp_path / "board.sqlite3"
    submit(path, "Ada", predictions_with_mistakes(3), {"try": 1})
    before = table(path)
    with pytest.raises(lb.SubmissionError) as error:
        submit(path, "Ada", submission, {"try": 2})
    assert words in str(error.value)
    assert table(path).equals(before)


@pytest.mark.parametrize("name, settings, extra, words", [
    ("", {}, {}, "the name is empty"),
    ("   ", {}, {}, "the name is empty"),
    (42, {}, {}, "the name must be a string"),
    ("x" * 61, {}, {}, "keep it to 60"),
    ("Ada", ["lr", 0.1], {}, "settings must be a dict"),
    ("Ada", {"optimizer": object()}, {}, "setting 'optimizer' is a builtins.object"),
    ("Ada", {"lr": float("nan")}, {}, "setting 'lr' is nan"),
    ("Ada", {"schedule": {"warmup": lambda epoch: epoch}}, {}, "setting 'schedule'['warmup']"),
    ("Ada", {1: "one"}, {}, "setting names must be strings"),
    ("Ada", {}, {"train_seconds": -1}, "train_seconds must be a number of seconds"),
    ("Ada", {}, {"parameters": 1.5}, "parameters must be a whole number"),
])
def test_bad_names_settings_and_numbers_are_rejected(tmp_path, name, settings, extra, words):
    path = tmp_path / "board.sqlite3"
    with pytest.raises(lb.SubmissionError) as error:
        lb.submit(name, predictions_with_mistakes(0), settings, path=path, held_out=toy_held_out(), verbose=False,
                  **extra)
    assert words in str(error.value)
    assert not path.exists()


# -- many submitters at once ----------------------------------------------------------------------

N_PROCESSES = 20


def submit_at_once(path, index, barrier):
    """One attendee's kernel: wait until all are ready, then submit their own entry and one shared name."""
    held_out = toy_held_out()
    barrier.wait(timeout=120)
    lb.submit(f"attendee {index:02d}", predictions_with_mistakes(index), {"index": index}, path=path,
              held_out=held_out, verbose=False)
    lb.submit("shared name", predictions_with_mistakes(index), {"index": index}, path=path, held_out=held_out,
              limit=0, verbose=False)
    try:  # 20 at once against a limit of 5: exactly 5 get through
        lb.submit("limited name", predictions_with_mistakes(index), path=path, held_out=held_out, limit=5,
                  verbose=False)
    except lb.SubmissionError as error:
        assert "has used all 5 submissions" in str(error)


def test_twenty_processes_submitting_at_once_lose_nothing(tmp_path):
    path = tmp_path / "board.sqlite3"
    context = multiprocessing.get_context("spawn")  # what Windows and macOS use; the slowest to start
    barrier = context.Barrier(N_PROCESSES)
    processes = [context.Process(target=submit_at_once, args=(path, index, barrier)) for index in range(N_PROCESSES)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=180)
    assert [process.exitcode for process in processes] == [0] * N_PROCESSES

    board = lb.leaderboard_table(path, competition="toy competition")
    assert len(board) == N_PROCESSES + 2
    for index in range(N_PROCESSES):
        row = board[board["name"] == f"attendee {index:02d}"].iloc[0]
        assert row["accuracy"] == pytest.approx((40 - index) / 40)
        assert row["macro_f1"] == pytest.approx(lb.macro_f1_score(LABELS, predictions_with_mistakes(index), 4))
        assert row["settings"] == {"index": index}
    shared = board[board["name"] == "shared name"].iloc[0]
    assert shared["submissions"] == N_PROCESSES  # every replacement counted: none overwrote another unseen
    assert shared["accuracy"] == pytest.approx((40 - shared["settings"]["index"]) / 40)  # one consistent row
    assert board[board["name"] == "limited name"].iloc[0]["submissions"] == 5


def test_the_file_is_plain_sqlite(tmp_path):
    path = tmp_path / "board.sqlite3"
    submit(path, "Ada", predictions_with_mistakes(1), {"lr": 0.1})
    with sqlite3.connect(path) as connection:
        name, settings = connection.execute("SELECT name, settings FROM entries").fetchone()
    assert name == "Ada" and json.loads(settings) == {"lr": 0.1}


# -- models ---------------------------------------------------------------------------------------

def test_a_model_is_scored_in_eval_mode_without_gradients_in_batches(tmp_path):
    import torch
    from torch import nn

    class LabelReader(nn.Module):
        """Predicts the class written into each image's first pixel; wrong in training mode; records calls."""

        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.ones(1))
            self.calls = []

        def forward(self, images):
            self.calls.append((len(images), self.training, torch.is_grad_enabled()))
            scores = nn.functional.one_hot(images[:, 0, 0, 0].round().long(), 4).float() * self.scale
            return -scores if self.training else scores

    images = torch.zeros(40, 3, 4, 4)
    images[:, 0, 0, 0] = torch.from_numpy(LABELS).float()
    model = LabelReader().train()
    result = submit(tmp_path / "board.sqlite3", "Ada", model, {"widths": [1]}, held_out=toy_held_out(images=images),
                    batch_size=16)
    assert result.entry.accuracy == 1.0 and result.entry.parameters == 1
    assert model.calls == [(16, False, False), (16, False, False), (8, False, False)]
    assert model.training  # put back as it was

    halved = submit(tmp_path / "board.sqlite3", "Bob", LabelReader(), preprocess=lambda batch: batch * 0,
                    held_out=toy_held_out(images=images))
    assert halved.entry.accuracy == 0.25  # every image read as class 0


def test_a_model_that_fails_on_the_test_images_is_explained(tmp_path):
    import torch
    from torch import nn

    images = torch.zeros(40, 3, 4, 4)
    with pytest.raises(lb.SubmissionError, match="your model raised RuntimeError on the test images"):
        submit(tmp_path / "board.sqlite3", "Ada", nn.Linear(10, 4), held_out=toy_held_out(images=images))
    with pytest.raises(lb.SubmissionError, match="class scores of shape"):
        submit(tmp_path / "board.sqlite3", "Ada", nn.Flatten(0), held_out=toy_held_out(images=images))
    with pytest.raises(lb.SubmissionError, match="scored from predictions only"):
        submit(tmp_path / "board.sqlite3", "Ada", nn.Linear(10, 4), held_out=toy_held_out())
    assert not (tmp_path / "board.sqlite3").exists()


def test_a_fit_result_is_its_model_and_training_time(tmp_path):
    import torch
    from torch import nn

    from workshop_utils.training import FitResult

    images = torch.zeros(40, 3, 4, 4)
    model = nn.Sequential(nn.Flatten(), nn.Linear(48, 4))
    result = FitResult(model=model, history=None, best_epoch=1, best_value=0.0, monitor="val_loss",
                       stopped_early=False, seconds=3.5, checkpoint_path=None, device=torch.device("cpu"), amp=None,
                       curves=None)
    entry = submit(tmp_path / "board.sqlite3", "Ada", result, held_out=toy_held_out(images=images)).entry
    assert entry.train_seconds == 3.5 and entry.parameters == 48 * 4 + 4


# -- the road-sign competition itself (smoke mode, stand-in data) --------------------------------------

def test_competition_data_holds_no_test_labels_and_splits_do_not_overlap(tmp_path):
    competition = lb.competition_data()
    assert not any("label" in name and "test" in name for name in vars(competition))
    assert len(competition.test_images) == len(competition.test_files) > 0
    assert competition.test_images.shape[1:] == (3, competition.image_size, competition.image_size)
    train, val, test = map(set, (competition.train_files, competition.val_files, competition.test_files))
    assert not (train & test or val & test or train & val)
    held_out = lb.road_sign_held_out(competition.image_size)
    assert held_out.competition == competition.competition and len(held_out) == len(competition.test_images)
    assert "labels" not in repr(held_out) and str(len(held_out)) in repr(held_out)
    assert lb.road_sign_held_out(None) is held_out  # predictions are scored without loading other sizes

    everyone_speedlimit = [competition.classes.index("speedlimit")] * len(held_out)
    result = lb.submit("majority", everyone_speedlimit, {"model": "none"}, path=tmp_path / "board.sqlite3",
                       verbose=False)
    assert result.entry.competition == competition.competition
    assert 0.5 < result.entry.accuracy < 1 and result.entry.macro_f1 < 0.3  # macro-F1 sees through the majority
    assert list(lb.leaderboard_table(tmp_path / "board.sqlite3")["name"]) == ["majority"]


# -- the bar chart --------------------------------------------------------------------------------

def test_plot_highlights_your_entry_and_adds_it_below_the_top(tmp_path):
    from matplotlib.figure import Figure

    from workshop_utils.plots.leaderboard import HIGHLIGHT_COLOUR, OTHERS_COLOUR, plot_leaderboard

    path = tmp_path / "board.sqlite3"
    for index in range(6):
        submit(path, f"team {index}", predictions_with_mistakes(3 * index))
    board = table(path)
    drawn = plot_leaderboard(Figure().add_subplot(), board, highlight=" TEAM 1 ")
    assert drawn["names"] == [f"team {i}" for i in range(6)] and drawn["highlighted"] == 2
    assert drawn["colours"][1] == HIGHLIGHT_COLOUR and drawn["colours"].count(OTHERS_COLOUR) == 5
    assert drawn["values"] == sorted(drawn["values"], reverse=True)

    below = plot_leaderboard(Figure().add_subplot(), board, highlight="team 5", top=3)
    assert below["names"] == ["team 0", "team 1", "team 2", "team 5"] and below["ranks"] == [1, 2, 3, 6]
    assert plot_leaderboard(Figure().add_subplot(), board, highlight="nobody")["highlighted"] is None
    assert plot_leaderboard(Figure().add_subplot(), table(tmp_path / "empty.sqlite3"))["names"] == []


def test_plot_highlights_a_name_typed_with_invisible_characters_or_another_case():
    import pandas as pd
    from matplotlib.figure import Figure

    from workshop_utils.plots.leaderboard import plot_leaderboard

    board = pd.DataFrame({"name": ["Émile", "carol"], "macro_f1": [0.9, 0.8]})
    assert plot_leaderboard(Figure().add_subplot(), board, highlight="ÉMILE\u200b")["highlighted"] == 1
    assert plot_leaderboard(Figure().add_subplot(), board, highlight="\u200b")["highlighted"] is None
