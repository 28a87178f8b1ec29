"""Everything a user does with the token: approve, reject, claim, read and sign.

The actions and the dashboard card's websocket commands both call these
functions, so the checks (caller allowed, factor, last PIN attempt,
proximity), the error translation and the reported outcome live once. The
coordinator only polls; these functions tell it what they changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from .authentication import (
    check_block_risk,
    operation_authentication,
    two_factor_authentication,
)
from .const import (
    CONF_CALL_SENSORS,
    EVENT_APPROVED,
    EVENT_EXPIRED,
    EVENT_FAILED,
    EVENT_REJECTED,
    LOGGER,
    PHONE_STATES_ON_CALL,
)
from .coordinator import MobileTokenCoordinator
from .errors import translate_error, validation_error
from .mtoken.errors import ActivationError, AuthenticationError, MobileTokenError, ServerError
from .mtoken.mobile_token_data import ScreenVisit, mobile_token_data
from .mtoken.model import Operation
from .mtoken.qr import QrOperation, parse_qr_operation
from .permissions import async_check_user_allowed
from .proximity import proximity_check

# Server answers meaning the operation is no longer pending (mobile-token-api.md section 7).
CODE_OPERATION_EXPIRED: Final = "OPERATION_EXPIRED"
OPERATION_OVER_CODES: Final = frozenset(
    {
        CODE_OPERATION_EXPIRED,
        "OPERATION_ALREADY_FINISHED",
        "OPERATION_ALREADY_CANCELED",
        "OPERATION_ALREADY_FAILED",
    }
)


async def async_approve(
    coordinator: MobileTokenCoordinator,
    operation_id: str,
    *,
    pin: str | None = None,
    factor: str | None = None,
    pac: str | None = None,
    totp: str | None = None,
    user_id: str | None = None,
    accept_block_risk: bool = False,
    screen_visits: Sequence[ScreenVisit] = (),
) -> Operation:
    """Approve a pending operation with the data the server holds for it.

    ``screen_visits``: the pre-approval screens the user went through, sent
    as ``mobileTokenData`` for the bank's fraud detection.
    """
    await async_check_user_allowed(coordinator.hass, coordinator.config_entry, user_id)
    operation = await _async_fetch_operation(coordinator, operation_id)
    auth = operation_authentication(
        operation, pin, factor, allow_biometry=coordinator.allow_biometry
    )
    check_block_risk(auth, coordinator.activation_status, accept_block_risk=accept_block_risk)
    check_not_on_call(coordinator, operation)
    proximity = proximity_check(operation, pac, totp, coordinator.session.clock.now())
    LOGGER.debug("Approving operation %s with %s", operation.id, auth.factor.value)
    try:
        await coordinator.client.authorize(
            operation,
            auth,
            proximity=proximity,
            mobile_token_data=mobile_token_data(screen_visits),
        )
    except MobileTokenError as err:
        await _async_handle_failure(coordinator, err, operation)
        raise translate_error(err) from err
    await _async_finished(coordinator, EVENT_APPROVED, operation, user_id)
    return operation


def check_not_on_call(coordinator: MobileTokenCoordinator, operation: Operation) -> None:
    """Refuse an approval the bank forbids during a call while a phone reads a call.

    Fraudsters coach their victims by phone; the bank marks such operations
    ``blockApprovalOnCall``. The companion app's phone-state sensors chosen in
    the options tell whether a call is going on.
    """
    if not operation.block_approval_on_call:
        return
    for entity_id in coordinator.config_entry.options.get(CONF_CALL_SENSORS, []):
        state = coordinator.hass.states.get(entity_id)
        if state is not None and state.state in PHONE_STATES_ON_CALL:
            raise validation_error("blocked_on_call")


async def async_reject(
    coordinator: MobileTokenCoordinator,
    operation_id: str,
    reason: str,
    *,
    user_id: str | None = None,
    screen_visits: Sequence[ScreenVisit] = (),
) -> Operation:
    """Reject a pending operation with a reason (possession signature)."""
    await async_check_user_allowed(coordinator.hass, coordinator.config_entry, user_id)
    # Nothing is signed over the operation's data: the listed copy is enough.
    operation = coordinator.known_operation(operation_id) or await _async_fetch_operation(
        coordinator, operation_id
    )
    LOGGER.debug("Rejecting operation %s (%s)", operation.id, reason)
    try:
        await coordinator.client.reject(
            operation.id, reason, mobile_token_data=mobile_token_data(screen_visits)
        )
    except MobileTokenError as err:
        await _async_handle_failure(coordinator, err, operation)
        raise translate_error(err) from err
    await _async_finished(coordinator, EVENT_REJECTED, operation, user_id, reason=reason)
    return operation


async def async_get_operation(
    coordinator: MobileTokenCoordinator, operation_id: str, *, user_id: str | None = None
) -> Operation:
    """Return the operation's current detail to a caller allowed to see it."""
    await async_check_user_allowed(coordinator.hass, coordinator.config_entry, user_id)
    return await _async_fetch_operation(coordinator, operation_id)


