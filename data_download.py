"""Download, verify and serve the workshop's data: `python data_download.py --help`."""

from workshop_utils.data.cli import main

raise SystemExit(main())
