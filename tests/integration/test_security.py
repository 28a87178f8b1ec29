"""What a token people trust with their bank must hold to, each against the emulator.

The PIN only through the card's websocket commands, nothing the server says
becomes a path, plain http only on this machine, every PIN path guarded, the
counter inside the server's window, durable writes while stopping, forged
offline QR codes refused before they are shown, notifications that say what
is approved, removal at the bank.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_CALL_SERVICE
from homeassistant.core import Context, CoreState, Event, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError, Unauthorized
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.mobile_token.config_flow import is_loopback_host, url_error
from custom_components.mobile_token.const import (
    DOMAIN,
    EVENT_OPERATION_ADDED,
    ISSUE_REMOVE_IN_BANK_APP,
)
from custom_components.mobile_token.coordinator import MobileTokenConfigEntry
from custom_components.mobile_token.mtoken.model import ProximityCheckType
from custom_components.mobile_token.mtoken.session import MAX_UNCONFIRMED_STEPS
from custom_components.mobile_token.proximity import proximity_check

from .conftest import PIN, activation_input, create_operation, start_flow

WRONG_PIN = "9999"
STATUS = "sensor.kitchen_tablet_activation_status"
PENDING = "sensor.kitchen_tablet_pending_operations"
EVENTS = "event.kitchen_tablet_operations"


async def ws(client: Any, message: dict[str, Any]) -> dict[str, Any]:
    """Send a card command and return its answer."""
    await client.send_json_auto_id(message)
    while True:
        response: dict[str, Any] = await client.receive_json()
        if response["id"] == message["id"]:
            return response


async def server_activation(emulator: Any, entry: MobileTokenConfigEntry) -> dict[str, Any]:
    """The activation as the bank sees it."""
    [activation] = [
        item
        for item in await emulator.admin.activations()
        if item["activationId"] == entry.unique_id
    ]
    return activation


# -- 1. the PIN only through the card -------------------------------------------------


@pytest.mark.parametrize(
    ("service", "data"),
    [
        ("approve", {"operation_id": "x", "pin": PIN}),
        ("get_history", {"pin": PIN}),
        ("sign_offline_qr", {"qr": "x", "pin": PIN}),
        ("approve", {"operation_id": "x", "factor": "possession_knowledge"}),
    ],
)
async def test_actions_refuse_a_pin_before_anything_is_recorded(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    service: str,
    data: dict[str, Any],
) -> None:
    fired: list[Event] = []

    @callback
    def _record(event: Event) -> None:
        fired.append(event)

    hass.bus.async_listen(EVENT_CALL_SERVICE, _record)
    with pytest.raises(vol.Invalid):
        await hass.services.async_call(
            DOMAIN, service, data, blocking=True, return_response=service != "approve"
        )
    await hass.async_block_till_done()
    assert fired == []


async def test_history_offline_signing_and_removal_through_the_card(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
) -> None:
    client = await hass_ws_client(hass)
    entry_id = config_entry.entry_id
    rejected = await create_operation(emulator)
    await hass.services.async_call(
        DOMAIN,
        "reject",
        {"operation_id": rejected["id"], "reason": "POSSIBLE_FRAUD"},
        blocking=True,
    )

    history = await ws(client, {"type": "mobile_token/history", "entry_id": entry_id, "pin": PIN})
    assert history["success"], history
    [item] = history["result"]["operations"]
    assert (item["id"], item["status"]) == (rejected["id"], "REJECTED")

    offline = await create_operation(emulator, title="Offline payment")
    qr = await emulator.admin.offline_qr(offline["id"])
    signed = await ws(
        client,
        {"type": "mobile_token/sign_offline_qr", "entry_id": entry_id, "qr": qr, "pin": PIN},
    )
    assert signed["success"], signed
    assert signed["result"]["operation"]["title"] == "Offline payment"
    assert await emulator.admin.verify_offline(
        config_entry.unique_id, offline["id"], signed["result"]["code"]
    )

    wrong = await ws(
        client,
        {"type": "mobile_token/remove_activation", "entry_id": entry_id, "pin": WRONG_PIN},
    )
    assert wrong["error"]["code"] == "wrong_pin"
    assert wrong["error"]["translation_placeholders"] == {"remaining_attempts": "4"}
    assert config_entry.state is ConfigEntryState.LOADED

    removed = await ws(
        client, {"type": "mobile_token/remove_activation", "entry_id": entry_id, "pin": PIN}
    )
    assert removed == {**removed, "success": True, "result": {}}
    await hass.async_block_till_done()
    assert (await server_activation(emulator, config_entry))["status"] == "REMOVED"
    assert hass.config_entries.async_get_entry(entry_id) is None
    # Removed at the bank already: no reminder to do it in the bank's app.
    issue_id = f"{ISSUE_REMOVE_IN_BANK_APP}_{entry_id}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_card_commands_follow_the_permission_rule(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
) -> None:
    client = await hass_ws_client(hass, hass_read_only_access_token)
    for command in ("history", "sign_offline_qr", "remove_activation"):
        message = {"type": f"mobile_token/{command}", "entry_id": config_entry.entry_id}
        if command == "sign_offline_qr":
            message["qr"] = "x"
        answer = await ws(client, {**message, "pin": PIN})
        assert answer["error"]["code"] == "not_allowed", command
    assert (await server_activation(emulator, config_entry))["status"] == "ACTIVE"


async def test_refresh_obeys_the_user_rule(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    hass_read_only_user: Any,
) -> None:
    with pytest.raises(Unauthorized) as err:
        await hass.services.async_call(
            DOMAIN, "refresh", {}, blocking=True, context=Context(user_id=hass_read_only_user.id)
        )
    assert err.value.translation_key == "not_allowed"


def test_event_entity_keeps_operation_texts_out_of_the_database() -> None:
    from custom_components.mobile_token.event import MobileTokenOperationsEvent

    assert {"title", "message"} <= MobileTokenOperationsEvent._unrecorded_attributes


# -- 2. nothing the server says becomes a path ----------------------------------------------


async def test_activation_id_that_is_not_a_uuid_fails_and_writes_nothing(
    hass: HomeAssistant, emulator: Any, hass_storage: dict[str, Any]
) -> None:
    result = await start_flow(hass, emulator)
    created = await emulator.admin.create_activation_code("alice", activationId="../../x")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], activation_input(str(created["activationCode"]))
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_activation_id"}
    assert not [key for key in hass_storage if key.startswith(DOMAIN)]
    assert hass.config_entries.async_entries(DOMAIN) == []


# -- 3. transport ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://127.0.0.1:8082", None),
        ("http://127.3.2.1", None),
        ("http://[::1]:8082/base", None),
        ("http://localhost:8082", None),
        ("http://LOCALHOST.", None),
        ("https://bank.example", None),
        ("http://bank.example", "insecure_url"),
        ("http://10.0.0.8", "insecure_url"),
        ("http://[::2]", "insecure_url"),
        ("http://localhost.bank.example", "insecure_url"),
        ("ftp://bank.example", "invalid_url"),
    ],
)
def test_plain_http_only_for_this_machine(url: str, error: str | None) -> None:
    assert url_error(url) == error


def test_loopback_hosts() -> None:
    assert is_loopback_host("127.0.0.1")
    assert not is_loopback_host("128.0.0.1")


# -- 4. every PIN path guarded -----------------------------------------------------------------


async def test_history_has_the_last_attempt_guard(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
) -> None:
    client = await hass_ws_client(hass)
    message = {"type": "mobile_token/history", "entry_id": config_entry.entry_id, "pin": WRONG_PIN}
    for remaining in (4, 3, 2, 1):
        answer = await ws(client, message)
        assert answer["error"]["code"] == "wrong_pin"
        assert answer["error"]["translation_placeholders"] == {"remaining_attempts": str(remaining)}
        assert hass.states.get(STATUS).attributes["remaining_attempts"] == remaining
    answer = await ws(client, message)
    assert answer["error"]["code"] == "block_risk"
    assert (await server_activation(emulator, config_entry))["status"] == "ACTIVE"
    answer = await ws(client, {**message, "pin": PIN, "accept_block_risk": True})
    assert answer["success"], answer
    assert hass.states.get(STATUS).attributes["remaining_attempts"] == 5


async def test_the_guard_reads_attempts_spent_behind_the_tokens_back(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
) -> None:
    operation = await create_operation(emulator)
    offline = await create_operation(emulator)
    await emulator.admin.offline_qr(offline["id"])
    # Wrong offline codes typed at the bank: the token does not see them happen.
    for _ in range(4):
        assert not await emulator.admin.verify_offline(
            config_entry.unique_id, offline["id"], "12345678-12345678"
        )
    assert hass.states.get(STATUS).attributes["remaining_attempts"] == 5

    client = await hass_ws_client(hass)
    answer = await ws(
        client,
        {
            "type": "mobile_token/approve",
            "entry_id": config_entry.entry_id,
            "operation_id": operation["id"],
            "pin": WRONG_PIN,
        },
    )
    assert answer["error"]["code"] == "block_risk"
    assert answer["error"]["translation_placeholders"] == {"remaining_attempts": "1"}
    assert hass.states.get(STATUS).attributes["remaining_attempts"] == 1
    assert (await server_activation(emulator, config_entry))["failedAttempts"] == 4


async def test_wrong_pin_answered_as_operation_failed_reads_the_attempts(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
) -> None:
    operation = await create_operation(emulator)
    await config_entry.runtime_data.coordinator.async_refresh()
    client = await hass_ws_client(hass)
    message = {
        "type": "mobile_token/approve",
        "entry_id": config_entry.entry_id,
        "operation_id": operation["id"],
        "pin": WRONG_PIN,
    }
    # The status read before the PIN, then the approval the server answers OPERATION_FAILED.
    await emulator.admin.fault("operation_failed", count=10)
    answer = await ws(client, message)
    assert answer["error"]["code"] == "wrong_pin"
    assert answer["error"]["translation_placeholders"] == {"remaining_attempts": "4"}
    assert hass.states.get(STATUS).attributes["failed_attempts"] == 1
    assert hass.states.get(STATUS).attributes["remaining_attempts"] == 4
    assert hass.states.get(EVENTS).attributes["error"] == "wrong_pin"


async def test_blocking_pin_reports_the_block(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
) -> None:
    client = await hass_ws_client(hass)
    message = {"type": "mobile_token/history", "entry_id": config_entry.entry_id, "pin": WRONG_PIN}
    await emulator.admin.fault("operation_failed", count=20)
    for _ in range(4):
        await ws(client, message)
    answer = await ws(client, {**message, "accept_block_risk": True})
    assert answer["error"]["code"] == "activation_blocked"
    assert (await server_activation(emulator, config_entry))["status"] == "BLOCKED"


# -- 5. the counter stays inside the server's window ------------------------------------------


async def _sign_offline(client: Any, entry: MobileTokenConfigEntry, qr: str) -> dict[str, Any]:
    return await ws(
        client,
        {"type": "mobile_token/sign_offline_qr", "entry_id": entry.entry_id, "qr": qr, "pin": PIN},
    )


async def test_many_offline_signatures_keep_the_token_usable(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
) -> None:
    client = await hass_ws_client(hass)
    offline = await create_operation(emulator)
    qr = await emulator.admin.offline_qr(offline["id"])
    for _ in range(25):
        answer = await _sign_offline(client, config_entry, qr)
        assert answer["success"], answer
        state = config_entry.runtime_data.coordinator.session.state
        assert state.unconfirmed_steps <= MAX_UNCONFIRMED_STEPS
    # The server still finds the token's signatures: an online approval works.
    operation = await create_operation(emulator)
    answer = await ws(
        client,
        {
            "type": "mobile_token/approve",
            "entry_id": config_entry.entry_id,
            "operation_id": operation["id"],
            "pin": PIN,
        },
    )
    assert answer["success"], answer


async def test_counter_ahead_without_the_server_is_refused(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
) -> None:
    client = await hass_ws_client(hass)
    offline = await create_operation(emulator)
    qr = await emulator.admin.offline_qr(offline["id"])
    for _ in range(MAX_UNCONFIRMED_STEPS):
        assert (await _sign_offline(client, config_entry, qr))["success"]
    await emulator.admin.fault("drop", count=1)
    answer = await _sign_offline(client, config_entry, qr)
    assert answer["error"]["code"] == "counter_ahead"
    # Connected again, the token resynchronises and signs.
    assert (await _sign_offline(client, config_entry, qr))["success"]


# -- 6. durable even while stopping -------------------------------------------------------------


async def test_nothing_is_signed_while_home_assistant_stops(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Any,
    biometry_entry: MobileTokenConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    operation = await create_operation(emulator)
    counter = hass_storage[f"{DOMAIN}.{biometry_entry.unique_id}"]["data"]["ctrByte"]
    hass.set_state(CoreState.stopping)
    try:
        with pytest.raises(HomeAssistantError) as err:
            await hass.services.async_call(
                DOMAIN, "approve", {"operation_id": operation["id"]}, blocking=True
            )
    finally:
        hass.set_state(CoreState.running)
    assert err.value.translation_key == "state_not_saved"
    assert (await emulator.admin.get_operation(operation["id"]))["status"] == "PENDING"
    assert hass_storage[f"{DOMAIN}.{biometry_entry.unique_id}"]["data"]["ctrByte"] == counter
    await hass.services.async_call(
        DOMAIN, "approve", {"operation_id": operation["id"]}, blocking=True
    )
    assert (await emulator.admin.get_operation(operation["id"]))["status"] == "APPROVED"


# -- 7. offline QR verified before it is shown -----------------------------------------------


async def test_parse_offline_qr_refuses_a_forged_qr(
    hass: HomeAssistant, emulator: Any, config_entry: MobileTokenConfigEntry
) -> None:
    operation = await create_operation(emulator, title="Offline payment")
    qr = await emulator.admin.offline_qr(operation["id"])
    parsed = await hass.services.async_call(
        DOMAIN, "parse_offline_qr", {"qr": qr}, blocking=True, return_response=True
    )
    assert parsed["operation"]["title"] == "Offline payment"
    lines = qr.split("\n")
    lines[1] = "Forged title"
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "parse_offline_qr",
            {"qr": "\n".join(lines)},
            blocking=True,
            return_response=True,
        )
    assert err.value.translation_key == "invalid_qr_signature"
    # Signed with the activation's own server key: accepted too.
    personal = await emulator.admin.offline_qr(
        operation["id"], signing_key="personalized", activation_id=config_entry.unique_id
    )
    parsed = await hass.services.async_call(
        DOMAIN, "parse_offline_qr", {"qr": personal}, blocking=True, return_response=True
    )
    assert parsed["operation"]["operationId"] == operation["id"]


# -- 8. notifications say what is approved -----------------------------------------------------


async def test_operation_added_event_carries_attributes_and_warning(
    hass: HomeAssistant, emulator: Any, config_entry: MobileTokenConfigEntry
) -> None:
    events: list[Event] = []

    @callback
    def _record(event: Event) -> None:
        events.append(event)

    hass.bus.async_listen(EVENT_OPERATION_ADDED, _record)
    await create_operation(emulator)
    await create_operation(
        emulator,
        title="Careful",
        ui={"preApprovalScreen": {"type": "WARNING", "heading": "Fraud?", "message": "Check"}},
    )
    await config_entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    plain, warned = sorted(events, key=lambda event: event.data["title"] == "Careful")
    assert plain.data["warning"] is False
    assert warned.data["warning"] is True
    attributes = plain.data["attributes"]
    assert attributes
    assert all(set(item) == {"label", "value"} for item in attributes)
    assert all(isinstance(item["value"], str) and item["value"] for item in attributes)


# -- 9. proximity data as the guide says ---------------------------------------------------------


@pytest.mark.parametrize(
    ("pac", "kind"),
    [
        ("mtoken://operation?oid={oid}&potp=12345678", ProximityCheckType.DEEPLINK),
        ("{jwt}", ProximityCheckType.QR_CODE),
    ],
)
async def test_proximity_type_and_time_received(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    pac: str,
    kind: ProximityCheckType,
) -> None:
    from .test_services import pac_jwt

    created = await create_operation(
        emulator,
        proximity=True,
        ui={"preApprovalScreen": {"type": "QR_SCAN", "heading": "Scan", "message": "Scan"}},
    )
    client = config_entry.runtime_data.coordinator.client
    operation = await client.get_operation(created["id"])
    received = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    text = pac.format(oid=created["id"], jwt=pac_jwt(created["id"], "12345678"))
    check = proximity_check(operation, text, None, received)
    assert check is not None
    assert (check.type, check.timestamp_received, check.totp) == (kind, received, "12345678")


async def test_card_sends_when_the_proximity_code_was_entered(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
) -> None:
    created = await create_operation(
        emulator,
        proximity=True,
        ui={"preApprovalScreen": {"type": "QR_SCAN", "heading": "Scan", "message": "Scan"}},
    )
    client = await hass_ws_client(hass)
    totp = await emulator.admin.get_totp(created["id"])
    received_ms = int(datetime.now(UTC).timestamp() * 1000) - 5000
    answer = await ws(
        client,
        {
            "type": "mobile_token/approve",
            "entry_id": config_entry.entry_id,
            "operation_id": created["id"],
            "pin": PIN,
            "totp": totp,
            "timestamp_received": received_ms,
        },
    )
    assert answer["success"], answer
    assert (await emulator.admin.get_operation(created["id"]))["status"] == "APPROVED"


# -- 10. lost tokens -----------------------------------------------------------------------------


async def test_deleting_an_entry_with_the_biometry_key_removes_it_at_the_bank(
    hass: HomeAssistant, emulator: Any, biometry_entry: MobileTokenConfigEntry
) -> None:
    await hass.config_entries.async_remove(biometry_entry.entry_id)
    await hass.async_block_till_done()
    assert (await server_activation(emulator, biometry_entry))["status"] == "REMOVED"
    issue_id = f"{ISSUE_REMOVE_IN_BANK_APP}_{biometry_entry.entry_id}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_deleting_an_entry_without_it_reminds_the_user(
    hass: HomeAssistant, emulator: Any, config_entry: MobileTokenConfigEntry
) -> None:
    await hass.config_entries.async_remove(config_entry.entry_id)
    await hass.async_block_till_done()
    assert (await server_activation(emulator, config_entry))["status"] == "ACTIVE"
    issue_id = f"{ISSUE_REMOVE_IN_BANK_APP}_{config_entry.entry_id}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None


async def test_bank_unreachable_at_deletion_reminds_the_user(
    hass: HomeAssistant, emulator: Any, biometry_entry: MobileTokenConfigEntry
) -> None:
    await emulator.admin.fault("drop", count=5)
    await hass.config_entries.async_remove(biometry_entry.entry_id)
    await hass.async_block_till_done()
    assert (await server_activation(emulator, biometry_entry))["status"] == "ACTIVE"
    issue_id = f"{ISSUE_REMOVE_IN_BANK_APP}_{biometry_entry.entry_id}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
