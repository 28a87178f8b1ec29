"""The PowerAuth 4.0 endpoints (``/pa/v4/...``), served beside the 3.3 ones.

Protocol 4.0 notes, sections 7, 9, 12, 13 and 17: server status with the
supported suites, temporary keys (HS384 request JWT, JWS answer signed by
the scope's keys), activation with two AEAD layers and a shared-secret
exchange, the status blob inside activation-scope E2EE, MAC tokens,
removal and code validation. With 4.0 switched off these paths answer 404,
as a 1.x server would.
"""

import logging
import secrets
import uuid
from typing import Any, Final

from aiohttp import web

from mtoken import keys4, keystore4, pq, shared_secret
from mtoken.e2ee4 import (
    SH1_ACTIVATION_GENERIC,
    SH1_ACTIVATION_LAYER2,
    SH1_APPLICATION_GENERIC,
    SH1_TOKEN_CREATE,
)
from mtoken.encoding import b64encode
from mtoken.kdf4 import application_temp_key_mac_key
from mtoken.signature import parse_header_fields
from mtoken.status import ActivationStatus

from .activation import ACTIVATION_TYPE_CODE, COMMIT_AUTO
from .auth import ALL_SIGNATURE_TYPES, POSSESSION_TYPES, TWO_FACTOR_TYPES
from .context import Emulator, emulator_of
from .crypto4 import apply_activation_secret, new_ctr_data, status_blob, utility_key
from .encryption4 import open_request4
from .errors import (
    activation_error,
    encryption_error,
    invalid_request,
    not_found,
    ok_body,
    temporary_key_error,
)
from .httpio import as_object, get_str, json_response, parse_json, read_json, request_object
from .powerauth import signed_request
from .records import Activation, TemporaryKeyRecord, TokenRecord

_LOGGER = logging.getLogger(__name__)

PREFIX: Final = "/pa/v4/"
URI_ID_TOKEN_CREATE: Final = "/pa/token/create"
URI_ID_TOKEN_REMOVE: Final = "/pa/token/remove"
URI_ID_ACTIVATION_REMOVE: Final = "/pa/activation/remove"
URI_ID_AUTH_VALIDATE: Final = "/pa/auth/validate"
TOKEN_SECRET_SIZE: Final = 32
#: The protocol generation a 4.0 server offers every activation.
UPGRADE_VERSION: Final = 4
_MS_PER_S: Final = 1000


def _require_v4(emu: Emulator) -> None:
    if not emu.speaks_v4:
        raise not_found("protocol 4.0 endpoint")


def _suite(emu: Emulator, name: Any) -> shared_secret.Algorithm:
    try:
        algorithm = shared_secret.Algorithm(str(name))
    except ValueError as err:
        raise activation_error(f"unsupported algorithm {name!r}") from err
    if algorithm not in emu.application.algorithms:
        raise activation_error(f"algorithm {algorithm} is not enabled for this application")
    return algorithm


async def server_status(request: web.Request) -> web.Response:
    """``/pa/v4/status``: server time and the suites this application supports."""
    emu = emulator_of(request)
    _require_v4(emu)
    suites = [algorithm.value for algorithm in emu.application.algorithms]
    if emu.speaks_v3:
        suites.insert(0, "EC_P256")
    return json_response(ok_body({"serverTime": emu.now_ms(), "supportedAlgorithms": suites}))


def _activation_signing_keys(activation: Activation) -> keys4.SigningKeys:
    assert activation.server_private_key is not None  # noqa: S101 - a 4.0 activation has keys
    mldsa = (
        pq.mldsa_from_seed(65, activation.server_mldsa_seed)
        if activation.server_mldsa_seed is not None
        else None
    )
    return keys4.SigningKeys(keys4.load_ecdsa_private(activation.server_private_key), mldsa)


def _keystore_scope(
    emu: Emulator, claims: dict[str, Any]
) -> tuple[bytes, keys4.SigningKeys, shared_secret.Algorithm | None, str | None]:
    app = emu.application
    if claims.get(keystore4.CLAIM_APPLICATION_KEY) != app.app_key:
        raise temporary_key_error("unknown application key in the JWT")
    activation_id = claims.get(keystore4.CLAIM_ACTIVATION_ID)
    if activation_id is None:
        return (
            application_temp_key_mac_key(app.app_secret_bytes),
            app.master_signing_keys(),
            None,
            None,
        )
    if not isinstance(activation_id, str):
        raise temporary_key_error("activationId is not a string")
    activation = emu.db.get_activation(activation_id)
    # Blocked and removed activations still read their status, which needs this key.
    if (
        activation is None
        or activation.protocol_version != UPGRADE_VERSION
        or activation.status == ActivationStatus.CREATED
    ):
        raise temporary_key_error(f"activation {activation_id} is not a 4.0 activation")
    return (
        utility_key(activation, "mac_get_act_temp_key"),
        _activation_signing_keys(activation),
        shared_secret.Algorithm(str(activation.algorithm)),
        activation_id,
    )


