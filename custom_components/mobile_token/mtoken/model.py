"""The operation a Mobile Token API server asks the user to approve (mobile-token-api.md §2).

Parsing follows the Wultra mobile SDKs: a missing or mistyped required field
(``id``, ``name``, ``data``, ``allowedSignatureType``, ``formData`` title and
message) fails the operation, and with it the whole list, as the SDKs'
decoders do; a malformed or unknown *attribute* never does: it becomes an
``UnknownAttribute`` that keeps its label, so the user still sees the row.
Fields a custom backend adds are kept in ``Operation.extra``.

``to_dict`` writes the wire format back (camelCase, only the fields that
are set, dates as ISO 8601), so ``parse_operation(op.to_dict()) == op``;
the Home Assistant integration hands that dict to automations and the card.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from .dates import format_datetime, format_datetime_z, parse_datetime
from .errors import BadResponseError

__all__ = [
    "AllowedSignature",
    "AmountAttribute",
    "AmountConversionAttribute",
    "Attribute",
    "FormData",
    "GenericPostApprovalScreen",
    "HeadingAttribute",
    "ImageAttribute",
    "KeyValueAttribute",
    "MerchantRedirectPostApprovalScreen",
    "Money",
    "NoteAttribute",
    "Operation",
    "OperationStatus",
    "OperationUI",
    "PartyInfo",
    "PartyInfoAttribute",
    "PostApprovalScreen",
    "PreApprovalScreen",
    "PreApprovalScreenType",
    "ProximityCheck",
    "ProximityCheckType",
    "ResultTexts",
    "ReviewPostApprovalScreen",
    "SignatureFactor",
    "SignatureType",
    "UnknownAttribute",
    "parse_attribute",
    "parse_datetime",
    "parse_operation",
    "parse_operation_list",
]

JsonDict = dict[str, Any]


class OperationStatus(StrEnum):
    """Operation states the server reports (§2); an unknown one is kept as a plain string."""

    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"


class SignatureType(StrEnum):
    """``allowedSignatureType.type`` (§2)."""

    ONE_FACTOR = "1FA"
    TWO_FACTORS = "2FA"
    ECDSA = "ECDSA"


class SignatureFactor(StrEnum):
    """``allowedSignatureType.variants`` values: the factor keys a signature may use (§2)."""

    POSSESSION = "possession"
    POSSESSION_KNOWLEDGE = "possession_knowledge"
    POSSESSION_BIOMETRY = "possession_biometry"


class PreApprovalScreenType(StrEnum):
    """Pre-approval screen kinds; anything else reads as ``UNKNOWN`` (§2)."""

    INFO = "INFO"
    WARNING = "WARNING"
    QR_SCAN = "QR_SCAN"
    UNKNOWN = "UNKNOWN"


class ProximityCheckType(StrEnum):
    """How the proximity TOTP reached the client (§3)."""

    QR_CODE = "QR_CODE"
    DEEPLINK = "DEEPLINK"


POST_APPROVAL_REVIEW = "REVIEW"
POST_APPROVAL_MERCHANT_REDIRECT = "MERCHANT_REDIRECT"
POST_APPROVAL_GENERIC = "GENERIC"


# --- reading JSON values -------------------------------------------------------------


def _where(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _req_str(obj: Mapping[str, Any], key: str, where: str = "") -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise BadResponseError(f"{_where(where, key)} must be a string, got {_kind(value)}")
    return value


def _opt_str(obj: Mapping[str, Any], key: str, where: str = "") -> str | None:
    return None if obj.get(key) is None else _req_str(obj, key, where)


def _opt_bool(obj: Mapping[str, Any], key: str, where: str = "") -> bool | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, bool):
        raise BadResponseError(f"{_where(where, key)} must be a boolean, got {_kind(value)}")
    return value


def _opt_int(obj: Mapping[str, Any], key: str, where: str = "") -> int | None:
    value = obj.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise BadResponseError(f"{_where(where, key)} must be an integer, got {_kind(value)}")
    return value


def _opt_decimal(obj: Mapping[str, Any], key: str, where: str = "") -> Decimal | None:
    """Read a JSON number as an exact Decimal (floats through their shortest repr)."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise BadResponseError(f"{_where(where, key)} must be a number, got {_kind(value)}")
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise BadResponseError(f"{_where(where, key)} must be a finite number")
    return number


