"""ECIES end-to-end encryption of request and response bodies.

Protocol notes section 7 and the reference ``EncryptorFactory`` /
``ClientEciesEncryptor`` / ``ServerEciesEncryptor``. One ephemeral key makes
one envelope (``Kenc``, ``Kmac``, ``Kiv`` from X9.63-KDF over the ECDH X
coordinate) that serves exactly one request and its response. The versions
differ in small ways, all handled here:

- 3.0: zero IV, no nonce, sharedInfo2 = sharedInfo2 base.
- 3.1: request nonce, ``IV = KDF_INTERNAL(Kiv, nonce)``; the response reuses
  the request nonce without sending it.
- 3.2: sharedInfo1 prefixed by the version; request and response carry their
  own nonce and timestamp; sharedInfo2 = cws(base, nonce, ts, ephPub|null, AD).
- 3.3: associated data and the request gain ``temporaryKeyId``.
"""

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .encoding import b64decode, b64encode, be64, cws
from .errors import BadResponseError
from .kdf import hmac_sha256, kdf_internal, x963_kdf_sha256
from .keys import ecdh, generate_private_key, load_public_key, public_key_bytes
from .signature import parse_header_fields, require_field

SH1_APPLICATION_GENERIC: Final = "/pa/generic/application"
SH1_ACTIVATION_LAYER2: Final = "/pa/activation"
SH1_ACTIVATION_GENERIC: Final = "/pa/generic/activation"
SH1_UPGRADE: Final = "/pa/upgrade"
SH1_VAULT_UNLOCK: Final = "/pa/vault/unlock"
SH1_TOKEN_CREATE: Final = "/pa/token/create"
SH1_RECOVERY_CONFIRM: Final = "/pa/recovery/confirm"

ENCRYPTION_HEADER: Final = "X-PowerAuth-Encryption"
ECIES_VERSIONS: Final = ("3.0", "3.1", "3.2", "3.3")
DEFAULT_VERSION: Final = "3.3"
NONCE_SIZE: Final = 16
MAC_SIZE: Final = 32
KEY_PART_SIZE: Final = 16
ENVELOPE_KEY_SIZE: Final = 3 * KEY_PART_SIZE

FIELD_TEMPORARY_KEY_ID: Final = "temporaryKeyId"
FIELD_EPHEMERAL_PUBLIC_KEY: Final = "ephemeralPublicKey"
FIELD_ENCRYPTED_DATA: Final = "encryptedData"
FIELD_MAC: Final = "mac"
FIELD_NONCE: Final = "nonce"
FIELD_TIMESTAMP: Final = "timestamp"

_ZERO_IV: Final = bytes(16)
_AES_BLOCK_BITS: Final = 128


def _check_version(version: str) -> None:
    if version not in ECIES_VERSIONS:
        raise ValueError(f"unsupported ECIES version {version!r}")


def _has_nonce(version: str) -> bool:
    return version != "3.0"


def _has_timestamp(version: str) -> bool:
    """From 3.2 on: versioned sharedInfo1, nonce and timestamp in both directions."""
    return version in ("3.2", "3.3")


def _has_temporary_key(version: str) -> bool:
    return version == "3.3"


def shared_info1(sh1: str, version: str) -> bytes:
    """SharedInfo1 bytes: the SH1 constant, prefixed by the version from 3.2 on."""
    _check_version(version)
    prefix = version if _has_timestamp(version) else ""
    return (prefix + sh1).encode("utf-8")


def sh2_base_application(app_secret_b64: str) -> bytes:
    """Application-scope sharedInfo2 base: ``SHA256(appSecret Base64 text)``."""
    return hashlib.sha256(app_secret_b64.encode("ascii")).digest()


def sh2_base_activation(transport_key: bytes, app_secret_b64: str) -> bytes:
    """Activation-scope sharedInfo2 base: ``HMAC(KEY_TRANSPORT, appSecret text)``."""
    return hmac_sha256(transport_key, app_secret_b64.encode("ascii"))


