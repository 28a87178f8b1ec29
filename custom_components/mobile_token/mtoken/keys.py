"""P-256 keys: generation, encodings, ECDH, ECDSA and the activation fingerprint.

Everything asymmetric in PowerAuth 3.x lives on NIST P-256 (protocol notes,
section 2 "Create" and section 5). The reference Java library serialises
private keys as signed big integers (31-33 bytes), public keys as SEC1 points
(uncompressed from the server, compressed from the mobile SDK), ECDSA
signatures as DER, and JWTs use the raw JOSE ``r || s`` form; this module
is the one place that converts between them.
"""

import hashlib
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .kdf import fold

CURVE: Final = ec.SECP256R1()
#: Order of the P-256 group (n), the bound for private scalars and ECDSA r, s.
CURVE_ORDER: Final = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
COORDINATE_SIZE: Final = 32
PRIVATE_KEY_SIZE: Final = 32
UNCOMPRESSED_POINT_SIZE: Final = 65
COMPRESSED_POINT_SIZE: Final = 33
RAW_SIGNATURE_SIZE: Final = 64
FINGERPRINT_DIGITS: Final = 8

_UNCOMPRESSED_PREFIX: Final = 0x04
_COMPRESSED_PREFIXES: Final = frozenset({0x02, 0x03})
_JAVA_PRIVATE_KEY_MAX: Final = PRIVATE_KEY_SIZE + 1

type AnyKey = ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey


def generate_private_key() -> ec.EllipticCurvePrivateKey:
    """Create a fresh P-256 key pair (the device key, an ECIES ephemeral key)."""
    return ec.generate_private_key(CURVE)


def _as_public(key: AnyKey) -> ec.EllipticCurvePublicKey:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.public_key()
    return key


def public_key_bytes(key: AnyKey, *, compressed: bool = False) -> bytes:
    """SEC1 encoding of a public key: 65 B ``04||X||Y`` or 33 B compressed."""
    point_format = PublicFormat.CompressedPoint if compressed else PublicFormat.UncompressedPoint
    return _as_public(key).public_bytes(Encoding.X962, point_format)


def load_public_key(data: bytes) -> ec.EllipticCurvePublicKey:
    """Decode a SEC1 P-256 point (compressed or uncompressed).

    Raise ValueError when the bytes are not a point on the curve, so a
    tampered configuration or server response never reaches ECDH.
    """
    size_ok = (len(data) == UNCOMPRESSED_POINT_SIZE and data[0] == _UNCOMPRESSED_PREFIX) or (
        len(data) == COMPRESSED_POINT_SIZE and data[0] in _COMPRESSED_PREFIXES
    )
    if not size_ok:
        raise ValueError("not a SEC1-encoded P-256 public key (expected 33 or 65 bytes)")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(CURVE, data)
    except ValueError as err:
        raise ValueError("the public key is not a point on P-256") from err


def private_key_bytes(key: ec.EllipticCurvePrivateKey) -> bytes:
    """Return the private scalar as 32 bytes big-endian."""
    return key.private_numbers().private_value.to_bytes(PRIVATE_KEY_SIZE, "big")


def load_private_key(data: bytes) -> ec.EllipticCurvePrivateKey:
    """Load a private scalar given big-endian.

    Accepts 32-byte keys and Java's ``BigInteger.toByteArray()`` form (a
    leading 0x00 when the top bit is set, fewer bytes when the scalar is
    small), as the reference vectors and servers store them.
    """
    if not 0 < len(data) <= _JAVA_PRIVATE_KEY_MAX:
        raise ValueError("a P-256 private key has at most 33 bytes")
    if len(data) == _JAVA_PRIVATE_KEY_MAX and data[0] != 0:
        raise ValueError("a 33-byte private key must start with a zero sign byte")
    value = int.from_bytes(data, "big")
    if not 0 < value < CURVE_ORDER:
        raise ValueError("the private key is out of range for P-256")
    return ec.derive_private_key(value, CURVE)


def ecdh(private_key: ec.EllipticCurvePrivateKey, public_key: ec.EllipticCurvePublicKey) -> bytes:
    """ECDH on P-256: the shared point's 32-byte X coordinate (not hashed)."""
    return private_key.exchange(ec.ECDH(), public_key)


