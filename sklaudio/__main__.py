"""``python -m sklaudio``: the command line (see :mod:`sklaudio.cli`)."""

import sys

from sklaudio.cli import main

if __name__ == "__main__":
    sys.exit(main())
