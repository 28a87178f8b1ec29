"""Pre- and post-approval screens an operation may ask for (mobile-token-api.md §2)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from .attributes import (
    Attribute,
    parse_attributes,
)
from .errors import BadResponseError
from .jsonread import (
    JsonDict,
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
        put(out, "items", None if self.items is None else list(self.items))
        put(out, "approvalType", self.approval_type)
        return out


def parse_pre_approval_screen(obj: Mapping[str, Any]) -> PreApprovalScreen:
    """Read ``ui.preApprovalScreen``; an unknown type reads as ``UNKNOWN``."""
    where = "ui.preApprovalScreen"
    raw_type = req_str(obj, "type", where)
    items = obj.get("items")
    if items is not None and not (
        isinstance(items, list) and all(isinstance(item, str) for item in items)
    ):
        raise BadResponseError(f"{where}.items must be a list of strings")
    return PreApprovalScreen(
        type=PreApprovalScreenType(raw_type)
        if raw_type in PreApprovalScreenType
        else PreApprovalScreenType.UNKNOWN,
        heading=req_str(obj, "heading", where),
        message=req_str(obj, "message", where),
        items=None if items is None else tuple(items),
        approval_type=opt_str(obj, "approvalType", where),
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
