"""``python -m gridplan`` runs the ``gridplan`` command line."""

import sys

from gridplan.cli import main

sys.exit(main())
