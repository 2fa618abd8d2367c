"""``python data_download.py``: list, download, verify and serve the workshop's data.

Typical use::

    python data_download.py list                     # what exists, how big, what is cached
    python data_download.py download                 # everything downloadable (before the workshop);
                                                     # also what plain `python data_download.py` does
    python data_download.py download fashion-mnist   # one data set
    python data_download.py verify                   # re-hash the cache; exit 1 if anything is wrong
    python data_download.py serve --bind 0.0.0.0     # a room mirror for bad conference Wi-Fi

Global options (before or after the command): ``--data-dir DIR`` and ``--mirror URL`` set
``WORKSHOP_DATA_DIR`` and ``WORKSHOP_MIRROR`` for this run. Exit status: 0 success, 1 a data problem
(message, no traceback), 2 a usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import os
import shutil
import socket
import sys
import urllib.parse
from pathlib import Path
from typing import Iterator

from .. import config
from . import download
from .download import DataUnavailable
from .manifest import DATASETS, downloadable_names, get_dataset_info


# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------

@contextlib.contextmanager
def _environment(overrides: dict[str, str | None]) -> Iterator[None]:
    """Set the given environment variables (None: leave alone) for the block, then restore them."""
    saved = {name: os.environ.get(name) for name, value in overrides.items() if value is not None}
    try:
        for name, value in overrides.items():
            if value is not None:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _size_text(size: int, exact: bool) -> str:
    if size == 0:
        return "-"
    if size >= 100e6:
        text = f"{size / 1e6:.0f} MB"
    else:
        text = f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.0f} kB"
    return text if exact else f"~{text}"


def _print_table(rows: list[list[str]]) -> None:
    """Print ``rows`` (the first is the header) in aligned columns; the last column is not padded."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths)] + [row[-1]]
        print("  ".join(cells).rstrip())


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------
# list / download / verify
# --------------------------------------------------------------------------------------------------

def _cmd_list(args: argparse.Namespace, names: list[str]) -> int:
    rows = [["name", "kind", "size", "status", "license", "source"]]
    for name in names:
        info = get_dataset_info(name)
        status = download.cache_status(name, verify=False)
        exact = all(remote.size_exact for remote in info.files)
        rows.append([name, info.kind, _size_text(info.download_size, exact), status.summary,
                     info.license, info.source])
    _print_table(rows)
    print()
    print(f"cache:   {config.data_dir()}  (WORKSHOP_DATA_DIR)")
    if any(get_dataset_info(name).kind == "weights" for name in names):
        print(f"weights: {download.torch_checkpoints_dir()}  (TORCH_HOME)")
    print(f"mirror:  {config.mirror_url() or 'not set'}  (WORKSHOP_MIRROR)")
    if config.offline():
        print("offline: WORKSHOP_OFFLINE=1, nothing will be downloaded")
    print("'cached' = present, not re-hashed: run `verify` to re-hash everything.")
    return 0


def _cmd_download(args: argparse.Namespace, names: list[str]) -> int:
    failed: list[str] = []
    for name in names:
        info = get_dataset_info(name)
        if info.kind == "bundled":
            print(f"{name}: bundled, nothing to download ({info.source})")
            continue
        try:
            if info.kind == "weights":
                download.fetch_weights(name, progress=args.progress)
            else:
                download.fetch_dataset(name, progress=args.progress)
        except DataUnavailable as error:
            _error(str(error))
            failed.append(name)
    done = len([name for name in names if get_dataset_info(name).downloadable]) - len(failed)
    if failed:
        print(f"\n{done} ready, {len(failed)} failed: {', '.join(failed)} (see the messages above)")
        return 1
    if done:
        print(f"\nAll ready ({done} downloadable entr{'y' if done == 1 else 'ies'}).")
    return 0


