"""Fixtures for the library's end-to-end tests: a real emulator on 127.0.0.1."""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from emulator.testing import run_emulator
from mtoken.app_config import parse_config_string
from mtoken.operations import MobileTokenClient
from mtoken.session import PowerAuthSession
from mtoken.state import ActivationState

PIN = "1234"
USER_ID = "alice"


@dataclass
class Device:
    """A mobile token under test, with every state it persisted."""

    client: MobileTokenClient
    emu: Any
    http: aiohttp.ClientSession
    saved: list[dict[str, Any]] = field(default_factory=list)

    @property
    def session(self) -> PowerAuthSession:
        return self.client.session

    def reopen(self, state: dict[str, Any] | None = None, url: str | None = None) -> "Device":
        """A new session over the same (or an older) persisted state."""
        return make_device(
            self.http,
            self.emu,
            ActivationState.from_dict(state or self.saved[-1]),
            url=url,
        )


def make_device(
    http: aiohttp.ClientSession,
    emu: Any,
    state: ActivationState | None = None,
    url: str | None = None,
) -> Device:
    saved: list[dict[str, Any]] = []

    async def persist(data: dict[str, Any]) -> None:
        saved.append(data)

    session = PowerAuthSession(
        http, url or emu.url, parse_config_string(emu.app_config), state=state, persist=persist
    )
    return Device(MobileTokenClient(session), emu, http, saved)


@pytest.fixture
async def emu(socket_enabled: None, tmp_path: Path) -> AsyncIterator[Any]:
    async with run_emulator(tmp_path / "emulator") as running:
        yield running


@pytest.fixture
async def http(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def device(emu: Any, http: aiohttp.ClientSession) -> Device:
    """An ACTIVE activation of USER_ID with PIN and the biometry factor."""
    created = await emu.admin.create_activation_code(USER_ID)
    dev = make_device(http, emu)
    await dev.session.server_time()
    result = await dev.session.create_activation(
        created["activationCode"], PIN, name="Test", allow_biometry=True
    )
    assert result.status.status == "active"
    return dev


async def payment(emu: Any, **overrides: Any) -> dict[str, Any]:
    """A 2FA payment for USER_ID."""
    return dict(await emu.admin.create_payment(USER_ID, **overrides))
