"""``python -m miniflow ...``: the same as the ``miniflow`` command."""

import sys

from miniflow.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
