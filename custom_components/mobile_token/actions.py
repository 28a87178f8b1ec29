"""Everything a user does with the token: approve, reject, claim, read, sign, remove.

The actions and the dashboard card's websocket commands both call these
functions, so the checks (caller allowed, factor, last PIN attempt,
proximity), the error translation and the reported outcome live once. The
coordinator only polls; these functions tell it what they changed.

Every two-factor call is guarded the same way: the activation status is read
just before the PIN is used (wrong codes typed at the bank change it behind
the token's back), the last attempt before a block needs the caller's
consent, and after any refusal the status is read again so the user learns
the remaining attempts whatever error code the server chose.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

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
    STATUS_BLOCKED,
    STATUS_REMOVED,
)
from .coordinator import MobileTokenCoordinator
from .errors import failure_error, translate_error, validation_error
from .mtoken.errors import ActivationError, AuthenticationError, MobileTokenError, ServerError
from .mtoken.factors import Authentication, Factor
from .mtoken.mobile_token_data import ScreenVisit, mobile_token_data
from .mtoken.model import Operation
from .mtoken.qr import QrOperation, parse_qr_operation
from .mtoken.session import ActivationStatusInfo
from .permissions import async_check_user_allowed
from .proximity import proximity_check

# Entries whose activation the bank already removed (the card's "Remove at the bank").
DATA_REMOVED_AT_BANK: Final = "mobile_token_removed_at_bank"

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
    received: datetime | None = None,
) -> Operation:
    """Approve a pending operation with the data the server holds for it.

    ``screen_visits``: the pre-approval screens the user went through, sent
    as ``mobileTokenData`` for the bank's fraud detection. ``received``: when
    the user entered or scanned the proximity code.
    """
    await async_check_user_allowed(coordinator.hass, coordinator.config_entry, user_id)
    operation = await _async_fetch_operation(coordinator, operation_id)
    auth = operation_authentication(
        operation, pin, factor, allow_biometry=coordinator.allow_biometry
    )
    check_not_on_call(coordinator, operation)
    proximity = proximity_check(operation, pac, totp, received or coordinator.session.clock.now())
    LOGGER.debug("Approving operation %s with %s", operation.id, auth.factor.value)
    await _async_guarded(
        coordinator,
        auth,
        lambda: coordinator.client.authorize(
            operation,
            auth,
            proximity=proximity,
            mobile_token_data=mobile_token_data(screen_visits),
        ),
        accept_block_risk=accept_block_risk,
        operation=operation,
    )
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
    accept_block_risk: bool = False,
) -> list[Operation]:
    """Recent operations in every status (two factors)."""
    await async_check_user_allowed(coordinator.hass, coordinator.config_entry, user_id)
    auth = two_factor_authentication(
        pin, factor, allow_biometry=coordinator.allow_biometry, biometry_allowed=True
    )
    return await _async_guarded(
        coordinator,
        auth,
        lambda: coordinator.client.history(auth),
        accept_block_risk=accept_block_risk,
    )


async def async_remove_activation(
    coordinator: MobileTokenCoordinator,
    *,
    pin: str | None = None,
    factor: str | None = None,
    user_id: str | None = None,
    accept_block_risk: bool = False,
) -> None:
    """Remove the activation at the bank (two factors), then the entry and its keys."""
    hass = coordinator.hass
    entry = coordinator.config_entry
    await async_check_user_allowed(hass, entry, user_id)
    auth = two_factor_authentication(
        pin, factor, allow_biometry=coordinator.allow_biometry, biometry_allowed=True
    )
    LOGGER.debug("Removing the activation at the bank with %s", auth.factor.value)
    await _async_guarded(
        coordinator,
        auth,
        lambda: coordinator.session.remove_activation(auth),
        accept_block_risk=accept_block_risk,
    )
    mark_removed_at_bank(hass, entry.entry_id)
    await hass.config_entries.async_remove(entry.entry_id)


def mark_removed_at_bank(hass: HomeAssistant, entry_id: str) -> None:
    """Remember that the bank no longer knows this entry's activation (no reminder needed)."""
    hass.data.setdefault(DATA_REMOVED_AT_BANK, set()).add(entry_id)


