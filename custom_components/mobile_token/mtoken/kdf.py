"""Key derivation: KDF, KDF_INTERNAL, X9.63 and the activation's derived keys.

See the protocol notes, notation and section 2 ("Create"), and traps 1 and 2:
KDF puts eight zero bytes before BE64(index); KDF_INTERNAL keys the HMAC with
the master key.
"""

import hashlib
import hmac
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .encoding import be64

INDEX_POSSESSION = 1
INDEX_KNOWLEDGE = 2
INDEX_BIOMETRY = 3
INDEX_TRANSPORT = 1000
INDEX_VAULT = 2000
INDEX_STATUS_BLOB_IV = 3000
INDEX_COUNTER_HASH = 4000


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    """HMAC-SHA256, the MAC behind every PowerAuth primitive."""
    return hmac.new(key, data, hashlib.sha256).digest()


def fold(data: bytes) -> bytes:
    """XOR the two 16-byte halves of a 32-byte value."""
    if len(data) != 32:
        raise ValueError("fold needs 32 bytes")
    return bytes(a ^ b for a, b in zip(data[:16], data[16:], strict=True))


def kdf(key: bytes, index: int) -> bytes:
    """KDF(K, i): AES-128 of 00x8 || BE64(i) under K (one ECB block)."""
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305 - one block by design
    return encryptor.update(bytes(8) + be64(index)) + encryptor.finalize()


def kdf_internal(key: bytes, data: bytes) -> bytes:
    """KDF_INTERNAL(K, x) = fold(HMAC-SHA256(key=K, data=x))."""
    return fold(hmac_sha256(key, data))


def x963_kdf_sha256(secret: bytes, info: bytes, length: int) -> bytes:
    """ANSI X9.63 KDF with SHA-256, as ECIES derives its envelope key."""
    out = bytearray()
    counter = 1
    while len(out) < length:
        out += hashlib.sha256(secret + counter.to_bytes(4, "big") + info).digest()
        counter += 1
    return bytes(out[:length])


@dataclass(frozen=True, slots=True)
class DerivedKeys:
    """Keys an activation derives from KEY_MASTER_SECRET (protocol section 2, step 7)."""

    possession: bytes
    knowledge: bytes
    biometry: bytes
    transport: bytes
    vault: bytes


def derive_keys(master_secret: bytes) -> DerivedKeys:
    """Derive the signature, transport and vault keys from the master secret."""
    return DerivedKeys(
        possession=kdf(master_secret, INDEX_POSSESSION),
        knowledge=kdf(master_secret, INDEX_KNOWLEDGE),
        biometry=kdf(master_secret, INDEX_BIOMETRY),
        transport=kdf(master_secret, INDEX_TRANSPORT),
        vault=kdf(master_secret, INDEX_VAULT),
    )


def status_blob_iv_key(transport_key: bytes) -> bytes:
    """Key for the status blob IV: KDF(transport, 3000)."""
    return kdf(transport_key, INDEX_STATUS_BLOB_IV)


def counter_hash_key(transport_key: bytes) -> bytes:
    """Key for ctr_data_hash in the status blob: KDF(transport, 4000)."""
    return kdf(transport_key, INDEX_COUNTER_HASH)
