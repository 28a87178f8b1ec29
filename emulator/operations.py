"""The Mobile Token API, server side (mobile-token-api.md sections 1-3 and 7).

List, detail and claim use the token; history, authorize and cancel use
signatures. Expiry is applied lazily on every read; finished operations
answer with their status error; another user's operation is never shown.
"""

import logging
from typing import Any, Final

from aiohttp import web

from mtoken.signature import AUTHORIZATION_HEADER, SignatureType
from mtoken.token import TOKEN_HEADER

from .auth import TWO_FACTOR_TYPES, SignedBy, TokenAuth, verify_signed_request, verify_token
from .context import Emulator, emulator_of
from .crypto import totp_matches
from .errors import (
    HTTP_UNAUTHORIZED,
    INVALID_OPERATION,
    OPERATION_ALREADY_CANCELED,
    OPERATION_ALREADY_FAILED,
    OPERATION_ALREADY_FINISHED,
    OPERATION_EXPIRED,
    OPERATION_FAILED,
    POWERAUTH_AUTH_FAIL,
    ApiError,
    invalid_request,
    ok_body,
    operation_error,
)
from .faults import REQUEST_FAULTS_KEY, RequestFaults
from .httpio import (
    as_object,
    get_str,
    json_response,
    parse_json,
    read_body,
    read_json,
    request_object,
    require_str,
)
from .operation_json import format_date, operation_json
from .records import Activation, Operation
from .texts import choose_language

_LOGGER = logging.getLogger(__name__)

STATUS_PENDING: Final = "PENDING"
STATUS_APPROVED: Final = "APPROVED"
STATUS_REJECTED: Final = "REJECTED"
STATUS_CANCELED: Final = "CANCELED"
STATUS_EXPIRED: Final = "EXPIRED"
STATUS_FAILED: Final = "FAILED"
URI_ID_HISTORY: Final = "/operation/history"
URI_ID_AUTHORIZE: Final = "/operation/authorize"
URI_ID_CANCEL: Final = "/operation/cancel"
AUTHORIZE_TYPES: Final = TWO_FACTOR_TYPES | {SignatureType.POSSESSION}
CANCEL_TYPES: Final = frozenset({SignatureType.POSSESSION})
DEFAULT_REJECT_REASON: Final = "UNKNOWN"
MAX_STATUS_REASON: Final = 32
PUSH_PLATFORMS: Final = frozenset({"ios", "android", "huawei", "apns", "fcm", "hms"})
MAX_ID_LENGTH: Final = 64
MAX_DATA_LENGTH: Final = 4096

_STATUS_ERRORS: Final = {
    STATUS_APPROVED: (OPERATION_ALREADY_FINISHED, "Operation was already completed."),
    STATUS_REJECTED: (OPERATION_ALREADY_FINISHED, "Operation was already completed."),
    STATUS_FAILED: (OPERATION_ALREADY_FAILED, "Operation has already failed."),
    STATUS_CANCELED: (OPERATION_ALREADY_CANCELED, "Operation was already canceled."),
    STATUS_EXPIRED: (OPERATION_EXPIRED, "Operation has expired."),
}


def already_failed() -> ApiError:
    """400 OPERATION_ALREADY_FAILED: the operation has reached its failure limit."""
    return operation_error(*_STATUS_ERRORS[STATUS_FAILED])


def check_pending(operation: Operation) -> None:
    """Raise the status error of an operation that is no longer PENDING."""
    if operation.status in _STATUS_ERRORS:
        code, message = _STATUS_ERRORS[operation.status]
        raise operation_error(code, message)


def is_owner(operation: Operation, activation: Activation) -> bool:
    """Same user, and the operation's activation binding (if any) is this activation."""
    return operation.user_id == activation.user_id and operation.activation_id in (
        None,
        activation.activation_id,
    )


def load_operation(emu: Emulator, operation_id: str) -> Operation:
    """Read an operation after applying expiry; INVALID_OPERATION when unknown."""
    emu.db.expire_due(emu.now_ms())
    operation = emu.db.get_operation(operation_id)
    if operation is None:
        raise operation_error(INVALID_OPERATION, "Operation not found.")
    return operation


def visible_operations(
    emu: Emulator, activation: Activation, *, pending_only: bool
) -> list[Operation]:
    """The caller's operations, newest first, bound ones only to their activation."""
    emu.db.expire_due(emu.now_ms())
    status = STATUS_PENDING if pending_only else None
    return [
        op
        for op in emu.db.operations_of(activation.user_id, status=status)
        if is_owner(op, activation)
    ]


