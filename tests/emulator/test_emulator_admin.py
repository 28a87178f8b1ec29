"""The admin API, offline QR operations, faults, restarts, the demo and ``scripts/server``."""

import asyncio
import json
import os
import signal
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import make_mocked_request
from emu_helpers import USER_ID, payment
from raw_client import PATH_LIST, Device, RawClient

import emulator.demo
from emulator.admin import loopback_only
from emulator.errors import ApiError
from emulator.testing import AdminError, RunningEmulator, run_emulator
from mtoken.activation_code import validate_activation_code, verify_activation_code_signature
from mtoken.counter import next_counter
from mtoken.encoding import b64decode
from mtoken.keys import verify_server_signed_data
from mtoken.qr import parse_qr_operation
from mtoken.signature import compute_offline_signature, offline_signature_data

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def offline_code(
    device: Device, qr_text: str, *, biometry: bool = False, uri: str | None = None
) -> str:
    """What a mobile token types back for an offline QR code (and advances its counter)."""
    qr = parse_qr_operation(qr_text)
    body = f"{qr.operation_id}&{qr.data.source}"
    if qr.totp:
        body += f"&{qr.totp}"
    data = offline_signature_data(uri or "/operation/authorize/offline", qr.nonce, body.encode())
    keys = [device.keys.possession, device.keys.biometry if biometry else device.keys.knowledge]
    code = compute_offline_signature(keys, device.ctr_data, data)
    device.ctr_data = next_counter(device.ctr_data)
    return code


# -- activations -----------------------------------------------------------------------------


async def test_activation_code_is_valid_and_signed(emu: RunningEmulator) -> None:
    created = await emu.admin.create_activation_code(USER_ID)
    assert validate_activation_code(created["activationCode"])
    assert verify_activation_code_signature(
        b64decode(emu.master_public_key),
        created["activationCode"],
        b64decode(created["activationSignature"]),
    )
    assert created["userId"] == USER_ID
    assert await emu.admin.activations() == []


async def test_activation_state_changes(emu: RunningEmulator, device: Device) -> None:
    blocked = await emu.admin.block(device.activation_id)
    assert blocked["status"] == "BLOCKED"
    with pytest.raises(AdminError) as refused:
        await emu.admin.block(device.activation_id)
    assert refused.value.status == 400
    assert (await emu.admin.unblock(device.activation_id))["status"] == "ACTIVE"
    assert (await emu.admin.remove(device.activation_id))["status"] == "REMOVED"
    with pytest.raises(AdminError) as unknown:
        await emu.admin.block("8d1bd3a0-0000-4000-8000-000000000001")
    assert unknown.value.status == 404


async def test_operation_admin_view(emu: RunningEmulator) -> None:
    created = await payment(emu, proximity=True)
    assert len(b64decode(created["totpSeed"])) == 32
    recorded = await emu.admin.get_operation(created["id"])
    assert (
        recorded
        | {"status": "PENDING", "failureCount": 0, "rejectReason": None, "signatureType": None}
        == recorded
    )
    totp = await emu.admin.get_totp(created["id"])
    assert len(totp) == 8
    assert totp.isdigit()
    plain = await payment(emu)
    with pytest.raises(AdminError):
        await emu.admin.get_totp(plain["id"])
    with pytest.raises(AdminError) as unknown:
        await emu.admin.get_operation("nothing")
    assert unknown.value.status == 404


async def test_admin_is_loopback_only() -> None:
    async def handler(_request: object) -> None:
        raise AssertionError("must not be reached")

    transport = type(
        "T", (), {"get_extra_info": lambda self, name, default=None: ("10.1.2.3", 5)}
    )()
    request = make_mocked_request("GET", "/admin/activations", transport=transport)
    with pytest.raises(ApiError) as refused:
        await loopback_only(request, handler)
    assert refused.value.status == 403


# -- offline QR -------------------------------------------------------------------------------


