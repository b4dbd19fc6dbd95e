"""``python -m pairs``: the command line of :mod:`cli.pairs`."""

import sys

from cli.pairs import main

if __name__ == "__main__":
    sys.exit(main())
