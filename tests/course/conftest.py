"""The ``slow`` marker, registered here too so that this folder's slow tests collect under ``--strict-markers``
wherever pyproject.toml does not (yet) register it; registering it twice is harmless."""


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a test that takes long (run them with `python -m pytest -m slow`)")
