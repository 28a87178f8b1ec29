"""End to end over real sockets: a full flow, concurrency and what the log shows."""

import asyncio
import logging

import pytest
from emu_helpers import USER_ID, payment
from raw_client import PATH_AUTHORIZE, PATH_LIST, URI_AUTHORIZE, Device, RawClient

from emulator.testing import RunningEmulator
from mtoken.encoding import b64encode

PATH_VALIDATE = "/pa/v3/signature/validate"
URI_VALIDATE = "/pa/signature/validate"


async def test_activated_device_lists_its_operation(
    emu: RunningEmulator, client: RawClient, device: Device
) -> None:
    created = await payment(emu)
    reply = await client.token_post(device, PATH_LIST)
    assert reply.status == 200, reply.raw
    assert [op["id"] for op in reply.response_object] == [created["id"]]


async def test_one_signature_sent_twice_at_once_is_accepted_once(
    client: RawClient, device: Device
) -> None:
    headers = client.signature_header(device, URI_VALIDATE, b"{}")
    replies = await asyncio.gather(*(client.post(PATH_VALIDATE, b"{}", headers) for _ in range(5)))
    assert sorted(r.status for r in replies) == [200, 401, 401, 401, 401]


async def test_log_lines_are_readable_and_hold_no_secrets(
    emu: RunningEmulator, client: RawClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="emulator")
    code = await emu.admin.create_activation_code(USER_ID)
    device = await client.activate(code["activationCode"])
    created = await payment(emu)
    await client.token_post(device, PATH_LIST)
    body = {"requestObject": {"id": created["id"], "data": "tampered"}}
    await client.signed_post(device, PATH_AUTHORIZE, URI_AUTHORIZE, body)
    await client.post(PATH_VALIDATE, b"{}", {"X-PowerAuth-Authorization": "PowerAuth x"})
    text = caplog.text
    assert "POST /pa/v3/activation/create -> 200" in text
    assert "POST /api/auth/token/app/operation/list -> 200" in text
    assert "-> 401" in text
    assert "[OPERATION_FAILED" in text
    assert "[POWERAUTH_AUTH_FAIL" in text
    assert device.token_secret is not None
    secrets_seen = [
        emu.app_secret,
        code["activationCode"],
        code["activationSignature"],
        b64encode(device.token_secret),
        b64encode(device.keys.possession),
        b64encode(device.keys.knowledge),
        b64encode(device.keys.transport),
        b64encode(device.ctr_data),
    ]
    for secret in secrets_seen:
        assert secret not in text
