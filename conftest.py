"""Collection rules for the whole repository (tests/conftest.py holds the tests' fixtures).

The PyTorch bridge's docstring examples run PyTorch, and ``conv1x1/torch_modules.py`` imports it: where
PyTorch is not installed (it is never a dependency) pytest's ``--doctest-modules`` does not collect them.
tests/test_torch_bridge.py runs where PyTorch is, and CI installs it for its second pass.
"""

import importlib.util

collect_ignore = [] if importlib.util.find_spec("torch") else ["conv1x1/torch_bridge.py", "conv1x1/torch_modules.py"]