async def test_offline_qr_signed_by_either_key_and_verified(
    emu: RunningEmulator, device: Device
) -> None:
    created = await payment(emu, title="Pay\nnow", message="To C:\\bank")
    master = await emu.admin.offline_qr(created["id"])
    personalized = await emu.admin.offline_qr(
        created["id"], signing_key="personalized", activation_id=device.activation_id
    )
    for text, key in (
        (master, b64decode(emu.master_public_key)),
        (personalized, device.server_public_key),
    ):
        signed, _, signature = text.rpartition("\n")
        assert verify_server_signed_data(
            key, f"{signed}\n{signature[0]}".encode(), b64decode(signature[1:])
        )
        qr = parse_qr_operation(text)
        assert (qr.operation_id, qr.title, qr.message) == (created["id"], "Pay\nnow", "To C:\\bank")
        assert qr.flags.biometry
    code = offline_code(device, master)
    assert await emu.admin.verify_offline(device.activation_id, created["id"], code)
    recorded = await emu.admin.get_operation(created["id"])
    assert (recorded["status"], recorded["signatureType"]) == ("APPROVED", "possession_knowledge")


async def test_offline_code_with_biometry_totp_and_custom_uri(
    emu: RunningEmulator, device: Device
) -> None:
    created = await payment(emu, proximity=True)
    text = await emu.admin.offline_qr(created["id"])
    assert parse_qr_operation(text).totp == await emu.admin.get_totp(created["id"])
    code = offline_code(device, text, biometry=True, uri="/custom/offline")
    assert await emu.admin.verify_offline(
        device.activation_id, created["id"], code, uri_id="/custom/offline"
    )
    assert (await emu.admin.get_operation(created["id"]))["signatureType"] == "possession_biometry"


async def test_wrong_offline_code_counts_a_failed_attempt(
    emu: RunningEmulator, device: Device
) -> None:
    created = await payment(emu, allowedFactors=["possession_knowledge"])
    text = await emu.admin.offline_qr(created["id"])
    assert not await emu.admin.verify_offline(
        device.activation_id, created["id"], "12345678-12345678"
    )
    biometry_code = offline_code(device, text, biometry=True)
    assert not await emu.admin.verify_offline(device.activation_id, created["id"], biometry_code)
    assert not await emu.admin.verify_offline(device.activation_id, created["id"], "bad")
    listed = (await emu.admin.activations())[0]
    assert listed["failedAttempts"] == 3
    assert (await emu.admin.get_operation(created["id"]))["status"] == "PENDING"


# -- faults ----------------------------------------------------------------------------------


async def test_faults_slow_fail_lie_and_drop(
    emu: RunningEmulator, client: RawClient, device: Device
) -> None:
    await emu.admin.fault("latency", count=1, value=0.3)
    started = time.monotonic()
    assert (await client.post("/pa/v3/status", {})).status == 200
    assert time.monotonic() - started >= 0.3
    await emu.admin.fault("http500", count=2)
    for _ in range(2):
        reply = await client.post("/pa/v3/status", {})
        assert (reply.status, reply.code) == (500, "ERROR_GENERIC")
    assert (await client.post("/pa/v3/status", {})).status == 200
    await emu.admin.fault("malformed")
    lying = await client.signed_post(device, "/pa/v3/signature/validate", "/pa/signature/validate")
    assert lying.status == 200
    assert lying.body is None
    assert (await client.status(device)).ctr_byte == 1  # the server did process it
    await emu.admin.fault("drop")
    with pytest.raises(aiohttp.ClientError):
        await client.post("/pa/v3/status", {})
    assert (await client.token_post(device, PATH_LIST)).status == 200


async def test_admin_requests_do_not_use_up_faults(emu: RunningEmulator, client: RawClient) -> None:
    await emu.admin.fault("http500", count=1)
    await emu.admin.activations()
    assert (await client.post("/pa/v3/status", {})).status == 500


# -- restart ---------------------------------------------------------------------------------


