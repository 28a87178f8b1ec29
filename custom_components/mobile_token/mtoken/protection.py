"""Local protection of factor keys and the secure vault.

Protocol notes section 3 and section 9 ("Vault unlock"):

- The knowledge key is stored as ``AES-128-CBC-NoPadding(K_pin, IV 0, key)``
  with ``K_pin = PBKDF2-HMAC-SHA1(PIN, salt, 10 000, 16 B)``. No padding and
  no check value: a wrong PIN yields a wrong key that only the server can
  detect, so a stolen store gives no offline PIN oracle.
- The device private key is stored ``AES-CBC-PKCS7(vaultKey, IV 0, priv)``;
  the vault key comes from ``/pa/v3/vault/unlock`` encrypted the same way
  under KEY_TRANSPORT.

PBKDF2 takes milliseconds: callers run it off the event loop.
"""

import hashlib
from typing import Final

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PBKDF2_ITERATIONS: Final = 10_000
SALT_SIZE: Final = 16
KEY_SIZE: Final = 16
MIN_PIN_LENGTH: Final = 4

_ZERO_IV: Final = bytes(16)
_AES_BLOCK_BITS: Final = 128
_AES_BLOCK_SIZE: Final = 16


def derive_pin_key(pin: str, salt: bytes, *, iterations: int = PBKDF2_ITERATIONS) -> bytes:
    """``PBKDF2-HMAC-SHA1(PIN as UTF-8, salt, iterations, 16 bytes)``."""
    if len(salt) != SALT_SIZE:
        raise ValueError(f"the PIN salt must be {SALT_SIZE} bytes")
    return hashlib.pbkdf2_hmac("sha1", pin.encode("utf-8"), salt, iterations, KEY_SIZE)


def _cipher(key: bytes) -> Cipher[modes.CBC]:
    return Cipher(algorithms.AES(key), modes.CBC(_ZERO_IV))


def _encrypt_raw(key: bytes, data: bytes) -> bytes:
    encryptor = _cipher(key).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def _decrypt_raw(key: bytes, data: bytes) -> bytes:
    if not data or len(data) % _AES_BLOCK_SIZE:
        raise ValueError("the ciphertext is not whole AES blocks")
    decryptor = _cipher(key).decryptor()
    return decryptor.update(data) + decryptor.finalize()


def _encrypt_padded(key: bytes, data: bytes) -> bytes:
    padder = padding.PKCS7(_AES_BLOCK_BITS).padder()
    return _encrypt_raw(key, padder.update(data) + padder.finalize())


def _decrypt_padded(key: bytes, data: bytes) -> bytes:
    unpadder = padding.PKCS7(_AES_BLOCK_BITS).unpadder()
    try:
        return unpadder.update(_decrypt_raw(key, data)) + unpadder.finalize()
    except ValueError as err:
        raise ValueError("the key does not decrypt this data (bad padding)") from err


def encrypt_knowledge_key(pin_key: bytes, knowledge_key: bytes) -> bytes:
    """Store form of the knowledge key: AES-128-CBC, zero IV, no padding."""
    if len(knowledge_key) != KEY_SIZE:
        raise ValueError(f"the knowledge key must be {KEY_SIZE} bytes")
    return _encrypt_raw(pin_key, knowledge_key)


def decrypt_knowledge_key(pin_key: bytes, encrypted: bytes) -> bytes:
    """Recover the knowledge key; a wrong PIN gives a wrong key, never an error."""
    if len(encrypted) != KEY_SIZE:
        raise ValueError(f"the encrypted knowledge key must be {KEY_SIZE} bytes")
    return _decrypt_raw(pin_key, encrypted)


def encrypt_device_private_key(vault_key: bytes, private_key_bytes: bytes) -> bytes:
    """Store form of the device private key: AES-CBC-PKCS7 under the vault key."""
    return _encrypt_padded(vault_key, private_key_bytes)


def decrypt_device_private_key(vault_key: bytes, encrypted: bytes) -> bytes:
    """Recover the device private key bytes (Java signed form possible: 31-33 B)."""
    return _decrypt_padded(vault_key, encrypted)


def encrypt_vault_key(transport_key: bytes, vault_key: bytes) -> bytes:
    """Server side: ``encryptedVaultEncryptionKey`` = AES-CBC-PKCS7(T, IV 0, vault key)."""
    return _encrypt_padded(transport_key, vault_key)


def decrypt_vault_key(transport_key: bytes, encrypted: bytes) -> bytes:
    """Recover the vault key from ``encryptedVaultEncryptionKey``."""
    vault_key = _decrypt_padded(transport_key, encrypted)
    if len(vault_key) != KEY_SIZE:
        raise ValueError(f"the vault key must be {KEY_SIZE} bytes")
    return vault_key
