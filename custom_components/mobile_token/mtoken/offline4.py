"""Offline (QR) codes under protocol 4.0: who signed the code (protocol 4.0 notes, section 16).

The QR layout and the offline authentication code's data are those of 3.x;
what changes is the signature line's key type. ``0`` is still the master
key, now ECDSA P-384 / SHA-384; ``2`` is new: a KMAC-256 under
``KEY_MAC_PERSONALIZED_DATA`` that only this activation and the server know.
The server documents and one server revision disagree on the KMAC's details;
this follows the mobile SDK 2.x (customization ``PA4MAC-QR``, 32 bytes over
the signed text), see ``docs/protocol-4.md``.
"""

from typing import Final

from .keys4 import ecdsa_verify_der
from .kmac import kmac256, verify_kmac256

KEY_TYPE_MASTER: Final = "0"
KEY_TYPE_PERSONALIZED_MAC: Final = "2"
MAC_SIZE: Final = 32
_QR_CUSTOM: Final = b"PA4MAC-QR"


def personalized_mac(mac_personalized_key: bytes, signed_data: bytes) -> bytes:
    """Server side: the key-type-2 MAC of a QR code's signed text."""
    return kmac256(mac_personalized_key, signed_data, _QR_CUSTOM, MAC_SIZE)


def verify_personalized_mac(mac_personalized_key: bytes, signed_data: bytes, mac: bytes) -> bool:
    """Whether this activation's server made the code (constant-time compare)."""
    return len(mac) == MAC_SIZE and verify_kmac256(
        mac_personalized_key, signed_data, _QR_CUSTOM, mac, MAC_SIZE
    )


def verify_master_signature(master_p384: bytes, signed_data: bytes, signature: bytes) -> bool:
    """Whether the application's P-384 master key signed the code (key type 0 in 4.0)."""
    return ecdsa_verify_der(master_p384, signed_data, signature)
