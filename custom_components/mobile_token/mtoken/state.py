"""What an activation leaves on the device, and how it is written down.

The session owns one ``ActivationState``; nothing else holds keys or the
counter. The state serialises to a versioned, JSON-safe dict so a caller can
keep it wherever its platform keeps secrets (a private Home Assistant store,
a 0600 file for the command-line client).

What is stored follows protocol section 3: the knowledge key only encrypted
under a PIN-derived key (no check value, so only the server can tell a wrong
PIN), the device private key only under the vault key, the biometry key only
when the user opted in to approvals without a PIN.
"""

import secrets
import uuid
from dataclasses import dataclass, field, replace
from typing import Any, Self

from cryptography.hazmat.primitives.asymmetric import ec

from . import protection
from .encoding import b64decode, b64encode
from .errors import BadResponseError, InvalidActivationIdError, InvalidStateError
from .http import require_str
from .kdf import derive_keys
from .keys import load_public_key, master_secret, private_key_bytes, public_key_bytes

STATE_VERSION = 1

_BYTES_FIELDS = {
    "server_public_key": "serverPublicKey",
    "device_public_key": "devicePublicKey",
    "encrypted_device_private_key": "encryptedDevicePrivateKey",
    "possession_key": "possessionKey",
    "encrypted_knowledge_key": "encryptedKnowledgeKey",
    "knowledge_salt": "knowledgeSalt",
    "transport_key": "transportKey",
    "ctr_data": "ctrData",
}
_OPTIONAL_BYTES_FIELDS = {
    "biometry_key": "biometryKey",
    "token_secret": "tokenSecret",
}


@dataclass(frozen=True, slots=True)
class ActivationState:
    """Keys and counter of one activation; immutable, replaced on every change."""

    activation_id: str
    server_public_key: bytes
    device_public_key: bytes
    encrypted_device_private_key: bytes
    possession_key: bytes
    encrypted_knowledge_key: bytes
    knowledge_salt: bytes
    transport_key: bytes
    ctr_data: bytes
    ctr_byte: int = 0
    biometry_key: bytes | None = None
    token_id: str | None = None
    token_secret: bytes | None = field(default=None)
    # Signatures computed since the server last confirmed the counter (offline codes,
    # requests without an answer): the server's look-ahead window bounds them.
    unconfirmed_steps: int = 0

    @property
    def has_biometry_key(self) -> bool:
        """True when the user allowed approvals without a PIN."""
        return self.biometry_key is not None

    @property
    def has_token(self) -> bool:
        """True when a ``possession_universal`` token is cached."""
        return self.token_id is not None and self.token_secret is not None

    def with_counter(
        self, ctr_data: bytes, ctr_byte: int, *, unconfirmed_steps: int
    ) -> "ActivationState":
        """The state after the counter moved, ``unconfirmed_steps`` past the server's."""
        return replace(
            self, ctr_data=ctr_data, ctr_byte=ctr_byte % 256, unconfirmed_steps=unconfirmed_steps
        )

    def confirmed(self) -> "ActivationState":
        """The state once the server accepted a signature: its counter equals ours."""
        return replace(self, unconfirmed_steps=0)

    def with_token(self, token_id: str | None, token_secret: bytes | None) -> "ActivationState":
        """The state with a new (or no) cached token."""
        return replace(self, token_id=token_id, token_secret=token_secret)

    def to_dict(self) -> dict[str, Any]:
        """A versioned, JSON-safe form (Base64 for bytes)."""
        data: dict[str, Any] = {
            "version": STATE_VERSION,
            "activationId": self.activation_id,
            "ctrByte": self.ctr_byte,
            "tokenId": self.token_id,
            "unconfirmedSteps": self.unconfirmed_steps,
        }
        for attr, key in (_BYTES_FIELDS | _OPTIONAL_BYTES_FIELDS).items():
            value = getattr(self, attr)
            data[key] = None if value is None else b64encode(value)
        return data

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Read what ``to_dict`` wrote; refuse anything else with a clear error."""
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            raise InvalidStateError("The stored activation is missing or of an unknown version")
        try:
            values: dict[str, Any] = {
                attr: b64decode(data[key]) for attr, key in _BYTES_FIELDS.items()
            }
            for attr, key in _OPTIONAL_BYTES_FIELDS.items():
                raw = data.get(key)
                values[attr] = None if raw is None else b64decode(raw)
            activation_id = data["activationId"]
            ctr_byte = data["ctrByte"]
            token_id = data.get("tokenId")
            unconfirmed_steps = data.get("unconfirmedSteps", 0)
        except (KeyError, ValueError, TypeError) as err:
            raise InvalidStateError("The stored activation is damaged") from err
        if not isinstance(activation_id, str) or not isinstance(ctr_byte, int):
            raise InvalidStateError("The stored activation is damaged")
        if token_id is not None and not isinstance(token_id, str):
            raise InvalidStateError("The stored activation is damaged")
        if not isinstance(unconfirmed_steps, int) or unconfirmed_steps < 0:
            raise InvalidStateError("The stored activation is damaged")
        return cls(
            activation_id=activation_id,
            ctr_byte=ctr_byte,
            token_id=token_id,
            unconfirmed_steps=unconfirmed_steps,
            **values,
        )


def check_activation_id(activation_id: str) -> str:
    """Return the id in its canonical form if it is a UUID; raise otherwise.

    PowerAuth issues activation ids as UUIDs (protocol section 2); callers use
    the id to name their storage, so a server cannot smuggle a path in.
    """
    try:
        canonical = str(uuid.UUID(activation_id))
    except ValueError:
        canonical = ""
    if canonical != activation_id.lower():
        raise InvalidActivationIdError("The server's activation id is not a UUID")
    return activation_id


def new_activation_state(
    device_key: ec.EllipticCurvePrivateKey,
    answer: dict[str, Any],
    pin: str,
    *,
    allow_biometry: bool,
) -> ActivationState:
    """Derive and protect a new activation's keys from the server's layer-2 answer.

    Runs PBKDF2, so callers run it off the event loop.
    """
    activation_id = check_activation_id(require_str(answer, "activationId"))
    try:
        server_key = load_public_key(b64decode(require_str(answer, "serverPublicKey")))
        ctr_data = b64decode(require_str(answer, "ctrData"), length=16)
    except ValueError as err:
        raise BadResponseError("The server's activation data is malformed") from err
    keys = derive_keys(master_secret(device_key, server_key))
    salt = secrets.token_bytes(protection.SALT_SIZE)
    pin_key = protection.derive_pin_key(pin, salt)
    return ActivationState(
        activation_id=activation_id,
        server_public_key=public_key_bytes(server_key),
        device_public_key=public_key_bytes(device_key),
        encrypted_device_private_key=protection.encrypt_device_private_key(
            keys.vault, private_key_bytes(device_key)
        ),
        possession_key=keys.possession,
        encrypted_knowledge_key=protection.encrypt_knowledge_key(pin_key, keys.knowledge),
        knowledge_salt=salt,
        transport_key=keys.transport,
        ctr_data=ctr_data,
        biometry_key=keys.biometry if allow_biometry else None,
    )