async def async_claim(
    coordinator: MobileTokenCoordinator, operation_id: str, *, user_id: str | None = None
) -> Operation:
    """Make a non-personalised operation this user's; it then joins the list."""
    await async_check_user_allowed(coordinator.hass, coordinator.config_entry, user_id)
    try:
        operation = await coordinator.client.claim_operation(operation_id)
    except MobileTokenError as err:
        raise translate_error(err) from err
    await coordinator.async_refresh()
    return operation


async def async_get_history(
    coordinator: MobileTokenCoordinator,
    *,
    pin: str | None = None,
    factor: str | None = None,
    user_id: str | None = None,
) -> list[Operation]:
    """Recent operations in every status (two factors)."""
    await async_check_user_allowed(coordinator.hass, coordinator.config_entry, user_id)
    auth = two_factor_authentication(
        pin, factor, allow_biometry=coordinator.allow_biometry, biometry_allowed=True
    )
    try:
        return await coordinator.client.history(auth)
    except MobileTokenError as err:
        await _async_handle_failure(coordinator, err, None)
        raise translate_error(err) from err


async def async_sign_offline_qr(
    coordinator: MobileTokenCoordinator,
    qr_text: str,
    *,
    pin: str | None = None,
    factor: str | None = None,
    uri_id: str | None = None,
    user_id: str | None = None,
) -> tuple[str, QrOperation]:
    """Compute the approval code of an offline (QR) operation after verifying it."""
    await async_check_user_allowed(coordinator.hass, coordinator.config_entry, user_id)
    qr = parse_offline_qr(qr_text)
    auth = two_factor_authentication(
        pin, factor, allow_biometry=coordinator.allow_biometry, biometry_allowed=qr.flags.biometry
    )
    LOGGER.debug("Signing offline operation %s with %s", qr.operation_id, auth.factor.value)
    try:
        code = await coordinator.client.sign_offline_qr(qr, auth, uri_id=uri_id)
    except MobileTokenError as err:
        raise translate_error(err) from err
    return code, qr


def parse_offline_qr(text: str) -> QrOperation:
    """Parse an offline QR operation or raise the translated ``invalid_qr`` error."""
    try:
        return parse_qr_operation(text)
    except MobileTokenError as err:
        raise translate_error(err) from err


async def _async_fetch_operation(
    coordinator: MobileTokenCoordinator, operation_id: str
) -> Operation:
    """Fetch the operation's current detail from the server (caller already checked)."""
    try:
        return await coordinator.client.get_operation(operation_id)
    except MobileTokenError as err:
        raise translate_error(err) from err


async def _async_handle_failure(
    coordinator: MobileTokenCoordinator, err: MobileTokenError, operation: Operation | None
) -> None:
    """Report a refused action once, after bringing the list and status up to date.

    An operation the server says is over leaves the list without a second
    (``removed``) event; after an authentication failure the activation is
    checked again, which may ask for a new activation.
    """
    finished = isinstance(err, ServerError) and err.code in OPERATION_OVER_CODES
    if operation is not None and finished:
        coordinator.async_forget_operation(operation.id)
    refused = isinstance(err, AuthenticationError | ActivationError)
    if refused:
        coordinator.async_status_changed(coordinator.session.last_status)
    if finished or refused:
        await coordinator.async_refresh()
    if operation is not None:
        expired = isinstance(err, ServerError) and err.code == CODE_OPERATION_EXPIRED
        event_type = EVENT_EXPIRED if expired else EVENT_FAILED
        coordinator.async_report(event_type, operation, error=translate_error(err).translation_key)


async def _async_finished(
    coordinator: MobileTokenCoordinator,
    event_type: str,
    operation: Operation,
    user_id: str | None,
    **details: Any,
) -> None:
    """Report an approval or rejection, then refresh the list without a duplicate event."""
    user_name = None
    if user_id is not None and (user := await coordinator.hass.auth.async_get_user(user_id)):
        user_name = user.name
    coordinator.async_forget_operation(operation.id)
    coordinator.async_report(event_type, operation, user_id=user_id, user_name=user_name, **details)
    status = coordinator.activation_status
    if status is not None and status.failed_attempts:
        # The server forgets failed attempts after a good signature: read them again.
        coordinator.async_status_changed(None)
    await coordinator.async_refresh()
