"""PowerAuth 4.0 through Home Assistant: the config flow picks 4.0 and every action works on it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_NAME, CONF_PIN, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.setup import async_setup_component

from custom_components.mobile_token import actions
from custom_components.mobile_token.const import CONF_ALLOW_BIOMETRY, CONF_APP_CONFIG, DOMAIN
from custom_components.mobile_token.coordinator import MobileTokenConfigEntry
from custom_components.mobile_token.mtoken import counter, counter4
from custom_components.mobile_token.mtoken.session import MAX_UNCONFIRMED_STEPS, PowerAuthSession
from custom_components.mobile_token.mtoken.session4 import PowerAuth4Session
from custom_components.mobile_token.mtoken.upgrade import start_upgrade
from emulator.context import PROTOCOL_CHOICES
from emulator.testing import run_emulator

from .conftest import (
    PIN,
    activation_input,
    create_operation,
    new_activation_code,
    server_input,
    start_flow,
)

WRONG_PIN = "864297531"  # long enough never to turn up inside an id


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
    if "pin" in data:
        return await with_pin(hass, service, dict(data))
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=kwargs.get("response", False)
    )


async def with_pin(hass: HomeAssistant, service: str, data: dict[str, Any]) -> Any:
    """No action takes a PIN: the card's commands hand it to ``actions``, called here."""
    [entry] = [
        item
        for item in hass.config_entries.async_entries(DOMAIN)
        if item.state is ConfigEntryState.LOADED
    ]
    coordinator = entry.runtime_data.coordinator
    if service == "approve":
        return await actions.async_approve(coordinator, data.pop("operation_id"), **data)
    if service == "sign_offline_qr":
        code, qr = await actions.async_sign_offline_qr(coordinator, data.pop("qr"), **data)
        return {"code": code, "operation": qr.to_dict()}
    assert service == "get_history", service
    operations = await actions.async_get_history(coordinator, **data)
    return {"operations": [operation.to_dict() for operation in operations]}


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


@pytest.fixture
async def emulator3(
    hass: HomeAssistant, socket_enabled: None, tmp_path: Path
) -> AsyncIterator[Any]:
    """A server that speaks 3.3 until the test switches 4.0 on (a bank updating its server)."""
    async for emu in _emulator(tmp_path, "3.3"):
        yield emu


async def _activate_3_3(hass: HomeAssistant, emulator: Any) -> MobileTokenConfigEntry:
    """A 3.3 activation whose configuration string already carries the 4.0 master keys."""
    full_config = emulator.emulator.application.config_string
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], server_input(emulator, **{CONF_APP_CONFIG: full_config})
    )
    code = await new_activation_code(emulator)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], activation_input(code)
    )
    assert result["description_placeholders"]["protocol"] == "3.3"
    await hass.async_block_till_done()
    entry: MobileTokenConfigEntry = result["result"]
    return entry


async def _upgrade_offered(
    hass: HomeAssistant, emulator: Any, issue_registry: ir.IssueRegistry
) -> tuple[MobileTokenConfigEntry, str]:
    entry = await _activate_3_3(hass, emulator)
    issue = f"upgrade_available_{entry.entry_id}"
    assert issue_registry.async_get_issue(DOMAIN, issue) is None
    emulator.emulator.protocols = PROTOCOL_CHOICES["both"]
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    offered = issue_registry.async_get_issue(DOMAIN, issue)
    assert offered is not None
    assert offered.is_fixable
    return entry, issue


async def test_3_3_entry_upgrades_to_4_0_from_its_repair_issue(
    hass: HomeAssistant,
    emulator3: Any,
    hass_storage: dict[str, Any],
    issue_registry: ir.IssueRegistry,
) -> None:
    entry, issue = await _upgrade_offered(hass, emulator3, issue_registry)
    assert await async_setup_component(hass, "repairs", {})
    flows = repairs_flow_manager(hass)
    assert flows is not None
    result = await flows.async_init(DOMAIN, data={"issue_id": issue})
    assert result["step_id"] == "confirm"
    result = await flows.async_configure(result["flow_id"], {CONF_PIN: WRONG_PIN})
    assert result["errors"] == {"base": "wrong_pin"}
    result = await flows.async_configure(result["flow_id"], {CONF_PIN: PIN})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()

    stored = hass_storage[f"{DOMAIN}.{entry.unique_id}"]["data"]
    assert stored["protocol"] == "4.0"
    assert stored["pendingUpgradeV3"] is None
    assert entry.runtime_data.coordinator.session.protocol_version == "4.0"
    assert issue_registry.async_get_issue(DOMAIN, issue) is None
    operation = await create_operation(emulator3)
    await call(hass, "refresh", {})
    await call(hass, "approve", {"operation_id": operation["id"], "pin": PIN})
    assert await status_of(emulator3, operation["id"]) == "APPROVED"


