"""Fixtures: the project's emulator on 127.0.0.1 and entries activated through the real flow."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import (
    CONF_NAME,
    CONF_PIN,
    CONF_URL,
    CONF_VERIFY_SSL,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.mobile_token.const import (
    CONF_ACTIVATION_CODE,
    CONF_ACTIVATION_ID,
    CONF_ALLOW_BIOMETRY,
    CONF_APP_CONFIG,
    CONF_APP_VALUES,
    CONF_PIN_CONFIRM,
    DOMAIN,
)
from custom_components.mobile_token.coordinator import MobileTokenConfigEntry
from custom_components.mobile_token.mtoken.app_config import parse_config_string
from custom_components.mobile_token.mtoken.session import PowerAuthSession
from custom_components.mobile_token.store import ActivationStore
from emulator.testing import run_emulator

PIN = "4711"
USER_ID = "alice"
ACTIVATION_NAME = "Kitchen tablet"

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})")


@pytest.fixture(autouse=True)
def frozen_time(freezer: FrozenDateTimeFactory) -> FrozenDateTimeFactory:
    """Freeze the clock before Home Assistant starts, so that tests move time on their own."""
    return freezer


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load the integration from custom_components."""


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots in Home Assistant's format, under ``snapshots/`` next to the tests."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
async def emulator(hass: HomeAssistant, socket_enabled: None, tmp_path: Path) -> AsyncIterator[Any]:
    """The server emulator, in this event loop, on 127.0.0.1 (sockets elsewhere stay blocked).

    It speaks 3.3 only, so these tests keep their 3.3 activations; the 4.0 flows
    run against a server that speaks both in ``test_protocol4.py``.
    """
    async with run_emulator(tmp_path / "emulator", protocol="3.3") as emu:
        yield emu


async def new_activation_code(emulator: Any, user_id: str = USER_ID, **kwargs: Any) -> str:
    """An activation code from the bank's side (the emulator's admin API)."""
    created = await emulator.admin.create_activation_code(user_id, **kwargs)
    return str(created["activationCode"])


def server_input(emulator: Any, **overrides: Any) -> dict[str, Any]:
    """The user step's form, filled in as a user would."""
    return {
        CONF_URL: emulator.url,
        CONF_APP_CONFIG: emulator.app_config,
        CONF_APP_VALUES: {},
        CONF_VERIFY_SSL: True,
        **overrides,
    }


def activation_input(code: str, **overrides: Any) -> dict[str, Any]:
    """The activate step's form, filled in as a user would."""
    return {
        CONF_ACTIVATION_CODE: code,
        CONF_NAME: ACTIVATION_NAME,
        CONF_PIN: PIN,
        CONF_PIN_CONFIRM: PIN,
        CONF_ALLOW_BIOMETRY: False,
        **overrides,
    }


async def start_flow(hass: HomeAssistant, emulator: Any) -> FlowResult:
    """Run the user step; return the activate form."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], server_input(emulator)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "activate"
    return result


async def activate(
    hass: HomeAssistant, emulator: Any, *, allow_biometry: bool = False
) -> MobileTokenConfigEntry:
    """A loaded entry, activated through the real config flow."""
    result = await start_flow(hass, emulator)
    code = await new_activation_code(emulator)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], activation_input(code, **{CONF_ALLOW_BIOMETRY: allow_biometry})
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    entry: MobileTokenConfigEntry = result["result"]
    assert entry.unique_id == entry.data[CONF_ACTIVATION_ID]
    assert entry.state is ConfigEntryState.LOADED
    return entry


ENTRY_ID = "01JMOBILETOKENENTRY000000"


async def add_mock_entry(
    hass: HomeAssistant, emulator: Any, *, verify_ssl: bool = True
) -> MockConfigEntry:
    """An entry as the config flow leaves it, for an activation made on the emulator.

    The activation is real (the library activates against the emulator and the
    state goes to the private store); only the entry is a ``MockConfigEntry``,
    with a fixed entry id, as Home Assistant's own tests build them.
    """
    stored: dict[str, Any] = {}

    async def remember(state: dict[str, Any]) -> None:
        stored.update(state)

    session = PowerAuthSession(
        async_get_clientsession(hass),
        emulator.url,
        parse_config_string(emulator.app_config),
        persist=remember,
        language="en",
        run_blocking=hass.async_add_executor_job,
    )
    code = await new_activation_code(emulator)
    result = await session.create_activation(code, PIN, name=ACTIVATION_NAME)
    await ActivationStore(hass, result.activation_id).async_save(stored)
    entry = MockConfigEntry(
        domain=DOMAIN,
        entry_id=ENTRY_ID,
        title=ACTIVATION_NAME,
        unique_id=result.activation_id,
        data={
            CONF_URL: emulator.url,
            CONF_APP_CONFIG: emulator.app_config,
            CONF_VERIFY_SSL: verify_ssl,
            CONF_ACTIVATION_ID: result.activation_id,
            CONF_NAME: ACTIVATION_NAME,
            CONF_ALLOW_BIOMETRY: False,
        },
    )
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
async def mock_config_entry(hass: HomeAssistant, emulator: Any) -> MockConfigEntry:
    """A loaded ``MockConfigEntry`` of a real activation on the emulator."""
    entry = await add_mock_entry(hass, emulator)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@pytest.fixture
async def config_entry(hass: HomeAssistant, emulator: Any) -> MobileTokenConfigEntry:
    """An activation with the PIN only."""
    return await activate(hass, emulator)


@pytest.fixture
async def biometry_entry(hass: HomeAssistant, emulator: Any) -> MobileTokenConfigEntry:
    """An activation that may approve without the PIN."""
    return await activate(hass, emulator, allow_biometry=True)


async def create_operation(emulator: Any, **overrides: Any) -> dict[str, Any]:
    """A 2FA payment for USER_ID, created on the bank's side."""
    return dict(await emulator.admin.create_payment(USER_ID, **overrides))


def normalize(value: Any, names: dict[str, str] | None = None) -> Any:
    """Replace ids and timestamps by stable placeholders so snapshots do not change."""
    names = {} if names is None else names
    if isinstance(value, dict):
        return {key: normalize(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [normalize(item, names) for item in value]
    if isinstance(value, str):
        value = UUID_RE.sub(lambda m: names.setdefault(m.group(0), f"<id-{len(names)}>"), value)
        return DATE_RE.sub("<time>", value)
    return value
