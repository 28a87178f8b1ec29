"""Upgrade of a 3.3 activation to 4.0: ``/pa/v4/upgrade/start`` and ``/pa/v4/upgrade/confirm``.

Protocol 4.0 notes, section 17. Start is authenticated with a 3.3 code
(possession and knowledge) and encrypted with 4.0 E2EE in application scope
(SH1 ``/pa/upgrade/start``; the documents disagree, see ``docs/protocol-4.md``);
it runs the shared-secret exchange and keeps the new keys *pending*. A
repeated start replaces them. Confirm is authenticated with a 4.0
possession code made with the pending keys; only then does the activation
become a 4.0 one. Until then it keeps working with 3.3.
"""

import json
import logging
from dataclasses import replace
from typing import Any, Final

from aiohttp import web

from mtoken import auth_code, keys4, pq, shared_secret
from mtoken.e2ee4 import SH1_UPGRADE_START
from mtoken.encoding import b64decode, b64encode
from mtoken.signature import (
    AUTHORIZATION_HEADER,
    SignatureType,
    parse_header_fields,
    signature_base_string,
)

from .auth import record_success, usable_activation, verify_signed_request
from .context import Emulator, emulator_of
from .crypto4 import apply_activation_secret, find_code, new_ctr_data
from .encryption4 import open_request4
from .errors import activation_error, auth_failed, encryption_error, not_found, ok_body
from .httpio import as_object, json_response, parse_json, read_body
from .records import Activation

_LOGGER = logging.getLogger(__name__)

URI_ID_UPGRADE_START: Final = "/pa/upgrade/start"
URI_ID_UPGRADE_CONFIRM: Final = "/pa/upgrade/confirm"
_PENDING_PREFIX: Final = "upgrade:"
_BYTES_FIELDS: Final = (
    "possession_key",
    "knowledge_key",
    "biometry_key",
    "utility_keys",
    "ctr_data",
    "device_public_key",
    "device_mldsa_key",
    "server_private_key",
    "server_public_key",
    "server_mldsa_seed",
)


def _save_pending(emu: Emulator, activation: Activation) -> None:
    values: dict[str, Any] = {"algorithm": activation.algorithm}
    for name in _BYTES_FIELDS:
        value = getattr(activation, name)
        values[name] = None if value is None else b64encode(value)
    emu.db.set_setting(_PENDING_PREFIX + activation.activation_id, json.dumps(values))


def pending_upgrade(emu: Emulator, activation: Activation) -> Activation | None:
    """The activation as it will be after the confirmation, or None without a pending upgrade."""
    stored = emu.db.get_setting(_PENDING_PREFIX + activation.activation_id)
    if not stored:
        return None
    values = json.loads(stored)
    fields: dict[str, Any] = {
        name: None if values[name] is None else b64decode(values[name]) for name in _BYTES_FIELDS
    }
    return replace(
        activation, algorithm=values["algorithm"], protocol_version=4, counter=0, **fields
    )


def _check_encryption_header(emu: Emulator, value: str | None) -> None:
    """Upgrade start always carries ``X-PowerAuth-Encryption`` (4.0, this application)."""
    try:
        fields = parse_header_fields(value or "")
    except ValueError as err:
        raise encryption_error(f"bad X-PowerAuth-Encryption header: {err}") from err
    if fields.get("version") != "4.0" or fields.get("application_key") != emu.application.app_key:
        raise encryption_error("X-PowerAuth-Encryption is not a 4.0 header of this application")


async def upgrade_start(request: web.Request) -> web.Response:
    """Start: a 3.3 code, 4.0 E2EE, a fresh shared secret kept pending."""
    emu = emulator_of(request)
    if not emu.speaks_v4:
        raise not_found("protocol 4.0 endpoint")
    body = await read_body(request, activation_error)
    signed = verify_signed_request(
        emu,
        request.headers.get(AUTHORIZATION_HEADER),
        method="POST",
        uri_id=URI_ID_UPGRADE_START,
        body=body,
        allowed=frozenset({SignatureType.POSSESSION_KNOWLEDGE}),
        upgrade=True,
    )
    activation = signed.activation
    if activation.protocol_version != 3:
        raise activation_error("the activation already speaks 4.0")
    _check_encryption_header(emu, request.headers.get("X-PowerAuth-Encryption"))
    opened = open_request4(emu, parse_json(body, encryption_error), sh1=SH1_UPGRADE_START)
    plain = as_object(opened.json(), activation_error, "upgrade request")
    try:
        algorithm, keys = shared_secret.parse_request(plain.get("sharedSecretRequest"))
        if algorithm not in emu.application.algorithms:
            raise ValueError(f"algorithm {algorithm} is not enabled")
        device = keys4.PublicKeys.from_json(plain.get("devicePublicKeys"), algorithm)
        secret, response = shared_secret.server_respond(algorithm, keys)
    except ValueError as err:
        raise activation_error(f"bad upgrade request: {err}") from err
    server = keys4.SigningKeys.generate(algorithm)
    pending = replace(
        activation,
        algorithm=algorithm.value,
        device_public_key=device.ecdsa,
        device_mldsa_key=device.mldsa,
        server_private_key=keys4.ecdsa_private_bytes(server.ecdsa),
        server_public_key=server.public.ecdsa,
        server_mldsa_seed=pq.mldsa_seed(server.mldsa) if server.mldsa is not None else None,
        ctr_data=new_ctr_data(),
    )
    apply_activation_secret(pending, secret)
    if plain.get("enableBiometry") is not True:
        pending.biometry_key = None
    _save_pending(emu, pending)
    assert pending.ctr_data is not None  # noqa: S101 - set above
    return json_response(
        opened.answer(
            {
                "sharedSecretResponse": response.to_json(),
                "serverPublicKeys": server.public.to_json(),
                "ctrData": b64encode(pending.ctr_data),
            }
        )
    )


async def upgrade_confirm(request: web.Request) -> web.Response:
    """Confirm: a 4.0 possession code made with the pending keys makes the activation 4.0."""
    emu = emulator_of(request)
    if not emu.speaks_v4:
        raise not_found("protocol 4.0 endpoint")
    body = await read_body(request, activation_error)
    try:
        header = auth_code.parse_authorization_header(request.headers.get(AUTHORIZATION_HEADER, ""))
    except ValueError as err:
        raise auth_failed(f"bad X-PowerAuth-Authorization header: {err}") from err
    if header.code_type is not SignatureType.POSSESSION:
        raise auth_failed("upgrade confirmation takes a possession code")
    activation = usable_activation(emu, header.activation_id)
    pending = pending_upgrade(emu, activation) if activation.protocol_version == 3 else None
    if pending is None:
        raise activation_error("there is no upgrade to confirm")
    data = signature_base_string(
        "POST", URI_ID_UPGRADE_CONFIRM, header.nonce, body, emu.application.app_secret
    )
    match = find_code(pending, [SignatureType.POSSESSION], [data], header.code)
    if match is None or header.application_key != emu.application.app_key:
        raise auth_failed("the upgrade confirmation code does not verify")
    pending.failed_attempts = activation.failed_attempts
    record_success(emu, pending, match)
    emu.db.set_setting(_PENDING_PREFIX + activation.activation_id, "")
    _LOGGER.info("activation %s upgraded to protocol 4.0", activation.activation_id)
    return json_response(ok_body())


def add_routes(app: web.Application) -> None:
    """Register the upgrade endpoints."""
    app.router.add_post("/pa/v4/upgrade/start", upgrade_start)
    app.router.add_post("/pa/v4/upgrade/confirm", upgrade_confirm)