def _req_dict(obj: Mapping[str, Any], key: str, where: str = "") -> Mapping[str, Any]:
    value = obj.get(key)
    if not isinstance(value, Mapping):
        raise BadResponseError(f"{_where(where, key)} must be an object, got {_kind(value)}")
    return value


def _opt_dict(obj: Mapping[str, Any], key: str, where: str = "") -> Mapping[str, Any] | None:
    return None if obj.get(key) is None else _req_dict(obj, key, where)


def _opt_date(obj: Mapping[str, Any], key: str) -> datetime | None:
    if obj.get(key) is None:
        return None
    try:
        return parse_datetime(obj[key])
    except BadResponseError as err:
        raise BadResponseError(f"{key}: {err}") from err


def _kind(value: object) -> str:
    return "nothing" if value is None else type(value).__name__


def _json_number(value: Decimal) -> int | float:
    """Decimal back to a JSON number: integral values stay exact ints."""
    return int(value) if value == value.to_integral_value() else float(value)


def _put(out: JsonDict, key: str, value: Any) -> None:
    """Write a key only when it has a value: the server omits null fields (§2)."""
    if value is not None:
        out[key] = value


# --- attributes -----------------------------------------------------------------------


@dataclass(frozen=True)
class Money:
    """An amount as the server gives it: raw value and currency, and preformatted texts.

    The server sends at least one of ``amountFormatted``/``amount`` and one of
    ``currencyFormatted``/``currency`` (§2); ``display_*`` pick the best.
    """

    amount: Decimal | None = None
    currency: str | None = None
    amount_formatted: str | None = None
    currency_formatted: str | None = None
    value_formatted: str | None = None

    @property
    def display_amount(self) -> str:
        """The formatted amount, or the raw amount when the server sent no formatting."""
        return self.amount_formatted or str(self.amount)

    @property
    def display_currency(self) -> str:
        """The formatted currency, or the ISO code."""
        return self.currency_formatted or self.currency or ""

    def to_dict(self, prefix: str = "") -> JsonDict:
        """Wire keys: ``amount``, ``currency``… or ``sourceAmount``, ``sourceCurrency``…."""
        out: JsonDict = {}
        amount = None if self.amount is None else _json_number(self.amount)
        _put(out, _money_key(prefix, "amount"), amount)
        _put(out, _money_key(prefix, "currency"), self.currency)
        _put(out, _money_key(prefix, "amountFormatted"), self.amount_formatted)
        _put(out, _money_key(prefix, "currencyFormatted"), self.currency_formatted)
        _put(out, _money_key(prefix, "valueFormatted"), self.value_formatted)
        return out


def _money_key(prefix: str, key: str) -> str:
    return f"{prefix}{key[0].upper()}{key[1:]}" if prefix else key


def _parse_money(obj: Mapping[str, Any], prefix: str = "") -> Money:
    money = Money(
        amount=_opt_decimal(obj, _money_key(prefix, "amount")),
        currency=_opt_str(obj, _money_key(prefix, "currency")),
        amount_formatted=_opt_str(obj, _money_key(prefix, "amountFormatted")),
        currency_formatted=_opt_str(obj, _money_key(prefix, "currencyFormatted")),
        value_formatted=_opt_str(obj, _money_key(prefix, "valueFormatted")),
    )
    if money.amount is None and money.amount_formatted is None:
        raise BadResponseError(f"{_money_key(prefix, 'amount')} is missing")
    if money.currency is None and money.currency_formatted is None:
        raise BadResponseError(f"{_money_key(prefix, 'currency')} is missing")
    return money


