"""Offline (QR) operations: parsing, signature check and the body to sign (mobile-token-api.md §4).

The parser follows the Wultra SDKs' ``QROperationParser`` rule by rule and in
the same order (line count, operation id, signature, nonce, operation data),
so a code that the bank's own app refuses is refused here with the same
reason, and a code it accepts parses to the same fields.
"""

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, Literal

from . import keys
from .encoding import b64decode
from .errors import InvalidConfigurationError, InvalidQrCodeError, InvalidStateError
from .model import SignatureFactor
from .signature import URI_ID_OFFLINE_DEFAULT

URI_ID_OFFLINE_AUTHORIZE = URI_ID_OFFLINE_DEFAULT

MIN_LINES = 7
"""Id, title, message, data, flags, nonce, signature."""
CURRENT_FORMAT_LINES = 8
"""The current format adds the TOTP line; more lines mean a newer format."""
MAX_DATA_FIELDS = 6
NONCE_SIZE = 16
SIGNATURE_MIN_SIZE = 64
SIGNATURE_MAX_SIZE = 255
TEMPLATE_ID_MAX = 99
CURRENCY_LENGTH = 3

SIGNING_KEY_MASTER = "master"
SIGNING_KEY_PERSONALIZED = "personalized"
type SigningKey = Literal["master", "personalized"]
_SIGNING_KEYS: dict[str, SigningKey] = {"0": "master", "1": "personalized"}

VERSION_1 = "v1"
VERSION_NEWER = "vX"
_VERSION_1_LETTER = "A"

_LINE_SEPARATOR = "\n"
_FIELD_SEPARATOR = "*"
_ESCAPE = "\\"
_TEMPLATE_ID = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_ACCOUNT_PART = re.compile(r"[0-9A-Z]+")
_DATE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")


# --- operation data fields ------------------------------------------------------------


@dataclass(frozen=True)
class QrAmountField:
    """``A{amount}{CUR}``: an amount and its currency code."""

    TYPE: ClassVar[str] = "amount"
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class QrAccountField:
    """``I{IBAN}[,{BIC}]``."""

    TYPE: ClassVar[str] = "account"
    iban: str
    bic: str | None = None


@dataclass(frozen=True)
class QrAnyAccountField:
    """``Q{account}``: an account in any format."""

    TYPE: ClassVar[str] = "anyAccount"
    value: str


@dataclass(frozen=True)
class QrDateField:
    """``D{yyyyMMdd}``."""

    TYPE: ClassVar[str] = "date"
    date: date


@dataclass(frozen=True)
class QrReferenceField:
    """``R{reference}``."""

    TYPE: ClassVar[str] = "reference"
    value: str


@dataclass(frozen=True)
class QrNoteField:
    """``N{note}``."""

    TYPE: ClassVar[str] = "note"
    value: str


@dataclass(frozen=True)
class QrTextField:
    """``T{text}``."""

    TYPE: ClassVar[str] = "text"
    value: str


@dataclass(frozen=True)
class QrFallbackField:
    """A field whose letter this version does not know; shown as text, letter kept."""

    TYPE: ClassVar[str] = "fallback"
    value: str
    identifier: str


@dataclass(frozen=True)
class QrEmptyField:
    """An empty field (``**``): a template slot left blank."""

    TYPE: ClassVar[str] = "empty"


type QrField = (
    QrAmountField
    | QrAccountField
    | QrAnyAccountField
    | QrDateField
    | QrReferenceField
    | QrNoteField
    | QrTextField
    | QrFallbackField
    | QrEmptyField
)


def field_to_dict(data_field: QrField) -> dict[str, Any]:
    """Describe a field as JSON, in the test vectors' shape (amount as a decimal string)."""
    out: dict[str, Any] = {"type": data_field.TYPE}
    match data_field:
        case QrAmountField(amount, currency):
            out |= {"amount": str(amount), "currency": currency}
        case QrAccountField(iban, bic):
            out |= {"iban": iban, "bic": bic}
        case QrDateField(value):
            out["date"] = value.isoformat()
        case QrFallbackField(value, identifier):
            out |= {"value": value, "identifier": identifier}
        case QrEmptyField():
            pass
        case _:
            out["value"] = data_field.value
    return out


# --- the operation --------------------------------------------------------------------


@dataclass(frozen=True)
class QrOperationData:
    """The signed operation data line: version, template and fields."""

    version: str
    template_id: int
    fields: tuple[QrField, ...]
    source: str
    """The line as scanned: it is what the offline signature covers."""


@dataclass(frozen=True)
class QrOperationFlags:
    """The flags line: letters present or not."""

    biometry: bool = False
    flip_buttons: bool = False
    fraud_warning: bool = False
    block_when_on_call: bool = False


