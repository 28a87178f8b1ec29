"""The PowerAuth standard RESTful API, server side (protocol 3.3, accepting 3.0-3.2).

Endpoints of powerauth-protocol.md sections 2 and 6-9: temporary keys,
activation (two-layer ECIES, type CODE), status blob, tokens (encrypt-then-
sign), activation removal, signature validation, vault unlock, server time.
"""

import json
import logging
import secrets
import uuid
from typing import Any, Final

from aiohttp import web

from mtoken.ecies import (
    ENCRYPTION_HEADER,
    SH1_ACTIVATION_LAYER2,
    SH1_APPLICATION_GENERIC,
    SH1_TOKEN_CREATE,
    SH1_VAULT_UNLOCK,
)
from mtoken.encoding import b64decode, b64encode
from mtoken.keys import (
    generate_private_key,
    load_private_key,
    load_public_key,
    private_key_bytes,
    public_key_bytes,
)
from mtoken.keystore import (
    CLAIM_ACTIVATION_ID,
    CLAIM_APPLICATION_KEY,
    CLAIM_CHALLENGE,
    TEMPORARY_KEY_LIFETIME_MS,
    activation_jwt_key,
    application_jwt_key,
    peek_jwt_claims,
    sign_response_jwt,
    verify_request_jwt,
)
from mtoken.protection import encrypt_vault_key
from mtoken.signature import AUTHORIZATION_HEADER, SignatureType, parse_header_fields
from mtoken.status import STATUS_CHALLENGE_SIZE, STATUS_NONCE_SIZE, ActivationStatus
from mtoken.token import TOKEN_SECRET_SIZE

from .auth import ALL_SIGNATURE_TYPES, POSSESSION_TYPES, TWO_FACTOR_TYPES, verify_signed_request
from .context import Emulator, emulator_of
from .crypto import derive_activation_keys, encrypted_status, new_ctr_data
from .db import Activation, TemporaryKeyRecord, TokenRecord
from .encryption import open_request
from .errors import (
    activation_error,
    encryption_error,
    invalid_request,
    ok_body,
    temporary_key_error,
    vault_error,
)
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

_LOGGER = logging.getLogger(__name__)

ACTIVATION_TYPE_CODE: Final = "CODE"
COMMIT_AUTO: Final = "auto"
COMMIT_MANUAL: Final = "manual"
METHOD_POST: Final = "POST"
URI_ID_ACTIVATION_REMOVE: Final = "/pa/activation/remove"
URI_ID_TOKEN_CREATE: Final = "/pa/token/create"
URI_ID_TOKEN_REMOVE: Final = "/pa/token/remove"
URI_ID_VAULT_UNLOCK: Final = "/pa/vault/unlock"
URI_ID_SIGNATURE_VALIDATE: Final = "/pa/signature/validate"
VAULT_SIGNATURE_TYPES: Final = TWO_FACTOR_TYPES | {SignatureType.POSSESSION_KNOWLEDGE_BIOMETRY}
VAULT_REASONS: Final = frozenset(
    {"ADD_BIOMETRY", "FETCH_ENCRYPTION_KEY", "SIGN_WITH_DEVICE_PRIVATE_KEY", "RECOVERY_CODE"}
)
_MS_PER_S: Final = 1000


def _version_of_encryption_header(request: web.Request, emu: Emulator) -> str:
    """Version from ``X-PowerAuth-Encryption``, whose application key must be ours."""
    value = request.headers.get(ENCRYPTION_HEADER)
    if not value:
        raise encryption_error("no X-PowerAuth-Encryption header")
    try:
        fields = parse_header_fields(value)
    except ValueError as err:
        raise encryption_error(f"bad X-PowerAuth-Encryption header: {err}") from err
    if fields.get("application_key") != emu.application.app_key:
        raise encryption_error("unknown application key in X-PowerAuth-Encryption")
    return str(fields.get("version", ""))


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


# -- /pa/v3/keystore/create ------------------------------------------------------


