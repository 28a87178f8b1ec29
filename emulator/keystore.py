"""Temporary ECIES keys: ``/pa/v3/keystore/create`` (protocol 3.3, section 7).

The request is an HS256 JWT keyed by the raw app secret (application scope)
or ``KDF_INTERNAL(KEY_TRANSPORT, raw app secret)`` for an ACTIVE activation;
the answer is an ES256 JWT signed by the master key or the activation's
server key, carrying a new key pair's public key, valid five minutes.
"""

import uuid
from typing import Any, Final

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec

from mtoken.encoding import b64encode
from mtoken.keys import (
    generate_private_key,
    load_private_key,
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
from mtoken.status import ActivationStatus

from .context import Emulator, emulator_of
from .errors import (
    ok_body,
    temporary_key_error,
)
from .httpio import (
    json_response,
    read_json,
    request_object,
    require_str,
)
from .records import TemporaryKeyRecord

_MS_PER_S: Final = 1000


def _jwt_signer(
    emu: Emulator, claims: dict[str, Any]
) -> tuple[bytes, ec.EllipticCurvePrivateKey, str | None]:
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