def associated_data(
    version: str, app_key: str, activation_id: str | None, temporary_key_id: str | None
) -> bytes | None:
    """ECIES associated data: none before 3.2, then cws of the identifying strings.

    ``activation_id`` only in activation scope; ``temporary_key_id`` from 3.3.
    """
    _check_version(version)
    if not _has_timestamp(version):
        return None
    items = [version, app_key]
    if activation_id is not None:
        items.append(activation_id)
    if _has_temporary_key(version):
        if temporary_key_id is None:
            raise ValueError("ECIES 3.3 needs a temporary key id")
        items.append(temporary_key_id)
    return cws(*(item.encode("utf-8") for item in items))


def request_shared_info2(
    version: str,
    sh2_base: bytes,
    *,
    nonce: bytes | None,
    timestamp_ms: int | None,
    ephemeral_public_key: bytes,
    associated: bytes | None,
) -> bytes:
    """SharedInfo2 of a request (the ephemeral key as sent is part of it from 3.2)."""
    return _shared_info2(version, sh2_base, nonce, timestamp_ms, ephemeral_public_key, associated)


def response_shared_info2(
    version: str,
    sh2_base: bytes,
    *,
    nonce: bytes | None,
    timestamp_ms: int | None,
    associated: bytes | None,
) -> bytes:
    """SharedInfo2 of a response (a null item replaces the ephemeral key)."""
    return _shared_info2(version, sh2_base, nonce, timestamp_ms, None, associated)


def _shared_info2(
    version: str,
    sh2_base: bytes,
    nonce: bytes | None,
    timestamp_ms: int | None,
    ephemeral_public_key: bytes | None,
    associated: bytes | None,
) -> bytes:
    _check_version(version)
    if not _has_timestamp(version):
        return sh2_base
    if nonce is None or timestamp_ms is None:
        raise ValueError(f"ECIES {version} needs a nonce and a timestamp")
    return cws(sh2_base, nonce, be64(timestamp_ms), ephemeral_public_key, associated)


@dataclass(frozen=True, slots=True)
class EnvelopeKey:
    """The 48-byte ECIES envelope key, split into its three parts."""

    enc_key: bytes
    mac_key: bytes
    iv_key: bytes

    @classmethod
    def from_bytes(cls, data: bytes) -> "EnvelopeKey":
        """Split ``Kenc || Kmac || Kiv``."""
        if len(data) != ENVELOPE_KEY_SIZE:
            raise ValueError(f"an ECIES envelope key has {ENVELOPE_KEY_SIZE} bytes")
        return cls(data[:16], data[16:32], data[32:48])

    def to_bytes(self) -> bytes:
        """Join the three parts back together."""
        return self.enc_key + self.mac_key + self.iv_key

    def iv_for(self, nonce: bytes | None) -> bytes:
        """Zero IV without a nonce (3.0), else ``KDF_INTERNAL(Kiv, nonce)``."""
        return _ZERO_IV if nonce is None else kdf_internal(self.iv_key, nonce)

    def mac(self, ciphertext: bytes, sh2: bytes) -> bytes:
        """``HMAC(Kmac, ciphertext || sharedInfo2)``."""
        return hmac_sha256(self.mac_key, ciphertext + sh2)

    def seal(self, plaintext: bytes, *, nonce: bytes | None, sh2: bytes) -> tuple[bytes, bytes]:
        """Encrypt (AES-128-CBC-PKCS7) and MAC; return ``(ciphertext, mac)``."""
        padder = padding.PKCS7(_AES_BLOCK_BITS).padder()
        padded = padder.update(plaintext) + padder.finalize()
        encryptor = Cipher(algorithms.AES(self.enc_key), modes.CBC(self.iv_for(nonce))).encryptor()
        ciphertext = encryptor.update(padded) + encryptor.finalize()
        return ciphertext, self.mac(ciphertext, sh2)

    def open(self, ciphertext: bytes, mac: bytes, *, nonce: bytes | None, sh2: bytes) -> bytes:
        """Check the MAC in constant time, then decrypt; ValueError when either fails."""
        if not hmac.compare_digest(self.mac(ciphertext, sh2), mac):
            raise ValueError("invalid ECIES MAC")
        if not ciphertext or len(ciphertext) % KEY_PART_SIZE:
            raise ValueError("the ECIES ciphertext is not whole AES blocks")
        decryptor = Cipher(algorithms.AES(self.enc_key), modes.CBC(self.iv_for(nonce))).decryptor()
        padded = decryptor.update(ciphertext) + decryptor.finalize()
        unpadder = padding.PKCS7(_AES_BLOCK_BITS).unpadder()
        try:
            return unpadder.update(padded) + unpadder.finalize()
        except ValueError as err:
            raise ValueError("invalid ECIES padding") from err


