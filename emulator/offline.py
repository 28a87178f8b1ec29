"""Offline (QR) operations: the signed QR text and the check of the code typed back.

mobile-token-api.md section 4 and powerauth-protocol.md section 5: the QR
lines are id, title, message, data, flags, [TOTP], nonce and ``{key}{sig}``,
signed (DER ECDSA) by the master key (``0``) or the activation's server key
(``1``). The approval code is an offline signature over
``{operationId}&{data}[&{totp}]`` with the QR nonce; the server tries every
recent QR nonce and, with proximity on, every currently valid TOTP.
"""

import secrets
from dataclasses import dataclass
from typing import Final

from cryptography.hazmat.primitives.asymmetric import ec

from mtoken.encoding import b64encode
from mtoken.keys import ecdsa_sign_der
from mtoken.keys4 import ecdsa_sign_der as ecdsa_sign_p384
from mtoken.signature import URI_ID_OFFLINE_DEFAULT, SignatureType, offline_signature_data

from .operation_json import FACTOR_POSSESSION_BIOMETRY
from .records import Operation
from .texts import DEFAULT_LANGUAGE, localized

SIGNING_KEY_MASTER: Final = "master"
SIGNING_KEY_PERSONALIZED: Final = "personalized"
KEY_DIGITS: Final = {SIGNING_KEY_MASTER: "0", SIGNING_KEY_PERSONALIZED: "1"}
QR_NONCE_SIZE: Final = 16
#: How many of an operation's newest QR nonces a typed-back code is checked against.
NONCES_TRIED: Final = 5
FLAG_BIOMETRY: Final = "B"
UI_FLAGS: Final = (("flipButtons", "X"), ("fraudWarning", "F"), ("blockApprovalOnCall", "C"))


def escape_line(text: str) -> str:
    """Keep a title or message on one QR line: escape backslashes, then newlines."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def qr_flags(operation: Operation) -> str:
    """``B`` when biometry may approve, then the UI flags the operation asks for."""
    flags = FLAG_BIOMETRY if FACTOR_POSSESSION_BIOMETRY in operation.allowed_factors else ""
    ui = operation.ui or {}
    return flags + "".join(letter for key, letter in UI_FLAGS if ui.get(key) is True)


def new_qr_nonce() -> str:
    """A fresh QR nonce (Base64 of 16 bytes)."""
    nonce: str = b64encode(secrets.token_bytes(QR_NONCE_SIZE))
    return nonce


def build_offline_qr(
    operation: Operation,
    signing_key: ec.EllipticCurvePrivateKey,
    key_name: str,
    nonce_b64: str,
    totp: str | None,
) -> str:
    """The QR text, signed up to and including the key digit."""
    texts = localized(operation.texts, DEFAULT_LANGUAGE)
    lines = [
        operation.id,
        escape_line(str(texts.get("title", ""))),
        escape_line(str(texts.get("message", ""))),
        operation.data,
        qr_flags(operation),
    ]
    if totp is not None:
        lines.append(totp)
    lines.append(nonce_b64)
    signed_text = "\n".join(lines) + "\n" + KEY_DIGITS[key_name]
    # A 4.0 master key is P-384 and signs with SHA-384 (protocol 4.0 notes, section 16).
    sign = ecdsa_sign_p384 if isinstance(signing_key.curve, ec.SECP384R1) else ecdsa_sign_der
    signature: str = b64encode(sign(signing_key, signed_text.encode("utf-8")))
    return signed_text + signature


def offline_body(operation: Operation, totp: str | None) -> bytes:
    """What the approval code signs: ``{id}&{data}`` or ``{id}&{data}&{totp}``."""
    parts = [operation.id, operation.data] + ([totp] if totp is not None else [])
    return "&".join(parts).encode("utf-8")


@dataclass(frozen=True)
class OfflineCandidates:
    """Signature types and data strings a typed-back code may match."""

    signature_types: list[SignatureType]
    data: list[bytes]


def offline_candidates(
    operation: Operation, nonces: list[str], totps: list[str] | None, uri_id: str | None
) -> OfflineCandidates:
    """Every (nonce, TOTP) combination the server accepts for an operation."""
    types = [SignatureType.POSSESSION_KNOWLEDGE]
    if FACTOR_POSSESSION_BIOMETRY in operation.allowed_factors:
        types.append(SignatureType.POSSESSION_BIOMETRY)
    uri = uri_id or URI_ID_OFFLINE_DEFAULT
    options: list[str | None] = list(totps) if totps else [None]
    data = [
        offline_signature_data(uri, nonce, offline_body(operation, totp))
        for nonce in nonces
        for totp in options
    ]
    return OfflineCandidates(types, data)
