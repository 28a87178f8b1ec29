"""Operation attributes: the rows of the operation's form (mobile-token-api.md §2).

A malformed or unknown attribute never fails the operation: it becomes an
``UnknownAttribute`` that keeps its label, so the user still sees the row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from .errors import BadResponseError
from .jsonread import (
    JsonDict,
    json_number,
    opt_bool,
    opt_decimal,
    opt_int,
    opt_str,
    put,
    req_dict,
    req_str,
)

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
        amount = None if self.amount is None else json_number(self.amount)
        put(out, _money_key(prefix, "amount"), amount)
        put(out, _money_key(prefix, "currency"), self.currency)
        put(out, _money_key(prefix, "amountFormatted"), self.amount_formatted)
        put(out, _money_key(prefix, "currencyFormatted"), self.currency_formatted)
        put(out, _money_key(prefix, "valueFormatted"), self.value_formatted)
        return out


def _money_key(prefix: str, key: str) -> str:
    return f"{prefix}{key[0].upper()}{key[1:]}" if prefix else key


def _parse_money(obj: Mapping[str, Any], prefix: str = "") -> Money:
    money = Money(
        amount=opt_decimal(obj, _money_key(prefix, "amount")),
        currency=opt_str(obj, _money_key(prefix, "currency")),
        amount_formatted=opt_str(obj, _money_key(prefix, "amountFormatted")),
        currency_formatted=opt_str(obj, _money_key(prefix, "currencyFormatted")),
        value_formatted=opt_str(obj, _money_key(prefix, "valueFormatted")),
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
        put(out, "websiteUrl", self.website_url)
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
        put(out, "originalUrl", self.original_url)
        return out


class AlertType(StrEnum):
    """An ``ALERT`` attribute's severity (SDK 2.3+); another value is kept as sent."""

    SUCCESS = "SUCCESS"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


@dataclass(frozen=True)
class AlertAttribute(_AttributeBase):
    """``ALERT`` (Mobile Token SDK 2.3+): a warning box with a severity, a title and a message.

    The server sends ``alertType`` (SUCCESS, INFO, WARNING or ERROR), an optional
    ``title`` and the ``message``; the label names the box for lists that show
    only labels. An unknown severity is kept as sent and shown like INFO.
    """

    TYPE: ClassVar[str] = "ALERT"
    alert_type: str
    message: str
    title: str | None = None

    def _payload(self) -> JsonDict:
        out: JsonDict = {"alertType": self.alert_type}
        put(out, "title", self.title)
        out["message"] = self.message
        return out


def _parse_alert(obj: Mapping[str, Any], id_: str, label: str) -> Attribute:
    return AlertAttribute(
        id_,
        label,
        alert_type=req_str(obj, "alertType"),
        message=req_str(obj, "message"),
        title=opt_str(obj, "title"),
    )


@dataclass(frozen=True)
class UnknownAttribute(_AttributeBase):
    """A type this client does not know, or a malformed attribute.

    Only the label is shown (§2); ``original_type`` keeps what the server sent.
    """

    TYPE: ClassVar[str] = "UNKNOWN"
    original_type: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def type(self) -> str:
        """The server's type, so that ``to_dict`` stays faithful."""
        return self.original_type

    def _payload(self) -> JsonDict:
        # The fields as the server sent them, so a malformed row reads back the same.
        return dict(self.extra)


type Attribute = (
    AmountAttribute
    | AmountConversionAttribute
    | KeyValueAttribute
    | NoteAttribute
    | HeadingAttribute
    | PartyInfoAttribute
    | ImageAttribute
    | AlertAttribute
    | UnknownAttribute
)


def _parse_party_info(obj: Mapping[str, Any], id_: str, label: str) -> Attribute:
    info = req_dict(obj, "partyInfo")
    party = PartyInfo(
        logo_url=req_str(info, "logoUrl", "partyInfo"),
        name=req_str(info, "name", "partyInfo"),
        description=req_str(info, "description", "partyInfo"),
        website_url=opt_str(info, "websiteUrl", "partyInfo"),
    )
    return PartyInfoAttribute(id_, label, party)


def _parse_conversion(obj: Mapping[str, Any], id_: str, label: str) -> Attribute:
    dynamic = opt_bool(obj, "dynamic")
    if dynamic is None:
        raise BadResponseError("dynamic is missing")
    return AmountConversionAttribute(
        id_, label, dynamic, _parse_money(obj, "source"), _parse_money(obj, "target")
    )


_ATTRIBUTE_PARSERS: dict[str, Callable[[Mapping[str, Any], str, str], Attribute]] = {
    AmountAttribute.TYPE: lambda o, i, lb: AmountAttribute(i, lb, _parse_money(o)),
    AmountConversionAttribute.TYPE: _parse_conversion,
    KeyValueAttribute.TYPE: lambda o, i, lb: KeyValueAttribute(i, lb, req_str(o, "value")),
    NoteAttribute.TYPE: lambda o, i, lb: NoteAttribute(i, lb, req_str(o, "note")),
    HeadingAttribute.TYPE: lambda o, i, lb: HeadingAttribute(i, lb, opt_int(o, "level")),
    PartyInfoAttribute.TYPE: _parse_party_info,
    AlertAttribute.TYPE: _parse_alert,
    ImageAttribute.TYPE: lambda o, i, lb: ImageAttribute(
        i, lb, req_str(o, "thumbnailUrl"), opt_str(o, "originalUrl")
    ),
}


_BASE_KEYS = frozenset({"type", "id", "label"})


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
    extra = {key: value for key, value in obj.items() if key not in _BASE_KEYS}
    return UnknownAttribute(id_, label, type_, extra)


def parse_attributes(value: Any) -> tuple[Attribute, ...]:
    """Parse a list of attributes; anything but a list reads as none, as the iOS SDK does."""
    return tuple(parse_attribute(item) for item in value) if isinstance(value, list) else ()


def _money_text(money: Money) -> str:
    return money.value_formatted or f"{money.display_amount} {money.display_currency}".strip()


def attribute_text(attribute: Attribute) -> str | None:
    """The attribute's value as one line of plain text, or None for rows without one.

    What a notification says about an operation (amount, account, note, …):
    headings, images and unknown rows have no value to repeat. An alert is
    the bank's warning about this very operation, so its title and message
    both go along.
    """
    if isinstance(attribute, AlertAttribute):
        return f"{attribute.title}: {attribute.message}" if attribute.title else attribute.message
    if isinstance(attribute, AmountAttribute):
        return _money_text(attribute.money)
    if isinstance(attribute, AmountConversionAttribute):
        return f"{_money_text(attribute.source)} → {_money_text(attribute.target)}"
    if isinstance(attribute, KeyValueAttribute):
        return attribute.value
    if isinstance(attribute, NoteAttribute):
        return attribute.note
    if isinstance(attribute, PartyInfoAttribute):
        return attribute.party_info.name
    return None


def attribute_texts(attributes: tuple[Attribute, ...]) -> list[dict[str, str]]:
    """The shown attributes as ``{label, value}`` strings, in the server's order."""
    return [
        {"label": attribute.label, "value": text}
        for attribute in attributes
        if (text := attribute_text(attribute)) is not None
    ]
