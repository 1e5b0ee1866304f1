"""``python -m salesgoals``: the command line (see :mod:`salesgoals.cli`)."""

import sys

from salesgoals.cli import main

sys.exit(main())