async def test_state_survives_a_restart(
    emu: RunningEmulator, client: RawClient, device: Device
) -> None:
    config = emu.app_config
    created = await payment(emu)
    nonce = b"\x07" * 16
    assert (await client.token_post(device, PATH_LIST, nonce=nonce)).status == 200
    url = emu.url
    await emu.restart()
    assert (emu.url, emu.app_config) == (url, config)
    replay = await client.token_post(device, PATH_LIST, nonce=nonce)
    assert replay.status == 401
    reply = await client.token_post(device, PATH_LIST)
    assert [op["id"] for op in reply.response_object] == [created["id"]]
    body = {"requestObject": {"id": created["id"], "data": created["data"]}}
    signed = await client.signed_post(
        device, "/api/auth/token/app/operation/authorize", "/operation/authorize", body
    )
    assert signed.status == 200
    assert (await emu.admin.get_operation(created["id"]))["status"] == "APPROVED"


async def test_restart_keeps_the_application(socket_enabled: None, tmp_path: Path) -> None:
    async with run_emulator(tmp_path) as first:
        config = first.app_config
    async with run_emulator(tmp_path) as second:
        assert second.app_config == config
    assert (tmp_path / "emulator.db").exists()


# -- demo ------------------------------------------------------------------------------------


async def test_demo_seeds_operations_once_activated(
    socket_enabled: None,
    tmp_path: Path,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(emulator.demo, "POLL_INTERVAL_S", 0.02)
    async with run_emulator(tmp_path, demo=True) as emu:
        assert emu.demo_activation is not None
        client = RawClient(
            http, emu.url, emu.app_key, emu.app_secret, b64decode(emu.master_public_key)
        )
        device = await client.activate(emu.demo_activation["activationCode"])
        for _ in range(100):
            if emu.emulator.db.demo_operations():
                break
            await asyncio.sleep(0.02)
        client.language = "cs"
        reply = await client.token_post(device, PATH_LIST)
        operations = reply.response_object
        assert len(operations) == 6
        guarded = next(op for op in operations if op["name"] == "authorize_payment_guarded")
        assert [s["type"] for s in guarded["ui"]["preApprovalScreens"]] == ["WARNING", "QR_SCAN"]
        assert guarded["formData"]["attributes"][-1]["type"] == "ALERT"
        assert guarded["templates"]["list"]["title"] == "Zaplatit ${operation.amount}"
        names = {op["name"] for op in operations}
        assert {
            "authorize_payment",
            "currency_conversion",
            "login",
            "enable_notifications",
        } <= names
        payment_op = next(op for op in operations if op["name"] == "authorize_payment")
        types = [a["type"] for a in payment_op["formData"]["attributes"]]
        assert types == ["AMOUNT", "KEY_VALUE", "NOTE", "PARTY_INFO"]
        assert payment_op["formData"]["title"] == "Potvrzení platby"
        login = next(op for op in operations if op["name"] == "login")
        assert login["ui"]["preApprovalScreen"]["type"] == "QR_SCAN"
        one_factor = next(op for op in operations if op["name"] == "enable_notifications")
        assert one_factor["allowedSignatureType"] == {"type": "1FA", "variants": []}
        unclaimed = [op for op in emu.emulator.db.demo_operations() if op.user_id is None]
        assert len(unclaimed) == 1


# -- the script ------------------------------------------------------------------------------


async def test_server_script_prints_its_configuration(socket_enabled: None, tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        str(PROJECT_ROOT / "scripts" / "server"),
        "--port",
        "0",
        "--data",
        str(tmp_path),
        "--demo",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        first = json.loads(await asyncio.wait_for(process.stdout.readline(), 30))
        second = json.loads(await asyncio.wait_for(process.stdout.readline(), 5))
        assert set(first) == {"url", "appConfig", "appKey", "appSecret", "masterPublicKey"}
        assert first["url"].startswith("http://127.0.0.1:")
        assert second["userId"] == "demo"
        assert validate_activation_code(second["activationCode"])
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{first['url']}/pa/v3/status", data=b"{}") as response,
        ):
            assert response.status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 10)
    assert process.returncode == 0
    assert b"POST /pa/v3/status -> 200" in stderr
    assert (tmp_path / "emulator.db").exists()