def derive_envelope_key(
    shared_secret: bytes, sh1: str, version: str, ephemeral_public_key: bytes
) -> EnvelopeKey:
    """``X9.63-KDF-SHA256(Z, sharedInfo1 || ephPub as sent, 48)`` (Z not folded)."""
    info = shared_info1(sh1, version) + ephemeral_public_key
    return EnvelopeKey.from_bytes(x963_kdf_sha256(shared_secret, info, ENVELOPE_KEY_SIZE))


@dataclass(frozen=True, slots=True)
class _Context:
    version: str
    sh2_base: bytes
    associated: bytes | None


def _response_payload(ciphertext: bytes, mac: bytes) -> dict[str, Any]:
    return {FIELD_ENCRYPTED_DATA: b64encode(ciphertext), FIELD_MAC: b64encode(mac)}


class EciesResponseDecryptor:
    """Client side: decrypts the one response of an envelope."""

    def __init__(
        self,
        envelope: EnvelopeKey,
        *,
        version: str,
        sh2_base: bytes,
        associated: bytes | None,
        request_nonce: bytes | None,
    ) -> None:
        _check_version(version)
        self.envelope = envelope
        self._context = _Context(version, sh2_base, associated)
        self._request_nonce = request_nonce

    def decrypt_response(self, payload: Mapping[str, Any]) -> bytes:
        """Check and decrypt a response; BadResponseError on bad fields or MAC."""
        context = self._context
        try:
            ciphertext = _b64_field(payload, FIELD_ENCRYPTED_DATA)
            mac = _b64_field(payload, FIELD_MAC, MAC_SIZE)
            if _has_timestamp(context.version):
                nonce: bytes | None = _b64_field(payload, FIELD_NONCE, NONCE_SIZE)
                timestamp: int | None = _int_field(payload, FIELD_TIMESTAMP)
            else:
                nonce, timestamp = self._request_nonce, None
            sh2 = response_shared_info2(
                context.version,
                context.sh2_base,
                nonce=nonce,
                timestamp_ms=timestamp,
                associated=context.associated,
            )
            return self.envelope.open(ciphertext, mac, nonce=nonce, sh2=sh2)
        except ValueError as err:
            raise BadResponseError(f"The server's encrypted answer is not valid: {err}") from err


class EciesResponseEncryptor:
    """Server side: encrypts the one response of a decrypted request's envelope."""

    def __init__(
        self,
        envelope: EnvelopeKey,
        *,
        version: str,
        sh2_base: bytes,
        associated: bytes | None,
        request_nonce: bytes | None,
    ) -> None:
        _check_version(version)
        self.envelope = envelope
        self._context = _Context(version, sh2_base, associated)
        self._request_nonce = request_nonce

    def encrypt_response(
        self, plaintext: bytes, *, timestamp_ms: int | None, nonce: bytes | None = None
    ) -> dict[str, Any]:
        """Encrypt a response: 3.2+ with a fresh nonce and the timestamp, else bare."""
        context = self._context
        if not _has_timestamp(context.version):
            ciphertext, mac = self.envelope.seal(
                plaintext, nonce=self._request_nonce, sh2=context.sh2_base
            )
            return _response_payload(ciphertext, mac)
        if timestamp_ms is None:
            raise ValueError(f"an ECIES {context.version} response needs a timestamp")
        nonce = nonce if nonce is not None else secrets.token_bytes(NONCE_SIZE)
        sh2 = response_shared_info2(
            context.version,
            context.sh2_base,
            nonce=nonce,
            timestamp_ms=timestamp_ms,
            associated=context.associated,
        )
        ciphertext, mac = self.envelope.seal(plaintext, nonce=nonce, sh2=sh2)
        payload = _response_payload(ciphertext, mac)
        payload[FIELD_NONCE] = b64encode(nonce)
        payload[FIELD_TIMESTAMP] = timestamp_ms
        return payload