def _cmd_verify(args: argparse.Namespace, names: list[str]) -> int:
    problems: list[str] = []
    for name in names:
        status = download.cache_status(name, verify=True)
        if status.kind == "bundled":
            print(f"{name}: bundled, nothing to verify")
            continue
        for file_status in status.files:
            detail = f" ({file_status.detail})" if file_status.detail else ""
            where = "" if file_status.ok else f" at {file_status.path}"
            print(f"{name}/{file_status.name}: {file_status.state.upper() if not file_status.ok else file_status.state}"
                  f"{detail}{where}")
        for problem in status.layout_problems:
            print(f"{name}: {problem} (in {status.folder})")
        if status.layout_checked:
            print(f"{name}: extracted data complete in {status.folder}")
        if not status.ok:
            problems.append(f"{name} ({status.summary})")
    if problems:
        print(f"\nNot ready: {', '.join(problems)}. "
              f"Run `python data_download.py download NAME` to fetch what is missing or corrupt.")
        return 1
    print("\nEverything checked is ready.")
    return 0


# --------------------------------------------------------------------------------------------------
# serve: a room mirror
# --------------------------------------------------------------------------------------------------

def mirror_routes(data_root: Path, checkpoints: Path) -> dict[str, Path]:
    """URL path -> cache file, for every manifest file: ``/<data set>/<file>``, the layout ``fetch_file`` asks for."""
    routes = {}
    for info in DATASETS.values():
        folder = checkpoints if info.kind == "weights" else data_root / info.name
        for remote in info.files:
            routes[f"/{info.name}/{remote.name}"] = folder / remote.name
    return routes


class MirrorServer(http.server.ThreadingHTTPServer):
    """An HTTP server of the cached manifest files (and nothing else: no directory listings)."""

    daemon_threads = True  # a stuck client must not keep the process alive after Ctrl+C

    def __init__(self, address: tuple[str, int], routes: dict[str, Path], *, quiet: bool = False):
        self.routes = routes
        self.quiet = quiet
        super().__init__(address, _MirrorHandler)

    def available(self) -> dict[str, Path]:
        """The routes whose file is in the cache now."""
        return {route: path for route, path in self.routes.items() if path.is_file()}