@dataclass(frozen=True)
class _AttributeBase:
    """``type``, ``id`` and ``label``, shared by every attribute (§2)."""

    TYPE: ClassVar[str]
    id: str
    label: str

    @property
    def type(self) -> str:
        """The wire type of this attribute."""
        return self.TYPE

    def to_dict(self) -> JsonDict:
        """Return the attribute in the wire format."""
        return {"type": self.type, "id": self.id, "label": self.label, **self._payload()}

    def _payload(self) -> JsonDict:
        return {}


@dataclass(frozen=True)
class AmountAttribute(_AttributeBase):
    """``AMOUNT``: one amount with currency."""

    TYPE: ClassVar[str] = "AMOUNT"
    money: Money

    def _payload(self) -> JsonDict:
        return self.money.to_dict()


@dataclass(frozen=True)
class AmountConversionAttribute(_AttributeBase):
    """``AMOUNT_CONVERSION``: money exchanged from ``source`` to ``target``."""

    TYPE: ClassVar[str] = "AMOUNT_CONVERSION"
    dynamic: bool
    source: Money
    target: Money

    def _payload(self) -> JsonDict:
        return {
            "dynamic": self.dynamic,
            **self.source.to_dict("source"),
            **self.target.to_dict("target"),
        }


@dataclass(frozen=True)
class KeyValueAttribute(_AttributeBase):
    """``KEY_VALUE``: a label and its value."""

    TYPE: ClassVar[str] = "KEY_VALUE"
    value: str

    def _payload(self) -> JsonDict:
        return {"value": self.value}


@dataclass(frozen=True)
class NoteAttribute(_AttributeBase):
    """``NOTE``: like KEY_VALUE, shown as a message."""

    TYPE: ClassVar[str] = "NOTE"
    note: str

    def _payload(self) -> JsonDict:
        return {"note": self.note}


@dataclass(frozen=True)
class HeadingAttribute(_AttributeBase):
    """``HEADING``: a section heading; the label is the text."""

    TYPE: ClassVar[str] = "HEADING"
    level: int | None = None

    def _payload(self) -> JsonDict:
        return {} if self.level is None else {"level": self.level}


@dataclass(frozen=True)
class PartyInfo:
    """A third party (e-shop, merchant) the operation concerns."""

    logo_url: str
    name: str
    description: str
    website_url: str | None = None

    def to_dict(self) -> JsonDict:
        """Return the wire ``partyInfo`` object."""
        out: JsonDict = {
            "logoUrl": self.logo_url,
            "name": self.name,
            "description": self.description,
        }
        _put(out, "websiteUrl", self.website_url)
        return out


@dataclass(frozen=True)
class PartyInfoAttribute(_AttributeBase):
    """``PARTY_INFO``: structured information about a third party."""

    TYPE: ClassVar[str] = "PARTY_INFO"
    party_info: PartyInfo

    def _payload(self) -> JsonDict:
        return {"partyInfo": self.party_info.to_dict()}


@dataclass(frozen=True)
class ImageAttribute(_AttributeBase):
    """``IMAGE``: a thumbnail, optionally with a full-size original."""

    TYPE: ClassVar[str] = "IMAGE"
    thumbnail_url: str
    original_url: str | None = None

    def _payload(self) -> JsonDict:
        out: JsonDict = {"thumbnailUrl": self.thumbnail_url}
        _put(out, "originalUrl", self.original_url)
        return out


@dataclass(frozen=True)
class UnknownAttribute(_AttributeBase):
    """``ALERT``, a type this client does not know, or a malformed attribute.

    Only the label is shown (§2); ``original_type`` keeps what the server sent.
    """

    TYPE: ClassVar[str] = "UNKNOWN"
    original_type: str = ""

    @property
    def type(self) -> str:
        """The server's type, so that ``to_dict`` stays faithful."""
        return self.original_type


type Attribute = (
    AmountAttribute
    | AmountConversionAttribute
    | KeyValueAttribute
    | NoteAttribute
    | HeadingAttribute
    | PartyInfoAttribute
    | ImageAttribute
    | UnknownAttribute
)