async def keystore_create(request: web.Request) -> web.Response:
    """``/pa/v4/keystore/create``: a temporary shared secret, agreed inside two JWTs."""
    emu = emulator_of(request)
    _require_v4(emu)
    payload = request_object(await read_json(request, temporary_key_error), temporary_key_error)
    jwt = payload.get("jwt")
    if not isinstance(jwt, str):
        raise temporary_key_error("the request has no jwt")
    try:
        claims = keystore4.request_claims(jwt)
    except keystore4.KeystoreError as err:
        raise temporary_key_error(str(err)) from err
    mac_key, signer, fixed_suite, activation_id = _keystore_scope(emu, claims)
    try:
        keystore4.verify_request_jwt(jwt, mac_key)
        algorithm, keys = shared_secret.parse_request(claims.get(keystore4.CLAIM_REQUEST))
        if algorithm not in emu.application.algorithms or fixed_suite not in (None, algorithm):
            raise ValueError(f"algorithm {algorithm} is not allowed here")
        secret, response = shared_secret.server_respond(algorithm, keys)
    except ValueError as err:
        raise temporary_key_error(f"bad temporary key request: {err}") from err
    now = emu.now_ms()
    record = TemporaryKeyRecord(
        key_id=str(uuid.uuid4()),
        app_key=emu.application.app_key,
        activation_id=activation_id,
        private_key=secret,
        expires_ms=now + keystore4.LIFETIME_MS,
        version="4.0",
    )
    emu.db.save_temporary_key(record, now)
    out: dict[str, Any] = {
        keystore4.CLAIM_KEY_ID: record.key_id,
        keystore4.CLAIM_APPLICATION_KEY: record.app_key,
        keystore4.CLAIM_ACTIVATION_ID: activation_id,
        keystore4.CLAIM_CHALLENGE: claims.get(keystore4.CLAIM_CHALLENGE),
        keystore4.CLAIM_RESPONSE: response.to_json(),
        "iat": now // _MS_PER_S,
        "exp": record.expires_ms // _MS_PER_S,
        keystore4.CLAIM_IAT_MS: now,
        keystore4.CLAIM_EXP_MS: record.expires_ms,
    }
    jws = keystore4.sign_response(signer.ecdsa, signer.mldsa, algorithm, out)
    return json_response(ok_body({"jwt": jws}))


def _key_exchange4(emu: Emulator, activation: Activation, layer2: dict[str, Any]) -> dict[str, Any]:
    """Finish a 4.0 activation; return the layer-2 answer."""
    request_value = layer2.get("sharedSecretRequest")
    algorithm = _suite(
        emu, request_value.get("algorithm") if isinstance(request_value, dict) else None
    )
    try:
        _, keys = shared_secret.parse_request(request_value)
        device = keys4.PublicKeys.from_json(layer2.get("devicePublicKeys"), algorithm)
        secret, response = shared_secret.server_respond(algorithm, keys)
    except ValueError as err:
        raise activation_error(f"bad 4.0 activation request: {err}") from err
    server = keys4.SigningKeys.generate(algorithm)
    activation.algorithm = algorithm.value
    activation.device_public_key = device.ecdsa
    activation.device_mldsa_key = device.mldsa
    activation.server_private_key = keys4.ecdsa_private_bytes(server.ecdsa)
    activation.server_public_key = server.public.ecdsa
    activation.server_mldsa_seed = pq.mldsa_seed(server.mldsa) if server.mldsa is not None else None
    apply_activation_secret(activation, secret)
    activation.ctr_data = new_ctr_data()
    activation.counter = 0
    for name in ("activationName", "platform", "deviceInfo"):
        get_str(layer2, name, activation_error, required=False, max_length=1024)
    activation.name = layer2.get("activationName")
    activation.platform = layer2.get("platform")
    activation.device_info = layer2.get("deviceInfo")
    activation.status = (
        ActivationStatus.ACTIVE
        if activation.commit_mode == COMMIT_AUTO
        else ActivationStatus.PENDING_COMMIT
    )
    emu.db.save_activation(activation)
    return {
        "activationId": activation.activation_id,
        "sharedSecretResponse": response.to_json(),
        "serverPublicKeys": server.public.to_json(),
        "ctrData": b64encode(activation.ctr_data),
    }


