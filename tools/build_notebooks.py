#!/usr/bin/env python
"""Generate the student notebooks and the README's table of notebooks from the reference solutions.

    python tools/build_notebooks.py            # normalize solutions/ in place, write notebooks/ and
                                               # the table between README.md's notebook-table markers
    python tools/build_notebooks.py --check    # write nothing; exit 1 if anything is out of date

Sources are ``solutions/NN_name.ipynb``; see docs/AUTHORING.md for the markers and tags.
The Colab badges, install cells and the README table's links come from ``[tool.workshop]`` in
pyproject.toml. Only files whose text changes are written, each atomically.

Exit status: 0 all fresh (or built), 1 ``--check`` found stale, missing or orphaned files or a stale
README table, 2 a source notebook, the setting or README.md's markers are broken (nothing was written).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# Works from a plain checkout too, without `pip install -e .`.
sys.path.insert(0, str(REPO_ROOT))

from workshop_utils.authoring import BUILD_COMMAND, AuthoringError, build_tree, check_tree  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Run the build or the check; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true",
                        help="write nothing; list every out-of-date file and exit 1 if there is any")
    parser.add_argument("--root", type=Path, default=REPO_ROOT,
                        help="repository root holding pyproject.toml, README.md, solutions/ and notebooks/ "
                             "(default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        if args.check:
            return _check(args.root)
        actions = build_tree(args.root)
    except AuthoringError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("\n".join(actions) if actions else "Everything is up to date; nothing written.")
    return 0


def _check(root: Path) -> int:
    problems = check_tree(root)
    if not problems:
        print("All notebooks and the README table are up to date.")
        return 0
    errors = [problem for problem in problems if problem.startswith("error: ")]
    print(f"{len(problems)} problem(s) in {root}:", file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
    if errors:
        print("Fix the files named above, then run: " + BUILD_COMMAND, file=sys.stderr)
        return 2
    print(f"Fix: run `{BUILD_COMMAND}` and commit solutions/, notebooks/ and README.md.", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
