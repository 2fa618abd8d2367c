"""``python room_server.py``: start the room server for a laptop room (see docs/INSTRUCTORS.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import config
from .server import RoomServer
from .store import RoomStore, RoomStoreError

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0-65535; 0 picks a free one)")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="room_server.py",
        description="Serve a workshop room: live progress of every attendee's exercises, a competition board "
                    "scored on held-out labels that never leave this machine, and the data mirror.")
    parser.add_argument("--bind", default="127.0.0.1",
                        help="address to listen on (default: this machine only; 0.0.0.0 serves the room's network)")
    parser.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    parser.add_argument("--db", type=Path, default=None,
                        help="the room's SQLite file (default: room.sqlite3 in the data folder); a restart with "
                             "the same file keeps the code, the progress and the board")
    parser.add_argument("--new-code", action="store_true", help="draw a new room code instead of the file's")
    parser.add_argument("--competition", action="store_true",
                        help="also run notebook 08's competition, scored here on the held-out split")
    parser.add_argument("--submissions", type=int, default=10, help="submissions allowed per attendee (default 10)")
    return parser


def _held_out():
    from ..leaderboard import road_sign_held_out

    return road_sign_held_out()


def _mirror_routes() -> dict[str, Path]:
    from ..data import download
    from ..data.cli import mirror_routes

    return mirror_routes(config.data_dir(), download.torch_checkpoints_dir())


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.submissions < 1:
        print("error: --submissions must be at least 1", file=sys.stderr)
        return 2
    db = args.db or config.data_dir() / "room.sqlite3"
    try:
        store = RoomStore(db)
    except RoomStoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    code = store.room_code(renew=args.new_code)
    held_out = _held_out() if args.competition else None
    try:
        server = RoomServer((args.bind, args.port), store, code=code, held_out=held_out,
                            mirror_routes=_mirror_routes(), submission_limit=args.submissions, quiet=False)
    except OSError as error:
        print(f"error: cannot listen on {args.bind}:{args.port} ({error.strerror or error}); choose another "
              "port with --port", file=sys.stderr)
        return 1
    from ..data.cli import _room_address

    with server:
        address = f"http://{_room_address(args.bind)}:{server.server_address[1]}/{code}"
        print(f"Room code: {code}    (kept in {db})")
        print(f"Put this on the screen:   {address}/")
        print(f"Progress grid:            {address}/progress")
        if held_out is not None:
            print(f"Competition board:        {address}/board   ({len(held_out)} held-out images, "
                  f"{args.submissions} submissions each)")
        print("\nAttendees run, before starting JupyterLab (or with %env in a notebook):")
        print(f"  export WORKSHOP_ROOM={address}  WORKSHOP_NAME=<their name>  WORKSHOP_MIRROR={address}")
        if args.bind in LOOPBACK:
            print("(bound to this machine only: use --bind 0.0.0.0 to serve the room's network)")
        print("Colab cannot reach a room's local network: Colab attendees use the W&B room board (notebook 08).")
        print("Press Ctrl+C to stop; the room file keeps everything for the next start.", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("\nRoom server stopped.")
        finally:
            store.close()
    return 0
