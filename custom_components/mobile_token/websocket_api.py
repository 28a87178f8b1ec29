"""Websocket commands of the dashboard card.

The card approves with a PIN. Action data is visible on the event bus and in
automation traces, so the PIN travels only through these commands, which
hand it straight to ``actions``. The permission rule, the factor choice
and the error translation are there, shared with the actions.

- ``mobile_token/subscribe`` {entry_id}: a result, then an event with the
  full pending list at once and after every change.
- ``mobile_token/approve`` {entry_id, operation_id, pin | factor, pac | totp,
  accept_block_risk, screen_visits}, ``mobile_token/reject`` {entry_id,
  operation_id, reason, screen_visits}; ``screen_visits`` is the record of the
  pre-approval screens the user saw (sent to the bank as ``mobileTokenData``).
- ``mobile_token/refresh`` {entry_id}: fetch the list now (the card shows it is loading).
- ``mobile_token/claim`` {entry_id, operation_id}: claim an operation from a QR code or link.
- ``mobile_token/messages`` {entry_id, message_id?}: the inbox, or one message with its body;
  ``mobile_token/message_read`` {entry_id, message_id?}: mark one (or, without id, all) read.
- ``mobile_token/approve`` also takes ``timestamp_received``: when the proximity code was
  entered or scanned (milliseconds since the epoch).
- ``mobile_token/history`` {entry_id, pin | factor, accept_block_risk}
  → {"operations": [...]}.
- ``mobile_token/sign_offline_qr`` {entry_id, qr, pin | factor, uri_id}
  → {"code", "operation"}.
- ``mobile_token/remove_activation`` {entry_id, pin | factor, accept_block_risk}
  → {}: removes the activation at the bank, then the entry.

Errors are sent with the translation key as the code, the English message,
and the translation placeholders (``remaining_attempts`` after a wrong PIN).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Final

import voluptuous as vol
from homeassistant.components import websocket_api
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError

from . import actions
from .const import CONF_ALLOWED_USERS, DOMAIN, MAX_REASON_LENGTH
from .coordinator import MobileTokenConfigEntry, MobileTokenCoordinator
from .errors import translate_error, validation_error
from .inbox import async_get_messages, async_mark_read
from .mtoken.errors import MobileTokenError
from .mtoken.factors import Factor
from .mtoken.mobile_token_data import ScreenVisit, parse_screen_visits
from .mtoken.model import Operation
from .permissions import async_check_user_allowed
from .services import get_config_entry

WS_SUBSCRIBE: Final = f"{DOMAIN}/subscribe"
WS_APPROVE: Final = f"{DOMAIN}/approve"
WS_REJECT: Final = f"{DOMAIN}/reject"
WS_REFRESH: Final = f"{DOMAIN}/refresh"
WS_CLAIM: Final = f"{DOMAIN}/claim"
WS_MESSAGES: Final = f"{DOMAIN}/messages"
WS_MESSAGE_READ: Final = f"{DOMAIN}/message_read"
WS_HISTORY: Final = f"{DOMAIN}/history"
WS_SIGN_OFFLINE_QR: Final = f"{DOMAIN}/sign_offline_qr"
WS_REMOVE_ACTIVATION: Final = f"{DOMAIN}/remove_activation"
ATTR_SCREEN_VISITS: Final = "screen_visits"
ATTR_MESSAGE_ID: Final = "message_id"

ATTR_ENTRY_ID: Final = "entry_id"
ATTR_OPERATION_ID: Final = "operation_id"
ATTR_PIN: Final = "pin"
ATTR_FACTOR: Final = "factor"
ATTR_PAC: Final = "pac"
ATTR_TOTP: Final = "totp"
ATTR_REASON: Final = "reason"
ATTR_ACCEPT_BLOCK_RISK: Final = "accept_block_risk"
ATTR_TIMESTAMP_RECEIVED: Final = "timestamp_received"
ATTR_QR: Final = "qr"
ATTR_URI_ID: Final = "uri_id"

# The PIN is checked here, not by the schema: a schema error is logged with the value it refused.
PIN_PATTERN: Final = re.compile(r"\d{4,64}")
UNKNOWN_ERROR: Final = "unknown_error"

# Live subscriptions per entry, told when the entry unloads (its coordinator then stops updating).
DATA_UNLOAD_LISTENERS: Final = f"{DOMAIN}_websocket_unload_listeners"


@callback
def async_setup_websocket_api(hass: HomeAssistant) -> None:
    """Register the card's commands (once, from ``async_setup``)."""
    websocket_api.async_register_command(hass, websocket_subscribe)
    websocket_api.async_register_command(hass, websocket_approve)
    websocket_api.async_register_command(hass, websocket_reject)
    websocket_api.async_register_command(hass, websocket_refresh)
    websocket_api.async_register_command(hass, websocket_claim)
    websocket_api.async_register_command(hass, websocket_history)
    websocket_api.async_register_command(hass, websocket_sign_offline_qr)
    websocket_api.async_register_command(hass, websocket_remove_activation)
    websocket_api.async_register_command(hass, websocket_messages)
    websocket_api.async_register_command(hass, websocket_message_read)