def _jwt_signer(emu: Emulator, claims: dict[str, Any]) -> tuple[bytes, Any, str | None]:
    """HS256 key, ES256 signer and activation id for the scope the JWT asks for."""
    app = emu.application
    if claims.get(CLAIM_APPLICATION_KEY) != app.app_key:
        raise temporary_key_error("unknown application key in the JWT")
    activation_id = claims.get(CLAIM_ACTIVATION_ID)
    if activation_id is None:
        return application_jwt_key(app.app_secret_bytes), app.master_private_key, None
    if not isinstance(activation_id, str):
        raise temporary_key_error("activationId is not a string")
    activation = emu.db.get_activation(activation_id)
    if (
        activation is None
        or activation.status != ActivationStatus.ACTIVE
        or activation.transport_key is None
        or activation.server_private_key is None
    ):
        raise temporary_key_error(f"activation {activation_id} is not active")
    return (
        activation_jwt_key(activation.transport_key, app.app_secret_bytes),
        load_private_key(activation.server_private_key),
        activation_id,
    )


async def keystore_create(request: web.Request) -> web.Response:
    """Hand out a temporary ECIES key in a JWT signed by the scope's server key."""
    emu = emulator_of(request)
    jwt = require_str(
        request_object(await read_json(request, temporary_key_error), temporary_key_error),
        "jwt",
        temporary_key_error,
    )
    try:
        claims = peek_jwt_claims(jwt)
    except (ValueError, RecursionError) as err:
        raise temporary_key_error(f"bad JWT: {err}") from err
    hs256_key, signer, activation_id = _jwt_signer(emu, claims)
    try:
        verify_request_jwt(jwt, hs256_key)
    except ValueError as err:
        raise temporary_key_error(f"JWT does not verify: {err}") from err
    now = emu.now_ms()
    key = generate_private_key()
    record = TemporaryKeyRecord(
        key_id=str(uuid.uuid4()),
        app_key=emu.application.app_key,
        activation_id=activation_id,
        private_key=private_key_bytes(key),
        expires_ms=now + TEMPORARY_KEY_LIFETIME_MS,
    )
    emu.db.save_temporary_key(record, now)
    out: dict[str, Any] = {"sub": record.key_id, CLAIM_APPLICATION_KEY: record.app_key}
    if activation_id is not None:
        out[CLAIM_ACTIVATION_ID] = activation_id
    challenge = claims.get(CLAIM_CHALLENGE)
    if isinstance(challenge, str):
        out[CLAIM_CHALLENGE] = challenge
    out |= {
        "publicKey": b64encode(public_key_bytes(key)),
        "iat": now // _MS_PER_S,
        "exp": record.expires_ms // _MS_PER_S,
        "iat_ms": now,
        "exp_ms": record.expires_ms,
    }
    return json_response(ok_body({"jwt": sign_response_jwt(signer, out)}))


# -- /pa/v3/activation/create ----------------------------------------------------


def _layer2_device(layer2: dict[str, Any]) -> tuple[bytes, dict[str, str | None]]:
    device_key_text = require_str(layer2, "devicePublicKey", activation_error)
    try:
        device_public_key = b64decode(device_key_text)
        load_public_key(device_public_key)
    except ValueError as err:
        raise activation_error(f"bad device public key: {err}") from err
    details = {
        name: get_str(layer2, name, activation_error, required=False, max_length=1024)
        for name in ("activationName", "platform", "deviceInfo", "extras")
    }
    return device_public_key, details


def _key_exchange(
    emu: Emulator, activation: Activation, device_public_key: bytes, details: dict[str, str | None]
) -> None:
    """Finish the activation: server key pair, derived keys, CTR_DATA, new status."""
    server_key = generate_private_key()
    server_private_key: bytes = private_key_bytes(server_key)
    activation.server_private_key = server_private_key
    activation.server_public_key = public_key_bytes(server_key)
    activation.device_public_key = device_public_key
    keys = derive_activation_keys(server_private_key, device_public_key)
    activation.possession_key = keys.possession
    activation.knowledge_key = keys.knowledge
    activation.biometry_key = keys.biometry
    activation.transport_key = keys.transport
    activation.vault_key = keys.vault
    activation.ctr_data = new_ctr_data()
    activation.name = details["activationName"]
    activation.platform = details["platform"]
    activation.device_info = details["deviceInfo"]
    activation.status = (
        ActivationStatus.ACTIVE
        if activation.commit_mode == COMMIT_AUTO
        else ActivationStatus.PENDING_COMMIT
    )
    emu.db.save_activation(activation)


