"""Pre- and post-approval screens an operation may ask for (mobile-token-api.md §2).

Servers of the Mobile Token SDK 1.x send one ``ui.preApprovalScreen``; since
SDK 2.4 they may send ``ui.preApprovalScreens``, a list shown in order. Each
screen of the list may carry an ``id`` (recorded in ``mobileTokenData`` when
the user saw it), ``backButton``, an ``image`` name, ``elements`` (``LIST_ITEM``
rows with an icon and a style, ``ALERT`` boxes with a style ``INFO`` /
``WARNING`` / ``DANGER``, ``BUTTON`` links of the action ``LINK`` / ``MAIL`` /
``PHONE`` with an ``href``) and ``controls`` (``flip``, ``axis`` ``HORIZONTAL`` /
``VERTICAL``, ``decline`` of type ``BACK`` / ``REJECT`` and ``approve`` of type
``BUTTON`` / ``SLIDER`` with an optional ``counter`` in seconds before it can be
used). The old single screen's ``items`` and ``approvalType`` are kept as sent.

Elements are hints for the eye: a malformed or unknown one never fails the
operation; it keeps every field as sent. Mistyped controls or screens do,
naming the field, as the SDKs' decoders do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Final

from .attributes import (
    Attribute,
    parse_attributes,
)
from .errors import BadResponseError
from .jsonread import (
    JsonDict,
    opt_bool,
    opt_dict,
    opt_int,
    opt_str,
    put,
    req_dict,
    req_str,
)

# --- screens --------------------------------------------------------------------------


class PreApprovalScreenType(StrEnum):
    """Pre-approval screen kinds; anything else reads as ``UNKNOWN`` (§2)."""

    INFO = "INFO"
    WARNING = "WARNING"
    QR_SCAN = "QR_SCAN"
    UNKNOWN = "UNKNOWN"


POST_APPROVAL_REVIEW = "REVIEW"
POST_APPROVAL_MERCHANT_REDIRECT = "MERCHANT_REDIRECT"
POST_APPROVAL_GENERIC = "GENERIC"


class ElementType(StrEnum):
    """Pre-approval screen element kinds (SDK 2.4+); others are kept as sent."""

    LIST_ITEM = "LIST_ITEM"
    ALERT = "ALERT"
    BUTTON = "BUTTON"


class ElementStyle(StrEnum):
    """How an element is emphasised."""

    INFO = "INFO"
    WARNING = "WARNING"
    DANGER = "DANGER"


class ButtonAction(StrEnum):
    """What a ``BUTTON`` element's ``href`` is: a web address, an e-mail or a phone number."""

    LINK = "LINK"
    MAIL = "MAIL"
    PHONE = "PHONE"


_ELEMENT_FIELDS: Final = {
    "id": "id",
    "text": "text",
    "style": "style",
    "icon": "icon",
    "action": "action",
    "actionSettings": "action_settings",
    "href": "href",
}


@dataclass(frozen=True)
class ScreenElement:
    """One element of a pre-approval screen; every field but ``type`` is optional.

    ``malformed`` elements (a field of the wrong JSON type) keep all their
    fields in ``extra`` exactly as sent, so nothing is lost and the card can
    still show what it understands.
    """

    type: str
    id: str | None = None
    text: str | None = None
    style: str | None = None
    icon: str | None = None
    action: str | None = None
    action_settings: str | None = None
    href: str | None = None
    malformed: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> JsonDict:
        """Return the wire element."""
        out: JsonDict = {"type": self.type}
        for wire, attr in _ELEMENT_FIELDS.items():
            put(out, wire, getattr(self, attr))
        out.update(self.extra)
        return out


def parse_element(obj: Any, where: str = "element") -> ScreenElement:
    """Read one element; a malformed object keeps its fields as sent (only a non-object fails)."""
    if not isinstance(obj, Mapping):
        raise BadResponseError(f"{where} must be an object")
    type_ = obj.get("type", "")
    extra = {k: v for k, v in obj.items() if k != "type" and k not in _ELEMENT_FIELDS}
    if not isinstance(type_, str) or not all(
        obj.get(key) is None or isinstance(obj.get(key), str) for key in _ELEMENT_FIELDS
    ):
        # A mistyped ``type`` is kept in ``extra`` too, so ``to_dict`` writes it back as sent.
        raw = {k: v for k, v in obj.items() if k != "type" or not isinstance(type_, str)}
        return ScreenElement(type_ if isinstance(type_, str) else "", malformed=True, extra=raw)
    return ScreenElement(
        type_,
        id=obj.get("id"),
        text=obj.get("text"),
        style=obj.get("style"),
        icon=obj.get("icon"),
        action=obj.get("action"),
        action_settings=obj.get("actionSettings"),
        href=obj.get("href"),
        extra=extra,
    )


