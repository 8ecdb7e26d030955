"""``python -m gscsd`` is the ``gscsd`` command."""

import sys

from .cli import main

sys.exit(main())
