"""Activation codes: generation, CRC-16 check, QR form with the bank's signature.

Protocol notes section 2 ("Activation code"): 10 random bytes and their
CRC-16/ARC (big-endian) are Base32-encoded; the first 20 characters, in four
groups of five, are the code. A QR code may append ``#`` and the Base64 DER
ECDSA signature of the code by the master server key. Recovery codes (``R:``
prefix) use the same encoding; this client recognises and refuses them.
The reference ``IdentifierGenerator`` also derives recovery codes and PUKs,
reproduced here for the server emulator.
"""

import base64
import binascii
import re
import secrets
from dataclasses import dataclass
from typing import Final

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .encoding import b64decode
from .errors import InvalidActivationCodeError
from .kdf import x963_kdf_sha256
from .keys import ecdsa_sign_der, verify_server_signed_data

RANDOM_SIZE: Final = 10
CODE_BYTES_SIZE: Final = 12
CODE_CHARS: Final = 20
GROUP_SIZE: Final = 5
CODE_LENGTH: Final = CODE_CHARS + CODE_CHARS // GROUP_SIZE - 1
SIGNATURE_SEPARATOR: Final = "#"
RECOVERY_PREFIX: Final = "R:"
RECOVERY_DERIVED_SIZE: Final = 26
PUK_DIGITS: Final = 10
EXAMPLE_CODE: Final = "AAAAA-AAAAA-AAAAA-AAAAA"

_CODE_RE: Final = re.compile(r"[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{5}")
_CRC16_ARC_POLY: Final = 0xA001
_BASE32_PADDING: Final = "===="
_PUK_MASK: Final = 0xFFFFFFFFFF
_PUK_BASE_KEY: Final = slice(RANDOM_SIZE, RECOVERY_DERIVED_SIZE)
_PKCS7_BLOCK_OF_EIGHT: Final = bytes([8] * 8)


