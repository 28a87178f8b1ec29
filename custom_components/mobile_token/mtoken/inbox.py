"""The inbox: the bank's one-way messages to the user (Mobile Token SDK inbox service).

Five ``POST`` endpoints, all with the ``possession_universal`` token like the
operation list:

- unread count: ``/api/inbox/count``, body ``{}``, answer ``{"countUnread": n}``;
- one page: ``/api/inbox/message/list``, ``{"page", "size", "onlyUnread"}`` (pages
  count from 0), answer a list of messages;
- one message: ``/api/inbox/message/detail``, ``{"id"}``, answer the message with its ``body``;
- mark read: ``/api/inbox/message/read``, ``{"id"}``;
- mark all read: ``/api/inbox/message/read-all``, body ``{}``.

A message has ``id``, ``subject``, ``summary`` (plain text), ``type``
(``text`` or ``html``: the body's format), ``read`` and ``timestampCreated``;
the detail adds ``body``. An HTML body is the bank's markup: whoever shows it
must sanitise it first. Fields a newer server adds are kept in ``extra``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from .dates import format_datetime
from .errors import BadResponseError
from .http import response_object
from .jsonread import JsonDict, kind, opt_date, opt_int, req_str
from .sessions import AnySession

PATH_COUNT: Final = "/api/inbox/count"
PATH_LIST: Final = "/api/inbox/message/list"
PATH_DETAIL: Final = "/api/inbox/message/detail"
PATH_READ: Final = "/api/inbox/message/read"
PATH_READ_ALL: Final = "/api/inbox/message/read-all"
#: The SDKs fetch everything in pages of this size.
PAGE_SIZE: Final = 50
#: No user keeps more messages than this; stop paging there in case a server never ends.
MAX_MESSAGES: Final = 1000


class ContentType(StrEnum):
    """The format of a message's body."""

    TEXT = "text"
    HTML = "html"


_MESSAGE_KEYS: Final = frozenset(
    {"id", "subject", "summary", "type", "read", "timestampCreated", "body"}
)


@dataclass(frozen=True)
class InboxMessage:
    """One message; ``body`` only in the detail."""

    id: str
    subject: str
    summary: str
    type: str
    read: bool
    created: datetime | None = None
    body: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_html(self) -> bool:
        """Whether the body is markup (to sanitise before it is shown)."""
        return self.type == ContentType.HTML

    def to_dict(self) -> JsonDict:
        """The message for a user interface (snake case, the date as ISO 8601)."""
        out: JsonDict = {
            "id": self.id,
            "subject": self.subject,
            "summary": self.summary,
            "type": self.type,
            "read": self.read,
            "created": None if self.created is None else format_datetime(self.created),
        }
        if self.body is not None:
            out["body"] = self.body
        return out


def parse_message(obj: Any) -> InboxMessage:
    """Parse one message; raise BadResponseError naming the first bad field."""
    where = "message"
    if not isinstance(obj, Mapping):
        raise BadResponseError(f"a message must be an object, got {kind(obj)}")
    read = obj.get("read")
    if not isinstance(read, bool):
        raise BadResponseError(f"{where}.read must be a boolean, got {kind(read)}")
    body = obj.get("body")
    if body is not None and not isinstance(body, str):
        raise BadResponseError(f"{where}.body must be a string, got {kind(body)}")
    type_ = req_str(obj, "type", where)
    return InboxMessage(
        id=req_str(obj, "id", where),
        subject=req_str(obj, "subject", where),
        summary=req_str(obj, "summary", where),
        type=type_.lower(),
        read=read,
        created=opt_date(obj, "timestampCreated"),
        body=body,
        extra={key: value for key, value in obj.items() if key not in _MESSAGE_KEYS},
    )


def parse_message_list(obj: Any) -> list[InboxMessage]:
    """Parse a page of messages; one bad message fails the page, as in the SDKs."""
    if not isinstance(obj, list):
        raise BadResponseError(f"the message list must be an array, got {kind(obj)}")
    return [parse_message(item) for item in obj]


class InboxClient:
    """The inbox of one activation, as the Mobile Token SDK offers it."""

    def __init__(self, session: AnySession) -> None:
        self.session = session

    async def unread_count(self) -> int:
        """How many messages the user has not read."""
        obj = response_object((await self.session.token_post(PATH_COUNT, {})).body)
        if not isinstance(obj, Mapping):
            raise BadResponseError("the unread count must be an object")
        count = opt_int(obj, "countUnread", "inbox")
        if count is None or count < 0:
            raise BadResponseError("inbox.countUnread must be a count")
        return count

    async def messages(
        self, page: int = 0, size: int = PAGE_SIZE, *, only_unread: bool = False
    ) -> list[InboxMessage]:
        """One page of messages, newest first (pages count from 0)."""
        body = {"requestObject": {"page": page, "size": size, "onlyUnread": only_unread}}
        return parse_message_list(
            response_object((await self.session.token_post(PATH_LIST, body)).body)
        )

    async def all_messages(self, *, only_unread: bool = False) -> list[InboxMessage]:
        """Every message, page after page until a short one."""
        messages: list[InboxMessage] = []
        page = 0
        while len(messages) < MAX_MESSAGES:
            batch = await self.messages(page, PAGE_SIZE, only_unread=only_unread)
            messages.extend(batch)
            if len(batch) < PAGE_SIZE:
                break
            page += 1
        return messages

    async def message(self, message_id: str) -> InboxMessage:
        """One message with its body."""
        body = {"requestObject": {"id": message_id}}
        return parse_message(
            response_object((await self.session.token_post(PATH_DETAIL, body)).body)
        )

    async def mark_read(self, message_id: str) -> None:
        """Mark one message read."""
        body = {"requestObject": {"id": message_id}}
        response_object((await self.session.token_post(PATH_READ, body)).body)

    async def mark_all_read(self) -> None:
        """Mark every message read."""
        response_object((await self.session.token_post(PATH_READ_ALL, {})).body)