@dataclass(frozen=True)
class ApproveControl:
    """How approval is offered: ``BUTTON`` or ``SLIDER``, usable after ``counter`` seconds."""

    type: str | None = None
    text: str | None = None
    counter: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> JsonDict:
        """Return the wire ``approve`` object."""
        out: JsonDict = {}
        put(out, "type", self.type)
        put(out, "text", self.text)
        put(out, "counter", self.counter)
        out.update(self.extra)
        return out


@dataclass(frozen=True)
class DeclineControl:
    """How the user leaves the screen: ``BACK`` (to the list) or ``REJECT`` the operation."""

    type: str | None = None
    text: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> JsonDict:
        """Return the wire ``decline`` object."""
        out: JsonDict = {}
        put(out, "type", self.type)
        put(out, "text", self.text)
        out.update(self.extra)
        return out


@dataclass(frozen=True)
class ScreenControls:
    """The screen's buttons: order (``flip``), layout (``axis``), approve and decline."""

    flip: bool | None = None
    axis: str | None = None
    approve: ApproveControl | None = None
    decline: DeclineControl | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> JsonDict:
        """Return the wire ``controls`` object."""
        out: JsonDict = {}
        put(out, "flip", self.flip)
        put(out, "axis", self.axis)
        put(out, "decline", None if self.decline is None else self.decline.to_dict())
        put(out, "approve", None if self.approve is None else self.approve.to_dict())
        out.update(self.extra)
        return out