async def test_restart_during_the_upgrade_finishes_it(
    hass: HomeAssistant,
    emulator3: Any,
    hass_storage: dict[str, Any],
    issue_registry: ir.IssueRegistry,
) -> None:
    entry, _issue = await _upgrade_offered(hass, emulator3, issue_registry)
    coordinator = entry.runtime_data.coordinator
    v4 = PowerAuth4Session(async_get_clientsession(hass), emulator3.url, coordinator.session.config)
    # Home Assistant stops right after the start was answered and stored.
    await start_upgrade(coordinator.session, v4, PIN)
    key = f"{DOMAIN}.{entry.unique_id}"
    hass_storage[key]["data"] = v4.state.to_dict()
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    stored = hass_storage[key]["data"]
    assert stored["protocol"] == "4.0"
    assert stored["pendingUpgradeV3"] is None
    operation = await create_operation(emulator3)
    await call(hass, "refresh", {})
    await call(hass, "approve", {"operation_id": operation["id"], "pin": PIN})
    assert await status_of(emulator3, operation["id"]) == "APPROVED"


async def test_failed_upgrade_keeps_the_3_3_activation_working(
    hass: HomeAssistant,
    emulator3: Any,
    hass_storage: dict[str, Any],
    issue_registry: ir.IssueRegistry,
) -> None:
    entry, issue = await _upgrade_offered(hass, emulator3, issue_registry)
    assert await async_setup_component(hass, "repairs", {})
    flows = repairs_flow_manager(hass)
    assert flows is not None
    result = await flows.async_init(DOMAIN, data={"issue_id": issue})
    await emulator3.admin.fault("http500")
    result = await flows.async_configure(result["flow_id"], {CONF_PIN: PIN})
    assert result["errors"] == {"base": "upgrade_failed"}
    await hass.async_block_till_done()
    assert "protocol" not in hass_storage[f"{DOMAIN}.{entry.unique_id}"]["data"]
    assert issue_registry.async_get_issue(DOMAIN, issue) is not None
    operation = await create_operation(emulator3)
    await call(hass, "refresh", {})
    await call(hass, "approve", {"operation_id": operation["id"], "pin": PIN})
    assert await status_of(emulator3, operation["id"]) == "APPROVED"


# -- the counter guarantees of 3.3, on 4.0 ------------------------------------------------------


async def _server_counter(emulator: Any, entry: MobileTokenConfigEntry) -> int:
    """How many counter values the bank has consumed for this activation."""
    [activation] = [
        item
        for item in await emulator.admin.activations()
        if item["activationId"] == entry.unique_id
    ]
    return int(activation["counter"])


async def _sign_offline(hass: HomeAssistant, qr: str) -> Any:
    return await call(hass, "sign_offline_qr", {"qr": qr, "pin": PIN}, response=True)


async def test_4_0_many_offline_codes_keep_the_token_usable(
    hass: HomeAssistant, emulator4: Any, hass_storage: dict[str, Any]
) -> None:
    entry = await _activate(hass, emulator4)
    offline = await create_operation(emulator4)
    qr = await emulator4.admin.offline_qr(offline["id"])
    for _ in range(25):
        await _sign_offline(hass, qr)
        stored = hass_storage[f"{DOMAIN}.{entry.unique_id}"]["data"]
        assert stored["unconfirmedSteps"] <= MAX_UNCONFIRMED_STEPS
    # The server still finds the token's codes: an online approval works.
    operation = await create_operation(emulator4)
    await call(hass, "refresh", {})
    await call(hass, "approve", {"operation_id": operation["id"], "pin": PIN})
    assert await status_of(emulator4, operation["id"]) == "APPROVED"


async def test_4_0_counter_ahead_without_the_server_is_refused(
    hass: HomeAssistant, emulator4: Any
) -> None:
    await _activate(hass, emulator4)
    offline = await create_operation(emulator4)
    qr = await emulator4.admin.offline_qr(offline["id"])
    for _ in range(MAX_UNCONFIRMED_STEPS):
        await _sign_offline(hass, qr)
    await emulator4.admin.fault("drop", count=1)
    with pytest.raises(HomeAssistantError) as err:
        await _sign_offline(hass, qr)
    assert err.value.translation_key == "counter_ahead"
    # Connected again, the token resynchronises and signs.
    signed = await _sign_offline(hass, qr)
    assert len(signed["code"]) > 8


