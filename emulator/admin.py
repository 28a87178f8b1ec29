"""The admin API (loopback only): activation codes, activations, operations, faults.

Paths and shapes are fixed by the emulator's issue; tests and the demo use
them through ``emulator.testing.AdminClient``. ``counter`` in an activation is
the number of signature counter values the server has consumed (its
``ctr_byte`` is that number modulo 256).
"""

import ipaddress
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Final

from aiohttp import web

from mtoken.activation_code import generate_activation_code, sign_activation_code
from mtoken.encoding import b64encode
from mtoken.keys import load_private_key
from mtoken.status import DEFAULT_MAX_FAILED_ATTEMPTS, ActivationStatus

from .activation import COMMIT_AUTO, COMMIT_MANUAL
from .auth import verify_offline_signature
from .context import PROTOCOL_CHOICES, Emulator, emulator_of
from .crypto import new_totp_seed, totp, valid_totps
from .errors import HTTP_FORBIDDEN, ApiError, activation_error, invalid_request, not_found
from .faults import MAX_COUNT, MAX_LATENCY_S, MAX_SKEW_S, FaultKind
from .httpio import as_object, get_str, json_response, read_json, require_str
from .offline import (
    KEY_DIGITS,
    NONCES_TRIED,
    SIGNING_KEY_MASTER,
    build_offline_qr,
    new_qr_nonce,
    offline_candidates,
)
from .operation_json import ALLOWED_FACTORS, TWO_FACTOR_VARIANTS, admin_operation_json
from .operations import STATUS_APPROVED, STATUS_PENDING, is_owner
from .records import Activation, Operation

DEFAULT_EXPIRY_S: Final = 300
MAX_EXPIRY_S: Final = 365 * 24 * 3600
DEFAULT_MAX_FAILURES: Final = 5
MAX_ATTEMPTS: Final = 100
FORM_KEYS: Final = ("title", "message", "attributes", "resultTexts")

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _is_loopback(request: web.Request) -> bool:
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


