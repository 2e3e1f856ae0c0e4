"""``python -m conv1x1.exercises ...``: the same as ``python -m conv1x1 exercises ...``."""

import sys

from .cli import main

sys.exit(main())
