"""A minimal real Home Assistant with the integration set up through its config flow.

Built like pytest-homeassistant-custom-component's ``async_test_home_assistant``
(registries in memory, a temporary configuration directory, custom
integrations enabled), with the ``http`` dependency on a free loopback port.
The integration's private store writes real files in the temporary directory.
"""

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Final

from homeassistant import loader
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import async_test_home_assistant

from custom_components.mobile_token.const import (
    CONF_ACTIVATION_CODE,
    CONF_ALLOW_BIOMETRY,
    CONF_APP_CONFIG,
    CONF_APP_VALUES,
    CONF_NAME,
    CONF_PIN,
    CONF_PIN_CONFIRM,
    CONF_URL,
    CONF_VERIFY_SSL,
    DOMAIN,
)
from custom_components.mobile_token.coordinator import MobileTokenConfigEntry

PIN: Final = "4711"
USER_ID: Final = "alice"
LOOPBACK: Final = "127.0.0.1"


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def home_assistant(config_dir: Path) -> AsyncIterator[HomeAssistant]:
    """A running Home Assistant with ``http`` on a free port and custom integrations on."""
    async with async_test_home_assistant(config_dir=str(config_dir)) as hass:
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)
        http_config = {"http": {"server_host": LOOPBACK, "server_port": free_port()}}
        try:
            if not await async_setup_component(hass, "http", http_config):
                raise RuntimeError("Home Assistant's http component did not set up")
            yield hass
        finally:
            await hass.async_stop(force=True)


async def activate(
    hass: HomeAssistant, url: str, app_config: str, code: str
) -> MobileTokenConfigEntry:
    """A loaded entry (PIN and approval without PIN), activated through the config flow."""
    flow = hass.config_entries.flow
    result: Any = await flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await flow.async_configure(
        result["flow_id"],
        {CONF_URL: url, CONF_APP_CONFIG: app_config, CONF_APP_VALUES: {}, CONF_VERIFY_SSL: True},
    )
    result = await flow.async_configure(
        result["flow_id"],
        {
            CONF_ACTIVATION_CODE: code,
            CONF_NAME: "Benchmark",
            CONF_PIN: PIN,
            CONF_PIN_CONFIRM: PIN,
            CONF_ALLOW_BIOMETRY: True,
        },
    )
    if result["type"] is not FlowResultType.CREATE_ENTRY:
        raise RuntimeError(f"the config flow did not create an entry: {result}")
    await hass.async_block_till_done()
    entry: MobileTokenConfigEntry = result["result"]
    if entry.state is not ConfigEntryState.LOADED:
        raise RuntimeError(f"the entry did not load: {entry.state}")
    return entry


def pending_sensor_id(hass: HomeAssistant, entry: MobileTokenConfigEntry) -> str:
    """The entity id of the pending-operations sensor."""
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{entry.entry_id}_pending_operations"
    )
    if entity_id is None:
        raise RuntimeError("the pending-operations sensor is not registered")
    return entity_id
