"""Actions of the Mobile Token integration.

Each handler only finds the entry and hands over to ``actions``, which the
dashboard card's websocket commands call too: the checks (caller allowed,
factor, proximity) and the error translation live there, once.

No action takes a PIN: action data is recorded (the ``call_service`` event in
the database, traces), and Home Assistant checks the schema before it fires
that event, so a call carrying ``pin`` is refused before anything is kept.
The PIN goes only through the card's websocket commands.
"""

from __future__ import annotations

from typing import Any, Final

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv

from . import actions
from .const import (
    ATTR_CONFIG_ENTRY_ID,
    ATTR_FACTOR,
    ATTR_OPERATION_ID,
    ATTR_PAC,
    ATTR_QR,
    ATTR_REASON,
    ATTR_TOTP,
    ATTR_URI_ID,
    DOMAIN,
    MAX_REASON_LENGTH,
)
from .coordinator import MobileTokenConfigEntry, MobileTokenCoordinator
from .errors import failure_error, validation_error
from .inbox import async_get_messages, async_mark_read
from .mtoken.factors import Factor
from .mtoken.operations import REJECT_REASONS
from .permissions import async_check_user_allowed

ATTR_ACCEPT_BLOCK_RISK: Final = "accept_block_risk"

SERVICE_APPROVE: Final = "approve"
SERVICE_REJECT: Final = "reject"
SERVICE_CLAIM: Final = "claim"
SERVICE_GET_OPERATION: Final = "get_operation"
SERVICE_GET_HISTORY: Final = "get_history"
SERVICE_SIGN_OFFLINE_QR: Final = "sign_offline_qr"
SERVICE_PARSE_OFFLINE_QR: Final = "parse_offline_qr"
SERVICE_REFRESH: Final = "refresh"
SERVICE_GET_MESSAGES: Final = "get_messages"
SERVICE_MARK_MESSAGE_READ: Final = "mark_message_read"
ATTR_MESSAGE_ID: Final = "message_id"
ATTR_ALL: Final = "all"

# Used when the caller gives no reason, as in the CLI and the blueprint; services.yaml shows it.
DEFAULT_REJECT_REASON: Final = "UNEXPECTED_OPERATION"
# services.yaml offers the protocol's reasons as lower-case options (Home Assistant allows no
# upper case in option keys); the server expects them as the protocol spells them.
REJECT_REASON_OPTIONS: Final = {reason.lower(): reason for reason in REJECT_REASONS}


def protocol_reason(reason: str) -> str:
    """The protocol's spelling of a reason option; any other reason is the caller's own."""
    return REJECT_REASON_OPTIONS.get(reason, reason)


# The factors that need no PIN; possession_knowledge (the PIN) is the card's alone.
FACTOR_SCHEMA: Final = vol.In([Factor.POSSESSION.value, Factor.POSSESSION_BIOMETRY.value])
ENTRY_SCHEMA: Final[dict[vol.Marker, Any]] = {vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string}
OPERATION_SCHEMA: Final[dict[vol.Marker, Any]] = {
    **ENTRY_SCHEMA,
    vol.Required(ATTR_OPERATION_ID): cv.string,
}

