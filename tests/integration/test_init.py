"""Setup, polling, events, unavailability and recovery, blocked activations, restarts."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from datetime import timedelta
from typing import Any
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import (
    ATTR_ENTITY_ID,
    CONF_LANGUAGE,
    CONF_SCAN_INTERVAL,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.mobile_token import actions
from custom_components.mobile_token.const import (
    CONF_ACTIVATION_ID,
    DOMAIN,
    EVENT_OPERATION_ADDED,
    STATUS_CHECK_INTERVAL,
)
from custom_components.mobile_token.coordinator import MobileTokenConfigEntry
from custom_components.mobile_token.mtoken.model import Operation

from .conftest import PIN, create_operation

PENDING = "sensor.kitchen_tablet_pending_operations"
STATUS = "sensor.kitchen_tablet_activation_status"
EVENTS = "event.kitchen_tablet_operations"
POLLING = "switch.kitchen_tablet_polling"
INTERVAL = timedelta(seconds=7)


async def tick(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta = INTERVAL
) -> None:
    """Let one polling interval pass."""
    freezer.tick(delta)
    async_fire_time_changed(hass)
    # Coordinator refreshes run as background tasks.
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_entities_after_setup(
    hass: HomeAssistant, config_entry: MobileTokenConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    assert hass.states.get(PENDING).state == "0"
    assert hass.states.get(PENDING).attributes["operations"] == []
    status = hass.states.get(STATUS)
    assert status.state == "active"
    assert status.attributes["failed_attempts"] == 0
    assert status.attributes["max_failed_attempts"] == 5
    assert status.attributes["remaining_attempts"] == 5
    assert hass.states.get(POLLING).state == STATE_ON
    assert hass.states.get(EVENTS).attributes["event_types"] == [
        "added",
        "removed",
        "approved",
        "rejected",
        "failed",
        "expired",
    ]
    entries = er.async_entries_for_config_entry(entity_registry, config_entry.entry_id)
    assert {entry.unique_id for entry in entries} == {
        f"{config_entry.entry_id}_{key}"
        for key in (
            "pending_operations",
            "activation_status",
            "operations",
            "polling",
            "unread_messages",
        )
    }


async def test_polling_reports_new_operations(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    added = async_capture_events(hass, EVENT_OPERATION_ADDED)
    operation = await create_operation(emulator, message="x" * 200)
    await tick(hass, freezer)

    state = hass.states.get(PENDING)
    assert state.state == "1"
    (summary,) = state.attributes["operations"]
    assert summary["id"] == operation["id"]
    assert summary["title"] == "Payment"
    assert len(summary["message"]) == 60
    assert summary["allowed_factors"] == ["possession_knowledge", "possession_biometry"]
    event = hass.states.get(EVENTS)
    assert event.attributes["event_type"] == "added"
    assert event.attributes["id"] == operation["id"]
    (bus_event,) = added
    assert bus_event.data["config_entry_id"] == config_entry.entry_id
    assert bus_event.data["operation_id"] == operation["id"]
    assert bus_event.data["name"] == "authorize_payment"
    assert bus_event.data["allowed_factors"] == ["possession_knowledge", "possession_biometry"]
    assert bus_event.data["allow_biometry"] is False
    assert bus_event.data["requires_proximity"] is False

    # The same operation again is no news.
    await tick(hass, freezer)
    assert len(added) == 1


async def test_operations_pending_at_setup_are_not_reported_again(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    pending = await create_operation(emulator)
    await tick(hass, freezer)
    last_event = hass.states.get(EVENTS)
    added = async_capture_events(hass, EVENT_OPERATION_ADDED)
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()

    assert hass.states.get(PENDING).state == "1"
    assert added == []
    # The event entity shows the announcement from before the reload, not a new one.
    assert hass.states.get(EVENTS).state == last_event.state
    assert hass.states.get(EVENTS).attributes["id"] == pending["id"]

    operation = await create_operation(emulator)
    await tick(hass, freezer)

    assert [event.data["operation_id"] for event in added] == [operation["id"]]
    assert hass.states.get(EVENTS).attributes["id"] == operation["id"]
    assert pending["id"] != operation["id"]


async def test_restart_announces_only_what_arrived_meanwhile(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    known = await create_operation(emulator)
    await tick(hass, freezer)
    await hass.config_entries.async_unload(config_entry.entry_id)
    # Home Assistant is stopped while the bank sends a new operation.
    new = await create_operation(emulator)
    added = async_capture_events(hass, EVENT_OPERATION_ADDED)

    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    assert hass.states.get(PENDING).state == "2"
    assert [event.data["operation_id"] for event in added] == [new["id"]]
    assert hass.states.get(EVENTS).attributes["id"] == new["id"]
    assert known["id"] != new["id"]
    await tick(hass, freezer)
    assert len(added) == 1


async def test_list_answer_delayed_past_an_approval_does_not_announce_again(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    operation = await create_operation(emulator)
    await tick(hass, freezer)
    added = async_capture_events(hass, EVENT_OPERATION_ADDED)
    coordinator = config_entry.runtime_data.coordinator
    client = coordinator.client
    real_list = client.list_operations
    fetched, release = asyncio.Event(), asyncio.Event()

    async def delayed_list() -> list[Operation]:
        """The server's real answer, held back until the approval is done."""
        answer = await real_list()
        if not fetched.is_set():
            fetched.set()
            await release.wait()
        return answer

    approved = asyncio.Event()
    unsubscribe = coordinator.async_add_operation_listener(
        lambda event: approved.set() if event.event_type == "approved" else None
    )
    with patch.object(client, "list_operations", delayed_list):
        freezer.tick(INTERVAL)
        async_fire_time_changed(hass)
        await fetched.wait()
        # The card's way in (its websocket command hands the PIN to ``actions``).
        approval = hass.async_create_task(
            actions.async_approve(coordinator, operation["id"], pin=PIN)
        )
        await approved.wait()
        # The list answer arrives after the approval (the refresh that follows the
        # approval may wait for it: Home Assistant 2026 runs one refresh at a time).
        release.set()
        await approval
        await hass.async_block_till_done(wait_background_tasks=True)
    unsubscribe()

    assert added == []
    assert hass.states.get(EVENTS).attributes["event_type"] == "approved"
    assert hass.states.get(PENDING).state == "0"
    await tick(hass, freezer)
    assert added == []
    assert hass.states.get(EVENTS).attributes["event_type"] == "approved"