async def activation_create(request: web.Request) -> web.Response:
    """Activate with an activation code: two ECIES layers in application scope."""
    emu = emulator_of(request)
    version = _version_of_encryption_header(request, emu)
    outer = open_request(
        emu,
        await read_json(request, encryption_error),
        sh1=SH1_APPLICATION_GENERIC,
        version=version,
    )
    layer1 = as_object(outer.json(), activation_error, "layer 1")
    if layer1.get("type") != ACTIVATION_TYPE_CODE:
        raise activation_error(f"unsupported activation type {layer1.get('type')!r}")
    identity = as_object(layer1.get("identityAttributes"), activation_error, "identityAttributes")
    code = require_str(identity, "code", activation_error, max_length=64)
    inner = open_request(
        emu, layer1.get("activationData"), sh1=SH1_ACTIVATION_LAYER2, version=version
    )
    device_public_key, details = _layer2_device(
        as_object(inner.json(), activation_error, "layer 2")
    )
    activation = emu.db.activation_by_code(code)
    if activation is None or activation.status != ActivationStatus.CREATED:
        raise activation_error("the activation code is unknown or already used")
    _key_exchange(emu, activation, device_public_key, details)
    _LOGGER.info(
        "activation %s created for user %s (%s)",
        activation.activation_id,
        activation.user_id,
        ActivationStatus(activation.status).name,
    )
    assert activation.server_public_key is not None  # noqa: S101 - set by the key exchange
    assert activation.ctr_data is not None  # noqa: S101 - set by the key exchange
    layer2_answer = inner.answer(
        {
            "activationId": activation.activation_id,
            "serverPublicKey": b64encode(activation.server_public_key),
            "ctrData": b64encode(activation.ctr_data),
        }
    )
    custom = layer1.get("customAttributes")
    layer1_answer = outer.answer(
        {
            "activationData": layer2_answer,
            "customAttributes": custom if isinstance(custom, dict) else {},
            "userInfo": {"sub": activation.user_id},
        }
    )
    return json_response(layer1_answer)


# -- /pa/v3/activation/status ------------------------------------------------------


async def activation_status(request: web.Request) -> web.Response:
    """The encrypted status blob; random bytes for an activation the server does not know."""
    emu = emulator_of(request)
    payload = request_object(await read_json(request, activation_error), activation_error)
    activation_id = require_str(payload, "activationId", activation_error, max_length=64)
    challenge_text = get_str(payload, "challenge", activation_error, required=False)
    challenge: bytes | None = None
    if challenge_text is not None:
        try:
            challenge = b64decode(challenge_text, length=STATUS_CHALLENGE_SIZE)
        except ValueError as err:
            raise activation_error(f"bad challenge: {err}") from err
    nonce = secrets.token_bytes(STATUS_NONCE_SIZE) if challenge is not None else None
    activation = emu.db.get_activation(activation_id)
    if activation is not None and activation.status == ActivationStatus.CREATED:
        activation = None
    answer: dict[str, Any] = {
        "activationId": activation_id,
        "encryptedStatusBlob": b64encode(encrypted_status(activation, challenge, nonce)),
    }
    if nonce is not None:
        answer["nonce"] = b64encode(nonce)
    answer["customObject"] = {}
    return json_response(ok_body(answer))


# -- signed endpoints ----------------------------------------------------------------


async def _signed(
    request: web.Request, uri_id: str, allowed: frozenset[SignatureType]
) -> tuple[Emulator, bytes, Any]:
    emu = emulator_of(request)
    body = await read_body(request, invalid_request)
    signed = verify_signed_request(
        emu,
        request.headers.get(AUTHORIZATION_HEADER),
        method=request.method,
        uri_id=uri_id,
        body=body,
        allowed=allowed,
    )
    return emu, body, signed


