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

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from .attributes import (
    AlertAttribute,
    AlertType,
    AmountAttribute,
    AmountConversionAttribute,
    Attribute,
    HeadingAttribute,
    ImageAttribute,
    KeyValueAttribute,
    Money,
    NoteAttribute,
    PartyInfo,
    PartyInfoAttribute,
    UnknownAttribute,
    parse_attribute,
    parse_attributes,
)
from .dates import format_datetime, format_datetime_z, parse_datetime
from .errors import BadResponseError
from .jsonread import (
    JsonDict,
    kind,
    opt_bool,
    opt_date,
    opt_dict,
    opt_str,
    put,
    req_dict,
    req_str,
)
from .screens import (
    ApproveControl,
    ButtonAction,
    DeclineControl,
    ElementStyle,
    ElementType,
    GenericPostApprovalScreen,
    MerchantRedirectPostApprovalScreen,
    PostApprovalScreen,
    PreApprovalScreen,
    PreApprovalScreenType,
    ReviewPostApprovalScreen,
    ScreenControls,
    ScreenElement,
    parse_post_approval_screen,
    parse_pre_approval_screen,
    parse_pre_approval_screens,
)
from .templates import Templates, parse_templates

__all__ = [
    "AlertAttribute",
    "AlertType",
    "AllowedSignature",
    "AmountAttribute",
    "AmountConversionAttribute",
    "ApproveControl",
    "Attribute",
    "ButtonAction",
    "DeclineControl",
    "ElementStyle",
    "ElementType",
    "FormData",
    "GenericPostApprovalScreen",
    "HeadingAttribute",
    "ImageAttribute",
    "KeyValueAttribute",
    "MerchantRedirectPostApprovalScreen",
    "Money",
    "NoteAttribute",
    "Operation",
    "OperationListParser",
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
    "ScreenControls",
    "ScreenElement",
    "SignatureFactor",
    "SignatureType",
    "Templates",
    "UnknownAttribute",
    "parse_attribute",
    "parse_datetime",
    "parse_operation",
    "parse_operation_list",
]


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


class ProximityCheckType(StrEnum):
    """How the proximity TOTP reached the client (§3)."""

    QR_CODE = "QR_CODE"
    DEEPLINK = "DEEPLINK"


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
    raw_type = req_str(obj, "type", where)
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
            put(out, key, getattr(self, key))
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
        put(out, "resultTexts", None if self.result_texts is None else self.result_texts.to_dict())
        out["attributes"] = [attribute.to_dict() for attribute in self.attributes]
        return out


def _parse_form_data(obj: Mapping[str, Any]) -> FormData:
    texts = obj.get("resultTexts")
    result_texts = None
    if isinstance(texts, Mapping):
        result_texts = ResultTexts(
            *(
                opt_str(texts, key, "formData.resultTexts")
                for key in ("success", "failure", "reject")
            )
        )
    return FormData(
        title=req_str(obj, "title", "formData"),
        message=req_str(obj, "message", "formData"),
        attributes=parse_attributes(obj.get("attributes")),
        result_texts=result_texts,
    )


@dataclass(frozen=True)
class OperationUI:
    """Optional UI hints (§2); unknown keys are ignored.

    ``pre_approval_screen`` is the single screen of SDK 1.x servers,
    ``pre_approval_screens`` the list of SDK 2.4+; ``screens`` is what to show.
    """

    flip_buttons: bool | None = None
    block_approval_on_call: bool | None = None
    pre_approval_screen: PreApprovalScreen | None = None
    post_approval_screen: PostApprovalScreen | None = None
    pre_approval_screens: tuple[PreApprovalScreen, ...] | None = None

    @property
    def screens(self) -> tuple[PreApprovalScreen, ...]:
        """The screens to show in order: the list when sent (as the SDKs prefer), else the one."""
        if self.pre_approval_screens is not None:
            return self.pre_approval_screens
        return () if self.pre_approval_screen is None else (self.pre_approval_screen,)

    def to_dict(self) -> JsonDict:
        """Return the wire ``ui`` object."""
        out: JsonDict = {}
        put(out, "flipButtons", self.flip_buttons)
        put(out, "blockApprovalOnCall", self.block_approval_on_call)
        if self.pre_approval_screen is not None:
            out["preApprovalScreen"] = self.pre_approval_screen.to_dict()
        if self.pre_approval_screens is not None:
            out["preApprovalScreens"] = [screen.to_dict() for screen in self.pre_approval_screens]
        if self.post_approval_screen is not None:
            out["postApprovalScreen"] = self.post_approval_screen.to_dict()
        return out


