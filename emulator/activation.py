"""Activation: ``/pa/v3/activation/create`` and ``/pa/v3/activation/status``.

Create (section 2): two ECIES layers in application scope, type CODE, an
unused activation code; the key exchange gives the server key pair, the
derived keys and CTR_DATA, and the activation becomes ACTIVE (or
PENDING_COMMIT with manual commit). Status (section 8): the encrypted blob.
"""

import logging
import secrets
from typing import Any, Final

from aiohttp import web

from mtoken.ecies import (
    ENCRYPTION_HEADER,
    SH1_ACTIVATION_LAYER2,
    SH1_APPLICATION_GENERIC,
)
from mtoken.encoding import b64decode, b64encode
from mtoken.keys import (
    generate_private_key,
    load_public_key,
    private_key_bytes,
    public_key_bytes,
)
from mtoken.signature import parse_header_fields
from mtoken.status import STATUS_CHALLENGE_SIZE, STATUS_NONCE_SIZE, ActivationStatus

from .context import Emulator, emulator_of
from .crypto import derive_activation_keys, encrypted_status, new_ctr_data
from .encryption import open_request
from .errors import (
    activation_error,
    encryption_error,
    ok_body,
)
from .httpio import (
    as_object,
    get_str,
    json_response,
    read_json,
    request_object,
    require_str,
)
from .records import Activation

_LOGGER = logging.getLogger(__name__)

ACTIVATION_TYPE_CODE: Final = "CODE"
COMMIT_AUTO: Final = "auto"
COMMIT_MANUAL: Final = "manual"


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
        "encryptedStatusBlob": b64encode(
            encrypted_status(activation, challenge, nonce, 4 if emu.speaks_v4 else 3)
        ),
    }
    if nonce is not None:
        answer["nonce"] = b64encode(nonce)
    answer["customObject"] = {}
    return json_response(ok_body(answer))
