"""``python -m axis`` is the ``axis`` command."""

import sys

from axis.cli import main

sys.exit(main())
