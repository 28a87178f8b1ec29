"""Byte encodings shared by every protocol module (PowerAuth spec, notation)."""

import base64
import binascii
import struct
from collections.abc import Iterable


def b64encode(data: bytes) -> str:
    """Standard Base64 with padding, as every PowerAuth field uses."""
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str | bytes, *, length: int | None = None) -> bytes:
    """Strict standard Base64; raise ValueError on bad text or unexpected length."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError) as err:
        raise ValueError("not valid Base64") from err
    if length is not None and len(data) != length:
        raise ValueError(f"expected {length} bytes, got {len(data)}")
    return data


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (JWT segments)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Base64url with or without padding; raise ValueError on bad text."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError, TypeError) as err:
        raise ValueError("not valid Base64url") from err


def cws(*items: bytes | None) -> bytes:
    """Concatenate items, each prefixed by its BE32 length; None is an empty item."""
    out = bytearray()
    for item in items:
        data = item or b""
        out += struct.pack(">I", len(data)) + data
    return bytes(out)


def be64(value: int) -> bytes:
    """Big-endian unsigned 64-bit integer."""
    return struct.pack(">Q", value)


def concat(parts: Iterable[bytes]) -> bytes:
    """Plain concatenation, for readability at call sites."""
    return b"".join(parts)