def _parse_ui(obj: Mapping[str, Any]) -> OperationUI:
    pre = opt_dict(obj, "preApprovalScreen", "ui")
    screens = obj.get("preApprovalScreens")
    post = opt_dict(obj, "postApprovalScreen", "ui")
    return OperationUI(
        flip_buttons=opt_bool(obj, "flipButtons", "ui"),
        block_approval_on_call=opt_bool(obj, "blockApprovalOnCall", "ui"),
        pre_approval_screen=None if pre is None else parse_pre_approval_screen(pre),
        post_approval_screen=None if post is None else parse_post_approval_screen(post),
        pre_approval_screens=None if screens is None else parse_pre_approval_screens(screens),
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
        """A ``QR_SCAN`` pre-approval screen in either form: a proximity TOTP must go along."""
        return self._has_screen(PreApprovalScreenType.QR_SCAN)

    def _has_screen(self, type_: PreApprovalScreenType) -> bool:
        """Whether a pre-approval screen of this type comes in either form.

        The list of SDK 2.4+ wins for display, but a bank that still sends the
        single screen beside it means that one as well: its demands count too.
        """
        if self.ui is None:
            return False
        screens = [*self.ui.screens]
        if self.ui.pre_approval_screen is not None:
            screens.append(self.ui.pre_approval_screen)
        return any(screen.type is type_ for screen in screens)

    @property
    def block_approval_on_call(self) -> bool:
        """The bank asks not to approve during a phone call (a caller may be coaching a fraud)."""
        return bool(self.ui and self.ui.block_approval_on_call)

    @property
    def templates(self) -> Templates | None:
        """The layout hints; None when absent or malformed (the raw value stays in ``extra``)."""
        raw = self.extra.get("templates")
        if raw is None:
            return None
        try:
            return parse_templates(raw)
        except BadResponseError:
            return None

    @property
    def has_warning_screen(self) -> bool:
        """A ``WARNING`` pre-approval screen in either form: the bank wants it read first."""
        return self._has_screen(PreApprovalScreenType.WARNING)

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
        put(out, "status", None if self.status is None else str(self.status))
        put(out, "statusReason", self.status_reason)
        for key, value in (("operationCreated", self.created), ("operationExpires", self.expires)):
            put(out, key, None if value is None else format_datetime(value))
        out["allowedSignatureType"] = self.allowed_signature.to_dict()
        out["formData"] = self.form_data.to_dict()
        put(out, "ui", None if self.ui is None else self.ui.to_dict())
        out.update(self.extra)
        return out


def parse_operation(obj: Any) -> Operation:
    """Parse one operation; raise BadResponseError naming the first bad field."""
    if not isinstance(obj, Mapping):
        raise BadResponseError(f"an operation must be an object, got {kind(obj)}")
    status = opt_str(obj, "status")
    ui = opt_dict(obj, "ui")
    return Operation(
        id=req_str(obj, "id"),
        name=req_str(obj, "name"),
        data=req_str(obj, "data"),
        allowed_signature=_parse_allowed_signature(req_dict(obj, "allowedSignatureType")),
        form_data=_parse_form_data(req_dict(obj, "formData")),
        status=_parse_status(status),
        status_reason=opt_str(obj, "statusReason"),
        created=opt_date(obj, "operationCreated"),
        expires=opt_date(obj, "operationExpires"),
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
    return OperationListParser().parse(obj)


class OperationListParser:
    """Parses list responses, reusing operations the server sent unchanged last time.

    Polling mostly returns the same operations again; comparing a raw object
    with the one parsed before is far cheaper than parsing it anew.
    """

    def __init__(self) -> None:
        self._known: dict[str, tuple[Any, Operation]] = {}

    def unknown_count(self, obj: Any) -> int:
        """How many operations of a list response need parsing."""
        if not isinstance(obj, list):
            return 0
        return sum(1 for item in obj if self._reusable(item) is None)

    def parse(self, obj: Any) -> list[Operation]:
        """Parse a list response (raises BadResponseError naming the bad operation)."""
        if not isinstance(obj, list):
            raise BadResponseError(f"the operation list must be an array, got {kind(obj)}")
        operations = []
        known: dict[str, tuple[Any, Operation]] = {}
        for index, item in enumerate(obj):
            operation = self._reusable(item)
            if operation is None:
                try:
                    operation = parse_operation(item)
                except BadResponseError as err:
                    raise BadResponseError(f"operation {_describe(index, item)}: {err}") from err
            known[operation.id] = (item, operation)
            operations.append(operation)
        self._known = known
        return operations

    def _reusable(self, item: Any) -> Operation | None:
        op_id = item.get("id") if isinstance(item, Mapping) else None
        cached = self._known.get(op_id) if isinstance(op_id, str) else None
        return cached[1] if cached is not None and cached[0] == item else None


def _describe(index: int, item: Any) -> str:
    op_id = item.get("id") if isinstance(item, Mapping) else None
    return f"#{index} ({op_id})" if isinstance(op_id, str) else f"#{index}"
