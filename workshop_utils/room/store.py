"""The room's memory: attendees' checker results and competition scores, in one SQLite file.

One file, so that the instructor can stop the server (or the laptop can sleep) and start it again
without losing the room: the room code, every result and every score are read back on restart.
Only what the pages need is kept: a name, an exercise number, passed or not, a time; never code or data.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..names import display_name, name_key

SCHEMA_VERSION = "1"
EXERCISE_ID = re.compile(r"^\d\d\.\d{1,2}$")  # the series' exercise numbers: 03.5, 08.12
ROOM_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read off a projector
ROOM_CODE_LENGTH = 6

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS attendees (
    key TEXT PRIMARY KEY, display TEXT NOT NULL, first_seen REAL NOT NULL, last_seen REAL NOT NULL);
CREATE TABLE IF NOT EXISTS progress (
    key TEXT NOT NULL, exercise TEXT NOT NULL, passed INTEGER NOT NULL, attempts INTEGER NOT NULL,
    first_passed REAL, updated REAL NOT NULL, PRIMARY KEY (key, exercise));
CREATE TABLE IF NOT EXISTS submissions (
    key TEXT PRIMARY KEY, count INTEGER NOT NULL, best_f1 REAL NOT NULL, best_accuracy REAL NOT NULL,
    last_f1 REAL NOT NULL, updated REAL NOT NULL);
"""


class RoomStoreError(RuntimeError):
    """The room file cannot be used; the message names the file and what to do."""


class InvalidExercise(ValueError):
    """An exercise id that is not one of the series' numbers (``NN.k``)."""


class SubmissionLimitReached(RuntimeError):
    """This attendee has used every submission the room allows."""


@dataclass(frozen=True)
class SubmissionResult:
    """What an attendee is told after a scored submission."""

    name: str
    macro_f1: float
    accuracy: float
    best_f1: float
    rank: int
    used: int
    limit: int


def new_room_code() -> str:
    """A short random code to put on the projector; every request to the room must carry it."""
    return "".join(secrets.choice(ROOM_CODE_ALPHABET) for _ in range(ROOM_CODE_LENGTH))


def check_exercise(exercise: object) -> str:
    """``exercise`` if it is an exercise number such as ``03.5``; otherwise :class:`InvalidExercise`."""
    if not isinstance(exercise, str) or not EXERCISE_ID.match(exercise):
        raise InvalidExercise(f"exercise must be a number such as '03.5', got {exercise!r}")
    return exercise


