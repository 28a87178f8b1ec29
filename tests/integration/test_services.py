"""Every action's success and refusal paths, against the emulator.

No action takes a PIN: the paths that need one go through the card's
websocket commands (``card`` below), as a user's would.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest
import voluptuous as vol
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError, Unauthorized
from pytest_homeassistant_custom_component.common import MockUser
from pytest_homeassistant_custom_component.typing import WebSocketGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.mobile_token.const import CONF_ALLOWED_USERS, DOMAIN
from custom_components.mobile_token.coordinator import MobileTokenConfigEntry

from .conftest import PIN, activate, create_operation, normalize

EVENTS = "event.kitchen_tablet_operations"
STATUS = "sensor.kitchen_tablet_activation_status"
PENDING = "sensor.kitchen_tablet_pending_operations"
WRONG_PIN = "0000"


async def call(
    hass: HomeAssistant,
    service: str,
    data: dict[str, Any],
    *,
    response: bool = False,
    context: Context | None = None,
) -> Any:
    """Call an action of the integration and wait for it."""
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=response, context=context
    )


class Card:
    """The dashboard card's websocket commands, raising the translated error as actions do."""

    def __init__(self, hass: HomeAssistant, client: Any) -> None:
        self._hass = hass
        self._client = client

    async def __call__(self, command: str, data: dict[str, Any]) -> Any:
        entry_id = data.pop("entry_id", None) or next(
            entry.entry_id
            for entry in self._hass.config_entries.async_entries(DOMAIN)
            if entry.state is ConfigEntryState.LOADED
        )
        message = {"type": f"{DOMAIN}/{command}", "entry_id": entry_id, **data}
        await self._client.send_json_auto_id(message)
        while True:
            answer: dict[str, Any] = await self._client.receive_json()
            if answer["id"] == message["id"]:
                break
        if answer["success"]:
            return answer["result"]
        error = answer["error"]
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=error["code"],
            translation_placeholders=error.get("translation_placeholders"),
        )


@pytest.fixture
async def card(hass: HomeAssistant, hass_ws_client: WebSocketGenerator) -> Card:
    """The card, signed in as the administrator."""
    return Card(hass, await hass_ws_client(hass))


def our_log(caplog: pytest.LogCaptureFixture) -> str:
    """What the integration itself logged (Home Assistant logs websocket messages at DEBUG)."""
    return "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("custom_components.mobile_token")
    )


def pac_jwt(operation_id: str, totp: str) -> str:
    """A proximity QR code as the bank shows it (JWT with alg none)."""

    def part(obj: dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'typ': 'JWT', 'alg': 'none'})}.{part({'oid': operation_id, 'potp': totp})}."


async def server_status(emulator: Any, operation_id: str) -> str:
    """The operation's status on the bank's side."""
    return str((await emulator.admin.get_operation(operation_id))["status"])


async def test_approve_with_pin(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    hass_admin_user: MockUser,
    caplog: pytest.LogCaptureFixture,
    card: Card,
) -> None:
    operation = await create_operation(emulator)
    await call(hass, "refresh", {})
    assert hass.states.get(PENDING).state == "1"
    with caplog.at_level(logging.DEBUG, logger="custom_components.mobile_token"):
        await card("approve", {"operation_id": operation["id"], "pin": PIN})
    assert await server_status(emulator, operation["id"]) == "APPROVED"
    event = hass.states.get(EVENTS)
    assert event.attributes["event_type"] == "approved"
    assert event.attributes["id"] == operation["id"]
    assert event.attributes["user_id"] == hass_admin_user.id
    assert event.attributes["user_name"] == hass_admin_user.name
    assert hass.states.get(PENDING).state == "0"
    assert PIN not in our_log(caplog)


async def test_wrong_pin_reports_remaining_attempts_then_blocks(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    caplog: pytest.LogCaptureFixture,
    card: Card,
) -> None:
    operation = await create_operation(emulator, maxFailureCount=10)
    data = {"operation_id": operation["id"], "pin": WRONG_PIN}
    for remaining in (4, 3, 2, 1):
        with pytest.raises(HomeAssistantError) as err:
            await card("approve", dict(data))
        assert err.value.translation_key == "wrong_pin"
        assert err.value.translation_placeholders == {"remaining_attempts": str(remaining)}
        assert hass.states.get(EVENTS).attributes["event_type"] == "failed"
        assert hass.states.get(EVENTS).attributes["error"] == "wrong_pin"
        assert hass.states.get(STATUS).attributes["remaining_attempts"] == remaining

    # The last attempt would block the activation: the caller must accept the risk.
    with pytest.raises(HomeAssistantError) as err:
        await card("approve", dict(data))
    assert err.value.translation_key == "block_risk"

    with pytest.raises(HomeAssistantError) as err:
        await card("approve", {**data, "accept_block_risk": True})
    assert err.value.translation_key == "activation_blocked"
    await hass.async_block_till_done()
    assert hass.states.get(STATUS).state == "blocked"
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert WRONG_PIN not in our_log(caplog)
    assert PIN not in our_log(caplog)


