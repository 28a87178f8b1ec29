"""The emulator's inbox: per-user messages, token authentication, refused input."""

from typing import Any

import aiohttp
import pytest
from emu_helpers import OTHER_USER_ID, USER_ID, activate
from raw_client import Device, RawClient

from emulator.testing import RunningEmulator

LIST = "/api/inbox/message/list"


@pytest.mark.parametrize(
    "body",
    [
        {"subject": "no user"},
        {"userId": USER_ID},
        {"userId": USER_ID, "subject": "S", "type": "markdown"},
        {"userId": USER_ID, "subject": "S", "body": 3},
        {"userId": USER_ID, "subject": "S" * 300},
    ],
)
async def test_bad_admin_messages_are_refused(
    emu: RunningEmulator, http: aiohttp.ClientSession, body: dict[str, Any]
) -> None:
    async with http.post(f"{emu.url}/admin/inbox", json=body) as response:
        assert response.status == 400
        assert (await response.json())["responseObject"]["code"] == "INVALID_REQUEST"


@pytest.mark.parametrize(
    "request_object",
    [{"size": -1}, {"size": 1000}, {"page": "1"}, {"onlyUnread": "yes"}, {"size": True}],
)
async def test_bad_list_requests_are_refused(
    client: RawClient, device: Device, request_object: dict[str, Any]
) -> None:
    reply = await client.token_post(device, LIST, {"requestObject": request_object})
    assert (reply.status, reply.code) == (400, "INVALID_REQUEST")


async def test_messages_need_the_token_and_stay_with_their_user(
    client: RawClient, emu: RunningEmulator, device: Device
) -> None:
    mine = await emu.admin.add_message(USER_ID, "Mine", body="<b>x</b>", type_="html")
    other = await activate(client, emu, OTHER_USER_ID)
    theirs = await emu.admin.add_message(OTHER_USER_ID, "Theirs")

    assert (await client.post("/api/inbox/count", {})).status == 401
    listed = await client.token_post(device, LIST, {"requestObject": {}})
    assert [m["subject"] for m in listed.response_object] == ["Mine"]
    assert "body" not in listed.response_object[0]
    detail = await client.token_post(
        device, "/api/inbox/message/detail", {"requestObject": {"id": mine["id"]}}
    )
    assert (detail.response_object["body"], detail.response_object["type"]) == ("<b>x</b>", "html")
    for path in ("/api/inbox/message/detail", "/api/inbox/message/read"):
        foreign = await client.token_post(device, path, {"requestObject": {"id": theirs["id"]}})
        assert (foreign.status, foreign.code) == (400, "INVALID_REQUEST")
    await client.token_post(device, "/api/inbox/message/read-all", {})
    count = await client.token_post(other, "/api/inbox/count", {})
    assert count.response_object == {"countUnread": 1}
    assert (await client.token_post(device, "/api/inbox/count", {})).response_object == {
        "countUnread": 0
    }
