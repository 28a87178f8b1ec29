"""Fixtures of the emulator's tests: a running emulator and a raw client on 127.0.0.1."""

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from emu_helpers import activate
from raw_client import Device, RawClient

from emulator.testing import RunningEmulator, run_emulator
from mtoken.encoding import b64decode


@pytest.fixture
async def emu(socket_enabled: None, tmp_path: Path) -> AsyncIterator[RunningEmulator]:
    """A running emulator with a fresh data directory."""
    async with run_emulator(tmp_path / "emulator") as running:
        yield running


@pytest.fixture
async def http(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    """A plain aiohttp session."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def client(http: aiohttp.ClientSession, emu: RunningEmulator) -> RawClient:
    """The raw client, configured for the emulator."""
    return RawClient(http, emu.url, emu.app_key, emu.app_secret, b64decode(emu.master_public_key))


@pytest.fixture
async def device(client: RawClient, emu: RunningEmulator) -> Device:
    """An ACTIVE activation of USER_ID."""
    return await activate(client, emu)
