"""The signed PowerAuth endpoints and the route table of the standard RESTful API.

Protocol 3.3, accepting 3.0-3.2 (powerauth-protocol.md sections 6 and 9):
tokens (encrypt-then-sign), activation removal, signature validation, vault
unlock and the server time. Temporary keys live in ``keystore``, activation
and its status in ``activation``.
"""

import logging
import secrets
import uuid
from typing import Final

from aiohttp import web

from mtoken.ecies import SH1_TOKEN_CREATE, SH1_VAULT_UNLOCK
from mtoken.encoding import b64encode
from mtoken.protection import encrypt_vault_key
from mtoken.signature import AUTHORIZATION_HEADER, SignatureType, canonical_query
from mtoken.status import ActivationStatus
from mtoken.token import TOKEN_SECRET_SIZE

from .activation import activation_create, activation_status
from .auth import (
    ALL_SIGNATURE_TYPES,
    POSSESSION_TYPES,
    TWO_FACTOR_TYPES,
    SignedBy,
    verify_signed_request,
)
from .context import Emulator, emulator_of
from .encryption import open_request
from .errors import encryption_error, invalid_request, ok_body, vault_error
from .httpio import (
    as_object,
    json_response,
    parse_json,
    read_body,
    request_object,
    require_str,
)
from .keystore import keystore_create
from .records import TokenRecord

_LOGGER = logging.getLogger(__name__)

URI_ID_ACTIVATION_REMOVE: Final = "/pa/activation/remove"
URI_ID_TOKEN_CREATE: Final = "/pa/token/create"
URI_ID_TOKEN_REMOVE: Final = "/pa/token/remove"
URI_ID_VAULT_UNLOCK: Final = "/pa/vault/unlock"
URI_ID_SIGNATURE_VALIDATE: Final = "/pa/signature/validate"
METHOD_GET: Final = "GET"
SIGNATURE_VALIDATE_METHODS: Final = (METHOD_GET, "POST", "PUT", "DELETE")
VAULT_SIGNATURE_TYPES: Final = TWO_FACTOR_TYPES | {SignatureType.POSSESSION_KNOWLEDGE_BIOMETRY}
VAULT_REASONS: Final = frozenset(
    {"ADD_BIOMETRY", "FETCH_ENCRYPTION_KEY", "SIGN_WITH_DEVICE_PRIVATE_KEY", "RECOVERY_CODE"}
)


async def signed_data(request: web.Request) -> bytes:
    """What a signature covers: the exact body, or for GET the canonical query (section 4)."""
    if request.method == METHOD_GET:
        canonical: str = canonical_query(request.query_string)
        return canonical.encode("utf-8")
    return await read_body(request, invalid_request)


async def signed_request(
    request: web.Request, uri_id: str, allowed: frozenset[SignatureType]
) -> tuple[Emulator, bytes, SignedBy]:
    """Read the body and verify the request's signature or 4.0 authentication code."""
    emu = emulator_of(request)
    body = await signed_data(request)
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
    emu, body, signed = await signed_request(request, URI_ID_TOKEN_CREATE, POSSESSION_TYPES)
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
    emu, body, signed = await signed_request(request, URI_ID_TOKEN_REMOVE, ALL_SIGNATURE_TYPES)
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
    emu, body, signed = await signed_request(request, URI_ID_ACTIVATION_REMOVE, TWO_FACTOR_TYPES)
    if body.strip():
        parse_json(body, invalid_request)
    activation = signed.activation
    activation.status = ActivationStatus.REMOVED
    emu.db.save_activation(activation)
    emu.db.delete_tokens_of(activation.activation_id)
    _LOGGER.info("activation %s removed by its device", activation.activation_id)
    return json_response(ok_body({"activationId": activation.activation_id}))


async def signature_validate(request: web.Request) -> web.Response:
    """Validate a signature of any type and HTTP method (e.g. counter resynchronisation).

    A body, when there is one, must be JSON; a GET is signed over its query.
    """
    _emu, body, _signed_by = await signed_request(
        request, URI_ID_SIGNATURE_VALIDATE, ALL_SIGNATURE_TYPES
    )
    if request.method != METHOD_GET and body.strip():
        parse_json(body, invalid_request)
    return json_response(ok_body())


async def vault_unlock(request: web.Request) -> web.Response:
    """Hand out the vault key encrypted under the transport key (2FA, encrypted)."""
    emu, body, signed = await signed_request(request, URI_ID_VAULT_UNLOCK, VAULT_SIGNATURE_TYPES)
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
    for method in SIGNATURE_VALIDATE_METHODS:
        app.router.add_route(method, "/pa/v3/signature/validate", signature_validate)
    app.router.add_post("/pa/v3/vault/unlock", vault_unlock)
    app.router.add_post("/pa/v3/status", server_status)