APPROVE_SCHEMA: Final = vol.Schema(
    {
        **OPERATION_SCHEMA,
        vol.Optional(ATTR_FACTOR): FACTOR_SCHEMA,
        vol.Optional(ATTR_PAC): cv.string,
        vol.Optional(ATTR_TOTP): cv.string,
        vol.Optional(ATTR_ACCEPT_BLOCK_RISK, default=False): cv.boolean,
    }
)
REJECT_SCHEMA: Final = vol.Schema(
    {
        **OPERATION_SCHEMA,
        vol.Optional(ATTR_REASON, default=DEFAULT_REJECT_REASON): vol.All(
            cv.string, vol.Length(min=1, max=MAX_REASON_LENGTH), protocol_reason
        ),
    }
)
OPERATION_ONLY_SCHEMA: Final = vol.Schema(OPERATION_SCHEMA)
HISTORY_SCHEMA: Final = vol.Schema(
    {
        **ENTRY_SCHEMA,
        vol.Optional(ATTR_FACTOR): FACTOR_SCHEMA,
        vol.Optional(ATTR_ACCEPT_BLOCK_RISK, default=False): cv.boolean,
    }
)
SIGN_OFFLINE_QR_SCHEMA: Final = vol.Schema(
    {
        **ENTRY_SCHEMA,
        vol.Required(ATTR_QR): cv.string,
        vol.Optional(ATTR_FACTOR): FACTOR_SCHEMA,
        vol.Optional(ATTR_URI_ID): cv.string,
    }
)
PARSE_OFFLINE_QR_SCHEMA: Final = vol.Schema({**ENTRY_SCHEMA, vol.Required(ATTR_QR): cv.string})
REFRESH_SCHEMA: Final = vol.Schema(ENTRY_SCHEMA)
GET_MESSAGES_SCHEMA: Final = vol.Schema({**ENTRY_SCHEMA, vol.Optional(ATTR_MESSAGE_ID): cv.string})
MARK_MESSAGE_READ_SCHEMA: Final = vol.Schema(
    {
        **ENTRY_SCHEMA,
        vol.Exclusive(ATTR_MESSAGE_ID, "which"): cv.string,
        vol.Exclusive(ATTR_ALL, "which"): vol.IsTrue(),
    }
)

OFFLINE_CODE_NOTE: Final = (
    "A wrong PIN still yields a code: the bank refuses it when it is typed in."
)


def get_config_entry(hass: HomeAssistant, entry_id: str | None) -> MobileTokenConfigEntry:
    """Return the entry named by the call, or the only one when the call names none."""
    if entry_id is None:
        entries = hass.config_entries.async_entries(DOMAIN)
        # Only loaded entries count: an unloaded one cannot answer, so it needs no naming.
        loaded = [item for item in entries if item.state is ConfigEntryState.LOADED]
        if len(loaded) > 1:
            raise validation_error("entry_required")
        # With none loaded, an unloaded entry is named so the caller learns why.
        candidates = loaded or entries
        entry: MobileTokenConfigEntry | None = candidates[0] if candidates else None
    else:
        entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise validation_error("entry_not_found")
    if entry.state is not ConfigEntryState.LOADED:
        raise validation_error("entry_not_loaded")
    return entry


def _coordinator(call: ServiceCall) -> MobileTokenCoordinator:
    return get_config_entry(call.hass, call.data.get(ATTR_CONFIG_ENTRY_ID)).runtime_data.coordinator


async def _approve(call: ServiceCall) -> None:
    await actions.async_approve(
        _coordinator(call),
        call.data[ATTR_OPERATION_ID],
        factor=call.data.get(ATTR_FACTOR),
        pac=call.data.get(ATTR_PAC),
        totp=call.data.get(ATTR_TOTP),
        user_id=call.context.user_id,
        accept_block_risk=call.data[ATTR_ACCEPT_BLOCK_RISK],
    )


async def _reject(call: ServiceCall) -> None:
    await actions.async_reject(
        _coordinator(call),
        call.data[ATTR_OPERATION_ID],
        call.data[ATTR_REASON],
        user_id=call.context.user_id,
    )


async def _claim(call: ServiceCall) -> ServiceResponse:
    operation = await actions.async_claim(
        _coordinator(call), call.data[ATTR_OPERATION_ID], user_id=call.context.user_id
    )
    return {"operation": operation.to_dict()}


async def _get_operation(call: ServiceCall) -> ServiceResponse:
    operation = await actions.async_get_operation(
        _coordinator(call), call.data[ATTR_OPERATION_ID], user_id=call.context.user_id
    )
    return {"operation": operation.to_dict()}


async def _get_history(call: ServiceCall) -> ServiceResponse:
    operations = await actions.async_get_history(
        _coordinator(call),
        factor=call.data.get(ATTR_FACTOR),
        user_id=call.context.user_id,
        accept_block_risk=call.data[ATTR_ACCEPT_BLOCK_RISK],
    )
    return {"operations": [operation.to_dict() for operation in operations]}