async def test_operation_failed_after_too_many_wrong_signatures(
    hass: HomeAssistant, emulator: Any, config_entry: MobileTokenConfigEntry, card: Card
) -> None:
    operation = await create_operation(emulator, maxFailureCount=1)
    await call(hass, "refresh", {})
    with pytest.raises(HomeAssistantError) as err:
        await card("approve", {"operation_id": operation["id"], "pin": WRONG_PIN})
    # The server says the operation failed; what the user must learn is the wrong PIN.
    assert err.value.translation_key == "wrong_pin"
    assert err.value.translation_placeholders == {"remaining_attempts": "4"}
    assert await server_status(emulator, operation["id"]) == "FAILED"
    # The failed operation left the list, reported once.
    assert hass.states.get(PENDING).state == "0"
    assert hass.states.get(EVENTS).attributes["event_type"] == "failed"
    assert hass.states.get(EVENTS).attributes["error"] == "wrong_pin"
    assert hass.states.get(STATUS).attributes["remaining_attempts"] == 4


@pytest.mark.parametrize(
    ("setup", "error"),
    [
        ("expired", "operation_expired"),
        ("approved", "operation_already_finished"),
        ("rejected", "operation_already_finished"),
        ("unknown", "operation_not_found"),
    ],
)
async def test_approve_refused_by_the_server(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    setup: str,
    error: str,
    card: Card,
) -> None:
    operation = await create_operation(
        emulator, expiresInSeconds=-10 if setup == "expired" else 300
    )
    operation_id = operation["id"]
    if setup == "approved":
        await card("approve", {"operation_id": operation_id, "pin": PIN})
    elif setup == "rejected":
        await call(hass, "reject", {"operation_id": operation_id, "reason": "UNKNOWN"})
    elif setup == "unknown":
        operation_id = "8a1b0e0c-1111-4e4e-9999-000000000000"
    with pytest.raises(HomeAssistantError) as err:
        await card("approve", {"operation_id": operation_id, "pin": PIN})
    assert err.value.translation_key == error


async def test_not_allowed_user_is_refused_until_allowed(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    hass_read_only_user: MockUser,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    operation = await create_operation(emulator)
    context = Context(user_id=hass_read_only_user.id)
    for service, data in (
        ("approve", {"operation_id": operation["id"]}),
        ("reject", {"operation_id": operation["id"], "reason": "UNKNOWN"}),
        ("claim", {"operation_id": operation["id"]}),
        ("get_operation", {"operation_id": operation["id"]}),
        ("get_history", {}),
        ("sign_offline_qr", {"qr": "x"}),
        ("parse_offline_qr", {"qr": "x"}),
        ("refresh", {}),
    ):
        with pytest.raises(Unauthorized) as err:
            await call(
                hass,
                service,
                data,
                context=context,
                response=service not in ("approve", "reject", "refresh"),
            )
        assert err.value.translation_key == "not_allowed"
        assert err.value.user_id == hass_read_only_user.id
        assert str(err.value) == (
            "You are not allowed to use the mobile token Kitchen tablet: "
            "ask an administrator to add you to its allowed users"
        )
    assert await server_status(emulator, operation["id"]) == "PENDING"

    hass.config_entries.async_update_entry(
        config_entry, options={CONF_ALLOWED_USERS: [hass_read_only_user.id]}
    )
    card = Card(hass, await hass_ws_client(hass, hass_read_only_access_token))
    await card("approve", {"operation_id": operation["id"], "pin": PIN})
    assert await server_status(emulator, operation["id"]) == "APPROVED"


async def test_unknown_user_is_refused(
    hass: HomeAssistant, emulator: Any, config_entry: MobileTokenConfigEntry
) -> None:
    operation = await create_operation(emulator)
    with pytest.raises(Unauthorized) as err:
        await call(
            hass,
            "approve",
            {"operation_id": operation["id"]},
            context=Context(user_id="no-such-user"),
        )
    assert err.value.translation_key == "not_allowed"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, "pin_required"),
        ({"factor": "possession"}, "factor_not_allowed"),
        ({"factor": "possession_biometry"}, "biometry_not_enabled"),
    ],
)
async def test_factor_choice_refusals(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    data: dict[str, Any],
    error: str,
) -> None:
    operation = await create_operation(emulator)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "approve", {"operation_id": operation["id"], **data})
    assert err.value.translation_key == error