def crc16_arc(data: bytes) -> int:
    """CRC-16/ARC: reflected poly 0x8005, init 0, no final XOR ("123456789" → 0xBB3D)."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ _CRC16_ARC_POLY if crc & 1 else crc >> 1
    return crc


def _format_groups(chars: str) -> str:
    return "-".join(chars[i : i + GROUP_SIZE] for i in range(0, CODE_CHARS, GROUP_SIZE))


def code_bytes(random_bytes: bytes) -> bytes:
    """Return the 12 encoded bytes: the random bytes and their CRC-16 (big-endian)."""
    if len(random_bytes) != RANDOM_SIZE:
        raise ValueError(f"an activation code encodes {RANDOM_SIZE} random bytes")
    return random_bytes + crc16_arc(random_bytes).to_bytes(2, "big")


def generate_activation_code(random_bytes: bytes | None = None) -> str:
    """Make a code ``XXXXX-XXXXX-XXXXX-XXXXX`` from 10 (random) bytes."""
    data = code_bytes(
        random_bytes if random_bytes is not None else secrets.token_bytes(RANDOM_SIZE)
    )
    return _format_groups(base64.b32encode(data).decode("ascii")[:CODE_CHARS])


def _decode_code(code: str) -> bytes | None:
    """Return the 12 bytes behind a well-formed code, or None when it is not one."""
    if not _CODE_RE.fullmatch(code):
        return None
    try:
        data = base64.b32decode(code.replace("-", "") + _BASE32_PADDING)
    except binascii.Error:
        return None
    return data if len(data) == CODE_BYTES_SIZE else None


def validate_activation_code(code: str) -> bool:
    """Check format and CRC exactly as the reference ``validateActivationCode``."""
    data = _decode_code(code)
    return data is not None and crc16_arc(data[:RANDOM_SIZE]) == int.from_bytes(data[10:], "big")


def normalize_activation_code(text: str) -> str:
    """Forgive what people type: spaces, lower case, ``0`` for O, ``1`` for I.

    Twenty characters without dashes get their dashes back.
    """
    code = "".join(text.split()).upper().replace("0", "O").replace("1", "I")
    if len(code) == CODE_CHARS and "-" not in code:
        code = _format_groups(code)
    return code


@dataclass(frozen=True, slots=True)
class ActivationCode:
    """A parsed activation code and the optional signature from its QR code."""

    code: str
    signature: bytes | None = None


def _parse_signature(text: str) -> bytes:
    try:
        signature = b64decode(text)
    except ValueError as err:
        raise InvalidActivationCodeError(
            "The part after '#' is not a valid signature; scan the QR code again "
            "or type only the 23-character code"
        ) from err
    if not signature:
        raise InvalidActivationCodeError(
            "The signature after '#' is empty; type only the 23-character code"
        )
    return signature


def parse_activation_code(text: str) -> ActivationCode:
    """Read a typed or scanned code (``CODE`` or ``CODE#SIGNATURE``).

    Raise InvalidActivationCodeError saying what to fix: a recovery code,
    a wrong length or character, a checksum mismatch (a typo), or a
    signature that is not Base64.
    """
    stripped = text.strip()
    if stripped.upper().startswith(RECOVERY_PREFIX):
        raise InvalidActivationCodeError(
            "This is a recovery code: recovery codes are not supported; "
            "ask your bank for a new activation code"
        )
    code_text, separator, signature_text = stripped.partition(SIGNATURE_SEPARATOR)
    code = normalize_activation_code(code_text)
    signature = _parse_signature(signature_text) if separator else None
    if not _CODE_RE.fullmatch(code):
        raise InvalidActivationCodeError(
            f"An activation code has four groups of five letters A-Z or digits 2-7, "
            f"like {EXAMPLE_CODE}; check what you typed"
        )
    if not validate_activation_code(code):
        raise InvalidActivationCodeError(
            "The activation code has a typo (its checksum does not match); check each character"
        )
    return ActivationCode(code=code, signature=signature)


def verify_activation_code_signature(master_public_key: bytes, code: str, signature: bytes) -> bool:
    """Check the QR signature: DER ECDSA of the ASCII code by the master server key."""
    return verify_server_signed_data(master_public_key, code.encode("ascii"), signature)


def sign_activation_code(master_private: ec.EllipticCurvePrivateKey, code: str) -> bytes:
    """Server side: the DER signature a QR code carries after ``#``."""
    return ecdsa_sign_der(master_private, code.encode("ascii"))


def _recovery_material(secret_key: bytes, nonce: bytes) -> bytes:
    return x963_kdf_sha256(secret_key, nonce, RECOVERY_DERIVED_SIZE)


def derive_recovery_code(secret_key: bytes, nonce: bytes) -> str:
    """Server side: recovery code from ``X9.63-KDF(secret, nonce, 26)[0:10]``."""
    return generate_activation_code(_recovery_material(secret_key, nonce)[:RANDOM_SIZE])


def derive_recovery_puk(secret_key: bytes, nonce: bytes, derivation_index: bytes) -> str:
    """Server side: the 10-digit PUK for an 8-byte derivation index.

    The reference passes the 8 index bytes to AES-CBC-PKCS7 with a zero IV
    under ``d[10:26]``, so the block is ``index || 08×8``.
    """
    if len(derivation_index) != len(_PKCS7_BLOCK_OF_EIGHT):
        raise ValueError("a PUK derivation index has 8 bytes")
    base_key = _recovery_material(secret_key, nonce)[_PUK_BASE_KEY]
    encryptor = Cipher(algorithms.AES(base_key), modes.ECB()).encryptor()  # noqa: S305 - one block
    block = encryptor.update(derivation_index + _PKCS7_BLOCK_OF_EIGHT) + encryptor.finalize()
    value = int.from_bytes(block[8:16], "big") & _PUK_MASK
    return str(value % 10**PUK_DIGITS).zfill(PUK_DIGITS)
