"""Post-quantum primitives (ML-KEM, ML-DSA) where the installed ``cryptography`` has them.

``cryptography`` gained ML-KEM and ML-DSA after the version Home Assistant
2025.4 pins (44.0). Rather than a second, pure-Python implementation, the
hybrid 4.0 suites are offered only where these primitives exist; the
classical ``EC_P384`` suite works everywhere. Callers ask :func:`available`
first and get :class:`PostQuantumUnavailableError` (with a message a user can
act on) when they do not.
"""

import importlib
from functools import cache
from types import ModuleType
from typing import Any, Final

from cryptography.hazmat.primitives import serialization

from .errors import MobileTokenError

_MLKEM_MODULE: Final = "cryptography.hazmat.primitives.asymmetric.mlkem"
_MLDSA_MODULE: Final = "cryptography.hazmat.primitives.asymmetric.mldsa"


class PostQuantumUnavailableError(MobileTokenError):
    """The installed ``cryptography`` has no ML-KEM / ML-DSA.

    A library error, so callers show it like any other (a hybrid activation
    moved to an older Home Assistant ends up here).
    """

    def __init__(self) -> None:
        super().__init__(
            "This installation's cryptography library has no ML-KEM/ML-DSA; "
            "only the EC_P384 suite of protocol 4.0 is available (update Home Assistant)"
        )


@cache
def _module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def available() -> bool:
    """Whether ML-KEM and ML-DSA can be used here."""
    return _module(_MLKEM_MODULE) is not None and _module(_MLDSA_MODULE) is not None


def _require(name: str) -> ModuleType:
    module = _module(name)
    if module is None:
        raise PostQuantumUnavailableError
    return module


def mlkem_generate(level: int) -> Any:
    """A new ML-KEM private key, ``level`` 768 or 1024."""
    return getattr(_require(_MLKEM_MODULE), f"MLKEM{level}PrivateKey").generate()


def mlkem_from_seed(level: int, seed: bytes) -> Any:
    """An ML-KEM private key from its 64-byte seed ``d || z``."""
    return getattr(_require(_MLKEM_MODULE), f"MLKEM{level}PrivateKey").from_seed_bytes(seed)


def mlkem_public_spki(private_key: Any) -> bytes:
    """The encapsulation key as DER SubjectPublicKeyInfo, as 4.0 sends it."""
    data: bytes = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return data


def mlkem_decapsulate(private_key: Any, ciphertext: bytes) -> bytes:
    """The 32-byte shared secret of a ciphertext."""
    secret: bytes = private_key.decapsulate(ciphertext)
    return secret


def mlkem_encapsulate(level: int, public_spki: bytes) -> tuple[bytes, bytes]:
    """Server side: ``(shared secret, ciphertext)`` for an SPKI encapsulation key."""
    _require(_MLKEM_MODULE)
    key: Any = serialization.load_der_public_key(public_spki)
    expected = getattr(_require(_MLKEM_MODULE), f"MLKEM{level}PublicKey")
    if not isinstance(key, expected):
        raise ValueError(f"not an ML-KEM-{level} encapsulation key")
    secret, ciphertext = key.encapsulate()
    return bytes(secret), bytes(ciphertext)


def mldsa_generate(level: int) -> Any:
    """A new ML-DSA private key, ``level`` 65 or 87."""
    return getattr(_require(_MLDSA_MODULE), f"MLDSA{level}PrivateKey").generate()


def mldsa_public_spki(private_key: Any) -> bytes:
    """The ML-DSA public key as DER SubjectPublicKeyInfo."""
    data: bytes = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return data


def mldsa_sign(private_key: Any, data: bytes) -> bytes:
    """An ML-DSA signature (empty context)."""
    signature: bytes = private_key.sign(data)
    return signature


def mldsa_verify(level: int, public_spki: bytes, data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is a valid ML-DSA signature of ``data``."""
    _require(_MLDSA_MODULE)
    try:
        key: Any = serialization.load_der_public_key(public_spki)
    except ValueError:
        return False
    if not isinstance(key, getattr(_require(_MLDSA_MODULE), f"MLDSA{level}PublicKey")):
        return False
    try:
        key.verify(signature, data)
    except Exception:
        return False
    return True


def mldsa_from_seed(level: int, seed: bytes) -> Any:
    """An ML-DSA private key from its 32-byte seed."""
    return getattr(_require(_MLDSA_MODULE), f"MLDSA{level}PrivateKey").from_seed_bytes(seed)


def mldsa_seed(private_key: Any) -> bytes:
    """The 32-byte seed an ML-DSA key is stored as."""
    seed: bytes = private_key.private_bytes_raw()
    return seed