async def test_one_factor_operation_needs_no_pin(
    hass: HomeAssistant, emulator: Any, config_entry: MobileTokenConfigEntry
) -> None:
    operation = await create_operation(emulator, allowedFactors=["possession"])
    await call(hass, "approve", {"operation_id": operation["id"]})
    assert await server_status(emulator, operation["id"]) == "APPROVED"
    biometry_only = await create_operation(emulator, allowedFactors=["possession_biometry"])
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "approve", {"operation_id": biometry_only["id"]})
    assert err.value.translation_key == "factor_not_allowed"


async def test_approve_without_pin_when_biometry_is_enabled(
    hass: HomeAssistant, emulator: Any, biometry_entry: MobileTokenConfigEntry
) -> None:
    operation = await create_operation(emulator)
    await call(hass, "approve", {"operation_id": operation["id"]})
    assert await server_status(emulator, operation["id"]) == "APPROVED"
    history = await call(hass, "get_history", {}, response=True)
    assert [op["status"] for op in history["operations"]] == ["APPROVED"]


async def test_proximity_check(
    hass: HomeAssistant, emulator: Any, config_entry: MobileTokenConfigEntry, card: Card
) -> None:
    first = await create_operation(
        emulator,
        proximity=True,
        ui={
            "preApprovalScreen": {"type": "QR_SCAN", "heading": "Scan", "message": "Scan the code"}
        },
    )
    second = await create_operation(
        emulator,
        proximity=True,
        ui={
            "preApprovalScreen": {"type": "QR_SCAN", "heading": "Scan", "message": "Scan the code"}
        },
    )
    data = {"operation_id": first["id"], "pin": PIN}
    for extra, error in (
        ({}, "proximity_required"),
        ({"pac": "no proximity code"}, "invalid_pac"),
        ({"pac": pac_jwt(second["id"], "12345678")}, "pac_mismatch"),
    ):
        with pytest.raises(HomeAssistantError) as err:
            await card("approve", {**data, **extra})
        assert err.value.translation_key == error

    totp = await emulator.admin.get_totp(first["id"])
    await card("approve", {**data, "pac": pac_jwt(first["id"], totp)})
    assert await server_status(emulator, first["id"]) == "APPROVED"

    totp = await emulator.admin.get_totp(second["id"])
    await card("approve", {"operation_id": second["id"], "pin": PIN, "totp": totp})
    assert await server_status(emulator, second["id"]) == "APPROVED"


async def test_reject(
    hass: HomeAssistant, emulator: Any, config_entry: MobileTokenConfigEntry
) -> None:
    operation = await create_operation(emulator)
    await call(hass, "refresh", {})
    await call(hass, "reject", {"operation_id": operation["id"], "reason": "POSSIBLE_FRAUD"})
    assert await server_status(emulator, operation["id"]) == "REJECTED"
    event = hass.states.get(EVENTS)
    assert event.attributes["event_type"] == "rejected"
    assert event.attributes["reason"] == "POSSIBLE_FRAUD"
    assert event.attributes["user_id"] is None
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "reject", {"operation_id": operation["id"], "reason": "UNKNOWN"})
    assert err.value.translation_key == "operation_already_finished"


async def test_reject_without_reason_says_unexpected_operation(
    hass: HomeAssistant, emulator: Any, config_entry: MobileTokenConfigEntry
) -> None:
    operation = await create_operation(emulator)
    with pytest.raises(vol.Invalid):
        await call(hass, "reject", {"operation_id": operation["id"], "reason": "X" * 33})
    assert await server_status(emulator, operation["id"]) == "PENDING"
    await call(hass, "reject", {"operation_id": operation["id"]})
    on_server = await emulator.admin.get_operation(operation["id"])
    assert (on_server["status"], on_server["rejectReason"]) == ("REJECTED", "UNEXPECTED_OPERATION")
    assert hass.states.get(EVENTS).attributes["reason"] == "UNEXPECTED_OPERATION"


