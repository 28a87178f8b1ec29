"""Server-side cryptography built on the shared protocol primitives.

What the reference server computes for an activation: its keys after the
key exchange, the look-ahead search for a signature (online and offline,
section 4 and 5), the status blob (section 8) and the proximity TOTP
(mobile-token-api.md section 5). Pure functions over bytes: no storage.
"""

import hashlib
import hmac
import secrets
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from mtoken.counter import CTR_DATA_SIZE, next_counter
from mtoken.kdf import DerivedKeys, derive_keys
from mtoken.keys import load_private_key, load_public_key, master_secret
from mtoken.signature import (
    DECIMAL_COMPONENT_LENGTH,
    SignatureType,
    select_factor_keys,
    verify_signature,
)
from mtoken.status import (
    STATUS_BLOB_SIZE,
    StatusBlob,
    ctr_data_hash,
    encrypt_status_blob,
)

from .records import Activation

#: How many counter values past the stored one a signature may use (section 4).
LOOK_AHEAD: Final = 20
#: The protocol generation the status blob reports (current and upgrade version).
PROTOCOL_GENERATION: Final = 3
TOTP_DIGITS: Final = 8
TOTP_STEP_S: Final = 30
#: Steps a proximity TOTP may lag: the current and the previous one.
TOTP_ACCEPTED_STEPS: Final = (0, -1)
TOTP_SEED_SIZE: Final = 32
_BYTE: Final = 256


def derive_activation_keys(server_private_key: bytes, device_public_key: bytes) -> DerivedKeys:
    """KEY_MASTER_SECRET from the server side of ECDH, then the derived keys."""
    secret = master_secret(load_private_key(server_private_key), load_public_key(device_public_key))
    return derive_keys(secret)


def factor_keys(activation: Activation, signature_type: SignatureType) -> list[bytes]:
    """The activation's keys a signature type uses, in signing order."""
    if activation.possession_key is None:
        raise ValueError("the activation has no keys yet")
    keys: list[bytes] = select_factor_keys(
        signature_type,
        possession=activation.possession_key,
        knowledge=activation.knowledge_key,
        biometry=activation.biometry_key,
    )
    return keys


@dataclass(frozen=True)
class CounterMatch:
    """Where a signature verified: steps past the stored counter, type and data used."""

    steps: int
    signature_type: SignatureType
    data: bytes


def find_signature(
    activation: Activation,
    signature_types: Sequence[SignatureType],
    candidates: Sequence[bytes],
    signature: str,
    *,
    version: str,
    offline: bool = False,
    length: int = DECIMAL_COMPONENT_LENGTH,
) -> CounterMatch | None:
    """Walk the counter window like the reference: each counter, then each type and data.

    Online signatures use one type and one data string; offline ones may try
    both 2FA types (biometry allowed) and one data string per valid TOTP, with
    ``length`` digits per factor (the reference default is 8).
    """
    if activation.ctr_data is None:
        return None
    keys = {t: factor_keys(activation, t) for t in signature_types}
    ctr_data = activation.ctr_data
    for steps in range(LOOK_AHEAD):
        for data in candidates:
            for signature_type in signature_types:
                if verify_signature(
                    keys[signature_type],
                    ctr_data,
                    data,
                    signature,
                    version=version,
                    offline=offline,
                    length=length,
                ):
                    return CounterMatch(steps, signature_type, data)
        ctr_data = next_counter(ctr_data)
    return None


def new_ctr_data() -> bytes:
    """A fresh random CTR_DATA for a new activation."""
    return secrets.token_bytes(CTR_DATA_SIZE)


def status_blob_of(
    activation: Activation, upgrade_version: int = PROTOCOL_GENERATION
) -> StatusBlob:
    """The status blob fields; ``upgrade_version`` 4 offers the upgrade to protocol 4.0."""
    if activation.transport_key is None or activation.ctr_data is None:
        raise ValueError("the activation has no keys yet")
    return StatusBlob(
        status=activation.status,
        current_version=PROTOCOL_GENERATION,
        upgrade_version=upgrade_version,
        ctr_byte=activation.counter % _BYTE,
        failed_attempts=min(activation.failed_attempts, _BYTE - 1),
        max_failed_attempts=min(activation.max_failed_attempts, _BYTE - 1),
        look_ahead=LOOK_AHEAD,
        ctr_data_hash=ctr_data_hash(activation.transport_key, activation.ctr_data),
    )


def encrypted_status(
    activation: Activation | None,
    challenge: bytes | None,
    nonce: bytes | None,
    upgrade_version: int = PROTOCOL_GENERATION,
) -> bytes:
    """The encrypted blob; 32 random bytes for an activation the server cannot describe."""
    if activation is None or activation.transport_key is None:
        return secrets.token_bytes(STATUS_BLOB_SIZE)
    encrypted: bytes = encrypt_status_blob(
        activation.transport_key, challenge, nonce, status_blob_of(activation, upgrade_version)
    )
    return encrypted


def new_totp_seed() -> bytes:
    """A random seed for an operation's proximity TOTP."""
    return secrets.token_bytes(TOTP_SEED_SIZE)


def totp(seed: bytes, time_s: float, *, step_offset: int = 0) -> str:
    """RFC 6238 TOTP with HMAC-SHA256, 8 digits, 30-second steps."""
    counter = int(time_s // TOTP_STEP_S) + step_offset
    digest = hmac.new(seed, struct.pack(">Q", max(counter, 0)), hashlib.sha256).digest()
    offset = digest[-1] & 0x0F
    value = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return str(value % 10**TOTP_DIGITS).zfill(TOTP_DIGITS)


def valid_totps(seed: bytes, time_s: float) -> list[str]:
    """The TOTPs accepted now: the current step's, then the previous step's."""
    return [totp(seed, time_s, step_offset=offset) for offset in TOTP_ACCEPTED_STEPS]


def totp_matches(seed: bytes, time_s: float, given: str) -> bool:
    """Compare a proximity OTP with every accepted one in constant time."""
    encoded = given.encode("utf-8", "replace")
    return any(hmac.compare_digest(encoded, t.encode("ascii")) for t in valid_totps(seed, time_s))