async def activation_create(request: web.Request) -> web.Response:
    """``/pa/v4/activation/create``: two AEAD layers in application scope, type CODE."""
    emu = emulator_of(request)
    _require_v4(emu)
    outer = open_request4(
        emu, await read_json(request, encryption_error), sh1=SH1_APPLICATION_GENERIC
    )
    layer1 = as_object(outer.json(), activation_error, "layer 1")
    if layer1.get("type") != ACTIVATION_TYPE_CODE:
        raise activation_error(f"unsupported activation type {layer1.get('type')!r}")
    identity = as_object(layer1.get("identityAttributes"), activation_error, "identityAttributes")
    code = identity.get("code")
    inner = open_request4(emu, layer1.get("activationData"), sh1=SH1_ACTIVATION_LAYER2)
    layer2 = as_object(inner.json(), activation_error, "layer 2")
    activation = emu.db.activation_by_code(code) if isinstance(code, str) else None
    if activation is None or activation.status != ActivationStatus.CREATED:
        raise activation_error("the activation code is unknown or already used")
    answer = _key_exchange4(emu, activation, layer2)
    _LOGGER.info(
        "activation %s created with protocol 4.0 (%s) for user %s",
        activation.activation_id,
        activation.algorithm,
        activation.user_id,
    )
    custom = layer1.get("customAttributes")
    return json_response(
        outer.answer(
            {
                "activationData": inner.answer(answer),
                "customAttributes": custom if isinstance(custom, dict) else {},
                "userInfo": {"sub": activation.user_id},
            }
        )
    )


async def activation_status(request: web.Request) -> web.Response:
    """``/pa/v4/activation/status``: the status blob inside activation-scope E2EE."""
    emu = emulator_of(request)
    _require_v4(emu)
    payload = await read_json(request, encryption_error)
    activation_id = request.headers.get("X-PowerAuth-Encryption", "")
    activation = _activation_of_header(emu, activation_id)
    opened = open_request4(emu, payload, sh1=SH1_ACTIVATION_GENERIC, activation=activation)
    blob = status_blob(activation, UPGRADE_VERSION)
    return json_response(opened.answer({"activationStatus": b64encode(blob), "customObject": {}}))


def _activation_of_header(emu: Emulator, header: str) -> Activation:
    """The 4.0 activation an ``X-PowerAuth-Encryption`` header names."""
    try:
        fields = parse_header_fields(header)
    except ValueError as err:
        raise encryption_error(f"bad X-PowerAuth-Encryption header: {err}") from err
    if fields.get("application_key") != emu.application.app_key:
        raise encryption_error("unknown application key in X-PowerAuth-Encryption")
    activation = emu.db.get_activation(fields.get("activation_id", ""))
    if activation is None or activation.protocol_version != UPGRADE_VERSION:
        raise encryption_error("the header names no 4.0 activation")
    return activation


async def token_create(request: web.Request) -> web.Response:
    """``/pa/v4/token/create``: authenticated, AEAD activation scope, ``{}`` in."""
    emu = emulator_of(request)
    _require_v4(emu)
    emu, body, signed = await signed_request(request, URI_ID_TOKEN_CREATE, POSSESSION_TYPES)
    opened = open_request4(
        emu, parse_json(body, encryption_error), sh1=SH1_TOKEN_CREATE, activation=signed.activation
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
    """``/pa/v4/token/remove``."""
    emu = emulator_of(request)
    _require_v4(emu)
    emu, body, signed = await signed_request(request, URI_ID_TOKEN_REMOVE, ALL_SIGNATURE_TYPES)
    payload = request_object(parse_json(body, invalid_request), invalid_request)
    token_id = payload.get("tokenId")
    if not isinstance(token_id, str):
        raise invalid_request("tokenId is missing")
    emu.db.delete_token(token_id, signed.activation.activation_id)
    return json_response(ok_body({"tokenId": token_id}))


async def activation_remove(request: web.Request) -> web.Response:
    """``/pa/v4/activation/remove`` (two-factor code)."""
    emu = emulator_of(request)
    _require_v4(emu)
    emu, _body, signed = await signed_request(request, URI_ID_ACTIVATION_REMOVE, TWO_FACTOR_TYPES)
    activation = signed.activation
    activation.status = ActivationStatus.REMOVED
    emu.db.save_activation(activation)
    emu.db.delete_tokens_of(activation.activation_id)
    return json_response(ok_body({"activationId": activation.activation_id}))


async def auth_validate(request: web.Request) -> web.Response:
    """``/pa/v4/auth/validate``: check a code of any type (e.g. counter resynchronisation)."""
    emu = emulator_of(request)
    _require_v4(emu)
    await signed_request(request, URI_ID_AUTH_VALIDATE, ALL_SIGNATURE_TYPES)
    return json_response(ok_body())


def add_routes(app: web.Application) -> None:
    """Register the 4.0 endpoints."""
    app.router.add_post(f"{PREFIX}status", server_status)
    app.router.add_post(f"{PREFIX}keystore/create", keystore_create)
    app.router.add_post(f"{PREFIX}activation/create", activation_create)
    app.router.add_post(f"{PREFIX}activation/status", activation_status)
    app.router.add_post(f"{PREFIX}activation/remove", activation_remove)
    app.router.add_post(f"{PREFIX}token/create", token_create)
    app.router.add_post(f"{PREFIX}token/remove", token_remove)
    app.router.add_post(f"{PREFIX}auth/validate", auth_validate)