@dataclass(frozen=True)
class QrOperation:
    """A parsed offline operation; verify ``signature`` before showing it as the bank's."""

    operation_id: str
    title: str
    message: str
    data: QrOperationData
    flags: QrOperationFlags
    totp: str | None
    nonce: str
    signing_key: SigningKey
    signature: bytes
    signed_data: bytes
    is_newer_format: bool

    def to_dict(self) -> dict[str, Any]:
        """Describe the operation as JSON for the user; see ``qr_operation_to_dict``."""
        return qr_operation_to_dict(self)


def qr_operation_to_dict(op: QrOperation) -> dict[str, Any]:
    """Describe an offline operation as JSON, in the test vectors' shape.

    Signature and nonce are left out: they mean nothing to the user.
    """
    return {
        "operationId": op.operation_id,
        "title": op.title,
        "message": op.message,
        "flags": {
            "biometry": op.flags.biometry,
            "blockWhenOnCall": op.flags.block_when_on_call,
            "fraudWarning": op.flags.fraud_warning,
            "flipButtons": op.flags.flip_buttons,
        },
        "signingKey": op.signing_key,
        "totp": op.totp,
        "isNewerFormat": op.is_newer_format,
        "data": {
            "version": op.data.version,
            "templateId": op.data.template_id,
            "fields": [field_to_dict(item) for item in op.data.fields],
        },
    }


# --- parsing --------------------------------------------------------------------------


def parse_qr_operation(text: str) -> QrOperation:
    """Parse a scanned offline operation; raise InvalidQrCodeError saying which rule failed.

    Windows line endings (from a pasted or saved text) read as the plain ones
    the bank signed.
    """
    text = text.replace("\r\n", _LINE_SEPARATOR)
    lines = text.split(_LINE_SEPARATOR)
    if len(lines) < MIN_LINES:
        raise InvalidQrCodeError(f"an offline operation has at least {MIN_LINES} lines")
    operation_id, nonce, signature_line = lines[0], lines[-2], lines[-1]
    if not operation_id:
        raise InvalidQrCodeError("the operation id is missing")
    signing_key, signature_b64, signature = _parse_signature(signature_line)
    _check_nonce(nonce)
    data = _parse_operation_data(lines[3])
    return QrOperation(
        operation_id=operation_id,
        title=_unescape(lines[1]),
        message=_unescape(lines[2]),
        data=data,
        flags=_parse_flags(lines[4]),
        totp=lines[5] if len(lines) > MIN_LINES else None,
        nonce=nonce,
        signing_key=signing_key,
        signature=signature,
        signed_data=text[: len(text) - len(signature_b64)].encode(),
        is_newer_format=len(lines) > CURRENT_FORMAT_LINES,
    )


def _parse_signature(line: str) -> tuple[SigningKey, str, bytes]:
    """``{key}{signatureBase64}``: key ``0`` master, ``1`` the activation's server key."""
    if not line:
        raise InvalidQrCodeError("the signature is missing")
    signing_key = _SIGNING_KEYS.get(line[0])
    if signing_key is None:
        raise InvalidQrCodeError("the signing key must be 0 (master) or 1 (personalized)")
    signature_b64 = line[1:]
    try:
        signature = b64decode(signature_b64)
    except ValueError as err:
        raise InvalidQrCodeError("the signature is not valid Base64") from err
    if not SIGNATURE_MIN_SIZE <= len(signature) <= SIGNATURE_MAX_SIZE:
        raise InvalidQrCodeError(
            f"the signature must be {SIGNATURE_MIN_SIZE} to {SIGNATURE_MAX_SIZE} bytes"
        )
    return signing_key, signature_b64, signature


def _check_nonce(nonce: str) -> None:
    try:
        b64decode(nonce, length=NONCE_SIZE)
    except ValueError as err:
        raise InvalidQrCodeError(f"the nonce must be {NONCE_SIZE} bytes in Base64") from err


def _parse_flags(line: str) -> QrOperationFlags:
    return QrOperationFlags(
        biometry="B" in line,
        flip_buttons="X" in line,
        fraud_warning="F" in line,
        block_when_on_call="C" in line,
    )


def _unescape(text: str) -> str:
    r"""Undo the QR escaping: ``\n`` to a newline, then ``\\`` to ``\``."""
    if _ESCAPE not in text:
        return text
    return text.replace("\\n", "\n").replace("\\\\", "\\")


