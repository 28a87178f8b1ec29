"""``mobileTokenData``: what the app tells the bank's fraud detection along with a decision.

Since Mobile Token SDK 2.1 an approval may carry ``mobileTokenData``, any JSON
object, next to ``id`` and ``data`` in the authorize body; since 3.0 a
rejection may carry it next to ``id`` and ``reason``. The SDKs' standard
record under the key ``preApprovalScreens`` lists the user's visits to the
pre-approval screens in order: ``screen`` (the screen's ``id``),
``timestampOpened``, and, once left, ``timestampClosed`` and the ``action``
that ended the visit (``CONTINUE``, ``BACK``, ``CLOSE``, ``REJECT``, ``SCAN``
or the app's own word). Timestamps are ISO 8601 in UTC on the server's clock.

The visits reach the integration from the dashboard card, so they are
validated here like any other input before they are signed and sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from .dates import format_datetime_z, parse_datetime
from .errors import BadResponseError, InvalidInputError
from .jsonread import JsonDict, put

KEY_PRE_APPROVAL_SCREENS: Final = "preApprovalScreens"
ACTION_CONTINUE: Final = "CONTINUE"
ACTION_BACK: Final = "BACK"
ACTION_CLOSE: Final = "CLOSE"
ACTION_REJECT: Final = "REJECT"
ACTION_SCAN: Final = "SCAN"
#: A visit list longer than this is not a person clicking through screens.
MAX_VISITS: Final = 100
MAX_WORD: Final = 64


@dataclass(frozen=True)
class ScreenVisit:
    """One visit to a pre-approval screen."""

    screen: str
    opened: datetime
    closed: datetime | None = None
    action: str | None = None

    def to_dict(self) -> JsonDict:
        """Return the visit as the SDKs record it."""
        out: JsonDict = {"screen": self.screen, "timestampOpened": format_datetime_z(self.opened)}
        put(out, "timestampClosed", None if self.closed is None else format_datetime_z(self.closed))
        put(out, "action", self.action)
        return out


def _word(item: Mapping[str, Any], key: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value or len(value) > MAX_WORD:
        raise InvalidInputError(f"{key} must be a text of 1 to {MAX_WORD} characters")
    return value


def _time(item: Mapping[str, Any], key: str) -> datetime | None:
    if item.get(key) is None:
        return None
    try:
        return parse_datetime(item[key])
    except BadResponseError as err:
        raise InvalidInputError(f"{key} is not a date: {err}") from err


def parse_screen_visits(value: Any) -> tuple[ScreenVisit, ...]:
    """Validate visits handed in by a user interface; raise InvalidInputError."""
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) > MAX_VISITS:
        raise InvalidInputError(f"The screen visits must be a list of at most {MAX_VISITS}")
    visits = []
    for item in value:
        if not isinstance(item, Mapping):
            raise InvalidInputError("Each screen visit must be an object")
        opened = _time(item, "timestampOpened")
        if opened is None:
            raise InvalidInputError("timestampOpened is missing")
        action = None if item.get("action") is None else _word(item, "action")
        visits.append(
            ScreenVisit(_word(item, "screen"), opened, _time(item, "timestampClosed"), action)
        )
    return tuple(visits)


def mobile_token_data(visits: Sequence[ScreenVisit]) -> JsonDict | None:
    """The ``mobileTokenData`` object with the screen record, or None when nothing was seen."""
    if not visits:
        return None
    return {KEY_PRE_APPROVAL_SCREENS: [visit.to_dict() for visit in visits]}
