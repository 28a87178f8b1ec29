"""The hash-based signature counter CTR_DATA and its companion ctr_byte.

Protocol notes section 4 ("Counter"): CTR_DATA is 16 bytes the server picks
at activation; each signature attempt uses the current value and then moves
to ``fold(SHA256(CTR_DATA))``. ``ctr_byte`` is the low byte of the number of
steps taken; the status blob reports the server's one so a client can tell
how far apart the two are (section 8).
"""

import hashlib
from typing import Final

from .kdf import fold

CTR_DATA_SIZE: Final = 16
#: ctr_byte of a fresh activation: no signature has been computed yet.
INITIAL_CTR_BYTE: Final = 0
_BYTE_MODULUS: Final = 256


def _check(ctr_data: bytes) -> None:
    if len(ctr_data) != CTR_DATA_SIZE:
        raise ValueError(f"CTR_DATA must be {CTR_DATA_SIZE} bytes")


def next_counter(ctr_data: bytes) -> bytes:
    """Return the next CTR_DATA: ``fold(SHA256(ctr_data))``."""
    _check(ctr_data)
    return fold(hashlib.sha256(ctr_data).digest())


def advance_counter(ctr_data: bytes, steps: int) -> bytes:
    """CTR_DATA after ``steps`` signatures (``steps >= 0``)."""
    if steps < 0:
        raise ValueError("the counter only moves forward")
    _check(ctr_data)
    for _ in range(steps):
        ctr_data = next_counter(ctr_data)
    return ctr_data


def next_ctr_byte(ctr_byte: int) -> int:
    """ctr_byte after one more signature, wrapping at 256."""
    return (ctr_byte + 1) % _BYTE_MODULUS
