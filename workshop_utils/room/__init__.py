"""The instructor's room server: live progress of a laptop room and fair competition scoring.

``python room_server.py`` (see :mod:`workshop_utils.room.cli`) starts it; attendees opt in with
``WORKSHOP_ROOM`` and ``WORKSHOP_NAME``. Modules: ``names`` (one attendee, one entry), ``store`` (the
SQLite file), ``server`` (HTTP, limits, pages), ``client`` (what a notebook sends), ``pages`` (the HTML).
"""

from .client import RoomError, report_checker_result, submit_to_room
from ..names import InvalidName, display_name, name_key
from .store import RoomStore, RoomStoreError

__all__ = ["RoomError", "RoomStore", "RoomStoreError", "InvalidName", "display_name", "name_key",
           "report_checker_result", "submit_to_room"]
