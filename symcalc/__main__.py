"""``python -m symcalc``: the same as the ``symcalc`` command."""

import sys

from .cli import main

sys.exit(main())