class EciesEncryptor:
    """Client side: encrypts requests to one recipient public key (section 7).

    Each ``encrypt_request`` makes a new envelope and returns the decryptor
    for its response. Tests may inject the ephemeral key and nonce.
    """

    def __init__(
        self,
        server_public_key_bytes: bytes,
        sh1: str,
        sh2_base: bytes,
        associated_data: bytes | None,
        *,
        version: str = DEFAULT_VERSION,
        compress_ephemeral_key: bool = False,
    ) -> None:
        _check_version(version)
        self._recipient = load_public_key(server_public_key_bytes)
        self._sh1 = sh1
        self._context = _Context(version, sh2_base, associated_data)
        self._compress = compress_ephemeral_key

    def encrypt_request(
        self,
        plaintext: bytes,
        *,
        timestamp_ms: int | None,
        temporary_key_id: str | None,
        nonce: bytes | None = None,
        ephemeral_key: ec.EllipticCurvePrivateKey | None = None,
    ) -> tuple[dict[str, Any], EciesResponseDecryptor]:
        """Encrypt one request; return its JSON payload and the response decryptor."""
        version = self._context.version
        if _has_temporary_key(version) and temporary_key_id is None:
            raise ValueError("ECIES 3.3 requests need the temporary key id")
        ephemeral = ephemeral_key if ephemeral_key is not None else generate_private_key()
        ephemeral_public = public_key_bytes(ephemeral, compressed=self._compress)
        envelope = derive_envelope_key(
            ecdh(ephemeral, self._recipient), self._sh1, version, ephemeral_public
        )
        if _has_nonce(version):
            nonce = nonce if nonce is not None else secrets.token_bytes(NONCE_SIZE)
        else:
            nonce = None
        timestamp = timestamp_ms if _has_timestamp(version) else None
        sh2 = request_shared_info2(
            version,
            self._context.sh2_base,
            nonce=nonce,
            timestamp_ms=timestamp,
            ephemeral_public_key=ephemeral_public,
            associated=self._context.associated,
        )
        ciphertext, mac = envelope.seal(plaintext, nonce=nonce, sh2=sh2)
        payload = _request_payload(ephemeral_public, ciphertext, mac, nonce, timestamp)
        if _has_temporary_key(version):
            payload[FIELD_TEMPORARY_KEY_ID] = temporary_key_id
        decryptor = EciesResponseDecryptor(
            envelope,
            version=version,
            sh2_base=self._context.sh2_base,
            associated=self._context.associated,
            request_nonce=nonce,
        )
        return payload, decryptor


def _request_payload(
    ephemeral_public: bytes,
    ciphertext: bytes,
    mac: bytes,
    nonce: bytes | None,
    timestamp_ms: int | None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {FIELD_EPHEMERAL_PUBLIC_KEY: b64encode(ephemeral_public)}
    payload |= _response_payload(ciphertext, mac)
    if nonce is not None:
        payload[FIELD_NONCE] = b64encode(nonce)
    if timestamp_ms is not None:
        payload[FIELD_TIMESTAMP] = timestamp_ms
    return payload


def _b64_field(payload: Mapping[str, Any], name: str, length: int | None = None) -> bytes:
    value = payload.get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} is missing")
    try:
        return b64decode(value, length=length)
    except ValueError as err:
        raise ValueError(f"{name} is not valid Base64 of the right length") from err


