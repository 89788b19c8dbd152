"""`python -m summitcol` = the `summitcol` command."""

import sys

from summitcol.cli import main

sys.exit(main())
