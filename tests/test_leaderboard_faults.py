"""The leaderboard under faults and misuse (issue 15): no public way to the test labels, a submission limit,
broken board files, names that look alike, models that output NaN, edit their input or live on the meta device.

A read-only board: the session may run as root, which ignores file modes, so the test opens the board
the way SQLite does for a read-only file (``mode=ro``) by wrapping ``sqlite3.connect``; SQLite itself then
refuses the write ("attempt to write a readonly database").
"""

import sqlite3
import warnings

import numpy as np
import pytest

from workshop_utils import leaderboard as lb

CLASSES = ("crosswalk", "speedlimit", "stop", "trafficlight")
LABELS = np.tile(np.arange(4), 10)


def toy_held_out(images=None):
    return lb.HeldOut("toy competition", LABELS.copy(), CLASSES, images=images)


def with_mistakes(count):
    predicted = LABELS.copy()
    predicted[:count] = (predicted[:count] + 1) % 4
    return predicted


def submit(path, name, predictions, **kwargs):
    kwargs.setdefault("held_out", toy_held_out())
    return lb.submit(name, predictions, {}, path=path, verbose=False, **kwargs)


def names(path):
    return list(lb.leaderboard_table(path, competition="toy competition")["name"])


# -- the held-out labels ------------------------------------------------------------------------------

def test_the_held_out_split_does_not_hand_out_its_labels():
    held_out = toy_held_out()
    assert not hasattr(held_out, "labels") and not hasattr(held_out, "__dict__")
    assert all("label" not in name for name in dir(held_out) if not name.startswith("_"))
    assert held_out.score(LABELS) == (1.0, 1.0) and len(held_out) == 40


def test_the_scorer_keeps_its_own_copy_of_the_labels():
    labels = LABELS.copy()
    held_out = lb.HeldOut("toy", labels, CLASSES)
    labels[:] = 0  # the caller's array changes; the scorer's does not
    assert held_out.score(LABELS) == (1.0, 1.0)


def test_the_road_sign_competition_labels_are_not_public(tmp_path):
    """The issue's probe, ``submit("x", road_sign_held_out(None).labels)``, has nothing to read."""
    competition = lb.competition_data()
    scorer = lb.road_sign_held_out(None)  # what submit (and the room server) score with
    with pytest.raises(AttributeError):
        scorer.labels  # noqa: B018
    assert not hasattr(scorer, "labels") and not any("label" in name for name in vars(competition) if "test" in name)
    everyone_stop = [competition.classes.index("stop")] * len(competition.test_images)
    assert submit(tmp_path / "board.sqlite3", "x", everyone_stop, held_out=scorer).entry.macro_f1 < 0.5


# -- the submission limit --------------------------------------------------------------------------

def test_submissions_per_name_are_limited_and_counted(tmp_path, monkeypatch):
    path = tmp_path / "board.sqlite3"
    monkeypatch.setenv("WORKSHOP_MAX_SUBMISSIONS", "3")
    messages = [submit(path, "Ada", with_mistakes(k)).message for k in (9, 8, 7)]
    assert ["(submission 1 of 3)" in messages[0], "(submission 2 of 3)" in messages[1],
            "(submission 3 of 3)" in messages[2]] == [True] * 3
    with pytest.raises(lb.SubmissionError, match=r"'Ada' has used all 3 submissions .*macro-F1 .*"
                                                 r"WORKSHOP_MAX_SUBMISSIONS"):
        submit(path, "ada", with_mistakes(0))
    entry = lb.leaderboard_entry("Ada", path, competition="toy competition")
    assert entry.submissions == 3 and entry.accuracy == pytest.approx(33 / 40)  # untouched by the refused one

    again = submit(path, "Ada", with_mistakes(7))  # the same predictions as the entry: no new information
    assert again.entry.submissions == 3 and "used no submission" in again.message
    earlier = submit(path, "ADA", with_mistakes(9))  # an earlier submission again (a rerun notebook): none either
    assert earlier.entry.submissions == 3 and earlier.entry.accuracy == pytest.approx(31 / 40)
    assert submit(path, "Ada", with_mistakes(0), limit=0).entry.submissions == 4  # 0: no limit


