"""A small stand-in for the server, for tests where the emulator adds nothing.

Entity snapshots and the coordinator's bookkeeping need operations and an
activation status, not signatures: these fakes answer from the recorded
fixtures through the library's own parsers, so the operations are the real
model objects. Anything that signs stays with the emulator tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from unittest.mock import patch

from homeassistant.const import CONF_NAME, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.mobile_token.const import (
    CONF_ACTIVATION_ID,
    CONF_ALLOW_BIOMETRY,
    CONF_APP_CONFIG,
    DOMAIN,
)
from custom_components.mobile_token.mtoken.inbox import InboxMessage
from custom_components.mobile_token.mtoken.model import Operation, parse_operation_list
from custom_components.mobile_token.mtoken.session import ActivationStatusInfo
from custom_components.mobile_token.mtoken.timesync import ServerClock

FIXTURES = Path(__file__).parents[1] / "fixtures" / "operations"
ENTRY_ID = "01JFAKEMOBILETOKENENTRY00"
ACTIVATION_ID = "c1d2e3f4-0000-4000-8000-000000000001"
# A well-formed configuration string (the master key is the curve's generator point);
# nothing is signed with it here.
APP_CONFIG = (
    "ARBhcHAta2V5LTE2Ynl0ZXMhEGFwcC1zZWNyZXQtMTZieXQB"
    "ASEDaxfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpY="
)


def fixture_operations(name: str = "list-payment-login.json") -> list[Operation]:
    """The operations of a recorded list response."""
    body = json.loads((FIXTURES / name).read_text("utf-8"))
    return parse_operation_list(body["responseObject"])


@dataclass
class FakeState:
    """The little of the activation state the entities read."""

    has_biometry_key: bool = False


@dataclass
class FakeSession:
    """Answers the status and time requests the coordinator makes."""

    status: ActivationStatusInfo = field(
        default_factory=lambda: ActivationStatusInfo("active", 0, 5)
    )
    state: FakeState = field(default_factory=FakeState)
    clock: ServerClock = field(default_factory=ServerClock)
    language: str = "en"
    last_status: ActivationStatusInfo | None = None
    closed: bool = False

    async def server_time(self) -> int:
        """The server's time is ours."""
        self.clock.synchronized = True
        return self.clock.now_ms()

    async def fetch_status(self) -> ActivationStatusInfo:
        """The configured activation status."""
        self.last_status = self.status
        return self.status

    async def close(self) -> None:
        """Nothing in flight to wait for."""
        self.closed = True


@dataclass
class FakeClient:
    """Lists the configured pending operations."""

    session: FakeSession
    operations: list[Operation] = field(default_factory=list)
    list_calls: int = 0

    async def list_operations(self) -> list[Operation]:
        """The pending operations as the server would list them."""
        self.list_calls += 1
        return list(self.operations)


@dataclass
class FakeInbox:
    """An inbox with no messages (the inbox has tests of its own against the emulator)."""

    unread: int = 0

    async def unread_count(self) -> int:
        """The configured unread count."""
        return self.unread

    async def messages(self, page: int = 0, size: int = 50) -> list[InboxMessage]:
        """No messages."""
        return []


@contextmanager
def fake_server(client: FakeClient) -> Iterator[FakeClient]:
    """Set entries up with ``client`` and its session instead of a real server."""

    with (
        # The session the stored activation needs (3.3 or 4.0): here, the fake one.
        patch(
            "custom_components.mobile_token.open_session",
            lambda *args, **kwargs: client.session,
        ),
        patch("custom_components.mobile_token.MobileTokenClient", lambda session: client),
        patch("custom_components.mobile_token.InboxClient", lambda session: FakeInbox()),
    ):
        yield client


def fake_entry(hass: HomeAssistant) -> MockConfigEntry:
    """An entry as the config flow leaves it, added to ``hass``."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        entry_id=ENTRY_ID,
        title="Kitchen tablet",
        unique_id=ACTIVATION_ID,
        data={
            CONF_URL: "https://bank.example/enrollment-server",
            CONF_APP_CONFIG: APP_CONFIG,
            CONF_VERIFY_SSL: True,
            CONF_ACTIVATION_ID: ACTIVATION_ID,
            CONF_NAME: "Kitchen tablet",
            CONF_ALLOW_BIOMETRY: False,
        },
    )
    entry.add_to_hass(hass)
    return entry