@web.middleware
async def loopback_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse the admin API to anything but loopback peers."""
    if request.path.startswith("/admin") and not _is_loopback(request):
        raise ApiError(HTTP_FORBIDDEN, "ERROR_FORBIDDEN", "The admin API is loopback only")
    return await handler(request)


def _int(obj: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = obj.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise invalid_request(f"{name} must be an integer in {low}..{high}")
    return int(value)


def activation_json(activation: Activation) -> dict[str, Any]:
    """An activation as the admin API lists it."""
    return {
        "activationId": activation.activation_id,
        "userId": activation.user_id,
        "status": ActivationStatus(activation.status).name,
        "failedAttempts": activation.failed_attempts,
        "maxFailedAttempts": activation.max_failed_attempts,
        "counter": activation.counter,
        "activationName": activation.name,
        "platform": activation.platform,
        "protocolVersion": "4.0" if activation.protocol_version == 4 else "3.3",
        "algorithm": activation.algorithm or "EC_P256",
    }


def issue_activation_code(
    emu: Emulator,
    user_id: str,
    *,
    commit_mode: str = COMMIT_AUTO,
    max_failed_attempts: int = DEFAULT_MAX_FAILED_ATTEMPTS,
    activation_id: str | None = None,
) -> Activation:
    """A new activation in state CREATED with a fresh signed activation code.

    ``activation_id`` lets a test play a server that answers an id of its own
    choosing (a broken or malicious one: not a UUID, a path).
    """
    code = generate_activation_code()
    while emu.db.activation_by_code(code) is not None:
        code = generate_activation_code()
    signature = sign_activation_code(emu.application.master_private_key, code)
    activation = Activation(
        activation_id=activation_id or str(uuid.uuid4()),
        activation_code=code,
        code_signature=b64encode(signature),
        user_id=user_id,
        status=ActivationStatus.CREATED,
        commit_mode=commit_mode,
        created_ms=emu.now_ms(),
        max_failed_attempts=max_failed_attempts,
    )
    emu.db.save_activation(activation)
    return activation


def code_json(activation: Activation) -> dict[str, Any]:
    """What the admin API answers for a new activation code."""
    return {
        "activationCode": activation.activation_code,
        "activationSignature": activation.code_signature,
        "userId": activation.user_id,
        "activationId": activation.activation_id,
    }


async def create_activation_code(request: web.Request) -> web.Response:
    """``POST /admin/activation-code {"userId", "commit"?, "maxFailedAttempts"?, ...}``.

    ``activationId`` (optional) is the id the activation will answer, to play a broken server.
    """
    emu = emulator_of(request)
    body = as_object(await read_json(request, invalid_request), invalid_request)
    user_id = require_str(body, "userId", invalid_request, max_length=256)
    commit = body.get("commit", COMMIT_AUTO)
    if commit not in (COMMIT_AUTO, COMMIT_MANUAL):
        raise invalid_request("commit must be 'auto' or 'manual'")
    attempts = _int(body, "maxFailedAttempts", DEFAULT_MAX_FAILED_ATTEMPTS, 1, MAX_ATTEMPTS)
    activation_id = get_str(body, "activationId", invalid_request, required=False, max_length=64)
    activation = issue_activation_code(
        emu,
        user_id,
        commit_mode=commit,
        max_failed_attempts=attempts,
        activation_id=activation_id,
    )
    return json_response(code_json(activation))


async def list_activations(request: web.Request) -> web.Response:
    """``GET /admin/activations``: every activation past the key exchange."""
    emu = emulator_of(request)
    return json_response([activation_json(a) for a in emu.db.activations()])


_TRANSITIONS: Final = {
    "block": ({ActivationStatus.ACTIVE}, ActivationStatus.BLOCKED),
    "unblock": ({ActivationStatus.BLOCKED}, ActivationStatus.ACTIVE),
    "commit": ({ActivationStatus.PENDING_COMMIT}, ActivationStatus.ACTIVE),
    "remove": (
        {
            ActivationStatus.CREATED,
            ActivationStatus.PENDING_COMMIT,
            ActivationStatus.ACTIVE,
            ActivationStatus.BLOCKED,
        },
        ActivationStatus.REMOVED,
    ),
}


async def change_activation(request: web.Request) -> web.Response:
    """``POST /admin/activations/{id}/block|unblock|commit|remove``."""
    emu = emulator_of(request)
    action = request.match_info["action"]
    if action not in _TRANSITIONS:
        raise not_found(f"action {action}")
    activation = emu.db.get_activation(request.match_info["activation_id"])
    if activation is None:
        raise not_found("activation")
    sources, target = _TRANSITIONS[action]
    if activation.status not in sources:
        status = ActivationStatus(activation.status).name
        raise activation_error(f"cannot {action} an activation in state {status}")
    activation.status = target
    if action == "unblock":
        activation.failed_attempts = 0
    emu.db.save_activation(activation)
    if target == ActivationStatus.REMOVED:
        emu.db.delete_tokens_of(activation.activation_id)
    return json_response(activation_json(activation))


def _factors(body: dict[str, Any]) -> list[str]:
    factors = body.get("allowedFactors", list(TWO_FACTOR_VARIANTS))
    if (
        not isinstance(factors, list)
        or not factors
        or any(f not in ALLOWED_FACTORS for f in factors)
    ):
        raise invalid_request(f"allowedFactors must be a non-empty subset of {ALLOWED_FACTORS}")
    return list(dict.fromkeys(factors))


def _form(source: dict[str, Any], what: str) -> dict[str, Any]:
    form: dict[str, Any] = {}
    for key in ("title", "message"):
        form[key] = get_str(source, key, invalid_request, required=False, max_length=4096) or ""
    attributes = source.get("attributes", [])
    if not isinstance(attributes, list) or not all(isinstance(a, dict) for a in attributes):
        raise invalid_request(f"{what}attributes must be a list of objects")
    form["attributes"] = attributes
    result_texts = source.get("resultTexts")
    if result_texts is not None:
        form["resultTexts"] = as_object(result_texts, invalid_request, "resultTexts")
    templates = source.get("templates")
    if templates is not None:
        form["templates"] = as_object(templates, invalid_request, "templates")
    return form


def _texts(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    texts = {"en": _form(body, "")}
    extra = body.get("texts")
    if extra is not None:
        for language, form in as_object(extra, invalid_request, "texts").items():
            texts[str(language)[:8]] = _form(as_object(form, invalid_request, "texts"), "texts.")
    return texts


def operation_from_request(emu: Emulator, body: dict[str, Any]) -> Operation:
    """Validate an admin operation request into a new PENDING operation."""
    user_id = get_str(body, "userId", invalid_request, required=False, max_length=256)
    activation_id = get_str(body, "activationId", invalid_request, required=False, max_length=64)
    proximity = body.get("proximity", False)
    if not isinstance(proximity, bool):
        raise invalid_request("proximity must be a boolean")
    ui = body.get("ui")
    now = emu.now_ms()
    expires_s = _int(body, "expiresInSeconds", DEFAULT_EXPIRY_S, -MAX_EXPIRY_S, MAX_EXPIRY_S)
    return Operation(
        id=str(uuid.uuid4()),
        user_id=user_id,
        activation_id=activation_id,
        name=require_str(body, "name", invalid_request, max_length=256),
        data=require_str(body, "data", invalid_request),
        status=STATUS_PENDING,
        created_ms=now,
        expires_ms=now + expires_s * 1000,
        allowed_factors=_factors(body),
        max_failures=_int(body, "maxFailureCount", DEFAULT_MAX_FAILURES, 1, MAX_ATTEMPTS),
        texts=_texts(body),
        totp_seed=new_totp_seed() if proximity else None,
        ui=None if ui is None else as_object(ui, invalid_request, "ui"),
    )


async def create_operation(request: web.Request) -> web.Response:
    """``POST /admin/operations``: a new operation (+ ``totpSeed`` with proximity)."""
    emu = emulator_of(request)
    body = as_object(await read_json(request, invalid_request), invalid_request)
    operation = emu.db.insert_operation(operation_from_request(emu, body))
    return json_response(admin_operation_json(operation))


def _operation(request: web.Request) -> tuple[Emulator, Operation]:
    emu = emulator_of(request)
    emu.db.expire_due(emu.now_ms())
    operation = emu.db.get_operation(request.match_info["operation_id"])
    if operation is None:
        raise not_found("operation")
    return emu, operation


async def get_operation(request: web.Request) -> web.Response:
    """``GET /admin/operations/{id}``, with the ``mobileTokenData`` of its decision if any."""
    emu, operation = _operation(request)
    out = admin_operation_json(operation)
    if operation.id in emu.mobile_token_data:
        out["mobileTokenData"] = emu.mobile_token_data[operation.id]
    return json_response(out)


async def get_totp(request: web.Request) -> web.Response:
    """``GET /admin/operations/{id}/totp``: the proximity OTP of the current step."""
    emu, operation = _operation(request)
    if operation.totp_seed is None:
        raise invalid_request("the operation has no proximity check")
    return json_response({"totp": totp(operation.totp_seed, emu.clock.now_s())})


def _signing_activation(
    emu: Emulator, operation: Operation, activation_id: str | None
) -> Activation:
    candidates = (
        [emu.db.get_activation(activation_id)]
        if activation_id
        else [
            a
            for a in emu.db.activations()
            if a.status == ActivationStatus.ACTIVE and is_owner(operation, a)
        ]
    )
    activation = candidates[0] if candidates else None
    if activation is None or activation.server_private_key is None:
        raise invalid_request("no activation with a server key to sign the QR code")
    return activation


def _user_speaks_v4(emu: Emulator, operation: Operation) -> bool:
    """Whether the operation's user holds an active 4.0 activation (the bank signs for it)."""
    return any(
        a.protocol_version == 4 and a.status == ActivationStatus.ACTIVE and is_owner(operation, a)
        for a in emu.db.activations()
    )


