"""Server side of 4.0 end-to-end encryption: find the temporary key, open, answer.

Protocol 4.0 notes, section 8: the request names a temporary key that must be
a 4.0 key of the same application and activation, unexpired; its timestamp
must be within the accepted window and the pair (key id, nonce) is accepted
once. The answer is sealed under the second half of the request's nonce.
"""

import json
from dataclasses import dataclass
from typing import Any, Final

from mtoken.e2ee4 import (
    E2eeContext,
    E2eeError,
    read_request_nonce,
    read_sealed,
    request_nonce,
    response_nonce,
    shared_info2_activation,
    shared_info2_application,
)
from mtoken.encoding import b64encode

from .context import Emulator
from .crypto4 import utility_key
from .errors import encryption_error, temporary_key_error
from .records import Activation

#: Accepted distance between a request's timestamp and the server time (reference: 5 min).
TIMESTAMP_TOLERANCE_MS: Final = 5 * 60 * 1000
REPLAY_MEMORY_MS: Final = 2 * TIMESTAMP_TOLERANCE_MS
VERSION: Final = "4.0"


@dataclass(frozen=True)
class Opened4:
    """A decrypted 4.0 request and what its one answer needs."""

    plaintext: bytes
    context: E2eeContext
    nonce: bytes
    emu: Emulator

    def json(self) -> Any:
        """The decrypted JSON; ERR_ENCRYPTION when it is not JSON."""
        try:
            return json.loads(self.plaintext.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as err:
            raise encryption_error("decrypted data is not JSON") from err

    def answer(self, value: Any) -> dict[str, Any]:
        """Seal a JSON answer under the response nonce, stamped with the server time."""
        plaintext = json.dumps(value, separators=(",", ":")).encode("utf-8")
        timestamp = self.emu.now_ms()
        sealed = self.context.seal(self.nonce, response_nonce(self.nonce), timestamp, plaintext)
        return {"encryptedData": b64encode(sealed), "timestamp": timestamp}


def open_request4(
    emu: Emulator, payload: Any, *, sh1: str, activation: Activation | None = None
) -> Opened4:
    """Open an application-scope (or, with ``activation``, activation-scope) 4.0 request."""
    if not isinstance(payload, dict):
        raise encryption_error("the encrypted request is not a JSON object")
    key_id = payload.get("temporaryKeyId")
    if not isinstance(key_id, str) or not key_id:
        raise temporary_key_error("the request names no temporary key")
    activation_id = activation.activation_id if activation else None
    record = emu.db.get_temporary_key(key_id)
    if record is None or record.version != VERSION or record.expires_ms < emu.now_ms():
        raise temporary_key_error(f"temporary key {key_id} is unknown or expired")
    app = emu.application
    if record.app_key != app.app_key or record.activation_id != activation_id:
        raise temporary_key_error(f"temporary key {key_id} belongs to another scope")
    if activation is None:
        sh2 = shared_info2_application(app.app_secret_bytes)
    else:
        sh2 = shared_info2_activation(
            utility_key(activation, "e2ee_shared_info2"), app.app_secret_bytes
        )
    context = E2eeContext(record.private_key, key_id, app.app_key, sh2, sh1, activation_id)
    try:
        nonce = read_request_nonce(payload)
        sealed, timestamp = read_sealed(payload)
        plaintext = context.open(nonce, request_nonce(nonce), timestamp, sealed)
    except E2eeError as err:
        raise encryption_error(f"cannot open the 4.0 request: {err}") from err
    now = emu.now_ms()
    if abs(now - timestamp) > TIMESTAMP_TOLERANCE_MS:
        raise encryption_error(f"request timestamp is {now - timestamp} ms off the server time")
    if not emu.db.first_use(
        f"e2ee4:{key_id}:{b64encode(nonce)}", expires_ms=now + REPLAY_MEMORY_MS, now_ms=now
    ):
        raise encryption_error("replayed 4.0 request")
    return Opened4(plaintext, context, nonce, emu)
