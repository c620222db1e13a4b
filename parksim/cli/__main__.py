"""`python -m parksim.cli ...`: the `parksim` command."""

import sys

from parksim.cli import main

sys.exit(main())
