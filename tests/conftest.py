"""Settings of the whole suite, whatever part of it runs."""

import pytest


def pytest_deselected(items: list[pytest.Item]) -> None:
    """Report, not fail on, the snapshots of tests that -k, -m or --deselect left out.

    Unused snapshots still fail a run of whole files; a run that deselects tests would otherwise
    fail on the snapshots of exactly the tests it was asked to leave out.
    """
    if items:
        items[0].config.option.warn_unused_snapshots = True