def _parse_party_info(obj: Mapping[str, Any], id_: str, label: str) -> Attribute:
    info = _req_dict(obj, "partyInfo")
    party = PartyInfo(
        logo_url=_req_str(info, "logoUrl", "partyInfo"),
        name=_req_str(info, "name", "partyInfo"),
        description=_req_str(info, "description", "partyInfo"),
        website_url=_opt_str(info, "websiteUrl", "partyInfo"),
    )
    return PartyInfoAttribute(id_, label, party)


def _parse_conversion(obj: Mapping[str, Any], id_: str, label: str) -> Attribute:
    dynamic = _opt_bool(obj, "dynamic")
    if dynamic is None:
        raise BadResponseError("dynamic is missing")
    return AmountConversionAttribute(
        id_, label, dynamic, _parse_money(obj, "source"), _parse_money(obj, "target")
    )


_ATTRIBUTE_PARSERS: dict[str, Callable[[Mapping[str, Any], str, str], Attribute]] = {
    AmountAttribute.TYPE: lambda o, i, lb: AmountAttribute(i, lb, _parse_money(o)),
    AmountConversionAttribute.TYPE: _parse_conversion,
    KeyValueAttribute.TYPE: lambda o, i, lb: KeyValueAttribute(i, lb, _req_str(o, "value")),
    NoteAttribute.TYPE: lambda o, i, lb: NoteAttribute(i, lb, _req_str(o, "note")),
    HeadingAttribute.TYPE: lambda o, i, lb: HeadingAttribute(i, lb, _opt_int(o, "level")),
    PartyInfoAttribute.TYPE: _parse_party_info,
    ImageAttribute.TYPE: lambda o, i, lb: ImageAttribute(
        i, lb, _req_str(o, "thumbnailUrl"), _opt_str(o, "originalUrl")
    ),
}


def parse_attribute(obj: Any) -> Attribute:
    """Parse one attribute; never raise (§2: a malformed attribute must not fail the list).

    A missing ``id`` or ``label`` reads as an empty string; a value the type
    needs that is missing or mistyped turns the row into ``UnknownAttribute``.
    """
    if not isinstance(obj, Mapping):
        return UnknownAttribute("", "")
    type_, id_, label = (obj.get(key) for key in ("type", "id", "label"))
    type_ = type_ if isinstance(type_, str) else ""
    id_ = id_ if isinstance(id_, str) else ""
    label = label if isinstance(label, str) else ""
    parser = _ATTRIBUTE_PARSERS.get(type_)
    if parser is not None:
        try:
            return parser(obj, id_, label)
        except BadResponseError:
            pass  # shown as an UNKNOWN row, exactly like a type this client does not know
    return UnknownAttribute(id_, label, type_)


def _parse_attributes(value: Any) -> tuple[Attribute, ...]:
    """Parse a list of attributes; anything but a list reads as none, as the iOS SDK does."""
    return tuple(parse_attribute(item) for item in value) if isinstance(value, list) else ()


# --- screens --------------------------------------------------------------------------


@dataclass(frozen=True)
class PreApprovalScreen:
    """A screen shown before approval; ``QR_SCAN`` requires a proximity check (§2)."""

    type: PreApprovalScreenType
    heading: str
    message: str
    items: tuple[str, ...] | None = None
    approval_type: str | None = None

    def to_dict(self) -> JsonDict:
        """Return the wire ``preApprovalScreen`` object."""
        out: JsonDict = {"type": str(self.type), "heading": self.heading, "message": self.message}
        _put(out, "items", None if self.items is None else list(self.items))
        _put(out, "approvalType", self.approval_type)
        return out


def _parse_pre_approval_screen(obj: Mapping[str, Any]) -> PreApprovalScreen:
    where = "ui.preApprovalScreen"
    raw_type = _req_str(obj, "type", where)
    items = obj.get("items")
    if items is not None and not (
        isinstance(items, list) and all(isinstance(item, str) for item in items)
    ):
        raise BadResponseError(f"{where}.items must be a list of strings")
    return PreApprovalScreen(
        type=PreApprovalScreenType(raw_type)
        if raw_type in PreApprovalScreenType
        else PreApprovalScreenType.UNKNOWN,
        heading=_req_str(obj, "heading", where),
        message=_req_str(obj, "message", where),
        items=None if items is None else tuple(items),
        approval_type=_opt_str(obj, "approvalType", where),
    )


