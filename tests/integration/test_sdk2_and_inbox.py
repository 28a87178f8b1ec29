"""Mobile Token SDK 2.x/3.x against the emulator: screen lists, alerts, the inbox, calls."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.mobile_token import actions
from custom_components.mobile_token.const import (
    CONF_CALL_SENSORS,
    DOMAIN,
    EVENT_MESSAGE_RECEIVED,
    EVENT_OPERATION_ADDED,
    INBOX_SCAN_INTERVAL,
)
from custom_components.mobile_token.coordinator import MobileTokenConfigEntry

from .conftest import PIN, USER_ID, create_operation

UNREAD = "sensor.kitchen_tablet_unread_messages"
INTERVAL = timedelta(seconds=7)
SCREENS = [
    {
        "id": "warning-1",
        "type": "WARNING",
        "heading": "Watch out!",
        "message": "You may be the target of a scam.",
        "elements": [{"id": "e1", "type": "ALERT", "style": "DANGER", "text": "Hang up first."}],
        "controls": {"approve": {"type": "SLIDER", "counter": 3}},
    },
    {"id": "scan-1", "type": "QR_SCAN", "heading": "Scan", "message": "Scan the code"},
]
ALERT = {
    "type": "ALERT",
    "id": "operation.fraud",
    "label": "Warning",
    "alertType": "WARNING",
    "title": "New payee",
    "message": "You have never paid this account before.",
}


async def tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def call(
    hass: HomeAssistant, service: str, data: dict[str, Any], *, response: bool = False
) -> Any:
    if "pin" in data:
        # No action takes a PIN: the card's commands hand it to ``actions``, called here.
        assert service == "approve", service
        data = dict(data)
        [entry] = hass.config_entries.async_entries(DOMAIN)
        return await actions.async_approve(
            entry.runtime_data.coordinator, data.pop("operation_id"), **data
        )
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=response
    )


async def test_a_qr_scan_in_the_screen_list_needs_a_proximity_code(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    added = async_capture_events(hass, EVENT_OPERATION_ADDED)
    operation = await create_operation(emulator, proximity=True, ui={"preApprovalScreens": SCREENS})
    await tick(hass, freezer, INTERVAL)

    (event,) = added
    assert event.data["operation_id"] == operation["id"]
    assert event.data["requires_proximity"] is True
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "approve", {"operation_id": operation["id"], "pin": PIN})
    assert err.value.translation_key == "proximity_required"
    totp = await emulator.admin.get_totp(operation["id"])
    await call(hass, "approve", {"operation_id": operation["id"], "pin": PIN, "totp": totp})
    assert (await emulator.admin.get_operation(operation["id"]))["status"] == "APPROVED"


async def test_get_operation_returns_alerts_with_title_and_message(
    hass: HomeAssistant, emulator: Any, config_entry: MobileTokenConfigEntry
) -> None:
    operation = await create_operation(emulator, attributes=[ALERT])
    result = await call(hass, "get_operation", {"operation_id": operation["id"]}, response=True)

    (alert,) = result["operation"]["formData"]["attributes"]
    assert (alert["alertType"], alert["title"], alert["message"]) == (
        "WARNING",
        "New payee",
        "You have never paid this account before.",
    )


async def test_the_added_event_warns_of_a_listed_warning_screen_and_repeats_the_alert(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    added = async_capture_events(hass, EVENT_OPERATION_ADDED)
    operation = await create_operation(
        emulator, attributes=[ALERT], ui={"preApprovalScreens": SCREENS[:1]}
    )
    await tick(hass, freezer, INTERVAL)

    (event,) = added
    assert event.data["operation_id"] == operation["id"]
    # Only the card shows the screen list: a notification must not offer to approve.
    assert event.data["warning"] is True
    assert event.data["attributes"] == [
        {"label": "Warning", "value": "New payee: You have never paid this account before."}
    ]


async def test_unread_sensor_counts_messages_and_marking_one_read_lowers_it(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    received = async_capture_events(hass, EVENT_MESSAGE_RECEIVED)
    assert hass.states.get(UNREAD).state == "0"
    first = await emulator.admin.add_message(USER_ID, "Hello", summary="Welcome", body="Hi")
    await emulator.admin.add_message(
        USER_ID, "Rates", summary="New rates", body="<p>New <b>rates</b></p>", type_="html"
    )
    await tick(hass, freezer, INBOX_SCAN_INTERVAL)

    assert hass.states.get(UNREAD).state == "2"
    assert [(e.data["subject"], e.data["summary"]) for e in received] == [
        ("Hello", "Welcome"),
        ("Rates", "New rates"),
    ]
    assert received[0].data["config_entry_id"] == config_entry.entry_id
    assert received[0].data["message_id"] == first["id"]

    listed = await call(hass, "get_messages", {}, response=True)
    assert [(m["subject"], m["read"], m["type"]) for m in listed["messages"]] == [
        ("Rates", False, "html"),
        ("Hello", False, "text"),
    ]
    one = await call(hass, "get_messages", {"message_id": first["id"]}, response=True)
    assert one["messages"][0]["body"] == "Hi"

    await call(hass, "mark_message_read", {"message_id": first["id"]})
    assert hass.states.get(UNREAD).state == "1"
    await call(hass, "mark_message_read", {"all": True})
    assert hass.states.get(UNREAD).state == "0"
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "mark_message_read", {})
    assert err.value.translation_key == "message_required"
    foreign = await emulator.admin.add_message("bob", "Not yours")
    for service, data in (
        ("get_messages", {"message_id": foreign["id"]}),
        ("mark_message_read", {"message_id": "no-such-message"}),
    ):
        with pytest.raises(ServiceValidationError) as err:
            await call(hass, service, data, response=service == "get_messages")
        assert err.value.translation_key == "message_not_found"

    await tick(hass, freezer, INBOX_SCAN_INTERVAL)
    assert len(received) == 2  # the same messages again are no news


async def test_approval_is_refused_during_a_call_when_the_bank_asks(
    hass: HomeAssistant, emulator: Any, config_entry: MobileTokenConfigEntry
) -> None:
    hass.config_entries.async_update_entry(
        config_entry,
        options={**config_entry.options, CONF_CALL_SENSORS: ["sensor.phone_phone_state"]},
    )
    blocked = await create_operation(emulator, ui={"blockApprovalOnCall": True})
    free = await create_operation(emulator)
    hass.states.async_set("sensor.phone_phone_state", "offhook")

    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "approve", {"operation_id": blocked["id"], "pin": PIN})
    assert err.value.translation_key == "blocked_on_call"
    assert (await emulator.admin.get_operation(blocked["id"]))["failureCount"] == 0
    await call(hass, "approve", {"operation_id": free["id"], "pin": PIN})

    hass.states.async_set("sensor.phone_phone_state", "idle")
    await call(hass, "approve", {"operation_id": blocked["id"], "pin": PIN})
    assert (await emulator.admin.get_operation(blocked["id"]))["status"] == "APPROVED"


async def test_card_sends_the_screen_record_claims_and_reads_messages(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
) -> None:
    client = await hass_ws_client(hass)
    entry_id = config_entry.entry_id
    operation = await create_operation(emulator, ui={"preApprovalScreens": SCREENS[:1]})
    visits = [
        {
            "screen": "warning-1",
            "timestampOpened": "2026-11-30T10:00:00Z",
            "timestampClosed": "2026-11-30T10:00:05Z",
            "action": "CONTINUE",
        }
    ]
    await client.send_json_auto_id(
        {
            "type": "mobile_token/approve",
            "entry_id": entry_id,
            "operation_id": operation["id"],
            "pin": PIN,
            "screen_visits": visits,
        }
    )
    assert (await client.receive_json())["success"]
    stored = await emulator.admin.get_operation(operation["id"])
    assert stored["mobileTokenData"] == {"preApprovalScreens": visits}

    await client.send_json_auto_id(
        {
            "type": "mobile_token/reject",
            "entry_id": entry_id,
            "operation_id": (await create_operation(emulator))["id"],
            "reason": "UNKNOWN",
            "screen_visits": [{"screen": "x"}],
        }
    )
    refused = await client.receive_json()
    assert refused["error"]["code"] == "invalid_input"

    unclaimed = await create_operation(emulator, userId=None)
    await client.send_json_auto_id(
        {"type": "mobile_token/claim", "entry_id": entry_id, "operation_id": unclaimed["id"]}
    )
    claimed = await client.receive_json()
    assert claimed["result"]["operation"]["id"] == unclaimed["id"]
    assert unclaimed["id"] in [op.id for op in config_entry.runtime_data.coordinator.data]

    message = await emulator.admin.add_message(USER_ID, "Hi", body="<b>x</b>", type_="html")
    await client.send_json_auto_id({"type": "mobile_token/refresh", "entry_id": entry_id})
    assert (await client.receive_json())["result"] == {"available": True}
    await client.send_json_auto_id(
        {"type": "mobile_token/messages", "entry_id": entry_id, "message_id": message["id"]}
    )
    (detail,) = (await client.receive_json())["result"]["messages"]
    assert (detail["body"], detail["type"]) == ("<b>x</b>", "html")
    await client.send_json_auto_id(
        {"type": "mobile_token/message_read", "entry_id": entry_id, "message_id": message["id"]}
    )
    assert (await client.receive_json())["result"] == {"unread": 0}


async def test_subscription_tells_the_unread_count_and_the_servers_clock(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
) -> None:
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": "mobile_token/subscribe", "entry_id": config_entry.entry_id}
    )
    assert (await client.receive_json())["success"]
    first = (await client.receive_json())["event"]
    assert first["unreadMessages"] == 0
    clock = config_entry.runtime_data.coordinator.session.clock
    assert abs(first["serverTime"] - clock.now_ms()) < 5000

    await emulator.admin.add_message(USER_ID, "News")
    await config_entry.runtime_data.inbox.async_refresh()
    assert (await client.receive_json())["event"]["unreadMessages"] == 1


async def test_a_failing_inbox_leaves_the_operations_alone(
    hass: HomeAssistant, emulator: Any, config_entry: MobileTokenConfigEntry
) -> None:
    runtime = config_entry.runtime_data
    await emulator.admin.fault("http500", count=1)
    await runtime.inbox.async_refresh()
    await hass.async_block_till_done()

    assert hass.states.get(UNREAD).state == "unavailable"
    assert hass.states.get("sensor.kitchen_tablet_pending_operations").state == "0"
    await runtime.coordinator.async_refresh()
    assert runtime.coordinator.last_update_success

    await emulator.admin.add_message(USER_ID, "Back")
    await runtime.inbox.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get(UNREAD).state == "1"