def operation_payload(operation: Operation, coordinator: MobileTokenCoordinator) -> dict[str, Any]:
    """Return the wire-format operation plus what the card needs to choose its screens."""
    return {
        **operation.to_dict(),
        "requiresPin": operation.allows(Factor.POSSESSION_KNOWLEDGE),
        "allowsBiometry": coordinator.allow_biometry
        and operation.allows(Factor.POSSESSION_BIOMETRY),
        "requiresProximity": operation.requires_proximity_check,
    }


def pending_payload(coordinator: MobileTokenCoordinator) -> dict[str, Any]:
    """One subscription event: every pending operation and the entry's biometry opt-in."""
    return {
        "operations": [operation_payload(op, coordinator) for op in coordinator.data or []],
        "allowBiometry": coordinator.allow_biometry,
        "available": coordinator.last_update_success,
        "loaded": True,
        # The server's clock now: the card counts expiry down on it, not on the browser's.
        "serverTime": coordinator.session.clock.now_ms(),
        "unreadMessages": _unread(coordinator),
    }


def _unread(coordinator: MobileTokenCoordinator) -> int | None:
    inbox = coordinator.config_entry.runtime_data.inbox
    return None if inbox.data is None else inbox.data.unread


def _send_error(
    connection: websocket_api.ActiveConnection, msg_id: int, err: HomeAssistantError
) -> None:
    """Send the translation key as the code, so the card can show its own translation."""
    connection.send_error(
        msg_id,
        err.translation_key or UNKNOWN_ERROR,
        str(err),
        translation_key=err.translation_key,
        translation_domain=err.translation_domain,
        translation_placeholders=err.translation_placeholders,
    )


async def _allowed_entry(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, entry_id: str
) -> MobileTokenConfigEntry:
    """Return the loaded entry if this user may use it (same rule as the actions)."""
    entry = get_config_entry(hass, entry_id)
    await async_check_user_allowed(hass, entry, connection.user.id)
    return entry


@callback
def _async_track_unload(
    hass: HomeAssistant, entry: MobileTokenConfigEntry, listener: CALLBACK_TYPE
) -> CALLBACK_TYPE:
    """Call ``listener`` when the entry unloads; return the callback that forgets it."""
    registry: dict[str, set[CALLBACK_TYPE]] = hass.data.setdefault(DATA_UNLOAD_LISTENERS, {})
    if entry.entry_id not in registry:
        registry[entry.entry_id] = set()

        @callback
        def _unloaded() -> None:
            for unloaded in registry.pop(entry.entry_id, set()):
                unloaded()

        entry.async_on_unload(_unloaded)
    listeners = registry[entry.entry_id]
    listeners.add(listener)
    return lambda: listeners.discard(listener)


NOT_LOADED_PAYLOAD: Final = {"operations": [], "allowBiometry": False, "loaded": False}


def _still_allowed(
    connection: websocket_api.ActiveConnection, entry: MobileTokenConfigEntry
) -> bool:
    """The permission rule of ``async_check_user_allowed``, for a known, signed-in user."""
    user = connection.user
    return user.is_active and (
        user.is_admin or user.id in entry.options.get(CONF_ALLOWED_USERS, [])
    )


def _once(remove: CALLBACK_TYPE) -> CALLBACK_TYPE:
    """Wrap a remove callback so that a second call does nothing.

    A subscription's listener is removed when the entry unloads and again when
    the card unsubscribes; the coordinator's own callback fails on the second.
    """
    pending = [remove]

    @callback
    def _remove() -> None:
        while pending:
            pending.pop()()

    return _remove