def _operation_id(request_obj: dict[str, Any]) -> str:
    return require_str(request_obj, "id", invalid_request, max_length=MAX_ID_LENGTH)


def _timestamped(emu: Emulator, response_object: Any) -> web.Response:
    return json_response(ok_body(response_object, currentTimestamp=format_date(emu.now_ms())))


async def _token_request(request: web.Request) -> tuple[Emulator, TokenAuth, Any]:
    emu = emulator_of(request)
    auth = verify_token(emu, request.headers.get(TOKEN_HEADER))
    return emu, auth, await read_json(request, invalid_request)


async def operation_list(request: web.Request) -> web.Response:
    """PENDING operations of the caller (newest first, at most 100)."""
    emu, auth, body = await _token_request(request)
    as_object(body, invalid_request)
    language = choose_language(request.headers.get("Accept-Language"))
    operations = visible_operations(emu, auth.activation, pending_only=True)
    return _timestamped(emu, [operation_json(op, language) for op in operations])


async def operation_detail(request: web.Request) -> web.Response:
    """One PENDING operation of the caller."""
    emu, auth, body = await _token_request(request)
    operation = load_operation(emu, _operation_id(request_object(body, invalid_request)))
    if not is_owner(operation, auth.activation):
        raise invalid_request(f"operation {operation.id} belongs to another user")
    check_pending(operation)
    language = choose_language(request.headers.get("Accept-Language"))
    return _timestamped(emu, operation_json(operation, language))


async def operation_claim(request: web.Request) -> web.Response:
    """Make a non-personalised PENDING operation the caller's."""
    emu, auth, body = await _token_request(request)
    operation = load_operation(emu, _operation_id(request_object(body, invalid_request)))
    if operation.user_id is None:
        check_pending(operation)
        operation.user_id = auth.activation.user_id
        emu.db.save_operation(operation)
        _LOGGER.info("operation %s claimed by user %s", operation.id, operation.user_id)
    if not is_owner(operation, auth.activation):
        raise operation_error(INVALID_OPERATION, "Operation is claimed by another user.")
    check_pending(operation)
    language = choose_language(request.headers.get("Accept-Language"))
    return _timestamped(emu, operation_json(operation, language))


async def operation_history(request: web.Request) -> web.Response:
    """All operations of the caller, any status (2FA signature)."""
    emu = emulator_of(request)
    body = await read_body(request, invalid_request)
    signed = verify_signed_request(
        emu,
        request.headers.get(AUTHORIZATION_HEADER),
        method=request.method,
        uri_id=URI_ID_HISTORY,
        body=body,
        allowed=TWO_FACTOR_TYPES,
    )
    as_object(parse_json(body, invalid_request), invalid_request)
    language = choose_language(request.headers.get("Accept-Language"))
    operations = visible_operations(emu, signed.activation, pending_only=False)
    return json_response(ok_body([operation_json(op, language) for op in operations]))


def count_failure(emu: Emulator, operation: Operation) -> bool:
    """One more failed approval; True when that made the operation FAILED."""
    operation.failure_count += 1
    failed = operation.failure_count >= operation.max_failures
    if failed:
        operation.status = STATUS_FAILED
    emu.db.save_operation(operation)
    return failed


def _failed_approval(emu: Emulator, operation: Operation, reason: str) -> ApiError:
    _LOGGER.info("approval of operation %s failed: %s", operation.id, reason)
    if count_failure(emu, operation):
        return already_failed()
    return operation_error(OPERATION_FAILED, "Operation approval failed.", HTTP_UNAUTHORIZED)


def _fail_after_bad_signature(emu: Emulator, body: bytes) -> None:
    """Bad signature: the operation named in the body (if PENDING) counts a failure."""
    try:
        operation_id = _operation_id(
            request_object(parse_json(body, invalid_request), invalid_request)
        )
    except ApiError:
        return
    emu.db.expire_due(emu.now_ms())
    operation = emu.db.get_operation(operation_id)
    if (
        operation is not None
        and operation.status == STATUS_PENDING
        and count_failure(emu, operation)
    ):
        raise already_failed()


def _approval_problem(
    operation: Operation, signed: SignedBy, payload: dict[str, Any], emu: Emulator
) -> str | None:
    """Why a correctly signed approval is refused, or None to approve."""
    if not is_owner(operation, signed.activation):
        return "another user's operation or another activation"
    if payload.get("data") != operation.data:
        return "data differ from the operation's"
    if str(signed.signature_type) not in operation.allowed_factors:
        return f"{signed.signature_type} is not allowed for this operation"
    if operation.totp_seed is not None:
        proximity = payload.get("proximityCheck")
        otp = proximity.get("otp") if isinstance(proximity, dict) else None
        if not isinstance(otp, str) or not totp_matches(
            operation.totp_seed, emu.clock.now_s(), otp
        ):
            return "proximity check OTP missing or wrong"
    return None


