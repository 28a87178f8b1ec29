"""The dashboard card's websocket commands against the emulator."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockUser
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.mobile_token.coordinator import MobileTokenConfigEntry

from .conftest import PIN, create_operation

WRONG_PIN = "9999"
# Distinctive so that any trace of it in the log is found.
MALFORMED_PIN = "73a9"


async def _subscribe(client: Any, entry: MobileTokenConfigEntry) -> tuple[int, dict[str, Any]]:
    await client.send_json_auto_id({"type": "mobile_token/subscribe", "entry_id": entry.entry_id})
    result = await client.receive_json()
    assert result["success"], result
    event = await client.receive_json()
    assert event["type"] == "event"
    return result["id"], event["event"]


async def _call(client: Any, message: dict[str, Any]) -> dict[str, Any]:
    """Send a command and return its result, skipping events of earlier subscriptions."""
    await client.send_json_auto_id(message)
    while True:
        response: dict[str, Any] = await client.receive_json()
        if response["id"] == message["id"]:
            return response


def _approve(entry: MobileTokenConfigEntry, operation_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": "mobile_token/approve",
        "entry_id": entry.entry_id,
        "operation_id": operation_id,
        **fields,
    }


async def test_subscribe_sends_the_pending_list_and_its_changes(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
) -> None:
    first = await create_operation(emulator)
    coordinator = config_entry.runtime_data.coordinator
    await coordinator.async_refresh()
    client = await hass_ws_client(hass)

    subscription, event = await _subscribe(client, config_entry)

    assert event["allowBiometry"] is False
    assert event["loaded"] is True
    [operation] = event["operations"]
    assert operation["id"] == first["id"]
    assert operation["formData"]["title"] == "Payment"
    assert operation["formData"]["attributes"][0]["type"] == "AMOUNT"
    assert operation["requiresPin"] is True
    assert operation["allowsBiometry"] is False
    assert operation["requiresProximity"] is False

    second = await create_operation(emulator, title="Second payment")
    await coordinator.async_refresh()
    update = await client.receive_json()
    assert update["id"] == subscription
    assert {op["id"] for op in update["event"]["operations"]} == {first["id"], second["id"]}


async def test_approve_with_pin_signs_with_knowledge_and_updates_subscribers(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
) -> None:
    created = await create_operation(emulator)
    await config_entry.runtime_data.coordinator.async_refresh()
    client = await hass_ws_client(hass)
    await _subscribe(client, config_entry)

    await client.send_json_auto_id(_approve(config_entry, created["id"], pin=PIN))
    messages = [await client.receive_json(), await client.receive_json()]

    result = next(message for message in messages if message["type"] == "result")
    assert result["success"], result
    assert result["result"] == {"id": created["id"], "status": "APPROVED"}
    update = next(message for message in messages if message["type"] == "event")
    assert update["event"]["operations"] == []
    server = await emulator.admin.get_operation(created["id"])
    assert server["status"] == "APPROVED"
    assert server["signatureType"] == "possession_knowledge"


async def test_wrong_pin_reports_remaining_attempts(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
) -> None:
    created = await create_operation(emulator)
    client = await hass_ws_client(hass)

    response = await _call(client, _approve(config_entry, created["id"], pin=WRONG_PIN))

    assert response["success"] is False
    error = response["error"]
    assert error["code"] == "wrong_pin"
    assert error["translation_key"] == "wrong_pin"
    assert error["translation_domain"] == "mobile_token"
    remaining = error["translation_placeholders"]["remaining_attempts"]
    assert int(remaining) >= 1
    assert remaining in error["message"]
    assert (await emulator.admin.get_operation(created["id"]))["status"] == "PENDING"


async def test_approve_without_pin_needs_the_biometry_opt_in(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Any,
    biometry_entry: MobileTokenConfigEntry,
) -> None:
    created = await create_operation(emulator)
    await biometry_entry.runtime_data.coordinator.async_refresh()
    client = await hass_ws_client(hass)
    _, event = await _subscribe(client, biometry_entry)
    assert event["allowBiometry"] is True
    assert event["operations"][0]["allowsBiometry"] is True

    response = await _call(
        client, _approve(biometry_entry, created["id"], factor="possession_biometry")
    )

    assert response["success"], response
    server = await emulator.admin.get_operation(created["id"])
    assert server["signatureType"] == "possession_biometry"


async def test_reject_sends_the_reason(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
) -> None:
    created = await create_operation(emulator)
    client = await hass_ws_client(hass)

    response = await _call(
        client,
        {
            "type": "mobile_token/reject",
            "entry_id": config_entry.entry_id,
            "operation_id": created["id"],
            "reason": "POSSIBLE_FRAUD",
        },
    )

    assert response["success"], response
    assert response["result"]["status"] == "REJECTED"
    server = await emulator.admin.get_operation(created["id"])
    assert server["status"] == "REJECTED"
    assert server["rejectReason"] == "POSSIBLE_FRAUD"


async def test_finished_operation_is_reported(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
) -> None:
    created = await create_operation(emulator)
    client = await hass_ws_client(hass)
    assert (await _call(client, _approve(config_entry, created["id"], pin=PIN)))["success"]

    response = await _call(client, _approve(config_entry, created["id"], pin=PIN))

    assert response["error"]["code"] == "operation_already_finished"


async def test_user_not_allowed_is_refused(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
) -> None:
    created = await create_operation(emulator)
    client = await hass_ws_client(hass, hass_read_only_access_token)

    subscribe = await _call(
        client, {"type": "mobile_token/subscribe", "entry_id": config_entry.entry_id}
    )
    approve = await _call(client, _approve(config_entry, created["id"], pin=PIN))
    reject = await _call(
        client,
        {
            "type": "mobile_token/reject",
            "entry_id": config_entry.entry_id,
            "operation_id": created["id"],
            "reason": "UNKNOWN",
        },
    )

    for response in (subscribe, approve, reject):
        assert response["success"] is False
        assert response["error"]["code"] == "not_allowed"
    assert (await emulator.admin.get_operation(created["id"]))["status"] == "PENDING"


async def test_unknown_entry_is_reported(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    config_entry: MobileTokenConfigEntry,
) -> None:
    client = await hass_ws_client(hass)

    response = await _call(client, {"type": "mobile_token/subscribe", "entry_id": "nope"})

    assert response["error"]["code"] == "entry_not_found"


async def test_malformed_pin_is_refused_without_being_logged(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    created = await create_operation(emulator)
    client = await hass_ws_client(hass)

    response = await _call(client, _approve(config_entry, created["id"], pin=MALFORMED_PIN))

    assert response["error"]["code"] == "pin_too_short"
    assert MALFORMED_PIN not in response["error"]["message"]
    # Home Assistant's own DEBUG trace of every received websocket message (which also shows
    # access tokens) is the only place it may appear; no warning, error or log of ours has it.
    logged = [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.INFO or record.name.startswith("custom_components")
    ]
    assert not [message for message in logged if MALFORMED_PIN in message]
    assert (await emulator.admin.get_operation(created["id"]))["status"] == "PENDING"


async def test_subscribers_are_told_when_the_entry_unloads(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    config_entry: MobileTokenConfigEntry,
) -> None:
    client = await hass_ws_client(hass)
    subscription, _ = await _subscribe(client, config_entry)

    assert await hass.config_entries.async_unload(config_entry.entry_id)

    update = await client.receive_json()
    assert update["id"] == subscription
    assert update["event"] == {"operations": [], "allowBiometry": False, "loaded": False}


async def test_unsubscribe_after_the_entry_unloaded(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    config_entry: MobileTokenConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = await hass_ws_client(hass)
    subscription, _ = await _subscribe(client, config_entry)
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    update = await client.receive_json()
    assert update["event"]["loaded"] is False

    with caplog.at_level(logging.ERROR):
        result = await _call(client, {"type": "unsubscribe_events", "subscription": subscription})

    assert result["success"], result
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


async def test_subscription_stops_when_the_user_is_no_longer_allowed(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_user: MockUser,
    hass_read_only_access_token: str,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
) -> None:
    hass.config_entries.async_update_entry(
        config_entry, options={**config_entry.options, "allowed_users": [hass_read_only_user.id]}
    )
    await create_operation(emulator)
    await config_entry.runtime_data.coordinator.async_refresh()
    client = await hass_ws_client(hass, hass_read_only_access_token)
    subscription, first = await _subscribe(client, config_entry)
    assert len(first["operations"]) == 1

    hass.config_entries.async_update_entry(
        config_entry, options={**config_entry.options, "allowed_users": []}
    )
    config_entry.runtime_data.coordinator.async_update_listeners()

    update = await client.receive_json()
    assert update["id"] == subscription
    assert update["event"] == {"operations": [], "allowBiometry": False, "loaded": False}
    again = await _call(
        client, {"type": "mobile_token/subscribe", "entry_id": config_entry.entry_id}
    )
    assert again["error"]["code"] == "not_allowed"