@pytest.mark.parametrize(
    ("reason", "sent"),
    [
        ("incorrect_data", "INCORRECT_DATA"),
        ("unknown", "UNKNOWN"),
        ("unexpected_operation", "UNEXPECTED_OPERATION"),
        ("INCORRECT_DATA", "INCORRECT_DATA"),
        ("incorrect data", "incorrect data"),
    ],
)
async def test_reject_sends_the_protocols_spelling_of_a_reason_option(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    reason: str,
    sent: str,
) -> None:
    operation = await create_operation(emulator)
    await call(hass, "reject", {"operation_id": operation["id"], "reason": reason})
    on_server = await emulator.admin.get_operation(operation["id"])
    assert (on_server["status"], on_server["rejectReason"]) == ("REJECTED", sent)
    assert hass.states.get(EVENTS).attributes["reason"] == sent


async def test_reject_refused_after_the_server_dropped_the_request(
    hass: HomeAssistant, emulator: Any, config_entry: MobileTokenConfigEntry
) -> None:
    operation = await create_operation(emulator)
    await call(hass, "refresh", {})
    # The operation is listed, so the rejection is the only request; its connection drops.
    await emulator.admin.fault("drop", count=1)
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "reject", {"operation_id": operation["id"], "reason": "UNKNOWN"})
    assert err.value.translation_key == "cannot_connect"
    assert hass.states.get(EVENTS).attributes["event_type"] == "failed"
    assert hass.states.get(EVENTS).attributes["error"] == "cannot_connect"
    assert await server_status(emulator, operation["id"]) == "PENDING"


async def test_claim_get_operation_and_history(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    snapshot: SnapshotAssertion,
    card: Card,
) -> None:
    unclaimed = await create_operation(emulator, userId=None, name="login", title="Log in")
    names: dict[str, str] = {}
    claimed = await call(hass, "claim", {"operation_id": unclaimed["id"]}, response=True)
    assert normalize(claimed, names) == snapshot(name="claim")
    assert hass.states.get(PENDING).state == "1"
    assert hass.states.get(EVENTS).attributes["event_type"] == "added"

    detail = await call(hass, "get_operation", {"operation_id": unclaimed["id"]}, response=True)
    assert normalize(detail, names) == snapshot(name="get_operation")

    await card("approve", {"operation_id": unclaimed["id"], "pin": PIN})
    history = await card("history", {"pin": PIN})
    assert normalize(history, names) == snapshot(name="get_history")

    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "claim", {"operation_id": unclaimed["id"]}, response=True)
    assert err.value.translation_key == "operation_already_finished"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, "pin_required"),
        ({"factor": "possession"}, "factor_not_allowed"),
        ({"factor": "possession_biometry"}, "biometry_not_enabled"),
    ],
)
async def test_history_refusals(
    hass: HomeAssistant, config_entry: MobileTokenConfigEntry, data: dict[str, Any], error: str
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "get_history", data, response=True)
    assert err.value.translation_key == error


async def test_history_with_wrong_pin(
    hass: HomeAssistant, config_entry: MobileTokenConfigEntry, card: Card
) -> None:
    with pytest.raises(HomeAssistantError) as err:
        await card("history", {"pin": WRONG_PIN})
    assert err.value.translation_key == "wrong_pin"
    assert err.value.translation_placeholders == {"remaining_attempts": "4"}


async def test_sign_offline_qr(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    snapshot: SnapshotAssertion,
    caplog: pytest.LogCaptureFixture,
    card: Card,
) -> None:
    operation = await create_operation(emulator, title="Offline payment")
    qr = await emulator.admin.offline_qr(operation["id"])
    parsed = await call(hass, "parse_offline_qr", {"qr": qr}, response=True)
    names: dict[str, str] = {}
    assert normalize(parsed, names) == snapshot(name="parse_offline_qr")

    with caplog.at_level(logging.DEBUG, logger="custom_components.mobile_token"):
        signed = await card("sign_offline_qr", {"qr": qr, "pin": PIN})
    assert signed["operation"] == parsed["operation"]
    code = signed["code"]
    assert normalize({**signed, "code": "<code>"}, names) == snapshot(name="sign_offline_qr")
    assert await emulator.admin.verify_offline(config_entry.unique_id, operation["id"], code)
    assert PIN not in our_log(caplog)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"qr": "not a QR code"}, "invalid_qr"),
        ({"factor": "possession"}, "factor_not_allowed"),
        ({}, "pin_required"),
    ],
)
async def test_sign_offline_qr_refusals(
    hass: HomeAssistant,
    emulator: Any,
    config_entry: MobileTokenConfigEntry,
    data: dict[str, Any],
    error: str,
) -> None:
    operation = await create_operation(emulator)
    qr = await emulator.admin.offline_qr(operation["id"])
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "sign_offline_qr", {"qr": qr, **data}, response=True)
    assert err.value.translation_key == error


