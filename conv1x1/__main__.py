"""``python -m conv1x1``: the tour, or a command (``python -m conv1x1 --help``); see ``conv1x1.course.cli``."""
from conv1x1.course.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
