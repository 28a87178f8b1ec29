"""Every library error reaches the user as a translated Home Assistant error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from homeassistant.exceptions import ServiceValidationError

from custom_components.mobile_token.errors import translate_error
from custom_components.mobile_token.mtoken.errors import (
    ActivationBlockedError,
    ActivationRemovedError,
    AuthenticationError,
    BadResponseError,
    CounterDesyncError,
    InvalidConfigurationError,
    InvalidPinError,
    InvalidStateError,
    MobileTokenError,
    NetworkError,
    RequestTimeoutError,
    ServerError,
)

TRANSLATIONS = Path(__file__).parents[2] / "custom_components/mobile_token/translations"


def wrong_pin() -> AuthenticationError:
    err = AuthenticationError("POWERAUTH_AUTH_FAIL", "Authentication failed", http_status=401)
    err.remaining_attempts = 2
    return err


@pytest.mark.parametrize(
    ("err", "key", "placeholders", "validation"),
    [
        (wrong_pin(), "wrong_pin", {"remaining_attempts": "2"}, False),
        (AuthenticationError("POWERAUTH_AUTH_FAIL", ""), "authentication_failed", None, False),
        (ServerError("OPERATION_EXPIRED", ""), "operation_expired", None, False),
        (ServerError("OPERATION_ALREADY_CANCELED", ""), "operation_already_finished", None, False),
        (ServerError("INVALID_OPERATION", ""), "operation_not_found", None, False),
        (
            ServerError("TOO_MANY_REQUESTS", "slow down"),
            "server_error",
            {"code": "TOO_MANY_REQUESTS"},
            False,
        ),
        (ActivationBlockedError("blocked"), "activation_blocked", None, False),
        (ActivationRemovedError("removed"), "activation_removed", None, False),
        (CounterDesyncError("lost"), "counter_desync", None, False),
        (InvalidStateError("no key"), "invalid_state", None, False),
        (RequestTimeoutError("late"), "cannot_connect", None, False),
        (NetworkError("down"), "cannot_connect", None, False),
        (BadResponseError("garbage"), "cannot_connect", None, False),
        (MobileTokenError("odd"), "unexpected_error", None, False),
        (InvalidPinError("short"), "pin_too_short", None, True),
        (InvalidConfigurationError("bad"), "invalid_input", None, True),
    ],
)
def test_library_errors_are_translated(
    err: MobileTokenError, key: str, placeholders: dict[str, str] | None, validation: bool
) -> None:
    error = translate_error(err)
    assert error.translation_domain == "mobile_token"
    assert error.translation_key == key
    assert error.translation_placeholders == placeholders
    assert isinstance(error, ServiceValidationError) is validation
    for language in ("en", "cs"):
        strings = json.loads((TRANSLATIONS / f"{language}.json").read_text(encoding="utf-8"))
        message = strings["exceptions"][key]["message"]
        for name in placeholders or {}:
            assert f"{{{name}}}" in message
