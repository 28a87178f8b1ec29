"""Reading request bodies and writing JSON answers, refusing bad input with 400.

Every endpoint reads its body here, so an oversized, non-UTF-8 or non-JSON
body, or a ``requestObject`` with missing or mistyped fields, becomes the
error envelope the endpoint's family uses, never a traceback.
"""

import json
from collections.abc import Callable, Mapping
from typing import Any, Final

from aiohttp import web

from .errors import ApiError

#: Largest request body the emulator reads (the reference rejects far smaller ones too).
MAX_BODY_SIZE: Final = 64 * 1024
REQUEST_OBJECT: Final = "requestObject"
#: Longest string field read unless the field says otherwise.
MAX_FIELD_LENGTH: Final = 4096

type ErrorFactory = Callable[[str], ApiError]


async def read_body(request: web.Request, error: ErrorFactory) -> bytes:
    """The raw body (signatures cover these exact bytes); refuse oversized ones."""
    if request.content_length is not None and request.content_length > MAX_BODY_SIZE:
        raise error(f"body of {request.content_length} bytes is too large")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge as err:
        raise error("body is too large") from err
    if len(body) > MAX_BODY_SIZE:
        raise error("body is too large")
    return body


def parse_json(raw: bytes, error: ErrorFactory) -> Any:
    """Decode a JSON body; duplicate keys and NaN are refused like bad JSON."""
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise error("body is not JSON") from err


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


async def read_json(request: web.Request, error: ErrorFactory) -> Any:
    """Read and decode a JSON body."""
    return parse_json(await read_body(request, error), error)


def as_object(value: Any, error: ErrorFactory, what: str = "body") -> dict[str, Any]:
    """Narrow to a JSON object or refuse."""
    if not isinstance(value, dict):
        raise error(f"{what} is not a JSON object")
    return value


def request_object(body: Any, error: ErrorFactory) -> dict[str, Any]:
    """The ``requestObject`` of a standard request body."""
    return as_object(as_object(body, error).get(REQUEST_OBJECT), error, REQUEST_OBJECT)


def get_str(
    obj: Mapping[str, Any],
    name: str,
    error: ErrorFactory,
    *,
    required: bool = True,
    max_length: int = MAX_FIELD_LENGTH,
) -> str | None:
    """A string field: present and non-empty when required, bounded in length."""
    if obj.get(name) is None and not required:
        return None
    return require_str(obj, name, error, max_length=max_length)


def require_str(
    obj: Mapping[str, Any], name: str, error: ErrorFactory, max_length: int = MAX_FIELD_LENGTH
) -> str:
    """A required non-empty string field, bounded in length."""
    value = obj.get(name)
    if not isinstance(value, str) or not value:
        raise error(f"{name} is missing or not a non-empty string")
    if len(value) > max_length:
        raise error(f"{name} is too long")
    return value


def json_response(body: Any, status: int = 200) -> web.Response:
    """A compact UTF-8 JSON answer."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return web.Response(text=text, status=status, content_type="application/json")
