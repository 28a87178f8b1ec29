"""The 4.0 AEAD: AES-256-CTR and a KMAC-256 tag (protocol 4.0 notes, section 8).

Reference ``PowerAuthAEAD.cpp``: both keys are derived from the base key with
the key context as diversifier, the 16-byte CTR IV is the 12-byte nonce
followed by a zero block counter, and the output is ``nonce || tag || ciphertext``
(the tag comes before the ciphertext).
"""

import hmac
from typing import Final

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .kdf4 import derive
from .kmac import kmac256

NONCE_SIZE: Final = 12
TAG_SIZE: Final = 32
LABEL_AEAD_ENC: Final = "aead/enc"
LABEL_AEAD_MAC: Final = "aead/mac"
_TAG_CUSTOM: Final = b"PA4MAC-AEAD"
_COUNTER_START: Final = bytes(4)


class AeadError(ValueError):
    """The sealed data is malformed or its tag does not match."""


def _ctr(key: bytes, nonce: bytes, data: bytes) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.CTR(nonce + _COUNTER_START)).encryptor()
    return cipher.update(data) + cipher.finalize()


def _tag(mac_key: bytes, nonce: bytes, associated: bytes, ciphertext: bytes) -> bytes:
    return kmac256(mac_key, nonce + associated + ciphertext, _TAG_CUSTOM, TAG_SIZE)


def seal(
    key: bytes, key_context: bytes, nonce: bytes, associated: bytes, plaintext: bytes
) -> bytes:
    """Encrypt and authenticate ``plaintext``; the nonce must never repeat under ``key``."""
    if len(nonce) != NONCE_SIZE:
        raise ValueError(f"the AEAD nonce must be {NONCE_SIZE} bytes")
    ciphertext = _ctr(derive(key, LABEL_AEAD_ENC, key_context), nonce, plaintext)
    tag = _tag(derive(key, LABEL_AEAD_MAC, key_context), nonce, associated, ciphertext)
    return nonce + tag + ciphertext


def split_nonce(sealed: bytes) -> bytes:
    """The nonce a sealed message carries in its first bytes."""
    if len(sealed) < NONCE_SIZE + TAG_SIZE:
        raise AeadError("sealed data is too short")
    return sealed[:NONCE_SIZE]


def open_sealed(key: bytes, key_context: bytes, associated: bytes, sealed: bytes) -> bytes:
    """Check the tag in constant time, then decrypt."""
    nonce = split_nonce(sealed)
    tag = sealed[NONCE_SIZE : NONCE_SIZE + TAG_SIZE]
    ciphertext = sealed[NONCE_SIZE + TAG_SIZE :]
    expected = _tag(derive(key, LABEL_AEAD_MAC, key_context), nonce, associated, ciphertext)
    if not hmac.compare_digest(tag, expected):
        raise AeadError("the AEAD tag does not match")
    return _ctr(derive(key, LABEL_AEAD_ENC, key_context), nonce, ciphertext)
