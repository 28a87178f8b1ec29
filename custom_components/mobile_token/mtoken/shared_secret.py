"""The 4.0 shared secret: HPKE DHKEM(P-384) and optionally ML-KEM, salted KMAC combiner.

Protocol 4.0 notes, section 4 (reference ``Shared-Secret-Derivation.md``,
Java ``DhKem`` and ``DefaultSharedSecret``). Activation, temporary keys, the
upgrade and factor-key changes all run this one exchange: the client sends
one encapsulation key per KEM, the server answers with a ciphertext per KEM
and a random salt, and both combine the per-KEM secrets with KMAC under the
salt. The DHKEM secret is an HPKE *export* (label ``DHKEM-P384``, 48 bytes),
not the raw ECDH value.
"""

import enum
import hashlib
import hmac
import secrets
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from . import pq
from .encoding import b64decode, b64encode, cws
from .kmac import kmac256

SALT_SIZE: Final = 32
SECRET_SIZE: Final = 32
P384_POINT_SIZE: Final = 97
_DHKEM_SECRET_SIZE: Final = 48
_KEM_ID: Final = 0x0011
_KDF_ID: Final = 0x0002
_EXPORT_ONLY_AEAD: Final = 0xFFFF
_EXPORT_LABEL: Final = b"DHKEM-P384"
_COMBINER_CUSTOM: Final = b"KDF"
_COMBINER_VERSION: Final = b"4.0"
_HPKE_VERSION: Final = b"HPKE-v1"
_KEM_SUITE: Final = b"KEM" + struct.pack(">H", _KEM_ID)
_HPKE_SUITE: Final = b"HPKE" + struct.pack(">HHH", _KEM_ID, _KDF_ID, _EXPORT_ONLY_AEAD)


class Algorithm(enum.StrEnum):
    """4.0 algorithm suites a client can offer (request field ``algorithm``)."""

    EC_P384 = "EC_P384"
    EC_P384_ML_L3 = "EC_P384_ML_L3"
    EC_P384_ML_L5 = "EC_P384_ML_L5"

    @property
    def mlkem_level(self) -> int | None:
        """The ML-KEM parameter set of a hybrid suite."""
        return {"EC_P384_ML_L3": 768, "EC_P384_ML_L5": 1024}.get(self.value)

    @property
    def mldsa_level(self) -> int | None:
        """The ML-DSA parameter set of a hybrid suite."""
        return {"EC_P384_ML_L3": 65, "EC_P384_ML_L5": 87}.get(self.value)

    @property
    def usable_here(self) -> bool:
        """Whether this Python can run the suite (hybrids need ML-KEM and ML-DSA)."""
        return self.mlkem_level is None or pq.available()


#: The suites in order of preference: the recommended level 3 hybrid first.
PREFERENCE: Final = (Algorithm.EC_P384_ML_L3, Algorithm.EC_P384_ML_L5, Algorithm.EC_P384)


def choose_algorithm(offered: Sequence[str]) -> Algorithm | None:
    """The preferred suite the server offers and this Python can run, or None."""
    for algorithm in PREFERENCE:
        if algorithm.value in offered and algorithm.usable_here:
            return algorithm
    return None


# --- HPKE (RFC 9180) pieces, HKDF-SHA384 -------------------------------------------------------


def _hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt, ikm, hashlib.sha384).digest()


def _hkdf_expand(prk: bytes, info: bytes, length: int) -> bytes:
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha384).digest()
        out += block
        counter += 1
    return out[:length]