def _remember_token_data(emu: Emulator, operation: Operation, payload: dict[str, Any]) -> None:
    """Keep the decision's ``mobileTokenData`` (SDK 2.1+) for the admin API to show."""
    data = payload.get("mobileTokenData")
    if isinstance(data, dict):
        emu.mobile_token_data[operation.id] = data


async def operation_authorize(request: web.Request) -> web.Response:
    """Approve an operation with a signature of an allowed factor."""
    emu = emulator_of(request)
    body = await read_body(request, invalid_request)
    try:
        signed = verify_signed_request(
            emu,
            request.headers.get(AUTHORIZATION_HEADER),
            method=request.method,
            uri_id=URI_ID_AUTHORIZE,
            body=body,
            allowed=AUTHORIZE_TYPES,
        )
    except ApiError as err:
        if err.code == POWERAUTH_AUTH_FAIL:
            _fail_after_bad_signature(emu, body)
            faults = request.get(REQUEST_FAULTS_KEY)
            if isinstance(faults, RequestFaults) and faults.operation_failed:
                raise operation_error(
                    OPERATION_FAILED, "Operation approval failed.", HTTP_UNAUTHORIZED
                ) from err
        raise
    payload = request_object(parse_json(body, invalid_request), invalid_request)
    operation = load_operation(emu, _operation_id(payload))
    get_str(payload, "data", invalid_request, required=False, max_length=MAX_DATA_LENGTH)
    check_pending(operation)
    problem = _approval_problem(operation, signed, payload, emu)
    if problem is not None:
        raise _failed_approval(emu, operation, problem)
    operation.status = STATUS_APPROVED
    operation.signature_type = str(signed.signature_type)
    emu.db.save_operation(operation)
    _remember_token_data(emu, operation, payload)
    _LOGGER.info("operation %s approved with %s", operation.id, signed.signature_type)
    return json_response(ok_body())


async def operation_cancel(request: web.Request) -> web.Response:
    """Reject an operation (possession signature); the reason is stored."""
    emu = emulator_of(request)
    body = await read_body(request, invalid_request)
    signed = verify_signed_request(
        emu,
        request.headers.get(AUTHORIZATION_HEADER),
        method=request.method,
        uri_id=URI_ID_CANCEL,
        body=body,
        allowed=CANCEL_TYPES,
    )
    payload = request_object(parse_json(body, invalid_request), invalid_request)
    operation = load_operation(emu, _operation_id(payload))
    reason = get_str(payload, "reason", invalid_request, required=False, max_length=256)
    check_pending(operation)
    if not is_owner(operation, signed.activation):
        raise operation_error(OPERATION_FAILED, "Operation rejection failed.", HTTP_UNAUTHORIZED)
    operation.status = STATUS_REJECTED
    operation.reject_reason = reason or DEFAULT_REJECT_REASON
    operation.status_reason = operation.reject_reason[:MAX_STATUS_REASON]
    emu.db.save_operation(operation)
    _remember_token_data(emu, operation, payload)
    _LOGGER.info("operation %s rejected (%s)", operation.id, operation.reject_reason)
    return json_response(ok_body())


async def push_register(request: web.Request) -> web.Response:
    """Store the push token of the caller's activation."""
    emu, auth, body = await _token_request(request)
    payload = request_object(body, invalid_request)
    platform = require_str(payload, "platform", invalid_request, max_length=32).lower()
    if platform not in PUSH_PLATFORMS:
        raise invalid_request(f"unknown push platform {platform!r}")
    token = require_str(payload, "token", invalid_request, max_length=1024)
    emu.db.save_push_device(auth.activation.activation_id, platform, token, emu.now_ms())
    return json_response(ok_body())


def add_routes(app: web.Application) -> None:
    """Register the Mobile Token API endpoints."""
    prefix = "/api/auth/token/app/operation"
    app.router.add_post(f"{prefix}/list", operation_list)
    app.router.add_post(f"{prefix}/detail", operation_detail)
    app.router.add_post(f"{prefix}/detail/claim", operation_claim)
    app.router.add_post(f"{prefix}/history", operation_history)
    app.router.add_post(f"{prefix}/authorize", operation_authorize)
    app.router.add_post(f"{prefix}/cancel", operation_cancel)
    app.router.add_post("/api/push/device/register/token", push_register)