def _others(obj: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    """The fields a newer server adds, kept as sent."""
    return {key: value for key, value in obj.items() if key not in known}


_APPROVE_KEYS: Final = frozenset({"type", "text", "counter"})
_DECLINE_KEYS: Final = frozenset({"type", "text"})
_CONTROLS_KEYS: Final = frozenset({"flip", "axis", "decline", "approve"})


def _parse_approve(obj: Mapping[str, Any], where: str) -> ApproveControl:
    counter = opt_int(obj, "counter", where)
    if counter is not None and counter < 0:
        raise BadResponseError(f"{where}.counter must not be negative")
    return ApproveControl(
        opt_str(obj, "type", where),
        opt_str(obj, "text", where),
        counter,
        _others(obj, _APPROVE_KEYS),
    )


def _parse_controls(obj: Mapping[str, Any], where: str) -> ScreenControls:
    approve = opt_dict(obj, "approve", where)
    decline = opt_dict(obj, "decline", where)
    return ScreenControls(
        flip=opt_bool(obj, "flip", where),
        axis=opt_str(obj, "axis", where),
        approve=None if approve is None else _parse_approve(approve, f"{where}.approve"),
        decline=None
        if decline is None
        else DeclineControl(
            opt_str(decline, "type", f"{where}.decline"),
            opt_str(decline, "text", f"{where}.decline"),
            _others(decline, _DECLINE_KEYS),
        ),
        extra=_others(obj, _CONTROLS_KEYS),
    )


_SCREEN_KEYS: Final = frozenset(
    {
        "id",
        "type",
        "heading",
        "message",
        "items",
        "approvalType",
        "backButton",
        "image",
        "elements",
        "controls",
    }
)


@dataclass(frozen=True)
class PreApprovalScreen:
    """A screen shown before approval; ``QR_SCAN`` requires a proximity check (§2).

    ``items`` and ``approval_type`` belong to the single screen of SDK 1.x;
    ``id``, ``back_button``, ``image``, ``elements`` and ``controls`` to the
    list of SDK 2.4+. Fields a newer server adds are kept in ``extra``.
    """

    type: PreApprovalScreenType
    heading: str
    message: str
    items: tuple[str, ...] | None = None
    approval_type: str | None = None
    id: str | None = None
    back_button: bool | None = None
    image: str | None = None
    elements: tuple[ScreenElement, ...] | None = None
    controls: ScreenControls | None = None
    raw_type: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> JsonDict:
        """Return the wire screen object."""
        out: JsonDict = {}
        put(out, "id", self.id)
        out["type"] = self.raw_type or str(self.type)
        out["heading"] = self.heading
        out["message"] = self.message
        put(out, "items", None if self.items is None else list(self.items))
        put(out, "approvalType", self.approval_type)
        put(out, "backButton", self.back_button)
        put(out, "image", self.image)
        if self.elements is not None:
            out["elements"] = [element.to_dict() for element in self.elements]
        put(out, "controls", None if self.controls is None else self.controls.to_dict())
        out.update(self.extra)
        return out


def parse_pre_approval_screen(
    obj: Mapping[str, Any], where: str = "ui.preApprovalScreen"
) -> PreApprovalScreen:
    """Read one pre-approval screen; an unknown type reads as ``UNKNOWN``, kept in ``raw_type``."""
    raw_type = req_str(obj, "type", where)
    items = obj.get("items")
    if items is not None and not (
        isinstance(items, list) and all(isinstance(item, str) for item in items)
    ):
        raise BadResponseError(f"{where}.items must be a list of strings")
    elements = obj.get("elements")
    if elements is not None and not isinstance(elements, list):
        raise BadResponseError(f"{where}.elements must be a list")
    controls = opt_dict(obj, "controls", where)
    known = raw_type in PreApprovalScreenType and raw_type != PreApprovalScreenType.UNKNOWN
    return PreApprovalScreen(
        type=PreApprovalScreenType(raw_type) if known else PreApprovalScreenType.UNKNOWN,
        heading=req_str(obj, "heading", where),
        message=req_str(obj, "message", where),
        items=None if items is None else tuple(items),
        approval_type=opt_str(obj, "approvalType", where),
        id=opt_str(obj, "id", where),
        back_button=opt_bool(obj, "backButton", where),
        image=opt_str(obj, "image", where),
        elements=None
        if elements is None
        else tuple(parse_element(e, f"{where}.elements[{i}]") for i, e in enumerate(elements)),
        controls=None if controls is None else _parse_controls(controls, f"{where}.controls"),
        raw_type=None if known else raw_type,
        extra=_others(obj, _SCREEN_KEYS),
    )


def parse_pre_approval_screens(value: Any) -> tuple[PreApprovalScreen, ...]:
    """Read ``ui.preApprovalScreens``; one bad screen fails the operation, naming it."""
    where = "ui.preApprovalScreens"
    if not isinstance(value, list):
        raise BadResponseError(f"{where} must be a list")
    screens = []
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise BadResponseError(f"{where}[{index}] must be an object")
        screens.append(parse_pre_approval_screen(item, f"{where}[{index}]"))
    return tuple(screens)


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
        put(out, "payload", self.payload)
        return out


type PostApprovalScreen = (
    ReviewPostApprovalScreen | MerchantRedirectPostApprovalScreen | GenericPostApprovalScreen
)


def parse_post_approval_screen(obj: Mapping[str, Any]) -> PostApprovalScreen:
    """Read ``ui.postApprovalScreen``; an unknown type reads as generic."""
    where = "ui.postApprovalScreen"
    type_ = req_str(obj, "type", where)
    heading, message = req_str(obj, "heading", where), req_str(obj, "message", where)
    if type_ == POST_APPROVAL_REVIEW:
        payload = req_dict(obj, "payload", where)
        return ReviewPostApprovalScreen(
            heading, message, parse_attributes(payload.get("attributes"))
        )
    if type_ == POST_APPROVAL_MERCHANT_REDIRECT:
        payload = req_dict(obj, "payload", where)
        countdown = opt_int(payload, "countdown", f"{where}.payload")
        if countdown is None:
            raise BadResponseError(f"{where}.payload.countdown is missing")
        return MerchantRedirectPostApprovalScreen(
            heading,
            message,
            req_str(payload, "redirectText", f"{where}.payload"),
            req_str(payload, "redirectUrl", f"{where}.payload"),
            countdown,
        )
    return GenericPostApprovalScreen(type_, heading, message, obj.get("payload"))