class RoomStore:
    """Attendees' progress and scores in one SQLite file; safe to share between the server's threads."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=10)
            with self._db:
                self._db.executescript(_SCHEMA)
                version = self._meta("schema")
                if version is None:
                    self._set_meta("schema", SCHEMA_VERSION)
                elif version != SCHEMA_VERSION:
                    raise RoomStoreError(f"{self.path} was written by another version of the room server "
                                         f"(schema {version}); start with another --db file.")
        except (sqlite3.DatabaseError, OSError) as error:
            raise RoomStoreError(
                f"Cannot use {self.path} as the room's file ({error}). If it is not a room file, or it is damaged, "
                "start the server with another --db path (the old file is left as it is).") from None

    # -- meta ------------------------------------------------------------------------------------------

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def room_code(self, *, renew: bool = False) -> str:
        """The room's code: the one kept in the file (so a restarted server keeps it), or a new one."""
        with self._lock, self._db:
            code = self._meta("room_code")
            if code is None or renew:
                code = new_room_code()
                self._set_meta("room_code", code)
            return code

    # -- progress --------------------------------------------------------------------------------------

    def _touch(self, key: str, display: str, now: float) -> None:
        self._db.execute(
            "INSERT INTO attendees (key, display, first_seen, last_seen) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET last_seen = excluded.last_seen", (key, display, now, now))

    def record_progress(self, name: object, exercise: object, passed: bool, *, now: float | None = None) -> None:
        """Remember one checker result. A pass stays a pass: a later failed re-run does not undo it."""
        display, key, exercise = display_name(name), name_key(name), check_exercise(exercise)
        now = time.time() if now is None else now
        with self._lock, self._db:
            self._touch(key, display, now)
            self._db.execute(
                "INSERT INTO progress (key, exercise, passed, attempts, first_passed, updated) VALUES (?, ?, ?, 1, ?, ?) "
                "ON CONFLICT(key, exercise) DO UPDATE SET attempts = attempts + 1, "
                "passed = MAX(passed, excluded.passed), "
                "first_passed = COALESCE(first_passed, excluded.first_passed), updated = excluded.updated",
                (key, exercise, int(bool(passed)), now if passed else None, now))

    def progress(self) -> dict:
        """The grid: attendees (by first seen), exercises (in order), each cell, and passes per exercise."""
        with self._lock:
            people = self._db.execute("SELECT key, display FROM attendees ORDER BY first_seen, key").fetchall()
            rows = self._db.execute("SELECT key, exercise, passed, attempts FROM progress").fetchall()
        names = dict(people)
        exercises = sorted({exercise for _, exercise, _, _ in rows}, key=lambda e: tuple(int(p) for p in e.split(".")))
        cells: dict[str, dict[str, dict]] = {names[key]: {} for key, _ in people}
        passes = dict.fromkeys(exercises, 0)
        for key, exercise, passed, attempts in rows:
            cells[names[key]][exercise] = {"passed": bool(passed), "attempts": attempts}
            passes[exercise] += int(bool(passed))
        return {"attendees": [names[key] for key, _ in people], "exercises": exercises, "cells": cells,
                "passes": passes}

    # -- competition -----------------------------------------------------------------------------------

    def submissions_used(self, name: object) -> int:
        with self._lock:
            row = self._db.execute("SELECT count FROM submissions WHERE key = ?", (name_key(name),)).fetchone()
        return row[0] if row else 0

    def record_submission(self, name: object, macro_f1: float, accuracy: float, *, limit: int,
                          now: float | None = None) -> SubmissionResult:
        """Count and keep one scored submission (the best one ranks); refuse it past ``limit``."""
        display, key = display_name(name), name_key(name)
        now = time.time() if now is None else now
        with self._lock, self._db:
            row = self._db.execute("SELECT count, best_f1, best_accuracy FROM submissions WHERE key = ?",
                                   (key,)).fetchone()
            used = row[0] if row else 0
            if used >= limit:
                raise SubmissionLimitReached(f"{display} has used all {limit} submissions of this room")
            best_f1, best_accuracy = (row[1], row[2]) if row else (-1.0, -1.0)
            if macro_f1 > best_f1:
                best_f1, best_accuracy = macro_f1, accuracy
            self._touch(key, display, now)
            self._db.execute(
                "INSERT OR REPLACE INTO submissions (key, count, best_f1, best_accuracy, last_f1, updated) "
                "VALUES (?, ?, ?, ?, ?, ?)", (key, used + 1, best_f1, best_accuracy, macro_f1, now))
            rank = 1 + self._db.execute("SELECT COUNT(*) FROM submissions WHERE best_f1 > ?", (best_f1,)).fetchone()[0]
        return SubmissionResult(display, macro_f1, accuracy, best_f1, rank, used + 1, limit)

    def board(self) -> list[dict]:
        """Every attendee's best submission, best first (ties: the earlier one first)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT a.display, s.best_f1, s.best_accuracy, s.count, s.updated FROM submissions s "
                "JOIN attendees a ON a.key = s.key ORDER BY s.best_f1 DESC, s.updated ASC").fetchall()
        return [{"rank": rank, "name": name, "macro_f1": f1, "accuracy": accuracy, "submissions": count}
                for rank, (name, f1, accuracy, count, _) in enumerate(rows, start=1)]

    def close(self) -> None:
        with self._lock:
            self._db.close()
