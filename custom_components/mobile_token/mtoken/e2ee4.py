"""End-to-end encryption of 4.0 request and response bodies (protocol 4.0 notes, section 8).

Both directions are sealed with the AEAD under the temporary shared secret;
the client picks both 12-byte nonces and sends them together, the server
answers under the second. Key context, associated data and SHARED_INFO_2
follow the reference ``End-To-End-Encryption.md`` byte for byte (checked by
the public E2EE vectors, both scopes).
"""

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from . import aead
from .encoding import b64decode, b64encode, be64, cws
from .kmac import kmac256, sha3_256

PROTOCOL_VERSION: Final = "4.0"
NONCE_SIZE: Final = 2 * aead.NONCE_SIZE
_SH2_CUSTOM: Final = b"PA4SH2"

SH1_APPLICATION_GENERIC: Final = "/pa/generic/application"
SH1_ACTIVATION_GENERIC: Final = "/pa/generic/activation"
SH1_ACTIVATION_LAYER2: Final = "/pa/activation"
SH1_TOKEN_CREATE: Final = "/pa/token/create"
SH1_UPGRADE_START: Final = "/pa/upgrade/start"

FIELD_TEMPORARY_KEY_ID: Final = "temporaryKeyId"
FIELD_ENCRYPTED_DATA: Final = "encryptedData"
FIELD_NONCE: Final = "nonce"
FIELD_TIMESTAMP: Final = "timestamp"


class E2eeError(ValueError):
    """An encrypted message is malformed, forged, or answers another request."""


def shared_info2_application(app_secret_raw: bytes) -> bytes:
    """Application scope: ``SHA3-256(APP_SECRET)``, the secret's raw bytes."""
    return sha3_256(app_secret_raw)


def shared_info2_activation(sh2_key: bytes, app_secret_raw: bytes) -> bytes:
    """Activation scope: ``KMAC256(KEY_E2EE_SHARED_INFO2, APP_SECRET, 32, "PA4SH2")``."""
    return kmac256(sh2_key, app_secret_raw, _SH2_CUSTOM)


@dataclass(frozen=True, slots=True)
class E2eeContext:
    """Everything both ends agree on before a message is sealed."""

    shared_secret: bytes
    temporary_key_id: str
    app_key: str
    shared_info2: bytes
    sh1: str
    activation_id: str | None = None

    def key_context(self, nonce: bytes) -> bytes:
        """``KC = "4.0" || SHARED_INFO_1 || NONCE``, no sizes."""
        return (PROTOCOL_VERSION + self.sh1).encode("utf-8") + nonce

    def associated_data(self, timestamp_ms: int, nonce: bytes) -> bytes:
        """The identifying strings, then this message's timestamp, the nonce and SH2."""
        items = [PROTOCOL_VERSION, self.app_key]
        if self.activation_id is not None:
            items.append(self.activation_id)
        items.append(self.temporary_key_id)
        identity = cws(*(item.encode("utf-8") for item in items))
        return identity + cws(be64(timestamp_ms), nonce, self.shared_info2)

    def seal(self, nonce: bytes, part: bytes, timestamp_ms: int, plaintext: bytes) -> bytes:
        """Seal one direction: ``part`` is the request or the response half of ``nonce``."""
        return aead.seal(
            self.shared_secret,
            self.key_context(nonce),
            part,
            self.associated_data(timestamp_ms, nonce),
            plaintext,
        )

    def open(self, nonce: bytes, part: bytes, timestamp_ms: int, sealed: bytes) -> bytes:
        """Open one direction, refusing a message sealed under another nonce half."""
        try:
            if aead.split_nonce(sealed) != part:
                raise E2eeError("the message answers another request")
            return aead.open_sealed(
                self.shared_secret,
                self.key_context(nonce),
                self.associated_data(timestamp_ms, nonce),
                sealed,
            )
        except aead.AeadError as err:
            raise E2eeError(str(err)) from err


def request_nonce(nonce: bytes) -> bytes:
    """The half of NONCE that seals the request."""
    return nonce[: aead.NONCE_SIZE]


def response_nonce(nonce: bytes) -> bytes:
    """The half of NONCE that seals the response."""
    return nonce[aead.NONCE_SIZE :]


class ClientEncryptor:
    """One request and its response: the client side."""

    def __init__(self, context: E2eeContext, nonce: bytes | None = None) -> None:
        self._context = context
        self._nonce = nonce if nonce is not None else secrets.token_bytes(NONCE_SIZE)
        if len(self._nonce) != NONCE_SIZE:
            raise ValueError(f"the E2EE nonce must be {NONCE_SIZE} bytes")

    def encrypt_request(self, plaintext: bytes, timestamp_ms: int) -> dict[str, Any]:
        """The JSON request body."""
        sealed = self._context.seal(
            self._nonce, request_nonce(self._nonce), timestamp_ms, plaintext
        )
        return {
            FIELD_TEMPORARY_KEY_ID: self._context.temporary_key_id,
            FIELD_ENCRYPTED_DATA: b64encode(sealed),
            FIELD_NONCE: b64encode(self._nonce),
            FIELD_TIMESTAMP: timestamp_ms,
        }

    def decrypt_response(self, payload: Mapping[str, Any]) -> bytes:
        """The plaintext of the server's answer; E2eeError when it is not genuine."""
        sealed, timestamp_ms = read_sealed(payload)
        return self._context.open(self._nonce, response_nonce(self._nonce), timestamp_ms, sealed)


def read_sealed(payload: Mapping[str, Any]) -> tuple[bytes, int]:
    """``encryptedData`` and ``timestamp`` of an encrypted body, validated."""
    data = payload.get(FIELD_ENCRYPTED_DATA)
    timestamp = payload.get(FIELD_TIMESTAMP)
    if not isinstance(data, str):
        raise E2eeError("encryptedData is missing")
    if isinstance(timestamp, str) and timestamp.isdigit():
        timestamp = int(timestamp)
    if not isinstance(timestamp, int) or isinstance(timestamp, bool) or timestamp < 0:
        raise E2eeError("timestamp is missing")
    try:
        return b64decode(data), timestamp
    except ValueError as err:
        raise E2eeError("encryptedData is not Base64") from err


def read_request_nonce(payload: Mapping[str, Any]) -> bytes:
    """The 24-byte NONCE of an encrypted request, validated."""
    nonce = payload.get(FIELD_NONCE)
    if not isinstance(nonce, str):
        raise E2eeError("nonce is missing")
    try:
        return b64decode(nonce, length=NONCE_SIZE)
    except ValueError as err:
        raise E2eeError("nonce is not Base64 of 24 bytes") from err
