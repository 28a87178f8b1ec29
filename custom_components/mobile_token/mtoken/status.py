"""The encrypted activation status blob and counter resynchronisation.

Protocol notes section 8. The server answers ``/pa/v3/activation/status``
with 32 bytes ``AES-CBC-NoPadding(KEY_TRANSPORT, IV, blob)``; the IV is
``KDF_INTERNAL(KDF(T, 3000), challenge || nonce)`` from 3.1 on (zero in
3.0). The blob tells the activation state, the failed attempts and, from
3.1 on, the server's counter byte and a keyed hash of its CTR_DATA, so the
client can find out whether its own counter drifted and repair it the way
the mobile SDK does (``trySynchronizeCounter``).
"""

import secrets
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Final

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .counter import CTR_DATA_SIZE, next_counter
from .kdf import counter_hash_key, kdf_internal, status_blob_iv_key

STATUS_BLOB_SIZE: Final = 32
STATUS_CHALLENGE_SIZE: Final = 16
STATUS_NONCE_SIZE: Final = 16
#: First three magic bytes; the fourth may be anything from D1 to DF.
MAGIC_PREFIX: Final = bytes.fromhex("dec0de")
MAGIC_LAST_MIN: Final = 0xD1
MAGIC_LAST_MAX: Final = 0xDF
MAGIC: Final = MAGIC_PREFIX + bytes([MAGIC_LAST_MIN])
DEFAULT_MAX_FAILED_ATTEMPTS: Final = 5
DEFAULT_LOOK_AHEAD: Final = 20

_ZERO_IV: Final = bytes(16)
_RESERVED: Final = slice(7, 12)
_CTR_HASH: Final = slice(16, 32)
_BYTE_RANGE: Final = 256
_HALF_BYTE_RANGE: Final = 128


class ActivationStatus(IntEnum):
    """Activation states as the blob encodes them (byte 4)."""

    CREATED = 1
    PENDING_COMMIT = 2
    ACTIVE = 3
    BLOCKED = 4
    REMOVED = 5

    @classmethod
    def from_name(cls, name: str) -> "ActivationStatus":
        """Read the server's string form (``"ACTIVE"``), case-insensitively."""
        try:
            return cls[name.upper()]
        except KeyError as err:
            raise ValueError(f"unknown activation status {name!r}") from err


@dataclass(frozen=True, slots=True)
class StatusBlob:
    """The decrypted status blob.

    ``ctr_byte``, ``look_ahead`` and ``ctr_data_hash`` are None for 3.0 blobs,
    where those bytes are random filler.
    """

    status: int
    current_version: int
    upgrade_version: int
    ctr_byte: int | None
    failed_attempts: int
    max_failed_attempts: int
    look_ahead: int | None
    ctr_data_hash: bytes | None

    @property
    def activation_status(self) -> ActivationStatus | None:
        """The status as an enum, None for a value this library does not know."""
        try:
            return ActivationStatus(self.status)
        except ValueError:
            return None

    @property
    def remaining_attempts(self) -> int:
        """How many wrong PINs the server still accepts before blocking."""
        return max(self.max_failed_attempts - self.failed_attempts, 0)


def status_blob_iv(transport_key: bytes, challenge: bytes | None, nonce: bytes | None) -> bytes:
    """IV of the blob: ``KDF_INTERNAL(KDF(T, 3000), challenge || nonce)``; 3.0 zero."""
    if challenge is None or nonce is None:
        return _ZERO_IV
    return kdf_internal(status_blob_iv_key(transport_key), challenge + nonce)


def ctr_data_hash(transport_key: bytes, ctr_data: bytes) -> bytes:
    """Keyed hash of a CTR_DATA: ``KDF_INTERNAL(KDF(T, 4000), ctr_data)``."""
    return kdf_internal(counter_hash_key(transport_key), ctr_data)


def _aes_cbc(transport_key: bytes, iv: bytes) -> Cipher[modes.CBC]:
    return Cipher(algorithms.AES(transport_key), modes.CBC(iv))


def _has_magic(plain: bytes) -> bool:
    return plain[:3] == MAGIC_PREFIX and MAGIC_LAST_MIN <= plain[3] <= MAGIC_LAST_MAX


def decrypt_status_blob(
    transport_key: bytes, challenge: bytes | None, nonce: bytes | None, encrypted: bytes
) -> StatusBlob | None:
    """Decrypt and parse the blob; None when the magic does not match.

    A magic mismatch means the server does not know the activation (it
    sends random bytes then) or removed it. Without challenge and nonce the
    blob is read as a 3.0 blob.
    """
    if len(encrypted) != STATUS_BLOB_SIZE:
        raise ValueError(f"the status blob must be {STATUS_BLOB_SIZE} bytes")
    decryptor = _aes_cbc(transport_key, status_blob_iv(transport_key, challenge, nonce)).decryptor()
    plain = decryptor.update(encrypted) + decryptor.finalize()
    if not _has_magic(plain):
        return None
    has_counter = challenge is not None and nonce is not None
    return StatusBlob(
        status=plain[4],
        current_version=plain[5],
        upgrade_version=plain[6],
        ctr_byte=plain[12] if has_counter else None,
        failed_attempts=plain[13],
        max_failed_attempts=plain[14],
        look_ahead=plain[15] if has_counter else None,
        ctr_data_hash=plain[_CTR_HASH] if has_counter else None,
    )