def _int_field(payload: Mapping[str, Any], name: str) -> int:
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} is missing or not an integer")
    if not 0 <= value < 2**64:
        raise ValueError(f"{name} is out of range")
    return value


def open_request(
    envelope: EnvelopeKey,
    sh2_base: bytes,
    associated: bytes | None,
    payload: Mapping[str, Any],
    *,
    version: str,
) -> tuple[bytes, EciesResponseEncryptor]:
    """Server side, envelope known: check the version's fields and MAC, decrypt.

    Raise ValueError naming the problem (missing field, bad MAC).
    """
    _check_version(version)
    ephemeral_public = _b64_field(payload, FIELD_EPHEMERAL_PUBLIC_KEY)
    ciphertext = _b64_field(payload, FIELD_ENCRYPTED_DATA)
    mac = _b64_field(payload, FIELD_MAC, MAC_SIZE)
    nonce = _b64_field(payload, FIELD_NONCE, NONCE_SIZE) if _has_nonce(version) else None
    timestamp = _int_field(payload, FIELD_TIMESTAMP) if _has_timestamp(version) else None
    if _has_temporary_key(version) and not isinstance(payload.get(FIELD_TEMPORARY_KEY_ID), str):
        raise ValueError(f"{FIELD_TEMPORARY_KEY_ID} is missing")
    sh2 = request_shared_info2(
        version,
        sh2_base,
        nonce=nonce,
        timestamp_ms=timestamp,
        ephemeral_public_key=ephemeral_public,
        associated=associated,
    )
    plaintext = envelope.open(ciphertext, mac, nonce=nonce, sh2=sh2)
    responder = EciesResponseEncryptor(
        envelope, version=version, sh2_base=sh2_base, associated=associated, request_nonce=nonce
    )
    return plaintext, responder


def decrypt_request(
    server_private_key: ec.EllipticCurvePrivateKey,
    sh1: str,
    sh2_base: bytes,
    associated_data: bytes | None,
    payload: Mapping[str, Any],
    *,
    version: str,
) -> tuple[bytes, EciesResponseEncryptor]:
    """Server side: derive the envelope from the recipient private key and decrypt.

    Raise ValueError for a malformed payload, an invalid ephemeral key or MAC.
    """
    ephemeral_public = _b64_field(payload, FIELD_EPHEMERAL_PUBLIC_KEY)
    shared = ecdh(server_private_key, load_public_key(ephemeral_public))
    envelope = derive_envelope_key(shared, sh1, version, ephemeral_public)
    return open_request(envelope, sh2_base, associated_data, payload, version=version)


def build_encryption_header(version: str, app_key: str, activation_id: str | None = None) -> str:
    """``X-PowerAuth-Encryption`` value for requests that are encrypted but unsigned."""
    _check_version(version)
    fields = [("version", version), ("application_key", app_key)]
    if activation_id is not None:
        fields.append(("activation_id", activation_id))
    return "PowerAuth " + ", ".join(f'{name}="{value}"' for name, value in fields)


@dataclass(frozen=True, slots=True)
class EncryptionHeader:
    """The fields of ``X-PowerAuth-Encryption``."""

    version: str
    application_key: str
    activation_id: str | None


def parse_encryption_header(value: str) -> EncryptionHeader:
    """Server side: parse ``X-PowerAuth-Encryption``; ValueError says what is wrong."""
    fields = parse_header_fields(value)
    version = require_field(fields, "version")
    _check_version(version)
    application_key = require_field(fields, "application_key")
    try:
        b64decode(application_key, length=KEY_PART_SIZE)
    except ValueError as err:
        raise ValueError("application_key is not Base64 of 16 bytes") from err
    return EncryptionHeader(version, application_key, fields.get("activation_id") or None)
