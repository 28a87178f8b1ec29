"""The inbox service, server side: the bank's messages to a user.

Token-authenticated like the operation list; each user sees only their own
messages, newest first. Messages come from ``POST /admin/inbox`` and the demo.
"""

import uuid
from typing import Any, Final

from aiohttp import web

from mtoken.token import TOKEN_HEADER

from .auth import verify_token
from .context import Emulator, emulator_of
from .errors import invalid_request, ok_body
from .httpio import as_object, get_str, json_response, read_json, request_object, require_str
from .operation_json import format_date

CONTENT_TYPES: Final = frozenset({"text", "html"})
MAX_PAGE_SIZE: Final = 100
MAX_ID_LENGTH: Final = 64
MAX_SUBJECT: Final = 256
MAX_BODY: Final = 65536
ERROR_MESSAGE_NOT_FOUND: Final = "invalid message"


def message_json(row: dict[str, Any], *, with_body: bool = False) -> dict[str, Any]:
    """A message as the inbox API sends it."""
    out = {
        "id": row["id"],
        "subject": row["subject"],
        "summary": row["summary"],
        "type": row["type"],
        "read": bool(row["read"]),
        "timestampCreated": format_date(row["created_ms"]),
    }
    if with_body:
        out["body"] = row["body"]
    return out


def _optional_text(body: dict[str, Any], name: str, max_length: int) -> str:
    """A text field that may be missing or empty."""
    if body.get(name) in (None, ""):
        return ""
    return require_str(body, name, invalid_request, max_length=max_length)


def new_message(emu: Emulator, user_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Validate an admin message into a stored row."""
    content_type = get_str(body, "type", invalid_request, required=False, max_length=8) or "text"
    if content_type not in CONTENT_TYPES:
        raise invalid_request("type must be text or html")
    message = {
        "id": str(uuid.uuid4()),
        "user_id": user_id,
        "subject": require_str(body, "subject", invalid_request, max_length=MAX_SUBJECT),
        "summary": _optional_text(body, "summary", 1024),
        "body": _optional_text(body, "body", MAX_BODY),
        "type": content_type,
        "created_ms": emu.now_ms(),
    }
    emu.db.insert_message(message)
    return message | {"read": False}


async def _caller(request: web.Request) -> tuple[Emulator, str, Any]:
    emu = emulator_of(request)
    auth = verify_token(emu, request.headers.get(TOKEN_HEADER))
    return emu, auth.activation.user_id, await read_json(request, invalid_request)


def _own_message(emu: Emulator, user_id: str, body: Any) -> dict[str, Any]:
    payload = request_object(body, invalid_request)
    message_id = require_str(payload, "id", invalid_request, max_length=MAX_ID_LENGTH)
    row = emu.db.get_message(message_id)
    if row is None or row["user_id"] != user_id:
        raise invalid_request(ERROR_MESSAGE_NOT_FOUND)
    return row


def _int(payload: dict[str, Any], name: str, default: int, high: int) -> int:
    value = payload.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise invalid_request(f"{name} must be an integer from 0 to {high}")
    return int(value)


async def inbox_count(request: web.Request) -> web.Response:
    """``{"countUnread": n}``."""
    emu, user_id, body = await _caller(request)
    as_object(body, invalid_request)
    return json_response(ok_body({"countUnread": emu.db.unread_count(user_id)}))


async def message_list(request: web.Request) -> web.Response:
    """One page of the caller's messages, newest first."""
    emu, user_id, body = await _caller(request)
    payload = request_object(body, invalid_request)
    size = _int(payload, "size", 50, MAX_PAGE_SIZE)
    page = _int(payload, "page", 0, 1_000_000)
    only_unread = payload.get("onlyUnread", False)
    if not isinstance(only_unread, bool):
        raise invalid_request("onlyUnread must be a boolean")
    rows = emu.db.messages_of(user_id, offset=page * size, limit=size, only_unread=only_unread)
    return json_response(ok_body([message_json(row) for row in rows]))


async def message_detail(request: web.Request) -> web.Response:
    """One message of the caller with its body."""
    emu, user_id, body = await _caller(request)
    return json_response(ok_body(message_json(_own_message(emu, user_id, body), with_body=True)))


async def message_read(request: web.Request) -> web.Response:
    """Mark one message of the caller read."""
    emu, user_id, body = await _caller(request)
    emu.db.mark_read(user_id, _own_message(emu, user_id, body)["id"])
    return json_response(ok_body())


async def message_read_all(request: web.Request) -> web.Response:
    """Mark every message of the caller read."""
    emu, user_id, body = await _caller(request)
    as_object(body, invalid_request)
    emu.db.mark_read(user_id)
    return json_response(ok_body())


async def admin_add_message(request: web.Request) -> web.Response:
    """``POST /admin/inbox {userId, subject, summary, body, type}``: a new unread message."""
    emu = emulator_of(request)
    body = as_object(await read_json(request, invalid_request), invalid_request)
    user_id = require_str(body, "userId", invalid_request, max_length=256)
    return json_response(message_json(new_message(emu, user_id, body), with_body=True))


def add_routes(app: web.Application) -> None:
    """Register the inbox endpoints and their admin counterpart."""
    app.router.add_post("/api/inbox/count", inbox_count)
    app.router.add_post("/api/inbox/message/list", message_list)
    app.router.add_post("/api/inbox/message/detail", message_detail)
    app.router.add_post("/api/inbox/message/read", message_read)
    app.router.add_post("/api/inbox/message/read-all", message_read_all)
    app.router.add_post("/admin/inbox", admin_add_message)
