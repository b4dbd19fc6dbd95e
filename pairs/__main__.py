"""``python -m pairs``: the command line of :mod:`pairs.cli`."""

import sys

from pairs.cli import main

if __name__ == "__main__":
    sys.exit(main())
