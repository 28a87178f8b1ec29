"""What a protocol 4.0 activation leaves on the device, and how it is written down.

Protocol 4.0 notes, section 5: the client keeps the factor keys and the
utility keys it needs, the server's public keys and ``CTR_DATA``, never
``KEY_ACTIVATION_SECRET`` itself. As in 3.3 the knowledge key is kept only
wrapped under a PIN-derived key without a check value, so only the server
can tell a wrong PIN; in 4.0 the PIN key is the KMAC password KDF
(``PA4PBKDF``) and the wrap is AES-256-CTR with a random IV (section 3).
"""

import secrets
from dataclasses import dataclass, fields, replace
from typing import Any, Final, Self

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .encoding import b64decode, b64encode
from .errors import InvalidStateError
from .kdf4 import ActivationKeys, derive_password

STATE_PROTOCOL: Final = "4.0"
STATE_VERSION: Final = 1
SALT_SIZE: Final = 32
_IV_SIZE: Final = 16
_KEY_SIZE: Final = 32


def _camel(name: str) -> str:
    """Stored names follow the 3.3 state's (``activationId``, ``ctrData``, ...)."""
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)


def _ctr(key: bytes, iv: bytes, data: bytes) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    return cipher.update(data) + cipher.finalize()


def wrap_knowledge_key(pin: str, salt: bytes, key: bytes) -> bytes:
    """``iv || AES-256-CTR(derivePassword(pin, salt), iv, key)``, deliberately unauthenticated."""
    iv = secrets.token_bytes(_IV_SIZE)
    return iv + _ctr(derive_password(pin.encode("utf-8"), salt), iv, key)


def unwrap_knowledge_key(pin: str, salt: bytes, wrapped: bytes) -> bytes:
    """The knowledge key for ``pin``; a wrong PIN yields a wrong key the server refuses."""
    if len(wrapped) != _IV_SIZE + _KEY_SIZE:
        raise InvalidStateError("The stored knowledge key is damaged")
    return _ctr(derive_password(pin.encode("utf-8"), salt), wrapped[:_IV_SIZE], wrapped[_IV_SIZE:])


@dataclass(frozen=True, slots=True)
class ActivationState4:
    """Keys and counter of one 4.0 activation; immutable, replaced on every change."""

    activation_id: str
    algorithm: str
    device_public_key: bytes
    server_public_key: bytes
    possession_key: bytes
    wrapped_knowledge_key: bytes
    knowledge_salt: bytes
    mac_ctr_data_key: bytes
    mac_status_key: bytes
    mac_temp_key_key: bytes
    mac_personalized_key: bytes
    e2ee_sh2_key: bytes
    ctr_data: bytes
    ctr_byte: int = 0
    device_mldsa_key: bytes | None = None
    server_mldsa_key: bytes | None = None
    biometry_key: bytes | None = None
    token_id: str | None = None
    token_secret: bytes | None = None
    #: While an upgrade from 3.3 awaits its confirmation: the 3.3 state to fall back to.
    pending_upgrade_v3: dict[str, Any] | None = None
    #: Codes computed since the server last confirmed the counter (offline codes,
    #: requests without an answer): the server's look-ahead window bounds them.
    unconfirmed_steps: int = 0

    protocol_version = STATE_PROTOCOL

    @property
    def has_biometry_key(self) -> bool:
        """True when the user allowed approvals without a PIN."""
        return self.biometry_key is not None

    @property
    def has_token(self) -> bool:
        """True when a token is cached."""
        return self.token_id is not None and self.token_secret is not None

    def with_counter(
        self, ctr_data: bytes, ctr_byte: int, *, unconfirmed_steps: int
    ) -> "ActivationState4":
        """The state after the counter moved, ``unconfirmed_steps`` past the server's."""
        return replace(
            self, ctr_data=ctr_data, ctr_byte=ctr_byte % 256, unconfirmed_steps=unconfirmed_steps
        )

    def confirmed(self) -> "ActivationState4":
        """The state once the server accepted a code: its counter equals ours."""
        return replace(self, unconfirmed_steps=0)

    def with_token(self, token_id: str | None, token_secret: bytes | None) -> "ActivationState4":
        """The state with a new (or no) cached token."""
        return replace(self, token_id=token_id, token_secret=token_secret)

    def to_dict(self) -> dict[str, Any]:
        """A versioned, JSON-safe form (Base64 for bytes) that names its protocol."""
        data: dict[str, Any] = {"version": STATE_VERSION, "protocol": STATE_PROTOCOL}
        for item in fields(self):
            value = getattr(self, item.name)
            data[_camel(item.name)] = b64encode(value) if isinstance(value, bytes) else value
        return data

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Read what ``to_dict`` wrote; refuse anything else with a clear error."""
        if (
            not isinstance(data, dict)
            or data.get("version") != STATE_VERSION
            or data.get("protocol") != STATE_PROTOCOL
        ):
            raise InvalidStateError("The stored 4.0 activation is missing or of an unknown version")
        values: dict[str, Any] = {}
        try:
            for item in fields(cls):
                raw = data.get(_camel(item.name))
                if "bytes" in str(item.type):
                    values[item.name] = None if raw is None else b64decode(raw)
                elif raw is None and item.name == "unconfirmed_steps":
                    # States written before the window was tracked: the server confirmed them.
                    values[item.name] = 0
                else:
                    values[item.name] = raw
            state = cls(**values)
        except (ValueError, TypeError) as err:
            raise InvalidStateError("The stored 4.0 activation is damaged") from err
        if (
            not isinstance(state.activation_id, str)
            or not isinstance(state.ctr_byte, int)
            or not isinstance(state.unconfirmed_steps, int)
            or state.unconfirmed_steps < 0
        ):
            raise InvalidStateError("The stored 4.0 activation is damaged")
        return state


def is_v4_state(data: Any) -> bool:
    """Whether a stored state is a 4.0 activation."""
    return isinstance(data, dict) and data.get("protocol") == STATE_PROTOCOL


def new_activation_state4(
    *,
    activation_id: str,
    algorithm: str,
    device_keys: tuple[bytes, bytes | None],
    server_keys: tuple[bytes, bytes | None],
    keys: ActivationKeys,
    ctr_data: bytes,
    pin: str,
    allow_biometry: bool,
    pending_upgrade_v3: dict[str, Any] | None = None,
) -> ActivationState4:
    """The state of a fresh 4.0 activation, its knowledge key wrapped under the PIN."""
    salt = secrets.token_bytes(SALT_SIZE)
    return ActivationState4(
        activation_id=activation_id,
        algorithm=algorithm,
        device_public_key=device_keys[0],
        device_mldsa_key=device_keys[1],
        server_public_key=server_keys[0],
        server_mldsa_key=server_keys[1],
        possession_key=keys.possession,
        wrapped_knowledge_key=wrap_knowledge_key(pin, salt, keys.knowledge),
        knowledge_salt=salt,
        mac_ctr_data_key=keys.mac_ctr_data,
        mac_status_key=keys.mac_status,
        mac_temp_key_key=keys.mac_get_act_temp_key,
        mac_personalized_key=keys.mac_personalized_data,
        e2ee_sh2_key=keys.e2ee_shared_info2,
        ctr_data=ctr_data,
        biometry_key=keys.biometry if allow_biometry else None,
        pending_upgrade_v3=pending_upgrade_v3,
    )