async def test_an_unchanged_list_updates_nothing(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    coordinator = config_entry.runtime_data.coordinator
    updates: list[None] = []
    unsubscribe = coordinator.async_add_listener(lambda: updates.append(None))
    await create_operation(emulator)
    await tick(hass, freezer)
    assert len(updates) == 1
    written = hass.states.get(PENDING).last_reported

    await tick(hass, freezer)
    await tick(hass, freezer)
    assert len(updates) == 1
    assert hass.states.get(PENDING).last_reported == written
    unsubscribe()


async def test_hundred_operations_stay_under_the_recorder_limit(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    created = [
        await create_operation(emulator, title="T" * 300, message="M" * 4000) for _ in range(100)
    ]
    await tick(hass, freezer)
    state = hass.states.get(PENDING)
    assert state.state == "100"
    # Every attribute together stays under the recorder's limit, even unrecorded ones.
    assert len(json.dumps(dict(state.attributes))) < 16 * 1024
    listed = state.attributes["operations"]
    assert 40 <= len(listed) < 100
    assert state.attributes["operations_not_listed"] == 100 - len(listed)
    # Newest first, as the server orders them; long texts are cut.
    assert [op["id"] for op in listed] == [op["id"] for op in reversed(created)][: len(listed)]
    assert {len(op["message"]) for op in listed} == {60}
    assert state.state_info is not None
    assert "operations" in state.state_info["unrecorded_attributes"]


async def test_expired_operation_is_reported(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await create_operation(emulator, expiresInSeconds=30)
    await tick(hass, freezer)
    assert hass.states.get(PENDING).state == "1"
    # The server's clock moves on past the expiry; ours learns it from the list.
    await emulator.admin.fault("clock_skew", count=0, value=60)
    await tick(hass, freezer)
    assert hass.states.get(PENDING).state == "0"
    assert hass.states.get(EVENTS).attributes["event_type"] == "expired"


async def test_server_down_makes_entities_unavailable_then_recovers(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await emulator.admin.fault("drop", count=3)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            await tick(hass, freezer)
            assert hass.states.get(PENDING).state == STATE_UNAVAILABLE
        assert hass.states.get(POLLING).state == STATE_ON
        failures = [
            record
            for record in caplog.records
            if record.name.startswith("custom_components.mobile_token")
            and record.levelno >= logging.ERROR
        ]
        assert len(failures) == 1

        await tick(hass, freezer)
    assert hass.states.get(PENDING).state == "0"
    assert "recovered" in caplog.text


async def test_server_error_response_is_an_update_failure(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await emulator.admin.fault("http500")
    await tick(hass, freezer)
    assert hass.states.get(PENDING).state == STATE_UNAVAILABLE
    await tick(hass, freezer)
    assert hass.states.get(PENDING).state == "0"


@pytest.mark.parametrize(("action", "status"), [("block", "blocked"), ("remove", "removed")])
async def test_blocked_or_removed_activation_asks_for_a_new_one(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
    action: str,
    status: str,
) -> None:
    await getattr(emulator.admin, action)(config_entry.unique_id)
    await tick(hass, freezer, STATUS_CHECK_INTERVAL)

    assert hass.states.get(STATUS).state == status
    assert hass.states.get(PENDING).state == STATE_UNAVAILABLE
    issue = issue_registry.async_get_issue(DOMAIN, f"activation_{status}_{config_entry.entry_id}")
    assert issue is not None
    assert issue.translation_placeholders == {"name": "Kitchen tablet"}
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_unblocked_activation_withdraws_its_issue(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    issue_id = f"activation_blocked_{config_entry.entry_id}"
    await emulator.admin.block(config_entry.unique_id)
    await tick(hass, freezer, STATUS_CHECK_INTERVAL)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None

    await emulator.admin.unblock(config_entry.unique_id)
    # Polling stopped with the failure: a refresh (as the action does) checks the status again.
    freezer.tick(STATUS_CHECK_INTERVAL)
    await config_entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()

    assert hass.states.get(STATUS).state == "active"
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_refused_token_checks_the_activation_at_once(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await emulator.admin.block(config_entry.unique_id)
    await tick(hass, freezer)
    assert hass.states.get(STATUS).state == "blocked"
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_counter_out_of_reach_asks_for_a_new_activation(
    hass: HomeAssistant,
    config_entry: MobileTokenConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    await hass.config_entries.async_unload(config_entry.entry_id)
    stored = hass_storage[f"{DOMAIN}.{config_entry.data[CONF_ACTIVATION_ID]}"]["data"]
    stored["ctrByte"] = (stored["ctrByte"] + 100) % 256
    stored["ctrData"] = base64.b64encode(bytes(16)).decode()
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_setup_with_a_blocked_activation_starts_reauth(
    hass: HomeAssistant, emulator: Any, config_entry: MobileTokenConfigEntry
) -> None:
    await emulator.admin.block(config_entry.unique_id)
    await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_setup_retries_while_the_server_is_down(
    hass: HomeAssistant, emulator: Any, config_entry: MobileTokenConfigEntry
) -> None:
    await emulator.admin.fault("drop", count=2)
    await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.SETUP_RETRY


async def test_missing_secrets_start_reauth(
    hass: HomeAssistant,
    config_entry: MobileTokenConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    await hass.config_entries.async_unload(config_entry.entry_id)
    del hass_storage[f"{DOMAIN}.{config_entry.data[CONF_ACTIVATION_ID]}"]
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_restart_keeps_the_counter(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    key = f"{DOMAIN}.{config_entry.data[CONF_ACTIVATION_ID]}"
    for _ in range(2):
        operation = await create_operation(emulator)
        # The card's way in (its websocket command hands the PIN to ``actions``).
        await actions.async_approve(config_entry.runtime_data.coordinator, operation["id"], pin=PIN)
        counter = hass_storage[key]["data"]["ctrByte"]
        (server,) = await emulator.admin.activations()
        assert server["counter"] % 256 == counter
        # Unload and set up again, as a restart does: the counter comes from the store.
        assert await hass.config_entries.async_reload(config_entry.entry_id)
        await hass.async_block_till_done()
        assert config_entry.state is ConfigEntryState.LOADED
        assert hass_storage[key]["data"]["ctrByte"] == counter
    assert (await emulator.admin.get_operation(operation["id"]))["status"] == "APPROVED"


async def test_polling_switch_stops_and_starts_polling(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: POLLING}, blocking=True
    )
    assert hass.states.get(POLLING).state == STATE_OFF
    await create_operation(emulator)
    await tick(hass, freezer)
    await tick(hass, freezer)
    assert hass.states.get(PENDING).state == "0"

    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: POLLING}, blocking=True
    )
    assert hass.states.get(POLLING).state == STATE_ON
    assert hass.states.get(PENDING).state == "1"
    await create_operation(emulator)
    await tick(hass, freezer)
    assert hass.states.get(PENDING).state == "2"


async def test_polling_switch_follows_the_system_option(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    hass.config_entries.async_update_entry(config_entry, pref_disable_polling=True)
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(POLLING).state == STATE_OFF
    await create_operation(emulator)
    await tick(hass, freezer)
    assert hass.states.get(PENDING).state == "0"

    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: POLLING}, blocking=True
        )
    assert err.value.translation_key == "polling_disabled_by_system"
    assert hass.states.get(POLLING).state == STATE_OFF

    hass.config_entries.async_update_entry(config_entry, pref_disable_polling=False)
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(POLLING).state == STATE_ON
    assert hass.states.get(PENDING).state == "1"


async def test_polling_switch_off_while_the_server_is_down(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await emulator.admin.fault("drop")
    await tick(hass, freezer)
    assert hass.states.get(PENDING).state == STATE_UNAVAILABLE
    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: POLLING}, blocking=True
    )
    assert hass.states.get(POLLING).state == STATE_OFF


async def test_polling_stays_off_after_restart(
    hass: HomeAssistant, config_entry: MobileTokenConfigEntry
) -> None:
    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: POLLING}, blocking=True
    )
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(POLLING).state == STATE_OFF
    assert config_entry.runtime_data.coordinator.update_interval is None


async def test_options_apply_at_the_next_poll(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    hass.config_entries.async_update_entry(
        config_entry, options={CONF_SCAN_INTERVAL: 2, CONF_LANGUAGE: "cs"}
    )
    coordinator = config_entry.runtime_data.coordinator
    await create_operation(
        emulator, texts={"cs": {"title": "Platba", "message": "Potvrďte platbu"}}
    )
    await tick(hass, freezer)
    # Below the minimum: raised to 5 s, as the mobile SDK does.
    assert coordinator.update_interval == timedelta(seconds=5)
    assert coordinator.session.language == "cs"
    await tick(hass, freezer, timedelta(seconds=5))
    assert hass.states.get(PENDING).attributes["operations"][0]["title"] == "Platba"


async def test_removing_the_entry_deletes_the_secrets(
    hass: HomeAssistant,
    config_entry: MobileTokenConfigEntry,
    hass_storage: dict[str, Any],
    issue_registry: ir.IssueRegistry,
) -> None:
    key = f"{DOMAIN}.{config_entry.data[CONF_ACTIVATION_ID]}"
    assert key in hass_storage
    await hass.config_entries.async_remove(config_entry.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage
    issue_id = f"remove_in_bank_app_{config_entry.entry_id}"
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.is_fixable

    assert await async_setup_component(hass, "repairs", {})
    flow_manager = repairs_flow_manager(hass)
    assert flow_manager is not None
    result = await flow_manager.async_init(DOMAIN, data={"issue_id": issue_id})
    assert result["step_id"] == "confirm"
    result = await flow_manager.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


@pytest.mark.parametrize(("action", "status"), [("block", "blocked"), ("remove", "removed")])
async def test_removing_a_blocked_entry_withdraws_its_issue(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
    action: str,
    status: str,
) -> None:
    issue_id = f"activation_{status}_{config_entry.entry_id}"
    await getattr(emulator.admin, action)(config_entry.unique_id)
    await tick(hass, freezer, STATUS_CHECK_INTERVAL)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None

    await hass.config_entries.async_remove(config_entry.entry_id)
    await hass.async_block_till_done()

    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_event_entity_ignores_events_after_unload(
    hass: HomeAssistant, config_entry: MobileTokenConfigEntry
) -> None:
    coordinator = config_entry.runtime_data.coordinator
    await hass.config_entries.async_unload(config_entry.entry_id)
    assert coordinator._event_listeners == []
