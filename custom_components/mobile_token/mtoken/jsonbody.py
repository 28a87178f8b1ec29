"""JSON bodies exactly as signed: compact, UTF-8, and decoded with typed errors."""

import json
from typing import Any

from .errors import BadResponseError
from .http import require_dict


def json_bytes(value: Any) -> bytes:
    """The compact UTF-8 JSON that is both sent and signed."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def json_object(raw: bytes, what: str) -> dict[str, Any]:
    """Decode a decrypted answer that must be a JSON object."""
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as err:
        raise BadResponseError(f"The server's {what} is not JSON") from err
    return require_dict(value, what)