@dataclass(frozen=True)
class ReviewPostApprovalScreen:
    """``REVIEW``: the attributes to show again after approval."""

    heading: str
    message: str
    attributes: tuple[Attribute, ...]
    type: ClassVar[str] = POST_APPROVAL_REVIEW

    def to_dict(self) -> JsonDict:
        """Return the wire ``postApprovalScreen`` object."""
        payload = {"attributes": [attribute.to_dict() for attribute in self.attributes]}
        return {
            "type": self.type,
            "heading": self.heading,
            "message": self.message,
            "payload": payload,
        }


@dataclass(frozen=True)
class MerchantRedirectPostApprovalScreen:
    """``MERCHANT_REDIRECT``: a button back to the merchant, followed after ``countdown`` s."""

    heading: str
    message: str
    redirect_text: str
    redirect_url: str
    countdown: int
    type: ClassVar[str] = POST_APPROVAL_MERCHANT_REDIRECT

    def to_dict(self) -> JsonDict:
        """Return the wire ``postApprovalScreen`` object."""
        payload = {
            "redirectText": self.redirect_text,
            "redirectUrl": self.redirect_url,
            "countdown": self.countdown,
        }
        return {
            "type": self.type,
            "heading": self.heading,
            "message": self.message,
            "payload": payload,
        }


@dataclass(frozen=True)
class GenericPostApprovalScreen:
    """``GENERIC`` or an unknown type: the payload is any JSON, kept as sent."""

    type: str
    heading: str
    message: str
    payload: Any = None

    def to_dict(self) -> JsonDict:
        """Return the wire ``postApprovalScreen`` object."""
        out: JsonDict = {"type": self.type, "heading": self.heading, "message": self.message}
        _put(out, "payload", self.payload)
        return out


type PostApprovalScreen = (
    ReviewPostApprovalScreen | MerchantRedirectPostApprovalScreen | GenericPostApprovalScreen
)


def _parse_post_approval_screen(obj: Mapping[str, Any]) -> PostApprovalScreen:
    where = "ui.postApprovalScreen"
    type_ = _req_str(obj, "type", where)
    heading, message = _req_str(obj, "heading", where), _req_str(obj, "message", where)
    if type_ == POST_APPROVAL_REVIEW:
        payload = _req_dict(obj, "payload", where)
        return ReviewPostApprovalScreen(
            heading, message, _parse_attributes(payload.get("attributes"))
        )
    if type_ == POST_APPROVAL_MERCHANT_REDIRECT:
        payload = _req_dict(obj, "payload", where)
        countdown = _opt_int(payload, "countdown", f"{where}.payload")
        if countdown is None:
            raise BadResponseError(f"{where}.payload.countdown is missing")
        return MerchantRedirectPostApprovalScreen(
            heading,
            message,
            _req_str(payload, "redirectText", f"{where}.payload"),
            _req_str(payload, "redirectUrl", f"{where}.payload"),
            countdown,
        )
    return GenericPostApprovalScreen(type_, heading, message, obj.get("payload"))


# --- the operation --------------------------------------------------------------------


@dataclass(frozen=True)
class AllowedSignature:
    """Which factors may approve the operation (§2)."""

    type: SignatureType
    variants: tuple[str, ...] = ()

    @property
    def factors(self) -> tuple[str, ...]:
        """The variants, with ``1FA`` and no variants meaning possession alone (§2)."""
        if not self.variants and self.type is SignatureType.ONE_FACTOR:
            return (SignatureFactor.POSSESSION,)
        return self.variants

    def allows(self, factor: str) -> bool:
        """Whether a signature with these factor keys may approve the operation."""
        return factor in self.factors

    def to_dict(self) -> JsonDict:
        """Return the wire ``allowedSignatureType`` object."""
        return {"type": str(self.type), "variants": [str(variant) for variant in self.variants]}


