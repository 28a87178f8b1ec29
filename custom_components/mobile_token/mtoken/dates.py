"""Dates as the Mobile Token API writes them (mobile-token-api.md §2).

The server writes ``yyyy-MM-dd'T'HH:mm:ssZ`` (``2018-07-02T14:43:13+0000``),
but servers built on other stacks send ``Z``, ``+00:00``, fractional seconds
(Java gives up to nanoseconds) or epoch milliseconds, and the mobile SDKs
accept all of them. Everything is turned into an aware UTC ``datetime`` so
that expiry checks never compare naive and aware values.
"""

import re
from datetime import UTC, datetime
from typing import Any

from .errors import BadResponseError

_ISO_DATETIME = re.compile(
    r"(?P<base>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]+))?"
    r"(?P<zone>Z|z|[+-][0-9]{2}:?[0-9]{2})"
)
_MICROSECOND_DIGITS = 6
_MILLISECONDS_PER_SECOND = 1000


def parse_datetime(value: Any) -> datetime:
    """Parse a wire date (string or epoch milliseconds) into an aware UTC datetime.

    A date without a zone is refused: guessing one would shift the expiry
    by hours. Raise BadResponseError for anything that is not a date.
    """
    if isinstance(value, bool):
        raise BadResponseError(f"expected a date, got {value!r}")
    if isinstance(value, int | float):
        return _from_epoch_millis(value)
    if not isinstance(value, str):
        raise BadResponseError(f"expected a date, got {type(value).__name__}")
    match = _ISO_DATETIME.fullmatch(value)
    if match is None:
        raise BadResponseError(f"not a date with a time zone: {value!r}")
    fraction = (match["fraction"] or "")[:_MICROSECOND_DIGITS].ljust(_MICROSECOND_DIGITS, "0")
    zone = "+00:00" if match["zone"] in ("Z", "z") else match["zone"]
    if ":" not in zone:
        zone = f"{zone[:3]}:{zone[3:]}"
    try:
        parsed = datetime.fromisoformat(f"{match['base']}.{fraction}{zone}")
    except ValueError as err:
        raise BadResponseError(f"not a valid date: {value!r}") from err
    return parsed.astimezone(UTC)


def _from_epoch_millis(value: float) -> datetime:
    """Epoch milliseconds, as the Android SDK accepts a numeric date."""
    try:
        return datetime.fromtimestamp(value / _MILLISECONDS_PER_SECOND, UTC)
    except (OverflowError, OSError, ValueError) as err:
        raise BadResponseError(f"epoch milliseconds out of range: {value!r}") from err


def format_datetime(value: datetime) -> str:
    """ISO 8601 in UTC with a ``+00:00`` offset.

    ``parse_datetime`` reads it back to the same instant, and browsers'
    ``Date`` parse it (they do not all accept the server's ``+0000``).
    """
    return value.astimezone(UTC).isoformat()


def format_datetime_z(value: datetime) -> str:
    """``yyyy-MM-dd'T'HH:mm:ssZ`` with a literal ``Z``, as proximity timestamps are sent (§3)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