async def test_forged_offline_qr_is_refused(
    hass: HomeAssistant, emulator: Any, config_entry: MobileTokenConfigEntry
) -> None:
    operation = await create_operation(emulator)
    qr = await emulator.admin.offline_qr(operation["id"])
    lines = qr.split("\n")
    lines[1] = "Forged title"
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "sign_offline_qr", {"qr": "\n".join(lines)}, response=True)
    assert err.value.translation_key == "invalid_qr_signature"


async def test_offline_qr_without_biometry_flag_needs_the_pin(
    hass: HomeAssistant, emulator: Any, biometry_entry: MobileTokenConfigEntry, card: Card
) -> None:
    operation = await create_operation(emulator, allowedFactors=["possession_knowledge"])
    qr = await emulator.admin.offline_qr(operation["id"])
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass, "sign_offline_qr", {"qr": qr, "factor": "possession_biometry"}, response=True
        )
    assert err.value.translation_key == "factor_not_allowed"
    signed = await card("sign_offline_qr", {"qr": qr, "pin": PIN})
    assert signed["code"]


async def test_entry_lookup(
    hass: HomeAssistant, emulator: Any, config_entry: MobileTokenConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "refresh", {"config_entry_id": "nope"})
    assert err.value.translation_key == "entry_not_found"

    second = await activate(hass, emulator)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "refresh", {})
    assert err.value.translation_key == "entry_required"
    await call(hass, "refresh", {"config_entry_id": second.entry_id})

    await hass.config_entries.async_unload(second.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "refresh", {"config_entry_id": second.entry_id})
    assert err.value.translation_key == "entry_not_loaded"
    # The one loaded entry is the one meant when the call names none.
    await call(hass, "refresh", {})

    await hass.config_entries.async_unload(config_entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "refresh", {})
    assert err.value.translation_key == "entry_not_loaded"


async def test_refresh_reports_a_failed_fetch(
    hass: HomeAssistant, emulator: Any, config_entry: MobileTokenConfigEntry
) -> None:
    await emulator.admin.fault("drop", count=1)
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "refresh", {})
    assert not isinstance(err.value, ServiceValidationError)
    # The polling failure's own translated error, without the library's English text.
    assert err.value.translation_key == "cannot_connect"
    assert err.value.translation_placeholders is None
    assert hass.states.get(PENDING).state == STATE_UNAVAILABLE

    await call(hass, "refresh", {})
    assert hass.states.get(PENDING).state == "0"


async def test_actions_need_an_entry(hass: HomeAssistant, emulator: Any) -> None:
    entry = await activate(hass, emulator)
    await hass.config_entries.async_remove(entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "refresh", {})
    assert err.value.translation_key == "entry_not_found"


async def test_no_secret_in_logs(
    hass: HomeAssistant,
    emulator: Any,
    biometry_entry: MobileTokenConfigEntry,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    card: Card,
) -> None:
    with caplog.at_level(logging.DEBUG, logger="custom_components.mobile_token"):
        operation = await create_operation(emulator)
        await call(hass, "refresh", {})
        with pytest.raises(HomeAssistantError):
            await card("approve", {"operation_id": operation["id"], "pin": WRONG_PIN})
        await card("approve", {"operation_id": operation["id"], "pin": PIN})
        qr = await emulator.admin.offline_qr((await create_operation(emulator))["id"])
        await call(hass, "sign_offline_qr", {"qr": qr}, response=True)
    ours = "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("custom_components.mobile_token")
    )
    assert "Approving operation" in ours
    stored = hass_storage[f"{DOMAIN}.{biometry_entry.unique_id}"]["data"]
    secrets = [value for key, value in stored.items() if key.endswith(("Key", "Secret", "Data"))]
    assert len(secrets) >= 6
    # (The test harness's storage mock logs what it writes; Home Assistant's real store does not.)
    for secret in [PIN, WRONG_PIN, emulator.app_secret, *secrets]:
        assert secret not in ours