def _parse_allowed_signature(obj: Mapping[str, Any]) -> AllowedSignature:
    where = "allowedSignatureType"
    raw_type = _req_str(obj, "type", where)
    if raw_type not in SignatureType:
        raise BadResponseError(f"{where}.type {raw_type!r} is not 1FA, 2FA or ECDSA")
    variants = obj.get("variants", [])
    if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
        raise BadResponseError(f"{where}.variants must be a list of strings")
    return AllowedSignature(
        SignatureType(raw_type),
        tuple(SignatureFactor(v) if v in SignatureFactor else v for v in variants),
    )


@dataclass(frozen=True)
class ResultTexts:
    """Texts to show after success, failure or rejection."""

    success: str | None = None
    failure: str | None = None
    reject: str | None = None

    def to_dict(self) -> JsonDict:
        """Return the wire ``resultTexts`` object."""
        out: JsonDict = {}
        for key in ("success", "failure", "reject"):
            _put(out, key, getattr(self, key))
        return out


@dataclass(frozen=True)
class FormData:
    """What the user reads: title, message, result texts and attribute rows."""

    title: str
    message: str
    attributes: tuple[Attribute, ...] = ()
    result_texts: ResultTexts | None = None

    def to_dict(self) -> JsonDict:
        """Return the wire ``formData`` object."""
        out: JsonDict = {"title": self.title, "message": self.message}
        _put(out, "resultTexts", None if self.result_texts is None else self.result_texts.to_dict())
        out["attributes"] = [attribute.to_dict() for attribute in self.attributes]
        return out


def _parse_form_data(obj: Mapping[str, Any]) -> FormData:
    texts = obj.get("resultTexts")
    result_texts = None
    if isinstance(texts, Mapping):
        result_texts = ResultTexts(
            *(
                _opt_str(texts, key, "formData.resultTexts")
                for key in ("success", "failure", "reject")
            )
        )
    return FormData(
        title=_req_str(obj, "title", "formData"),
        message=_req_str(obj, "message", "formData"),
        attributes=_parse_attributes(obj.get("attributes")),
        result_texts=result_texts,
    )


@dataclass(frozen=True)
class OperationUI:
    """Optional UI hints (§2); unknown keys are ignored."""

    flip_buttons: bool | None = None
    block_approval_on_call: bool | None = None
    pre_approval_screen: PreApprovalScreen | None = None
    post_approval_screen: PostApprovalScreen | None = None

    def to_dict(self) -> JsonDict:
        """Return the wire ``ui`` object."""
        out: JsonDict = {}
        _put(out, "flipButtons", self.flip_buttons)
        _put(out, "blockApprovalOnCall", self.block_approval_on_call)
        if self.pre_approval_screen is not None:
            out["preApprovalScreen"] = self.pre_approval_screen.to_dict()
        if self.post_approval_screen is not None:
            out["postApprovalScreen"] = self.post_approval_screen.to_dict()
        return out


def _parse_ui(obj: Mapping[str, Any]) -> OperationUI:
    pre = _opt_dict(obj, "preApprovalScreen", "ui")
    post = _opt_dict(obj, "postApprovalScreen", "ui")
    return OperationUI(
        flip_buttons=_opt_bool(obj, "flipButtons", "ui"),
        block_approval_on_call=_opt_bool(obj, "blockApprovalOnCall", "ui"),
        pre_approval_screen=None if pre is None else _parse_pre_approval_screen(pre),
        post_approval_screen=None if post is None else _parse_post_approval_screen(post),
    )


@dataclass(frozen=True)
class ProximityCheck:
    """A proximity TOTP scanned or received by deeplink, sent along with the approval (§3)."""

    totp: str
    type: ProximityCheckType
    timestamp_received: datetime

    def to_request(self, timestamp_sent: datetime) -> JsonDict:
        """Return the authorize body's ``proximityCheck`` (``timestamp_sent``: server time)."""
        return {
            "otp": self.totp,
            "type": str(self.type),
            "timestampReceived": format_datetime_z(self.timestamp_received),
            "timestampSent": format_datetime_z(timestamp_sent),
        }


_KNOWN_KEYS = frozenset(
    {
        "id",
        "name",
        "data",
        "status",
        "statusReason",
        "operationCreated",
        "operationExpires",
        "allowedSignatureType",
        "formData",
        "ui",
        "proximityCheck",  # set by clients, never by the server (§2)
    }
)