async def test_4_0_nothing_is_signed_while_home_assistant_stops(
    hass: HomeAssistant, emulator4: Any, hass_storage: dict[str, Any]
) -> None:
    entry = await _activate(hass, emulator4)
    operation = await create_operation(emulator4)
    await call(hass, "refresh", {})
    key = f"{DOMAIN}.{entry.unique_id}"
    stored = hass_storage[key]["data"]
    session = entry.runtime_data.coordinator.session
    hass.set_state(CoreState.stopping)
    try:
        with pytest.raises(HomeAssistantError) as err:
            await call(
                hass, "approve", {"operation_id": operation["id"], "factor": "possession_biometry"}
            )
    finally:
        hass.set_state(CoreState.running)
    assert err.value.translation_key == "state_not_saved"
    assert await status_of(emulator4, operation["id"]) == "PENDING"
    assert hass_storage[key]["data"] == stored
    assert session.state.to_dict()["ctrData"] == stored["ctrData"]
    await call(hass, "approve", {"operation_id": operation["id"], "factor": "possession_biometry"})
    assert await status_of(emulator4, operation["id"]) == "APPROVED"


async def test_4_0_activation_id_that_is_not_a_uuid_fails_and_writes_nothing(
    hass: HomeAssistant, emulator4: Any, hass_storage: dict[str, Any]
) -> None:
    result = await start_flow(hass, emulator4)
    created = await emulator4.admin.create_activation_code("alice", activationId="../../x")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], activation_input(str(created["activationCode"]))
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_activation_id"}
    assert not [key for key in hass_storage if key.startswith(DOMAIN)]
    assert hass.config_entries.async_entries(DOMAIN) == []


# -- reconfigure only reads the status ---------------------------------------------------------


async def _move_counter_ahead(entry: MobileTokenConfigEntry, steps: int) -> None:
    """As after codes the server never saw: far enough that a synchronising read would sign."""
    session = entry.runtime_data.coordinator.session
    if isinstance(session, PowerAuth4Session):
        state4 = session.state
        await session.save(
            state4.with_counter(
                counter4.advance_counter(state4.ctr_data, steps),
                state4.ctr_byte + steps,
                unconfirmed_steps=steps,
            )
        )
        return
    assert isinstance(session, PowerAuthSession)
    state = session.state
    await session.save(
        state.with_counter(
            counter.advance_counter(state.ctr_data, steps),
            state.ctr_byte + steps,
            unconfirmed_steps=steps,
        )
    )


async def _reconfigure_leaves_the_counter_alone(
    hass: HomeAssistant, emulator: Any, entry: MobileTokenConfigEntry, storage: dict[str, Any]
) -> None:
    await _move_counter_ahead(entry, MAX_UNCONFIRMED_STEPS + 5)
    key = f"{DOMAIN}.{entry.unique_id}"
    stored, server = dict(storage[key]["data"]), await _server_counter(emulator, entry)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    # The reload that follows is the loaded session's business; the check is what is tested.
    with patch.object(hass.config_entries, "async_schedule_reload") as reload:
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {CONF_URL: emulator.url, CONF_VERIFY_SSL: True, CONF_NAME: "Kitchen tablet"},
        )
    assert result["reason"] == "reconfigure_successful"
    assert reload.called
    assert storage[key]["data"] == stored
    assert entry.runtime_data.coordinator.session.state.to_dict() == stored
    assert await _server_counter(emulator, entry) == server
    # The loaded session, which owns the counter, still approves.
    operation = await create_operation(emulator)
    await call(hass, "refresh", {})
    await call(hass, "approve", {"operation_id": operation["id"], "pin": PIN})
    assert await status_of(emulator, operation["id"]) == "APPROVED"


async def test_4_0_reconfigure_never_moves_the_counter(
    hass: HomeAssistant, emulator4: Any, hass_storage: dict[str, Any]
) -> None:
    entry = await _activate(hass, emulator4)
    await _reconfigure_leaves_the_counter_alone(hass, emulator4, entry, hass_storage)


async def test_3_3_reconfigure_never_moves_the_counter(
    hass: HomeAssistant, emulator3: Any, hass_storage: dict[str, Any]
) -> None:
    entry = await _activate_3_3(hass, emulator3)
    await _reconfigure_leaves_the_counter_alone(hass, emulator3, entry, hass_storage)
