"""Diagnostics: everything a maintainer needs, nothing secret."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.core import HomeAssistant
from syrupy.assertion import SnapshotAssertion

from custom_components.mobile_token.const import DOMAIN
from custom_components.mobile_token.coordinator import MobileTokenConfigEntry
from custom_components.mobile_token.diagnostics import async_get_config_entry_diagnostics

from .conftest import PIN, create_operation, normalize


async def test_diagnostics_redact_every_secret(
    hass: HomeAssistant,
    emulator: Any,
    biometry_entry: MobileTokenConfigEntry,
    hass_storage: dict[str, Any],
    snapshot: SnapshotAssertion,
) -> None:
    await create_operation(emulator)
    await hass.services.async_call(DOMAIN, "refresh", {}, blocking=True)
    # Called directly: the diagnostics HTTP view cannot serialise the frozen test clock.
    diagnostics = await async_get_config_entry_diagnostics(hass, biometry_entry)

    text = json.dumps(diagnostics)
    stored = hass_storage[f"{DOMAIN}.{biometry_entry.unique_id}"]["data"]
    secrets = [value for value in stored.values() if isinstance(value, str) and len(value) > 8]
    for secret in [PIN, emulator.app_config, emulator.app_secret, emulator.url, *secrets]:
        assert secret not in text
    assert "238400856" not in text  # the account in the operation's data
    assert normalize(diagnostics) == snapshot
