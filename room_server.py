"""Start the instructor's room server (progress grid, competition board, data mirror): `python room_server.py --help`."""

from workshop_utils.room.cli import main

raise SystemExit(main())
