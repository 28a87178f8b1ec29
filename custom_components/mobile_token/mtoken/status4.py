"""The 4.0 activation status blob (protocol 4.0 notes, section 12).

48 plain bytes and a 32-byte KMAC under ``KEY_MAC_STATUS``; the blob travels
inside an activation-scope E2EE response, so it is no longer encrypted on
its own. The MAC is checked before any field is read.
"""

import enum
import hmac
from dataclasses import dataclass
from typing import Final

from .kmac import kmac256

MAGIC: Final = bytes.fromhex("DEC0DED4")
BODY_SIZE: Final = 48
MAC_SIZE: Final = 32
BLOB_SIZE: Final = BODY_SIZE + MAC_SIZE
_MAC_CUSTOM: Final = b"PA4MAC-STATUS"
_RESERVED: Final = bytes(4)


class StatusCode(enum.IntEnum):
    """Activation states as the blob encodes them."""

    CREATED = 1
    PENDING_COMMIT = 2
    ACTIVE = 3
    BLOCKED = 4
    REMOVED = 5


class StatusFlag(enum.IntFlag):
    """Bits of the flags byte."""

    ACTIVATION_CONFIRMATION = 0x01
    UPGRADE_CONFIRMATION = 0x02
    UNSUPPORTED_ALGORITHM = 0x04
    BIOMETRY_FACTOR_ON = 0x08


class StatusBlobError(ValueError):
    """The blob is malformed or its MAC does not match."""


@dataclass(frozen=True, slots=True)
class StatusBlob:
    """The decoded fields of a 4.0 status blob."""

    status: StatusCode
    current_version: int
    upgrade_version: int
    flags: StatusFlag
    ctr_byte: int
    fail_count: int
    max_fail_count: int
    ctr_look_ahead: int
    ctr_data_hash: bytes

    @property
    def remaining_attempts(self) -> int:
        """Wrong PINs left before the server blocks the activation."""
        return max(0, self.max_fail_count - self.fail_count)


def _mac(mac_status_key: bytes, body: bytes) -> bytes:
    return kmac256(mac_status_key, body, _MAC_CUSTOM)


def encode_status_blob(mac_status_key: bytes, blob: StatusBlob) -> bytes:
    """Server side: the 80-byte blob, MAC included."""
    if len(blob.ctr_data_hash) != 32:
        raise ValueError("CTR_DATA_HASH must be 32 bytes")
    body = (
        MAGIC
        + bytes([blob.status, blob.current_version, blob.upgrade_version, blob.flags])
        + _RESERVED
        + bytes([blob.ctr_byte, blob.fail_count, blob.max_fail_count, blob.ctr_look_ahead])
        + blob.ctr_data_hash
    )
    return body + _mac(mac_status_key, body)


def decode_status_blob(mac_status_key: bytes, data: bytes) -> StatusBlob:
    """Verify the MAC, then read the fields."""
    if len(data) != BLOB_SIZE:
        raise StatusBlobError(f"a 4.0 status blob has {BLOB_SIZE} bytes, not {len(data)}")
    body, mac = data[:BODY_SIZE], data[BODY_SIZE:]
    if not hmac.compare_digest(_mac(mac_status_key, body), mac):
        raise StatusBlobError("the status blob's MAC does not match")
    if body[:4] != MAGIC:
        raise StatusBlobError("the status blob has the wrong magic value")
    try:
        status = StatusCode(body[4])
    except ValueError as err:
        raise StatusBlobError(f"unknown activation status {body[4]}") from err
    return StatusBlob(
        status=status,
        current_version=body[5],
        upgrade_version=body[6],
        flags=StatusFlag(body[7] & 0x0F),
        ctr_byte=body[12],
        fail_count=body[13],
        max_fail_count=body[14],
        ctr_look_ahead=body[15],
        ctr_data_hash=body[16:48],
    )
