"""The inbox service against the emulator, and its message model."""

from typing import Any

import pytest

from mtoken.errors import BadResponseError, ServerError
from mtoken.factors import Authentication
from mtoken.inbox import InboxClient, parse_message, parse_message_list

from .conftest import PIN, USER_ID, Device, payment


async def test_count_list_detail_and_mark_read(device: Device) -> None:
    inbox = InboxClient(device.session)
    assert await inbox.unread_count() == 0
    first = await device.emu.admin.add_message(USER_ID, "Hello", summary="Hi", body="Plain body")
    second = await device.emu.admin.add_message(
        USER_ID, "News", summary="New rates", body="<p>New <b>rates</b></p>", type_="html"
    )
    await device.emu.admin.add_message("bob", "Not yours")

    assert await inbox.unread_count() == 2
    listed = await inbox.all_messages()
    assert [(m.id, m.subject, m.read, m.type) for m in listed] == [
        (second["id"], "News", False, "html"),
        (first["id"], "Hello", False, "text"),
    ]
    assert listed[0].body is None
    detail = await inbox.message(second["id"])
    assert (detail.body, detail.is_html) == ("<p>New <b>rates</b></p>", True)

    await inbox.mark_read(first["id"])
    assert await inbox.unread_count() == 1
    assert [m.id for m in await inbox.messages(only_unread=True)] == [second["id"]]
    await inbox.mark_all_read()
    assert await inbox.unread_count() == 0


async def test_paging_reads_every_message(device: Device) -> None:
    inbox = InboxClient(device.session)
    for number in range(3):
        await device.emu.admin.add_message(USER_ID, f"Message {number}")

    assert [m.subject for m in await inbox.messages(0, 2)] == ["Message 2", "Message 1"]
    assert [m.subject for m in await inbox.messages(1, 2)] == ["Message 0"]


async def test_another_users_message_is_refused(device: Device) -> None:
    other = await device.emu.admin.add_message("bob", "Private")
    with pytest.raises(ServerError, match="INVALID_REQUEST"):
        await InboxClient(device.session).message(other["id"])


async def test_mobile_token_data_goes_with_approval_and_rejection(device: Device) -> None:
    data = {"preApprovalScreens": [{"screen": "s1", "timestampOpened": "2026-11-30T10:00:00Z"}]}
    approved, rejected = await payment(device.emu), await payment(device.emu)
    operation = await device.client.get_operation(approved["id"])
    await device.client.authorize(operation, Authentication.with_pin(PIN), mobile_token_data=data)
    await device.client.reject(rejected["id"], "POSSIBLE_FRAUD", mobile_token_data=data)

    for created, status in ((approved, "APPROVED"), (rejected, "REJECTED")):
        stored = await device.emu.admin.get_operation(created["id"])
        assert (stored["status"], stored["mobileTokenData"]) == (status, data)


MESSAGE = {
    "id": "m1",
    "subject": "S",
    "summary": "Sum",
    "type": "TEXT",
    "read": False,
    "timestampCreated": "2026-11-30T10:00:00+0000",
    "priority": "high",
}


def test_message_model_keeps_new_fields_and_lowers_the_type() -> None:
    message = parse_message(MESSAGE)
    assert (message.type, message.extra, message.is_html) == ("text", {"priority": "high"}, False)
    assert message.to_dict()["created"] == "2026-11-30T10:00:00+00:00"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"read": "no"}, "read"),
        ({"subject": None}, "subject"),
        ({"body": 3}, "body"),
        ({"timestampCreated": "soon"}, "timestampCreated"),
        ({"type": 1}, "type"),
    ],
)
def test_malformed_messages_are_refused_naming_the_field(
    change: dict[str, Any], field: str
) -> None:
    with pytest.raises(BadResponseError, match=field):
        parse_message(MESSAGE | change)


@pytest.mark.parametrize("value", [None, {}, "m1", [MESSAGE, 3]])
def test_malformed_message_lists_are_refused(value: Any) -> None:
    with pytest.raises(BadResponseError):
        parse_message_list(value)
