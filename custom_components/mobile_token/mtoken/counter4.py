"""The 4.0 hash-based counter: ``CTR_DATA <- SHA3-256(CTR_DATA)`` (protocol 4.0 notes, section 11).

Besides the value, the status blob carries ``CTR_DATA_HASH`` (a KMAC of the
server's value, so the value itself never travels) and the server's
``CTR_BYTE``. :func:`synchronize` compares them with the local counter the way
the mobile SDK's ``trySynchronizeCounter`` does.
"""

import enum
import hmac
from dataclasses import dataclass
from typing import Final

from .kmac import kmac256, sha3_256

CTR_DATA_SIZE: Final = 32
_HASH_CUSTOM: Final = b"PA4MAC-CTR"
_BYTE_MODULUS: Final = 256


def _check(ctr_data: bytes) -> None:
    if len(ctr_data) != CTR_DATA_SIZE:
        raise ValueError(f"4.0 CTR_DATA must be {CTR_DATA_SIZE} bytes")


def next_counter(ctr_data: bytes) -> bytes:
    """The next CTR_DATA."""
    _check(ctr_data)
    return sha3_256(ctr_data)


def advance_counter(ctr_data: bytes, steps: int) -> bytes:
    """CTR_DATA after ``steps`` codes (``steps >= 0``)."""
    if steps < 0:
        raise ValueError("the counter only moves forward")
    for _ in range(steps):
        ctr_data = next_counter(ctr_data)
    _check(ctr_data)
    return ctr_data


def counter_hash(mac_ctr_data_key: bytes, ctr_data: bytes) -> bytes:
    """``CTR_DATA_HASH = KMAC256(KEY_MAC_CTR_DATA, CTR_DATA, 32, "PA4MAC-CTR")``.

    The status document writes key and data the other way round; the mobile
    SDK (``ActivationServiceV4``) keys the MAC with ``KEY_MAC_CTR_DATA``.
    """
    _check(ctr_data)
    return kmac256(mac_ctr_data_key, ctr_data, _HASH_CUSTOM)


class SyncResult(enum.Enum):
    """What the status blob says about the local counter."""

    IN_SYNC = "in_sync"
    #: The client is a little ahead (codes the server has not seen): fine.
    CLIENT_AHEAD = "client_ahead"
    #: The client is so far ahead that it should use a code soon.
    CALCULATE_SOON = "calculate_soon"
    #: The server is ahead: adopt its value.
    ADOPTED = "adopted"
    #: Nothing matches: the activation can no longer authenticate.
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    """The result and, when the server was ahead, the values to persist."""

    result: SyncResult
    ctr_data: bytes
    ctr_byte: int


def byte_distance(local: int, remote: int) -> int:
    """Signed distance local - remote on the 256-value ring, in -128..127."""
    return (local - remote + 128) % _BYTE_MODULUS - 128


def synchronize(
    mac_ctr_data_key: bytes,
    ctr_data: bytes,
    ctr_byte: int,
    *,
    status_hash: bytes,
    status_byte: int,
    look_ahead: int,
) -> SyncOutcome:
    """Compare the local counter with the status blob's and decide what to do."""
    distance = byte_distance(ctr_byte, status_byte)
    candidate = ctr_data
    hash_distance = None
    for steps in range(max(look_ahead, 1)):
        if hmac.compare_digest(counter_hash(mac_ctr_data_key, candidate), status_hash):
            hash_distance = steps
            break
        candidate = next_counter(candidate)
    if hash_distance == 0 and distance == 0:
        return SyncOutcome(SyncResult.IN_SYNC, ctr_data, ctr_byte)
    if hash_distance is None and distance > 0:
        if distance <= look_ahead // 2:
            return SyncOutcome(SyncResult.CLIENT_AHEAD, ctr_data, ctr_byte)
        if distance <= look_ahead:
            return SyncOutcome(SyncResult.CALCULATE_SOON, ctr_data, ctr_byte)
    if hash_distance is not None and hash_distance > 0 and -distance == hash_distance:
        return SyncOutcome(SyncResult.ADOPTED, candidate, status_byte)
    return SyncOutcome(SyncResult.INVALID, ctr_data, ctr_byte)


def next_ctr_byte(ctr_byte: int) -> int:
    """CTR_BYTE after one more code, wrapping at 256."""
    return (ctr_byte + 1) % _BYTE_MODULUS
