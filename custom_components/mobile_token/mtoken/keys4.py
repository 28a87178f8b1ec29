"""Protocol 4.0 signing keys: ECDSA P-384 (+ ML-DSA) and the activation fingerprint.

Protocol 4.0 notes, sections 2 and 9. Devices and servers each hold an ECDSA
P-384 key and, for the hybrid suites, an ML-DSA key; server data (JWTs,
offline QR codes) is signed with SHA-384 ECDSA and, in hybrid suites, also
with ML-DSA, and both signatures must verify.
"""

from dataclasses import dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from . import pq
from .encoding import b64decode, b64encode
from .kmac import sha3_256
from .shared_secret import Algorithm

P384_POINT_SIZE: Final = 97
P384_COORDINATE_SIZE: Final = 48
RAW_SIGNATURE_SIZE: Final = 2 * P384_COORDINATE_SIZE
FINGERPRINT_DIGITS: Final = 8


def generate_ecdsa_key() -> ec.EllipticCurvePrivateKey:
    """A new P-384 key."""
    return ec.generate_private_key(ec.SECP384R1())


def ecdsa_public_bytes(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> bytes:
    """The 97-byte uncompressed point 4.0 sends."""
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def load_ecdsa_public(data: bytes) -> ec.EllipticCurvePublicKey:
    """A P-384 point; ValueError when it is not one."""
    if len(data) != P384_POINT_SIZE:
        raise ValueError("a P-384 public key has 97 bytes")
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP384R1(), data)


def ecdsa_private_bytes(key: ec.EllipticCurvePrivateKey) -> bytes:
    """The private scalar, 48 bytes big-endian (for storage)."""
    return key.private_numbers().private_value.to_bytes(P384_COORDINATE_SIZE, "big")


def load_ecdsa_private(data: bytes) -> ec.EllipticCurvePrivateKey:
    """A P-384 private key from its 48-byte scalar."""
    return ec.derive_private_key(int.from_bytes(data, "big"), ec.SECP384R1())


def ecdsa_sign_der(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """ECDSA P-384 / SHA-384, DER (``SHA384withECDSA``)."""
    return key.sign(data, ec.ECDSA(hashes.SHA384()))


def ecdsa_verify_der(public: bytes, data: bytes, signature: bytes) -> bool:
    """Verify a DER ECDSA P-384 / SHA-384 signature; anything malformed is invalid."""
    try:
        load_ecdsa_public(public).verify(signature, data, ec.ECDSA(hashes.SHA384()))
    except (ValueError, InvalidSignature):
        return False
    return True


def ecdsa_sign_raw(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """ES384 (JOSE): raw ``r || s``, 96 bytes."""
    r, s = decode_dss_signature(ecdsa_sign_der(key, data))
    return r.to_bytes(P384_COORDINATE_SIZE, "big") + s.to_bytes(P384_COORDINATE_SIZE, "big")


def ecdsa_verify_raw(public: bytes, data: bytes, signature: bytes) -> bool:
    """Verify an ES384 raw ``r || s`` signature."""
    if len(signature) != RAW_SIGNATURE_SIZE:
        return False
    r = int.from_bytes(signature[:P384_COORDINATE_SIZE], "big")
    s = int.from_bytes(signature[P384_COORDINATE_SIZE:], "big")
    if r == 0 or s == 0:
        return False
    return ecdsa_verify_der(public, data, encode_dss_signature(r, s))


@dataclass(frozen=True, slots=True)
class PublicKeys:
    """One side's 4.0 public keys: the P-384 point and, in hybrid suites, ML-DSA SPKI."""

    ecdsa: bytes
    mldsa: bytes | None = None

    def to_json(self) -> dict[str, str]:
        """``devicePublicKeys`` / ``serverPublicKeys`` as the protocol sends them."""
        out = {"ecdsa": b64encode(self.ecdsa)}
        if self.mldsa is not None:
            out["mldsa"] = b64encode(self.mldsa)
        return out

    @classmethod
    def from_json(cls, value: Any, algorithm: Algorithm) -> "PublicKeys":
        """Read and check the keys a suite needs; ValueError when they do not fit."""
        if not isinstance(value, dict) or not isinstance(value.get("ecdsa"), str):
            raise ValueError("the public keys lack the ECDSA key")
        ecdsa = b64decode(value["ecdsa"])
        load_ecdsa_public(ecdsa)
        mldsa = None
        if algorithm.mldsa_level is not None:
            if not isinstance(value.get("mldsa"), str):
                raise ValueError(f"{algorithm} needs an ML-DSA public key")
            mldsa = b64decode(value["mldsa"])
        return cls(ecdsa, mldsa)


@dataclass(frozen=True, slots=True)
class SigningKeys:
    """A private P-384 key and, in hybrid suites, an ML-DSA key."""

    ecdsa: ec.EllipticCurvePrivateKey
    mldsa: Any = None

    @classmethod
    def generate(cls, algorithm: Algorithm) -> "SigningKeys":
        """New keys for ``algorithm``."""
        level = algorithm.mldsa_level
        return cls(generate_ecdsa_key(), pq.mldsa_generate(level) if level else None)

    @property
    def public(self) -> PublicKeys:
        """The public halves."""
        mldsa = pq.mldsa_public_spki(self.mldsa) if self.mldsa is not None else None
        return PublicKeys(ecdsa_public_bytes(self.ecdsa), mldsa)


def activation_fingerprint(
    algorithm: Algorithm, device: PublicKeys, activation_id: str, server: PublicKeys
) -> str:
    """Eight digits both sides can compare.

    ``SHA3-256(algorithm || device keys || activation id || server keys)``,
    reduced like the 3.x fingerprint. The documents leave the keys'
    "normalized form" open; here the EC keys enter as their 97-byte points and
    ML-DSA keys as the SPKI bytes that travel (see ``docs/protocol-4.md``).
    """
    parts = [algorithm.value.encode("ascii"), device.ecdsa]
    if device.mldsa is not None:
        parts.append(device.mldsa)
    parts += [activation_id.encode("utf-8"), server.ecdsa]
    if server.mldsa is not None:
        parts.append(server.mldsa)
    digest = sha3_256(b"".join(parts))
    value = int.from_bytes(digest[-4:], "big") & 0x7FFFFFFF
    return str(value % 10**FINGERPRINT_DIGITS).zfill(FINGERPRINT_DIGITS)


def verify_hybrid(
    keys: PublicKeys, algorithm: Algorithm, data: bytes, ecdsa_der: bytes, mldsa: bytes | None
) -> bool:
    """Both signatures of a hybrid suite (only ECDSA for ``EC_P384``) must verify."""
    if not ecdsa_verify_der(keys.ecdsa, data, ecdsa_der):
        return False
    level = algorithm.mldsa_level
    if level is None:
        return True
    if mldsa is None or keys.mldsa is None:
        return False
    return pq.mldsa_verify(level, keys.mldsa, data, mldsa)
