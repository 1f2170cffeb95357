"""``python -m gridplan`` runs the ``gridplan`` command line."""

import sys

from gridplan.cli.main import main

sys.exit(main())
