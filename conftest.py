"""Collection rules for the whole repository (tests/conftest.py holds the tests' fixtures).

The PyTorch bridge's docstring examples run PyTorch, and ``conv1x1/bridge/modules.py`` imports it: where
PyTorch is not installed (it is never a dependency) pytest's ``--doctest-modules`` does not collect them.
tests/bridge/test_bridge.py runs where PyTorch is, and CI installs it for its second pass.
"""

import importlib.util

collect_ignore = [] if importlib.util.find_spec("torch") else ["conv1x1/bridge/convert.py", "conv1x1/bridge/modules.py"]