async def token_create(request: web.Request) -> web.Response:
    """Create a token: the signature covers the encrypted body (encrypt-then-sign)."""
    emu, body, signed = await _signed(request, URI_ID_TOKEN_CREATE, POSSESSION_TYPES)
    opened = open_request(
        emu,
        parse_json(body, encryption_error),
        sh1=SH1_TOKEN_CREATE,
        version=signed.version,
        activation=signed.activation,
    )
    token = TokenRecord(
        token_id=str(uuid.uuid4()),
        token_secret=secrets.token_bytes(TOKEN_SECRET_SIZE),
        activation_id=signed.activation.activation_id,
        signature_type=str(signed.signature_type),
        created_ms=emu.now_ms(),
    )
    emu.db.save_token(token)
    return json_response(
        opened.answer({"tokenId": token.token_id, "tokenSecret": b64encode(token.token_secret)})
    )


async def token_remove(request: web.Request) -> web.Response:
    """Remove one of the caller's tokens."""
    emu, body, signed = await _signed(request, URI_ID_TOKEN_REMOVE, ALL_SIGNATURE_TYPES)
    token_id = require_str(
        request_object(parse_json(body, invalid_request), invalid_request),
        "tokenId",
        invalid_request,
        max_length=64,
    )
    emu.db.delete_token(token_id, signed.activation.activation_id)
    return json_response(ok_body({"tokenId": token_id}))


async def activation_remove(request: web.Request) -> web.Response:
    """Remove the caller's activation (2FA signature)."""
    emu, body, signed = await _signed(request, URI_ID_ACTIVATION_REMOVE, TWO_FACTOR_TYPES)
    parse_json(body, invalid_request)
    activation = signed.activation
    activation.status = ActivationStatus.REMOVED
    emu.db.save_activation(activation)
    emu.db.delete_tokens_of(activation.activation_id)
    _LOGGER.info("activation %s removed by its device", activation.activation_id)
    return json_response(ok_body({"activationId": activation.activation_id}))


async def signature_validate(request: web.Request) -> web.Response:
    """Validate a signature of any type (the client's counter resynchronisation)."""
    _emu, body, _signed_by = await _signed(request, URI_ID_SIGNATURE_VALIDATE, ALL_SIGNATURE_TYPES)
    parse_json(body, invalid_request)
    return json_response(ok_body())


async def vault_unlock(request: web.Request) -> web.Response:
    """Hand out the vault key encrypted under the transport key (2FA, encrypted)."""
    emu, body, signed = await _signed(request, URI_ID_VAULT_UNLOCK, VAULT_SIGNATURE_TYPES)
    opened = open_request(
        emu,
        parse_json(body, encryption_error),
        sh1=SH1_VAULT_UNLOCK,
        version=signed.version,
        activation=signed.activation,
    )
    plain = as_object(opened.json(), vault_error, "vault unlock request")
    reason = plain.get("reason")
    if reason is not None and reason not in VAULT_REASONS:
        raise vault_error(f"unknown vault unlock reason {reason!r}")
    activation = signed.activation
    assert activation.transport_key is not None  # noqa: S101 - an active activation has keys
    assert activation.vault_key is not None  # noqa: S101
    encrypted = encrypt_vault_key(activation.transport_key, activation.vault_key)
    return json_response(opened.answer({"encryptedVaultEncryptionKey": b64encode(encrypted)}))


async def server_status(request: web.Request) -> web.Response:
    """The server time, which clients use to correct their clocks."""
    emu = emulator_of(request)
    body = await read_body(request, invalid_request)
    if body.strip():
        as_object(parse_json(body, invalid_request), invalid_request)
    return json_response(ok_body({"serverTime": emu.now_ms()}))


def add_routes(app: web.Application) -> None:
    """Register the PowerAuth endpoints."""
    app.router.add_post("/pa/v3/keystore/create", keystore_create)
    app.router.add_post("/pa/v3/activation/create", activation_create)
    app.router.add_post("/pa/v3/activation/status", activation_status)
    app.router.add_post("/pa/v3/activation/remove", activation_remove)
    app.router.add_post("/pa/v3/token/create", token_create)
    app.router.add_post("/pa/v3/token/remove", token_remove)
    app.router.add_post("/pa/v3/signature/validate", signature_validate)
    app.router.add_post("/pa/v3/vault/unlock", vault_unlock)
    app.router.add_post("/pa/v3/status", server_status)