def master_secret(
    device_private: ec.EllipticCurvePrivateKey, server_public: ec.EllipticCurvePublicKey
) -> bytes:
    """KEY_MASTER_SECRET = fold(ECDH(device, server)), protocol section 2 step 7."""
    return fold(ecdh(device_private, server_public))


def ecdsa_sign_der(private_key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """ECDSA-P256-SHA256 signature in ASN.1 DER, as PowerAuth signs server data."""
    return private_key.sign(data, ec.ECDSA(hashes.SHA256()))


def parse_der_signature(signature: bytes) -> tuple[int, int]:
    """Decode a strict DER ``SEQUENCE{r, s}``; raise ValueError when malformed.

    The reference (BouncyCastle) throws on empty input, raw ``r||s`` and
    trailing bytes; this mirrors it so callers can tell "malformed" apart
    from "does not verify".
    """
    try:
        r, s = decode_dss_signature(signature)
    except ValueError as err:
        raise ValueError("the signature is not a DER-encoded ECDSA signature") from err
    if encode_dss_signature(r, s) != signature:
        raise ValueError("the signature is not canonical DER")
    return r, s


def ecdsa_verify_der(public_key: AnyKey, data: bytes, signature: bytes) -> bool:
    """Verify a DER ECDSA-P256-SHA256 signature; malformed input is just invalid.

    High-S signatures (``s > n/2``) are accepted, as Java/BouncyCastle does.
    """
    try:
        parse_der_signature(signature)
        _as_public(public_key).verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except (ValueError, InvalidSignature):
        return False
    return True


def ecdsa_sign_raw(private_key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """ECDSA signature as JOSE raw ``r || s`` (64 bytes), used by ES256 JWTs (section 5)."""
    r, s = decode_dss_signature(ecdsa_sign_der(private_key, data))
    return r.to_bytes(COORDINATE_SIZE, "big") + s.to_bytes(COORDINATE_SIZE, "big")


def ecdsa_verify_raw(public_key: AnyKey, data: bytes, signature: bytes) -> bool:
    """Verify a JOSE raw ``r || s`` ECDSA-P256-SHA256 signature."""
    if len(signature) != RAW_SIGNATURE_SIZE:
        return False
    r = int.from_bytes(signature[:COORDINATE_SIZE], "big")
    s = int.from_bytes(signature[COORDINATE_SIZE:], "big")
    if not (0 < r < CURVE_ORDER and 0 < s < CURVE_ORDER):
        return False
    return ecdsa_verify_der(public_key, data, encode_dss_signature(r, s))


def verify_server_signed_data(public_key: bytes | AnyKey, data: bytes, signature: bytes) -> bool:
    """Verify data the server signed (activation code, offline QR, legacy data).

    Section 5 and the reference ``SignatureUtils.validateECDSASignature``:
    DER ECDSA-P256-SHA256, high-S accepted; where the reference throws on a
    malformed signature (empty, raw ``r||s``, trailing bytes) this returns
    False, because to a client both mean "not signed by the bank".
    A public key that does not decode raises ValueError: that is a
    configuration error, not a forged signature.
    """
    key = load_public_key(public_key) if isinstance(public_key, bytes) else public_key
    return ecdsa_verify_der(key, data, signature)


def _minimal_x(public_key: bytes) -> bytes:
    """Affine X of a point as minimal unsigned big-endian bytes (BN_bn2bin)."""
    x = load_public_key(public_key).public_numbers().x
    return x.to_bytes((x.bit_length() + 7) // 8, "big")


def _fingerprint_of(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    value = int.from_bytes(digest[-4:], "big") & 0x7FFFFFFF
    return str(value % 10**FINGERPRINT_DIGITS).zfill(FINGERPRINT_DIGITS)


def activation_fingerprint(device_public: bytes, activation_id: str, server_public: bytes) -> str:
    """Compute the 8-digit fingerprint the user compares with the server's (section 2 step 9).

    ``SHA256(X(device) || activationId || X(server))`` truncated, with X in
    minimal big-endian form (31 bytes when the top byte is zero).
    """
    data = _minimal_x(device_public) + activation_id.encode("utf-8") + _minimal_x(server_public)
    return _fingerprint_of(data)


def legacy_fingerprint_v2(device_public: bytes) -> str:
    """PowerAuth 2 fingerprint over X(device) only; kept to read old activations."""
    return _fingerprint_of(_minimal_x(device_public))