def pop_removed_at_bank(hass: HomeAssistant, entry_id: str) -> bool:
    """Whether the entry's activation was removed at the bank already; forget the mark."""
    removed: set[str] = hass.data.get(DATA_REMOVED_AT_BANK, set())
    if entry_id in removed:
        removed.discard(entry_id)
        return True
    return False


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
    qr = await async_parse_offline_qr(coordinator, qr_text, user_id=user_id)
    auth = two_factor_authentication(
        pin, factor, allow_biometry=coordinator.allow_biometry, biometry_allowed=qr.flags.biometry
    )
    LOGGER.debug("Signing offline operation %s with %s", qr.operation_id, auth.factor.value)
    try:
        code = await coordinator.client.sign_offline_qr(qr, auth, uri_id=uri_id)
    except MobileTokenError as err:
        raise translate_error(err) from err
    return code, qr


async def async_parse_offline_qr(
    coordinator: MobileTokenCoordinator, text: str, *, user_id: str | None = None
) -> QrOperation:
    """Parse an offline QR operation and check the bank signed it, before anyone sees it.

    The signature is the master key's or the activation's server key's, so
    only an entry can tell; a forged QR raises ``invalid_qr_signature``.
    """
    await async_check_user_allowed(coordinator.hass, coordinator.config_entry, user_id)
    try:
        qr = parse_qr_operation(text)
        coordinator.client.verify_offline_qr(qr)
    except MobileTokenError as err:
        raise translate_error(err) from err
    return qr


async def _async_guarded[_T](
    coordinator: MobileTokenCoordinator,
    auth: Authentication,
    signed_call: Callable[[], Awaitable[_T]],
    *,
    accept_block_risk: bool,
    operation: Operation | None = None,
) -> _T:
    """Run a signed call with the last-attempt guard and the status read after a refusal."""
    before = None
    if auth.factor is not Factor.POSSESSION:
        before = await _async_read_status(coordinator)
        check_block_risk(auth, before, accept_block_risk=accept_block_risk)
    try:
        result = await signed_call()
    except MobileTokenError as err:
        error = await _async_explain_failure(coordinator, err, auth, before)
        await _async_handle_failure(coordinator, err, operation, error=error)
        raise error from err
    if before is not None and before.failed_attempts:
        # A good two-factor signature resets the server's count (protocol section 8).
        coordinator.async_status_changed(replace(before, failed_attempts=0))
    return result


async def _async_read_status(coordinator: MobileTokenCoordinator) -> ActivationStatusInfo:
    """The activation status now, from the server; the status sensor follows it."""
    try:
        status = await coordinator.session.fetch_status()
    except MobileTokenError as err:
        raise translate_error(err) from err
    coordinator.async_status_changed(status)
    if status.status in (STATUS_BLOCKED, STATUS_REMOVED):
        raise failure_error(f"activation_{status.status}")
    return status


async def _async_explain_failure(
    coordinator: MobileTokenCoordinator,
    err: MobileTokenError,
    auth: Authentication,
    before: ActivationStatusInfo | None,
) -> HomeAssistantError:
    """The error the user sees after a refused call, from the status read again.

    A wrong PIN that used an operation up is answered ``OPERATION_FAILED``
    (or another code), not as an authentication failure; the failed count
    at the server is what tells.
    """
    if before is None or isinstance(err, ActivationError):
        return translate_error(err)
    status = coordinator.session.last_status
    if not isinstance(err, AuthenticationError) or err.remaining_attempts is None:
        # The session reads the status itself only after an authentication failure.
        try:
            status = await coordinator.session.fetch_status()
        except MobileTokenError:
            return translate_error(err)
    if status is None:
        return translate_error(err)
    coordinator.async_status_changed(status)
    if status.status in (STATUS_BLOCKED, STATUS_REMOVED):
        return failure_error(f"activation_{status.status}")
    if isinstance(err, AuthenticationError) or status.failed_attempts > before.failed_attempts:
        return failure_error("wrong_pin", remaining_attempts=str(status.remaining_attempts))
    return translate_error(err)


async def _async_fetch_operation(
    coordinator: MobileTokenCoordinator, operation_id: str
) -> Operation:
    """Fetch the operation's current detail from the server (caller already checked)."""
    try:
        return await coordinator.client.get_operation(operation_id)
    except MobileTokenError as err:
        raise translate_error(err) from err


async def _async_handle_failure(
    coordinator: MobileTokenCoordinator,
    err: MobileTokenError,
    operation: Operation | None,
    *,
    error: HomeAssistantError | None = None,
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
        error = error or translate_error(err)
        coordinator.async_report(event_type, operation, error=error.translation_key)


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