async def offline_qr(request: web.Request) -> web.Response:
    """``POST /admin/operations/{id}/offline-qr {"signingKey", "activationId"?, "protocol"?}``.

    ``"protocol": "4.0"`` signs with the P-384 master key (ECDSA SHA-384), as does a
    master-key code for a user whose activation speaks 4.0; ``"3.3"`` forces P-256.
    """
    emu, operation = _operation(request)
    body = as_object(await read_json(request, invalid_request), invalid_request)
    key_name = body.get("signingKey", SIGNING_KEY_MASTER)
    if key_name not in KEY_DIGITS:
        raise invalid_request(f"signingKey must be one of {sorted(KEY_DIGITS)}")
    activation_id = get_str(body, "activationId", invalid_request, required=False, max_length=64)
    signing_key = emu.application.master_private_key
    if body.get("protocol") == "4.0" or (
        body.get("protocol") is None and _user_speaks_v4(emu, operation)
    ):
        if key_name != SIGNING_KEY_MASTER:
            raise invalid_request("protocol 4.0 QR codes here are signed by the master key")
        signing_key = emu.application.master_p384_key
    elif key_name != SIGNING_KEY_MASTER:
        activation = _signing_activation(emu, operation, activation_id)
        assert activation.server_private_key is not None  # noqa: S101 - checked above
        signing_key = load_private_key(activation.server_private_key)
    nonce = new_qr_nonce()
    current = totp(operation.totp_seed, emu.clock.now_s()) if operation.totp_seed else None
    emu.db.add_offline_nonce(operation.id, nonce, emu.now_ms())
    return json_response({"qr": build_offline_qr(operation, signing_key, key_name, nonce, current)})