def _split_fields(line: str) -> list[str]:
    r"""Split on ``*``; a piece ending in ``\`` continues with the next (``\*`` escapes ``*``)."""
    fields: list[str] = []
    append_next = False
    for piece in line.split(_FIELD_SEPARATOR):
        if append_next:
            fields[-1] = fields[-1][:-1] + _FIELD_SEPARATOR + piece
        else:
            fields.append(piece)
        append_next = piece.endswith(_ESCAPE)
    return fields


def _parse_operation_data(line: str) -> QrOperationData:
    header, *raw_fields = _split_fields(line)
    if not header or not "A" <= header[0] <= "Z":
        raise InvalidQrCodeError("the operation data must start with a version letter A-Z")
    template = header[1:]
    if not _TEMPLATE_ID.fullmatch(template) or int(template) > TEMPLATE_ID_MAX:
        raise InvalidQrCodeError(f"the template id must be a number 0-{TEMPLATE_ID_MAX}")
    fields = tuple(_parse_field(raw) for raw in raw_fields)
    if len(fields) > MAX_DATA_FIELDS:
        raise InvalidQrCodeError(f"the operation data has more than {MAX_DATA_FIELDS} fields")
    version = VERSION_1 if header[0] == _VERSION_1_LETTER else VERSION_NEWER
    return QrOperationData(version, int(template), fields, line)


def _parse_field(raw: str) -> QrField:
    if not raw:
        return QrEmptyField()
    letter, value = raw[0], raw[1:]
    match letter:
        case "A":
            return _parse_amount(value)
        case "I":
            return _parse_account(value)
        case "D":
            return _parse_date(value)
        case "Q":
            return QrAnyAccountField(_unescape(value))
        case "R":
            return QrReferenceField(_unescape(value))
        case "N":
            return QrNoteField(_unescape(value))
        case "T":
            return QrTextField(_unescape(value))
        case _:
            return QrFallbackField(_unescape(value), letter)


def _parse_amount(value: str) -> QrAmountField:
    number = value[:-CURRENCY_LENGTH]
    if len(value) <= CURRENCY_LENGTH or not _DECIMAL.fullmatch(number):
        raise InvalidQrCodeError(f"the amount {value!r} is not a number and a currency code")
    return QrAmountField(Decimal(number), value[-CURRENCY_LENGTH:].upper())


def _parse_account(value: str) -> QrAccountField:
    parts = [part for part in value.split(",") if part]
    if not 1 <= len(parts) <= 2 or not all(_ACCOUNT_PART.fullmatch(part) for part in parts):
        raise InvalidQrCodeError("the account must be IBAN[,BIC] in digits and capital letters")
    return QrAccountField(parts[0], parts[1] if len(parts) == 2 else None)


def _parse_date(value: str) -> QrDateField:
    error = f"the date {value!r} is not a valid yyyyMMdd date"
    match = _DATE.fullmatch(value)
    if match is None:
        raise InvalidQrCodeError(error)
    try:
        return QrDateField(date(*(int(part) for part in match.groups())))
    except ValueError as err:
        raise InvalidQrCodeError(error) from err


# --- signing --------------------------------------------------------------------------


def verify_qr_signature(
    op: QrOperation,
    master_public_key: bytes,
    activation_server_public_key: bytes | None,
) -> bool:
    """Check that the bank signed the code (§4): ECDSA P-256 over ``signed_data``.

    Key ``0`` is the application's master server key; key ``1`` is the
    server key of this activation.
    """
    if op.signing_key == SIGNING_KEY_MASTER:
        key_bytes = master_public_key
    elif activation_server_public_key is None:
        raise InvalidStateError("the code is signed for an activation, and there is none")
    else:
        key_bytes = activation_server_public_key
    try:
        public_key = keys.load_public_key(key_bytes)
    except ValueError as err:
        raise InvalidConfigurationError(f"the {op.signing_key} server public key: {err}") from err
    return keys.ecdsa_verify_der(public_key, op.signed_data, op.signature)


def offline_signature_body(op: QrOperation, totp: str | None = None) -> bytes:
    """Build the offline signature body: ``{id}&{data}`` or ``{id}&{data}&{totp}`` (§4).

    ``totp`` overrides the code's own TOTP line (a proximity code scanned separately).
    """
    code = totp if totp is not None else op.totp
    parts = [op.operation_id, op.data.source] + ([code] if code is not None else [])
    return "&".join(parts).encode()


def allowed_offline_factors(op: QrOperation) -> tuple[SignatureFactor, ...]:
    """Offline approval is always two-factor; biometry only when the code's ``B`` flag allows."""
    if op.flags.biometry:
        return (SignatureFactor.POSSESSION_KNOWLEDGE, SignatureFactor.POSSESSION_BIOMETRY)
    return (SignatureFactor.POSSESSION_KNOWLEDGE,)
