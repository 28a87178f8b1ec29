"""KMAC-256 and the SHA-3 hashes that protocol 4.0 builds everything on.

NIST SP 800-185 defines ``KMAC256(K, X, L, S)`` as cSHAKE256 with the function
name ``"KMAC"`` over ``bytepad(encode_string(K), 136) || X || right_encode(L)``.
Neither ``hashlib`` nor ``cryptography`` offers cSHAKE, so the sponge comes
from pycryptodome. Its ready-made ``KMAC256`` refuses keys shorter than 32
bytes, yet 4.0 keys KMAC with the 16-byte application secret and with PINs,
so KMAC is assembled here from pycryptodome's cSHAKE256 (whose constructor
with a function name is the one SP 800-185 describes).
"""

import hashlib
import hmac
from collections.abc import Callable
from typing import Any, Final, cast

from Crypto.Hash import cSHAKE256

#: The rate of Keccak[512] in bytes, the block bytepad pads to.
_RATE: Final = 136
_FUNCTION_NAME: Final = b"KMAC"
DEFAULT_LENGTH: Final = 32

#: cSHAKE256's constructor that takes a function name. Some pycryptodome releases
#: ship it untyped; naming its type here keeps strict typing on every release.
_new_cshake256: Final = cast("Callable[[bytes, bytes, bytes], Any]", vars(cSHAKE256)["_new"])


def _left_encode(value: int) -> bytes:
    size = max(1, (value.bit_length() + 7) // 8)
    return bytes([size]) + value.to_bytes(size, "big")


def _right_encode(value: int) -> bytes:
    size = max(1, (value.bit_length() + 7) // 8)
    return value.to_bytes(size, "big") + bytes([size])


def _bytepad_key(key: bytes) -> bytes:
    encoded = _left_encode(_RATE) + _left_encode(8 * len(key)) + key
    return encoded + bytes(-len(encoded) % _RATE)


def kmac256(key: bytes, data: bytes, custom: bytes, length: int = DEFAULT_LENGTH) -> bytes:
    """KMAC-256 with a fixed output of ``length`` bytes (not the XOF variant)."""
    if length <= 0:
        raise ValueError("KMAC output length must be positive")
    message = _bytepad_key(key) + data + _right_encode(8 * length)
    sponge = _new_cshake256(message, custom, _FUNCTION_NAME)
    output: bytes = sponge.read(length)
    return output


def verify_kmac256(
    key: bytes, data: bytes, custom: bytes, expected: bytes, length: int = DEFAULT_LENGTH
) -> bool:
    """Recompute a KMAC and compare it in constant time."""
    return hmac.compare_digest(kmac256(key, data, custom, length), expected)


def sha3_256(data: bytes) -> bytes:
    """SHA3-256 (FIPS 202): counter steps, fingerprints, application-scope SH2."""
    return hashlib.sha3_256(data).digest()


def sha3_384(data: bytes) -> bytes:
    """SHA3-384 (FIPS 202), listed among 4.0's primitives."""
    return hashlib.sha3_384(data).digest()
