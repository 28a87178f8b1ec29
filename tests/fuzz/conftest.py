"""Fixtures of the fuzz suite; importing ``support`` registers the hypothesis profile.

The emulator runs in the test's own event loop (function scope, started once
per test, not per example): pytest-asyncio runs each hypothesis example of an
``async def`` property in that loop, so every example reuses the one server,
and nothing outlives the test (the Home Assistant plugin checks for stray
threads, tasks and timers after each test).
"""

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from emulator.testing import RunningEmulator, run_emulator

from . import support  # noqa: F401 - registers the profile before any test module uses it


@pytest.fixture
async def emu(socket_enabled: None, tmp_path: Path) -> AsyncIterator[RunningEmulator]:
    """A running emulator with a fresh data directory."""
    async with run_emulator(tmp_path / "emulator") as running:
        yield running


@pytest.fixture
async def http(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    """A plain aiohttp session (no cookies kept between examples)."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        yield session
