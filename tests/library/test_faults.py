"""A slow, failing, lying or vanished server gives typed errors, and nothing is lost."""

import asyncio

import aiohttp
import pytest

from mtoken.app_config import parse_config_string
from mtoken.errors import BadResponseError, NetworkError, RequestTimeoutError, ServerError
from mtoken.factors import Authentication
from mtoken.operations import MobileTokenClient
from mtoken.session import PowerAuthSession

from .conftest import PIN, Device, payment


async def test_malformed_answer_is_a_bad_response(device: Device) -> None:
    await device.emu.admin.fault("malformed")
    with pytest.raises(BadResponseError):
        await device.client.list_operations()
    assert await device.client.list_operations() == []


async def test_http_500_with_envelope_is_a_server_error(device: Device) -> None:
    await device.emu.admin.fault("http500")
    with pytest.raises(ServerError) as caught:
        await device.client.list_operations()
    assert caught.value.http_status == 500


async def test_dropped_connection_is_a_network_error(device: Device) -> None:
    await device.emu.admin.fault("drop")
    with pytest.raises(NetworkError):
        await device.client.list_operations()
    assert await device.client.list_operations() == []


async def test_slow_server_times_out(device: Device, http: aiohttp.ClientSession) -> None:
    impatient = PowerAuthSession(
        http,
        device.emu.url,
        parse_config_string(device.emu.app_config),
        state=device.session.state,
        timeout=0.3,
    )
    await device.emu.admin.fault("latency", value=1)
    with pytest.raises(RequestTimeoutError):
        await MobileTokenClient(impatient).list_operations()
    await asyncio.sleep(1)  # let the slow answer finish before the server stops


async def test_lost_answer_to_a_signed_request_keeps_the_counter_usable(device: Device) -> None:
    first, second = await payment(device.emu), await payment(device.emu)
    operations = {op.id: op for op in await device.client.list_operations()}
    await device.emu.admin.fault("malformed")
    with pytest.raises(BadResponseError):
        await device.client.authorize(operations[first["id"]], Authentication.with_pin(PIN))
    # The server processed it; the client had already moved its counter on.
    assert (await device.emu.admin.get_operation(first["id"]))["status"] == "APPROVED"
    await device.client.authorize(operations[second["id"]], Authentication.with_pin(PIN))
    assert (await device.emu.admin.get_operation(second["id"]))["status"] == "APPROVED"


@pytest.mark.parametrize("skew_seconds", [-7200, 7200])
async def test_clock_skew_is_absorbed_by_the_server_time_offset(
    device: Device, skew_seconds: int
) -> None:
    await device.emu.admin.fault("clock_skew", count=0, value=skew_seconds)
    created = await payment(device.emu)
    fresh = device.reopen({**device.saved[-1], "tokenId": None, "tokenSecret": None})
    await fresh.session.server_time()
    assert abs(fresh.session.clock.offset_ms - skew_seconds * 1000) < 5000
    assert [op.id for op in await fresh.client.list_operations()] == [created["id"]]
    operation = await fresh.client.get_operation(created["id"])
    await fresh.client.authorize(operation, Authentication.with_pin(PIN))
    assert (await fresh.session.fetch_status()).status == "active"
