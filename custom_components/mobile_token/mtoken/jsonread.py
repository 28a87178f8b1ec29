"""Reading the server's JSON with typed errors that name the offending field."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from .dates import parse_datetime
from .errors import BadResponseError

JsonDict = dict[str, Any]


def field_path(where: str, key: str) -> str:
    """The dotted path of a field, for error messages."""
    return f"{where}.{key}" if where else key


def req_str(obj: Mapping[str, Any], key: str, where: str = "") -> str:
    """A required string field."""
    value = obj.get(key)
    if not isinstance(value, str):
        raise BadResponseError(f"{field_path(where, key)} must be a string, got {kind(value)}")
    return value


def opt_str(obj: Mapping[str, Any], key: str, where: str = "") -> str | None:
    """An optional string field."""
    return None if obj.get(key) is None else req_str(obj, key, where)


def opt_bool(obj: Mapping[str, Any], key: str, where: str = "") -> bool | None:
    """An optional boolean field."""
    value = obj.get(key)
    if value is not None and not isinstance(value, bool):
        raise BadResponseError(f"{field_path(where, key)} must be a boolean, got {kind(value)}")
    return value


def opt_int(obj: Mapping[str, Any], key: str, where: str = "") -> int | None:
    """An optional integer field (booleans refused)."""
    value = obj.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise BadResponseError(f"{field_path(where, key)} must be an integer, got {kind(value)}")
    return value


def opt_decimal(obj: Mapping[str, Any], key: str, where: str = "") -> Decimal | None:
    """An optional number field, kept exact as a Decimal (floats through their shortest repr)."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise BadResponseError(f"{field_path(where, key)} must be a number, got {kind(value)}")
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise BadResponseError(f"{field_path(where, key)} must be a finite number")
    return number


def req_dict(obj: Mapping[str, Any], key: str, where: str = "") -> Mapping[str, Any]:
    """A required object field."""
    value = obj.get(key)
    if not isinstance(value, Mapping):
        raise BadResponseError(f"{field_path(where, key)} must be an object, got {kind(value)}")
    return value


def opt_dict(obj: Mapping[str, Any], key: str, where: str = "") -> Mapping[str, Any] | None:
    """An optional object field."""
    return None if obj.get(key) is None else req_dict(obj, key, where)


def opt_date(obj: Mapping[str, Any], key: str) -> datetime | None:
    """An optional date field in any of the accepted forms."""
    if obj.get(key) is None:
        return None
    try:
        return parse_datetime(obj[key])
    except BadResponseError as err:
        raise BadResponseError(f"{key}: {err}") from err


def kind(value: object) -> str:
    """A JSON value's kind, for error messages."""
    return "nothing" if value is None else type(value).__name__


def json_number(value: Decimal) -> int | float:
    """Decimal back to a JSON number: integral values stay exact ints."""
    return int(value) if value == value.to_integral_value() else float(value)


def put(out: JsonDict, key: str, value: Any) -> None:
    """Write a key only when it has a value: the server omits null fields (§2)."""
    if value is not None:
        out[key] = value