@websocket_api.websocket_command(
    {vol.Required("type"): WS_SUBSCRIBE, vol.Required(ATTR_ENTRY_ID): str}
)
@websocket_api.async_response
async def websocket_subscribe(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Send the pending operations now and after every change of the list."""
    msg_id: int = msg["id"]
    try:
        entry = await _allowed_entry(hass, connection, msg[ATTR_ENTRY_ID])
    except HomeAssistantError as err:
        _send_error(connection, msg_id, err)
        return
    coordinator = entry.runtime_data.coordinator

    @callback
    def _forward() -> None:
        if not _still_allowed(connection, entry):
            # Options changed since the subscription started: stop sending operations.
            # The card then subscribes again and is told why it may not.
            _unloaded()
            return
        connection.send_event(msg_id, pending_payload(coordinator))

    @callback
    def _unloaded() -> None:
        remove_listener()
        connection.send_event(msg_id, NOT_LOADED_PAYLOAD)

    remove_operations = coordinator.async_add_listener(_forward)
    # A new unread count is news for the card's Messages button too.
    remove_inbox = entry.runtime_data.inbox.async_add_listener(_forward)

    @callback
    def _remove_both() -> None:
        remove_operations()
        remove_inbox()

    remove_listener = _once(_remove_both)
    forget_unload = _async_track_unload(hass, entry, _unloaded)

    @callback
    def _unsubscribe() -> None:
        remove_listener()
        forget_unload()

    connection.subscriptions[msg_id] = _unsubscribe
    connection.send_result(msg_id)
    _forward()


async def _run_action(
    hass: HomeAssistant,
    connection: websocket_api.ActiveConnection,
    msg: dict[str, Any],
    action: Callable[[MobileTokenCoordinator], Awaitable[Operation]],
    status: str,
) -> None:
    """Run an approve or reject and answer with the outcome or the translated error."""
    try:
        entry = get_config_entry(hass, msg[ATTR_ENTRY_ID])
        operation = await action(entry.runtime_data.coordinator)
    except HomeAssistantError as err:
        _send_error(connection, msg["id"], err)
        return
    connection.send_result(msg["id"], {"id": operation.id, "status": status})


def _check_pin(msg: dict[str, Any]) -> None:
    """Refuse a PIN that is not a string of digits, without echoing it."""
    pin = msg.get(ATTR_PIN)
    if pin is not None and not (isinstance(pin, str) and PIN_PATTERN.fullmatch(pin)):
        raise validation_error("pin_too_short")


@websocket_api.websocket_command(
    {
        vol.Required("type"): WS_APPROVE,
        vol.Required(ATTR_ENTRY_ID): str,
        vol.Required(ATTR_OPERATION_ID): str,
        # Any value: a schema error would log the PIN it refused (checked in the handler).
        vol.Optional(ATTR_PIN): object,
        vol.Optional(ATTR_FACTOR): vol.In([factor.value for factor in Factor]),
        vol.Optional(ATTR_PAC): str,
        vol.Optional(ATTR_TOTP): str,
        # When the proximity code was entered or scanned, in milliseconds since the epoch.
        vol.Optional(ATTR_TIMESTAMP_RECEIVED): vol.All(int, vol.Range(min=0)),
        vol.Optional(ATTR_ACCEPT_BLOCK_RISK, default=False): bool,
        vol.Optional(ATTR_SCREEN_VISITS, default=[]): list,
    }
)
@websocket_api.async_response
async def websocket_approve(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Approve a pending operation with the PIN typed into the card, or another factor."""
    try:
        _check_pin(msg)
        visits = screen_visits(msg)
    except HomeAssistantError as err:
        _send_error(connection, msg["id"], err)
        return
    await _run_action(
        hass,
        connection,
        msg,
        lambda coordinator: actions.async_approve(
            coordinator,
            msg[ATTR_OPERATION_ID],
            pin=msg.get(ATTR_PIN),
            factor=msg.get(ATTR_FACTOR),
            pac=msg.get(ATTR_PAC),
            totp=msg.get(ATTR_TOTP),
            user_id=connection.user.id,
            accept_block_risk=msg[ATTR_ACCEPT_BLOCK_RISK],
            screen_visits=visits,
            received=received_at(msg.get(ATTR_TIMESTAMP_RECEIVED)),
        ),
        "APPROVED",
    )


def received_at(timestamp_ms: int | None) -> datetime | None:
    """The moment the card says the proximity code was entered or scanned."""
    if timestamp_ms is None:
        return None
    return datetime.fromtimestamp(timestamp_ms / 1000, UTC)


@websocket_api.websocket_command(
    {
        vol.Required("type"): WS_REJECT,
        vol.Required(ATTR_ENTRY_ID): str,
        vol.Required(ATTR_OPERATION_ID): str,
        vol.Required(ATTR_REASON): vol.All(str, vol.Length(min=1, max=MAX_REASON_LENGTH)),
        vol.Optional(ATTR_SCREEN_VISITS, default=[]): list,
    }
)
@websocket_api.async_response
async def websocket_reject(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Reject a pending operation with the reason chosen in the card."""
    try:
        visits = screen_visits(msg)
    except HomeAssistantError as err:
        _send_error(connection, msg["id"], err)
        return
    await _run_action(
        hass,
        connection,
        msg,
        lambda coordinator: actions.async_reject(
            coordinator,
            msg[ATTR_OPERATION_ID],
            msg[ATTR_REASON],
            user_id=connection.user.id,
            screen_visits=visits,
        ),
        "REJECTED",
    )


def screen_visits(msg: dict[str, Any]) -> tuple[ScreenVisit, ...]:
    """The card's record of the pre-approval screens, validated, or a translated refusal."""
    try:
        return parse_screen_visits(msg[ATTR_SCREEN_VISITS])
    except MobileTokenError as err:
        raise translate_error(err) from err


async def _answer(
    connection: websocket_api.ActiveConnection,
    msg: dict[str, Any],
    work: Callable[[], Awaitable[Any]],
) -> None:
    """Send ``work``'s result, or its translated error."""
    try:
        result = await work()
    except HomeAssistantError as err:
        _send_error(connection, msg["id"], err)
        return
    connection.send_result(msg["id"], result)


@websocket_api.websocket_command(
    {vol.Required("type"): WS_REFRESH, vol.Required(ATTR_ENTRY_ID): str}
)
@websocket_api.async_response
async def websocket_refresh(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Fetch the pending list now; subscribers get the new list as usual."""

    async def _refresh() -> dict[str, Any]:
        entry = await _allowed_entry(hass, connection, msg[ATTR_ENTRY_ID])
        await entry.runtime_data.coordinator.async_refresh()
        await entry.runtime_data.inbox.async_refresh()
        return {"available": entry.runtime_data.coordinator.last_update_success}

    await _answer(connection, msg, _refresh)


@websocket_api.websocket_command(
    {
        vol.Required("type"): WS_CLAIM,
        vol.Required(ATTR_ENTRY_ID): str,
        vol.Required(ATTR_OPERATION_ID): vol.All(str, vol.Length(min=1, max=256)),
    }
)
@websocket_api.async_response
async def websocket_claim(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Claim an operation whose id the card read from a QR code or link."""

    async def _claim() -> dict[str, Any]:
        entry = get_config_entry(hass, msg[ATTR_ENTRY_ID])
        coordinator = entry.runtime_data.coordinator
        operation = await actions.async_claim(
            coordinator, msg[ATTR_OPERATION_ID], user_id=connection.user.id
        )
        return {"operation": operation_payload(operation, coordinator)}

    await _answer(connection, msg, _claim)


@websocket_api.websocket_command(
    {
        vol.Required("type"): WS_MESSAGES,
        vol.Required(ATTR_ENTRY_ID): str,
        vol.Optional(ATTR_MESSAGE_ID): str,
    }
)
@websocket_api.async_response
async def websocket_messages(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """The bank's messages, or one message with its body (HTML is sanitised by the card)."""

    async def _messages() -> dict[str, Any]:
        entry = await _allowed_entry(hass, connection, msg[ATTR_ENTRY_ID])
        messages = await async_get_messages(entry.runtime_data.inbox, msg.get(ATTR_MESSAGE_ID))
        return {"messages": [message.to_dict() for message in messages]}

    await _answer(connection, msg, _messages)


@websocket_api.websocket_command(
    {
        vol.Required("type"): WS_MESSAGE_READ,
        vol.Required(ATTR_ENTRY_ID): str,
        vol.Optional(ATTR_MESSAGE_ID): str,
    }
)
@websocket_api.async_response
async def websocket_message_read(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Mark a message read (all of them without an id)."""

    async def _read() -> dict[str, Any]:
        entry = await _allowed_entry(hass, connection, msg[ATTR_ENTRY_ID])
        inbox = entry.runtime_data.inbox
        await async_mark_read(inbox, msg.get(ATTR_MESSAGE_ID))
        return {"unread": None if inbox.data is None else inbox.data.unread}

    await _answer(connection, msg, _read)


# The PIN or the factor, as ``mobile_token/approve`` takes them (the PIN checked in the handler).
TWO_FACTOR_FIELDS: Final[dict[vol.Marker | str, Any]] = {
    vol.Required(ATTR_ENTRY_ID): str,
    vol.Optional(ATTR_PIN): object,
    vol.Optional(ATTR_FACTOR): vol.In([factor.value for factor in Factor]),
}


async def _run_pin_command(
    hass: HomeAssistant,
    connection: websocket_api.ActiveConnection,
    msg: dict[str, Any],
    command: Callable[[MobileTokenCoordinator], Awaitable[dict[str, Any]]],
) -> None:
    """Check the PIN's shape, run a command and answer with its result or the error."""
    try:
        _check_pin(msg)
        entry = get_config_entry(hass, msg[ATTR_ENTRY_ID])
        result = await command(entry.runtime_data.coordinator)
    except HomeAssistantError as err:
        _send_error(connection, msg["id"], err)
        return
    connection.send_result(msg["id"], result)


@websocket_api.websocket_command(
    {
        vol.Required("type"): WS_HISTORY,
        **TWO_FACTOR_FIELDS,
        vol.Optional(ATTR_ACCEPT_BLOCK_RISK, default=False): bool,
    }
)
@websocket_api.async_response
async def websocket_history(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Recent operations in every status, with the PIN typed into the card."""

    async def _history(coordinator: MobileTokenCoordinator) -> dict[str, Any]:
        operations = await actions.async_get_history(
            coordinator,
            pin=msg.get(ATTR_PIN),
            factor=msg.get(ATTR_FACTOR),
            user_id=connection.user.id,
            accept_block_risk=msg[ATTR_ACCEPT_BLOCK_RISK],
        )
        return {"operations": [operation.to_dict() for operation in operations]}

    await _run_pin_command(hass, connection, msg, _history)


@websocket_api.websocket_command(
    {
        vol.Required("type"): WS_SIGN_OFFLINE_QR,
        **TWO_FACTOR_FIELDS,
        vol.Required(ATTR_QR): str,
        vol.Optional(ATTR_URI_ID): str,
    }
)
@websocket_api.async_response
async def websocket_sign_offline_qr(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """The approval code of an offline QR operation, with the PIN typed into the card."""

    async def _sign(coordinator: MobileTokenCoordinator) -> dict[str, Any]:
        code, qr = await actions.async_sign_offline_qr(
            coordinator,
            msg[ATTR_QR],
            pin=msg.get(ATTR_PIN),
            factor=msg.get(ATTR_FACTOR),
            uri_id=msg.get(ATTR_URI_ID),
            user_id=connection.user.id,
        )
        return {"code": code, "operation": qr.to_dict()}

    await _run_pin_command(hass, connection, msg, _sign)


@websocket_api.websocket_command(
    {
        vol.Required("type"): WS_REMOVE_ACTIVATION,
        **TWO_FACTOR_FIELDS,
        vol.Optional(ATTR_ACCEPT_BLOCK_RISK, default=False): bool,
    }
)
@websocket_api.async_response
async def websocket_remove_activation(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Remove the activation at the bank, then the entry (the card's last screen)."""

    async def _remove(coordinator: MobileTokenCoordinator) -> dict[str, Any]:
        await actions.async_remove_activation(
            coordinator,
            pin=msg.get(ATTR_PIN),
            factor=msg.get(ATTR_FACTOR),
            user_id=connection.user.id,
            accept_block_risk=msg[ATTR_ACCEPT_BLOCK_RISK],
        )
        return {}

    await _run_pin_command(hass, connection, msg, _remove)
