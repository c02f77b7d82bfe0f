"""`python -m hall.cli …` runs the `hall` command line."""

import sys

from hall.cli import main

sys.exit(main())