def test_a_bad_limit_setting_is_explained(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSHOP_MAX_SUBMISSIONS", "ten")
    with pytest.raises(ValueError, match="WORKSHOP_MAX_SUBMISSIONS must be a whole number.*got 'ten'"):
        submit(tmp_path / "board.sqlite3", "Ada", LABELS)
    with pytest.raises(ValueError, match="limit must be a whole number"):
        submit(tmp_path / "board.sqlite3", "Ada", LABELS, limit=-1)


# -- names -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("first, second", [
    ("carol", "carol\u200b"),           # a zero-width space
    ("\u200bcarol\u2060", "Carol"),     # invisible characters around it
    ("émile", "ÉMILE"),                 # case beyond ASCII
    ("e\u0301mile", "émile"),            # e + combining accent = é (NFKC)
    ("ｃａｒｏｌ", "carol"),              # full-width letters (NFKC)
    ("Straße", "STRASSE"),              # case folding, not just lower()
])
def test_names_that_read_the_same_are_one_entry(tmp_path, first, second):
    path = tmp_path / "board.sqlite3"
    submit(path, first, with_mistakes(5))
    result = submit(path, second, with_mistakes(4))
    assert result.replaced and len(names(path)) == 1
    assert "\u200b" not in names(path)[0] and "\u2060" not in names(path)[0]
    assert lb.leaderboard_entry(first, path, competition="toy competition") is not None


def test_a_name_of_invisible_characters_only_is_empty(tmp_path):
    with pytest.raises(lb.SubmissionError, match="the name is empty"):
        submit(tmp_path / "board.sqlite3", "\u200b\u200b", LABELS)


# -- broken board files ------------------------------------------------------------------------------

def make_board(path):
    submit(path, "Ada", with_mistakes(2))
    submit(path, "Bob", with_mistakes(4))


def text_file(path):
    path.write_text("name,score\nAda,0.9\n")


def truncated(path):
    make_board(path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 3])  # a copy cut short


def folder(path):
    path.mkdir()


def other_schema(path):
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE entries (team TEXT, score REAL)")
        connection.execute("INSERT INTO entries VALUES ('Ada', 0.9)")


@pytest.mark.parametrize("breakage, words", [
    (text_file, "is not a readable SQLite file"),
    (truncated, "is not a readable SQLite file"),
    (folder, "is a folder, not a file. Set WORKSHOP_LEADERBOARD"),
    (other_schema, "holds an 'entries' table of another layout"),
], ids=["text", "truncated", "folder", "other-schema"])
def test_a_broken_board_file_gives_one_message_naming_it_and_the_fix(tmp_path, breakage, words):
    path = tmp_path / "board.sqlite3"
    breakage(path)
    for action in (lambda: lb.read_entries(path), lambda: names(path), lambda: submit(path, "Cy", LABELS)):
        with pytest.raises(lb.LeaderboardFileError) as caught:
            action()
        message = str(caught.value)
        assert str(path) in message and words in message
        assert "WORKSHOP_LEADERBOARD" in message or "Move it aside" in message


def test_a_read_only_board_can_be_read_and_says_why_it_cannot_be_written(tmp_path, monkeypatch):
    path = tmp_path / "board.sqlite3"
    make_board(path)
    real_connect = sqlite3.connect

    def read_only_connect(database, *args, **kwargs):
        if not str(database).startswith("file:"):
            database, kwargs["uri"] = f"{path.as_uri()}?mode=ro", True
        return real_connect(database, *args, **kwargs)

    monkeypatch.setattr(lb.sqlite3, "connect", read_only_connect)
    assert names(path) == ["Ada", "Bob"]
    with pytest.raises(lb.LeaderboardFileError, match="cannot be written \\(read-only.*chmod u\\+w.*"
                                                      "WORKSHOP_LEADERBOARD"):
        submit(path, "Cy", LABELS)