async def _sign_offline_qr(call: ServiceCall) -> ServiceResponse:
    code, qr = await actions.async_sign_offline_qr(
        _coordinator(call),
        call.data[ATTR_QR],
        factor=call.data.get(ATTR_FACTOR),
        uri_id=call.data.get(ATTR_URI_ID),
        user_id=call.context.user_id,
    )
    return {"code": code, "operation": qr.to_dict(), "note": OFFLINE_CODE_NOTE}


async def _parse_offline_qr(call: ServiceCall) -> ServiceResponse:
    qr = await actions.async_parse_offline_qr(
        _coordinator(call), call.data[ATTR_QR], user_id=call.context.user_id
    )
    return {"operation": qr.to_dict()}


async def _refresh(call: ServiceCall) -> None:
    coordinator = _coordinator(call)
    # Same rule as every other action: a refresh spends a token request at the bank.
    await async_check_user_allowed(call.hass, coordinator.config_entry, call.context.user_id)
    await coordinator.async_refresh()
    if not coordinator.last_update_success:
        raise refresh_error(coordinator.last_exception)


async def _get_messages(call: ServiceCall) -> ServiceResponse:
    entry = get_config_entry(call.hass, call.data.get(ATTR_CONFIG_ENTRY_ID))
    await async_check_user_allowed(call.hass, entry, call.context.user_id)
    messages = await async_get_messages(entry.runtime_data.inbox, call.data.get(ATTR_MESSAGE_ID))
    return {"messages": [message.to_dict() for message in messages]}


async def _mark_message_read(call: ServiceCall) -> None:
    if ATTR_MESSAGE_ID not in call.data and not call.data.get(ATTR_ALL):
        raise validation_error("message_required")
    entry = get_config_entry(call.hass, call.data.get(ATTR_CONFIG_ENTRY_ID))
    await async_check_user_allowed(call.hass, entry, call.context.user_id)
    await async_mark_read(entry.runtime_data.inbox, call.data.get(ATTR_MESSAGE_ID))


def refresh_error(cause: BaseException | None) -> HomeAssistantError:
    """The failed refresh's own translated error, else the generic connection failure."""
    if isinstance(cause, HomeAssistantError) and cause.translation_domain == DOMAIN:
        error = failure_error(
            cause.translation_key or "cannot_connect", **(cause.translation_placeholders or {})
        )
    else:
        error = failure_error("cannot_connect")
    error.__cause__ = cause
    return error


_SERVICES: Final[tuple[tuple[str, Any, vol.Schema, SupportsResponse], ...]] = (
    (SERVICE_APPROVE, _approve, APPROVE_SCHEMA, SupportsResponse.NONE),
    (SERVICE_REJECT, _reject, REJECT_SCHEMA, SupportsResponse.NONE),
    (SERVICE_CLAIM, _claim, OPERATION_ONLY_SCHEMA, SupportsResponse.OPTIONAL),
    (SERVICE_GET_OPERATION, _get_operation, OPERATION_ONLY_SCHEMA, SupportsResponse.ONLY),
    (SERVICE_GET_HISTORY, _get_history, HISTORY_SCHEMA, SupportsResponse.ONLY),
    (SERVICE_SIGN_OFFLINE_QR, _sign_offline_qr, SIGN_OFFLINE_QR_SCHEMA, SupportsResponse.ONLY),
    (SERVICE_PARSE_OFFLINE_QR, _parse_offline_qr, PARSE_OFFLINE_QR_SCHEMA, SupportsResponse.ONLY),
    (SERVICE_REFRESH, _refresh, REFRESH_SCHEMA, SupportsResponse.NONE),
    (SERVICE_GET_MESSAGES, _get_messages, GET_MESSAGES_SCHEMA, SupportsResponse.ONLY),
    (
        SERVICE_MARK_MESSAGE_READ,
        _mark_message_read,
        MARK_MESSAGE_READ_SCHEMA,
        SupportsResponse.NONE,
    ),
)


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions (once, in async_setup)."""
    for name, handler, schema, supports_response in _SERVICES:
        hass.services.async_register(
            DOMAIN, name, handler, schema=schema, supports_response=supports_response
        )
