"""Turn the library's typed errors into translated Home Assistant errors.

Actions, the websocket API and the coordinator all report failures through
``translate_error``, so a wrong PIN or an expired operation reads the same
wherever the user meets it. Bad input is a ``ServiceValidationError``;
server, network and authentication failures are ``HomeAssistantError``.
"""

from __future__ import annotations

from typing import Final

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .const import DOMAIN, LOGGER
from .mtoken.errors import (
    ActivationBlockedError,
    ActivationRemovedError,
    AuthenticationError,
    BadResponseError,
    CounterAheadError,
    CounterDesyncError,
    InvalidInputError,
    InvalidPinError,
    InvalidProximityCodeError,
    InvalidQrCodeError,
    InvalidQrSignatureError,
    InvalidStateError,
    MobileTokenError,
    NetworkError,
    ServerError,
    StateNotSavedError,
)

# Mobile Token API error codes (mobile-token-api.md section 3) → translation keys.
_SERVER_CODES: Final = {
    "OPERATION_EXPIRED": "operation_expired",
    "OPERATION_ALREADY_FINISHED": "operation_already_finished",
    "OPERATION_ALREADY_CANCELED": "operation_already_finished",
    "OPERATION_ALREADY_FAILED": "operation_failed",
    "OPERATION_FAILED": "operation_failed",
    "INVALID_OPERATION": "operation_not_found",
    "INVALID_REQUEST": "operation_not_found",
    "ERROR_NOT_FOUND": "operation_not_found",
}

_INPUT_ERRORS: Final[tuple[tuple[type[InvalidInputError], str], ...]] = (
    (InvalidQrSignatureError, "invalid_qr_signature"),
    (InvalidQrCodeError, "invalid_qr"),
    (InvalidProximityCodeError, "invalid_pac"),
    (InvalidPinError, "pin_too_short"),
)


def failure_error(key: str, **placeholders: str) -> HomeAssistantError:
    """Build a translated server-side failure."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


def validation_error(key: str, **placeholders: str) -> ServiceValidationError:
    """Build a translated refusal of the caller's input."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


def translate_error(err: MobileTokenError) -> HomeAssistantError:
    """Return the translated Home Assistant error a user sees for a library error."""
    if isinstance(err, InvalidInputError):
        for cls, key in _INPUT_ERRORS:
            if isinstance(err, cls):
                return validation_error(key)
        return validation_error("invalid_input")
    if isinstance(err, AuthenticationError):
        if err.remaining_attempts is not None:
            return failure_error("wrong_pin", remaining_attempts=str(err.remaining_attempts))
        return failure_error("authentication_failed")
    if isinstance(err, ServerError):
        if code_key := _SERVER_CODES.get(err.code):
            return failure_error(code_key)
        return failure_error("server_error", code=err.code)
    return _translate_other(err)


def _translate_other(err: MobileTokenError) -> HomeAssistantError:
    if isinstance(err, ActivationBlockedError):
        return failure_error("activation_blocked")
    if isinstance(err, ActivationRemovedError):
        return failure_error("activation_removed")
    if isinstance(err, CounterDesyncError):
        return failure_error("counter_desync")
    if isinstance(err, CounterAheadError):
        return failure_error("counter_ahead")
    if isinstance(err, StateNotSavedError):
        return failure_error("state_not_saved")
    if isinstance(err, NetworkError | BadResponseError):
        return failure_error("cannot_connect")
    # The library's message is English and for developers: the log has it, not the user.
    LOGGER.debug("Mobile token failure: %s", err)
    if isinstance(err, InvalidStateError):
        return failure_error("invalid_state")
    return failure_error("unexpected_error")
