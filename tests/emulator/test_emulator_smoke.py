"""Smoke: activation, token and a listed operation over real sockets."""

from emu_helpers import payment
from raw_client import PATH_LIST, Device, RawClient

from emulator.testing import RunningEmulator


async def test_activated_device_lists_its_operation(
    emu: RunningEmulator, client: RawClient, device: Device
) -> None:
    created = await payment(emu)
    reply = await client.token_post(device, PATH_LIST)
    assert reply.status == 200, reply.raw
    assert [op["id"] for op in reply.response_object] == [created["id"]]