async def verify_offline(request: web.Request) -> web.Response:
    """``POST /admin/verify-offline``: check a typed-back code; a valid one approves."""
    emu = emulator_of(request)
    body = as_object(await read_json(request, invalid_request), invalid_request)
    activation_id = require_str(body, "activationId", invalid_request, max_length=64)
    operation_id = require_str(body, "operationId", invalid_request, max_length=64)
    code = require_str(body, "code", invalid_request, max_length=64)
    uri_id = get_str(body, "uriId", invalid_request, required=False, max_length=256)
    emu.db.expire_due(emu.now_ms())
    operation = emu.db.get_operation(operation_id)
    activation = emu.db.get_activation(activation_id)
    if operation is None or activation is None or activation.status != ActivationStatus.ACTIVE:
        return json_response({"valid": False})
    totps = valid_totps(operation.totp_seed, emu.clock.now_s()) if operation.totp_seed else None
    nonces = emu.db.offline_nonces(operation.id, NONCES_TRIED)
    candidates = offline_candidates(operation, nonces, totps, uri_id)
    match = verify_offline_signature(
        emu, activation, candidates.signature_types, candidates.data, code
    )
    if match is not None and operation.status == STATUS_PENDING and is_owner(operation, activation):
        operation.status = STATUS_APPROVED
        operation.signature_type = str(match.signature_type)
        emu.db.save_operation(operation)
    return json_response({"valid": match is not None})


async def set_protocols(request: web.Request) -> web.Response:
    """``POST /admin/protocols {"minSupportedProtocolVersion": 3|4}``, as the server setting.

    4 refuses every 3.3 activation, signature and token (to test the fallback
    and the upgrade); 3 accepts both again. Needs a server started with 4.0.
    """
    emu = emulator_of(request)
    body = as_object(await read_json(request, invalid_request), invalid_request)
    minimum = body.get("minSupportedProtocolVersion")
    if minimum not in (3, 4) or (not emu.speaks_v4 and minimum == 4):
        raise invalid_request("minSupportedProtocolVersion must be 3 or 4 (4 needs 4.0 on)")
    emu.protocols = PROTOCOL_CHOICES["4.0"] if minimum == 4 else emu.protocols | {"3.3"}
    return json_response({"protocols": sorted(emu.protocols)})


async def arm_fault(request: web.Request) -> web.Response:
    """``POST /admin/faults {"count", "kind", "value"?}``."""
    emu = emulator_of(request)
    body = as_object(await read_json(request, invalid_request), invalid_request)
    try:
        kind = FaultKind(str(body.get("kind")))
    except ValueError as err:
        raise invalid_request(f"kind must be one of {[k.value for k in FaultKind]}") from err
    count = _int(body, "count", 1, 0, MAX_COUNT)
    value = body.get("value")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise invalid_request("value must be a number")
    limit = MAX_SKEW_S if kind is FaultKind.CLOCK_SKEW else MAX_LATENCY_S
    if value is not None and not -limit <= value <= limit:
        raise invalid_request(f"value must be within ±{limit}")
    emu.faults.arm(kind, count, None if value is None else float(value))
    return json_response({})


def add_routes(app: web.Application) -> None:
    """Register the admin endpoints."""
    app.router.add_post("/admin/activation-code", create_activation_code)
    app.router.add_get("/admin/activations", list_activations)
    app.router.add_post("/admin/activations/{activation_id}/{action}", change_activation)
    app.router.add_post("/admin/operations", create_operation)
    app.router.add_get("/admin/operations/{operation_id}", get_operation)
    app.router.add_get("/admin/operations/{operation_id}/totp", get_totp)
    app.router.add_post("/admin/operations/{operation_id}/offline-qr", offline_qr)
    app.router.add_post("/admin/verify-offline", verify_offline)
    app.router.add_post("/admin/faults", arm_fault)
    app.router.add_post("/admin/protocols", set_protocols)