def _labeled_extract(suite: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return _hkdf_extract(salt, _HPKE_VERSION + suite + label + ikm)


def _labeled_expand(suite: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    labeled = struct.pack(">H", length) + _HPKE_VERSION + suite + label + info
    return _hkdf_expand(prk, labeled, length)


def _dhkem_export(dh: bytes, enc: bytes, recipient_public: bytes) -> bytes:
    """DHKEM shared secret, then the base-mode key schedule and ``Export("DHKEM-P384", 48)``."""
    eae_prk = _labeled_extract(_KEM_SUITE, b"", b"eae_prk", dh)
    kem_secret = _labeled_expand(
        _KEM_SUITE, eae_prk, b"shared_secret", enc + recipient_public, _DHKEM_SECRET_SIZE
    )
    psk_id_hash = _labeled_extract(_HPKE_SUITE, b"", b"psk_id_hash", b"")
    info_hash = _labeled_extract(_HPKE_SUITE, b"", b"info_hash", _EXPORT_LABEL)
    context = b"\x00" + psk_id_hash + info_hash
    secret = _labeled_extract(_HPKE_SUITE, kem_secret, b"secret", b"")
    exporter = _labeled_expand(_HPKE_SUITE, secret, b"exp", context, hashlib.sha384().digest_size)
    return _labeled_expand(_HPKE_SUITE, exporter, b"sec", _EXPORT_LABEL, _DHKEM_SECRET_SIZE)


def _p384_point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def _load_p384_point(data: bytes) -> ec.EllipticCurvePublicKey:
    if len(data) != P384_POINT_SIZE:
        raise ValueError("a P-384 public key has 97 bytes")
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP384R1(), data)


def combine(salt: bytes, algorithm: Algorithm, kem_secrets: Sequence[bytes]) -> bytes:
    """``KMAC256(salt, BE32(1) || cws(Z...) || cws(label, "4.0"), 32, "KDF")``."""
    label = f"shared-secret/{algorithm.value}".encode("ascii")
    data = struct.pack(">I", 1) + cws(*kem_secrets) + cws(label, _COMBINER_VERSION)
    return kmac256(salt, data, _COMBINER_CUSTOM, SECRET_SIZE)


# --- the exchange -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SharedSecretResponse:
    """What the server answers: the salt and one encapsulated key per KEM."""

    salt: bytes
    encapsulated_keys: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        """The ``sharedSecretResponse`` object."""
        return {
            "salt": b64encode(self.salt),
            "encapsulatedKeys": [b64encode(key) for key in self.encapsulated_keys],
        }

    @classmethod
    def from_json(cls, value: Any) -> "SharedSecretResponse":
        """Read a ``sharedSecretResponse`` object; ValueError when malformed."""
        if not isinstance(value, dict):
            raise ValueError("sharedSecretResponse is not an object")
        salt, keys = value.get("salt"), value.get("encapsulatedKeys")
        if not isinstance(salt, str) or not isinstance(keys, list):
            raise ValueError("sharedSecretResponse lacks salt or encapsulatedKeys")
        if not all(isinstance(key, str) for key in keys):
            raise ValueError("encapsulatedKeys holds a value that is not text")
        return cls(b64decode(salt, length=SALT_SIZE), tuple(b64decode(key) for key in keys))


class ClientContext:
    """The client's private half of one exchange, kept until the response arrives."""

    def __init__(self, algorithm: Algorithm) -> None:
        if not algorithm.usable_here:
            raise pq.PostQuantumUnavailableError
        self.algorithm = algorithm
        self._ec_key = ec.generate_private_key(ec.SECP384R1())
        self._mlkem_key = (
            pq.mlkem_generate(algorithm.mlkem_level) if algorithm.mlkem_level else None
        )

    def encapsulation_keys(self) -> list[bytes]:
        """One key per KEM in suite order: the P-384 point, then the ML-KEM SPKI."""
        keys = [_p384_point(self._ec_key.public_key())]
        if self._mlkem_key is not None:
            keys.append(pq.mlkem_public_spki(self._mlkem_key))
        return keys

    def request_json(self) -> dict[str, Any]:
        """The ``sharedSecretRequest`` object."""
        return {
            "algorithm": self.algorithm.value,
            "encapsulationKeys": [b64encode(key) for key in self.encapsulation_keys()],
        }

    def derive(self, response: SharedSecretResponse) -> bytes:
        """The 32-byte shared secret; ValueError when the response does not fit the request."""
        expected = 2 if self._mlkem_key is not None else 1
        if len(response.encapsulated_keys) != expected:
            raise ValueError(f"{self.algorithm} needs {expected} encapsulated keys")
        enc = response.encapsulated_keys[0]
        dh = self._ec_key.exchange(ec.ECDH(), _load_p384_point(enc))
        kem_secrets = [_dhkem_export(dh, enc, _p384_point(self._ec_key.public_key()))]
        if self._mlkem_key is not None:
            kem_secrets.append(pq.mlkem_decapsulate(self._mlkem_key, response.encapsulated_keys[1]))
        return combine(response.salt, self.algorithm, kem_secrets)


def parse_request(value: Any) -> tuple[Algorithm, list[bytes]]:
    """Server side: the suite and the encapsulation keys of a ``sharedSecretRequest``."""
    if not isinstance(value, dict):
        raise ValueError("sharedSecretRequest is not an object")
    try:
        algorithm = Algorithm(str(value.get("algorithm")))
    except ValueError as err:
        raise ValueError("unsupported algorithm") from err
    keys = value.get("encapsulationKeys")
    expected = 2 if algorithm.mlkem_level else 1
    if not isinstance(keys, list) or len(keys) != expected:
        raise ValueError(f"{algorithm} needs {expected} encapsulation keys")
    if not all(isinstance(key, str) for key in keys):
        raise ValueError("encapsulationKeys holds a value that is not text")
    return algorithm, [b64decode(key) for key in keys]


def server_respond(
    algorithm: Algorithm, encapsulation_keys: Sequence[bytes]
) -> tuple[bytes, SharedSecretResponse]:
    """Server side: encapsulate to every key, pick a salt, return ``(secret, response)``."""
    recipient = encapsulation_keys[0]
    ephemeral = ec.generate_private_key(ec.SECP384R1())
    enc = _p384_point(ephemeral.public_key())
    dh = ephemeral.exchange(ec.ECDH(), _load_p384_point(recipient))
    kem_secrets = [_dhkem_export(dh, enc, recipient)]
    encapsulated = [enc]
    if algorithm.mlkem_level:
        secret, ciphertext = pq.mlkem_encapsulate(algorithm.mlkem_level, encapsulation_keys[1])
        kem_secrets.append(secret)
        encapsulated.append(ciphertext)
    salt = secrets.token_bytes(SALT_SIZE)
    return combine(salt, algorithm, kem_secrets), SharedSecretResponse(salt, tuple(encapsulated))
