import sys

from salesgoals.cli import main

sys.exit(main())
