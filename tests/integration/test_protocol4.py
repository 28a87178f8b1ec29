"""PowerAuth 4.0 through Home Assistant: the config flow picks 4.0 and every action works on it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError

from custom_components.mobile_token.const import CONF_ALLOW_BIOMETRY, DOMAIN
from custom_components.mobile_token.coordinator import MobileTokenConfigEntry
from emulator.testing import run_emulator

from .conftest import (
    PIN,
    activation_input,
    create_operation,
    new_activation_code,
    server_input,
)

WRONG_PIN = "0000"


async def _emulator(tmp_path: Path, protocol: str) -> AsyncIterator[Any]:
    async with run_emulator(tmp_path / "emulator", protocol=protocol) as emu:
        yield emu


@pytest.fixture(params=["both", "4.0"])
async def emulator4(
    request: pytest.FixtureRequest, hass: HomeAssistant, socket_enabled: None, tmp_path: Path
) -> AsyncIterator[Any]:
    """A server that speaks 3.3 and 4.0, and one that accepts only 4.0."""
    async for emu in _emulator(tmp_path, request.param):
        yield emu


async def _activate(hass: HomeAssistant, emulator: Any) -> MobileTokenConfigEntry:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], server_input(emulator)
    )
    assert result["step_id"] == "activate"
    code = await new_activation_code(emulator)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], activation_input(code, **{CONF_ALLOW_BIOMETRY: True})
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    assert result["description_placeholders"]["protocol"] == "4.0"
    await hass.async_block_till_done()
    entry: MobileTokenConfigEntry = result["result"]
    return entry


async def call(hass: HomeAssistant, service: str, data: dict[str, Any], **kwargs: Any) -> Any:
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=kwargs.get("response", False)
    )


async def status_of(emulator: Any, operation_id: str) -> str:
    return str((await emulator.admin.get_operation(operation_id))["status"])


async def test_4_0_activation_approves_rejects_and_signs_offline(
    hass: HomeAssistant,
    emulator4: Any,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG, logger="custom_components.mobile_token"):
        entry = await _activate(hass, emulator4)
        stored = hass_storage[f"{DOMAIN}.{entry.unique_id}"]["data"]
        assert stored["protocol"] == "4.0"
        assert entry.runtime_data.coordinator.session.protocol_version == "4.0"

        approved = await create_operation(emulator4)
        by_biometry = await create_operation(emulator4)
        rejected = await create_operation(emulator4)
        await call(hass, "refresh", {})
        await call(hass, "approve", {"operation_id": approved["id"], "pin": PIN})
        await call(
            hass, "approve", {"operation_id": by_biometry["id"], "factor": "possession_biometry"}
        )
        await call(hass, "reject", {"operation_id": rejected["id"], "reason": "UNKNOWN"})
        assert await status_of(emulator4, approved["id"]) == "APPROVED"
        assert await status_of(emulator4, by_biometry["id"]) == "APPROVED"
        assert await status_of(emulator4, rejected["id"]) == "REJECTED"

        wrong = await create_operation(emulator4)
        with pytest.raises(HomeAssistantError) as err:
            await call(hass, "approve", {"operation_id": wrong["id"], "pin": WRONG_PIN})
        assert err.value.translation_placeholders == {"remaining_attempts": "4"}

        offline = await create_operation(emulator4, title="Offline payment")
        qr = await emulator4.admin.offline_qr(offline["id"])
        signed = await call(hass, "sign_offline_qr", {"qr": qr, "pin": PIN}, response=True)
        assert await emulator4.admin.verify_offline(entry.unique_id, offline["id"], signed["code"])

        history = await call(hass, "get_history", {"pin": PIN}, response=True)
        assert {op["id"] for op in history["operations"]} >= {approved["id"], rejected["id"]}

    ours = "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("custom_components.mobile_token")
    )
    secrets = [
        value
        for key, value in stored.items()
        if isinstance(value, str) and key.endswith(("Key", "Secret", "Data"))
    ]
    assert len(secrets) >= 8
    for secret in [PIN, WRONG_PIN, emulator4.app_secret, *secrets]:
        assert secret not in ours


async def test_4_0_activation_survives_a_reload(hass: HomeAssistant, emulator4: Any) -> None:
    entry = await _activate(hass, emulator4)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    operation = await create_operation(emulator4)
    await call(hass, "refresh", {})
    await call(hass, "approve", {"operation_id": operation["id"], "pin": PIN})
    assert await status_of(emulator4, operation["id"]) == "APPROVED"