@dataclass(frozen=True)
class Operation:
    """One operation of the list, detail, claim or history response (§2)."""

    id: str
    name: str
    data: str
    allowed_signature: AllowedSignature
    form_data: FormData
    status: str | None = None
    status_reason: str | None = None
    created: datetime | None = None
    expires: datetime | None = None
    ui: OperationUI | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def is_expired(self, now: datetime) -> bool:
        """Whether ``now`` (aware) is past the expiry; only a hint, refresh the list (§2)."""
        return self.expires is not None and now >= self.expires

    @property
    def requires_proximity_check(self) -> bool:
        """A ``QR_SCAN`` pre-approval screen: a proximity TOTP must go with the approval."""
        screen = self.ui.pre_approval_screen if self.ui else None
        return screen is not None and screen.type is PreApprovalScreenType.QR_SCAN

    def allows(self, factor: str) -> bool:
        """Whether the server accepts an approval signed with these factor keys."""
        return self.allowed_signature.allows(factor)

    def summary(self) -> JsonDict:
        """Return the few fields a sensor attribute carries for each pending operation."""
        return {
            "id": self.id,
            "name": self.name,
            "title": self.form_data.title,
            "message": self.form_data.message,
            "expires": None if self.expires is None else format_datetime(self.expires),
            "allowed_factors": [str(factor) for factor in self.allowed_signature.factors],
        }

    def to_dict(self) -> JsonDict:
        """Return the wire format, JSON-ready; ``parse_operation`` reads it back."""
        out: JsonDict = {"id": self.id, "name": self.name, "data": self.data}
        _put(out, "status", None if self.status is None else str(self.status))
        _put(out, "statusReason", self.status_reason)
        for key, value in (("operationCreated", self.created), ("operationExpires", self.expires)):
            _put(out, key, None if value is None else format_datetime(value))
        out["allowedSignatureType"] = self.allowed_signature.to_dict()
        out["formData"] = self.form_data.to_dict()
        _put(out, "ui", None if self.ui is None else self.ui.to_dict())
        out.update(self.extra)
        return out


def parse_operation(obj: Any) -> Operation:
    """Parse one operation; raise BadResponseError naming the first bad field."""
    if not isinstance(obj, Mapping):
        raise BadResponseError(f"an operation must be an object, got {_kind(obj)}")
    status = _opt_str(obj, "status")
    ui = _opt_dict(obj, "ui")
    return Operation(
        id=_req_str(obj, "id"),
        name=_req_str(obj, "name"),
        data=_req_str(obj, "data"),
        allowed_signature=_parse_allowed_signature(_req_dict(obj, "allowedSignatureType")),
        form_data=_parse_form_data(_req_dict(obj, "formData")),
        status=_parse_status(status),
        status_reason=_opt_str(obj, "statusReason"),
        created=_opt_date(obj, "operationCreated"),
        expires=_opt_date(obj, "operationExpires"),
        ui=None if ui is None else _parse_ui(ui),
        extra={key: value for key, value in obj.items() if key not in _KNOWN_KEYS},
    )


def _parse_status(status: str | None) -> str | None:
    """Map known statuses to OperationStatus members; keep unknown ones as sent."""
    if status is None or status not in OperationStatus:
        return status
    return OperationStatus(status)


def parse_operation_list(obj: Any) -> list[Operation]:
    """Parse a list response's operations; one bad operation fails the list, as in the SDKs."""
    if not isinstance(obj, list):
        raise BadResponseError(f"the operation list must be an array, got {_kind(obj)}")
    operations = []
    for index, item in enumerate(obj):
        try:
            operations.append(parse_operation(item))
        except BadResponseError as err:
            raise BadResponseError(f"operation {_describe(index, item)}: {err}") from err
    return operations


def _describe(index: int, item: Any) -> str:
    op_id = item.get("id") if isinstance(item, Mapping) else None
    return f"#{index} ({op_id})" if isinstance(op_id, str) else f"#{index}"