@pytest.mark.parametrize("edit", [
    "UPDATE entries SET settings = '{broken' WHERE name = 'Bob'",
    "UPDATE entries SET macro_f1 = 'high' WHERE name = 'Bob'",
    "UPDATE entries SET accuracy = 7 WHERE name = 'Bob'",
    "UPDATE entries SET submissions = 0 WHERE name = 'Bob'",
], ids=["settings", "macro-f1-text", "accuracy-7", "submissions-0"])
def test_one_hand_edited_row_is_left_out_with_a_warning_and_the_rest_readable(tmp_path, edit):
    path = tmp_path / "board.sqlite3"
    make_board(path)
    with sqlite3.connect(path) as connection:
        connection.execute(edit)

    with pytest.warns(UserWarning, match=f"{path}.*damaged row .*'Bob'.*DELETE FROM entries WHERE rowid = 2"):
        assert names(path) == ["Ada"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        replaced = submit(path, "Bob", with_mistakes(1))  # submitting again under that name replaces the row
    assert not replaced.replaced and replaced.rank == 1
    assert names(path) == ["Bob", "Ada"]


def test_a_board_of_the_first_version_is_read_and_upgraded(tmp_path):
    path = tmp_path / "board.sqlite3"
    with sqlite3.connect(path) as connection:  # the schema before the predictions column
        connection.execute(lb.SCHEMA.replace("    predictions   TEXT,\n", ""))
        connection.execute("INSERT INTO entries VALUES ('toy competition', 'Ada', 0.5, 0.5, NULL, NULL, '{}', "
                           "'2026-01-01T00:00:00+00:00', 2)")
    assert names(path) == ["Ada"]
    assert submit(path, "Ada", LABELS).entry.submissions == 3


# -- models --------------------------------------------------------------------------------------------

def test_a_model_whose_outputs_are_all_nan_is_refused_like_nan_predictions(tmp_path):
    import torch
    from torch import nn

    model = nn.Sequential(nn.Flatten(), nn.Linear(48, 4))
    with torch.no_grad():
        model[1].weight.fill_(float("nan"))
    images = torch.rand(40, 3, 4, 4)
    with pytest.raises(lb.SubmissionError, match="outputs contain NaN or infinite values \\(160 of 160 scores\\)"):
        submit(tmp_path / "board.sqlite3", "Ada", model, held_out=toy_held_out(images=images))
    assert not (tmp_path / "board.sqlite3").exists()


def test_a_model_that_edits_its_input_in_place_cannot_change_the_test_images(tmp_path):
    import torch
    from torch import nn

    class Vandal(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(48, 4)

        def forward(self, images):
            images.mul_(0).add_(7)  # in place
            return self.linear(images.flatten(1))

    images = torch.rand(40, 3, 4, 4)
    before = images.clone()
    held_out = toy_held_out(images=images)
    submit(tmp_path / "board.sqlite3", "Ada", Vandal(), held_out=held_out)
    submit(tmp_path / "board.sqlite3", "Bob", Vandal(), held_out=held_out, preprocess=lambda batch: batch.mul_(2))
    assert torch.equal(held_out.images, before)


def test_predictions_on_the_meta_device_are_explained(tmp_path):
    import torch
    from torch import nn

    with pytest.raises(lb.SubmissionError, match="the predictions are on the 'meta' device"):
        submit(tmp_path / "board.sqlite3", "Ada", torch.zeros(40, device="meta"))
    with torch.device("meta"):
        model = nn.Sequential(nn.Flatten(), nn.Linear(48, 4))
    with pytest.raises(lb.SubmissionError, match="the model's weights are on the 'meta' device.*to_empty"):
        submit(tmp_path / "board.sqlite3", "Ada", model, held_out=toy_held_out(images=torch.rand(40, 3, 4, 4)))
    assert not (tmp_path / "board.sqlite3").exists()
