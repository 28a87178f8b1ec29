"""Proximity-check (PAC) codes: the operation id and TOTP from a QR code or a deeplink (§5).

An operation with a ``QR_SCAN`` pre-approval screen is approved only with a
TOTP that proves the user is in front of the screen showing it. The bank
shows it as a QR code (a plain JWT, or a deeplink) or sends a deeplink; these
parsers follow the Wultra SDKs' ``PACUtils`` and return ``None`` for text
that is not a PAC code, so a caller can try one format after another.
The JWT is not signed (``alg: none``): the server checks the TOTP itself.
"""

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from .encoding import b64decode
from .errors import InvalidProximityCodeError

OPERATION_ID_KEY = "oid"
TOTP_KEYS = ("totp", "potp")
"""``potp`` is the older name; both are accepted in queries and JWT payloads."""

_JWT_SEPARATOR = "."
_JWT_PAYLOAD_INDEX = 1
_BASE64_BLOCK = 4
_URL_SAFE_TO_STANDARD = str.maketrans("-_", "+/")


@dataclass(frozen=True)
class ProximityCode:
    """What a PAC code carries: the operation it is for and, usually, the TOTP."""

    operation_id: str
    totp: str | None = None


def parse_pac_deeplink(text: str) -> ProximityCode | None:
    """Read a deeplink: ``?oid=…&potp=…`` (or ``totp``), else the first query value as a JWT."""
    items = _query_items(text)
    operation_id = _first_value(items, (OPERATION_ID_KEY,))
    if operation_id is not None:
        return _code(operation_id, _first_value(items, TOTP_KEYS))
    if not items or items[0][1] is None:
        return None
    return _parse_jwt(items[0][1])


def parse_pac_qr(text: str) -> ProximityCode | None:
    """Read a scanned PAC QR code: a URL with a scheme is a deeplink, anything else a JWT."""
    try:
        scheme = urlsplit(text).scheme
    except ValueError:
        scheme = ""
    return parse_pac_deeplink(text) if scheme else _parse_jwt(text)


def parse_pac(text: str) -> ProximityCode:
    """Read what a user pasted (QR text or deeplink); raise InvalidProximityCodeError if neither."""
    stripped = text.strip()
    code = parse_pac_qr(stripped) or parse_pac_deeplink(stripped)
    if code is None:
        raise InvalidProximityCodeError(
            "This is not a proximity code: paste the text of the QR code or the link"
        )
    return code


def _query_items(url: str) -> list[tuple[str, str | None]]:
    """Query items in order, percent-decoded; ``+`` stays ``+`` (it is Base64, not a space)."""
    try:
        query = urlsplit(url).query
    except ValueError:
        return []
    items: list[tuple[str, str | None]] = []
    for item in query.split("&") if query else ():
        name, separator, value = item.partition("=")
        items.append((unquote(name), unquote(value) if separator else None))
    return items


def _first_value(items: list[tuple[str, str | None]], names: tuple[str, ...]) -> str | None:
    return next((value for name, value in items if name in names and value is not None), None)


def _code(operation_id: str, totp: str | None) -> ProximityCode | None:
    """Build a code; an empty operation id is no code, an empty TOTP no TOTP."""
    return ProximityCode(operation_id, totp or None) if operation_id else None


def _parse_jwt(code: str) -> ProximityCode | None:
    """Decode the payload (part 1) of an unsigned JWT: ``{"oid", "potp" | "totp"}``."""
    parts = code.split(_JWT_SEPARATOR)
    if len(parts) <= _JWT_PAYLOAD_INDEX or not parts[_JWT_PAYLOAD_INDEX]:
        return None
    payload = _decode_json(parts[_JWT_PAYLOAD_INDEX])
    if not isinstance(payload, dict):
        return None
    operation_id = payload.get(OPERATION_ID_KEY)
    totps = [payload[key] for key in TOTP_KEYS if payload.get(key) is not None]
    if not isinstance(operation_id, str) or not all(isinstance(t, str) for t in totps):
        return None
    return _code(operation_id, totps[0] if totps else None)


def _decode_json(segment: str) -> Any:
    """Base64 (standard or URL-safe, padding optional) to JSON; None when it is neither."""
    padded = segment.translate(_URL_SAFE_TO_STANDARD) + "=" * (-len(segment) % _BASE64_BLOCK)
    try:
        return json.loads(b64decode(padded).decode("utf-8"))
    except (ValueError, RecursionError):
        return None
