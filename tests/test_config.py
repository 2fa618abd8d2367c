"""Settings read from environment variables (workshop_utils.config)."""

from pathlib import Path

from workshop_utils import config


def test_leaderboard_lives_in_the_data_dir_unless_set(monkeypatch, tmp_path):
    monkeypatch.delenv("WORKSHOP_LEADERBOARD", raising=False)
    monkeypatch.setenv("WORKSHOP_DATA_DIR", str(tmp_path / "cache"))
    assert config.leaderboard_path() == (tmp_path / "cache" / "leaderboard.sqlite3").resolve()

    monkeypatch.setenv("WORKSHOP_LEADERBOARD", str(tmp_path / "room" / "board.sqlite3"))
    assert config.leaderboard_path() == (tmp_path / "room" / "board.sqlite3").resolve()
    assert not (tmp_path / "room").exists(), "reading the setting must not create anything"


def test_leaderboard_setting_expands_the_home_folder(monkeypatch):
    monkeypatch.setenv("WORKSHOP_LEADERBOARD", "~/board.sqlite3")
    assert config.leaderboard_path() == (Path.home() / "board.sqlite3").resolve()
