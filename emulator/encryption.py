"""Server side of ECIES (protocol section 7): pick the key, open the envelope, answer.

3.3 requests name a temporary key, which must exist, be unexpired and belong
to the same application and activation; earlier versions use the master key
(application scope) or the activation's server key (activation scope). From
3.2 on the request timestamp must be within ±60 s of the server time and an
envelope (ephemeral key, nonce, key id) is accepted once.
"""

import json
import struct
from dataclasses import dataclass
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric import ec

from mtoken.ecies import (
    ECIES_VERSIONS,
    FIELD_EPHEMERAL_PUBLIC_KEY,
    FIELD_NONCE,
    FIELD_TEMPORARY_KEY_ID,
    FIELD_TIMESTAMP,
    EciesResponseEncryptor,
    associated_data,
    decrypt_request,
    sh2_base_activation,
    sh2_base_application,
)
from mtoken.keys import load_private_key

from .context import Emulator
from .errors import encryption_error, temporary_key_error
from .records import Activation

#: Accepted distance between the request timestamp and the server time.
TIMESTAMP_TOLERANCE_MS: Final = 60_000
#: How long an envelope is remembered to refuse its replay.
REPLAY_MEMORY_MS: Final = 2 * TIMESTAMP_TOLERANCE_MS
VERSIONS_WITH_TIMESTAMP: Final = frozenset({"3.2", "3.3"})
VERSION_WITH_TEMPORARY_KEY: Final = "3.3"


@dataclass(frozen=True)
class Opened:
    """A decrypted request and the encryptor of its one response."""

    plaintext: bytes
    responder: EciesResponseEncryptor
    version: str
    emu: Emulator

    def json(self) -> Any:
        """The decrypted JSON; ERR_ENCRYPTION when it is not JSON."""
        try:
            return json.loads(self.plaintext.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as err:
            raise encryption_error("decrypted data is not JSON") from err

    def answer(self, value: Any) -> dict[str, Any]:
        """Encrypt a JSON answer with a fresh nonce and the server time."""
        plaintext = json.dumps(value, separators=(",", ":")).encode("utf-8")
        timestamp = self.emu.now_ms() if self.version in VERSIONS_WITH_TIMESTAMP else None
        answer: dict[str, Any] = self.responder.encrypt_response(plaintext, timestamp_ms=timestamp)
        return answer


def _temporary_private_key(
    emu: Emulator, payload: dict[str, Any], activation_id: str | None
) -> tuple[ec.EllipticCurvePrivateKey, str]:
    key_id = payload.get(FIELD_TEMPORARY_KEY_ID)
    if not isinstance(key_id, str) or not key_id:
        raise temporary_key_error("the request names no temporary key")
    record = emu.db.get_temporary_key(key_id)
    if record is None or record.expires_ms < emu.now_ms() or record.version != "3.3":
        raise temporary_key_error(f"temporary key {key_id} is unknown or expired")
    if record.app_key != emu.application.app_key or record.activation_id != activation_id:
        raise temporary_key_error(f"temporary key {key_id} belongs to another scope")
    return load_private_key(record.private_key), key_id


def _recipient_key(
    emu: Emulator, payload: dict[str, Any], version: str, activation: Activation | None
) -> tuple[ec.EllipticCurvePrivateKey, str | None]:
    activation_id = activation.activation_id if activation else None
    if version == VERSION_WITH_TEMPORARY_KEY:
        return _temporary_private_key(emu, payload, activation_id)
    if activation is None:
        return emu.application.master_private_key, None
    if activation.server_private_key is None:
        raise encryption_error("the activation has no server key")
    return load_private_key(activation.server_private_key), None


def _check_freshness(
    emu: Emulator, payload: dict[str, Any], version: str, key_id: str | None
) -> None:
    if version not in VERSIONS_WITH_TIMESTAMP:
        return
    now = emu.now_ms()
    timestamp = payload[FIELD_TIMESTAMP]
    if abs(now - timestamp) > TIMESTAMP_TOLERANCE_MS:
        raise encryption_error(f"request timestamp is {now - timestamp} ms off the server time")
    envelope = f"ecies:{payload[FIELD_EPHEMERAL_PUBLIC_KEY]}:{payload[FIELD_NONCE]}:{key_id}"
    if not emu.db.first_use(envelope, expires_ms=now + REPLAY_MEMORY_MS, now_ms=now):
        raise encryption_error("replayed ECIES request")


def open_request(
    emu: Emulator,
    payload: Any,
    *,
    sh1: str,
    version: str,
    activation: Activation | None = None,
) -> Opened:
    """Decrypt an ECIES request in application scope or (with ``activation``) activation scope."""
    if version not in ECIES_VERSIONS:
        raise encryption_error(f"unsupported ECIES version {version!r}")
    if not isinstance(payload, dict):
        raise encryption_error("the encrypted request is not a JSON object")
    app = emu.application
    private_key, key_id = _recipient_key(emu, payload, version, activation)
    if activation is None:
        sh2_base = sh2_base_application(app.app_secret)
        activation_id = None
    else:
        if activation.transport_key is None:
            raise encryption_error("the activation has no transport key")
        sh2_base = sh2_base_activation(activation.transport_key, app.app_secret)
        activation_id = activation.activation_id
    ad = associated_data(version, app.app_key, activation_id, key_id)
    try:
        plaintext, responder = decrypt_request(
            private_key, sh1, sh2_base, ad, payload, version=version
        )
    except (ValueError, OverflowError, struct.error) as err:
        raise encryption_error(f"cannot open the ECIES envelope: {err}") from err
    _check_freshness(emu, payload, version, key_id)
    return Opened(plaintext, responder, version, emu)