def encode_status_blob(blob: StatusBlob) -> bytes:
    """Server side: the 32 plaintext bytes (random reserved bytes and filler)."""
    plain = bytearray(secrets.token_bytes(STATUS_BLOB_SIZE))
    plain[:4] = MAGIC
    plain[4:7] = bytes([blob.status, blob.current_version, blob.upgrade_version])
    plain[_RESERVED] = secrets.token_bytes(_RESERVED.stop - _RESERVED.start)
    if blob.ctr_byte is not None:
        plain[12] = blob.ctr_byte
    plain[13] = blob.failed_attempts
    plain[14] = blob.max_failed_attempts
    if blob.look_ahead is not None:
        plain[15] = blob.look_ahead
    if blob.ctr_data_hash is not None:
        plain[_CTR_HASH] = blob.ctr_data_hash
    return bytes(plain)


def encrypt_status_blob(
    transport_key: bytes, challenge: bytes | None, nonce: bytes | None, blob: StatusBlob
) -> bytes:
    """Server side: encode and encrypt a blob for the given challenge and nonce."""
    encryptor = _aes_cbc(transport_key, status_blob_iv(transport_key, challenge, nonce)).encryptor()
    return encryptor.update(encode_status_blob(blob)) + encryptor.finalize()


class CounterSyncAction(StrEnum):
    """What the client must do after comparing counters (the SDK's counter state)."""

    OK = "OK"
    UPDATED = "UPDATED"
    CALCULATE_SIGNATURE = "CALCULATE_SIGNATURE"
    INVALID = "INVALID"


@dataclass(frozen=True, slots=True)
class CounterSync:
    """Outcome of a counter comparison and the counter the client should keep."""

    action: CounterSyncAction
    ctr_data: bytes
    ctr_byte: int
    hash_distance: int
    byte_distance: int


def byte_distance(local_ctr_byte: int, server_ctr_byte: int) -> int:
    """Signed closest distance ``local - server`` modulo 256 (positive: client ahead)."""
    distance = local_ctr_byte - server_ctr_byte
    if distance > _HALF_BYTE_RANGE:
        return distance - _BYTE_RANGE
    if distance < -_HALF_BYTE_RANGE:
        return distance + _BYTE_RANGE
    return distance


def hash_distance(
    local_ctr_data: bytes, server_hash: bytes, transport_key: bytes, look_ahead: int
) -> tuple[int, bytes]:
    """First k < look_ahead with ``hash(next^k(local)) == server_hash``, and that value.

    ``(-1, local_ctr_data)`` when the server's counter is not within reach.
    """
    key = counter_hash_key(transport_key)
    candidate = local_ctr_data
    for steps in range(look_ahead):
        if kdf_internal(key, candidate) == server_hash:
            return steps, candidate
        candidate = next_counter(candidate)
    return -1, local_ctr_data


def synchronize_counter(
    local_ctr_data: bytes, local_ctr_byte: int, blob: StatusBlob, transport_key: bytes
) -> CounterSync:
    """Compare the local counter with the blob's, as the mobile SDK does (section 8).

    In sync: OK. Client ahead (no hash match): INVALID beyond the look-ahead,
    CALCULATE_SIGNATURE beyond half of it, else OK. Server ahead by exactly
    the matched hash distance: UPDATED with the server's CTR_DATA and byte.
    Anything else cannot be repaired: INVALID. 3.0 blobs carry no counter
    data, so they are always OK.
    """
    if len(local_ctr_data) != CTR_DATA_SIZE:
        raise ValueError(f"CTR_DATA must be {CTR_DATA_SIZE} bytes")
    if blob.ctr_byte is None or blob.ctr_data_hash is None or blob.look_ahead is None:
        return CounterSync(CounterSyncAction.OK, local_ctr_data, local_ctr_byte, 0, 0)
    look_ahead = blob.look_ahead
    hashes, matched = hash_distance(local_ctr_data, blob.ctr_data_hash, transport_key, look_ahead)
    bytes_apart = byte_distance(local_ctr_byte, blob.ctr_byte)

    def keep(action: CounterSyncAction) -> CounterSync:
        return CounterSync(action, local_ctr_data, local_ctr_byte, hashes, bytes_apart)

    if hashes == 0 and bytes_apart == 0:
        return keep(CounterSyncAction.OK)
    if bytes_apart > 0 and hashes == -1:
        if bytes_apart > look_ahead:
            return keep(CounterSyncAction.INVALID)
        if bytes_apart > look_ahead // 2:
            return keep(CounterSyncAction.CALCULATE_SIGNATURE)
        return keep(CounterSyncAction.OK)
    if -bytes_apart == hashes:
        return CounterSync(CounterSyncAction.UPDATED, matched, blob.ctr_byte, hashes, bytes_apart)
    return keep(CounterSyncAction.INVALID)