class _MirrorHandler(http.server.BaseHTTPRequestHandler):
    server: MirrorServer
    server_version = "workshop-mirror/0.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._respond(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._respond(send_body=False)

    def _respond(self, *, send_body: bool) -> None:
        route = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        if route in {"/", "/index.txt"}:
            self._send_index(send_body)
            return
        path = self.server.routes.get(route)
        if path is None or not path.is_file():
            self.send_error(404, "not in this mirror's cache")
            return
        with open(path, "rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            if send_body:
                shutil.copyfileobj(stream, self.wfile, length=1 << 20)

    def _send_index(self, send_body: bool) -> None:
        lines = ["Workshop data mirror. Files:"]
        lines += [f"{route}  {path.stat().st_size:,} bytes" for route, path in self.server.available().items()]
        body = ("\n".join(lines) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's signature)
        if not self.server.quiet:
            print(f"{self.client_address[0]} {format % args}", file=sys.stderr, flush=True)


def make_mirror_server(bind: str = "127.0.0.1", port: int = 8000, *, quiet: bool = False) -> MirrorServer:
    """A mirror server of the current cache (``config.data_dir()`` and torch's checkpoints), not yet serving."""
    routes = mirror_routes(config.data_dir(), download.torch_checkpoints_dir())
    return MirrorServer((bind, port), routes, quiet=quiet)


def _room_address(bind: str) -> str:
    """The address attendees should use: ``bind`` itself, or this machine's LAN address for 0.0.0.0."""
    if bind not in {"", "0.0.0.0", "::"}:
        return bind
    try:
        # Connecting a UDP socket sends nothing; it only asks the OS which interface it would use.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            return probe.getsockname()[0]
    except OSError:
        return "<this-machine's-ip>"


def _cmd_serve(args: argparse.Namespace, names: list[str]) -> int:
    for name in names:
        download.ensure_mirror_archive(name)
    try:
        server = make_mirror_server(args.bind, args.port)
    except OSError as error:
        _error(f"cannot listen on {args.bind}:{args.port} ({error.strerror or error}); "
               f"choose another port with --port")
        return 1
    with server:
        port = server.server_address[1]
        available = server.available()
        print(f"Serving {len(available)} cached file(s) from {config.data_dir()} on http://{args.bind}:{port}/")
        for route in available:
            print(f"  {route}")
        if not available:
            print("  (nothing cached yet: run `python data_download.py download` first)")
        mirror = f"http://{_room_address(args.bind)}:{port}"
        print(f"\nAttendees set:   export WORKSHOP_MIRROR={mirror}")
        print(f"or in a notebook: %env WORKSHOP_MIRROR={mirror}")
        if args.bind in {"127.0.0.1", "localhost", "::1"}:
            print("(bound to this machine only: use --bind 0.0.0.0 to serve the room)")
        print("Press Ctrl+C to stop.", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("\nMirror stopped.")
    return 0


# --------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------

def _port(text: str) -> int:
    """argparse type of --port: a whole number from 0 to 65535, else a usage error saying so."""
    if not text.strip().isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port: give a whole number from 1 to 65535 "
                                         "(e.g. --port 8000; ports below 1024 need administrator rights; "
                                         "0 picks a free one)")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``data_download.py``."""
    # The global options are accepted before and after the command (SUPPRESS keeps a later
    # position from resetting an earlier one to None).
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS,
                        help="cache folder for this run (sets WORKSHOP_DATA_DIR)")
    shared.add_argument("--mirror", metavar="URL", default=argparse.SUPPRESS,
                        help="room mirror tried first, e.g. http://10.0.0.5:8000 (sets WORKSHOP_MIRROR)")

    parser = argparse.ArgumentParser(
        description="Download, verify and serve the workshop's data sets and pretrained weights.",
        epilog=f"Known names: {', '.join(DATASETS)}", parents=[shared])
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    listing = commands.add_parser("list", parents=[shared], help="table of data sets, sizes, licences, cache status")
    listing.add_argument("names", nargs="*", metavar="NAME", help="entries to show (default: all)")
    listing.set_defaults(handler=_cmd_list, default_names=list(DATASETS))

    fetching = commands.add_parser("download", parents=[shared], help="download and verify (default: everything)")
    fetching.add_argument("names", nargs="*", metavar="NAME", help="entries to download (default: all downloadable)")
    fetching.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")
    fetching.set_defaults(handler=_cmd_download, default_names=downloadable_names())

    verifying = commands.add_parser("verify", parents=[shared], help="re-hash the cache; exit 1 if anything is wrong")
    verifying.add_argument("names", nargs="*", metavar="NAME", help="entries to check (default: all downloadable)")
    verifying.set_defaults(handler=_cmd_verify, default_names=downloadable_names())

    serving = commands.add_parser("serve", parents=[shared], help="serve the cache over HTTP as a room mirror")
    serving.add_argument("--port", type=_port, default=8000,
                         help="TCP port, 1 to 65535 (default 8000; 0: any free port)")
    serving.add_argument("--bind", default="127.0.0.1",
                         help="address to listen on (default 127.0.0.1; 0.0.0.0 for the whole room)")
    serving.set_defaults(handler=_cmd_serve, names=[], default_names=downloadable_names())
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``data_download.py`` with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_request:  # argparse: 2 for usage errors, 0 for --help
        return exit_request.code if isinstance(exit_request.code, int) else 2
    if not getattr(args, "command", None):  # plain `python data_download.py`: the instructor's prefetch
        print("No command given: downloading everything (`--help` shows list, verify and serve).")
        args = parser.parse_args([*(argv if argv is not None else sys.argv[1:]), "download"])
    names = list(dict.fromkeys(args.names)) or args.default_names
    unknown = [name for name in names if name not in DATASETS]
    if unknown:
        parser.print_usage(sys.stderr)
        _error(f"unknown name(s): {', '.join(unknown)}; known names: {', '.join(DATASETS)}")
        return 2
    overrides = {"WORKSHOP_MIRROR": getattr(args, "mirror", None), "WORKSHOP_DATA_DIR": getattr(args, "data_dir", None)}
    with _environment(overrides):
        try:
            return args.handler(args, names)
        except DataUnavailable as error:
            _error(str(error))
            return 1
        except OSError as error:  # e.g. an unwritable or full cache while packing the mirror's zip
            _error(f"{error.strerror or error}: {getattr(error, 'filename', '') or ''}\n"
                   "Check that the cache folder is writable and has room, or choose another with --data-dir.")
            return 1
        except KeyboardInterrupt:
            _error("interrupted")
            return 130
